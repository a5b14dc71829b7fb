"""The package's import rules that import-linter does not check (docs/architecture.md).

* No module imports another module's ``_private`` names.
* A ``_private`` module is imported only from inside its own package.

The layers themselves (which package may import which) are the ``[tool.importlinter]``
contract in pyproject.toml, checked by ``lint-imports`` in ``make lint``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "geozones"

#: Known exceptions, importer -> private module, each with its reason. Keep this short.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_part(module: str) -> tuple[str, str] | None:
    """The package holding the first ``_private`` part of `module`, and that part."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:i]), part
    return None


def _inside(package: str, owner: str) -> bool:
    return package == owner or package.startswith(owner + ".")


def import_violations(root: Path = PACKAGE) -> list[str]:
    """Every breach of the two rules under `root`, as ``file:line: what``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        package = _package_of(module, path)
        where = path.relative_to(root.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[tuple[str, int]] = []
            if isinstance(node, ast.Import):
                targets = [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, package)
                if not source.startswith("geozones"):
                    continue
                targets = [(source, node.lineno)]
                for alias in node.names:
                    if not _private(alias.name):
                        continue
                    if source + "." + alias.name == module:
                        continue
                    # ``from geozones.measure import _kernels`` names a module: rule two.
                    submodule = root.parent.joinpath(*f"{source}.{alias.name}".split("."))
                    if submodule.with_suffix(".py").exists() or submodule.is_dir():
                        targets.append((source + "." + alias.name, node.lineno))
                    elif source != module:
                        found.append(
                            f"{where}:{node.lineno}: imports the private name {alias.name} "
                            f"of {source}"
                        )
            for target, line in targets:
                if not target.startswith("geozones"):
                    continue
                private = _private_part(target)
                if private is not None and not _inside(package, private[0]):
                    if (module, target) in ALLOWED and root == PACKAGE:
                        continue
                    found.append(
                        f"{where}:{line}: imports the private module {target} from outside "
                        f"{private[0]}"
                    )
    return found


def test_no_private_imports_across_modules() -> None:
    violations = import_violations()
    assert not violations, "\n".join(violations)


def test_each_exception_is_still_needed() -> None:
    # An exception whose import is gone must leave the list.
    for importer, target in ALLOWED:
        path = PACKAGE.parent.joinpath(*importer.split(".")).with_suffix(".py")
        assert target.rpartition(".")[2] in path.read_text(encoding="utf-8"), (importer, target)


def test_the_check_finds_each_kind(tmp_path: Path) -> None:
    # A small package with one breach of each rule, and imports that are allowed.
    root = tmp_path / "geozones"
    (root / "measure").mkdir(parents=True)
    (root / "analysis").mkdir()
    for folder in (root, root / "measure", root / "analysis"):
        (folder / "__init__.py").write_text("")
    (root / "measure" / "_kernels.py").write_text("def kernel(): ...\n")
    (root / "measure" / "area.py").write_text(
        "from geozones.measure import _kernels\nfrom geozones.measure._kernels import kernel\n"
        "def _scale(): ...\n"
    )
    (root / "analysis" / "pairs.py").write_text(
        "import numpy\n\n"
        "from geozones.measure.area import _scale\n"
        "def f():\n    from geozones.measure import _kernels\n"
    )
    found = import_violations(root)
    assert found == [
        "geozones/analysis/pairs.py:3: imports the private name _scale of geozones.measure.area",
        "geozones/analysis/pairs.py:5: imports the private module geozones.measure._kernels "
        "from outside geozones.measure",
    ]

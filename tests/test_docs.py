"""The documentation site: it builds with warnings as errors, offline, and its examples run.

- The Sphinx build (``docs/``, myst Markdown) must pass with ``-W``. The tests skip it, saying
  why, when Sphinx or one of its extensions is not installed (``pip install -e '.[docs]'``).
- The built pages must load nothing from the web: analysts open them on machines with no
  internet, and confidential work must not phone home.
- The site documents every public name (``geozones.__all__``), the CLI page every subcommand
  and its options, and the error reference every error and warning class.
- Every ```` ```python ```` and ```` ```sh ```` block of the index, the concepts and the how-to
  guides runs, page by page, in a scratch folder holding a copy of ``sample_data/``. A shell
  line whose comment says ``exit status N`` must exit with N, any other with 0. Where a
  ```` ```text ```` block follows an example directly, it is the example's output, and must be
  what the example prints (blanks between columns aside).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import geozones
from geozones import errors
from geozones.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SAMPLE = ROOT / "sample_data"
BIN = Path(sys.executable).parent

#: Tags that make a browser fetch something as the page loads, and the attribute naming it.
_LOADING = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
}
_EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# The Sphinx build
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once, into a scratch folder, with warnings as errors."""
    for module in ("sphinx", "myst_parser", "numpydoc", "sphinx_click"):
        pytest.importorskip(
            module,
            reason=f"{module} is not installed; the documentation build needs the docs extra "
            "(pip install -e '.[docs]')",
        )
    out = tmp_path_factory.mktemp("docs")
    command = [
        sys.executable,
        *("-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"),
        *("-d", str(out / "doctrees"), str(DOCS), str(out / "html")),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    return out / "html"


class _Resources(HTMLParser):
    """Every URL a page loads as it opens (scripts, styles, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = _LOADING.get(tag)
        for name, value in attrs:
            if value and (name == wanted or name == "srcset"):
                self.loaded.append((tag, value))


def test_the_site_builds_and_loads_nothing_from_the_web(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert {"index.html", "api.html", "cli.html", "errors.html"} <= {p.name for p in pages}
    external = []
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        external += [
            f"{page.relative_to(site)}: <{tag}> {url}"
            for tag, url in parser.loaded
            if _EXTERNAL.match(url)
        ]
    for style in site.rglob("*.css"):
        css = style.read_text(encoding="utf-8", errors="replace")
        external += [
            f"{style.relative_to(site)}: {url}"
            for url in re.findall(r"(?:@import|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", css)
        ]
    assert not external, "pages load resources from the web:\n" + "\n".join(external)


def test_the_cli_page_documents_every_subcommand(site: Path) -> None:
    page = (site / "cli.html").read_text(encoding="utf-8")
    assert cli.commands, "the click group has no subcommands"
    for name, command in cli.commands.items():
        assert f'id="geozones-{name}"' in page, f"geozones {name} is not on the CLI page"
        for option in command.params:
            for flag in getattr(option, "opts", []):
                if flag.startswith("-"):
                    assert flag in page, f"geozones {name} {flag} is not on the CLI page"


def test_every_public_name_is_documented(site: Path) -> None:
    """Every name of ``geozones.__all__`` has its entry: in api.md, or on a topic's page."""
    pages = "".join(page.read_text(encoding="utf-8") for page in site.rglob("*.html"))
    missing = [name for name in geozones.__all__ if f'id="geozones.{name}"' not in pages]
    assert not missing, f"not documented (add them to docs/api.md): {', '.join(missing)}"


def test_the_error_reference_covers_every_error_and_warning(site: Path) -> None:
    page = (site / "errors.html").read_text(encoding="utf-8")
    names = [*errors.__all__, "ConfigError"]
    missing = [name for name in names if not re.search(rf"<h[23][^>]*>\s*{name}\b", page)]
    assert not missing, f"not in the error reference: {', '.join(missing)}"


# --------------------------------------------------------------------------------------------
# The examples
# --------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```(\S*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_RUNNABLE = ("python", "sh")
_EXAMPLE_PAGES = sorted(
    [DOCS / "index.md", *DOCS.glob("concepts/*.md"), *DOCS.glob("howto/*.md")],
    key=lambda path: path.relative_to(DOCS).as_posix(),
)


def _examples(page: Path) -> list[tuple[str, str, str | None]]:
    """Each python or sh block of a page, and the text block right after it (its output)."""
    text = page.read_text(encoding="utf-8")
    fences = list(_FENCE.finditer(text))
    examples = []
    for fence, after in zip(fences, [*fences[1:], None], strict=True):
        if fence.group(1) not in _RUNNABLE:
            continue
        shown = None
        if (
            after is not None
            and after.group(1) == "text"
            and not text[fence.end() : after.start()].strip()
        ):
            shown = after.group(2)
        examples.append((fence.group(1), fence.group(2), shown))
    return examples


def _normalised(output: str) -> list[str]:
    """Lines with runs of blanks made one, so column alignment does not matter."""
    return [" ".join(line.split()) for line in output.strip().splitlines()]


def _shell_lines(block: str) -> list[tuple[str, int]]:
    """The commands of a sh block (continuations joined) and the exit status each expects."""
    commands: list[tuple[str, int]] = []
    pending = ""
    for raw in block.splitlines():
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expected = re.search(r"#.*\bexit status (\d+)", line)
        commands.append((line, int(expected.group(1)) if expected else 0))
    return commands


#: Shell syntax that needs a real shell: pipes, lists, substitutions, input redirection.
_SHELL_ONLY = re.compile(r"[|;&<$`]")


def _geozones_arguments(command: str) -> tuple[list[str], str | None] | None:
    """A plain ``geozones …`` line as (arguments, file its output is redirected to), or None."""
    code = command.split("#", 1)[0]
    if _SHELL_ONLY.search(code):
        return None
    tokens = shlex.split(code)
    target = None
    if len(tokens) >= 3 and tokens[-2] == ">":
        tokens, target = tokens[:-2], tokens[-1]
    if tokens[:1] != ["geozones"] or any(token.startswith((">", "2>")) for token in tokens):
        return None
    return tokens[1:], target


def _run_shell_line(command: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Exit status, standard output and standard error of one line of a sh block."""
    plain = _geozones_arguments(command)
    if plain is None:
        done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr
    arguments, target = plain
    result = CliRunner().invoke(cli, arguments, prog_name="geozones")
    error = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error += "".join(traceback.format_exception(result.exception))
    if target is None:
        return result.exit_code, result.stdout, error
    (cwd / target).write_text(result.stdout, encoding="utf-8")
    return result.exit_code, "", error


@pytest.mark.parametrize("page", _EXAMPLE_PAGES, ids=lambda path: path.relative_to(DOCS).as_posix())
def test_the_examples_of_the_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = _examples(page)
    if not examples:
        pytest.skip(f"{page.name} has no python or sh example")
    shutil.copytree(SAMPLE, tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, (language, code, shown) in enumerate(examples, start=1):
        where = f"{page.relative_to(DOCS)}, example {number}"
        printed = io.StringIO()
        if language == "python":
            with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
                warnings.simplefilter("ignore")
                exec(compile(code, where, "exec"), namespace)
        else:
            for command, expected in _shell_lines(code):
                status, stdout, stderr = _run_shell_line(command, tmp_path, env)
                assert status == expected, (
                    f"{where}: `{command}` exited with {status}, not {expected}\n{stdout}\n{stderr}"
                )
                assert "Traceback" not in stderr, f"{where}: `{command}`\n{stderr}"
                printed.write(stdout)
        if shown is not None:
            assert _normalised(printed.getvalue()) == _normalised(shown), (
                f"{where}: the output shown on the page is not what the example prints:\n"
                f"{printed.getvalue()}"
            )

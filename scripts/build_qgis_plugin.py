"""Build the QGIS plugin zip that "Plugins > Manage and Install Plugins > Install from ZIP" takes.

    python3 scripts/build_qgis_plugin.py            # dist/geozones_qgis-<version>.zip

The zip holds one folder, ``geozones_qgis/``, with the plugin's files as they are in
``qgis_plugin/geozones_qgis/`` (no caches, no compiled files).
"""

from __future__ import annotations

import argparse
import configparser
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "qgis_plugin" / "geozones_qgis"
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def plugin_version() -> str:
    parser = configparser.ConfigParser()
    parser.read(PLUGIN / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"]


def plugin_files() -> list[Path]:
    return sorted(
        path
        for path in PLUGIN.rglob("*")
        if path.is_file()
        and not SKIPPED_PARTS & set(path.relative_to(PLUGIN).parts)
        and path.suffix not in SKIPPED_SUFFIXES
    )


def build(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"geozones_qgis-{plugin_version()}.zip"
    scratch = target.with_suffix(".zip.part")
    with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in plugin_files():
            archive.write(path, Path("geozones_qgis") / path.relative_to(PLUGIN))
    scratch.replace(target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="folder of the zip")
    target = build(parser.parse_args().dist)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write the key tables of docs/config.md from the configuration schema (geozones/config.py).

Each key of the configuration is declared once, on the dataclass field that holds it
(``geozones.workflow.config_schema.setting``). The tables between ``<!-- keys: NAME -->`` and
``<!-- /keys -->`` in docs/config.md are generated from there; ``tests/test_config_docs.py``
fails when they are out of date.

Usage::

    python scripts/make_config_docs.py          # rewrite docs/config.md
    python scripts/make_config_docs.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geozones.workflow.config import KEY_TABLES
from geozones.workflow.config_schema import fill_key_tables

DOCS = Path(__file__).resolve().parent.parent / "docs" / "config.md"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or check) the key tables of docs/config.md; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    options = parser.parse_args(argv)
    text = DOCS.read_text(encoding="utf-8")
    generated = fill_key_tables(text, KEY_TABLES)
    if generated == text:
        print(f"{DOCS}: key tables up to date")
        return 0
    if options.check:
        print(f"{DOCS}: key tables out of date; run python scripts/make_config_docs.py")
        return 1
    DOCS.write_text(generated, encoding="utf-8")
    print(f"{DOCS}: key tables written")
    return 0


if __name__ == "__main__":
    sys.exit(main())

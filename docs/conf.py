"""Sphinx configuration of the geozones documentation.

Build it, offline, from the repository root with::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

The site must be viewable on a machine with no internet at all: no intersphinx, no theme assets
from the web, and no MathJax from a CDN (math is shown as its LaTeX source, see
``_plain_math`` below).
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import Any

from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the source tree, installed or not

import geozones  # noqa: E402

project = "geozones"
author = "the geozones authors"
copyright = "geozones authors"
release = geozones.__version__
version = release
language = "en"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx_click",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]

# MyST: Markdown pages, rst only inside {eval-rst} blocks. Anchors for headings down to ###, so
# pages can link to `config.md#paths`.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc + numpydoc: the docstrings are numpydoc; members are listed explicitly in api.md.
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections give the types
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autosummary_generate = False  # numpydoc loads autosummary; nothing here uses it

# Offline: no intersphinx, no remote images, nothing fetched at build or view time.
html_theme = "alabaster"
html_title = f"geozones {release}"
html_show_sphinx = False
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "description": "三区三线 spatial-planning checks",
    "fixed_sidebar": False,
    "page_width": "1200px",
    "sidebar_width": "260px",
    "show_powered_by": False,
    "github_button": False,
    "github_banner": False,
    "font_family": "sans-serif",
    "head_font_family": "sans-serif",
    "code_font_family": "monospace",
}
html_math_renderer = "plain"

#: Pages other people are writing: listed in the index's Reference toctree when they exist.
OPTIONAL_PAGES = ("blocks", "raster")


def _plain_math(self: Any, node: Any) -> None:
    """Render math as its LaTeX source in a <span>/<div>: no MathJax, no CDN."""
    block = node.tagname == "math_block"
    tag = "div" if block else "span"
    self.body.append(
        f'<{tag} class="math">{html.escape(node.astext())}</{tag}>' + ("\n" if block else "")
    )
    raise nodes.SkipNode


def _add_optional_pages(app: Any, docname: str, source: list[str]) -> None:
    """List OPTIONAL_PAGES that exist after ``performance`` in the index's toctree."""
    if docname != root_doc:
        return
    docs = Path(app.srcdir)
    present = [
        page
        for page in OPTIONAL_PAGES
        if (docs / f"{page}.md").exists()
        and not re.search(rf"^{page}(\.md)?$", source[0], flags=re.MULTILINE)
    ]
    if present:
        entries = "".join(f"{page}\n" for page in present)
        source[0] = source[0].replace("\nperformance\n", f"\nperformance\n{entries}", 1)


def setup(app: Any) -> None:
    """Register the offline math renderer and the optional pages of the index."""
    app.connect("source-read", _add_optional_pages)
    app.add_html_math_renderer(
        "plain", inline_renderers=(_plain_math, None), block_renderers=(_plain_math, None)
    )

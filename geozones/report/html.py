"""Write a report as one self-contained HTML page, to open offline in any browser.

Everything is in the one file: the style sheet is inline, the maps are PNG images embedded as
``data:`` URIs, and there is no script and no reference to anything outside the page (no
external URL at all: the page works on a network without internet and phones nowhere). Every
value from the data (names, codes, file paths, problem texts) is HTML-escaped.

The tables are the workbook's (:mod:`geozones.report.excel`), so the page and the workbook
show the same numbers, with the same headers (:mod:`geozones.report.labels`): the Summary's
areas are rounded so that its totals add up. Long tables show their first
:data:`MAX_ROWS` rows; the workbook and the GeoPackage hold them all.
"""

from __future__ import annotations

import base64
import functools
import html
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from geozones.analysis.blocks import CLASS_KEYS
from geozones.choices import checked_choice, checked_instance
from geozones.report import i18n
from geozones.report.excel import (
    DECIMAL,
    INTEGER,
    PERCENT,
    Table,
    audit_table,
    block_list_table,
    conflict_summary_table,
    conflicts_table,
    fragmentation_table,
    land_cover_table,
    quality_table,
    sources_table,
    steep_parcels_table,
    steep_summary_table,
    summary_table,
    targets_table,
    tolerance_notes,
)
from geozones.report.geopackage import atomic_output, output_path
from geozones.report.labels import header, unit_label

if TYPE_CHECKING:
    from geozones.report.model import Report

__all__ = [
    "MAX_ROWS",
    "escape_text",
    "figure_grid_html",
    "figure_html",
    "heading_html",
    "html_page",
    "html_table",
    "list_html",
    "note_html",
    "render_html",
    "verdict_box",
    "write_html",
    "write_page",
]

#: Rows shown of the long tables (conflict pieces, audit, data quality).
MAX_ROWS = 500

_LANG = {"zh": "zh-CN", "en": "en"}

# Sentences of the page, by language; ``{…}`` fields are filled with escaped values.
_TEXT = {language: i18n.words("page", language) for language in i18n.LANGUAGES}

_METHOD = {language: i18n.paragraphs("method.report", language) for language in i18n.LANGUAGES}


def _escaped(value: object) -> str:
    """The templates' finalize: HTML (from a macro) as it is, anything else escaped."""
    return escape_text(value)


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates of :mod:`geozones.report` (``templates/``), escaping every value."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("geozones.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _macro(name: str, *args: object) -> Markup:
    """Call macro `name` of ``templates/macros.html``: the HTML it renders."""
    module: Any = _environment().get_template("macros.html").module
    return Markup(getattr(module, name)(*args))


def _words(report: Report) -> dict[str, str]:
    return _TEXT["en"] if report.language == "en" else _TEXT["zh"]


def _missing(value: object) -> bool:
    """None, NaN, NA, NaT and infinities: shown as an empty cell."""
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    return value is None or value is pd.NA or value is pd.NaT


def _cell(value: object, number_format: str | None) -> tuple[str, bool]:
    """The text of a cell (escaped by the template) and whether it is a number."""
    if _missing(value):
        return "", number_format is not None
    if isinstance(value, bool | np.bool_):
        return str(value), False
    if number_format in (DECIMAL, PERCENT) and isinstance(value, int | float | np.number):
        return f"{float(value):,.2f}", True
    if number_format == INTEGER and isinstance(value, int | float | np.number):
        return f"{int(value):,}", True
    if isinstance(value, int | float | np.number):
        return str(value), True
    return str(value), False


def _table(
    table: Table,
    caption: str,
    *,
    max_rows: int | None = None,
    words: dict[str, str],
    row_class: Callable[[int], str] | None = None,
    cell_class: Callable[[str, object], str] | None = None,
) -> str:
    """An HTML table with a caption and column headers, and a note when rows were left out."""
    frame = table.frame
    total = len(frame)
    shown = frame if max_rows is None else frame.iloc[:max_rows]
    columns = [str(column) for column in frame.columns]
    formats = [table.formats.get(column) for column in columns]
    rows: list[tuple[str, list[tuple[str, str]]]] = []
    for position, row in enumerate(shown.itertuples(index=False, name=None)):
        cells = []
        for column, value, number_format in zip(columns, row, formats, strict=True):
            text, numeric = _cell(value, number_format)
            classes = ["num"] if numeric else []
            if cell_class:
                extra = cell_class(column, value)
                if extra:
                    classes.append(extra)
            cells.append((text, " ".join(classes)))
        rows.append((row_class(position) if row_class else "", cells))
    truncated = (
        words["truncated"].format(shown=len(shown), total=total) if len(shown) < total else ""
    )
    return _macro("table", caption, columns, rows, truncated, list(table.notes))


def _note(text: str) -> str:
    return _macro("note", text)


def _scope(report: Report, words: dict[str, str]) -> str:
    if report.scope == "all":
        return words["scope_all"].format(n=report.zones["zone"].nunique())
    name = report.scope_name
    if report.language == "en":
        return f"{name} ({report.scope})" if name else report.scope
    return f"{name}（{report.scope}）" if name else report.scope


def _verdict(report: Report, words: dict[str, str]) -> str:
    conflicts = report.conflicts
    slivers = (
        np.asarray(conflicts["sliver"], dtype=bool) if len(conflicts) else np.zeros(0, dtype=bool)
    )
    passed = report.verdict
    lines: list[str] = []
    if passed:
        lines.append(words["pass"])
    else:
        counted = conflicts[~slivers]
        lines.append(words["fail"].format(n=len(counted), z=counted["zone"].nunique()))
    if slivers.any():
        lines.append(words["slivers"].format(n=int(slivers.sum()), t=f"{report.sliver_m2:g}"))
    if report.phantom_total[0]:
        count = f"{report.phantom_total[0]:,}"
        lines.append(words["phantoms"].format(n=count, t=f"{report.xy_tolerance:g}"))
    targets = report.targets
    if len(targets):
        met = int(np.asarray(targets["met"], dtype=bool).sum())
        lines.append(words["targets_line"].format(met=met, failed=len(targets) - met))
    return verdict_box(lines, passed=passed, language=report.language)


def _figure(png: bytes, alt: str, caption: str, note: str | None = None) -> str:
    """A figure of a PNG as a ``data:`` URI; `note` (on the map's font) follows the caption."""
    return figure_html(png, alt, f"{caption} {note}" if note else caption)


def _maps(report: Report, words: dict[str, str]) -> tuple[str, str]:
    """The overview figure and the conflicts figure (empty without conflicts), as HTML."""
    try:
        from geozones.report import maps
    except ImportError:
        return _note(words["no_maps"]), ""
    scope = _scope(report, words)
    note = maps.font_note(report)
    pieces = (
        int((~np.asarray(report.conflicts["sliver"], dtype=bool)).sum())
        if len(report.conflicts)
        else 0
    )
    overview = _figure(
        maps.overview_map(report),
        words["overview_alt"].format(scope=scope, n=pieces),
        words["overview_caption"],
        note,
    )
    if not len(report.conflicts):
        return overview, ""
    conflicts = _figure(
        maps.conflicts_map(report),
        words["conflicts_alt"].format(scope=scope),
        words["conflicts_map_caption"],
        note,
    )
    return overview, conflicts


def _blocks_map(report: Report, words: dict[str, str]) -> str:
    """The map of the farmland blocks, as HTML (a note when matplotlib is missing)."""
    try:
        from geozones.report import maps
    except ImportError:
        return _note(words["no_maps"])
    alt = words["blocks_alt"].format(scope=_scope(report, words), n=len(report.blocks))
    note = maps.font_note(report)
    return _figure(maps.blocks_map(report), alt, words["blocks_map_caption"], note)


def _extra_sections(report: Report, words: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    """The sections of steep farmland, land cover and farmland blocks the report holds."""
    language = "en" if report.language == "en" else "zh"
    unit = unit_label(report.unit, language)
    spec = report.raster_spec
    threshold = f"{spec.slope_threshold_deg:g}" if spec is not None else ""
    share = f"{spec.steep_share_percent:g}" if spec is not None else ""
    sections: list[tuple[str, str, list[str]]] = []
    if len(report.steep_summary):
        summary = steep_summary_table(report)
        body = [
            _table(
                summary,
                words["steep_caption"].format(t=threshold, unit=unit),
                words=words,
                row_class=_summary_rows(summary, language),
            )
        ]
        listed = steep_parcels_table(report)
        if len(listed.frame):
            caption = words["steep_listed_caption"].format(p=share, t=threshold)
            body.append(_table(listed, caption, max_rows=MAX_ROWS, words=words))
        else:
            body.append(_note(words["steep_none"].format(p=share, t=threshold)))
        sections.append(("steep", words["steep"], body))
    if len(report.land_cover):
        table = land_cover_table(report)
        caption = words["land_cover_caption"].format(unit=unit)
        rows = _summary_rows(table, language)
        sections.append(
            (
                "land-cover",
                words["land_cover"],
                [_table(table, caption, words=words, row_class=rows)],
            )
        )
    if len(report.fragmentation):
        # The workbook's table is too wide for a page: its counts, then its areas and measures.
        table = fragmentation_table(report)
        rows = _summary_rows(table, language)
        zone = ["level", "zone", "name"]
        counts = ["farmland_area", "blocks_count"] + [f"blocks_{key}" for key in CLASS_KEYS]
        areas = ["zone_area", "farmland_area"] + [f"area_{key}" for key in CLASS_KEYS]
        measures = ["mean_block_area", "largest_block_area", "largest_block_percent"]
        body = [
            _table(
                _columns(table, [*zone, *counts, "percent_100mu_plus", "crossing_blocks"], report),
                words["blocks_caption"].format(unit=unit),
                words=words,
                row_class=rows,
            ),
            _table(
                _columns(
                    table,
                    [*zone, *areas, *measures, "edge_m", "edge_density"],
                    report,
                    notes=True,
                ),
                words["blocks_area_caption"].format(unit=unit),
                words=words,
                row_class=rows,
            ),
            _blocks_map(report, words),
        ]
        if len(report.block_parts):
            body.append(
                _table(
                    block_list_table(report),
                    words["block_list_caption"],
                    max_rows=MAX_ROWS,
                    words=words,
                )
            )
        else:
            body.append(_note(words["blocks_none"]))
        sections.append(("blocks", words["blocks"], body))
    return sections


def _comparison_sections(report: Report) -> list[tuple[str, str, list[str]]]:
    """The comparisons with the versions before (``before`` in the configuration)."""
    if not report.comparisons:
        return []
    from geozones.report.compare import report_sections

    return report_sections(report)


def _columns(table: Table, keys: Sequence[str], report: Report, *, notes: bool = False) -> Table:
    """The columns of `table` named by `keys` (see :func:`header`), with its notes if `notes`."""
    titles = [header(key, report.language, report.unit) for key in keys]
    formats = {title: table.formats[title] for title in titles if title in table.formats}
    return Table(table.frame[titles], formats, notes=table.notes if notes else ())


def _summary_rows(table: Table, language: str) -> Callable[[int], str]:
    """Rows of a per-zone table: ``total`` for city and province rows, ``zone`` for counties."""
    level_column = header("level", language)
    totals = {header("province", language), header("city", language)}
    levels = list(table.frame[level_column]) if level_column in table.frame else []

    def row_class(position: int) -> str:
        if position >= len(levels):
            return ""
        return "total zone" if levels[position] in totals else "zone"

    return row_class


def _sliver_rows(report: Report) -> Callable[[int], str]:
    flags = (
        list(np.asarray(report.conflicts["sliver"], dtype=bool)) if len(report.conflicts) else []
    )

    def row_class(position: int) -> str:
        return "sliver" if position < len(flags) and flags[position] else ""

    return row_class


def _met_cells(language: str) -> Callable[[str, object], str]:
    met_column = header("met", language)
    yes = header("yes", language)

    def cell_class(column: str, value: object) -> str:
        if column != met_column:
            return ""
        return "ok" if value == yes else "bad"

    return cell_class


def _priority(report: Report) -> str:
    return " → ".join(header(key, report.language) for key in report.lines)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page.

    Sections: title, scope, date and verdict (不交叉、不重叠、不冲突); maps; coverage of every
    province, city and county by each line (area and share); binding targets (met or not, and
    the margin); conflicts per zone and layer pair; conflict pieces; the resolution audit; when
    the configuration asks for them, steep farmland (per zone, and the parcels listed), the
    land cover inside each line, and the farmland blocks (fragmentation per zone, a map of the
    blocks by class, and the block list), each with notes on how it was measured; data quality
    and sources; a note on method. The page's language (``lang``) and headers follow
    ``report.language``.

    Parameters
    ----------
    report : Report
        A report (:func:`geozones.report.build_report`) or one county's part of it.

    Returns
    -------
    str
        The HTML document. It references nothing outside itself: the style is inline, the maps
        are ``data:`` images, there is no script, and links only point within the page.

    Examples
    --------
    >>> import geozones
    >>> from geozones.report import build_report
    >>> report = build_report(geozones.load_config("sample_data/geozones.toml"))
    >>> page = render_html(report.for_zone("990122"))
    >>> page.startswith("<!DOCTYPE html>"), "http://" in page, "https://" in page
    (True, False, False)
    """
    from geozones.report.model import Report

    checked_instance(report, Report, name="report", needed="the Report build_report returns")
    language = "en" if report.language == "en" else "zh"
    words = _words(report)
    unit = report.unit
    unit_name = unit_label(unit, language)
    scope = _scope(report, words)
    title = report.title if report.scope == "all" else f"{report.title} · {report.scope_name}"

    overview, conflicts_figure = _maps(report, words)

    summary = summary_table(report)
    summary_html = _table(
        summary,
        words["summary_caption"].format(unit=unit_name),
        words=words,
        row_class=_summary_rows(summary, language),
    ) + _note(words["summary_note"])

    if len(report.targets):
        targets_html = _table(
            targets_table(report),
            words["targets_caption"],
            words=words,
            cell_class=_met_cells(language),
        )
    else:
        targets_html = _note(
            words["targets_none_zone"] if report.scope != "all" else words["targets_none"]
        )

    if len(report.summary):
        conflict_summary_html = _table(
            conflict_summary_table(report), words["conflict_summary_caption"], words=words
        )
    else:
        conflict_summary_html = _note(words["conflict_summary_none"]) + "".join(
            _note(sentence) for sentence in tolerance_notes(report)
        )

    if len(report.conflicts):
        conflicts_html = _table(
            conflicts_table(report),
            words["conflicts_caption"],
            max_rows=MAX_ROWS,
            words=words,
            row_class=_sliver_rows(report),
        )
    else:
        conflicts_html = _note(words["conflicts_none"])

    if len(report.audit):
        audit_html = _table(
            audit_table(report), words["audit_caption"], max_rows=MAX_ROWS, words=words
        )
    else:
        audit_html = _note(words["audit_none"])

    if len(report.quality):
        quality_html = _table(
            quality_table(report), words["quality_caption"], max_rows=MAX_ROWS, words=words
        )
    else:
        quality_html = _note(words["quality_none"])
    if len(report.sources):
        quality_html += _table(sources_table(report), words["sources_caption"], words=words)

    fields = {"unit": unit_name, "sliver": f"{report.sliver_m2:g}", "priority": _priority(report)}
    method = [item.format(**fields) for item in _METHOD[language]]
    method.append(tolerance_notes(report)[0])

    sections = [
        ("maps", words["maps"], [overview]),
        ("summary", words["summary"], [summary_html]),
        ("targets", words["targets"], [targets_html]),
        ("conflict-summary", words["conflict_summary"], [conflict_summary_html, conflicts_figure]),
        ("conflicts", words["conflicts"], [conflicts_html]),
        ("audit", words["audit"], [audit_html]),
        *_extra_sections(report, words),
        *_comparison_sections(report),
        ("quality", words["quality"], [quality_html]),
        ("method", words["method"], [list_html(method, css="method")]),
    ]
    meta = [
        (words["scope"], scope),
        (words["generated"], report.generated),
        (words["unit"], unit_name),
        (words["sliver"], f"{report.sliver_m2:g} m²"),
        (words["tolerance"], f"{report.xy_tolerance:g} m"),
    ]
    return html_page(
        title=title,
        language=language,
        meta=meta,
        verdict=_verdict(report, words),
        sections=sections,
    )


def html_page(
    *,
    title: str,
    language: str,
    meta: Sequence[tuple[str, str]],
    verdict: str,
    sections: Sequence[tuple[str, str, Sequence[str]]],
) -> str:
    """A self-contained report page: title, facts, verdict, contents, sections, footer.

    Parameters
    ----------
    title : str
        The page's title (escaped here).
    language : {"zh", "en"}
        The page's language (``lang``) and the words of its frame.
    meta : sequence of (str, str)
        Facts shown under the title, as (label, value); escaped here.
    verdict : str
        HTML of the verdict box (see :func:`verdict_box`), shown first.
    sections : sequence of (anchor, title, body)
        The sections, each listed in the contents; `body` is HTML (escape values with
        :func:`escape_text`).

    Returns
    -------
    str
        The HTML document, with the inline style sheet of every report page and nothing
        loaded from elsewhere.
    """
    words = _TEXT["en"] if language == "en" else _TEXT["zh"]
    language = "en" if language == "en" else "zh"
    return (
        _environment()
        .get_template("page.html")
        .render(
            lang=_LANG[language],
            title=title,
            facts=list(meta),
            separator="：" if language == "zh" else ": ",
            verdict=Markup(verdict),
            contents=words["contents"],
            sections=[
                {"anchor": anchor, "title": name, "body": Markup("".join(parts))}
                for anchor, name, parts in sections
            ],
            footer=words["footer"],
        )
    )


def escape_text(value: object) -> str:
    """`value` as HTML text, escaped, with no ``scheme://`` a viewer could take for a URL.

    The templates escape every value with it. HTML already rendered by a template (a
    :class:`markupsafe.Markup`) is returned as it is.

    Examples
    --------
    >>> escape_text("<b>白石县</b> http://x")
    Markup('&lt;b&gt;白石县&lt;/b&gt; http&#58;//x')
    """
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True).replace("://", "&#58;//"))


def html_table(
    table: Table,
    caption: str,
    *,
    language: str = "zh",
    max_rows: int | None = None,
    row_class: Callable[[int], str] | None = None,
    cell_class: Callable[[str, object], str] | None = None,
) -> str:
    """A workbook table (:class:`geozones.report.excel.Table`) as an HTML table.

    Parameters
    ----------
    table : Table
        Headers, values, number formats (shown as in the workbook) and notes (below).
    caption : str
        The table's caption.
    language : {"zh", "en"}
        Of the note saying rows were left out.
    max_rows : int, optional
        Show only the first rows, with a note.
    row_class, cell_class : callable, optional
        CSS classes of a row (by position) and a cell (by column header and value): the page
        styles ``total``, ``zone``, ``sliver``, ``ok`` and ``bad``.

    Returns
    -------
    str
        HTML; every value escaped.
    """
    checked_choice(language, i18n.LANGUAGES, what="report language")
    words = _TEXT["en"] if language == "en" else _TEXT["zh"]
    return _table(
        table, caption, max_rows=max_rows, words=words, row_class=row_class, cell_class=cell_class
    )


def verdict_box(lines: Sequence[str], *, passed: bool | None, language: str = "zh") -> str:
    """The verdict box at the top of a page: green when `passed`, red when not, plain if None."""
    checked_choice(language, i18n.LANGUAGES, what="report language")
    words = _TEXT["en"] if language == "en" else _TEXT["zh"]
    css = "" if passed is None else ("pass" if passed else "fail")
    return _macro("verdict", list(lines), css, words["verdict"])


def figure_html(png: bytes, alt: str, caption: str) -> str:
    """A PNG image embedded as a ``data:`` URI, with its alternative text and caption."""
    return _macro("figure", base64.b64encode(png).decode("ascii"), alt, caption)


def figure_grid_html(figures: Sequence[str]) -> str:
    """Figures (HTML from :func:`figure_html`) side by side, as many as fit the page's width."""
    return _macro("figure_grid", [Markup(item) for item in figures])


def heading_html(text: str) -> str:
    """A heading inside a section (``h3``), escaped."""
    return _macro("heading", text)


def list_html(items: Sequence[str], *, css: str) -> str:
    """A bulleted list of texts, escaped, with the CSS class `css` (``method``)."""
    return _macro("bullets", list(items), css)


def note_html(text: str) -> str:
    """A note paragraph, escaped."""
    return _note(text)


def write_html(report: Report, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write the report as one self-contained HTML file (UTF-8).

    Parameters
    ----------
    report : Report
        A report (:func:`geozones.report.build_report`) or one county's part of it.
    path : str or path-like
        The ``.html`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        `path` exists and `overwrite` is False (``--overwrite`` on the command line).

    See Also
    --------
    render_html : The page as a string; what it contains.
    """
    from geozones.report.model import Report

    checked_instance(report, Report, name="report", needed="the Report build_report returns")
    target = output_path(path, overwrite)
    return write_page(render_html(report), target, overwrite=True)


def write_page(page: str, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write an HTML page (UTF-8, Unix line ends) atomically: a failed write leaves nothing.

    Parameters
    ----------
    page : str
        The document, as :func:`html_page` makes it.
    path : str or path-like
        The ``.html`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = output_path(path, overwrite)
    with atomic_output(target) as scratch:
        scratch.write_text(page, encoding="utf-8", newline="\n")
    return target

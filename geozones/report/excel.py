"""Write a report as an Excel workbook, the form most people receive it in.

Sheets, titled in the report's language: 汇总 (Summary: coverage of every province, city and
county by each line), 冲突 (Conflicts: one row per conflict piece), 冲突汇总 (Conflict summary),
调整记录 (Resolution audit), 指标 (Targets), then, when the configuration asks for them, 陡坡耕地
(Steep farmland: per zone, then the parcels listed), 地类构成 (Land cover inside each line) and
集中连片 (Farmland blocks: fragmentation per zone, then every block), and 数据质量 (Data
quality, with the data sources below the findings).

Numbers are written as numbers, shown with two decimals; every area header names its unit, and
the sheets of rasters and blocks end with notes on how their areas were measured. The areas of
the per-zone tables (the Summary, and the first table of the steep-farmland, land-cover and
blocks sheets) are rounded so that their totals add up (:func:`round_preserving_totals`); the
lists hold the exact values, which the number format shows rounded. Text from the data is
written as text, never as a formula. The writer only formats what the report holds.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "writing Excel workbooks needs openpyxl: pip install 'geozones[report]'"
    ) from error

from geozones.analysis.blocks import CLASS_KEYS
from geozones.analysis.coverage import ADMINISTRATIVE_LEVELS
from geozones.choices import checked_instance
from geozones.report import i18n
from geozones.report.geopackage import atomic_output, output_path
from geozones.report.labels import header, line_header, unit_label, with_unit, yes_no
from geozones.report.model import Report
from geozones.units import square_metres_per

#: Number formats: areas and other measures with two decimals, counts as integers.
DECIMAL = "#,##0.00"
PERCENT = "0.00"
INTEGER = "0"
#: Rows a worksheet holds (Excel's limit), the header included.
MAX_ROWS = 1_048_576
#: A string starting with one of these would be read as a formula by Excel (or by a program
#: the sheet is exported to): it is written as text, marked with Excel's quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BOLD = Font(bold=True)
_MAX_WIDTH, _MIN_WIDTH = 60.0, 6.0


@dataclass(frozen=True)
class Table:
    """One table of a sheet: headers as columns, cell values, number formats by header.

    `title` is written above the table (not above the first of a sheet), `notes` below it, one
    sentence per row.
    """

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    notes: tuple[str, ...] = ()


def write_workbook(
    report: Report, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the report as an ``.xlsx`` workbook.

    Parameters
    ----------
    report : Report
        A report (:func:`geozones.report.build_report`) or one county's part of it.
    path : str or path-like
        The ``.xlsx`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        `path` exists and `overwrite` is False.
    ValueError
        A table has more rows than an Excel sheet holds (use the GeoPackage instead).

    Notes
    -----
    The Summary's rounded areas add up: county areas are rounded to two decimals by
    :func:`round_preserving_totals`, and each city and province row is the sum of its
    rounded county rows, so a city row never differs from the sum of the rows under it (and
    still lies within 0.01 of its exact value). Shares are rounded normally.
    """
    checked_instance(report, Report, name="report", needed="the Report build_report returns")
    target = output_path(path, overwrite)
    return write_tables(
        workbook_tables(report),
        target,
        overwrite=True,
        title=report.title,
        subject=report.scope_name,
        description=f"geozones report, {report.generated}",
    )


def write_tables(
    sheets: Mapping[str, Sequence[Table]],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    title: str = "",
    subject: str = "",
    description: str = "",
) -> Path:
    """Write tables as an ``.xlsx`` workbook, the way :func:`write_workbook` writes a report.

    Parameters
    ----------
    sheets : mapping of str to sequence of Table
        Sheet title to the tables written one below the other; the first table's header row
        is frozen and filtered.
    path : str or path-like
        The ``.xlsx`` file to write (atomically: a failed write leaves no file).
    overwrite : bool, default False
        Replace `path` if it exists.
    title, subject, description : str
        The workbook's document properties.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        `path` exists and `overwrite` is False.
    ValueError
        A sheet has more rows than Excel holds.
    """
    target = output_path(path, overwrite)
    book = Workbook(write_only=True)
    book.properties.title = title
    book.properties.subject = subject
    book.properties.description = description
    for name, tables in sheets.items():
        _write_sheet(book.create_sheet(name), tables)
    with atomic_output(target) as scratch:
        book.save(scratch)
    return target


def workbook_tables(report: Report) -> dict[str, list[Table]]:
    """The tables :func:`write_workbook` writes, by sheet title, in sheet order."""
    language = report.language
    sheets = {
        header("summary", language): [summary_table(report)],
        header("conflicts", language): [conflicts_table(report)],
        header("conflict_summary", language): [conflict_summary_table(report)],
        header("audit", language): [audit_table(report)],
        header("targets", language): [targets_table(report)],
    }
    if len(report.steep_summary):
        sheets[header("steep_farmland", language)] = [
            steep_summary_table(report),
            steep_parcels_table(report),
        ]
    if len(report.land_cover):
        sheets[header("land_cover", language)] = [land_cover_table(report)]
    if len(report.fragmentation):
        sheets[header("blocks", language)] = [
            fragmentation_table(report),
            block_list_table(report),
        ]
    if report.comparisons:
        from geozones.report.compare import report_sheets

        sheets.update(report_sheets(report))
    sheets[header("quality", language)] = [quality_table(report), sources_table(report)]
    return sheets


# --- the tables -------------------------------------------------------------------------------


def summary_table(report: Report) -> Table:
    """Coverage: one row per zone (province, its cities, their counties), a column pair per line.

    Areas are rounded with :func:`round_preserving_totals`; see :func:`write_workbook`.
    """
    language, unit = report.language, report.unit
    pivot = _coverage_pivot(report.coverage)
    rounded = _rounded_areas(pivot)
    columns: dict[str, Any] = {
        header("level", language): pivot["level"].map(lambda level: header(level, language)),
        header("zone", language): pivot["zone"],
        header("name", language): pivot["name"],
        header("zone_area", language, unit): rounded["zone_area"],
    }
    formats = {header("zone_area", language, unit): DECIMAL}
    for line in _lines(report.coverage):
        area = line_header(line, "area", language, unit)
        share = line_header(line, "percent", language)
        columns[area] = rounded[("covered_area", line)]
        columns[share] = pivot[("percent", line)].round(2)
        formats.update({area: DECIMAL, share: PERCENT})
    frame = pd.DataFrame(columns).reset_index(drop=True)
    outside = _outside(report)
    if len(outside) == 0:
        return Table(frame, formats)
    # the area outside every zone: a row of its own, in no zone and in no total
    row: dict[str, Any] = {title: np.nan for title in frame.columns}
    row.update(
        {
            header("level", language): header("outside", language),
            header("zone", language): "",
            header("name", language): "",
        }
    )
    for line, area in zip(outside["line"], outside["area"], strict=True):
        row[line_header(line, "area", language, unit)] = round(float(area), 2)
    frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    return Table(frame, formats, notes=outside_notes(report))


def _outside(report: Report) -> pd.DataFrame:
    """The lines with area outside every zone that shows at two decimals."""
    outside = report.outside
    return outside[outside["area"].round(2) > 0] if len(outside) else outside


def outside_notes(report: Report) -> tuple[str, ...]:
    """Sentences saying how much of each line lies outside every zone (none if nothing does).

    Parameters
    ----------
    report : Report
        The report.

    Returns
    -------
    tuple of str
        One sentence, in the report's language.
    """
    outside = _outside(report)
    if len(outside) == 0:
        return ()
    language = "en" if report.language == "en" else "zh"
    unit = unit_label(report.unit, language)
    parts = [
        f"{header(str(line), language)} {float(area):,.2f} {unit}"
        for line, area in zip(outside["line"], outside["area"], strict=True)
    ]
    separator = i18n.text("parts.list_separator", language)
    return (i18n.text("parts.outside_note", language, parts=separator.join(parts)),)


def conflicts_table(report: Report) -> Table:
    """One row per conflict piece: zone, layers, feature ids, area, sliver flag."""
    language, unit = report.language, report.unit
    frame = report.conflicts
    return _table(
        language,
        unit,
        [
            ("zone", frame["zone"], None),
            ("name", frame["zone"].map(_zone_names(report)), None),
            ("layer_a", frame["layer_a"].map(_label(language)), None),
            ("layer_b", frame["layer_b"].map(_label(language)), None),
            ("id_a", frame["id_a"], None),
            ("id_b", frame["id_b"], None),
            ("area", frame["area_m2"] / square_metres_per(unit), DECIMAL),
            ("area_m2", frame["area_m2"], DECIMAL),
            ("sliver", frame["sliver"].map(lambda flag: yes_no(bool(flag), language)), None),
        ],
    )


def conflict_summary_table(report: Report) -> Table:
    """Conflict area per zone and layer pair (:func:`geozones.conflict_summary`).

    The notes under it give the coordinate tolerance and the phantoms it dismissed.
    """
    language, unit = report.language, report.unit
    frame = report.summary
    per_unit = square_metres_per(unit)
    table = _table(
        language,
        unit,
        [
            ("zone", frame["zone"], None),
            ("name", frame["zone"].map(_zone_names(report)), None),
            ("layer_a", frame["layer_a"].map(_label(language)), None),
            ("layer_b", frame["layer_b"].map(_label(language)), None),
            ("pieces", frame["pieces"], INTEGER),
            ("slivers", frame["slivers"], INTEGER),
            ("area", frame["area_m2"] / per_unit, DECIMAL),
            ("sliver_area", frame["sliver_area_m2"] / per_unit, DECIMAL),
            ("area_m2", frame["area_m2"], DECIMAL),
            ("sliver_area_m2", frame["sliver_area_m2"], DECIMAL),
        ],
    )
    return replace(table, notes=tolerance_notes(report))


def audit_table(report: Report) -> Table:
    """One row per piece taken out (or left as a sliver), without geometry."""
    language, unit = report.language, report.unit
    frame = report.audit
    return _table(
        language,
        unit,
        [
            ("zone", frame["zone"], None),
            ("name", frame["zone"].map(_zone_names(report)), None),
            ("layer", frame["layer"].map(_label(language)), None),
            ("feature", frame["feature"], None),
            ("because_layer", frame["because_layer"].map(_label(language)), None),
            ("because_feature", frame["because_feature"], None),
            ("rule", frame["rule"].map(_message(language)), None),
            ("area", frame["area_m2"] / square_metres_per(unit), DECIMAL),
            ("area_m2", frame["area_m2"], DECIMAL),
            ("taken", frame["taken"].map(lambda flag: yes_no(bool(flag), language)), None),
        ],
    )


def targets_table(report: Report) -> Table:
    """Binding targets: name, ≥/≤, required, measured, unit, met (是/否) and margin."""
    language, unit = report.language, report.unit
    frame = report.targets
    return _table(
        language,
        unit,
        [
            ("target", frame["target"].map(_label(language)), None),
            ("comparison", frame["comparison"].map(_label(language)), None),
            ("required", frame["required"], DECIMAL),
            ("measured", frame["measured"], DECIMAL),
            ("unit", frame["unit"].map(lambda name: unit_label(str(name), language)), None),
            ("met", frame["met"].map(lambda flag: yes_no(bool(flag), language)), None),
            ("margin", frame["margin"], DECIMAL),
        ],
    )


def quality_table(report: Report) -> Table:
    """Data-quality findings: repairs, guesses and declared-area mismatches."""
    language, unit = report.language, report.unit
    frame = report.quality
    return _table(
        language,
        unit,
        [
            ("layer", frame["layer"].map(_label(language)), None),
            ("feature", frame["feature"], None),
            ("problem", _problems(frame, language), None),
            ("action", frame["action"].map(_message(language)), None),
            ("area_before_m2", frame["area_before_m2"], DECIMAL),
            ("area_after_m2", frame["area_after_m2"], DECIMAL),
            ("area_change_m2", frame["area_change_m2"], DECIMAL),
        ],
    )


def sources_table(report: Report) -> Table:
    """One row per layer read: file, driver, features, CRS, encoding, how each was decided."""
    language, unit = report.language, report.unit
    keys = ["source", "driver", "crs", "crs_source", "encoding", "encoding_source"]
    frame = report.sources.reindex(columns=["layer", "features", *keys])
    table = _table(
        language,
        unit,
        [
            ("layer", frame["layer"].map(_label(language)), None),
            ("source", frame["source"].map(_message(language)), None),
            ("driver", frame["driver"], None),
            ("features", frame["features"], INTEGER),
            ("crs", frame["crs"], None),
            ("crs_source", frame["crs_source"].map(_label(language)), None),
            ("encoding", frame["encoding"], None),
            ("encoding_source", frame["encoding_source"].map(_label(language)), None),
        ],
    )
    return Table(table.frame, table.formats, title=header("sources", language))


# --- rasters and farmland blocks -----------------------------------------------------------------

# Notes under the tables of rasters and blocks, by language; ``{…}`` fields are filled in.
_NOTES = {
    key: {language: tuple(i18n.paragraphs(f"notes.{key}", language)) for language in i18n.LANGUAGES}
    for key in ("steep", "land_cover", "blocks")
}


#: The notes under the conflict summary: the coordinate tolerance and the phantoms it dismissed.
_TOLERANCE_NOTES = {
    language: tuple(i18n.paragraphs("notes.tolerance", language)) for language in i18n.LANGUAGES
}


def tolerance_notes(report: Report) -> tuple[str, ...]:
    """The tolerance of the report and, if any, how many phantoms it dismissed (sentences).

    Parameters
    ----------
    report : Report
        The report.

    Returns
    -------
    tuple of str
        One or two sentences in the report's language.
    """
    language = "en" if report.language == "en" else "zh"
    count, area = report.phantom_total
    definition, dismissed = _TOLERANCE_NOTES[language]
    sentences = [definition.format(tolerance=f"{report.xy_tolerance:g}")]
    if count:
        sentences.append(dismissed.format(count=f"{count:,}", area=f"{area:,.4g}"))
    return tuple(sentences)


def notes(report: Report, kind: str) -> tuple[str, ...]:
    """The notes on method under the tables of `kind` (``steep``, ``land_cover``, ``blocks``).

    Parameters
    ----------
    report : Report
        The report; its settings fill the sentences in.
    kind : str
        Which tables.

    Returns
    -------
    tuple of str
        Sentences in the report's language.
    """
    language = "en" if report.language == "en" else "zh"
    rasters, blocks = report.raster_spec, report.block_spec
    barriers = ""
    if blocks is not None and blocks.barriers:
        name = header(blocks.barriers, language)
        barriers = i18n.text("parts.barriers", language, name=name)
    fields = {
        "unit": unit_label(report.unit, language),
        "dem": rasters.dem.name if rasters is not None and rasters.dem else "",
        "landcover": rasters.landcover.name if rasters is not None and rasters.landcover else "",
        "threshold": f"{rasters.slope_threshold_deg:g}" if rasters is not None else "",
        "share": f"{rasters.steep_share_percent:g}" if rasters is not None else "",
        "gap": f"{blocks.gap_m:g}" if blocks is not None else "",
        "barriers": barriers,
    }
    return tuple(sentence.format(**fields) for sentence in _NOTES[kind][language])


def _level_columns(language: str, frame: pd.DataFrame) -> list[tuple[str, pd.Series, str | None]]:
    return [
        ("level", frame["level"].map(lambda level: header(str(level), language)), None),
        ("zone", frame["zone"], None),
        ("name", frame["name"], None),
    ]


def steep_summary_table(report: Report) -> Table:
    """Steep farmland per province, city and county; areas rounded so that totals add up."""
    language, unit = report.language, report.unit
    frame = report.steep_summary
    rounded = _rounded_columns(frame, ["area", "steep_area", "listed_area", "nodata_area"])
    table = _table(
        language,
        unit,
        [
            *_level_columns(language, frame),
            ("parcels", frame["parcels"], INTEGER),
            ("assessed_area", rounded["area"], DECIMAL),
            ("steep_area", rounded["steep_area"], DECIMAL),
            ("steep_percent", frame["percent"].astype(float).round(2), PERCENT),
            ("listed", frame["listed"], INTEGER),
            ("listed_area", rounded["listed_area"], DECIMAL),
            ("nodata_area", rounded["nodata_area"], DECIMAL),
        ],
    )
    return replace(table, notes=notes(report, "steep"))


def steep_parcels_table(report: Report) -> Table:
    """The parcels listed as steep, steepest share first within each zone; exact values."""
    language, unit = report.language, report.unit
    steep = report.steep_farmland
    frame = steep[steep["listed"].astype(bool)]
    frame = frame.assign(feature=frame.index.to_numpy(dtype=object)).sort_values(
        ["zone", "steep_percent"], ascending=[True, False], kind="stable"
    )
    per_unit = square_metres_per(unit)
    table = _table(
        language,
        unit,
        [
            ("zone", frame["zone"], None),
            ("name", frame["zone"].map(_zone_names(report)), None),
            ("feature", frame["feature"], None),
            ("assessed_area", frame["area_m2"] / per_unit, DECIMAL),
            ("steep_area", frame["steep_area_m2"] / per_unit, DECIMAL),
            ("steep_percent", frame["steep_percent"], PERCENT),
            ("mean_slope", frame["mean_slope"], DECIMAL),
            ("max_slope", frame["max_slope"], DECIMAL),
        ],
    )
    return replace(table, title=header("steep_listed", language))


def land_cover_table(report: Report) -> Table:
    """Land cover inside each line, per province, city and county; rows and columns add up."""
    language, unit = report.language, report.unit
    frame = report.land_cover.reset_index(drop=True)
    classes = land_cover_classes(frame)
    parts = [*classes, "nodata", "off_raster"]
    by_line = [_rounded_parts(rows, parts, "total") for _, rows in frame.groupby("line")]
    rounded = {
        column: pd.concat([part[column] for part in by_line]).sort_index()
        for column in [*parts, "total"]
    }
    columns: list[tuple[str, pd.Series, str | None]] = [
        ("line", frame["line"].map(_label(language)), None),
        *_level_columns(language, frame),
    ]
    table = _table(language, unit, columns)
    data = table.frame
    formats = dict(table.formats)
    for column in [*parts, "total"]:
        title = (
            class_header(column, language, unit)
            if column in classes
            else header(column, language, unit)
        )
        data[title] = rounded[column].reset_index(drop=True)
        formats[title] = DECIMAL
    return Table(data, formats, notes=notes(report, "land_cover"))


def land_cover_classes(frame: pd.DataFrame) -> list[str]:
    """The class columns of :attr:`Report.land_cover`: those between ``name`` and ``nodata``."""
    columns = [str(column) for column in frame.columns]
    return columns[columns.index("name") + 1 : columns.index("nodata")]


def class_header(name: str, language: str, unit: str) -> str:
    """Header of a land-cover class column: its name (``地类 5`` for a bare code) and unit.

    Examples
    --------
    >>> class_header("耕地", "zh", "mu"), class_header("5", "en", "ha")
    ('耕地（亩）', 'Class 5 (ha)')
    """
    text = str(name)
    if text.lstrip("+-").isdigit():
        text = i18n.text("parts.land_class", language, code=text)
    return with_unit(text, language, unit)


_FRAGMENT_CLASSES = tuple(f"area_{key}" for key in CLASS_KEYS)


def fragmentation_table(report: Report) -> Table:
    """Blocks and fragmentation per province, city and county (:func:`fragmentation`)."""
    language, unit = report.language, report.unit
    frame = report.fragmentation.reset_index(drop=True)
    rounded = _rounded_columns(frame, ["zone_area", "edge_m"])
    parts = _rounded_parts(frame, list(_FRAGMENT_CLASSES), "farmland_area")
    table = _table(
        language,
        unit,
        [
            *_level_columns(language, frame),
            ("zone_area", rounded["zone_area"], DECIMAL),
            ("farmland_area", parts["farmland_area"], DECIMAL),
            ("blocks_count", frame["blocks"], INTEGER),
            *[(f"blocks_{key}", frame[f"blocks_{key}"], INTEGER) for key in CLASS_KEYS],
            *[(column, parts[column], DECIMAL) for column in _FRAGMENT_CLASSES],
            ("percent_100mu_plus", frame["percent_100mu_plus"].astype(float).round(2), PERCENT),
            ("mean_block_area", frame["mean_block_area"].astype(float).round(2), DECIMAL),
            ("largest_block_area", frame["largest_block_area"].astype(float).round(2), DECIMAL),
            (
                "largest_block_percent",
                frame["largest_block_percent"].astype(float).round(2),
                PERCENT,
            ),
            ("crossing_blocks", frame["crossing_blocks"], INTEGER),
            ("edge_m", rounded["edge_m"], DECIMAL),
            ("edge_density", frame["edge_density"].astype(float).round(2), DECIMAL),
        ],
    )
    return replace(table, notes=notes(report, "blocks"))


def block_list_table(report: Report) -> Table:
    """Every block's part in each zone: class, parcels, area (exact), whole block in 亩."""
    language, unit = report.language, report.unit
    frame = report.block_parts
    table = _table(
        language,
        unit,
        [
            ("block", frame["block"], INTEGER),
            ("zone", frame["zone"], None),
            ("name", frame["zone"].map(_zone_names(report)), None),
            ("class", frame["class"].map(_label(language)), None),
            ("parcels", frame["parcels"], INTEGER),
            ("area", frame["area_m2"] / square_metres_per(unit), DECIMAL),
            ("area_m2", frame["area_m2"], DECIMAL),
            ("block_area_mu", frame["block_area_m2"] / square_metres_per("mu"), DECIMAL),
            ("crossing", frame["crossing"].map(lambda flag: yes_no(bool(flag), language)), None),
        ],
    )
    return replace(table, title=header("block_list", language))


def _table(language: str, unit: str, columns: Sequence[tuple[str, pd.Series, str | None]]) -> Table:
    """A table from (key, values, number format) columns, headed in `language`."""
    # The arrays, not the Series: a Series made from a result carries its attrs, which pandas
    # deep-copies on every operation (thousands of times for a report by county).
    data = {header(key, language, unit): values.array for key, values, _ in columns}
    formats = {header(key, language, unit): fmt for key, _, fmt in columns if fmt}
    return Table(pd.DataFrame(data), formats)


def _label(language: str) -> Callable[[object], object]:
    """Translate a key (line, level, target, comparison); leave other values alone."""

    def label(value: object) -> object:
        return header(value, language) if isinstance(value, str) else value

    return label


def _message(language: str) -> Callable[[object], object]:
    """Translate a text the computations wrote in English (:func:`geozones.report.i18n.translate`).

    Texts no entry of the catalogue matches are left as they are.
    """

    def message(value: object) -> object:
        if not isinstance(value, str):
            return value
        translated = i18n.translate(value, language, label=lambda key: header(key, language))
        return value if translated is None else translated

    return message


def _problems(frame: pd.DataFrame, language: str) -> pd.Series:
    """The data-quality problems in `language`: a warning no pattern matches is named by its class.

    A warning's row has the action ``warned (CLASS)``; in Chinese its English text, when the
    catalogue has no pattern for it, gives way to what the class says
    (:func:`geozones.report.i18n.warning_text`). The command line prints the text in full.
    """
    translated = []
    for problem, action in zip(frame["problem"], frame["action"], strict=True):
        if not isinstance(problem, str):
            translated.append(problem)
            continue
        text = i18n.translate(problem, language, label=lambda key: header(key, language))
        if text is None:
            category = _WARNED.fullmatch(str(action))
            text = i18n.warning_text(category[1], language) if category else problem
        translated.append(text)
    return pd.Series(translated, index=frame.index, dtype=object)


#: The action of a data-quality row that records a warning (see geozones.report.model).
_WARNED = re.compile(r"warned \((\w+)\)")


def _zone_names(report: Report) -> dict[str, str]:
    return dict(zip(report.zones["zone"], report.zones["name"], strict=False))


# --- the summary's pivot and rounding -----------------------------------------------------------


def _lines(coverage: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(coverage["line"]))


def _coverage_pivot(coverage: pd.DataFrame) -> pd.DataFrame:
    """One row per zone, ordered province, city, its counties; columns (measure, line)."""
    zones = coverage.drop_duplicates("zone")[["level", "zone", "name", "zone_area"]]
    wide = coverage.pivot(index="zone", columns="line", values=["covered_area", "percent"])
    wide.columns = wide.columns.to_flat_index()  # ("covered_area", line), ("percent", line)
    table = zones.set_index("zone").join(wide).reset_index()
    keys = [
        _hierarchy_key(str(code), str(level))
        for code, level in zip(table["zone"], table["level"], strict=True)
    ]
    order = sorted(range(len(table)), key=keys.__getitem__)
    return table.iloc[order].reset_index(drop=True)


def _hierarchy_key(code: str, level: str) -> tuple[str, bool, str, bool, str]:
    return (code[:2], level != "province", code[:4], level != "city", code)


def _rounded_areas(pivot: pd.DataFrame) -> dict[Hashable, pd.Series]:
    """Every area column of the Summary rounded to 2 decimals so that its rows add up."""
    lines = [key for key in pivot.columns if isinstance(key, tuple) and key[0] == "covered_area"]
    return _rounded_columns(pivot, ["zone_area", *lines])


def _parents(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The 6-digit code of the city and province above each row, outermost level first."""
    codes = table["zone"].astype(str)
    above = sorted(
        ((level, digits) for level, digits in ADMINISTRATIVE_LEVELS.items() if level != "county"),
        key=lambda item: item[1],
    )
    return {level: codes.str[:digits].str.ljust(6, "0") for level, digits in above}


def _rounded_columns(table: pd.DataFrame, columns: Sequence[Hashable]) -> dict[Hashable, pd.Series]:
    """Each column rounded to 2 decimals so that city and province rows add up.

    `table` has ``level`` and ``zone`` columns. County values are rounded by
    :func:`round_preserving_totals` within their province and city; a city or province row is
    the sum of its rounded county rows (rounded normally when the table has no county under
    it).
    """
    parents = _parents(table)
    rolled_up = _RollUp.of(table, parents)
    county = rolled_up.county
    result: dict[Hashable, pd.Series] = {}
    for column in columns:
        values = table[column].astype(float)
        counties = round_preserving_totals(
            values[county], within=[keys[county] for keys in parents.values()]
        )
        result[column] = rolled_up(values, counties)
    return result


def _rounded_parts(table: pd.DataFrame, parts: Sequence[str], total: str) -> dict[str, pd.Series]:
    """Columns that are parts of a `total` column, rounded to 2 decimals so that all adds up.

    Each county's total is rounded with :func:`round_preserving_totals` within its province
    and city (as :func:`_rounded_columns` does), and shared among its parts by the largest
    remainder; the `total` column is the sum of the rounded parts in every row, and city and
    province rows are the sums of their rounded county rows.
    """
    parents = _parents(table)
    rolled_up = _RollUp.of(table, parents)
    county = rolled_up.county
    cells = table.loc[county, list(parts)].astype(float)
    flat = pd.Series(cells.to_numpy().ravel())
    width = len(parts)
    within = [
        pd.Series(np.repeat(keys[county].to_numpy(), width))
        for keys in [*parents.values(), table["zone"].astype(str)]
    ]
    rounded = round_preserving_totals(flat, within=within).to_numpy().reshape(-1, width)
    result: dict[str, pd.Series] = {}
    for position, column in enumerate(parts):
        counties = pd.Series(rounded[:, position], index=cells.index)
        values = table[column].astype(float)
        result[column] = rolled_up(values, counties)
    cents = sum(np.round(result[column].to_numpy() * 100) for column in parts)
    result[total] = pd.Series(np.asarray(cents, dtype=float) / 100, index=table.index)
    return result


@dataclass(frozen=True)
class _RollUp:
    """Which rows of a table are counties, and which county rows each city or province row sums.

    Built once per table: the comparisons and factorisations are the same for every column.
    """

    index: pd.Index
    county: np.ndarray
    #: For each level above the county: the rows of that level that have counties under them,
    #: the group of each row, and the counted county rows of each group.
    levels: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, int], ...]

    @classmethod
    def of(cls, table: pd.DataFrame, parents: dict[str, pd.Series]) -> _RollUp:
        level_of_row = table["level"].to_numpy(dtype=object)
        county = level_of_row == "county"
        levels = []
        for level, keys in parents.items():
            groups, uniques = pd.factorize(keys.to_numpy())
            counted = county & (groups >= 0)
            has_county = np.bincount(groups[counted], minlength=len(uniques)) > 0
            rows = (level_of_row == level) & (groups >= 0)
            rows[rows] = has_county[groups[rows]]
            levels.append((rows, groups, counted, len(uniques)))
        return cls(table.index, county, tuple(levels))

    def __call__(self, values: pd.Series, counties: pd.Series) -> pd.Series:
        """County rows as rounded; a city or province row the sum of the rounded counties."""
        cents = np.round(values.to_numpy(dtype=float) * 100)
        cents[self.county] = np.round(counties.to_numpy(dtype=float) * 100)
        for rows, groups, counted, size in self.levels:
            # Whole cents in floats: the sums are exact in any order.
            sums = np.bincount(groups[counted], weights=cents[counted], minlength=size)
            cents[rows] = sums[groups[rows]]
        return pd.Series(cents / 100, index=self.index)


def round_preserving_totals(
    values: pd.Series, *, within: Sequence[pd.Series] = (), decimals: int = 2
) -> pd.Series:
    """Round values so that the rounded values of every group add up to its rounded total.

    Largest-remainder rounding (the Hamilton method): the total is rounded half up; every value
    is first rounded down, and the units still missing from the total go to the values with the
    largest remainders (ties to the earlier value). With groups, this is done top down: the
    rounded total is shared among the outermost groups, each group's share among its subgroups,
    and so on down to the values, so every group's rounded values add up to its own rounded
    share, which lies within one unit of the last decimal of its exact sum.

    Each value ends up rounded down or up, so it is within ``10**-decimals`` of the exact value
    (not always within half of it: that is the price of totals that add up).

    Parameters
    ----------
    values : pandas.Series
        Values to round (areas of counties, say).
    within : sequence of pandas.Series, optional
        Group keys aligned with `values`, outermost first (province code, then city code).
    decimals : int, default 2
        Decimals to round to.

    Returns
    -------
    pandas.Series
        The rounded values, with the index of `values`.

    Examples
    --------
    >>> import pandas as pd
    >>> values = pd.Series([0.125, 0.125, 0.125, 0.125])
    >>> float(values.round(2).sum())  # rounding each value loses 0.02 of the total 0.50
    0.48
    >>> round_preserving_totals(values).tolist()
    [0.13, 0.13, 0.12, 0.12]
    >>> city = pd.Series(["a", "a", "b", "b"])
    >>> round_preserving_totals(pd.Series([0.004, 0.004, 0.004, 0.004]), within=[city]).tolist()
    [0.01, 0.0, 0.01, 0.0]
    """
    scale = 10.0**decimals
    scaled = values.to_numpy(dtype=float) * scale
    keys = [np.asarray(group.to_numpy(), dtype=object) for group in within]
    units = _share(scaled, _round_half_up(scaled.sum()), keys)
    return pd.Series(units / scale, index=values.index)


def _share(scaled: np.ndarray, total: int, keys: list[np.ndarray]) -> np.ndarray:
    """Whole units summing to `total`, shared among `scaled` through the groups in `keys`."""
    if not keys:
        return _largest_remainder(scaled, total)
    groups = list(dict.fromkeys(keys[0]))
    members = [np.flatnonzero(keys[0] == group) for group in groups]
    group_totals = _largest_remainder(np.array([scaled[rows].sum() for rows in members]), total)
    units = np.zeros(len(scaled))
    for rows, group_total in zip(members, group_totals, strict=True):
        inner = [key[rows] for key in keys[1:]]
        units[rows] = _share(scaled[rows], int(group_total), inner)
    return units


def _largest_remainder(scaled: np.ndarray, total: int) -> np.ndarray:
    """Round `scaled` down, then add one to the largest remainders until they sum to `total`."""
    floors = np.floor(scaled)
    missing = total - int(floors.sum())
    # Within [0, n] for exact arithmetic; clipped against floating-point noise.
    missing = min(max(missing, 0), len(scaled))
    order = np.argsort(-(scaled - floors), kind="stable")
    floors[order[:missing]] += 1
    return floors


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


# --- writing cells ------------------------------------------------------------------------------


def _write_sheet(sheet: WriteOnlyWorksheet, tables: Sequence[Table]) -> None:
    """Write tables one below the other; the first one's header row is frozen and filtered."""
    rows = sum(
        len(table.frame)
        + 1
        + (2 if table.title else 0)
        + (len(table.notes) + 1 if table.notes else 0)
        for table in tables
    )
    if rows > MAX_ROWS:
        raise ValueError(
            f"sheet {sheet.title!r} would have {rows:,} rows, more than Excel's {MAX_ROWS:,}; "
            "write the GeoPackage for tables this large"
        )
    widths = _column_widths(tables)
    for position, width in enumerate(widths, start=1):
        # Bound at run time; the stubs of the write-only sheet leave these out.
        sheet.column_dimensions[get_column_letter(position)].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"
    first = tables[0]
    for index, table in enumerate(tables):
        if index:
            sheet.append([])
            if table.title:
                sheet.append([_bold(sheet, table.title)])
        sheet.append([_bold(sheet, str(name)) for name in table.frame.columns])
        formats = [table.formats.get(str(name)) for name in table.frame.columns]
        for row in table.frame.itertuples(index=False, name=None):
            sheet.append(
                [_cell(sheet, value, fmt) for value, fmt in zip(row, formats, strict=True)]
            )
        if table.notes:
            sheet.append([])
            for sentence in table.notes:
                sheet.append([_cell(sheet, sentence, None)])
    last = get_column_letter(max(len(first.frame.columns), 1))
    sheet.auto_filter.ref = f"A1:{last}{len(first.frame) + 1}"  # type: ignore[attr-defined]


def _bold(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    cell = _cell(sheet, text, None)
    cell.font = _BOLD
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: object, number_format: str | None) -> Cell:
    """A cell holding `value` as a plain number or text; missing values leave it empty."""
    plain = plain_value(value)
    cell = WriteOnlyCell(sheet, value=plain)
    if isinstance(plain, str) and plain.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # openpyxl took a leading "=" for a formula
        cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    elif number_format and isinstance(plain, int | float) and not isinstance(plain, bool):
        cell.number_format = number_format
    return cell


def plain_value(value: object) -> str | int | float | bool | None:
    r"""`value` as something a cell holds: a Python number, bool or str, or None when missing.

    Not-a-number and infinities become None; characters Excel cannot store are dropped; other
    objects (ids that are tuples, say) become their text.

    Examples
    --------
    >>> plain_value(np.float64(1.5)), plain_value(np.int64(3)), plain_value(float("nan"))
    (1.5, 3, None)
    >>> plain_value("a\x00b"), plain_value(None)
    ('ab', None)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    text = value if isinstance(value, str) else str(value)
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _column_widths(tables: Sequence[Table], sample: int = 1000) -> list[float]:
    """Width of each column: its widest header or value (of the first rows), within limits."""
    widths: list[float] = []
    for table in tables:
        for position, name in enumerate(table.frame.columns):
            values = table.frame.iloc[:sample, position]
            fmt = table.formats.get(str(name))
            texts = [str(name), *(_shown(value, fmt) for value in values)]
            width = min(max(_MIN_WIDTH, max(map(_display_width, texts)) + 2), _MAX_WIDTH)
            if position < len(widths):
                widths[position] = max(widths[position], width)
            else:
                widths.append(width)
    return widths


def _shown(value: object, number_format: str | None) -> str:
    plain = plain_value(value)
    if plain is None:
        return ""
    if isinstance(plain, float) and number_format in (DECIMAL, PERCENT):
        return f"{plain:,.2f}"
    return str(plain)


def _display_width(text: str) -> float:
    """Characters as Excel column-width units: wide (CJK) characters count twice."""
    return float(sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text))

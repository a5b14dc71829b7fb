"""Write a report as an Excel workbook, the form most people receive it in.

Sheets, titled in the report's language: 汇总 (Summary: coverage of every province, city and
county by each line), 冲突 (Conflicts: one row per conflict piece), 冲突汇总 (Conflict summary),
调整记录 (Resolution audit), 指标 (Targets) and 数据质量 (Data quality, with the data sources
below the findings).

Numbers are written as numbers, shown with two decimals; every area header names its unit. The
Summary's areas are rounded so that its totals add up (:func:`round_preserving_totals`); the
other sheets hold the exact values, which the number format shows rounded. Text from the data
is written as text, never as a formula. The writer only formats what the report holds.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
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

from geozones.coverage import ADMINISTRATIVE_LEVELS
from geozones.report.geopackage import atomic_output, output_path
from geozones.report.labels import header, line_header, unit_label, yes_no
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
    """One table of a sheet: headers as columns, cell values, and number formats by header."""

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    title: str | None = None


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
    target = output_path(path, overwrite)
    sheets = workbook_tables(report)
    book = Workbook(write_only=True)
    book.properties.title = report.title
    book.properties.subject = report.scope_name
    book.properties.description = f"geozones report, {report.generated}"
    for title, tables in sheets.items():
        _write_sheet(book.create_sheet(title), tables)
    with atomic_output(target) as scratch:
        book.save(scratch)
    return target


def workbook_tables(report: Report) -> dict[str, list[Table]]:
    """The tables :func:`write_workbook` writes, by sheet title, in sheet order."""
    language = report.language
    return {
        header("summary", language): [summary_table(report)],
        header("conflicts", language): [conflicts_table(report)],
        header("conflict_summary", language): [conflict_summary_table(report)],
        header("audit", language): [audit_table(report)],
        header("targets", language): [targets_table(report)],
        header("quality", language): [
            quality_table(report),
            sources_table(report),
        ],
    }


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
    return Table(pd.DataFrame(columns).reset_index(drop=True), formats)


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
    """Conflict area per zone and layer pair (:func:`geozones.conflict_summary`)."""
    language, unit = report.language, report.unit
    frame = report.summary
    per_unit = square_metres_per(unit)
    return _table(
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
            ("rule", frame["rule"], None),
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
            ("problem", frame["problem"], None),
            ("action", frame["action"], None),
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
            *[(key, frame[key], None) for key in keys[:2]],
            ("features", frame["features"], INTEGER),
            *[(key, frame[key], None) for key in keys[2:]],
        ],
    )
    return Table(table.frame, table.formats, title=header("sources", language))


def _table(language: str, unit: str, columns: Sequence[tuple[str, pd.Series, str | None]]) -> Table:
    """A table from (key, values, number format) columns, headed in `language`."""
    data = {
        header(key, language, unit): values.reset_index(drop=True) for key, values, _ in columns
    }
    formats = {header(key, language, unit): fmt for key, _, fmt in columns if fmt}
    return Table(pd.DataFrame(data), formats)


def _label(language: str) -> Callable[[object], object]:
    """Translate a key (line, level, target, comparison); leave other values alone."""

    def label(value: object) -> object:
        return header(value, language) if isinstance(value, str) else value

    return label


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
    """Every area column rounded to 2 decimals so that city and province rows add up.

    County values are rounded by :func:`round_preserving_totals` within their province and
    city; a city or province row is the sum of its rounded county rows (rounded normally when
    the table has no county under it).
    """
    county = (pivot["level"] == "county").to_numpy()
    codes = pivot["zone"].astype(str)
    # The levels above a county, outermost (fewest leading digits) first.
    above = sorted(
        ((level, digits) for level, digits in ADMINISTRATIVE_LEVELS.items() if level != "county"),
        key=lambda item: item[1],
    )
    parents = {level: codes.str[:digits].str.ljust(6, "0") for level, digits in above}
    lines = [key for key in pivot.columns if isinstance(key, tuple) and key[0] == "covered_area"]
    result: dict[Hashable, pd.Series] = {}
    for column in ["zone_area", *lines]:
        values = pivot[column].astype(float)
        counties = round_preserving_totals(
            values[county], within=[keys[county] for keys in parents.values()]
        )
        result[column] = _rolled_up(values, counties, pivot["level"], parents)
    return result


def _rolled_up(
    values: pd.Series, counties: pd.Series, levels: pd.Series, parents: dict[str, pd.Series]
) -> pd.Series:
    """County rows as rounded; a city or province row the sum of the rounded counties under it."""
    county = (levels == "county").to_numpy()
    cents = np.round(values.to_numpy(dtype=float) * 100)
    cents[county] = np.round(counties.to_numpy(dtype=float) * 100)
    for level, keys in parents.items():
        sums = pd.Series(cents[county]).groupby(keys[county].to_numpy()).sum()
        rows = (levels == level).to_numpy() & keys.isin(sums.index).to_numpy()
        cents[rows] = sums.reindex(keys[rows]).to_numpy()
    return pd.Series(cents / 100, index=values.index)


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
    rows = sum(len(table.frame) + 1 + (2 if table.title else 0) for table in tables)
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

"""The comparison of two versions of a line, as a workbook, a GeoPackage and an HTML page.

:func:`comparison_report` gathers what the three files show: the
:class:`~geozones.analysis.compare.VersionDiff` of :func:`geozones.compare_versions`, the rules of
the line checked (:func:`geozones.check_adjustment`), the zone names and the title. The writers
only format it, with the building blocks of the batch report (:mod:`geozones.report.excel`,
:mod:`geozones.report.geopackage`, :mod:`geozones.report.html`,
:class:`geozones.report.maps.MapCanvas`):

- the workbook: the balance per zone (before, out, in, after, net, quality), the rules, the
  changes one per row, the pieces taken out and put in, and notes on method;
- the GeoPackage: ``taken_out``, ``put_in``, ``changed_before``, ``changed_after`` (the features
  of each version that changed, with their status and change number) and ``zones``;
- the HTML page: the verdict first, the rules, the balance, a before and an after map of every
  zone with changes (land taken out in red, put in in blue), the changes and the pieces.

Areas of the balance are rounded to two decimals so that the total row is the sum of the zone
rows (:func:`geozones.report.excel.round_preserving_totals`); the lists hold exact values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geozones.analysis.compare import OUTSIDE, TOTAL, VersionDiff, check_adjustment
from geozones.analysis.conflicts import LINES
from geozones.choices import checked_choice, checked_instance
from geozones.report import i18n
from geozones.report.excel import DECIMAL, INTEGER, Table, round_preserving_totals, write_tables
from geozones.report.geopackage import output_path, prepare_layer, write_layers
from geozones.report.html import (
    MAX_ROWS,
    figure_grid_html,
    figure_html,
    heading_html,
    html_page,
    html_table,
    list_html,
    note_html,
    verdict_box,
    write_page,
)
from geozones.report.labels import header, unit_label, with_unit, yes_no
from geozones.units import square_metres_per

if TYPE_CHECKING:
    from geozones.report.model import Report

__all__ = [
    "ComparisonReport",
    "comparison_report",
    "comparison_tables",
    "render_comparison_html",
    "write_comparison",
    "write_comparison_geopackage",
    "write_comparison_html",
    "write_comparison_workbook",
]

#: Zones with changes that get a before and an after map, at most (the most changed first).
MAX_MAPS = 40

# Headers, titles and words: (Chinese, English). Area keys are followed by the unit.
_AREAS = i18n.pairs("compare.area")
_WORDS = i18n.pairs("compare.word")
_TEXT = {language: i18n.words("compare.text", language) for language in i18n.LANGUAGES}
_METHOD = {language: i18n.paragraphs("method.compare", language) for language in i18n.LANGUAGES}


def _word(key: str, language: str) -> str:
    if key in _WORDS:
        zh, en = _WORDS[key]
        return en if language == "en" else zh
    return header(key, language)


def _area_header(key: str, language: str, unit: str) -> str:
    zh, en = _AREAS[key]
    return with_unit(en if language == "en" else zh, language, unit)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonReport:
    """Everything the comparison files show.

    Attributes
    ----------
    diff : VersionDiff
        The comparison (:func:`geozones.compare_versions`).
    title : str
        Title of the files.
    language : {"zh", "en"}
        Language of headers and words.
    line : str or None
        Which line the versions are (``farmland``, ``redline``, ``urban``, or another layer
        key), for words and map colours.
    rules : pandas.DataFrame or None
        :func:`geozones.check_adjustment` of the line; None when no rule was checked.
    names : dict of str to str
        Zone code to zone name.
    sources : tuple of str
        The two versions' files (or other descriptions), before and after.
    generated : str
        The date the report was made (ISO).
    """

    diff: VersionDiff
    title: str
    language: str = "zh"
    line: str | None = None
    rules: pd.DataFrame | None = None
    names: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, str] = ("", "")
    generated: str = field(default_factory=lambda: date.today().isoformat())

    @property
    def verdict(self) -> bool | None:
        """True when every rule is met, False when one is not, None without rules."""
        if self.rules is None:
            return None
        return bool(self.rules["met"].all()) if len(self.rules) else True

    def zone_name(self, code: object) -> str:
        """The name of zone `code` (``合计``/``Total`` for the total row)."""
        if code in (TOTAL, OUTSIDE):
            return _word(str(code), self.language)
        return self.names.get(str(code), "")


def comparison_report(
    diff: VersionDiff,
    *,
    line: str | None = None,
    rules: Mapping[str, Any] | pd.DataFrame | None = None,
    title: str | None = None,
    language: str = "zh",
    name_field: str | None = None,
    sources: tuple[str, str] = ("", ""),
) -> ComparisonReport:
    """Gather a comparison, its rules and names into what the files show.

    Parameters
    ----------
    diff : VersionDiff
        The result of :func:`geozones.compare_versions`.
    line : str, optional
        ``farmland``, ``redline`` or ``urban`` checks that line's rules
        (:func:`geozones.check_adjustment`); another key (or None) checks none.
    rules : mapping or DataFrame, optional
        Keyword options of :func:`geozones.check_adjustment` (``{"cap_percent": 100}``), or
        its result.
    title : str, optional
        Defaults to "<line> before and after" in `language`.
    language : {"zh", "en"}, default "zh"
        Language of headers and words.
    name_field : str, optional
        Field of ``diff.zones`` holding the zone names (``XZQMC``).
    sources : tuple of str
        The files of the two versions, shown in the files.

    Returns
    -------
    ComparisonReport
    """
    checked_instance(diff, VersionDiff, name="diff", needed="a VersionDiff (from compare_versions)")
    checked_choice(language, i18n.LANGUAGES, what="report language")
    language = "en" if language == "en" else "zh"
    table: pd.DataFrame | None
    if isinstance(rules, pd.DataFrame):
        table = rules
    elif line in LINES:
        table = check_adjustment(diff, line, **dict(rules or {}))
    else:
        table = None
    names: dict[str, str] = {}
    if name_field is not None and diff.zones is not None:
        names = dict(zip(diff.zones["zone"], diff.zones[name_field].astype(str), strict=False))
    line_name = header(line, language) if line else _word("changes", language)
    return ComparisonReport(
        diff=diff,
        title=title or _TEXT[language]["title"].format(line=line_name),
        language=language,
        line=line,
        rules=table,
        names=names,
        sources=sources,
    )


# --------------------------------------------------------------------------------------------
# Tables (workbook and page)
# --------------------------------------------------------------------------------------------


def balance_table(report: ComparisonReport) -> Table:
    """The balance per zone, areas rounded so that the total row is the sum of the rows."""
    language, unit = report.language, report.diff.unit
    balance = report.diff.balance
    rows = balance[balance["level"] != TOTAL]
    codes = [*rows.index, TOTAL]
    rounded: dict[str, np.ndarray] = {}
    for column in ("before", "out", "in", "after"):
        if len(rows):
            values = round_preserving_totals(rows[column].astype(float)).to_numpy()
            rounded[column] = np.append(values, np.round(values.sum(), 2))
        else:
            rounded[column] = np.round(balance[column].to_numpy(dtype=float), 2)
    net = np.round(rounded["after"] - rounded["before"], 2)
    within = np.round(rounded["after"] - rounded["before"] + rounded["out"] - rounded["in"], 2)
    data: dict[str, Any] = {
        header("zone", language): [c if c not in (TOTAL, OUTSIDE) else "" for c in codes],
        header("name", language): [report.zone_name(code) for code in codes],
    }
    formats: dict[str, str] = {}
    for key, values in (
        ("before", rounded["before"]),
        ("out", rounded["out"]),
        ("in", rounded["in"]),
        ("within_tolerance", within),
        ("after", rounded["after"]),
        ("net", net),
    ):
        title = _area_header(key, language, unit)
        data[title] = values
        formats[title] = DECIMAL
    if report.diff.grade_field is not None:
        for key in ("grade_before", "grade_after", "grade_out", "grade_in"):
            title = _word(key, language)
            data[title] = balance[key].reindex(codes).to_numpy(dtype=float)
            formats[title] = DECIMAL
        fell = balance["quality_fell"].reindex(codes).to_numpy(dtype=bool)
        data[_word("quality_fell", language)] = [yes_no(bool(flag), language) for flag in fell]
    notes = (_TEXT[language]["balance_note"],)
    return Table(pd.DataFrame(data), formats, notes=notes)


def rules_table(report: ComparisonReport) -> Table:
    """The rules checked, one row per rule and zone."""
    language = report.language
    rules = report.rules if report.rules is not None else pd.DataFrame()
    if rules.empty:
        return Table(pd.DataFrame())

    def shown_unit(value: str) -> str:
        if value == "grade":
            return _word("grade_unit", language)
        return unit_label(value, language)

    data = {
        _word("rule", language): [_word(rule, language) for rule in rules["rule"]],
        header("zone", language): [z if z != TOTAL else "" for z in rules["zone"]],
        header("name", language): [report.zone_name(z) for z in rules["zone"]],
        header("comparison", language): [header(c, language) for c in rules["comparison"]],
        header("required", language): rules["required"].to_numpy(dtype=float),
        header("measured", language): rules["measured"].to_numpy(dtype=float),
        header("unit", language): [shown_unit(u) for u in rules["unit"]],
        header("met", language): [yes_no(bool(m), language) for m in rules["met"]],
        header("margin", language): rules["margin"].to_numpy(dtype=float),
    }
    formats = {header(key, language): DECIMAL for key in ("required", "measured", "margin")}
    return Table(pd.DataFrame(data), formats)


def changes_table(report: ComparisonReport) -> Table:
    """One row per change: status, ids before and after, areas, fields changed, zones."""
    language, unit = report.language, report.diff.unit
    changes = report.diff.changes
    separator = "、" if language == "zh" else ", "

    def ids(values: Sequence[object]) -> str:
        return separator.join(map(str, values))

    data = {
        _word("change", language): changes.index.to_numpy(),
        _word("status", language): [_word(s, language) for s in changes["status"]],
        _word("matched_by", language): [
            _word(m, language) if m else "" for m in changes["matched_by"]
        ],
        _word("before_ids", language): [ids(v) for v in changes["before_ids"]],
        _word("after_ids", language): [ids(v) for v in changes["after_ids"]],
    }
    formats = {_word("change", language): INTEGER}
    for key in ("before_area", "after_area", "out_area", "in_area"):
        title = _area_header(key, language, unit)
        data[title] = changes[key].to_numpy(dtype=float)
        formats[title] = DECIMAL
    data[_word("fields", language)] = [ids(v) for v in changes["fields"]]
    data[_word("zones", language)] = [
        separator.join(f"{report.zone_name(z) or z}" for z in zones) for zones in changes["zones"]
    ]
    return Table(pd.DataFrame(data), formats)


def pieces_table(report: ComparisonReport, side: str) -> Table:
    """The pieces taken out (`side` ``out``) or put in (``in``), without their geometry."""
    language, unit = report.language, report.diff.unit
    pieces = report.diff.taken_out if side == "out" else report.diff.put_in
    data: dict[str, Any] = {
        _word("change", language): pieces["change"].to_numpy(),
        _word("status", language): [_word(s, language) for s in pieces["status"]],
        _word("feature", language): pieces["feature"].astype(str).to_numpy(),
        header("zone", language): [z if z is not None else "" for z in pieces["zone"]],
        header("name", language): [
            report.zone_name(z) if z is not None else report.zone_name(OUTSIDE)
            for z in pieces["zone"]
        ],
        header("area_m2", language): pieces["area_m2"].to_numpy(dtype=float),
        _area_header("area", language, unit): pieces["area"].to_numpy(dtype=float),
    }
    formats = {
        _word("change", language): INTEGER,
        header("area_m2", language): DECIMAL,
        _area_header("area", language, unit): DECIMAL,
    }
    if "grade" in pieces.columns:
        data[_word("grade", language)] = pieces["grade"].to_numpy(dtype=float)
        formats[_word("grade", language)] = DECIMAL
    return Table(pd.DataFrame(data), formats)


def notes_table(report: ComparisonReport) -> Table:
    """How the comparison was made, one sentence per row."""
    sentences = _method(report)
    column = _word("notes", report.language)
    facts = [
        f"{_TEXT[report.language]['before_source']}: {report.sources[0]}",
        f"{_TEXT[report.language]['after_source']}: {report.sources[1]}",
    ]
    return Table(pd.DataFrame({column: [*facts, *sentences]}))


def _method(report: ComparisonReport) -> list[str]:
    diff = report.diff
    fields = {"matching": _matching(report), "tolerance": f"{diff.xy_tolerance:g}"}
    return [item.format(**fields) for item in _METHOD[report.language]]


def _matching(report: ComparisonReport) -> str:
    """How features were matched, in the report's language."""
    diff = report.diff
    if report.language == "en":
        return diff.matching
    if diff.id_field is None:
        return i18n.text("parts.matching_geometry", "zh")
    text = i18n.text("parts.matching_id", "zh", field=diff.id_field)
    if diff.without_id:
        text += i18n.text("parts.matching_without_id", "zh", n=diff.without_id)
    return text


def comparison_tables(report: ComparisonReport) -> dict[str, list[Table]]:
    """The tables of the workbook, by sheet title, in sheet order."""
    language = report.language
    sheets = {_word("balance", language): [balance_table(report)]}
    if report.rules is not None and len(report.rules):
        sheets[_word("rules", language)] = [rules_table(report)]
    sheets[_word("changes", language)] = [changes_table(report)]
    sheets[_word("taken_out", language)] = [pieces_table(report, "out")]
    sheets[_word("put_in", language)] = [pieces_table(report, "in")]
    sheets[_word("notes", language)] = [notes_table(report)]
    return sheets


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def write_comparison_workbook(
    report: ComparisonReport, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the comparison as an ``.xlsx`` workbook (see :func:`comparison_tables`).

    Parameters
    ----------
    report : ComparisonReport
        From :func:`comparison_report`.
    path : str or path-like
        The file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    checked_instance(
        report,
        ComparisonReport,
        name="report",
        needed="the ComparisonReport comparison_report returns",
    )
    return write_tables(
        comparison_tables(report),
        path,
        overwrite=overwrite,
        title=report.title,
        subject=report.title,
        description=f"geozones comparison, {report.generated}",
    )


def comparison_layers(report: ComparisonReport) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The layers of the GeoPackage: name to (prepared frame, description)."""
    diff, language = report.diff, report.language
    per_unit = square_metres_per(diff.unit)
    crs = diff.before.crs

    def with_names(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame = frame.copy()
        position = list(frame.columns).index("zone") + 1
        names = [report.zone_name(z) if z is not None else None for z in frame["zone"]]
        frame.insert(position, "zone_name", names)
        return frame

    def changed(
        version: gpd.GeoDataFrame, status: pd.DataFrame, area_m2: np.ndarray
    ) -> gpd.GeoDataFrame:
        keep = (status["status"] != "unchanged").to_numpy()
        geoms = np.asarray(version.geometry.array, dtype=object)[keep]
        frame = gpd.GeoDataFrame(
            {
                "feature": status["feature"].to_numpy(dtype=object)[keep],
                "change": status["change"].to_numpy()[keep],
                "status": status["status"].to_numpy(dtype=object)[keep],
                "area_m2": area_m2[keep],
            },
            geometry=list(geoms),
            crs=crs,
        )
        attributes = version.drop(columns=version.geometry.name).iloc[np.flatnonzero(keep)]
        for column in attributes.columns:
            if column not in frame.columns:
                frame[column] = attributes[column].to_numpy()
        return frame

    def pieces(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        result = with_names(frame)
        if diff.unit == "m2":
            return result.drop(columns=["area"])
        return result.rename(columns={"area": f"area_{diff.unit}"})

    before_area = diff.before_status["area_m2"].to_numpy(dtype=float)
    after_area = diff.after_status["area_m2"].to_numpy(dtype=float)
    sources: list[tuple[str, gpd.GeoDataFrame]] = [
        ("taken_out", pieces(diff.taken_out)),
        ("put_in", pieces(diff.put_in)),
        ("changed_before", changed(diff.before, diff.before_status, before_area)),
        ("changed_after", changed(diff.after, diff.after_status, after_area)),
    ]
    if diff.zones is not None:
        zones = gpd.GeoDataFrame(
            {
                "zone": diff.zones["zone"],
                "zone_name": [report.zone_name(z) for z in diff.zones["zone"]],
            },
            geometry=diff.zones.geometry,
            crs=crs,
        )
        sources.append(("zones", zones))
    layers: dict[str, tuple[gpd.GeoDataFrame, str]] = {}
    for name, frame in sources:
        if "area_m2" in frame.columns and f"area_{diff.unit}" not in frame.columns:
            position = list(frame.columns).index("area_m2") + 1
            frame.insert(position, f"area_{diff.unit}", frame["area_m2"] / per_unit)
        prepared, renamed = prepare_layer(frame)
        text = f"{_word(name, language)} — {report.title}"
        if renamed:
            pairs = ", ".join(f"{new} = {old}" for new, old in renamed.items())
            text += i18n.text("parts.renamed_fields", language, pairs=pairs)
        layers[name] = (prepared, text)
    return layers


def write_comparison_geopackage(
    report: ComparisonReport, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the pieces out and in, the changed features of each version and the zones.

    Parameters
    ----------
    report : ComparisonReport
        From :func:`comparison_report`.
    path : str or path-like
        The ``.gpkg`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    checked_instance(
        report,
        ComparisonReport,
        name="report",
        needed="the ComparisonReport comparison_report returns",
    )
    return write_layers(comparison_layers(report), path, overwrite=overwrite)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _area_text(value: float) -> str:
    return f"{value:,.2f}"


def _verdict(report: ComparisonReport) -> str:
    words = _TEXT[report.language]
    language = report.language
    line = header(report.line, language) if report.line else ""
    lines: list[str] = []
    rules = report.rules
    if rules is not None and len(rules):
        met = rules["met"].to_numpy(dtype=bool)
        if met.all():
            lines.append(words["rules_pass"].format(line=line, n=len(rules)))
        else:
            failed = [
                (str(rule), str(zone))
                for rule, zone, ok in zip(rules["rule"], rules["zone"], met, strict=True)
                if not ok
            ]
            if language == "zh":
                what = "；".join(
                    f"{_word(r, language)}（{report.zone_name(z) or z}）" for r, z in failed
                )
            else:
                what = "; ".join(
                    f"{_word(r, language)} ({report.zone_name(z) or z})" for r, z in failed
                )
            lines.append(words["rules_fail"].format(failed=len(failed), n=len(rules), what=what))
    else:
        lines.append(words["no_rules"])
    balance = report.diff.balance.drop(columns="level").astype(float)
    total = {str(k): float(v) for k, v in zip(balance.columns, balance.loc[TOTAL], strict=True)}
    lines.append(
        words["totals"].format(
            out=f"{total['out']:,.2f}",
            inn=f"{total['in']:,.2f}",
            net=f"{total['net']:,.2f}",
            before=f"{total['before']:,.2f}",
            after=f"{total['after']:,.2f}",
            unit=unit_label(report.diff.unit, language),
        )
    )
    if report.diff.grade_field is not None and not np.isnan(total["grade_out"]):
        grade_in = total["grade_in"]
        lines.append(
            words["quality"].format(
                out=f"{total['grade_out']:.2f}",
                inn=f"{grade_in:.2f}" if not np.isnan(grade_in) else "—",
                verdict=words["quality_fell" if total["quality_fell"] else "quality_kept"],
            )
        )
    statuses = [str(status) for status in report.diff.changes["status"]]
    if statuses:
        separator = "，" if language == "zh" else ", "
        parts = separator.join(
            f"{_word(status, language)} {statuses.count(status)}"
            for status in dict.fromkeys(statuses)
        )
        lines.append(words["counts"].format(n=len(statuses), parts=parts))
    return verdict_box(lines, passed=report.verdict, language=language)


@dataclass(frozen=True)
class _Style:
    facecolor: str
    edgecolor: str
    lw: float


_OUT = _Style("#d62728", "#5a0000", 0.6)
_IN = _Style("#1f6fd1", "#0a2a5a", 0.6)
_FEATURES = {
    "farmland": _Style("#f3dc8a", "#b08a00", 0.2),
    "redline": _Style("#a9d8b5", "#17632d", 0.3),
    "urban": _Style("#f4c2c2", "#d62020", 0.6),
}
_OTHER = _Style("#dddddd", "#777777", 0.3)
_ZONE_EDGE = "#555555"


def _maps(report: ComparisonReport) -> list[str]:
    """A before and an after map of every zone with land taken out or put in, as HTML."""
    words = _TEXT[report.language]
    try:
        from geozones.report.maps import font_note_for
    except ImportError:
        return [note_html(words["no_maps"])]
    diff = report.diff
    pieces = pd.concat(
        [
            pd.DataFrame({"zone": diff.taken_out["zone"], "area": diff.taken_out["area_m2"]}),
            pd.DataFrame({"zone": diff.put_in["zone"], "area": diff.put_in["area_m2"]}),
        ]
    )
    if pieces.empty:
        return [note_html(words["maps_none"])]
    pieces["zone"] = pieces["zone"].fillna(OUTSIDE)
    changed = pieces.groupby("zone")["area"].sum().sort_values(ascending=False)
    if diff.zones is None:
        zones = [OUTSIDE]
    else:  # the most changed, shown in code order like the tables
        zones = sorted(map(str, changed.index[:MAX_MAPS]), key=lambda z: (z == OUTSIDE, z))
    drawing = _Drawing(report)
    html: list[str] = []
    for zone in zones:
        pngs = [drawing.figure(zone, side) for side in ("before", "after")]
        html.append(figure_grid_html(pngs))
    note = font_note_for(report.language, [report.zone_name(z) for z in zones])
    html.append(note_html(words["map_caption"] + (f" {note}" if note else "")))
    if diff.zones is not None and len(changed) > len(zones):
        html.append(note_html(words["maps_more"].format(n=len(changed) - len(zones))))
    return html


class _Drawing:
    """The maps of one report: the features near each zone's changes, before and after."""

    def __init__(self, report: ComparisonReport) -> None:
        diff = report.diff
        self.report = report
        self.words = _TEXT[report.language]
        self.geoms = {
            "before": np.asarray(diff.before.geometry.array, dtype=object),
            "after": np.asarray(diff.after.geometry.array, dtype=object),
        }
        self.trees = {side: shapely.STRtree(geoms) for side, geoms in self.geoms.items()}
        self.pieces_all = {
            "before": np.asarray(diff.taken_out.geometry.array, dtype=object),
            "after": np.asarray(diff.put_in.geometry.array, dtype=object),
        }
        self.zone_geoms = (
            np.asarray(diff.zones.geometry.array, dtype=object)
            if diff.zones is not None
            else np.zeros(0, dtype=object)
        )
        language = report.language
        self.line = header(report.line, language) if report.line else _word("changes", language)
        self.style = _FEATURES.get(report.line or "", _OTHER)

    def pieces(self, zone: str, side: str) -> np.ndarray:
        frame = self.report.diff.taken_out if side == "before" else self.report.diff.put_in
        if self.report.diff.zones is None:
            return np.asarray(frame.geometry.array, dtype=object)
        return _geoms_where(frame, None if zone == OUTSIDE else zone)

    def scope(self, zone: str) -> str:
        report = self.report
        if report.diff.zones is None:
            return report.title
        name = report.zone_name(zone)
        if zone == OUTSIDE or not name:
            return name or zone
        return f"{name}（{zone}）" if report.language == "zh" else f"{name} ({zone})"

    def figure(self, zone: str, side: str) -> str:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        from geozones.report.maps import MapCanvas

        report, words = self.report, self.words
        every = np.concatenate([self.pieces(zone, "before"), self.pieces(zone, "after")])
        x0, y0, x1, y1 = shapely.total_bounds(every)
        crs = report.diff.before.crs
        smallest = 150.0 if crs is None or crs.is_projected else 0.0015
        pad = max(max(x1 - x0, y1 - y0) * 0.25, smallest)
        box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        pieces = self.pieces(zone, side)
        every_side = self.pieces_all[side]
        drawn = every_side[shapely.intersects(every_side, shapely.box(*box))]
        mark = _OUT if side == "before" else _IN
        canvas = MapCanvas.new(report.language, size=(6.0, 5.6))
        shown = self.geoms[side][self.trees[side].query(shapely.box(*box))]
        canvas.draw(
            shown,
            zorder=2,
            facecolor=self.style.facecolor,
            edgecolor=self.style.edgecolor,
            lw=self.style.lw,
        )
        if len(self.zone_geoms):
            canvas.draw(self.zone_geoms, zorder=4, edgecolor=_ZONE_EDGE, lw=0.9)
        canvas.draw(drawn, zorder=6, facecolor=mark.facecolor, edgecolor=mark.edgecolor, lw=mark.lw)
        # Pieces too small or too thin to see at the map's scale are ringed.
        width = max(box[2] - box[0], box[3] - box[1])
        small = drawn[np.sqrt(shapely.area(drawn)) < 0.02 * width] if len(drawn) else drawn
        canvas.mark(small, marker="o", ms=10, mfc="none", mec=mark.facecolor, mew=1.8)

        def label(text: str, english: str) -> str:
            return text if canvas.draws(text) else english

        piece_label = self.words["legend_out" if side == "before" else "legend_in"]
        english_piece = _TEXT["en"]["legend_out" if side == "before" else "legend_in"]
        handles: list[Any] = [
            Patch(
                facecolor=self.style.facecolor,
                edgecolor=self.style.edgecolor,
                label=label(self.line, report.line or "features"),
            ),
            Patch(
                facecolor=mark.facecolor,
                edgecolor=mark.edgecolor,
                label=label(piece_label, english_piece),
            ),
        ]
        if len(self.zone_geoms):
            handles.append(
                Line2D(
                    [],
                    [],
                    color=_ZONE_EDGE,
                    lw=0.9,
                    label=label(words["legend_zones"], _TEXT["en"]["legend_zones"]),
                )
            )
        key = "map_before" if side == "before" else "map_after"
        title = words[key].format(scope=self.scope(zone))
        if not canvas.draws(title):
            title = _TEXT["en"][key].format(scope=zone if report.diff.zones is not None else "")
        png = canvas.finish(box=box, crs=crs, title=title, handles=handles, ncols=3)
        alt = words[f"{key}_alt"].format(scope=self.scope(zone), line=self.line, n=len(pieces))
        return figure_html(png, alt, "")


def _geoms_where(frame: gpd.GeoDataFrame, zone: object) -> np.ndarray:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    codes = frame["zone"].to_numpy(dtype=object)
    mask = np.array([code is None for code in codes]) if zone is None else codes == zone
    return geoms[mask]


def _sections_body(report: ComparisonReport) -> list[str]:
    """Rules, balance, maps and changes of a comparison, as HTML, for a batch report."""
    body = []
    for _, title, parts in _sections(report)[:4]:
        body.append(heading_html(title))
        body.extend(parts)
    return body


def _sections(report: ComparisonReport) -> list[tuple[str, str, list[str]]]:
    """The sections of the comparison page after the verdict."""
    language = report.language
    words = _TEXT[language]
    diff = report.diff
    unit = unit_label(diff.unit, language)
    sections: list[tuple[str, str, list[str]]] = []
    if report.rules is not None and len(report.rules):
        met = header("met", language)
        yes = header("yes", language)

        def cell_class(column: str, value: object) -> str:
            return ("ok" if value == yes else "bad") if column == met else ""

        rules = html_table(
            rules_table(report), words["rules_caption"], language=language, cell_class=cell_class
        )
        sections.append(("rules", _word("rules", language), [rules]))
    balance = balance_table(report)
    last = len(balance.frame) - 1

    def balance_rows(position: int) -> str:
        return "total zone" if position == last else "zone"

    caption = words["balance_caption"].format(unit=unit)
    table = html_table(balance, caption, language=language, row_class=balance_rows)
    sections.append(("balance", _word("balance", language), [table]))
    sections.append(("maps", _word("maps", language), _maps(report)))
    if len(diff.changes):
        changes = changes_table(report)
        caption = words["changes_caption"]
        body = [html_table(changes, caption, language=language, max_rows=MAX_ROWS)]
    else:
        body = [note_html(words["changes_none"])]
    sections.append(("changes", _word("changes", language), body))
    for side, anchor, caption in (
        ("out", "taken-out", "out_caption"),
        ("in", "put-in", "in_caption"),
    ):
        pieces = diff.taken_out if side == "out" else diff.put_in
        title = _word("taken_out" if side == "out" else "put_in", language)
        if len(pieces):
            listed = pieces_table(report, side)
            body = [html_table(listed, words[caption], language=language, max_rows=MAX_ROWS)]
        else:
            body = [note_html(words["pieces_none"])]
        sections.append((anchor, title, body))
    return sections


def render_comparison_html(report: ComparisonReport) -> str:
    """The comparison as one self-contained HTML page, the verdict first.

    Sections: the rules checked, the balance per zone, a before and an after map of every zone
    with land taken out or put in, the changes, the pieces taken out and put in, the method.

    Parameters
    ----------
    report : ComparisonReport
        From :func:`comparison_report`.

    Returns
    -------
    str
        The HTML document; it loads nothing from elsewhere.
    """
    checked_instance(
        report,
        ComparisonReport,
        name="report",
        needed="the ComparisonReport comparison_report returns",
    )
    language = report.language
    words = _TEXT[language]
    diff = report.diff
    sections = _sections(report)
    method = list_html(_method(report), css="method")
    sections.append(("method", _word("method", language), [method]))
    meta = [
        (words["before_source"], report.sources[0] or "—"),
        (words["after_source"], report.sources[1] or "—"),
        (header("unit", language), unit_label(diff.unit, language)),
        (words["tolerance"], f"{diff.xy_tolerance:g}"),
        (i18n.text("parts.generated", language), report.generated),
    ]
    return html_page(
        title=report.title,
        language=language,
        meta=meta,
        verdict=_verdict(report),
        sections=sections,
    )


def write_comparison_html(
    report: ComparisonReport, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write :func:`render_comparison_html` to `path` (UTF-8), atomically.

    Parameters
    ----------
    report : ComparisonReport
        From :func:`comparison_report`.
    path : str or path-like
        The ``.html`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    checked_instance(
        report,
        ComparisonReport,
        name="report",
        needed="the ComparisonReport comparison_report returns",
    )
    target = output_path(path, overwrite)
    return write_page(render_comparison_html(report), target, overwrite=True)


def write_comparison(
    report: ComparisonReport,
    folder: str | os.PathLike[str],
    *,
    stem: str = "compare",
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write the workbook, the GeoPackage and the page into `folder`, named `stem`.

    Parameters
    ----------
    report : ComparisonReport
        From :func:`comparison_report`.
    folder : str or path-like
        Created if missing.
    stem : str, default "compare"
        File name without suffix (made safe with
        :func:`geozones.report.files.safe_filename`).
    overwrite : bool, default False
        Replace files that exist; otherwise nothing is written when one exists.

    Returns
    -------
    dict of str to pathlib.Path
        Suffix (``.xlsx``, ``.gpkg``, ``.html``) to the file written.
    """
    checked_instance(
        report,
        ComparisonReport,
        name="report",
        needed="the ComparisonReport comparison_report returns",
    )
    paths = comparison_paths(folder, stem)
    for path in paths.values():
        output_path(path, overwrite)
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_comparison_workbook(report, paths[".xlsx"], overwrite=overwrite)
    write_comparison_geopackage(report, paths[".gpkg"], overwrite=overwrite)
    write_comparison_html(report, paths[".html"], overwrite=overwrite)
    return paths


def comparison_paths(folder: str | os.PathLike[str], stem: str = "compare") -> dict[str, Path]:
    """Where :func:`write_comparison` writes each file."""
    from geozones.report.files import safe_filename

    name = safe_filename(stem, fallback="compare")
    return {suffix: Path(folder) / f"{name}{suffix}" for suffix in (".xlsx", ".gpkg", ".html")}


# --------------------------------------------------------------------------------------------
# The comparisons of the batch report (``before`` in the configuration)
# --------------------------------------------------------------------------------------------


def from_report(report: Report, key: str) -> ComparisonReport:
    """The comparison of layer `key` of a batch report, as a :class:`ComparisonReport`.

    Parameters
    ----------
    report : Report
        A batch report (:func:`geozones.report.build_report`) or one county's part of it.
    key : str
        A layer key of ``report.comparisons``.

    Returns
    -------
    ComparisonReport
    """
    comparison = report.comparisons[key]
    language = "en" if report.language == "en" else "zh"
    line = key if key in LINES else None
    title = _TEXT[language]["title"].format(line=header(key, language))
    if report.scope != "all":
        title = f"{title} · {report.scope_name}"
    return ComparisonReport(
        diff=comparison.diff,
        title=title,
        language=language,
        line=line,
        rules=comparison.rules,
        names=dict(zip(report.zones["zone"], report.zones["name"], strict=False)),
        sources=comparison.sources,
        generated=report.generated,
    )


def _sheet_title(key: str, language: str) -> str:
    return i18n.text("parts.compare_sheet", language, key=key, line=header(key, language))[:31]


def report_sheets(report: Report) -> dict[str, list[Table]]:
    """The workbook sheets of a batch report's comparisons: one per layer compared."""
    sheets: dict[str, list[Table]] = {}
    for key in report.comparisons:
        part = from_report(report, key)
        words = _TEXT[part.language]
        unit = unit_label(part.diff.unit, part.language)
        tables = [replace(balance_table(part), title=words["balance_caption"].format(unit=unit))]
        if part.rules is not None and len(part.rules):
            tables.append(replace(rules_table(part), title=words["rules_caption"]))
        if len(part.diff.changes):
            tables.append(replace(changes_table(part), title=words["changes_caption"]))
        sheets[_sheet_title(key, part.language)] = tables
    return sheets


def report_sections(report: Report) -> list[tuple[str, str, list[str]]]:
    """The HTML sections of a batch report's comparisons: verdict, rules, balance, maps."""
    sections: list[tuple[str, str, list[str]]] = []
    for key in report.comparisons:
        part = from_report(report, key)
        body = [_verdict(part), *_sections_body(part)]
        sections.append((f"compare-{_anchor(key)}", part.title, body))
    return sections


def _anchor(key: str) -> str:
    from geozones.report.geopackage import safe_name

    return safe_name(key) or "layer"


def report_layers(report: Report) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The GeoPackage layers of the comparisons: ``compare_<key>_taken_out`` and ``…_put_in``."""
    layers: dict[str, tuple[gpd.GeoDataFrame, str]] = {}
    for key in report.comparisons:
        part = from_report(report, key)
        for name, (frame, description) in comparison_layers(part).items():
            if name in ("taken_out", "put_in"):
                layers[f"compare_{_anchor(key)}_{name}"] = (frame, description)
    return layers

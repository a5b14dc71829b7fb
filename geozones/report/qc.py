"""The 质检 findings as a workbook, a GeoPackage and an HTML page.

The writers only format :class:`geozones.qc.Findings`, with the building blocks of the batch
report (:mod:`geozones.report.excel`, :mod:`geozones.report.geopackage`,
:mod:`geozones.report.html`, :class:`geozones.report.maps.MapCanvas`):

- ``qc.xlsx``: the summary sheet (the verdict, then one row per rule: items checked, findings,
  excepted), then one sheet per rule family listing its findings, headers in Chinese by
  default;
- ``qc.gpkg``: one layer of located findings per family (``qc_schema`` … ``qc_lines``, every
  one written, empty where nothing was found) and ``zones``; each finding carries its rule,
  severity, feature, message in both languages, measured and expected values;
- ``qc.html``: self-contained, the verdict first, the counts per rule, a map of the located
  findings of each administrative unit, and the findings of each family.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geozones.choices import checked_choice, checked_instance
from geozones.qc.catalogue import FAMILIES
from geozones.qc.findings import Findings
from geozones.qc.rules import AREA_METHOD_NAMES
from geozones.report import i18n
from geozones.report.excel import INTEGER, Table, write_tables
from geozones.report.geopackage import output_path, prepare_layer, write_layers
from geozones.report.html import (
    MAX_ROWS,
    figure_html,
    html_page,
    html_table,
    note_html,
    verdict_box,
    write_page,
)

#: Administrative units that get a map of their findings, at most (the most findings first).
MAX_MAPS = 40

_WORDS = i18n.pairs("qc.word")
_TEXT = {language: i18n.words("qc.text", language) for language in i18n.LANGUAGES}
_COLOURS = {"error": ("#d62728", "#7f1416"), "warning": ("#ff9f1c", "#a35f00")}


def _word(key: str, language: str) -> str:
    zh, en = _WORDS[key]
    return en if language == "en" else zh


def _area_method(findings: Findings, language: str) -> str:
    """The method declared areas were checked with, and its name: ``survey (32号 survey area)``."""
    names = AREA_METHOD_NAMES.get(findings.area_method)
    if names is None:
        return findings.area_method
    return f"{findings.area_method} ({names[1] if language == 'en' else names[0]})"


def _family_title(key: str, language: str) -> str:
    zh, en = FAMILIES[key]
    return en if language == "en" else zh


def _names(findings: Findings) -> dict[str, str]:
    zones = findings.zones
    if zones is None or "name" not in zones.columns:
        return {}
    return {
        str(z): "" if pd.isna(n) else str(n)
        for z, n in zip(zones["zone"], zones["name"], strict=True)
    }


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def facts_table(findings: Findings, language: str = "zh") -> Table:
    """The delivery, the rule set, the verdict, the counts and the method, as item/value rows."""
    verdict = _word("pass" if findings.passed else "fail", language)
    rows = [
        ("source", findings.source),
        ("rules_file", findings.rules_source),
        ("verdict", verdict),
        ("errors", str(findings.count("error"))),
        ("warnings", str(findings.count("warning"))),
        ("area_method", _area_method(findings, language)),
        ("tolerance", f"{findings.xy_tolerance:g}"),
        ("generated", findings.generated),
    ]
    return Table(
        pd.DataFrame(
            {
                _word("item", language): [_word(key, language) for key, _ in rows],
                _word("value", language): [value for _, value in rows],
            }
        )
    )


def rules_table(findings: Findings, language: str = "zh") -> Table:
    """One row per rule applied: family, severity, what it checks, checked, findings, excepted."""
    summary = findings.summary
    title = "title_en" if language == "en" else "title_zh"
    data = {
        _word("rule", language): summary["rule"].to_numpy(dtype=object),
        _word("family", language): [_family_title(f, language) for f in summary["family"]],
        _word("severity", language): [_word(s, language) for s in summary["severity"]],
        _word("title", language): summary[title].to_numpy(dtype=object),
        _word("checked", language): summary["checked"].to_numpy(dtype=np.int64),
        _word("failed", language): summary["failed"].to_numpy(dtype=np.int64),
        _word("excepted", language): summary["excepted"].to_numpy(dtype=np.int64),
    }
    formats = {_word(key, language): INTEGER for key in ("checked", "failed", "excepted")}
    return Table(pd.DataFrame(data), formats, title=_word("rules", language))


def findings_table(findings: Findings, family: str, language: str = "zh") -> Table:
    """The findings of one family, one row each, in the language's headers."""
    rows = findings.family(family)
    names = _names(findings)
    message = "message_en" if language == "en" else "message_zh"
    data = {
        _word("rule", language): rows["rule"].to_numpy(dtype=object),
        _word("severity", language): [_word(s, language) for s in rows["severity"]],
        _word("layer", language): rows["layer"].to_numpy(dtype=object),
        _word("feature", language): rows["feature"].to_numpy(dtype=object),
        _word("fid", language): rows["fid"].astype(object).where(rows["fid"].notna(), None),
        _word("field", language): rows["field"].to_numpy(dtype=object),
        _word("message", language): rows[message].to_numpy(dtype=object),
        _word("measured", language): rows["measured"].to_numpy(dtype=object),
        _word("expected", language): rows["expected"].to_numpy(dtype=object),
        _word("zone", language): rows["zone"].to_numpy(dtype=object),
        _word("zone_name", language): [names.get(str(z), "") if z else "" for z in rows["zone"]],
    }
    notes = () if len(rows) else (_word("none", language),)
    frame = pd.DataFrame({key: list(values) for key, values in data.items()})
    return Table(frame, {_word("fid", language): INTEGER}, notes=notes)


def qc_tables(findings: Findings, language: str = "zh") -> dict[str, list[Table]]:
    """The workbook's sheets: the summary, then one per family, in order."""
    sheets = {
        _word("summary", language): [
            facts_table(findings, language),
            rules_table(findings, language),
        ]
    }
    for family in FAMILIES:
        sheets[_family_title(family, language)] = [findings_table(findings, family, language)]
    return sheets


def write_qc_workbook(
    findings: Findings,
    path: str | os.PathLike[str],
    *,
    language: str = "zh",
    overwrite: bool = False,
) -> Path:
    """Write ``qc.xlsx`` (see :func:`qc_tables`).

    Parameters
    ----------
    findings : Findings
        From :func:`geozones.inspect`.
    path : str or path-like
        The ``.xlsx`` file.
    language : {"zh", "en"}, default "zh"
        Of the headers and words.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
    """
    checked_instance(
        findings, Findings, name="findings", needed="the Findings geozones.inspect returns"
    )
    checked_choice(language, i18n.LANGUAGES, what="report language")
    return write_tables(
        qc_tables(findings, language),
        path,
        overwrite=overwrite,
        title=findings.title,
        subject=findings.source,
        description=f"geozones qc, {findings.generated}",
    )


# --------------------------------------------------------------------------------------------
# GeoPackage
# --------------------------------------------------------------------------------------------


def qc_layers(findings: Findings, language: str = "zh") -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The GeoPackage's layers: ``qc_<family>`` of located findings, and ``zones``."""
    table = findings.table
    geoms = table.geometry.to_numpy()
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    names = _names(findings)
    message = "message_en" if language == "en" else "message_zh"
    layers: dict[str, tuple[gpd.GeoDataFrame, str]] = {}
    for family in FAMILIES:
        rows = table[located & (table["family"] == family).to_numpy()]
        frame = gpd.GeoDataFrame(
            {
                "rule": rows["rule"].to_numpy(dtype=object),
                "severity": rows["severity"].to_numpy(dtype=object),
                "layer": rows["layer"].to_numpy(dtype=object),
                "feature": rows["feature"].to_numpy(dtype=object),
                "fid": rows["fid"].to_numpy(dtype=object),
                "field": rows["field"].to_numpy(dtype=object),
                "message": rows[message].to_numpy(dtype=object),
                "message_zh": rows["message_zh"].to_numpy(dtype=object),
                "message_en": rows["message_en"].to_numpy(dtype=object),
                "measured": rows["measured"].to_numpy(dtype=object),
                "expected": rows["expected"].to_numpy(dtype=object),
                "zone": rows["zone"].to_numpy(dtype=object),
                "zone_name": [names.get(str(z), "") if z else "" for z in rows["zone"]],
            },
            geometry=list(rows.geometry.to_numpy()),
            crs=findings.crs,
        )
        prepared, _ = prepare_layer(frame)
        description = f"{_family_title(family, language)} — {findings.title}（{findings.source}）"
        layers[f"qc_{family}"] = (prepared, description)
    if findings.zones is not None:
        zones = gpd.GeoDataFrame(
            {
                "zone": findings.zones["zone"].to_numpy(dtype=object),
                "name": findings.zones["name"].to_numpy(dtype=object),
            },
            geometry=findings.zones.geometry.to_numpy(),
            crs=findings.zones.crs,
        )
        prepared, _ = prepare_layer(zones)
        layers["zones"] = (prepared, _word("zones", language))
    return layers


def write_qc_geopackage(
    findings: Findings,
    path: str | os.PathLike[str],
    *,
    language: str = "zh",
    overwrite: bool = False,
) -> Path:
    """Write ``qc.gpkg`` (see :func:`qc_layers`).

    Parameters
    ----------
    findings : Findings
        From :func:`geozones.inspect`.
    path : str or path-like
        The ``.gpkg`` file.
    language : {"zh", "en"}, default "zh"
        Of the ``message`` column and the layer descriptions.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
    """
    checked_instance(
        findings, Findings, name="findings", needed="the Findings geozones.inspect returns"
    )
    checked_choice(language, i18n.LANGUAGES, what="report language")
    return write_layers(qc_layers(findings, language), path, overwrite=overwrite)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _verdict(findings: Findings, language: str) -> str:
    words = _TEXT[language]
    key = "verdict_pass" if findings.passed else "verdict_fail"
    lines = [words[key].format(errors=findings.count("error"), warnings=findings.count("warning"))]
    failed = findings.summary[findings.summary["failed"] > 0].sort_values("failed", ascending=False)
    if len(failed):
        separator = "，" if language == "zh" else ", "
        lines.append(
            words["worst"].format(
                rules=separator.join(
                    f"{r} ({n})"
                    for r, n in zip(failed["rule"][:5], failed["failed"][:5], strict=True)
                )
            )
        )
    return verdict_box(lines, passed=findings.passed, language=language)


def _map(findings: Findings, zone: str | None, language: str) -> str:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from geozones.report.maps import MapCanvas

    words = _TEXT[language]
    table = findings.table
    geoms = table.geometry.to_numpy()
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    chosen = located & ((table["zone"] == zone).to_numpy() if zone is not None else True)
    zone_geoms = (
        findings.zones.geometry.to_numpy()
        if findings.zones is not None
        else np.zeros(0, dtype=object)
    )
    if zone is not None and findings.zones is not None:
        extent = findings.zones.geometry.to_numpy()[(findings.zones["zone"] == zone).to_numpy()]
    else:
        extent = np.concatenate([geoms[chosen], zone_geoms])
    x0, y0, x1, y1 = shapely.total_bounds(extent)
    pad = max(x1 - x0, y1 - y0) * 0.05 or 100.0
    box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    canvas = MapCanvas.new(language, size=(6.0, 5.6))
    if len(zone_geoms):
        canvas.draw(zone_geoms, zorder=2, facecolor="#f4f4f0", edgecolor="#555555", lw=0.8)
    handles: list[Any] = []
    for severity in ("warning", "error"):
        these = geoms[chosen & (table["severity"] == severity).to_numpy()]
        face, edge = _COLOURS[severity]
        canvas.draw(
            these, zorder=5 if severity == "error" else 4, facecolor=face, edgecolor=edge, lw=0.8
        )
        width = max(box[2] - box[0], box[3] - box[1])
        small = these[np.sqrt(shapely.area(these)) < 0.02 * width] if len(these) else these
        canvas.mark(small, marker="o", ms=9, mfc="none", mec=face, mew=1.6)
        label = words[f"legend_{severity}"]
        if not canvas.draws(label):
            label = _TEXT["en"][f"legend_{severity}"]
        handles.append(Patch(facecolor=face, edgecolor=edge, label=label))
    if len(zone_geoms):
        label = _word("zones", language)
        handles.append(
            Line2D([], [], color="#555555", lw=0.8, label=label if canvas.draws(label) else "zones")
        )
    names = _names(findings)
    scope = findings.title if zone is None else f"{names.get(zone, '')} {zone}".strip()
    title = words["map_title"].format(scope=scope)
    if not canvas.draws(title):
        title = _TEXT["en"]["map_title"].format(scope=zone or "the delivery")
    png = canvas.finish(box=box, crs=findings.crs, title=title, handles=handles, ncols=3)
    return figure_html(png, words["map_alt"].format(scope=scope, n=int(chosen.sum())), "")


def _maps(findings: Findings, language: str) -> list[str]:
    table = findings.table
    geoms = table.geometry.to_numpy()
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    words = _TEXT[language]
    body: list[str] = []
    if not located.any():
        return [note_html(_word("none", language))]
    zones = table.loc[located, "zone"]
    counts = zones[zones.notna()].value_counts()
    if findings.zones is None or counts.empty:
        body.append(_map(findings, None, language))
    else:
        body.append(_map(findings, None, language))
        for zone in list(counts.index[:MAX_MAPS]):
            body.append(_map(findings, str(zone), language))
        if len(counts) > MAX_MAPS:
            body.append(note_html(words["maps_left_out"].format(n=MAX_MAPS)))
    unlocated = int((~located).sum())
    if unlocated:
        body.append(note_html(words["unlocated"].format(n=unlocated)))
    return body


def render_qc_html(findings: Findings, language: str = "zh") -> str:
    """The findings as one self-contained HTML page, the verdict first.

    Parameters
    ----------
    findings : Findings
        From :func:`geozones.inspect`.
    language : {"zh", "en"}, default "zh"
        Of the page.

    Returns
    -------
    str
        The HTML document; every value escaped, nothing loaded from elsewhere.
    """
    checked_instance(
        findings, Findings, name="findings", needed="the Findings geozones.inspect returns"
    )
    checked_choice(language, i18n.LANGUAGES, what="report language")
    language = "en" if language == "en" else "zh"

    def failed_cells(column: str, value: object) -> str:
        if column == _word("failed", language) and isinstance(value, int | np.integer):
            return "bad" if value > 0 else "ok"
        return ""

    sections: list[tuple[str, str, list[str]]] = [
        (
            "rules",
            _word("rules", language),
            [
                html_table(
                    rules_table(findings, language),
                    _word("rules", language),
                    language=language,
                    cell_class=failed_cells,
                )
            ],
        ),
        ("maps", _word("maps", language), _maps(findings, language)),
    ]
    for family in FAMILIES:
        title = _family_title(family, language)
        table = findings_table(findings, family, language)
        body = (
            [html_table(table, title, language=language, max_rows=MAX_ROWS)]
            if len(table.frame)
            else [note_html(_word("none", language))]
        )
        sections.append((f"family-{family}", title, body))
    meta = [
        (_word("source", language), findings.source),
        (_word("rules_file", language), findings.rules_source),
        (_word("area_method", language), _area_method(findings, language)),
        (_word("tolerance", language), f"{findings.xy_tolerance:g}"),
        (_word("generated", language), findings.generated),
    ]
    return html_page(
        title=findings.title,
        language=language,
        meta=meta,
        verdict=_verdict(findings, language),
        sections=sections,
    )


def write_qc_html(
    findings: Findings,
    path: str | os.PathLike[str],
    *,
    language: str = "zh",
    overwrite: bool = False,
) -> Path:
    """Write :func:`render_qc_html` to `path` (UTF-8), atomically.

    Parameters
    ----------
    findings : Findings
        From :func:`geozones.inspect`.
    path : str or path-like
        The ``.html`` file.
    language : {"zh", "en"}, default "zh"
        Of the page.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
    """
    checked_instance(
        findings, Findings, name="findings", needed="the Findings geozones.inspect returns"
    )
    checked_choice(language, i18n.LANGUAGES, what="report language")
    target = output_path(path, overwrite)
    return write_page(render_qc_html(findings, language), target, overwrite=True)


def qc_paths(folder: str | os.PathLike[str], stem: str = "qc") -> dict[str, Path]:
    """Where :func:`write_qc` writes each file: suffix to path."""
    return {suffix: Path(folder) / f"{stem}{suffix}" for suffix in (".xlsx", ".gpkg", ".html")}


def write_qc(
    findings: Findings,
    folder: str | os.PathLike[str],
    *,
    language: str = "zh",
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write ``qc.xlsx``, ``qc.gpkg`` and ``qc.html`` into `folder` (created if missing).

    Parameters
    ----------
    findings : Findings
        From :func:`geozones.inspect`.
    folder : str or path-like
        Where to write.
    language : {"zh", "en"}, default "zh"
        Of headers, messages and the page.
    overwrite : bool, default False
        Replace files that exist; otherwise nothing is written when one exists.

    Returns
    -------
    dict of str to pathlib.Path
        Suffix to the file written.

    Examples
    --------
    >>> import geozones, tempfile
    >>> findings = geozones.inspect("sample_data/delivery.gpkg")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sorted(path.name for path in write_qc(findings, folder).values())
    ['qc.gpkg', 'qc.html', 'qc.xlsx']
    """
    checked_instance(
        findings, Findings, name="findings", needed="the Findings geozones.inspect returns"
    )
    checked_choice(language, i18n.LANGUAGES, what="report language")
    paths = qc_paths(folder)
    for path in paths.values():
        output_path(path, overwrite)
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_qc_workbook(findings, paths[".xlsx"], language=language, overwrite=overwrite)
    write_qc_geopackage(findings, paths[".gpkg"], language=language, overwrite=overwrite)
    write_qc_html(findings, paths[".html"], language=language, overwrite=overwrite)
    return paths

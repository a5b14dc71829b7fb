"""The findings of a 质检: one row per defect, and the per-rule summary.

The family modules return :class:`RuleResult` objects (the findings of one rule and how many
items it checked); :func:`geozones.qc.inspect` gathers them into :class:`Findings`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from geozones.qc.catalogue import FAMILIES, RULES
from geozones.qc.delivery import DeliveryLayer

#: Columns of :attr:`Findings.table` (the geometry last).
FINDING_COLUMNS = (
    "rule",
    "family",
    "severity",
    "layer",
    "feature",
    "fid",
    "field",
    "message_zh",
    "message_en",
    "measured",
    "expected",
    "zone",
)
#: Columns of :attr:`Findings.summary`.
SUMMARY_COLUMNS = (
    "rule",
    "family",
    "severity",
    "title_zh",
    "title_en",
    "checked",
    "failed",
    "excepted",
)


@dataclass(frozen=True)
class RuleResult:
    """What one rule found: its findings and how many items it checked.

    Attributes
    ----------
    rule : str
        The rule id (a key of :data:`geozones.qc.catalogue.RULES`).
    checked : int
        Items examined: layers, fields, features, pairs or counties, as the rule says.
    found : GeoDataFrame
        One row per finding (:func:`finding_rows`), in `found.crs`.
    excepted : int
        Defects the rule set allows (overlaps of lines lifted by an exception).
    """

    rule: str
    checked: int
    found: gpd.GeoDataFrame
    excepted: int = 0


def finding_rows(
    rule: str,
    layer: str | None,
    *,
    message_zh: Any,
    message_en: Any,
    feature: Any = None,
    fid: Any = None,
    field: Any = None,
    measured: Any = None,
    expected: Any = None,
    geometry: Any = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Findings of `rule` as rows; scalars are repeated, sequences give one value per row.

    Parameters
    ----------
    rule : str
        The rule id.
    layer : str or None
        The layer name of the rules (``YJJBNTBHTB``).
    message_zh, message_en : str or sequence of str
        What is wrong and what to do, in Chinese and English.
    feature, fid : scalar or sequence, optional
        The feature identifier (``BSM``, else the FID) and the FID.
    field : str or sequence, optional
        The field at fault.
    measured, expected : scalar or sequence, optional
        The value found and the value the rule wants, written as text.
    geometry : shapely geometry or sequence, optional
        Where the defect is.
    crs : CRS-like, optional
        Of `geometry`.

    Returns
    -------
    GeoDataFrame
        :data:`FINDING_COLUMNS` and the geometry.

    Examples
    --------
    >>> rows = finding_rows(
    ...     "ID-BSM-DUPLICATE", "XZQ", feature=["A", "A"], fid=[1, 2],
    ...     message_zh="标识码重复", message_en="repeated", measured="2", expected="1",
    ... )
    >>> rows[["rule", "family", "feature", "fid", "measured"]].to_dict("records")[1]
    {'rule': 'ID-BSM-DUPLICATE', 'family': 'codes', 'feature': 'A', 'fid': 2, 'measured': '2'}
    """
    values = {
        "feature": feature,
        "fid": fid,
        "field": field,
        "message_zh": message_zh,
        "message_en": message_en,
        "measured": measured,
        "expected": expected,
        "geometry": geometry,
    }
    lengths = {len(v) for v in values.values() if _is_sequence(v)}
    if len(lengths) > 1:
        raise ValueError(f"finding columns of {rule} have different lengths: {sorted(lengths)}")
    count = lengths.pop() if lengths else 1
    columns: dict[str, Any] = {
        "rule": [rule] * count,
        "family": [RULES[rule].family] * count,
        "severity": [RULES[rule].severity] * count,
        "layer": [layer] * count,
    }
    for name, value in values.items():
        column = list(value) if _is_sequence(value) else [value] * count
        if name in ("feature", "field", "measured", "expected"):
            column = [None if _missing(item) else str(item) for item in column]
        elif name == "fid":
            column = [None if _missing(item) else int(item) for item in column]
        columns[name] = column
    columns["zone"] = [None] * count
    geometry_column = np.array(columns.pop("geometry"), dtype=object)
    frame = pd.DataFrame(columns, columns=list(FINDING_COLUMNS))
    frame["fid"] = frame["fid"].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry=list(geometry_column), crs=crs)


def no_findings(crs: Any = None) -> gpd.GeoDataFrame:
    """An empty findings table."""
    frame = _no_findings().copy()
    return frame if crs is None else frame.set_crs(crs)


@functools.cache
def _no_findings() -> gpd.GeoDataFrame:
    # Most rules find nothing: one empty table copied is ten times cheaper than one built.
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in FINDING_COLUMNS})
    frame["fid"] = frame["fid"].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([]))


def concat_findings(frames: Iterable[gpd.GeoDataFrame], crs: Any = None) -> gpd.GeoDataFrame:
    """Findings tables as one, in `crs` (default: the CRS of the first that has one)."""
    listed = list(frames)
    target = crs if crs is not None else next((f.crs for f in listed if f.crs is not None), None)
    listed = [frame for frame in listed if len(frame)]
    if not listed:
        return no_findings(target)
    moved = [
        frame.set_crs(target, allow_override=True)
        if frame.crs is None or target is None
        else frame.to_crs(target)
        for frame in listed
    ]
    table = pd.concat(moved, ignore_index=True)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=target)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence | np.ndarray | pd.Series | pd.Index) and not isinstance(
        value, str | bytes
    )


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number_text(value: float, digits: int = 2) -> str:
    """A number as the findings write it: fixed decimals, no thousands separator.

    Examples
    --------
    >>> number_text(3536.8), number_text(float("nan"))
    ('3536.80', '')
    """
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Findings:
    """The result of :func:`geozones.qc.inspect`: every defect found, and the summary.

    Attributes
    ----------
    table : GeoDataFrame
        One row per finding: ``rule``, ``family``, ``severity`` (``error`` or ``warning``),
        ``layer``, ``feature`` (``BSM`` where the feature has one, else its FID), ``fid``,
        ``field``, ``message_zh``, ``message_en``, ``measured``, ``expected`` (text),
        ``zone`` (code of the administrative unit the location lies in) and the geometry
        (the location: the feature, the overlap, the part outside; None when the finding
        concerns a layer, a field or a total), in `crs`.
    summary : pandas.DataFrame
        One row per rule applied: ``rule``, ``family``, ``severity``, ``title_zh``,
        ``title_en``, ``checked`` (items examined), ``failed`` (findings) and ``excepted``
        (defects the rules allow). Rules turned off in the rule set are not listed.
    source : str
        The delivery inspected.
    rules_source : str
        The rule set's file.
    title : str
        The rule set's title.
    crs : pyproj.CRS or None
        The CRS of the locations (the delivery's main CRS).
    zones : GeoDataFrame or None
        The administrative units (``zone``, ``name``, geometry), for maps.
    area_method : str
        How declared areas were checked: ``survey`` (the 32号 formula, the default) or
        ``ellipsoidal`` (:data:`geozones.qc.rules.AREA_METHODS`).
    generated : str
        The date of the inspection (ISO).
    """

    table: gpd.GeoDataFrame
    summary: pd.DataFrame
    source: str
    rules_source: str
    title: str
    crs: pyproj.CRS | None = None
    zones: gpd.GeoDataFrame | None = None
    area_method: str = "survey"
    xy_tolerance: float = 0.001
    generated: str = field(default_factory=lambda: date.today().isoformat())

    def __len__(self) -> int:
        return len(self.table)

    def count(self, severity: str | None = None) -> int:
        """Number of findings, of `severity` (``error``, ``warning``) or all."""
        if severity is None:
            return len(self.table)
        return int((self.table["severity"] == severity).sum())

    @property
    def passed(self) -> bool:
        """True when no finding is an error: the delivery passes (warnings allowed)."""
        return self.count("error") == 0

    def fails_on(self, severity: str) -> bool:
        """Whether a finding of `severity` or worse exists (``--fail-on``)."""
        worst = ("error",) if severity == "error" else ("error", "warning")
        return bool(self.table["severity"].isin(worst).any())

    def family(self, key: str) -> gpd.GeoDataFrame:
        """The findings of one family (a key of :data:`~geozones.qc.catalogue.FAMILIES`)."""
        if key not in FAMILIES:
            raise KeyError(f"no family {key!r}; the families are: {', '.join(FAMILIES)}")
        return self.table[self.table["family"] == key]


def add_feature_findings(
    found: dict[str, list[gpd.GeoDataFrame]],
    rule: str,
    layer: DeliveryLayer,
    id_field: str | None,
    mask: np.ndarray,
    column: str | None,
    *,
    zh: str,
    en: str,
    value: Any = None,
    measured: Any = None,
    expected: Any = None,
) -> None:
    """Append findings of `rule` for the features where `mask` holds, located at each feature.

    `zh` and `en` are message templates with ``{column}``, ``{value}``, ``{measured}`` and
    ``{expected}``; each of the three values is a scalar or one value per feature.
    """
    assert layer.frame is not None
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return

    def pick(given: Any) -> list[Any]:
        if isinstance(given, np.ndarray):
            return list(given[rows])
        return [given] * len(rows)

    picked = {"value": pick(value), "measured": pick(measured), "expected": pick(expected)}
    per_row = [{key: picked[key][n] for key in picked} for n in range(len(rows))]
    found[rule].append(
        finding_rows(
            rule,
            layer.name,
            feature=layer.ids(id_field)[rows],
            fid=layer.fids[rows],
            field=column,
            message_zh=[zh.format(column=column, **values) for values in per_row],
            message_en=[en.format(column=column, **values) for values in per_row],
            measured=picked["measured"],
            expected=picked["expected"],
            geometry=layer.frame.geometry.to_numpy()[rows],
            crs=layer.frame.crs,
        )
    )

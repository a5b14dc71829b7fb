"""Rules of the lines: conflicts, the urban expansion multiple and the binding targets."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.analysis.conflicts import find_conflicts
from geozones.analysis.coverage import coverage
from geozones.analysis.targets import TARGETS, check_targets
from geozones.measure.tolerance import is_thin, tolerance_in_crs_units
from geozones.qc.delivery import Delivery, DeliveryLayer, admin_zones
from geozones.qc.findings import RuleResult, concat_findings, finding_rows, number_text
from geozones.qc.rules import LineException, Rules
from geozones.units import UNIT_LABELS


def check_lines(delivery: Delivery, rules: Rules) -> list[RuleResult]:
    """LINE-CONFLICT, LINE-SLIVER, LINE-EXPANSION and LINE-TARGET.

    Every overlap of two lines wider than the tolerance is a conflict, an error, or a sliver
    (a warning) when smaller than ``lines.sliver_m2``; overlaps an exception of the rules
    allows are counted as excepted instead. Each conflict is one finding, named by the
    feature of the first line and naming the other.

    Parameters
    ----------
    delivery : Delivery
        The opened delivery.
    rules : Rules
        The rule set.

    Returns
    -------
    list of RuleResult
    """
    lines = {
        name: frame
        for name in rules.lines.values()
        if name in delivery.layers and (frame := delivery.layers[name].frame) is not None
    }
    results = _conflicts(delivery, rules, lines)
    zones = admin_zones(delivery, rules)
    results.append(_expansion(delivery, rules, zones))
    results.append(_targets(delivery, rules, zones))
    return results


def _conflicts(
    delivery: Delivery, rules: Rules, lines: dict[str, gpd.GeoDataFrame]
) -> list[RuleResult]:
    if len(lines) < 2:
        return [
            RuleResult("LINE-CONFLICT", 0, concat_findings([])),
            RuleResult("LINE-SLIVER", 0, concat_findings([])),
        ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pieces = find_conflicts(
            lines,
            within_layers=False,
            min_area_m2=rules.sliver_m2,
            xy_tolerance=rules.xy_tolerance,
        )
    excepted = _excepted(delivery, rules, pieces)
    kept = pieces[~excepted]
    pairs = sum(
        1 for i, a in enumerate(lines) for b in list(lines)[i + 1 :] if a != b
    )  # layer pairs checked
    results = []
    for rule, sliver in (("LINE-CONFLICT", False), ("LINE-SLIVER", True)):
        chosen = kept[kept["sliver"].to_numpy(dtype=bool) == sliver]
        lifted = int((excepted & (pieces["sliver"].to_numpy(dtype=bool) == sliver)).sum())
        results.append(
            RuleResult(rule, pairs, _conflict_rows(rule, delivery, rules, chosen), lifted)
        )
    return results


def _conflict_rows(
    rule: str, delivery: Delivery, rules: Rules, pieces: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    if len(pieces) == 0:
        return concat_findings([])
    feature, fid, other = [], [], []
    for name_a, id_a, name_b, id_b in zip(
        pieces["layer_a"], pieces["id_a"], pieces["layer_b"], pieces["id_b"], strict=True
    ):
        layer_a, layer_b = delivery.layers[name_a], delivery.layers[name_b]
        feature.append(_id(layer_a, rules, id_a))
        fid.append(int(id_a))
        other.append(f"{name_b} {_id(layer_b, rules, id_b)}")
    area = [number_text(m2) for m2 in pieces["area_m2"]]
    return finding_rows(
        rule,
        None,
        feature=feature,
        fid=fid,
        message_zh=[
            f"{a} {f} 与 {o} 重叠 {m2} m²"
            for a, f, o, m2 in zip(pieces["layer_a"], feature, other, area, strict=True)
        ],
        message_en=[
            f"{a} {f} overlaps {o} by {m2} m²"
            for a, f, o, m2 in zip(pieces["layer_a"], feature, other, area, strict=True)
        ],
        measured=area,
        expected="0" if rule == "LINE-CONFLICT" else f"< {rules.sliver_m2:g}",
        geometry=pieces.geometry.to_numpy(),
        crs=pieces.crs,
    ).assign(layer=pieces["layer_a"].to_numpy())


def _id(layer: DeliveryLayer, rules: Rules, fid: object) -> str:
    assert layer.frame is not None
    position = layer.frame.index.get_loc(fid)
    return str(layer.ids(rules.layers[layer.name].id_field)[position])


def _excepted(delivery: Delivery, rules: Rules, pieces: gpd.GeoDataFrame) -> np.ndarray:
    """Where an exception of the rules allows the overlap."""
    result = np.zeros(len(pieces), dtype=bool)
    for exception in rules.exceptions:
        first, second = exception.layers
        forward = (pieces["layer_a"] == first) & (pieces["layer_b"] == second)
        backward = (pieces["layer_a"] == second) & (pieces["layer_b"] == first)
        pair = (forward | backward).to_numpy()
        if not pair.any():
            continue
        if exception.field is not None:
            result |= pair & _by_field(delivery, exception, pieces, forward.to_numpy())
        elif exception.mask is not None:
            result |= pair & _inside_mask(delivery, exception, pieces, rules.xy_tolerance)
    return result


def _by_field(
    delivery: Delivery, exception: LineException, pieces: gpd.GeoDataFrame, forward: np.ndarray
) -> np.ndarray:
    layer = delivery.layers.get(exception.layers[1])
    column = layer.column(exception.field) if layer is not None else None
    if layer is None or layer.frame is None or column is None:
        return np.zeros(len(pieces), dtype=bool)
    fid = np.where(forward, pieces["id_b"].to_numpy(), pieces["id_a"].to_numpy())
    values = layer.frame[column].astype("string").str.strip()
    allowed = values.isin(set(exception.values)).fillna(False)
    return allowed.reindex(pd.Index(fid)).fillna(False).to_numpy(dtype=bool)


def _inside_mask(
    delivery: Delivery, exception: LineException, pieces: gpd.GeoDataFrame, xy_tolerance: float
) -> np.ndarray:
    assert exception.mask is not None
    mask = delivery.layers.get(exception.mask) or delivery.others.get(exception.mask)
    if mask is None or mask.frame is None or len(pieces) == 0:
        return np.zeros(len(pieces), dtype=bool)
    crs = pyproj.CRS(pieces.crs)
    region = shapely.union_all(mask.frame.to_crs(crs).geometry.to_numpy())
    rest = shapely.difference(pieces.geometry.to_numpy(), region)
    return np.asarray(is_thin(rest, tolerance_in_crs_units(xy_tolerance, crs)), dtype=bool)


def _expansion(delivery: Delivery, rules: Rules, zones: gpd.GeoDataFrame | None) -> RuleResult:
    name = rules.lines.get("urban")
    layer = delivery.layers.get(name) if name else None
    if not rules.urban_land_2020 or zones is None or layer is None or layer.frame is None:
        return RuleResult("LINE-EXPANSION", 0, concat_findings([]))
    unit = rules.urban_land_unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = coverage(layer.frame, zones, by="zone", unit=unit, xy_tolerance=rules.xy_tolerance)
    rows = []
    for code, land in rules.urban_land_2020.items():
        if code not in table.index:
            continue
        boundary = float(table["covered_area"].get(code, 0.0))
        # without urban land in 2020, any boundary is over any multiple of it
        multiple = boundary / land if land > 0 else (np.inf if boundary > 0 else 0.0)
        if multiple <= rules.expansion_limit + 1e-12:
            continue
        county = zones[zones["zone"] == code].to_crs(layer.frame.crs)
        where = shapely.intersection(
            shapely.union_all(layer.frame.geometry.to_numpy()),
            shapely.union_all(county.geometry.to_numpy()),
        )
        rows.append(
            finding_rows(
                "LINE-EXPANSION",
                name,
                feature=code,
                message_zh=f"{code} 城镇开发边界 {boundary:.2f} {UNIT_LABELS[unit]['zh']}，为 2020"
                f"年"
                f"城镇建设用地 {land:.2f} 的 {multiple:.3f} 倍，超过 {rules.expansion_limit:g} 倍",
                message_en=f"{code}: urban boundary {boundary:.2f} {UNIT_LABELS[unit]['en']} is "
                f"{multiple:.3f} × the 2020 urban construction land {land:.2f}, over "
                f"{rules.expansion_limit:g}",
                measured=f"{multiple:.3f}",
                expected=f"≤ {rules.expansion_limit:g}",
                geometry=[where],
                crs=layer.frame.crs,
            ).assign(zone=code)
        )
    checked = sum(code in table.index for code in rules.urban_land_2020)
    return RuleResult("LINE-EXPANSION", checked, concat_findings(rows))


def _targets(delivery: Delivery, rules: Rules, zones: gpd.GeoDataFrame | None) -> RuleResult:
    layers = {
        role: frame
        for role, name in rules.lines.items()
        if name in delivery.layers and (frame := delivery.layers[name].frame) is not None
    }
    wanted = {key: value for key, value in rules.targets.items()}
    if not wanted or zones is None:
        return RuleResult("LINE-TARGET", 0, concat_findings([]))
    needed = {"redline_min": "redline", "farmland_min": "farmland"}
    wanted = {key: value for key, value in wanted.items() if needed.get(key, "urban") in layers}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = check_targets(
            layers,
            zones,
            redline_min=wanted.get("redline_min"),
            farmland_min=wanted.get("farmland_min"),
            development_intensity_max_percent=wanted.get("development_intensity_max_percent"),
            unit=rules.targets_unit,
            zone_field="zone",
        )
    rows = []
    for row in table.itertuples():
        if row.met:
            continue
        _, zh, en = TARGETS[str(row.target)]
        shown = "%" if row.unit == "%" else UNIT_LABELS[str(row.unit)]["zh"]
        shown_en = "%" if row.unit == "%" else UNIT_LABELS[str(row.unit)]["en"]
        layer = rules.lines.get(needed.get(str(row.target), "urban"))
        rows.append(
            finding_rows(
                "LINE-TARGET",
                layer,
                message_zh=f"{zh} {row.measured:.2f} {shown}，指标要求 {row.comparison} "
                f"{row.required:g}",
                message_en=f"{en} {row.measured:.2f} {shown_en}, the target is "
                f"{row.comparison} {row.required:g}",
                measured=f"{row.measured:.2f}",
                expected=f"{row.comparison} {row.required:g}",
            )
        )
    return RuleResult("LINE-TARGET", len(table), concat_findings(rows))

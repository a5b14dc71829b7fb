"""Geometry rules: empty, invalid, multipart, slivers, thin features, overlaps, zones, outside."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geozones.analysis.conflicts import find_conflicts
from geozones.io.quality import layer_report
from geozones.measure.area import ellipsoidal_area
from geozones.measure.tolerance import is_thin, tolerance_in_crs_units
from geozones.qc.delivery import Delivery, DeliveryLayer, admin_zones
from geozones.qc.findings import (
    RuleResult,
    add_feature_findings,
    concat_findings,
    finding_rows,
    number_text,
)
from geozones.qc.rules import Rules
from geozones.zones import outside_zones

#: The rules of this family, in report order.
GEOMETRY_RULES = (
    "GEOM-EMPTY",
    "GEOM-INVALID",
    "GEOM-MULTIPART",
    "GEOM-SLIVER",
    "GEOM-THIN",
    "GEOM-OVERLAP",
    "GEOM-OUTSIDE",
    "ZONE-OVERLAP",
    "ZONE-GAP",
)


def check_geometry(delivery: Delivery, rules: Rules) -> list[RuleResult]:
    """The GEOM and ZONE rules.

    Invalid features are reported as they were delivered and checked further as
    :func:`geozones.read_layer` repaired them. Overlaps, gaps and parts outside are real only
    where they are wider than the rules' ``xy_tolerance`` (:mod:`geozones.measure.tolerance`); areas
    are ellipsoidal m².

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
    found: dict[str, list[gpd.GeoDataFrame]] = {rule: [] for rule in GEOMETRY_RULES}
    checked = dict.fromkeys(found, 0)
    zones = admin_zones(delivery, rules)
    for name, layer in delivery.layers.items():
        frame = layer.frame
        if frame is None:
            continue
        rule = rules.layers[name]
        crs = pyproj.CRS(frame.crs)
        geoms = frame.geometry.to_numpy()
        absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        present = ~absent
        # a repaired feature's parts and area are the repair's: GEOM-INVALID reports it
        measurable = present & ~frame.index.isin(repaired_features(frame))
        checked["GEOM-EMPTY"] += len(frame)
        add_feature_findings(
            found,
            "GEOM-EMPTY",
            layer,
            rule.id_field,
            absent,
            None,
            zh="图形为空",
            en="the geometry is null or empty",
        )
        _invalid(found, layer, rule.id_field)
        checked["GEOM-INVALID"] += len(frame)
        if not rule.multipart:
            checked["GEOM-MULTIPART"] += int(measurable.sum())
            parts = shapely.get_num_geometries(geoms)
            add_feature_findings(
                found,
                "GEOM-MULTIPART",
                layer,
                rule.id_field,
                measurable & (parts > 1),
                None,
                zh="图斑由 {measured} 个部件组成，应为单部件",
                en="the feature has {measured} parts; it must have one",
                measured=parts,
                expected="1",
            )
        if rule.min_area_m2 is not None:
            checked["GEOM-SLIVER"] += int(measurable.sum())
            area = np.full(len(geoms), np.nan)
            area[present] = ellipsoidal_area(geoms[present], crs)
            add_feature_findings(
                found,
                "GEOM-SLIVER",
                layer,
                rule.id_field,
                measurable & (area < rule.min_area_m2),
                None,
                zh="面积 {measured} m²，小于 {expected} m²",
                en="area {measured} m², under {expected} m²",
                measured=np.array([number_text(a) for a in area], dtype=object),
                expected=f"{rule.min_area_m2:g}",
            )
        if rule.min_width_m is not None:
            checked["GEOM-THIN"] += int(measurable.sum())
            width = tolerance_in_crs_units(rule.min_width_m, crs)
            thin = np.zeros(len(geoms), dtype=bool)
            thin[measurable] = is_thin(geoms[measurable], width)
            add_feature_findings(
                found,
                "GEOM-THIN",
                layer,
                rule.id_field,
                thin,
                None,
                zh="图斑狭长，容不下直径 {expected} m 的圆",
                en="no disc {expected} m across fits in the feature",
                expected=f"{rule.min_width_m:g}",
            )
        key = "ZONE-OVERLAP" if name == rules.zones_layer else "GEOM-OVERLAP"
        checked[key] += int(present.sum())
        found[key].append(_overlaps(key, layer, rule.id_field, rules.xy_tolerance))
        if name == rules.zones_layer:
            checked["ZONE-GAP"] += 1
            found["ZONE-GAP"].append(_gaps(layer, rules.xy_tolerance))
        elif zones is not None:
            checked["GEOM-OUTSIDE"] += int(present.sum())
            found["GEOM-OUTSIDE"].append(_outside(layer, rule.id_field, zones, rules.xy_tolerance))
    return [RuleResult(rule, checked[rule], concat_findings(rows)) for rule, rows in found.items()]


def repaired_features(frame: gpd.GeoDataFrame) -> list[object]:
    """Index labels of the features :func:`geozones.read_layer` repaired (invalid on delivery)."""
    report = layer_report(frame)
    if report is None or not len(report.issues):
        return []
    problem = report.issues["problem"].astype(str)
    return list(report.issues.loc[problem.str.startswith("invalid"), "feature"])


def _invalid(
    found: dict[str, list[gpd.GeoDataFrame]], layer: DeliveryLayer, id_field: str | None
) -> None:
    assert layer.frame is not None
    report = layer_report(layer.frame)
    if report is None or not len(report.issues):
        return
    issues = report.issues
    problem = issues["problem"].astype(str)
    broken = issues[~problem.str.startswith(("null", "empty"))]
    problems = broken["problem"].astype(str).str.replace(r"^invalid: ", "", regex=True)
    reasons = dict(zip(broken["feature"], problems, strict=True))
    mask = layer.frame.index.isin(list(reasons))
    measured = np.array([reasons.get(label, "") for label in layer.frame.index], dtype=object)
    add_feature_findings(
        found,
        "GEOM-INVALID",
        layer,
        id_field,
        mask,
        None,
        zh="图形无效：{measured}（已按有效图形继续检查）",
        en="invalid geometry: {measured} (checked further as repaired)",
        measured=measured,
    )


def _overlaps(
    rule: str, layer: DeliveryLayer, id_field: str | None, xy_tolerance: float
) -> gpd.GeoDataFrame:
    frame = layer.frame
    assert frame is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pieces = find_conflicts({layer.name: frame}, xy_tolerance=xy_tolerance)
    if len(pieces) == 0:
        return concat_findings([])
    ids = dict(zip(frame.index, layer.ids(id_field), strict=True))
    fids = dict(zip(frame.index, layer.fids, strict=True))
    a = [ids[i] for i in pieces["id_a"]]
    b = [ids[i] for i in pieces["id_b"]]
    area = [number_text(m2) for m2 in pieces["area_m2"]]
    return finding_rows(
        rule,
        layer.name,
        feature=a,
        fid=[fids[i] for i in pieces["id_a"]],
        message_zh=[f"与 {other} 重叠 {m2} m²" for other, m2 in zip(b, area, strict=True)],
        message_en=[f"overlaps {other} by {m2} m²" for other, m2 in zip(b, area, strict=True)],
        measured=area,
        expected="0",
        geometry=pieces.geometry.to_numpy(),
        crs=pieces.crs,
    )


def _gaps(layer: DeliveryLayer, xy_tolerance: float) -> gpd.GeoDataFrame:
    frame = layer.frame
    assert frame is not None
    crs = pyproj.CRS(frame.crs)
    geoms = frame.geometry.to_numpy()
    located = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    parts = shapely.get_parts(shapely.union_all(located))
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    counts = shapely.get_num_interior_rings(parts)
    if counts.sum() == 0:
        return concat_findings([])
    owner = np.repeat(np.arange(len(parts)), counts)
    number = np.concatenate([np.arange(count) for count in counts])
    holes = shapely.polygons(shapely.get_interior_ring(parts[owner], number))
    holes = holes[~is_thin(holes, tolerance_in_crs_units(xy_tolerance, crs))]
    if len(holes) == 0:
        return concat_findings([])
    area = [number_text(m2) for m2 in ellipsoidal_area(holes, crs)]
    return finding_rows(
        "ZONE-GAP",
        layer.name,
        message_zh=[f"行政区之间有 {m2} m² 的缝隙" for m2 in area],
        message_en=[f"a gap of {m2} m² between the administrative units" for m2 in area],
        measured=area,
        expected="0",
        geometry=holes,
        crs=crs,
    )


def _outside(
    layer: DeliveryLayer, id_field: str | None, zones: gpd.GeoDataFrame, xy_tolerance: float
) -> gpd.GeoDataFrame:
    frame = layer.frame
    assert frame is not None
    crs = pyproj.CRS(frame.crs)
    if zones.crs is not None and pyproj.CRS(zones.crs) != crs:
        zones = zones.to_crs(crs)
    geoms = frame.geometry.to_numpy()
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    pieces, outside = outside_zones(geoms[present], zones.geometry.to_numpy())
    outside = present[outside]
    real = ~is_thin(pieces, tolerance_in_crs_units(xy_tolerance, crs))
    outside, pieces = outside[real], pieces[real]
    if len(outside) == 0:
        return concat_findings([])
    area = [number_text(m2) for m2 in ellipsoidal_area(pieces, crs)]
    return finding_rows(
        "GEOM-OUTSIDE",
        layer.name,
        feature=layer.ids(id_field)[outside],
        fid=layer.fids[outside],
        message_zh=[f"{m2} m² 位于行政区范围之外" for m2 in area],
        message_en=[f"{m2} m² lie outside the administrative units" for m2 in area],
        measured=area,
        expected="0",
        geometry=pieces,
        crs=crs,
    )

"""CRS rules: CGCS2000, one Gauss–Krüger zone, zone prefixes, geographic layers where allowed."""

from __future__ import annotations

import re
from collections import Counter

import geopandas as gpd
import pyproj

from geozones.qc.delivery import Delivery, DeliveryLayer
from geozones.qc.findings import RuleResult, concat_findings, finding_rows
from geozones.qc.rules import Rules


def central_meridian(crs: pyproj.CRS) -> float | None:
    """The central meridian (degrees) of a Transverse Mercator CRS, else None.

    Examples
    --------
    >>> central_meridian(pyproj.CRS("EPSG:4527")), central_meridian(pyproj.CRS("EPSG:4490"))
    (117.0, None)
    """
    operation = crs.coordinate_operation
    if operation is None or "transverse mercator" not in operation.method_name.lower():
        return None
    for parameter in operation.params:
        if parameter.name.lower() in ("longitude of natural origin", "central_meridian"):
            return float(parameter.value)
    return None


def is_cgcs2000(crs: pyproj.CRS) -> bool:
    """Whether `crs` is on the CGCS2000 datum (EPSG's "China 2000", ESRI's "D_China_2000").

    Examples
    --------
    >>> is_cgcs2000(pyproj.CRS("EPSG:4527")), is_cgcs2000(pyproj.CRS("EPSG:2383"))
    (True, False)
    """
    datum = crs.datum.name if crs.datum is not None else ""
    key = re.sub(r"[^a-z0-9]", "", datum.lower())
    return "china2000" in key or "cgcs2000" in key


def delivery_meridian(delivery: Delivery, rules: Rules) -> float | None:
    """The central meridian the delivery is in: the rules' zone, else the most common."""
    if rules.crs_zone is not None:
        zone = rules.crs_zone
        return float(3 * zone) if zone >= 25 else float(6 * zone - 3)
    meridians = Counter(
        meridian
        for layer in delivery.layers.values()
        if layer.frame is not None
        and (meridian := central_meridian(pyproj.CRS(layer.frame.crs))) is not None
    )
    return meridians.most_common(1)[0][0] if meridians else None


def check_crs(delivery: Delivery, rules: Rules) -> list[RuleResult]:
    """CRS-MISSING, CRS-PREFIX, CRS-DATUM, CRS-GEOGRAPHIC and CRS-ZONE, one finding per layer.

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
    meridian = delivery_meridian(delivery, rules)
    found: dict[str, list[gpd.GeoDataFrame]] = {
        rule: []
        for rule in ("CRS-MISSING", "CRS-PREFIX", "CRS-DATUM", "CRS-GEOGRAPHIC", "CRS-ZONE")
    }
    layers = [*delivery.layers.values(), *delivery.others.values()]
    for layer in layers:
        if layer.crs_problem is not None:
            kind, message = layer.crs_problem
            rule = "CRS-MISSING" if kind == "missing" else "CRS-PREFIX"
            inferred = (
                f"；按坐标推断为 {_label(layer)} 检查"
                if layer.frame is not None
                else "；无法推断，图层未检查"
            )
            found[rule].append(
                finding_rows(
                    rule,
                    layer.name,
                    message_zh=(
                        "图层未定义坐标系"
                        if kind == "missing"
                        else "坐标与声明的坐标系（带号）不符"
                    )
                    + inferred,
                    message_en=message
                    + (
                        f" (checked as {_label(layer)})"
                        if layer.frame is not None
                        else " (no CRS can be inferred: the layer was not checked further)"
                    ),
                    measured=str(layer.info.get("crs") or ""),
                )
            )
        if layer.frame is None:
            continue
        crs = pyproj.CRS(layer.frame.crs)
        if not is_cgcs2000(crs):
            found["CRS-DATUM"].append(
                _layer_finding("CRS-DATUM", layer, "坐标系不是 CGCS2000", "CRS is not CGCS2000")
            )
        if crs.is_geographic and layer.name not in rules.geographic_layers:
            found["CRS-GEOGRAPHIC"].append(
                _layer_finding(
                    "CRS-GEOGRAPHIC",
                    layer,
                    "该图层不允许使用地理坐标（经纬度）",
                    "this layer may not be in latitude/longitude",
                )
            )
        own = central_meridian(crs)
        if (
            own is not None
            and meridian is not None
            and abs(own - meridian) > 1e-9
            and layer.name not in rules.other_zones
        ):
            found["CRS-ZONE"].append(
                _layer_finding(
                    "CRS-ZONE",
                    layer,
                    f"中央经线 {own:g}°，与成果的 {meridian:g}° 不同",
                    f"central meridian {own:g}°, the delivery's is {meridian:g}°",
                    expected=f"{meridian:g}°E",
                )
            )
    checked = {
        "CRS-MISSING": len(layers),
        "CRS-PREFIX": len(layers),
        "CRS-DATUM": sum(layer.frame is not None for layer in layers),
        "CRS-GEOGRAPHIC": sum(layer.frame is not None for layer in layers),
        "CRS-ZONE": sum(
            layer.frame is not None and central_meridian(pyproj.CRS(layer.frame.crs)) is not None
            for layer in layers
        ),
    }
    return [RuleResult(rule, checked[rule], concat_findings(rows)) for rule, rows in found.items()]


def _label(layer: DeliveryLayer) -> str:
    assert layer.frame is not None
    crs = pyproj.CRS(layer.frame.crs)
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code}" if code else crs.name


def _layer_finding(
    rule: str, layer: DeliveryLayer, zh: str, en: str, *, expected: str | None = None
) -> gpd.GeoDataFrame:
    return finding_rows(
        rule,
        layer.name,
        message_zh=f"{zh}（{_label(layer)}）",
        message_en=f"{en} ({_label(layer)})",
        measured=_label(layer),
        expected=expected,
    )

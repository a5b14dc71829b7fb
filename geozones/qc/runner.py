"""The 质检 runner: open a delivery, apply every rule family, gather the findings."""

from __future__ import annotations

import os
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.choices import checked_layer
from geozones.errors import EmptyLayerError, MissingCRSError
from geozones.qc.areas import check_areas
from geozones.qc.catalogue import RULES
from geozones.qc.codes import check_codes
from geozones.qc.crs import central_meridian, check_crs, delivery_meridian, is_cgcs2000
from geozones.qc.delivery import Delivery, admin_zones, open_delivery
from geozones.qc.findings import SUMMARY_COLUMNS, Findings, RuleResult, concat_findings
from geozones.qc.geometry import check_geometry
from geozones.qc.lines import check_lines
from geozones.qc.rules import Rules, load_rules
from geozones.qc.schema import check_schema
from geozones.zones import zone_of

#: The rule families, in report order.
FAMILY_CHECKS: tuple[Callable[[Delivery, Rules], list[RuleResult]], ...] = (
    check_schema,
    check_crs,
    check_codes,
    check_areas,
    check_geometry,
    check_lines,
)


def inspect(
    source: str | os.PathLike[str],
    *,
    rules: Rules | str | os.PathLike[str] | None = None,
    zones: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
) -> Findings:
    """Inspect a 三区三线 delivery database against a rule set, feature by feature (质检).

    Parameters
    ----------
    source : str or path-like
        The delivery: a GeoPackage, a File Geodatabase (``.gdb`` folder), or a check
        configuration (``.toml``, as ``geozones report`` reads) whose layers ``farmland``,
        ``redline`` and ``urban`` are the lines and whose zones the administrative units.
    rules : Rules or path, optional
        The rule set (:func:`geozones.qc.load_rules`); the one shipped with geozones
        (``geozones/qc/default_rules.toml``) when None.
    zones : GeoDataFrame or path, optional
        Administrative units to check codes, locations and totals against, instead of the
        delivery's zones layer (``XZQ``).

    Returns
    -------
    Findings
        Every finding, one row per defect and feature, and a summary per rule (items
        checked, findings, excepted).

    Raises
    ------
    DataSourceError
        `source` cannot be opened.
    ConfigError
        The rule set (or a configuration given as `source`) is not valid.

    Examples
    --------
    >>> import geozones
    >>> findings = geozones.inspect(
    ...     "sample_data/delivery.gpkg", rules="sample_data/delivery_rules.toml"
    ... )
    >>> findings.passed, findings.count("error"), findings.count("warning")
    (False, 31, 5)
    >>> findings.summary.set_index("rule").loc["AREA-DEDUCTION", ["checked", "failed"]].tolist()
    [2886, 1]
    """
    if zones is not None and not isinstance(zones, (str, os.PathLike)):
        checked_layer(zones, name="zones")
        if zones.crs is None:
            raise MissingCRSError("zones has no CRS; read the zone layer with geozones.read_layer")
        if len(zones) == 0:
            raise EmptyLayerError("zones has no features; zone polygons are needed")
    if not isinstance(rules, Rules):
        rules = load_rules(rules)
    delivery = open_delivery(source, rules, zones=zones)
    results = [result for check in FAMILY_CHECKS for result in check(delivery, rules)]
    crs = _target_crs(delivery, rules)
    kept = [r for r in results if rules.severity_of(r.rule) != "off"]
    table = concat_findings([r.found for r in kept], crs=crs)
    table["severity"] = table["rule"].map(rules.severity_of)
    zone_table = admin_zones(delivery, rules)
    table = _with_zones(table, zone_table)
    order = {rule: position for position, rule in enumerate(RULES)}
    table = table.iloc[
        np.lexsort((table["fid"].fillna(-1).to_numpy(), table["rule"].map(order).to_numpy()))
    ].reset_index(drop=True)
    summary = pd.DataFrame(
        [
            (
                r.rule,
                RULES[r.rule].family,
                rules.severity_of(r.rule),
                RULES[r.rule].title_zh,
                RULES[r.rule].title_en,
                r.checked,
                len(r.found),
                r.excepted,
            )
            for r in kept
        ],
        columns=list(SUMMARY_COLUMNS),
    )
    return Findings(
        table=table,
        summary=summary,
        source=str(source),
        rules_source=str(rules.source),
        title=rules.title,
        crs=crs,
        zones=zone_table.to_crs(crs) if zone_table is not None and crs is not None else zone_table,
        area_method=rules.area_method,
        xy_tolerance=rules.xy_tolerance,
    )


def _target_crs(delivery: Delivery, rules: Rules) -> pyproj.CRS | None:
    """The CRS of the locations: of the first CGCS2000 layer in the delivery's zone."""
    meridian = delivery_meridian(delivery, rules)
    crss = [
        pyproj.CRS(layer.frame.crs)
        for layer in delivery.layers.values()
        if layer.frame is not None and layer.crs_problem is None
    ]
    for crs in crss:
        if is_cgcs2000(crs) and meridian is not None and central_meridian(crs) == meridian:
            return crs
    return crss[0] if crss else None


def _with_zones(table: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Fill ``zone`` with the code of the unit each located finding lies in."""
    table["zone"] = table["zone"].astype(object).where(table["zone"].notna(), None)
    if zones is None or len(table) == 0:
        return table
    if table.crs is not None and zones.crs is not None and table.crs != zones.crs:
        zones = zones.to_crs(table.crs)
    geoms = table.geometry.to_numpy()
    located = np.flatnonzero(
        ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & table["zone"].isna().to_numpy()
    )
    if len(located) == 0:
        return table
    codes = table["zone"].to_numpy(dtype=object).copy()
    codes[located] = zone_of(
        geoms[located], zones.geometry.to_numpy(), codes=zones["zone"].to_numpy(dtype=object)
    )
    table = table.copy()
    table["zone"] = codes
    return table


__all__ = ["inspect"]

"""Binding plan targets (约束性指标): red line, farmland and development intensity."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geozones.analysis.coverage import coverage
from geozones.choices import checked_instance, checked_layer, did_you_mean
from geozones.errors import MissingCRSError, OptionError
from geozones.units import square_metres_per
from geozones.zones import zone_codes

#: The targets, how they compare, and their names in both report languages.
TARGETS = {
    "redline_min": (">=", "红线面积", "red-line area"),
    "farmland_min": (">=", "永久基本农田面积", "permanent basic farmland area"),
    "development_intensity_max_percent": ("<=", "国土开发强度", "development intensity"),
}


def check_targets(
    layers: Mapping[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    *,
    redline_min: float | None = None,
    farmland_min: float | None = None,
    development_intensity_max_percent: float | None = None,
    unit: str = "mu",
    redline: str = "redline",
    farmland: str = "farmland",
    construction_land: str = "urban",
    zone_field: str | None = None,
) -> pd.DataFrame:
    """Compare measured totals with the plan's binding targets.

    Areas are ellipsoidal and dissolved (overlaps inside a layer count once), inside the zones.
    Development intensity is construction land over land area (the zones' area), in percent.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        The layers, by name.
    zones : GeoDataFrame
        The territory the targets apply to (e.g. the counties of a province).
    redline_min, farmland_min : float, optional
        Red-line and permanent farmland area must be at least this, in `unit`.
    development_intensity_max_percent : float, optional
        Construction land ÷ land area must be at most this percentage.
    unit : str, default "mu"
        Unit of the area targets.
    redline, farmland, construction_land : str
        Names in `layers` of the red line, the farmland, and the layer counted as construction
        land (the urban development boundary by default).
    zone_field : str, optional
        Field of `zones` with the zone codes (only used to group zone rows).

    Returns
    -------
    pandas.DataFrame
        One row per target given: ``target``, ``comparison`` (``>=`` or ``<=``), ``required``,
        ``measured``, ``unit`` (``%`` for intensity), ``met`` and ``margin`` (how far the
        measured value is on the right side of the target; negative when missed).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> def layer(*boxes):
    ...     return gpd.GeoDataFrame(geometry=[box(*b) for b in boxes], crs=4527)
    >>> lines = {
    ...     "redline": layer((x, y, x + 1000, y + 300)),
    ...     "farmland": layer((x, y + 300, x + 1000, y + 400)),
    ...     "urban": layer((x, y + 900, x + 1000, y + 1000)),
    ... }
    >>> table = check_targets(
    ...     lines, layer((x, y, x + 1000, y + 1000)), redline_min=25, farmland_min=20,
    ...     development_intensity_max_percent=5, unit="ha",
    ... )
    >>> for row in table.itertuples():
    ...     print(row.target, row.comparison, row.required, round(row.measured, 2), row.met)
    redline_min >= 25.0 30.0 True
    farmland_min >= 20.0 10.0 False
    development_intensity_max_percent <= 5.0 10.0 False
    """
    checked_instance(layers, Mapping, name="layers", needed="a mapping of name to layer")
    for name, frame in layers.items():
        checked_layer(frame, name=f"layer {name!r}")
        if frame.crs is None:
            raise MissingCRSError(f"layer {name!r} has no CRS; read it with geozones.read_layer")
    zone_codes(zones, zone_field)  # the zones are checked before any work
    square_metres_per(unit)
    wanted = {
        "redline_min": (redline_min, redline),
        "farmland_min": (farmland_min, farmland),
        "development_intensity_max_percent": (development_intensity_max_percent, construction_land),
    }
    rows = []
    for target, (required, layer_name) in wanted.items():
        if required is None:
            continue
        if layer_name not in layers:
            raise OptionError(
                f"target {target} needs the layer {layer_name!r}, which is not among the layers"
                f"{did_you_mean(layer_name, list(layers))} ({', '.join(map(repr, layers))})"
            )
        table = coverage(layers[layer_name], zones, by=zone_field, unit=unit)
        covered = float(table["covered_area"].sum())
        if target == "development_intensity_max_percent":
            measured = 100.0 * covered / float(table["zone_area"].sum())
            shown_unit = "%"
        else:
            measured, shown_unit = covered, unit
        comparison = TARGETS[target][0]
        met = measured >= required if comparison == ">=" else measured <= required
        margin = measured - required if comparison == ">=" else required - measured
        rows.append((target, comparison, float(required), measured, shown_unit, bool(met), margin))
    result = pd.DataFrame(
        rows, columns=["target", "comparison", "required", "measured", "unit", "met", "margin"]
    )
    result["met"] = result["met"].astype(bool) if len(result) else np.array([], dtype=bool)
    result.attrs.update(unit=unit, method="ellipsoidal")
    return result

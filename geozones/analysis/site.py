"""Site check (项目选址 / 用地预审): whether a project takes farmland or red-line land.

A construction project must not take permanent basic farmland or ecological red-line land, and
town construction belongs inside the urban development boundary.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geozones.analysis.conflicts import AlignedLayers
from geozones.analysis.overlaps import classified_overlaps
from geozones.choices import checked_layer, checked_non_negative, did_you_mean
from geozones.errors import OptionError
from geozones.io.validity import polygonal_parts
from geozones.measure.area import ellipsoidal_area
from geozones.measure.tolerance import (
    DEFAULT_XY_TOLERANCE,
    PhantomTally,
    check_xy_tolerance,
    split_thin_parts,
    tolerance_in_crs_units,
)
from geozones.units import square_metres_per


def site_check(
    footprint: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    farmland: str = "farmland",
    redline: str = "redline",
    urban: str | None = "urban",
    unit: str = "mu",
    min_area_m2: float = 0.0,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
) -> pd.DataFrame:
    """Check project footprints against the control lines, one row per project polygon.

    Parameters
    ----------
    footprint : GeoDataFrame
        Project polygons (建设项目用地范围), any number; reprojected to the layers' CRS with a
        warning if needed.
    layers : mapping of str to GeoDataFrame
        The lines, by name.
    farmland, redline : str
        Names in `layers` of the permanent farmland and the red line.
    urban : str or None, default "urban"
        Name of the urban development boundary; None to skip the "outside the boundary" test.
    unit : str, default "mu"
        Unit of the ``*_area`` columns; m² columns are always given too.
    min_area_m2 : float, default 0
        Overlaps smaller than this (ellipsoidal m²) are digitising noise: reported in the
        areas but do not fail the check.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres (see :func:`geozones.find_conflicts`): a footprint
        drawn along a line's boundary overlaps it, or leaves the urban boundary, only by
        slivers thinner than this, which count as nothing.

    Returns
    -------
    pandas.DataFrame
        Indexed like `footprint`: ``area_m2`` and ``area`` (the project), ``farmland_m2`` /
        ``farmland_area`` (farmland it takes, dissolved), ``redline_m2`` / ``redline_area``,
        ``outside_urban_m2`` / ``outside_urban_area`` (NaN without `urban`), ``farmland_hit``
        and ``redline_hit`` (index labels of the features touched), ``verdict`` (``pass`` or
        ``fail``) and ``reasons``. ``attrs`` records ``unit``, ``method``, ``xy_tolerance``
        and ``phantoms`` (overlaps dismissed as thinner than the tolerance).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> def layer(*boxes):
    ...     return gpd.GeoDataFrame(geometry=[box(*b) for b in boxes], crs=4527)
    >>> lines = {
    ...     "farmland": layer((x, y, x + 100, y + 100)),
    ...     "redline": layer((x + 500, y, x + 600, y + 100)),
    ...     "urban": layer((x - 1000, y - 1000, x + 1000, y + 1000)),
    ... }
    >>> project = layer((x + 50, y, x + 150, y + 100))
    >>> result = site_check(project, lines, unit="m2")
    >>> result[["farmland_area", "redline_area", "verdict"]].round(1).to_dict("records")
    [{'farmland_area': 5000.0, 'redline_area': 0.0, 'verdict': 'fail'}]
    >>> result["reasons"].iloc[0]
    'takes 5000.00 m2 of farmland (features 0)'
    """
    checked_layer(footprint, name="footprint")
    checked_non_negative(min_area_m2, name="min_area_m2", unit="m²")
    for role, name in (("farmland", farmland), ("redline", redline), ("urban", urban)):
        if name is not None and name not in layers:
            raise OptionError(
                f"site_check: the {role} layer {name!r} is not among the layers"
                f"{did_you_mean(name, list(layers))} ({', '.join(map(repr, layers))})"
            )
    tolerance = check_xy_tolerance(xy_tolerance)
    per_unit = square_metres_per(unit)
    names = [name for name in (farmland, redline, urban) if name is not None]
    # the footprint's name in messages (reprojection, geometry problems): the user's words
    key = "project footprint"
    while key in names:
        key += " (project)"
    prepared = AlignedLayers.prepare({key: footprint, **{n: layers[n] for n in names}})
    project = prepared.geoms[key]
    crs = prepared.crs
    width = tolerance_in_crs_units(tolerance, crs)
    tally = PhantomTally()
    result = pd.DataFrame(index=footprint.index)
    result["area_m2"] = ellipsoidal_area(project, crs)
    result["area"] = result["area_m2"] / per_unit

    hits: dict[str, list[list[object]]] = {}
    unions: dict[str, np.ndarray] = {}
    for name in names:
        found = classified_overlaps(project, prepared.geoms[name], width=width)
        phantoms = found.pieces[found.phantom]
        tally.add(
            "project",
            name,
            count=len(phantoms),
            area_m2=float(ellipsoidal_area(phantoms, crs).sum()) if len(phantoms) else 0.0,
        )
        genuine = ~found.phantom
        index, other = found.left_index[genuine], found.right_index[genuine]
        unions[name] = _union_by_owner(found.pieces[genuine], index, len(project))
        result[f"{name}_m2"] = ellipsoidal_area(unions[name], crs)
        labels = prepared.frames[name].index
        hits[name] = [list(labels[other[index == i]]) for i in range(len(project))]

    result = result.rename(columns={f"{farmland}_m2": "farmland_m2", f"{redline}_m2": "redline_m2"})
    if urban is not None:
        result.pop(f"{urban}_m2")
        # What lies outside, but for slivers along the boundary thinner than the tolerance.
        outside = polygonal_parts(shapely.difference(project, unions[urban]))
        result["outside_urban_m2"] = ellipsoidal_area(split_thin_parts(outside, width)[0], crs)
    else:
        result["outside_urban_m2"] = np.nan
    for column in ("farmland", "redline", "outside_urban"):
        result[f"{column}_area"] = result[f"{column}_m2"] / per_unit
    result["farmland_hit"] = pd.Series(hits[farmland], index=result.index, dtype=object)
    result["redline_hit"] = pd.Series(hits[redline], index=result.index, dtype=object)

    threshold = max(min_area_m2, np.finfo(float).tiny)
    reasons = [
        "; ".join(
            text
            for text, applies in (
                (
                    f"takes {f_area:.2f} {unit} of farmland (features {_ids(f_hit)})",
                    f_m2 >= threshold,
                ),
                (
                    f"takes {r_area:.2f} {unit} of the red line (features {_ids(r_hit)})",
                    r_m2 >= threshold,
                ),
                (f"{o_area:.2f} {unit} outside the urban boundary", o_m2 >= threshold),
            )
            if applies
        )
        for f_m2, f_area, f_hit, r_m2, r_area, r_hit, o_m2, o_area in zip(
            result["farmland_m2"].to_numpy(float),
            result["farmland_area"].to_numpy(float),
            result["farmland_hit"],
            result["redline_m2"].to_numpy(float),
            result["redline_area"].to_numpy(float),
            result["redline_hit"],
            result["outside_urban_m2"].fillna(0.0).to_numpy(float),
            result["outside_urban_area"].fillna(0.0).to_numpy(float),
            strict=True,
        )
    ]
    result["reasons"] = reasons
    result["verdict"] = np.where(result["reasons"] == "", "pass", "fail")
    result.attrs.update(
        unit=unit, method="ellipsoidal", xy_tolerance=tolerance, phantoms=tally.as_dict()
    )
    return result


def _ids(labels: list[object]) -> str:
    return ", ".join(map(str, labels))


def _union_by_owner(pieces: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """The union of the pieces of each owner, empty where an owner has none."""
    unions = np.array([shapely.Polygon()] * count, dtype=object)
    if len(pieces) == 0:
        return unions
    order = np.argsort(owner, kind="stable")
    owners, starts = np.unique(owner[order], return_index=True)
    for position, parts in zip(owners, np.split(pieces[order], starts[1:]), strict=True):
        unions[position] = shapely.union_all(parts)
    return unions

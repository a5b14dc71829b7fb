"""Zones (counties, cities, provinces) and the shared steps of measuring things inside them."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely

from geozones.errors import CRSReprojectionWarning, EmptyLayerError, FieldError, MissingCRSError

if TYPE_CHECKING:
    import geopandas as gpd


def zone_codes(zones: gpd.GeoDataFrame, field: str | None) -> np.ndarray:
    """The code of each zone feature as a string: `field`'s values, or the index labels.

    Parameters
    ----------
    zones : GeoDataFrame
        Zone polygons.
    field : str or None
        The field holding each zone's code (e.g. ``XZQDM``); None for the index.

    Returns
    -------
    numpy.ndarray
        One code per zone feature, stripped of surrounding blanks.

    Raises
    ------
    EmptyLayerError
        `zones` has no features.
    MissingCRSError
        `zones` has no CRS.
    FieldError
        `field` is not a field of `zones`.
    """
    if len(zones) == 0:
        raise EmptyLayerError("the zone layer has no features; zone polygons are needed")
    if zones.crs is None:
        raise MissingCRSError("the zone layer has no CRS; read it with geozones.read_layer")
    if field is None:
        return np.asarray(zones.index.astype(str))
    if field not in zones.columns:
        fields = ", ".join(map(str, zones.columns.drop(zones.geometry.name)))
        raise FieldError(f"zone field {field!r} is not in the zone layer; its fields are: {fields}")
    return np.asarray(zones[field].astype(str).str.strip())


def to_crs(layer: gpd.GeoDataFrame, crs: pyproj.CRS, *, name: str, target: str) -> gpd.GeoDataFrame:
    """`layer` in `crs`: unchanged if already there, else reprojected with a warning naming both.

    Parameters
    ----------
    layer : GeoDataFrame
        The layer to align.
    crs : pyproj.CRS
        The CRS wanted.
    name : str
        What the layer is, for messages ("the layer", "layer 'redline'").
    target : str
        Whose CRS `crs` is, for messages ("the zones'", "layer 'farmland''s").

    Returns
    -------
    GeoDataFrame
        `layer`, or a reprojected copy.

    Raises
    ------
    MissingCRSError
        `layer` has no CRS.
    """
    if layer.crs is None:
        raise MissingCRSError(f"{name} has no CRS; read it with geozones.read_layer")
    own = pyproj.CRS.from_user_input(layer.crs)
    if own == crs:
        return layer
    warnings.warn(
        f"{name} is in {own.name} but {target} CRS is {crs.name}; {name} was reprojected "
        f"to {crs.name}",
        CRSReprojectionWarning,
        stacklevel=3,
    )
    return layer.to_crs(crs)


def split_by_zones(
    geoms: np.ndarray, zones: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut polygons at zone boundaries; a polygon inside one zone is kept whole.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons.
    zones : numpy.ndarray of shapely geometries
        Valid zone polygons, not overlapping each other.

    Returns
    -------
    pieces : numpy.ndarray
        The parts of `geoms` inside each zone, with area.
    geom_index, zone_index : numpy.ndarray
        For each piece, the position of its polygon in `geoms` and of its zone in `zones`.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> pieces, geom_index, zone_index = split_by_zones(
    ...     np.array([box(0, 0, 2, 1)]), np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)])
    ... )
    >>> [piece.area for piece in pieces], zone_index.tolist()
    ([1.0, 1.0], [0, 1])
    """
    from geozones.validity import polygonal_parts

    # The tree holds the few zones; the many polygons are matched to them by their boxes, and
    # a prepared zone that covers a polygon keeps it whole without any overlay.
    geom_index, zone_index = shapely.STRtree(zones).query(geoms)
    order = np.lexsort((zone_index, geom_index))
    zone_index, geom_index = zone_index[order], geom_index[order]
    shapely.prepare(zones)
    inside = shapely.covers(zones[zone_index], geoms[geom_index])
    pieces = geoms[geom_index].copy()
    crossing = np.flatnonzero(~inside)
    pieces[crossing] = polygonal_parts(
        shapely.intersection(geoms[geom_index[crossing]], zones[zone_index[crossing]])
    )
    keep = ~shapely.is_empty(pieces) & (shapely.area(pieces) > 0)
    return pieces[keep], geom_index[keep], zone_index[keep]

"""Geometry checks and repair: what a polygon layer must be before it is measured.

The contract follows ``geopandas.overlay``: invalid polygons are repaired by default, with a
warning that counts them; nothing is dropped. Null and empty geometries are kept and flagged;
points and lines where polygons are needed are an error that names the features.

Validity is decided by GEOS (``is_valid``), except where a cheaper exact test proves it first:
the caller's (the area's ring pass, ``certify``) and, for polygons of :data:`PROVE_FROM`
coordinates or more and for many smaller ones, :func:`geozones.io.proof.certainly_valid`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geozones.errors import GeometryRepairWarning, NonPolygonalGeometryError
from geozones.io.provenance import known_valid, remember
from geozones.parallel import map_blocks, map_by_cost

if TYPE_CHECKING:
    import geopandas as gpd

POLYGONAL_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
#: Polygons of this many coordinates or more are proven valid by :mod:`geozones.io.proof`
#: before GEOS is asked: from about 64 coordinates the proof is faster (2-3x up to 1,024
#: coordinates, 24x beyond on the benchmark's red line) however few they are.
PROVE_FROM = 64
#: Smaller polygons are proven too where there are this many: the proof costs about half a
#: millisecond per call, then 0.4-0.6 us per parcel against GEOS's 1.2-1.8 us (10,000
#: parcels: 6.5 ms against 18 ms; 1,000: 1.0 ms against 1.2 ms; docs/performance.md).
PROVE_SMALL_FROM = 2_000
LOWER_DIMENSIONAL_TYPES = (
    shapely.GeometryType.POINT,
    shapely.GeometryType.LINESTRING,
    shapely.GeometryType.LINEARRING,
    shapely.GeometryType.MULTIPOINT,
    shapely.GeometryType.MULTILINESTRING,
)
#: The empty result of a polygonal operation (geometries are immutable: one serves all).
EMPTY_POLYGONAL = shapely.MultiPolygon()
#: Per GEOS type id + 1 (missing is -1): whether the type is lower-dimensional. A lookup,
#: not ``np.isin``, which costs more than the rest on the few geometries of one cut.
_LOWER_DIMENSIONAL = np.isin(np.arange(-1, 8), LOWER_DIMENSIONAL_TYPES)


def geometry_array(data: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """The shapely geometries of a GeoDataFrame or GeoSeries as a numpy object array."""
    series = data.geometry if hasattr(data, "geometry") else data
    return np.asarray(series.array, dtype=object)


def polygonal_mask(geoms: np.ndarray) -> np.ndarray:
    """True where a geometry is a non-empty Polygon or MultiPolygon."""
    return np.isin(shapely.get_type_id(geoms), POLYGONAL_TYPES) & ~shapely.is_empty(geoms)


def non_polygonal_mask(geoms: np.ndarray) -> np.ndarray:
    """True where a geometry is present, not empty, and not polygonal."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    return present & ~np.isin(shapely.get_type_id(geoms), POLYGONAL_TYPES)


def make_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Repair polygons with ``make_valid`` and keep only their polygonal parts.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygons or multipolygons, valid or not.

    Returns
    -------
    numpy.ndarray
        Valid polygons or multipolygons (empty where nothing polygonal is left).

    Examples
    --------
    A bow-tie becomes its two triangles:

    >>> import numpy as np
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed = make_polygonal(np.array([bowtie]))
    >>> fixed[0].geom_type, fixed[0].area
    ('MultiPolygon', 2.0)
    """
    repaired = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    return polygonal_parts(repaired)


def clip_to_rects(geoms: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Polygonal part of each geometry inside its own rectangle; None where GEOS's clip raised.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygonal geometries.
    rects : numpy.ndarray
        ``(len(geoms), 4)``: xmin, ymin, xmax, ymax of each.

    Returns
    -------
    numpy.ndarray
        GEOS's rectangle clip (fast, linear in the coordinates, and not promised valid), its
        polygonal parts.

    Examples
    --------
    >>> from shapely import box
    >>> clipped = clip_to_rects(np.array([box(0, 0, 4, 4), box(0, 0, 4, 4)]),
    ...                         np.array([[1, 1, 2, 2], [3, 3, 9, 9]]))
    >>> shapely.area(clipped).tolist()
    [1.0, 1.0]
    """
    # shapely.clip_by_rect takes one rectangle; the ufunc beneath it broadcasts them.
    try:
        return polygonal_parts(shapely.lib.clip_by_rect(geoms, *np.asarray(rects).T))
    except shapely.errors.GEOSException:
        pass
    out = np.full(len(geoms), None, dtype=object)
    for k in range(len(geoms)):  # the rare batch holding a degenerate case, one by one
        try:
            out[k] = polygonal_parts(np.array([shapely.clip_by_rect(geoms[k], *rects[k])]))[0]
        except shapely.errors.GEOSException:
            continue
    return out


def polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry; points and lines become empty.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Results of overlay operations or ``make_valid``: any geometry type.

    Returns
    -------
    numpy.ndarray
        Polygons and multipolygons, empty ``MultiPolygon`` where nothing polygonal was.

    Examples
    --------
    Two squares sharing an edge intersect in a line, which is no area:

    >>> import numpy as np
    >>> from shapely import box, intersection
    >>> touching = intersection(box(0, 0, 1, 1), box(1, 0, 2, 1))
    >>> polygonal_parts(np.array([touching]))[0].is_empty
    True
    """
    result = np.asarray(geoms, dtype=object).copy()
    type_ids = shapely.get_type_id(result)
    result[_LOWER_DIMENSIONAL[type_ids + 1]] = EMPTY_POLYGONAL
    collections = np.flatnonzero(type_ids == shapely.GeometryType.GEOMETRYCOLLECTION)
    if len(collections):
        parts, owner = shapely.get_parts(result[collections], return_index=True)
        polygonal = np.isin(shapely.get_type_id(parts), POLYGONAL_TYPES)
        polygons, part_index = shapely.get_parts(parts[polygonal], return_index=True)
        merged = np.full(len(collections), EMPTY_POLYGONAL, dtype=object)
        shapely.multipolygons(polygons, indices=owner[polygonal][part_index], out=merged)
        result[collections] = merged
    return result


def polygon_array(
    data: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    purpose: str,
    certify: Callable[[np.ndarray, Callable[[], np.ndarray]], np.ndarray] | None = None,
    stacklevel: int = 3,
) -> np.ndarray:
    """Geometries ready for measuring: polygonal, valid (repaired with a warning).

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        The layer.
    purpose : str
        What the polygons are needed for, used in messages ("area", "coverage", …).
    certify : callable, optional
        ``certify(index, known)`` is called with the positions of the non-empty polygonal
        features and a function returning, for each, whether it is already known valid
        (checked before, see :mod:`geozones.io.provenance`: it need not be proven again;
        called only if needed, as it costs a little), and returns, for each,
        True where the caller has proven it valid; GEOS checks only the others that are not
        known valid. A caller that reads every coordinate anyway (the area) proves most
        parcels valid on the way, much faster than GEOS.
    stacklevel : int, default 3
        Of the repair warning: 3 points at the caller's caller.

    Returns
    -------
    numpy.ndarray
        A repaired copy of the geometries; the input is not modified.

    Raises
    ------
    NonPolygonalGeometryError
        Where points or lines are among the features; names them.
    """
    return checked_polygons(data, purpose=purpose, certify=certify, stacklevel=stacklevel + 1)[0]


def checked_polygons(
    data: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    purpose: str,
    certify: Callable[[np.ndarray, Callable[[], np.ndarray]], np.ndarray] | None = None,
    stacklevel: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`polygon_array`, and which features were repaired (a boolean mask).

    A geometry object checked valid once is recorded as such (:mod:`geozones.io.provenance`):
    later calls, on this layer or any frame holding the same objects (a layer
    :func:`geozones.read_layer` returned among them), do not check it again. A geometry
    replaced, repaired or reprojected is a new object and is checked.
    """
    geoms = geometry_array(data)
    labels = data.index
    empty, polygonal = np.hstack(map_blocks(_empty_and_polygonal, geoms))
    non_polygonal = ~empty & ~polygonal
    if non_polygonal.any():
        raise NonPolygonalGeometryError(
            f"{purpose} needs polygons, but {int(non_polygonal.sum())} feature(s) are not "
            f"polygonal: {describe_features(labels[non_polygonal], geoms[non_polygonal])}; "
            "remove them or select the polygon features first"
        )
    to_check = polygonal & ~empty
    known = functools.cache(lambda: known_valid(data))  # 8 ms for 200,000 features: if needed
    if certify is not None:
        polygons = np.flatnonzero(to_check)
        proven = certify(polygons, lambda: known()[polygons])
        to_check[polygons[np.asarray(proven, dtype=bool)]] = False
    if to_check.any():
        to_check &= ~known()
    unchecked = np.flatnonzero(to_check)
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[unchecked] = ~valid_mask(geoms[unchecked])
    if to_check.any():
        remember(data, valid=polygonal & ~empty & ~invalid)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = make_polygonal(geoms[invalid])
        warnings.warn(
            f"repaired {int(invalid.sum())} invalid polygon(s) before computing {purpose} "
            f"({describe_features(labels[invalid])}); read the layer with "
            "geozones.read_layer to get a per-feature record of the repairs",
            GeometryRepairWarning,
            stacklevel=stacklevel,
        )
    return geoms, invalid


def valid_mask(geoms: np.ndarray) -> np.ndarray:
    """``shapely.is_valid`` of polygons, faster: proven where possible, GEOS in threads.

    Polygons of :data:`PROVE_FROM` coordinates or more, and all of them where there are
    :data:`PROVE_SMALL_FROM` smaller ones, are first proven valid by
    :func:`geozones.io.proof.certainly_valid`; GEOS checks the rest, in threads, costliest
    first.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Non-empty polygons and multipolygons.

    Returns
    -------
    numpy.ndarray
        Booleans, as ``shapely.is_valid``.

    Examples
    --------
    >>> from shapely import Polygon, box
    >>> valid_mask(np.array([box(0, 0, 1, 1), Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])]))
    array([ True, False])
    """
    geoms = np.asarray(geoms, dtype=object)
    valid = np.zeros(len(geoms), dtype=bool)
    coordinates = shapely.get_num_coordinates(geoms)
    to_prove = coordinates >= PROVE_FROM
    if len(geoms) - np.count_nonzero(to_prove) >= PROVE_SMALL_FROM:
        to_prove[:] = True
    if to_prove.any():
        from geozones.io.proof import certainly_valid

        valid[to_prove] = certainly_valid(geoms[to_prove])
    rest = np.flatnonzero(~valid)
    if len(rest):
        # In threads, costliest first: one red-line polygon can hold 100,000 vertices.
        valid[rest] = map_by_cost(_is_valid, geoms[rest], coordinates[rest])
    return valid


def record_valid(frame: gpd.GeoDataFrame) -> None:
    """Record that the polygons of `frame` are valid, as :func:`geozones.read_layer` leaves them.

    :func:`polygon_array` then does not check them again while they live, in `frame` or in
    any frame derived from it that holds the same geometry objects.

    Parameters
    ----------
    frame : GeoDataFrame
        A layer whose polygons were checked and repaired.
    """
    geoms = geometry_array(frame)
    empty, polygonal = np.hstack(map_blocks(_empty_and_polygonal, geoms))
    remember(frame, valid=polygonal & ~empty)


def _empty_and_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Rows: empty or missing; Polygon or MultiPolygon."""
    return np.stack(
        [
            shapely.is_empty(geoms) | shapely.is_missing(geoms),
            np.isin(shapely.get_type_id(geoms), POLYGONAL_TYPES),
        ]
    )


def describe_features(
    labels: Sequence[object] | pd.Index, geoms: np.ndarray | None = None, *, limit: int = 5
) -> str:
    """Name a few features for a message: ``3 (LineString), 7 (Point) and 12 more``."""
    shown = []
    for i, label in enumerate(list(labels)[:limit]):
        kind = f" ({geoms[i].geom_type})" if geoms is not None and geoms[i] is not None else ""
        shown.append(f"{label!s}{kind}")
    rest = len(labels) - len(shown)
    text = ", ".join(shown)
    return f"{text} and {rest} more" if rest > 0 else text


def _is_valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.is_valid`` without its ``warnings.catch_warnings``, for use in threads.

    ``catch_warnings`` swaps the process-wide warning filters; two threads doing it at once
    can leave them swapped (every later warning ignored, or recorded in a list that is gone).
    GEOS's validity test itself warns of nothing.
    """
    return np.asarray(shapely.lib.is_valid(geoms), dtype=bool)

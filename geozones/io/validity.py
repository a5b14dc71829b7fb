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
from geozones.io.provenance import known_valid, object_ids, remember
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


#: One geometry at this many places or more is clipped in two steps (:func:`clip_to_rects`),
#: to the box around groups of this many of its rectangles first.
CLIP_GROUP = 32


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
        polygonal parts. One geometry object at :data:`CLIP_GROUP` places or more (a red-line
        polygon cut to the box of each parcel it cuts) is first clipped to the box around
        each group of that many of its rectangles, near one another, and each place then
        reads only its group's part.

    Examples
    --------
    >>> from shapely import box
    >>> clipped = clip_to_rects(np.array([box(0, 0, 4, 4), box(0, 0, 4, 4)]),
    ...                         np.array([[1, 1, 2, 2], [3, 3, 9, 9]]))
    >>> shapely.area(clipped).tolist()
    [1.0, 1.0]
    """
    rects = np.asarray(rects, dtype=float)
    return _clipped(_cut_by_groups(np.asarray(geoms, dtype=object), rects), rects)


def _clipped(geoms: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """:func:`clip_to_rects`, each geometry clipped whole."""
    # shapely.clip_by_rect takes one rectangle; the ufunc beneath it broadcasts them.
    try:
        return polygonal_parts(shapely.lib.clip_by_rect(geoms, *rects.T))
    except shapely.errors.GEOSException:
        pass
    out = np.full(len(geoms), None, dtype=object)
    for k in range(len(geoms)):  # the rare batch holding a degenerate case, one by one
        try:
            out[k] = polygonal_parts(np.array([shapely.clip_by_rect(geoms[k], *rects[k])]))[0]
        except shapely.errors.GEOSException:
            continue
    return out


#: A geometry of more coordinates than this is trimmed by :func:`trimmed_near`.
TRIM_FROM = 256


def trimmed_near(
    geoms: np.ndarray,
    others: np.ndarray,
    *,
    trim_from: int | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Each geometry cut to the surroundings of its pair in `others`: the same there.

    GEOS's overlays read every coordinate of both geometries, while only the edges near the
    other one can meet it: a red-line polygon of 100,000 vertices against a parcel or an
    urban polygon of 200, a thin part's reach against a piece of 60,000. The box that the
    boxes of ``geoms[k]`` and ``others[k]`` share, grown by an eighth of its longer side,
    holds all they share; each geometry of more than `trim_from` coordinates is cut to it
    by GEOS's rectangle clip (:func:`clip_to_rects`, linear in the coordinates, and in a
    group's part for one geometry in many pairs), kept only where the clip is valid (GEOS
    does not promise it) and has fewer coordinates. A geometry whose box does not meet its
    pair's becomes empty.

    Parameters
    ----------
    geoms, others : numpy.ndarray of shapely geometries
        Polygonal geometries (or missing or empty), as long as each other.
    trim_from : int, optional
        Geometries of at most this many coordinates are left as they are; :data:`TRIM_FROM`
        when omitted.
    threads : int, optional
        Threads for the clips (:func:`geozones.parallel.worker_count`).

    Returns
    -------
    numpy.ndarray
        A new array: with ``trimmed = trimmed_near(geoms, others)``, the intersection
        ``trimmed[k] ∩ others[k]``, the difference ``others[k] − trimmed[k]`` and whether
        ``trimmed[k]`` covers ``others[k]`` are those of ``geoms[k]`` (not the union, nor
        ``trimmed[k] − others[k]``). Within the box the edges are the same, but an edge
        leaving it ends on it, at a point rounded to the nearest double.

    Examples
    --------
    >>> from shapely import Point, box
    >>> disc = Point(0, 0).buffer(1_000, quad_segs=1_000)
    >>> parcel = box(990, -10, 1_010, 10)
    >>> trimmed = trimmed_near(np.array([disc]), np.array([parcel]))
    >>> int(shapely.get_num_coordinates(disc)), int(shapely.get_num_coordinates(trimmed[0]))
    (4001, 20)
    >>> bool(shapely.equals(shapely.difference(parcel, trimmed[0]), parcel - disc))
    True
    """
    trim_from = TRIM_FROM if trim_from is None else trim_from
    geoms = np.asarray(geoms, dtype=object)
    others = np.asarray(others, dtype=object)
    out = geoms.copy()
    rows = np.flatnonzero(shapely.get_num_coordinates(geoms) > trim_from)
    rows = rows[~shapely.is_missing(others[rows])]
    rows = rows[~shapely.is_empty(others[rows])]
    if len(rows) == 0:
        return out
    box, other_box = shapely.bounds(geoms[rows]), shapely.bounds(others[rows])
    low = np.maximum(box[:, :2], other_box[:, :2])
    high = np.minimum(box[:, 2:], other_box[:, 2:])
    apart = (low > high).any(axis=1)
    out[rows[apart]] = EMPTY_POLYGONAL
    grow = (high - low).max(axis=1) / 8
    near = ~apart & (grow > 0)
    rows, rects = rows[near], _grown(np.column_stack([low, high])[near], grow[near])
    if len(rows) == 0:
        return out
    whole = geoms[rows]
    source = _cut_by_groups(whole, rects)
    size = shapely.get_num_coordinates(whole)

    def trim(k: np.ndarray) -> np.ndarray:
        trimmed = _clipped(source[k], rects[k])
        keep = ~shapely.is_missing(trimmed)
        keep[keep] = shapely.get_num_coordinates(trimmed[keep]) < size[k[keep]]
        keep[keep] = _is_valid(trimmed[keep])  # in threads: not shapely.is_valid
        return np.where(keep, trimmed, whole[k])

    out[rows] = map_by_cost(trim, np.arange(len(rows)), size, threads=threads)
    return out


def trimmed_for_intersection(
    a: np.ndarray, b: np.ndarray, *, trim_from: int | None = None, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``a[k]``, ``b[k]``, each cut to the other's surroundings: the same intersection.

    :func:`trimmed_near` both ways. (The 1,456 pairs of the medium 90 % tessellated red
    line and urban polygons of ``bench_hard.py`` that meet: 1.39 s of GEOS intersections
    whole, 0.38 s trimmed first.)

    Parameters
    ----------
    a, b : numpy.ndarray of shapely geometries
        Polygonal geometries (or missing or empty), as long as each other.
    trim_from, threads : int, optional
        As for :func:`trimmed_near`.

    Returns
    -------
    tuple of numpy.ndarray
        New arrays: ``shapely.intersection(*trimmed_for_intersection(a, b))`` is the
        intersection of `a` and `b` (not their union, nor anything else).

    Examples
    --------
    >>> from shapely import Point, box
    >>> disc = Point(0, 0).buffer(1_000, quad_segs=1_000)
    >>> a, b = trimmed_for_intersection(np.array([disc]), np.array([box(990, -10, 1_010, 10)]))
    >>> bool(shapely.equals(shapely.intersection(a, b)[0], shapely.intersection(disc, b[0])))
    True
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    return (
        trimmed_near(a, b, trim_from=trim_from, threads=threads),
        trimmed_near(b, a, trim_from=trim_from, threads=threads),
    )


def _grown(rects: np.ndarray, grow: np.ndarray) -> np.ndarray:
    """``(n, 4)`` rectangles (xmin, ymin, xmax, ymax), each grown by its `grow` on every side."""
    return rects + np.column_stack([-grow, -grow, grow, grow])


def _cut_by_groups(geoms: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """`geoms`, those at :data:`CLIP_GROUP` places or more cut to their groups' rectangles.

    The places of one geometry object are put in groups of :data:`CLIP_GROUP` by the
    Morton order of their rectangles' centres; each group's rectangle holds its members',
    grown by an eighth of its longer side, so that cutting the result to a member's
    rectangle gives what cutting the whole would (where the clip fails, the whole stays).
    """
    _, inverse, counts = np.unique(object_ids(geoms), return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse] >= CLIP_GROUP)
    if len(repeated) == 0:
        return geoms
    centre = (rects[repeated, :2] + rects[repeated, 2:]) / 2
    low, span = centre.min(axis=0), np.ptp(centre, axis=0)
    cells = np.floor((centre - low) / np.where(span > 0, span, 1) * 65_535).astype(np.uint64)
    order = repeated[np.lexsort((_morton(cells[:, 0], cells[:, 1]), inverse[repeated]))]
    owner = inverse[order]
    rank = np.arange(len(order)) - np.searchsorted(owner, owner)
    group = np.cumsum(np.r_[True, (owner[1:] != owner[:-1]) | (rank[1:] % CLIP_GROUP == 0)]) - 1
    first = np.searchsorted(group, np.arange(group[-1] + 1))
    group_low = np.minimum.reduceat(rects[order, :2], first)
    group_high = np.maximum.reduceat(rects[order, 2:], first)
    grow = (group_high - group_low).max(axis=1) / 8
    cut = _clipped(geoms[order[first]], _grown(np.column_stack([group_low, group_high]), grow))
    out = geoms.copy()
    done = ~shapely.is_missing(cut)[group]
    out[order[done]] = cut[group[done]]
    return out


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Interleaved bits of 16-bit `x` and `y` (a Z-order key)."""
    key = np.zeros(len(x), dtype=np.uint64)
    for bit in range(16):
        key |= ((x >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        key |= ((y >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return key


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

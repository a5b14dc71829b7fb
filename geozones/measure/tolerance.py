"""The coordinate tolerance: boundaries closer than it are the same boundary.

Neighbouring polygons of a layer share their boundaries, but the shared vertices were
digitised, clipped or reprojected separately and differ by fractions of a millimetre. Desktop
GIS treats coordinates closer than an *XY tolerance* as the same point (ArcGIS's default for
data in metres is 0.001 m); geozones does the same with ``xy_tolerance``.

The test behind it is one of width: a polygon is **thin** (thinner than a width *w*) when no
disc of diameter *w* fits inside it, that is when its largest inscribed circle has a radius
under *w*/2, or equivalently when a negative buffer of *w*/2 leaves nothing of it. A polygon
made of several parts is thin when every part is. Two boundaries closer than *w* everywhere
enclose only thin polygons between them; a genuine overlap of any area, a 50 m × 4 cm strip
say, is not thin at *w* = 1 mm.

:func:`is_thin` is the test and :func:`split_thin_parts` separates the thin parts of polygons
from the rest; :func:`check_xy_tolerance` and :func:`tolerance_in_crs_units` validate a
tolerance in metres and convert it to the units of a CRS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pyproj
import shapely

from geozones.choices import checked_non_negative
from geozones.errors import ToleranceError
from geozones.io.validity import polygonal_parts
from geozones.parallel import concatenate_blocks, map_by_cost

#: The default coordinate tolerance, in metres: ArcGIS's default XY tolerance for data in metres.
DEFAULT_XY_TOLERANCE = 0.001
#: Vertices of a thin part closer than this share of the width to a piece it merges into are
#: put into that piece (1e-7 m for 1 mm: a hundred units in the last place of a prefixed
#: Gauss-Krüger easting, a million times less than the parts merged).
_SNAP_SHARE = 1e-4
#: The largest tolerance accepted, in metres. Boundaries this far apart are not digitising noise.
MAX_XY_TOLERANCE = 1.0
#: Metres per degree of latitude or longitude at most (a degree of longitude at the equator):
#: a tolerance in degrees is never wider than the tolerance in metres, in any direction.
_METRES_PER_DEGREE = 111_320.0


def check_xy_tolerance(xy_tolerance: object, *, name: str = "xy_tolerance") -> float:
    """The tolerance as a float, in metres, or a :class:`~geozones.errors.ToleranceError`.

    Parameters
    ----------
    xy_tolerance : float
        Metres, from 0 (exact geometry) to :data:`MAX_XY_TOLERANCE` (1 m).
    name : str, default "xy_tolerance"
        How the value is called where it came from (an option, a configuration key), for
        the message.

    Returns
    -------
    float
        The tolerance.

    Raises
    ------
    ToleranceError
        Not a number, NaN, negative or larger than 1 m.

    Examples
    --------
    >>> check_xy_tolerance(0.001)
    0.001
    >>> check_xy_tolerance(-1)
    Traceback (most recent call last):
    ...
    geozones.errors.ToleranceError: xy_tolerance must be 0 or more (metres), not -1; ...
    """
    if isinstance(xy_tolerance, bool) or not isinstance(xy_tolerance, Real):
        raise ToleranceError(
            f"{name} must be a number of metres (e.g. 0.001), not {xy_tolerance!r}"
        )
    value = float(xy_tolerance)
    if math.isnan(value):
        raise ToleranceError(f"{name} is NaN; give a number of metres such as 0.001")
    if value < 0:
        raise ToleranceError(
            f"{name} must be 0 or more (metres), not {xy_tolerance!r}; 0 compares exact "
            "geometry, 0.001 is ArcGIS's default"
        )
    if value > MAX_XY_TOLERANCE:
        raise ToleranceError(
            f"{name} of {value:g} m is too large: boundaries that far apart are not "
            f"digitising noise, and genuine conflicts narrower than {value:g} m would be "
            f"dismissed. Give at most {MAX_XY_TOLERANCE:g} m (ArcGIS's default is 0.001 m); "
            "to ignore small conflicts, set the sliver threshold (min_area_m2) instead"
        )
    return value


def tolerance_in_crs_units(xy_tolerance: float, crs: object) -> float:
    """A tolerance in metres in the units of `crs`'s coordinates.

    Parameters
    ----------
    xy_tolerance : float
        Metres.
    crs : pyproj.CRS or anything pyproj accepts
        The CRS of the geometries. In a geographic CRS the tolerance becomes degrees at
        111,320 m per degree, the most a degree spans anywhere: the tolerance in degrees is
        never wider than `xy_tolerance` metres on the ground, but narrower east-west away
        from the equator (0.77 mm for 1 mm at 40°N).

    Returns
    -------
    float
        The tolerance in the CRS's units.

    Examples
    --------
    >>> tolerance_in_crs_units(0.001, 4527)
    0.001
    >>> round(tolerance_in_crs_units(1.0, 4490) * 111_320, 12)
    1.0
    """
    checked_non_negative(xy_tolerance, name="xy_tolerance", unit="m")
    crs = pyproj.CRS.from_user_input(crs)
    if crs.is_geographic:
        return xy_tolerance / _METRES_PER_DEGREE
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return xy_tolerance / (factor or 1.0)


def is_thin(geoms: np.ndarray, width: float) -> np.ndarray:
    """True where no disc of diameter `width` fits inside a polygon (in any of its parts).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygons or multipolygons (other types and empty geometries count as thin: they
        have no area).
    width : float
        In the units of the coordinates. 0 makes nothing thin but empty geometries.

    Returns
    -------
    numpy.ndarray of bool
        True where the negative buffer of ``width / 2`` is empty.

    Notes
    -----
    Polygons with less area than a disc of diameter `width` are thin, and those whose area
    exceeds ``width × perimeter + π width² / 4`` are thick, without a buffer: every point of
    a thin polygon lies within ``width / 2`` of its boundary, and that band holds at most that
    much area. Of the others, a polygon that lies in a strip narrower than `width` along its
    longest edge (a sliver along one straight boundary), or in up to four strips whose
    widths add up to less (a gap where boundaries meet), is thin (:func:`in_narrow_strips`).
    Only the rest are buffered.

    Examples
    --------
    A 50 m × 4 cm strip is not thin at 1 mm; a 50 m × 0.5 mm strip is:

    >>> import numpy as np
    >>> from shapely import box
    >>> is_thin(np.array([box(0, 0, 50, 0.04), box(0, 0, 50, 0.0005)]), 0.001).tolist()
    [False, True]
    """
    checked_non_negative(width, name="width", unit="CRS units")
    geoms = np.asarray(geoms, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    area = np.where(empty, 0.0, shapely.area(geoms))
    result = empty | (area <= 0)
    if width <= 0:
        return result
    thin, thick = thin_or_thick_by_size(area, shapely.length(geoms), width)
    result |= thin
    doubtful = np.flatnonzero(~result & ~thick)
    if len(doubtful):
        narrow = concatenate_blocks(lambda block: _in_narrow_strips(block, width), geoms[doubtful])
        result[doubtful[narrow]] = True
        doubtful = doubtful[~narrow]
    if len(doubtful):

        def eroded_away(block: np.ndarray) -> np.ndarray:
            return np.asarray(shapely.is_empty(shapely.buffer(block, -width / 2)))

        # Buffers cost by the coordinate, and a block of 50,000 parts is one thread's.
        result[doubtful] = map_by_cost(
            eroded_away, geoms[doubtful], shapely.get_num_coordinates(geoms[doubtful])
        )
    return result


def thin_or_thick_by_size(
    area: np.ndarray, length: np.ndarray, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which polygons are thin, and which thick, for certain from their area and perimeter.

    A polygon holding a disc of diameter `width` has at least its area; one without has at
    most the area of the band within ``width / 2`` of its boundary, ``width × perimeter + π
    width² / 4``. Polygons in neither are undecided (:func:`is_thin` looks further).

    Parameters
    ----------
    area, length : numpy.ndarray
        Each polygon's area and boundary length (holes included).
    width : float
        As for :func:`is_thin`.

    Returns
    -------
    thin, thick : numpy.ndarray of bool

    Examples
    --------
    >>> thin, thick = thin_or_thick_by_size(np.array([1e-7, 0.05, 1.0]),
    ...                                     np.array([0.002, 100.0, 4.0]), 0.001)
    >>> thin.tolist(), thick.tolist()
    ([True, False, False], [False, False, True])
    """
    disc = math.pi * width * width / 4
    return area < disc, area > width * length + disc


def best_per_group(group: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per group, the position of its highest score (the first of equal ones).

    Parameters
    ----------
    group, score : numpy.ndarray
        A group label and a score per row.

    Returns
    -------
    numpy.ndarray
        One row position per group present, in the order of the groups.

    Examples
    --------
    >>> best_per_group(np.array([3, 1, 3, 1]), np.array([0.5, 2.0, 0.7, 2.0])).tolist()
    [1, 2]
    """
    best = np.lexsort((-score, group))
    return best[np.r_[True, group[best][1:] != group[best][:-1]]]


#: A part is certainly thin when its vertices lie in a strip narrower than this share of the
#: width: a margin far above the rounding of the projections (1e-14 m on a 100 m sliver).
STRIP_SHARE = 0.999


def _in_narrow_strips(geoms: np.ndarray, width: float) -> np.ndarray:
    """:func:`in_narrow_strips` of polygons; multipolygons are left to the buffer."""
    narrow = np.zeros(len(geoms), dtype=bool)
    polygons = np.flatnonzero(
        (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON)
        & (shapely.get_num_coordinates(geoms) >= 4)
    )
    if len(polygons) == 0:
        return narrow
    coords, owner = shapely.get_coordinates(geoms[polygons], return_index=True)
    first = np.searchsorted(owner, np.arange(len(polygons) + 1))
    narrow[polygons] = in_narrow_strips(coords, first, width)
    return narrow


def in_narrow_strips(coords: np.ndarray, first: np.ndarray, width: float) -> np.ndarray:
    """True where a polygon lies in strips whose widths add up to less than `width`.

    Such a polygon is thin (:func:`is_thin`): a disc is covered by strips only if their
    widths add up to its diameter at least (Bang's plank theorem, 1951), so no disc of
    diameter `width` fits. The strips take the polygon's edges: the first runs along the
    longest edge and holds the edges near its line, the next along the longest edge left,
    up to four (a sliver along one parcel edge lies in one strip; a gap where two, three or
    four parcel edges meet, an L, a V, a T or an X of slivers, in as many). The polygon lies
    where its boundary keeps it: in the strips, or in a cell of points outside them all
    that no edge crosses, on the same side of each strip (a convex cell). A cell that
    reaches beyond the polygon's box lies outside the polygon; with three strips or more
    the others, closed in by the strips, count at their width too. Each strip is held to
    its edges' vertices, with a margin of :data:`STRIP_SHARE` for the rounding of the
    projections. GEOS's oriented envelope is not used: at Gauss-Krüger eastings, on a 0.9
    mm sliver turned 133°, it gave a "rectangle" smaller than the sliver.

    Parameters
    ----------
    coords : numpy.ndarray
        ``(n, 2)``: the polygons one after the other, each its rings (closed) in turn.
    first : numpy.ndarray of int
        Polygon ``k`` is ``coords[first[k]:first[k + 1]]``; each of 4 coordinates or more.
    width : float
        As for :func:`is_thin`.

    Returns
    -------
    numpy.ndarray of bool
        Per polygon.

    Examples
    --------
    A sliver along one edge, a V of two 0.3 mm wide arms, and a unit square (in four strips
    of no width, which close it in):

    >>> sliver = [(0, 0), (50, 0.0001), (100, 0), (50, -0.0004), (0, 0)]
    >>> v = [(0, 0), (100, 0.0003), (100.0003, 0), (0.0004, -0.0002), (80, -60),
    ...      (79.9997, -60.0002), (0, 0)]
    >>> square = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
    >>> in_narrow_strips(np.array(sliver + v + square, dtype=float), np.array([0, 5, 12, 17]),
    ...                  0.001).tolist()
    [True, True, False]
    """
    from geozones.measure import kernels  # loads numba

    return np.asarray(
        kernels.in_strips(
            np.ascontiguousarray(coords, dtype=np.float64),
            np.asarray(first, dtype=np.int64),
            STRIP_SHARE * width,
        )
    )


def split_thin_parts(geoms: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Each polygon's thin parts apart from the rest.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygonal geometries (results of an overlay, say).
    width : float
        As for :func:`is_thin`.

    Returns
    -------
    thick, thin : numpy.ndarray
        For each geometry, the union of its parts that are not thin, and of those that are
        (empty MultiPolygons where there are none). A geometry with no thin part is returned
        as it is in `thick`.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import MultiPolygon, box
    >>> piece = MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 0.0004)])
    >>> thick, thin = split_thin_parts(np.array([piece]), 0.001)
    >>> thick[0].area, round(thin[0].area, 6)
    (100.0, 0.004)
    """
    checked_non_negative(width, name="width", unit="CRS units")
    geoms = np.asarray(geoms, dtype=object)
    thick = geoms.copy()
    thin = np.array([shapely.MultiPolygon()] * len(geoms), dtype=object)
    if width <= 0 or len(geoms) == 0:
        return thick, thin
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return thick, thin
    part_thin = is_thin(parts, width)
    touched = np.unique(owner[part_thin])
    if len(touched) == 0:
        return thick, thin
    selected = np.isin(owner, touched)
    rebuilt_thick = np.array([shapely.MultiPolygon()] * len(touched), dtype=object)
    rebuilt_thin = rebuilt_thick.copy()
    slot = np.searchsorted(touched, owner)
    keep = selected & ~part_thin
    drop = selected & part_thin
    shapely.multipolygons(parts[keep], indices=slot[keep], out=rebuilt_thick)
    shapely.multipolygons(parts[drop], indices=slot[drop], out=rebuilt_thin)
    thick[touched] = _single_as_polygon(rebuilt_thick)
    thin[touched] = rebuilt_thin
    return thick, thin


def _single_as_polygon(geoms: np.ndarray) -> np.ndarray:
    """MultiPolygons of one part as that Polygon."""
    single = shapely.get_num_geometries(geoms) == 1
    result = geoms.copy()
    result[single] = shapely.get_geometry(geoms[single], 0)
    return result


def eliminate_thin_parts(geoms: np.ndarray, group: np.ndarray, width: float) -> np.ndarray:
    """Merge each thin part of a piece into the piece of its group that it borders most.

    Like ArcGIS *Eliminate* with the longest shared border, among the pieces one whole was
    cut into: no area changes group, and a group's pieces still add up to the whole.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Disjoint polygonal pieces.
    group : numpy.ndarray of int
        For each piece, the whole it belongs to; thin parts move only within a group.
    width : float
        As for :func:`is_thin`.

    Returns
    -------
    numpy.ndarray
        The pieces, each thin part merged into the other piece of its group that holds the
        most area within `width` of it (along a shared border, that is the longest border).
        A thin part with no other piece of its group within `width` stays where it was.

    Examples
    --------
    A parcel cut in two along a line that ran 0.4 mm inside its eastern edge: the strip
    left over joins the piece it borders.

    >>> import numpy as np
    >>> from shapely import MultiPolygon, box
    >>> kept = MultiPolygon([box(0, 0, 60, 100), box(99.9996, 0, 100, 100)])
    >>> taken = box(60, 0, 99.9996, 100)
    >>> merged = eliminate_thin_parts(np.array([kept, taken]), np.array([0, 0]), 0.001)
    >>> [round(piece.area, 6) for piece in merged]
    [6000.0, 4000.0]
    """
    checked_non_negative(width, name="width", unit="CRS units")
    geoms = np.asarray(geoms, dtype=object)
    group = np.asarray(group)
    thick, thin = split_thin_parts(geoms, width)
    parts, source = shapely.get_parts(thin, return_index=True)
    if len(parts) == 0:
        return geoms
    # Candidates: the other pieces of the part's group whose thick part it reaches. (Every
    # piece of the group, paired with every thin part, held 24 GiB and more when a red-line
    # polygon was cut by a jittered tessellation of parcels.)
    from geozones.measure.shared_area import intersection_areas  # loads numba

    reach = map_by_cost(
        lambda block: shapely.buffer(block, width), parts, shapely.get_num_coordinates(parts)
    )
    # Pieces whose boxes meet the reach's (no predicate): one that does not meet the reach
    # itself scores 0 below, which costs less than GEOS's test of every pair.
    part_index, candidate = shapely.STRtree(thick).query(reach)
    usable = (group[candidate] == group[source[part_index]]) & (candidate != source[part_index])
    part_index, candidate = part_index[usable], candidate[usable]
    score = intersection_areas(reach, thick, part_index, candidate)
    target = source.copy()
    if len(score):
        first = best_per_group(part_index, score)
        moved = score[first] > 0
        target[part_index[first[moved]]] = candidate[first[moved]]
    # Each piece: its thick part and the thin parts that land on it, unioned.
    members = np.concatenate([np.arange(len(geoms)), target])
    pieces = np.concatenate([thick, parts])
    slot_order = np.argsort(members, kind="stable")
    members, pieces = members[slot_order], pieces[slot_order]
    column = np.arange(len(members)) - np.searchsorted(members, members, side="left")
    table = np.full((len(geoms), int(column.max()) + 1), None, dtype=object)
    table[members, column] = pieces
    touched = np.unique(np.concatenate([source, target]))
    result = geoms.copy()
    corner = np.full((len(geoms), 2), np.inf)
    np.minimum.at(corner, members, np.nan_to_num(shapely.bounds(pieces)[:, :2], nan=np.inf))
    origin = np.floor(np.where(np.isfinite(corner), corner, 0.0))[touched]

    def merge(rows: np.ndarray) -> np.ndarray:
        # Unioned near the origin: parts a few micrometres wide, 40,000 km from it, are
        # within the snapping tolerance GEOS falls back to (1e-12 of the largest coordinate)
        # and vanish.
        local = shift_rows(table[touched[rows]], -origin[rows])
        # A part cut by another overlay meets the piece along an edge that may carry a
        # vertex the piece lacks, rounded up to a unit in the last place off that edge: put
        # those vertices into the piece first (they move it by no more), or the union leaves
        # the part beside it instead of in it.
        if local.shape[1] > 1:
            arriving = shapely.geometrycollections(list(local[:, 1:]))
            local[:, 0] = shapely.snap(local[:, 0], arriving, width * _SNAP_SHARE)
        # The piece and what lands on it, as a union of two: GEOS's unary union of a row
        # cost eight times as much on a multipolygon of hundreds of parts (it unions the
        # parts with one another too).
        arrived = (
            shapely.union_all(local[:, 1:], axis=1)
            if local.shape[1] > 1
            else np.full(len(local), shapely.GeometryCollection())
        )
        merged = shift_rows(shapely.union(local[:, 0], arrived)[:, np.newaxis], origin[rows])
        return _single_as_polygon(polygonal_parts(merged[:, 0]))

    cost = shapely.get_num_coordinates(table[touched]).sum(axis=1)
    result[touched] = map_by_cost(merge, np.arange(len(touched)), cost)
    return result


def shift_rows(table: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Move the geometries of each row of `table` by that row's ``offset`` (dx, dy).

    With whole-number offsets near the coordinates, as overlays near the origin need, the
    move there and back is exact: the difference of two doubles within a factor of two of
    each other is a double (Sterbenz's lemma), and so is the sum back.

    Parameters
    ----------
    table : numpy.ndarray
        A 2-d array of geometries (None where there is none).
    offset : numpy.ndarray
        ``(rows, 2)``.

    Returns
    -------
    numpy.ndarray
        The moved geometries, shaped like `table`.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import Point
    >>> point = np.array([[Point(39_500_000.25, 3_150_000.5)]])
    >>> moved = shift_rows(point, np.array([[-39_500_000.0, -3_150_000.0]]))
    >>> moved[0, 0].coords[0]
    (0.25, 0.5)
    """
    flat = table.ravel()
    present = np.flatnonzero(~shapely.is_missing(flat))
    shift = np.repeat(np.arange(table.shape[0]), table.shape[1])[present]
    counts = shapely.get_num_coordinates(flat[present])
    per_coordinate = np.repeat(np.asarray(offset, dtype=float)[shift], counts, axis=0)
    moved = flat.copy()
    moved[present] = shapely.transform(flat[present], lambda xy: xy + per_coordinate)
    return moved.reshape(table.shape)


@dataclass
class PhantomTally:
    """Overlaps dismissed as thinner than the tolerance, counted per pair of layers.

    What a result records in ``attrs["phantoms"]`` (:meth:`as_dict`): ``count`` (overlaps
    of two features dismissed), ``area_m2`` (their ellipsoidal area) and ``by_layers``, the
    same per pair of layers.

    Examples
    --------
    >>> tally = PhantomTally()
    >>> tally.add("redline", "redline", count=3, area_m2=0.25)
    >>> tally.add("farmland", "redline", count=1, area_m2=0.5)
    >>> record = tally.as_dict()
    >>> record["count"], record["area_m2"], len(record["by_layers"])
    (4, 0.75, 2)
    """

    by_layers: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def add(self, layer_a: str, layer_b: str, *, count: int, area_m2: float) -> None:
        """Add dismissed overlaps between `layer_a` and `layer_b` (the same for within)."""
        before_count, before_area = self.by_layers.get((layer_a, layer_b), (0, 0.0))
        self.by_layers[(layer_a, layer_b)] = (before_count + int(count), before_area + area_m2)

    def merge(self, record: dict[str, Any]) -> None:
        """Add the counts of another result's ``attrs["phantoms"]``."""
        for row in record.get("by_layers", []):
            self.add(row["layer_a"], row["layer_b"], count=row["count"], area_m2=row["area_m2"])

    def as_dict(self) -> dict[str, Any]:
        """The record, JSON-ready."""
        rows: list[dict[str, Any]] = [
            {"layer_a": a, "layer_b": b, "count": int(count), "area_m2": float(area)}
            for (a, b), (count, area) in self.by_layers.items()
        ]
        return {
            "count": sum(int(count) for count, _ in self.by_layers.values()),
            "area_m2": float(sum(area for _, area in self.by_layers.values())),
            "by_layers": rows,
        }

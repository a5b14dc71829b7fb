"""The faces of overlapping regions: their boundaries noded, and the pieces they bound.

:func:`geozones.overlap_count <geozones.analysis.conflicts.overlap_count>` planarises the
overlaps between layers: every region's boundary is noded against every other's and the
faces they bound are polygonized (as ArcGIS *Count Overlapping Features* does). Noding all
boundaries at once is one GEOS call on one core, and grows faster than the boundaries: on
the 102,000 overlaps of ``bench_hard.py``'s medium tessellated setting it took 15 s.

Boundaries of regions that do not meet cannot cross, so the faces are found per group of
regions linked by meeting (connected components), in threads: a region that meets no other is
its own faces (its polygons), and a group's faces are those of its own boundaries that lie in
one of its regions (tested at a point well inside each face, :func:`interior_points`). A
face of the group in a hole of a region (where a region of another group may lie) is not in
any of its regions, and is left out, so no face of one group overlaps another's.

Each group's boundaries are noded by snap rounding on a grid of a few units in the last
place of the coordinates (:func:`snap_grid`): GEOS's floating-point noding missed crossings
of boundaries a few centimetres apart, and polygonize dropped the invalid rings, 155,000 m² of
449 km² of overlaps on that setting. A region's faces then add up to its area to within its
boundary's length times the grid step (1.2e-7 m at Gauss-Krüger eastings). That is checked,
group by group: where the faces found do not make up every region (polygonize found cut
edges instead of an 8,849 m² face on a tessellation's overlaps), the group is noded again in
floating point, and the faces that miss the regions by less are kept (6 groups of 3,054 on
that setting were noded again; the faces kept miss a region by 2.0e-3 m² at most).

A caller can group the regions itself: :func:`geozones.overlap_count` links only regions
that overlap in more than phantoms, so a tessellation's overlaps, which all meet their
neighbours' in slivers thinner than the tolerance, are not noded as one group of thousands.
"""

from __future__ import annotations

import numpy as np
import shapely

from geozones.analysis._pairs import components
from geozones.analysis.overlaps import Overlaps, classified_overlaps
from geozones.analysis.polygonize import polygonize_noded
from geozones.parallel import map_by_cost, query_pairs


def overlay_faces(regions: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """The faces into which the boundaries of `regions` cut the land the regions cover.

    Parameters
    ----------
    regions : numpy.ndarray of shapely geometries
        Valid polygons and multipolygons.
    threads : int, optional
        Threads for the noding (``GEOZONES_THREADS``, else the CPU count, when omitted).

    Returns
    -------
    numpy.ndarray of shapely Polygons
        Faces that do not overlap each other, whose union is the union of `regions`; every
        boundary of a region lies along faces' boundaries. Grouped by the regions they come
        from, not in any particular order.

    Examples
    --------
    Two squares overlapping in a third of each, and a square apart:

    >>> from shapely import box
    >>> faces = overlay_faces(np.array([box(0, 0, 3, 3), box(2, 0, 5, 3), box(9, 9, 10, 10)]))
    >>> sorted(face.area for face in faces)
    [1.0, 3.0, 6.0, 6.0]
    """
    return faces_and_points(regions, threads=threads)[0]


def faces_and_points(
    regions: np.ndarray,
    *,
    group: np.ndarray | None = None,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`overlay_faces`, and a point inside each face (as :func:`face_points` finds it).

    The groups' faces are tested against their regions at those points already: callers that
    place the faces (in layers, in zones) use them rather than look for them again.

    Parameters
    ----------
    regions : numpy.ndarray of shapely geometries
        Valid polygons and multipolygons.
    group : numpy.ndarray of int, optional
        A label (0 or more) per region: the boundaries of the regions of one label are noded
        together, and regions of different labels are faced apart, so their faces overlap
        wherever the regions do. By default the regions linked by meeting (connected
        components);
        :func:`geozones.overlap_count` does not link regions that overlap only in phantoms
        thinner than the tolerance.
    threads : int, optional
        As for :func:`overlay_faces`.

    Returns
    -------
    faces, points : numpy.ndarray
        The faces of :func:`overlay_faces`, and a point inside each.
    """
    regions = np.asarray(regions, dtype=object)
    if len(regions) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=object)
    grid = snap_grid(regions)
    clearance = CLEARANCE_GRIDS * grid
    if group is None:
        left, right = query_pairs(
            shapely.STRtree(regions), regions, predicate="intersects", threads=threads
        )
        _, group = components(len(regions), left, right)
    alone = np.bincount(group)[group] == 1
    singles = shapely.get_parts(regions[alone]).astype(object)
    faces, points = [singles], [interior_points(singles, clearance=clearance)]
    linked = np.flatnonzero(~alone)
    linked = linked[np.argsort(group[linked], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(group[linked]) != 0])[: len(linked)]
    bounds = np.append(starts, len(linked))

    def faces_of(groups: np.ndarray) -> np.ndarray:
        out = np.empty(len(groups), dtype=object)
        for k, g in enumerate(groups):
            members = regions[linked[bounds[g] : bounds[g + 1]]]
            out[k] = _group_faces(members, grid, clearance)
        return out

    if len(linked):
        cost = np.add.reduceat(shapely.get_num_coordinates(regions[linked]), starts)
        grouped = map_by_cost(faces_of, np.arange(len(starts)), cost, threads=threads)
        faces.extend(part[0] for part in grouped)
        points.extend(part[1] for part in grouped)
    return np.concatenate(faces).astype(object), np.concatenate(points).astype(object)


def _group_faces(
    members: np.ndarray, grid: float, clearance: float
) -> tuple[np.ndarray, np.ndarray]:
    """The faces of one group of regions, and a point inside each.

    Noded by snap rounding; where the faces found do not make up every region (to its
    boundary's length times the grid step), noded again in floating point, and the faces that
    miss the regions by less kept.
    """
    boundaries = shapely.boundary(members)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for grid_size in (grid, None):
        try:
            noded = shapely.union_all(boundaries, grid_size=grid_size)
        except shapely.errors.GEOSException:  # pragma: no cover - not seen on lines
            if grid_size is None:
                raise
            continue
        found = polygonize_noded(shapely.get_parts(noded))
        found = found[shapely.area(found) > 0]
        inside = interior_points(found, clearance=clearance)
        member, face = shapely.STRtree(inside).query(members, predicate="intersects")
        held = np.bincount(member, weights=shapely.area(found)[face], minlength=len(members))
        miss = float(
            np.max(np.abs(held - shapely.area(members)) / (shapely.length(members) * grid))
        )
        if best is None or miss < best[0]:
            kept = np.unique(face)
            best = (miss, found[kept], inside[kept])
        if miss <= 1:
            break
    assert best is not None
    return best[1], best[2]


def genuine_groups(
    regions: np.ndarray, *, width: float, threads: int | None = None
) -> tuple[np.ndarray, Overlaps]:
    """Regions grouped by overlapping in more than phantoms, for :func:`faces_and_points`.

    Parameters
    ----------
    regions : numpy.ndarray of shapely geometries
        Valid polygons and multipolygons.
    width : float
        The tolerance in the units of the coordinates: overlaps whose every part is thinner
        are phantoms (:func:`geozones.analysis.overlaps.classified_overlaps`).
    threads : int, optional
        As for :func:`overlay_faces`.

    Returns
    -------
    group : numpy.ndarray of int
        A label per region: the connected components of the regions linked by genuine
        overlaps.
    among : Overlaps
        The overlaps among the regions, phantoms left as rings.

    Examples
    --------
    Two squares overlapping by 1 m, and a third along the second's edge, 0.3 mm over it:

    >>> from shapely import box
    >>> regions = np.array([box(0, 0, 2, 2), box(1, 0, 3, 2), box(2.9997, 0, 5, 2)])
    >>> group, among = genuine_groups(regions, width=0.001)
    >>> group.tolist(), among.phantom.tolist()
    ([0, 0, 1], [False, True])
    """
    among = classified_overlaps(
        regions, regions, same_layer=True, width=width, threads=threads, build_phantoms=False
    )
    genuine = ~among.phantom
    _, group = components(len(regions), among.left_index[genuine], among.right_index[genuine])
    return group, among


def face_points(faces: np.ndarray) -> np.ndarray:
    """A point inside each face of :func:`overlay_faces`, clear of the noding's rounding.

    Parameters
    ----------
    faces : numpy.ndarray of shapely Polygons
        Faces (of :func:`overlay_faces`, say).

    Returns
    -------
    numpy.ndarray of shapely Points
        :func:`interior_points` at :data:`CLEARANCE_GRIDS` steps of :func:`snap_grid`.
    """
    return interior_points(faces, clearance=CLEARANCE_GRIDS * snap_grid(faces))


def interior_points(polygons: np.ndarray, *, clearance: float = 0.0) -> np.ndarray:
    """A point inside each polygon, at least `clearance` from its boundary where it can be.

    ``shapely.point_on_surface`` first. GEOS's point can lie on the boundary, or a hair's
    breadth from it (on a 2,027 m² face of a tessellation's overlaps, 5.5e-9 m from a
    boundary, and outside the region the face came from once noded on a grid); there, the
    centroid of the largest triangle of the polygon's constrained Delaunay triangulation
    (GEOS's largest inscribed circle took over a second on some slivers).

    Parameters
    ----------
    polygons : numpy.ndarray of shapely geometries
        Polygons with area.
    clearance : float, default 0
        Distance from the boundary wanted, in the units of the coordinates.

    Returns
    -------
    numpy.ndarray of shapely Points

    Examples
    --------
    >>> from shapely import box
    >>> interior_points(np.array([box(0, 0, 4, 2)]))[0].wkt
    'POINT (2 1)'
    """
    polygons = np.asarray(polygons, dtype=object)
    points = shapely.point_on_surface(polygons)
    near = ~shapely.contains_properly(polygons, points)
    if clearance > 0:
        near |= shapely.distance(shapely.boundary(polygons), points) < clearance
    near = np.flatnonzero(near)
    if len(near):
        # The centroid of the largest triangle of each polygon's constrained triangulation:
        # inside it, a third of the triangle's smallest height from the polygon's boundary.
        triangles, owner = shapely.get_parts(
            shapely.constrained_delaunay_triangles(polygons[near]), return_index=True
        )
        if len(triangles):
            area = shapely.area(triangles)
            order = np.lexsort((-area, owner))
            first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
            points[near[owner[first]]] = shapely.centroid(triangles[first])
    return points


#: A face's point is tested against the regions at least this many grid steps inside it (the
#: noding moves boundaries by up to half a step).
CLEARANCE_GRIDS = 64
#: Boundaries are noded on a grid of this many units in the last place of the largest
#: coordinate (snap rounding): 1.2e-7 m at Gauss-Krüger eastings of 4e7 m.
GRID_ULPS = 16


def snap_grid(geoms: np.ndarray) -> float:
    """The grid :func:`overlay_faces` nodes on: :data:`GRID_ULPS` ulps of the largest coordinate.

    GEOS's floating-point noding of boundaries that run a few centimetres apart over hundreds
    of metres (a parcel's overlaps with the red line and with the urban boundary) missed
    crossings: rings came out invalid and polygonize dropped their faces, 11,395 m² of one
    tessellated parcel. Snap rounding on a grid is robust; a grid this fine moves no vertex by
    more than a ten-millionth of a metre at Gauss-Krüger eastings.
    """
    if len(geoms) == 0:
        return 0.0
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    largest = max(abs(xmin), abs(ymin), abs(xmax), abs(ymax), 1.0)
    return float(2.0 ** np.ceil(np.log2(GRID_ULPS * np.spacing(largest))))

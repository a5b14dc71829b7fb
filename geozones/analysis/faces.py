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
boundary's length times the grid step (1.2e-7 m at Gauss-Krüger eastings).
"""

from __future__ import annotations

import numpy as np
import shapely

from geozones.analysis._pairs import components
from geozones.parallel import map_by_cost


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
    regions: np.ndarray, *, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`overlay_faces`, and a point inside each face (as :func:`face_points` finds it).

    The groups' faces are tested against their regions at those points already: callers that
    place the faces (in layers, in zones) use them rather than look for them again.

    Parameters
    ----------
    regions : numpy.ndarray of shapely geometries
        Valid polygons and multipolygons.
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
    left, right = shapely.STRtree(regions).query(regions, predicate="intersects")
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
            boundaries = shapely.boundary(members)
            try:
                noded = shapely.union_all(boundaries, grid_size=grid)
            except shapely.errors.GEOSException:  # pragma: no cover - not seen on lines
                noded = shapely.union_all(boundaries)
            found = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
            inside = interior_points(found, clearance=clearance)
            _, held = shapely.STRtree(inside).query(members, predicate="intersects")
            held = np.unique(held)
            out[k] = (found[held], inside[held])
        return out

    if len(linked):
        cost = np.add.reduceat(shapely.get_num_coordinates(regions[linked]), starts)
        grouped = map_by_cost(faces_of, np.arange(len(starts)), cost, threads=threads)
        faces.extend(part[0] for part in grouped)
        points.extend(part[1] for part in grouped)
    return np.concatenate(faces).astype(object), np.concatenate(points).astype(object)


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

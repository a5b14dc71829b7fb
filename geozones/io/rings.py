"""The rings of polygons as flat coordinates, read out of GEOS once and never copied by it.

``shapely.get_rings`` copies every ring into a new geometry; on a red-line layer that costs as
much as reading the coordinates. :func:`polygon_rings` reads all coordinates once
(``shapely.get_coordinates``) and splits them into rings itself, asking GEOS only how many holes
each polygon has (and, for multipolygons, for their parts). The area's ring pass
(:mod:`geozones.measure._rings`) and the validity proof (:mod:`geozones.io.proof`) both work on
the result.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, TypeVar

import numpy as np
import shapely

from geozones.parallel import map_blocks

T = TypeVar("T")


class PolygonRings(NamedTuple):
    """All ring coordinates of a polygon array, flat, with where each ring starts and belongs.

    Rings are in the order of the geometries, and of ``shapely.get_coordinates``: each
    polygon's exterior, then its holes; a multipolygon's polygons in turn.
    """

    coords: np.ndarray
    ring_starts: np.ndarray
    ring_lengths: np.ndarray
    ring_geometry: np.ndarray
    ring_is_hole: np.ndarray
    #: Per ring: it is the whole of its geometry, a Polygon without holes.
    ring_single: np.ndarray

    @property
    def ring_ends(self) -> np.ndarray:
        """Index of the last (closing) coordinate of each ring."""
        return self.ring_starts + self.ring_lengths - 1


def polygon_rings(geoms: np.ndarray) -> PolygonRings:
    """The rings of non-empty polygons and multipolygons, as flat coordinates.

    A Polygon without holes is one ring, all its coordinates; where polygons are small
    (parcels), one whose coordinates come back to their first vertex only at their end is
    taken to have none without asking GEOS, which costs more. The coordinates of the others are
    split where each ring comes back to its first vertex, into as many rings as GEOS counts
    holes (and parts): no ring is copied out of GEOS. A ring that comes back to its first
    vertex before its end is not simple, so its geometry is invalid whatever the split;
    where the split does not give GEOS's count of rings (such a ring, or one that ends on a
    repeated vertex), GEOS's rings are used.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Non-empty Polygons and MultiPolygons.

    Returns
    -------
    PolygonRings
        The coordinates and, per ring, its start, length, geometry and whether it is a hole.

    Examples
    --------
    >>> from shapely import Polygon, box
    >>> square_with_hole = Polygon(box(0, 0, 4, 4).exterior, [box(1, 1, 2, 2).exterior])
    >>> rings = polygon_rings(np.array([square_with_hole, box(5, 5, 6, 6)]))
    >>> rings.ring_geometry.tolist(), rings.ring_is_hole.tolist(), rings.ring_lengths.tolist()
    ([0, 0, 1], [False, True, False], [5, 5, 5])
    """
    from geozones.io._split import closes_only_at_end, ring_lengths_by_closure  # numba

    # The per-geometry counts run in threads (GEOS releases the GIL) while this thread
    # reads the coordinates (which holds it).
    counted = _in_background(_count_coordinates, geoms)
    coords = shapely.get_coordinates(geoms)
    blocks = counted()
    polygon = np.concatenate([block[0] for block in blocks])
    lengths = np.concatenate([block[1] for block in blocks]).astype(np.int64)
    holes = np.concatenate([block[2] for block in blocks])
    n = len(geoms)
    span_starts = np.cumsum(lengths) - lengths
    simple = polygon & (holes == 0)
    unasked = np.flatnonzero(polygon & (holes < 0))
    if len(unasked):
        closed = np.zeros(len(unasked), dtype=bool)
        closes_only_at_end(coords, span_starts[unasked], lengths[unasked], closed)
        simple[unasked[closed]] = True
        # A Polygon whose one ring comes back to its first vertex before its end (invalid)
        # has no holes either: GEOS says so.
        other = unasked[~closed]
        simple[other[shapely.get_num_interior_rings(geoms[other]) == 0]] = True
    if simple.all():
        return PolygonRings(
            coords=coords,
            ring_starts=span_starts,
            ring_lengths=lengths,
            ring_geometry=np.arange(n),
            ring_is_hole=np.zeros(n, dtype=bool),
            ring_single=np.ones(n, dtype=bool),
        )
    other = np.flatnonzero(~simple)
    other_rings, is_hole = _counted_rings(geoms[other])
    first_ring = np.concatenate([[0], np.cumsum(other_rings)]).astype(np.int64)
    split = np.zeros(int(first_ring[-1]), dtype=np.int64)
    if not ring_lengths_by_closure(
        coords, span_starts[other], span_starts[other] + lengths[other], first_ring, split
    ):
        split, other_rings, is_hole = _geos_rings(geoms[other])
    per_geometry = np.ones(n, dtype=np.int64)
    per_geometry[other] = other_rings
    first = np.cumsum(per_geometry) - per_geometry
    # The rings of each other geometry are consecutive, in order.
    owner = np.repeat(np.arange(len(other)), other_rings)
    rank = np.arange(len(owner)) - (np.cumsum(other_rings) - other_rings)[owner]
    at = first[other][owner] + rank
    total = int(per_geometry.sum())
    ring_lengths = np.empty(total, dtype=np.int64)
    ring_is_hole = np.zeros(total, dtype=bool)
    ring_single = np.zeros(total, dtype=bool)
    ring_lengths[first[simple]] = lengths[simple]
    ring_single[first[simple]] = True
    ring_lengths[at] = split
    ring_is_hole[at] = is_hole
    if ring_lengths.sum() != len(coords):  # pragma: no cover - GEOS's order, checked
        raise AssertionError("rings and coordinates disagree")
    return PolygonRings(
        coords=coords,
        ring_starts=np.cumsum(ring_lengths) - ring_lengths,
        ring_lengths=ring_lengths,
        ring_geometry=np.repeat(np.arange(n), per_geometry),
        ring_is_hole=ring_is_hole,
        ring_single=ring_single,
    )


#: Fewer geometries than this are counted in the calling thread: starting a thread costs
#: more (a quarter of a millisecond, in the small windows of a streamed run).
_BACKGROUND_FROM = 2_000


def _in_background(func: Callable[[np.ndarray], T], items: np.ndarray) -> Callable[[], list[T]]:
    """Start :func:`~geozones.parallel.map_blocks` in a thread; call the result to wait."""
    if len(items) < _BACKGROUND_FROM:
        done = map_blocks(func, items)
        return lambda: done
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(map_blocks, func, items)

    def result() -> list[T]:
        try:
            return future.result()
        finally:
            pool.shutdown()

    return result


#: Below this many coordinates per geometry (on average, in a block), GEOS is not asked for
#: the polygons' holes: looking at their coordinates for a ring's end is cheaper.
_ASK_HOLES_FROM = 64


def _count_coordinates(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per geometry: a Polygon (not a multipolygon)? its coordinates; its holes, or -1.

    The holes are counted by GEOS only for polygons of many coordinates: for small ones,
    asking costs more than finding the end of their first ring in the coordinates.
    """
    polygon = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    lengths = shapely.get_num_coordinates(geoms)
    holes = np.full(len(geoms), -1, dtype=np.int64)
    if lengths.sum() >= _ASK_HOLES_FROM * len(geoms):
        holes[polygon] = shapely.get_num_interior_rings(geoms[polygon])
    return polygon, lengths, holes


def _counted_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per geometry how many rings it has; per ring whether it is a hole (GEOS's counts).

    Asks GEOS for the parts of multipolygons and the number of holes of each polygon, not
    for the rings themselves. An empty part has no ring.
    """
    multi = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON
    part_owner = np.arange(len(geoms))
    part_rings = 1 + shapely.get_num_interior_rings(geoms).astype(np.int64)
    if multi.any():
        parts, owner = shapely.get_parts(geoms[multi], return_index=True)
        polygons = np.flatnonzero(~multi)
        part_owner = np.concatenate([polygons, np.flatnonzero(multi)[owner]])
        part_rings = np.concatenate(
            [
                part_rings[polygons],
                (1 + shapely.get_num_interior_rings(parts)) * ~shapely.is_empty(parts),
            ]
        ).astype(np.int64)
        order = np.argsort(part_owner, kind="stable")
        part_owner, part_rings = part_owner[order], part_rings[order]
    is_hole = np.ones(int(part_rings.sum()), dtype=bool)
    is_hole[(np.cumsum(part_rings) - part_rings)[part_rings > 0]] = False
    return np.bincount(part_owner, weights=part_rings, minlength=len(geoms)).astype(
        np.int64
    ), is_hole


def _geos_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ring its length; per geometry its number of rings; per ring whether a hole."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    per_geometry = np.bincount(part_owner[ring_part], minlength=len(geoms)).astype(np.int64)
    is_hole = np.diff(ring_part, prepend=-1) == 0
    return shapely.get_num_coordinates(rings).astype(np.int64), per_geometry, is_hole

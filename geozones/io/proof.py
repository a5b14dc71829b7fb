"""Proofs that polygons are valid, exact and much cheaper than GEOS's validity test.

The area's ring pass (:mod:`geozones.measure._rings`) proves most parcels valid (star-shaped
rings), but not large red-line polygons, polygons with holes or multipolygons. GEOS's ``is_valid``
builds a topology graph of every ring and costs seconds per million vertices: on a red-line
layer it takes several times as long as reading the layer.

:func:`certainly_valid` (or :func:`certainly_valid_rings`, for a caller that holds the rings'
coordinates already) proves the rest with a test that is certain or says nothing, in a
compiled loop (numba, cached on disk like :mod:`geozones.measure.kernels`), per geometry:

1. every ring is closed, has finite coordinates and at least three edges of non-zero length;
2. when every ring is star-shaped (around a point found by projections onto its edges'
   half-planes), every ring is simple, and only the edges lying in the box of another ring
   are paired with that ring's, on a uniform grid of cells about twice the median edge (for
   a small hole, a few edges of its shell); which rings hold the first vertex of each is
   counted along a ray, over the rings whose box holds it;
3. otherwise every ring is cut into x-monotone chains, as GEOS's noding does, and the chains
   are swept from left to right: two chains whose boxes meet are compared over the x-range
   they share, so the work is about linear in the vertices. Chains without vertical edges
   are functions of x there: they are apart when at every vertex of either the same one is
   certainly above the other (one orientation per vertex; a vertex the two chains share as
   their ends is not compared); other chains are compared edge by edge along x. No two edges
   may have a point in common, except consecutive edges of a ring at their shared vertex, and
   those must not double back along each other (only possible where x turns back or stands
   still); a star-shaped ring's chains are compared only with other rings'. Which rings hold
   the first vertex of each is counted along a ray upwards, which meets a chain at most once;
4. the rings therefore do not meet, and each lies wholly inside or outside each other: each
   hole lies in its own shell and in no other hole of its polygon; each shell lies outside
   every other polygon of the geometry, or inside one of its holes.

Geometries of over 1,024 rings, or whose rings' boxes or chains overlap so much that steps 2
or 3 would cost more, pair all their edges on one grid and count along its rows. Every
orientation is decided with Shewchuk's error bound for ``orient2d``: a geometry is declared
valid only when every step is certain. Rings that touch (a hole touching its shell at a point
is valid), collinear edges, crowded grid cells or a budget exceeded leave the geometry
undecided, and GEOS checks it.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import shapely

from geozones.io.rings import polygon_rings
from geozones.parallel import chunk_cuts, for_spans

#: Shewchuk's ccwerrboundA: |det| above this times the sum of |products| has a certain sign.
ORIENT_BOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53

# Coordinates per unit of work handed to a thread.
_CHUNK = 1 << 16
# Passes of projections looking for a point of a ring's kernel. On the benchmark's red line
# most rings that have one need 1-3, but a seventh of them, narrow zigzag stars, need more:
# with 16 passes instead of 32 the proof of single-ring polygons took 1.7x as long (more
# rings fell to the grid test, which costs a few times as much as a pass). A ring that does
# not fix fewer edges in its third pass than in its first is left to the chains' test (a
# pass costs about a tenth of it): most rings that are not star-shaped stop there.
_PASSES = 32
# Each projection goes this far past the edge's line (over-relaxation): on the benchmark's red
# line with 16 % multipolygons (rings cut in two, star-shaped but not around their vertex
# mean) the rings proven by the search needed 12 passes on average with plain projections
# and 2.2 with these, and a few more were proven. The proof at the end is exact either way.
_OVERSHOOT = 1.5


def certainly_valid(geoms: np.ndarray) -> np.ndarray:
    """True where a polygon or multipolygon is certainly valid; False where undecided.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygons and multipolygons. Anything else (missing, empty, other types) is
        undecided.

    Returns
    -------
    numpy.ndarray
        Booleans. True implies ``shapely.is_valid``; False says nothing (GEOS decides).
        Releases the GIL: the geometries are split over threads by their coordinates.

    Examples
    --------
    >>> from shapely import Polygon
    >>> square = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (2, 1), (2, 2)]])
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> certainly_valid(np.array([square, bowtie])).tolist()
    [True, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=np.bool_)
    usable = np.flatnonzero(
        np.isin(
            shapely.get_type_id(geoms),
            (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON),
        )
        & ~shapely.is_empty(geoms)
    )
    if len(usable) == 0:
        return out
    rings = polygon_rings(geoms[usable])
    decided = certainly_valid_rings(
        rings.coords,
        rings.ring_starts,
        rings.ring_lengths,
        rings.ring_is_hole,
        rings.ring_geometry,
        len(usable),
    )
    out[usable] = decided
    return out


def certainly_valid_rings(
    coords: np.ndarray,
    ring_starts: np.ndarray,
    ring_lengths: np.ndarray,
    ring_is_hole: np.ndarray,
    ring_geometry: np.ndarray,
    n_geometries: int,
    *,
    simple: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`certainly_valid` of geometries given as their rings' coordinates.

    For callers that hold the coordinates already (the area's ring pass): nothing is asked
    of GEOS.

    Parameters
    ----------
    coords : numpy.ndarray
        ``(n, 2)`` coordinates of all rings, one after the other.
    ring_starts, ring_lengths : numpy.ndarray
        Where each ring starts in `coords` and how many coordinates it has (closing one
        included).
    ring_is_hole : numpy.ndarray
        Per ring: a hole of the polygon whose shell is the closest ring before it that is
        not a hole.
    ring_geometry : numpy.ndarray
        Per ring: the geometry it belongs to, non-decreasing; each geometry's rings are in the
        order of its polygons and, in each, the shell first.
    n_geometries : int
        How many geometries; a geometry without rings is undecided.
    simple : numpy.ndarray, optional
        Per ring: already proven simple on its own (the ring pass's star test); the others
        are tested here.

    Returns
    -------
    numpy.ndarray
        Per geometry: True where certainly valid, False where undecided.

    Examples
    --------
    A unit square and a bow tie, as rings:

    >>> coords = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0),
    ...                    (0, 0), (2, 2), (2, 0), (0, 2), (0, 0)], dtype=float)
    >>> certainly_valid_rings(coords, np.array([0, 5]), np.array([5, 5]),
    ...                       np.array([False, False]), np.array([0, 1]), 2).tolist()
    [True, False]
    """
    decided = np.zeros(n_geometries, dtype=np.bool_)
    if len(ring_starts) == 0 or n_geometries == 0:
        return decided
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    starts = np.ascontiguousarray(ring_starts, dtype=np.int64)
    lengths = np.ascontiguousarray(ring_lengths, dtype=np.int64)
    is_hole = np.ascontiguousarray(ring_is_hole, dtype=np.bool_)
    # Rings of one polygon share a number: a shell starts the next one.
    ring_part = np.cumsum(~is_hole).astype(np.int64)
    known = (
        np.zeros(len(starts), dtype=np.bool_)
        if simple is None
        else np.ascontiguousarray(simple, dtype=np.bool_)
    )
    geometry_rings = np.searchsorted(ring_geometry, np.arange(n_geometries + 1)).astype(np.int64)
    # Spans of whole geometries of about _CHUNK coordinates each, spread over the threads.
    geometry_start = starts[np.minimum(geometry_rings[:-1], len(starts) - 1)]
    cuts = chunk_cuts(geometry_start, len(coords), _CHUNK)

    def span(bounds: tuple[int, int]) -> None:
        valid_polygons(
            coords,
            starts,
            lengths,
            ring_part,
            is_hole,
            known,
            geometry_rings,
            int(cuts[bounds[0]]),
            int(cuts[bounds[1]]),
            decided,
        )

    for_spans(span, len(cuts) - 1, min_span=1)
    return decided


@numba.njit(cache=True, nogil=True, inline="always")
def orientation(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float
) -> int:  # pragma: no cover - compiled
    """Sign of the turn ``a -> b -> c`` where it is certain (Shewchuk's filter), else 0.

    Exactly collinear points, NaN, infinities and products small enough to lose precision
    (under 1e-250) all give 0: undecided.
    """
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    size = abs(left) + abs(right)
    if not size > 1e-250:
        return 0
    det = left - right
    bound = ORIENT_BOUND * size
    if det > bound:
        return 1
    if -det > bound:
        return -1
    return 0


@numba.njit(cache=True, nogil=True)
def ring_forward(
    coords: np.ndarray, ring_start: np.ndarray, ring_stop: np.ndarray, ring_hole: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """Per ring: 1 if it runs the way it is followed, -1 if the other way, 0 if flat.

    Shells are followed anticlockwise and holes clockwise (the polygon on the left). A ring
    of zero area is 0: callers leave its polygon to GEOS.
    """
    out = np.zeros(len(ring_start), np.int8)
    for r in range(len(ring_start)):
        s = ring_start[r]
        ox = coords[s, 0]
        oy = coords[s, 1]
        twice = 0.0
        for i in range(s, ring_stop[r] - 1):
            twice += (coords[i, 0] - ox) * (coords[i + 1, 1] - oy) - (coords[i + 1, 0] - ox) * (
                coords[i, 1] - oy
            )
        if twice != 0.0:
            anticlockwise = twice > 0.0
            out[r] = 1 if anticlockwise != ring_hole[r] else -1
    return out


@numba.njit(cache=True, nogil=True)
def valid_polygons(
    coords: np.ndarray,
    ring_starts: np.ndarray,
    ring_lengths: np.ndarray,
    ring_part: np.ndarray,
    ring_is_hole: np.ndarray,
    ring_simple: np.ndarray,
    geometry_rings: np.ndarray,
    first: int,
    stop: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per geometry ``first..stop``: True where it is certainly a valid polygon(al) geometry.

    Geometry ``g`` has the rings ``geometry_rings[g]:geometry_rings[g + 1]``; the caller is
    :func:`certainly_valid_rings`, which documents the arguments and
    :func:`certainly_valid` the test. False means undecided, not invalid.
    """
    for g in range(first, stop):
        out[g] = _valid_polygon(
            coords,
            ring_starts,
            ring_lengths,
            ring_part,
            ring_is_hole,
            ring_simple,
            geometry_rings[g],
            geometry_rings[g + 1],
        )


#: What :func:`_rings_apart` found.
_APART, _UNDECIDED, _OVER_BUDGET = 1, 0, 2


@numba.njit(cache=True, nogil=True)
def _valid_polygon(
    coords: np.ndarray,
    ring_starts: np.ndarray,
    ring_lengths: np.ndarray,
    ring_part: np.ndarray,
    ring_is_hole: np.ndarray,
    ring_simple: np.ndarray,
    r0: int,
    r1: int,
) -> bool:  # pragma: no cover - compiled
    if r1 <= r0:
        return False
    # Star-shaped rings are simple: then only the rings need testing against each other.
    # Otherwise the rings' monotone chains are swept (a star-shaped ring's chains paired only
    # with other rings'). Where either would cost too much, one grid of all the geometry's
    # edges decides it all.
    stars = np.empty(r1 - r0, np.bool_)
    for r in range(r0, r1):
        s = ring_starts[r]
        n = ring_lengths[r]
        if not (
            n >= 4 and coords[s, 0] == coords[s + n - 1, 0] and coords[s, 1] == coords[s + n - 1, 1]
        ):
            return False
        stars[r - r0] = ring_simple[r] or (
            not _long_chains(coords, s, n) and _star_ring(coords, s, n)
        )
    if stars.all():
        if r1 - r0 == 1:
            return True
        # Only the edges inside another ring's box can meet that ring, and only rings whose
        # box holds a ring's vertex can hold that ring: usually a small part of a polygon's
        # edges for its holes, or of a multipolygon's for its parts.
        found = _rings_apart(
            coords, ring_starts, ring_lengths, ring_part, ring_is_hole, r0, r1, True
        )
    else:
        found = _chains_apart(
            coords, ring_starts, ring_lengths, ring_part, ring_is_hole, stars, r0, r1
        )
    if found != _OVER_BUDGET:
        return found == _APART
    return (
        _rings_apart(coords, ring_starts, ring_lengths, ring_part, ring_is_hole, r0, r1, False)
        == _APART
    )


#: A ring of at least 8 times this many vertices whose x turns back less than once in this
#: many edges is left to the chains' test without looking for a star: river-like rings (one
#: turn in 16 edges on the benchmark's corridors), where the projection passes fail. Stars
#: with narrow zigzags turn at every other edge and are looked for.
_CHAIN_EDGES = 8


@numba.njit(cache=True, nogil=True)
def _long_chains(coords: np.ndarray, s: int, n: int) -> bool:  # pragma: no cover - compiled
    """Whether ring ``coords[s:s + n]`` is long and its x-monotone chains are long."""
    if n < 8 * _CHAIN_EDGES:
        return False
    turns = 0
    direction = 0.0
    for i in range(s, s + n - 1):
        dx = coords[i + 1, 0] - coords[i, 0]
        if dx * direction < 0.0:
            turns += 1
        if dx != 0.0:
            direction = dx
    return turns * _CHAIN_EDGES < n


@numba.njit(cache=True, nogil=True)
def _rings_apart(
    coords: np.ndarray,
    ring_starts: np.ndarray,
    ring_lengths: np.ndarray,
    ring_part: np.ndarray,
    ring_is_hole: np.ndarray,
    r0: int,
    r1: int,
    boxed: bool,
) -> int:  # pragma: no cover - compiled
    """Rings ``r0..r1`` of one geometry: simple, apart and nested as a valid geometry's are.

    With `boxed` every ring is known to be simple, and only edges inside the box of another
    ring are paired, while nesting is counted over the whole of each ring whose box holds
    the point. Without, every edge is paired and nesting is counted along the grid row.
    Returns ``_APART`` (certain), ``_UNDECIDED``, or ``_OVER_BUDGET`` when the boxed way
    would cost more than the plain one.
    """
    rings = r1 - r0
    box = np.empty((rings, 4))
    edges = 0
    for r in range(r0, r1):
        s = ring_starts[r]
        n = ring_lengths[r]
        if n < 4:
            return _UNDECIDED
        if coords[s, 0] != coords[s + n - 1, 0] or coords[s, 1] != coords[s + n - 1, 1]:
            return _UNDECIDED
        low_x = low_y = np.inf
        high_x = high_y = -np.inf
        for i in range(s, s + n):
            x = coords[i, 0]
            y = coords[i, 1]
            if not (math.isfinite(x) and math.isfinite(y)):
                return _UNDECIDED
            low_x = min(low_x, x)
            high_x = max(high_x, x)
            low_y = min(low_y, y)
            high_y = max(high_y, y)
        box[r - r0, 0] = low_x
        box[r - r0, 1] = low_y
        box[r - r0, 2] = high_x
        box[r - r0, 3] = high_y
        edges += n - 1
    # Which rings' boxes meet (closed boxes: an edge lies in the box of its ends).
    neighbours = np.zeros((rings, rings) if boxed else (0, 0), np.bool_)
    if boxed:
        if rings > 1024:
            return _OVER_BUDGET
        for a in range(rings):
            for b in range(a + 1, rings):
                if (
                    box[a, 0] <= box[b, 2]
                    and box[b, 0] <= box[a, 2]
                    and box[a, 1] <= box[b, 3]
                    and box[b, 1] <= box[a, 3]
                ):
                    neighbours[a, b] = neighbours[b, a] = True
    # Every edge that may meet another (all of them unless boxed), zero-length edges left
    # out; `following` is the next edge of the same ring (cyclically).
    start = np.empty(edges, np.int64)
    ring = np.empty(edges, np.int64)
    following = np.empty(edges, np.int64)
    xmin = ymin = np.inf
    xmax = ymax = -np.inf
    m = 0
    tested = 0
    for r in range(r0, r1):
        s = ring_starts[r]
        n = ring_lengths[r]
        ring_first = m
        proper = 0
        for i in range(s, s + n - 1):
            ax = coords[i, 0]
            ay = coords[i, 1]
            bx = coords[i + 1, 0]
            by = coords[i + 1, 1]
            if ax == bx and ay == by:
                continue
            proper += 1
            if boxed:
                near = False
                for o in range(rings):
                    if neighbours[r - r0, o]:
                        tested += 1
                        if (
                            min(ax, bx) <= box[o, 2]
                            and box[o, 0] <= max(ax, bx)
                            and min(ay, by) <= box[o, 3]
                            and box[o, 1] <= max(ay, by)
                        ):
                            near = True
                            break
                if not near:
                    continue
            start[m] = i
            ring[m] = r - r0
            xmin = min(xmin, ax, bx)
            xmax = max(xmax, ax, bx)
            ymin = min(ymin, ay, by)
            ymax = max(ymax, ay, by)
            m += 1
        if proper < 3:
            return _UNDECIDED
        if not boxed:
            for k in range(ring_first, m - 1):
                following[k] = k + 1
            following[m - 1] = ring_first
        if tested > 64 * edges + 4096:
            return _OVER_BUDGET
    nx = ny = 0
    to_cell = 0.0
    bits = 0
    bucket_start = np.zeros(1, np.int64)
    members = np.empty(0, np.int64)
    if m > 0:
        width = xmax - xmin
        height = ymax - ymin
        if not (width >= 0.0 and height >= 0.0 and math.isfinite(width * height)):
            return _UNDECIDED
        # A grid of square cells twice as wide as the median edge (of a sample of the edges),
        # kept sparse: each edge is entered in the cells along it, in a hash table. (Wider
        # cells hold more pairs, narrower ones more entries per edge; 2 was the fastest.)
        step = max(m // 64, 1)
        length = np.empty((m + step - 1) // step)
        for j in range(len(length)):
            i = start[j * step]
            length[j] = math.hypot(coords[i + 1, 0] - coords[i, 0], coords[i + 1, 1] - coords[i, 1])
        side = 2.0 * np.median(length)
        reach = max(abs(xmin), abs(xmax), abs(ymin), abs(ymax))
        if not (side > 1e-12 * reach and width / side < 2.0**30 and height / side < 2.0**30):
            return _UNDECIDED
        to_cell = 1.0 / side
        nx = int(width * to_cell) + 1
        ny = int(height * to_cell) + 1
        budget = 32 * m + 64
        # Room for the usual three or so cells per edge; counted first only if that is short.
        entries = np.empty((4 * m + 64, 2), np.int64)  # (cell, edge)
        grid = (xmin, ymin, to_cell, side, nx, ny)
        placed = _enter_edges(coords, start[:m], grid, len(entries), entries)
        if placed > len(entries):
            placed = _enter_edges(coords, start[:m], grid, budget, np.empty((0, 2), np.int64))
            if placed > budget:
                return _UNDECIDED  # edges much longer than most: GEOS decides
            entries = np.empty((placed, 2), np.int64)
            _enter_edges(coords, start[:m], grid, placed, entries)
        bits = 1
        while (1 << bits) < 2 * placed:
            bits += 1
        bucket_start = np.zeros((1 << bits) + 1, np.int64)
        for e in range(placed):
            bucket_start[_bucket(entries[e, 0], bits) + 1] += 1
        for c in range(1 << bits):
            bucket_start[c + 1] += bucket_start[c]
        # The entries by bucket (a counting sort), each with its cell.
        members = np.empty(placed, np.int64)
        member_cell = np.empty(placed, np.int64)
        cursor = bucket_start[:-1].copy()
        for e in range(placed):
            c = _bucket(entries[e, 0], bits)
            members[cursor[c]] = entries[e, 1]
            member_cell[cursor[c]] = entries[e, 0]
            cursor[c] += 1
        # No two edges meet, except consecutive edges of a ring at their shared vertex, which
        # are tested once here rather than in every cell they share.
        if not boxed:
            for a in range(m):
                if not _turn_apart(coords, start[a], start[following[a]]):
                    return _UNDECIDED
        # Edges sharing a cell share its bucket: each run of a bucket is paired, skipping
        # entries of other cells that hash there.
        pairs = 0
        p = 0
        while p < placed:
            end = p + 1
            while end < placed and _bucket(member_cell[end], bits) == _bucket(member_cell[p], bits):
                end += 1
            pairs += (end - p) * (end - p - 1) // 2
            if pairs > (1024 if boxed else 64) * m + 1024:
                return _UNDECIDED  # crowded cells (where pairs within a ring count, else cheap)
            for u in range(p, end):
                a = members[u]
                for v in range(u + 1, end):
                    b = members[v]
                    if a == b or member_cell[u] != member_cell[v]:
                        continue
                    if ring[a] == ring[b] and (boxed or following[a] == b or following[b] == a):
                        continue
                    if not _edges_apart(coords, start[a], start[b]):
                        return _UNDECIDED
            p = end
    if rings == 1:
        return _APART
    # The rings do not meet, so each lies inside or outside each other. Which rings hold the
    # first vertex of each: crossings of a ray to +x.
    if not boxed and rings * nx > 256 * m + 4096:
        return _UNDECIDED  # too many rings along long rows
    parity = np.zeros(rings, np.int64)
    seen = np.full(rings, -1, np.int64)
    counted = np.full(m, -1, np.int64)
    touched = np.empty(rings, np.int64)
    part_base = ring_part[r0]
    parts = ring_part[r1 - 1] - part_base + 1
    holders = np.zeros(parts, np.int64)
    scanned = 0
    for r in range(rings):
        s = ring_starts[r0 + r]
        px = coords[s, 0]
        py = coords[s, 1]
        count = 0
        if boxed:
            # Each ring whose box holds the point, all its edges.
            for o in range(rings):
                if not (
                    neighbours[r, o]
                    and box[o, 0] <= px <= box[o, 2]
                    and box[o, 1] <= py <= box[o, 3]
                ):
                    continue
                os = ring_starts[r0 + o]
                on = ring_lengths[r0 + o]
                scanned += on
                if scanned > 64 * edges + 4096:
                    return _OVER_BUDGET
                for i in range(os, os + on - 1):
                    turn = ray_crossing(coords, i, px, py)
                    if turn == 0:
                        return _UNDECIDED
                    if turn == 1:
                        parity[o] ^= 1
                        if seen[o] != r:
                            seen[o] = r
                            touched[count] = o
                            count += 1
        else:
            # The edges in the cells of the point's row, from its cell on.
            ix = min(int((px - xmin) * to_cell), nx - 1)
            iy = min(int((py - ymin) * to_cell), ny - 1)
            for cx in range(ix, nx):
                c = _bucket(iy * nx + cx, bits)
                for p in range(bucket_start[c], bucket_start[c + 1]):
                    k = members[p]
                    if ring[k] == r or counted[k] == r:
                        continue
                    counted[k] = r
                    turn = ray_crossing(coords, start[k], px, py)
                    if turn == 0:
                        return _UNDECIDED
                    if turn == 1:
                        other = ring[k]
                        parity[other] ^= 1
                        if seen[other] != r:
                            seen[other] = r
                            touched[count] = other
                            count += 1
        if not _nested_as_valid(
            parity, touched, count, holders, ring_part, ring_is_hole, r0, r, part_base
        ):
            return _UNDECIDED
    return _APART


@numba.njit(cache=True, nogil=True)
def _nested_as_valid(
    parity: np.ndarray,
    touched: np.ndarray,
    count: int,
    holders: np.ndarray,
    ring_part: np.ndarray,
    ring_is_hole: np.ndarray,
    r0: int,
    r: int,
    part_base: int,
) -> bool:  # pragma: no cover - compiled
    """Whether ring `r` lies where a valid geometry's ring may, given which rings hold it.

    ``touched[:count]`` are the rings (counted from `r0`) crossed by the ray from the ring's
    first vertex, and `parity` says which of them hold it. A hole lies in its shell and in no
    other hole of its polygon; a shell lies in no other polygon's interior. `parity` and
    `holders` (per polygon, counted from `part_base`) are left zeroed.
    """
    part = ring_part[r0 + r] - part_base
    nested = True
    for t in range(count):
        other = touched[t]
        if parity[other] == 1:
            holders[ring_part[r0 + other] - part_base] += 1
            if ring_part[r0 + other] - part_base == part and (
                ring_is_hole[r0 + r] and ring_is_hole[r0 + other]
            ):
                nested = False  # a hole inside another hole of its polygon
    if ring_is_hole[r0 + r]:
        # Inside its shell (the only ring of its polygon that may hold it).
        nested = nested and holders[part] == 1
    else:
        # In no other polygon's interior: an even count (outside, or in one of its holes).
        for t in range(count):
            other_part = ring_part[r0 + touched[t]] - part_base
            if other_part != part and holders[other_part] % 2 == 1:
                nested = False
        nested = nested and holders[part] == 0
    for t in range(count):
        other = touched[t]
        parity[other] = 0
        holders[ring_part[r0 + other] - part_base] = 0
    return nested


@numba.njit(cache=True, nogil=True, inline="always")
def ray_crossing(coords: np.ndarray, i: int, px: float, py: float) -> int:  # pragma: no cover
    """Whether edge ``i -> i + 1`` crosses the ray from ``(px, py)`` to +x: 1, -1 (no), 0.

    0 means undecided (the point on the edge's line, or too close to tell).
    """
    ax = coords[i, 0]
    ay = coords[i, 1]
    bx = coords[i + 1, 0]
    by = coords[i + 1, 1]
    if (ay > py) == (by > py) or max(ax, bx) < px:
        return -1
    turn = orientation(ax, ay, bx, by, px, py)
    if turn == 0:
        return 0
    return 1 if (turn > 0) == (by > ay) else -1


@numba.njit(cache=True, nogil=True, inline="always")
def _bucket(key: int, bits: int) -> int:  # pragma: no cover - compiled
    """Fibonacci hashing of a cell key into ``2**bits`` buckets."""
    return int((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True)
def _enter_edges(
    coords: np.ndarray,
    starts: np.ndarray,
    grid: tuple[float, float, float, float, int, int],
    limit: int,
    entries: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Enter edges ``starts`` in the cells along them, up to `limit` entries; how many.

    `grid` is ``(xmin, ymin, to_cell, side, nx, ny)``. With an empty `entries` only counts.
    Stops once past `limit`.
    """
    xmin, ymin, to_cell, side, nx, ny = grid
    placed = 0
    for k in range(len(starts)):
        edge = k if len(entries) else -1
        placed += _enter_edge(
            coords,
            starts[k],
            xmin,
            ymin,
            to_cell,
            side,
            nx,
            ny,
            limit - placed,
            edge,
            entries,
            placed,
        )
        if placed > limit:
            break
    return placed


@numba.njit(cache=True, nogil=True, inline="always")
def _enter_edge(
    coords: np.ndarray,
    i: int,
    xmin: float,
    ymin: float,
    to_cell: float,
    side: float,
    nx: int,
    ny: int,
    room: int,
    edge: int,
    entries: np.ndarray,
    at: int,
) -> int:  # pragma: no cover - compiled
    """Count (and with ``edge >= 0`` write at ``entries[at:]``) the cells along edge `i`.

    Steps column by column along a flat edge (row by row along a steep one) and takes the
    rows (columns) the edge spans there, widened by far more than their rounding. Stops
    counting past `room`.
    """
    x0 = coords[i, 0]
    y0 = coords[i, 1]
    x1 = coords[i + 1, 0]
    y1 = coords[i + 1, 1]
    # Far more than the rounding of the cell bounds and of the interpolation.
    slack = 1e-12 * (abs(x0) + abs(x1) + abs(y0) + abs(y1)) + 1e-9 * side
    # Most edges are shorter than a cell: all cells of their box, widened by twice the slack
    # (which holds every cell the steps below would take), when that is at most four.
    low_column = max(int((min(x0, x1) - 2.0 * slack - xmin) * to_cell), 0)
    high_column = min(int((max(x0, x1) + 2.0 * slack - xmin) * to_cell), nx - 1)
    low_row = max(int((min(y0, y1) - 2.0 * slack - ymin) * to_cell), 0)
    high_row = min(int((max(y0, y1) + 2.0 * slack - ymin) * to_cell), ny - 1)
    if (high_column - low_column + 1) * (high_row - low_row + 1) <= 4:
        n = 0
        for row in range(low_row, high_row + 1):
            for column in range(low_column, high_column + 1):
                if n < room and edge >= 0:
                    entries[at + n, 0] = row * nx + column
                    entries[at + n, 1] = edge
                n += 1
        return n
    flat = abs(x1 - x0) >= abs(y1 - y0)
    if not flat:
        x0, y0, x1, y1 = y0, x0, y1, x1
        xmin, ymin = ymin, xmin
        nx, ny = ny, nx
    if x1 < x0:
        x0, y0, x1, y1 = x1, y1, x0, y0
    slope = (y1 - y0) / (x1 - x0)
    first = min(int((x0 - xmin) * to_cell), nx - 1)
    last = min(int((x1 - xmin) * to_cell), nx - 1)
    n = 0
    for column in range(first, last + 1):
        left = max(x0, xmin + column * side)
        right = min(x1, xmin + (column + 1) * side)
        ya = y0 + (left - x0) * slope
        yb = y0 + (right - x0) * slope
        low = max(int((min(ya, yb) - slack - ymin) * to_cell), 0)
        high = min(int((max(ya, yb) + slack - ymin) * to_cell), ny - 1)
        for row in range(low, high + 1):
            if n < room and edge >= 0:
                if flat:
                    entries[at + n, 0] = row * nx + column
                else:
                    entries[at + n, 0] = column * ny + row
                entries[at + n, 1] = edge
            n += 1
        if n > room:
            return n
    return n


@numba.njit(cache=True, nogil=True)
def _turn_apart(coords: np.ndarray, i: int, j: int) -> bool:  # pragma: no cover - compiled
    """True if edge `j`, which follows edge `i` from its end, meets it only there (certain)."""
    ax = coords[i, 0]
    ay = coords[i, 1]
    bx = coords[i + 1, 0]
    by = coords[i + 1, 1]
    cx = coords[j + 1, 0]
    cy = coords[j + 1, 1]
    if orientation(ax, ay, bx, by, cx, cy) != 0:
        return True
    # (Nearly) in line: apart only if the path goes on forward, never back along itself.
    ux = bx - ax
    uy = by - ay
    vx = cx - bx
    vy = cy - by
    products = abs(ux * vx) + abs(uy * vy)
    return ux * vx + uy * vy > 4.0 * ORIENT_BOUND * products and products > 1e-250


#: What :func:`edge_contact` found.
EDGES_APART, EDGES_CROSS, EDGES_MAY_TOUCH = 0, 1, 2


@numba.njit(cache=True, nogil=True, inline="always")
def edge_contact(coords: np.ndarray, i: int, j: int) -> int:  # pragma: no cover - compiled
    """Edges ``i -> i + 1`` and ``j -> j + 1``: certainly apart, certainly crossing, or neither.

    ``EDGES_CROSS`` when each edge's ends lie strictly on both sides of the other's line (a
    proper crossing); ``EDGES_MAY_TOUCH`` when some orientation is undecided.
    """
    ax = coords[i, 0]
    ay = coords[i, 1]
    bx = coords[i + 1, 0]
    by = coords[i + 1, 1]
    cx = coords[j, 0]
    cy = coords[j, 1]
    dx = coords[j + 1, 0]
    dy = coords[j + 1, 1]
    if (
        max(ax, bx) < min(cx, dx)
        or max(cx, dx) < min(ax, bx)
        or max(ay, by) < min(cy, dy)
        or max(cy, dy) < min(ay, by)
    ):
        return EDGES_APART
    c_side = orientation(ax, ay, bx, by, cx, cy)
    d_side = orientation(ax, ay, bx, by, dx, dy)
    if c_side != 0 and c_side == d_side:
        return EDGES_APART
    a_side = orientation(cx, cy, dx, dy, ax, ay)
    b_side = orientation(cx, cy, dx, dy, bx, by)
    if a_side != 0 and a_side == b_side:
        return EDGES_APART
    if c_side != 0 and d_side != 0 and a_side != 0 and b_side != 0:
        return EDGES_CROSS
    return EDGES_MAY_TOUCH


@numba.njit(cache=True, nogil=True, inline="always")
def _edges_apart(coords: np.ndarray, i: int, j: int) -> bool:  # pragma: no cover - compiled
    """True if edges ``i -> i + 1`` and ``j -> j + 1`` certainly have no point in common."""
    return edge_contact(coords, i, j) == EDGES_APART


@numba.njit(cache=True, nogil=True)
def _star_ring(coords: np.ndarray, s: int, n: int) -> bool:  # pragma: no cover - compiled
    """True if ring ``coords[s:s + n]`` is certainly star-shaped around some point it finds.

    The point: start at the vertex mean and move it to the inner side of each edge it lies
    outside of, half as far again past the edge's line as the projection would
    (``_OVERSHOOT``), pass after pass (relaxed projections onto the edges' half-planes, whose
    intersection is the ring's kernel), for at most ``_PASSES`` passes. The proof: seen
    from it, every edge turns the same way, certainly, and the ring winds around it once.
    """
    if n < 4:
        return False
    ox = coords[s, 0]
    oy = coords[s, 1]
    double_area = 0.0
    cx = 0.0
    cy = 0.0
    size = 0.0
    for i in range(s, s + n - 1):
        x0 = coords[i, 0] - ox
        y0 = coords[i, 1] - oy
        x1 = coords[i + 1, 0] - ox
        y1 = coords[i + 1, 1] - oy
        double_area += x0 * y1 - x1 * y0
        cx += x0
        cy += y0
        size = max(size, abs(x0), abs(y0))
    if not (double_area != 0.0 and size > 0.0 and math.isfinite(double_area)):
        return False
    sign = 1.0 if double_area > 0.0 else -1.0
    cx /= n - 1
    cy /= n - 1
    margin = 1e-9 * size
    first_moves = 0
    for done in range(_PASSES):
        moves = 0
        for i in range(s, s + n - 1):
            ax = coords[i, 0] - ox
            ay = coords[i, 1] - oy
            ux = coords[i + 1, 0] - ox - ax
            uy = coords[i + 1, 1] - oy - ay
            length2 = ux * ux + uy * uy
            if not length2 > 0.0:
                return False
            # How far inside the edge's line the point is, times the edge's length.
            inside = sign * (ux * (cy - ay) - uy * (cx - ax))
            need = margin * math.sqrt(length2)
            if inside < need:
                shift = (need - inside) / length2 * sign * _OVERSHOOT
                cx -= shift * uy
                cy += shift * ux
                moves += 1
        if moves == 0:
            break
        if done == 0:
            first_moves = moves
        elif moves > 2 and (
            (done == 2 and 10 * moves >= 9 * first_moves)
            or (done == 7 and 2 * moves >= first_moves)
        ):
            # Still about as many edges to fix as at first: most likely no kernel (the ring
            # is not star-shaped), and more passes would cost more than the chains' test.
            # (Narrow zigzag stars fix fewer each pass: their chains overlap a lot.)
            return False
    px = cx + ox
    py = cy + oy
    turn = orientation(px, py, coords[s, 0], coords[s, 1], coords[s + 1, 0], coords[s + 1, 1])
    if turn == 0:
        return False
    crossings = 0
    for i in range(s, s + n - 1):
        ax = coords[i, 0]
        ay = coords[i, 1]
        bx = coords[i + 1, 0]
        by = coords[i + 1, 1]
        if orientation(px, py, ax, ay, bx, by) != turn:
            return False
        # Every edge turns the same way around the point: those crossing the ray to +x are
        # the straddling edges running that way, and each is one turn around it.
        if (ay > py) != (by > py) and (by > ay) == (turn > 0):
            crossings += 1
    return crossings == 1


@numba.njit(cache=True, nogil=True)
def _chains_apart(
    coords: np.ndarray,
    ring_starts: np.ndarray,
    ring_lengths: np.ndarray,
    ring_part: np.ndarray,
    ring_is_hole: np.ndarray,
    ring_simple: np.ndarray,
    r0: int,
    r1: int,
) -> int:  # pragma: no cover - compiled
    """Rings ``r0..r1`` of one geometry, by their monotone chains: as :func:`_rings_apart`.

    Every ring is cut into x-monotone chains (runs of edges along which x never turns back).
    Sweeping the chains in order of their left ends, each is paired with the chains still
    open whose y-ranges meet its own, and two chains are compared by walking both from left
    to right, each edge against the edges of the other chain whose x-ranges meet its own (as
    GEOS's monotone chains do). The chains of a ring that `ring_simple` (the star test) has
    proven simple are paired only with other rings' chains, and only those lying in another
    ring's box are swept. Consecutive edges of the other rings must only turn, never double
    back. Nesting is counted along a ray upwards, which meets an x-monotone chain at
    most once: at the edge found by bisection. ``_OVER_BUDGET`` when the chains overlap so
    much that a grid costs less.
    """
    rings = r1 - r0
    ring_last = np.empty(rings, np.int64)  # the last edge of non-zero length
    edges = 0
    for r in range(r0, r1):
        s = ring_starts[r]
        end = s + ring_lengths[r] - 1  # edges s..end-1: edge i runs from vertex i to i + 1
        if end - s < 3 or coords[s, 0] != coords[end, 0] or coords[s, 1] != coords[end, 1]:
            return _UNDECIDED
        last = -1
        for i in range(end - 1, s - 1, -1):
            if coords[i, 0] != coords[i + 1, 0] or coords[i, 1] != coords[i + 1, 1]:
                last = i
                break
        ring_last[r - r0] = last
        proper = 0
        previous = last
        for i in range(s, end):
            x = coords[i, 0]
            y = coords[i, 1]
            if not (math.isfinite(x) and math.isfinite(y)):
                return _UNDECIDED
            if x == coords[i + 1, 0] and y == coords[i + 1, 1]:
                continue
            proper += 1
            # Edges running the same way in x meet only at their shared vertex.
            dx_previous = coords[previous + 1, 0] - coords[previous, 0]
            dx = coords[i + 1, 0] - x
            if (
                not ring_simple[r - r0]
                and not ((dx_previous > 0.0 and dx > 0.0) or (dx_previous < 0.0 and dx < 0.0))
                and not _turn_apart(coords, previous, i)
            ):
                return _UNDECIDED
            previous = i
        if proper < 3:
            return _UNDECIDED
        edges += end - s
    # The chains: edges first..last (inclusive), x non-decreasing (rising) or non-increasing;
    # vertical and zero-length edges join the chain they are in and make it `level` (only in
    # such a chain may two edges that do not follow each other share an x).
    chain_first = np.empty(edges, np.int64)
    chain_last = np.empty(edges, np.int64)
    chain_rising = np.empty(edges, np.bool_)
    chain_level = np.zeros(edges, np.bool_)
    chain_ring = np.empty(edges, np.int64)
    chains = 0
    for r in range(r0, r1):
        s = ring_starts[r]
        end = s + ring_lengths[r] - 1
        direction = 0
        first = s
        for i in range(s, end):
            dx = coords[i + 1, 0] - coords[i, 0]
            step = 1 if dx > 0.0 else (-1 if dx < 0.0 else 0)
            if step != 0 and direction != 0 and step != direction:
                chain_first[chains] = first
                chain_last[chains] = i - 1
                chain_rising[chains] = direction > 0
                chain_ring[chains] = r - r0
                chains += 1
                first = i
            if step != 0:
                direction = step
            else:
                chain_level[chains] = True
        chain_first[chains] = first
        chain_last[chains] = end - 1
        chain_rising[chains] = direction >= 0
        chain_ring[chains] = r - r0
        chains += 1
    box = np.empty((chains, 4))
    for c in range(chains):
        low_y = np.inf
        high_y = -np.inf
        for i in range(chain_first[c], chain_last[c] + 2):
            low_y = min(low_y, coords[i, 1])
            high_y = max(high_y, coords[i, 1])
        a = coords[chain_first[c], 0]
        b = coords[chain_last[c] + 1, 0]
        box[c, 0] = min(a, b)
        box[c, 1] = low_y
        box[c, 2] = max(a, b)
        box[c, 3] = high_y
    # A star-shaped ring's chain needs pairing only if it lies in another ring's box.
    swept = np.ones(chains, np.bool_)
    if rings <= 64:
        ring_box = np.empty((rings, 4))
        ring_box[:, :2] = np.inf
        ring_box[:, 2:] = -np.inf
        for c in range(chains):
            r = chain_ring[c]
            ring_box[r, 0] = min(ring_box[r, 0], box[c, 0])
            ring_box[r, 1] = min(ring_box[r, 1], box[c, 1])
            ring_box[r, 2] = max(ring_box[r, 2], box[c, 2])
            ring_box[r, 3] = max(ring_box[r, 3], box[c, 3])
        for c in range(chains):
            if not ring_simple[chain_ring[c]]:
                continue
            near = False
            for o in range(rings):
                if (
                    o != chain_ring[c]
                    and box[c, 0] <= ring_box[o, 2]
                    and ring_box[o, 0] <= box[c, 2]
                    and box[c, 1] <= ring_box[o, 3]
                    and ring_box[o, 1] <= box[c, 3]
                ):
                    near = True
                    break
            swept[c] = near
    order = np.argsort(box[:, 0])
    active = np.empty(chains, np.int64)
    open_chains = 0
    budget = 64 * edges + 4096
    for c in order:
        if not swept[c]:
            continue
        ring_c = chain_ring[c]
        s = ring_starts[r0 + ring_c]
        if chain_level[c] and not ring_simple[ring_c]:
            steps = _chain_pairs(
                coords, chain_first, chain_last, chain_rising, box, c, c, s, ring_last[ring_c]
            )
            if steps < 0:
                return _UNDECIDED
            budget -= steps
        kept = 0
        for t in range(open_chains):
            a = active[t]
            if box[a, 2] < box[c, 0]:
                continue  # closed: left of every chain still to come
            active[kept] = a
            kept += 1
            budget -= 1
            same = chain_ring[a] == ring_c
            if same and ring_simple[ring_c]:
                continue
            if not (box[a, 1] <= box[c, 3] and box[c, 1] <= box[a, 3]):
                continue
            if chain_level[a] or chain_level[c]:
                steps = _chain_pairs(
                    coords,
                    chain_first,
                    chain_last,
                    chain_rising,
                    box,
                    a,
                    c,
                    s if same else -1,
                    ring_last[ring_c],
                )
            else:
                steps = _chains_ordered(
                    coords,
                    chain_first,
                    chain_last,
                    chain_rising,
                    box,
                    a,
                    c,
                    s if same else -1,
                    s + ring_lengths[r0 + ring_c] - 1,
                )
            if steps < 0:
                return _UNDECIDED
            budget -= steps
        if budget < 0:
            return _OVER_BUDGET
        active[kept] = c
        open_chains = kept + 1
    if rings == 1:
        return _APART
    # The rings do not meet, so each lies inside or outside each other. Which rings hold the
    # first vertex of each: crossings of a ray upwards, at most one per chain.
    parity = np.zeros(rings, np.int64)
    seen = np.full(rings, -1, np.int64)
    touched = np.empty(rings, np.int64)
    part_base = ring_part[r0]
    parts = ring_part[r1 - 1] - part_base + 1
    holders = np.zeros(parts, np.int64)
    left_ends = box[order, 0]
    for r in range(rings):
        s = ring_starts[r0 + r]
        px = coords[s, 0]
        py = coords[s, 1]
        count = 0
        # Chains starting right of the point cannot hold it.
        reach = np.searchsorted(left_ends, px, side="right")
        budget -= reach
        if budget < 0:
            return _OVER_BUDGET
        for t in range(reach):
            c = order[t]
            other = chain_ring[c]
            if other == r or not px < box[c, 2]:
                continue
            # The edge of the chain over the point's x, as [left, right).
            k = _first_reaching(coords, chain_first[c], chain_last[c], chain_rising[c], px, True)
            i = _chain_edge(chain_first[c], chain_last[c], chain_rising[c], k)
            if chain_rising[c]:
                turn = orientation(
                    coords[i, 0], coords[i, 1], coords[i + 1, 0], coords[i + 1, 1], px, py
                )
            else:
                turn = orientation(
                    coords[i + 1, 0], coords[i + 1, 1], coords[i, 0], coords[i, 1], px, py
                )
            if turn == 0:
                return _UNDECIDED
            if turn < 0:  # the point lies below the edge
                parity[other] ^= 1
                if seen[other] != r:
                    seen[other] = r
                    touched[count] = other
                    count += 1
        if not _nested_as_valid(
            parity, touched, count, holders, ring_part, ring_is_hole, r0, r, part_base
        ):
            return _UNDECIDED
    return _APART


@numba.njit(cache=True, nogil=True, inline="always")
def _chain_edge(chain_first: int, chain_last: int, rising: bool, k: int) -> int:  # pragma: no cover
    """The `k`-th edge of a chain counted from its left end."""
    return chain_first + k if rising else chain_last - k


@numba.njit(cache=True, nogil=True)
def _chain_pairs(
    coords: np.ndarray,
    chain_first: np.ndarray,
    chain_last: np.ndarray,
    chain_rising: np.ndarray,
    box: np.ndarray,
    a: int,
    c: int,
    s: int,
    last: int,
) -> int:  # pragma: no cover - compiled
    """Pair the edges of chains `a` and `c` (the same chain: its edges with one another).

    Chains of one ring give its start `s` and its last proper edge `last` (edges that follow
    each other are not paired); chains of two rings give ``s = -1``. Returns how many pairs
    were looked at, or -1 when two edges may meet.
    """
    low = max(box[a, 0], box[c, 0])
    high = min(box[a, 2], box[c, 2])
    a_edges = chain_last[a] - chain_first[a] + 1
    c_edges = chain_last[c] - chain_first[c] + 1
    # From the first edge of each that reaches `low` (right ends rise along a chain).
    ka = _first_reaching(coords, chain_first[a], chain_last[a], chain_rising[a], low, False)
    kc0 = _first_reaching(coords, chain_first[c], chain_last[c], chain_rising[c], low, False)
    looked = 0
    while ka < a_edges:
        i = _chain_edge(chain_first[a], chain_last[a], chain_rising[a], ka)
        ka += 1
        ax = coords[i, 0]
        bx = coords[i + 1, 0]
        if ax == bx and coords[i, 1] == coords[i + 1, 1]:
            continue
        left = min(ax, bx)
        right = max(ax, bx)
        if left > high:
            break
        low_y = min(coords[i, 1], coords[i + 1, 1])
        high_y = max(coords[i, 1], coords[i + 1, 1])
        # Edges of `c` wholly left of this one are left of every later edge of `a` too.
        while kc0 < c_edges:
            j = _chain_edge(chain_first[c], chain_last[c], chain_rising[c], kc0)
            if max(coords[j, 0], coords[j + 1, 0]) >= left:
                break
            kc0 += 1
        kc = kc0
        while kc < c_edges:
            j = _chain_edge(chain_first[c], chain_last[c], chain_rising[c], kc)
            kc += 1
            if min(coords[j, 0], coords[j + 1, 0]) > right:
                break
            looked += 1
            # Apart in y (they meet in x), the same pair seen from the other edge, or edges
            # that follow each other: nothing to test.
            if (
                high_y < min(coords[j, 1], coords[j + 1, 1])
                or max(coords[j, 1], coords[j + 1, 1]) < low_y
            ):
                continue
            if (a == c and j <= i) or (
                coords[j, 0] == coords[j + 1, 0] and coords[j, 1] == coords[j + 1, 1]
            ):
                continue
            if s >= 0 and _adjacent(coords, s, last, i, j):
                continue
            if not _edges_apart(coords, i, j):
                return -1
    return looked


@numba.njit(cache=True, nogil=True, inline="always")
def _chains_ordered(
    coords: np.ndarray,
    chain_first: np.ndarray,
    chain_last: np.ndarray,
    chain_rising: np.ndarray,
    box: np.ndarray,
    a: int,
    c: int,
    s: int,
    end: int,
) -> int:  # pragma: no cover - compiled
    """Whether two chains without vertical edges lie one above the other where both are.

    Over the x-range the chains share, each is a function of x, linear between vertices: they
    have no point in common when, at every vertex of either in that range, the same one is
    certainly above the other (then so it is between the vertices). One orientation per
    vertex, where pairing their edges (:func:`_chain_pairs`) costs up to four per pair.
    Chains of one ring give its first row `s` and last row `end` (the same point): a vertex
    the two chains share is not compared (only the edges meeting there come close to it,
    and they do not double back, which the caller has made sure of). Chains of two rings
    give ``s = -1``. Returns how many vertices were compared, or -1 when undecided.
    """
    low = max(box[a, 0], box[c, 0])
    high = min(box[a, 2], box[c, 2])
    a_first = chain_first[a]
    a_last = chain_last[a]
    c_first = chain_first[c]
    c_last = chain_last[c]
    # The vertex the chains share as ends of both (or as the ring's closing vertex, whose
    # rows differ): its rows in each, at most two such vertices.
    shared_a0 = shared_a1 = shared_c0 = shared_c1 = -1
    if s >= 0:
        for row_a in (a_first, a_last + 1):
            for row_c in (c_first, c_last + 1):
                if row_a == row_c or (row_a == s and row_c == end) or (row_a == end and row_c == s):
                    if shared_a0 < 0:
                        shared_a0 = row_a
                        shared_c0 = row_c
                    else:
                        shared_a1 = row_a
                        shared_c1 = row_c
    # Rows of the k-th vertex from the left end: base + step * k.
    a_base, a_step = (a_first, 1) if chain_rising[a] else (a_last + 1, -1)
    c_base, c_step = (c_first, 1) if chain_rising[c] else (c_last + 1, -1)
    a_edges = a_last - a_first + 1
    c_edges = c_last - c_first + 1
    # The first vertex of each at or right of `low` (for one of them its left end), then
    # the vertices of both from left to right, each against the other's edge over it.
    ka = _first_vertex_at(coords, a_base, a_step, a_edges, low)
    kc = _first_vertex_at(coords, c_base, c_step, c_edges, low)
    if shared_a0 < 0:
        # Apart in y over the x-range they share (each chain there lies within the y-range
        # of its vertices in it and the one either side): no orientation needed.
        a_low, a_high = _y_range(coords, a_base, a_step, a_edges, ka, high)
        c_low, c_high = _y_range(coords, c_base, c_step, c_edges, kc, high)
        if a_high < c_low or c_high < a_low:
            return 1
    above = 0  # 1: chain a is above chain c, -1: below
    compared = 0
    while True:
        row_a = a_base + a_step * ka
        row_c = c_base + c_step * kc
        xa = coords[row_a, 0] if ka <= a_edges else np.inf
        xc = coords[row_c, 0] if kc <= c_edges else np.inf
        if xa <= xc:
            if xa > high:
                return compared
            ka += 1
            if xa == xc:
                kc += 1
                if row_a in (shared_a0, shared_a1) and row_c in (shared_c0, shared_c1):
                    continue
                ya = coords[row_a, 1]
                yc = coords[row_c, 1]
                side = 1 if ya > yc else (-1 if ya < yc else 0)
            else:
                if row_a in (shared_a0, shared_a1):
                    continue
                if kc == 0 or kc > c_edges:
                    return -1
                left = row_c - c_step
                side = orientation(
                    coords[left, 0],
                    coords[left, 1],
                    coords[row_c, 0],
                    coords[row_c, 1],
                    xa,
                    coords[row_a, 1],
                )
        else:
            if xc > high:
                return compared
            kc += 1
            if row_c in (shared_c0, shared_c1):
                continue
            if ka == 0 or ka > a_edges:
                return -1
            left = row_a - a_step
            side = -orientation(
                coords[left, 0],
                coords[left, 1],
                coords[row_a, 0],
                coords[row_a, 1],
                xc,
                coords[row_c, 1],
            )
        compared += 1
        if side == 0 or side == -above:
            return -1
        above = side


@numba.njit(cache=True, nogil=True, inline="always")
def _y_range(
    coords: np.ndarray, base: int, step: int, edges: int, k: int, high: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Lowest and highest y of a chain's vertices from the one before `k` to one past `high`."""
    low_y = np.inf
    high_y = -np.inf
    k = max(k - 1, 0)
    while k <= edges:
        row = base + step * k
        low_y = min(low_y, coords[row, 1])
        high_y = max(high_y, coords[row, 1])
        if coords[row, 0] > high:
            break
        k += 1
    return low_y, high_y


@numba.njit(cache=True, nogil=True, inline="always")
def _first_vertex_at(
    coords: np.ndarray, base: int, step: int, edges: int, x: float
) -> int:  # pragma: no cover - compiled
    """The first vertex of a chain (rows ``base + step * k``) at or right of `x`.

    A few steps from the left end first (usually enough, and cheaper than bisection's
    unpredictable branches), then bisection.
    """
    k = 0
    while k < edges and k < 8:
        if not coords[base + step * k, 0] < x:
            return k
        k += 1
    top = edges
    while k < top:
        middle = (k + top) // 2
        if coords[base + step * middle, 0] < x:
            k = middle + 1
        else:
            top = middle
    return k


@numba.njit(cache=True, nogil=True)
def _first_reaching(
    coords: np.ndarray, chain_first: int, chain_last: int, rising: bool, x: float, at: bool
) -> int:  # pragma: no cover - compiled
    """How many edges of a chain, from its left end, end left of `x` (`at`: or at `x`)."""
    low = 0
    high = chain_last - chain_first + 1
    while low < high:
        middle = (low + high) // 2
        i = _chain_edge(chain_first, chain_last, rising, middle)
        right = max(coords[i, 0], coords[i + 1, 0])
        if right < x or (at and right == x):
            low = middle + 1
        else:
            high = middle
    return low


@numba.njit(cache=True, nogil=True, inline="always")
def _adjacent(
    coords: np.ndarray, s: int, last: int, i: int, j: int
) -> bool:  # pragma: no cover - compiled
    """Whether proper edges `i` and `j` of the ring starting at `s` follow each other.

    Only zero-length edges may lie between them; `last` is the ring's last proper edge.
    """
    for first, second in ((i, j), (j, i)):
        # After the last proper edge come only zero-length ones: the next is from the start.
        k = first + 1 if first != last else s
        while k != second and coords[k, 0] == coords[k + 1, 0] and coords[k, 1] == coords[k + 1, 1]:
            k += 1
        if k == second:
            return True
    return False

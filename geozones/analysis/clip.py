"""Pairs of polygons settled, and intersections clipped, from their coordinates without GEOS.

Most pairs of a conflict check are a parcel near a neighbour or a red-line or urban polygon,
and most overlays a parcel cut by the other's boundary: a polygon of a few dozen vertices
whose boundary properly crosses the other's a few times. GEOS tests each pair and builds a
topology graph for each overlay (about 10 µs on one core); here compiled loops that release
the GIL do the same from the coordinates, and leave every pair they cannot settle with
certainty to GEOS. Each ring's edges are kept in blocks of :data:`EDGE_BLOCK` with their
boxes (:func:`edge_blocks`), so that a pair reads only the edges near the other geometry: a
few dozen of a red-line polygon's 100,000.

:func:`settle_pairs` says whether two polygonal geometries are apart, one inside the other,
or crossing (an edge of one properly crosses an edge of the other, by Shewchuk's filtered
orientation); where no edges meet, which rings lie inside the other geometry is counted along
a ray. :func:`clip_pairs` follows the two boundaries of a small polygon `P` (one ring, no
holes) and any polygonal `Q` from crossing to crossing (Weiler and Atherton's algorithm):

1. every edge of `Q` near `P`'s box against the edges of `P` in blocks near it: apart, or
   crossing properly. A vertex on an edge, edges in line, two crossings too close to order
   along an edge, or a ring of `Q` inside `P` without crossing it (the result would have a
   hole) leave the pair to GEOS; crossing points are computed in double-double, as GEOS
   computes them;
2. where `P` crosses into `Q`, the result follows `P` to the next crossing, then `Q` to the
   next, until it is back: each loop is a part of ``P ∩ Q`` (a polygon without holes, as
   the intersection of a ring with a polygon whose rings all cross it has none).

The parts must be proven valid: a crossing point rounded past a vertex a hair's breadth away
could make a part invalid, and such pairs go to GEOS too. `P` and `Q` being valid, only the
edges ending at a crossing point can be at fault, and the clip tests those against every
edge of the parts (:func:`_loops_valid`); the caller proves the others
(:func:`geozones.io.proof.certainly_valid_rings`).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from geozones.io.proof import (
    EDGES_APART,
    EDGES_CROSS,
    EDGES_MAY_TOUCH,
    edge_contact,
    orientation,
    ray_crossing,
)

#: At most this many crossings per pair; more leave the pair to GEOS.
MAX_CROSSINGS = 64
#: Relative error bound of a crossing's position along an edge, times the terms' magnitude:
#: far above the rounding of the two cross products it is the quotient of.
_PLACE_ERROR = 16.0 * 2.0**-53


#: Codes of :func:`settle_pairs`, for geometries P (the small one of a pair, if any) and Q.
PAIR_UNDECIDED, PAIR_APART, PAIR_OTHER_INSIDE, PAIR_SMALL_INSIDE, PAIR_CROSSING = -1, 0, 1, 2, 3


#: A pair whose edges near each other need more tests of two edges than this (counted by
#: blocks of P's edges, each against an edge of Q) goes to GEOS.
PAIR_EDGE_BUDGET = 1 << 16


@numba.njit(cache=True, nogil=True)
def settle_pairs(
    coords: np.ndarray,
    ring_start: np.ndarray,
    ring_stop: np.ndarray,
    ring_block: np.ndarray,
    block_box: np.ndarray,
    geometry_ring: np.ndarray,
    boxes: np.ndarray,
    small: np.ndarray,
    other: np.ndarray,
    start: int,
    end: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Pairs ``start..end``: how geometries ``small[p]`` (P) and ``other[p]`` (Q) lie, if certain.

    Only the edges of Q in the box where the two boxes meet are looked at, each against the
    edges of P in blocks whose boxes meet its own (:func:`edge_blocks`). ``PAIR_CROSSING``
    where an edge of one properly crosses an edge of the other (each edge's ends strictly
    on both sides of the other's line): they share interior points and neither covers the
    other. Where no edges meet, each ring lies wholly inside or outside the other geometry,
    as its first vertex does (counted along a ray): ``PAIR_SMALL_INSIDE`` (every ring of P
    inside Q, none of Q inside P), ``PAIR_OTHER_INSIDE`` (the other way round) or
    ``PAIR_APART`` (none inside the other). Anything else (edges that may touch, a hole of
    Q inside P, parts of Q inside P and others not, more tests of edges than
    :data:`PAIR_EDGE_BUDGET`) is ``PAIR_UNDECIDED``, for GEOS. Geometries are given as to
    :func:`clip_pairs`, with their `boxes` (:func:`geometry_boxes`).
    """
    room = _largest_geometry(ring_start, ring_stop, geometry_ring)
    edges_q = np.empty(room, np.int64)
    for p in range(start, end):
        out[p] = _settle(
            coords,
            ring_start,
            ring_stop,
            ring_block,
            block_box,
            boxes,
            geometry_ring,
            small[p],
            other[p],
            edges_q,
        )


@numba.njit(cache=True, nogil=True)
def geometry_boxes(
    ring_block: np.ndarray, block_box: np.ndarray, geometry_ring: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """Each geometry's box (xmin, ymin, xmax, ymax), from its blocks' boxes."""
    geometries = len(geometry_ring) - 1
    boxes = np.empty((geometries, 4))
    for g in range(geometries):
        boxes[g, 0] = np.inf
        boxes[g, 1] = np.inf
        boxes[g, 2] = -np.inf
        boxes[g, 3] = -np.inf
        for b in range(ring_block[geometry_ring[g]], ring_block[geometry_ring[g + 1]]):
            boxes[g, 0] = min(boxes[g, 0], block_box[b, 0])
            boxes[g, 1] = min(boxes[g, 1], block_box[b, 1])
            boxes[g, 2] = max(boxes[g, 2], block_box[b, 2])
            boxes[g, 3] = max(boxes[g, 3], block_box[b, 3])
    return boxes


@numba.njit(cache=True, nogil=True)
def _settle(
    coords: np.ndarray,
    ring_start: np.ndarray,
    ring_stop: np.ndarray,
    ring_block: np.ndarray,
    block_box: np.ndarray,
    boxes: np.ndarray,
    geometry_ring: np.ndarray,
    gp: int,
    gq: int,
    edges_q: np.ndarray,
) -> int:  # pragma: no cover - compiled
    # Where the two boxes meet: every point the boundaries share lies there.
    low_x = max(boxes[gp, 0], boxes[gq, 0])
    low_y = max(boxes[gp, 1], boxes[gq, 1])
    high_x = min(boxes[gp, 2], boxes[gq, 2])
    high_y = min(boxes[gp, 3], boxes[gq, 3])
    p0 = geometry_ring[gp]
    p1 = geometry_ring[gp + 1]
    q0 = geometry_ring[gq]
    q1 = geometry_ring[gq + 1]
    if p1 <= p0 or q1 <= q0:
        return PAIR_UNDECIDED
    for r in range(p0, p1):
        if ring_stop[r] - ring_start[r] < 4:
            return PAIR_UNDECIDED
    for r in range(q0, q1):
        if ring_stop[r] - ring_start[r] < 4:
            return PAIR_UNDECIDED
    if not (low_x <= high_x and low_y <= high_y):
        return PAIR_APART
    near_q = 0
    for r in range(q0, q1):
        near_q += _edges_near(
            ring_block,
            block_box,
            ring_start[r],
            ring_stop[r],
            r,
            low_x,
            low_y,
            high_x,
            high_y,
            edges_q[near_q:],
        )
    touching = False
    tests = 0
    for f in range(near_q):
        j = edges_q[f]
        cx = coords[j, 0]
        cy = coords[j, 1]
        dx = coords[j + 1, 0]
        dy = coords[j + 1, 1]
        edge_low_x = min(cx, dx)
        edge_low_y = min(cy, dy)
        edge_high_x = max(cx, dx)
        edge_high_y = max(cy, dy)
        edge_box = (edge_low_x, edge_low_y, edge_high_x, edge_high_y)
        if edge_high_x < low_x or edge_low_x > high_x or edge_high_y < low_y or edge_low_y > high_y:
            continue
        # P's edges in blocks (and runs of blocks) whose boxes meet this edge's.
        for r in range(p0, p1):
            end = ring_block[r + 1]
            b = _next_block(ring_block, block_box, r, ring_block[r], edge_box)
            while b < end:
                first = ring_start[r] + EDGE_BLOCK * (b - ring_block[r])
                for i in range(first, min(first + EDGE_BLOCK, ring_stop[r] - 1)):
                    contact = edge_contact(coords, i, j)
                    if contact == EDGES_CROSS:
                        return PAIR_CROSSING
                    touching = touching or contact == EDGES_MAY_TOUCH
                tests += EDGE_BLOCK
                b = _next_block(ring_block, block_box, r, b + 1, edge_box)
        if tests > PAIR_EDGE_BUDGET:
            return PAIR_UNDECIDED
    if touching:
        return PAIR_UNDECIDED
    # The boundaries do not meet: each ring lies wholly inside or outside the other geometry.
    p_inside = _rings_inside(
        coords, ring_start, ring_stop, ring_block, block_box, boxes, p0, p1, gq, q0, q1
    )
    q_inside = _rings_inside(
        coords, ring_start, ring_stop, ring_block, block_box, boxes, q0, q1, gp, p0, p1
    )
    if p_inside < 0 or q_inside < 0:
        return PAIR_UNDECIDED
    if q_inside == 0:
        if p_inside == 0:
            return PAIR_APART
        if p_inside == p1 - p0:
            return PAIR_SMALL_INSIDE
    elif p_inside == 0 and q_inside == q1 - q0:
        return PAIR_OTHER_INSIDE
    # Some rings of one inside the other and some not: a hole or a part cut out, for GEOS.
    return PAIR_UNDECIDED


@numba.njit(cache=True, nogil=True)
def _rings_inside(
    coords: np.ndarray,
    ring_start: np.ndarray,
    ring_stop: np.ndarray,
    ring_block: np.ndarray,
    block_box: np.ndarray,
    boxes: np.ndarray,
    r0: int,
    r1: int,
    g: int,
    g0: int,
    g1: int,
) -> int:  # pragma: no cover - compiled
    """How many of rings ``r0..r1`` have their first vertex inside geometry `g`, or -1.

    Inside: an odd count of `g`'s rings (``g0..g1``) hold it. -1 when in doubt.
    """
    inside = 0
    for r in range(r0, r1):
        px = coords[ring_start[r], 0]
        py = coords[ring_start[r], 1]
        if not (boxes[g, 0] <= px <= boxes[g, 2] and boxes[g, 1] <= py <= boxes[g, 3]):
            continue
        held = 0
        for other in range(g0, g1):
            holds = _ring_holds(
                coords, ring_start[other], ring_stop[other], ring_block[other], block_box, px, py
            )
            if holds < 0:
                return -1
            held += holds
        inside += held % 2
    return inside


#: Edges per block of :func:`edge_blocks`.
EDGE_BLOCK = 32
#: Blocks per run whose box is kept too (:func:`edge_blocks`): a pair with a 200,000-vertex
#: polygon tests about 200 runs' boxes, not 6,250 blocks'.
BLOCK_RUN = 32


@numba.njit(cache=True, nogil=True)
def edge_blocks(
    coords: np.ndarray, ring_start: np.ndarray, ring_stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The edges of each ring in blocks of :data:`EDGE_BLOCK`, and each block's box.

    Ring ``r`` has the blocks ``ring_block[r]:ring_block[r + 1]``; block ``b`` of it holds the
    edges from ``ring_start[r] + EDGE_BLOCK * (b - ring_block[r])`` on, and its box is
    ``block_box[b]`` (xmin, ymin, xmax, ymax). A pair looks only at the edges of blocks whose
    boxes meet the small polygon's box: a few dozen of a large polygon's edges, not all.
    After the blocks (padded to a multiple of :data:`BLOCK_RUN` with empty boxes) come the
    boxes of each run of :data:`BLOCK_RUN` consecutive blocks (:func:`_run_box`), so that
    runs far from a box are skipped whole.
    """
    rings = len(ring_start)
    ring_block = np.zeros(rings + 1, np.int64)
    for r in range(rings):
        edges = max(ring_stop[r] - ring_start[r] - 1, 0)
        ring_block[r + 1] = ring_block[r] + (edges + EDGE_BLOCK - 1) // EDGE_BLOCK
    blocks = ring_block[rings]
    padded = (blocks + BLOCK_RUN - 1) // BLOCK_RUN * BLOCK_RUN
    block_box = np.empty((padded + padded // BLOCK_RUN, 4))
    block_box[:, 0] = np.inf
    block_box[:, 1] = np.inf
    block_box[:, 2] = -np.inf
    block_box[:, 3] = -np.inf
    for r in range(rings):
        for b in range(ring_block[r], ring_block[r + 1]):
            first = ring_start[r] + EDGE_BLOCK * (b - ring_block[r])
            stop = min(first + EDGE_BLOCK, ring_stop[r] - 1) + 1  # the last edge's end too
            low_x = np.inf
            low_y = np.inf
            high_x = -np.inf
            high_y = -np.inf
            for i in range(first, stop):
                low_x = min(low_x, coords[i, 0])
                high_x = max(high_x, coords[i, 0])
                low_y = min(low_y, coords[i, 1])
                high_y = max(high_y, coords[i, 1])
            block_box[b, 0] = low_x
            block_box[b, 1] = low_y
            block_box[b, 2] = high_x
            block_box[b, 3] = high_y
            run = padded + b // BLOCK_RUN
            block_box[run, 0] = min(block_box[run, 0], low_x)
            block_box[run, 1] = min(block_box[run, 1], low_y)
            block_box[run, 2] = max(block_box[run, 2], high_x)
            block_box[run, 3] = max(block_box[run, 3], high_y)
    return ring_block, block_box


@numba.njit(cache=True, nogil=True, inline="always")
def _run_box(block_box: np.ndarray, b: int) -> int:  # pragma: no cover - compiled
    """The row of `block_box` holding the box of the run of blocks that holds block `b`."""
    return len(block_box) // (BLOCK_RUN + 1) * BLOCK_RUN + b // BLOCK_RUN


@numba.njit(cache=True, nogil=True, inline="always")
def _run_end(b: int, end: int) -> int:  # pragma: no cover - compiled
    """The first block after the run that holds block `b`, or `end`."""
    return min((b // BLOCK_RUN + 1) * BLOCK_RUN, end)


@numba.njit(cache=True, nogil=True)
def _edges_near(
    ring_block: np.ndarray,
    block_box: np.ndarray,
    start: int,
    stop: int,
    r: int,
    low_x: float,
    low_y: float,
    high_x: float,
    high_y: float,
    edges: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Write the edges of ring `r` (``coords[start:stop]``) in blocks meeting the box: how many.

    `edges` has room for every edge of the ring.
    """
    count = 0
    end = ring_block[r + 1]
    box = (low_x, low_y, high_x, high_y)
    b = _next_block(ring_block, block_box, r, ring_block[r], box)
    while b < end:
        first = start + EDGE_BLOCK * (b - ring_block[r])
        for j in range(first, min(first + EDGE_BLOCK, stop - 1)):
            edges[count] = j
            count += 1
        b = _next_block(ring_block, block_box, r, b + 1, box)
    return count


@numba.njit(cache=True, nogil=True, inline="always")
def _next_block(
    ring_block: np.ndarray,
    block_box: np.ndarray,
    r: int,
    b: int,
    box: tuple[float, float, float, float],
) -> int:  # pragma: no cover - compiled
    """The first block of ring `r` from block `b` on whose box meets `box`, else its end.

    `box` is (xmin, ymin, xmax, ymax). Runs of blocks whose box misses it are skipped whole;
    `b` is the ring's first block or the one after a block this returned.
    """
    low_x, low_y, high_x, high_y = box
    end = ring_block[r + 1]
    while b < end:
        if b == ring_block[r] or b % BLOCK_RUN == 0:
            run = _run_box(block_box, b)
            if (
                block_box[run, 0] > high_x
                or block_box[run, 2] < low_x
                or block_box[run, 1] > high_y
                or block_box[run, 3] < low_y
            ):
                b = _run_end(b, end)
                continue
        if not (
            block_box[b, 0] > high_x
            or block_box[b, 2] < low_x
            or block_box[b, 1] > high_y
            or block_box[b, 3] < low_y
        ):
            return b
        b += 1
    return end


@numba.njit(cache=True, nogil=True)
def _largest_geometry(
    ring_start: np.ndarray, ring_stop: np.ndarray, geometry_ring: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Room for the edges of any geometry (its rings' coordinates are consecutive)."""
    room = 1
    for g in range(len(geometry_ring) - 1):
        if geometry_ring[g + 1] > geometry_ring[g]:
            room = max(room, ring_stop[geometry_ring[g + 1] - 1] - ring_start[geometry_ring[g]])
    return room


@numba.njit(cache=True, nogil=True)
def _ring_holds(
    coords: np.ndarray,
    start: int,
    stop: int,
    first_block: int,
    block_box: np.ndarray,
    px: float,
    py: float,
) -> int:  # pragma: no cover - compiled
    """1 if ring ``coords[start:stop]`` certainly holds the point, 0 if not, -1 in doubt.

    Crossings of the ray to +x are counted, skipping blocks of edges it certainly misses.
    """
    crossings = 0
    box = first_block
    end = first_block + (stop - start - 1 + EDGE_BLOCK - 1) // EDGE_BLOCK
    while box < end:
        # Edges wholly above or below the point's line (as ray_crossing tells them), or left.
        if box == first_block or box % BLOCK_RUN == 0:
            run = _run_box(block_box, box)
            if block_box[run, 1] > py or block_box[run, 3] <= py or block_box[run, 2] < px:
                box = _run_end(box, end)
                continue
        if not (block_box[box, 1] > py or block_box[box, 3] <= py or block_box[box, 2] < px):
            first = start + EDGE_BLOCK * (box - first_block)
            for i in range(first, min(first + EDGE_BLOCK, stop - 1)):
                turn = ray_crossing(coords, i, px, py)
                if turn == 0:
                    return -1
                if turn == 1:
                    crossings += 1
        box += 1
    return crossings % 2


@numba.njit(cache=True, nogil=True, inline="always")
def _row(start: int, stop: int, forward: int, k: int) -> int:  # pragma: no cover - compiled
    """Row of vertex `k` (0 .. edges - 1, taken cyclically) of a ring followed `forward`."""
    edges = stop - start - 1
    k = k % edges
    return start + k if forward > 0 else stop - 1 - k


@numba.njit(cache=True, nogil=True)
def clip_pairs(
    coords: np.ndarray,
    ring_start: np.ndarray,
    ring_stop: np.ndarray,
    ring_forward: np.ndarray,
    ring_block: np.ndarray,
    block_box: np.ndarray,
    geometry_ring: np.ndarray,
    small: np.ndarray,
    other: np.ndarray,
    start: int,
    end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``small[p] ∩ other[p]`` for pairs ``start..end``, as loops of coordinates.

    Geometry ``g`` has the rings ``geometry_ring[g]:geometry_ring[g + 1]``, ring ``r`` the
    closed coordinates ``coords[ring_start[r]:ring_stop[r]]`` followed in the direction
    ``ring_forward[r]`` (:func:`geozones.io.proof.ring_forward`), its edges in blocks
    ``ring_block[r]:ring_block[r + 1]`` of :func:`edge_blocks`; ``small[p]`` must be a single
    ring.

    Returns
    -------
    loops : numpy.ndarray
        Per pair: how many loops (parts) its intersection has; 0 where it is left to GEOS.
    xy : numpy.ndarray
        The loops' coordinates, closed, one after the other in the order of the pairs.
    lengths : numpy.ndarray
        Coordinates per loop.
    proven : numpy.ndarray
        Per pair: its loops are certainly a valid polygonal geometry, proven around the
        crossings (:func:`_loops_valid`) if P and Q are valid; False is undecided.
    """
    pairs = end - start
    loops = np.zeros(pairs, np.int64)
    proven = np.zeros(pairs, np.bool_)
    xy = np.empty((max(64, 24 * pairs), 2))
    lengths = np.empty(max(16, 2 * pairs), np.int64)
    used = 0
    loop_count = 0
    # Per crossing: edge of P, place along it, ring of Q (counted in the geometry), edge
    # along that ring, place along it, the point, P entering Q there, its error bounds.
    cross_p = np.empty(MAX_CROSSINGS, np.int64)
    cross_t = np.empty(MAX_CROSSINGS)
    cross_t_error = np.empty(MAX_CROSSINGS)
    cross_ring = np.empty(MAX_CROSSINGS, np.int64)
    cross_q = np.empty(MAX_CROSSINGS, np.int64)
    cross_u = np.empty(MAX_CROSSINGS)
    cross_u_error = np.empty(MAX_CROSSINGS)
    cross_x = np.empty(MAX_CROSSINGS)
    cross_y = np.empty(MAX_CROSSINGS)
    cross_enter = np.empty(MAX_CROSSINGS, np.bool_)
    along_p = np.empty(MAX_CROSSINGS, np.int64)
    along_q = np.empty(MAX_CROSSINGS, np.int64)
    next_p = np.empty(MAX_CROSSINGS, np.int64)
    next_q = np.empty(MAX_CROSSINGS, np.int64)
    visited = np.empty(MAX_CROSSINGS, np.bool_)
    one_ring = np.zeros(MAX_CROSSINGS, np.int64)
    q_key = np.empty(MAX_CROSSINGS, np.int64)
    placed = np.empty(MAX_CROSSINGS, np.int64)
    edges = np.empty(_largest_geometry(ring_start, ring_stop, geometry_ring), np.int64)
    for p in range(start, end):
        g_small = small[p]
        g_other = other[p]
        rp = geometry_ring[g_small]
        if geometry_ring[g_small + 1] != rp + 1 or ring_forward[rp] == 0:
            continue
        crossings = _crossings(
            coords,
            ring_start,
            ring_stop,
            ring_forward,
            ring_block,
            block_box,
            rp,
            geometry_ring[g_other],
            geometry_ring[g_other + 1],
            cross_p,
            cross_t,
            cross_t_error,
            cross_ring,
            cross_q,
            cross_u,
            cross_u_error,
            cross_x,
            cross_y,
            cross_enter,
            edges,
        )
        if crossings < 2:
            continue
        if not _ordered(cross_p, cross_t, cross_t_error, one_ring, crossings, along_p, next_p):
            continue
        # Along Q: by ring, then edge and place.
        for c in range(crossings):
            q_key[c] = cross_ring[c] * (1 << 32) + cross_q[c]
        if not _ordered(q_key, cross_u, cross_u_error, cross_ring, crossings, along_q, next_q):
            continue
        # Room for every vertex of both, every crossing and a closing vertex per loop.
        room = used + 2 * crossings + (ring_stop[rp] - ring_start[rp])
        for r in range(geometry_ring[g_other], geometry_ring[g_other + 1]):
            room += ring_stop[r] - ring_start[r]
        if room > len(xy):
            grown = np.empty((2 * room, 2))
            grown[:used] = xy[:used]
            xy = grown
        if loop_count + crossings > len(lengths):
            longer = np.empty(2 * (loop_count + crossings), np.int64)
            longer[:loop_count] = lengths[:loop_count]
            lengths = longer
        found, written = _follow(
            coords,
            ring_start,
            ring_stop,
            ring_forward,
            rp,
            geometry_ring[g_other],
            crossings,
            cross_p,
            cross_t,
            cross_ring,
            cross_q,
            cross_u,
            cross_x,
            cross_y,
            cross_enter,
            next_p,
            next_q,
            visited,
            xy,
            used,
            lengths,
            loop_count,
            placed,
        )
        if found > 0:
            loops[p - start] = found
            proven[p - start] = _one_ring_crossed(cross_ring, crossings) and _loops_valid(
                xy, used, lengths, loop_count, found, placed, crossings
            )
            used += written
            loop_count += found
    return loops, xy[:used].copy(), lengths[:loop_count].copy(), proven


@numba.njit(cache=True, nogil=True)
def _crossings(
    coords: np.ndarray,
    ring_start: np.ndarray,
    ring_stop: np.ndarray,
    ring_forward: np.ndarray,
    ring_block: np.ndarray,
    block_box: np.ndarray,
    rp: int,
    r0: int,
    r1: int,
    cross_p: np.ndarray,
    cross_t: np.ndarray,
    cross_t_error: np.ndarray,
    cross_ring: np.ndarray,
    cross_q: np.ndarray,
    cross_u: np.ndarray,
    cross_u_error: np.ndarray,
    cross_x: np.ndarray,
    cross_y: np.ndarray,
    cross_enter: np.ndarray,
    edges: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """The proper crossings of ring `rp` with rings ``r0..r1``; -1 where anything is in doubt."""
    ps = ring_start[rp]
    pe = ring_stop[rp]
    pf = ring_forward[rp]
    p_first_block = ring_block[rp]
    p_end_block = ring_block[rp + 1]
    low_x = np.inf
    low_y = np.inf
    high_x = -np.inf
    high_y = -np.inf
    for i in range(ps, pe):
        low_x = min(low_x, coords[i, 0])
        high_x = max(high_x, coords[i, 0])
        low_y = min(low_y, coords[i, 1])
        high_y = max(high_y, coords[i, 1])
    count = 0
    for r in range(r0, r1):
        qs = ring_start[r]
        qe = ring_stop[r]
        qf = ring_forward[r]
        if qf == 0:
            return -1
        ring_crossings = 0
        near = False
        candidates = _edges_near(
            ring_block, block_box, qs, qe, r, low_x, low_y, high_x, high_y, edges
        )
        for e in range(candidates):
            j = edges[e]
            # Edge k of the ring as followed is stored edge j, either way round.
            if qf > 0:
                c, d, k = j, j + 1, j - qs
            else:
                c, d, k = j + 1, j, qe - 2 - j
            cx = coords[c, 0]
            cy = coords[c, 1]
            dx = coords[d, 0]
            dy = coords[d, 1]
            if (
                max(cx, dx) < low_x
                or min(cx, dx) > high_x
                or max(cy, dy) < low_y
                or min(cy, dy) > high_y
            ):
                continue
            near = True
            edge_low_x = min(cx, dx)
            edge_low_y = min(cy, dy)
            edge_high_x = max(cx, dx)
            edge_high_y = max(cy, dy)
            edge_box = (edge_low_x, edge_low_y, edge_high_x, edge_high_y)
            # P's edges by blocks (and runs of blocks) whose boxes meet this edge's.
            block = _next_block(ring_block, block_box, rp, p_first_block, edge_box)
            while block < p_end_block:
                first = ps + EDGE_BLOCK * (block - p_first_block)
                block = _next_block(ring_block, block_box, rp, block + 1, edge_box)
                for stored in range(first, min(first + EDGE_BLOCK, pe - 1)):
                    # Edge i of P as followed is the stored edge, either way round.
                    if pf > 0:
                        i, a, b = stored - ps, stored, stored + 1
                    else:
                        i, a, b = pe - 2 - stored, stored + 1, stored
                    ax = coords[a, 0]
                    ay = coords[a, 1]
                    bx = coords[b, 0]
                    by = coords[b, 1]
                    if (
                        max(ax, bx) < edge_low_x
                        or edge_high_x < min(ax, bx)
                        or max(ay, by) < edge_low_y
                        or edge_high_y < min(ay, by)
                    ):
                        continue
                    c_side = orientation(ax, ay, bx, by, cx, cy)
                    d_side = orientation(ax, ay, bx, by, dx, dy)
                    if c_side != 0 and c_side == d_side:
                        continue
                    a_side = orientation(cx, cy, dx, dy, ax, ay)
                    b_side = orientation(cx, cy, dx, dy, bx, by)
                    if a_side != 0 and a_side == b_side:
                        continue
                    if c_side == 0 or d_side == 0 or a_side == 0 or b_side == 0:
                        return -1  # a vertex on an edge, or edges in line
                    if count == MAX_CROSSINGS:
                        return -1
                    # The crossing as a place along each edge, with a bound on its error.
                    ux = bx - ax
                    uy = by - ay
                    vx = dx - cx
                    vy = dy - cy
                    wx = cx - ax
                    wy = cy - ay
                    denominator = ux * vy - uy * vx
                    t_numerator = wx * vy - wy * vx
                    u_numerator = wx * uy - wy * ux
                    t = t_numerator / denominator
                    u = u_numerator / denominator
                    size = abs(denominator)
                    den_error = _PLACE_ERROR * (abs(ux * vy) + abs(uy * vx))
                    if not den_error < 0.5 * size:
                        return -1
                    cross_t_error[count] = (
                        _PLACE_ERROR * (abs(wx * vy) + abs(wy * vx)) + abs(t) * den_error
                    ) / (size - den_error)
                    cross_u_error[count] = (
                        _PLACE_ERROR * (abs(wx * uy) + abs(wy * ux)) + abs(u) * den_error
                    ) / (size - den_error)
                    cross_p[count] = i
                    cross_t[count] = min(max(t, 0.0), 1.0)
                    cross_ring[count] = r - r0
                    cross_q[count] = k
                    cross_u[count] = min(max(u, 0.0), 1.0)
                    cross_x[count], cross_y[count] = _crossing_point(ax, ay, bx, by, cx, cy, dx, dy)
                    # P goes into Q where its edge ends left of Q's edge (Q's inside).
                    cross_enter[count] = b_side > 0
                    count += 1
                    ring_crossings += 1
        if near and ring_crossings == 0:
            # A ring of Q near P that does not cross it: inside P (the result would have a
            # hole, or another part), or in doubt, it goes to GEOS.
            px = coords[qs, 0]
            py = coords[qs, 1]
            inside = 0
            for i in range(ps, pe - 1):
                ax = coords[i, 0]
                ay = coords[i, 1]
                bx = coords[i + 1, 0]
                by = coords[i + 1, 1]
                if (ay > py) == (by > py) or max(ax, bx) < px:
                    continue
                turn = orientation(ax, ay, bx, by, px, py)
                if turn == 0:
                    return -1
                if (turn > 0) == (by > ay):
                    inside += 1
            if inside % 2 == 1:
                return -1
    return count


#: Veltkamp's splitter for doubles: 2**27 + 1.
_SPLITTER = 134_217_729.0


@numba.njit(cache=True, nogil=True, inline="always")
def two_sum(
    a: float | np.ndarray, b: float | np.ndarray
) -> tuple[Any, Any]:  # pragma: no cover - compiled
    """``a + b`` as a double and the error of its rounding (Knuth); of arrays, elementwise."""
    total = a + b
    back = total - a
    return total, (a - (total - back)) + (b - back)


@numba.njit(cache=True, nogil=True, inline="always")
def two_product(a: float, b: float) -> tuple[float, float]:  # pragma: no cover - compiled
    """``a * b`` as a double and the error of its rounding (Dekker)."""
    product = a * b
    split = _SPLITTER * a
    a_high = split - (split - a)
    a_low = a - a_high
    split = _SPLITTER * b
    b_high = split - (split - b)
    b_low = b - b_high
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


@numba.njit(cache=True, nogil=True, inline="always")
def _dd_add(
    a_high: float, a_low: float, b_high: float, b_low: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Sum of two double-doubles."""
    high, low = two_sum(a_high, b_high)
    low += a_low + b_low
    return two_sum(high, low)


@numba.njit(cache=True, nogil=True, inline="always")
def _dd_multiply(
    a_high: float, a_low: float, b_high: float, b_low: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Product of two double-doubles."""
    high, low = two_product(a_high, b_high)
    low += a_high * b_low + a_low * b_high
    return two_sum(high, low)


@numba.njit(cache=True, nogil=True, inline="always")
def _dd_divide(
    a_high: float, a_low: float, b_high: float, b_low: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Quotient of two double-doubles (two steps of long division, then one more digit)."""
    first = a_high / b_high
    rest_high, rest_low = _dd_multiply(b_high, b_low, first, 0.0)
    rest_high, rest_low = _dd_add(a_high, a_low, -rest_high, -rest_low)
    second = rest_high / b_high
    back_high, back_low = _dd_multiply(b_high, b_low, second, 0.0)
    rest_high, rest_low = _dd_add(rest_high, rest_low, -back_high, -back_low)
    third = rest_high / b_high
    high, low = two_sum(first, second)
    return _dd_add(high, low, third, 0.0)


@numba.njit(cache=True, nogil=True)
def _crossing_point(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Where the lines of edges ``a -> b`` and ``c -> d`` cross, in double-double, rounded.

    As GEOS computes it (in double-double too), so the pieces have its coordinates: the
    point rounded from a value within about 1e-30 of the exact one.
    """
    ux = two_sum(bx, -ax)
    uy = two_sum(by, -ay)
    vx = two_sum(dx, -cx)
    vy = two_sum(dy, -cy)
    wx = two_sum(cx, -ax)
    wy = two_sum(cy, -ay)
    one = _dd_multiply(ux[0], ux[1], vy[0], vy[1])
    two = _dd_multiply(uy[0], uy[1], vx[0], vx[1])
    denominator = _dd_add(one[0], one[1], -two[0], -two[1])
    one = _dd_multiply(wx[0], wx[1], vy[0], vy[1])
    two = _dd_multiply(wy[0], wy[1], vx[0], vx[1])
    numerator = _dd_add(one[0], one[1], -two[0], -two[1])
    t = _dd_divide(numerator[0], numerator[1], denominator[0], denominator[1])
    step = _dd_multiply(t[0], t[1], ux[0], ux[1])
    x = _dd_add(ax, 0.0, step[0], step[1])
    step = _dd_multiply(t[0], t[1], uy[0], uy[1])
    y = _dd_add(ay, 0.0, step[0], step[1])
    return x[0] + x[1], y[0] + y[1]


@numba.njit(cache=True, nogil=True)
def _ordered(
    key: np.ndarray,
    place: np.ndarray,
    error: np.ndarray,
    group: np.ndarray,
    count: int,
    order: np.ndarray,
    following: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Sort crossings by edge `key`, then `place`; each one's next within its `group`, cyclic.

    False when two crossings on one edge are too close to order.
    """
    for c in range(count):
        order[c] = c
    for c in range(1, count):  # insertion sort: a few crossings
        moving = order[c]
        k = c
        while k > 0 and (
            key[order[k - 1]] > key[moving]
            or (key[order[k - 1]] == key[moving] and place[order[k - 1]] > place[moving])
        ):
            order[k] = order[k - 1]
            k -= 1
        order[k] = moving
    for c in range(count):
        here = order[c]
        after = order[c + 1] if c + 1 < count else -1
        if (
            after >= 0
            and key[after] == key[here]
            and not place[after] - place[here] > error[after] + error[here]
        ):
            return False
        # The next in the same group (ring), wrapping to the group's first.
        if after >= 0 and group[after] == group[here]:
            following[here] = after
        else:
            k = c
            while k > 0 and group[order[k - 1]] == group[here]:
                k -= 1
            following[here] = order[k]
    return True


@numba.njit(cache=True, nogil=True, inline="always")
def _put(xy: np.ndarray, at: int, coords: np.ndarray, row: int) -> int:  # pragma: no cover
    """Write vertex `row` at `at` unless it repeats the one before (as GEOS drops it): 1 or 0."""
    x = coords[row, 0]
    y = coords[row, 1]
    if xy[at - 1, 0] == x and xy[at - 1, 1] == y:
        return 0
    xy[at, 0] = x
    xy[at, 1] = y
    return 1


@numba.njit(cache=True, nogil=True)
def _one_ring_crossed(cross_ring: np.ndarray, crossings: int) -> bool:  # pragma: no cover
    """Whether every crossing is on the same ring of Q."""
    same = True
    for c in range(1, crossings):
        same = same and cross_ring[c] == cross_ring[0]
    return same


@numba.njit(cache=True, nogil=True)
def _loops_valid(
    xy: np.ndarray,
    at: int,
    lengths: np.ndarray,
    loop_at: int,
    found: int,
    placed: np.ndarray,
    crossings: int,
) -> bool:  # pragma: no cover - compiled
    """Whether the loops :func:`_follow` wrote for a pair are certainly a valid geometry.

    The loops are `found` closed rings from row `at` of `xy` (``lengths[loop_at:]``), with
    crossing ``c`` at row ``placed[c]``. Every edge of a loop is either an edge of P, an
    edge of the one ring of Q crossed (:func:`_one_ring_crossed`), or a new edge ending at
    a crossing point. P and Q being valid, their own edges are simple rings and meet each
    other only at the crossings, certainly (:func:`_crossings` leaves any doubt to GEOS):
    only the new edges, moved by the rounding of the crossing points, can meet another
    edge. So each is tested against every edge of the loops (edges sharing a vertex must
    not be in line), and no loop may lie inside another (parts of P ∩ Q are apart, and
    have no holes: a ring of Q inside P is left to GEOS). False means undecided.
    """
    for c in range(crossings):
        v = placed[c]
        s = at
        k = loop_at
        while v >= s + lengths[k]:
            s += lengths[k]
            k += 1
        n = lengths[k]
        if n < 4:
            return False
        before = v - 1 if v > s else s + n - 2
        if not _edge_apart(xy, at, lengths, loop_at, found, before, s, n):
            return False
        if not _edge_apart(xy, at, lengths, loop_at, found, v, s, n):
            return False
    if found > 1:
        s = at
        for k in range(loop_at, loop_at + found):
            other = at
            for j in range(loop_at, loop_at + found):
                if j != k:
                    # The loops do not meet: one inside the other holds its first vertex.
                    inside = False
                    for e in range(other, other + lengths[j] - 1):
                        ray = ray_crossing(xy, e, xy[s, 0], xy[s, 1])
                        if ray == 0:
                            return False
                        inside ^= ray > 0
                    if inside:
                        return False
                other += lengths[j]
            s += lengths[k]
    return True


@numba.njit(cache=True, nogil=True)
def _edge_apart(
    xy: np.ndarray,
    at: int,
    lengths: np.ndarray,
    loop_at: int,
    found: int,
    e: int,
    s: int,
    n: int,
) -> bool:  # pragma: no cover - compiled
    """Whether edge `e` of the loop ``xy[s:s + n]`` certainly meets no other edge.

    Of the loops of :func:`_loops_valid`; its two neighbours meet it only at their vertex.
    """
    last = s + n - 2
    following = e + 1 if e < last else s
    preceding = e - 1 if e > s else last
    if (
        orientation(
            xy[e, 0],
            xy[e, 1],
            xy[e + 1, 0],
            xy[e + 1, 1],
            xy[following + 1, 0],
            xy[following + 1, 1],
        )
        == 0
        or orientation(
            xy[preceding, 0], xy[preceding, 1], xy[e, 0], xy[e, 1], xy[e + 1, 0], xy[e + 1, 1]
        )
        == 0
    ):
        return False
    start = at
    for k in range(loop_at, loop_at + found):
        for j in range(start, start + lengths[k] - 1):
            if (
                j != e
                and j != following
                and j != preceding
                and edge_contact(xy, e, j) != EDGES_APART
            ):
                return False
        start += lengths[k]
    return True


@numba.njit(cache=True, nogil=True)
def _follow(
    coords: np.ndarray,
    ring_start: np.ndarray,
    ring_stop: np.ndarray,
    ring_forward: np.ndarray,
    rp: int,
    r0: int,
    crossings: int,
    cross_p: np.ndarray,
    cross_t: np.ndarray,
    cross_ring: np.ndarray,
    cross_q: np.ndarray,
    cross_u: np.ndarray,
    cross_x: np.ndarray,
    cross_y: np.ndarray,
    cross_enter: np.ndarray,
    next_p: np.ndarray,
    next_q: np.ndarray,
    visited: np.ndarray,
    xy: np.ndarray,
    at: int,
    lengths: np.ndarray,
    loop_at: int,
    placed: np.ndarray,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Follow P inside Q and Q inside P from crossing to crossing: (loops, coordinates).

    (0, 0) when the crossings do not alternate in and out along either boundary. Crossing
    ``c`` is written at row ``placed[c]`` of `xy`.
    """
    ps = ring_start[rp]
    pe = ring_stop[rp]
    pf = ring_forward[rp]
    p_edges = pe - ps - 1
    for c in range(crossings):
        visited[c] = False
        if cross_enter[next_p[c]] == cross_enter[c] or cross_enter[next_q[c]] == cross_enter[c]:
            return 0, 0
    written = 0
    found = 0
    for first in range(crossings):
        if visited[first] or not cross_enter[first]:
            continue
        begin = at + written
        c = first
        while True:
            # In along P: from crossing c (entering) to the next, which leaves.
            visited[c] = True
            placed[c] = at + written
            xy[at + written, 0] = cross_x[c]
            xy[at + written, 1] = cross_y[c]
            written += 1
            out = next_p[c]
            steps = (cross_p[out] - cross_p[c]) % p_edges
            if steps == 0 and not cross_t[out] > cross_t[c]:
                steps = p_edges  # all the way round to an earlier place on the same edge
            for k in range(1, steps + 1):
                written += _put(xy, at + written, coords, _row(ps, pe, pf, cross_p[c] + k))
            # Then along Q, inside P, to where P goes in again.
            visited[out] = True
            placed[out] = at + written
            xy[at + written, 0] = cross_x[out]
            xy[at + written, 1] = cross_y[out]
            written += 1
            back = next_q[out]
            ring = r0 + cross_ring[out]
            qs = ring_start[ring]
            qe = ring_stop[ring]
            q_edges = qe - qs - 1
            steps = (cross_q[back] - cross_q[out]) % q_edges
            if steps == 0 and not cross_u[back] > cross_u[out]:
                steps = q_edges
            for k in range(1, steps + 1):
                row = _row(qs, qe, ring_forward[ring], cross_q[out] + k)
                written += _put(xy, at + written, coords, row)
            if back == first:
                break
            if visited[back]:
                return 0, 0
            c = back
        xy[at + written, 0] = xy[begin, 0]
        xy[at + written, 1] = xy[begin, 1]
        written += 1
        lengths[loop_at + found] = at + written - begin
        found += 1
    for c in range(crossings):
        if not visited[c]:
            return 0, 0
    return found, written


#: Thinness of a loop by :func:`loop_shapes`: certainly thin, certainly not, or undecided.
LOOP_THIN = 1
LOOP_THICK = 0
LOOP_UNDECIDED = -1
#: The bounds of :func:`loop_shapes` hold with this relative margin, far above the rounding
#: of the sums, so that a loop it decides is decided the same way by
#: :func:`geozones.measure.tolerance.is_thin` on the polygon built from it.
_SHAPE_MARGIN = 1e-9


@numba.njit(cache=True, nogil=True)
def loop_shapes(
    xy: np.ndarray, loop_start: np.ndarray, lengths: np.ndarray, width: float, strip: float
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Area of each closed loop, and whether it is thinner than `width`, without GEOS.

    The loops are ``xy[loop_start[k]:loop_start[k] + lengths[k]]``, simple rings (parts that
    :func:`clip_pairs` made and the proof passed). A loop is thin when no disc of diameter
    `width` fits in it, by the certain bounds of :func:`geozones.measure.tolerance.is_thin`:
    less area than the disc, or all its vertices in a strip narrower than `strip` along its
    longest edge, make it thin; more area than ``width × perimeter`` plus the disc's makes it
    thick; anything else (and a loop of no area) is undecided.

    Returns
    -------
    area : numpy.ndarray
        Planar area of each loop, from the first vertex (small numbers).
    thin : numpy.ndarray
        :data:`LOOP_THIN`, :data:`LOOP_THICK` or :data:`LOOP_UNDECIDED` per loop.
    """
    count = len(lengths)
    area = np.empty(count)
    thin = np.full(count, LOOP_UNDECIDED, np.int8)
    disc = np.pi * width * width / 4.0
    for k in range(count):
        first = loop_start[k]
        stop = first + lengths[k]
        x0 = xy[first, 0]
        y0 = xy[first, 1]
        twice = 0.0
        perimeter = 0.0
        longest = 0.0
        edge = first
        for i in range(first, stop - 1):
            ax = xy[i, 0] - x0
            ay = xy[i, 1] - y0
            bx = xy[i + 1, 0] - x0
            by = xy[i + 1, 1] - y0
            twice += ax * by - bx * ay
            length2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
            perimeter += np.sqrt(length2)
            if length2 > longest:
                longest = length2
                edge = i
        area[k] = abs(twice) / 2.0
        if not area[k] > 0.0:
            continue
        if width <= 0.0:
            thin[k] = LOOP_THICK
        elif area[k] < disc * (1.0 - _SHAPE_MARGIN):
            thin[k] = LOOP_THIN
        elif area[k] > (width * perimeter + disc) * (1.0 + _SHAPE_MARGIN):
            thin[k] = LOOP_THICK
        elif longest > 0.0:
            # Across the strip along the longest edge, from the first vertex.
            length = np.sqrt(longest)
            normal_x = -(xy[edge + 1, 1] - xy[edge, 1]) / length
            normal_y = (xy[edge + 1, 0] - xy[edge, 0]) / length
            low = 0.0
            high = 0.0
            for i in range(first, stop):
                across = (xy[i, 0] - x0) * normal_x + (xy[i, 1] - y0) * normal_y
                low = min(low, across)
                high = max(high, across)
            if high - low < strip * (1.0 - _SHAPE_MARGIN):
                thin[k] = LOOP_THIN
    return area, thin

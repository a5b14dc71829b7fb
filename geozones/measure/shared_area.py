"""The area two polygons share, pair by pair, without an overlay.

GEOS computes ``area(intersection(a, b))`` by building the intersection (noding, a topology
graph, rings), about 26 µs for two polygons of a few dozen vertices. Only its area is needed
when thin parts are weighed against their neighbours
(:func:`geozones.measure.tolerance.eliminate_thin_parts`: 180,000 pairs on a tessellation of
parcels cut by a red line). By Green's theorem the area of ``A ∩ B`` is the integral of
``x dy`` around its boundary, which is made of the pieces of ``A``'s boundary inside ``B`` and
of ``B``'s inside ``A``. :func:`intersection_areas` cuts each edge where it properly crosses the
other polygon's edges (Shewchuk's filtered orientation), keeps the pieces whose middle lies
inside the other polygon, and sums their integrals, rings oriented with their region on the
left. A pair where an orientation is not certain (a vertex on the other's edge, edges in line:
where the two boundaries run together; a piece's middle too close to the other's boundary to
tell, by :func:`geozones.io.proof.ray_crossing`) is left to GEOS, as are large pairs.
"""

from __future__ import annotations

import numba
import numpy as np
import shapely

from geozones.io.proof import orientation, ray_crossing, ring_forward
from geozones.io.rings import PolygonRings, polygon_rings
from geozones.io.validity import trimmed_for_intersection
from geozones.measure.tolerance import shift_rows
from geozones.parallel import for_spans

#: Pairs whose coordinate counts multiply to more than this go to GEOS (each edge of one is
#: tested against every edge of the other).
MAX_EDGE_PAIRS = 16_384
#: Crossings per edge beyond which a pair goes to GEOS.
MAX_CROSSINGS = 64


def intersection_areas(
    left: np.ndarray,
    right: np.ndarray,
    left_index: np.ndarray | None = None,
    right_index: np.ndarray | None = None,
) -> np.ndarray:
    """``shapely.area(shapely.intersection(a, b))`` for pairs of polygons.

    Parameters
    ----------
    left, right : numpy.ndarray of shapely geometries
        Valid polygons or multipolygons. Anything else (missing, empty, other types) is left
        to GEOS.
    left_index, right_index : numpy.ndarray of int, optional
        The pairs: ``left[left_index[k]]`` with ``right[right_index[k]]``. Without them,
        `left` and `right` are paired element by element (and must be as long).

    Returns
    -------
    numpy.ndarray
        The planar area each pair shares, in the units of the coordinates squared. Where
        the two boundaries cross properly it is computed from the coordinates, relative to
        a vertex of the pair (GEOS, at Gauss-Krüger eastings, can be 2 % off on slivers a
        tenth of a millimetre wide); elsewhere by GEOS, with the pair moved near the origin.

    Examples
    --------
    >>> from shapely import box
    >>> intersection_areas(np.array([box(0, 0, 2, 2), box(0, 0, 1, 1)]),
    ...                    np.array([box(1, 1, 3, 3), box(5, 5, 6, 6)])).tolist()
    [1.0, 0.0]
    """
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    if left_index is None or right_index is None:
        if len(left) != len(right):
            raise ValueError(f"left and right differ in length: {len(left)} and {len(right)}")
        left_index = right_index = np.arange(len(left))
    left_index = np.asarray(left_index, dtype=np.int64)
    right_index = np.asarray(right_index, dtype=np.int64)
    out = np.zeros(len(left_index))
    left_ok, left_size = _usable(left)
    right_ok, right_size = _usable(right)
    usable = (
        left_ok[left_index]
        & right_ok[right_index]
        & (left_size[left_index] * right_size[right_index] <= MAX_EDGE_PAIRS)
    )
    decided = np.zeros(len(left_index), dtype=np.bool_)
    if usable.any():
        a = polygon_rings(left[left_ok])
        b = polygon_rings(right[right_ok])
        # Pair k's rings: a_rings[a_of[k]] up to a_rings[a_of[k] + 1]; -1: not computed here.
        a_of = np.where(usable, (np.cumsum(left_ok) - 1)[left_index], -1)
        b_of = (np.cumsum(right_ok) - 1)[right_index]
        areas = np.zeros(len(left_index))
        arguments = (
            *_ring_arrays(a, left_ok.sum()),
            *_ring_arrays(b, right_ok.sum()),
            a_of.astype(np.int64),
            b_of.astype(np.int64),
        )

        def span(bounds: tuple[int, int]) -> None:
            _pair_areas(*arguments, bounds[0], bounds[1], areas, decided)

        # A pair costs microseconds: spans of a thousand are worth a thread.
        for_spans(span, len(left_index), min_span=1024)
        out[decided] = areas[decided]
    rest = np.flatnonzero(~decided)
    if len(rest):
        # Overlaid near the origin, each pair moved by whole metres (exactly): at Gauss-Krüger
        # eastings GEOS's overlay of two triangles sharing an edge was 1.6e-8 off.
        pairs = np.stack(
            trimmed_for_intersection(left[left_index[rest]], right[right_index[rest]]), axis=1
        )
        origin = np.floor(np.nan_to_num(shapely.bounds(pairs[:, 0])[:, :2]))
        local = shift_rows(pairs, -origin)
        out[rest] = shapely.area(shapely.intersection(local[:, 0], local[:, 1]))
    return out


def _ring_arrays(
    rings: PolygonRings, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates, ring starts and lengths, which way each ring runs, and each polygon's rings.

    Which way: :func:`geozones.io.proof.ring_forward` (1 with the region on the left, -1 the
    other way, 0 flat), once per ring rather than once per pair it is in.
    """
    coords = np.ascontiguousarray(rings.coords, dtype=np.float64)
    starts = rings.ring_starts.astype(np.int64)
    lengths = rings.ring_lengths.astype(np.int64)
    forward = ring_forward(coords, starts, starts + lengths, rings.ring_is_hole.astype(np.bool_))
    first_ring = np.searchsorted(rings.ring_geometry, np.arange(count + 1)).astype(np.int64)
    return coords, starts, lengths, forward, first_ring


def _usable(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which geometries are non-empty polygons or multipolygons, and their coordinate counts."""
    polygonal = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
    usable = np.isin(shapely.get_type_id(geoms), polygonal) & ~shapely.is_empty(geoms)
    return usable, shapely.get_num_coordinates(geoms).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _pair_areas(
    a_coords: np.ndarray,
    a_starts: np.ndarray,
    a_lengths: np.ndarray,
    a_forward: np.ndarray,
    a_rings: np.ndarray,
    b_coords: np.ndarray,
    b_starts: np.ndarray,
    b_lengths: np.ndarray,
    b_forward: np.ndarray,
    b_rings: np.ndarray,
    a_of: np.ndarray,
    b_of: np.ndarray,
    first: int,
    stop: int,
    areas: np.ndarray,
    ok: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Pairs ``first..stop`` (skipping ``a_of[k] < 0``): the shared area, and where decided."""
    crossings = np.empty(MAX_CROSSINGS)
    for k in range(first, stop):
        if a_of[k] < 0:
            continue
        a0 = a_rings[a_of[k]]
        a1 = a_rings[a_of[k] + 1]
        b0 = b_rings[b_of[k]]
        b1 = b_rings[b_of[k] + 1]
        # Relative to a vertex of the pair: differences of nearby coordinates are exact
        # (Sterbenz), and small.
        ox = a_coords[a_starts[a0], 0]
        oy = a_coords[a_starts[a0], 1]
        from_a, done = _inside_integral(
            a_coords, a_starts, a_lengths, a_forward, a0, a1,
            b_coords, b_starts, b_lengths, b0, b1, ox, oy, crossings,
        )  # fmt: skip
        if not done:
            continue
        from_b, done = _inside_integral(
            b_coords, b_starts, b_lengths, b_forward, b0, b1,
            a_coords, a_starts, a_lengths, a0, a1, ox, oy, crossings,
        )  # fmt: skip
        if not done:
            continue
        areas[k] = max(0.5 * (from_a + from_b), 0.0)
        ok[k] = True


@numba.njit(cache=True, nogil=True)
def _inside_integral(
    p_coords: np.ndarray,
    p_starts: np.ndarray,
    p_lengths: np.ndarray,
    p_forward: np.ndarray,
    p0: int,
    p1: int,
    q_coords: np.ndarray,
    q_starts: np.ndarray,
    q_lengths: np.ndarray,
    q0: int,
    q1: int,
    ox: float,
    oy: float,
    crossings: np.ndarray,
) -> tuple[float, bool]:  # pragma: no cover - compiled
    """Twice the integral of ``x dy`` over the parts of rings ``p0..p1`` inside rings ``q0..q1``.

    Coordinates relative to ``(ox, oy)``. False when an orientation is uncertain (the
    boundaries touch or run together), a ring is flat, or an edge crosses too often.
    """
    total = 0.0
    for r in range(p0, p1):
        s = p_starts[r]
        sign = p_forward[r]
        if sign == 0:
            return 0.0, False
        for i in range(s, s + p_lengths[r] - 1):
            px = p_coords[i, 0] - ox
            py = p_coords[i, 1] - oy
            qx = p_coords[i + 1, 0] - ox
            qy = p_coords[i + 1, 1] - oy
            if px == qx and py == qy:
                continue
            dx = qx - px
            dy = qy - py
            count = 0
            for rq in range(q0, q1):
                sq = q_starts[rq]
                for j in range(sq, sq + q_lengths[rq] - 1):
                    ux = q_coords[j, 0] - ox
                    uy = q_coords[j, 1] - oy
                    vx = q_coords[j + 1, 0] - ox
                    vy = q_coords[j + 1, 1] - oy
                    if (
                        max(px, qx) < min(ux, vx)
                        or max(ux, vx) < min(px, qx)
                        or max(py, qy) < min(uy, vy)
                        or max(uy, vy) < min(py, qy)
                    ):
                        continue
                    side_p = orientation(ux, uy, vx, vy, px, py)
                    side_q = orientation(ux, uy, vx, vy, qx, qy)
                    if side_p != 0 and side_p == side_q:
                        continue
                    side_u = orientation(px, py, qx, qy, ux, uy)
                    side_v = orientation(px, py, qx, qy, vx, vy)
                    if side_u != 0 and side_u == side_v:
                        continue
                    if side_p == 0 or side_q == 0 or side_u == 0 or side_v == 0:
                        return 0.0, False
                    if count == MAX_CROSSINGS:
                        return 0.0, False
                    ex = vx - ux
                    ey = vy - uy
                    crossings[count] = ((ux - px) * ey - (uy - py) * ex) / (dx * ey - dy * ex)
                    count += 1
            # The pieces between crossings, in order along the edge.
            for m in range(1, count):
                t = crossings[m]
                n = m - 1
                while n >= 0 and crossings[n] > t:
                    crossings[n + 1] = crossings[n]
                    n -= 1
                crossings[n + 1] = t
            start_x = px
            start_y = py
            before = 0.0
            for m in range(count + 1):
                after = crossings[m] if m < count else 1.0
                end_x = px + after * dx if m < count else qx
                end_y = py + after * dy if m < count else qy
                middle = 0.5 * (before + after)
                held = _held(q_coords, q_starts, q_lengths, q0, q1,
                             ox + px + middle * dx, oy + py + middle * dy)  # fmt: skip
                if held < 0:
                    return 0.0, False
                if held:
                    total += sign * (start_x * end_y - end_x * start_y)
                start_x = end_x
                start_y = end_y
                before = after
    return total, True


@numba.njit(cache=True, nogil=True, inline="always")
def _held(
    coords: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    r0: int,
    r1: int,
    x: float,
    y: float,
) -> int:  # pragma: no cover - compiled
    """Whether rings ``r0..r1`` hold ``(x, y)`` (even-odd): 1, 0, or -1 where too close to tell."""
    inside = False
    for r in range(r0, r1):
        s = starts[r]
        for j in range(s, s + lengths[r] - 1):
            crossing = ray_crossing(coords, j, x, y)
            if crossing == 0:
                return -1
            if crossing > 0:
                inside = not inside
    return 1 if inside else 0

"""The compiled loops (numba) behind the ring pass, the pair tests and the strips of thinness.

They serve :mod:`geozones.measure._rings`, :mod:`geozones.analysis._pairs` and
:func:`geozones.measure.tolerance.in_narrow_strips`.

Imported only when a kernel first runs, so that ``import geozones`` does not load numba. Each
function is compiled on its first call and cached on disk (``cache=True``): the first run on a
machine compiles, later runs load the machine code.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from geozones.io.proof import ORIENT_BOUND

#: Codes of :func:`classify_pairs`.
FAR, NEAR, UNDECIDED = 0, 1, 2


@numba.njit(cache=True, nogil=True)
def ring_kernel(
    coords: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    first: int,
    stop: int,
    false_easting: float,
    terms: np.ndarray,
    term_lengths: np.ndarray,
    nodes: np.ndarray,
    weights: np.ndarray,
    short_nodes: np.ndarray,
    short_weights: np.ndarray,
    short_squared: float,
    v_scale: float,
    v_shift: np.ndarray,
    first_band: int,
    inverse_band_height: float,
    bow: float,
    double_area: np.ndarray,
    integral: np.ndarray,
    simple: np.ndarray,
    ring_bounds: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per ring ``first..stop``: planar double area, area-scale integral, simplicity, bounds.

    Writes into `double_area`, `integral`, `simple` and `ring_bounds`; the caller is
    :func:`geozones.measure._rings.ring_sums`, which documents the arguments.
    """
    last_band = len(v_shift) - 1
    band_height = 1.0 / inverse_band_height if inverse_band_height > 0.0 else 0.0
    for r in range(first, stop):
        s = starts[r]
        n = lengths[r]
        if n == 0:
            continue
        # The vertex mean, without the closing vertex: the point the ring is tested around.
        sum_x = 0.0
        sum_y = 0.0
        low_x = high_x = coords[s + n - 1, 0]
        low_y = high_y = coords[s + n - 1, 1]
        for i in range(s, s + n - 1):
            x = coords[i, 0]
            y = coords[i, 1]
            sum_x += x
            sum_y += y
            low_x = min(low_x, x)
            high_x = max(high_x, x)
            low_y = min(low_y, y)
            high_y = max(high_y, y)
        distinct = max(n - 1, 1)
        cx = sum_x / distinct
        cy = sum_y / distinct
        # The band of northing of each point; one for the whole ring when its extremes share
        # it (the band of a point is monotonic in its northing).
        low_band = _band(low_y, first_band, inverse_band_height, last_band)
        one_band = low_band == _band(high_y, first_band, inverse_band_height, last_band)
        # The usual series (two terms, of degree 4 and 1 in v): its coefficients in locals,
        # for short edges in one band (the same arithmetic as _piece's, unrolled).
        usual = (
            one_band
            and terms.shape[1] == 2
            and term_lengths[low_band, 0] == 5
            and term_lengths[low_band, 1] == 2
            and bow == 0.0
        )
        a0 = a1 = a2 = a3 = a4 = b0 = b1 = shift = 0.0
        if usual:
            a0 = terms[low_band, 0, 0]
            a1 = terms[low_band, 0, 1]
            a2 = terms[low_band, 0, 2]
            a3 = terms[low_band, 0, 3]
            a4 = terms[low_band, 0, 4]
            b0 = terms[low_band, 1, 0]
            b1 = terms[low_band, 1, 1]
            shift = v_shift[low_band]
        node0 = short_nodes[0]
        node1 = short_nodes[1]
        weight0 = short_weights[0]
        weight1 = short_weights[1]

        x_prev = coords[s, 0]
        y_prev = coords[s, 1]
        xl_prev = x_prev - cx
        yl_prev = y_prev - cy
        xa_prev = x_prev - false_easting
        area2 = 0.0
        total = 0.0
        positive = 0
        negative = 0
        upward = 0
        for i in range(s + 1, s + n):
            x = coords[i, 0]
            y = coords[i, 1]
            xl = x - cx
            yl = y - cy
            t1 = xl_prev * yl
            t2 = yl_prev * xl
            cross = t1 - t2
            area2 += cross
            bound = ORIENT_BOUND * (abs(t1) + abs(t2))
            if cross > bound:
                positive += 1
            elif cross < -bound:
                negative += 1
            if yl_prev < 0.0 and yl >= 0.0:
                upward += 1

            xa = x - false_easting
            if y != y_prev:
                dx = xa - xa_prev
                dy = y - y_prev
                if usual and dx * dx + dy * dy < short_squared:
                    v0 = y_prev * v_scale + shift
                    dv = dy * v_scale
                    total += (
                        weight0
                        * _usual_g(
                            xa_prev + node0 * dx, v0 + node0 * dv, a0, a1, a2, a3, a4, b0, b1
                        )
                        + weight1
                        * _usual_g(
                            xa_prev + node1 * dx, v0 + node1 * dv, a0, a1, a2, a3, a4, b0, b1
                        )
                    ) * dy
                elif one_band:
                    total += _piece(
                        xa_prev,
                        y_prev,
                        xa,
                        y,
                        low_band,
                        terms,
                        term_lengths,
                        nodes,
                        weights,
                        short_nodes,
                        short_weights,
                        short_squared,
                        v_scale,
                        v_shift,
                    )
                else:
                    total += _cut_edge(
                        xa_prev,
                        y_prev,
                        xa,
                        y,
                        terms,
                        term_lengths,
                        nodes,
                        weights,
                        short_nodes,
                        short_weights,
                        short_squared,
                        v_scale,
                        v_shift,
                        first_band,
                        inverse_band_height,
                        band_height,
                        last_band,
                    )
                if bow != 0.0:
                    total += bow * _bow(
                        xa_prev,
                        y_prev,
                        xa,
                        y,
                        terms,
                        v_scale,
                        v_shift,
                        first_band,
                        inverse_band_height,
                        last_band,
                    )

            x_prev = x
            y_prev = y
            xl_prev = xl
            yl_prev = yl
            xa_prev = xa
        double_area[r] = area2
        integral[r] = total
        ring_bounds[r, 0] = low_x
        ring_bounds[r, 1] = low_y
        ring_bounds[r, 2] = high_x
        ring_bounds[r, 3] = high_y
        edges = n - 1
        closed = coords[s, 0] == coords[s + n - 1, 0] and coords[s, 1] == coords[s + n - 1, 1]
        exact_shift = _shift_is_exact(low_x, high_x) and _shift_is_exact(low_y, high_y)
        simple[r] = (
            n >= 4
            and closed
            and exact_shift
            and upward == 1
            and (positive == edges or negative == edges)
        )


@numba.njit(cache=True, nogil=True, inline="always")
def _usual_g(
    x: float,
    v: float,
    a0: float,
    a1: float,
    a2: float,
    a3: float,
    a4: float,
    b0: float,
    b1: float,
) -> float:  # pragma: no cover - compiled
    """``G = x³ · P0(v) + x⁵ · P1(v)``, P0 of degree 4 and P1 of 1, as :func:`_piece` sums it."""
    x2 = x * x
    x3 = x * x2
    return (
        0.0
        + (((((0.0 * v + a4) * v + a3) * v + a2) * v + a1) * v + a0) * x3
        + (((0.0 * v + b1) * v + b0) * (x3 * x2))
    )


@numba.njit(cache=True, nogil=True, inline="always")
def _piece(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    band: int,
    terms: np.ndarray,
    term_lengths: np.ndarray,
    nodes: np.ndarray,
    weights: np.ndarray,
    short_nodes: np.ndarray,
    short_weights: np.ndarray,
    short_squared: float,
    v_scale: float,
    v_shift: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """``∫ G dy`` along the straight piece (x0, y0)-(x1, y1) inside one band.

    ``G = Σ_k x^(2k+3) · terms[band, k](v)`` (``term_lengths[band, k]`` coefficients) is a
    polynomial in ``x`` and ``v``, both linear along the piece: Gauss-Legendre on `nodes`
    integrates it exactly. Pieces shorter than ``sqrt(short_squared)`` take the two
    `short_nodes`, whose error there is below the rounding of the result (see
    :class:`geozones.measure._rings.EdgeSeries`).
    """
    dx = x1 - x0
    dy = y1 - y0
    v0 = y0 * v_scale + v_shift[band]
    dv = dy * v_scale
    # Plain indexing only: no array views in the loop (their reference counts would be
    # shared by the threads).
    n_terms = terms.shape[1]
    short = dx * dx + dy * dy < short_squared
    n_nodes = len(short_nodes) if short else len(nodes)
    value = 0.0
    for i in range(n_nodes):
        t = short_nodes[i] if short else nodes[i]
        x = x0 + t * dx
        v = v0 + t * dv
        x2 = x * x
        power = x
        g = 0.0
        for k in range(n_terms):
            power *= x2
            c = 0.0
            for j in range(term_lengths[band, k] - 1, -1, -1):
                c = c * v + terms[band, k, j]
            g += c * power
        value += (short_weights[i] if short else weights[i]) * g
    return value * dy


@numba.njit(cache=True, nogil=True)
def _cut_edge(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    terms: np.ndarray,
    term_lengths: np.ndarray,
    nodes: np.ndarray,
    weights: np.ndarray,
    short_nodes: np.ndarray,
    short_weights: np.ndarray,
    short_squared: float,
    v_scale: float,
    v_shift: np.ndarray,
    first_band: int,
    inverse_band_height: float,
    band_height: float,
    last_band: int,
) -> float:  # pragma: no cover - compiled
    """``∫ G dy`` along an edge, cut where it crosses from one band of northing to the next."""
    b0 = _band(y0, first_band, inverse_band_height, last_band)
    b1 = _band(y1, first_band, inverse_band_height, last_band)
    if b0 == b1:
        return _piece(
            x0,
            y0,
            x1,
            y1,
            b0,
            terms,
            term_lengths,
            nodes,
            weights,
            short_nodes,
            short_weights,
            short_squared,
            v_scale,
            v_shift,
        )
    slope = (x1 - x0) / (y1 - y0)
    total = 0.0
    xa = x0
    ya = y0
    step = 1 if b1 > b0 else -1
    b = b0
    while b != b1:
        # The boundary between band b and the next one in the edge's direction.
        boundary = (first_band + b + (1 if step > 0 else 0)) * band_height
        xb = x0 + (boundary - y0) * slope
        total += _piece(
            xa,
            ya,
            xb,
            boundary,
            b,
            terms,
            term_lengths,
            nodes,
            weights,
            short_nodes,
            short_weights,
            short_squared,
            v_scale,
            v_shift,
        )
        xa = xb
        ya = boundary
        b += step
    total += _piece(
        xa,
        ya,
        x1,
        y1,
        b1,
        terms,
        term_lengths,
        nodes,
        weights,
        short_nodes,
        short_weights,
        short_squared,
        v_scale,
        v_shift,
    )
    return total


@numba.njit(cache=True, nogil=True)
def _bow(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    terms: np.ndarray,
    v_scale: float,
    v_shift: np.ndarray,
    first_band: int,
    inverse_band_height: float,
    last_band: int,
) -> float:  # pragma: no cover - compiled
    """The sliver between a geodesic and the straight edge, ``-c1/3 · s · L² / 8 · dy``.

    ``c1/3`` is ``terms[band, 0](v)`` at the edge's midpoint, ``s = x0 + x1``: the geodesic
    bows away from the central meridian (``x dy L² / 12 R²``).
    """
    band = _band(0.5 * (y0 + y1), first_band, inverse_band_height, last_band)
    v = (y0 + y1) * 0.5 * v_scale + v_shift[band]
    c = 0.0
    for j in range(terms.shape[2] - 1, -1, -1):
        c = c * v + terms[band, 0, j]
    dx = x1 - x0
    dy = y1 - y0
    return -c * (x0 + x1) * (dx * dx + dy * dy) * 0.125 * dy


@numba.njit(cache=True, nogil=True, inline="always")
def _band(y: float, first_band: int, inverse_band_height: float, last_band: int) -> int:
    """Index among the fitted bands of the band holding northing `y` (nearest if none)."""
    return min(max(math.floor(y * inverse_band_height) - first_band, 0), last_band)


@numba.njit(cache=True, nogil=True)
def _shift_is_exact(low: float, high: float) -> bool:  # pragma: no cover - compiled
    """True if ``a - b`` is exact for any ``a``, ``b`` in [low, high] and their mean.

    Sterbenz: the difference of two floats within a factor of 2 is exact; 1.5 leaves room
    for the rounding of the mean.
    """
    return (low > 0.0 and high <= 1.5 * low) or (high < 0.0 and low >= 1.5 * high)


@numba.njit(cache=True, nogil=True)
def _cell_span(
    low: float, high: float, origin: float, cell: float, cells: int
) -> tuple[int, int]:  # pragma: no cover - compiled
    first = int((low - origin) // cell)
    last = int((high - origin) // cell)
    return max(first, 0), min(last, cells - 1)


@numba.njit(cache=True, nogil=True)
def grid(
    bounds: np.ndarray,
    margin: float,
    x0: float,
    y0: float,
    cell: float,
    columns: int,
    rows: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The boxes in each cell: ``members[start[k]:start[k + 1]]`` (a counting sort)."""
    n = bounds.shape[0]
    cells = columns * rows
    start = np.zeros(cells + 1, dtype=np.int64)
    for i in range(n):
        c0, c1 = _cell_span(bounds[i, 0] - margin, bounds[i, 2] + margin, x0, cell, columns)
        r0, r1 = _cell_span(bounds[i, 1] - margin, bounds[i, 3] + margin, y0, cell, rows)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                start[r * columns + c + 1] += 1
    for k in range(cells):
        start[k + 1] += start[k]
    fill = start[:-1].copy()
    members = np.empty(start[cells], dtype=np.int64)
    for i in range(n):
        c0, c1 = _cell_span(bounds[i, 0] - margin, bounds[i, 2] + margin, x0, cell, columns)
        r0, r1 = _cell_span(bounds[i, 1] - margin, bounds[i, 3] + margin, y0, cell, rows)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                k = r * columns + c
                members[fill[k]] = i
                fill[k] += 1
    return start, members


@numba.njit(cache=True, nogil=True)
def cell_pairs(
    start: np.ndarray,
    members: np.ndarray,
    boxes: np.ndarray,
    margin: float,
    reach: float,
    x0: float,
    y0: float,
    cell: float,
    columns: int,
    rows: int,
    first_cell: int,
    stop_cell: int,
    left: np.ndarray,
    right: np.ndarray,
    offset: int,
) -> int:  # pragma: no cover - compiled
    """Count the pairs of cells ``first_cell:stop_cell`` (`left` empty) or write them.

    ``boxes[e]`` is the box of ``members[e]``. A pair is found in the one cell that holds the
    low corner of the overlap of its widened boxes.
    """
    reach2 = reach * reach
    found = 0
    for k in range(first_cell, stop_cell):
        row = k // columns
        column = k - row * columns
        for a in range(start[k], start[k + 1]):
            ax0 = boxes[a, 0]
            ay0 = boxes[a, 1]
            ax1 = boxes[a, 2]
            ay1 = boxes[a, 3]
            for b in range(a + 1, start[k + 1]):
                bx0 = boxes[b, 0]
                by0 = boxes[b, 1]
                bx1 = boxes[b, 2]
                by1 = boxes[b, 3]
                # The widened boxes must meet (what an STR-tree query of them finds) ...
                if ax0 - margin > bx1 + margin or bx0 - margin > ax1 + margin:
                    continue
                if ay0 - margin > by1 + margin or by0 - margin > ay1 + margin:
                    continue
                # ... and are counted in this cell only.
                low_x = max(ax0, bx0) - margin
                low_y = max(ay0, by0) - margin
                cx, _ = _cell_span(low_x, low_x, x0, cell, columns)
                cy, _ = _cell_span(low_y, low_y, y0, cell, rows)
                if cx != column or cy != row:
                    continue
                gap_x = max(max(ax0 - bx1, bx0 - ax1), 0.0)
                gap_y = max(max(ay0 - by1, by0 - ay1), 0.0)
                if gap_x * gap_x + gap_y * gap_y > reach2:
                    continue
                if len(left):
                    i = members[a]
                    j = members[b]
                    left[offset + found] = min(i, j)
                    right[offset + found] = max(i, j)
                found += 1
    return found


@numba.njit(cache=True, nogil=True)
def classify_pairs(
    coords: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    distance: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per pair: FAR, NEAR or UNDECIDED, from the vertices ``coords[first[g]:stop[g]]``.

    Each span must be one closed ring (a polygon without holes), so that consecutive
    vertices are its edges. A geometry with ``first[g] < 0`` has no usable coordinates: its
    pairs are UNDECIDED.
    """
    for p in range(len(left)):
        a = left[p]
        b = right[p]
        out[p] = UNDECIDED
        if first[a] < 0 or first[b] < 0 or stop[a] - first[a] < 2 or stop[b] - first[b] < 2:
            continue
        # Work relative to a vertex of `a`: coordinates stay small, rounding tiny.
        ox = coords[first[a], 0]
        oy = coords[first[a], 1]
        scale = 0.0
        for g in (a, b):
            for i in range(first[g], stop[g]):
                scale = max(scale, abs(coords[i, 0] - ox), abs(coords[i, 1] - oy))
        # Far more than the rounding of these few operations (a few ulps of `scale`).
        slack = 1e-9 * (scale + distance) + 1e-12
        # Far: separated along the direction of the longest edge of either, or its normal.
        if _separated(
            coords,
            first,
            stop,
            a,
            b,
            ox,
            oy,
            _longest_edge(coords, first, stop, a),
            distance + slack,
            0,
        ) or _separated(
            coords,
            first,
            stop,
            a,
            b,
            ox,
            oy,
            _longest_edge(coords, first, stop, b),
            distance + slack,
            0,
        ):
            out[p] = FAR
            continue
        near = distance - slack
        if near <= 0.0:
            continue
        # Near: a vertex of one within the distance of a vertex, then of an edge, of the other.
        if _vertex_near_vertex(coords, first, stop, a, b, ox, oy, near * near):
            out[p] = NEAR
            continue
        if _vertex_near_edge(coords, first, stop, a, b, ox, oy, near) or _vertex_near_edge(
            coords, first, stop, b, a, ox, oy, near
        ):
            out[p] = NEAR
            continue
        # Far after all: separated along the normal of some edge of either.
        for g in (a, b):
            for i in range(first[g], stop[g] - 1):
                if _separated(coords, first, stop, a, b, ox, oy, i, distance + slack, 1):
                    out[p] = FAR
                    break
            if out[p] == FAR:
                break


@numba.njit(cache=True, nogil=True)
def _longest_edge(
    coords: np.ndarray, first: np.ndarray, stop: np.ndarray, g: int
) -> int:  # pragma: no cover - compiled
    best = first[g]
    longest = -1.0
    for i in range(first[g], stop[g] - 1):
        dx = coords[i + 1, 0] - coords[i, 0]
        dy = coords[i + 1, 1] - coords[i, 1]
        length = dx * dx + dy * dy
        if length > longest:
            longest = length
            best = i
    return best


@numba.njit(cache=True, nogil=True)
def _separated(
    coords: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    a: int,
    b: int,
    ox: float,
    oy: float,
    edge: int,
    gap: float,
    first_axis: int,
) -> bool:  # pragma: no cover - compiled
    """True if the vertices of `a` and `b` are more than `gap` apart along an edge's direction.

    The direction of ``coords[edge] -> coords[edge + 1]`` and then its normal, or (with
    `first_axis` 1) the normal only.
    """
    ux = coords[edge + 1, 0] - coords[edge, 0]
    uy = coords[edge + 1, 1] - coords[edge, 1]
    length = np.sqrt(ux * ux + uy * uy)
    if not length > 0.0:
        return False
    ux /= length
    uy /= length
    if first_axis == 1:
        ux, uy = -uy, ux
    for _ in range(first_axis, 2):
        low_a = np.inf
        high_a = -np.inf
        for i in range(first[a], stop[a]):
            t = (coords[i, 0] - ox) * ux + (coords[i, 1] - oy) * uy
            low_a = min(low_a, t)
            high_a = max(high_a, t)
        low_b = np.inf
        high_b = -np.inf
        for i in range(first[b], stop[b]):
            t = (coords[i, 0] - ox) * ux + (coords[i, 1] - oy) * uy
            low_b = min(low_b, t)
            high_b = max(high_b, t)
        if max(low_b - high_a, low_a - high_b) > gap:
            return True
        ux, uy = -uy, ux
    return False


@numba.njit(cache=True, nogil=True)
def _vertex_near_vertex(
    coords: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    a: int,
    b: int,
    ox: float,
    oy: float,
    near2: float,
) -> bool:  # pragma: no cover - compiled
    for i in range(first[a], stop[a]):
        xa = coords[i, 0] - ox
        ya = coords[i, 1] - oy
        for j in range(first[b], stop[b]):
            dx = coords[j, 0] - ox - xa
            dy = coords[j, 1] - oy - ya
            if dx * dx + dy * dy <= near2:
                return True
    return False


@numba.njit(cache=True, nogil=True)
def _vertex_near_edge(
    coords: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    a: int,
    b: int,
    ox: float,
    oy: float,
    near: float,
) -> bool:  # pragma: no cover - compiled
    """True if a vertex of `a` is within `near` of an edge of `b` (a point of `b`)."""
    for j in range(first[b], stop[b] - 1):
        x0 = coords[j, 0] - ox
        y0 = coords[j, 1] - oy
        ex = coords[j + 1, 0] - ox - x0
        ey = coords[j + 1, 1] - oy - y0
        length2 = ex * ex + ey * ey
        if not length2 > 0.0:
            continue
        length = np.sqrt(length2)
        for i in range(first[a], stop[a]):
            px = coords[i, 0] - ox - x0
            py = coords[i, 1] - oy - y0
            along = px * ex + py * ey
            if along < 0.0 or along > length2:
                continue
            # Distance to the edge's line, for a foot inside the edge.
            if abs(px * ey - py * ex) <= near * length:
                return True
    return False


#: At most this many strips hold a polygon's edges in :func:`in_strips` (2⁴ cells to check).
MAX_STRIPS = 4


@numba.njit(cache=True, nogil=True)
def in_strips(
    coords: np.ndarray, first: np.ndarray, width: float
) -> np.ndarray:  # pragma: no cover - compiled
    """Per run of coordinates: in strips, and cells they close in, narrower in all than `width`.

    Run ``k`` is ``coords[first[k]:first[k + 1]]`` (a polygon's closed rings one after the
    other; the step between two rings counts as an edge). Up to :data:`MAX_STRIPS` strips
    take its edges, each running along the longest edge left and holding the edges whose
    ends are both nearer its line than `width`; with three strips or more, the cells they
    close in (:func:`_closed_in`) count too. True where every edge has a strip and the widths
    add up to less than `width` (:func:`geozones.measure.tolerance.in_narrow_strips` says
    why that makes the polygon thin). Widths are measured across each strip from the run's
    first vertex.
    """
    count = len(first) - 1
    out = np.zeros(count, dtype=np.bool_)
    normal = np.empty((MAX_STRIPS, 2))
    low = np.empty(MAX_STRIPS)
    high = np.empty(MAX_STRIPS)
    for k in range(count):
        start, stop = first[k], first[k + 1]
        edges = stop - start - 1
        if edges < 1:
            continue
        x0, y0 = coords[start, 0], coords[start, 1]
        strip = np.full(edges, -1, dtype=np.int64)
        used = 0
        left = edges
        while left > 0 and used < MAX_STRIPS:
            edge, longest = -1, 0.0
            for i in range(edges):
                if strip[i] < 0:
                    dx = coords[start + i + 1, 0] - coords[start + i, 0]
                    dy = coords[start + i + 1, 1] - coords[start + i, 1]
                    if dx * dx + dy * dy > longest:
                        edge, longest = i, dx * dx + dy * dy
            if edge < 0:
                break
            nx, ny = _unit_normal(coords, start + edge)
            line = (coords[start + edge, 0] - x0) * nx + (coords[start + edge, 1] - y0) * ny
            low[used], high[used] = np.inf, -np.inf
            for i in range(edges):
                if strip[i] >= 0:
                    continue
                a = (coords[start + i, 0] - x0) * nx + (coords[start + i, 1] - y0) * ny
                b = (coords[start + i + 1, 0] - x0) * nx + (coords[start + i + 1, 1] - y0) * ny
                if abs(a - line) < width and abs(b - line) < width:
                    strip[i] = used
                    left -= 1
                    low[used] = min(low[used], a, b)
                    high[used] = max(high[used], a, b)
            normal[used, 0], normal[used, 1] = nx, ny
            used += 1
        if left > 0:
            continue
        total = 0.0
        for s in range(used):
            total += high[s] - low[s]
        if total < width and used >= 3:
            xmin, ymin, xmax, ymax = np.inf, np.inf, -np.inf, -np.inf
            for i in range(start, stop):
                xmin = min(xmin, coords[i, 0] - x0)
                xmax = max(xmax, coords[i, 0] - x0)
                ymin = min(ymin, coords[i, 1] - y0)
                ymax = max(ymax, coords[i, 1] - y0)
            total += _closed_in(normal, low, high, used, xmin, ymin, xmax, ymax, width)
        out[k] = total < width
    return out


@numba.njit(cache=True, nogil=True)
def _closed_in(
    normal: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    used: int,
    xmin: float,
    ymin: float,
    xmax: float,
    ymax: float,
    width: float,
) -> float:  # pragma: no cover - compiled
    """The widths of the cells outside every strip that lie within the box, added up.

    Points outside the strips fall into cells, one per choice of side of each strip (convex:
    half-planes met), and a cell either lies inside the polygon or outside it, as no edge
    crosses it. A cell that reaches the box grown by `width` (points outside the polygon's
    box) lies outside; the others are added at their width (the least over their edges of
    the farthest vertex from the edge's line).
    """
    xmin, ymin, xmax, ymax = xmin - width, ymin - width, xmax + width, ymax + width
    size = 4 + MAX_STRIPS
    x, y = np.empty(size), np.empty(size)
    next_x, next_y = np.empty(size), np.empty(size)
    total = 0.0
    for side in range(1 << used):
        x[0], x[1], x[2], x[3] = xmin, xmax, xmax, xmin
        y[0], y[1], y[2], y[3] = ymin, ymin, ymax, ymax
        corners = 4
        for s in range(used):
            # Keep a·p <= b: below the strip (a the normal, b its low side) or above it.
            if (side >> s) & 1:
                ax, ay, b = -normal[s, 0], -normal[s, 1], -high[s]
            else:
                ax, ay, b = normal[s, 0], normal[s, 1], low[s]
            kept = 0
            for i in range(corners):
                j = (i + 1) % corners
                di = ax * x[i] + ay * y[i] - b
                dj = ax * x[j] + ay * y[j] - b
                if di <= 0:
                    next_x[kept], next_y[kept] = x[i], y[i]
                    kept += 1
                if (di < 0 < dj) or (dj < 0 < di):
                    t = di / (di - dj)
                    next_x[kept] = x[i] + t * (x[j] - x[i])
                    next_y[kept] = y[i] + t * (y[j] - y[i])
                    kept += 1
            x, next_x = next_x, x
            y, next_y = next_y, y
            corners = kept
            if corners == 0:
                break
        if corners == 0:
            continue
        reaches = False
        for i in range(corners):
            if (
                x[i] < xmin + width / 2
                or x[i] > xmax - width / 2
                or y[i] < ymin + width / 2
                or y[i] > ymax - width / 2
            ):
                reaches = True
        if reaches:
            continue
        least = np.inf
        for i in range(corners):
            j = (i + 1) % corners
            ex, ey = x[j] - x[i], y[j] - y[i]
            length = math.sqrt(ex * ex + ey * ey)
            if length == 0:
                continue
            farthest = 0.0
            for q in range(corners):
                farthest = max(farthest, abs((x[q] - x[i]) * ey - (y[q] - y[i]) * ex) / length)
            least = min(least, farthest)
        total += least if least < np.inf else 0.0
    return total


@numba.njit(cache=True, nogil=True, inline="always")
def _unit_normal(coords: np.ndarray, edge: int) -> tuple[float, float]:  # pragma: no cover
    """The unit normal of edge ``edge`` (from vertex ``edge`` to the next), left of it."""
    dx = coords[edge + 1, 0] - coords[edge, 0]
    dy = coords[edge + 1, 1] - coords[edge, 1]
    length = math.sqrt(dx * dx + dy * dy)
    return -(dy / length), dx / length

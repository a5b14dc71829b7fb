"""Pairs of polygons within a distance of each other: candidates on a grid, cheap exact tests.

:func:`candidate_pairs` finds every pair of bounding boxes that come within a distance, with a
uniform grid instead of an STR-tree of box geometries (no GEOS objects are made).
:func:`classify_pairs` then settles most candidates from the coordinates alone, with tests that
are certain or say nothing:

* *far*: the two vertex sets are separated, along the direction of an edge of one polygon or
  its normal, by more than the distance plus a safety margin (a polygon lies in the convex hull
  of its vertices, so the polygons are at least that far apart);
* *near*: two vertices, one of each polygon, are closer than the distance minus the margin
  (vertices are points of the polygons).

Pairs neither test settles are left to GEOS (``shapely.dwithin``), so the pairs found are
exactly those ``dwithin`` finds.
"""

from __future__ import annotations

import numba
import numpy as np

from geozones._parallel import for_spans

#: Codes of :func:`classify_pairs`.
FAR, NEAR, UNDECIDED = 0, 1, 2


def candidate_pairs(
    bounds: np.ndarray, margin: float, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` whose boxes, widened by `margin`, meet and are at most `reach` apart.

    Parameters
    ----------
    bounds : numpy.ndarray
        ``(n, 4)`` boxes ``xmin, ymin, xmax, ymax``.
    margin : float
        Each box is widened by this much on every side before the boxes are matched.
    reach : float
        Pairs whose (unwidened) boxes are farther apart than this are dropped.

    Returns
    -------
    tuple of numpy.ndarray
        ``i`` and ``j`` (int64), in the grid's order.
    """
    n = len(bounds)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    bounds = np.ascontiguousarray(bounds, dtype=np.float64)
    finite = np.isfinite(bounds).all(axis=1)
    if not finite.all():
        raise ValueError("bounds must be finite")
    width = bounds[:, 2] - bounds[:, 0] + 2 * margin
    height = bounds[:, 3] - bounds[:, 1] + 2 * margin
    # Cells about twice the typical box: few cells per box, few boxes per cell.
    cell = max(float(np.median(np.maximum(width, height))) * 2.0, 1e-9)
    x0 = float(bounds[:, 0].min()) - margin
    y0 = float(bounds[:, 1].min()) - margin
    columns = int((float(bounds[:, 2].max()) + margin - x0) // cell) + 1
    rows = int((float(bounds[:, 3].max()) + margin - y0) // cell) + 1
    while columns * rows > 4 * n + 1024:
        cell *= 2.0
        columns = int((float(bounds[:, 2].max()) + margin - x0) // cell) + 1
        rows = int((float(bounds[:, 3].max()) + margin - y0) // cell) + 1
    start, members = _grid(bounds, margin, x0, y0, cell, columns, rows)
    # The boxes of each cell, contiguous: the pair loops read memory in order.
    boxes = bounds[members]
    # Spans of cells with about equal numbers of entries, counted then written in threads.
    spans = max(1, min(64, len(members) // 50_000))
    cuts = np.searchsorted(start, np.linspace(0, len(members), spans + 1)).astype(np.int64)
    cuts[0], cuts[-1] = 0, columns * rows
    counts = np.zeros(spans, dtype=np.int64)
    nothing = np.zeros(0, dtype=np.int64)
    grid = (margin, reach, x0, y0, cell, columns, rows)

    def count(span: tuple[int, int]) -> None:
        for k in range(*span):
            counts[k] = _cell_pairs(
                start, members, boxes, *grid, int(cuts[k]), int(cuts[k + 1]), nothing, nothing, 0
            )

    for_spans(count, spans, min_span=1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    left = np.empty(int(offsets[-1]), dtype=np.int64)
    right = np.empty(int(offsets[-1]), dtype=np.int64)

    def write(span: tuple[int, int]) -> None:
        for k in range(*span):
            _cell_pairs(
                start,
                members,
                boxes,
                *grid,
                int(cuts[k]),
                int(cuts[k + 1]),
                left,
                right,
                int(offsets[k]),
            )

    for_spans(write, spans, min_span=1)
    return left, right


@numba.njit(cache=True, nogil=True)
def _cell_span(
    low: float, high: float, origin: float, cell: float, cells: int
) -> tuple[int, int]:  # pragma: no cover - compiled
    first = int((low - origin) // cell)
    last = int((high - origin) // cell)
    return max(first, 0), min(last, cells - 1)


@numba.njit(cache=True, nogil=True)
def _grid(
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
def _cell_pairs(
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
        # Far after all: separated along the direction of some edge of either.
        for g in (a, b):
            for i in range(first[g], stop[g] - 1):
                if _separated(coords, first, stop, a, b, ox, oy, i, distance + slack):
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
) -> bool:  # pragma: no cover - compiled
    """True if the vertices of `a` and `b` are more than `gap` apart along an edge's direction.

    The direction of ``coords[edge] -> coords[edge + 1]``, or its normal.
    """
    ux = coords[edge + 1, 0] - coords[edge, 0]
    uy = coords[edge + 1, 1] - coords[edge, 1]
    length = np.sqrt(ux * ux + uy * uy)
    if not length > 0.0:
        return False
    ux /= length
    uy /= length
    for axis in range(2):
        if axis == 1:
            ux, uy = -uy, ux
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

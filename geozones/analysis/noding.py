"""Lines cut wherever they meet, in a compiled loop, checked before they are used.

A feature under several claims is cut from the faces of its boundary and its cutters'
(:func:`geozones.resolve_conflicts`). GEOS's ``shapely.union_all`` nodes such lines at about
2 µs per segment on a jittered tessellation (a quarter of the cut's time), whatever the
jitter, and builds an overlay graph the faces do not need.

:func:`node_lines` finds the pairs of segments that may meet on a uniform grid, decides each
with exact orientations (Shewchuk's filter, then an exact expansion where it cannot tell),
cuts both segments of a crossing at the rounded crossing point and a segment at any end of
another lying on it (collinear overlaps included). Computed crossing points within a unit in
the last place of each other are made one (or moved onto a segment's end that near; ends never
move), so that a line crossing two edges drawn along each other (a parcel edge shared
exactly) cuts both at one point; repeated pieces are kept once, and the
pieces are joined into lines from node to node. Rounding a crossing point can make a piece
cross a line it did not cross, so every piece of a cut segment is then checked, exactly,
against all others: any two that meet other than at a shared end (or that run along each
other from one) leave the lines to GEOS. Where it answers, the lines meet only at their
ends, as ``shapely.get_parts(shapely.union_all(lines))`` do.
"""

from __future__ import annotations

import numba
import numpy as np
import shapely

from geozones.analysis.clip import two_product, two_sum
from geozones.io.proof import orientation

#: Cells per segment, at most, in the grid that pairs segments.
_CELLS_PER_SEGMENT = 2.0
#: Coordinates (other than 0) within which :func:`exact_orientation` is exact: its products
#: of differences and of their rounding errors neither overflow nor fall below normal numbers.
EXACT_RANGE = (1e-100, 1e100)
#: Cut points closer than this, relative to the largest coordinate, are made one.
MERGE_WITHIN = 2.0**-52


def node_lines(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The segments of `lines` cut at every point where two meet; None if left to GEOS.

    Parameters
    ----------
    lines : numpy.ndarray of shapely LineStrings or MultiLineStrings
        Lines near the origin (a few kilometres from it: the rounded crossing points are
        then within 1e-12 m of both lines). Coordinates outside :data:`EXACT_RANGE` (other
        than 0) are left to GEOS.

    Returns
    -------
    (coords, line_start) or None
        The pieces joined into lines ``coords[line_start[i]:line_start[i + 1]]`` from node to
        node (where other than two pieces meet), meeting only at their ends, each piece once.
        None where a pair could not be decided or a rounded crossing point made the pieces
        meet elsewhere: node them with GEOS.

    Examples
    --------
    Two squares overlapping at a corner: their boundaries cross twice.

    >>> from shapely import box
    >>> coords, line_start = node_lines(shapely.boundary([box(0, 0, 2, 2), box(1, 1, 3, 3)]))
    >>> len(line_start) - 1  # from one crossing to the other, around each square both ways
    4
    """
    parts = shapely.get_parts(np.asarray(lines, dtype=object))
    coords, which = shapely.get_coordinates(parts, return_index=True)
    follows = np.flatnonzero(which[1:] == which[:-1])
    start, stop = coords[follows], coords[follows + 1]
    keep = (start != stop).any(axis=1)
    start, stop = start[keep], stop[keep]
    if len(start) == 0:
        return np.empty((0, 2)), np.zeros(1, dtype=np.int64)
    size = np.abs(coords)
    if not ((size == 0) | ((size >= EXACT_RANGE[0]) & (size <= EXACT_RANGE[1]))).all():
        return None
    ok, pieces = _noded(start, stop, MERGE_WITHIN * max(1.0, float(size.max())))
    if not ok:
        return None
    return _chains(pieces)


@numba.njit(cache=True, nogil=True)
def _chains(pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The pieces (rows x0, y0, x1, y1) joined at points where exactly two meet.

    Returns the lines' coordinates and where each starts (and the last ends). Fewer, longer
    lines make the faces cheaper to trace than one line per piece.
    """
    m = len(pieces)
    ends = np.empty((2 * m, 2))
    for k in range(m):
        ends[2 * k, 0] = pieces[k, 0]
        ends[2 * k, 1] = pieces[k, 1]
        ends[2 * k + 1, 0] = pieces[k, 2]
        ends[2 * k + 1, 1] = pieces[k, 3]
    # Nodes: equal ends, found by x and then, among the few of one x, by y.
    by_x = np.argsort(ends[:, 0])
    node = np.full(2 * m, -1, np.int64)
    nodes = 0
    run = 0
    while run < 2 * m:
        stop = run + 1
        while stop < 2 * m and ends[by_x[stop], 0] == ends[by_x[run], 0]:
            stop += 1
        if stop - run > 32:  # many ends on one vertical line (a box's side): sorted by y
            by_x[run:stop] = by_x[run:stop][np.argsort(ends[by_x[run:stop], 1])]
            for i in range(run, stop):
                if i == run or ends[by_x[i], 1] != ends[by_x[i - 1], 1]:
                    nodes += 1
                node[by_x[i]] = nodes - 1
        else:
            for i in range(run, stop):
                e = by_x[i]
                if node[e] >= 0:
                    continue
                node[e] = nodes
                for j in range(i + 1, stop):
                    f = by_x[j]
                    if node[f] < 0 and ends[f, 1] == ends[e, 1]:
                        node[f] = nodes
                nodes += 1
        run = stop
    node_start = np.zeros(nodes + 1, np.int64)
    for e in range(2 * m):
        node_start[node[e] + 1] += 1
    for v in range(nodes):
        node_start[v + 1] += node_start[v]
    at = node_start[:-1].copy()
    around = np.empty(2 * m, np.int64)
    for e in range(2 * m):
        around[at[node[e]]] = e
        at[node[e]] += 1
    coords = np.empty((2 * m, 2))
    line_start = np.zeros(m + 1, np.int64)
    used = 0
    lines = 0
    seen = np.zeros(m, np.bool_)
    # From every node where other than two pieces meet, then round the closed loops left.
    for v in range(nodes):
        if node_start[v + 1] - node_start[v] != 2:
            for k in range(node_start[v], node_start[v + 1]):
                if not seen[around[k] >> 1]:
                    used = _walk(around[k], ends, node, node_start, around, seen, coords, used)
                    lines += 1
                    line_start[lines] = used
    for k in range(m):
        if not seen[k]:
            used = _walk(2 * k, ends, node, node_start, around, seen, coords, used)
            lines += 1
            line_start[lines] = used
    return coords[:used], line_start[: lines + 1]


@numba.njit(cache=True, nogil=True, inline="always")
def _walk(
    e: int,
    ends: np.ndarray,
    node: np.ndarray,
    node_start: np.ndarray,
    around: np.ndarray,
    seen: np.ndarray,
    coords: np.ndarray,
    used: int,
) -> int:  # pragma: no cover - compiled
    """Follow the pieces from end `e` through points where two meet: one line.

    Its coordinates are written from ``coords[used]``; returns the new count.
    """
    coords[used] = ends[e]
    used += 1
    while True:
        seen[e >> 1] = True
        other = e ^ 1
        coords[used] = ends[other]
        used += 1
        w = node[other]
        if node_start[w + 1] - node_start[w] != 2:
            return used
        e = around[node_start[w]]
        if e == other:
            e = around[node_start[w] + 1]
        if seen[e >> 1]:
            return used


@numba.njit(cache=True, nogil=True)
def _noded(
    start: np.ndarray, stop: np.ndarray, within: float
) -> tuple[bool, np.ndarray]:  # pragma: no cover - compiled
    """The segments ``start[k] -> stop[k]`` cut where they meet, as rows (x0, y0, x1, y1)."""
    nothing = np.empty((0, 4))
    first, second = _pairs(start, stop, np.ones(len(start), np.bool_))
    node_of, node_x, node_y, computed, along, ok = _meeting_points(start, stop, first, second)
    if not ok:
        return False, nothing
    _merge_close(node_x, node_y, computed, within)
    pieces, changed = _split(start, stop, node_of, node_x, node_y)
    if along:  # pieces along each other come out twice
        keep = _distinct(pieces)
        pieces = pieces[keep]
        changed = changed[keep]
    piece_start = pieces[:, :2].copy()
    piece_stop = pieces[:, 2:].copy()
    # Pieces of segments that were not cut met nothing but at shared ends; the rest are
    # checked against everything, as a rounded crossing point may have moved them.
    first, second = _pairs(piece_start, piece_stop, changed)
    if not _apart(piece_start, piece_stop, first, second):
        return False, nothing
    return True, pieces


@numba.njit(cache=True, nogil=True)
def _pairs(
    start: np.ndarray, stop: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Pairs of segments whose boxes meet (each once, first < second), from a uniform grid.

    Only pairs with at least one segment `wanted`, in no particular order.

    Each segment is entered in the cells it passes through, column by column (its y-range
    within each column, widened by a hair against rounding), so a long diagonal edge fills a
    line of cells, not its box.
    """
    n = len(start)
    xmin = np.empty(n)
    xmax = np.empty(n)
    ymin = np.empty(n)
    ymax = np.empty(n)
    length = 0.0
    for k in range(n):
        xmin[k] = min(start[k, 0], stop[k, 0])
        xmax[k] = max(start[k, 0], stop[k, 0])
        ymin[k] = min(start[k, 1], stop[k, 1])
        ymax[k] = max(start[k, 1], stop[k, 1])
        length += max(xmax[k] - xmin[k], ymax[k] - ymin[k])
    x0 = xmin.min()
    y0 = ymin.min()
    width = xmax.max() - x0
    height = ymax.max() - y0
    size = 2.0 * length / n
    if size <= 0.0:
        size = 1.0
    while (width / size + 1.0) * (height / size + 1.0) > _CELLS_PER_SEGMENT * n + 16.0:
        size *= 1.5
    columns = int(width / size) + 1
    rows = int(height / size) + 1
    hair = 1e-9 * size
    # The cells of each segment, segment by segment; then the segments of each cell.
    cells = np.empty(2 * n + 16, np.int64)
    cell_start = np.zeros(n + 1, np.int64)
    used = 0
    for k in range(n):
        c0 = int((xmin[k] - x0) / size)
        c1 = min(int((xmax[k] - x0) / size), columns - 1)
        dx = stop[k, 0] - start[k, 0]
        for c in range(c0, c1 + 1):
            if c0 == c1 or dx == 0.0:
                low, high = ymin[k], ymax[k]
            else:
                left = max(xmin[k], x0 + c * size)
                right = min(xmax[k], x0 + (c + 1) * size)
                slope = (stop[k, 1] - start[k, 1]) / dx
                ya = start[k, 1] + slope * (left - start[k, 0])
                yb = start[k, 1] + slope * (right - start[k, 0])
                low = max(min(ya, yb) - hair, ymin[k])
                high = min(max(ya, yb) + hair, ymax[k])
            r0 = max(int((low - y0) / size), 0)
            r1 = min(int((high - y0) / size), rows - 1)
            if used + r1 - r0 + 1 > len(cells):
                grown = np.empty(2 * len(cells) + r1 - r0 + 1, np.int64)
                grown[:used] = cells[:used]
                cells = grown
            for r in range(r0, r1 + 1):
                cells[used] = r * columns + c
                used += 1
        cell_start[k + 1] = used
    count = np.zeros(columns * rows + 1, np.int64)
    for m in range(used):
        count[cells[m] + 1] += 1
    for c in range(columns * rows):
        count[c + 1] += count[c]
    entries = np.empty(used, np.int64)
    at = count[:-1].copy()
    for k in range(n):
        for m in range(cell_start[k], cell_start[k + 1]):
            entries[at[cells[m]]] = k
            at[cells[m]] += 1
    # Each segment against the others of its cells, each pair once (marked by the first of
    # the two that is wanted), their boxes meeting.
    mark = np.full(n, -1, np.int64)
    first = np.empty(4 * n + 16, np.int64)
    second = np.empty(4 * n + 16, np.int64)
    total = 0
    for p in range(n):
        if not wanted[p]:
            continue
        for m in range(cell_start[p], cell_start[p + 1]):
            cell = cells[m]
            for e in range(count[cell], count[cell + 1]):
                q = entries[e]
                if q == p or mark[q] == p or (q < p and wanted[q]):
                    continue
                mark[q] = p
                if xmin[p] > xmax[q] or xmin[q] > xmax[p] or ymin[p] > ymax[q] or ymin[q] > ymax[p]:
                    continue
                if total == len(first):
                    first = np.concatenate((first, np.empty(total, np.int64)))
                    second = np.concatenate((second, np.empty(total, np.int64)))
                first[total] = min(p, q)
                second[total] = max(p, q)
                total += 1
    return first[:total], second[:total]


@numba.njit(cache=True, nogil=True)
def _meeting_points(
    start: np.ndarray, stop: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool, bool]:  # pragma: no cover
    """Where each pair meets, as points to cut each segment at: (segment, x, y).

    Also which points are computed crossings (the others are ends of segments), whether any
    two segments run along each other, and whether every pair was decided.
    """
    size = 4 * len(first)
    node_of = np.empty(size, np.int64)
    node_x = np.empty(size)
    node_y = np.empty(size)
    computed = np.zeros(size, np.bool_)
    count = 0
    along = False
    for k in range(len(first)):
        p = first[k]
        q = second[k]
        ax, ay, bx, by = start[p, 0], start[p, 1], stop[p, 0], stop[p, 1]
        cx, cy, dx, dy = start[q, 0], start[q, 1], stop[q, 0], stop[q, 1]
        # A shared end (consecutive edges of a line, most pairs): they meet elsewhere only
        # if they run along each other from it.
        if (ax == cx and ay == cy) or (ax == dx and ay == dy):
            ox, oy, ux, uy = ax, ay, bx, by
            vx, vy = (dx, dy) if ax == cx and ay == cy else (cx, cy)
        elif (bx == cx and by == cy) or (bx == dx and by == dy):
            ox, oy, ux, uy = bx, by, ax, ay
            vx, vy = (dx, dy) if bx == cx and by == cy else (cx, cy)
        else:
            ox = np.nan
        if ox == ox:
            if exact_orientation(ox, oy, ux, uy, vx, vy) == 0 and (
                (ux - ox) * (vx - ox) + (uy - oy) * (vy - oy) > 0.0
            ):
                along = True
                if _strictly_inside(ox, oy, vx, vy, ux, uy):
                    count = _add(node_of, node_x, node_y, count, q, ux, uy)
                elif _strictly_inside(ox, oy, ux, uy, vx, vy):
                    count = _add(node_of, node_x, node_y, count, p, vx, vy)
            continue
        o1 = exact_orientation(ax, ay, bx, by, cx, cy)
        o2 = exact_orientation(ax, ay, bx, by, dx, dy)
        if o1 * o2 > 0:
            continue
        o3 = exact_orientation(cx, cy, dx, dy, ax, ay)
        o4 = exact_orientation(cx, cy, dx, dy, bx, by)
        if o3 * o4 > 0:
            continue
        if o1 == 0 and o2 == 0:
            # Collinear: each end of one strictly inside the other cuts it.
            along = True
            if _strictly_inside(ax, ay, bx, by, cx, cy):
                count = _add(node_of, node_x, node_y, count, p, cx, cy)
            if _strictly_inside(ax, ay, bx, by, dx, dy):
                count = _add(node_of, node_x, node_y, count, p, dx, dy)
            if _strictly_inside(cx, cy, dx, dy, ax, ay):
                count = _add(node_of, node_x, node_y, count, q, ax, ay)
            if _strictly_inside(cx, cy, dx, dy, bx, by):
                count = _add(node_of, node_x, node_y, count, q, bx, by)
            continue
        if o1 == 0 or o2 == 0 or o3 == 0 or o4 == 0:
            # An end of one on the other: a T.
            if o1 == 0 and _strictly_inside(ax, ay, bx, by, cx, cy):
                count = _add(node_of, node_x, node_y, count, p, cx, cy)
            if o2 == 0 and _strictly_inside(ax, ay, bx, by, dx, dy):
                count = _add(node_of, node_x, node_y, count, p, dx, dy)
            if o3 == 0 and _strictly_inside(cx, cy, dx, dy, ax, ay):
                count = _add(node_of, node_x, node_y, count, q, ax, ay)
            if o4 == 0 and _strictly_inside(cx, cy, dx, dy, bx, by):
                count = _add(node_of, node_x, node_y, count, q, bx, by)
            continue
        # A proper crossing: both cut at the rounded point, kept within both boxes. Computed
        # from the segments in a fixed order, each from its lesser end, so that a line drawn
        # twice is cut at the same point twice, and its pieces come out the same.
        if _before(bx, by, ax, ay):
            ax, ay, bx, by = bx, by, ax, ay
        if _before(dx, dy, cx, cy):
            cx, cy, dx, dy = dx, dy, cx, cy
        if _before(cx, cy, ax, ay) or (cx == ax and cy == ay and _before(dx, dy, bx, by)):
            ax, ay, bx, by, cx, cy, dx, dy = cx, cy, dx, dy, ax, ay, bx, by
        ux = bx - ax
        uy = by - ay
        vx = dx - cx
        vy = dy - cy
        denominator = ux * vy - uy * vx
        if denominator == 0.0 or not np.isfinite(denominator):
            return node_of, node_x, node_y, computed, along, False
        t = ((cx - ax) * vy - (cy - ay) * vx) / denominator
        x = ax + t * ux
        y = ay + t * uy
        x = min(max(x, max(min(ax, bx), min(cx, dx))), min(max(ax, bx), max(cx, dx)))
        y = min(max(y, max(min(ay, by), min(cy, dy))), min(max(ay, by), max(cy, dy)))
        computed[count : count + 2] = True
        count = _add(node_of, node_x, node_y, count, p, x, y)
        count = _add(node_of, node_x, node_y, count, q, x, y)
    return node_of[:count], node_x[:count], node_y[:count], computed[:count], along, True


@numba.njit(cache=True, nogil=True)
def _merge_close(
    node_x: np.ndarray, node_y: np.ndarray, computed: np.ndarray, within: float
) -> None:  # pragma: no cover - compiled
    """Move computed cut points closer than `within` (chained) onto one point.

    A line crossing two segments that lie along each other is cut at two points rounded
    apart; cut at one, the two come out the same pieces. Ends of segments never move (a
    line ending there would come loose): a computed point near one moves onto it, and two
    different ends are never joined. Otherwise the least point, by x then y, is kept.
    """
    n = len(node_x)
    order = np.argsort(node_x)
    root = np.arange(n)
    # Per root: the segment end its group holds (a record of it), or -1.
    anchor = np.where(computed, -1, np.arange(n))
    for i in range(n):
        a = order[i]
        j = i + 1
        while j < n and node_x[order[j]] - node_x[a] <= within:
            b = order[j]
            j += 1
            if not (computed[a] or computed[b]) or abs(node_y[b] - node_y[a]) > within:
                continue
            if node_x[b] == node_x[a] and node_y[b] == node_y[a]:
                continue
            ra = a
            while root[ra] != ra:
                ra = root[ra]
            rb = b
            while root[rb] != rb:
                rb = root[rb]
            if ra == rb:
                continue
            p = anchor[ra]
            q = anchor[rb]
            if p >= 0 and q >= 0 and (node_x[p] != node_x[q] or node_y[p] != node_y[q]):
                continue  # two different ends
            keep, other = min(ra, rb), max(ra, rb)
            root[other] = keep
            anchor[keep] = max(p, q)
    best = np.arange(n)
    for k in range(n):
        r = k
        while root[r] != r:
            r = root[r]
        root[k] = r
        if _before(node_x[k], node_y[k], node_x[best[r]], node_y[best[r]]):
            best[r] = k
    x = node_x.copy()
    y = node_y.copy()
    for k in range(n):
        r = root[k]
        chosen = anchor[r] if anchor[r] >= 0 else best[r]
        node_x[k] = x[chosen]
        node_y[k] = y[chosen]


@numba.njit(cache=True, nogil=True, inline="always")
def _add(
    node_of: np.ndarray,
    node_x: np.ndarray,
    node_y: np.ndarray,
    count: int,
    k: int,
    x: float,
    y: float,
) -> int:  # pragma: no cover - compiled
    node_of[count] = k
    node_x[count] = x
    node_y[count] = y
    return count + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _before(ax: float, ay: float, bx: float, by: float) -> bool:  # pragma: no cover - compiled
    """Whether point `a` comes before `b`: by x, then y."""
    return ax < bx or (ax == bx and ay < by)


@numba.njit(cache=True, nogil=True, inline="always")
def _strictly_inside(
    ax: float, ay: float, bx: float, by: float, px: float, py: float
) -> bool:  # pragma: no cover - compiled
    """Whether `p`, exactly on the line of ``a -> b``, lies between them and is neither.

    On the line, between them is within their box.
    """
    if (px == ax and py == ay) or (px == bx and py == by):
        return False
    return min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by)


@numba.njit(cache=True, nogil=True)
def _split(
    start: np.ndarray, stop: np.ndarray, node_of: np.ndarray, node_x: np.ndarray, node_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Each segment cut at its points in order along it, as rows (x0, y0, x1, y1).

    Also, per piece, whether its segment was cut.
    """
    n = len(start)
    order = np.argsort(node_of, kind="mergesort")
    out = np.empty((n + len(node_of), 4))
    changed = np.zeros(n + len(node_of), np.bool_)
    count = 0
    i = 0
    for k in range(n):
        j = i
        while j < len(order) and node_of[order[j]] == k:
            j += 1
        ax, ay, bx, by = start[k, 0], start[k, 1], stop[k, 0], stop[k, 1]
        px, py = ax, ay
        if j > i:
            along_x = abs(bx - ax) >= abs(by - ay)
            ts = np.empty(j - i)
            for m in range(i, j):
                if along_x:
                    ts[m - i] = (node_x[order[m]] - ax) / (bx - ax)
                else:
                    ts[m - i] = (node_y[order[m]] - ay) / (by - ay)
            by_t = np.argsort(ts) if j - i > 1 else np.zeros(1, np.int64)
            for m in range(j - i):
                node = order[i + by_t[m]]
                x = node_x[node]
                y = node_y[node]
                if (x == px and y == py) or (x == bx and y == by):
                    continue
                out[count, 0] = px
                out[count, 1] = py
                out[count, 2] = x
                out[count, 3] = y
                changed[count] = True
                count += 1
                px, py = x, y
        out[count, 0] = px
        out[count, 1] = py
        out[count, 2] = bx
        out[count, 3] = by
        changed[count] = j > i
        count += 1
        i = j
    return out[:count], changed[:count]


@numba.njit(cache=True, nogil=True)
def _distinct(pieces: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Which pieces to keep to have each once, whichever way it runs (made lesser end first)."""
    n = len(pieces)
    for k in range(n):
        if _before(pieces[k, 2], pieces[k, 3], pieces[k, 0], pieces[k, 1]):
            pieces[k, 0], pieces[k, 2] = pieces[k, 2], pieces[k, 0]
            pieces[k, 1], pieces[k, 3] = pieces[k, 3], pieces[k, 1]
    order = np.argsort(pieces[:, 3], kind="mergesort")
    for column in (2, 1, 0):
        order = order[np.argsort(pieces[order, column], kind="mergesort")]
    keep = np.ones(n, np.bool_)
    for m in range(1, n):
        a = pieces[order[m]]
        b = pieces[order[m - 1]]
        if a[0] == b[0] and a[1] == b[1] and a[2] == b[2] and a[3] == b[3]:
            keep[order[m]] = False
    return keep


@numba.njit(cache=True, nogil=True)
def _apart(
    start: np.ndarray, stop: np.ndarray, first: np.ndarray, second: np.ndarray
) -> bool:  # pragma: no cover - compiled
    """Whether every pair meets at most at a shared end, without running along each other."""
    for k in range(len(first)):
        p = first[k]
        q = second[k]
        ax, ay, bx, by = start[p, 0], start[p, 1], stop[p, 0], stop[p, 1]
        cx, cy, dx, dy = start[q, 0], start[q, 1], stop[q, 0], stop[q, 1]
        o1 = exact_orientation(ax, ay, bx, by, cx, cy)
        o2 = exact_orientation(ax, ay, bx, by, dx, dy)
        if o1 * o2 > 0:
            continue
        o3 = exact_orientation(cx, cy, dx, dy, ax, ay)
        o4 = exact_orientation(cx, cy, dx, dy, bx, by)
        if o3 * o4 > 0:
            continue
        # They meet: only a shared end, the other ends not along each other, is allowed.
        if ax == cx and ay == cy:
            ox, oy, ux, uy, vx, vy = ax, ay, bx, by, dx, dy
        elif ax == dx and ay == dy:
            ox, oy, ux, uy, vx, vy = ax, ay, bx, by, cx, cy
        elif bx == cx and by == cy:
            ox, oy, ux, uy, vx, vy = bx, by, ax, ay, dx, dy
        elif bx == dx and by == dy:
            ox, oy, ux, uy, vx, vy = bx, by, ax, ay, cx, cy
        else:
            return False
        if ux == vx and uy == vy:
            return False  # the same piece twice
        if exact_orientation(ox, oy, ux, uy, vx, vy) == 0 and (
            (ux - ox) * (vx - ox) + (uy - oy) * (vy - oy) > 0.0
        ):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def exact_orientation(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float
) -> int:  # pragma: no cover - compiled
    """Sign of the turn ``a -> b -> c``, exactly: 1 left, -1 right, 0 collinear.

    Shewchuk's filter first; where it cannot tell, the determinant as an exact sum of
    floating-point terms (the differences split into two exact terms each, every product
    into two), whose sign is that of its largest term once the sum is made non-overlapping.
    For coordinates that are 0 or within :data:`EXACT_RANGE` in absolute value.

    Examples
    --------
    >>> exact_orientation(0.1, 0.1, 0.3, 0.3, 0.7, 0.7)  # on y = x, as the doubles are
    0
    >>> exact_orientation(0.1, 0.1, 0.3, 0.3, 0.7, 0.7000000000000001)
    1
    """
    turn = orientation(ax, ay, bx, by, cx, cy)
    if turn != 0:
        return turn
    if (cx == ax and cy == ay) or (cx == bx and cy == by) or (ax == bx and ay == by):
        return 0
    acx, acx_low = two_sum(ax, -cx)
    bcy, bcy_low = two_sum(by, -cy)
    acy, acy_low = two_sum(ay, -cy)
    bcx, bcx_low = two_sum(bx, -cx)
    terms = np.empty(16)
    left = (acx, acx_low)
    right = (bcy, bcy_low)
    m = 0
    for u in left:
        for v in right:
            high, low = two_product(u, v)
            terms[m] = high
            terms[m + 1] = low
            m += 2
    left = (acy, acy_low)
    right = (bcx, bcx_low)
    for u in left:
        for v in right:
            high, low = two_product(u, v)
            terms[m] = -high
            terms[m + 1] = -low
            m += 2
    # Grow a non-overlapping expansion term by term (Shewchuk's Grow-Expansion).
    expansion = np.zeros(17)
    size = 0
    for term in terms:
        q = float(term)
        for i in range(size):
            q, expansion[i] = two_sum(q, expansion[i])
        expansion[size] = q
        size += 1
    for i in range(size - 1, -1, -1):
        if expansion[i] > 0.0:
            return 1
        if expansion[i] < 0.0:
            return -1
    return 0

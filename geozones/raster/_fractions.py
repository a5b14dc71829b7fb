"""Exact pixel coverage fractions of polygons: the share of each pixel's area a polygon covers.

The quantity is the one exactextract computes; the method is array arithmetic over all edges at
once. In pixel coordinates ``(u, v)`` (pixel ``(r, c)`` is the unit square
``[c, c+1] × [r, r+1]``), Green's theorem gives the area of a polygon ``P`` inside one row
``r`` and left of the line ``u = X`` as

    G_r(X) = Σ_edges ∫_{edge ∩ row r ∩ {u < X}} (u − X) dv

(on the row's lines ``dv = 0``, on ``u = X`` the integrand is 0, so only ``P``'s own edges
count). Cut every edge at the grid lines into pieces that each lie in one pixel; a piece in pixel
``(r, c)`` adds ``Δv (ū − c − 1)`` to that pixel's area ``G_r(c+1) − G_r(c)`` and ``−Δv`` to
every pixel right of it in the row, which a cumulative sum along the row carries. The result is
exact up to rounding (~1e-12 of a pixel), for any polygon with holes, whatever its orientation.

Work is done per batch of features whose bounding windows fit in a fixed number of cells, so
memory stays bounded; a feature larger than that is done in bands of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely

from geozones.measure import RingLayout
from geozones.raster._grid import Grid

#: Default bound on the cells of one batch (window cells of its features); ~40 bytes each.
DEFAULT_MAX_CELLS = 1 << 22
#: Features are grouped by tiles of this many pixels a side; a tile's features share one read.
TILE = 1024
#: Features per chunk of geometry processing (coordinates in memory at once).
CHUNK_FEATURES = 250_000
#: Coverage below this share of a pixel is rounding, not coverage (the arithmetic is exact to
#: ~1e-15 of a pixel; a vertex 0.2 mm into a 40 m pixel covers 2e-11 of it).
MIN_FRACTION = 1e-13


@dataclass(frozen=True)
class Window:
    """Rows ``row0:row1`` and columns ``col0:col1`` of a grid."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self.row1 - self.row0, self.col1 - self.col0


@dataclass(frozen=True)
class CellBatch:
    """Pixels covered by some features: one row per (feature, pixel) with coverage > 0.

    ``feature`` holds positions in the input array, each feature's cells contiguous; ``window``
    is the part of the grid holding every cell of the batch.
    """

    feature: np.ndarray
    row: np.ndarray
    col: np.ndarray
    fraction: np.ndarray
    window: Window

    def __len__(self) -> int:
        return len(self.feature)


@dataclass(frozen=True)
class FeatureWindows:
    """Per feature: its window on the grid (``col0`` may be -1, see below) and its area."""

    row0: np.ndarray
    row1: np.ndarray
    col0: np.ndarray
    col1: np.ndarray

    @classmethod
    def from_bounds(cls, bounds: np.ndarray, grid: Grid) -> FeatureWindows:
        """Windows from ``(xmin, ymin, xmax, ymax)`` rows in the grid's CRS.

        Rows are clipped to the grid. Columns are clipped to the grid on the right and to -1 on
        the left: column -1 is a virtual column that gathers the edges left of the grid,
        whose ``−Δv`` the rows still need.
        """
        t = grid.transform
        u = (bounds[:, [0, 2]] - t.c) / t.a
        v = (bounds[:, [1, 3]] - t.f) / t.e
        with np.errstate(invalid="ignore"):
            umin, umax = np.floor(u.min(axis=1)), np.ceil(u.max(axis=1))
            vmin, vmax = np.floor(v.min(axis=1)), np.ceil(v.max(axis=1))
        finite = np.isfinite(umin) & np.isfinite(vmin)
        umin[~finite] = umax[~finite] = vmin[~finite] = vmax[~finite] = 0.0
        row0 = np.clip(vmin, 0, grid.height).astype(np.int64)
        row1 = np.clip(vmax, 0, grid.height).astype(np.int64)
        col0 = np.clip(umin, -1, grid.width).astype(np.int64)
        col1 = np.clip(umax, 0, grid.width).astype(np.int64)
        empty = (row1 <= row0) | (col1 <= np.maximum(col0, 0))
        row1[empty] = row0[empty]
        col1[empty] = col0[empty]
        return cls(row0, row1, col0, col1)

    @property
    def rows(self) -> np.ndarray:
        """Rows of each window."""
        return self.row1 - self.row0

    @property
    def cols(self) -> np.ndarray:
        """Columns of each window (the virtual column included)."""
        return self.col1 - self.col0

    @property
    def on_grid(self) -> np.ndarray:
        """True where the window holds at least one real pixel."""
        return (self.row1 > self.row0) & (self.col1 > np.maximum(self.col0, 0))

    def take(self, index: np.ndarray | slice) -> FeatureWindows:
        """The windows of some features."""
        return FeatureWindows(
            self.row0[index], self.row1[index], self.col0[index], self.col1[index]
        )


@dataclass(frozen=True)
class PixelEdges:
    """The non-horizontal edges of polygons in pixel coordinates, grouped by feature.

    ``weight`` is +1 or -1 per edge so that every exterior ring counts positively and every hole
    negatively, whichever way the rings turn. ``start[i]:start[i+1]`` are feature ``i``'s edges.
    """

    u0: np.ndarray
    v0: np.ndarray
    u1: np.ndarray
    v1: np.ndarray
    weight: np.ndarray
    feature: np.ndarray
    start: np.ndarray
    area: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray, grid: Grid) -> PixelEdges:
        """Edges of non-empty valid polygons; ``area`` is each feature's area in pixels."""
        layout = RingLayout.of(geoms)
        t = grid.transform
        u = (layout.coords[:, 0] - t.c) / t.a
        v = (layout.coords[:, 1] - t.f) / t.e
        is_edge = np.ones(max(len(u) - 1, 0), dtype=bool)
        is_edge[layout.ring_ends[layout.ring_ends < len(is_edge)]] = False
        first = np.flatnonzero(is_edge)
        ring = np.searchsorted(layout.ring_starts, first, side="right") - 1
        u0, u1, v0, v1 = u[first], u[first + 1], v[first], v[first + 1]
        twice_area = (u0 + u1) * (v1 - v0)
        ring_area = np.bincount(ring, weights=twice_area, minlength=len(layout.ring_starts))
        ring_weight = np.sign(ring_area) * np.where(layout.ring_is_hole, -1.0, 1.0)
        weight = ring_weight[ring]
        feature = layout.ring_geometry[ring]
        area = 0.5 * np.bincount(feature, weights=weight * twice_area, minlength=len(geoms))
        keep = (v0 != v1) & (weight != 0.0)
        u0, u1, v0, v1, weight, feature = (a[keep] for a in (u0, u1, v0, v1, weight, feature))
        if len(feature) > 1 and np.any(np.diff(feature) < 0):
            order = np.argsort(feature, kind="stable")
            u0, u1, v0, v1, weight, feature = (a[order] for a in (u0, u1, v0, v1, weight, feature))
        start = np.searchsorted(feature, np.arange(len(geoms) + 1))
        return cls(u0, v0, u1, v1, weight, feature, start, area)


def iter_cells(
    geoms: np.ndarray, grid: Grid, *, max_cells: int = DEFAULT_MAX_CELLS
) -> Iterator[CellBatch]:
    """Coverage fractions of polygons over a grid, batch by batch.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons in the grid's CRS; null and empty ones have no cells.
    grid : Grid
        The raster grid.
    max_cells : int
        Bound on the window cells of one batch; features larger than that are done in bands.

    Yields
    ------
    CellBatch
        Cells of some features, grouped by tiles of the grid (a tile's features share one
        window), then the large features band by band.

    Examples
    --------
    A polygon covering two and a half 10 m pixels:

    >>> import numpy as np
    >>> from shapely import box
    >>> grid = Grid.from_bounds((0, 0, 30, 10), 10, 4527)
    >>> [batch] = iter_cells(np.array([box(0, 0, 25, 10)]), grid)
    >>> batch.col.tolist(), batch.fraction.tolist()
    ([0, 1, 2], [1.0, 1.0, 0.5])
    """
    present = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if len(present) == 0:
        return
    windows = FeatureWindows.from_bounds(shapely.bounds(geoms[present]), grid)
    on_grid = windows.on_grid
    present, windows = present[on_grid], windows.take(on_grid)
    cells = windows.rows * windows.cols
    big = (cells > max_cells) | (windows.rows > TILE) | (windows.cols > TILE)
    tiles_across = grid.width // TILE + 1
    key = (windows.row0 // TILE) * tiles_across + np.maximum(windows.col0, 0) // TILE
    key[big] = np.iinfo(np.int64).max
    order = np.lexsort((np.arange(len(key)), key))
    present, windows, key, cells = present[order], windows.take(order), key[order], cells[order]
    small_count = int(np.count_nonzero(key != np.iinfo(np.int64).max))

    for chunk_start in range(0, small_count, CHUNK_FEATURES):
        chunk = slice(chunk_start, min(chunk_start + CHUNK_FEATURES, small_count))
        chunk_index = present[chunk]
        edges = PixelEdges.of(geoms[chunk_index], grid)
        chunk_windows = windows.take(chunk)
        for a, b in _small_batches(key[chunk], cells[chunk], max_cells):
            batch = _cells(edges, chunk_windows, a, b, None)
            if batch is not None:
                yield _label(batch, chunk_index, a, chunk_windows.take(slice(a, b)))

    for position in range(small_count, len(present)):
        index = present[position : position + 1]
        edges = PixelEdges.of(geoms[index], grid)
        window = windows.take(slice(position, position + 1))
        band = max(1, max_cells // int(window.cols[0]))
        for row in range(int(window.row0[0]), int(window.row1[0]), band):
            rows = (row, min(row + band, int(window.row1[0])))
            batch = _cells(edges, window, 0, 1, rows)
            if batch is not None:
                banded = FeatureWindows(
                    np.array([rows[0]]), np.array([rows[1]]), window.col0, window.col1
                )
                yield _label(batch, index, 0, banded)


def _small_batches(key: np.ndarray, cells: np.ndarray, max_cells: int) -> Iterator[tuple[int, int]]:
    """Consecutive runs of features of one tile, each of at most `max_cells` window cells."""
    if len(key) == 0:
        return
    tile_starts = np.flatnonzero(np.diff(key, prepend=key[0] - 1) != 0)
    tile_ends = np.append(tile_starts[1:], len(key))
    for start, end in zip(tile_starts, tile_ends, strict=True):
        running = np.cumsum(cells[start:end])
        a = int(start)
        while a < end:
            done = running[a - start - 1] if a > start else 0
            b = int(start + np.searchsorted(running, done + max_cells, side="right"))
            b = max(b, a + 1)
            yield a, min(b, int(end))
            a = min(b, int(end))


def _label(batch: _RawCells, index: np.ndarray, first: int, windows: FeatureWindows) -> CellBatch:
    """Turn batch-local feature numbers into input positions, with the batch's window."""
    col0 = np.maximum(windows.col0, 0)
    window = Window(
        int(windows.row0.min()), int(windows.row1.max()), int(col0.min()), int(windows.col1.max())
    )
    return CellBatch(index[first + batch.feature], batch.row, batch.col, batch.fraction, window)


@dataclass(frozen=True)
class _RawCells:
    feature: np.ndarray
    row: np.ndarray
    col: np.ndarray
    fraction: np.ndarray


def _cells(
    edges: PixelEdges,
    windows: FeatureWindows,
    a: int,
    b: int,
    rows: tuple[int, int] | None,
) -> _RawCells | None:
    """Coverage of features ``a:b`` (optionally only rows ``rows``) over their windows."""
    w = windows.take(slice(a, b))
    row0, row1 = w.row0, w.row1
    if rows is not None:
        row0 = np.maximum(row0, rows[0])
        row1 = np.minimum(row1, rows[1])
    nrow = np.maximum(row1 - row0, 0)
    ncol = w.cols
    size = nrow * ncol
    offset = np.concatenate([[0], np.cumsum(size)])
    total = int(offset[-1])
    if total == 0:
        return None

    e = slice(int(edges.start[a]), int(edges.start[b]))
    feature = edges.feature[e] - a
    # Work in each window's own coordinates (integers shift exactly): small numbers keep the
    # arithmetic exact to ~1e-15 of a pixel, whatever the raster's size.
    u_origin = w.col0[feature].astype(float)
    v_origin = row0[feature].astype(float)
    pieces = _row_pieces(
        edges.u0[e] - u_origin,
        edges.v0[e] - v_origin,
        edges.u1[e] - u_origin,
        edges.v1[e] - v_origin,
        edges.weight[e],
        feature,
        np.zeros(len(feature)),
        nrow[feature].astype(float),
    )
    if pieces is None:
        return None
    f, row, col, dv, u_mid, weight = _column_pieces(*pieces)
    keep = col < ncol[f]
    f, row, col, dv, u_mid, weight = (x[keep] for x in (f, row, col, dv, u_mid, weight))

    local_col = np.maximum(col, 0)  # left of the window (and of the grid): the virtual column
    flat = offset[f] + row * ncol[f] + local_col
    direct = np.bincount(flat, weights=weight * dv * (u_mid - col - 1.0), minlength=total)
    carry = np.bincount(flat, weights=-weight * dv, minlength=total)
    running = np.cumsum(carry)
    running -= carry  # exclusive: what the pieces before each pixel, in buffer order, carry
    # Keep only what comes from the same row: subtract what was carried into the row.
    row_feature = np.repeat(np.arange(b - a), nrow)
    row_first = (
        offset[row_feature]
        + (np.arange(len(row_feature)) - np.repeat(np.cumsum(nrow) - nrow, nrow))
        * ncol[row_feature]
    )
    before_row = np.repeat(running[row_first], ncol[row_feature])
    coverage = direct + running - before_row

    cell = np.flatnonzero(coverage > MIN_FRACTION)
    cf = np.searchsorted(offset, cell, side="right") - 1
    local = cell - offset[cf]
    cell_row = row0[cf] + local // ncol[cf]
    cell_col = w.col0[cf] + local % ncol[cf]
    real = cell_col >= 0
    return _RawCells(
        cf[real], cell_row[real], cell_col[real], np.minimum(coverage[cell[real]], 1.0)
    )


def _row_pieces(
    u0: np.ndarray,
    v0: np.ndarray,
    u1: np.ndarray,
    v1: np.ndarray,
    weight: np.ndarray,
    feature: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, ...] | None:
    """Clip edges to rows ``lo:hi`` of their feature and cut them at every row line.

    Returns, per piece: feature, row, start (u, v), end (u, v), weight.
    """
    dv = v1 - v0
    # Clip to the rows wanted; endpoints are recomputed only where an edge is cut.
    ta = (lo - v0) / dv
    tb = (hi - v0) / dv
    t_start = np.clip(np.minimum(ta, tb), 0.0, 1.0)
    t_end = np.clip(np.maximum(ta, tb), 0.0, 1.0)
    keep = t_end > t_start
    if not keep.all():
        u0, v0, u1, v1, weight, feature, dv, t_start, t_end, lo, hi = (
            x[keep] for x in (u0, v0, u1, v1, weight, feature, dv, t_start, t_end, lo, hi)
        )
    if len(u0) == 0:
        return None
    du = u1 - u0
    cut_start = t_start > 0.0
    cut_end = t_end < 1.0
    if cut_start.any() or cut_end.any():
        bound_start = np.where(dv > 0, lo, hi)
        bound_end = np.where(dv > 0, hi, lo)
        nu0 = np.where(cut_start, u0 + t_start * du, u0)
        nv0 = np.where(cut_start, bound_start, v0)
        nu1 = np.where(cut_end, u0 + t_end * du, u1)
        nv1 = np.where(cut_end, bound_end, v1)
        u0, v0, u1, v1 = nu0, nv0, nu1, nv1
        du, dv = u1 - u0, v1 - v0

    edge, start, end = _cut(v0, v1)
    slope = du / dv
    vs = np.where(start.cut, start.line, v0[edge])
    us = np.where(start.cut, u0[edge] + (start.line - v0[edge]) * slope[edge], u0[edge])
    ve = np.where(end.cut, end.line, v1[edge])
    ue = np.where(end.cut, u0[edge] + (end.line - v0[edge]) * slope[edge], u1[edge])
    row = np.floor(0.5 * (vs + ve)).astype(np.int64)
    return feature[edge], row, us, vs, ue, ve, weight[edge]


def _column_pieces(
    feature: np.ndarray,
    row: np.ndarray,
    us: np.ndarray,
    vs: np.ndarray,
    ue: np.ndarray,
    ve: np.ndarray,
    weight: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Cut row pieces at every column line: per piece feature, row, col, Δv, mid u, weight."""
    piece, start, end = _cut(us, ue)
    du = ue - us
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(du != 0.0, (ve - vs) / du, 0.0)
    ua = np.where(start.cut, start.line, us[piece])
    va = np.where(start.cut, vs[piece] + (start.line - us[piece]) * slope[piece], vs[piece])
    ub = np.where(end.cut, end.line, ue[piece])
    vb = np.where(end.cut, vs[piece] + (end.line - us[piece]) * slope[piece], ve[piece])
    u_mid = 0.5 * (ua + ub)
    col = np.floor(u_mid).astype(np.int64)
    return feature[piece], row[piece], col, vb - va, u_mid, weight[piece]


@dataclass(frozen=True)
class _End:
    cut: np.ndarray  # the piece ends on a grid line (else at the segment's own end)
    line: np.ndarray  # that grid line


def _cut(a0: np.ndarray, a1: np.ndarray) -> tuple[np.ndarray, _End, _End]:
    """Cut segments from `a0` to `a1` at the integers strictly between them.

    Returns the pieces in order along each segment: the segment of each piece, and where each
    piece starts and ends (on a grid line, or at the segment's own end).
    """
    lo = np.minimum(a0, a1)
    hi = np.maximum(a0, a1)
    first = np.floor(lo) + 1.0
    last = np.ceil(hi) - 1.0
    count = np.maximum(last - first + 1.0, 0.0).astype(np.int64)
    pieces = count + 1
    edge = np.repeat(np.arange(len(a0)), pieces)
    j = np.arange(len(edge)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    n = count[edge]
    rising = (a1 > a0)[edge]
    f, lst = first[edge], last[edge]
    start_line = np.where(rising, f + (j - 1), lst - (j - 1))
    end_line = np.where(rising, f + j, lst - j)
    return edge, _End(j > 0, start_line), _End(j < n, end_line)

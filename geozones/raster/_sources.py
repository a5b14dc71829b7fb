"""Pixel values read window by window: a raster band, or the slope of a DEM."""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from geozones.measure.area import linear_unit_metres
from geozones.raster._fractions import Window
from geozones.raster._grid import Grid, meridian_arc, parallel_radius


class Source(Protocol):
    """Values of a grid, read by window."""

    grid: Grid

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Values and validity (False on nodata) of the pixels of `window`."""
        ...


class BandSource:
    """One band of a rasterio dataset; nodata, the dataset's masks and NaN are invalid."""

    def __init__(self, dataset: Any, band: int = 1) -> None:
        if not 1 <= band <= dataset.count:
            raise ValueError(f"band {band} does not exist: the raster has {dataset.count} band(s)")
        self.dataset = dataset
        self.band = band
        self.grid = Grid.of(dataset)
        self.dtype = np.dtype(dataset.dtypes[band - 1])

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Values and validity of `window`."""
        from rasterio.windows import Window as RioWindow  # type: ignore[import-untyped, unused-ignore]

        rows, cols = window.shape
        if rows <= 0 or cols <= 0:
            return np.zeros((max(rows, 0), max(cols, 0)), self.dtype), np.zeros(
                (max(rows, 0), max(cols, 0)), bool
            )
        data = self.dataset.read(
            self.band, window=RioWindow(window.col0, window.row0, cols, rows), masked=True
        )
        values = np.asarray(data.data)
        valid = ~np.ma.getmaskarray(data)
        if values.dtype.kind == "f":
            valid &= np.isfinite(values)
        return values, valid


class SlopeSource:
    """Slope in degrees of a DEM band, by Horn's method, computed per window with a 1-pixel halo.

    A pixel's slope needs its eight neighbours; it is nodata where any of them is. At the
    raster's edges the missing neighbours are extrapolated linearly (exact for planes).
    """

    def __init__(self, dataset: Any, band: int = 1, z_factor: float = 1.0) -> None:
        self.band_source = BandSource(dataset, band)
        self.grid = self.band_source.grid
        self.spacing = HornSpacing(self.grid)
        self.z_factor = z_factor

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Slope (degrees) and validity of `window`."""
        grid = self.grid
        outer = Window(
            max(window.row0 - 1, 0),
            min(window.row1 + 1, grid.height),
            max(window.col0 - 1, 0),
            min(window.col1 + 1, grid.width),
        )
        values, valid = self.band_source.read(outer)
        z = values.astype(np.float64) * self.z_factor
        z, valid = pad_to_halo(z, valid, outer, window)
        slope, ok = horn_slope(z, valid, self.spacing, window.row0)
        return slope, ok


def pad_to_halo(
    z: np.ndarray, valid: np.ndarray, outer: Window, window: Window
) -> tuple[np.ndarray, np.ndarray]:
    """Pad `z` (read over `outer`) to `window` plus one pixel, extrapolating past the raster."""
    pad = (
        (outer.row0 - (window.row0 - 1), (window.row1 + 1) - outer.row1),
        (outer.col0 - (window.col0 - 1), (window.col1 + 1) - outer.col1),
    )
    if pad == ((0, 0), (0, 0)):
        return z, valid
    for axis, (before, after) in enumerate(pad):
        if before:
            z, valid = _extrapolate(z, valid, axis, at_start=True)
        if after:
            z, valid = _extrapolate(z, valid, axis, at_start=False)
    return z, valid


def _extrapolate(
    z: np.ndarray, valid: np.ndarray, axis: int, *, at_start: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One more row or column: ``2 z[edge] − z[next]`` (a copy of the edge if there is none)."""
    edge = np.take(z, [0 if at_start else -1], axis=axis)
    edge_ok = np.take(valid, [0 if at_start else -1], axis=axis)
    if z.shape[axis] > 1:
        nxt = np.take(z, [1 if at_start else -2], axis=axis)
        nxt_ok = np.take(valid, [1 if at_start else -2], axis=axis)
        new, new_ok = 2.0 * edge - nxt, edge_ok & nxt_ok
    else:
        new, new_ok = edge, edge_ok
    parts = ([new, z], [new_ok, valid]) if at_start else ([z, new], [valid, new_ok])
    return np.concatenate(parts[0], axis=axis), np.concatenate(parts[1], axis=axis)


class HornSpacing:
    """Ground distances in metres between neighbouring pixel centres, per row.

    Projected grids: the pixel size in metres (the CRS's linear unit applied). Geographic
    grids: east–west, the arc of the parallel ``N cos φ · Δλ`` at each row's latitude; north–
    south, the meridian arc ``∫ M dφ`` between the rows above and below, halved.
    """

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.geographic = grid.crs.is_geographic
        t = grid.transform
        if not self.geographic:
            unit = linear_unit_metres(grid.crs)
            self._dx = abs(t.a) * unit
            self._dy = abs(t.e) * unit

    def dx(self, rows: np.ndarray) -> np.ndarray:
        """East–west distance between the centres of neighbouring columns, for each row."""
        rows = np.asarray(rows)
        if not self.geographic:
            return np.full(rows.shape, self._dx)
        lat = self.grid.row_centres(rows)
        return parallel_radius(lat, self.grid.crs) * abs(math.radians(self.grid.transform.a))

    def dy(self, rows: np.ndarray) -> np.ndarray:
        """Half the north–south distance between the rows above and below, for each row."""
        rows = np.asarray(rows)
        if not self.geographic:
            return np.full(rows.shape, self._dy)
        above = np.clip(self.grid.row_centres(rows - 1), -90.0, 90.0)
        below = np.clip(self.grid.row_centres(rows + 1), -90.0, 90.0)
        return 0.5 * meridian_arc(above, below, self.grid.crs)


def horn_slope(
    z: np.ndarray, valid: np.ndarray, spacing: HornSpacing, row0: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slope in degrees by Horn's method of the interior of `z` (a window with a 1-pixel halo).

    Each of the three rows of the 3×3 kernel divides its east–west difference by its own row's
    pixel width, so that geographic grids are right at every latitude.

    Parameters
    ----------
    z : numpy.ndarray
        Elevations in metres, ``(rows + 2, cols + 2)``.
    valid : numpy.ndarray
        False where `z` is nodata.
    spacing : HornSpacing
        Pixel distances of the grid.
    row0 : int
        Grid row of the first interior row.

    Returns
    -------
    slope, valid : numpy.ndarray
        ``(rows, cols)`` slope in degrees, and False where a neighbour was nodata.
    """
    rows = z.shape[0] - 2
    halo_rows = np.arange(row0 - 1, row0 + rows + 1)
    inv_dx = 1.0 / spacing.dx(halo_rows)[:, None]
    east_west = (z[:, 2:] - z[:, :-2]) * inv_dx  # per halo row: (right - left) / dx
    dz_dx = (east_west[:-2] + 2.0 * east_west[1:-1] + east_west[2:]) / 8.0
    weighted = z[:, :-2] + 2.0 * z[:, 1:-1] + z[:, 2:]
    dy = spacing.dy(np.arange(row0, row0 + rows))[:, None]
    dz_dy = (weighted[:-2] - weighted[2:]) / (8.0 * dy)
    slope = np.degrees(np.arctan(np.hypot(dz_dx, dz_dy)))
    ok = valid[1:-1, 1:-1].copy()
    for dr in range(3):
        for dc in range(3):
            ok &= valid[dr : dr + rows, dc : dc + z.shape[1] - 2]
    slope[~ok] = np.nan
    return slope, ok

"""Slope of a DEM in degrees, by Horn's method, on the ground in projected or geographic CRSs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from geozones.raster._fractions import Window
from geozones.raster._grid import Grid, RasterInput, open_raster
from geozones.raster._sources import HornSpacing, SlopeSource, horn_slope, pad_to_halo

#: Rows written at once by :func:`write_slope`, times the raster's width.
_BAND_CELLS = 1 << 22


def slope(
    dem: RasterInput,
    *,
    band: int = 1,
    window: tuple[int, int, int, int] | None = None,
    z_factor: float = 1.0,
) -> np.ma.MaskedArray:
    """Slope in degrees of a DEM (or of a window of it), by Horn's method.

    Horn's 3×3 kernel weights the centre row and column twice. Cell sizes are ground
    distances in metres: the pixel size (in the CRS's linear unit) for a projected DEM; for a
    geographic DEM, per row, ``N cos φ · Δλ`` east–west and the meridian arc ``∫ M dφ``
    north–south, with ``N`` and ``M`` the ellipsoid's radii of curvature. In a geographic DEM
    each of the kernel's three rows uses its own width. The slope is nodata where any of the
    nine pixels is; at the raster's edge the missing neighbours are extrapolated linearly.

    Parameters
    ----------
    dem : path or rasterio dataset
        Elevations in metres (or see `z_factor`).
    band : int, default 1
        Band to read.
    window : tuple of int, optional
        ``(row0, row1, col0, col1)``; the whole DEM when omitted.
    z_factor : float, default 1.0
        Metres per elevation unit.

    Returns
    -------
    numpy.ma.MaskedArray
        Slope in degrees, masked where it is nodata.

    Examples
    --------
    A plane rising 1 m per 10 m pixel to the north is 5.71° steep:

    >>> import numpy as np
    >>> from rasterio.io import MemoryFile
    >>> from affine import Affine
    >>> plane = np.arange(5, 0, -1, dtype="float32")[:, None].repeat(4, axis=1)[None]
    >>> profile = dict(driver="GTiff", width=4, height=5, count=1, dtype="float32",
    ...                crs="EPSG:4527", transform=Affine(10, 0, 39_600_000, 0, -10, 3_150_000))
    >>> with MemoryFile() as memory, memory.open(**profile) as raster:
    ...     raster.write(plane)
    ...     degrees = slope(raster)
    >>> np.unique(degrees.round(2)).tolist()
    [5.71]
    """
    with open_raster(dem) as dataset:
        source = SlopeSource(dataset, band, z_factor)
        grid = source.grid
        row0, row1, col0, col1 = window if window is not None else (0, grid.height, 0, grid.width)
        values, valid = source.read(Window(row0, row1, col0, col1))
    return np.ma.MaskedArray(values, mask=~valid)


def slope_array(
    elevation: np.ndarray,
    grid: Grid,
    *,
    nodata: float | None = None,
    z_factor: float = 1.0,
) -> np.ma.MaskedArray:
    """Slope in degrees of an elevation array on `grid`, as :func:`slope` computes it.

    Parameters
    ----------
    elevation : numpy.ndarray
        ``(grid.height, grid.width)`` elevations.
    grid : Grid
        Where the array lies.
    nodata : float, optional
        Elevation value meaning no data (NaN always does).
    z_factor : float, default 1.0
        Metres per elevation unit.

    Returns
    -------
    numpy.ma.MaskedArray
        Slope in degrees, masked where it is nodata.

    Examples
    --------
    >>> import numpy as np
    >>> grid = Grid.from_bounds((0, 0, 40, 40), 10, 4527)
    >>> eastward = np.tile(np.arange(4.0) * 10, (4, 1))  # 1 m per m: 45°
    >>> slope_array(eastward, grid).round(6).tolist()[0]
    [45.0, 45.0, 45.0, 45.0]
    """
    z = np.asarray(elevation, dtype=np.float64) * z_factor
    if z.shape != grid.shape:
        raise ValueError(f"elevation has shape {z.shape}, the grid {grid.shape}")
    valid = np.isfinite(z)
    if nodata is not None:
        valid &= np.asarray(elevation) != nodata
    whole = Window(0, grid.height, 0, grid.width)
    padded, padded_ok = pad_to_halo(z, valid, whole, whole)
    values, ok = horn_slope(padded, padded_ok, HornSpacing(grid), 0)
    return np.ma.MaskedArray(values, mask=~ok)


def write_slope(
    dem: RasterInput,
    path: str | os.PathLike[str],
    *,
    band: int = 1,
    z_factor: float = 1.0,
) -> Path:
    """Write the slope of a DEM to a tiled, DEFLATE-compressed float32 GeoTIFF, band by band.

    The DEM is read in bands of rows (plus one row above and below), so it need not fit in
    memory.

    Parameters
    ----------
    dem : path or rasterio dataset
        Elevations in metres (or see `z_factor`).
    path : str or path-like
        The GeoTIFF to write (overwritten).
    band : int, default 1
        DEM band.
    z_factor : float, default 1.0
        Metres per elevation unit.

    Returns
    -------
    pathlib.Path
        `path`. Nodata is NaN.
    """
    import rasterio  # type: ignore[import-untyped, unused-ignore]
    from rasterio.windows import Window as RioWindow  # type: ignore[import-untyped, unused-ignore]

    out = Path(path)
    with open_raster(dem) as dataset:
        source = SlopeSource(dataset, band, z_factor)
        grid = source.grid
        profile = {
            "driver": "GTiff",
            "width": grid.width,
            "height": grid.height,
            "count": 1,
            "dtype": "float32",
            "crs": dataset.crs,
            "transform": grid.transform,
            "nodata": float("nan"),
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
            "compress": "deflate",
            "predictor": 3,
        }
        rows = max(256, (_BAND_CELLS // max(grid.width, 1)) // 256 * 256)
        with rasterio.open(out, "w", **profile) as target:
            for row0 in range(0, grid.height, rows):
                row1 = min(row0 + rows, grid.height)
                values, valid = source.read(Window(row0, row1, 0, grid.width))
                values = np.where(valid, values, np.nan).astype(np.float32)
                target.write(values, 1, window=RioWindow(0, row0, grid.width, row1 - row0))
    return out

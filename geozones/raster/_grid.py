"""Raster grids: where each pixel is, and how large it is on the ellipsoid."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pyproj
from affine import Affine

from geozones.errors import CRSError, DataSourceError, GeozonesWarning, MissingCRSError
from geozones.measure.area import BandedScale, TransverseMercator, linear_unit_metres
from geozones.units import square_metres_per

if TYPE_CHECKING:
    from rasterio.io import DatasetReader  # type: ignore[import-untyped, unused-ignore]

#: A raster argument: a path, an open rasterio dataset, or (where no pixel values are read)
#: a :class:`Grid`.
RasterInput: TypeAlias = "str | os.PathLike[str] | DatasetReader"

# Gauss–Legendre nodes and weights on [-1, 1], for integrals over a row of latitude.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
# Rows of latitude wider than this are integrated piecewise (16 nodes are exact to 1e-16 here).
_GL_MAX_INTERVAL = math.radians(10.0)


class RasterExtentWarning(GeozonesWarning):
    """Polygons lie partly or entirely off the raster; the warning counts them."""


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: its affine transform, size and CRS.

    Parameters
    ----------
    transform : affine.Affine
        Pixel (column, row) to CRS coordinates, as in rasterio; no rotation.
    width, height : int
        Columns and rows.
    crs : pyproj.CRS
        The grid's CRS.

    Examples
    --------
    >>> grid = Grid.from_bounds((39_600_000, 3_150_000, 39_601_000, 3_151_000), 10, 4527)
    >>> grid.width, grid.height, grid.transform.a, grid.transform.e
    (100, 100, 10.0, -10.0)
    """

    transform: Affine
    width: int
    height: int
    crs: pyproj.CRS

    def __post_init__(self) -> None:
        t = self.transform
        if t.b != 0.0 or t.d != 0.0:
            raise CRSError(
                "rotated or sheared rasters are not supported; warp the raster to a north-up "
                "grid first (gdalwarp)"
            )
        if t.a == 0.0 or t.e == 0.0:
            raise CRSError("the raster's transform has a zero pixel size")

    @classmethod
    def from_bounds(
        cls,
        bounds: tuple[float, float, float, float],
        resolution: float,
        crs: str | int | pyproj.CRS,
    ) -> Grid:
        """A north-up grid of square pixels covering `bounds`, snapped outward to `resolution`.

        Parameters
        ----------
        bounds : tuple of float
            ``(xmin, ymin, xmax, ymax)`` in `crs`.
        resolution : float
            Pixel size in CRS units.
        crs : str, int or pyproj.CRS
            The grid's CRS.

        Returns
        -------
        Grid
            Its top-left corner is ``(xmin, ymax)`` snapped to multiples of `resolution`.
        """
        xmin, ymin, xmax, ymax = bounds
        left = math.floor(xmin / resolution) * resolution
        top = math.ceil(ymax / resolution) * resolution
        width = max(1, math.ceil((xmax - left) / resolution))
        height = max(1, math.ceil((top - ymin) / resolution))
        transform = Affine(resolution, 0.0, left, 0.0, -resolution, top)
        return cls(transform, width, height, pyproj.CRS.from_user_input(crs))

    @classmethod
    def of(cls, dataset: Any) -> Grid:
        """The grid of an open rasterio dataset.

        Parameters
        ----------
        dataset : rasterio.io.DatasetReader
            An open dataset.

        Returns
        -------
        Grid
            Its transform, size and CRS.

        Raises
        ------
        MissingCRSError
            The dataset has no CRS.
        """
        if dataset.crs is None:
            raise MissingCRSError(
                f"the raster {dataset.name} has no CRS; assign one (gdal_edit.py -a_srs EPSG:…)"
            )
        crs = pyproj.CRS.from_user_input(dataset.crs.to_wkt())
        return cls(dataset.transform, int(dataset.width), int(dataset.height), crs)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``."""
        return self.height, self.width

    @property
    def pixel_planar_area(self) -> float:
        """Area of one pixel on the CRS's plane (square CRS units; degrees² if geographic)."""
        return abs(self.transform.a * self.transform.e)

    def row_centres(self, rows: np.ndarray) -> np.ndarray:
        """The y coordinate of the centre of each row."""
        return self.transform.f + self.transform.e * (np.asarray(rows, dtype=float) + 0.5)

    def col_centres(self, cols: np.ndarray) -> np.ndarray:
        """The x coordinate of the centre of each column."""
        return self.transform.c + self.transform.a * (np.asarray(cols, dtype=float) + 0.5)


@contextmanager
def open_raster(raster: RasterInput) -> Iterator[Any]:
    """An open rasterio dataset for a path, or the dataset itself (left open)."""
    import rasterio  # type: ignore[import-untyped, unused-ignore]
    from rasterio.errors import RasterioIOError  # type: ignore[import-untyped, unused-ignore]

    if hasattr(raster, "read") and hasattr(raster, "transform"):
        yield raster
        return
    try:
        dataset = rasterio.open(os.fspath(raster))
    except RasterioIOError as error:
        raise DataSourceError(f"cannot open the raster {raster}: {error}") from None
    with dataset:
        yield dataset


class CellArea:
    """Ellipsoidal area in m² of pixels of a grid, given their rows and columns.

    * Geographic grids: each row is a quadrangle between two parallels, whose area
      ``Δλ ∫ M N cos φ dφ`` is integrated exactly (Gauss–Legendre) once per row.
    * Transverse Mercator grids in metres (Gauss–Krüger, UTM): the planar pixel area times
      ``f = 1/m²``, the ellipsoidal area per unit of plane area, from geozones' area scale
      (a polynomial fitted to PROJ, exact to 5e-12) at the pixel centre.
    * Other projected grids: the planar area over PROJ's areal scale factor at the pixel
      centre (``pyproj.Proj.get_factors``), slower.

    At a pixel centre the scale is exact; over a pixel it varies by ``w²/(24 R²)``, 1e-12 for
    30 m pixels.
    """

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        crs = grid.crs
        self._row_area: np.ndarray | None = None
        self._tm_scale: BandedScale | None = None
        self._tm_rows: np.ndarray | None = None
        self._generic: tuple[pyproj.Transformer, pyproj.Proj] | None = None
        if crs.is_geographic:
            self.kind = "geographic"
            return
        if not crs.is_projected:
            raise CRSError(f"the raster's CRS {crs.name} is neither geographic nor projected")
        unit = linear_unit_metres(crs)
        self._planar = grid.pixel_planar_area * unit * unit
        projection = TransverseMercator.from_crs(crs)
        if projection is not None:
            t = grid.transform
            xs = np.array([t.c, t.c + t.a * grid.width]) - projection.false_easting
            ys = np.array([t.f, t.f + t.e * grid.height])
            x_max = float(np.max(np.abs(xs)))
            scale = BandedScale.covering(projection, x_max, float(ys.min()), float(ys.max()))
            if scale is not None:
                self.kind = "transverse_mercator"
                self._tm_scale = scale
                self._false_easting = projection.false_easting
                return
        self.kind = "projected"
        geographic = crs.geodetic_crs
        if geographic is None:
            raise CRSError(f"the raster's CRS {crs.name} has no ellipsoid")
        self._generic = (
            pyproj.Transformer.from_crs(crs, geographic, always_xy=True),
            pyproj.Proj(crs),
        )

    def __call__(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Area in m² of the pixels at (`rows`, `cols`)."""
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        if self.kind == "geographic":
            return self.row_areas()[rows]
        if self.kind == "transverse_mercator":
            return self._planar * self._tm_factor(rows, cols)
        assert self._generic is not None
        to_lonlat, proj = self._generic
        lon, lat = to_lonlat.transform(self.grid.col_centres(cols), self.grid.row_centres(rows))
        factors = proj.get_factors(np.asarray(lon), np.asarray(lat), errcheck=False)
        return self._planar / np.asarray(factors.areal_scale, dtype=float)

    def window(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        """Area in m² of every pixel of a window, as a ``(rows, cols)`` array."""
        rows = np.arange(row0, row1)
        cols = np.arange(col0, col1)
        if self.kind == "geographic":
            return np.repeat(self.row_areas()[rows][:, None], len(cols), axis=1)
        if self.kind == "transverse_mercator":
            return self._planar * self._tm_factor(rows[:, None], cols[None, :])
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        return self(rr.ravel(), cc.ravel()).reshape(len(rows), len(cols))

    def row_areas(self) -> np.ndarray:
        """Geographic grids: the area in m² of one pixel of each row."""
        if self._row_area is None:
            t = self.grid.transform
            edges = t.f + t.e * np.arange(self.grid.height + 1, dtype=float)
            band = parallel_band_area(edges[:-1], edges[1:], self.grid.crs)
            self._row_area = band * abs(math.radians(t.a))
        return self._row_area

    def _tm_row_coefficients(self) -> np.ndarray:
        """``c_k`` of the area scale at every row's centre, ``(K, height)``, computed once."""
        if self._tm_rows is None:
            scale = self._tm_scale
            assert scale is not None
            self._tm_rows = scale.coefficients_at(
                self.grid.row_centres(np.arange(self.grid.height))
            )
        return self._tm_rows

    def _tm_factor(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        coefficients = self._tm_row_coefficients()
        x2 = (self.grid.col_centres(cols) - self._false_easting) ** 2
        result = np.zeros(np.broadcast(rows, cols).shape)
        for k in range(len(coefficients) - 1, -1, -1):  # Horner in x²
            result *= x2
            result += coefficients[k][rows]
        return result


def parallel_band_area(lat1: np.ndarray, lat2: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Area in m² per radian of longitude between two parallels, on `crs`'s ellipsoid.

    ``∫ M N cos φ dφ`` from `lat1` to `lat2` (degrees, either order), by Gauss–Legendre
    quadrature (16 nodes per 10°, exact to rounding).

    Parameters
    ----------
    lat1, lat2 : numpy.ndarray
        Latitudes in degrees; clipped to [-90, 90].
    crs : pyproj.CRS
        Any CRS on the ellipsoid wanted.

    Returns
    -------
    numpy.ndarray
        Non-negative areas.

    Examples
    --------
    The whole ellipsoid, 2π times the band from pole to pole, against GRS80's 510,065,622 km²:

    >>> import numpy as np, pyproj
    >>> band = parallel_band_area(np.array([-90.0]), np.array([90.0]), pyproj.CRS(4490))
    >>> round(float(2 * np.pi * band[0]) / 1e6)
    510065622
    """
    a, e2 = _ellipsoid(crs)
    phi1 = np.radians(np.clip(np.asarray(lat1, dtype=float), -90.0, 90.0))
    phi2 = np.radians(np.clip(np.asarray(lat2, dtype=float), -90.0, 90.0))
    lo, hi = np.minimum(phi1, phi2), np.maximum(phi1, phi2)
    pieces = max(1, math.ceil(float(np.max(hi - lo, initial=0.0)) / _GL_MAX_INTERVAL))
    total = np.zeros(np.broadcast(lo, hi).shape)
    step = (hi - lo) / pieces
    for piece in range(pieces):
        start = lo + piece * step
        half = 0.5 * step
        phi = (start + half)[..., None] + half[..., None] * _GL_NODES
        s2 = np.sin(phi) ** 2
        integrand = np.cos(phi) / (1.0 - e2 * s2) ** 2
        total += half * (integrand @ _GL_WEIGHTS)
    return a * a * (1.0 - e2) * total


def meridian_arc(lat1: np.ndarray, lat2: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Length in metres of the meridian between two latitudes (degrees), ``∫ M dφ``.

    Parameters
    ----------
    lat1, lat2 : numpy.ndarray
        Latitudes in degrees.
    crs : pyproj.CRS
        Any CRS on the ellipsoid wanted.

    Returns
    -------
    numpy.ndarray
        Non-negative lengths.

    Examples
    --------
    A quarter meridian of GRS80 is 10,001,965.729 m:

    >>> import numpy as np, pyproj
    >>> float(meridian_arc(np.array([0.0]), np.array([90.0]), pyproj.CRS(4490))[0])
    10001965.729...
    """
    a, e2 = _ellipsoid(crs)
    phi1 = np.radians(np.asarray(lat1, dtype=float))
    phi2 = np.radians(np.asarray(lat2, dtype=float))
    lo, hi = np.minimum(phi1, phi2), np.maximum(phi1, phi2)
    pieces = max(1, math.ceil(float(np.max(hi - lo, initial=0.0)) / _GL_MAX_INTERVAL))
    total = np.zeros(np.broadcast(lo, hi).shape)
    step = (hi - lo) / pieces
    for piece in range(pieces):
        half = 0.5 * step
        phi = (lo + piece * step + half)[..., None] + half[..., None] * _GL_NODES
        integrand = 1.0 / (1.0 - e2 * np.sin(phi) ** 2) ** 1.5
        total += half * (integrand @ _GL_WEIGHTS)
    return a * (1.0 - e2) * total


def parallel_radius(lat: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Radius ``N cos φ`` in metres of the parallel at each latitude (degrees)."""
    a, e2 = _ellipsoid(crs)
    phi = np.radians(np.asarray(lat, dtype=float))
    return a * np.cos(phi) / np.sqrt(1.0 - e2 * np.sin(phi) ** 2)


def _ellipsoid(crs: pyproj.CRS) -> tuple[float, float]:
    ellipsoid = crs.ellipsoid
    if ellipsoid is None:
        raise CRSError(f"{crs.name} has no ellipsoid")
    flattening = 1.0 / ellipsoid.inverse_flattening if ellipsoid.inverse_flattening else 0.0
    return float(ellipsoid.semi_major_metre), flattening * (2.0 - flattening)


def pixel_areas(
    raster: RasterInput | Grid,
    *,
    window: tuple[int, int, int, int] | None = None,
    unit: str = "m2",
) -> np.ndarray:
    """Ellipsoidal area of each pixel of a raster (or of a window of it).

    Parameters
    ----------
    raster : path, rasterio dataset or Grid
        The raster; only its grid is used.
    window : tuple of int, optional
        ``(row0, row1, col0, col1)``; the whole grid when omitted (mind the memory).
    unit : str, default "m2"
        Area unit (see :func:`geozones.area`).

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)`` areas.

    Examples
    --------
    A 30 m pixel 100 km east of the central meridian of zone 39 is 899.78 m² on the ellipsoid:

    >>> grid = Grid.from_bounds((39_600_000, 3_150_000, 39_600_030, 3_150_030), 30, 4527)
    >>> pixel_areas(grid).round(2).tolist()
    [[899.78]]
    """
    per_unit = square_metres_per(unit)
    if isinstance(raster, Grid):
        grid = raster
    else:
        with open_raster(raster) as dataset:
            grid = Grid.of(dataset)
    row0, row1, col0, col1 = window if window is not None else (0, grid.height, 0, grid.width)
    return CellArea(grid).window(row0, row1, col0, col1) / per_unit

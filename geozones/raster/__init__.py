"""Raster analyses: exact zonal statistics, slope, steep farmland, land cover inside the lines.

Built on ``rasterio``, a dependency of geozones. Nothing here resamples a raster: polygons are
reprojected to the raster's CRS, and every pixel counts with the share of its area a polygon
covers (exact coverage fractions, as exactextract computes them) times its area on the
ellipsoid. Rasters are read window by window, so they need not fit in memory.

* :func:`zonal_stats`: count, sum, mean, min, max, area-weighted mean of a continuous raster.
* :func:`zonal_categories`: ellipsoidal area of each class of a categorical raster.
* :func:`slope`, :func:`slope_array`, :func:`write_slope`: slope in degrees (Horn).
* :func:`steep_farmland`: farmland area and share on slopes above 25°, parcels listed.
* :func:`land_cover`: land-cover composition of each line, per county, as a report table.
* :func:`rasterize`, :func:`rasterized_coverage`: lines burnt onto a grid, for coarse and fast
  statistics.
* :func:`pixel_areas`, :class:`Grid`: the ellipsoidal area of pixels, and grids.

See ``docs/raster.md`` for the methods and measured accuracy.
"""

from geozones.raster._grid import Grid, RasterExtentWarning, pixel_areas
from geozones.raster.rasterize import rasterize, rasterized_coverage
from geozones.raster.slope import slope, slope_array, write_slope
from geozones.raster.zonal import (
    land_cover,
    steep_farmland,
    zonal_categories,
    zonal_stats,
)

__all__ = [
    "Grid",
    "RasterExtentWarning",
    "land_cover",
    "pixel_areas",
    "rasterize",
    "rasterized_coverage",
    "slope",
    "slope_array",
    "steep_farmland",
    "write_slope",
    "zonal_categories",
    "zonal_stats",
]

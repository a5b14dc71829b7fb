"""Lines burnt onto a grid, for coarse and fast statistics (pixel centres, not exact areas)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from affine import Affine

from geozones.errors import OutsideZonesWarning
from geozones.raster._fractions import DEFAULT_MAX_CELLS
from geozones.raster._grid import CellArea, Grid, RasterInput, open_raster
from geozones.raster.zonal import layer_in_grid
from geozones.units import square_metres_per
from geozones.zones import zone_codes as codes_of

if TYPE_CHECKING:
    import geopandas as gpd


def rasterize(
    layer: gpd.GeoDataFrame | gpd.GeoSeries,
    like: RasterInput | Grid,
    *,
    value: str | float = 1,
    fill: float = 0,
    all_touched: bool = False,
    dtype: str = "uint8",
) -> np.ndarray:
    """Burn polygons onto a grid (``rasterio.features.rasterize``), pixel centre rule.

    With ``all_touched=False`` a pixel takes a polygon's value when its centre lies inside
    the polygon, so a polygon's pixel count times the pixel area estimates its area without
    bias, with an error that shrinks as pixels get smaller (see ``docs/raster.md`` for
    measured figures). Where polygons overlap, the later one wins.

    Parameters
    ----------
    layer : GeoDataFrame or GeoSeries
        Polygons; reprojected to the grid's CRS if needed.
    like : path, rasterio dataset or Grid
        The grid to burn onto (only its transform, size and CRS are used).
    value : str or number, default 1
        A field of `layer` holding each polygon's value, or one value for all.
    fill : number, default 0
        Value of pixels outside every polygon.
    all_touched : bool, default False
        Burn every pixel a polygon touches instead (biased upward: for coverage masks only).
    dtype : str, default "uint8"
        Output type.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` array.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grid = Grid.from_bounds((0, 0, 40, 20), 10, 4527)
    >>> rasterize(gpd.GeoSeries([box(0, 0, 24, 20)], crs=4527), grid).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0]]
    """
    grid = _grid_of(like)
    geoms, _ = layer_in_grid(layer, grid, "rasterizing")
    values = np.asarray(layer[value]) if isinstance(value, str) else np.full(len(geoms), value)
    return _burn(geoms, values, grid, fill=fill, all_touched=all_touched, dtype=dtype)


def rasterized_coverage(
    layer: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    like: RasterInput | Grid,
    *,
    by: str | None = None,
    unit: str = "km2",
    all_touched: bool = False,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> pd.DataFrame:
    """Coarse :func:`geozones.coverage`: zones and layer burnt onto a grid, pixels summed.

    Each pixel counts with its full ellipsoidal area in the zone its centre falls in, and as
    covered when its centre falls in the layer. Overlapping features count once, as in
    :func:`geozones.coverage`. Fast, and memory-bounded (the grid is done in bands of rows),
    but only as exact as the grid is fine: see ``docs/raster.md`` for the error measured on
    the sample province.

    Parameters
    ----------
    layer : GeoDataFrame
        The polygons to measure (e.g. the red line).
    zones : GeoDataFrame
        Zone polygons (counties); rows sharing a `by` value form one zone.
    like : path, rasterio dataset or Grid
        The grid.
    by : str, optional
        Field of `zones` naming each zone; the index when omitted.
    unit : str, default "km2"
        Area unit.
    all_touched : bool, default False
        Burn every touched pixel (biased upward; not for statistics).
    max_cells : int, optional
        Pixels burnt at once.

    Returns
    -------
    pandas.DataFrame
        Indexed by zone code (``zone``), columns ``zone_area``, ``covered_area`` and
        ``percent``; ``attrs`` records ``unit``, ``method`` (``"rasterized"``),
        ``resolution`` and ``outside_area`` (layer pixels in no zone).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_600_000, 3_150_000
    >>> counties = gpd.GeoDataFrame({"XZQDM": ["990102"]},
    ...                             geometry=[box(x, y, x + 1000, y + 1000)], crs=4527)
    >>> redline = gpd.GeoDataFrame(geometry=[box(x, y, x + 507, y + 1000)], crs=4527)
    >>> grid = Grid.from_bounds((x, y, x + 1000, y + 1000), 10, 4527)
    >>> rasterized_coverage(redline, counties, grid, by="XZQDM", unit="ha").round(2)
            zone_area  covered_area  percent
    zone
    990102      99.98         50.99     51.0

    The exact share is 50.7 %: 51 columns of pixels have their centres inside.
    """
    per_unit = square_metres_per(unit)
    grid = _grid_of(like)
    codes = codes_of(zones, by)
    labels = pd.unique(codes)
    zone_id = pd.Index(labels).get_indexer(codes) + 1
    zone_geoms, _ = layer_in_grid(zones, grid, "rasterized coverage", name="the zones")
    layer_geoms, _ = layer_in_grid(layer, grid, "rasterized coverage")
    cell_area = CellArea(grid)
    zone_area = np.zeros(len(labels) + 1)
    covered = np.zeros(len(labels) + 1)
    zone_burner = _Burner(zone_geoms, zone_id)
    layer_burner = _Burner(layer_geoms, np.ones(len(layer_geoms), dtype=np.uint8))
    for band, band_grid in _bands(grid, max_cells):
        z = zone_burner.burn(band_grid, fill=0, all_touched=all_touched, dtype="int32")
        m = layer_burner.burn(band_grid, fill=0, all_touched=all_touched, dtype="uint8")
        area = cell_area.window(band[0], band[1], 0, grid.width)
        key = z.ravel().astype(np.intp) * 2 + m.ravel()
        both = np.bincount(key, weights=area.ravel(), minlength=2 * (len(labels) + 1))
        zone_area += both[0::2] + both[1::2]
        covered += both[1::2]
    result = pd.DataFrame(
        {"zone_area": zone_area[1:] / per_unit, "covered_area": covered[1:] / per_unit},
        index=pd.Index(labels, name="zone"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        result["percent"] = 100.0 * result["covered_area"] / result["zone_area"]
    outside = covered[0] / per_unit
    result.attrs.update(
        unit=unit,
        method="rasterized",
        resolution=(abs(grid.transform.a), abs(grid.transform.e)),
        outside_area=outside,
    )
    if outside > 0:
        warnings.warn(
            f"{outside:.6g} {unit} of the layer's pixels lie outside every zone",
            OutsideZonesWarning,
            stacklevel=2,
        )
    return result


def _grid_of(like: RasterInput | Grid) -> Grid:
    if isinstance(like, Grid):
        return like
    with open_raster(like) as dataset:
        return Grid.of(dataset)


def _bands(grid: Grid, max_cells: int) -> Iterator[tuple[tuple[int, int], Grid]]:
    """Bands of rows of at most `max_cells` pixels, each as its own grid."""
    rows = max(1, max_cells // max(grid.width, 1))
    for row0 in range(0, grid.height, rows):
        row1 = min(row0 + rows, grid.height)
        transform = grid.transform @ Affine.translation(0, row0)
        yield (row0, row1), Grid(transform, grid.width, row1 - row0, grid.crs)


class _Burner:
    """Geometries with values, burnt onto grids; converted to GeoJSON for GDAL once."""

    def __init__(self, geoms: np.ndarray, values: np.ndarray) -> None:
        present = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
        self.geoms = geoms[present]
        self.values = np.asarray(values)[present].tolist()
        self.bounds = shapely.bounds(self.geoms)
        self._geojson: list[dict[str, Any]] | None = None

    def burn(self, grid: Grid, *, fill: float, all_touched: bool, dtype: str) -> np.ndarray:
        """The geometries whose bounds meet `grid`, burnt onto it (later ones on top)."""
        from rasterio import features  # type: ignore[import-untyped, unused-ignore]

        out = np.full(grid.shape, fill, dtype=dtype)
        t = grid.transform
        xmin, xmax = sorted((t.c, t.c + t.a * grid.width))
        ymin, ymax = sorted((t.f, t.f + t.e * grid.height))
        b = self.bounds
        meets = (b[:, 0] <= xmax) & (b[:, 2] >= xmin) & (b[:, 1] <= ymax) & (b[:, 3] >= ymin)
        index = np.flatnonzero(meets)
        if len(index) == 0:
            return out
        if self._geojson is None:
            self._geojson = _multipolygons(self.geoms)
        shapes = [(self._geojson[i], self.values[i]) for i in index.tolist()]
        features.rasterize(shapes, out=out, transform=t, all_touched=all_touched, dtype=dtype)
        return out


def _multipolygons(geoms: np.ndarray) -> list[dict[str, Any]]:
    """GeoJSON MultiPolygon mappings of polygons, built from coordinate arrays (fast)."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    counts = shapely.get_num_coordinates(rings)
    coords = shapely.get_coordinates(rings)
    # Millions of small lists: the cyclic garbage collector would rescan them all the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        ring_lists = [c.tolist() for c in np.split(coords, np.cumsum(counts)[:-1])]
    finally:
        if enabled:
            gc.enable()
    polygons: list[list[list[list[float]]]] = [[] for _ in range(len(parts))]
    for ring, part in zip(ring_lists, ring_of.tolist(), strict=True):
        polygons[part].append(ring)
    result: list[dict[str, Any]] = [
        {"type": "MultiPolygon", "coordinates": []} for _ in range(len(geoms))
    ]
    for polygon, geom in zip(polygons, part_of.tolist(), strict=True):
        result[geom]["coordinates"].append(polygon)
    return result


def _burn(
    geoms: np.ndarray,
    values: np.ndarray,
    grid: Grid,
    *,
    fill: float,
    all_touched: bool,
    dtype: str,
) -> np.ndarray:
    """Burn the geometries whose bounds meet the grid onto it."""
    return _Burner(geoms, values).burn(grid, fill=fill, all_touched=all_touched, dtype=dtype)

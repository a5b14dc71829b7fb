"""Zonal statistics with exact pixel coverage, and the planning checks built on them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.analysis.coverage import ZonePieces
from geozones.errors import GeometryTypeWarning, OutsideZonesWarning
from geozones.io.validity import describe_features, polygon_array
from geozones.measure.tolerance import (
    DEFAULT_XY_TOLERANCE,
    check_xy_tolerance,
    tolerance_in_crs_units,
)
from geozones.raster._fractions import DEFAULT_MAX_CELLS, iter_cells
from geozones.raster._grid import CellArea, Grid, RasterExtentWarning, RasterInput, open_raster
from geozones.raster._sources import BandSource, SlopeSource, Source
from geozones.units import square_metres_per
from geozones.zones import to_crs
from geozones.zones import zone_codes as codes_of

if TYPE_CHECKING:
    import geopandas as gpd

#: Columns of :func:`zonal_stats`.
STAT_COLUMNS = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "area_weighted_mean",
    "area",
    "nodata_area",
    "on_raster",
    "off_raster",
    "no_geometry",
)


def zonal_stats(
    raster: RasterInput,
    layer: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    band: int = 1,
    unit: str = "m2",
    max_cells: int = DEFAULT_MAX_CELLS,
) -> pd.DataFrame:
    """Statistics of a continuous raster over each polygon, with exact pixel coverage.

    Every pixel counts with the share of its area the polygon covers (its coverage fraction,
    as exactextract computes it), so a polygon covering 2.5 pixels counts 2.5 pixels, and a
    parcel smaller than a pixel still gets that pixel's value.

    Parameters
    ----------
    raster : path or rasterio dataset
        The raster; it is read window by window (one window per tile of 1024 × 1024 pixels
        holding polygons), never whole, and never resampled.
    layer : GeoDataFrame or GeoSeries
        Polygons; reprojected to the raster's CRS (with a
        :class:`~geozones.errors.CRSReprojectionWarning`) if in another one. Invalid ones are
        repaired as by :func:`geozones.area`.
    band : int, default 1
        Band to read.
    unit : str, default "m2"
        Unit of ``area`` and ``nodata_area`` (see :func:`geozones.area`).
    max_cells : int, optional
        Bound on the pixels handled at once (memory is ~100 bytes per pixel).

    Returns
    -------
    pandas.DataFrame
        Indexed like `layer`, with columns:

        ``count``
            Covered pixels with data: the sum of their coverage fractions.
        ``sum``, ``mean``
            ``Σ f·v`` and ``Σ f·v / Σ f`` over pixels with data (exactextract's ``sum`` and
            ``mean``).
        ``min``, ``max``
            Over pixels with data that the polygon touches with positive area.
        ``area_weighted_mean``
            ``Σ f·a·v / Σ f·a`` with ``a`` each pixel's ellipsoidal area: the mean over the
            ground, which differs from ``mean`` where pixel areas differ (geographic rasters).
        ``area``, ``nodata_area``
            Ellipsoidal area of the polygon on pixels with data, and on nodata pixels.
        ``on_raster``
            Share of the polygon's area that lies on the raster's extent (1.0 inside).
        ``off_raster``
            True for a polygon entirely off the raster; its statistics are NaN.
        ``no_geometry``
            True for a feature whose geometry is null or empty; its statistics are NaN (not 0)
            and ``on_raster`` is NaN.

        ``attrs`` records ``unit``.

    Warns
    -----
    RasterExtentWarning
        Some polygons lie entirely or partly off the raster; the warning counts and names them.
    GeometryTypeWarning
        Some features have a null or empty geometry; the warning counts and names them.

    Examples
    --------
    A 3 × 2 raster of 10 m pixels; a polygon covering pixel 0 and half of pixel 1 of the top
    row (values 1 and 2):

    >>> import geopandas as gpd, numpy as np, rasterio
    >>> from rasterio.io import MemoryFile
    >>> from affine import Affine
    >>> from shapely import box
    >>> x, y = 39_600_000, 3_150_000
    >>> profile = dict(driver="GTiff", width=3, height=2, count=1, dtype="float32",
    ...                crs="EPSG:4527", transform=Affine(10, 0, x, 0, -10, y))
    >>> with MemoryFile() as memory, memory.open(**profile) as raster:
    ...     raster.write(np.array([[[1, 2, 3], [4, 5, 6]]], dtype="float32"))
    ...     parcels = gpd.GeoSeries([box(x, y - 10, x + 15, y)], crs=4527)
    ...     stats = zonal_stats(raster, parcels)
    >>> stats[["count", "sum", "mean", "min", "max"]].round(4).to_dict("records")
    [{'count': 1.5, 'sum': 2.0, 'mean': 1.3333, 'min': 1.0, 'max': 2.0}]
    >>> round(float(stats["area"].iloc[0]), 2)  # 150 m² on the plane; the ellipsoid is smaller
    149.96
    """
    per_unit = square_metres_per(unit)
    with open_raster(raster) as dataset:
        source = BandSource(dataset, band)
        geoms, labels = layer_in_grid(layer, source.grid, "zonal statistics")
        n = len(geoms)
        count = np.zeros(n)
        value_sum = np.zeros(n)
        area = np.zeros(n)
        area_value = np.zeros(n)
        nodata_area = np.zeros(n)
        minimum = np.full(n, np.inf)
        maximum = np.full(n, -np.inf)
        for cells in _cells_with_values(source, geoms, max_cells):
            ids, starts = cells.groups()
            f, a, ok = cells.fraction, cells.area, cells.valid
            v = np.where(ok, cells.values.astype(np.float64), 0.0)
            count[ids] += np.add.reduceat(f * ok, starts)
            value_sum[ids] += np.add.reduceat(f * v, starts)
            area[ids] += np.add.reduceat(a * ok, starts)
            area_value[ids] += np.add.reduceat(a * v, starts)
            nodata_area[ids] += np.add.reduceat(a * ~ok, starts)
            minimum[ids] = np.minimum(
                minimum[ids], np.minimum.reduceat(np.where(ok, v, np.inf), starts)
            )
            maximum[ids] = np.maximum(
                maximum[ids], np.maximum.reduceat(np.where(ok, v, -np.inf), starts)
            )
    on_raster, off = _extent_check(geoms, labels, source.grid)
    missing = _missing_check(geoms, labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = pd.DataFrame(
            {
                "count": count,
                "sum": value_sum,
                "mean": value_sum / count,
                "min": np.where(np.isfinite(minimum), minimum, np.nan),
                "max": np.where(np.isfinite(maximum), maximum, np.nan),
                "area_weighted_mean": area_value / area,
                "area": area / per_unit,
                "nodata_area": nodata_area / per_unit,
                "on_raster": on_raster,
                "off_raster": off,
                "no_geometry": missing,
            },
            index=labels,
        )
    no_data = result["count"] <= 0
    result.loc[no_data, ["mean", "area_weighted_mean"]] = np.nan
    result.loc[off | missing, ["count", "sum", "area", "nodata_area"]] = np.nan
    result.attrs.update(unit=unit)
    return result


def zonal_categories(
    raster: RasterInput,
    layer: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    band: int = 1,
    classes: Mapping[Any, str] | None = None,
    unit: str = "m2",
    max_cells: int = DEFAULT_MAX_CELLS,
) -> pd.DataFrame:
    """Ellipsoidal area of each class of a categorical raster inside each polygon.

    Each pixel contributes its coverage fraction times its area on the ellipsoid: for a
    projected raster the planar pixel area scaled by the projection's area factor at the
    pixel, for a geographic raster the exact area of the pixel's quadrangle (which shrinks
    with latitude).

    Parameters
    ----------
    raster : path or rasterio dataset
        A categorical raster (e.g. land cover); read window by window.
    layer : GeoDataFrame or GeoSeries
        Polygons, reprojected to the raster's CRS if needed.
    band : int, default 1
        Band to read.
    classes : mapping, optional
        Class value → column name, in the order wanted (e.g. ``{1: "耕地", 2: "林地"}``).
        Classes present but not named get their value as column name, after the named ones.
    unit : str, default "m2"
        Area unit (see :func:`geozones.area`).
    max_cells : int, optional
        Bound on the pixels handled at once.

    Returns
    -------
    pandas.DataFrame
        Indexed like `layer`: one column of area per class (every class in `classes`, and
        every other class found), then ``nodata`` (area on nodata pixels), ``on_raster``
        (share of the polygon on the raster's extent), ``off_raster`` (True when entirely
        off; its areas are NaN) and ``no_geometry`` (True for a null or empty geometry; its
        areas are NaN, not 0). ``attrs`` records ``unit`` and ``classes`` (the class columns).

    Warns
    -----
    RasterExtentWarning
        Some polygons lie entirely or partly off the raster.
    GeometryTypeWarning
        Some features have a null or empty geometry; the warning counts and names them.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> from rasterio.io import MemoryFile
    >>> from affine import Affine
    >>> from shapely import box
    >>> x, y = 39_600_000, 3_150_000
    >>> profile = dict(driver="GTiff", width=2, height=1, count=1, dtype="uint8",
    ...                crs="EPSG:4527", transform=Affine(30, 0, x, 0, -30, y))
    >>> with MemoryFile() as memory, memory.open(**profile) as raster:
    ...     raster.write(np.array([[[1, 2]]], dtype="uint8"))
    ...     parcel = gpd.GeoSeries([box(x + 15, y - 30, x + 60, y)], crs=4527)
    ...     table = zonal_categories(raster, parcel, classes={1: "cropland", 2: "forest"})
    >>> table[["cropland", "forest"]].round(2).to_dict("records")
    [{'cropland': 449.89, 'forest': 899.78}]
    """
    per_unit = square_metres_per(unit)
    with open_raster(raster) as dataset:
        source = BandSource(dataset, band)
        geoms, labels = layer_in_grid(layer, source.grid, "zonal categories")
        by_class, nodata = _category_areas(source, geoms, max_cells)
    on_raster, off = _extent_check(geoms, labels, source.grid)
    missing = _missing_check(geoms, labels)
    result = _class_table(by_class, classes, len(geoms), per_unit)
    result.index = labels
    class_columns = list(result.columns)
    result["nodata"] = nodata / per_unit
    result.loc[off | missing, [*class_columns, "nodata"]] = np.nan
    result["on_raster"] = on_raster
    result["off_raster"] = off
    result["no_geometry"] = missing
    result.attrs.update(unit=unit, classes=class_columns)
    return result


def _category_areas(
    source: Source, geoms: np.ndarray, max_cells: int
) -> tuple[dict[Any, np.ndarray], np.ndarray]:
    """Per class value, the covered area in m² of each feature; and the area on nodata."""
    n = len(geoms)
    by_class: dict[Any, np.ndarray] = {}
    nodata = np.zeros(n)
    for cells in _cells_with_values(source, geoms, max_cells):
        ids, starts = cells.groups()
        nodata[ids] += np.add.reduceat(cells.area * ~cells.valid, starts)
        ok = cells.valid
        if not ok.any():
            continue
        values, inverse = np.unique(cells.values[ok], return_inverse=True)
        group = np.repeat(np.arange(len(ids)), np.diff(np.append(starts, len(cells))))[ok]
        table = np.bincount(
            group * len(values) + inverse,
            weights=cells.area[ok],
            minlength=len(ids) * len(values),
        ).reshape(len(ids), len(values))
        for k, value in enumerate(values.tolist()):
            column = by_class.setdefault(value, np.zeros(n))
            column[ids] += table[:, k]
    return by_class, nodata


def _class_table(
    by_class: dict[Any, np.ndarray], classes: Mapping[Any, str] | None, n: int, per_unit: float
) -> pd.DataFrame:
    """Class areas as columns: the named classes in order, then the others by value."""
    names = dict(classes or {})
    ordered = [*names, *sorted(value for value in by_class if value not in names)]
    return pd.DataFrame(
        {names.get(value, value): by_class.get(value, np.zeros(n)) / per_unit for value in ordered}
    )


def steep_farmland(
    dem: RasterInput,
    farmland: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    threshold: float = 25.0,
    percent_threshold: float = 50.0,
    unit: str = "mu",
    band: int = 1,
    z_factor: float = 1.0,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> pd.DataFrame:
    """Area and share of each farmland parcel on slopes steeper than `threshold` degrees.

    Slope is computed from the DEM by Horn's method, window by window, on the ground
    (geographic DEMs: pixel sizes in metres from the ellipsoid's radii of curvature at each
    row), and weighted by exact pixel coverage and ellipsoidal pixel area.

    Parameters
    ----------
    dem : path or rasterio dataset
        Elevations (metres, or see `z_factor`), in a projected or geographic CRS.
    farmland : GeoDataFrame or GeoSeries
        Parcels; reprojected to the DEM's CRS if needed.
    threshold : float, default 25.0
        Slope in degrees; 25° is the limit above which cropland is to be returned to forest.
    percent_threshold : float, default 50.0
        Parcels whose steep share (percent of their assessed area) exceeds this are listed.
    unit : str, default "mu"
        Area unit (亩 by default; see :func:`geozones.area`).
    band : int, default 1
        DEM band.
    z_factor : float, default 1.0
        Metres per elevation unit (0.3048 for feet).
    max_cells : int, optional
        Bound on the pixels handled at once.

    Returns
    -------
    pandas.DataFrame
        Indexed like `farmland`, columns: ``area`` (assessed: on pixels with a slope),
        ``steep_area``, ``steep_percent`` (``100 · steep_area / area``), ``mean_slope``
        (area-weighted, degrees), ``max_slope``, ``nodata_area`` (on pixels without a slope:
        DEM voids and their neighbours), ``on_raster``, ``off_raster``, ``no_geometry`` (a
        null or empty geometry: its areas and slopes are NaN, not 0, and it is never listed)
        and ``listed`` (steep percent above `percent_threshold`). ``attrs`` records ``unit``,
        ``threshold``, ``percent_threshold`` and ``listed``, the labels of the listed parcels.

    Warns
    -----
    RasterExtentWarning
        Some parcels lie entirely or partly off the DEM.
    GeometryTypeWarning
        Some parcels have a null or empty geometry; the warning counts and names them.

    Examples
    --------
    A DEM rising 1 m per metre eastward (45°) and a parcel on it:

    >>> import geopandas as gpd, numpy as np
    >>> from rasterio.io import MemoryFile
    >>> from affine import Affine
    >>> from shapely import box
    >>> x, y = 39_600_000, 3_150_000
    >>> dem = np.tile(np.arange(20, dtype="float32") * 10, (20, 1))[None]
    >>> profile = dict(driver="GTiff", width=20, height=20, count=1, dtype="float32",
    ...                crs="EPSG:4527", transform=Affine(10, 0, x, 0, -10, y))
    >>> with MemoryFile() as memory, memory.open(**profile) as raster:
    ...     raster.write(dem)
    ...     parcel = gpd.GeoSeries([box(x + 50, y - 150, x + 150, y - 50)], crs=4527)
    ...     result = steep_farmland(raster, parcel)
    >>> result[["steep_percent", "mean_slope", "listed"]].round(2).to_dict("records")
    [{'steep_percent': 100.0, 'mean_slope': 45.0, 'listed': True}]
    """
    per_unit = square_metres_per(unit)
    with open_raster(dem) as dataset:
        source = SlopeSource(dataset, band, z_factor)
        geoms, labels = layer_in_grid(farmland, source.grid, "the steep-farmland check")
        n = len(geoms)
        assessed = np.zeros(n)
        steep = np.zeros(n)
        slope_area = np.zeros(n)
        nodata = np.zeros(n)
        maximum = np.full(n, -np.inf)
        for cells in _cells_with_values(source, geoms, max_cells):
            ids, starts = cells.groups()
            a, ok = cells.area, cells.valid
            s = np.where(ok, cells.values, 0.0)
            assessed[ids] += np.add.reduceat(a * ok, starts)
            steep[ids] += np.add.reduceat(a * (ok & (s > threshold)), starts)
            slope_area[ids] += np.add.reduceat(a * s, starts)
            nodata[ids] += np.add.reduceat(a * ~ok, starts)
            maximum[ids] = np.maximum(
                maximum[ids], np.maximum.reduceat(np.where(ok, s, -np.inf), starts)
            )
    on_raster, off = _extent_check(geoms, labels, source.grid)
    missing = _missing_check(geoms, labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = 100.0 * steep / assessed
        result = pd.DataFrame(
            {
                "area": assessed / per_unit,
                "steep_area": steep / per_unit,
                "steep_percent": percent,
                "mean_slope": slope_area / assessed,
                "max_slope": np.where(np.isfinite(maximum), maximum, np.nan),
                "nodata_area": nodata / per_unit,
                "on_raster": on_raster,
                "off_raster": off,
                "no_geometry": missing,
                "listed": ~missing & (np.nan_to_num(percent, nan=0.0) > percent_threshold),
            },
            index=labels,
        )
    result.loc[off | missing, ["area", "steep_area", "nodata_area"]] = np.nan
    result.attrs.update(
        unit=unit,
        threshold=threshold,
        percent_threshold=percent_threshold,
        listed=list(result.index[result["listed"]]),
    )
    return result


def land_cover(
    landcover: RasterInput,
    lines: Mapping[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame | None = None,
    *,
    by: str | None = None,
    classes: Mapping[Any, str] | None = None,
    unit: str = "ha",
    band: int = 1,
    total_row: str = "all zones",
    total_column: str = "total",
    max_cells: int = DEFAULT_MAX_CELLS,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
) -> pd.DataFrame:
    """Land-cover composition inside each control line, per zone (county): a report table.

    Each line is cut at the zone boundaries and dissolved within each zone, so features of a
    line that overlap each other count once, as in :func:`geozones.coverage` (and, as there,
    overlaps thinner than `xy_tolerance` are not overlaps). Areas are ellipsoidal, with exact
    pixel coverage.

    Parameters
    ----------
    landcover : path or rasterio dataset
        Categorical raster.
    lines : mapping of str to GeoDataFrame
        Name → polygons, e.g. ``{"生态保护红线": redline, "永久基本农田": farmland}``.
    zones : GeoDataFrame, optional
        Zone polygons (counties); without them each line is one row.
    by : str, optional
        Field of `zones` naming each zone (e.g. ``XZQDM``); the index when omitted.
    classes : mapping, optional
        Class value → column name, in the order wanted.
    unit : str, default "ha"
        Area unit (see :func:`geozones.area`).
    band : int, default 1
        Band to read.
    total_row : str, default "all zones"
        Label (in the ``zone`` level) of each line's total row; without `zones`, of its only
        row. It must differ from every zone's label and from `total_column`.
    total_column : str, default "total"
        Label of the row-total column. It must differ from every class column, ``nodata`` and
        ``off_raster``.
    max_cells : int, optional
        Bound on the pixels handled at once.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres, as in :func:`geozones.coverage`.

    Returns
    -------
    pandas.DataFrame
        Index ``(line, zone)``: each line's zones in order, then its `total_row` row (the sum
        of its zone rows). Columns: one area per class, ``nodata``, ``off_raster`` (area of
        the line outside the raster's extent) and `total_column` (the sum of the previous
        columns: the line's area in the zone). So ``table.loc[(line, "all zones"), "total"]``
        is a line's whole area. A zone without geometry has NaN in its row (and is left out
        of the total row). ``attrs`` records ``unit``, ``classes``, ``total_row`` and
        ``total_column``.

    Raises
    ------
    ValueError
        `total_row` is a zone's label or equals `total_column`, or `total_column` is a class
        column, ``nodata`` or ``off_raster``.

    Warns
    -----
    RasterExtentWarning
        Part of a line lies off the raster (its area is in ``off_raster``).
    OutsideZonesWarning
        Part of a line lies outside every zone (it is in no row).
    GeometryTypeWarning
        Features of a line have a null or empty geometry (they are in no row), or zones do
        (their rows are NaN); the warning counts and names them.

    Examples
    --------
    Cropland (1) west of forest (2); a red-line polygon over both, drawn twice:

    >>> import geopandas as gpd, numpy as np
    >>> from affine import Affine
    >>> from rasterio.io import MemoryFile
    >>> from shapely import box
    >>> x, y = 39_600_000, 3_150_000
    >>> profile = dict(driver="GTiff", width=4, height=2, count=1, dtype="uint8",
    ...                crs="EPSG:4527", transform=Affine(100, 0, x, 0, -100, y))
    >>> redline = gpd.GeoDataFrame(geometry=[box(x + 150, y - 200, x + 400, y)] * 2, crs=4527)
    >>> with MemoryFile() as memory, memory.open(**profile) as raster:
    ...     raster.write(np.array([[[1, 1, 2, 2], [1, 1, 2, 2]]], dtype="uint8"))
    ...     table = land_cover(raster, {"STBHHX": redline}, classes={1: "耕地", 2: "林地"})
    >>> print(table.round(2).to_string())
                       耕地   林地  nodata  off_raster  total
    line   zone
    STBHHX all zones  1.0  4.0     0.0         0.0    5.0

    The two copies count once: 50 m × 200 m of cropland and 200 m × 200 m of forest (in ha,
    on the ellipsoid, so a little less than 1 and 4).
    """
    per_unit = square_metres_per(unit)
    if total_row == total_column:
        raise ValueError(
            f"total_row and total_column are both {total_row!r}; give them different labels "
            "so that table.loc[(line, total_row), total_column] is unambiguous"
        )
    with open_raster(landcover) as dataset:
        source = BandSource(dataset, band)
        grid = source.grid
        pieces: list[np.ndarray] = []
        line_of: list[np.ndarray] = []
        zone_of: list[np.ndarray] = []
        no_zone_geometry = np.array([], dtype=np.int64)
        if zones is not None:
            codes = codes_of(zones, by)
            zone_labels = pd.unique(codes)
            if total_row in {str(label) for label in zone_labels}:
                raise ValueError(
                    f"total_row {total_row!r} is also a zone's label; pass another total_row"
                )
            zone_geoms, _ = layer_in_grid(zones, grid, "land-cover composition", name="the zones")
            zone_code = pd.Index(zone_labels).get_indexer(codes)
            located = np.unique(zone_code[~_no_geometry(zone_geoms)])
            no_zone_geometry = np.setdiff1d(np.arange(len(zone_labels)), located)
            if len(no_zone_geometry):
                warnings.warn(
                    f"{len(no_zone_geometry)} zone(s) have a null or empty geometry "
                    f"({describe_features(pd.Index(zone_labels[no_zone_geometry]))}); their "
                    "rows are NaN",
                    GeometryTypeWarning,
                    stacklevel=2,
                )
        else:
            zone_labels = np.array([total_row], dtype=object)
        width = tolerance_in_crs_units(check_xy_tolerance(xy_tolerance), grid.crs)
        for line, (name, layer) in enumerate(lines.items()):
            geoms, labels = layer_in_grid(
                layer, grid, "land-cover composition", name=f"line {name!r}"
            )
            missing = _no_geometry(geoms)
            if missing.any():
                warnings.warn(
                    f"{int(missing.sum())} feature(s) of line {name!r} have a null or empty "
                    f"geometry ({describe_features(labels[missing])}); they are in no row",
                    GeometryTypeWarning,
                    stacklevel=2,
                )
            geoms = geoms[~missing]
            if zones is None:
                dissolved, zone, _ = ZonePieces.whole(geoms).dissolved(width=width)
            else:
                clipped = ZonePieces.clip(geoms, zone_geoms)
                whole = float(_ellipsoidal(geoms, grid.crs).sum())
                outside = whole - float(_ellipsoidal(clipped.geoms, grid.crs).sum())
                if outside > 1e-6 * max(whole, 1.0):
                    warnings.warn(
                        f"{outside / per_unit:.6g} {unit} of line {name!r} lie outside every "
                        "zone; they are in no row",
                        OutsideZonesWarning,
                        stacklevel=2,
                    )
                dissolved, zone, _ = clipped.dissolved(width=width)
                zone = zone_code[zone]
            pieces.append(dissolved)
            zone_of.append(zone)
            line_of.append(np.full(len(dissolved), line))
        all_pieces = np.concatenate(pieces) if pieces else np.array([], dtype=object)
        by_class, nodata = _category_areas(source, all_pieces, max_cells)

    table = _class_table(by_class, classes, len(all_pieces), per_unit)
    class_columns = list(table.columns)
    if total_column in {*class_columns, "nodata", "off_raster"}:
        raise ValueError(
            f"total_column {total_column!r} is also the label of a column of areas; pass "
            "another total_column"
        )
    table["nodata"] = nodata / per_unit
    off_share = 1.0 - np.nan_to_num(_on_raster_share(all_pieces, grid), nan=1.0)
    table["off_raster"] = off_share * _ellipsoidal(all_pieces, grid.crs) / per_unit
    names = list(lines)
    table["line"] = np.concatenate(line_of) if line_of else np.array([], dtype=int)
    table["zone"] = np.concatenate(zone_of) if zone_of else np.array([], dtype=int)
    summed = table.groupby(["line", "zone"]).sum()
    full = pd.MultiIndex.from_product([range(len(names)), range(len(zone_labels))])
    summed = summed.reindex(full, fill_value=0.0)
    frames: list[pd.DataFrame] = []
    for line, name in enumerate(names):
        part = pd.DataFrame(summed.xs(line, level=0))
        part.iloc[no_zone_geometry] = np.nan
        part.index = pd.Index([str(label) for label in zone_labels], name="zone")
        if zones is not None:
            part.loc[total_row] = part.sum(axis=0)
        part.index = pd.MultiIndex.from_product([[name], part.index], names=["line", "zone"])
        frames.append(part)
    result = pd.concat(frames) if frames else summed
    result[total_column] = result.sum(axis=1, min_count=1)
    result.attrs.update(
        unit=unit, classes=class_columns, total_row=total_row, total_column=total_column
    )
    off = float(table["off_raster"].sum())
    if off > 0:
        warnings.warn(
            f"{off:.6g} {unit} of the lines lie off the "
            "land-cover raster; that area is in the off_raster column",
            RasterExtentWarning,
            stacklevel=2,
        )
    return result


def _ellipsoidal(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    from geozones.measure.area import ellipsoidal_area

    if len(geoms) == 0:
        return np.zeros(0)
    return ellipsoidal_area(geoms, crs)


@dataclass(frozen=True)
class _Cells:
    """Covered pixels of a batch with their values, validity and covered ellipsoidal area."""

    feature: np.ndarray
    fraction: np.ndarray
    area: np.ndarray
    values: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.feature)

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """The features of the batch and where each one's cells start."""
        starts = np.flatnonzero(np.diff(self.feature, prepend=self.feature[0] - 1) != 0)
        return self.feature[starts], starts


def _cells_with_values(source: Source, geoms: np.ndarray, max_cells: int) -> Iterator[_Cells]:
    """Covered pixels with their values, batch by batch (empty batches skipped)."""
    cell_area = CellArea(source.grid)
    for batch in iter_cells(geoms, source.grid, max_cells=max_cells):
        if len(batch) == 0:
            continue
        values, valid = source.read(batch.window)
        r = batch.row - batch.window.row0
        c = batch.col - batch.window.col0
        yield _Cells(
            batch.feature,
            batch.fraction,
            cell_area(batch.row, batch.col) * batch.fraction,
            values[r, c],
            valid[r, c],
        )


def layer_in_grid(
    layer: gpd.GeoDataFrame | gpd.GeoSeries, grid: Grid, purpose: str, *, name: str = "the layer"
) -> tuple[np.ndarray, pd.Index]:
    """The layer's polygons in the grid's CRS (reprojected with a warning), and its labels."""
    if layer.crs is not None and pyproj.CRS.from_user_input(layer.crs).equals(
        grid.crs, ignore_axis_order=True
    ):
        aligned = layer
    else:
        aligned = to_crs(layer, grid.crs, name=name, target="the raster's")
    return polygon_array(aligned, purpose=purpose), aligned.index


def _on_raster_share(geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Share of each polygon's (planar) area inside the raster's extent; NaN without area."""
    t = grid.transform
    xmin, xmax = sorted((t.c, t.c + t.a * grid.width))
    ymin, ymax = sorted((t.f, t.f + t.e * grid.height))
    area = shapely.area(geoms)
    share = np.where(area > 0, 1.0, np.nan)
    bounds = shapely.bounds(geoms)
    crossing = np.flatnonzero(
        (area > 0)
        & (
            (bounds[:, 0] < xmin)
            | (bounds[:, 1] < ymin)
            | (bounds[:, 2] > xmax)
            | (bounds[:, 3] > ymax)
        )
    )
    if len(crossing):
        inside = shapely.intersection(geoms[crossing], shapely.box(xmin, ymin, xmax, ymax))
        share[crossing] = shapely.area(inside) / area[crossing]
    return share


def _no_geometry(geoms: np.ndarray) -> np.ndarray:
    """Whether each geometry is null or empty."""
    return np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms), dtype=bool)


def _missing_check(geoms: np.ndarray, labels: pd.Index) -> np.ndarray:
    """Which features have no geometry (null or empty); warn about them."""
    missing = _no_geometry(geoms)
    if missing.any():
        warnings.warn(
            f"{int(missing.sum())} feature(s) have a null or empty geometry "
            f"({describe_features(labels[missing])}); their statistics are NaN and "
            "no_geometry is True",
            GeometryTypeWarning,
            stacklevel=3,
        )
    return missing


def _extent_check(geoms: np.ndarray, labels: pd.Index, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Share of each polygon on the raster, and whether it is entirely off; warn about both."""
    on_raster = _on_raster_share(geoms, grid)
    off = on_raster == 0.0
    partly = (on_raster > 0.0) & (on_raster < 1.0)
    if off.any():
        warnings.warn(
            f"{int(off.sum())} polygon(s) lie entirely off the raster "
            f"({describe_features(labels[off])}); their statistics are NaN and off_raster is True",
            RasterExtentWarning,
            stacklevel=3,
        )
    if partly.any():
        warnings.warn(
            f"{int(partly.sum())} polygon(s) lie partly off the raster "
            f"({describe_features(labels[partly])}); only the part on it is measured, see "
            "the on_raster column",
            RasterExtentWarning,
            stacklevel=3,
        )
    return on_raster, off

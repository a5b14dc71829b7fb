"""Raster analyses, checked against arithmetic, closed forms and exactextract.

Rasters are written in code to tmp_path; the expected values come from the pixel arithmetic by
hand, from the closed-form ellipsoidal quadrangle area, from planes of known gradient, from an
independent tool (exactextract) or from a brute-force supersampling of the sample data.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine
from shapely import Polygon, box

import geozones
from geozones.errors import (
    CRSError,
    CRSReprojectionWarning,
    GeometryTypeWarning,
    GeozonesWarning,
)
from geozones.raster import (
    Grid,
    RasterExtentWarning,
    land_cover,
    pixel_areas,
    rasterize,
    rasterized_coverage,
    slope,
    slope_array,
    steep_farmland,
    zonal_categories,
    zonal_stats,
)
from geozones.raster import _sources as sources

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
ZONE39 = "EPSG:4527"
X, Y = 39_600_000.0, 3_150_000.0  # 100 km east of the central meridian of zone 39
A, F = 6378137.0, 1 / 298.257222101  # CGCS2000
E2 = F * (2 - F)


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    x0: float = X,
    y0: float = Y,
    res: float | tuple[float, float] = 10.0,
    crs: str = ZONE39,
    nodata: float | None = None,
    tiled: bool = False,
) -> Path:
    """A single-band GeoTIFF with its top-left corner at (x0, y0)."""
    rx, ry = (res, res) if isinstance(res, float | int) else res
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": Affine(rx, 0, x0, 0, -ry, y0),
        "nodata": nodata,
    }
    if tiled:
        profile.update(tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data, 1)
    return path


def layer(*geoms, crs: str = ZONE39) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs
    )


def ellipsoidal(geom, crs: str = ZONE39) -> float:
    """geozones' ellipsoidal area (Karney's to 1e-9; Geod itself is noisy below ~1e-4 m²)."""
    return float(geozones.area(gpd.GeoSeries([geom], crs=crs)).iloc[0])


# --------------------------------------------------------------------------------------------
# exact coverage, by hand


@pytest.fixture
def row_raster(tmp_path):
    """Three 10 m pixels in a row, values 1, 2, 3; a second row 4, 5, 6."""
    return write_raster(tmp_path / "row.tif", np.array([[1, 2, 3], [4, 5, 6]], dtype="float32"))


def test_polygon_covering_two_and_a_half_pixels(row_raster):
    stats = zonal_stats(row_raster, layer(box(X, Y - 10, X + 25, Y))).iloc[0]
    assert stats["count"] == pytest.approx(2.5, abs=1e-12)
    assert stats["sum"] == pytest.approx(1 + 2 + 0.5 * 3, abs=1e-12)
    assert stats["mean"] == pytest.approx(4.5 / 2.5, abs=1e-12)
    assert (stats["min"], stats["max"]) == (1.0, 3.0)
    assert stats["on_raster"] == pytest.approx(1.0)
    assert not stats["off_raster"]


def test_parcel_smaller_than_a_pixel_gets_that_pixels_value(row_raster):
    # 2 m × 3 m inside pixel (1, 1), value 5: 6 % of the pixel.
    parcel = box(X + 12, Y - 17, X + 14, Y - 14)
    stats = zonal_stats(row_raster, layer(parcel), unit="m2").iloc[0]
    assert stats["count"] == pytest.approx(0.06, abs=1e-12)
    assert stats[["mean", "min", "max", "area_weighted_mean"]].tolist() == pytest.approx([5.0] * 4)
    pixel = box(X + 10, Y - 20, X + 20, Y - 10)
    assert stats["area"] == pytest.approx(0.06 * ellipsoidal(pixel), rel=1e-12)
    # The scale is taken at the pixel's centre, 2 m from the parcel's: 1e-8 off its own area.
    assert stats["area"] == pytest.approx(ellipsoidal(parcel), rel=2e-8)


def test_parcel_on_a_pixel_corner_is_shared_equally(row_raster):
    # A 4 m square centred on the corner of pixels 1, 2, 4, 5: a quarter in each.
    parcel = box(X + 8, Y - 12, X + 12, Y - 8)
    stats = zonal_stats(row_raster, layer(parcel)).iloc[0]
    assert stats["count"] == pytest.approx(4 * 0.04, abs=1e-12)
    assert stats["mean"] == pytest.approx((1 + 2 + 4 + 5) / 4, abs=1e-12)


def test_triangle_and_hole_by_hand(row_raster):
    # A triangle cutting pixel 0 along its diagonal, and a 3-pixel rectangle with a hole of 0.25
    # pixel in pixel 1 (value 2), drawn clockwise and its hole clockwise too.
    triangle = Polygon([(X, Y), (X + 10, Y), (X, Y - 10)])
    ring = [(X, Y), (X, Y - 10), (X + 30, Y - 10), (X + 30, Y)]
    hole = [(X + 12, Y - 2), (X + 17, Y - 2), (X + 17, Y - 7), (X + 12, Y - 7)]
    holed = Polygon(ring, [hole])
    stats = zonal_stats(row_raster, layer(triangle, holed))
    assert stats["count"].tolist() == pytest.approx([0.5, 2.75], abs=1e-12)
    assert stats["sum"].tolist() == pytest.approx([0.5, 1 + 0.75 * 2 + 3], abs=1e-12)


def test_multipolygon_parts_add_up(row_raster):
    parts = shapely.MultiPolygon([box(X, Y - 10, X + 5, Y), box(X + 20, Y - 20, X + 30, Y - 15)])
    stats = zonal_stats(row_raster, layer(parts)).iloc[0]
    assert stats["count"] == pytest.approx(1.0, abs=1e-12)
    assert stats["sum"] == pytest.approx(0.5 * 1 + 0.5 * 6, abs=1e-12)


def random_polygons(rng: np.random.Generator, n: int, x0: float, y0: float, size: float):
    polygons = []
    for _ in range(n):
        centre = rng.uniform([x0 - 0.1 * size, y0 - 1.1 * size], [x0 + 1.1 * size, y0 + 0.1 * size])
        k = int(rng.integers(3, 25))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(0.005, 0.08, k) * size
        shell = centre + np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
        polygon = shapely.make_valid(Polygon(shell))
        if rng.random() < 0.3:
            polygon = polygon.difference(shapely.Point(centre).buffer(0.004 * size))
        polygons.append(polygon)
    geoms = geozones.io.validity.polygonal_parts(np.array(polygons, dtype=object))
    return geoms[~shapely.is_empty(geoms)]


@pytest.mark.parametrize("crs", [ZONE39, "EPSG:4490"])
def test_statistics_match_exactextract(tmp_path, crs):
    exactextract = pytest.importorskip("exactextract")
    rng = np.random.default_rng(7)
    geographic = crs == "EPSG:4490"
    res, x0, y0 = (0.001, 118.0, 29.0) if geographic else (10.0, X, Y)
    values = rng.normal(100, 20, (60, 80)).astype("float32")
    values[rng.random(values.shape) < 0.05] = -1
    path = write_raster(tmp_path / "r.tif", values, x0=x0, y0=y0, res=res, crs=crs, nodata=-1)
    geoms = random_polygons(rng, 300, x0, y0, 60 * res)
    polygons = gpd.GeoDataFrame(geometry=geoms, crs=crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RasterExtentWarning)
        ours = zonal_stats(path, polygons)
    theirs = exactextract.exact_extract(
        str(path), polygons, ["count", "sum", "mean", "min", "max"], output="pandas"
    )
    on = ~ours["off_raster"].to_numpy() & (ours["count"].to_numpy() > 0)
    assert on.sum() > 250
    # exactextract keeps coverage fractions in float32: agreement to ~1e-7 of a pixel.
    for column in ("count", "sum", "mean"):
        np.testing.assert_allclose(ours[column][on], theirs[column][on], rtol=2e-6, atol=2e-6)
    for column in ("min", "max"):
        np.testing.assert_array_equal(ours[column][on], theirs[column][on])


# --------------------------------------------------------------------------------------------
# area on the ellipsoid


def test_projected_pixel_areas_are_ellipsoidal(tmp_path):
    path = write_raster(tmp_path / "r.tif", np.zeros((3, 4), dtype="uint8"), res=30.0)
    areas = pixel_areas(path)
    for row, col in [(0, 0), (2, 3), (1, 2)]:
        pixel = box(X + 30 * col, Y - 30 * (row + 1), X + 30 * (col + 1), Y - 30 * row)
        assert areas[row, col] == pytest.approx(ellipsoidal(pixel), rel=1e-10)
    # Not the planar 900 m²: the plane is 2.5e-4 larger this far from the meridian.
    assert areas[0, 0] == pytest.approx(900 * 0.99975, rel=1e-5)


@pytest.mark.parametrize(
    ("projection", "equal_area"), [("aea", True), ("lcc", False)], ids=["albers", "lambert"]
)
def test_other_projections_use_their_own_area_scale(tmp_path, projection, equal_area):
    crs = f"+proj={projection} +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80 +units=m"
    x0, y0 = 1_200_000.0, 3_400_000.0
    data = np.zeros((2, 3), "uint8")
    path = write_raster(tmp_path / "p.tif", data, x0=x0, y0=y0, res=100.0, crs=crs)
    areas = pixel_areas(path)
    for row, col in [(0, 0), (1, 2)]:
        pixel = box(x0 + 100 * col, y0 - 100 * (row + 1), x0 + 100 * (col + 1), y0 - 100 * row)
        assert areas[row, col] == pytest.approx(ellipsoidal(pixel, crs), rel=1e-9)
    # Albers keeps areas; the conformal Lambert does not, by ~1e-2 this far from its parallels.
    assert (abs(areas[0, 0] / 10_000 - 1) < 1e-9) == equal_area


def test_coverage_adds_up_to_the_clipped_area_of_random_polygons():
    from geozones.raster._fractions import iter_cells

    rng = np.random.default_rng(5)
    grid = Grid.from_bounds((X, Y - 800, X + 1000, Y), 10, ZONE39)
    geoms = random_polygons(rng, 200, X, Y, 1000)
    total = np.zeros(len(geoms))
    for batch in iter_cells(geoms, grid, max_cells=500):
        np.add.at(total, batch.feature, batch.fraction)
        assert (batch.fraction > 0).all() and (batch.fraction <= 1).all()
    clipped = shapely.area(shapely.intersection(geoms, box(X, Y - 800, X + 1000, Y)))
    np.testing.assert_allclose(total * 100, clipped, atol=1e-8)


def test_class_areas_add_up_to_the_parcel_area(tmp_path):
    rng = np.random.default_rng(3)
    classes = rng.integers(1, 4, (40, 40)).astype("uint8")
    path = write_raster(tmp_path / "c.tif", classes, res=30.0)
    parcels = layer(
        box(X + 17, Y - 500, X + 431, Y - 103),
        Polygon([(X + 600, Y - 20), (X + 1100, Y - 300), (X + 700, Y - 1000)]),
    )
    table = zonal_categories(path, parcels, classes={1: "cropland", 2: "forest", 3: "water"})
    assert list(table.columns) == [
        "cropland",
        "forest",
        "water",
        "nodata",
        "on_raster",
        "off_raster",
        "no_geometry",
    ]
    total = table[["cropland", "forest", "water"]].sum(axis=1)
    # Pixel coverage measures straight plane edges; geozones.area geodesic ones (3e-7 apart).
    expected = [ellipsoidal(g) for g in parcels.geometry]
    np.testing.assert_allclose(total, expected, rtol=5e-7)
    # Each class by hand: fraction of each pixel times its ellipsoidal area.
    frac = np.zeros((40, 40))
    for r in range(40):
        for c in range(40):
            pixel = box(X + 30 * c, Y - 30 * (r + 1), X + 30 * (c + 1), Y - 30 * r)
            frac[r, c] = pixel.intersection(parcels.geometry.iloc[0]).area / 900
    areas = pixel_areas(path)
    for value, name in [(1, "cropland"), (2, "forest"), (3, "water")]:
        by_hand = float((frac * areas * (classes == value)).sum())
        assert table[name].iloc[0] == pytest.approx(by_hand, rel=1e-12)


def q(phi: float) -> float:
    """The authalic function: quadrangle area = b² Δλ / 2 · [q(φ2) − q(φ1)]."""
    e = math.sqrt(E2)
    s = math.sin(phi)
    return s / (1 - E2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)


def quadrangle(lat1: float, lat2: float, dlon: float) -> float:
    b2 = A * A * (1 - E2)
    return b2 * math.radians(dlon) / 2 * abs(q(math.radians(lat2)) - q(math.radians(lat1)))


def test_geographic_pixel_areas_follow_latitude_exactly(tmp_path):
    # 0.25° pixels from 70°N down to 60°N: each row a quadrangle between two parallels.
    rows = 40
    path = write_raster(
        tmp_path / "g.tif",
        np.ones((rows, 8), dtype="uint8"),
        x0=20.0,
        y0=70.0,
        res=0.25,
        crs="EPSG:4490",
    )
    areas = pixel_areas(path)[:, 0]
    expected = [quadrangle(70 - 0.25 * r, 70 - 0.25 * (r + 1), 0.25) for r in range(rows)]
    np.testing.assert_allclose(areas, expected, rtol=1e-12)
    assert areas[-1] / areas[0] > 1.4  # the rows really differ

    # A polygon covering 3 rows fully and half of a 4th, 2.5 columns wide.
    parcel = box(20.0, 70.0 - 0.875, 20.625, 70.0)
    table = zonal_categories(path, layer(parcel, crs="EPSG:4490"))
    whole = sum(quadrangle(70 - 0.25 * r, 70 - 0.25 * (r + 1), 0.625) for r in range(3))
    half_row = 0.5 * quadrangle(70 - 0.75, 70 - 1.0, 0.625)
    assert table[1].iloc[0] == pytest.approx(whole + half_row, rel=1e-12)
    # The half pixel counts half the pixel's area (the fraction is taken in degrees, the
    # raster's own coordinates), not the quadrangle up to 69.125°: 1e-3 apart at 0.25°.
    assert table[1].iloc[0] != pytest.approx(quadrangle(70, 70 - 0.875, 0.625), rel=1e-4)

    stats = zonal_stats(path, layer(box(20.0, 60.0, 22.0, 70.0), crs="EPSG:4490"), unit="km2")
    assert stats["area"].iloc[0] == pytest.approx(quadrangle(60, 70, 2.0) / 1e6, rel=1e-12)


def test_area_weighted_mean_differs_from_mean_where_pixels_differ(tmp_path):
    # Two rows: 80°N–70°N and 70°N–60°N, values 10 and 20.
    data = np.array([[10], [20]], dtype="float32")
    path = write_raster(tmp_path / "g.tif", data, x0=0.0, y0=80.0, res=10.0, crs="EPSG:4490")
    stats = zonal_stats(path, layer(box(0, 60, 10, 80), crs="EPSG:4490")).iloc[0]
    assert stats["mean"] == pytest.approx(15.0)
    north, south = quadrangle(80, 70, 10), quadrangle(70, 60, 10)
    assert stats["area_weighted_mean"] == pytest.approx(
        (10 * north + 20 * south) / (north + south), rel=1e-12
    )


# --------------------------------------------------------------------------------------------
# nodata, extent, CRS


def test_nodata_is_excluded_and_reported(tmp_path):
    data = np.array([[1, -9999, 3], [4, 5, np.nan]], dtype="float32")
    path = write_raster(tmp_path / "n.tif", data, nodata=-9999)
    stats = zonal_stats(path, layer(box(X, Y - 20, X + 30, Y)), unit="m2").iloc[0]
    assert stats["count"] == pytest.approx(4.0)
    assert stats["sum"] == pytest.approx(13.0)
    assert (stats["min"], stats["max"]) == (1.0, 5.0)
    pixel = ellipsoidal(box(X, Y - 10, X + 10, Y))
    assert stats["nodata_area"] == pytest.approx(2 * pixel, rel=1e-6)
    assert stats["area"] == pytest.approx(4 * pixel, rel=1e-6)
    # All nodata: no mean, but not off the raster.
    nothing = zonal_stats(path, layer(box(X + 11, Y - 9, X + 19, Y - 1))).iloc[0]
    assert nothing["count"] == 0.0 and math.isnan(nothing["mean"]) and not nothing["off_raster"]


def test_polygon_off_the_raster_is_reported_not_zero(row_raster):
    parcels = layer(
        box(X + 1000, Y, X + 1010, Y + 10),  # entirely off
        box(X - 10, Y - 10, X + 10, Y),  # half off, to the left
        box(X + 5, Y - 5, X + 15, Y + 15),  # three quarters off, above
        box(X, Y - 10, X + 10, Y),  # on
    )
    with pytest.warns(RasterExtentWarning) as caught:
        stats = zonal_stats(row_raster, parcels)
    messages = " ".join(str(w.message) for w in caught)
    assert "1 polygon(s) lie entirely off" in messages and "2 polygon(s) lie partly off" in messages
    assert stats["off_raster"].tolist() == [True, False, False, False]
    assert stats["on_raster"].tolist() == pytest.approx([0.0, 0.5, 0.25, 1.0])
    assert math.isnan(stats["count"].iloc[0]) and math.isnan(stats["mean"].iloc[0])
    assert stats["count"].iloc[1:].tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert stats["mean"].iloc[1:].tolist() == pytest.approx([1.0, 1.5, 1.0])
    with pytest.warns(RasterExtentWarning):
        table = zonal_categories(row_raster, parcels)
    assert table["off_raster"].tolist() == [True, False, False, False]


def test_vectors_are_reprojected_to_the_raster_never_the_reverse(tmp_path):
    data = np.arange(100 * 100, dtype="float32").reshape(100, 100)
    path = write_raster(tmp_path / "r.tif", data, res=10.0)
    parcels = layer(box(X + 103, Y - 507, X + 388, Y - 211), box(X + 5, Y - 995, X + 45, Y - 950))
    expected = zonal_stats(path, parcels)
    with pytest.warns(CRSReprojectionWarning, match="raster"):
        moved = zonal_stats(path, parcels.to_crs("EPSG:4490"))
    np.testing.assert_allclose(moved["mean"], expected["mean"], rtol=1e-7)
    np.testing.assert_allclose(moved["area"], expected["area"], rtol=1e-6)


def test_null_and_empty_geometries_are_kept_flagged_and_nan(row_raster):
    parcels = layer(box(X, Y - 10, X + 10, Y), None, Polygon())
    with pytest.warns(GeometryTypeWarning, match=r"2 feature\(s\) .*null or empty.* \(1, 2\)"):
        stats = zonal_stats(row_raster, parcels)
    assert stats.index.tolist() == [0, 1, 2]
    assert stats["no_geometry"].tolist() == [False, True, True]
    assert stats["count"].iloc[0] == 1.0
    assert stats.iloc[1:][["count", "sum", "mean", "area", "nodata_area"]].isna().all().all()
    assert stats["count"].sum() == 1.0  # the features without geometry add nothing, not 0
    assert not stats["off_raster"].any()


@pytest.fixture
def square_raster(tmp_path):
    # 4 × 4 pixels of 10 m, values 0, 10, ..., 150 row by row from the top left; the slope of
    # a plane rising 1 m per metre eastward (values 0..30 across 3 columns of 10 m: 45°).
    values = (10 * np.arange(16, dtype="float32")).reshape(4, 4)
    return write_raster(tmp_path / "sq.tif", values)


def parcels_with_a_null(crs: str = ZONE39) -> gpd.GeoSeries:
    """On the raster (pixels 0, 1, 4, 5), without geometry, and entirely off the raster."""
    return gpd.GeoSeries(
        [box(X, Y - 20, X + 20, Y), None, box(X + 1000, Y, X + 1010, Y + 10)], crs=crs
    )


def test_zonal_stats_of_a_feature_without_geometry_is_nan_not_zero(square_raster):
    with pytest.warns(GeozonesWarning) as caught:
        stats = zonal_stats(square_raster, parcels_with_a_null(), unit="m2")
    kinds = {type(w.message): str(w.message) for w in caught}
    assert "1 feature(s) have a null or empty geometry (1)" in kinds[GeometryTypeWarning]
    assert "1 polygon(s) lie entirely off the raster (2)" in kinds[RasterExtentWarning]
    assert list(stats.columns[-3:]) == ["on_raster", "off_raster", "no_geometry"]
    assert stats["no_geometry"].tolist() == [False, True, False]
    assert stats["off_raster"].tolist() == [False, False, True]
    # Pixels 0, 1, 4, 5: values 0, 10, 40, 50, each whole.
    assert stats["count"].iloc[0] == pytest.approx(4.0, rel=1e-12)
    assert stats["sum"].iloc[0] == pytest.approx(100.0, rel=1e-12)
    assert stats["mean"].iloc[0] == pytest.approx(25.0, rel=1e-12)
    assert (stats["min"].iloc[0], stats["max"].iloc[0]) == (0.0, 50.0)
    assert stats["area"].iloc[0] == pytest.approx(ellipsoidal(box(X, Y - 20, X + 20, Y)), 1e-6)
    # The parcel without geometry is NaN like the one off the raster, so sums skip both.
    for label in (1, 2):
        assert stats.loc[label, ["count", "sum", "mean", "min", "max", "area"]].isna().all()
    assert stats["sum"].sum() == pytest.approx(100.0) and stats["count"].sum() == 4.0
    assert math.isnan(stats.loc[1, "on_raster"]) and stats.loc[2, "on_raster"] == 0.0
    with pytest.warns(RasterExtentWarning), pytest.warns(GeometryTypeWarning, match=r"\(1\)"):
        table = zonal_categories(square_raster, parcels_with_a_null(), unit="m2")
    assert table["no_geometry"].tolist() == [False, True, False]
    assert table.loc[1, [*table.attrs["classes"], "nodata"]].isna().all()
    assert table.loc[0, [0.0, 10.0, 40.0, 50.0]].sum() == pytest.approx(stats["area"].iloc[0])


def test_steep_farmland_neither_lists_nor_counts_a_parcel_without_geometry(square_raster):
    # Each row rises 10 per 10 m eastward (45°); rows differ by 40 per 10 m: Horn's slope is
    # atan(hypot(1, 4)) = 76.37° everywhere, so the parcel on the raster is all steep.
    with pytest.warns(GeozonesWarning) as caught:
        result = steep_farmland(square_raster, parcels_with_a_null(), unit="m2")
    assert any(
        isinstance(w.message, GeometryTypeWarning) and "(1)" in str(w.message) for w in caught
    )
    assert result["no_geometry"].tolist() == [False, True, False]
    assert result["listed"].tolist() == [True, False, False]
    assert result.attrs["listed"] == [0]
    area = ellipsoidal(box(X, Y - 20, X + 20, Y))
    assert result["area"].iloc[0] == pytest.approx(area, rel=1e-6)
    assert result["steep_area"].iloc[0] == pytest.approx(area, rel=1e-6)
    assert result["mean_slope"].iloc[0] == pytest.approx(math.degrees(math.atan(math.hypot(1, 4))))
    assert result.loc[1, ["area", "steep_area", "steep_percent", "nodata_area"]].isna().all()
    # Totals are those of the parcel with geometry alone.
    assert result["area"].sum() == pytest.approx(area, rel=1e-6)
    assert result["steep_area"].sum() == pytest.approx(area, rel=1e-6)


def test_rotated_rasters_and_missing_bands_are_refused(tmp_path, row_raster):
    with pytest.raises(CRSError, match="rotated"):
        Grid(Affine(10, 1, X, 0, -10, Y), 3, 2, pyproj.CRS(ZONE39))
    with pytest.raises(ValueError, match="band 2"):
        zonal_stats(row_raster, layer(box(X, Y - 10, X + 10, Y)), band=2)


# --------------------------------------------------------------------------------------------
# larger than memory: bounded windows and batches


def test_windows_stay_bounded_and_results_do_not_depend_on_batching(tmp_path, monkeypatch):
    rng = np.random.default_rng(11)
    data = rng.normal(0, 1, (300, 400)).astype("float32")
    path = write_raster(tmp_path / "big.tif", data, res=10.0, tiled=True)
    geoms = random_polygons(rng, 400, X, Y, 3000)
    # and one polygon covering most of the raster, with a hole
    geoms = np.append(
        geoms,
        box(X + 100, Y - 2900, X + 3900, Y - 100).difference(
            box(X + 1000, Y - 2000, X + 2000, Y - 1000)
        ),
    )
    polygons = gpd.GeoDataFrame(geometry=geoms, crs=ZONE39)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RasterExtentWarning)
        reference = zonal_stats(path, polygons)

        read_shapes = []
        original = sources.BandSource.read

        def recording(self, window):
            read_shapes.append(window.shape)
            return original(self, window)

        monkeypatch.setattr(sources.BandSource, "read", recording)
        monkeypatch.setattr("geozones.raster._fractions.TILE", 64)
        small = zonal_stats(path, polygons, max_cells=2000)
    pd.testing.assert_frame_equal(small, reference, rtol=1e-10, atol=1e-9)
    largest = max(rows * cols for rows, cols in read_shapes)
    assert largest <= max(2000 + 400, (2 * 64) ** 2)  # a band of the big polygon, or ~2 tiles
    assert len(read_shapes) > 20


# --------------------------------------------------------------------------------------------
# slope


def plane_dem(tmp_path, dz_dx: float, dz_dy: float, res: float = 30.0) -> Path:
    rows, cols = 12, 15
    x = res * (np.arange(cols) + 0.5)
    y = -res * (np.arange(rows) + 0.5)
    z = 500 + dz_dx * x[None, :] + dz_dy * y[:, None]
    return write_raster(tmp_path / "plane.tif", z.astype("float64"), res=res)


@pytest.mark.parametrize(("dz_dx", "dz_dy"), [(0.0, 0.0), (0.5, 0.0), (0.0, -0.3), (0.4, 0.7)])
def test_slope_of_projected_planes(tmp_path, dz_dx, dz_dy):
    degrees = slope(plane_dem(tmp_path, dz_dx, dz_dy))
    assert not degrees.mask.any()  # edges included, by linear extrapolation
    expected = math.degrees(math.atan(math.hypot(dz_dx, dz_dy)))
    np.testing.assert_allclose(degrees, expected, atol=1e-9)


def test_slope_in_feet_and_nodata(tmp_path):
    z = np.tile(np.arange(10, dtype="float32") * 30, (8, 1))  # 30 ft per 30 m pixel
    z[4, 4] = -1
    path = write_raster(tmp_path / "ft.tif", z, res=30.0, nodata=-1)
    degrees = slope(path, z_factor=0.3048)
    assert degrees.mask.sum() == 9  # the void and its eight neighbours
    assert degrees.mask[3:6, 3:6].all()
    np.testing.assert_allclose(degrees.compressed(), math.degrees(math.atan(0.3048)), atol=1e-5)


def meridian_distance(lat1: float, lat2: float) -> float:
    geod = pyproj.Geod(a=A, rf=1 / F)
    return geod.inv(10.0, lat1, 10.0, lat2)[2]


def test_slope_of_a_northward_plane_in_a_geographic_crs(tmp_path):
    # z rises by tan 20° per metre of ground northward, at 60°N, on 3" pixels.
    res = 1 / 1200
    rows, cols = 10, 6
    lat = 60.0 - res * (np.arange(rows) + 0.5)
    north = np.array([meridian_distance(59.0, phi) for phi in lat])
    z = np.repeat((math.tan(math.radians(20)) * north)[:, None], cols, axis=1)
    path = write_raster(tmp_path / "n.tif", z, x0=10.0, y0=60.0, res=res, crs="EPSG:4490")
    np.testing.assert_allclose(slope(path), 20.0, atol=1e-7)


def test_slope_of_an_eastward_plane_in_a_geographic_crs(tmp_path):
    # z rises by tan 30° per metre of ground eastward along each row's parallel, at 65°N.
    res = 1 / 1200
    rows, cols = 9, 9
    lat = 65.0 - res * (np.arange(rows) + 0.5)
    lon = 10.0 + res * (np.arange(cols) + 0.5)
    centre = lon[4]
    geod = pyproj.Geod(a=A, rf=1 / F)
    east = np.array(
        [[math.copysign(geod.inv(centre, p, lo, p)[2], lo - centre) for lo in lon] for p in lat]
    )
    z = math.tan(math.radians(30)) * east
    path = write_raster(tmp_path / "e.tif", z, x0=10.0, y0=65.0, res=res, crs="EPSG:4490")
    degrees = slope(path)
    # On the central column the surface is exactly that plane (elsewhere z also varies
    # northward, as the parallels shorten).
    np.testing.assert_allclose(degrees[:, 4], 30.0, atol=1e-6)
    # Without cos φ (pixels as wide as they are tall) the slope would be far off:
    naive = math.degrees(math.atan(math.tan(math.radians(30)) * math.cos(math.radians(65))))
    assert abs(naive - 30.0) > 10


def test_slope_array_on_a_grid_matches_the_file_version(tmp_path):
    path = plane_dem(tmp_path, 0.2, 0.1)
    with rasterio.open(path) as dataset:
        z = dataset.read(1)
        grid = Grid.of(dataset)
    np.testing.assert_allclose(slope_array(z, grid), slope(path), atol=1e-12)
    window = slope(path, window=(2, 5, 3, 9))
    np.testing.assert_allclose(window, slope(path)[2:5, 3:9], atol=1e-12)


def test_steep_farmland_by_hand(tmp_path):
    # West half flat, east half 45°; a parcel over both, one on the flat, one off the DEM.
    z = np.zeros((20, 20))
    z[:, 10:] = 10.0 * np.arange(1, 11)  # 1 m per metre east of column 10
    path = write_raster(tmp_path / "dem.tif", z, res=10.0)
    parcels = layer(
        box(X + 20, Y - 150, X + 180, Y - 50),  # columns 2-17: 12 of 16 columns at 45° or more
        box(X + 10, Y - 50, X + 60, Y - 10),
        box(X + 5000, Y, X + 5100, Y + 100),
    )
    with pytest.warns(RasterExtentWarning, match="entirely off"):
        result = steep_farmland(path, parcels, unit="m2")
    # Column 9 (centred at x=95) sees the kink: its slope is 45/2 = 26.6°? No: Horn's kernel
    # gives dz/dx = (z[10] - z[8]) / 20 = 10/20 = 0.5 there, 26.57°, above 25°.
    steep_columns = 18 - 9  # columns 9..17 of the parcel's 2..17
    assert result["steep_percent"].iloc[0] == pytest.approx(100 * steep_columns / 16, rel=1e-6)
    assert result["steep_percent"].iloc[1] == 0.0
    assert result["listed"].tolist() == [True, False, False]
    assert result.attrs["listed"] == [0]
    assert result["off_raster"].tolist() == [False, False, True]
    assert result["max_slope"].iloc[0] == pytest.approx(45.0)


# --------------------------------------------------------------------------------------------
# rasterising


def test_land_cover_by_hand_with_overlaps_and_parts_off_the_zones_and_raster(tmp_path):
    # Classes 1 | 2 in two halves of a 100 m × 50 m raster of 10 m pixels; two counties.
    classes = np.repeat(np.array([[1] * 5 + [2] * 5], dtype="uint8"), 5, axis=0)
    path = write_raster(tmp_path / "lc.tif", classes, y0=Y + 50)
    counties = gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121"]},
        geometry=[box(X, Y, X + 50, Y + 50), box(X + 50, Y, X + 100, Y + 50)],
        crs=ZONE39,
    )
    line = layer(
        box(X + 20, Y + 10, X + 70, Y + 30),  # 30 m in class 1 / county 1, 20 m in 2 / 2
        box(X + 20, Y + 10, X + 40, Y + 30),  # inside the first: counts once
        box(X + 90, Y + 40, X + 110, Y + 50),  # half outside the zones and the raster
    )
    with pytest.warns(UserWarning, match="outside every zone"):
        table = land_cover(path, {"line": line}, counties, by="XZQDM", unit="m2")
    a = pixel_areas(path)  # rows 2-3 are y 10-30; columns 2-4 x 20-50, 5-6 x 50-70
    rows = table.loc["line"]
    assert rows.loc["990102", 1] == pytest.approx(a[2:4, 2:5].sum(), rel=1e-12)
    assert rows.loc["990121", 2] == pytest.approx(a[2:4, 5:7].sum() + a[0, 9], rel=1e-12)
    assert rows.loc["all zones", "total"] == pytest.approx(a[2:4, 2:7].sum() + a[0, 9], rel=1e-12)
    assert rows["off_raster"].sum() == 0.0  # the part off the raster is off the zones too
    # Without zones, that part is in the off_raster column.
    with pytest.warns(RasterExtentWarning, match="off the land-cover raster"):
        whole = land_cover(path, {"line": line}, unit="m2")
    assert whole.index.tolist() == [("line", "all zones")]
    # (the share off the raster times the piece's area: the scale varies by 3e-8 across it)
    off = ellipsoidal(box(X + 100, Y + 40, X + 110, Y + 50))
    assert whole["off_raster"].iloc[0] == pytest.approx(off, rel=1e-7)
    assert whole["total"].iloc[0] == pytest.approx(a[2:4, 2:7].sum() + a[0, 9] + off, rel=1e-8)


def test_land_cover_total_row_and_column_have_distinct_labels(tmp_path):
    # Classes 1 | 2 in the west and east halves of 4 × 2 pixels of 10 m; two counties, each
    # one class. The line covers pixels 1-2 of both rows (one of each class per county), plus
    # a feature without geometry; a third county has no geometry.
    classes = np.array([[1, 1, 2, 2], [1, 1, 2, 2]], dtype="uint8")
    path = write_raster(tmp_path / "lc.tif", classes, y0=Y + 20)
    counties = gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121", "990122"]},
        geometry=[box(X, Y, X + 20, Y + 20), box(X + 20, Y, X + 40, Y + 20), None],
        crs=ZONE39,
    )
    line = layer(box(X + 10, Y, X + 30, Y + 20), None)
    with pytest.warns(GeometryTypeWarning) as caught:
        table = land_cover(path, {"L": line}, counties, by="XZQDM", unit="m2")
    messages = [str(w.message) for w in caught]
    assert any("1 feature(s) of line 'L'" in m and "(1)" in m for m in messages)
    assert any("1 zone(s)" in m and "990122" in m for m in messages)
    a = pixel_areas(path)
    assert table.index.tolist() == [
        ("L", "990102"),
        ("L", "990121"),
        ("L", "990122"),
        ("L", "all zones"),
    ]
    assert list(table.columns) == [1, 2, "nodata", "off_raster", "total"]
    assert table.attrs["total_row"] == "all zones" and table.attrs["total_column"] == "total"
    # The line's whole area, without ambiguity: the total row in the total column.
    whole = a[:, 1].sum() + a[:, 2].sum()
    assert table.loc[("L", "all zones"), "total"] == pytest.approx(whole, rel=1e-12)
    assert table.loc[("L", "990102"), 1] == pytest.approx(a[:, 1].sum(), rel=1e-12)
    assert table.loc[("L", "990121"), 2] == pytest.approx(a[:, 2].sum(), rel=1e-12)
    assert table.loc[("L", "990121"), "total"] == pytest.approx(a[:, 2].sum(), rel=1e-12)
    # The county without geometry: NaN, not 0, and left out of the total row.
    assert table.loc[("L", "990122")].isna().all()
    assert table.loc[("L", "all zones"), 1] == pytest.approx(a[:, 1].sum(), rel=1e-12)
    # Labels of one's own, and refusals where they would be ambiguous.
    with pytest.warns(GeometryTypeWarning):
        named = land_cover(
            path, {"L": line}, counties, by="XZQDM", total_row="全省", total_column="合计"
        )
    assert named.loc[("L", "全省"), "合计"] == pytest.approx(whole / 1e4, rel=1e-12)
    for kwargs, match in [
        ({"total_row": "total"}, "both 'total'"),
        ({"total_row": "990102"}, "zone's label"),
        ({"total_column": "nodata"}, "column of areas"),
    ]:
        with pytest.raises(ValueError, match=match), warnings.catch_warnings():
            warnings.simplefilter("ignore", GeometryTypeWarning)
            land_cover(path, {"L": line}, counties, by="XZQDM", **kwargs)
    # Without zones, each line has only its total row.
    with pytest.warns(GeometryTypeWarning):
        alone = land_cover(path, {"L": line}, unit="m2")
    assert alone.index.tolist() == [("L", "all zones")]
    assert alone.loc[("L", "all zones"), "total"] == pytest.approx(whole, rel=1e-12)


def test_rasterize_uses_pixel_centres(tmp_path):
    grid = Grid.from_bounds((X, Y, X + 100, Y + 10), 10, ZONE39)
    burnt = rasterize(layer(box(X, Y, X + 44, Y + 10), box(X + 46, Y, X + 60, Y + 10)), grid)
    assert burnt.tolist() == [[1, 1, 1, 1, 0, 1, 0, 0, 0, 0]]
    values = gpd.GeoDataFrame(
        {"code": [7, 9]},
        geometry=[box(X, Y, X + 20, Y + 10), box(X + 50, Y, X + 70, Y + 10)],
        crs=ZONE39,
    )
    assert rasterize(values, grid, value="code").tolist() == [[7, 7, 0, 0, 0, 9, 9, 0, 0, 0]]


def test_rasterized_coverage_approaches_the_vector_result():
    counties = gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121"]},
        geometry=[box(X, Y, X + 5000, Y + 5000), box(X + 5000, Y, X + 10_000, Y + 5000)],
        crs=ZONE39,
    )
    redline = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(X + 4000, Y + 2500).buffer(1500),
            box(X + 6000, Y + 1000, X + 6003, Y + 4000),
        ],
        crs=ZONE39,
    )
    exact = geozones.coverage(redline, counties, by="XZQDM")
    errors = []
    for res in (100.0, 25.0):
        grid = Grid.from_bounds((X, Y, X + 10_000, Y + 5000), res, ZONE39)
        coarse = rasterized_coverage(redline, counties, grid, by="XZQDM")
        # Whole pixels tile the counties: only the edge convention differs (plane-straight edges
        # here, geodesics in geozones.area; 5e-8 for 5 km edges 100 km off the meridian).
        np.testing.assert_allclose(coarse["zone_area"], exact["zone_area"], rtol=1e-7)
        errors.append(np.abs(coarse["covered_area"] - exact["covered_area"]).max())
    # A 3 m strip is invisible at 25 m or more (all or nothing by pixel centre).
    assert errors[1] < errors[0] or errors[1] < 0.02


# --------------------------------------------------------------------------------------------
# the sample province


def read_sample(path, layer_name=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        return geozones.read_layer(path, layer_name)


@pytest.fixture(scope="module")
def farmland():
    return read_sample(SAMPLE / "YJJBNT.shp").set_index("BSM")


def horn_by_numpy(z: np.ndarray, res: float) -> np.ndarray:
    p = np.pad(z, 1, mode="reflect", reflect_type="odd")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]) - (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:])
    return np.degrees(np.arctan(np.hypot(gx, gy) / (8 * res)))


def test_sample_rasters_are_small_and_on_the_sample_grid():
    for name in ("dem.tif", "landcover.tif"):
        path = SAMPLE / name
        assert path.stat().st_size < 3e6
        with rasterio.open(path) as dataset:
            assert dataset.crs.to_epsg() == 4527
            assert dataset.res == (30.0, 30.0)
            assert dataset.bounds.left == 39_561_000 and dataset.bounds.top == 3_189_000
            assert dataset.profile["compress"] == "deflate" and dataset.profile["tiled"]


def test_steep_farmland_on_the_sample_matches_supersampling(farmland):
    with pytest.warns(GeometryTypeWarning, match=r"1 feature\(s\) .* \(NT001277\)"):
        result = steep_farmland(SAMPLE / "dem.tif", farmland)  # NT001277 has no geometry
    assert result.index[result["no_geometry"]].tolist() == ["NT001277"]
    assert result.loc["NT001277", ["area", "steep_area"]].isna().all()
    with rasterio.open(SAMPLE / "dem.tif") as dataset:
        z = dataset.read(1).astype(float)
        transform = dataset.transform
    steep_pixels = horn_by_numpy(z, 30.0) > 25.0
    candidates = result.index[result["steep_area"] > 0]
    assert 20 <= len(candidates) <= 200
    assert 10 <= result["listed"].sum() < len(candidates)
    located = ~result["no_geometry"]
    assert result.loc[located & ~result.index.isin(candidates), "steep_area"].eq(0).all()
    # Brute force: 10 × 10 points per 30 m pixel in each parcel's box, pixel of each point by
    # division, inside test by shapely; the steep share is the share of points on steep pixels.
    rng = np.random.default_rng(0)
    for bsm in rng.choice(candidates, 25, replace=False):
        geom = farmland.geometry[bsm]
        xmin, ymin, xmax, ymax = geom.bounds
        xs = np.arange(np.floor(xmin / 3) * 3 + 1.5, xmax, 3.0)
        ys = np.arange(np.floor(ymin / 3) * 3 + 1.5, ymax, 3.0)
        px, py = (a.ravel() for a in np.meshgrid(xs, ys))
        inside = shapely.contains_xy(geom, px, py)
        col = ((px[inside] - transform.c) // 30).astype(int)
        row = ((transform.f - py[inside]) // 30).astype(int)
        share = 100 * steep_pixels[row, col].mean()
        assert result.loc[bsm, "steep_percent"] == pytest.approx(share, abs=4.0), bsm


def test_land_cover_inside_the_lines_per_county(farmland):
    redline = read_sample(SAMPLE / "sanqusanxian.gpkg", "STBHHX")
    urban = read_sample(SAMPLE / "sanqusanxian.gpkg", "CZKFBJ")
    counties = read_sample(SAMPLE / "sanqusanxian.gpkg", "XZQ")
    classes = {1: "cropland", 2: "forest", 3: "water", 4: "built-up"}
    lines = {"STBHHX": redline, "YJJBNT": farmland, "CZKFBJ": urban}
    with pytest.warns(GeometryTypeWarning, match="line 'YJJBNT'.*NT001277"):
        table = land_cover(SAMPLE / "landcover.tif", lines, counties, by="XZQDM", classes=classes)
    assert list(table.columns) == [*classes.values(), "nodata", "off_raster", "total"]
    assert table.index.get_level_values("zone").tolist()[:7] == [
        *counties["XZQDM"].tolist(),
        "all zones",
    ]
    # Totals are the sum of the county rows; each line's total area is its dissolved area.
    for name, line in lines.items():
        rows = table.loc[name].drop(index="all zones")
        np.testing.assert_allclose(table.loc[(name, "all zones")], rows.sum(), rtol=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vector = geozones.coverage(line, counties, by="XZQDM", unit="ha")
        np.testing.assert_allclose(rows["total"], vector["covered_area"], rtol=1e-6, atol=1e-6)
    # The raster covers the province's box; nodata (outside the province, by pixel centre)
    # touches only the red line along the province's edge.
    assert (table["off_raster"] == 0).all()
    assert (table["nodata"] < 1e-3 * table["total"]).all()
    # Consistent with the lines: towns are built up, farmland cropland, the red line forest,
    # with villages built inside the red line and on farmland.
    share = table.div(table["total"], axis=0)
    assert share.loc[("CZKFBJ", "all zones"), "built-up"] > 0.8
    assert share.loc[("YJJBNT", "all zones"), "cropland"] > 0.97  # edge pixels: neighbours'
    assert share.loc[("STBHHX", "all zones"), "forest"] > 0.9
    assert table.loc[("STBHHX", "all zones"), "built-up"] > 5  # ha
    assert 1 < table.loc[("YJJBNT", "all zones"), "built-up"] < 10


def test_rasterized_coverage_of_the_sample_is_close_to_the_vector_result():
    redline = read_sample(SAMPLE / "sanqusanxian.gpkg", "STBHHX")
    counties = read_sample(SAMPLE / "sanqusanxian.gpkg", "XZQ")
    exact = geozones.coverage(redline, counties, by="XZQDM")
    coarse = rasterized_coverage(redline, counties, SAMPLE / "landcover.tif", by="XZQDM")
    assert coarse.attrs["method"] == "rasterized"
    # At 30 m the red line (big polygons) is within 0.1 % per county (measured in docs/raster.md).
    np.testing.assert_allclose(coarse["covered_area"], exact["covered_area"], rtol=1e-3)
    np.testing.assert_allclose(coarse["zone_area"], exact["zone_area"], rtol=1e-3)

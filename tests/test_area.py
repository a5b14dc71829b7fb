"""Area against values computed independently: arithmetic, closed forms, Karney's geodesics."""

from __future__ import annotations

import importlib
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Point, Polygon, box

import geozones
from geozones.errors import (
    CRSError,
    GeometryRepairWarning,
    MissingCRSError,
    NonPolygonalGeometryError,
)

ZONE39 = "EPSG:4527"  # CGCS2000 3-degree Gauss-Kruger zone 39, CM 117°E, easting prefix 39
CM39 = 39_500_000.0
CGCS2000_A = 6378137.0
CGCS2000_RF = 298.257222101


#: The oracle's step: every edge is cut into pieces this long in its own plane, so that the
#: geodesics between the pieces' ends follow the straight edge to ~(0.5 m)³/R² per piece.
ORACLE_STEP_M = 0.5
#: The step for polygons of 100 km and more with short wiggly edges: on those of
#: test_large_polygons_with_holes_match_karney it gives the 0.5 m oracle's area to 5e-12
#: (measured in zones 39 and 19), at a tenth of the cost.
LARGE_ORACLE_STEP_M = 5.0


def karney_area(geoms, crs, *, straight=True, step=ORACLE_STEP_M) -> np.ndarray:
    """The oracle: the area on the ellipsoid of each polygon, with pyproj's Geod (Karney).

    With `straight` (projected CRSs), each edge is first segmentized to `step` (0.5 m) in the
    plane: the region bounded by the straight plane edges. Otherwise the edges are geodesics.
    """
    crs = pyproj.CRS.from_user_input(crs)
    ellipsoid = crs.geodetic_crs.ellipsoid
    geod = pyproj.Geod(a=ellipsoid.semi_major_metre, rf=ellipsoid.inverse_flattening)
    to_lonlat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    result = []
    for geom in geoms:
        if straight and not crs.is_geographic:
            geom = shapely.segmentize(geom, step)
        lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
        # Geod's ring areas carry their orientation's sign: holes must run opposite to shells.
        oriented = shapely.orient_polygons(lonlat, exterior_cw=False)
        result.append(sum(_signed_ring_area(geod, ring) for ring in _rings(oriented)))
    return np.array(result)


def _rings(geom) -> list:
    """Every ring of a polygon or multipolygon."""
    rings = []
    for part in shapely.get_parts(geom):
        rings.append(part.exterior)
        rings.extend(part.interiors)
    return rings


def _signed_ring_area(geod: pyproj.Geod, ring) -> float:
    """Karney's area of one ring (counter-clockwise positive), from its coordinate arrays:
    what ``Geod.geometry_area_perimeter`` sums, without its per-ring conversions."""
    xy = shapely.get_coordinates(ring)
    return geod.polygon_area_perimeter(xy[:, 0], xy[:, 1])[0]


def local_tm_area(geoms, crs) -> np.ndarray:
    """Second oracle for small parcels: planar area in a TM centred on each parcel.

    The edges are segmentized to 0.5 m in the CRS's plane first (straight edges). Its scale
    error is ~(r/R)² / 2, below 1e-9 for parcels of a few hundred metres, and unlike Karney's
    sums it has no absolute noise floor (~1e-4 m²) that swamps 1e-9 on small parcels.
    """
    crs = pyproj.CRS.from_user_input(crs)
    to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
    result = []
    for geom in geoms:
        geom = shapely.segmentize(geom, ORACLE_STEP_M)
        lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
        centre = lonlat.centroid
        # A pipeline, not from_crs: the same PROJ tmerc (bit for bit), without the search for
        # an operation between the two CRSs (30 ms per parcel).
        to_local = pyproj.Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=tmerc +lon_0={centre.x} +lat_0={centre.y} +k=1 +a={CGCS2000_A} "
            f"+rf={CGCS2000_RF} +units=m"
        )
        planar = shapely.transform(
            lonlat, lambda xy, t=to_local: np.column_stack(t.transform(*xy.T))
        )
        result.append(planar.area)
    return np.array(result)


def random_parcels(n: int, *, seed: int, x_range=(-160e3, 160e3), y_range=(2.4e6, 5.8e6)):
    """Valid parcels of 4-19 vertices, radius 10-150 m, across zone 39."""
    rng = np.random.default_rng(seed)
    parcels = []
    while len(parcels) < n:
        cx = CM39 + rng.uniform(*x_range)
        cy = rng.uniform(*y_range)
        k = int(rng.integers(4, 20))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.uniform(10, 150) * (0.6 + 0.4 * rng.random(k))
        parcel = Polygon(np.c_[cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
        if parcel.is_valid:
            parcels.append(parcel)
    return gpd.GeoSeries(parcels, crs=ZONE39)


def wiggly_polygon(cx, cy, radius, n=3000, *, holes=()):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius * (1 + 0.2 * np.sin(5 * t) + 0.05 * np.sin(23 * t))
    shell = np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]
    return Polygon(shell, [np.asarray(h) for h in holes])


# --- shapes with areas known by arithmetic ------------------------------------------------


def test_planar_area_of_boxes_holes_and_multipolygons_by_arithmetic():
    x, y = CM39 + 80_000, 3_150_000
    square = box(x, y, x + 1000, y + 1000)
    with_hole = Polygon(
        square.exterior.coords, [box(x + 100, y + 100, x + 300, y + 400).exterior.coords]
    )
    two_parts = MultiPolygon([box(x, y, x + 10, y + 20), box(x + 50, y, x + 80, y + 10)])
    layer = gpd.GeoSeries([square, with_hole, two_parts], crs=ZONE39, index=["a", "b", "c"])

    result = geozones.area(layer, method="planar")

    assert result.to_dict() == pytest.approx({"a": 1e6, "b": 1e6 - 200 * 300, "c": 200 + 300})
    assert result.name == "area_m2"
    assert result.attrs == {"unit": "m2", "method": "planar"}


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("m2", 1e6), ("ha", 100.0), ("km2", 1.0), ("mu", 1500.0), ("wan_mu", 0.15), ("wan_ha", 0.01)],
)
def test_units_of_one_square_kilometre(unit, expected):
    layer = gpd.GeoSeries([box(CM39, 3e6, CM39 + 1000, 3e6 + 1000)], crs=ZONE39)
    assert geozones.area(layer, unit=unit, method="planar").iloc[0] == pytest.approx(expected)


def test_unknown_unit_and_method_are_refused():
    layer = gpd.GeoSeries([box(CM39, 3e6, CM39 + 1, 3e6 + 1)], crs=ZONE39)
    with pytest.raises(ValueError, match="mu"):
        geozones.area(layer, unit="acre")
    with pytest.raises(ValueError, match="ellipsoidal"):
        geozones.area(layer, method="spherical")


# --- ellipsoidal area against closed forms and Karney ------------------------------------


def authalic_band_area(lat1, lat2, dlon_degrees, a=CGCS2000_A, rf=CGCS2000_RF):
    """Closed-form ellipsoidal area between two parallels over dlon degrees of longitude."""
    f = 1 / rf
    e = math.sqrt(f * (2 - f))
    b = a * (1 - f)

    def q(phi):
        s = math.sin(phi)
        return s / (1 - e * e * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return b * b * math.radians(dlon_degrees) / 2 * (q(math.radians(lat2)) - q(math.radians(lat1)))


def quadrangle(lon1, lat1, lon2, lat2, step=0.001):
    """A lon/lat quadrangle whose parallels are densified so geodesic edges follow them."""
    lons = np.arange(lon1, lon2 + step / 2, step)
    lats = np.arange(lat1, lat2 + step / 2, step)
    ring = np.concatenate(
        [
            np.c_[lons, np.full_like(lons, lat1)],
            np.c_[np.full_like(lats, lon2), lats][1:],
            np.c_[lons[::-1], np.full_like(lons, lat2)][1:],
            np.c_[np.full_like(lats, lon1), lats[::-1]][1:],
        ]
    )
    return Polygon(ring)


@pytest.mark.parametrize("crs", ["EPSG:4490", ZONE39])
def test_one_degree_quadrangle_matches_closed_form(crs):
    quad = gpd.GeoSeries([quadrangle(117.0, 28.0, 118.0, 29.0)], crs="EPSG:4490").to_crs(crs)
    expected = authalic_band_area(28.0, 29.0, 1.0)
    assert geozones.area(quad).iloc[0] == pytest.approx(expected, rel=1e-9)
    # The planar figure in a Gauss-Kruger zone is off by ~1e-4: the reason ellipsoidal exists.
    if crs == ZONE39:
        planar = geozones.area(quad, method="planar").iloc[0]
        assert abs(planar / expected - 1) > 1e-5


@pytest.mark.parametrize(
    ("crs", "centre_easting", "centre_northing"),
    [
        (ZONE39, CM39 + 60_000, 3_300_000),  # 3° zone with prefix
        (ZONE39, CM39 - 140_000, 4_600_000),  # west of the meridian, further north
        ("EPSG:4497", 19_500_000 + 250_000, 3_500_000),  # 6° zone 19 with prefix, near its edge
        ("EPSG:32650", 500_000 + 100_000, 3_300_000),  # UTM 50N: k0 = 0.9996, no prefix
    ],
)
def test_large_polygons_with_holes_match_karney(crs, centre_easting, centre_northing):
    hole = wiggly_polygon(centre_easting + 20_000, centre_northing, 15_000, 600).exterior.coords
    big = wiggly_polygon(centre_easting, centre_northing, 150_000, 4000, holes=[hole])
    small_far = wiggly_polygon(centre_easting - 60_000, centre_northing + 40_000, 2_000, 200)
    multi = MultiPolygon(
        [small_far, wiggly_polygon(centre_easting, centre_northing - 200_000, 30_000, 900)]
    )
    layer = gpd.GeoSeries([big, multi], crs=crs)

    result = geozones.area(layer).to_numpy()

    np.testing.assert_allclose(result, karney_area(layer, crs, step=LARGE_ORACLE_STEP_M), rtol=1e-9)


def test_small_parcels_across_a_zone_match_both_oracles():
    parcels = random_parcels(300, seed=7)
    result = geozones.area(parcels).to_numpy()
    np.testing.assert_allclose(result, local_tm_area(parcels, ZONE39), rtol=1e-9)
    # Karney's sums over the 0.5 m pieces carry ~1e-4 m² of rounding; within that, they agree.
    np.testing.assert_allclose(result, karney_area(parcels, ZONE39), rtol=1e-9, atol=1e-3)


@pytest.mark.parametrize(
    "crs", ["EPSG:4490", "EPSG:3857", "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=GRS80"]
)
def test_other_crs_kinds_are_measured_on_the_ellipsoid(crs):
    # Edges are straight in the layer's own plane (Web Mercator, Albers), geodesics in
    # latitude/longitude.
    parcels = random_parcels(40, seed=3, y_range=(3.0e6, 3.5e6))
    big = gpd.GeoSeries([wiggly_polygon(CM39 + 50_000, 3_300_000, 100_000, 3000)], crs=ZONE39)
    layer = pd.concat([parcels, big], ignore_index=True).to_crs(crs)
    expected = karney_area(layer, crs)
    result = geozones.area(layer).to_numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-3)


def test_doctest_square_is_the_ellipsoidal_figure():
    square = gpd.GeoSeries([box(39_600_000, 3_150_000, 39_601_000, 3_151_000)], crs=4527)
    assert geozones.area(square).iloc[0] == pytest.approx(karney_area(square, ZONE39)[0], rel=1e-10)


# --- refusals, null, empty, invalid ------------------------------------------------------


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:3857", "EPSG:3395"])
def test_planar_area_is_refused_in_degrees_and_mercator(crs):
    layer = gpd.GeoSeries([box(CM39, 3e6, CM39 + 100, 3e6 + 100)], crs=ZONE39).to_crs(crs)
    with pytest.raises(CRSError, match="method='ellipsoidal'"):
        geozones.area(layer, method="planar")


def test_missing_crs_is_an_error():
    with pytest.raises(MissingCRSError, match="read_layer"):
        geozones.area(gpd.GeoSeries([box(0, 0, 1, 1)]))


def test_points_and_lines_are_refused_by_name():
    layer = gpd.GeoSeries(
        [
            box(CM39, 3e6, CM39 + 1, 3e6 + 1),
            Point(CM39, 3e6),
            shapely.LineString([(CM39, 3e6), (CM39 + 1, 3e6)]),
        ],
        index=["ok", "well-7", "ditch-3"],
        crs=ZONE39,
    )
    with pytest.raises(
        NonPolygonalGeometryError, match=r"well-7 \(Point\), ditch-3 \(LineString\)"
    ):
        geozones.area(layer)


def test_null_is_nan_and_empty_is_zero():
    layer = gpd.GeoSeries([None, Polygon(), box(CM39, 3e6, CM39 + 10, 3e6 + 10)], crs=ZONE39)
    result = geozones.area(layer, method="planar")
    assert np.isnan(result.iloc[0])
    assert result.iloc[1:].tolist() == pytest.approx([0.0, 100.0])
    assert geozones.area(layer).iloc[1] == 0.0


def test_bowtie_is_repaired_with_a_warning_and_measured_whole():
    x, y = CM39 + 50_000, 3_200_000
    bowtie = Polygon([(x, y), (x + 200, y + 200), (x + 200, y), (x, y + 200)])
    layer = gpd.GeoSeries([bowtie], crs=ZONE39)
    with pytest.warns(GeometryRepairWarning, match="repaired 1 invalid"):
        result = geozones.area(layer, method="planar")
    # Two triangles of base 200 and height 100 — not the 0 the signed shoelace gives.
    assert result.iloc[0] == pytest.approx(20_000.0)
    assert layer.iloc[0].equals(bowtie)  # the caller's data is not modified


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(-150_000, 150_000, allow_subnormal=False),
    y=st.floats(2.5e6, 5.5e6),
    width=st.floats(5, 5000),
    height=st.floats(5, 5000),
    cut=st.floats(0.05, 0.95),
)
def test_area_is_additive_over_disjoint_parts(x, y, width, height, cut):
    whole = box(CM39 + x, y, CM39 + x + width, y + height)
    split_x = CM39 + x + cut * width
    left = box(CM39 + x, y, split_x, y + height)
    right = box(split_x, y, CM39 + x + width, y + height)
    areas = geozones.area(gpd.GeoSeries([whole, left, right], crs=ZONE39)).to_numpy()
    assert areas[1] + areas[2] == pytest.approx(areas[0], rel=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.randoms(use_true_random=False))
def test_area_does_not_depend_on_row_order(random):
    parcels = random_parcels(60, seed=11)
    order = list(range(len(parcels)))
    random.shuffle(order)
    shuffled = parcels.iloc[order]
    np.testing.assert_allclose(
        geozones.area(shuffled).sort_index().to_numpy(),
        geozones.area(parcels).to_numpy(),
        rtol=1e-14,
    )


def _layer_across_bands() -> gpd.GeoSeries:
    """Parcels over 3,400 km of northing, some straddling a multiple of 200 km, big polygons
    (with a hole, a multipolygon) over several hundred km, one at the edge of the zone: all
    inside EPSG:4527's area of use (1.5° from the meridian)."""
    straddling = [
        box(CM39 + dx, y - 40.0, CM39 + dx + 60.0, y + 25.0)
        for y in (3_000_000.0, 3_200_000.0, 3_400_000.0)
        for dx in (-90_000.0, 5_000.0, 120_000.0)
    ]
    hole = wiggly_polygon(CM39 + 20_000, 3_250_000, 15_000, 600).exterior.coords
    big = wiggly_polygon(CM39, 3_250_000, 110_000, 4000, holes=[hole])
    multi = MultiPolygon(
        [
            wiggly_polygon(CM39 - 60_000, 3_450_000, 2_000, 200),
            wiggly_polygon(CM39, 3_050_000, 30_000, 900),
        ]
    )
    far = wiggly_polygon(CM39 - 150_000, 3_310_000, 5_000, 300)
    return pd.concat(
        [random_parcels(150, seed=21), gpd.GeoSeries([*straddling, big, multi, far], crs=ZONE39)],
        ignore_index=True,
    )


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_area_of_a_polygon_does_not_depend_on_what_it_is_measured_with(random):
    # A county measured alone and the province it is part of give each polygon the same area to
    # the last bit: streamed and in-memory runs agree exactly.
    layer = _layer_across_bands()
    whole = geozones.area(layer).to_numpy()
    subset = sorted(random.sample(range(len(layer)), random.randint(1, len(layer))))
    np.testing.assert_array_equal(geozones.area(layer.iloc[subset]).to_numpy(), whole[subset])


def test_features_far_outside_the_zone_agree_to_1e_11_across_batches():
    # 400 km from the meridian, outside EPSG:4527's area of use, a batch that holds such a
    # feature takes a wider fit: the other features' areas move by the fits' tolerance only
    # (each fit is within 5e-12 of PROJ).
    layer = _layer_across_bands()
    far = gpd.GeoSeries([wiggly_polygon(CM39 + 400_000, 3_310_000, 5_000, 300)], crs=ZONE39)
    alone = geozones.area(layer).to_numpy()
    together = geozones.area(pd.concat([layer, far], ignore_index=True)).to_numpy()
    np.testing.assert_allclose(together[:-1], alone, rtol=1e-11)
    assert not np.array_equal(together[:-1], alone)  # it did take the wider fit
    np.testing.assert_allclose(together[-1:], karney_area(far, ZONE39), rtol=1e-9)


def test_polygons_across_the_fitted_bands_match_karney():
    layer = _layer_across_bands()
    big = layer.iloc[150:]  # the straddling boxes and the big polygons
    np.testing.assert_allclose(
        geozones.area(big).to_numpy(), karney_area(big, ZONE39), rtol=1e-9, atol=5e-4
    )


def test_result_is_aligned_with_the_input_index():
    parcels = random_parcels(5, seed=1)
    frame = gpd.GeoDataFrame(
        {"BSM": list("abcde")}, geometry=parcels.to_numpy(), index=[50, 40, 30, 20, 10], crs=ZONE39
    )
    result = geozones.area(frame, unit="mu")
    assert result.index.tolist() == [50, 40, 30, 20, 10]
    assert result.attrs["unit"] == "mu"


def test_no_warnings_for_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        geozones.area(random_parcels(10, seed=2))


def _ring_certified(polygons) -> np.ndarray:
    """Which polygons the area pass proves valid without GEOS (see geozones.measure._rings)."""
    from geozones.measure._rings import RingLayout, ring_sums

    geoms = np.asarray(polygons, dtype=object)
    layout = RingLayout.of(geoms)
    return ring_sums(layout, None).simple


def test_fast_validity_never_certifies_an_invalid_ring():
    """Random, degenerate and multiply-wound rings: the fast test is True only if GEOS agrees."""
    rng = np.random.default_rng(7)
    polygons = []
    for _ in range(20_000):
        n = int(rng.integers(3, 12))
        kind = int(rng.integers(0, 5))
        if kind == 0:  # random grid points: mostly self-intersecting
            points = rng.integers(0, 6, size=(n, 2)).astype(float)
        elif kind == 1:  # noisy star: valid
            angle = np.sort(rng.uniform(0, 2 * np.pi, n))
            radius = rng.uniform(0.2, 1, n)
            points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
        elif kind == 2:  # a star polygon winding twice around its centre
            angle = np.arange(n) * 4 * np.pi / n
            points = np.column_stack([np.cos(angle), np.sin(angle)])
        elif kind == 3:  # nearly collinear: last-bit perturbations of grid points
            points = rng.integers(0, 3, size=(n, 2)) + rng.integers(0, 2, size=(n, 2)) * 1e-9
        else:  # a vertex at the centre: spikes and touching edges
            angle = np.sort(rng.uniform(0, 2 * np.pi, n))
            points = np.column_stack([np.cos(angle), np.sin(angle)])
            points[rng.integers(0, n)] = 0.0
        scale = float(rng.choice([1e-3, 1.0, 100.0]))
        points = points * scale + np.array([CM39 + 50_000, 3_200_000.0])
        polygons.append(Polygon(points[:: int(rng.choice([-1, 1]))]))
    certified = _ring_certified(polygons)
    valid = shapely.is_valid(np.asarray(polygons, dtype=object))
    assert not (certified & ~valid).any()
    # The proof that follows it (other kernel points, the edge grid) likewise.
    from geozones.io.proof import certainly_valid

    proven = certainly_valid(np.asarray(polygons, dtype=object))
    assert not (proven & ~valid).any()
    assert proven.sum() > certified.sum()
    assert certified.sum() > 0.2 * len(polygons)  # the test does prove many


def test_fast_validity_leaves_the_classic_invalid_shapes_to_geos():
    x, y = CM39 + 10_000, 3_200_000.0
    pentagram = Polygon(
        [(x + math.cos(a), y + math.sin(a)) for a in np.arange(5) * 4 * math.pi / 5]
    )
    bowtie = Polygon([(x, y), (x + 2, y + 2), (x + 2, y), (x, y + 2)])
    spike = Polygon(
        [(x, y), (x + 2, y), (x + 2, y + 2), (x + 2, y + 3), (x + 2, y + 2), (x, y + 2)]
    )
    repeated = Polygon([(x, y), (x + 2, y), (x + 2, y), (x + 2, y + 2), (x, y + 2)])
    square = box(x, y, x + 2, y + 2)
    assert _ring_certified([pentagram, bowtie, spike, square]).tolist() == [
        False,
        False,
        False,
        True,
    ]
    assert not _ring_certified([repeated])[0]  # valid, but left to GEOS
    assert not shapely.is_valid(pentagram)


def test_invalid_polygons_among_many_are_repaired_and_measured_repaired():
    parcels = [box(CM39 + 100 * i, 3_200_000, CM39 + 100 * i + 50, 3_200_050) for i in range(50)]
    bowtie = Polygon(
        [(CM39, 3_100_000), (CM39 + 20, 3_100_020), (CM39 + 20, 3_100_000), (CM39, 3_100_020)]
    )
    layer = gpd.GeoSeries([*parcels, bowtie], crs=ZONE39)
    with pytest.warns(GeometryRepairWarning, match="repaired 1 invalid"):
        measured = geozones.area(layer)
    repaired = shapely.make_valid(bowtie)
    expected = geozones.area(gpd.GeoSeries([*parcels, repaired], crs=ZONE39))
    np.testing.assert_allclose(measured.to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert measured.iloc[-1] == pytest.approx(200.0, rel=1e-3)


def test_holes_and_multipolygons_measure_ring_by_ring():
    """The fast pass takes a polygon's coordinates as one ring; holes must still count."""
    x, y = CM39 + 120_000, 3_300_000.0
    shell = box(x, y, x + 300, y + 200)
    hole = box(x + 50, y + 50, x + 100, y + 100)
    # A hole touching the shell at the shell's first vertex: valid, and a trap for a test
    # that looks only for the first vertex coming back.
    start = shell.exterior.coords[0]
    corner_hole = Polygon([start, (start[0] - 20, start[1] + 10), (start[0] - 10, start[1] + 20)])
    with_hole = Polygon(shell.exterior, [hole.exterior])
    with_corner_hole = Polygon(shell.exterior, [corner_hole.exterior])
    single_part = MultiPolygon([shell])
    two_parts = MultiPolygon([shell, box(x + 400, y, x + 450, y + 50)])
    assert with_corner_hole.is_valid
    layer = gpd.GeoSeries(
        [shell, hole, corner_hole, with_hole, with_corner_hole, single_part, two_parts],
        crs=ZONE39,
    )
    a = geozones.area(layer).to_numpy()
    np.testing.assert_allclose(a[3], a[0] - a[1], rtol=1e-12)
    np.testing.assert_allclose(a[4], a[0] - a[2], rtol=1e-12)
    np.testing.assert_allclose(a[5], a[0], rtol=1e-15)
    far = geozones.area(gpd.GeoSeries([box(x + 400, y, x + 450, y + 50)], crs=ZONE39))
    np.testing.assert_allclose(a[6], a[0] + far.iloc[0], rtol=1e-12)
    # The pass proves the hole inside and the parts apart on the coordinates it holds; a
    # hole touching its shell is valid but left to GEOS.
    area_module = importlib.import_module("geozones.measure.area")
    projection = area_module.TransverseMercator.from_crs(pyproj.CRS(ZONE39))
    geoms = np.asarray(layer.array, dtype=object)
    certain = area_module._transverse_mercator_measure(geoms, projection, prove=True).certain
    assert certain.tolist() == [True, True, True, True, False, True, True]


# --- straight edges: the region the plane's straight edges bound, on the ellipsoid ----------

# (CRS, false easting incl. any zone prefix): 3° and 6° zones with and without the prefix, UTM.
STRAIGHT_EDGE_ZONES = [
    ("EPSG:4527", 39_500_000.0),  # 3°, zone 39, prefixed
    ("EPSG:4547", 500_000.0),  # 3°, CM 114°E, unprefixed
    ("EPSG:4497", 19_500_000.0),  # 6°, zone 19, prefixed
    ("EPSG:4503", 500_000.0),  # 6°, CM 105°E, unprefixed
    ("EPSG:32650", 500_000.0),  # UTM 50N, k0 = 0.9996
]


def long_edged_polygons(false_easting: float, half_width: float) -> gpd.GeoSeries:
    """Quadrilaterals tens of km across and thin km-long parcels, at three distances from the
    meridian, one across the 3,400 km band boundary of the fitted grid."""
    shapes = []
    for x in (0.12 * half_width, 0.8 * half_width, -0.8 * half_width):
        e = false_easting + x
        shapes += [
            Polygon([(e, 3.30e6), (e + 30e3, 3.305e6), (e + 25e3, 3.34e6), (e - 8e3, 3.33e6)]),
            # A 1 km² parcel with 4 km edges.
            Polygon([(e, 3.3e6), (e + 4e3, 3.3003e6), (e + 3.98e3, 3.30055e6), (e, 3.3003e6)]),
            Polygon([(e, 3.39e6), (e + 20e3, 3.395e6), (e + 15e3, 3.425e6), (e - 5e3, 3.41e6)]),
        ]
    return gpd.GeoSeries(shapes)


@pytest.mark.parametrize(("crs", "false_easting"), STRAIGHT_EDGE_ZONES)
def test_long_straight_edges_match_the_segmentized_oracle(crs, false_easting):
    half_width = 150_000.0 if crs in ("EPSG:4527", "EPSG:4547") else 300_000.0
    layer = long_edged_polygons(false_easting, half_width).set_crs(crs)
    result = geozones.area(layer).to_numpy()
    expected = karney_area(layer, crs)
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-3)
    # The oracle can tell: edges taken as geodesics give another area, by up to ~1e-6 here.
    geodesic_edges = karney_area(layer, crs, straight=False)
    assert np.max(np.abs(geodesic_edges / expected - 1)) > 1e-7


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-150_000, 150_000, allow_subnormal=False),
    st.floats(2.5e6, 5.5e6),
    st.floats(1.0, 5.0),  # log10 of the size, 10 m to 100 km
    st.integers(0, 2**32 - 1),
)
def test_area_is_additive_over_any_cut(x, y, log_size, seed):
    # area(A∖B) + area(A∩B) = area(A). GEOS rounds the vertices it creates, which changes
    # the *planar* area of the pieces too; what the ellipsoidal sum misses must be exactly
    # that planar defect at the local scale of the area, to 1e-12 of area(A).
    rng = np.random.default_rng(seed)
    size = 10.0**log_size

    def star(cx):
        k = int(rng.integers(3, 12))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = size * rng.uniform(0.3, 1.0, k)
        return shapely.make_valid(
            Polygon(np.c_[cx + radius * np.cos(angles), y + radius * np.sin(angles)])
        )

    a = star(CM39 + x)
    b = star(CM39 + x + size * rng.uniform(-1, 1))
    pieces = gpd.GeoSeries([a, a.difference(b), a.intersection(b)], crs=ZONE39)
    whole, outside, inside = geozones.area(pieces).to_numpy()
    planar = pieces.area.to_numpy()
    planar_defect = planar[1] + planar[2] - planar[0]
    ellipsoidal_defect = outside + inside - whole
    assert abs(ellipsoidal_defect - planar_defect * whole / planar[0]) <= 1e-12 * whole


@settings(max_examples=30, deadline=None)
@given(
    st.floats(-150_000, 150_000, allow_subnormal=False),
    st.floats(-150_000, 150_000, allow_subnormal=False),
    st.floats(0.01, 0.99, allow_subnormal=False),
)
def test_pieces_across_a_band_boundary_add_up_exactly(x0, x1, cut):
    # A polygon across the northing 3,400 km (a boundary of the fitted grid), cut along an
    # axis-parallel line, so GEOS creates no new rounding: the pieces sum to 1e-12.
    whole = Polygon(
        [(CM39 + x0, 3.3e6), (CM39 + x1, 3.3e6), (CM39 + x1, 3.5e6), (CM39 + x0, 3.5e6)]
    )
    if whole.area == 0:
        return
    split = 3.3e6 + cut * 2e5
    lower = whole.intersection(box(CM39 - 2e5, 3.2e6, CM39 + 2e5, split))
    upper = whole.intersection(box(CM39 - 2e5, split, CM39 + 2e5, 3.6e6))
    areas = geozones.area(gpd.GeoSeries([whole, lower, upper], crs=ZONE39)).to_numpy()
    assert areas[1] + areas[2] == pytest.approx(areas[0], rel=1e-12)


def test_coordinates_no_ellipsoid_holds_are_a_crs_error_not_an_exhausted_memory():
    """Found by the shapefile fuzzer: a damaged northing made the 10 m edge cuts ask for
    more memory than there is (GEOS std::bad_alloc)."""
    damaged = gpd.GeoSeries(
        [box(39_500_000, 3_150_000, 39_500_015, 3_150_015), box(39_500_000, 0, 39_500_015, 1e200)],
        crs=4527,
    )
    with pytest.raises(geozones.CRSError, match=r"1 feature.*no ellipsoid holds"):
        geozones.area(damaged)


def test_a_geographic_feature_wider_than_a_zone_is_measured_by_its_geodesics():
    """Found by the GeoJSON fuzzer: a sliver along the equator from 0° to 117° raised a
    CRSError; in latitude/longitude its edges are geodesics, which Karney's algorithm measures."""
    wide = Polygon([(0.0, 0.0), (117.0, 0.0), (117.0, 1.0), (0.0, 0.0)])
    layer = gpd.GeoSeries([wide, box(117.1, 30.0, 117.11, 30.01)], crs=4490)
    measured = geozones.area(layer, unit="m2")
    geod = pyproj.CRS(4490).get_geod()
    expected = [abs(geod.geometry_area_perimeter(geom)[0]) for geom in layer]
    assert measured.iloc[0] == pytest.approx(expected[0], rel=1e-9)
    assert measured.iloc[1] == pytest.approx(expected[1], rel=1e-9)


grid_point = st.tuples(st.integers(0, 8), st.integers(0, 8))


@settings(max_examples=200, deadline=None)
@given(
    shapes=st.lists(
        st.lists(st.lists(grid_point, min_size=3, max_size=7), min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    ),
    closing_repeated=st.booleans(),
)
@example(
    shapes=[[[(0, 0), (0, 0), (8, 0), (8, 8)], [(5, 1), (6, 1), (6, 2)]]], closing_repeated=False
)
@example(shapes=[[[(0, 0), (4, 0), (4, 4)], [(1, 1), (2, 1), (2, 2)]]], closing_repeated=True)
def test_rings_split_from_the_coordinates_are_geos_rings(shapes, closing_repeated):
    """`RingLayout.of` splits each geometry's coordinates into GEOS's rings, or asks GEOS.

    On a small grid rings often come back to their first vertex before their end (invalid),
    the trap for a split at the first repeat; a repeated closing vertex is valid and must
    not be mis-split. Whatever the split, the pass never calls an invalid geometry certain.
    """
    from geozones.io import rings as ring_module
    from geozones.measure._rings import RingLayout

    def ring(points):
        coords = [(CM39 + 10.0 * x, 3_300_000.0 + 10.0 * y) for x, y in points]
        closed = [*coords, coords[0]]
        return [*closed, coords[0]] if closing_repeated else closed

    polygons = [Polygon(ring(rings[0]), [ring(r) for r in rings[1:]]) for rings in shapes]
    geoms = np.array(
        [*polygons, MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]], dtype=object
    )
    asked = []
    original = ring_module._geos_rings
    try:
        ring_module._geos_rings = lambda g: asked.append(len(g)) or original(g)
        layout = RingLayout.of(geoms)
    finally:
        ring_module._geos_rings = original
    valid = shapely.is_valid(geoms)
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    expected = [
        (int(part_owner[p]), bool(h), shapely.get_coordinates(r).tolist())
        for r, p, h in zip(rings, ring_part, np.diff(ring_part, prepend=-1) == 0, strict=True)
    ]
    if valid.all() or asked:
        assert ring_list(layout) == expected
    if valid.all() and not closing_repeated:
        assert not asked  # split, not asked of GEOS
    area_module = importlib.import_module("geozones.measure.area")
    projection = area_module.TransverseMercator.from_crs(pyproj.CRS(ZONE39))
    measured = area_module._transverse_mercator_measure(geoms, projection, prove=True)
    assert not (measured.certain & ~valid).any()
    # Within 80 m of the central meridian the area scale is constant to 2e-10.
    unit = geozones.area(gpd.GeoSeries([box(CM39, 3_300_000, CM39 + 10, 3_300_010)], crs=ZONE39))
    np.testing.assert_allclose(
        measured.area[valid], shapely.area(geoms[valid]) * unit.iloc[0] / 100, rtol=1e-9
    )


def ring_list(layout):
    """Each ring of a layout as (geometry, hole, coordinates)."""
    return [
        (int(g), bool(h), layout.coords[s : s + n].tolist())
        for g, h, s, n in zip(
            layout.ring_geometry,
            layout.ring_is_hole,
            layout.ring_starts,
            layout.ring_lengths,
            strict=True,
        )
    ]


def test_area_from_rings_is_the_area_of_the_polygons_built_from_them():
    # Overlaps left as rings (phantoms not built) are measured from their rings: the same
    # figure, to the last bit, as the polygons measured whole (tested against Karney above);
    # holes and parts included.
    from geozones.io.rings import polygon_rings
    from geozones.measure.area import ellipsoidal_area, ellipsoidal_ring_area

    layer = _layer_across_bands()
    geoms = layer.to_numpy()
    crs = pyproj.CRS(ZONE39)
    rings = polygon_rings(geoms)
    assert rings.ring_is_hole.any() and (~rings.ring_single).any()
    from_rings = ellipsoidal_ring_area(rings, len(geoms) + 2, crs)
    assert from_rings is not None
    np.testing.assert_array_equal(from_rings[: len(geoms)], ellipsoidal_area(geoms, crs))
    assert from_rings[len(geoms) :].tolist() == [0.0, 0.0]  # no rings, no area
    # Not one transverse Mercator zone in metres: the caller builds the geometries.
    lonlat = layer.to_crs("EPSG:4490").to_numpy()
    assert ellipsoidal_ring_area(polygon_rings(lonlat), len(lonlat), pyproj.CRS(4490)) is None


def test_area_from_rings_goes_to_the_polygon_each_ring_names():
    # Phantoms left as rings come in the order they were clipped, each naming its overlap:
    # one ring per polygon, but not in the polygons' order.
    from geozones.io.rings import PolygonRings, polygon_rings
    from geozones.measure.area import ellipsoidal_area, ellipsoidal_ring_area

    crs = pyproj.CRS(ZONE39)
    x, y = 39_500_000, 3_150_000
    geoms = np.array([box(x, y, x + 10 * (k + 1), y + 10) for k in range(5)], dtype=object)
    rings = polygon_rings(geoms)
    order = np.array([3, 0, 4, 1, 2])  # ring k of the shuffled rings is polygon order[k]
    lengths = rings.ring_lengths[order]
    starts = np.cumsum(lengths) - lengths
    coords = np.concatenate(
        [
            rings.coords[rings.ring_starts[k] : rings.ring_starts[k] + rings.ring_lengths[k]]
            for k in order
        ]
    )
    shuffled = PolygonRings(
        coords=coords,
        ring_starts=starts,
        ring_lengths=lengths,
        ring_geometry=order,
        ring_is_hole=rings.ring_is_hole[order],
        ring_single=rings.ring_single[order],
    )
    from_rings = ellipsoidal_ring_area(shuffled, len(geoms), crs)
    assert from_rings is not None
    np.testing.assert_allclose(from_rings, ellipsoidal_area(geoms, crs), rtol=1e-12)

"""Coverage of zones by a layer, checked against areas worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

import geozones
from geozones.errors import CRSReprojectionWarning, EmptyLayerError, FieldError

ZONE39 = "EPSG:4527"
X, Y = 39_580_000.0, 3_150_000.0  # 80 km east of the central meridian


def counties() -> gpd.GeoDataFrame:
    """Three 10 km × 10 km counties in a row; two in city 9901, one in city 9902."""
    return gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121", "990202"], "XZQMC": ["东川区", "青溪县", "西岭区"]},
        geometry=[box(X + i * 10_000, Y, X + (i + 1) * 10_000, Y + 10_000) for i in range(3)],
        crs=ZONE39,
    )


def redline() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"BSM": ["a", "b", "c", "d"]},
        geometry=[
            box(X, Y, X + 2000, Y + 1000),  # 2 km² in county 1
            box(X + 1000, Y, X + 3000, Y + 1000),  # overlaps a by 1 km²: union adds 1 km²
            box(X + 9000, Y + 5000, X + 12_000, Y + 6000),  # crosses into county 2: 1 + 2 km²
            box(X + 40_000, Y, X + 41_000, Y + 500),  # outside every county: 0.5 km²
        ],
        crs=ZONE39,
    )


def test_planar_coverage_by_hand():
    with pytest.warns(UserWarning, match="outside every zone"):
        result = geozones.coverage(redline(), counties(), by="XZQDM", method="planar")
    assert result.index.tolist() == ["990102", "990121", "990202"]
    assert result["zone_area"].tolist() == pytest.approx([100.0, 100.0, 100.0])
    assert result["covered_area"].tolist() == pytest.approx([4.0, 2.0, 0.0])
    assert result["percent"].tolist() == pytest.approx([4.0, 2.0, 0.0])
    assert result.attrs["outside_area"] == pytest.approx(0.5)
    assert result.attrs["unit"] == "km2"


def test_outside_area_counts_overlapping_parts_once_by_hand():
    # Three polygons reach out of the counties' south edge (y < Y): a is 1 km² outside,
    # b overlaps a's outside part by 0.5 km² and adds 0.5 km², c lies wholly outside
    # (2 km², apart). Outside: 1 + 0.5 + 2 = 3.5 km². Inside: a and b cover 1.5 km² of 990102.
    layer = gpd.GeoDataFrame(
        geometry=[
            box(X, Y - 1000, X + 1000, Y + 1000),
            box(X + 500, Y - 1000, X + 1500, Y + 1000),
            box(X + 20_000, Y - 3000, X + 22_000, Y - 2000),
        ],
        crs=ZONE39,
    )
    with pytest.warns(UserWarning, match="outside every zone"):
        result = geozones.coverage(layer, counties(), by="XZQDM", method="planar")
    assert result["covered_area"].tolist() == pytest.approx([1.5, 0.0, 0.0])
    assert result.attrs["outside_area"] == pytest.approx(3.5)


def test_no_outside_area_when_every_feature_is_inside():
    inside = gpd.GeoDataFrame(geometry=[box(X, Y, X + 15_000, Y + 10)], crs=ZONE39)
    result = geozones.coverage(inside, counties(), by="XZQDM", method="planar")
    assert result.attrs["outside_area"] == 0.0
    assert result["covered_area"].sum() == pytest.approx(0.15)


def test_roll_up_to_city_and_province_adds_the_county_rows():
    with pytest.warns(UserWarning, match="outside"):
        result = geozones.coverage(
            redline(),
            counties(),
            by="XZQDM",
            method="planar",
            unit="ha",
            levels=("county", "city", "province"),
        )
    assert result["level"].tolist() == ["county"] * 3 + ["city"] * 2 + ["province"]
    city = result[result["level"] == "city"]
    assert city.index.tolist() == ["990100", "990200"]
    assert city["covered_area"].tolist() == pytest.approx([600.0, 0.0])
    province = result.loc["990000"]
    assert province["zone_area"] == pytest.approx(30_000.0)
    assert province["covered_area"] == pytest.approx(600.0)
    assert province["percent"] == pytest.approx(2.0)


def karney(geom) -> float:
    """Area on the ellipsoid of the region the straight zone-39 edges bound: each edge cut
    into 0.5 m pieces, Karney's polygon area."""
    to_lonlat = pyproj.Transformer.from_crs(ZONE39, "EPSG:4490", always_xy=True)
    geom = shapely.segmentize(geom, 0.5)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    geod = pyproj.Geod(a=6378137.0, rf=298.257222101)
    return abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def test_ellipsoidal_coverage_matches_karney_on_the_hand_built_union():
    layer = redline().iloc[:3]
    result = geozones.coverage(layer, counties(), by="XZQDM", unit="m2")
    # County 1 holds the union of a and b (an L-free 3 km × 1 km strip) and 1 km² of c.
    expected_county_1 = karney(box(X, Y, X + 3000, Y + 1000)) + karney(
        box(X + 9000, Y + 5000, X + 10_000, Y + 6000)
    )
    expected_county_2 = karney(box(X + 10_000, Y + 5000, X + 12_000, Y + 6000))
    assert result["covered_area"].tolist() == pytest.approx(
        [expected_county_1, expected_county_2, 0.0], rel=1e-9
    )
    zone_area = [karney(g) for g in counties().geometry]
    assert result["zone_area"].tolist() == pytest.approx(zone_area, rel=1e-9)


def test_duplicated_features_count_once():
    twice = gpd.GeoDataFrame(geometry=[box(X, Y, X + 1000, Y + 1000)] * 3, crs=ZONE39)
    result = geozones.coverage(twice, counties(), by="XZQDM", method="planar")
    assert result.loc["990102", "covered_area"] == pytest.approx(1.0)


def test_zone_drawn_as_several_rows_is_one_zone():
    zones = counties()
    halves = gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990102"]},
        geometry=[box(X, Y, X + 10_000, Y + 5000), box(X, Y + 5000, X + 10_000, Y + 10_000)],
        crs=ZONE39,
    )
    zones = gpd.GeoDataFrame(
        [*halves.to_dict("records"), *zones.iloc[1:].drop(columns="XZQMC").to_dict("records")],
        crs=ZONE39,
    )
    layer = gpd.GeoDataFrame(geometry=[box(X + 1000, Y + 4000, X + 2000, Y + 6000)], crs=ZONE39)
    result = geozones.coverage(layer, zones, by="XZQDM", method="planar")
    assert result.loc["990102"].tolist() == pytest.approx([100.0, 2.0, 2.0])


def test_layer_in_another_crs_is_reprojected_with_a_warning_naming_both():
    layer = redline().iloc[:3].to_crs("EPSG:4490")
    with pytest.warns(CRSReprojectionWarning, match="China Geodetic Coordinate System 2000"):
        result = geozones.coverage(layer, counties(), by="XZQDM")
    expected = geozones.coverage(redline().iloc[:3], counties(), by="XZQDM")
    np.testing.assert_allclose(result["covered_area"], expected["covered_area"], rtol=1e-7)


def test_errors_name_the_problem():
    with pytest.raises(FieldError, match=r"'QHDM'.*XZQDM"):
        geozones.coverage(redline(), counties(), by="QHDM")
    with pytest.raises(EmptyLayerError):
        geozones.coverage(redline(), counties().iloc[:0], by="XZQDM")
    with pytest.raises(FieldError, match="6-digit"):
        geozones.coverage(redline().iloc[:1], counties(), by="XZQMC", levels=("city",))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-5000, 30_000, allow_subnormal=False),
            st.floats(-5000, 12_000, allow_subnormal=False),
            st.floats(1, 8000),
            st.floats(1, 8000),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_percent_is_within_0_and_100_and_rows_add_up(boxes):
    layer = gpd.GeoDataFrame(
        geometry=[box(X + x, Y + y, X + x + w, Y + y + h) for x, y, w, h in boxes], crs=ZONE39
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = geozones.coverage(layer, counties(), by="XZQDM", levels=("county", "province"))
    assert ((result["percent"] >= 0) & (result["percent"] <= 100 + 1e-9)).all()
    county = result[result["level"] == "county"]
    assert result.loc["990000", "covered_area"] == pytest.approx(county["covered_area"].sum())
    # Covered plus outside is the layer's own dissolved area. Not to 1e-9: union_all adds
    # vertices on straight edges where boxes meet, which moves geodesic-edged area by up to
    # ~x Δy L1 L2 / 6R² (docs/area.md); 1e-7 bounds that for boxes of a few km.
    union = geozones.area(gpd.GeoSeries([layer.union_all()], crs=ZONE39), unit="km2").iloc[0]
    assert county["covered_area"].sum() + result.attrs["outside_area"] == pytest.approx(
        union, rel=1e-7
    )


def test_groups_of_overlapping_pieces_are_united_in_threads_as_one_at_a_time(monkeypatch):
    from geozones.analysis.coverage import ZonePieces

    # clusters of three overlapping discs, far apart, with enough vertices (over 20,000 in all)
    # for the unions to run in threads; one disc in the other zone over a cluster of zone 0
    monkeypatch.setenv("GEOZONES_THREADS", "2")
    geoms, zones, expected = [], [], np.zeros(2)
    for k in range(12):
        x = 1000.0 * k
        cluster = [
            shapely.Point(x, 0).buffer(100, quad_segs=256),
            shapely.Point(x + 60, 30).buffer(80, quad_segs=256),
            box(x - 20, -150, x + 20, 150),
        ]
        geoms += cluster
        zones += [k % 2] * 3
        expected[k % 2] += shapely.union_all(cluster).area
    stray = shapely.Point(0, 0).buffer(50, quad_segs=64)
    alone = box(50_000, 0, 50_010, 10)
    geoms += [stray, alone]
    zones += [1, 0]
    expected += [alone.area, stray.area]
    shuffled = np.random.default_rng(0).permutation(len(geoms))
    pieces = ZonePieces(
        np.array(geoms, dtype=object)[shuffled], np.arange(len(geoms)), np.array(zones)[shuffled]
    )
    area, phantoms = pieces.dissolved_area(np.array(["zone0", "zone1"]), shapely.area)
    assert area.index.tolist() == ["zone0", "zone1"]
    np.testing.assert_allclose(area.to_numpy(), expected, rtol=1e-12)
    assert phantoms == {"count": 0, "area_m2": 0.0}


@pytest.mark.parametrize("threads", ["1", "2"])
def test_union_areas_from_pairwise_overlaps_and_where_three_pieces_meet(monkeypatch, threads):
    from geozones.analysis.coverage import ZonePieces

    # with a tolerance, the area of a group of overlapping pieces is their areas less their
    # pairwise overlaps, and the union where three pieces overlap one place; a chain of three
    # boxes (two overlaps, apart) in zone 0, three boxes over one corner in zone 1, a box alone
    monkeypatch.setenv("GEOZONES_THREADS", threads)
    chain = [box(0, 0, 10, 10), box(8, 0, 18, 10), box(16, 0, 26, 10)]
    corner = [box(100, 0, 110, 10), box(105, 5, 115, 15), box(108, 2, 118, 12)]
    alone = box(200, 0, 201, 1)
    geoms = np.array([*chain, *corner, alone], dtype=object)
    zones = np.array([0, 0, 0, 1, 1, 1, 0])
    pieces = ZonePieces(geoms, np.arange(len(geoms)), zones)
    area, phantoms = pieces.dissolved_area(np.array(["a", "b"]), shapely.area, width=0.001)
    expected = [shapely.union_all(chain).area + alone.area, shapely.union_all(corner).area]
    assert expected == [26 * 10 + 1, 3 * 100 - 25 - 16 - 49 + 10]  # by hand
    np.testing.assert_allclose(area.to_numpy(), expected, rtol=1e-14)
    assert phantoms == {"count": 0, "area_m2": 0.0}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.integers(0, 40),
            st.integers(1, 30),
            st.integers(1, 30),
            st.integers(0, 1),
            st.booleans(),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_union_area_from_each_pieces_overlaps_with_those_before_it(specs):
    from geozones.analysis.coverage import ZonePieces

    # Boxes and discs on whole metres piled up to many deep, in two zones: the area per zone
    # from the pieces less their overlaps with the pieces before them is the union's
    # (GEOS's union_all of each zone's pieces, independently).
    geoms = [
        shapely.Point(x + w / 2, y + h / 2).buffer(w / 2, quad_segs=16)
        if disc
        else box(x, y, x + w, y + h)
        for x, y, w, h, _, disc in specs
    ]
    zones = np.array([spec[4] for spec in specs])
    pieces = ZonePieces(np.array(geoms, dtype=object), np.arange(len(geoms)), zones)
    # Overlaps thinner than the tolerance between discs' chords are counted once too.
    area, _ = pieces.dissolved_area(
        np.array(["a", "b"]), shapely.area, width=0.001, phantoms_once=True
    )
    for code, zone in (("a", 0), ("b", 1)):
        members = [g for g, z in zip(geoms, zones, strict=True) if z == zone]
        if not members:
            assert code not in area.index
            continue
        expected = shapely.union_all(members).area
        assert area[code] == pytest.approx(expected, rel=1e-9, abs=1e-9)

"""Contiguous farmland blocks, checked on grids whose gaps are known by construction."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Polygon, box

import geozones
from geozones.analysis.blocks import (
    BLOCK_CLASSES,
    _neighbour_pairs,
    _sort_parcels,
    block_class,
    farmland_blocks,
    fragmentation,
)
from geozones.errors import (
    CRSError,
    CRSReprojectionWarning,
    FieldError,
    GeometryError,
    GeometryRepairWarning,
    GeometryTypeWarning,
    MissingCRSError,
    MissingOutlinesWarning,
)

ZONE39 = "EPSG:4527"
X, Y = 39_580_000.0, 3_150_000.0  # 80 km east of the central meridian
MERIDIAN = 39_500_000.0  # the central meridian of zone 39: planar ≈ ellipsoidal
MU = 2000.0 / 3.0
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def layer(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=ZONE39)


def row_of_squares(gaps, *, side=100.0, x0=X, y0=Y, rows=1):
    """Squares of `side` m in columns separated by `gaps` (m); `rows` rows sharing edges."""
    lefts = x0 + np.concatenate([[0.0], np.cumsum(np.asarray(gaps, dtype=float) + side)])
    return [
        box(left, y0 + row * side, left + side, y0 + (row + 1) * side)
        for row in range(rows)
        for left in lefts
    ]


def ellipsoidal(geoms) -> np.ndarray:
    return geozones.area(gpd.GeoSeries(list(geoms), crs=ZONE39)).to_numpy()


# ------------------------------------------------------------------------------------------
# the gap tolerance


def test_8m_road_joins_at_10m_tolerance_and_12m_road_does_not():
    # Columns 0 | 8 m road | 1 | 12 m road | 2, two rows sharing edges.
    parcels = layer(row_of_squares([8.0, 12.0], rows=2), BSM=[f"p{i}" for i in range(6)])
    parcel_block, blocks, skipped, _ = farmland_blocks(parcels, tolerance_m=10.0)
    # Row 0 is columns 0, 1, 2; row 1 likewise: columns 0 and 1 form block 1.
    assert parcel_block.tolist() == [1, 1, 2, 1, 1, 2]
    assert blocks["parcels"].tolist() == [4, 2]
    areas = ellipsoidal(parcels.geometry)
    assert blocks["area_m2"].tolist() == pytest.approx(
        [areas[[0, 1, 3, 4]].sum(), areas[[2, 5]].sum()], rel=1e-15
    )
    # 80 km from the central meridian the plane is 1.6e-4 larger than the ellipsoid.
    assert blocks["area_mu"].tolist() == pytest.approx([60.0, 30.0], rel=2e-4)
    assert blocks["area_ha"].tolist() == pytest.approx([4.0, 2.0], rel=2e-4)
    assert blocks["area_mu"].tolist() == pytest.approx((blocks["area_m2"] / MU).tolist())
    assert len(skipped) == 0
    assert parcel_block.dtype == "Int64" and parcel_block.name == "block"


def test_roads_are_bridged_only_up_to_the_tolerance():
    parcels = layer(row_of_squares([8.0, 12.0]))
    assert farmland_blocks(parcels, tolerance_m=7.9).parcel_block.tolist() == [1, 2, 3]
    assert farmland_blocks(parcels, tolerance_m=12.0).parcel_block.tolist() == [1, 1, 1]
    assert farmland_blocks(parcels, tolerance_m=0.0).parcel_block.tolist() == [1, 2, 3]


def test_a_gap_of_exactly_the_tolerance_is_bridged():
    # Coordinates on whole metres: the gap is exactly 10.0 in floating point.
    exact = layer(row_of_squares([10.0]))
    wider = layer(row_of_squares([10.001]))
    assert farmland_blocks(exact, tolerance_m=10.0).parcel_block.tolist() == [1, 1]
    assert farmland_blocks(wider, tolerance_m=10.0).parcel_block.tolist() == [1, 2]


def test_diagonal_gap_is_measured_as_a_distance_not_per_axis():
    # Corners 7 m apart in x and 7 m in y: 9.9 m apart.
    parcels = layer([box(X, Y, X + 100, Y + 100), box(X + 107, Y + 107, X + 207, Y + 207)])
    assert farmland_blocks(parcels, tolerance_m=9.8).parcel_block.tolist() == [1, 2]
    assert farmland_blocks(parcels, tolerance_m=9.9).parcel_block.tolist() == [1, 1]


def test_parcels_sharing_an_edge_or_a_corner_join_at_zero_tolerance():
    parcels = layer(
        [
            box(X, Y, X + 100, Y + 100),
            box(X + 100, Y, X + 200, Y + 100),  # shares an edge with the first
            box(X + 200, Y + 100, X + 300, Y + 200),  # shares a corner with the second
        ]
    )
    assert farmland_blocks(parcels, tolerance_m=0.0).parcel_block.tolist() == [1, 1, 1]


def test_neighbour_pairs_are_those_of_the_strtree_dwithin_query():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        farmland = geozones.read_layer(SAMPLE / "YJJBNT.shp")
    geoms = np.asarray(farmland.geometry.array)
    geoms = geoms[~shapely.is_missing(geoms)]
    for tolerance in (0.0, 5.0, 9.0, 30.0):
        left, right = _neighbour_pairs(geoms, tolerance)
        a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
        expected = {(i, j) for i, j in zip(a.tolist(), b.tolist(), strict=True) if i < j}
        assert set(zip(left.tolist(), right.tolist(), strict=True)) == expected
        assert len(left) == len(expected)  # each pair once


def _pairs_with_vertices(layer_, tolerance):
    from geozones.measure.area import measured_polygons

    measured = measured_polygons(layer_, layer_.crs, purpose="test")
    keep = ~shapely.is_missing(measured.geoms) & ~shapely.is_empty(measured.geoms)
    geoms = measured.geoms[keep]
    vertices = (measured.coords, measured.first[keep], measured.stop[keep])
    left, right = _neighbour_pairs(geoms, tolerance, None, vertices)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
    expected = {(i, j) for i, j in zip(a.tolist(), b.tolist(), strict=True) if i < j}
    return set(zip(left.tolist(), right.tolist(), strict=True)), expected, len(left)


def test_neighbour_pairs_settled_from_vertices_are_those_of_dwithin():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        farmland = geozones.read_layer(SAMPLE / "YJJBNT.shp")
    for tolerance in (0.0, 5.0, 9.0, 30.0):
        found, expected, count = _pairs_with_vertices(farmland, tolerance)
        assert found == expected
        assert count == len(expected)


def test_neighbour_pairs_at_the_edge_of_the_tolerance_are_those_of_dwithin():
    """Rotated, jittered parcels whose gaps are the tolerance to within a few ulps."""
    rng = np.random.default_rng(3)
    polygons = []
    for k in range(400):
        angle = rng.uniform(0, np.pi)
        u = np.array([np.cos(angle), np.sin(angle)])
        n = np.array([-u[1], u[0]])
        origin = np.array([X + 500.0 * (k % 20), Y + 500.0 * (k // 20)])
        width, depth = rng.uniform(20, 120, 2)
        gap = 10.0 + float(rng.choice([-1e-6, -1e-9, 0.0, 1e-9, 1e-6, 2.0, -2.0]))
        first = [origin, origin + width * u, origin + width * u + depth * n, origin + depth * n]
        shift = (depth + gap) * n + rng.uniform(-30, 30) * u
        second = [p + shift for p in first]
        if rng.random() < 0.5:  # a notch: the second parcel is not convex
            second.insert(1, second[0] + 0.5 * width * u + 0.3 * depth * n)
        polygons += [Polygon(first), Polygon(second)]
    parcels = gpd.GeoSeries(polygons, crs=ZONE39)
    for tolerance in (10.0, 9.0, 0.0):
        found, expected, count = _pairs_with_vertices(parcels, tolerance)
        assert found == expected
        assert count == len(expected)


# ------------------------------------------------------------------------------------------
# barriers


def four_by_four(gap=8.0):
    """A 4 × 4 grid of 100 m parcels: rows share edges; an `gap` m road between columns 1, 2."""
    return layer(row_of_squares([0.0, gap, 0.0], rows=4))


def test_a_river_polygon_in_the_road_splits_the_block():
    parcels = four_by_four()
    assert farmland_blocks(parcels).blocks["parcels"].tolist() == [16]
    # The river runs along the road, 4 m wide, and beyond the grid at both ends.
    river = gpd.GeoSeries([box(X + 202, Y - 50, X + 206, Y + 450)], crs=ZONE39)
    parcel_block, blocks, *_ = farmland_blocks(parcels, barriers=river)
    assert blocks["parcels"].tolist() == [8, 8]
    columns = np.tile(np.arange(4), 4)
    assert set(parcel_block[columns < 2]) == {1} and set(parcel_block[columns >= 2]) == {2}


def test_a_river_line_splits_the_block_and_a_short_one_does_not():
    parcels = four_by_four()
    line = gpd.GeoDataFrame(
        {"name": ["canal"]}, geometry=[LineString([(X + 204, Y - 10), (X + 204, Y + 410)])]
    ).set_crs(ZONE39)
    assert farmland_blocks(parcels, barriers=line).blocks["parcels"].tolist() == [8, 8]
    # A line covering only the first row's road leaves the other rows joined.
    short = gpd.GeoSeries([LineString([(X + 204, Y - 10), (X + 204, Y + 99)])], crs=ZONE39)
    assert farmland_blocks(parcels, barriers=short).blocks["parcels"].tolist() == [16]


def test_barrier_beside_the_road_but_not_across_it_does_not_split():
    parcels = four_by_four()
    # A pond north of the grid, touching the road's end, and a line along the outer edge.
    pond = box(X + 200, Y + 400, X + 208, Y + 460)
    edge = LineString([(X - 5, Y), (X - 5, Y + 400)])
    barriers = gpd.GeoSeries([pond, edge], crs=ZONE39)
    assert farmland_blocks(parcels, barriers=barriers).blocks["parcels"].tolist() == [16]


def test_parcels_sharing_an_edge_stay_joined_across_a_barrier():
    # A river drawn over a row of parcels that share edges (no gap to cross) joins nothing
    # apart: touching parcels are one block whatever lies on top.
    parcels = layer(row_of_squares([0.0, 0.0]))
    river = gpd.GeoSeries([box(X + 90, Y - 20, X + 110, Y + 120)], crs=ZONE39)
    line = gpd.GeoSeries([LineString([(X + 200, Y - 20), (X + 200, Y + 120)])], crs=ZONE39)
    assert farmland_blocks(parcels, barriers=river).parcel_block.tolist() == [1, 1, 1]
    assert farmland_blocks(parcels, barriers=line).parcel_block.tolist() == [1, 1, 1]


def test_a_barrier_line_through_a_shared_corner_separates_corner_neighbours():
    parcels = layer([box(X, Y, X + 100, Y + 100), box(X + 100, Y + 100, X + 200, Y + 200)])
    line = gpd.GeoSeries([LineString([(X + 150, Y + 50), (X + 50, Y + 150)])], crs=ZONE39)
    assert farmland_blocks(parcels).parcel_block.tolist() == [1, 1]
    assert farmland_blocks(parcels, barriers=line).parcel_block.tolist() == [1, 2]


def test_a_short_barrier_in_a_diagonal_gap_cuts_the_join():
    # Corners 9.9 m apart; the barrier's box meets neither parcel's box.
    parcels = layer([box(X, Y, X + 100, Y + 100), box(X + 107, Y + 107, X + 207, Y + 207)])
    ditch = LineString([(X + 102, Y + 105), (X + 105, Y + 102)])
    barriers = gpd.GeoSeries([ditch], crs=ZONE39)
    assert farmland_blocks(parcels).parcel_block.tolist() == [1, 1]
    assert farmland_blocks(parcels, barriers=barriers).parcel_block.tolist() == [1, 2]


def test_barriers_in_another_crs_are_reprojected_with_a_warning():
    parcels = four_by_four()
    river = gpd.GeoSeries([box(X + 202, Y - 50, X + 206, Y + 450)], crs=ZONE39).to_crs(4490)
    with pytest.warns(CRSReprojectionWarning, match="barrier"):
        blocks = farmland_blocks(parcels, barriers=river).blocks
    assert blocks["parcels"].tolist() == [8, 8]


def test_point_barriers_are_refused():
    points = gpd.GeoSeries([shapely.Point(X, Y)], crs=ZONE39)
    with pytest.raises(GeometryError, match="points"):
        farmland_blocks(four_by_four(), barriers=points)


# ------------------------------------------------------------------------------------------
# classes


@pytest.mark.parametrize("area_mu", [100.0, 1_000.0, 10_000.0])
def test_block_class_starts_exactly_at_its_threshold(area_mu):
    k = [100.0, 1_000.0, 10_000.0].index(area_mu) + 1
    classes = list(block_class([np.nextafter(area_mu, 0.0), area_mu, np.nan]))
    assert classes[:2] == [BLOCK_CLASSES[k - 1], BLOCK_CLASSES[k]]
    assert pd.isna(classes[2])


def three_by_three(side: float, x0: float) -> list[Polygon]:
    """Nine squares of `side` m, 8 m roads between them: one block at a 10 m tolerance."""
    step = side + 8.0
    return [
        box(x0 + i * step, Y + j * step, x0 + i * step + side, Y + j * step + side)
        for i in range(3)
        for j in range(3)
    ]


def side_for(target_mu: float, x0: float) -> tuple[float, float]:
    """Sides just below and at or above `target_mu` for the nine squares (ellipsoidal)."""

    def total(side: float) -> float:
        return float(ellipsoidal(three_by_three(side, x0)).sum()) / MU

    low, high = np.sqrt(target_mu * MU / 9) * np.array([0.999, 1.001])
    assert total(low) < target_mu <= total(high)
    while high - low > 1e-9:
        middle = 0.5 * (low + high)
        low, high = (middle, high) if total(middle) < target_mu else (low, middle)
    return low, high


@pytest.mark.parametrize(
    ("target_mu", "below", "at"),
    [(100.0, "<100亩", "百亩方"), (1_000.0, "百亩方", "千亩方"), (10_000.0, "千亩方", "万亩方")],
)
@pytest.mark.parametrize("x0", [MERIDIAN, X + 60_000])
def test_block_of_exactly_the_threshold_area_is_in_the_class(target_mu, below, at, x0):
    # Gaps are 8 m: the roads are never counted, only the nine parcels' ellipsoidal area.
    side_below, side_at = side_for(target_mu, x0)
    just_below = farmland_blocks(layer(three_by_three(side_below, x0))).blocks
    at_threshold = farmland_blocks(layer(three_by_three(side_at, x0))).blocks
    assert len(just_below) == len(at_threshold) == 1
    assert just_below["area_mu"].iloc[0] < target_mu <= at_threshold["area_mu"].iloc[0]
    assert at_threshold["area_mu"].iloc[0] == pytest.approx(target_mu, abs=1e-6)
    assert just_below["area_mu"].iloc[0] == pytest.approx(target_mu, abs=1e-6)
    assert just_below["class"].iloc[0] == below
    assert at_threshold["class"].iloc[0] == at


def test_class_column_is_ordered_categorical():
    blocks = farmland_blocks(layer(row_of_squares([8.0]))).blocks
    assert list(blocks["class"].cat.categories) == list(BLOCK_CLASSES)
    assert blocks["class"].cat.ordered


# ------------------------------------------------------------------------------------------
# zones and fragmentation


# On the central meridian, where areas by hand (planar) agree with ellipsoidal ones to 1e-6.
CX = MERIDIAN


def counties() -> gpd.GeoDataFrame:
    """Three 2 km × 2 km counties in a row; two in city 9901, one in city 9902."""
    return gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121", "990202"]},
        geometry=[box(CX + i * 2000, Y, CX + (i + 1) * 2000, Y + 2000) for i in range(3)],
        crs=ZONE39,
    )


def straddling() -> gpd.GeoDataFrame:
    """A 180 亩 block across the 990102 | 990121 line (120 亩 west, 60 亩 east, 8 m road at the
    line), a 15 亩 parcel in 990121, and a 150 亩 block in 990202."""
    line = CX + 2000
    return layer(
        [
            box(line - 404, Y, line - 4, Y + 200),  # 80,000 m²: 120 亩, in 990102
            box(line + 4, Y, line + 204, Y + 200),  # 40,000 m²: 60 亩, in 990121
            box(line + 1000, Y + 1000, line + 1100, Y + 1100),  # 15 亩, in 990121
            box(CX + 4500, Y, CX + 4800, Y + 1000 / 3),  # 150 亩 in 990202
        ],
        BSM=["a", "b", "c", "d"],
    )


def test_blocks_crossing_a_county_line_lie_in_both_counties():
    result = farmland_blocks(straddling(), zones=counties(), zone_field="XZQDM")
    assert result.parcel_block.tolist() == [1, 1, 3, 2]
    assert result.blocks["zone"].tolist() == ["990102,990121", "990202", "990121"]
    assert result.parcels["zone"].tolist() == ["990102", "990121", "990121", "990202"]
    assert result.blocks["class"].tolist() == ["百亩方", "百亩方", "<100亩"]


def test_parcels_outside_every_zone_are_warned_about():
    parcels = layer([*straddling().geometry, box(CX - 500, Y, CX - 400, Y + 100)])
    with pytest.warns(UserWarning, match="1 parcel.*outside every zone"):
        result = farmland_blocks(parcels, zones=counties(), zone_field="XZQDM")
    assert result.parcels["zone"].isna().tolist() == [False] * 4 + [True]


def test_fragmentation_by_hand():
    result = farmland_blocks(straddling())
    table = fragmentation(
        result, counties(), zone_field="XZQDM", levels=("county", "city", "province")
    )
    assert table.index.tolist() == [
        "990102", "990121", "990202", "990100", "990200", "990000"
    ]  # fmt: skip
    assert table["level"].tolist() == ["county"] * 3 + ["city"] * 2 + ["province"]
    rows = table
    approx = {"rel": 1e-5}
    # 990102: the west part of the 180 亩 block. 990121: its east part and the 15 亩 parcel.
    assert rows["farmland_area"].tolist() == pytest.approx([120, 75, 150, 195, 150, 345], **approx)
    assert rows["blocks"].tolist() == [1, 2, 1, 2, 1, 3]
    assert rows["blocks_under_100mu"].tolist() == [0, 1, 0, 1, 0, 1]
    assert rows["blocks_100mu"].tolist() == [1, 1, 1, 1, 1, 2]
    assert rows["blocks_1000mu"].tolist() == [0] * 6
    assert rows["area_100mu"].tolist() == pytest.approx([120, 60, 150, 180, 150, 330], **approx)
    assert rows["area_under_100mu"].tolist() == pytest.approx([0, 15, 0, 15, 0, 15], **approx)
    assert rows["percent_100mu_plus"].tolist() == pytest.approx(
        [100, 80, 100, 180 / 195 * 100, 100, 330 / 345 * 100], **approx
    )
    assert rows["mean_block_area"].tolist() == pytest.approx(
        [120, 37.5, 150, 97.5, 150, 115], **approx
    )
    assert rows["largest_block_area"].tolist() == pytest.approx(
        [120, 60, 150, 180, 150, 180], **approx
    )
    assert rows["largest_block_percent"].tolist() == pytest.approx(
        [100, 80, 100, 180 / 195 * 100, 100, 180 / 345 * 100], **approx
    )
    assert rows["crossing_blocks"].tolist() == [1, 1, 0, 0, 0, 0]
    assert rows["zone_area"].tolist() == pytest.approx(
        [6000, 6000, 6000, 12000, 6000, 18000], **approx
    )
    assert table.attrs["unit"] == "mu" and table.attrs["tolerance_m"] == 10.0


def test_edge_density_is_outline_length_per_hectare_of_zone():
    # One 100 m square in a 2 km × 2 km county: 400 m of edge over 400 ha.
    parcels = layer([box(CX + 500, Y + 500, CX + 600, Y + 600)])
    table = fragmentation(farmland_blocks(parcels), counties(), zone_field="XZQDM", unit="ha")
    assert table.loc["990102", "edge_m"] == pytest.approx(400.0)
    zone_ha = geozones.area(counties().iloc[:1], unit="ha").iloc[0]
    assert table.loc["990102", "edge_density"] == pytest.approx(400.0 / zone_ha, rel=1e-12)
    assert table.loc["990102", "zone_area"] == pytest.approx(zone_ha, rel=1e-12)
    assert table.loc["990121", "edge_m"] == 0.0


def test_edge_of_a_straddling_block_is_split_at_the_county_line():
    result = farmland_blocks(straddling())
    table = fragmentation(result, counties(), zone_field="XZQDM", levels=("county", "city"))
    outline = result.blocks.geometry.iloc[0]
    # The 8 m road is closed in the outline: one rectangle 608 m × 200 m.
    assert outline.area == pytest.approx(608 * 200, rel=1e-12)
    west, east = table.loc["990102", "edge_m"], table.loc["990121", "edge_m"]
    assert west == pytest.approx(404 + 404 + 200, rel=1e-12)
    assert east == pytest.approx(204 + 204 + 200 + 400, rel=1e-12)
    # Cut at the county line, the outline's length is shared out exactly.
    assert west + east == pytest.approx(outline.length + 400, rel=1e-12)
    city = table[table["level"] == "city"]
    assert city.loc["990100", "edge_m"] == pytest.approx(west + east, rel=1e-12)


def test_a_rim_along_a_county_line_is_edge_of_the_county_holding_the_block():
    # A 100 m square against the 990102 | 990121 line, on the west side only.
    parcels = layer([box(CX + 1900, Y + 500, CX + 2000, Y + 600)])
    table = fragmentation(farmland_blocks(parcels), counties(), zone_field="XZQDM")
    assert table["edge_m"].tolist() == pytest.approx([400.0, 0.0, 0.0], abs=1e-9)
    assert table["blocks"].tolist() == [1, 0, 0]


def test_fragmentation_in_hectares_and_without_outlines():
    result = farmland_blocks(straddling(), outline=False)
    assert result.blocks.geometry.isna().all()
    with pytest.warns(MissingOutlinesWarning, match="no outlines"):
        table = fragmentation(result, counties(), zone_field="XZQDM", unit="ha")
    assert table["farmland_area"].tolist() == pytest.approx([8, 5, 10], rel=1e-5)
    assert table["edge_density"].isna().all()


def test_fragmentation_errors_name_the_problem():
    result = farmland_blocks(straddling())
    with pytest.raises(FieldError, match="'QHDM'"):
        fragmentation(result, counties(), zone_field="QHDM")
    names = counties().assign(name=["a", "b", "c"])
    with pytest.raises(FieldError, match="6-digit"):
        fragmentation(result, names, zone_field="name", levels=("city",))
    with pytest.raises(ValueError, match="unknown level"):
        fragmentation(result, counties(), zone_field="XZQDM", levels=("town",))


# ------------------------------------------------------------------------------------------
# missing and invalid parcels, outlines, CRS


def test_null_and_empty_parcels_are_in_no_block_and_reported():
    bowtie = Polygon([(X, Y + 300), (X + 100, Y + 400), (X + 100, Y + 300), (X, Y + 400)])
    collapsed = Polygon([(X, Y + 600), (X + 50, Y + 600), (X + 100, Y + 600)])  # no area
    geoms = [*row_of_squares([8.0]), None, Polygon(), bowtie, collapsed]
    parcels = layer(geoms, BSM=["a", "b", "null", "empty", "bowtie", "collapsed"])
    with (
        pytest.warns(GeometryTypeWarning, match="3 farmland parcel"),
        pytest.warns(GeometryRepairWarning, match="2 invalid"),
    ):
        result = farmland_blocks(parcels)
    unplaced = [False, False, True, True, False, True]
    assert result.parcel_block.isna().tolist() == unplaced
    assert result.skipped["BSM"].tolist() == ["null", "empty", "collapsed"]
    assert result.skipped["reason"].tolist() == [
        "null geometry",
        "empty geometry",
        "empty after repair",
    ]
    # The bow-tie is repaired (two triangles, 5,000 m²) and forms its own block.
    assert result.blocks["parcels"].tolist() == [2, 1]
    bowtie_area = result.blocks.loc[result.parcel_block.iloc[4], "area_m2"]
    assert bowtie_area == pytest.approx(5000.0, rel=1e-3)
    assert result.parcels["area_m2"].isna().tolist() == unplaced
    # Every parcel with a geometry is in exactly one block; the counts add up.
    assert result.blocks["parcels"].sum() == result.parcel_block.notna().sum() == 3


def test_outline_closes_the_roads_without_changing_the_figures():
    parcels = four_by_four()
    with_outline = farmland_blocks(parcels)
    without = farmland_blocks(parcels, outline=False)
    pd.testing.assert_frame_equal(
        pd.DataFrame(with_outline.blocks.drop(columns="geometry")),
        pd.DataFrame(without.blocks.drop(columns="geometry")),
    )
    outline = with_outline.blocks.geometry.iloc[0]
    assert outline.is_valid
    assert outline.area == pytest.approx(408 * 400, rel=1e-12)  # the road is filled
    assert with_outline.blocks["area_m2"].iloc[0] == pytest.approx(
        ellipsoidal(parcels.geometry).sum(), rel=1e-15
    )
    assert shapely.covers(outline.buffer(1e-6), parcels.union_all())


def test_a_one_parcel_block_is_outlined_by_the_parcel():
    # A 4 m wide notch, narrower than the tolerance: a closing would fill it.
    corners = [(100, 0), (100, 100), (52, 100), (52, 50), (48, 50), (48, 100), (0, 100), (0, 0)]
    notched = Polygon([(X + dx, Y + dy) for dx, dy in corners])
    blocks = farmland_blocks(layer([notched])).blocks
    assert blocks.geometry.iloc[0].equals(notched)


def test_distances_need_a_crs_in_metres():
    parcels = layer(row_of_squares([8.0]))
    with pytest.raises(CRSError, match="metres"):
        farmland_blocks(parcels.to_crs(4490))
    with pytest.raises(CRSError, match="metres"):
        farmland_blocks(parcels.to_crs(3857))
    with pytest.raises(MissingCRSError):
        farmland_blocks(parcels.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="tolerance_m"):
        farmland_blocks(parcels, tolerance_m=-1.0)


def test_a_geoseries_works_too():
    result = farmland_blocks(gpd.GeoSeries(row_of_squares([8.0, 12.0]), crs=ZONE39))
    assert result.parcel_block.tolist() == [1, 1, 2]
    assert result.skipped.empty


# ------------------------------------------------------------------------------------------
# ids and invariants


def test_block_ids_run_south_to_north_and_do_not_depend_on_row_order():
    parcels = layer(
        [
            box(X, Y + 1000, X + 100, Y + 1100),  # north
            box(X + 500, Y, X + 600, Y + 100),  # south-east
            box(X, Y, X + 100, Y + 100),  # south-west
            box(X + 108, Y + 1000, X + 208, Y + 1100),  # joins the north one
        ],
        BSM=list("abcd"),
    )
    first = farmland_blocks(parcels).parcel_block
    assert first.tolist() == [3, 2, 1, 3]
    shuffled = parcels.iloc[[3, 1, 0, 2]]
    assert farmland_blocks(shuffled).parcel_block.sort_index().equals(first)
    renumbered = farmland_blocks(shuffled.reset_index(drop=True)).parcel_block
    assert renumbered.tolist() == first.iloc[[3, 1, 0, 2]].tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 3)] * 5), min_size=1, max_size=40))
def test_parcels_are_sorted_by_all_five_keys_whatever_the_ties(keys):
    # Few distinct values: many ties in ymin, some in every key.
    ymin, xmin, ymax, xmax, area = np.asarray(keys, dtype=float).T
    bounds = np.column_stack([xmin, ymin, xmax, ymax])
    order = _sort_parcels(bounds, area)
    expected = np.lexsort((area, xmax, ymax, xmin, ymin))
    assert np.array_equal(np.asarray(keys)[order], np.asarray(keys)[expected])


def grid_oracle(boxes: list[tuple[float, float, float, float]], tolerance: float) -> list[set]:
    """Blocks of axis-aligned boxes by plain union-find on box distances."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            dx = max(0.0, b[0] - a[2], a[0] - b[2])
            dy = max(0.0, b[1] - a[3], a[1] - b[3])
            if dx * dx + dy * dy <= tolerance * tolerance:
                parent[root(i)] = root(j)
    groups: dict[int, set] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), set()).add(i)
    return sorted(groups.values(), key=min)


# No gap equals a tolerance but 0: exactly-at-tolerance gaps are tested on their own above.
GAPS = st.sampled_from([0.0, 3.0, 8.0, 9.5, 11.0, 13.0, 30.0])


@settings(max_examples=40, deadline=None)
@given(
    column_gaps=st.lists(GAPS, min_size=0, max_size=5),
    row_gaps=st.lists(GAPS, min_size=0, max_size=4),
    widths=st.lists(st.integers(20, 300), min_size=6, max_size=6),
    keep=st.lists(st.booleans(), min_size=30, max_size=30),
    x_offset=st.integers(-150_000, 150_000),
    tolerance=st.sampled_from([0.0, 5.0, 10.0, 12.0]),
    shuffle=st.randoms(use_true_random=False),
)
def test_grids_group_like_the_oracle_whatever_the_row_order(
    column_gaps, row_gaps, widths, keep, x_offset, tolerance, shuffle
):
    x_edges = np.cumsum([0.0] + [w + g for w, g in zip(widths, column_gaps, strict=False)])
    y_edges = np.cumsum([0.0] + [w + g for w, g in zip(widths[::-1], row_gaps, strict=False)])
    boxes = [
        (
            MERIDIAN + x_offset + x,
            Y + y,
            MERIDIAN + x_offset + x + widths[i],
            Y + y + widths[-1 - j],
        )
        for i, x in enumerate(x_edges)
        for j, y in enumerate(y_edges)
        if keep[(i * len(y_edges) + j) % len(keep)]
    ]
    if not boxes:
        return
    parcels = layer([box(*b) for b in boxes], BSM=[f"p{i}" for i in range(len(boxes))])
    result = farmland_blocks(parcels, tolerance_m=tolerance, outline=False)

    groups = result.parcel_block.groupby(result.parcel_block).groups
    found = sorted((set(index) for index in groups.values()), key=min)
    assert found == grid_oracle(boxes, tolerance)
    # Every parcel in exactly one block; the block areas add up to the farmland's area.
    assert result.parcel_block.notna().all()
    assert result.blocks["parcels"].sum() == len(parcels)
    total = geozones.area(parcels).sum()
    assert result.blocks["area_m2"].sum() == pytest.approx(total, rel=1e-12)

    order = list(range(len(parcels)))
    shuffle.shuffle(order)
    again = farmland_blocks(parcels.iloc[order], tolerance_m=tolerance, outline=False)
    assert again.parcel_block.sort_index().equals(result.parcel_block)
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.blocks.drop(columns="geometry")),
        pd.DataFrame(result.blocks.drop(columns="geometry")),
        check_exact=True,
    )


# ------------------------------------------------------------------------------------------
# the sample province


@pytest.fixture(scope="module")
def sample_blocks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        farmland = geozones.read_layer(SAMPLE / "YJJBNT.shp")
        counties = geozones.read_layer(SAMPLE / "sanqusanxian.gpkg", "XZQ")
        result = farmland_blocks(farmland, tolerance_m=9.0, zones=counties, zone_field="XZQDM")
    return farmland, counties, result


def test_sample_farmland_has_the_blocks_its_readme_counts(sample_blocks):
    # sample_data/README.md: 30 blocks, 1 万亩方, 8 千亩方, 16 百亩方, 5 smaller; the largest
    # is 15,030 亩 in 366 parcels.
    farmland, _, result = sample_blocks
    blocks = result.blocks
    assert len(blocks) == 30
    assert blocks["class"].value_counts().to_dict() == {
        "<100亩": 5, "百亩方": 16, "千亩方": 8, "万亩方": 1
    }  # fmt: skip
    largest = blocks.loc[blocks["area_mu"].idxmax()]
    assert round(largest["area_mu"]) == 15_030
    assert largest["parcels"] == 366
    # The null parcel is reported; every other parcel is in exactly one block.
    assert result.skipped["BSM"].tolist() == ["NT001277"]
    assert result.parcel_block.notna().sum() == len(farmland) - 1 == blocks["parcels"].sum()
    # No parcel crosses a county line, so neither does any block.
    assert not blocks["zone"].str.contains(",").any()


def test_sample_fragmentation_adds_up(sample_blocks):
    _, counties, result = sample_blocks
    table = fragmentation(
        result, counties, zone_field="XZQDM", levels=("county", "province"), unit="ha"
    )
    county = table[table["level"] == "county"]
    province = table.loc["990000"]
    assert county["blocks"].sum() == province["blocks"] == 30
    assert province["blocks_10000mu"] == 1
    assert province["farmland_area"] == pytest.approx(result.blocks["area_ha"].sum(), rel=1e-12)
    assert province["edge_m"] == pytest.approx(county["edge_m"].sum(), rel=1e-12)
    assert 99 < province["percent_100mu_plus"] < 100

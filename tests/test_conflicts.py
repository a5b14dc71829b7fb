"""Conflicts between the lines, checked against overlaps worked out by hand.

Areas are checked against Karney's geodesic area (pyproj's Geod on the CGCS2000 ellipsoid) of
the overlap polygon built by hand, and geometries against the hand-built polygon itself.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Polygon, box

import geozones
from geozones.analysis import conflicts as conflicts_module
from geozones.analysis.conflicts import (
    AUDIT_COLUMNS,
    CONFLICT_COLUMNS,
    conflict_summary,
    find_conflicts,
    overlap_count,
    resolve_conflicts,
)
from geozones.analysis.overlaps import overlapping_pieces
from geozones.errors import CRSReprojectionWarning, GeometryRepairWarning, OutsideZonesWarning
from geozones.io import validity
from geozones.measure.tolerance import split_thin_parts

ZONE39 = "EPSG:4527"  # CGCS2000 3-degree Gauss-Kruger zone 39, CM 117°E, easting prefix 39
CM39 = 39_500_000.0
X, Y = 39_580_000.0, 3_150_000.0  # 80 km east of the central meridian
EARTH_RADIUS = 6_371_000.0

_TO_LONLAT = pyproj.Transformer.from_crs(ZONE39, "EPSG:4490", always_xy=True)
_GEOD = pyproj.Geod(a=6378137.0, rf=298.257222101)


def karney(geom) -> float:
    """The oracle: area on the CGCS2000 ellipsoid of a zone-39 polygon with straight plane
    edges (each cut into 0.5 m pieces, whose geodesics follow it; Karney's polygon area)."""
    geom = shapely.segmentize(geom, 0.5)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(_TO_LONLAT.transform(*xy.T)))
    return abs(_GEOD.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def area_of(expected_geom):
    """`pytest.approx` of the Karney area; Karney's sums over the 0.5 m pieces have an absolute
    noise floor ~1e-3 m²."""
    return pytest.approx(karney(expected_geom), rel=1e-9, abs=1e-3)


def same_geometry(actual, expected) -> bool:
    return shapely.symmetric_difference(actual, expected).area < 1e-6


def layer(*bounds, ids=None, **fields) -> gpd.GeoDataFrame:
    """A zone-39 layer of boxes given as (xmin, ymin, xmax, ymax) offsets from (X, Y)."""
    geoms = [box(X + a, Y + b, X + c, Y + d) for a, b, c, d in bounds]
    return gpd.GeoDataFrame(fields or None, geometry=geoms, index=ids, crs=ZONE39)


def at(a, b, c, d):
    """A box given as offsets from (X, Y), like :func:`layer`."""
    return box(X + a, Y + b, X + c, Y + d)


def records(conflicts) -> list[tuple]:
    return [
        (r.layer_a, r.layer_b, r.id_a, r.id_b)
        for r in conflicts[["layer_a", "layer_b", "id_a", "id_b"]].itertuples()
    ]


# --- find_conflicts by hand ---------------------------------------------------------------


def test_box_overlaps_between_two_layers_by_hand():
    farmland = layer((0, 0, 100, 100), (300, 0, 400, 50), ids=["NT1", "NT2"])
    redline = layer((60, 20, 200, 70), (350, -10, 500, 100), ids=["HX1", "HX2"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conflicts = find_conflicts({"farmland": farmland, "redline": redline})

    assert list(conflicts.columns) == [*CONFLICT_COLUMNS, "geometry"]
    assert records(conflicts) == [
        ("farmland", "redline", "NT1", "HX1"),
        ("farmland", "redline", "NT2", "HX2"),
    ]
    expected = [at(60, 20, 100, 70), at(350, 0, 400, 50)]  # 40 m × 50 m and 50 m × 50 m
    assert [g.area for g in expected] == [2000.0, 2500.0]
    for piece, geom, area in zip(expected, conflicts.geometry, conflicts.area_m2, strict=True):
        assert same_geometry(geom, piece)
        assert area == area_of(piece)
    assert not conflicts["sliver"].any()
    assert conflicts["zone"].isna().all()
    assert conflicts.crs == ZONE39
    assert conflicts.attrs["unit"] == "m2"
    assert conflicts.attrs["method"] == "ellipsoidal"


def test_overlap_with_a_holed_polygon_excludes_the_hole():
    hole = at(200, 200, 400, 400)
    redline = gpd.GeoDataFrame(
        geometry=[Polygon(at(0, 0, 1000, 1000).exterior.coords, [hole.exterior.coords])],
        crs=ZONE39,
    )
    farmland = layer((100, 100, 500, 500))
    conflicts = find_conflicts({"farmland": farmland, "redline": redline})

    expected = Polygon(at(100, 100, 500, 500).exterior.coords, [hole.exterior.coords])
    assert expected.area == 400 * 400 - 200 * 200
    assert len(conflicts) == 1
    assert same_geometry(conflicts.geometry.iloc[0], expected)
    assert conflicts.area_m2.iloc[0] == area_of(expected)
    assert conflicts.area_m2.iloc[0] < karney(at(100, 100, 500, 500)) - 39_000


def triple() -> dict[str, gpd.GeoDataFrame]:
    return {
        "farmland": layer((0, 0, 300, 300)),
        "redline": layer((100, 100, 400, 400)),
        "urban": layer((200, 0, 500, 250)),
    }


def test_triple_overlap_gives_the_three_pairwise_pieces():
    conflicts = find_conflicts(triple())
    assert records(conflicts) == [
        ("farmland", "redline", 0, 0),
        ("farmland", "urban", 0, 0),
        ("redline", "urban", 0, 0),
    ]
    expected = [at(100, 100, 300, 300), at(200, 0, 300, 250), at(200, 100, 400, 250)]
    assert [g.area for g in expected] == [40_000, 25_000, 30_000]
    for geom, area, piece in zip(conflicts.geometry, conflicts.area_m2, expected, strict=True):
        assert same_geometry(geom, piece)
        assert area == area_of(piece)


def test_triple_overlap_count_faces():
    faces = overlap_count(triple())
    assert list(faces.columns) == ["count", "layers", "area_m2", "zone", "geometry"]

    triple_land = at(200, 100, 300, 250)  # inside all three: 100 m × 150 m
    assert triple_land.area == 15_000
    three = faces[faces["count"] == 3]
    assert three["layers"].tolist() == ["farmland+redline+urban"]
    assert same_geometry(three.geometry.iloc[0], triple_land)
    assert three.area_m2.iloc[0] == area_of(triple_land)

    # Land in exactly two layers, by hand: each pairwise box minus the triple box.
    two = {
        "farmland+redline": at(100, 100, 300, 300).difference(triple_land),
        "farmland+urban": at(200, 0, 300, 100),
        "redline+urban": at(300, 100, 400, 250),
    }
    assert {k: v.area for k, v in two.items()} == {
        "farmland+redline": 25_000,
        "farmland+urban": 10_000,
        "redline+urban": 15_000,
    }
    pairs = faces[faces["count"] == 2]
    assert set(pairs["layers"]) == set(two)
    for label, expected in two.items():
        rows = pairs[pairs["layers"] == label]
        assert same_geometry(shapely.union_all(rows.geometry.to_numpy()), expected)
        assert rows.area_m2.sum() == pytest.approx(karney(expected), rel=1e-9)
    assert_faces_do_not_overlap(faces)


def assert_faces_do_not_overlap(faces):
    geoms = faces.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    distinct = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[distinct]], geoms[right[distinct]]))
    assert (overlap < 1e-6).all()


def test_touching_edges_and_corners_are_not_conflicts():
    layers = {
        "farmland": layer((0, 0, 100, 100), (100, 0, 200, 100)),  # parcels sharing an edge
        "redline": layer((0, 100, 100, 200)),  # shares farmland's top edge
        "urban": layer((200, 100, 300, 200), (-50, -50, 0, 0)),  # corners only
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(find_conflicts(layers)) == 0
        assert len(overlap_count(layers)) == 0
        resolved, audit = resolve_conflicts(layers)
    assert len(audit) == 0
    for name, frame in resolved.items():
        assert (frame["resolution"] == "unchanged").all()
        assert frame.geometry.geom_equals(layers[name].geometry).all()


def test_overlapping_pieces_skips_touching_pairs():
    left = np.array([box(0, 0, 2, 2), box(5, 5, 6, 6)])
    right = np.array([box(2, 0, 3, 2), box(6, 6, 7, 7), box(1, 1, 5.5, 5.5)])
    i, j, pieces = overlapping_pieces(left, right)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 2), (1, 2)]
    assert shapely.area(pieces).tolist() == [1.0, 0.25]


def test_sliver_is_flagged_and_kept():
    farmland = layer((0, 0, 100, 100), (300, 0, 400, 100))
    redline = layer((99.5, 0, 300, 100), (350, 0, 500, 100))  # 0.5 m × 100 m; 50 m × 100 m
    conflicts = find_conflicts({"farmland": farmland, "redline": redline}, min_area_m2=200)

    assert records(conflicts) == [("farmland", "redline", 0, 0), ("farmland", "redline", 1, 1)]
    assert conflicts["sliver"].tolist() == [True, False]
    sliver = at(99.5, 0, 100, 100)
    assert sliver.area == 50
    assert same_geometry(conflicts.geometry.iloc[0], sliver)
    assert conflicts.area_m2.iloc[0] == area_of(sliver)
    assert conflicts.area_m2.iloc[1] == area_of(at(350, 0, 400, 100))
    assert conflicts.attrs["min_area_m2"] == 200


def test_within_layer_overlaps_and_duplicates():
    farmland = layer((0, 0, 100, 100), (50, 0, 150, 100), (0, 0, 100, 100), ids=["a", "b", "c"])
    redline = layer((1000, 0, 1100, 100))
    conflicts = find_conflicts({"farmland": farmland, "redline": redline})

    # Each unordered pair once, never a feature with itself; "c" duplicates "a".
    assert records(conflicts) == [
        ("farmland", "farmland", "a", "b"),
        ("farmland", "farmland", "a", "c"),
        ("farmland", "farmland", "b", "c"),
    ]
    expected = [at(50, 0, 100, 100), at(0, 0, 100, 100), at(50, 0, 100, 100)]
    for geom, area, piece in zip(conflicts.geometry, conflicts.area_m2, expected, strict=True):
        assert same_geometry(geom, piece)
        assert area == area_of(piece)

    assert len(find_conflicts({"farmland": farmland, "redline": redline}, within_layers=False)) == 0
    both = find_conflicts({"farmland": farmland, "redline": layer((90, 0, 200, 10))})
    assert sorted(set(zip(both.layer_a, both.layer_b, strict=True))) == [
        ("farmland", "farmland"),
        ("farmland", "redline"),
    ]
    across = find_conflicts(
        {"farmland": farmland, "redline": layer((90, 0, 200, 10))}, within_layers=False
    )
    assert records(across) == [
        ("farmland", "redline", "a", 0),
        ("farmland", "redline", "b", 0),
        ("farmland", "redline", "c", 0),
    ]


# --- zones --------------------------------------------------------------------------------


def counties() -> gpd.GeoDataFrame:
    """Two 10 km × 10 km counties side by side; the line between them at x = X + 10 km."""
    return gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121"]},
        geometry=[at(0, -5000, 10_000, 5000), at(10_000, -5000, 20_000, 5000)],
        crs=ZONE39,
    )


def test_piece_crossing_a_county_line_is_split_at_it():
    layers = {
        "farmland": layer((9900, 0, 10_100, 100), (2000, 0, 2100, 100)),
        "redline": layer((9950, -50, 10_200, 100), (2050, 0, 2200, 100)),
    }
    whole = find_conflicts(layers)
    split = find_conflicts(layers, zones=counties(), zone_field="XZQDM")

    assert records(split) == [
        ("farmland", "redline", 0, 0),
        ("farmland", "redline", 0, 0),
        ("farmland", "redline", 1, 1),
    ]
    assert split["zone"].tolist() == ["990102", "990121", "990102"]
    expected = [at(9950, 0, 10_000, 100), at(10_000, 0, 10_100, 100), at(2050, 0, 2100, 100)]
    for geom, area, piece in zip(split.geometry, split.area_m2, expected, strict=True):
        assert same_geometry(geom, piece)
        assert area == area_of(piece)
    # Ellipsoidal area is additive: the halves add up to the whole (the cut is exact here).
    assert split.area_m2.iloc[:2].sum() == pytest.approx(whole.area_m2.iloc[0], rel=1e-12)
    assert split.area_m2.sum() == pytest.approx(whole.area_m2.sum(), rel=1e-12)

    # Zone codes from the index when no field is named.
    by_index = find_conflicts(layers, zones=counties().set_index("XZQDM"))
    assert by_index["zone"].tolist() == ["990102", "990121", "990102"]

    summary = conflict_summary(split)
    assert summary[["zone", "layer_a", "layer_b", "pieces"]].values.tolist() == [
        ["990102", "farmland", "redline", 2],
        ["990121", "farmland", "redline", 1],
    ]
    assert summary["area_m2"].tolist() == [
        pytest.approx(karney(expected[0]) + karney(expected[2]), rel=1e-9),
        area_of(expected[1]),
    ]


def test_conflict_outside_every_zone_is_not_silently_lost():
    layers = {"farmland": layer((9900, 0, 10_100, 100)), "redline": layer((9950, 0, 10_200, 100))}
    only_first = counties().iloc[:1]  # the piece's eastern 100 m lie outside every zone
    whole = find_conflicts(layers).area_m2.sum()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split = find_conflicts(layers, zones=only_first, zone_field="XZQDM")
    assert split.area_m2.sum() == pytest.approx(whole, rel=1e-9)
    assert any(issubclass(w.category, OutsideZonesWarning) for w in caught)
    outside = split[split["zone"].isna()]
    assert len(outside) == 1
    assert outside.area_m2.iloc[0] == pytest.approx(karney(at(10_000, 0, 10_100, 100)), rel=1e-9)


# --- repair, CRSs, empty and large layers -------------------------------------------------


def test_bowtie_redline_is_repaired_and_its_overlap_found():
    bowtie = Polygon([(X, Y), (X + 200, Y + 200), (X + 200, Y), (X, Y + 200)])
    assert not bowtie.is_valid
    redline = gpd.GeoDataFrame({"BSM": ["HX1"]}, geometry=[bowtie], crs=ZONE39)
    farmland = layer((0, 0, 50, 200))
    with pytest.warns(GeometryRepairWarning, match=r"repaired 1 invalid.*redline"):
        conflicts = find_conflicts({"farmland": farmland, "redline": redline})

    # The left triangle of the bow-tie, cut at x = 50: a trapezoid of 50 × (200 + 100) / 2.
    expected = Polygon([(X, Y), (X + 50, Y + 50), (X + 50, Y + 150), (X, Y + 200)])
    assert expected.area == 7500
    assert len(conflicts) == 1
    assert same_geometry(conflicts.geometry.iloc[0], expected)
    assert conflicts.area_m2.iloc[0] == area_of(expected)


@pytest.mark.parametrize("geographic_first", [True, False])
def test_layers_in_different_crss_are_reprojected_with_a_warning(geographic_first):
    farmland = layer((0, 0, 100, 100), (300, 0, 400, 100))
    redline = layer((60, 20, 200, 70), (350, -10, 500, 100))
    expected = find_conflicts({"farmland": farmland, "redline": redline})

    geographic = farmland.to_crs("EPSG:4490")
    layers = (
        {"farmland": geographic, "redline": redline}
        if geographic_first
        else {"redline": redline, "farmland": geographic}
    )
    with pytest.warns(CRSReprojectionWarning) as caught:
        conflicts = find_conflicts(layers)
    (message,) = [str(w.message) for w in caught if w.category is CRSReprojectionWarning]
    assert "China Geodetic Coordinate System 2000" in message
    assert "CGCS2000 / 3-degree Gauss-Kruger zone 39" in message
    assert "farmland" in message
    assert conflicts.crs == ZONE39

    if not geographic_first:
        conflicts = conflicts.assign(
            layer_a=conflicts.layer_b, layer_b=conflicts.layer_a, id_a=conflicts.id_b
        ).assign(id_b=conflicts.id_a)
    assert records(conflicts) == records(expected)
    np.testing.assert_allclose(conflicts.area_m2, expected.area_m2, rtol=1e-7)
    for got, want in zip(conflicts.geometry, expected.geometry, strict=True):
        assert same_geometry(got, want)


def test_empty_layers_give_no_conflicts():
    empty = layer()
    parcels = layer((0, 0, 100, 100), (50, 0, 150, 100))
    layers = {"farmland": parcels, "redline": empty, "urban": empty}

    conflicts = find_conflicts(layers, within_layers=False, zones=counties(), zone_field="XZQDM")
    assert len(conflicts) == 0
    assert list(conflicts.columns) == [*CONFLICT_COLUMNS, "geometry"]
    nothing = find_conflicts({"farmland": empty, "redline": empty})
    assert len(nothing) == 0
    assert len(conflict_summary(nothing)) == 0
    assert len(overlap_count(layers)) == 0

    resolved, audit = resolve_conflicts(layers)
    assert len(audit) == 0
    assert list(audit.columns) == [*AUDIT_COLUMNS, "geometry"]
    assert [len(resolved[name]) for name in ("farmland", "redline", "urban")] == [2, 0, 0]
    assert (resolved["farmland"]["resolution"] == "unchanged").all()


def wiggly_polygon(cx, cy, radius, n=4000):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius * (1 + 0.08 * np.sin(7 * t) + 0.02 * np.sin(41 * t))
    return Polygon(np.c_[cx + r * np.cos(t), cy + r * np.sin(t)])


@pytest.mark.parametrize("giant_first", [True, False])
def test_one_giant_polygon_against_many_small_parcels(giant_first):
    giant = wiggly_polygon(X, Y + 100_000, 45_000)  # ~100 km across, 4,000 vertices
    xmin, ymin, xmax, ymax = giant.bounds
    grid = [
        (x, y)
        for x in np.linspace(xmin - 1000, xmax + 1000, 24)
        for y in np.linspace(ymin - 1000, ymax + 1000, 24)
    ]
    ring = shapely.get_coordinates(giant.exterior)[:-1:20]  # 200 parcels across the edge
    corners = [*grid, *(ring - [150, 100])]
    parcels = [box(x, y, x + 300, y + 200) for x, y in corners]
    farmland = gpd.GeoDataFrame(geometry=parcels, crs=ZONE39)
    redline = gpd.GeoDataFrame(geometry=[giant], crs=ZONE39, index=["HX"])
    layers = (
        {"redline": redline, "farmland": farmland}
        if giant_first
        else {"farmland": farmland, "redline": redline}
    )
    conflicts = find_conflicts(layers)

    cut = shapely.intersection(np.array(parcels), giant)
    expected = {i: piece for i, piece in enumerate(cut) if piece.area > 0}
    crossing = [i for i, piece in expected.items() if piece.area < parcels[i].area - 1e-6]
    assert len(expected) > 500 and len(crossing) > 150  # inside, outside and across the edge
    ids = conflicts["id_b" if giant_first else "id_a"].tolist()
    assert sorted(ids) == sorted(expected)
    assert set(conflicts["id_a" if giant_first else "id_b"]) == {"HX"}
    for i, geom in zip(ids, conflicts.geometry, strict=True):
        assert same_geometry(geom, expected[i])
    measured = dict(zip(ids, conflicts.area_m2, strict=True))
    for i in [*crossing[::10], *list(expected)[:20]]:
        assert measured[i] == area_of(expected[i])


# --- conflict_summary ---------------------------------------------------------------------


def hand_polygon(offsets):
    return Polygon([(X + dx, Y + dy) for dx, dy in offsets])


def test_summary_counts_land_once_and_slivers_apart():
    farmland = layer((0, 0, 100, 100), (0, 0, 100, 100), (50, 50, 150, 150))  # 0 and 1 twins
    redline = layer((60, 0, 200, 120), (-50, 99.6, 10, 200))  # the second grazes 0 and 1
    conflicts = find_conflicts({"farmland": farmland, "redline": redline}, min_area_m2=200)
    summary = conflict_summary(conflicts)

    assert summary[["layer_a", "layer_b", "pieces", "slivers"]].values.tolist() == [
        ["farmland", "farmland", 3, 0],
        ["farmland", "redline", 5, 2],
    ]
    assert summary["zone"].isna().all()
    # The unions by hand. They keep the corners of pieces that fall on their edges (on the
    # straight edge: the area does not change).
    # Farmland inside farmland: the twins' whole square (the third parcel's overlap is in it).
    square = hand_polygon([(0, 0), (100, 0), (100, 50), (100, 100), (50, 100), (0, 100)])
    assert square.area == 10_000
    assert same_geometry(square, at(0, 0, 100, 100))
    assert summary.area_m2.iloc[0] == area_of(square)
    assert summary.sliver_area_m2.iloc[0] == 0
    # Farmland in the red line: an L of 40 × 50 + 90 × 70 = 8,300 m², counted once.
    union = hand_polygon(
        [(60, 0), (100, 0), (100, 50), (150, 50), (150, 120), (60, 120), (60, 100), (60, 50)]
    )
    assert union.area == 8300
    assert summary.area_m2.iloc[1] == area_of(union)
    sliver = at(0, 99.6, 10, 100)  # 4 m², in both twins, counted once
    assert summary.sliver_area_m2.iloc[1] == pytest.approx(karney(sliver), rel=1e-7, abs=1e-4)
    assert sum(conflicts.area_m2[conflicts.sliver]) == pytest.approx(
        2 * karney(sliver), rel=1e-7, abs=1e-4
    )


def test_a_sliver_adds_only_what_lies_outside_the_other_pieces():
    farmland = layer((0, 0, 100, 100))
    # the first red-line polygon takes half the parcel; a sliver inside that half adds
    # nothing, one half outside it adds 10 m × 5 m
    redline = layer((50, 0, 200, 100), (90, 90, 110, 105), (40, 0, 55, 5))
    conflicts = find_conflicts({"farmland": farmland, "redline": redline}, min_area_m2=200)
    summary = conflict_summary(conflicts).set_index(["layer_a", "layer_b"])
    row = summary.loc[("farmland", "redline")]
    assert (row["pieces"], row["slivers"]) == (3, 2)
    assert row["area_m2"] == area_of(at(50, 0, 100, 100))
    assert row["sliver_area_m2"] == pytest.approx(karney(at(40, 0, 50, 5)), rel=1e-7, abs=1e-4)


def test_a_sliver_is_not_covered_by_pieces_of_another_layer_pair():
    # The farmland's sliver with the red line lies inside its overlap with the urban boundary:
    # another row's land, so the whole sliver is added to the farmland / red-line row.
    farmland = layer((0, 0, 100, 100))
    redline = layer((90, 0, 200, 100), (0, 40, 5, 60))  # a 50 m² sliver at the west edge
    urban = layer((0, 0, 20, 100))
    conflicts = find_conflicts(
        {"farmland": farmland, "redline": redline, "urban": urban}, min_area_m2=200
    )
    summary = conflict_summary(conflicts).set_index(["layer_a", "layer_b"])
    row = summary.loc[("farmland", "redline")]
    assert (row["pieces"], row["slivers"]) == (2, 1)
    assert row["sliver_area_m2"] == pytest.approx(karney(at(0, 40, 5, 60)), rel=1e-7, abs=1e-4)
    assert summary.loc[("farmland", "urban"), "sliver_area_m2"] == 0


# --- resolve_conflicts --------------------------------------------------------------------


def three_lines() -> dict[str, gpd.GeoDataFrame]:
    return {
        "farmland": layer((0, 0, 100, 100), ids=["NT1"], BSM=["NT1"], DLMC=["水田"]),
        "redline": layer((60, 0, 200, 100), ids=["HX1"], BSM=["HX1"], DLMC=["林地"]),
        "urban": layer(
            (150, 0, 300, 100), (70, 20, 90, 40), ids=["CZ1", "CZ2"], BSM=["CZ1", "CZ2"]
        ),
    }


def test_resolve_takes_the_overlap_out_of_the_lower_layer():
    layers = three_lines()
    resolved, audit = resolve_conflicts(layers)

    assert set(resolved) == {"farmland", "redline", "urban"}
    farmland, redline, urban = resolved["farmland"], resolved["redline"], resolved["urban"]
    assert farmland["resolution"].tolist() == ["unchanged"]
    assert farmland.geometry.iloc[0].equals(layers["farmland"].geometry.iloc[0])
    assert farmland["DLMC"].tolist() == ["水田"]

    assert redline["resolution"].tolist() == ["trimmed"]
    assert same_geometry(redline.geometry.iloc[0], at(100, 0, 200, 100))
    assert redline["taken_m2"].iloc[0] == area_of(at(60, 0, 100, 100))
    assert redline[["BSM", "DLMC"]].values.tolist() == [["HX1", "林地"]]

    # CZ1 loses its western 50 m to the red line; CZ2 lies inside the farmland: removed, kept
    # as a row with an empty geometry.
    assert urban.index.tolist() == ["CZ1", "CZ2"]
    assert urban["BSM"].tolist() == ["CZ1", "CZ2"]
    assert urban["resolution"].tolist() == ["trimmed", "removed"]
    assert same_geometry(urban.geometry.iloc[0], at(200, 0, 300, 100))
    assert urban.geometry.iloc[1].is_empty
    assert urban["taken_m2"].tolist() == [
        area_of(at(150, 0, 200, 100)),
        area_of(at(70, 20, 90, 40)),
    ]

    assert list(audit.columns) == [*AUDIT_COLUMNS, "geometry"]
    rows = audit[["layer", "feature", "because_layer", "because_feature", "rule", "taken"]]
    assert sorted(map(tuple, rows.values.tolist())) == [
        ("redline", "HX1", "farmland", "NT1", "priority: farmland > redline", True),
        ("urban", "CZ1", "redline", "HX1", "priority: redline > urban", True),
        ("urban", "CZ2", "farmland", "NT1", "priority: farmland > urban", True),
    ]
    by_feature = audit.set_index("feature")
    for feature, piece in [
        ("HX1", at(60, 0, 100, 100)),
        ("CZ1", at(150, 0, 200, 100)),
        ("CZ2", at(70, 20, 90, 40)),
    ]:
        assert same_geometry(by_feature.geometry[feature], piece)
        assert by_feature.area_m2[feature] == area_of(piece)
    assert audit["zone"].isna().all()
    assert_resolution_invariants(layers, resolved, audit)


def test_resolve_audit_is_split_by_county():
    layers = {"farmland": layer((9900, 0, 10_100, 100)), "redline": layer((9950, 0, 10_200, 100))}
    resolved, audit = resolve_conflicts(
        layers, ("farmland", "redline"), zones=counties(), zone_field="XZQDM"
    )
    assert audit["zone"].tolist() == ["990102", "990121"]
    assert audit["area_m2"].tolist() == [
        area_of(at(9950, 0, 10_000, 100)),
        area_of(at(10_000, 0, 10_100, 100)),
    ]
    assert same_geometry(resolved["redline"].geometry.iloc[0], at(10_100, 0, 10_200, 100))
    assert_resolution_invariants(layers, resolved, audit)


def test_farmland_in_a_window_of_the_red_line_is_no_conflict():
    window = at(200, 200, 400, 400)
    redline = gpd.GeoDataFrame(
        geometry=[Polygon(at(0, 0, 1000, 1000).exterior.coords, [window.exterior.coords])],
        crs=ZONE39,
    )
    farmland = layer((200, 200, 400, 400), (250, 250, 300, 300))  # fills the window; inside it
    layers = {"farmland": farmland, "redline": redline, "urban": layer()}

    assert len(find_conflicts(layers, within_layers=False)) == 0
    resolved, audit = resolve_conflicts(layers)
    assert len(audit) == 0
    for name in ("farmland", "redline"):
        assert (resolved[name]["resolution"] == "unchanged").all()
        assert (resolved[name]["taken_m2"] == 0).all()
        assert resolved[name].geometry.geom_equals(layers[name].geometry).all()


def test_core_zone_override_takes_farmland_out_inside_it():
    farmland = layer((0, 0, 200, 100), BSM=["NT1"])
    redline = layer((100, 0, 300, 100), BSM=["HX1"])
    core = layer((150, -50, 400, 150))  # holds the eastern half of the 100 m × 100 m overlap
    layers = {"farmland": farmland, "redline": redline, "urban": layer()}
    resolved, audit = resolve_conflicts(
        layers, overrides={"core zone": (core, ("redline", "farmland", "urban"))}
    )

    rows = audit.sort_values("layer")
    assert rows[["layer", "because_layer", "rule", "taken"]].values.tolist() == [
        ["farmland", "redline", "override core zone: redline > farmland", True],
        ["redline", "farmland", "priority: farmland > redline", True],
    ]
    inside, outside = at(150, 0, 200, 100), at(100, 0, 150, 100)  # 5,000 m² each
    assert same_geometry(rows.geometry.iloc[0], inside)
    assert same_geometry(rows.geometry.iloc[1], outside)
    assert rows.area_m2.tolist() == [area_of(inside), area_of(outside)]

    assert same_geometry(resolved["farmland"].geometry.iloc[0], at(0, 0, 150, 100))
    assert same_geometry(resolved["redline"].geometry.iloc[0], at(150, 0, 300, 100))
    assert resolved["farmland"]["taken_m2"].iloc[0] == area_of(inside)
    assert resolved["redline"]["taken_m2"].iloc[0] == area_of(outside)
    assert_resolution_invariants(layers, resolved, audit)


def test_a_core_zone_ranking_itself_takes_all_farmland_inside_it():
    farmland = layer((0, 0, 200, 100), (200, 120, 260, 140), ids=["NT1", "NT2"])
    redline = layer((100, 0, 300, 100), ids=["HX1"])
    core = layer((150, -50, 400, 150), ids=["HXQ1"])  # NT2 lies inside it, away from the red line
    layers = {"farmland": farmland, "redline": redline, "urban": layer()}
    order = ("redline", "core zone", "farmland", "urban")
    resolved, audit = resolve_conflicts(layers, overrides={"core zone": (core, order)})

    rows = audit.sort_values(["layer", "feature"])
    assert rows[
        ["layer", "feature", "because_layer", "because_feature", "rule"]
    ].values.tolist() == [
        ["farmland", "NT1", "core zone", "HXQ1", "override core zone: core zone > farmland"],
        ["farmland", "NT2", "core zone", "HXQ1", "override core zone: core zone > farmland"],
        ["redline", "HX1", "farmland", "NT1", "priority: farmland > redline"],
    ]
    pieces = [at(150, 0, 200, 100), at(200, 120, 260, 140), at(100, 0, 150, 100)]
    for geom, area, piece in zip(rows.geometry, rows.area_m2, pieces, strict=True):
        assert same_geometry(geom, piece)
        assert area == area_of(piece)
    assert resolved["farmland"]["resolution"].tolist() == ["trimmed", "removed"]
    assert same_geometry(resolved["farmland"].geometry.iloc[0], at(0, 0, 150, 100))
    assert same_geometry(resolved["redline"].geometry.iloc[0], at(150, 0, 300, 100))
    assert_resolution_invariants(layers, resolved, audit)


def test_slivers_are_listed_not_taken():
    farmland = layer((0, 0, 100, 100))
    redline = layer((99.5, 0, 300, 100), (-100, 0, 50, 100))  # 50 m² sliver; 5,000 m² overlap
    layers = {"farmland": farmland, "redline": redline}
    resolved, audit = resolve_conflicts(layers, ("farmland", "redline"), min_area_m2=200)

    assert audit[["feature", "taken"]].sort_values("feature").values.tolist() == [
        [0, False],
        [1, True],
    ]
    sliver = audit[~audit["taken"]]
    assert same_geometry(sliver.geometry.iloc[0], at(99.5, 0, 100, 100))
    assert sliver.area_m2.iloc[0] == area_of(at(99.5, 0, 100, 100))
    assert resolved["redline"]["resolution"].tolist() == ["unchanged", "trimmed"]
    assert resolved["redline"].geometry.iloc[0].equals(redline.geometry.iloc[0])
    assert resolved["redline"]["taken_m2"].tolist() == [0, area_of(at(0, 0, 50, 100))]
    assert same_geometry(resolved["redline"].geometry.iloc[1], at(-100, 0, 0, 100))
    assert_resolution_invariants(layers, resolved, audit, min_area_m2=200)


def test_triple_overlap_resolved_by_hand():
    layers = triple()
    resolved, audit = resolve_conflicts(layers)
    farmland, redline, urban = (
        layers[n].geometry.iloc[0] for n in ("farmland", "redline", "urban")
    )
    assert same_geometry(resolved["farmland"].geometry.iloc[0], farmland)
    assert same_geometry(resolved["redline"].geometry.iloc[0], redline.difference(farmland))
    assert same_geometry(
        resolved["urban"].geometry.iloc[0], urban.difference(farmland).difference(redline)
    )
    # Urban's triple-covered land goes to the farmland (the higher claimant), once.
    urban_rows = audit[audit["layer"] == "urban"].set_index("because_layer")
    assert same_geometry(urban_rows.geometry["farmland"], at(200, 0, 300, 250))
    assert same_geometry(urban_rows.geometry["redline"], at(300, 100, 400, 250))
    assert urban_rows.area_m2.tolist() == [
        area_of(at(200, 0, 300, 250)),
        area_of(at(300, 100, 400, 250)),
    ]
    assert_resolution_invariants(layers, resolved, audit)


# --- invariants of a resolution -----------------------------------------------------------


def assert_resolution_invariants(layers, resolved, audit, *, min_area_m2=0.0):
    # No conflict is left between the layers but the slivers resolve was told to leave.
    after = find_conflicts(resolved, min_area_m2=1e-6, within_layers=False)
    left_over = after[~after["sliver"]]
    if min_area_m2 == 0:
        assert len(left_over) == 0, left_over.drop(columns="geometry")
    else:
        # What is left is listed in the audit, as not taken.
        not_taken = shapely.union_all(audit.geometry[~audit["taken"]].to_numpy())
        for piece in left_over.geometry:
            assert shapely.difference(piece, not_taken).area < 1e-6

    for name, original in layers.items():
        if name not in resolved:
            continue
        kept, taken = resolved[name], audit[(audit["layer"] == name) & audit["taken"]]
        assert kept.index.equals(original.index)
        assert kept.drop(columns=[kept.geometry.name, "resolution", "taken_m2"]).equals(
            original.drop(columns=original.geometry.name)
        )
        # On the plane, area is additive: original = kept + taken, exactly.
        planar_before = geozones.area(original, method="planar").sum()
        planar_after = geozones.area(kept, method="planar").sum() + taken.geometry.area.sum()
        assert planar_after == pytest.approx(planar_before, rel=1e-9, abs=1e-6)
        # On the ellipsoid too: area is additive, to the planar rounding of the cut, scaled.
        before = geozones.area(original).sum()
        after_area = geozones.area(kept).sum() + taken["area_m2"].sum()
        slack = abs(planar_after - planar_before) * 1.01 + 1e-12 * max(before, 1.0)
        assert abs(after_area - before) <= slack
        assert kept["taken_m2"].sum() == pytest.approx(taken["area_m2"].sum(), rel=1e-12)
        removed = kept["resolution"] == "removed"
        assert kept.geometry[removed].is_empty.all()
        assert (kept["taken_m2"][kept["resolution"] == "unchanged"] == 0).all()


def local_tm_areas(geoms, centre) -> np.ndarray:
    """Planar areas, in one transverse Mercator centred on `centre` (a zone-39 point), of the
    polygons with their zone-39 edges cut into 0.5 m pieces (straight in zone 39).

    Within a few hundred metres of its centre its scale is 1 to ~1e-9: differences between
    the areas come without Karney's ~1e-4 m² noise floor.
    """
    lon, lat = _TO_LONLAT.transform(centre.x, centre.y)
    local = pyproj.CRS.from_proj4(
        f"+proj=tmerc +lon_0={lon} +lat_0={lat} +k=1 +a=6378137 +rf=298.257222101 +units=m"
    )
    to_local = pyproj.Transformer.from_crs(ZONE39, local, always_xy=True)
    dense = shapely.segmentize(geoms, 0.5)
    return shapely.area(
        shapely.transform(dense, lambda xy: np.column_stack(to_local.transform(*xy.T)))
    )


def test_cut_areas_add_up_to_the_whole_as_the_ellipsoid_says():
    """Cutting a polygon keeps its ellipsoidal area: straight edges cut stay straight."""
    layers = {"farmland": layer((-100, 100, 200, 300)), "redline": layer((0, 0, 400, 400))}
    resolved, audit = resolve_conflicts(layers, ("farmland", "redline"))
    original = layers["redline"].geometry.iloc[0]
    kept = resolved["redline"].geometry.iloc[0]
    piece = audit.geometry.iloc[0]
    assert same_geometry(piece, at(0, 100, 200, 300))
    library_gap = (
        geozones.area(layers["redline"]).sum()
        - geozones.area(resolved["redline"]).sum()
        - audit["area_m2"].sum()
    )
    whole, rest, cut = local_tm_areas(np.array([original, kept, piece]), original.centroid)
    # The red line's western edge (400 m, 80 km from the meridian) is cut in three; taken as
    # geodesics the parts would miss the whole by ~9e-3 m² (6e-8 of the area). Straight, the
    # independent oracle and the library both add up to the rounding.
    assert abs(whole - rest - cut) < 1e-6
    assert abs(library_gap) < 1e-9
    assert whole == pytest.approx(geozones.area(layers["redline"]).sum(), rel=1e-9)


# --- properties ---------------------------------------------------------------------------

coordinate = st.integers(0, 80).map(lambda v: v * 5.0)
size = st.integers(1, 50).map(lambda v: v * 5.0)
boxes = st.tuples(coordinate, coordinate, size, size).map(
    lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3])
)


@st.composite
def three_layers(draw):
    """Farmland, red line and urban boxes, with shared boxes so duplicates and triples occur."""
    pool = draw(st.lists(boxes, min_size=1, max_size=6))
    layers = {}
    for name in ("farmland", "redline", "urban"):
        own = draw(st.lists(boxes | st.sampled_from(pool), max_size=5))
        layers[name] = layer(*own, BSM=[f"{name}{i}" for i in range(len(own))])
    return layers


def pieces_by_key(conflicts, *, swap=False):
    result = {}
    for r in conflicts.itertuples():
        a, b, id_a, id_b = r.layer_a, r.layer_b, r.id_a, r.id_b
        if swap and a != b:
            a, b, id_a, id_b = b, a, id_b, id_a
        if a == b:
            id_a, id_b = sorted((id_a, id_b))
        key = (a, b, id_a, id_b)
        assert key not in result
        result[key] = r.area_m2
    return result


def assert_same_pieces(actual, expected):
    assert sorted(actual) == sorted(expected)
    for key, area in expected.items():
        assert actual[key] == pytest.approx(area, rel=1e-9, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(three_layers(), st.randoms(use_true_random=False))
def test_find_conflicts_properties(layers, random):
    conflicts = find_conflicts(layers)
    feature_area = {name: geozones.area(frame) for name, frame in layers.items()}
    for r in conflicts.itertuples():
        smaller = min(feature_area[r.layer_a][r.id_a], feature_area[r.layer_b][r.id_b])
        assert r.area_m2 <= smaller * (1 + 1e-9)
        assert r.area_m2 > 0
    expected = pieces_by_key(conflicts)

    # Row order does not matter.
    shuffled = {}
    for name, frame in layers.items():
        order = list(range(len(frame)))
        random.shuffle(order)
        shuffled[name] = frame.iloc[order]
    assert_same_pieces(pieces_by_key(find_conflicts(shuffled)), expected)

    # Layer order only swaps a and b.
    reversed_layers = dict(reversed(list(layers.items())))
    assert_same_pieces(pieces_by_key(find_conflicts(reversed_layers), swap=True), expected)

    # The cross-layer pieces of a pair cover exactly the land both layers cover.
    summary = conflict_summary(conflicts)
    for a, b in [("farmland", "redline"), ("farmland", "urban"), ("redline", "urban")]:
        both = shapely.intersection(layers[a].union_all(), layers[b].union_all())
        pieces = conflicts[(conflicts.layer_a == a) & (conflicts.layer_b == b)]
        union = shapely.union_all(pieces.geometry.to_numpy())
        assert shapely.symmetric_difference(union, both).area < 1e-6
        assert union.area == pytest.approx(both.area, rel=1e-9, abs=1e-9)
        row = summary[(summary.layer_a == a) & (summary.layer_b == b)]
        if both.area == 0:
            assert len(row) == 0
        else:
            assert abs(row.area_m2.iloc[0] - karney(both)) <= 1e-9 * both.area + 1e-3


@settings(max_examples=30, deadline=None)
@given(three_layers())
def test_overlap_count_faces_partition_the_land_under_two_or_more_layers(layers):
    faces = overlap_count(layers)
    assert_faces_do_not_overlap(faces)
    dissolved = {name: frame.union_all() for name, frame in layers.items()}
    names = list(dissolved)
    pairs = [
        shapely.intersection(dissolved[a], dissolved[b])
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    covered_twice = shapely.union_all(pairs)
    assert shapely.symmetric_difference(faces.union_all(), covered_twice).area < 1e-6
    for face in faces.itertuples():
        inside = [n for n in names if dissolved[n].contains(face.geometry.point_on_surface())]
        assert face.layers == "+".join(inside)
        assert face.count == len(inside) >= 2
        assert face.area_m2 > 0
    layer_land = list(dissolved.values())
    triple_land = (
        Polygon()
        if any(land.is_empty for land in layer_land)
        else shapely.intersection_all(layer_land)
    )
    three = faces[faces["count"] == 3]
    assert shapely.symmetric_difference(three.union_all(), triple_land).area < 1e-6


CORE_ZONE_ORDERS = (
    ("redline", "farmland", "urban"),
    ("redline", "core zone", "farmland", "urban"),
    ("core zone", "urban", "redline", "farmland"),
)


@pytest.mark.parametrize(
    ("many_claims", "large_cutter", "trim_from"),
    [
        (1, conflicts_module.LARGE_CUTTER, validity.TRIM_FROM),
        (1, 0, validity.TRIM_FROM),
        (conflicts_module.MANY_CLAIMS, conflicts_module.LARGE_CUTTER, validity.TRIM_FROM),
        (10**9, conflicts_module.LARGE_CUTTER, validity.TRIM_FROM),
        (10**9, conflicts_module.LARGE_CUTTER, 0),
    ],
)
@settings(max_examples=30, deadline=None)
@given(
    three_layers(),
    st.none()
    | st.tuples(st.lists(boxes, min_size=1, max_size=2), st.sampled_from(CORE_ZONE_ORDERS)),
)
def test_resolution_invariants_on_random_boxes(many_claims, large_cutter, trim_from, layers, core):
    # With many_claims=1 every feature is cut by all its claims at once (faces of one
    # noding), with 10**9 every feature in turn: both ways must keep the invariants. With
    # large_cutter=0 every cutter is first clipped to the box of the feature it cuts; with
    # trim_from=0 every cutter in turn is trimmed to the feature's surroundings, in groups
    # where it cuts two features or more.
    overrides = None
    if core is not None:
        overrides = {"core zone": (layer(*core[0]), core[1])}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conflicts_module, "MANY_CLAIMS", many_claims)
        patch.setattr(conflicts_module, "LARGE_CUTTER", large_cutter)
        patch.setattr(validity, "TRIM_FROM", trim_from)
        patch.setattr(validity, "CLIP_GROUP", 2)
        resolved, audit = resolve_conflicts(layers, overrides=overrides)
    assert_resolution_invariants(layers, resolved, audit)
    if core is not None and "core zone" in core[1]:
        # Nothing the mask outranks is left inside it.
        mask = shapely.union_all(overrides["core zone"][0].geometry.to_numpy())
        for name in core[1][core[1].index("core zone") + 1 :]:
            for geom in resolved[name].geometry:
                assert shapely.intersection(geom, mask).area < 1e-6
    # Every piece of one feature is disjoint from its other pieces.
    for _, group in audit.groupby(["layer", "feature"]):
        geoms = group.geometry.to_numpy()
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                assert shapely.intersection(geoms[i], geoms[j]).area < 1e-6


def test_a_large_cutter_takes_only_its_part_over_the_feature():
    # An urban polygon claimed by nine parcels and by a red-line polygon of 4,000 vertices
    # reaching far beyond it: cut by all at once, the red line clipped to the urban box
    # first. Independently: the red line takes its overlap less the parcels' (GEOS).
    parcels = [(10 * k, 0, 10 * k + 10, 30) for k in range(9)]
    circle = shapely.Point(X + 600, Y + 50).buffer(560, quad_segs=1000)
    redline = gpd.GeoDataFrame(geometry=[circle], crs=ZONE39)
    urban = layer((0, 0, 100, 100))
    layers = {"farmland": layer(*parcels), "redline": redline, "urban": urban}
    assert shapely.get_num_coordinates(circle) > conflicts_module.LARGE_CUTTER
    resolved, audit = resolve_conflicts(layers)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conflicts_module, "LARGE_CUTTER", 10**9)
        _, unclipped = resolve_conflicts(layers)
    taken = audit[(audit["layer"] == "urban") & (audit["because_layer"] == "redline")]
    farmland_land = shapely.union_all([at(*bounds) for bounds in parcels])
    expected = shapely.difference(shapely.intersection(at(0, 0, 100, 100), circle), farmland_land)
    assert len(taken) == 1
    assert same_geometry(taken.geometry.iloc[0], expected)
    assert taken["area_m2"].iloc[0] == area_of(expected)
    kept = at(0, 0, 100, 100) - circle - farmland_land
    assert same_geometry(resolved["urban"].geometry.iloc[0], kept)
    assert audit["area_m2"].sum() == pytest.approx(unclipped["area_m2"].sum(), rel=1e-12)


def test_a_large_cutter_in_turn_cuts_each_parcel_as_whole(monkeypatch):
    # The red line ranked first: a disc of 4,000 vertices over a grid of 400 parcels, one
    # claim each, cut in turn with the disc trimmed to each parcel's surroundings (in
    # groups). Independently: each parcel loses its overlap with the whole disc (GEOS) and
    # keeps the rest.
    parcels = [(10 * i, 10 * j, 10 * i + 10, 10 * j + 10) for i in range(20) for j in range(20)]
    disc = shapely.Point(X + 100, Y + 100).buffer(80, quad_segs=1000)
    layers = {
        "farmland": layer(*parcels),
        "redline": gpd.GeoDataFrame(geometry=[disc], crs=ZONE39),
    }
    trimmed_sizes = []
    original = conflicts_module.trimmed_near

    def spy(geoms: np.ndarray, others: np.ndarray) -> np.ndarray:
        trimmed = original(geoms, others)
        trimmed_sizes.extend(shapely.get_num_coordinates(trimmed).tolist())
        return trimmed

    monkeypatch.setattr(conflicts_module, "trimmed_near", spy)
    resolved, audit = resolve_conflicts(layers, ["redline", "farmland"])
    assert len(trimmed_sizes) >= validity.CLIP_GROUP
    assert max(trimmed_sizes) < shapely.get_num_coordinates(disc) / 10
    taken = audit.set_index("feature")
    crossed = 0
    for k, bounds in enumerate(parcels):
        parcel = at(*bounds)
        expected = shapely.intersection(parcel, disc)
        if expected.area == 0:
            assert k not in taken.index
            continue
        crossed += 0 < expected.area < parcel.area
        assert same_geometry(taken.geometry.loc[k], expected)
        assert same_geometry(resolved["farmland"].geometry.iloc[k], parcel - disc)
    assert crossed >= 40
    assert_resolution_invariants(layers, resolved, audit)


@settings(max_examples=25, deadline=None)
@given(three_layers())
def test_what_resolve_leaves_with_a_threshold_is_in_the_audit(layers):
    resolved, audit = resolve_conflicts(layers, min_area_m2=2000)
    assert_resolution_invariants(layers, resolved, audit, min_area_m2=2000)
    # A sliver is judged on the two features' whole overlap, not on the fragment left.
    assert (audit["taken"] == (audit["overlap_m2"] >= 2000)).all()


@settings(max_examples=25, deadline=None)
@given(three_layers())
def test_resolve_audits_each_piece_with_its_two_features_whole_overlap(layers):
    # overlap_m2 is the ellipsoidal area of the GEOS intersection of the two features, however
    # the library found it (clipped from the coordinates and measured on the way, or not).
    from geozones.measure.area import ellipsoidal_area

    _, audit = resolve_conflicts(layers)
    for row in audit.itertuples():
        feature = layers[row.layer].geometry.loc[row.feature]
        because = layers[row.because_layer].geometry.loc[row.because_feature]
        whole = shapely.intersection(feature, because)
        expected = ellipsoidal_area(np.array([whole]), pyproj.CRS(layers[row.layer].crs))[0]
        assert row.overlap_m2 == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("layers", "overrides"),
    [
        pytest.param(
            # 3,000 m² overlap cut by the core zone into two 1,500 m² fragments.
            {"farmland": layer((0, 0, 100, 100)), "redline": layer((70, 0, 200, 100))},
            {"core zone": (layer((85, -50, 300, 150)), ("redline", "farmland", "urban"))},
            id="override-splits-overlap",
        ),
        pytest.param(
            # urban ∩ redline = 2,500 m²; farmland claims 1,000 m² of it first: 1,500 m² left.
            {
                "farmland": layer((0, 0, 15, 100)),
                "redline": layer((5, 0, 30, 100)),
                "urban": layer((0, 0, 100, 100)),
            },
            None,
            id="triple-overlap",
        ),
        pytest.param(
            # urban ∩ red line 1 = 2,500 m²; red line 0 claims 1,500 m² of it first: 1,000 left.
            {"redline": layer((0, 0, 15, 100), (0, 0, 25, 100)), "urban": layer((0, 0, 100, 100))},
            None,
            id="overlapping-winners",
        ),
    ],
)
def test_no_conflict_over_the_threshold_is_left(layers, overrides):
    layers = {name: layers.get(name, layer()) for name in ("farmland", "redline", "urban")}
    before = find_conflicts(layers, min_area_m2=2000, within_layers=False)
    assert (~before["sliver"]).any()
    resolved, _ = resolve_conflicts(layers, overrides=overrides, min_area_m2=2000)
    after = find_conflicts(resolved, min_area_m2=2000, within_layers=False)
    assert not (~after["sliver"]).any(), after.drop(columns="geometry")


def test_a_crowded_features_gaps_between_its_cutters_go_to_the_piece_they_border_most() -> None:
    # A red-line strip under ten parcels with gaps of 0.4 mm between them and 0.5 mm at the
    # ends: cut by all ten at once, the gaps (thin parts of what the red line keeps) are given
    # to a piece along the border they share, in the face graph.
    x, y = 39_500_000.0, 3_150_000.0
    feature = box(x - 0.0003, y, x + 100.0003, y + 10)
    parcels = np.array(
        [box(x + 10 * k + 0.0002, y, x + 10 * (k + 1) - 0.0002, y + 10) for k in range(10)]
    )
    pieces, kept = conflicts_module._cut_at_once(feature, parcels, 0.001)
    assert kept.is_empty
    np.testing.assert_allclose(shapely.area(pieces).sum(), feature.area, rtol=1e-12)
    assert shapely.is_empty(split_thin_parts(pieces, 0.001)[1]).all()
    # The strips at the ends border only the first and the last parcel.
    assert pieces[0].covers(shapely.Point(x - 0.0002, y + 5))
    assert pieces[-1].covers(shapely.Point(x + 100.0002, y + 5))
    # Exactly, without the tolerance: the gaps stay with the red line.
    pieces, kept = conflicts_module._cut_at_once(feature, parcels, 0.0)
    assert shapely.get_num_geometries(kept) == 11
    # Through resolve_conflicts, the red line is taken whole, in ten pieces.
    layers = {
        "farmland": gpd.GeoDataFrame(geometry=parcels, crs=4527),
        "redline": gpd.GeoDataFrame(geometry=[feature], crs=4527),
    }
    resolved, audit = resolve_conflicts(layers, ("farmland", "redline"))
    assert resolved["redline"]["resolution"].tolist() == ["removed"]
    assert len(audit) == 10 and audit["taken"].all()


def jittered_parcels_under_two_lines() -> dict[str, gpd.GeoDataFrame]:
    """A jittered 12 x 12 tessellation of parcels under three red-line and urban polygons.

    Every red-line and urban feature is cut by many parcels at once.
    """
    rng = np.random.default_rng(7)
    corners = np.stack(np.meshgrid(np.arange(13) * 50.0, np.arange(13) * 50.0), axis=-1)
    corners = corners + rng.uniform(-3e-4, 3e-4, corners.shape) + (X, Y)
    parcels = [
        Polygon([corners[i, j], corners[i, j + 1], corners[i + 1, j + 1], corners[i + 1, j]])
        for i in range(12)
        for j in range(12)
    ]
    return {
        "farmland": gpd.GeoDataFrame(geometry=parcels, crs=ZONE39),
        "redline": layer((20, 20, 330, 290), (310, 300, 590, 580), (20, 420, 90, 590)),
        "urban": layer((100, 400, 250, 610), (400, 20, 600, 200), (405, 230, 440, 260)),
    }


def wkb_of(resolved, audit) -> list[list[bytes]]:
    frames = [resolved[name] for name in sorted(resolved)] + [audit]
    return [list(shapely.to_wkb(frame.geometry.to_numpy())) for frame in frames]


def test_crowded_cuts_in_forked_processes_give_the_pieces_of_one_process(monkeypatch):
    from geozones import parallel

    layers = jittered_parcels_under_two_lines()
    order = ("farmland", "redline", "urban")
    monkeypatch.setattr(conflicts_module, "CUT_TOGETHER", 2)  # a group and one alone
    monkeypatch.setenv("GEOZONES_FORK", "0")
    alone = resolve_conflicts(layers, order, threads=1)
    assert wkb_of(*resolve_conflicts(layers, order, threads=2)) == wkb_of(*alone)
    monkeypatch.delenv("GEOZONES_FORK")
    monkeypatch.setattr(parallel, "FORK_FROM_COST", 0)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    forks = []
    real_fork_map = parallel.map_by_cost_forked
    monkeypatch.setattr(
        conflicts_module,
        "map_by_cost_forked",
        lambda *args, **kwargs: forks.append(found := real_fork_map(*args, **kwargs)) or found,
    )
    forked = resolve_conflicts(layers, order, threads=2)
    # The red line's and the urban polygons' crowded cuts, two processes each.
    assert [None if found is None else len(found) for found in forks] == [2, 2]
    assert wkb_of(*forked) == wkb_of(*alone)
    assert len(forked[1]) > 100
    assert_resolution_invariants(layers, *forked)


def test_crowded_features_cut_together_give_the_pieces_of_each_cut_alone(monkeypatch):
    layers = jittered_parcels_under_two_lines()
    order = ("farmland", "redline", "urban")
    together_resolved, together = resolve_conflicts(layers, order)
    groups = []
    real_cut_together = conflicts_module._cut_together

    def counted(*args, alone=False):
        if not alone:
            groups.append(len(args[0]))
        return real_cut_together(*args, alone=alone)

    monkeypatch.setattr(conflicts_module, "_cut_together", counted)
    resolve_conflicts(layers, order)
    assert groups == [3, 3]  # the three red-line polygons, the three urban ones
    monkeypatch.setattr(conflicts_module, "CUT_TOGETHER", 1)
    alone_resolved, alone = resolve_conflicts(layers, order)
    assert_resolution_invariants(layers, together_resolved, together)
    assert len(together) == len(alone) > 100
    assert (together["layer"] == alone["layer"]).all()
    assert (together["feature"] == alone["feature"]).all()
    assert (together["because_feature"] == alone["because_feature"]).all()
    # The same pieces but for the last bits of crossing points, computed in other slots.
    difference = shapely.area(
        shapely.symmetric_difference(together.geometry.to_numpy(), alone.geometry.to_numpy())
    )
    assert difference.max() < 1e-9
    parts = shapely.get_num_geometries
    assert (parts(together.geometry.to_numpy()) == parts(alone.geometry.to_numpy())).all()
    for name in order:
        np.testing.assert_allclose(
            together_resolved[name]["taken_m2"], alone_resolved[name]["taken_m2"], atol=1e-6
        )


@pytest.mark.parametrize("layer_count", [3, 70])
def test_each_faces_layers_are_named_in_layer_order(layer_count):
    rng = np.random.default_rng(layer_count)
    covering = rng.random((500, layer_count)) < 0.5
    names = [f"line{k}" for k in range(layer_count)]
    expected = [
        "+".join(name for name, on in zip(names, row, strict=True) if on) for row in covering
    ]
    assert conflicts_module._layer_sets(covering, names).tolist() == expected


def test_each_layer_is_indexed_once_for_all_its_pairs(monkeypatch):
    from geozones.analysis import overlaps

    built = []
    real_tree = shapely.STRtree

    def counted(geoms, *args, **kwargs):
        built.append(len(geoms))
        return real_tree(geoms, *args, **kwargs)

    monkeypatch.setattr(overlaps.shapely, "STRtree", counted)
    layers = {
        "farmland": layer(*[(x, 0, x + 10, 10) for x in range(0, 100, 10)]),
        "redline": layer((5, 5, 55, 55), (60, 0, 70, 20)),
        "urban": layer((40, 0, 90, 5)),
    }
    found = find_conflicts(layers)
    # Six pairs (each layer with itself and with each other), three trees: one per layer.
    assert sorted(built) == [1, 2, 10]
    assert set(zip(found.layer_a, found.layer_b, strict=True)) == {
        ("farmland", "redline"),
        ("farmland", "urban"),
        ("redline", "urban"),
    }


def test_pairs_of_layers_side_by_side_give_what_they_give_in_turn(capsys):
    layers = jittered_parcels_under_two_lines()
    layers["redline"] = pd.concat(
        [layers["redline"], layer((300, 250, 420, 330))], ignore_index=True
    )
    in_turn = find_conflicts(layers, threads=1)
    side_by_side = find_conflicts(layers, threads=2, progress=True)
    shown = capsys.readouterr().err
    assert "conflicts: 100%" in shown and "6/6" in shown
    assert set(zip(in_turn.layer_a, in_turn.layer_b, strict=True)) >= {
        ("redline", "redline"),
        ("farmland", "urban"),
    }
    assert in_turn.attrs == side_by_side.attrs and in_turn.attrs["phantoms"]["count"] > 0
    pd.testing.assert_frame_equal(
        in_turn.drop(columns="geometry"), side_by_side.drop(columns="geometry")
    )
    assert list(shapely.to_wkb(in_turn.geometry.to_numpy())) == list(
        shapely.to_wkb(side_by_side.geometry.to_numpy())
    )


def test_layers_sharing_polygons_are_never_worked_on_at_once(monkeypatch):
    # A shallow copy holds the same polygon objects: the farmland's own check and the copy's
    # would prepare the same polygons in two threads.
    farmland = jittered_parcels_under_two_lines()["farmland"]
    layers = {
        "farmland": farmland,
        "copy": farmland.iloc[::3].copy(),
        "urban": layer((100, 400, 250, 610)),
    }
    seen = {}
    real_map_apart = conflicts_module.map_apart

    def spying(func, tasks, *, uses, **kwargs):
        seen.update(zip(tasks, uses, strict=True))
        return real_map_apart(func, tasks, uses=uses, **kwargs)

    monkeypatch.setattr(conflicts_module, "map_apart", spying)
    side_by_side = find_conflicts(layers, threads=2)
    assert seen[("farmland", "farmland")] & seen[("copy", "copy")]
    assert not seen[("copy", "copy")] & seen[("urban", "urban")]
    in_turn = find_conflicts(layers, threads=1)
    assert list(shapely.to_wkb(in_turn.geometry.to_numpy())) == list(
        shapely.to_wkb(side_by_side.geometry.to_numpy())
    )
    assert in_turn.attrs == side_by_side.attrs

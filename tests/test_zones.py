"""Which zone holds a feature: geozones.zones.zone_of and zone_of_features, on hand-made shapes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely import box

from geozones.errors import CRSReprojectionWarning, GeozonesError, OptionError
from geozones.measure.area import ellipsoidal_area
from geozones.zones import outside_zones, union_of_zones, zone_of, zone_of_features, zone_parts

# Two unit squares side by side sharing the edge x = 1, and a wide zone to their right.
#   zone 0: [0, 1] x [0, 1]   zone 1: [1, 2] x [0, 1]   zone 2: [2, 5] x [0, 1]
ZONES = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 5, 1)])
CODES = np.array(["990101", "990102", "990103"], dtype=object)


def test_feature_inside_one_zone() -> None:
    features = np.array([box(0.1, 0.1, 0.3, 0.3), box(1.5, 0.5, 1.6, 0.6), box(4, 0, 5, 1)])
    assert zone_of(features, ZONES).tolist() == [0, 1, 2]
    assert zone_of(features, ZONES, codes=CODES).tolist() == ["990101", "990102", "990103"]


def test_straddling_feature_goes_by_its_point_not_by_area_share() -> None:
    # An L: a thin full-height strip in zone 1 (area 0.2) and a low wide foot in zone 2
    # (area 3.4 x 0.3 = 1.02). The mid-height line meets only the strip, so the point on
    # surface is in zone 1, though zone 2 has the larger share of the feature's area.
    ell = shapely.union(box(1.4, 0.0, 1.6, 1.0), box(1.6, 0.0, 5.0, 0.3))
    point = shapely.point_on_surface(ell)
    assert shapely.contains(ZONES[1], point)
    share = shapely.area(shapely.intersection(ell, ZONES))
    assert share[2] > share[1]  # the largest share is zone 2's
    assert zone_of(np.array([ell]), ZONES).tolist() == [1]


def test_box_straddling_two_zones_goes_to_the_one_holding_its_centre() -> None:
    # box [0.5, 2.5] x [0, 1]: its point on surface is its centre (1.5, 0.5), in zone 1
    assert zone_of(np.array([box(0.5, 0, 2.5, 1)]), ZONES).tolist() == [1]


def test_feature_in_no_zone() -> None:
    far = np.array([box(10, 0, 11, 1), box(-3, 0, -2, 1)])
    assert zone_of(far, ZONES).tolist() == [-1, -1]
    assert zone_of(far, ZONES, codes=CODES).tolist() == [None, None]
    # nearest: x=10.5 is 5.5 from zone 2; x=-2.5 is 2.5 from zone 0
    assert zone_of(far, ZONES, outside="nearest").tolist() == [2, 0]


def test_point_on_a_shared_edge_goes_to_the_first_zone_or_the_lowest_rank() -> None:
    # a vertical segment on x = 1 has its point on the edge of zones 0 and 1
    edge = np.array([shapely.LineString([(1, 0.2), (1, 0.8)])])
    assert zone_of(edge, ZONES).tolist() == [0]
    assert zone_of(edge, ZONES, rank=np.array([5, 1, 0])).tolist() == [1]
    # equal ranks: the first zone row
    assert zone_of(edge, ZONES, rank=np.array([3, 3, 0])).tolist() == [0]


def test_nearest_tie_goes_to_the_lowest_rank() -> None:
    # a point at (1, 3) is 2 from zone 0 and from zone 1 (both reach x = 1)
    point = np.array([shapely.Point(1, 3)])
    assert zone_of(point, ZONES, outside="nearest").tolist() == [0]
    assert zone_of(point, ZONES, outside="nearest", rank=np.array([2, 1, 0])).tolist() == [1]


def test_null_and_empty_features_have_no_zone_even_with_nearest() -> None:
    features = np.array([None, shapely.Polygon(), box(0.2, 0.2, 0.4, 0.4)], dtype=object)
    assert zone_of(features, ZONES, outside="nearest").tolist() == [-1, -1, 0]
    assert zone_of(features, ZONES, codes=CODES).tolist() == [None, None, "990101"]


def test_no_features_or_no_zones() -> None:
    assert zone_of(np.array([], dtype=object), ZONES).tolist() == []
    assert zone_of(np.array([box(0, 0, 1, 1)]), np.array([], dtype=object)).tolist() == [-1]


def test_a_given_tree_is_used() -> None:
    tree = shapely.STRtree(ZONES)
    features = np.array([box(2.5, 0.2, 2.6, 0.3)])
    assert zone_of(features, ZONES, tree=tree, codes=CODES).tolist() == ["990103"]


def test_bad_options() -> None:
    with pytest.raises(OptionError, match="did you mean 'nearest'") as caught:
        zone_of(np.array([box(0, 0, 1, 1)]), ZONES, outside="neares")
    assert isinstance(caught.value, GeozonesError) and isinstance(caught.value, ValueError)
    with pytest.raises(OptionError, match="one value per zone"):
        zone_of(np.array([box(0, 0, 1, 1)]), ZONES, rank=np.array([0, 1]))
    with pytest.raises(OptionError, match="one value per zone"):
        zone_of(np.array([box(0, 0, 1, 1)]), ZONES, codes=CODES[:1])


def test_zone_of_features_reprojects_the_zones() -> None:
    x, y = 39_500_000, 3_150_000
    zones = gpd.GeoDataFrame(
        {"zone": ["990101", "990102"]},
        geometry=[box(x, y, x + 1000, y + 1000), box(x + 1000, y, x + 2000, y + 1000)],
        crs=4527,
    )
    farmland = gpd.GeoDataFrame(
        geometry=[
            box(x + 1200, y + 100, x + 1300, y + 200),
            None,
            box(x + 5000, y, x + 5100, y + 1),
        ],
        crs=4527,
    )
    assert zone_of_features(farmland, zones).tolist() == ["990102", None, None]
    with pytest.warns(CRSReprojectionWarning):
        codes = zone_of_features(farmland, zones.to_crs(4490))
    assert codes.tolist() == ["990102", None, None]


def _winding_counties(seed: int = 3) -> np.ndarray:
    """Four counties of a 2 x 2 grid whose inner edges wind (400 vertices each), shared exactly."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 401)

    def edge(p, q):
        p, q = np.asarray(p, float), np.asarray(q, float)
        normal = np.array([-(q - p)[1], (q - p)[0]]) / np.hypot(*(q - p))
        walk = np.cumsum(rng.normal(0, 2.0, len(t)))
        walk = np.round((walk - t * walk[-1]) * np.sin(np.pi * t), 3)
        return shapely.LineString(p + t[:, None] * (q - p) + walk[:, None] * normal)

    lines = [
        edge((1000, 0), (1000, 1000)),
        edge((1000, 1000), (1000, 2000)),
        edge((0, 1000), (1000, 1000)),
        edge((1000, 1000), (2000, 1000)),
        shapely.box(0, 0, 2000, 2000).exterior,
    ]
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.node(shapely.MultiLineString(lines))))
    )
    return np.asarray(faces, dtype=object)


def test_union_of_zones_dissolves_a_tiling_without_an_overlay(monkeypatch):
    counties = _winding_counties()
    assert len(counties) == 4 and shapely.get_num_coordinates(counties).min() > 400
    expected = shapely.box(0, 0, 2000, 2000)

    def no_overlay(*args, **kwargs):
        raise AssertionError("a tiling needs no overlay")

    with monkeypatch.context() as patch:
        patch.setattr(shapely, "union_all", no_overlay)
        union = union_of_zones(np.concatenate([counties, [None, shapely.Polygon()]]))
    assert union.is_valid
    assert shapely.symmetric_difference(union, expected).area < 1e-6


@pytest.mark.parametrize(
    "zones",
    [
        [box(0, 0, 2, 1), box(1, 0, 3, 1)],  # overlapping
        [box(0, 0, 2, 2), box(0.5, 0.5, 1, 1)],  # one inside another
        [box(0, 0, 1, 1), shapely.Polygon([(1, 0), (2, 0), (2, 1), (0.9, 0.5)])],  # edges cross
    ],
)
def test_union_of_zones_that_are_not_a_tiling_is_their_overlay(zones):
    zones = np.array(zones, dtype=object)
    union = union_of_zones(zones)
    expected = shapely.union_all(zones)
    assert union.is_valid
    assert shapely.symmetric_difference(union, expected).area < 1e-12
    assert union.area == pytest.approx(expected.area, rel=1e-12)


def test_outside_zones_names_the_polygon_of_each_piece():
    counties = _winding_counties()
    # Parcels inside one county, across an inner edge, across the outer edge, and outside.
    parcels = np.array(
        [
            box(100, 100, 150, 150),
            box(980, 500, 1020, 540),
            box(1990, 300, 2030, 330),
            box(-50, -50, -10, -10),
            box(990, 1990, 1010, 2020),
        ],
        dtype=object,
    )
    pieces, index = outside_zones(parcels, counties)
    assert index.tolist() == [2, 3, 4]
    land = shapely.box(0, 0, 2000, 2000)
    for piece, k in zip(pieces, index, strict=True):
        expected = shapely.difference(parcels[k], land)
        assert shapely.symmetric_difference(piece, expected).area < 1e-9


def test_zone_parts_measure_only_what_a_boundary_cut():
    x, y = 39_500_000, 3_150_000
    counties = shapely.transform(_winding_counties(), lambda xy: xy + np.array([x, y]))
    parcels = shapely.transform(
        np.array(
            [
                box(100, 100, 150, 150),  # inside one county
                box(980, 500, 1020, 540),  # across an inner edge
                box(1990, 300, 2030, 330),  # across the outer edge
                box(-50, -50, -10, -10),  # outside every county
                box(1200, 1200, 1300, 1300),  # inside one county
            ],
            dtype=object,
        ),
        lambda xy: xy + np.array([x, y]),
    )
    crs = pyproj.CRS(4527)
    # Given areas the parts inside one county must keep, whatever their geometry measures.
    given = np.array([11.0, 22.0, 33.0, 44.0, 55.0])
    pieces, geom_index, zone_index, piece_area = zone_parts(parcels, counties, area=given, crs=crs)
    whole = np.isin(geom_index, [0, 4])
    assert sorted(piece_area[whole].tolist()) == [11.0, 55.0]
    assert (pieces[whole] == parcels[geom_index[whole]]).all()
    # The cut parts: measured on the ellipsoid, adding up to their polygon.
    cut = ~whole
    assert np.allclose(piece_area[cut], ellipsoidal_area(pieces[cut], crs), rtol=1e-12)
    for k in (1, 2, 3):
        total = piece_area[geom_index == k].sum()
        assert total == pytest.approx(ellipsoidal_area(parcels[k : k + 1], crs)[0], rel=1e-9)
    # Each part lies in its county (or outside them all: -1).
    assert zone_index[geom_index == 3].tolist() == [-1]
    assert sorted(zone_index[geom_index == 2].tolist())[0] == -1
    land = shapely.union_all(counties)
    for piece, z in zip(pieces, zone_index, strict=True):
        if z >= 0:
            assert shapely.difference(piece, counties[z]).area < 1e-6
        else:
            assert shapely.intersection(piece, land).area < 1e-6

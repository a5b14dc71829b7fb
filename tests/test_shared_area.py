"""The area two polygons share, from their coordinates, against GEOS's overlay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from geozones.measure import shared_area
from geozones.measure.shared_area import intersection_areas

#: A Gauss-Krüger position with the zone prefix, where a unit in the last place is 7.5 nm.
EASTING, NORTHING = 39_522_131.0, 3_152_984.0


@st.composite
def stars(draw: st.DrawFn) -> shapely.Polygon:
    """A star-shaped polygon around a random centre, sometimes with a hole, within 20 m."""
    n = draw(st.integers(3, 40))
    cx = draw(st.floats(-10, 10))
    cy = draw(st.floats(-10, 10))
    angles = np.sort(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True)))
    radii = np.array(draw(st.lists(st.floats(1, 10), min_size=n, max_size=n)))
    polygon = shapely.Polygon(np.c_[cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    if not polygon.is_valid or polygon.area < 1e-6:
        polygon = box(cx - 1, cy - 1, cx + 1, cy + 1)
    if draw(st.booleans()):
        hole = shapely.Point(cx, cy).buffer(0.5, quad_segs=3)
        if polygon.contains(hole):
            polygon = polygon - hole
    return polygon


def geos_near_origin(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The oracle: GEOS's overlay of each pair moved near the origin by whole metres."""
    origin = np.floor(shapely.bounds(left)[:, :2])
    out = np.empty(len(left))
    for k, (a, b) in enumerate(zip(left, right, strict=True)):
        a_local = shapely.transform(a, lambda xy, k=k: xy - origin[k])
        b_local = shapely.transform(b, lambda xy, k=k: xy - origin[k])
        out[k] = shapely.intersection(a_local, b_local).area
    return out


@pytest.mark.parametrize("offset", [(0.0, 0.0), (EASTING, NORTHING)])
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(stars(), stars()), min_size=1, max_size=8))
def test_shared_area_equals_the_overlay(offset, pairs):
    left = shapely.transform(np.array([a for a, _ in pairs]), lambda xy: xy + offset)
    right = shapely.transform(np.array([b for _, b in pairs]), lambda xy: xy + offset)
    expected = geos_near_origin(left, right)
    scale = np.maximum(shapely.area(left), shapely.area(right))
    np.testing.assert_allclose(
        intersection_areas(left, right), expected, rtol=0, atol=1e-9 * scale.max()
    )


def test_pairs_by_index_and_multipolygons():
    parts = shapely.MultiPolygon([box(0, 0, 2, 2), box(5, 0, 7, 2)])
    left = np.array([parts, box(0, 0, 1, 1)])
    right = np.array([box(1, 1, 6, 3), box(0.5, -1, 0.75, 3)])
    got = intersection_areas(left, right, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    expected = [1.0 + 1.0, 0.5, 0.0, 0.25]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_boundaries_running_together_go_to_geos(monkeypatch):
    # Neighbours sharing an edge, a polygon inside another touching it, a vertex on an edge:
    # no crossing is certain there, so GEOS measures them (and gets them right).
    left = np.array([box(0, 0, 1, 1), box(0, 0, 4, 4), shapely.Polygon([(0, 0), (1, 1), (0, 2)])])
    right = np.array([box(1, 0, 2, 1), box(0, 0, 2, 2), box(1, 0, 3, 2)])
    measured = []
    intersection = shapely.intersection

    def spy(a, b, **kwargs):
        measured.append(np.size(a))
        return intersection(a, b, **kwargs)

    monkeypatch.setattr(shapely, "intersection", spy)
    got = intersection_areas(left, right)
    assert measured == [3]
    np.testing.assert_allclose(got, [0.0, 4.0, 0.0], atol=1e-12)


def test_large_missing_and_empty_pairs_go_to_geos(monkeypatch):
    monkeypatch.setattr(shared_area, "MAX_EDGE_PAIRS", 10)
    left = np.array([box(0, 0, 2, 2), shapely.Polygon(), None], dtype=object)
    right = np.array([box(1, 1, 3, 3), box(0, 0, 1, 1), box(0, 0, 1, 1)], dtype=object)
    got = intersection_areas(left, right)
    assert got[0] == 1.0 and got[1] == 0.0 and np.isnan(got[2])


def test_lengths_must_match():
    with pytest.raises(ValueError, match="differ in length"):
        intersection_areas(np.array([box(0, 0, 1, 1)]), np.array([]))


def test_more_accurate_than_geos_at_gauss_kruger_eastings():
    # A thin part's reach and a piece of a tessellated parcel cut by the red line
    # (bench_resolve.py, medium 90 % tessellated), at eastings of 39.6 million metres: GEOS
    # overlays them there 2 % off what it finds with both moved near the origin; this agrees
    # with the overlay near the origin.
    lines = (Path(__file__).parent / "data" / "shared_area_sliver.wkt").read_text().splitlines()
    reach, piece = (shapely.from_wkt(line) for line in lines)
    left, right = np.array([reach]), np.array([piece])
    near = geos_near_origin(left, right)[0]
    assert intersection_areas(left, right)[0] == pytest.approx(near, rel=1e-9)
    assert abs(shapely.intersection(reach, piece).area - near) > 0.01 * near


@pytest.mark.parametrize("offset", [(0.0, 0.0), (EASTING, NORTHING)])
def test_a_small_polygon_against_a_huge_one_is_measured_on_the_huge_ones_part_nearby(
    offset: tuple[float, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A piece of 20,000 vertices with a hole, and small stars across its edge, inside, in its
    # hole and outside: left to GEOS, the piece is clipped to each star's surroundings.
    x, y = offset
    piece = shapely.Point(x, y).buffer(1_000, quad_segs=5_000) - shapely.Point(x, y).buffer(300)
    stars = np.array(
        [
            shapely.Point(x + dx, y + dy).buffer(radius, quad_segs=3)
            for dx, dy, radius in [
                (1_000, 0, 5),
                (0, -999, 2),
                (500, 500, 20),
                (0, 300, 7),
                (0, 0, 50),
                (2_000, 0, 5),
                (0, 700, 0.01),
            ]
        ]
    )
    clipped = []
    original = shared_area.trimmed_for_intersection

    def spy(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        trimmed = original(a, b)
        before = shapely.get_num_coordinates(np.stack([a, b], axis=1))
        after = shapely.get_num_coordinates(np.stack(trimmed, axis=1))
        clipped.append(int((after < before).any(axis=1).sum()))
        return trimmed

    monkeypatch.setattr(shared_area, "trimmed_for_intersection", spy)
    pieces = np.array([piece] * len(stars))
    found = intersection_areas(stars, pieces)
    assert clipped and clipped[0] == len(stars)
    np.testing.assert_allclose(found, geos_near_origin(stars, pieces), rtol=1e-9, atol=1e-9)
    assert found[-2] == 0 and found[-3] == 0

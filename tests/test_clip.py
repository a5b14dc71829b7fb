"""Intersections of small polygons clipped from their coordinates equal GEOS's, or are left to it.

:mod:`geozones.analysis.clip` follows two boundaries from crossing to crossing; GEOS's
``intersection`` is the oracle. A pair may be left to GEOS (None), but a piece clipped must be
GEOS's piece: the same parts with the same coordinates (crossing points in double-double).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Polygon, box

from geozones.analysis import overlaps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import generate


def clip(
    left: np.ndarray, right: np.ndarray, left_index: np.ndarray, right_index: np.ndarray
) -> np.ndarray:
    """Per pair: the clipped intersection, or None where it is left to GEOS."""
    small = overlaps._small_pairs(left, right, left_index, right_index, same_layer=False)
    return overlaps._clip_small(small, np.arange(len(left_index)))


def clipped_and_geos(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pieces = clip(left, right, np.arange(len(left)), np.arange(len(right)))
    return pieces, shapely.intersection(left, right)


def assert_same_pieces(pieces: np.ndarray, geos: np.ndarray) -> None:
    done = ~shapely.is_missing(pieces)
    assert shapely.equals_exact(
        shapely.normalize(pieces[done]), shapely.normalize(geos[done]), 0
    ).all()


def test_tessellation_neighbours_are_clipped_as_geos_does():
    """Cells whose shared edges were digitised apart: slivers, every one clipped, bit for bit."""
    cells = generate.tessellation(20, 20, seed=3)
    left, right = shapely.STRtree(cells).query(cells, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    keep = ~shapely.covers(cells[left], cells[right]) & ~shapely.covers(cells[right], cells[left])
    left, right = left[keep], right[keep]
    pieces = clip(cells, cells, left, right)
    geos = shapely.intersection(cells[left], cells[right])
    assert len(left) > 500
    assert not shapely.is_missing(pieces).any()
    assert_same_pieces(pieces, geos)
    assert (shapely.area(pieces) < 0.1).all()  # slivers


def test_parts_and_orientation():
    """Two parts (a comb's teeth through a bar), rings either way round, a hole-free result."""
    comb = Polygon(
        [
            (0, 0),
            (7, 0),
            (7, 3),
            (6, 3),
            (6, 1),
            (4, 1),
            (4, 3),
            (3, 3),
            (3, 1),
            (1, 1),
            (1, 3),
            (0, 3),
        ]
    )
    bar = box(-1, 2, 8, 2.5)
    pieces, geos = clipped_and_geos(
        np.array([comb, shapely.reverse(comb), bar]), np.array([bar, bar, shapely.reverse(comb)])
    )
    assert not shapely.is_missing(pieces).any()
    assert shapely.get_num_geometries(pieces).tolist() == [3, 3, 3]
    assert_same_pieces(pieces, geos)


def test_all_the_way_round_to_the_same_edge():
    """A slot cuts into the square through its top edge: both crossings on that one edge."""
    square = box(0, 0, 2, 2)
    slotted = Polygon([(-5, -5), (5, -5), (5, 5), (1.1, 5), (1.1, 1), (0.9, 1), (0.9, 5), (-5, 5)])
    pieces, geos = clipped_and_geos(
        np.array([square, shapely.reverse(square), slotted]),
        np.array([slotted, slotted, square]),
    )
    assert not shapely.is_missing(pieces).any()
    assert_same_pieces(pieces, geos)
    assert shapely.area(pieces).tolist() == pytest.approx([4 - 0.2] * 3)


def test_doubtful_pairs_are_left_to_geos():
    """A vertex on the other's edge, edges in line: GEOS decides."""
    square = box(0, 0, 2, 2)
    on_edge = Polygon([(1, 0), (3, -1), (3, 1)])  # its vertex (1, 0) lies on the square's edge
    along = box(1, 0, 3, 1)  # its bottom edge runs along the square's
    pieces, _ = clipped_and_geos(np.array([square, square]), np.array([on_edge, along]))
    assert shapely.is_missing(pieces).all()


def star(rng: np.random.Generator, centre: tuple[float, float], grid: bool) -> Polygon:
    count = int(rng.integers(3, 14))
    angles = np.sort(rng.uniform(0, 2 * np.pi, count))
    radii = rng.uniform(3, 10, count)
    points = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]) + centre
    if grid:
        points = np.round(points)
    if rng.random() < 0.5:
        points = points[::-1]
    return Polygon(points)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), grid=st.booleans(), offset=st.floats(0, 1e7))
def test_random_pairs_equal_geos_or_are_left_to_it(seed, grid, offset):
    """Random stars, on an integer grid (touching, collinear) or not, near and far from 0."""
    rng = np.random.default_rng(seed)
    left = [star(rng, (offset, 0.0), grid) for _ in range(30)]
    right = [
        star(rng, (offset + rng.uniform(-12, 12), rng.uniform(-12, 12)), grid) for _ in range(30)
    ]
    left, right = np.array(left), np.array(right)
    usable = shapely.is_valid(left) & shapely.is_valid(right)
    left, right = left[usable], right[usable]
    pieces, geos = clipped_and_geos(left, right)
    done = ~shapely.is_missing(pieces)
    # Only boundaries that cross are clipped: never one inside the other, nor apart.
    assert not (shapely.covers(left, right) | shapely.covers(right, left))[done].any()
    assert shapely.is_valid(pieces[done]).all()
    assert_same_pieces(pieces, geos)
    if not grid:  # general position: every crossing pair is clipped
        crossing = shapely.intersects(left, right) & ~shapely.covers(left, right)
        crossing &= ~shapely.covers(right, left)
        assert done[crossing].mean() > 0.95 if crossing.any() else True


@pytest.mark.parametrize("bad", ["bow tie", "flat"])
def test_unusable_rings_are_left_to_geos(bad):
    """A ring of zero area cannot be followed either way round."""
    flat = Polygon([(0, 0), (4, 0), (2, 0)])
    square = box(1, -1, 3, 1)
    pieces = clip(np.array([flat]), np.array([square]), np.array([0]), np.array([0]))
    assert shapely.is_missing(pieces).all()

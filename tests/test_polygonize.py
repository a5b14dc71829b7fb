"""Faces of noded lines from their coordinates, against hand-made shapes and GEOS."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon, box

from geozones.analysis import polygonize
from geozones.analysis.polygonize import NodedFaces, polygonize_noded


def noded(geoms: list[shapely.Geometry]) -> np.ndarray:
    """The noded boundaries (or lines) of `geoms`, as the callers pass them."""
    lines = [shapely.boundary(g) if g.geom_type.endswith("Polygon") else g for g in geoms]
    return shapely.get_parts(shapely.union_all(lines))


def normalized(faces: np.ndarray) -> list[bytes]:
    return sorted(shapely.to_wkb(shapely.normalize(faces)))


def test_faces_of_two_squares_sharing_an_edge_and_a_line_running_out() -> None:
    lines = noded([box(0, 0, 2, 1), LineString([(1, 0), (1, 1), (1, 3)])])
    faces = polygonize_noded(lines)
    assert normalized(faces) == normalized(np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)]))
    assert shapely.is_ccw(shapely.get_exterior_ring(faces)).all()


def test_an_edge_linking_two_parts_encloses_nothing() -> None:
    lines = noded([box(0, 0, 1, 1), box(3, 0, 4, 1), LineString([(1, 0.5), (3, 0.5)])])
    assert sorted(shapely.area(polygonize_noded(lines))) == [1.0, 1.0]


@pytest.mark.parametrize(
    ("shapes", "areas"),
    [
        # A square inside another without touching: the outer face has it as a hole.
        ([box(0, 0, 10, 10), box(2, 2, 4, 4)], [4.0, 96.0]),
        # Three levels, and a square apart.
        (
            [box(0, 0, 10, 10), box(2, 2, 6, 6), box(3, 3, 4, 4), box(20, 0, 21, 1)],
            [1.0, 1.0, 15.0, 84.0],
        ),
        # Two islands touching at a corner: one traced boundary, split into two holes.
        ([box(0, 0, 10, 10), box(2, 2, 4, 4), box(4, 4, 6, 6)], [4.0, 4.0, 92.0]),
        # An island in the hole of an annulus: a hole of the hole's face, not of the annulus.
        (
            [Polygon(box(0, 0, 10, 10).exterior, [box(2, 2, 8, 8).exterior]), box(4, 4, 6, 6)],
            [4.0, 32.0, 64.0],
        ),
    ],
)
def test_parts_that_do_not_touch_are_holes_of_the_smallest_face_around_them(
    shapes: list[Polygon], areas: list[float]
) -> None:
    faces = polygonize_noded(noded(shapes))
    assert sorted(shapely.area(faces)) == areas
    assert shapely.is_valid(faces).all()


def test_a_face_whose_boundary_touches_itself_is_one_valid_polygon() -> None:
    # A square with a triangle inside, touching its edge at (0, 5): the face between them
    # runs through that node twice, and is split there into its shell and a touching hole.
    outer = box(0, 0, 10, 10)
    notch = Polygon([(0, 5), (3, 3), (3, 7)])
    faces = polygonize_noded(noded([outer, notch]))
    assert sorted(shapely.area(faces)) == [notch.area, outer.area - notch.area]
    assert shapely.is_valid(faces).all()
    ring = faces[np.argmax(shapely.area(faces))]
    assert shapely.get_num_interior_rings(ring) == 1


def test_lines_that_are_not_noded_are_left_to_geos() -> None:
    # Two squares drawn over each other along an edge: edges run along each other.
    lines = np.array(
        [box(0, 0, 1, 1).exterior, LineString([(0, 0), (1, 0), (1, -1), (0, -1), (0, 0)])]
    )
    assert normalized(polygonize_noded(lines)) == normalized(
        shapely.get_parts(shapely.polygonize(lines))
    )


def test_nothing_in_nothing_out() -> None:
    assert len(polygonize_noded(np.array([], dtype=object))) == 0
    assert len(polygonize_noded(np.array([LineString([(0, 0), (1, 1)])]))) == 0


def test_faces_at_gauss_krueger_eastings_are_geos_faces() -> None:
    rng = np.random.default_rng(7)
    x, y = 39_522_131.0, 3_152_984.0
    shapes = [
        Point(x + dx, y + dy).buffer(r, quad_segs=5)
        for dx, dy, r in rng.uniform(0, 200, (60, 3)) * [1, 1, 0.3]
    ]
    lines = noded(shapes)
    assert normalized(polygonize_noded(lines)) == normalized(
        shapely.get_parts(shapely.polygonize(lines))
    )


@st.composite
def arrangements(draw: st.DrawFn) -> list[shapely.Geometry]:
    """Boxes on a small integer grid (edges along each other, corners touching, nested) and
    circles of few segments (crossings anywhere), sometimes with a loose line."""
    count = draw(st.integers(1, 12))
    shapes: list[shapely.Geometry] = []
    for _ in range(count):
        x, y = draw(st.integers(0, 8)), draw(st.integers(0, 8))
        if draw(st.booleans()):
            shapes.append(box(x, y, x + draw(st.integers(1, 5)), y + draw(st.integers(1, 5))))
        else:
            radius = draw(st.floats(0.3, 4))
            shapes.append(
                Point(x + 0.37, y + 0.61).buffer(radius, quad_segs=draw(st.integers(1, 4)))
            )
    if draw(st.booleans()):
        shapes.append(
            LineString([(draw(st.integers(0, 12)), draw(st.integers(0, 12))) for _ in range(2)])
        )
    return shapes


@given(arrangements())
def test_faces_are_geos_faces_on_random_arrangements(shapes: list[shapely.Geometry]) -> None:
    lines = noded(shapes)
    ours = polygonize_noded(lines)
    geos = shapely.get_parts(shapely.polygonize(lines))
    assert shapely.is_valid(ours).all()
    # Faces do not overlap: their areas add up to their union's.
    assert np.isclose(shapely.area(ours).sum(), shapely.union_all(ours).area, rtol=1e-12)
    if shapely.is_valid(geos).all() and np.isclose(
        shapely.area(geos).sum(), shapely.area(ours).sum()
    ):
        assert normalized(ours) == normalized(geos)
    else:
        # GEOS dropped a face whose boundary touches itself, or kept it invalid: ours cover
        # every bounded region the lines enclose.
        enclosed = shapely.union_all(shapely.polygonize(lines).geoms + tuple(ours))
        assert np.isclose(shapely.area(ours).sum(), enclosed.area, rtol=1e-12)


def test_an_undecided_angle_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = polygonize._faces

    def undecided(coords: np.ndarray, line_start: np.ndarray) -> tuple:
        calls.append(len(line_start))
        return (False, *original(coords, line_start)[1:])

    monkeypatch.setattr(polygonize, "_faces", undecided)
    lines = noded([box(0, 0, 2, 2), box(1, 1, 3, 3)])
    assert normalized(polygonize_noded(lines)) == normalized(
        shapely.get_parts(shapely.polygonize(lines))
    )
    assert calls


def test_islands_of_a_large_polygon_are_its_holes_each_in_the_right_face() -> None:
    # A 4,000-vertex disc holding a grid of 144 squares, every third with a square inside:
    # each square's outside is placed by one reading of the disc's edges.
    shapes: list[shapely.Geometry] = [Point(0, 0).buffer(100, quad_segs=1000)]
    for k, (x, y) in enumerate(
        np.stack(np.meshgrid(np.arange(-60, 60, 10), np.arange(-60, 60, 10)), -1).reshape(-1, 2)
    ):
        shapes.append(box(x, y, x + 6, y + 6))
        if k % 3 == 0:
            shapes.append(box(x + 2, y + 2, x + 4, y + 4))
    lines = noded(shapes)
    faces = polygonize_noded(lines)
    assert normalized(faces) == normalized(shapely.get_parts(shapely.polygonize(lines)))
    disc = faces[np.argmax(shapely.area(faces))]
    assert shapely.get_num_interior_rings(disc) == 144


@given(arrangements(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_dissolved_faces_are_the_coverage_unions_of_each_label(
    shapes: list[shapely.Geometry], count: int, random: Any
) -> None:
    noded_faces = NodedFaces.of(noded(shapes))
    faces = noded_faces.faces
    label = np.array([random.randrange(-1, count) for _ in faces], dtype=np.int64)
    merged = noded_faces.dissolve(label, count)
    assert merged.shape == (count,)
    assert shapely.is_valid(merged).all()
    for which in range(count):
        mine = faces[label == which]
        if len(mine) == 0:
            assert merged[which].is_empty
        else:
            assert shapely.equals(merged[which], shapely.coverage_union_all(mine))
            assert np.isclose(merged[which].area, shapely.area(mine).sum(), rtol=1e-12)


@given(arrangements(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_traced_unions_built_in_part_and_read_as_rings(
    shapes: list[shapely.Geometry], count: int, random: Any
) -> None:
    # Some labels built from the traced rings are those labels' unions, the rest empty; the
    # labels read as one ring are those whose union is a polygon without holes, ring for ring.
    noded_faces = NodedFaces.of(noded(shapes))
    label = np.array([random.randrange(-1, count) for _ in noded_faces.faces], dtype=np.int64)
    traced = noded_faces.dissolved_rings(label)
    assume(traced is not None)
    merged = noded_faces.dissolve(label, count)
    keep = np.array([random.random() < 0.5 for _ in range(count)])
    built = traced.built(count, keep)
    for which in range(count):
        if keep[which]:
            assert shapely.equals_exact(built[which], merged[which], 0)
        else:
            assert built[which].is_empty
    single, coords, first = traced.single_rings(count)
    one_ring = [
        which
        for which in range(count)
        if merged[which].geom_type == "Polygon" and not merged[which].interiors
    ]
    assert sorted(single.tolist()) == one_ring
    for k, which in enumerate(single):
        ring = coords[first[k] : first[k + 1]]
        assert np.array_equal(ring, shapely.get_coordinates(merged[which].exterior))


#: Where a Gauss-Krüger feature is moved from, to be noded near the origin.
ORIGIN = np.array([39_500_000.0, 3_100_000.0])


def test_dissolving_faces_left_to_geos_unions_them_as_a_coverage() -> None:
    lines = noded([box(0, 0, 2, 1), LineString([(1, 0), (1, 1)]), box(5, 5, 6, 6)])
    traced = NodedFaces.of(lines)
    left = NodedFaces(traced.faces, traced.coords, traced.line_start, None)
    label = np.where(shapely.bounds(traced.faces)[:, 0] < 5, 0, -1)
    for noded_faces in (traced, left):
        merged = noded_faces.dissolve(label, 2)
        assert shapely.equals(merged[0], box(0, 0, 2, 1))
        assert merged[1].is_empty
        # Shifted as it is built: the same coordinates as shifted afterwards.
        shifted = noded_faces.dissolve(label, 2, shift=ORIGIN)
        after = shapely.transform(merged, lambda xy: xy + ORIGIN)
        assert shapely.equals_exact(shifted, after, 0).all()
        # One shift per label: each union moved by its own.
        per_label = np.array([ORIGIN, ORIGIN + 1000.0])
        both = np.where(label == 0, 0, 1)
        merged = noded_faces.dissolve(both, 2)
        shifted = noded_faces.dissolve(both, 2, shift=per_label)
        for k, step in enumerate(per_label):
            after = shapely.transform(merged[k], lambda xy, step=step: xy + step)
            assert shapely.equals_exact(shifted[k], after, 0)

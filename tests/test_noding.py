"""Lines noded in a compiled loop, against exact rational arithmetic and GEOS."""

from __future__ import annotations

from fractions import Fraction

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, box

import geozones
from geozones.analysis import conflicts
from geozones.analysis.noding import EXACT_RANGE, exact_orientation, node_lines
from geozones.analysis.polygonize import NodedFaces


def rational_orientation(*xy: float) -> int:
    ax, ay, bx, by, cx, cy = map(Fraction, xy)
    det = (ax - cx) * (by - cy) - (ay - cy) * (bx - cx)
    return (det > 0) - (det < 0)


#: Coordinates as exact_orientation takes them: 0, or within EXACT_RANGE.
finite = st.floats(-1e4, 1e4).filter(lambda v: v == 0 or abs(v) >= EXACT_RANGE[0])


@settings(deadline=None)  # the first example may compile the predicate
@given(finite, finite, finite, finite, st.floats(-2, 3), st.integers(-3, 3), st.integers(-3, 3))
def test_exact_orientation_is_the_sign_of_the_rational_determinant(
    ax: float, ay: float, bx: float, by: float, t: float, nudge_x: int, nudge_y: int
) -> None:
    # A third point on the line through the first two, rounded, then moved by a few ulps:
    # where the floating-point filter cannot tell.
    cx, cy = ax + t * (bx - ax), ay + t * (by - ay)
    for _ in range(abs(nudge_x)):
        cx = np.nextafter(cx, np.sign(nudge_x) * np.inf)
    for _ in range(abs(nudge_y)):
        cy = np.nextafter(cy, np.sign(nudge_y) * np.inf)
    xy = (ax, ay, bx, by, float(cx), float(cy))
    if all(v == 0 or abs(v) >= EXACT_RANGE[0] for v in xy):
        assert exact_orientation(*xy) == rational_orientation(*xy)


def test_exact_orientation_of_collinear_and_coincident_points() -> None:
    assert exact_orientation(0.1, 0.1, 0.3, 0.3, 0.7, 0.7) == 0
    assert exact_orientation(0.1, 0.2, 0.1, 0.2, 5.0, 7.0) == 0
    assert exact_orientation(0.0, 0.0, 1.0, 0.0, 0.5, 1e-99) == 1
    assert exact_orientation(0.0, 0.0, 1.0, 0.0, 0.5, -1e-99) == -1


def test_coordinates_beyond_the_exact_range_are_left_to_geos() -> None:
    line = LineString([(0, 0), (1, 1)])
    assert node_lines(np.array([line, LineString([(0, 1), (1, 5e-324)])])) is None
    assert node_lines(np.array([line, LineString([(0, 1), (1e101, 0)])])) is None
    assert node_lines(np.array([line, LineString([(0, 1), (1, 0)])])) is not None


def pieces_of(lines: list[shapely.Geometry]) -> np.ndarray:
    """The noded lines, as LineStrings from node to node."""
    noded = node_lines(np.array(lines, dtype=object))
    assert noded is not None
    coords, line_start = noded
    assert (np.diff(line_start) >= 2).all()
    return shapely.linestrings(
        coords, indices=np.repeat(np.arange(len(line_start) - 1), np.diff(line_start))
    )


def segments(lines: np.ndarray) -> int:
    return int(shapely.get_num_coordinates(lines).sum() - len(lines))


def assert_meet_only_at_their_ends(pieces: np.ndarray) -> None:
    assert shapely.is_simple(pieces).all()
    first, second = shapely.STRtree(pieces).query(pieces, predicate="intersects")
    for i, j in zip(first[first < second], second[first < second], strict=True):
        common = shapely.intersection(pieces[i], pieces[j])
        ends = {tuple(xy) for xy in shapely.get_coordinates(pieces[i])[[0, -1]]}
        ends &= {tuple(xy) for xy in shapely.get_coordinates(pieces[j])[[0, -1]]}
        assert common.geom_type in ("Point", "MultiPoint"), (pieces[i], pieces[j])
        assert {tuple(xy) for xy in shapely.get_coordinates(common)} <= ends, (pieces[i], pieces[j])


def test_two_squares_sharing_part_of_an_edge() -> None:
    pieces = pieces_of(list(shapely.boundary([box(0, 0, 2, 1), box(1, 0, 3, 1)])))
    # The shared edges (1, 0)-(2, 0) and (1, 1)-(2, 1) once each: ten segments of unit
    # length, joined between the four points where three meet into six lines.
    assert segments(pieces) == 10
    assert sorted(shapely.length(pieces).tolist()) == [1.0, 1.0, 1.0, 1.0, 3.0, 3.0]
    assert_meet_only_at_their_ends(pieces)


def test_a_line_ending_on_another_cuts_it() -> None:
    pieces = pieces_of([LineString([(0, 0), (4, 0)]), LineString([(1, 0), (1, 2)])])
    assert sorted(shapely.length(pieces).tolist()) == [1.0, 2.0, 3.0]
    assert_meet_only_at_their_ends(pieces)


def test_many_lines_ending_on_one_vertical_line() -> None:
    # Forty lines across a square, ending on its sides (as clipped cutters end on a
    # feature's box), some running on out of it: ends sharing one x are told apart by y.
    lines = [box(0, 0, 100, 100).boundary]
    lines += [LineString([(0, 2.0 * k + 1), (100, 2.0 * k + 1.5)]) for k in range(40)]
    lines += [LineString([(0, 2.0 * k + 1), (-5, 2.0 * k + 1)]) for k in range(0, 40, 2)]
    pieces = pieces_of(lines)
    assert_meet_only_at_their_ends(pieces)
    geos = shapely.get_parts(shapely.union_all(lines))
    assert segments(pieces) == segments(geos)
    assert len(NodedFaces.of(pieces).faces) == len(NodedFaces.of(geos).faces) == 41


@st.composite
def arrangements(draw: st.DrawFn) -> list[shapely.Geometry]:
    """Boundaries of boxes on a small grid (edges along each other, T-junctions, corners
    touching) and of circles of few segments (crossings anywhere), and loose lines."""
    lines: list[shapely.Geometry] = []
    for _ in range(draw(st.integers(1, 10))):
        x, y = draw(st.integers(0, 8)), draw(st.integers(0, 8))
        if draw(st.booleans()):
            shape = box(x, y, x + draw(st.integers(1, 5)), y + draw(st.integers(1, 5)))
        else:
            shape = Point(x + 0.37, y + 0.61).buffer(
                draw(st.floats(0.3, 4)), quad_segs=draw(st.integers(1, 4))
            )
        lines.append(shape.boundary)
    for _ in range(draw(st.integers(0, 2))):
        lines.append(
            LineString([(draw(st.integers(0, 12)), draw(st.integers(0, 12))) for _ in range(2)])
        )
    return lines


@settings(deadline=None)
@given(arrangements())
def test_pieces_meet_only_at_their_ends_and_make_geos_faces(lines: list[shapely.Geometry]) -> None:
    pieces = pieces_of(lines)
    assert_meet_only_at_their_ends(pieces)
    geos = shapely.get_parts(shapely.union_all(lines))
    # The same lines: as long, and covering each other.
    # The same lines, but for crossing points rounded apart: as long, within 1e-12 of each other.
    assert shapely.length(pieces).sum() == pytest.approx(shapely.length(geos).sum(), rel=1e-12)
    assert shapely.hausdorff_distance(shapely.union_all(pieces), shapely.union_all(geos)) < 1e-12
    ours = NodedFaces.of(pieces).faces
    theirs = NodedFaces.of(geos).faces
    assert len(ours) == len(theirs)
    assert np.allclose(
        np.sort(shapely.area(ours)), np.sort(shapely.area(theirs)), rtol=1e-9, atol=1e-12
    )


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.sampled_from([1e-4, 4e-4]))
def test_a_jittered_tessellation_noded_as_geos_nodes_it(
    seed: int, size: int, jitter: float
) -> None:
    # Square parcels of 20 m near the origin (as a cut shifts them), each drawing its
    # corners again within `jitter` of the shared ones.
    rng = np.random.default_rng(seed)
    corners = np.stack(np.meshgrid(np.arange(size + 1), np.arange(size + 1)), axis=-1) * 20.0
    lines = []
    for i in range(size):
        for j in range(size):
            ring = corners[[j, j, j + 1, j + 1, j], [i, i + 1, i + 1, i, i]]
            ring = ring + rng.uniform(-jitter, jitter, ring.shape)
            ring[-1] = ring[0]
            lines.append(LineString(ring))
    pieces = pieces_of(lines)
    assert_meet_only_at_their_ends(pieces)
    ours = NodedFaces.of(pieces).faces
    theirs = NodedFaces.of(shapely.get_parts(shapely.union_all(lines))).faces
    assert len(ours) == len(theirs)
    assert np.allclose(
        np.sort(shapely.area(ours)), np.sort(shapely.area(theirs)), rtol=1e-9, atol=1e-12
    )


def test_lines_crossing_edges_drawn_along_each_other_are_cut_at_one_point() -> None:
    # Parcels sharing their edges exactly, one edge spanning two neighbours' (a T), crossed by
    # lines at any angle: a crossing of two edges along each other is one point, not two
    # rounded apart, so the pieces along each other come out the same and are kept once.
    rng = np.random.default_rng(2)
    parcels = [box(0, 0, 40, 20), box(0, 20, 20, 40), box(20, 20, 40, 40), box(40, 0, 60, 40)]
    for _ in range(20):
        lines = [*shapely.boundary(parcels)]
        lines += [LineString(rng.uniform(-10, 70, (2, 2))) for _ in range(3)]
        pieces = pieces_of(lines)
        assert_meet_only_at_their_ends(pieces)
        geos = shapely.get_parts(shapely.union_all(lines))
        assert shapely.length(pieces).sum() == pytest.approx(shapely.length(geos).sum(), rel=1e-12)


def test_an_edge_drawn_both_ways_is_cut_at_one_point() -> None:
    # Neighbours draw their shared edge in opposite directions; a line crossing it at a small
    # angle must cut both copies at the same point for them to come out as one piece.
    rng = np.random.default_rng(3)
    for angle in np.repeat([1e-6, 1e-4, 1e-2, 0.5], 50):
        a, b = rng.uniform(0, 100, (2, 2))
        middle = (a + b) / 2 + rng.normal(0, 1, 2)
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        reach = turn @ (b - a) / np.linalg.norm(b - a) * 60
        lines = [
            LineString([a, b]),
            LineString([b, a]),
            LineString([middle - reach, middle + reach]),
        ]
        pieces = pieces_of(lines)
        geos = shapely.get_parts(shapely.union_all(lines))
        assert segments(pieces) == segments(geos)
        assert shapely.length(pieces).sum() == pytest.approx(shapely.length(geos).sum(), rel=1e-12)


#: Four lines concurrent to 1e-12 (found by a fuzz run) whose rounded crossing points make
#: two pieces meet away from their ends: the check catches it and leaves the lines to GEOS.
CONCURRENT = [
    [
        "0x1.58b948000771ep+3",
        "0x1.ab7da55c678e1p+2",
        "0x1.5d9375b50b6dbp+2",
        "0x1.f29f5467f4018p+2",
    ],
    [
        "0x1.2759861448a2ep+3",
        "0x1.5fa8564bb34d6p+2",
        "0x1.c052f98c8964fp+2",
        "0x1.1f3a51bc53c67p+3",
    ],
    [
        "0x1.1d0dd26d20434p+3",
        "0x1.0097fe6a2c772p+2",
        "0x1.d4ea60dada152p+2",
        "0x1.4ec27dad16e57p+3",
    ],
    [
        "0x1.45f99f8c541a5p+3",
        "0x1.f0837efe76031p+1",
        "0x1.8312c69c727abp+2",
        "0x1.52ed9d228fe56p+3",
    ],
]


def test_pieces_moved_by_rounding_into_each_other_are_left_to_geos() -> None:
    lines = [
        LineString(np.array([float.fromhex(v) for v in line]).reshape(2, 2)) for line in CONCURRENT
    ]
    assert node_lines(np.array(lines, dtype=object)) is None


def layer(geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"BSM": range(len(geoms))}, geometry=geoms, crs=4527)


def test_a_cut_left_to_geos_gives_the_same_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = 39_500_000.0, 3_150_000.0
    # Parcels of 20 m drawing their shared corners again within 0.3 mm, under a red line.
    rng = np.random.default_rng(7)
    parcels = []
    for i in range(4):
        for j in range(4):
            ring = np.array([(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]) * 20.0 + (x, y)
            ring = ring + rng.uniform(-3e-4, 3e-4, ring.shape)
            parcels.append(shapely.Polygon(ring))
    layers = {
        "redline": layer([box(x + 5, y + 5, x + 75, y + 75)]),
        "farmland": layer(parcels),
    }
    with monkeypatch.context() as patch:
        patch.setattr(conflicts, "MANY_CLAIMS", 1)
        _, ours = geozones.resolve_conflicts(layers, ("farmland", "redline"))
        patch.setattr(conflicts, "node_lines", lambda lines: None)
        _, theirs = geozones.resolve_conflicts(layers, ("farmland", "redline"))
    assert len(ours) == len(theirs) == 16
    assert np.allclose(ours["area_m2"], theirs["area_m2"], rtol=1e-9)

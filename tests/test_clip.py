"""Intersections of small polygons clipped from their coordinates equal GEOS's, or are left to it.

:mod:`geozones.analysis.clip` follows two boundaries from crossing to crossing; GEOS's
``intersection`` is the oracle. A pair may be left to GEOS (None), but a piece clipped must be
GEOS's piece: the same parts with the same coordinates (crossing points in double-double).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyproj
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
    found = overlaps._coordinate_pairs(left, right, left_index, right_index, same_layer=False)
    return overlaps._clip_small(found, np.arange(len(left_index))).pieces


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


def settle(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Codes of the pair tests for pairs ``left[k], right[k]`` (1: right inside, 2: left inside)."""
    index = np.arange(len(left))
    found = overlaps._coordinate_pairs(left, right, index, index, same_layer=False)
    return overlaps._settle_from_coordinates(found, len(left))


def assert_codes_agree_with_geos(codes: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
    meets = shapely.intersects(left, right)
    assert not meets[codes == 0].any()
    assert shapely.covers(left, right)[codes == 1].all()
    assert shapely.covers(right, left)[codes == 2].all()
    crossing = codes == 3
    assert meets[crossing].all()
    assert not (shapely.covers(left, right) | shapely.covers(right, left))[crossing].any()


WITH_HOLE = Polygon(box(0, 0, 10, 10).exterior, [box(4, 4, 6, 6).exterior])


@pytest.mark.parametrize(
    ("name", "small", "other", "code"),
    [
        ("in the hole", box(4.5, 4.5, 5.5, 5.5), WITH_HOLE, 0),
        ("around the hole", box(3, 3, 7, 7), WITH_HOLE, -1),  # P minus a hole: GEOS
        ("inside, beside the hole", box(1, 1, 2, 2), WITH_HOLE, 2),
        ("across the hole's edge", box(5, 5, 7, 7), WITH_HOLE, 3),
        (
            "both parts inside",
            box(0, 0, 10, 10),
            shapely.MultiPolygon([box(1, 1, 2, 2), box(3, 3, 4, 4)]),
            1,
        ),
        (
            "one part inside",
            box(0, 0, 10, 10),
            shapely.MultiPolygon([box(1, 1, 2, 2), box(13, 3, 14, 4)]),
            -1,
        ),
        ("touching along an edge", box(10, 0, 11, 1), WITH_HOLE, -1),
        ("a vertex on its edge", Polygon([(12, 5), (10, 5), (12, 6)]), WITH_HOLE, -1),
    ],
)
def test_pairs_settled_from_coordinates(name, small, other, code):
    """Holes and parts of the other polygon, from the small one's side and from the other's."""
    assert settle(np.array([small]), np.array([other])).tolist() == [code]
    swapped = {1: 2, 2: 1}.get(code, code)
    assert settle(np.array([other]), np.array([small])).tolist() == [swapped]


def corridor(rng: np.random.Generator, origin: tuple[float, float]) -> object:
    """A buffered random walk: hundreds of vertices in many blocks, holes where it loops."""
    heading = np.cumsum(rng.normal(0, 0.6, 80))
    walk = 3.0 * np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]), axis=0)
    return shapely.make_valid(shapely.LineString(walk + origin).buffer(2.0, quad_segs=3))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), offset=st.sampled_from([0.0, 500_000.0, 39_500_000.0]))
def test_small_polygons_against_large_ones_with_holes(seed, offset):
    """Parcels scattered over a river corridor (several blocks of edges, holes, parts)."""
    rng = np.random.default_rng(seed)
    river = corridor(rng, (offset, 0.0))
    low_x, low_y, high_x, high_y = river.bounds
    parcels = [
        star(rng, (rng.uniform(low_x, high_x), rng.uniform(low_y, high_y)), False)
        for _ in range(60)
    ]
    parcels = np.array([shapely.affinity.scale(p, 0.3, 0.3) for p in parcels])
    parcels = parcels[shapely.is_valid(parcels)]
    rivers = np.full(len(parcels), river, dtype=object)
    codes = settle(parcels, rivers)
    assert_codes_agree_with_geos(codes, parcels, rivers)
    assert (codes >= 0).mean() > 0.9
    crossing = np.flatnonzero(codes == 3)
    pieces = clip(parcels, rivers, crossing, crossing)
    assert_same_pieces(pieces, shapely.intersection(parcels[crossing], rivers[crossing]))
    assert (~shapely.is_missing(pieces)).mean() > 0.9 if len(crossing) else True


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), offset=st.sampled_from([0.0, 39_500_000.0]))
def test_large_polygons_against_each_other(seed, offset):
    """Two corridors (hundreds of vertices, holes, parts), and rings nested in holes."""
    rng = np.random.default_rng(seed)
    rivers = [corridor(rng, (offset + rng.uniform(0, 60), rng.uniform(0, 60))) for _ in range(8)]
    ring = shapely.Point(offset + 30, 30).buffer(40, quad_segs=40)
    ring = ring.difference(shapely.Point(offset + 30, 30).buffer(25, quad_segs=40))
    inner = shapely.Point(offset + 30, 30).buffer(10, quad_segs=30)
    geoms = np.array([*rivers, ring, inner], dtype=object)
    geoms = geoms[shapely.is_valid(geoms)]
    left, right = np.triu_indices(len(geoms), 1)
    left, right = np.concatenate([left, right]), np.concatenate([right, left])
    codes = settle(geoms[left], geoms[right])
    assert_codes_agree_with_geos(codes, geoms[left], geoms[right])
    assert (codes >= 0).mean() > 0.5


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), offset=st.sampled_from([0.0, 39_500_000.0]))
def test_small_polygons_against_polygons_of_thousands_of_vertices(seed, offset):
    """A long river and a lake with an island: rings of many runs of blocks, most skipped."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.3, 1500))
    walk = 3.0 * np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]), axis=0)
    walk[:, 0] += offset
    river = shapely.make_valid(shapely.LineString(walk).buffer(4.0, quad_segs=3))
    centre = shapely.Point(offset + 500.0, 800.0)
    lake = centre.buffer(300.0, quad_segs=1500).difference(centre.buffer(120.0, quad_segs=900))
    # Parcels on the river's course (mostly inside it) or anywhere in its box; over the lake.
    on_course = walk[rng.integers(0, len(walk), 75)]
    for large, scale, centres in ((river, 0.3, on_course), (lake, 1.0, np.empty((0, 2)))):
        assert shapely.get_num_coordinates(large) > 3 * overlaps_blocks_per_run()
        low_x, low_y, high_x, high_y = large.bounds
        anywhere = rng.uniform((low_x, low_y), (high_x, high_y), (150 - len(centres), 2))
        parcels = [star(rng, tuple(point), False) for point in np.concatenate([centres, anywhere])]
        parcels = np.array([shapely.affinity.scale(p, scale, scale) for p in parcels])
        parcels = parcels[shapely.is_valid(parcels)]
        others = np.full(len(parcels), large, dtype=object)
        codes = settle(parcels, others)
        assert_codes_agree_with_geos(codes, parcels, others)
        assert (codes >= 0).mean() > 0.9
        assert {0, 2} <= set(codes.tolist())  # apart and inside: rays through the runs
        crossing = np.flatnonzero(codes == 3)
        pieces = clip(parcels, others, crossing, crossing)
        assert_same_pieces(pieces, shapely.intersection(parcels[crossing], others[crossing]))


def wobbly_disc(rng: np.random.Generator, centre: tuple[float, float], vertices: int) -> Polygon:
    """A disc of radius about 50 with `vertices` vertices: star-shaped, simple, many blocks."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = 50.0 * (1 + 0.02 * np.sin(7 * angles + rng.uniform(0, 6)))
    radii += rng.uniform(-0.01, 0.01, vertices)
    return Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]) + centre)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset=st.sampled_from([0.0, 39_500_000.0]),
    clockwise=st.booleans(),
)
def test_large_polygons_clipped_as_geos_does(seed, offset, clockwise):
    """Polygons of hundreds to thousands of vertices crossing each other: the clip follows
    both by blocks of edges (and runs of blocks), either way round, as GEOS cuts them."""
    rng = np.random.default_rng(seed)
    count = 12
    left = [
        wobbly_disc(rng, (offset, 0.0), int(rng.integers(40, overlaps.SMALL_PAIR_VERTICES)))
        for _ in range(count)
    ]
    right = [
        wobbly_disc(
            rng,
            (offset + rng.uniform(-90, 90), rng.uniform(-90, 90)),
            int(rng.integers(40, 3000)),
        )
        for _ in range(count)
    ]
    left = shapely.orient_polygons(np.array(left), exterior_cw=clockwise)
    right = shapely.orient_polygons(np.array(right), exterior_cw=not clockwise)
    usable = shapely.is_valid(left) & shapely.is_valid(right)
    left, right = left[usable], right[usable]
    assert shapely.get_num_coordinates(np.concatenate([left, right])).max() > (
        overlaps_blocks_per_run()
    )
    pieces, geos = clipped_and_geos(left, right)
    done = ~shapely.is_missing(pieces)
    assert shapely.is_valid(pieces[done]).all()
    assert_same_pieces(pieces, geos)
    crossing = shapely.intersects(left, right) & ~shapely.covers(left, right)
    crossing &= ~shapely.covers(right, left)
    assert not done[~crossing].any()
    assert done[crossing].mean() > 0.9 if crossing.any() else True


def overlaps_blocks_per_run() -> int:
    from geozones.analysis import clip as clip_kernels

    return clip_kernels.EDGE_BLOCK * clip_kernels.BLOCK_RUN


def test_nested_large_polygons():
    """A disc in a ring's hole is apart from it and inside the ring's outer disc; a disc
    holding the hole and inside the ring's outer edge is neither (GEOS decides)."""
    disc = shapely.Point(0, 0).buffer(40, quad_segs=40)
    ring = disc.difference(shapely.Point(0, 0).buffer(25, quad_segs=40))
    inner = shapely.Point(0, 0).buffer(10, quad_segs=30)
    across = shapely.Point(0, 0).buffer(30, quad_segs=40)  # over the hole's edge, not its own
    left = np.array([inner, inner, ring, disc, across, ring], dtype=object)
    right = np.array([ring, disc, inner, inner, ring, across], dtype=object)
    assert settle(left, right).tolist() == [0, 2, 0, 1, -1, -1]


# --- phantoms measured from their loops, not built --------------------------------------------

GK_X, GK_Y = 39_500_000.0, 3_300_000.0


@settings(max_examples=60, deadline=None)
@given(
    length=st.floats(0.0005, 200.0),
    across=st.floats(1e-5, 0.05),
    angle=st.floats(0.0, 2 * np.pi),
    bulge=st.floats(-0.5, 0.5),
    width=st.sampled_from([0.0, 0.001, 0.01]),
)
def test_loop_shapes_decide_thinness_as_is_thin_does(length, across, angle, bulge, width):
    # A strip `length` × `across` (a sliver between two neighbours, or a real overlap), turned
    # and with one side bent, at Gauss-Krüger eastings: the loop's area is GEOS's, and where
    # loop_shapes decides, it decides as is_thin does on the polygon.
    from geozones.analysis import clip as clip_kernels
    from geozones.measure.tolerance import STRIP_SHARE, is_thin

    local = np.array(
        [[0, 0], [length, 0], [length, across], [length / 2, across * (1 + bulge)], [0, across]]
    )
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ring = local @ turn.T + [GK_X, GK_Y]
    polygon = Polygon(ring)
    if not polygon.is_valid or polygon.area <= 0:
        return
    xy = np.asarray(polygon.exterior.coords)
    area, thin = clip_kernels.loop_shapes(
        xy, np.array([0]), np.array([len(xy)]), width, STRIP_SHARE * width
    )
    assert area[0] == pytest.approx(polygon.area, rel=1e-9)
    if thin[0] != clip_kernels.LOOP_UNDECIDED:
        assert bool(thin[0] == clip_kernels.LOOP_THIN) == is_thin(np.array([polygon]), width)[0]
    if width > 0 and across < 0.5 * width:
        assert thin[0] == clip_kernels.LOOP_THIN  # a sliver is decided without GEOS
    if width > 0 and across * (1 - abs(bulge)) > 2 * width and length > 10 * width:
        assert thin[0] == clip_kernels.LOOP_THICK


def _lean_and_built(left, right, **options):
    lean = overlaps.classified_overlaps(left, right, build_phantoms=False, **options)
    built = overlaps.classified_overlaps(left, right, **options)
    assert lean.left_index.tolist() == built.left_index.tolist()
    assert lean.right_index.tolist() == built.right_index.tolist()
    assert lean.phantom.tolist() == built.phantom.tolist()
    return lean, built


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 1000),
    jitter=st.sampled_from([0.0002, 0.0004, 0.003]),
    width=st.sampled_from([0.0, 0.001]),
    chunk=st.sampled_from([overlaps.CHUNK_COORDINATES, 60]),
)
def test_phantoms_left_as_rings_are_the_pieces_otherwise_built(seed, jitter, width, chunk):
    # A tessellation whose shared vertices were digitised apart, with real overlaps: left as
    # rings, only phantoms go unbuilt, and built they are the pieces, coordinate for
    # coordinate; their area from the rings is their area; phantoms are what the plain
    # path's pieces say (GEOS's overlay, is_thin).
    from geozones.io.rings import polygon_rings
    from geozones.measure.area import ellipsoidal_area, ellipsoidal_ring_area
    from geozones.measure.tolerance import is_thin

    cells = generate.tessellation(6, 6, seed=seed, jitter=jitter)
    overlapping = shapely.affinity.translate(cells[7], 3.0, 2.0)
    cells = np.append(cells, overlapping)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CHUNK_COORDINATES", chunk)  # 60: rings from many chunks
        lean, built = _lean_and_built(cells, cells, same_layer=True, width=width)
    plain = shapely.intersection(cells[lean.left_index], cells[lean.right_index])
    assert lean.phantom.tolist() == is_thin(plain, width).tolist()
    unbuilt = shapely.is_missing(lean.pieces)
    assert lean.phantom[unbuilt].all() and (~lean.phantom).any()
    if width > 0 and jitter < width / 2:
        assert unbuilt.sum() >= 0.9 * lean.phantom.sum() > 0  # the slivers stay rings
    if not unbuilt.any():
        assert lean.unbuilt is None
        return
    assert set(lean.unbuilt.ring_geometry.tolist()) == set(np.flatnonzero(unbuilt).tolist())
    assert not shapely.is_missing(built.pieces).any()
    made = overlaps.built_pieces(lean)
    assert shapely.equals_exact(shapely.normalize(made), shapely.normalize(built.pieces), 0).all()
    crs = pyproj.CRS(generate.EPSG)
    measured = ellipsoidal_ring_area(lean.unbuilt, len(made), crs)
    np.testing.assert_array_equal(measured[unbuilt], ellipsoidal_area(made[unbuilt], crs))
    whole = ellipsoidal_ring_area(polygon_rings(plain[unbuilt]), int(unbuilt.sum()), crs)
    np.testing.assert_allclose(measured[unbuilt], whole, rtol=1e-9)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 1000),
    jitter=st.sampled_from([0.0002, 0.0004]),
    chunk=st.sampled_from([overlaps.CHUNK_COORDINATES, 60]),
)
def test_phantoms_measured_as_clipped_keep_no_rings_and_their_area(seed, jitter, chunk):
    # With measure_rings, the overlaps clipped are measured chunk by chunk and the rings of
    # the phantoms let go: the same overlaps, and each such phantom's area is that of the
    # piece built otherwise (measured by ellipsoidal_area, not from rings).
    from functools import partial

    from geozones.measure.area import ellipsoidal_area, ellipsoidal_ring_area

    crs = pyproj.CRS(generate.EPSG)
    cells = generate.tessellation(6, 6, seed=seed, jitter=jitter)
    cells = np.append(cells, shapely.affinity.translate(cells[7], 3.0, 2.0))
    calls = []

    def measure(rings, count):
        calls.append(count)
        return ellipsoidal_ring_area(rings, count, crs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CHUNK_COORDINATES", chunk)  # 60: many chunks
        lean, built = _lean_and_built(
            cells, cells, same_layer=True, width=0.001, measure_rings=measure
        )
    unbuilt = shapely.is_missing(lean.pieces)
    assert lean.unbuilt is None and unbuilt.sum() >= 0.9 * lean.phantom.sum() > 0
    assert len(calls) > (1 if chunk == 60 else 0)
    measured = lean.measured_area
    np.testing.assert_allclose(
        measured[unbuilt], ellipsoidal_area(built.pieces[unbuilt], crs), rtol=1e-9
    )
    # The pieces built from the clip are measured as they are clipped too, as
    # ellipsoidal_area measures them once built; the others (GEOS's) are not.
    clipped = ~unbuilt & ~np.isnan(measured)
    assert clipped.any()
    np.testing.assert_allclose(
        measured[clipped], ellipsoidal_area(lean.pieces[clipped], crs), rtol=1e-9
    )
    np.testing.assert_array_equal(built.measured_area, measured)
    # A measure that cannot (a CRS that is not transverse Mercator) leaves the rings.
    kept = overlaps.classified_overlaps(
        cells,
        cells,
        same_layer=True,
        width=0.001,
        build_phantoms=False,
        measure_rings=partial(ellipsoidal_ring_area, crs=pyproj.CRS(3857)),
    )
    assert set(kept.unbuilt.ring_geometry.tolist()) == set(np.flatnonzero(unbuilt).tolist())
    assert np.isnan(kept.measured_area).all()


def test_phantoms_of_cut_polygons_are_built_and_put_together():
    # A large polygon along a block of the tessellation, digitised apart from it, is cut
    # on a quadtree: its phantoms with a cell come in pieces, which are built and united.
    from geozones.measure.tolerance import is_thin

    cells = generate.tessellation(6, 6, seed=5, jitter=0.0003)
    again = generate.tessellation(6, 6, seed=5, jitter=0.0002)
    block = shapely.segmentize(shapely.union_all(again[[7, 8, 13, 14]]), 2.0)
    assert shapely.get_num_coordinates(block) > 100
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CUT_FROM_CANDIDATES", 0)
        cuts = []
        patch.setattr(
            overlaps,
            "subdivide",
            lambda geoms, *a, **k: cuts.append(len(geoms)) or overlaps_subdivide(geoms, *a, **k),
        )
        lean, built = _lean_and_built(cells, np.array([block]), width=0.001, max_vertices=16)
    assert cuts
    assert lean.phantom.sum() >= 8
    made = overlaps.built_pieces(lean)
    assert shapely.equals_exact(shapely.normalize(made), shapely.normalize(built.pieces), 0).all()
    # The cut lines add vertices: areas move by the coordinates' resolution times the edges'
    # lengths (classified_overlaps' max_vertices).
    plain = shapely.intersection(cells[lean.left_index], block)
    np.testing.assert_allclose(shapely.area(made), shapely.area(plain), rtol=1e-9, atol=2e-6)
    assert lean.phantom.tolist() == is_thin(plain, 0.001).tolist()


overlaps_subdivide = overlaps.subdivide


def loops_valid(*loops: list[tuple[float, float]], placed: list[int]) -> bool:
    """:func:`clip._loops_valid` of closed `loops` written one after the other (from row 3),
    with crossings at rows `placed` (counted from the first loop's first vertex)."""
    from geozones.analysis import clip as clip_kernels

    xy = np.array([(9.0, 9.0)] * 3 + [point for loop in loops for point in loop])
    lengths = np.array([0, *[len(loop) for loop in loops]], dtype=np.int64)
    rows = np.array([3 + row for row in placed], dtype=np.int64)
    return clip_kernels._loops_valid(xy, 3, lengths, 1, len(loops), rows, len(rows))


SQUARE = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]


@pytest.mark.parametrize(
    ("loops", "placed", "valid"),
    [
        pytest.param([SQUARE], [0, 2], True, id="square"),
        pytest.param(
            [[(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0), (0.0, 0.0)]], [0], False, id="bow tie"
        ),
        pytest.param(
            [[(0.0, 0.0), (2.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]], [1], False, id="spike"
        ),
        pytest.param(
            [[(0.0, 0.0), (0.0, 0.0), (2.0, 0.0), (0.0, 2.0), (0.0, 0.0)]], [1], False, id="repeat"
        ),
        pytest.param(
            # The edge from the crossing at (0, 2) runs through the vertex (1, 1).
            [[(0.0, 2.0), (2.0, 0.0), (2.0, 2.0), (1.0, 1.0), (0.5, 3.0), (0.0, 2.0)]],
            [0],
            False,
            id="through a vertex",
        ),
        pytest.param(
            [SQUARE, [(5.0, 0.0), (6.0, 0.0), (6.0, 1.0), (5.0, 0.0)]], [0, 5], True, id="apart"
        ),
        pytest.param(
            [SQUARE, [(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 0.5)]], [0, 5], False, id="nested"
        ),
        pytest.param(
            [[(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 0.5)], SQUARE], [0, 4], False, id="holding"
        ),
        pytest.param(
            # A crossing's edge of the first loop runs into the second.
            [SQUARE, [(1.0, -1.0), (3.0, -1.0), (3.0, 1.0), (1.0, -1.0)]],
            [1, 5],
            False,
            id="loops meeting",
        ),
    ],
)
def test_loops_proven_valid_around_their_crossings(loops, placed, valid):
    """The clip's proof looks at the edges at each crossing against every edge, and at
    whether a loop holds another; anything in doubt is not proven."""
    assert loops_valid(*loops, placed=placed) is valid


def test_loops_of_two_rings_of_the_other_polygon_are_left_to_the_full_proof():
    """A parcel across the shell and a hole of a red-line polygon: its loops follow two rings
    of it, which the proof around the crossings does not cover; the full proof then does."""
    from geozones.analysis import clip as clip_kernels
    from geozones.io.proof import ring_forward

    red = Polygon(box(0, 0, 10, 10).exterior, [box(4, 4, 6, 6).exterior])
    parcels = np.array([box(-1, 1, 5, 3), box(3, 3, 5, 5), box(-1, 5, 5, 7)], dtype=object)
    found = overlaps._coordinate_pairs(
        parcels, np.array([red]), np.arange(3), np.zeros(3, dtype=np.int64), same_layer=False
    )
    forward = ring_forward(found.coords, found.ring_start, found.ring_stop, found.ring_hole)
    loops, _, _, proven = clip_kernels.clip_pairs(
        found.coords,
        found.ring_start,
        found.ring_stop,
        forward,
        found.ring_block,
        found.block_box,
        found.geometry_ring,
        np.ascontiguousarray(found.small),
        np.ascontiguousarray(found.other),
        0,
        3,
    )
    assert loops.tolist() == [1, 1, 1]
    assert proven.tolist() == [True, True, False]  # the last crosses the shell and the hole
    pieces = clip(parcels, np.array([red] * 3), np.arange(3), np.arange(3))
    assert_same_pieces(pieces, shapely.intersection(parcels, red))
    assert not shapely.is_missing(pieces).any()

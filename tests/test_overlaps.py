"""The overlay kernel's fast paths give what the plain path gives.

The plain path, written here independently of :mod:`geozones.analysis.overlaps`: every pair of boxes
that meet, intersected by GEOS, polygonal parts kept, empty and zero-area pieces dropped.
The kernel's fast paths (polygons cut on a quadtree and put together again, the covered-whole
shortcut on either side, threads) must find the same pairs, with the same pieces: areas
equal to 1e-9 and the pieces equal as point sets.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Polygon, box

from geozones.analysis import overlaps
from geozones.analysis.overlaps import classified_overlaps, subdivide
from geozones.errors import GeozonesError
from geozones.io import validity
from geozones.io.validity import trimmed_for_intersection, trimmed_near
from geozones.parallel import MIN_BLOCK


def plain_overlaps(left, right, *, same_layer=False):
    """Every overlapping pair and its piece, the obvious way (one GEOS call per pair)."""
    found = {}
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            if same_layer and j <= i:
                continue
            if not shapely.intersects(a, b):
                continue
            parts = shapely.get_parts(shapely.intersection(a, b))
            polygons = [p for p in parts if p.geom_type == "Polygon" and p.area > 0]
            if polygons:
                found[(i, j)] = shapely.union_all(polygons)
    return found


def wiggly(x, y, radius, vertices, seed, hole=False):
    """A star-shaped polygon with `vertices` vertices, optionally with a hole."""
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = radius * rng.uniform(0.6, 1.0, vertices)
    shell = np.column_stack([x + radii * np.cos(angles), y + radii * np.sin(angles)])
    holes = [shapely.Point(x, y).buffer(radius * 0.3, 8).exterior.coords] if hole else None
    polygon = shapely.Polygon(np.round(shell, 3), holes)
    return polygon if polygon.is_valid else shapely.make_valid(polygon).geoms[0]


# No subnormal coordinates: GEOS's own intersection (the plain path here) loses the overlap of a
# polygon whose hole has a vertex at x=5e-324 (it returns two points for a 2.1 m² overlap that
# x=0 or x=1e-300 gives right); no surveyed coordinate is subnormal.
polygon_specs = st.lists(
    st.tuples(
        st.floats(0, 100, allow_subnormal=False),
        st.floats(0, 100, allow_subnormal=False),
        st.floats(1, 40),
        st.integers(3, 120),
        st.integers(0, 10_000),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


def build(specs):
    polygons = [wiggly(*spec) for spec in specs]
    polygons = [p for p in polygons if p.geom_type == "Polygon" and p.is_valid]
    return np.array(polygons or [box(0, 0, 1, 1)], dtype=object)


def assert_same(found, expected):
    pairs = list(zip(found.left_index.tolist(), found.right_index.tolist(), strict=True))
    assert pairs == sorted(expected)
    for (i, j), piece in zip(pairs, found.pieces, strict=True):
        reference = expected[(i, j)]
        assert piece.is_valid
        assert piece.area == pytest.approx(reference.area, rel=1e-9, abs=1e-9)
        assert shapely.symmetric_difference(piece, reference).area <= 1e-9 * max(
            reference.area, 1.0
        )


@settings(max_examples=30, deadline=None)
@given(
    polygon_specs,
    polygon_specs,
    st.sampled_from([0, 8, 40]),
    st.sampled_from([1, 2]),
    st.sampled_from([validity.TRIM_FROM, 0]),
)
def test_fast_paths_equal_the_plain_path(left_specs, right_specs, max_vertices, threads, trim):
    left, right = build(left_specs), build(right_specs)
    # Cut whichever side is queried, whatever the sizes (by default only larger features are);
    # trim every geometry of a pair left to GEOS, or only the large ones.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CUT_WHEN_FINER", 0.0)
        patch.setattr(overlaps, "CUT_FROM_CANDIDATES", 0)
        patch.setattr(validity, "TRIM_FROM", trim)
        found = classified_overlaps(left, right, max_vertices=max_vertices, threads=threads)
    assert_same(found, plain_overlaps(left, right))


large_specs = st.lists(
    st.tuples(
        st.floats(0, 100, allow_subnormal=False),
        st.floats(0, 100, allow_subnormal=False),
        st.floats(5, 40),
        st.integers(150, 300),
        st.integers(0, 10_000),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


def _boxes(coordinates_each: int) -> np.ndarray:
    """3 m × 2 m boxes on a grid, with `coordinates_each` coordinates or a few more."""
    boxes = [box(x, y, x + 3, y + 2) for x in range(0, 120, 7) for y in range(0, 120, 9)]
    return shapely.segmentize(np.array(boxes, dtype=object), 10.0 / (coordinates_each - 1))


@settings(max_examples=15, deadline=None)
@given(large_specs, st.sampled_from([8, 20]), st.sampled_from([5, 34]))
def test_large_polygons_cut_by_default_rule(left_specs, max_vertices, box_coordinates):
    # Polygons of 150-300 vertices against boxes of 5 or 34 coordinates: the default rule
    # (larger features, with enough candidates) cuts the polygons, unless the boxes are
    # small polygons, whose pairs are clipped from the coordinates without cuts.
    left = build(left_specs)
    right = _boxes(box_coordinates)
    cuts = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CUT_FROM_CANDIDATES", 1)
        patch.setattr(
            overlaps,
            "subdivide",
            lambda geoms, *a, **k: cuts.append(len(geoms)) or subdivide(geoms, *a, **k),
        )
        found = classified_overlaps(left, right, max_vertices=max_vertices)
    assert_same(found, plain_overlaps(left, right))
    small = shapely.get_num_coordinates(right).max() <= overlaps.SMALL_PAIR_VERTICES
    assert bool(cuts) != small


@settings(max_examples=25, deadline=None)
@given(polygon_specs, st.sampled_from([0, 8, 40]))
def test_fast_paths_within_a_layer_equal_the_plain_path(specs, max_vertices):
    geoms = build(specs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CUT_WHEN_FINER", 0.0)
        patch.setattr(overlaps, "CUT_FROM_CANDIDATES", 0)
        found = classified_overlaps(geoms, geoms, same_layer=True, max_vertices=max_vertices)
    assert_same(found, plain_overlaps(geoms, geoms, same_layer=True))


@settings(max_examples=20, deadline=None)
@given(polygon_specs, polygon_specs, st.sampled_from([1, 40, 400]))
def test_pairs_settled_and_clipped_in_chunks_equal_the_plain_path(left_specs, right_specs, chunk):
    # The pairs' coordinates are read a chunk at a time: chunks of one queried polygon (1),
    # of a few, or all at once give the plain path's pieces, between and within layers.
    left, right = build(left_specs), build(right_specs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CHUNK_COORDINATES", chunk)
        between = classified_overlaps(left, right)
        within = classified_overlaps(left, left, same_layer=True)
    assert_same(between, plain_overlaps(left, right))
    assert_same(within, plain_overlaps(left, left, same_layer=True))


def test_pair_chunks_hold_each_queried_polygon_whole():
    query_piece = np.array([0, 0, 0, 1, 2, 2, 5, 5, 5, 5])
    query_count = np.array([100, 100, 100, 10, 30, 30, 7, 7, 7, 7])
    tree_count = np.full(10, 5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(overlaps, "CHUNK_COORDINATES", 50)
        chunks = overlaps._pair_chunks(query_piece, query_count, tree_count)
        whole = overlaps._pair_chunks(query_piece, query_count, tree_count * 0)
    # Each queried polygon counts once and its pairs' tree polygons each: they start at 0,
    # 115, 130 and 170 coordinates; a chunk starts at the first at or past 0, 50, 100, 150.
    assert [(c.start, c.stop) for c in chunks] == [(0, 3), (3, 6), (6, 10)]
    assert [(c.start, c.stop) for c in whole] == [(0, 3), (3, 10)]


def test_covered_whole_on_either_side():
    # A parcel inside a red-line polygon, and a red-line polygon inside a parcel: the
    # overlap is the smaller polygon itself, whichever side the tree holds.
    small, large = box(10, 10, 20, 20), shapely.Point(15, 15).buffer(30, 64)
    tiny, parcel = box(100, 100, 101, 101), box(90, 90, 110, 110)
    for max_vertices in (0, 16):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(overlaps, "CUT_WHEN_FINER", 0.0)
            patch.setattr(overlaps, "CUT_FROM_CANDIDATES", 0)
            found = classified_overlaps(
                np.array([small, parcel]), np.array([large, tiny]), max_vertices=max_vertices
            )
        assert found.left_index.tolist() == [0, 1]
        assert found.right_index.tolist() == [0, 1]
        assert shapely.equals(found.pieces[0], small)
        assert shapely.equals(found.pieces[1], tiny)


def test_subdivide_covers_each_polygon_exactly():
    # A 2,000-vertex disc with a hole, cut into pieces of at most 100 coordinates.
    ring = shapely.Point(0, 0).buffer(1000, 500)
    polygon = shapely.Polygon(
        ring.exterior.coords, [shapely.Point(0, 0).buffer(300, 50).exterior.coords]
    )
    small = box(0, 0, 1, 1)
    owner, pieces = subdivide(np.array([small, polygon]), max_vertices=100)
    assert owner[0] == 0 and pieces[0] is small
    cut = pieces[owner == 1]
    assert len(cut) > 8
    assert (shapely.get_num_coordinates(cut) <= 100).all()
    # The pieces add up to the polygon (the hole's area left out) and do not overlap.
    assert sum(p.area for p in cut) == pytest.approx(polygon.area, rel=1e-12)
    assert shapely.union_all(cut).symmetric_difference(polygon).area < 1e-6
    inner = shapely.STRtree(cut).query(cut, predicate="overlaps")
    assert len(inner[0]) == 0


def test_threads_must_be_positive():
    with pytest.raises(GeozonesError, match="threads must be 1 or more"):
        classified_overlaps(np.array([box(0, 0, 1, 1)]), np.array([box(0, 0, 1, 1)]), threads=0)


def test_polygons_prepared_for_the_pair_tests_are_released_and_the_callers_kept():
    """Preparing builds GEOS indexes (memory); the kernel frees those it built, and only those."""
    big = np.array([box(0, 0, 100, 100), box(200, 0, 300, 100)], dtype=object)
    small = np.array(
        [box(x, y, x + 3, y + 3) for x in range(-1, 300, 4) for y in range(-1, 100, 4)],
        dtype=object,
    )
    shapely.prepare(big[1])  # the caller's own
    found = classified_overlaps(big, small)
    assert len(found.pieces) > 2 * overlaps.PREPARE_FROM  # many candidates each: prepared
    assert shapely.is_prepared(big).tolist() == [False, True]
    assert not shapely.is_prepared(small).any()


def test_one_polygon_object_at_many_places_is_tested_safely():
    """A frame may hold one geometry object many times; prepared, it must stay in one thread."""
    big = box(0, 0, 100, 100)
    queried = np.array([big] * 40, dtype=object)  # the same object, 40 times
    small = np.array(
        [box(x, y, x + 3, y + 3) for x in range(-1, 100, 2) for y in range(-1, 100, 2)],
        dtype=object,
    )
    found = classified_overlaps(queried, small, threads=2)
    once = classified_overlaps(np.array([box(0, 0, 100, 100)], dtype=object), small, threads=1)
    assert len(found.pieces) == 40 * len(once.pieces) > 2 * 50_000
    assert not shapely.is_prepared(big)


def test_pair_tests_in_threads_equal_one_thread(monkeypatch):
    """Over 100,000 candidate pairs the pair tests run in threads, by queried piece."""
    monkeypatch.setattr(overlaps, "SMALL_PAIR_VERTICES", 0)  # all pairs to GEOS
    big = np.array(
        [box(x, y, x + 30.5, y + 30.5) for x in range(0, 300, 30) for y in range(0, 300, 30)],
        dtype=object,
    )
    small = np.array(
        [box(x, y, x + 1.5, y + 1.5) for x in range(0, 300, 1) for y in range(0, 300, 1)],
        dtype=object,
    )
    calls = []
    original = overlaps.map_groups

    def spy(settle, query_piece, *, threads):
        calls.append((len(query_piece), threads))
        return original(settle, query_piece, threads=threads)

    overlaps.map_groups = spy
    try:
        threaded = classified_overlaps(big, small, threads=2)
    finally:
        overlaps.map_groups = original
    single = classified_overlaps(big, small, threads=1)
    assert calls and calls[0][0] >= 2 * MIN_BLOCK and calls[0][1] == 2
    assert threaded.left_index.tolist() == single.left_index.tolist()
    assert threaded.right_index.tolist() == single.right_index.tolist()
    assert shapely.equals(threaded.pieces, single.pieces).all()


def _jittered_cells(seed: int, jitter: float) -> np.ndarray:
    """A 4 x 4 tessellation at Gauss-Krüger coordinates, each cell's vertices jittered apart."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0), indexing="ij"), axis=-1) * 100
    grid += rng.uniform(-15, 15, grid.shape)
    cells = []
    for i in range(4):
        for j in range(4):
            corners = np.array([grid[i, j], grid[i + 1, j], grid[i + 1, j + 1], grid[i, j + 1]])
            corners = corners + rng.uniform(-jitter, jitter, corners.shape)
            corners += [39_580_000.0, 3_150_000.0]
            cells.append(Polygon(corners))
    return np.array(cells, dtype=object)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    jitter=st.sampled_from([0.0, 1e-4, 3e-4, 0.5]),
    triangles=st.integers(0, 6),
)
def test_small_pairs_settled_from_coordinates_agree_with_geos(seed, jitter, triangles):
    # Tessellation neighbours with exactly shared, jittered and crossing edges, and random
    # triangles among them: where the coordinates settle a pair, GEOS agrees.
    from geozones.analysis import clip

    rng = np.random.default_rng(seed)
    geoms = _jittered_cells(seed, jitter)
    if triangles:
        corners = rng.uniform(0, 400, (triangles, 3, 2)) + np.array([39_580_000.0, 3_150_000.0])
        geoms = np.concatenate([geoms, np.array([Polygon(c) for c in corners], dtype=object)])
        geoms = geoms[shapely.is_valid(geoms)]
    # a small diamond inside a cell: its boundary meets none, yet the two overlap
    inner = shapely.buffer(shapely.centroid(geoms[5]), 5.0, quad_segs=1)
    geoms = np.concatenate([geoms, np.array([inner], dtype=object)])
    left, right = np.triu_indices(len(geoms), 1)
    found = overlaps._coordinate_pairs(geoms, geoms, left, right, same_layer=True)
    code = overlaps._settle_from_coordinates(found, len(left))
    meets = shapely.intersects(geoms[left], geoms[right])
    apart = code == clip.PAIR_APART
    crossing = code == clip.PAIR_CROSSING
    assert not meets[apart].any()
    assert meets[crossing].all()
    assert not shapely.covers(geoms[left[crossing]], geoms[right[crossing]]).any()
    assert not shapely.covers(geoms[right[crossing]], geoms[left[crossing]]).any()
    tree_inside, queried_inside = code == 1, code == 2  # the codes of the pair tests
    assert shapely.covers(geoms[left[tree_inside]], geoms[right[tree_inside]]).all()
    assert shapely.covers(geoms[right[queried_inside]], geoms[left[queried_inside]]).all()
    assert tree_inside.any() or queried_inside.any()  # the diamond
    if jitter == 0.0:  # exactly shared edges: left to GEOS, never guessed
        touching = shapely.touches(geoms[left], geoms[right])
        assert (code[touching] == clip.PAIR_UNDECIDED).all()
    # The whole kernel gives the same overlaps with and without the coordinates' tests.
    fast = classified_overlaps(geoms, geoms, same_layer=True, width=0.001)
    original = overlaps.SMALL_PAIR_VERTICES
    overlaps.SMALL_PAIR_VERTICES = 0
    try:
        plain = classified_overlaps(geoms, geoms, same_layer=True, width=0.001)
    finally:
        overlaps.SMALL_PAIR_VERTICES = original
    assert fast.left_index.tolist() == plain.left_index.tolist()
    assert fast.right_index.tolist() == plain.right_index.tolist()
    assert fast.phantom.tolist() == plain.phantom.tolist()
    # The same coordinates (clipped pieces start at another vertex than GEOS's).
    assert shapely.equals_exact(
        shapely.normalize(fast.pieces), shapely.normalize(plain.pieces), 0
    ).all()


@settings(max_examples=40, deadline=None)
@given(polygon_specs, polygon_specs, st.sampled_from([0, 50]), st.sampled_from([2, 32]))
def test_pairs_trimmed_meet_as_before(left_specs, right_specs, trim_from, group):
    # Every polygon of the left paired with every one of the right: one object in many
    # pairs, trimmed in groups of `group` pairs first.
    left, right = build(left_specs), build(right_specs)
    i, j = np.divmod(np.arange(len(left) * len(right)), len(right))
    a, b = left[i], right[j]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validity, "CLIP_GROUP", group)
        near = trimmed_near(a, b, trim_from=trim_from)
        trimmed_a, trimmed_b = trimmed_for_intersection(a, b, trim_from=trim_from)
    size = shapely.get_num_coordinates
    assert (size(near) <= size(a)).all()
    assert (size(trimmed_a) <= size(a)).all() and (size(trimmed_b) <= size(b)).all()
    assert shapely.is_valid(near).all()
    assert shapely.is_valid(trimmed_a).all() and shapely.is_valid(trimmed_b).all()
    for k in range(len(a)):
        for found, expected in (
            (shapely.intersection(trimmed_a[k], trimmed_b[k]), shapely.intersection(a[k], b[k])),
            (shapely.intersection(near[k], b[k]), shapely.intersection(a[k], b[k])),
            (shapely.difference(b[k], near[k]), shapely.difference(b[k], a[k])),
        ):
            assert found.area == pytest.approx(expected.area, rel=1e-9, abs=1e-9)
            assert shapely.symmetric_difference(found, expected).area <= 1e-9 * max(
                expected.area, 1.0
            )
        assert shapely.covers(near[k], b[k]) == shapely.covers(a[k], b[k])
    # The caller's arrays are left as they were.
    assert all(x is y for x, y in zip(a, left[i], strict=True))


def test_trimming_keeps_whole_what_the_clip_breaks_and_empties_far_pairs(monkeypatch):
    disc = shapely.Point(0, 0).buffer(100, quad_segs=200)
    near, far = box(95, -5, 120, 5), box(500, 500, 510, 510)
    trimmed, _ = trimmed_for_intersection(np.array([disc, disc]), np.array([near, far]))
    assert shapely.get_num_coordinates(trimmed[0]) < shapely.get_num_coordinates(disc)
    assert trimmed[1].is_empty
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    monkeypatch.setattr(validity, "_clipped", lambda geoms, rects: np.array([bowtie] * len(geoms)))
    kept, _ = trimmed_for_intersection(np.array([disc]), np.array([near]))
    assert kept[0] is disc


def test_trimming_in_threads_leaves_the_warning_filters_alone(monkeypatch):
    # shapely.is_valid swaps the process's warning filters (catch_warnings): two threads at
    # once can leave every later warning ignored.
    monkeypatch.setenv("GEOZONES_THREADS", "2")
    discs = np.array(
        [shapely.Point(10 * k, 0).buffer(100, quad_segs=200) for k in range(64)], dtype=object
    )
    boxes = np.array([box(10 * k + 95, -5, 10 * k + 105, 5) for k in range(64)], dtype=object)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        for _ in range(20):
            trimmed = trimmed_near(discs, boxes)
        assert warnings.filters == before
        warnings.warn("still recorded", UserWarning, stacklevel=1)
    assert [str(warning.message) for warning in caught] == ["still recorded"]
    assert (shapely.get_num_coordinates(trimmed) < shapely.get_num_coordinates(discs)).all()

"""The validity proof: never says valid where GEOS says invalid, and proves the usual shapes.

GEOS's ``is_valid`` is the oracle. :func:`geozones.measure.proof.certainly_valid` may leave a
valid geometry undecided (GEOS then checks it), but a True must always be right; and it must
decide the shapes that make up red-line layers (large rings that are not star-shaped around
their vertex mean, holes, multipolygons, parts in holes), or the speed it is for is lost.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon, box

import geozones
from geozones.io.proof import certainly_valid, certainly_valid_rings

SQUARE = [(0, 0), (10, 0), (10, 10), (0, 10)]
U_HOLE = [(4, 1), (6, 1), (5, 2)]

#: Each: (geometry, what the proof must say). Invalid ones must be False; these valid ones
#: must be proven.
CASES = {
    "hole inside": (Polygon(SQUARE, [[(1, 1), (2, 1), (2, 2)]]), True),
    "two parts apart": (MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)]), True),
    "part in a hole": (
        MultiPolygon([Polygon(SQUARE, [[(1, 1), (9, 1), (9, 9), (1, 9)]]), box(2, 2, 3, 3)]),
        True,
    ),
    "repeated vertex": (Polygon([(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)]), True),
    "collinear vertex": (Polygon([(0, 0), (1, 0), (2, 0), (2, 1), (0, 1)]), True),
    "bow tie": (Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]), False),
    "spike back along an edge": (Polygon([(0, 0), (2, 0), (1, 0), (1, 1)]), False),
    "ring touching itself where it turns back": (
        # Two lobes meeting at (2, 1): the ring's leftward and rightward runs end there.
        Polygon([(0, 0), (2, 1), (0, 2), (1, 5), (4, 5), (4, 2), (2, 1), (4, 0), (1, -3), (0, -3)]),
        False,
    ),
    "hole in a U-shaped shell": (
        Polygon([(0, 0), (10, 0), (10, 10), (7, 10), (7, 3), (3, 3), (3, 10), (0, 10)], [U_HOLE]),
        True,
    ),
    "hole crossing a U-shaped shell": (
        # The shell is not star-shaped: its chains are swept, with the hole's.
        Polygon(
            [(0, 0), (10, 0), (10, 10), (7, 10), (7, 3), (3, 3), (3, 10), (0, 10)],
            [[(4, 1), (6, 1), (5, 5)]],
        ),
        False,
    ),
    "hole outside its shell": (Polygon(SQUARE, [[(11, 11), (12, 11), (12, 12)]]), False),
    "hole in a hole": (
        Polygon(SQUARE, [[(1, 1), (9, 1), (9, 9), (1, 9)], [(2, 2), (3, 2), (3, 3)]]),
        False,
    ),
    "hole crossing its shell": (Polygon(SQUARE, [[(5, 5), (15, 5), (15, 6)]]), False),
    "overlapping parts": (MultiPolygon([box(0, 0, 4, 4), box(1, 1, 2, 2)]), False),
    "part across a hole": (
        MultiPolygon(
            [Polygon(SQUARE, [[(1, 1), (9, 1), (9, 9), (1, 9)]]), box(0.5, 0.5, 9.5, 9.5)]
        ),
        False,
    ),
    "same part twice": (MultiPolygon([box(0, 0, 1, 1), box(0, 0, 1, 1)]), False),
    "flat triangle turning back along itself": (Polygon([(0, 0), (2, 0), (1, 0)]), False),
    "upright flat triangle": (Polygon([(0, 0), (0, 4), (0, 2)]), False),
    "too few points": (shapely.from_wkt("POLYGON ((0 0, 1 0, 0 0, 0 0))"), False),
    "not a number": (shapely.from_wkt("POLYGON ((0 0, 1 0, NaN 1, 0 1, 0 0))"), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hand_made_cases(name):
    geometry, expected = CASES[name]
    proven = certainly_valid(np.array([geometry], dtype=object))[0]
    assert proven == expected
    if proven:
        assert shapely.is_valid(geometry)


def test_many_small_polygons_are_checked_by_the_proof_as_geos_would(monkeypatch):
    """Past PROVE_SMALL_FROM small polygons the proof goes first; GEOS settles the rest."""
    from geozones.io import proof, validity

    cases = [geometry for geometry, _ in CASES.values()]
    cases.append(Polygon(SQUARE, [[(0, 0), (1, 2), (2, 1)]]))  # valid, left to GEOS
    cases = [geometry for geometry in cases if shapely.get_num_coordinates(geometry) >= 4]
    parcels = [box(20.0 * i, 0, 20.0 * i + 10, 10) for i in range(validity.PROVE_SMALL_FROM)]
    geoms = np.array(parcels + cases * 3, dtype=object)
    proved = []
    whole = proof.certainly_valid
    monkeypatch.setattr(proof, "certainly_valid", lambda g: proved.append(len(g)) or whole(g))
    assert validity.valid_mask(geoms).tolist() == shapely.is_valid(geoms).tolist()
    assert proved == [len(geoms)]
    proved.clear()
    assert validity.valid_mask(geoms[-len(cases) :]).tolist() == shapely.is_valid(cases).tolist()
    assert proved == []  # too few small polygons: GEOS alone


def test_hole_touching_its_shell_is_left_to_geos():
    """Valid (one touching point), but rings that meet are not decided here."""
    touching = Polygon(SQUARE, [[(0, 0), (1, 2), (2, 1)]])
    assert shapely.is_valid(touching)
    assert not certainly_valid(np.array([touching]))[0]


def test_missing_empty_and_other_types_are_undecided():
    geoms = np.array(
        [
            None,
            Polygon(),
            shapely.Point(0, 0),
            shapely.LineString([(0, 0), (1, 1)]),
            box(0, 0, 1, 1),
        ],
        dtype=object,
    )
    assert certainly_valid(geoms).tolist() == [False, False, False, False, True]


def zigzag_star(x, y, radius, vertices, seed, *, holes=0):
    """A ring star-shaped only around points near its centre: radial zigzags of ±1 %.

    Like the benchmark's red-line polygons: the vertex mean is off the small kernel, so the
    area pass's own test cannot prove it.
    """
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    radii = radius * (1 + 0.3 * np.cos(2 * angles)) * np.exp(rng.normal(0, 0.01, vertices))
    shell = np.round(np.column_stack([x + radii * np.cos(angles), y + radii * np.sin(angles)]), 3)
    inner = [
        shapely.Point(x + radius * 0.3 * np.cos(a), y + radius * 0.3 * np.sin(a))
        .buffer(radius * 0.05, 4)
        .exterior.coords
        for a in np.linspace(0, 2 * np.pi, holes, endpoint=False)
    ]
    return Polygon(shell, inner)


def test_large_zigzag_rings_and_their_holes_are_proven():
    geoms = np.array(
        [
            zigzag_star(39_500_000, 3_300_000, 8_000, 20_000, 1),
            zigzag_star(39_600_000, 3_300_000, 8_000, 20_000, 2, holes=6),
            MultiPolygon(
                [
                    zigzag_star(500_000, 3_300_000, 2_000, 3_000, 3),
                    zigzag_star(520_000, 3_300_000, 2_000, 3_000, 4, holes=2),
                ]
            ),
        ],
        dtype=object,
    )
    assert shapely.is_valid(geoms).all()
    assert certainly_valid(geoms).all()


def test_area_of_a_raw_layer_is_unchanged_and_proves_without_geos(monkeypatch):
    """`geozones.area` on a raw frame: the proof replaces GEOS for such polygons."""
    import geozones.io.validity as validity

    frame = geozones_frame()
    expected = geozones.area(frame, unit="m2").to_numpy()
    checked = []
    original = validity._is_valid
    monkeypatch.setattr(validity, "_is_valid", lambda g: checked.append(len(g)) or original(g))
    again = geozones.area(geozones_frame(), unit="m2").to_numpy()
    assert sum(checked) == 0
    np.testing.assert_array_equal(again, expected)


def geozones_frame():
    import geopandas as gpd

    return gpd.GeoDataFrame(
        geometry=[
            zigzag_star(39_500_000, 3_300_000, 8_000, 5_000, 7),
            zigzag_star(39_530_000, 3_300_000, 8_000, 5_000, 8, holes=3),
        ],
        crs="EPSG:4527",
    )


coordinate = st.integers(0, 12).map(float)


@settings(max_examples=300, deadline=None)
@given(
    rings=st.lists(
        st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=9),
        min_size=1,
        max_size=4,
    ),
    multi=st.booleans(),
)
def test_never_proves_an_invalid_geometry(rings, multi):
    """Small integer grids make touching, crossing and collinear edges common."""
    if multi:
        geometry = MultiPolygon([Polygon(ring) for ring in rings])
    else:
        geometry = Polygon(rings[0], rings[1:])
    if certainly_valid(np.array([geometry], dtype=object))[0]:
        assert shapely.is_valid(geometry), geometry.wkt


@settings(max_examples=100, deadline=None)
@given(
    vertices=st.integers(3, 400),
    seed=st.integers(0, 2**32 - 1),
    holes=st.integers(0, 4),
)
def test_proves_star_shaped_polygons_with_holes(vertices, seed, holes):
    """Random stars (increasing angles, positive radii) are simple; holes well inside."""
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = rng.uniform(50, 100, vertices)
    shell = np.column_stack([4e5 + radii * np.cos(angles), 3e6 + radii * np.sin(angles)])
    inner = [
        shapely.Point(4e5 - 30 + 20 * k, 3e6).buffer(5, 3).exterior.coords for k in range(holes)
    ]
    polygon = Polygon(np.round(shell, 3), inner)
    if not shapely.is_valid(polygon):  # rounding can fold two close vertices
        return
    assert certainly_valid(np.array([polygon], dtype=object))[0]


def test_many_holes_fall_back_to_the_grid_and_are_proven():
    """Over 1,024 rings the boxes are not paired one by one; the grid decides."""
    holes = [
        box(x + 0.2, y + 0.2, x + 0.6, y + 0.6).exterior.coords
        for x in range(33)
        for y in range(33)
    ]
    many = Polygon(box(0, 0, 34, 34).exterior.coords, holes)
    crossing = Polygon(
        box(0, 0, 34, 34).exterior.coords, [*holes[:-1], box(32.2, 32.2, 35, 32.6).exterior.coords]
    )
    assert len(many.interiors) == 1089
    assert shapely.is_valid(many) and not shapely.is_valid(crossing)
    assert certainly_valid(np.array([many, crossing], dtype=object)).tolist() == [True, False]


def test_rings_given_by_the_caller_are_proven_without_geos():
    """`certainly_valid_rings` on the coordinates a caller holds, with its own simple rings."""
    shell = zigzag_star(39_500_000, 3_300_000, 800, 2_000, 5, holes=3)
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    rings = [*shapely.get_rings(shell), *shapely.get_rings(bowtie)]
    lengths = np.array([len(ring.coords) for ring in rings])
    coords = np.concatenate([np.asarray(ring.coords) for ring in rings])
    starts = np.cumsum(lengths) - lengths
    is_hole = np.array([False, True, True, True, False])
    geometry = np.array([0, 0, 0, 0, 1])
    assert certainly_valid_rings(coords, starts, lengths, is_hole, geometry, 2).tolist() == [
        True,
        False,
    ]
    # A ring the caller says is simple is not tested again; the others still are.
    simple = np.array([True, True, True, True, False])
    assert certainly_valid_rings(
        coords, starts, lengths, is_hole, geometry, 2, simple=simple
    ).tolist() == [True, False]


def corridor(seed, steps=120, *, grid=None):
    """A river-like polygon: a random walk buffered, not star-shaped; holes where it loops.

    With `grid`, snapped to it: vertical edges and vertices in line become common.
    """
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.5, steps))
    walk = 40.0 * np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]), axis=0)
    origin = np.array([39_500_000.0, 3_300_000.0])
    polygon = shapely.make_valid(shapely.LineString(walk + origin).buffer(12, 2))
    if grid is not None:
        polygon = shapely.set_precision(polygon, grid)
    return polygon


def test_rings_that_are_not_star_shaped_are_proven_by_their_chains():
    """River corridors (with holes, as parts of one multipolygon, snapped to a grid)."""
    from geozones.io import proof
    from geozones.io.rings import polygon_rings

    geoms = [corridor(seed) for seed in range(12)]
    geoms += [corridor(seed, grid=1.0) for seed in range(12, 20)]
    geoms.append(MultiPolygon([*shapely.get_parts(corridor(20)), box(0, 0, 1, 1)]))
    geoms = np.array(geoms, dtype=object)
    assert shapely.is_valid(geoms).all()
    assert (shapely.get_num_interior_rings(geoms[:12]) > 0).any()
    assert certainly_valid(geoms).all()
    # Decided by the sweep, not by the grid it falls back to.
    for geometry in geoms:
        rings = polygon_rings(np.array([geometry], dtype=object))
        found = proof._chains_apart(
            rings.coords,
            rings.ring_starts,
            rings.ring_lengths,
            np.cumsum(~rings.ring_is_hole).astype(np.int64),
            rings.ring_is_hole,
            np.zeros(len(rings.ring_starts), dtype=bool),
            0,
            len(rings.ring_starts),
        )
        assert found == proof._APART


@pytest.mark.parametrize("seed", range(6))
def test_a_corridor_bent_onto_itself_is_not_proven(seed):
    """One vertex moved onto another edge of its ring, or across it: GEOS says invalid."""
    polygon = corridor(seed, steps=60)
    coords = np.asarray(polygon.exterior.coords)
    rng = np.random.default_rng(seed)
    i, j = sorted(rng.choice(np.arange(1, len(coords) - 2), 2, replace=False))
    bent = coords.copy()
    bent[i] = 0.5 * (coords[j] + coords[j + 1])  # on edge j
    crossed = coords.copy()
    crossed[i] = coords[j] + 2.0 * (0.5 * (coords[j] + coords[j + 1]) - coords[j])
    geoms = np.array([Polygon(bent), Polygon(crossed, polygon.interiors)], dtype=object)
    proven = certainly_valid(geoms)
    assert not (proven & ~shapely.is_valid(geoms)).any()
    assert not proven[0]


walk_coordinate = st.integers(0, 20).map(float)


@settings(max_examples=300, deadline=None)
@given(
    shell=st.lists(st.tuples(walk_coordinate, walk_coordinate), min_size=4, max_size=40),
    holes=st.lists(
        st.lists(st.tuples(walk_coordinate, walk_coordinate), min_size=3, max_size=12),
        max_size=3,
    ),
    repair=st.booleans(),
)
def test_never_proves_an_invalid_walk(shell, holes, repair):
    """Long random rings on a grid: many x-monotone chains, vertical edges, shared vertices.

    Repaired by GEOS they are valid, mostly not star-shaped, often with holes or in parts.
    """
    geometry = Polygon(shell, holes)
    if repair:
        geometry = shapely.make_valid(geometry)
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
            geometry = MultiPolygon(parts)
    if certainly_valid(np.array([geometry], dtype=object))[0]:
        assert shapely.is_valid(geometry), geometry.wkt


def _no_vertical_edges(ring):
    return all(a[0] != b[0] for a, b in zip(ring, [*ring[1:], ring[0]], strict=True))


sloped_ring = st.lists(st.tuples(walk_coordinate, walk_coordinate), min_size=4, max_size=40).filter(
    _no_vertical_edges
)


@settings(max_examples=400, deadline=None)
@given(
    shell=sloped_ring,
    holes=st.lists(sloped_ring, max_size=2),
    proven_shell=st.booleans(),
)
def test_never_proves_an_invalid_ring_without_vertical_edges(shell, holes, proven_shell):
    """No vertical edge: every chain is compared vertex by vertex with the chains beside it.

    On an integer grid vertices land on other edges, edges run along each other and chains
    meet at their ends, where that comparison must stay undecided; a shell taken as simple
    (as the area's star test says) still has its chains compared with its holes'.
    """
    from geozones.io.rings import polygon_rings

    geometry = Polygon(shell, holes)
    rings = polygon_rings(np.array([geometry], dtype=object))
    simple = np.zeros(len(rings.ring_starts), dtype=bool)
    if proven_shell:
        if not (shapely.is_valid(Polygon(shell)) and Polygon(shell).area > 0):
            return
        simple[0] = True
    proven = certainly_valid_rings(
        rings.coords,
        rings.ring_starts,
        rings.ring_lengths,
        rings.ring_is_hole,
        rings.ring_geometry,
        1,
        simple=simple,
    )[0]
    if proven:
        assert shapely.is_valid(geometry), geometry.wkt


def test_rings_without_vertical_edges_are_proven_by_comparing_vertices():
    """A comb and a spiral (chains folding back at every tooth and turn) are decided."""
    teeth = [(x + dx, y) for x in range(0, 40, 4) for dx, y in ((0, 0), (1, 9), (2, 9), (3, 0.5))]
    comb = Polygon([*teeth, (41, -1), (-1, -1.5)])
    turns = np.linspace(0.3, 6 * np.pi, 300)
    spiral = shapely.LineString(np.column_stack([turns * np.cos(turns), turns * np.sin(turns)]))
    spiral = spiral.buffer(0.6, quad_segs=3)
    geoms = np.array([comb, spiral], dtype=object)
    assert shapely.is_valid(geoms).all()
    assert certainly_valid(geoms).tolist() == [True, True]

"""The coordinate tolerance, on layers built the way they arrive: tessellations whose shared
vertices were digitised separately and differ by fractions of a millimetre.

Oracles: thinness by the maximum inscribed circle (GEOS's own algorithm, not the negative
buffer the library uses); conflict areas by hand from the shapes and Karney's geodesic area;
phantoms by a brute-force overlay of every pair of neighbours; the balance of a resolution by
the rounding bound of the cut points, derived below.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely import Polygon, box

import geozones
from geozones.analysis import conflicts as conflicts_module
from geozones.analysis import coverage as coverage_module
from geozones.errors import GeozonesError, ToleranceError
from geozones.measure.tolerance import (
    DEFAULT_XY_TOLERANCE,
    check_xy_tolerance,
    eliminate_thin_parts,
    in_narrow_strips,
    is_thin,
    split_thin_parts,
    tolerance_in_crs_units,
)

ZONE39 = "EPSG:4527"
X, Y = 39_580_000.0, 3_150_000.0  # 80 km east of the central meridian
TOLERANCE = 0.001
JITTER = 0.0003  # each copy of a shared vertex lies within 0.3 mm of the true point

_TO_LONLAT = pyproj.Transformer.from_crs(ZONE39, "EPSG:4490", always_xy=True)
_GEOD = pyproj.Geod(a=6378137.0, rf=298.257222101)


def karney(geom) -> float:
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(_TO_LONLAT.transform(*xy.T)))
    return abs(_GEOD.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def inscribed_radius(geom) -> float:
    """Radius of the largest circle inside a polygon, by GEOS's maximum-inscribed-circle."""
    return shapely.maximum_inscribed_circle(geom, 1e-6).length


def thinnest_part(geoms) -> float:
    """The smallest inscribed-circle diameter over every polygon part of `geoms`."""
    parts = shapely.get_parts(np.asarray(list(geoms), dtype=object))
    parts = parts[~shapely.is_empty(parts)]
    return min((2 * inscribed_radius(part) for part in parts), default=math.inf)


# --- layers as they arrive -----------------------------------------------------------------


def jitter_disc(rng: np.random.Generator, count: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * math.pi, count)
    radius = JITTER * np.sqrt(rng.uniform(0, 1, count))
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def tessellation(
    columns: int,
    rows: int,
    *,
    cell: float = 100.0,
    seed: int = 0,
    extra_share: float = 0.3,
    origin: tuple[float, float] = (X, Y),
) -> list[list[tuple[float, float]]]:
    """Rings (without closing vertex) of a grid of cells sharing their edges.

    Each cell's copy of a shared vertex is moved on its own, within JITTER of the true point,
    as if digitised separately; on a share of the edges one of the two neighbours has an
    extra vertex (on the true edge, then moved too).
    """
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    # the extra vertex of each edge, if any: (fraction along the edge, which side has it)
    horizontal = rng.uniform(0.2, 0.8, (columns, rows + 1))
    vertical = rng.uniform(0.2, 0.8, (columns + 1, rows))
    has_h = rng.random((columns, rows + 1)) < extra_share
    has_v = rng.random((columns + 1, rows)) < extra_share
    side_h = rng.random((columns, rows + 1)) < 0.5
    side_v = rng.random((columns + 1, rows)) < 0.5
    rings = []
    for i in range(columns):
        for j in range(rows):
            ring = [(i, j)]
            if has_h[i, j] and side_h[i, j]:  # bottom edge, this cell is above it
                ring.append((i + horizontal[i, j], j))
            ring.append((i + 1, j))
            if has_v[i + 1, j] and not side_v[i + 1, j]:  # right edge, cell to its left
                ring.append((i + 1, j + vertical[i + 1, j]))
            ring.append((i + 1, j + 1))
            if has_h[i, j + 1] and not side_h[i, j + 1]:  # top edge, cell below it
                ring.append((i + horizontal[i, j + 1], j + 1))
            ring.append((i, j + 1))
            if has_v[i, j] and side_v[i, j]:  # left edge, cell to its right
                ring.append((i, j + vertical[i, j]))
            xy = np.array(ring) * cell + [x0, y0] + jitter_disc(rng, len(ring))
            rings.append([tuple(p) for p in xy])
    return rings


def grid_layer(rings, **fields) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(fields or None, geometry=[Polygon(r) for r in rings], crs=ZONE39)


def cell_index(i: int, j: int, rows: int) -> int:
    return i * rows + j


# --- the primitive -------------------------------------------------------------------------


def test_thinness_is_the_inscribed_circle():
    shapes = [
        box(0, 0, 50, 0.04),  # 50 m × 4 cm: thick at 1 mm
        box(0, 0, 50, 0.0009),  # 0.9 mm wide: thin
        box(0, 0, 0.0011, 0.0011),  # a 1.1 mm square: thick
        Polygon([(0, 0), (100, 0), (100, 0.0009)]),  # a long triangle 0.9 mm at its base
        Polygon([(0, 0), (100, 0), (100, 0.004)]),  # 4 mm at its base
        shapely.MultiPolygon([box(0, 0, 10, 0.0005), box(0, 1, 10, 1.0005)]),  # both thin
        shapely.MultiPolygon([box(0, 0, 10, 0.0005), box(0, 1, 10, 2)]),  # one thick part
        Polygon(),
    ]
    expected = []
    for shape in shapes:
        parts = [part for part in shapely.get_parts(shape) if not part.is_empty]
        expected.append(all(2 * inscribed_radius(p) < TOLERANCE for p in parts))
    assert expected == [False, True, False, True, False, True, False, True]
    assert is_thin(np.array(shapes, dtype=object), TOLERANCE).tolist() == expected
    # 0 makes nothing thin but what has no area.
    assert is_thin(np.array(shapes, dtype=object), 0.0).tolist() == [False] * 7 + [True]


@pytest.mark.parametrize("angle", [0.0, 17.0, 90.0, 133.0])
def test_slivers_in_a_narrow_strip_are_thin_without_a_buffer(monkeypatch, angle):
    # At Gauss-Krüger coordinates, rotated: strips 100 m long and just under or over 1 mm
    # wide, a sliver bent at a corner (not in one narrow strip), two slivers as one piece.
    def strip(wide: float, dx: float = 0.0) -> Polygon:
        return box(X + dx, Y, X + dx + 100, Y + wide)

    # (arms 0.8 mm wide: the circle in the bend is 1.17 times that, still under 1 mm)
    corner = shapely.union(strip(0.0008), box(X + 100 - 0.0008, Y, X + 100, Y + 50))
    shapes = [
        strip(0.0009),
        strip(0.00098),
        strip(0.0009995),  # thin, but not by the strip's margin: the buffer decides
        strip(0.0010005),
        strip(0.0012),
        corner,
        shapely.MultiPolygon([strip(0.0005), strip(0.0007, dx=200)]),
        shapely.MultiPolygon([strip(0.0005), strip(0.0015, dx=200)]),
    ]
    shapes = [shapely.affinity.rotate(shape, angle, origin=(X, Y)) for shape in shapes]
    expected = [
        all(2 * inscribed_radius(part) < TOLERANCE for part in shapely.get_parts(shape))
        for shape in shapes
    ]
    assert expected == [True, True, True, False, False, True, True, False]
    assert is_thin(np.array(shapes, dtype=object), TOLERANCE).tolist() == expected
    # The slivers in one narrow strip are decided without a negative buffer (multipolygons
    # are left to it).
    buffered: list[int] = []
    original = shapely.buffer
    monkeypatch.setattr(
        shapely,
        "buffer",
        lambda geoms, *a, **k: buffered.append(len(geoms)) or original(geoms, *a, **k),
    )
    straight = np.array([shapes[0], shapes[1]], dtype=object)
    assert is_thin(straight, TOLERANCE).all()
    assert buffered == []


def gap(corner: tuple[float, float], arms: list[tuple[float, float, float]]) -> Polygon:
    """A gap along boundaries meeting at `corner`: arms of (bearing in degrees, length, width).

    Each arm is centred on its line, so that the arms overlap at the corner.
    """
    x, y = corner
    pieces = []
    for bearing, length, wide in arms:
        dx, dy = math.cos(math.radians(bearing)), math.sin(math.radians(bearing))
        nx, ny = -dy * wide / 2, dx * wide / 2
        ex, ey = x + dx * length, y + dy * length
        pieces.append(
            Polygon([(x - nx, y - ny), (ex - nx, ey - ny), (ex + nx, ey + ny), (x + nx, y + ny)])
        )
    return shapely.union_all(pieces)


@pytest.mark.parametrize("angle", [0.0, 61.0, 133.0])
def test_gaps_where_parcel_edges_meet_are_thin_without_a_buffer(monkeypatch, angle):
    # Gaps a jittered tessellation leaves where parcel edges meet (an L, a V, a T, an X), at
    # Gauss-Krüger coordinates: in strips whose widths add up to under 1 mm they are thin
    # without a buffer (no disc is covered by planks narrower in all than it is wide).
    def arms(*drawn: tuple[float, float, float]) -> Polygon:
        return gap((X, Y), [(angle + bearing, length, wide) for bearing, length, wide in drawn])

    shapes = [
        arms((0, 100.0, 0.0003), (90, 50.0, 0.0003)),  # L, 0.3 mm
        arms((0, 80.0, 0.00045), (20, 60.0, 0.00045)),  # V, 0.45 mm
        arms((0, 70.0, 0.0003), (170, 40.0, 0.0004)),  # nearly straight
        arms((0, 60.0, 0.0003), (100, 50.0, 0.0003), (230, 40.0, 0.0003)),  # T, 0.3 mm
        arms((0, 60.0, 0.0002), (85, 9.0, 0.0002), (181, 40.0, 0.0002), (275, 30.0, 0.0002)),
        arms((0, 100.0, 0.0006), (90, 50.0, 0.0006)),  # L, 0.6 mm arms
        arms((0, 60.0, 0.0012), (90, 50.0, 0.0003)),  # a 1.2 mm arm
        arms((0, 60.0, 0.0003), (90, 20.0, 0.0015)),  # a short thick arm
    ]
    # Thin by definition: the negative buffer of half the width is empty. (GEOS's maximum
    # inscribed circle is only a lower bound: it gives 0.7 mm for the last but one,
    # axis-parallel.)
    expected = [shapely.buffer(shape, -TOLERANCE / 2).is_empty for shape in shapes]
    assert expected == [True] * 6 + [False] * 2
    assert all(2 * inscribed_radius(shape) < TOLERANCE for shape in shapes[:6])
    coords, owner = shapely.get_coordinates(shapes, return_index=True)
    first = np.searchsorted(owner, np.arange(len(shapes) + 1))
    # The first five lie in strips narrower in all than 1 mm (an X of 0.2 mm arms among
    # them); the 0.6 mm L (1.2 mm in all) and those with a thick arm do not.
    assert in_narrow_strips(coords, first, TOLERANCE).tolist() == [True] * 5 + [False] * 3
    buffered: list[int] = []
    original = shapely.buffer
    monkeypatch.setattr(
        shapely,
        "buffer",
        lambda geoms, *a, **k: buffered.append(len(geoms)) or original(geoms, *a, **k),
    )
    assert is_thin(np.array(shapes, dtype=object), TOLERANCE).tolist() == expected
    assert sum(buffered) == 3


@pytest.mark.parametrize(
    "shape",
    [
        Polygon([(0, 0), (0.004, 0), (0.001, 0.003)]),
        box(0, 0, 0.003, 0.002),
        Polygon([(0, 0), (0.004, 0), (0.005, 0.002), (0.001, 0.003)]),
    ],
)
def test_what_the_strips_close_in_counts(shape):
    # A small triangle or quadrilateral lies in strips of no width along its edges; what
    # they close in is the polygon itself, 2-3 mm across: not thin.
    shape = shapely.affinity.translate(shape, X, Y)
    coords = shapely.get_coordinates(shape)
    assert not in_narrow_strips(coords, np.array([0, len(coords)]), TOLERANCE)[0]
    assert not shapely.buffer(shape, -TOLERANCE / 2).is_empty


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.lists(
            st.tuples(st.floats(0, 360), st.floats(0.001, 100), st.floats(0.00005, 0.0009)),
            min_size=1,
            max_size=4,
        ),
        st.lists(
            # On a grid of 0.1 µm: GEOS's buffer and inscribed circle, the oracles, break
            # down on subnormal coordinates.
            st.tuples(st.integers(-30_000, 30_000), st.integers(-30_000, 30_000)).map(
                lambda xy: (xy[0] * 1e-7, xy[1] * 1e-7)
            ),
            min_size=3,
            max_size=5,
        ),
    ),
    st.sampled_from([(0.0, 0.0), (X, Y), (500_000.0, Y)]),
)
def test_strips_never_call_a_thick_polygon_thin(drawn, corner):
    # Gaps of one to four arms at any angle, each under 1 mm wide, and small polygons of a
    # few millimetres: where the strips say thin, no disc of 1 mm fits (the negative buffer
    # of 0.5 mm is empty).
    if len(drawn[0]) == 3:
        shape = gap(corner, drawn)
    else:
        shape = shapely.make_valid(Polygon([(corner[0] + x, corner[1] + y) for x, y in drawn]))
    assume(shape.geom_type == "Polygon" and len(shape.interiors) == 0 and shape.area > 0)
    coords = shapely.get_coordinates(shape)
    if in_narrow_strips(coords, np.array([0, len(coords)]), TOLERANCE)[0]:
        assert shapely.buffer(shape, -TOLERANCE / 2).is_empty
        assert 2 * inscribed_radius(shape) < TOLERANCE + 2e-6


def test_thin_parts_are_split_off_whole():
    piece = shapely.MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 0.0004), box(40, 0, 41, 1)])
    thick, thin = split_thin_parts(np.array([piece, box(0, 0, 1, 1)]), TOLERANCE)
    assert shapely.equals(thick[0], shapely.MultiPolygon([box(0, 0, 10, 10), box(40, 0, 41, 1)]))
    assert shapely.equals(thin[0], box(20, 0, 30, 0.0004))
    assert thick[1].equals(box(0, 0, 1, 1)) and thin[1].is_empty


def test_eliminate_moves_a_strip_to_the_piece_it_borders_most():
    # A parcel cut at x = 60, the cut piece reaching only to 0.4 mm short of its eastern
    # edge: the strip left over borders the piece along 100 m and nothing else.
    kept = shapely.MultiPolygon([box(0, 0, 60, 100), box(99.9996, 0, 100, 100)])
    taken = box(60, 0, 99.9996, 100)
    merged = eliminate_thin_parts(np.array([kept, taken]), np.array([7, 7]), TOLERANCE)
    assert shapely.equals(merged[0], box(0, 0, 60, 100))
    assert shapely.equals(merged[1], box(60, 0, 100, 100))
    # Another group's piece is never a neighbour.
    apart = eliminate_thin_parts(np.array([kept, taken]), np.array([1, 2]), TOLERANCE)
    assert shapely.equals(apart[0], kept) and shapely.equals(apart[1], taken)


def test_eliminate_pairs_a_thin_part_only_with_the_pieces_it_reaches(monkeypatch):
    # 300 pieces of one whole in a row, each with a 0.4 mm strip at its eastern end that
    # borders the next piece: each strip but the last joins the next piece, weighed against the
    # pieces it reaches only (all 299 others each, as before, held 24 GiB on a red-line
    # polygon cut by a jittered tessellation).
    pieces = np.array(
        [
            shapely.MultiPolygon([box(k, 0, k + 0.9996, 1), box(k + 0.9996, 0, k + 1, 1)])
            for k in range(300)
        ]
    )
    weighed = []
    intersection = shapely.intersection

    def spy(a, b, **kwargs):
        weighed.append(np.size(a))
        return intersection(a, b, **kwargs)

    monkeypatch.setattr(shapely, "intersection", spy)
    merged = eliminate_thin_parts(pieces, np.zeros(300, dtype=int), TOLERANCE)
    assert weighed and max(weighed) <= 2 * 300
    assert shapely.equals(merged[0], box(0, 0, 0.9996, 1))
    for k in range(1, 300):
        # The last piece keeps its own strip: no other piece reaches it.
        expected = box(k - 1 + 0.9996, 0, k + 0.9996 if k < 299 else 300, 1)
        assert shapely.symmetric_difference(merged[k], expected).area < 1e-12, k
        assert shapely.get_num_geometries(merged[k]) == 1
    assert shapely.area(merged).sum() == pytest.approx(shapely.area(pieces).sum(), rel=1e-12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-0.001, "0 or more"),
        (float("nan"), "NaN"),
        (5.0, "too large"),
        ("1mm", "number of metres"),
        (True, "number of metres"),
    ],
)
def test_bad_tolerances_are_refused_with_advice(value, message):
    with pytest.raises(ToleranceError, match=message) as caught:
        check_xy_tolerance(value)
    assert isinstance(caught.value, GeozonesError) and isinstance(caught.value, ValueError)
    layer = grid_layer(tessellation(2, 1))
    with pytest.raises(ToleranceError, match=message):
        geozones.find_conflicts({"redline": layer}, xy_tolerance=value)
    with pytest.raises(ToleranceError, match=message):
        geozones.resolve_conflicts({"a": layer, "b": layer}, ("a", "b"), xy_tolerance=value)


def test_tolerance_in_crs_units():
    assert tolerance_in_crs_units(0.001, ZONE39) == 0.001
    # A degree spans at most 111,320 m (of longitude, at the equator).
    assert tolerance_in_crs_units(0.001, "EPSG:4490") == pytest.approx(0.001 / 111_320)
    us_feet = pyproj.CRS("EPSG:2227")  # California zone 3, US survey feet
    assert tolerance_in_crs_units(0.3048006096, us_feet) == pytest.approx(1.0)
    assert DEFAULT_XY_TOLERANCE == 0.001


# --- conflicts in a red-line tessellation ---------------------------------------------------

N = 30  # 30 × 30 cells of 100 m


def extend_east(rings, i, j, *, y_offset, length, reach):
    """Cell (i, j) reaching `reach` metres over its eastern neighbour, along `length` m."""
    x_edge = X + (i + 1) * 100.0
    y0 = Y + j * 100.0 + y_offset
    lobe = box(x_edge - 5, y0, x_edge + reach, y0 + length)
    grown = shapely.union(Polygon(rings[cell_index(i, j, N)]), lobe)
    return grown, box(x_edge, y0, x_edge + reach, y0 + length)


@pytest.fixture(scope="module")
def redline_grid():
    rings = tessellation(N, N, seed=15)
    geoms = [Polygon(r) for r in rings]
    genuine = {}
    for (i, j), length, reach in [((3, 4), 20, 20), ((17, 9), 20, 20), ((25, 22), 20, 20)]:
        grown, overlap = extend_east(rings, i, j, y_offset=40, length=length, reach=reach)
        geoms[cell_index(i, j, N)] = grown
        genuine[(cell_index(i, j, N), cell_index(i + 1, j, N))] = overlap
    # The sliver: 50 m × 4 cm, 2 m², genuine (4 cm is 40 times the tolerance) but small.
    grown, overlap = extend_east(rings, 10, 12, y_offset=25, length=50, reach=0.04)
    geoms[cell_index(10, 12, N)] = grown
    genuine[(cell_index(10, 12, N), cell_index(11, 12, N))] = overlap
    ids = [f"HX{k:04d}" for k in range(len(geoms))]
    layer = gpd.GeoDataFrame({"BSM": ids}, geometry=geoms, index=ids, crs=ZONE39)
    return layer, genuine


def brute_force_overlaps(geoms):
    """Every pair of cells whose overlap has area, by overlaying each pair (no index)."""
    geoms = np.asarray(geoms, dtype=object)
    found = {}
    for a in range(len(geoms)):
        i, j = divmod(a, N)
        for di, dj in [(0, 1), (1, -1), (1, 0), (1, 1)]:
            if 0 <= i + di < N and 0 <= j + dj < N:
                b = cell_index(i + di, j + dj, N)
                piece = shapely.intersection(geoms[a], geoms[b])
                if piece.area > 0:
                    found[(min(a, b), max(a, b))] = piece
    return found


def gauss_kruger_area_scale(x: float) -> float:
    """Planar over ellipsoidal area near easting `x` (zone 39): k² with k ≈ 1 + x²/(2 R²)."""
    _lon, lat = _TO_LONLAT.transform(x, Y)
    radius = 6378137.0 / math.sqrt(1 - 0.00669438 * math.sin(math.radians(lat)) ** 2)
    return (1 + (x - 39_500_000.0) ** 2 / (2 * radius * radius)) ** 2


def test_a_jittered_tessellation_gives_exactly_its_four_genuine_conflicts(redline_grid):
    layer, genuine = redline_grid
    conflicts = geozones.find_conflicts({"redline": layer}, min_area_m2=200)

    pairs = {
        tuple(sorted((layer.index.get_loc(a), layer.index.get_loc(b))))
        for a, b in zip(conflicts["id_a"], conflicts["id_b"], strict=True)
    }
    assert len(conflicts) == 4
    assert pairs == set(genuine)
    by_pair = dict(
        zip(
            [
                tuple(sorted((layer.index.get_loc(a), layer.index.get_loc(b))))
                for a, b in zip(conflicts["id_a"], conflicts["id_b"], strict=True)
            ],
            conflicts.itertuples(),
            strict=True,
        )
    )
    for pair, overlap in genuine.items():
        row = by_pair[pair]
        # The neighbour's jittered western edge lies within JITTER of the true edge, so the
        # overlap is the hand-made box to JITTER times its length; the two cells' copies of
        # the rest of their shared 100 m edge may overlap along it too, in a strip at most
        # 2 JITTER wide that touches the box and stays part of the piece.
        length = overlap.bounds[3] - overlap.bounds[1]
        slack = length * JITTER + 100 * 2 * JITTER
        assert row.area_m2 == pytest.approx(karney(overlap), abs=slack)
        assert row.sliver == (overlap.area < 200)
    assert conflicts["sliver"].sum() == 1
    # Each is genuine: some part of it is wider than the tolerance (the overlap is kept
    # whole, with any strips of the shared edge that come with it).
    for piece in conflicts.geometry:
        assert max(2 * inscribed_radius(part) for part in shapely.get_parts(piece)) > TOLERANCE

    # Every other overlap is a phantom: counted, measured, not listed.
    every = brute_force_overlaps(layer.geometry.to_numpy())
    phantoms = {pair: piece for pair, piece in every.items() if pair not in genuine}
    # The inscribed circle of a sliver 100 m long takes GEOS ~10 ms, so it is measured on the
    # 100 phantoms widest on average (area over half the perimeter), the likeliest to hold a
    # disc; that the two measures of thinness agree is test_thinness_is_the_inscribed_circle.
    widest = sorted(phantoms.values(), key=lambda piece: piece.area / piece.length)[-100:]
    assert all(thinnest_part([piece]) < TOLERANCE for piece in widest)
    assert len(phantoms) > 1700  # of 1,740 edge neighbours and 1,682 corner neighbours
    record = conflicts.attrs["phantoms"]
    assert record["count"] == len(phantoms)
    # Each phantom is a sliver up to 100 m long and under a millimetre wide: its area with
    # straight edges (the planar area over the Gauss-Krüger area scale) and with geodesic
    # edges (Karney) differ by up to 0.4 %, and by 1e-4 in the total; either passes.
    planar = sum(p.area / gauss_kruger_area_scale(p.centroid.x) for p in phantoms.values())
    assert record["area_m2"] == pytest.approx(planar, rel=5e-4)
    assert record["area_m2"] == pytest.approx(sum(map(karney, phantoms.values())), rel=5e-4)
    assert record["by_layers"][0]["layer_a"] == record["by_layers"][0]["layer_b"] == "redline"
    assert conflicts.attrs["xy_tolerance"] == TOLERANCE

    # The summary counts only the genuine overlaps.
    summary = geozones.conflict_summary(conflicts)
    assert summary["pieces"].sum() == 4
    assert summary["area_m2"].sum() == pytest.approx(
        sum(karney(o) for o in genuine.values() if o.area >= 200), abs=3 * 120 * 2 * JITTER
    )
    assert summary.attrs["phantoms"] == record


def test_without_a_tolerance_every_phantom_is_a_conflict(redline_grid):
    layer, _genuine = redline_grid
    exact = geozones.find_conflicts({"redline": layer}, min_area_m2=200, xy_tolerance=0)
    every = brute_force_overlaps(layer.geometry.to_numpy())
    assert len(exact) == len(every)
    assert exact.attrs["phantoms"]["count"] == 0
    # By area alone they are all slivers, listed among the conflicts by the thousand.
    assert (~exact["sliver"]).sum() == 3
    assert exact["sliver"].sum() == len(every) - 3


def test_phantoms_kept_on_request_are_flagged(redline_grid):
    layer, _genuine = redline_grid
    listed = geozones.find_conflicts({"redline": layer}, min_area_m2=200, keep_phantoms=True)
    assert listed.columns[-2:].tolist() == ["phantom", "geometry"]
    assert (~listed["phantom"]).sum() == 4
    assert listed["phantom"].sum() == listed.attrs["phantoms"]["count"]
    phantom_area = listed.loc[listed["phantom"], "area_m2"].sum()
    assert phantom_area == pytest.approx(listed.attrs["phantoms"]["area_m2"], rel=1e-12)
    assert is_thin(listed.geometry[listed["phantom"]].to_numpy(), TOLERANCE).all()
    summary = geozones.conflict_summary(listed)
    assert summary["pieces"].sum() == 4


def test_phantoms_counted_for_marked_features_are_those_kept_as_geometries(redline_grid):
    # A streamed run counts each phantom in the zone of its first feature: counted only where
    # that feature is marked, the tally is that of the phantoms kept as geometries whose
    # first feature is marked, pair of layers by pair; the conflicts are all found.
    layer, _genuine = redline_grid
    farmland = grid_layer(tessellation(6, 5, seed=4, origin=(X + 250, Y + 150)))
    layers = {"redline": layer, "farmland": farmland}
    listed = geozones.find_conflicts(layers, min_area_m2=200, keep_phantoms=True)
    kept = listed[listed["phantom"]]
    rng = np.random.default_rng(7)
    counted = {name: rng.random(len(frame)) < 0.5 for name, frame in layers.items()}
    conflicts = conflicts_module.conflicts_counting_phantoms(
        layers, counted=counted, min_area_m2=200
    )
    marked = np.array(
        [
            counted[row.layer_a][layers[row.layer_a].index.get_loc(row.id_a)]
            for row in kept.itertuples()
        ]
    )
    record = conflicts.attrs["phantoms"]
    assert 0 < record["count"] == marked.sum() < len(kept)
    assert record["area_m2"] == pytest.approx(kept["area_m2"][marked].sum(), rel=1e-9)
    by_layers = {(r["layer_a"], r["layer_b"]): r for r in record["by_layers"]}
    for (name_a, name_b), group in kept[marked].groupby(["layer_a", "layer_b"]):
        assert by_layers[(name_a, name_b)]["count"] == len(group) > 0
        assert by_layers[(name_a, name_b)]["area_m2"] == pytest.approx(
            group["area_m2"].sum(), rel=1e-9
        )
    everything = {name: np.ones(len(frame), dtype=bool) for name, frame in layers.items()}
    every = conflicts_module.conflicts_counting_phantoms(
        layers, counted=everything, min_area_m2=200
    )
    assert every.attrs["phantoms"]["count"] == len(kept) > 40
    genuine = listed[~listed["phantom"]].drop(columns="phantom")
    for found in (conflicts, every):
        assert found.drop(columns="geometry").equals(
            genuine.drop(columns="geometry").reset_index(drop=True)
        )
    with pytest.raises(GeozonesError, match="one mark per feature of layer 'farmland'"):
        conflicts_module.conflicts_counting_phantoms(
            layers, counted={"redline": counted["redline"]}
        )


def test_a_thin_genuine_strip_is_always_reported():
    farmland = grid_layer([[(X, Y), (X + 100, Y), (X + 100, Y + 100), (X, Y + 100)]])
    strip = grid_layer(
        [[(X + 99.96, Y + 10), (X + 150, Y + 10), (X + 150, Y + 60), (X + 99.96, Y + 60)]]
    )
    found = geozones.find_conflicts(
        {"farmland": farmland, "redline": strip}, min_area_m2=200, xy_tolerance=0.001
    )
    assert len(found) == 1 and bool(found["sliver"].iloc[0])
    # (Karney's area has an absolute noise floor of about 1e-4 m²)
    overlap = box(X + 99.96, Y + 10, X + 100, Y + 60)
    assert found["area_m2"].iloc[0] == pytest.approx(karney(overlap), rel=1e-9, abs=1e-4)
    # At a 5 cm tolerance the 4 cm strip is a phantom: the tolerance decides, not the area.
    wide = geozones.find_conflicts({"farmland": farmland, "redline": strip}, xy_tolerance=0.05)
    assert len(wide) == 0 and wide.attrs["phantoms"]["count"] == 1


def test_overlap_count_has_no_phantom_faces(redline_grid):
    layer, _genuine = redline_grid
    split = {"west": layer.iloc[: len(layer) // 2], "east": layer.iloc[len(layer) // 2 :]}
    faces = geozones.overlap_count(split)
    # Columns 0-14 and 15-29: the west and east halves meet along one column edge; only the
    # phantoms there overlap, and the genuine overlaps lie inside either half.
    assert len(faces) == 0
    assert faces.attrs["phantoms"]["count"] > 0
    exact = geozones.overlap_count(split, xy_tolerance=0)
    assert len(exact) > 0 and is_thin(exact.geometry.to_numpy(), TOLERANCE).all()


# --- resolution of a jittered farmland tessellation against a red line ------------------------

M = 12  # farmland: 12 × 12 parcels of 100 m


def red_polygon(points, rng) -> Polygon:
    """A red-line polygon through grid points (in cell units), digitised on its own: each
    vertex within JITTER of the true point, as the farmland's copies are."""
    xy = np.array(points, dtype=float) * 100.0 + [X, Y]
    return Polygon(xy + jitter_disc(rng, len(xy)))


def along(a, b):
    """The grid points from `a` to `b` (exclusive) on a grid line: the parcel corners a line
    drawn along parcel edges passes through."""
    (ax, ay), (bx, by) = a, b
    steps = int(max(abs(bx - ax), abs(by - ay)))
    return [(ax + (bx - ax) * k / steps, ay + (by - ay) * k / steps) for k in range(steps)]


def red_outlines():
    """Two red-line outlines in cell units, sharing the line x = 6 and then a slanted edge."""
    shared = [*along((6, 2), (6, 6)), (6, 6), (6.5, 7.5)]
    west = [*along((2, 2), (6, 2)), *shared, (4.3, 7.6), (2, 6.5)]
    east = [*along((6, 2), (9, 2)), (9, 2), (9.4, 6.2), (7.5, 8.2), *shared[:0:-1]]
    return west, east


def farmland_and_redline(seed: int):
    rng = np.random.default_rng(seed + 1000)
    farmland = grid_layer(tessellation(M, M, seed=seed), BSM=[f"NT{k:03d}" for k in range(M * M)])
    farmland.index = farmland["BSM"].to_numpy()
    # Two red-line polygons along parcel edges, sharing the line x = 6 between them and then
    # a slanted edge through two parcels, which both therefore cut; each closed by slanted
    # edges that cut parcels.
    west, east = red_outlines()
    redline = gpd.GeoDataFrame(
        {"BSM": ["HX1", "HX2"]},
        geometry=[red_polygon(west, rng), red_polygon(east, rng)],
        index=["HX1", "HX2"],
        crs=ZONE39,
    )
    return farmland, redline


def test_overlap_count_faces_a_tessellations_overlaps_apart():
    # The farmland's overlaps with the red line and with an urban box: neighbouring parcels'
    # overlaps meet only in phantoms, so they are faced apart, and their faces share those
    # slivers and nothing thicker; the faces cover the land under two layers.
    farmland, redline = farmland_and_redline(seed=3)
    urban = gpd.GeoDataFrame(geometry=[box(X + 330, Y + 150, X + 870, Y + 690)], crs=ZONE39)
    layers = {"farmland": farmland, "redline": redline, "urban": urban}
    faces = geozones.overlap_count(layers)
    shared = faces.attrs["shared_phantoms"]
    thin_area = faces.attrs["thin_face_area_m2"]
    assert shared["count"] > 20
    geoms = faces.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    distinct = left < right
    overlaps = shapely.intersection(geoms[left[distinct]], geoms[right[distinct]])
    overlaps = overlaps[shapely.area(overlaps) > 0]
    assert is_thin(overlaps, TOLERANCE).all()
    overlap_area = sum(karney(piece) for piece in overlaps)
    assert 0 < overlap_area <= shared["area_m2"] + 1e-6
    dissolved = {name: frame.union_all() for name, frame in layers.items()}
    twice = shapely.union_all(
        [
            shapely.intersection(dissolved["farmland"], dissolved["redline"]),
            shapely.intersection(dissolved["farmland"], dissolved["urban"]),
            shapely.intersection(dissolved["redline"], dissolved["urban"]),
        ]
    )
    land = karney(twice)
    assert land - thin_area - 1e-3 <= faces["area_m2"].sum() - overlap_area <= land + 1e-3
    assert set(faces["layers"]) == {"farmland+redline", "farmland+urban", "farmland+redline+urban"}


def test_summary_counts_a_tessellations_phantoms_once_without_uniting_it(monkeypatch):
    # Neighbouring parcels' overlaps with the red line overlap each other in phantoms: the
    # summary takes those off instead of uniting every parcel inside a red-line polygon.
    farmland, redline = farmland_and_redline(seed=3)
    urban = gpd.GeoDataFrame(geometry=[box(X + 330, Y + 150, X + 870, Y + 690)], crs=ZONE39)
    conflicts = geozones.find_conflicts({"farmland": farmland, "redline": redline, "urban": urban})
    united: list[int] = []
    unions = coverage_module.ZonePieces._unions

    def spy(self, group):
        united.extend(np.bincount(group[group >= 0]).tolist())
        return unions(self, group)

    monkeypatch.setattr(coverage_module.ZonePieces, "_unions", spy)
    summary = geozones.conflict_summary(conflicts)
    assert max(united, default=0) <= 2
    for row in summary.itertuples():
        pieces = conflicts[(conflicts.layer_a == row.layer_a) & (conflicts.layer_b == row.layer_b)]
        land = karney(shapely.union_all(pieces.geometry.to_numpy()))
        assert abs(row.area_m2 - land) <= 1e-9 * land + 1e-3
    farmland_rows = conflicts[conflicts.layer_a == "farmland"]
    counted_twice = sum(karney(piece) for piece in farmland_rows.geometry) - sum(
        karney(shapely.union_all(rows.geometry.to_numpy()))
        for _, rows in farmland_rows.groupby("layer_b")
    )
    assert counted_twice > 0.1  # what the phantoms would add if they were not taken off


def rounding_bound(original, pieces) -> float:
    """How far the areas of the pieces a polygon is cut into can miss its area, in m².

    A cut puts a vertex on an edge of the polygon; the vertex is the exact crossing rounded
    to the nearest coordinates, up to half a unit in the last place (ulp) of x and y off the
    edge, which adds or removes a triangle of at most half the edge's length times that.
    The pieces share the vertex, so they add up exactly to the polygon with the vertex: the
    triangles are all they can miss by.
    """
    coords = shapely.get_coordinates(original)
    own = set(map(tuple, coords))
    boundary = original.boundary
    inserted = {
        tuple(xy)
        for piece in pieces
        for xy in shapely.get_coordinates(piece)
        if tuple(xy) not in own
    }
    on_edge = [xy for xy in inserted if boundary.distance(shapely.Point(xy)) < 1e-6]
    longest = float(np.max(np.hypot(*np.diff(coords, axis=0).T)))
    ulp = np.spacing(np.abs(coords).max(axis=0))
    return len(on_edge) * 0.5 * longest * 0.5 * float(np.hypot(*ulp))


def check_resolution(farmland, redline, resolved, audit, *, area_of):
    kept = resolved["farmland"]
    taken = audit[(audit["layer"] == "farmland") & audit["taken"]]
    # No dust: no part of what is kept or taken is thinner than the tolerance.
    assert thinnest_part(kept.geometry) >= TOLERANCE
    assert thinnest_part(taken.geometry) >= TOLERANCE
    # Nothing the red line genuinely covers is left in the farmland.
    after = geozones.find_conflicts(resolved, within_layers=False)
    assert len(after) == 0
    # Every feature kept, with its attributes.
    assert kept.index.equals(farmland.index)
    assert (kept["BSM"] == farmland["BSM"]).all()
    for feature, pieces in taken.groupby("feature"):
        geoms = [*pieces.geometry, kept.geometry[feature]]
        original = farmland.geometry[feature]
        rounding = rounding_bound(original, geoms)
        # The pieces of a feature and what it keeps do not overlap: a piece cut from what
        # another left may reach over it by a rounding triangle where the two cuts cross.
        for a in range(len(geoms)):
            for b in range(a + 1, len(geoms)):
                assert shapely.intersection(geoms[a], geoms[b]).area <= rounding, feature
        # Kept + taken = input.
        before = area_of(original)
        after_area = area_of(kept.geometry[feature]) + sum(map(area_of, pieces.geometry))
        slack = 1e-12 * before + rounding
        assert abs(after_area - before) <= slack, (feature, after_area - before, slack)
        assert kept.loc[feature, "taken_m2"] == pytest.approx(pieces["area_m2"].sum(), rel=1e-12)


def ellipsoidal(geom) -> float:
    return float(geozones.area(gpd.GeoSeries([geom], crs=ZONE39)).iloc[0])


@pytest.fixture(scope="module")
def resolved_tessellation():
    farmland, redline = farmland_and_redline(seed=7)
    resolved, audit = geozones.resolve_conflicts(
        {"farmland": farmland, "redline": redline}, ("redline", "farmland")
    )
    return farmland, redline, resolved, audit


def test_resolution_of_a_tessellation_leaves_no_dust_and_loses_nothing(resolved_tessellation):
    farmland, redline, resolved, audit = resolved_tessellation
    check_resolution(farmland, redline, resolved, audit, area_of=lambda g: g.area)
    # Some parcels are cut by both red-line polygons, whose shared edge was digitised twice.
    taken = audit[audit["taken"]]
    assert taken.groupby("feature").size().max() >= 2
    # The parcels along the red line's edges overlap it only by phantoms: not taken. Without
    # jitter they would only touch it: every parcel whose true cell does not overlap the
    # true red line is unchanged.
    assert audit.attrs["phantoms"]["count"] > 10
    true_cells = [
        box(X + i * 100, Y + j * 100, X + (i + 1) * 100, Y + (j + 1) * 100)
        for i in range(M)
        for j in range(M)
    ]
    west, east = red_outlines()
    true_red = shapely.union(
        Polygon(np.array(west) * 100 + [X, Y]), Polygon(np.array(east) * 100 + [X, Y])
    )
    apart = np.array([cell.intersection(true_red).area == 0 for cell in true_cells])
    status = resolved["farmland"]["resolution"].to_numpy()
    assert apart.sum() > 90
    assert (status[apart] == "unchanged").all()
    assert (status[~apart] != "unchanged").all()


def test_resolution_balance_with_ellipsoidal_area(resolved_tessellation):
    farmland, redline, resolved, audit = resolved_tessellation
    check_resolution(farmland, redline, resolved, audit, area_of=ellipsoidal)


def test_without_a_tolerance_the_resolution_leaves_dust(resolved_tessellation):
    farmland, redline, _, _ = resolved_tessellation
    resolved, audit = geozones.resolve_conflicts(
        {"farmland": farmland, "redline": redline}, ("redline", "farmland"), xy_tolerance=0
    )
    assert thinnest_part(resolved["farmland"].geometry) < TOLERANCE
    assert thinnest_part(audit.geometry) < TOLERANCE


@pytest.mark.parametrize("many_claims", [1, conflicts_module.MANY_CLAIMS, 10**9])
@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000))
def test_resolution_invariants_on_jittered_tessellations(many_claims, seed):
    # many_claims=1: every feature cut by all its claims at once, as a feature under several
    # is; 10**9: every feature cut in turn.
    farmland, redline = farmland_and_redline(seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conflicts_module, "MANY_CLAIMS", many_claims)
        resolved, audit = geozones.resolve_conflicts(
            {"farmland": farmland, "redline": redline}, ("redline", "farmland")
        )
    check_resolution(farmland, redline, resolved, audit, area_of=lambda g: g.area)


# --- coverage, site check and streamed runs ------------------------------------------------


def two_counties() -> gpd.GeoDataFrame:
    """The 3 km × 3 km of the red-line grid in two counties, split at column 15."""
    return gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121"]},
        geometry=[
            box(X - 50, Y - 50, X + 1500, Y + 3050),
            box(X + 1500, Y - 50, X + 3050, Y + 3050),
        ],
        crs=ZONE39,
    )


def test_coverage_counts_phantoms_apart_and_stays_within_them(redline_grid):
    layer, genuine = redline_grid
    counties = two_counties()
    with_tolerance = geozones.coverage(layer, counties, by="XZQDM", unit="m2")
    exact = geozones.coverage(layer, counties, by="XZQDM", unit="m2", xy_tolerance=0)
    # Dissolved exactly: the union of the cells, gaps between jittered neighbours excluded.
    union = shapely.union_all(layer.geometry.to_numpy())
    assert exact["covered_area"].sum() == pytest.approx(karney(union), rel=1e-9)
    # With the tolerance, only the genuine overlaps are dissolved: the cells' areas add up,
    # less the four genuine overlaps (each to its strips of shared edge, as above).
    cells = sum(map(karney, layer.geometry))
    overlaps = sum(map(karney, genuine.values()))
    assert with_tolerance["covered_area"].sum() == pytest.approx(
        cells - overlaps, abs=4 * 120 * 2 * JITTER
    )
    # Undissolved phantoms count twice: at most their area, which attrs give (to the 5e-4 by
    # which geodesic-edge areas of millimetre slivers are not additive, as above).
    phantoms = with_tolerance.attrs["phantoms"]
    assert phantoms["count"] > 1700
    extra = with_tolerance["covered_area"] - exact["covered_area"]
    assert (extra >= -1e-6).all()
    assert extra.sum() <= phantoms["area_m2"] * (1 + 5e-4)
    assert with_tolerance.attrs["xy_tolerance"] == TOLERANCE
    assert exact.attrs["phantoms"]["count"] == 0


def site_layers():
    """A parcel, and an urban boundary whose western edge follows the parcel's eastern one,
    digitised again: 0.3 mm inside the parcel at one end, 0.3 mm outside at the other."""
    farmland = grid_layer([[(X, Y), (X + 100, Y), (X + 100, Y + 100), (X, Y + 100)]])
    urban = grid_layer(
        [[(X + 99.9997, Y - 50), (X + 300, Y - 50), (X + 300, Y + 150), (X + 100.0003, Y + 150)]]
    )
    redline = grid_layer([[(X + 1000, Y), (X + 1100, Y), (X + 1100, Y + 100)]])
    return {"farmland": farmland, "redline": redline, "urban": urban}


def test_site_check_ignores_slivers_along_a_boundary():
    # The project is drawn along the parcel's edge too, from the same points as the urban
    # boundary's copy of that edge but for 0.2 mm at its northern end.
    project = grid_layer(
        [[(X + 99.9997, Y + 10), (X + 200, Y + 10), (X + 200, Y + 90), (X + 99.9999, Y + 90)]]
    )
    result = geozones.site_check(project, site_layers(), unit="m2")
    assert result["verdict"].tolist() == ["pass"]
    assert result["farmland_m2"].iloc[0] == 0.0
    assert result["outside_urban_m2"].iloc[0] == 0.0
    assert result.attrs["phantoms"]["count"] == 1
    assert result.attrs["xy_tolerance"] == TOLERANCE
    exact = geozones.site_check(project, site_layers(), unit="m2", xy_tolerance=0)
    assert exact["verdict"].tolist() == ["fail"]
    assert 0 < exact["farmland_m2"].iloc[0] < 80 * 0.0003
    assert 0 < exact["outside_urban_m2"].iloc[0] < 80 * 0.0003


def test_a_project_over_a_parcel_still_fails():
    project = grid_layer(
        [[(X + 90, Y + 10), (X + 200, Y + 10), (X + 200, Y + 90), (X + 90, Y + 90)]]
    )
    result = geozones.site_check(project, site_layers(), unit="m2")
    assert result["verdict"].tolist() == ["fail"]
    # 10 m × 80 m of the parcel, to within the urban boundary's jitter.
    assert result["farmland_m2"].iloc[0] == pytest.approx(
        karney(box(X + 90, Y + 10, X + 100, Y + 90)), rel=1e-9, abs=1e-4
    )


def test_streamed_conflicts_count_each_phantom_once(redline_grid, tmp_path):
    from geozones.scale.partitions import write_partitions

    layer, _ = redline_grid
    counties = two_counties()
    in_memory = geozones.find_conflicts(
        {"redline": layer}, min_area_m2=200, zones=counties, zone_field="XZQDM"
    )
    dataset = write_partitions({"redline": layer}, counties, tmp_path / "parts", zone_field="XZQDM")
    streamed = geozones.stream_conflicts(dataset, min_area_m2=200, workers=1)
    assert len(streamed) == len(in_memory) == 4
    assert streamed.attrs["xy_tolerance"] == TOLERANCE
    assert streamed.attrs["phantoms"]["count"] == in_memory.attrs["phantoms"]["count"]
    # per pair of layers too, every pair listed, in the same order
    assert [
        (r["layer_a"], r["layer_b"], r["count"]) for r in streamed.attrs["phantoms"]["by_layers"]
    ] == [
        (r["layer_a"], r["layer_b"], r["count"]) for r in in_memory.attrs["phantoms"]["by_layers"]
    ]
    # (streamed, the phantoms crossing the county line are measured in two parts)
    assert streamed.attrs["phantoms"]["area_m2"] == pytest.approx(
        in_memory.attrs["phantoms"]["area_m2"], rel=1e-6
    )
    covered = geozones.stream_coverage(dataset, "redline", unit="m2", workers=1)
    expected = geozones.coverage(layer, counties, by="XZQDM", unit="m2")
    assert covered.attrs["phantoms"]["count"] == expected.attrs["phantoms"]["count"]
    assert covered["covered_area"].to_numpy() == pytest.approx(
        expected["covered_area"].to_numpy(), rel=1e-12
    )
    with pytest.raises(ToleranceError):
        geozones.stream_conflicts(dataset, xy_tolerance=-1, workers=1)

"""``polygon_rings`` splits coordinates into exactly the rings GEOS holds."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon, box

from geozones.io.rings import polygon_rings


def geos_rings(geoms: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Each ring's coordinates, owning geometry and whether it is a hole, from GEOS."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    is_hole = np.diff(ring_part, prepend=-1) == 0
    return [shapely.get_coordinates(ring) for ring in rings], part_owner[ring_part], is_hole


def square_with_hole(x: float) -> Polygon:
    return Polygon(box(x, 0, x + 4, 4).exterior, [box(x + 1, 1, x + 2, 2).exterior])


def hole_at_first_vertex(x: float) -> Polygon:
    """A hole touching the shell at the shell's first vertex (valid)."""
    shell = [(x, 0), (x + 4, 0), (x + 4, 4), (x, 4), (x, 0)]
    hole = [(x, 0), (x + 2, 1), (x + 1, 2), (x, 0)]
    return Polygon(shell, [hole])


def back_to_first_vertex(x: float) -> Polygon:
    """One ring that passes its first vertex again before its end (invalid, no holes)."""
    return Polygon([(x, 0), (x + 2, 0), (x + 2, 2), (x, 0), (x - 2, 0), (x - 2, -2), (x, 0)])


def repeated_first_vertex(x: float) -> Polygon:
    """The first vertex written twice (valid)."""
    return Polygon([(x, 0), (x, 0), (x + 3, 0), (x + 3, 3), (x, 0)])


SHAPES = {
    "square": lambda x: box(x, 0, x + 1, 1),
    "square with hole": square_with_hole,
    "hole at first vertex": hole_at_first_vertex,
    "back to first vertex": back_to_first_vertex,
    "repeated first vertex": repeated_first_vertex,
    "multipolygon": lambda x: MultiPolygon([square_with_hole(x), box(x + 5, 0, x + 6, 1)]),
    "one-part multipolygon": lambda x: MultiPolygon([box(x, 0, x + 1, 1)]),
    "multipolygon, empty part": lambda x: shapely.from_wkt(
        f"MULTIPOLYGON (EMPTY, (({x} 0, {x + 1} 0, {x + 1} 1, {x} 0)))"
    ),
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=12))
def test_rings_are_geos_rings(names):
    geoms = np.array([SHAPES[name](10.0 * i) for i, name in enumerate(names)], dtype=object)
    rings = polygon_rings(geoms)
    coords, owner, is_hole = geos_rings(geoms)
    assert rings.ring_geometry.tolist() == owner.tolist()
    assert rings.ring_is_hole.tolist() == is_hole.tolist()
    for start, length, expected in zip(rings.ring_starts, rings.ring_lengths, coords, strict=True):
        np.testing.assert_array_equal(rings.coords[start : start + length], expected)
    one_ring = np.bincount(owner, minlength=len(geoms)) == 1
    polygon = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    assert rings.ring_single.tolist() == (one_ring & polygon)[owner].tolist()


def test_few_geometries_counted_in_the_calling_thread(monkeypatch):
    # Starting a thread to count a small window's coordinates cost more than counting them
    # (a streamed run makes hundreds of such calls): below _BACKGROUND_FROM no thread is
    # started, and the rings are those counted in a thread.
    from geozones.io import rings

    geoms = np.array(
        [square_with_hole(10.0 * k) if k % 3 else box(k, 0, k + 1, 1) for k in range(30)]
    )
    monkeypatch.setattr(rings, "_BACKGROUND_FROM", 0)
    in_thread = polygon_rings(geoms)
    started = []
    original = rings.ThreadPoolExecutor
    monkeypatch.setattr(
        rings, "ThreadPoolExecutor", lambda *a, **k: started.append(1) or original(*a, **k)
    )
    monkeypatch.setattr(rings, "_BACKGROUND_FROM", len(geoms) + 1)
    inline = polygon_rings(geoms)
    assert not started
    for field in in_thread._fields:
        np.testing.assert_array_equal(getattr(inline, field), getattr(in_thread, field))
    monkeypatch.setattr(rings, "_BACKGROUND_FROM", len(geoms))
    polygon_rings(geoms)
    assert started

"""The faces of overlapping regions cover exactly what the regions cover, and never overlap.

The oracle is GEOS's union of the regions (OverlayNG, robust): the faces' areas must add up
to its area, each face must lie in a region, and each region must be the sum of the faces
inside it. GEOS's plain noding of all boundaries at once (what overlap_count did before) is
shown to lose faces on a case from a jittered tessellation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from geozones.analysis import faces as faces_module
from geozones.analysis.faces import face_points, interior_points, overlay_faces, snap_grid

# A parcel's overlap with the red line (first) and its overlaps with the urban boundary and a
# neighbour, from bench_hard.py's medium tessellated 90 % setting: boundaries a few
# centimetres apart over 100 m, at Gauss-Krüger eastings.
LOST_FACE_CASE = shapely.from_wkt(
    [
        "POLYGON ((39614637.558080845 3179495.0503142592, 39614627.36700091 3179494.405336857, "
        "39614609.894710615 3179493.3001019396, 39614609.24298495 3179398.778304058, "
        "39614619.285 3179413.813, 39614624.24 3179434.511, 39614629.854 3179450.152, "
        "39614635.101 3179471.353, 39614634.868 3179487.807, "
        "39614637.558080845 3179495.0503142592))",
        "POLYGON ((39614494.47423778 3179399.8288227664, 39614609.24116581 3179398.525418989, "
        "39614609.89493824 3179493.299693346, 39614586.55929145 3179495.46954742, "
        "39614495.583724834 3179503.9290314238, 39614495.06593876 3179455.327815176, "
        "39614494.47423778 3179399.8288227664))",
        "POLYGON ((39614609.24290948 3179398.778191067, 39614609.89493824 3179493.299693346, "
        "39614586.55929145 3179495.46954742, 39614495.583724834 3179503.9290314238, "
        "39614495.06593876 3179455.327815176, 39614494.47423778 3179399.8288227664, "
        "39614609.07533519 3179398.527302321, 39614609.24290948 3179398.778191067))",
    ]
)


def assert_faces_partition(faces: np.ndarray, regions: np.ndarray) -> None:
    # The noding snaps vertices to a grid: a boundary moves by at most half a step, so an
    # area by at most its boundary's length times the step.
    step = snap_grid(regions)
    union = shapely.union_all(regions)
    assert shapely.is_valid(faces).all()
    assert abs(shapely.area(faces).sum() - union.area) <= union.length * step + 1e-9 * union.area
    points = face_points(faces)
    assert shapely.contains_properly(faces, points).all()
    region, face = shapely.STRtree(points).query(regions, predicate="intersects")
    assert set(face.tolist()) == set(range(len(faces)))  # every face in a region
    inside = np.bincount(region, weights=shapely.area(faces)[face], minlength=len(regions))
    assert (np.abs(inside - shapely.area(regions)) <= shapely.length(regions) * step).all()


def test_faces_of_a_case_plain_noding_loses():
    plain = shapely.polygonize(
        shapely.get_parts(shapely.union_all(shapely.boundary(LOST_FACE_CASE)))
    )
    union = shapely.union_all(LOST_FACE_CASE).area
    assert shapely.area(shapely.get_parts(plain)).sum() < union - 1000  # 8,000 m² lost
    assert_faces_partition(overlay_faces(LOST_FACE_CASE), LOST_FACE_CASE)


def test_faces_whose_surface_point_is_on_a_boundary_are_kept():
    # Three overlaps of a tessellated parcel (bench_hard.py, medium 90 %): once noded on the
    # grid, GEOS's point on the surface of a 2,027 m² face lies 5.5e-9 m outside the region
    # holding the face, which was then dropped.
    wkt = (Path(__file__).parent / "data" / "face_point_on_boundary.wkt").read_text().split("\n")
    regions = shapely.from_wkt([line for line in wkt if line.strip()])
    faces = overlay_faces(regions)
    assert_faces_partition(faces, regions)
    assert shapely.area(faces).max() > 2000


def test_faces_of_a_group_whose_noding_on_the_grid_cuts_a_face_off():
    # A parcel's overlap with the red line and, along its edge, its three-part overlap with a
    # neighbour (bench_hard.py, medium 90 % tessellated): noded on the grid, polygonize
    # finds seven cut edges and not the 8,849 m² face around the three parts.
    wkt = (Path(__file__).parent / "data" / "face_cut_off_by_snap_rounding.wkt").read_text()
    regions = shapely.from_wkt([line for line in wkt.split("\n") if line.strip()])
    noded = shapely.union_all(shapely.boundary(regions), grid_size=snap_grid(regions))
    on_grid = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    assert shapely.area(on_grid).sum() < shapely.union_all(regions).area - 8000
    assert_faces_partition(overlay_faces(regions), regions)


def star(rng: np.random.Generator, x: float, y: float) -> shapely.Polygon:
    count = int(rng.integers(3, 12))
    angles = np.sort(rng.uniform(0, 2 * np.pi, count))
    radii = rng.uniform(2, 10, count)
    return shapely.Polygon(
        np.column_stack([x + radii * np.cos(angles), y + radii * np.sin(angles)])
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 40),
    offset=st.sampled_from([0.0, 39_500_000.0]),
    threads=st.sampled_from([1, 2]),
)
def test_faces_partition_what_the_regions_cover(seed, count, offset, threads):
    # Overlapping stars, some apart, one with a hole holding another star (a face in the
    # hole belongs to no region of its group).
    rng = np.random.default_rng(seed)
    regions = [star(rng, offset + rng.uniform(0, 60), rng.uniform(0, 60)) for _ in range(count)]
    ring = box(offset + 100, 0, offset + 140, 40).difference(
        box(offset + 110, 10, offset + 130, 30)
    )
    regions = np.array([*regions, ring, box(offset + 115, 15, offset + 125, 25)], dtype=object)
    regions = regions[shapely.is_valid(regions)]
    faces = overlay_faces(regions, threads=threads)
    assert_faces_partition(faces, regions)


def test_regions_linked_apart_are_faced_apart():
    # Two overlapping squares given different groups: each is its own face.
    squares = np.array([box(0, 0, 2, 2), box(1, 0, 3, 2)])
    faces, points = faces_module.faces_and_points(squares, group=np.array([0, 1]))
    assert sorted(face.area for face in faces) == [4.0, 4.0]
    assert shapely.contains_properly(faces, points).all()
    together, _ = faces_module.faces_and_points(squares, group=np.array([3, 3]))
    assert sorted(face.area for face in together) == [2.0, 2.0, 2.0]


def test_regions_apart_are_their_own_faces():
    squares = np.array([box(0, 0, 1, 1), box(5, 5, 7, 6)])
    faces = overlay_faces(squares)
    assert sorted(face.wkt for face in faces) == sorted(square.wkt for square in squares)
    assert overlay_faces(np.empty(0, dtype=object)).tolist() == []


def test_interior_points_clear_of_the_boundary():
    # A comb: GEOS's point on its surface is on a tooth's centre line; asked to keep 0.3 from
    # the boundary, the point moves into the bar.
    comb = shapely.Polygon(
        [(0, 0), (10, 0), (10, 5), (9.5, 5), (9.5, 1), (0.5, 1), (0.5, 5), (0, 5)]
    )
    square = box(0, 0, 2, 2)
    points = interior_points(np.array([comb, square]), clearance=0.3)
    assert shapely.contains_properly(np.array([comb, square]), points).all()
    assert shapely.distance(shapely.boundary(comb), points[0]) >= 0.1
    assert points[1].wkt == "POINT (1 1)"


def test_snap_grid_is_a_few_ulps_of_the_largest_coordinate():
    assert snap_grid(np.array([box(39_500_000, 3_300_000, 39_500_010, 3_300_010)])) == 2.0**-23
    assert snap_grid(np.array([box(0, 0, 1, 1)])) == 2.0**-48

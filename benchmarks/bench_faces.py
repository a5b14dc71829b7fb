"""Faces of the overlaps (``overlap_count``) and the conflict summary on the hard layers.

On one setting of ``generate_hard.py``, in one process:

1. ``find_conflicts`` with its defaults (timed), and between layers, for the overlaps whose
   faces ``overlap_count`` builds;
2. the faces: ``geozones.analysis.faces.overlay_faces`` (per group of meeting overlaps, in
   threads, noded by snap rounding), the same with groups linked by genuine overlaps only
   (as ``overlap_count`` links them: neighbours meeting in phantoms apart), against the
   obvious way (every boundary noded at once by ``shapely.union_all``,
   ``shapely.polygonize``, faces kept that lie in an overlap), each with the total area of
   its faces against the area of the overlaps' union (GEOS OverlayNG, the oracle: faces must
   cover it exactly);
3. ``geozones.overlap_count`` and ``geozones.conflict_summary`` (with slivers under 200 m²)
   end to end.

Usage::

    python benchmarks/bench_faces.py --size medium --crossing 0.9 --tessellated yes
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from typing import Any

import generate_hard
import geopandas as gpd
import numpy as np
import shapely

import geozones
from geozones.analysis.faces import (
    face_points,
    faces_and_points,
    genuine_groups,
    overlay_faces,
)


def timed(label: str, function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s", file=sys.stderr, flush=True)
    return seconds, result


def plain_faces(regions: np.ndarray) -> np.ndarray:
    """Every boundary noded at once, polygonized; the faces whose point lies in a region."""
    noded = shapely.union_all(shapely.boundary(regions))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    _, held = shapely.STRtree(face_points(faces)).query(regions, predicate="intersects")
    return faces[np.unique(held)]


def faces_apart(regions: np.ndarray) -> np.ndarray:
    """Faces of groups linked by genuine overlaps only, as ``overlap_count`` groups them."""
    group, _ = genuine_groups(regions, width=0.001)
    return faces_and_points(regions, group=group)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", type=float, default=0.9)
    parser.add_argument("--tessellated", default="yes", choices=["no", "yes"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    paths = generate_hard.generate_hard(
        args.size, crossing=args.crossing, tessellated=args.tessellated == "yes"
    )
    layers = {name: gpd.read_parquet(path) for name, path in paths.items()}
    print(f"# bench_faces: {' '.join(sys.argv)}")
    print(
        f"{os.cpu_count()} CPUs, shapely {shapely.__version__} (GEOS "
        f"{shapely.geos_version_string}); load "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}\n"
    )
    find_s, _ = timed("find_conflicts (defaults)", lambda: geozones.find_conflicts(layers))
    conflicts = geozones.find_conflicts(layers, within_layers=False)
    regions = conflicts.geometry.to_numpy(dtype=object)
    union_s, union = timed("union (OverlayNG)", lambda: shapely.union_all(regions))
    ours_s, ours = timed("overlay_faces", lambda: overlay_faces(regions))
    apart_s, apart = timed("faces, phantom links apart", lambda: faces_apart(regions))
    plain_s, plain = timed("plain noding", lambda: plain_faces(regions))
    print(f"{len(regions):,} overlaps between layers; their union {union.area:,.3f} m² (planar)\n")
    print("| faces | seconds | faces | their area (m², planar) | area missing |")
    print("|---|---:|---:|---:|---:|")
    for label, seconds, faces in (
        ("overlay_faces (groups, snap rounding)", ours_s, ours),
        ("groups linked by genuine overlaps only (as overlap_count)", apart_s, apart),
        ("plain (all boundaries at once)", plain_s, plain),
    ):
        area = float(shapely.area(faces).sum())
        print(
            f"| {label} | {seconds:.2f} | {len(faces):,} | {area:,.3f} | "
            f"{union.area - area:,.3f} ({(union.area - area) / union.area:.1e}) |"
        )
    print(
        f"\n(the union itself took {union_s:.2f} s; faces of overlaps linked only by phantoms "
        "share those slivers, so their area can exceed the union's)\n"
    )
    count_s, count = timed("overlap_count", lambda: geozones.overlap_count(layers))
    with_slivers = geozones.find_conflicts(layers, min_area_m2=200)
    summary_s, summary = timed("conflict_summary", lambda: geozones.conflict_summary(with_slivers))
    shared = count.attrs["shared_phantoms"]
    print(
        f"find_conflicts {find_s:.2f} s; overlap_count {count_s:.2f} s "
        f"({count_s / find_s:.1f}× find_conflicts; {len(count):,} faces, "
        f"{count['area_m2'].sum():,.3f} m², thin faces left out "
        f"{count.attrs['thin_face_area_m2']:,.3f} m², {shared['count']:,} phantoms shared by "
        f"two faces, {shared['area_m2']:,.3f} m²); "
        f"conflict_summary {summary_s:.2f} s ({int(summary['slivers'].sum()):,} slivers, "
        f"{summary['sliver_area_m2'].sum():,.3f} m² of sliver area)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

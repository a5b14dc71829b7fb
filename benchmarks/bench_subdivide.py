"""The overlay kernel with and without cutting huge polygons, on the layers of bench_hard.py.

For one setting of ``generate_hard.py``, in one process, each pair of layers (farmland,
red line, urban) through ``geozones.analysis.overlaps.classified_overlaps`` with ``max_vertices``
set to each value given (512: the default cuts; 0: nothing cut, the plain path), printing
wall and CPU time (all threads), and checking that both find the same pairs, the same
phantoms, and areas equal to 1e-9 relative.

Usage::

    python benchmarks/bench_subdivide.py --size small --crossing 0.9
    python benchmarks/bench_subdivide.py --size medium --crossing 0.9 --max-vertices 512,0
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import generate_hard  # noqa: E402

from geozones.analysis.overlaps import Overlaps, classified_overlaps  # noqa: E402

PAIRS = (("farmland", "redline"), ("farmland", "urban"), ("redline", "urban"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", type=float, default=0.9)
    parser.add_argument("--tessellated", action="store_true")
    parser.add_argument("--max-vertices", default="512,0", help="values, comma-separated")
    args = parser.parse_args()
    paths = generate_hard.generate_hard(
        args.size, crossing=args.crossing, tessellated=args.tessellated
    )
    layers = {name: gpd.read_parquet(paths[name]).geometry.to_numpy() for name in generate.LAYERS}
    print(f"# bench_subdivide: {' '.join(sys.argv)}")
    print("| max_vertices | pair | seconds (wall) | CPU s | pieces | area (m², planar) |")
    print("|---:|---|---:|---:|---:|---:|")
    found: dict[tuple[int, str, str], Overlaps] = {}
    settings = [int(value) for value in args.max_vertices.split(",")]
    for max_vertices in settings:
        wall_total = cpu_total = 0.0
        for first, second in PAIRS:
            wall, cpu = time.perf_counter(), time.process_time()
            result = classified_overlaps(
                layers[first], layers[second], width=0.001, max_vertices=max_vertices
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall_total, cpu_total = wall_total + wall, cpu_total + cpu
            found[(max_vertices, first, second)] = result
            print(
                f"| {max_vertices} | {first}–{second} | {wall:.2f} | {cpu:.2f} | "
                f"{len(result.pieces):,} | {shapely.area(result.pieces).sum():,.6f} |",
                flush=True,
            )
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"| {max_vertices} | **all three** | {wall_total:.2f} | {cpu_total:.2f} | | "
            f"load {load} |",
            flush=True,
        )
    for first, second in PAIRS:
        results = [found[(value, first, second)] for value in settings]
        reference = results[0]
        for other in results[1:]:
            same = np.array_equal(reference.left_index, other.left_index) and np.array_equal(
                reference.right_index, other.right_index
            )
            areas = shapely.area(reference.pieces), shapely.area(other.pieces)
            relative = np.abs(areas[0] - areas[1]) / np.maximum(areas[0], 1.0)
            print(
                f"{first}–{second}: same pairs {same}, same phantoms "
                f"{np.array_equal(reference.phantom, other.phantom)}, largest area difference "
                f"{relative.max() if len(relative) else 0.0:.1e} relative"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

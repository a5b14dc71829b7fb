"""Where the time of ``find_conflicts`` between layers goes, on a setting of ``bench_hard.py``.

Wraps the steps of the overlap kernel (``geozones.analysis.overlaps``) with timers and runs
``find_conflicts(layers, within_layers=False)`` once, in one process, on the layers that
``generate_hard.py`` wrote (run it first). Prints each step's wall time and CPU time (all
threads; summed over calls, so steps that run in threads can add up to more wall time than
the whole), next to the read of the three layers. The GEOS overlays of the crossing pairs
(``map_by_cost``: intersections, and the cuts and unions of subdivided polygons) are the part
no bookkeeping can remove.

Usage::

    python benchmarks/bench_phases.py [--size medium] [--crossing 0.5] [--no-cut]
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

import geozones
from geozones.analysis import conflicts, overlaps

DATA = Path(__file__).resolve().parent / "data"


def timed(timings: dict[str, list[float]], module: Any, name: str, label: str) -> None:
    """Replace ``module.name`` by a wrapper that adds its wall and CPU time to `timings`."""
    func: Callable[..., Any] = getattr(module, name)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            totals = timings.setdefault(label, [0.0, 0.0])
            totals[0] += time.perf_counter() - wall
            totals[1] += time.process_time() - cpu

    setattr(module, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    """Run once and print the steps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", default="0.5")
    parser.add_argument("--no-cut", action="store_true", help="subdivide no polygon")
    args = parser.parse_args(argv)
    folder = DATA / f"hard-{args.size}-c{round(float(args.crossing) * 100)}"
    if not folder.exists():
        parser.error(f"{folder} is missing: run generate_hard.py --size {args.size} first")
    if args.no_cut:
        overlaps.CUT_FROM_CANDIDATES = sys.maxsize
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    layers = {
        name: gpd.read_parquet(folder / f"{name}.parquet")
        for name in ("farmland", "redline", "urban")
    }
    read = time.perf_counter() - start
    geozones.area(layers["urban"].iloc[:10])  # load the compiled kernels
    timings: dict[str, list[float]] = {}
    timed(timings, conflicts.AlignedLayers, "prepare", "layers checked and aligned")
    timed(timings, conflicts, "classified_overlaps", "classified_overlaps (all of the kernel)")
    timed(timings, overlaps, "subdivide", "  subdivide (cuts of huge polygons)")
    timed(timings, overlaps.shapely, "intersects", "  pair tests: intersects")
    timed(timings, overlaps.shapely, "covers", "  pair tests: covers")
    timed(timings, overlaps, "map_by_cost", "  GEOS overlays in threads")
    timed(timings, overlaps, "is_thin", "  phantom test")
    timed(timings, conflicts, "_with_zones_and_area", "area of the pieces, table")
    wall, cpu = time.perf_counter(), time.process_time()
    found = geozones.find_conflicts(layers, within_layers=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{folder.name}{' (nothing cut)' if args.no_cut else ''}: {len(found):,} pieces\n")
    print("| step | wall s | CPU s | wall × read |")
    print("|---|---:|---:|---:|")
    print(f"| read: geopandas.read_parquet × 3 | {read:.2f} | | 1.00 |")
    print(f"| find_conflicts between layers | {wall:.2f} | {cpu:.2f} | {wall / read:.2f} |")
    for label, (step_wall, step_cpu) in timings.items():
        print(f"| {label} | {step_wall:.2f} | {step_cpu:.2f} | {step_wall / read:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How much of ``overlap_count`` and ``resolve_conflicts`` is the kernel ``find_conflicts`` runs.

Issue 20 asks for "the same speed" in ``resolve_conflicts`` and ``overlap_count``, which share
``find_conflicts``' kernel (:func:`geozones.analysis.overlaps.classified_overlaps`) and then do
work of their own (the faces' noding, the cuts). On one setting of ``generate_hard.py``, in
one process, each call's wall time is split into the time inside the kernel's calls for the
pairs of layers (timed by wrapping ``classified_overlaps`` where ``geozones.analysis.conflicts``
calls it; overlapping intervals of two threads counted once) and the rest, the call's own
steps. The calls alternate, ``--repeat`` times each; medians are printed.

Usage::

    python benchmarks/bench_kernel_share.py --size medium --crossing 0.9 --tessellated yes
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import generate_hard
import geopandas as gpd
import shapely

import geozones
from geozones.analysis import conflicts


class KernelClock:
    """Wall time spent inside ``conflicts.classified_overlaps`` while it is wrapped."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._original = conflicts.classified_overlaps

    def __enter__(self) -> KernelClock:
        original = self._original

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                with self._lock:
                    self.intervals.append((start, time.perf_counter()))

        conflicts.classified_overlaps = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        conflicts.classified_overlaps = self._original

    def seconds(self) -> float:
        """The union of the intervals: two pairs of layers at once count once."""
        total, reach = 0.0, float("-inf")
        for start, stop in sorted(self.intervals):
            if stop > reach:
                total += stop - max(start, reach)
                reach = stop
        return total


def split(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time of `call` and the part of it inside the kernel."""
    with KernelClock() as clock:
        start = time.perf_counter()
        result = call()
        wall = time.perf_counter() - start
    return wall, clock.seconds(), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", type=float, default=0.9)
    parser.add_argument("--tessellated", default="yes", choices=["no", "yes"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    paths = generate_hard.generate_hard(
        args.size, crossing=args.crossing, tessellated=args.tessellated == "yes"
    )
    layers = {name: gpd.read_parquet(path) for name, path in paths.items()}
    print(f"# bench_kernel_share: {' '.join(sys.argv)}")
    print(
        f"{os.cpu_count()} CPUs, shapely {shapely.__version__} (GEOS "
        f"{shapely.geos_version_string}); load "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}\n"
    )
    # Compiled kernels loaded before timing.
    small = {name: frame.iloc[:300] for name, frame in layers.items()}
    geozones.overlap_count(small)
    geozones.resolve_conflicts(small)
    calls: dict[str, Callable[[], Any]] = {
        "find_conflicts, between layers": lambda: geozones.find_conflicts(
            layers, within_layers=False
        ),
        "find_conflicts, defaults": lambda: geozones.find_conflicts(layers),
        "overlap_count": lambda: geozones.overlap_count(layers),
        "resolve_conflicts": lambda: geozones.resolve_conflicts(layers),
    }
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in calls}
    sizes: dict[str, str] = {}
    for _ in range(args.repeat):
        for label, call in calls.items():
            wall, kernel, result = split(call)
            runs[label].append((wall, kernel))
            rows = result[1] if isinstance(result, tuple) else result
            sizes[label] = f"{len(rows):,} rows"
            print(f"  {label}: {wall:.2f} s, kernel {kernel:.2f} s", file=sys.stderr, flush=True)
    print("| call | wall (median) | in the kernel | own steps | × find_conflicts (between) | |")
    print("|---|---:|---:|---:|---:|---|")
    base = statistics.median(wall for wall, _ in runs["find_conflicts, between layers"])
    for label, figures in runs.items():
        wall = statistics.median(w for w, _ in figures)
        kernel = statistics.median(k for _, k in figures)
        print(
            f"| {label} | {wall:.2f} s | {kernel:.2f} s | {wall - kernel:.2f} s | "
            f"{wall / base:.2f} | {sizes[label]} |"
        )
    print(f"\nload average after: {', '.join(f'{load:.1f}' for load in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Pairs of layers in turn or two at once: ``find_conflicts``'s time and peak memory.

``find_conflicts`` runs the overlap kernel once per pair of layers (six with its defaults on
three layers). With more than one thread it runs two pairs at once where they share no layer
(``geozones.parallel.map_apart``); ``geozones.analysis.conflicts.PAIRS_AT_ONCE = False`` runs
them in turn. On the layers ``generate_hard.py`` wrote under ``--data``, this script:

1. calls ``find_conflicts`` (defaults) ``--repeat`` times each way, alternating, in one process
   (the machine's speed moves within the hour: in turn, the two see the same machine), and
   checks that both give the same pieces (WKB), rows and ``attrs``;
2. measures the peak of each way in fresh processes, twice each, alternating, as
   ``bench_hard.py`` does (the layers read, the code loaded by a call on 200 features, free
   memory returned; ``VmHWM`` over the ``VmRSS`` before the call).

Usage::

    python benchmarks/bench_pairs.py --data benchmarks/data/hard-medium-c90-tess --repeat 8
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_hard  # noqa: E402

import geozones  # noqa: E402
from geozones.analysis import conflicts  # noqa: E402

LAYERS = ("farmland", "redline", "urban")
WAYS = {"in turn": False, "two at once": True}


def read(data: Path) -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_parquet(data / f"{name}.parquet") for name in LAYERS}


def timed(layers: dict[str, gpd.GeoDataFrame], at_once: bool) -> tuple[float, Any]:
    conflicts.PAIRS_AT_ONCE = at_once
    start = time.perf_counter()
    found = geozones.find_conflicts(layers)
    return time.perf_counter() - start, found


def _peak_child(data: Path, at_once: bool, queue: Any) -> None:
    warnings.simplefilter("ignore")
    conflicts.PAIRS_AT_ONCE = at_once
    layers = read(data)
    geozones.find_conflicts({name: layer.iloc[:200] for name, layer in layers.items()})
    bench_hard._return_free_memory()
    loaded = bench_hard.status_gib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    geozones.find_conflicts(layers)
    queue.put((loaded, bench_hard.status_gib("VmHWM")))


def peak(data: Path, at_once: bool) -> tuple[float, float]:
    """RSS with the layers read and the peak during find_conflicts, in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_child, args=(data, at_once, queue))
    process.start()
    loaded, top = queue.get()
    process.join()
    return loaded, top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="generate_hard.py's folder")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    layers = read(args.data)
    geozones.find_conflicts(layers)  # compiled kernels and first touches of memory
    seconds: dict[str, list[float]] = {way: [] for way in WAYS}
    found: dict[str, Any] = {}
    for _ in range(args.repeat):
        for way, at_once in WAYS.items():
            took, found[way] = timed(layers, at_once)
            seconds[way].append(took)
            print(f"  {way}: {took:.2f} s", file=sys.stderr, flush=True)
    conflicts.PAIRS_AT_ONCE = True
    first, second = found.values()
    same = (
        first.drop(columns="geometry").equals(second.drop(columns="geometry"))
        and list(shapely.to_wkb(first.geometry.to_numpy()))
        == list(shapely.to_wkb(second.geometry.to_numpy()))
        and first.attrs == second.attrs
    )
    print(f"## {args.data.name}: find_conflicts (defaults), {len(first):,} pieces\n")
    print("| way | median s | runs |")
    print("|---|---:|---|")
    for way, runs in seconds.items():
        shown = ", ".join(f"{run:.2f}" for run in runs)
        print(f"| {way} | {statistics.median(runs):.3f} | {shown} |")
    print(f"\nthe same pieces, rows and attrs both ways: {same}")
    if not args.skip_memory:
        for _ in range(2):
            for way, at_once in WAYS.items():
                loaded, top = peak(args.data, at_once)
                print(
                    f"peak, {way}: {top:.3f} GiB over {loaded:.3f} GiB loaded: "
                    f"**{top / loaded:.2f}×**"
                )
    if not same:
        sys.exit("the two ways gave different results")


if __name__ == "__main__":
    main()

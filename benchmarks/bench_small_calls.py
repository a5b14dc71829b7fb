"""The fixed cost of a call on small layers: what a streamed run pays per zone and layer pair.

A streamed run (``geozones.scale.streaming``) calls the overlap kernel about 600 times (six
layer pairs in each of 100 windows), most of them on a few dozen features; a call's fixed cost
counts there as much as its work. This script times, in one process, per call on `--features`
random boxes against as many (the best of ``--repeat`` rounds of 200 calls):

1. the kernel, ``geozones.analysis.overlaps.classified_overlaps``;
2. ``geozones.find_conflicts`` on the two as layers (EPSG:4527), with its defaults;
3. ``geopandas.overlay(..., how="intersection")`` of the same two frames, the obvious
   alternative, and its pieces' count next to ours.

Usage::

    python benchmarks/bench_small_calls.py [--features 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

import geozones
from geozones.analysis.overlaps import classified_overlaps

X, Y = 39_500_000.0, 3_300_000.0


def boxes(count: int, *, seed: int) -> np.ndarray:
    """`count` boxes of 15 m within 100 m, at Gauss-Krüger eastings."""
    rng = np.random.default_rng(seed)
    x, y = X + rng.uniform(0, 100, count), Y + rng.uniform(0, 100, count)
    return shapely.box(x, y, x + 15, y + 15)


def per_call(function: Callable[[], Any], *, calls: int, repeat: int) -> tuple[float, Any]:
    """Best mean time of one call (ms) over `repeat` rounds of `calls`; the last result."""
    result = function()  # loads what a first call loads
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            result = function()
        best = min(best, (time.perf_counter() - start) / calls * 1e3)
    return best, result


def main(argv: list[str] | None = None) -> int:
    """Time the three and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    left, right = boxes(args.features, seed=1), boxes(args.features, seed=2)
    layers = {
        "farmland": gpd.GeoDataFrame(geometry=left, crs=4527),
        "redline": gpd.GeoDataFrame(geometry=right, crs=4527),
    }
    rows = [
        ("classified_overlaps (the kernel)", lambda: len(classified_overlaps(left, right).pieces)),
        ("find_conflicts (defaults)", lambda: len(geozones.find_conflicts(layers))),
        (
            "geopandas.overlay (intersection)",
            lambda: len(gpd.overlay(layers["farmland"], layers["redline"], how="intersection")),
        ),
    ]
    print(f"# {args.features} boxes against {args.features}, best of {args.repeat} x 200 calls")
    print("| call | ms per call | pieces |")
    print("|---|---:|---:|")
    for label, function in rows:
        milliseconds, pieces = per_call(function, calls=200, repeat=args.repeat)
        print(f"| {label} | {milliseconds:.2f} | {pieces} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

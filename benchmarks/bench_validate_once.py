"""Validate once: the polygon checks of a check's steps, with and without the proof they carry.

On the synthetic layers of ``generate.py`` (generated first if missing), read plainly with
``geopandas.read_parquet`` (so nothing is validated at read time), it runs the steps a check
runs on the same layers: ``find_conflicts`` (between and inside layers), ``resolve_conflicts``
and ``area`` of every layer, and counts the geometries GEOS checks for validity
(``shapely.lib.is_valid``) and the time, twice in the same process:

- ``checked once``: geozones as it is: a geometry checked valid is recorded
  (``geozones.io.provenance``) and not checked again by a later step;
- ``checked at every step``: the record ignored (``known_valid`` answers "not known"), which
  is what every step did when the layer did not carry a ``read_layer`` report in ``attrs``,
  e.g. after ``set_index``.

Usage: python benchmarks/bench_validate_once.py [--size small|medium|large] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

import geozones
from geozones.io import validity

LAYERS = ("farmland", "redline", "urban")


def run(layers: dict[str, gpd.GeoDataFrame]) -> tuple[float, int, int]:
    """Seconds, is_valid calls and geometries checked for the steps of a check."""
    calls: list[int] = []
    original = shapely.lib.is_valid  # what geozones calls

    def counted(geoms, *args, **kwargs):
        calls.append(len(geoms))
        return original(geoms, *args, **kwargs)

    shapely.lib.is_valid = counted
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geozones.find_conflicts(layers, within_layers=True)
            geozones.resolve_conflicts(layers, list(LAYERS))
            for frame in layers.values():
                geozones.area(frame)
        seconds = time.perf_counter() - start
    finally:
        shapely.lib.is_valid = original
    return seconds, len(calls), int(np.sum(calls))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each (default 2)")
    args = parser.parse_args()
    folder, _ = generate.resolve(args.size)
    paths = {name: generate.DEFAULT_OUT / folder / f"{name}.parquet" for name in LAYERS}
    if not all(path.exists() for path in paths.values()):
        generate.main(["--size", args.size])
    features = 0
    print(f"size {args.size}: python benchmarks/bench_validate_once.py --size {args.size}")
    print("| run | time (s) | is_valid calls | geometries checked |")
    print("|---|---:|---:|---:|")
    original_known = validity.known_valid
    # Both orders, so that the first run's warm-up (compiling, touching memory) shows.
    runs = [("checked at every step", True), ("checked once", False)] * args.repeat
    for label, ignore in runs:
        layers = {name: gpd.read_parquet(path) for name, path in paths.items()}
        features = sum(len(frame) for frame in layers.values())
        if ignore:
            validity.known_valid = lambda data: np.zeros(len(data), dtype=bool)
        try:
            seconds, count, checked = run(layers)
        finally:
            validity.known_valid = original_known
        print(f"| {label} | {seconds:.2f} | {count} | {checked:,} |")
    print(f"({features:,} features in the three layers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A streamed run in this process: wall and CPU time of every zone done one after the other.

``bench_scale.py`` runs the zones in worker processes and reports wall time only; on a
machine whose load moves, the CPU time of a run is the steadier measure of the work it does.
This script opens the partitioned dataset under ``--data`` (``bench_scale.py`` writes it to
``<data>/parts``), runs ``stream_conflicts`` once to load everything, then ``--repeat``
times with ``workers=1`` (this process, its threads), and prints, for each, the wall time,
the CPU time of the process (all threads) and the pieces and their area; with
``--in-memory`` it also reads the three layers whole and times ``find_conflicts`` split by
the same counties, the call the streamed run stands for.

Usage::

    python benchmarks/bench_stream.py --data benchmarks/data/hard-medium-c90-tess --in-memory
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_scale  # noqa: E402

import geozones  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with parts/")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--in-memory", action="store_true", help="also the call on whole layers")
    args = parser.parse_args()
    dataset = geozones.open_partitions(args.data / "parts")
    print(f"# {dataset.path}: {', '.join(dataset.layers)}; {len(dataset.zones)} zones")
    geozones.stream_conflicts(dataset, workers=1)
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        pieces = geozones.stream_conflicts(dataset, workers=1)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"stream_conflicts, one worker: {wall:.2f} s wall, {cpu:.2f} s CPU; "
            f"{len(pieces):,} pieces, {pieces.area_m2.sum():,.3f} m²"
        )
    if args.in_memory:
        layers = {name: gpd.read_parquet(args.data / f"{name}.parquet") for name in dataset.layers}
        counties = bench_scale.counties()
        geozones.find_conflicts(layers, zones=counties, zone_field="XZQDM")
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            pieces = geozones.find_conflicts(layers, zones=counties, zone_field="XZQDM")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"find_conflicts, layers whole: {wall:.2f} s wall, {cpu:.2f} s CPU; "
                f"{len(pieces):,} pieces, {pieces.area_m2.sum():,.3f} m²"
            )


if __name__ == "__main__":
    main()

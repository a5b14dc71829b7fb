"""Streamed and distributed runs: peak memory, speed-up from 1 to 2 workers, dask overhead.

On the synthetic province of ``generate.py`` (its 10 x 10 grid of counties, coded ``99xxyy``):

1. ``write_partitions`` writes the layers as county partitions (``data/<size>/parts``, reused
   when present; ``--repartition`` writes them again);
2. every run below is a fresh Python process, so that its peak memory (RSS) is its own:

   - ``in-memory``: the obvious alternative: read the whole layers, then ``geozones.coverage``
     of the farmland and ``geozones.find_conflicts`` (with the counties);
   - ``local-1`` / ``local-2``: ``stream_coverage`` + ``stream_conflicts`` in this process
     (``workers=1``) and in 2 worker processes;
   - ``dask-1`` / ``dask-2``: the same on a ``distributed.LocalCluster`` of 1 and 2 worker
     processes (1 thread each); the client's process is measured, and the workers' peak RSS is
     reported from the workers themselves.

   A ``-1`` run is pinned to one CPU (``sched_setaffinity``, inherited by its Dask worker), so
   that "one worker" means one core: geozones' own threads would otherwise use the second.
   Dask workers start with ``preload=["geozones.scale.preload"]``, as docs/scale-out.md advises.

3. each operation runs ``--repeat`` times in its process: ``<operation>_s`` is the first run,
   which starts the local worker processes (the Dask cluster's start is ``cluster_start_s``,
   apart), and ``<operation>_again_s`` the fastest of the others, on the processes kept from
   the first.

4. the tricks the hand-made executor used before loky, each measurable on its own by a suffix
   of a local or Dask run (``local-2+pin``, ``local-2+trim+threads``, ``dask-1+mallopt``); all
   but ``pin`` are set up here, not in geozones:

   - ``pin``: when the processes fill the CPUs, each local worker process pinned to a CPU of
     its own and the calling process's zone thread to the one left (``sched_setaffinity``):
     geozones' ``executor.PIN_CPUS``, which a run without ``+pin`` turns off;
   - ``trim``: glibc's ``malloc_trim(0)`` after each zone in the worker (ctypes);
   - ``threads``: local workers *without* ``GEOZONES_THREADS=1`` (geozones' default), i.e.
     each worker using as many threads as CPUs;
   - ``mallopt``: on each Dask worker, glibc's mmap threshold raised to 32 MiB once (Dask's
     nanny freezes it at 128 KiB through ``MALLOC_TRIM_THRESHOLD_``).

5. with ``--rounds N``, the whole list of runs is gone through N times, one round after the
   other, and each figure is the median over the rounds.

``--data DIR`` runs on the layers in DIR instead (``farmland.parquet``, ``redline.parquet``,
``urban.parquet`` on the same county grid: the output of ``generate_hard.py``, say).

Usage: python benchmarks/bench_scale.py [--size large|xl|...] [--runs in-memory,local-1,...]
       [--operations coverage,conflicts] [--layers farmland,redline,urban] [--repeat 2]
       [--rounds 1] [--repartition] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

RUNS = ("in-memory", "local-1", "local-2", "dask-1", "dask-2")
TRICKS = ("pin", "trim", "threads", "mallopt")
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL("libc.so.6")


def raise_mmap_threshold() -> None:
    _libc().mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)


def install_tricks(tricks: list[str]) -> None:
    """Put the tricks of a run into geozones' executor (this process and its workers)."""
    from functools import partial

    from loky import get_reusable_executor

    import geozones.scale.executor

    geozones.scale.executor.PIN_CPUS = "pin" in tricks
    if "trim" in tricks:
        original = geozones.scale.executor.record_warnings
        geozones.scale.executor.record_warnings = partial(trimmed_with, original)  # type: ignore[assignment]
    if "threads" in tricks:

        def local_executor(workers: int) -> Any:
            return get_reusable_executor(
                max_workers=workers,
                timeout=geozones.scale.executor.IDLE_TIMEOUT,
                initializer=geozones.scale.executor.start_worker,
                initargs=(os.getpid(),),
            )

        geozones.scale.executor.local_executor = local_executor  # type: ignore[assignment]


def trimmed_with(original: Any, task: Any, payload: Any, zone: str, *, ignore: Any) -> Any:
    """``record_warnings`` of ``trim``: geozones' own, then glibc's ``malloc_trim(0)``."""
    try:
        return original(task, payload, zone, ignore=ignore)
    finally:
        _libc().malloc_trim(0)


def counties() -> Any:
    import geopandas as gpd
    import numpy as np
    import shapely

    width = (generate.X_MAX - generate.X_MIN) / generate.COUNTY_COLS
    height = (generate.Y_MAX - generate.Y_MIN) / generate.COUNTY_ROWS
    col, row = np.meshgrid(np.arange(generate.COUNTY_COLS), np.arange(generate.COUNTY_ROWS))
    col, row = col.ravel(), row.ravel()
    x0, y0 = generate.X_MIN + col * width, generate.Y_MIN + row * height
    codes = [f"99{c + 1:02d}{r + 1:02d}" for c, r in zip(col, row, strict=True)]
    return gpd.GeoDataFrame(
        {"XZQDM": codes}, geometry=shapely.box(x0, y0, x0 + width, y0 + height), crs=4527
    )


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One measured run, in its own process."""
    warnings.simplefilter("ignore")
    import geozones

    data = Path(spec["data"])
    layers = spec["layers"]
    operations = spec["operations"]
    run = spec["run"]
    figures: dict[str, Any] = {"run": run}
    start = time.perf_counter()
    if run == "in-memory":
        import geopandas as gpd

        frames = {name: gpd.read_parquet(data / f"{name}.parquet") for name in layers}
        zones = counties()
        figures["read_s"] = time.perf_counter() - start
        if "coverage" in operations:
            t = time.perf_counter()
            table = geozones.coverage(frames["farmland"], zones, by="XZQDM", unit="m2")
            figures["coverage_s"] = time.perf_counter() - t
            figures["covered_m2"] = float(table["covered_area"].sum())
        if "conflicts" in operations:
            t = time.perf_counter()
            pieces = geozones.find_conflicts(frames, zones=zones, zone_field="XZQDM")
            figures["conflicts_s"] = time.perf_counter() - t
            figures["pieces"] = len(pieces)
            figures["pieces_m2"] = float(pieces["area_m2"].sum())
    else:
        dataset = geozones.open_partitions(data / "parts")
        kind, count, *tricks = run.replace("+", "-").split("-")
        install_tricks(tricks)
        if count == "1" and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        options: dict[str, Any] = {}
        cluster = None
        if kind == "local":
            options["workers"] = int(count)
        else:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                n_workers=int(count),
                threads_per_worker=1,
                dashboard_address=None,
                preload=["geozones.scale.preload"],
            )
            options["client"] = Client(cluster)
            if "mallopt" in tricks:
                options["client"].run(raise_mmap_threshold)
            figures["cluster_start_s"] = time.perf_counter() - start
        if "coverage" in operations:
            table = timed(
                figures,
                "coverage",
                spec["repeat"],
                lambda: geozones.stream_coverage(dataset, "farmland", unit="m2", **options),
            )
            figures["covered_m2"] = float(table["covered_area"].sum())
        if "conflicts" in operations:
            pieces = timed(
                figures,
                "conflicts",
                spec["repeat"],
                lambda: geozones.stream_conflicts(dataset, list(layers), **options),
            )
            figures["pieces"] = len(pieces)
            figures["pieces_m2"] = float(pieces["area_m2"].sum())
        if cluster is not None:
            client = options["client"]
            worker_peaks = client.run(lambda: peak_rss_gib())
            figures["worker_peak_rss_gib"] = round(max(worker_peaks.values()), 2)
            client.close()
            cluster.close()
    figures["total_s"] = time.perf_counter() - start
    figures["peak_rss_gib"] = round(peak_rss_gib(), 2)
    return figures


def timed(figures: dict[str, Any], name: str, times: int, run: Any) -> Any:
    """Call `run` `times` times and return the last result.

    Records ``<name>_s``, the first run, and ``<name>_again_s``, the fastest of the others.
    """
    seconds = []
    result = None
    for _ in range(times):
        result = None  # the previous result is dropped before the next run
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    figures[f"{name}_s"] = seconds[0]
    if len(seconds) > 1:
        figures[f"{name}_again_s"] = min(seconds[1:])
    return result


def median_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the rounds of one run (others from the first round)."""
    import statistics

    return {
        key: statistics.median(run[key] for run in runs) if isinstance(value, float) else value
        for key, value in runs[0].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", help="named size of generate.py")
    parser.add_argument(
        "--runs",
        default=",".join(RUNS),
        help=f"subset of {','.join(RUNS)}, local and dask runs with +trick suffixes "
        f"({', '.join(TRICKS)})",
    )
    parser.add_argument("--operations", default="coverage,conflicts")
    parser.add_argument(
        "--layers", help="comma-separated layers (default: those of the size; farmland for xl)"
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of each operation per process (default 2)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="times to go through all the runs, one after the other, reporting the median: "
        "the machine's speed drifts over minutes, and interleaving spreads the drift",
    )
    parser.add_argument("--repartition", action="store_true")
    parser.add_argument(
        "--data", type=Path, help="folder of the layers to use instead of generate.py's"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    if args.data is not None:
        layers = tuple(args.layers.split(",")) if args.layers else generate.LAYERS
        data = args.data.resolve()
        print(f"# {data}: {', '.join(layers)}")
    else:
        size, sizes = generate.resolve(args.size)
        layers = (
            tuple(args.layers.split(","))
            if args.layers
            else generate.DEFAULT_LAYERS.get(size, generate.LAYERS)
        )
        generate.ensure_layers(size, layers=layers)
        data = generate.DEFAULT_OUT / size
        print(f"# {size}: {', '.join(f'{name} {sizes.count(name):,}' for name in layers)}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# load before: {os.getloadavg()}")
    parts = data / "parts"
    if args.repartition or not (parts / "manifest.json").exists():
        code = (
            "import json,sys,time,warnings,resource;warnings.simplefilter('ignore');"
            "sys.path.insert(0,sys.argv[1]);import bench_scale,geozones;from pathlib import Path;"
            "d=Path(sys.argv[2]);t=time.perf_counter();"
            "geozones.write_partitions({n:d/f'{n}.parquet' for n in sys.argv[3].split(',')},"
            "bench_scale.counties(),d/'parts',zone_field='XZQDM',overwrite=True);"
            "print(json.dumps({'partition_s':time.perf_counter()-t,"
            "'peak_rss_gib':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20}))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(HERE), str(data), ",".join(layers)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        print(f"write_partitions: {out.strip()}")
    operations = args.operations.split(",")
    rounds: dict[str, list[dict[str, Any]]] = {}
    for number in range(1, args.rounds + 1):
        for run in args.runs.split(","):
            spec = {
                "data": str(data),
                "layers": list(layers),
                "operations": operations,
                "run": run,
                "repeat": args.repeat,
            }
            out = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(spec)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            rounds.setdefault(run, []).append(figures)
            shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
            print(json.dumps({"round": number, **shown}))
    by_run = {run: median_figures(runs) for run, runs in rounds.items()}
    if args.rounds > 1:
        for figures in by_run.values():
            shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
            print(json.dumps({"round": "median", **shown}))
    ratios = [
        ("speed-up 1 -> 2 local workers", "local-1", "local-2"),
        ("speed-up 1 -> 2 dask workers", "dask-1", "dask-2"),
        ("dask-2 / local-2", "dask-2", "local-2"),
        ("dask-1 / local-1", "dask-1", "local-1"),
        ("local-2 / in-memory", "local-2", "in-memory"),
    ]
    for run in by_run:
        if "+" in run:
            plain = run.split("+")[0]
            ratios.append((f"{run} / {plain}", run, plain))
    for operation in operations:
        for label, top, bottom in ratios:
            for which, key in (("first run", f"{operation}_s"), ("again", f"{operation}_again_s")):
                if key in by_run.get(top, {}) and key in by_run.get(bottom, {}):
                    ratio = by_run[top][key] / by_run[bottom][key]
                    print(f"{operation}: {label} ({which}): {ratio:.2f}x")
    print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

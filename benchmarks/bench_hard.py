"""Conflicts on the data that is hardest for them: most pairs crossing, huge red-line polygons.

For each setting of ``generate_hard.py`` (share of crossing pairs, tessellated farmland or
not), in one process:

1. reading the three layers from GeoParquet (``geopandas.read_parquet``; the best of three
   reads, as the first in a process also loads pyarrow's readers);
2. three ``geopandas.overlay(..., how="intersection")`` calls plus the ellipsoidal area of the
   pieces (what an analyst writes today);
3. ``geozones.find_conflicts`` between layers (as the overlays), and with its defaults (the
   within-layer check too);
4. on a tessellated setting, the within-layer check of the farmland alone against a
   between-layer check of the same size (the farmland against a copy shifted by half a cell;
   each twice, in turn, the faster kept);
5. peak memory of ``find_conflicts`` (defaults) in a fresh process, against the RSS of the
   loaded layers with the library's code loaded (a call on 200 features of each layer
   first); the RSS before that call is printed too.

The overlays and ``find_conflicts`` must find the same pieces and area (printed side by side).
Goals at the medium size: find_conflicts (defaults) ≤ 0.4× the overlays and ≤ 2× the read;
within ≤ 0.5× between on a tessellation; peak ≤ 1.5× the loaded layers.

Usage::

    python benchmarks/bench_hard.py --size small                       # all six settings
    python benchmarks/bench_hard.py --size medium --crossing 0.5 --tessellated no
    python benchmarks/bench_hard.py --size large --skip-overlay --crossing 0.5
    python benchmarks/bench_hard.py --size medium --crossing 0.1 --overlapping  # stress
    GEOZONES_THREADS=1 python benchmarks/bench_hard.py --size small    # one thread
    python benchmarks/bench_hard.py --size medium --crossing 0.9 --skip-overlay --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import multiprocessing
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_conflicts  # noqa: E402
import generate  # noqa: E402
import generate_hard  # noqa: E402

import geozones  # noqa: E402

LAYERS = generate.LAYERS


def timed(name: str, figures: dict[str, Any], function: Any) -> Any:
    """Run `function`, store its wall time (``name_s``) and its CPU time over all threads."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    figures[f"{name}_s"] = time.perf_counter() - wall
    figures[f"{name}_cpu_s"] = time.process_time() - cpu
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"  {name}: {figures[f'{name}_s']:.2f} s wall, {figures[f'{name}_cpu_s']:.2f} s CPU "
        f"(load {load})",
        file=sys.stderr,
        flush=True,
    )
    return result


def status_gib(field: str) -> float:
    """A field of /proc/self/status (VmRSS, VmHWM), GiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def _read(paths: dict[str, Path]) -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_parquet(path) for name, path in paths.items()}


def _return_free_memory() -> None:
    """Give free memory back to the system: pyarrow's pool, then glibc's ``malloc_trim``.

    After the read, the RSS was 0.63 GiB in some runs and 0.92 GiB in others for the same
    layers (bench_hard medium), depending on whether the read's freed buffers went back:
    released, the "loaded" figure, the ratio's denominator, is what the layers hold.
    """
    import pyarrow

    # The read's Arrow buffers: pyarrow's own pool keeps them unless told.
    pyarrow.default_memory_pool().release_unused()
    # Not glibc: nothing to call, and the figure may move as described.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _memory_child(paths: dict[str, Path], queue: Any) -> None:
    warnings.simplefilter("ignore")
    layers = _read(paths)
    _return_free_memory()
    cold = status_gib("VmRSS")
    # The library's code loaded first (numba's compiled kernels and LLVM hold a fixed
    # ~0.115 GiB, 0.09 of it shared library pages): the goal is about the data's memory.
    geozones.find_conflicts({name: layer.iloc[:200] for name, layer in layers.items()})
    _return_free_memory()
    loaded = status_gib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    geozones.find_conflicts(layers)
    queue.put(
        {
            "rss_loaded_cold_gib": cold,
            "rss_loaded_gib": loaded,
            "peak_rss_conflicts_gib": status_gib("VmHWM"),
        }
    )


def conflicts_memory(paths: dict[str, Path]) -> dict[str, float]:
    """RSS with the layers read, and the peak during find_conflicts, in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_memory_child, args=(paths, queue))
    process.start()
    result: dict[str, float] = queue.get()
    process.join()
    return result


def tessellation_check(farmland: gpd.GeoDataFrame) -> dict[str, float]:
    """Within the tessellated farmland against the farmland and a copy shifted half a cell."""
    shifted = farmland.set_geometry(
        shapely.transform(farmland.geometry.to_numpy(), lambda xy: xy + generate_hard.CELL / 2),
        crs=farmland.crs,
    )
    figures: dict[str, float] = {}
    # Compiled kernels loaded before either is timed (the first call in a process loads them).
    geozones.find_conflicts({"t": farmland.iloc[:2000]})
    # Each twice, in turn, the faster kept: the first large call in a process pays the
    # kernel's first touch of fresh memory (docs/performance.md), whichever check it is.
    for _ in range(2):
        runs: dict[str, float] = {}
        found = timed("tess_within", runs, lambda: geozones.find_conflicts({"t": farmland}))
        crossed = timed(
            "tess_between",
            runs,
            lambda: geozones.find_conflicts({"t": farmland, "s": shifted}, within_layers=False),
        )
        for key, value in runs.items():
            figures[key] = min(figures.get(key, value), value)
    figures["tess_within_rows"] = len(found)
    figures["tess_within_phantoms"] = found.attrs["phantoms"]["count"]
    figures["tess_between_rows"] = len(crossed)
    return figures


def run_setting(
    size: str,
    crossing: float,
    tessellated: bool,
    *,
    skip_overlay: bool,
    memory: bool,
    overlapping: bool = False,
    repeat: int = 1,
) -> dict[str, Any]:
    """All the figures of one setting; `find_conflicts` timed `repeat` times (the median)."""
    paths = generate_hard.generate_hard(
        size, crossing=crossing, tessellated=tessellated, overlapping=overlapping
    )
    info = json.loads((paths["farmland"].parent / "hard.json").read_text())
    figures: dict[str, Any] = {
        "size": size,
        "crossing_target": crossing,
        "crossing_measured": info["crossing_measured"]["all"],
        "tessellated": tessellated,
        "features": info["features"],
        "vertices": info["vertices"],
        "redline_vertices_max": info["redline_vertices_max"],
        "layout": info["layout"],
        "pairs_within": info["pairs_within"],
    }
    # The first read in a process also loads pyarrow's readers (3.9 s against 1.2-1.6 s for
    # the next ones at medium): the best of three reads is the read time.
    reads = []
    for _ in range(3):
        layers = timed("read", figures, lambda: _read(paths))
        reads.append((figures["read_s"], figures["read_cpu_s"]))
    figures["read_s"], figures["read_cpu_s"] = min(reads)
    figures["layers_gib"] = bench_conflicts.layer_memory_gib(layers)
    if not skip_overlay:
        pieces, area = timed("overlay", figures, lambda: bench_conflicts.overlay_pairs(layers))
        figures["overlay_pieces"], figures["overlay_area_m2"] = pieces, area
    # Compiled kernels loaded before find_conflicts is timed (the first call in a process
    # loads them, about 0.5 s).
    geozones.find_conflicts({name: frame.iloc[:500] for name, frame in layers.items()})
    # On a machine whose speed moves, the two calls in turn, each run kept (`--repeat`).
    runs: dict[str, list[tuple[float, float]]] = {"between": [], "defaults": []}
    for _ in range(repeat):
        between = timed(
            "between", figures, lambda: geozones.find_conflicts(layers, within_layers=False)
        )
        runs["between"].append((figures["between_s"], figures["between_cpu_s"]))
        figures["between_pieces"] = len(between)
        figures["between_area_m2"] = float(between["area_m2"].sum())
        del between
        found = timed("defaults", figures, lambda: geozones.find_conflicts(layers))
        runs["defaults"].append((figures["defaults_s"], figures["defaults_cpu_s"]))
        figures["defaults_pieces"] = len(found)
        figures["defaults_phantoms"] = found.attrs["phantoms"]["count"]
        del found
    for name, taken in runs.items():
        figures[f"{name}_runs_s"] = [wall for wall, _ in taken]
        figures[f"{name}_s"] = float(np.median([wall for wall, _ in taken]))
        figures[f"{name}_cpu_s"] = float(np.median([cpu for _, cpu in taken]))
    if tessellated:
        figures.update(tessellation_check(layers["farmland"]))
    layers.clear()  # free them before the fresh process measures memory
    if memory:
        figures.update(conflicts_memory(paths))
    return figures


def print_setting(f: dict[str, Any]) -> None:
    kind = "tessellated farmland" if f["tessellated"] else "farmland of generate.py"
    print(
        f"## {f['size']}, crossing {f['crossing_target']:.0%} (measured "
        f"{f['crossing_measured']:.1%}), {kind}"
    )
    print()
    sizes = ", ".join(
        f"{name} {f['features'][name]:,} ({f['vertices'][name] / 1e6:.2f} M vertices)"
        for name in LAYERS
    )
    print(f"layers: {sizes}; largest red-line polygon {f['redline_vertices_max']:,} vertices")
    within = ", ".join(f"{name} {f['pairs_within'][name]:,}" for name in LAYERS)
    print(f"red-line and urban polygons {f['layout']}; overlapping pairs within layers: {within}")
    print()
    print(
        "| step | seconds (wall) | CPU s (all threads) | × read | × overlay | CPU × overlay "
        "| pieces | area (m², ellipsoidal) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    read, overlay = f["read_s"], f.get("overlay_s")
    overlay_cpu = f.get("overlay_cpu_s")

    def row(name: str, step: str, pieces: str = "", area: str = "") -> None:
        seconds, cpu = f[f"{step}_s"], f[f"{step}_cpu_s"]
        ratio = f"{seconds / overlay:.2f}" if overlay else ""
        cpu_ratio = f"{cpu / overlay_cpu:.2f}" if overlay_cpu else ""
        print(
            f"| {name} | {seconds:.2f} | {cpu:.2f} | {seconds / read:.2f} | {ratio} | "
            f"{cpu_ratio} | {pieces} | {area} |"
        )

    row("read: geopandas.read_parquet × 3", "read")
    if overlay:
        row(
            "geopandas.overlay × 3 + area",
            "overlay",
            f"{f['overlay_pieces']:,}",
            f"{f['overlay_area_m2']:,.3f}",
        )
    row(
        "find_conflicts, between layers",
        "between",
        f"{f['between_pieces']:,}",
        f"{f['between_area_m2']:,.3f}",
    )
    row(
        "find_conflicts, defaults (+ within layers)",
        "defaults",
        f"{f['defaults_pieces']:,} ({f['defaults_phantoms']:,} phantoms)",
    )
    print()
    if len(f["defaults_runs_s"]) > 1:
        print(
            "find_conflicts runs (the medians above), between layers "
            f"{', '.join(f'{run:.2f}' for run in f['between_runs_s'])} s; defaults "
            f"{', '.join(f'{run:.2f}' for run in f['defaults_runs_s'])} s"
        )
    if "tess_within_s" in f:
        print(
            f"tessellation: within the farmland {f['tess_within_s']:.2f} s "
            f"({f['tess_within_rows']:,} rows, {f['tess_within_phantoms']:,} phantoms); "
            f"between it and a copy shifted half a cell {f['tess_between_s']:.2f} s "
            f"({f['tess_between_rows']:,} pieces); within / between "
            f"**{f['tess_within_s'] / f['tess_between_s']:.2f}** (goal ≤ 0.5), CPU time "
            f"{f['tess_within_cpu_s'] / f['tess_between_cpu_s']:.2f}"
        )
    if overlay:
        print(
            f"defaults / overlay **{f['defaults_s'] / overlay:.2f}** (goal ≤ 0.4; CPU time "
            f"{f['defaults_cpu_s'] / f['overlay_cpu_s']:.2f}); "
            f"between / overlay {f['between_s'] / overlay:.2f}"
        )
    print(
        f"defaults / read **{f['defaults_s'] / read:.2f}** (goal ≤ 2; CPU time "
        f"{f['defaults_cpu_s'] / f['read_cpu_s']:.2f}); load average "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}"
    )
    if "rss_loaded_gib" in f:
        print(
            f"memory (fresh process): {f['rss_loaded_gib']:.2f} GiB RSS with the layers read "
            f"and the code loaded ({f['rss_loaded_cold_gib']:.2f} GiB before the code), "
            f"peak {f['peak_rss_conflicts_gib']:.2f} GiB during find_conflicts: "
            f"**{f['peak_rss_conflicts_gib'] / f['rss_loaded_gib']:.2f}×** (goal ≤ 1.5; "
            f"{f['peak_rss_conflicts_gib'] / f['rss_loaded_cold_gib']:.2f}× the layers alone)"
        )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", default="0.1,0.5,0.9", help="shares, comma-separated")
    parser.add_argument("--tessellated", default="no,yes", help="no, yes or no,yes")
    parser.add_argument("--skip-overlay", action="store_true", help="skip geopandas.overlay")
    parser.add_argument("--skip-memory", action="store_true", help="no fresh-process peak")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time find_conflicts this many times, the two calls in turn (the median is shown)",
    )
    parser.add_argument(
        "--overlapping",
        action="store_true",
        help="red-line and urban polygons overlapping others of their layer (generate_hard.py)",
    )
    parser.add_argument(
        "--tessellation-only",
        action="store_true",
        help="only the within-layer check of the tessellated farmland against a between check",
    )
    args = parser.parse_args()
    if args.tessellation_only:
        farmland = gpd.read_parquet(
            generate_hard.generate_hard(args.size, crossing=0.1, tessellated=True)["farmland"]
        )
        figures = tessellation_check(farmland)
        print(f"# bench_hard: {' '.join(sys.argv)}")
        print(json.dumps(figures, indent=2))
        print(
            f"within / between {figures['tess_within_s'] / figures['tess_between_s']:.2f} wall, "
            f"{figures['tess_within_cpu_s'] / figures['tess_between_cpu_s']:.2f} CPU time; load "
            f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}"
        )
        return 0
    warnings.simplefilter("ignore")
    print(f"# bench_hard: {' '.join(sys.argv)}")
    print(
        f"machine: {os.cpu_count()} CPUs, GEOZONES_THREADS="
        f"{os.environ.get('GEOZONES_THREADS', '(unset)')}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), geopandas {gpd.__version__}; load average "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}"
    )
    print()
    results = []
    for tessellated in (value == "yes" for value in args.tessellated.split(",")):
        for crossing in (float(value) for value in args.crossing.split(",")):
            figures = run_setting(
                args.size,
                crossing,
                tessellated,
                skip_overlay=args.skip_overlay,
                memory=not args.skip_memory,
                overlapping=args.overlapping,
                repeat=args.repeat,
            )
            print_setting(figures)
            sys.stdout.flush()
            results.append(figures)
    print(f"load average after: {', '.join(f'{load:.1f}' for load in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Conflict detection at province scale: geopandas.overlay against geozones.find_conflicts.

Runs in one process on the synthetic layers of ``generate.py`` (generated first if missing):

1. reading the three layers from GeoParquet, plainly (``geopandas.read_parquet``) and with
   ``geozones.read_layer`` (which also validates and repairs every geometry);
2. what an analyst writes today: ``geopandas.overlay(a, b, how="intersection")`` for the three
   layer pairs, plus the ellipsoidal area of the pieces;
3. ``geozones.find_conflicts`` on the three layers (between layers only, like the overlays,
   and again with overlaps inside each layer);
4. peak memory (RSS) of the process and the layers' own size in memory.

With ``--tessellation N`` it measures instead, on an N × N tessellation of 100 m cells whose
shared vertices were digitised separately (``generate.tessellation``, 0.3 mm jitter), the
within-layer check (its overlaps are all phantoms at the default 1 mm tolerance) against a
between-layer check of the same size (the tessellation against a second one, shifted by half
a cell, every cell crossing four others), and coverage with and without the tolerance.

Usage: python benchmarks/bench_conflicts.py [--size small|medium|large] [--skip-overlay]
       python benchmarks/bench_conflicts.py --tessellation 300 [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import geozones  # noqa: E402

LAYERS = ("farmland", "redline", "urban")


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _status_gib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def _memory_child(paths: dict[str, Path], queue: Any) -> None:
    warnings.simplefilter("ignore")
    layers = {n: geozones.read_layer(p) for n, p in paths.items()}
    loaded = _status_gib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    geozones.find_conflicts(layers, within_layers=False)
    queue.put({"rss_loaded_gib": loaded, "peak_rss_conflicts_gib": _status_gib("VmHWM")})


def conflicts_memory(paths: dict[str, Path]) -> dict[str, float]:
    """Peak RSS of find_conflicts alone, in a fresh (spawned) process: read, reset peak, run.

    Linux resets the process's peak RSS (VmHWM) when "5" is written to /proc/self/clear_refs.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_memory_child, args=(paths, queue))
    process.start()
    result: dict[str, float] = queue.get()
    process.join()
    return result


def layer_memory_gib(layers: dict[str, gpd.GeoDataFrame]) -> float:
    """Coordinates (16 bytes each) plus attribute memory: what the loaded layers hold."""
    total = 0
    for frame in layers.values():
        total += int(shapely.get_num_coordinates(frame.geometry.array).sum()) * 16
        total += int(frame.drop(columns=frame.geometry.name).memory_usage(deep=True).sum())
    return total / 2**30


def overlay_pairs(layers: dict[str, gpd.GeoDataFrame]) -> tuple[int, float]:
    pieces, area = 0, 0.0
    for i, first in enumerate(LAYERS):
        for second in LAYERS[i + 1 :]:
            result = gpd.overlay(
                layers[first], layers[second], how="intersection", keep_geom_type=True
            )
            pieces += len(result)
            area += float(geozones.area(result).sum()) if len(result) else 0.0
    return pieces, area


def best_of(repeat: int, function: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeat` runs (after one run to warm up), and its result."""
    function()
    runs = [timed(function) for _ in range(repeat)]
    return min(seconds for seconds, _ in runs), runs[0][1]


def tessellated(side: int, repeat: int) -> dict[str, Any]:
    """Within-layer check of a jittered tessellation against a between-layer check."""
    tessellation = gpd.GeoDataFrame(geometry=generate.tessellation(side, side), crs=4527)
    x0, y0, x1, y1 = tessellation.total_bounds
    shifted = gpd.GeoDataFrame(
        geometry=generate.tessellation(side, side, seed=1, origin=(x0 + 50.0, y0 + 50.0)),
        crs=4527,
    )
    middle = (x0 + x1) / 2
    zones = gpd.GeoDataFrame(
        {"XZQDM": ["990101", "990102"]},
        geometry=[
            shapely.box(x0 - 1, y0 - 1, middle, y1 + 1),
            shapely.box(middle, y0 - 1, x1 + 1, y1 + 1),
        ],
        crs=4527,
    )
    figures: dict[str, Any] = {"side": side, "features": len(tessellation)}
    within = {"t": tessellation}
    between = {"t": tessellation, "s": shifted}
    for key, function in (
        ("within", lambda: geozones.find_conflicts(within)),
        ("within_exact", lambda: geozones.find_conflicts(within, xy_tolerance=0)),
        ("between", lambda: geozones.find_conflicts(between, within_layers=False)),
        ("coverage", lambda: geozones.coverage(tessellation, zones, by="XZQDM")),
        (
            "coverage_exact",
            lambda: geozones.coverage(tessellation, zones, by="XZQDM", xy_tolerance=0),
        ),
    ):
        figures[f"{key}_s"], result = best_of(repeat, function)
        figures[f"{key}_rows"] = len(result)
        figures[f"{key}_phantoms"] = result.attrs["phantoms"]["count"]
    return figures


def print_tessellated(figures: dict[str, Any]) -> None:
    side = figures["side"]
    print(f"tessellation: {side} × {side} cells of 100 m ({figures['features']:,} features),")
    print("shared vertices jittered within 0.3 mm; best of the runs after one to warm up")
    print()
    print("| step | seconds | rows | phantoms |")
    print("|---|---:|---:|---:|")
    names = {
        "within": "find_conflicts, within the tessellation (tolerance 1 mm)",
        "within_exact": "find_conflicts, within the tessellation (xy_tolerance=0)",
        "between": "find_conflicts, tessellation against a shifted one (between layers)",
        "coverage": "coverage of the tessellation, 2 zones (tolerance 1 mm)",
        "coverage_exact": "coverage of the tessellation, 2 zones (xy_tolerance=0)",
    }
    for key, name in names.items():
        print(
            f"| {name} | {figures[key + '_s']:.2f} | {figures[key + '_rows']:,} | "
            f"{figures[key + '_phantoms']:,} |"
        )
    print()
    ratio = figures["within_s"] / figures["between_s"]
    print(f"within / between: {ratio:.2f} (goal ≤ 1)")
    coverage_ratio = figures["coverage_s"] / figures["coverage_exact_s"]
    print(f"coverage with / without the tolerance: {coverage_ratio:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--skip-overlay", action="store_true", help="skip geopandas.overlay")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--tessellation", type=int, metavar="N", help="measure an N × N jittered tessellation"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (tessellation)")
    args = parser.parse_args()
    if args.tessellation:
        warnings.simplefilter("ignore")
        figures = tessellated(args.tessellation, args.repeat)
        figures["command"] = " ".join(sys.argv)
        print(f"# bench_conflicts: {figures['command']}")
        print(
            f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, shapely "
            f"{shapely.__version__} (GEOS {shapely.geos_version_string})"
        )
        print_tessellated(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return 0

    folder, _ = generate.resolve(args.size)
    paths = {name: generate.DEFAULT_OUT / folder / f"{name}.parquet" for name in LAYERS}
    if not all(path.exists() for path in paths.values()):
        generate.main(["--size", args.size])

    warnings.simplefilter("ignore")
    figures: dict[str, Any] = {"size": args.size, "command": " ".join(sys.argv)}
    read_plain, plain = timed(lambda: {n: gpd.read_parquet(p) for n, p in paths.items()})
    figures["read_parquet_s"] = read_plain
    figures["features"] = {n: len(f) for n, f in plain.items()}
    figures["vertices"] = {
        n: int(shapely.get_num_coordinates(f.geometry.array).sum()) for n, f in plain.items()
    }
    figures["layers_gib"] = layer_memory_gib(plain)
    read_checked, layers = timed(lambda: {n: geozones.read_layer(p) for n, p in paths.items()})
    figures["read_layer_s"] = read_checked
    del plain

    if not args.skip_overlay:
        figures["overlay_s"], (pieces, area) = timed(lambda: overlay_pairs(layers))
        figures["overlay_pieces"], figures["overlay_area_m2"] = pieces, area
    rss_before = peak_rss_gib()
    figures["find_conflicts_s"], conflicts = timed(
        lambda: geozones.find_conflicts(layers, within_layers=False)
    )
    figures["find_conflicts_pieces"] = len(conflicts)
    figures["find_conflicts_area_m2"] = float(conflicts["area_m2"].sum())
    figures["find_conflicts_within_s"], within = timed(lambda: geozones.find_conflicts(layers))
    figures["find_conflicts_within_pieces"] = len(within)
    figures["peak_rss_gib"] = peak_rss_gib()
    figures["peak_rss_before_conflicts_gib"] = rss_before
    figures.update(conflicts_memory(paths))

    print(f"# bench_conflicts: {figures['command']}")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy "
        f"{np.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"geopandas {gpd.__version__}"
    )
    print()
    print("| layer | features | vertices |")
    print("|---|---:|---:|")
    for name in LAYERS:
        print(f"| {name} | {figures['features'][name]:,} | {figures['vertices'][name]:,} |")
    print()
    print("| step | seconds | pieces | area (m², ellipsoidal) |")
    print("|---|---:|---:|---:|")
    print(f"| read (geopandas.read_parquet) | {read_plain:.2f} | | |")
    print(f"| read (geozones.read_layer, validated) | {read_checked:.2f} | | |")
    if "overlay_s" in figures:
        print(
            f"| geopandas.overlay × 3 pairs + area | {figures['overlay_s']:.2f} | "
            f"{figures['overlay_pieces']:,} | {figures['overlay_area_m2']:,.1f} |"
        )
    print(
        f"| geozones.find_conflicts (between layers) | {figures['find_conflicts_s']:.2f} | "
        f"{figures['find_conflicts_pieces']:,} | {figures['find_conflicts_area_m2']:,.1f} |"
    )
    print(
        f"| geozones.find_conflicts (+ within layers) | {figures['find_conflicts_within_s']:.2f} "
        f"| {figures['find_conflicts_within_pieces']:,} | |"
    )
    print()
    if "overlay_s" in figures:
        ratio = figures["find_conflicts_s"] / figures["overlay_s"]
        print(f"find_conflicts / overlay: {ratio:.2f} (goal ≤ 0.4)")
    print(
        f"find_conflicts / read_parquet: {figures['find_conflicts_s'] / read_plain:.2f} (goal ≤ 2)"
    )
    print(
        f"memory, in a fresh process: {figures['rss_loaded_gib']:.2f} GiB RSS with the layers "
        f"read; peak {figures['peak_rss_conflicts_gib']:.2f} GiB during find_conflicts "
        f"(goal ≤ 1.5× the loaded layers); the coordinates and attributes alone are "
        f"{figures['layers_gib']:.2f} GiB"
    )
    print(f"peak RSS of this whole run (overlay included): {figures['peak_rss_gib']:.2f} GiB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

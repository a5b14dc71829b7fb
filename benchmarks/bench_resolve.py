"""``resolve_conflicts`` on the hard layers, against ``find_conflicts`` and geopandas' overlay.

On one setting of ``generate_hard.py``, in one process:

1. the read (``geopandas.read_parquet`` of the three layers, best of two);
2. ``geozones.find_conflicts`` with its defaults, the detection the resolution builds on;
3. ``geozones.resolve_conflicts`` in the order of ``--priority`` (by default the domain's:
   farmland > red line > urban), and how far, per feature, what it keeps plus the pieces
   taken misses its input area;
4. unless ``--skip-overlay``, the obvious way: ``geopandas.overlay(how="difference")`` of
   each layer but the first with the layers above it (one overlay with all of them), with
   the planar area each keeps against ``resolve_conflicts``'.

Usage::

    python benchmarks/bench_resolve.py --size medium --crossing 0.9 --tessellated no
    python benchmarks/bench_resolve.py --size medium --priority redline,farmland,urban
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from typing import Any

import generate_hard
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geozones


def timed(label: str, function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s", file=sys.stderr, flush=True)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", type=float, default=0.9)
    parser.add_argument("--tessellated", default="no", choices=["no", "yes"])
    parser.add_argument("--skip-overlay", action="store_true")
    parser.add_argument(
        "--priority",
        default="farmland,redline,urban",
        help="the three layers, highest first (default: %(default)s, the domain's order)",
    )
    args = parser.parse_args()
    priority = args.priority.split(",")
    if sorted(priority) != ["farmland", "redline", "urban"]:
        parser.error("--priority names farmland, redline and urban, each once")
    warnings.simplefilter("ignore")
    paths = generate_hard.generate_hard(
        args.size, crossing=args.crossing, tessellated=args.tessellated == "yes"
    )

    def read() -> dict[str, gpd.GeoDataFrame]:
        return {name: gpd.read_parquet(path) for name, path in paths.items()}

    print(f"# bench_resolve: {' '.join(sys.argv)}")
    print(
        f"{os.cpu_count()} CPUs, shapely {shapely.__version__} (GEOS "
        f"{shapely.geos_version_string}); load "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}\n"
    )
    read_s = min(timed("read", read)[0] for _ in range(2))
    layers = read()
    # Compiled kernels loaded before timing.
    small = {name: frame.iloc[:300] for name, frame in layers.items()}
    geozones.resolve_conflicts(small)
    find_s, found = timed("find_conflicts", lambda: geozones.find_conflicts(layers))
    resolve_s, (resolved, audit) = timed(
        "resolve_conflicts", lambda: geozones.resolve_conflicts(layers, priority)
    )
    print("| step | seconds | / read | result |")
    print("|---|---:|---:|---|")
    print(f"| read (three layers) | {read_s:.2f} | 1.00 | |")
    print(
        f"| find_conflicts (defaults) | {find_s:.2f} | {find_s / read_s:.2f} | "
        f"{len(found):,} rows |"
    )
    print(
        f"| resolve_conflicts ({' > '.join(priority)}) | {resolve_s:.2f} | "
        f"{resolve_s / read_s:.2f} | "
        f"{len(audit):,} pieces, {audit['area_m2'].sum():,.3f} m² |"
    )
    # Per feature: kept + taken against the input, ellipsoidal m².
    worst = 0.0
    for name, frame in resolved.items():
        before = geozones.area(layers[name]).to_numpy()
        after = geozones.area(frame).to_numpy() + frame["taken_m2"].to_numpy()
        worst = max(worst, float(np.max(np.abs(after - before) / before)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    # The crowded cuts run in processes forked from this one (where it may fork): the
    # largest of them, counting the pages it shares with this one.
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(
        f"\npeak memory of the process so far: {peak:.2f} GiB "
        f"(largest forked worker: {child:.2f} GiB)"
    )
    print(
        f"kept + taken against the input, per feature: at most {worst:.1e} relative (each "
        "cut vertex rounded to the coordinates' last place: docs/conventions.md)"
    )
    if args.skip_overlay:
        return 0

    def above(rank: int) -> gpd.GeoDataFrame:
        frames = [layers[name][["geometry"]] for name in priority[:rank]]
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=layers[priority[0]].crs)

    overlay_s, kept_by_overlay = timed(
        "overlays",
        lambda: [
            gpd.overlay(layers[name], above(rank), how="difference")
            for rank, name in enumerate(priority)
            if rank > 0
        ],
    )
    print(
        f"\ngeopandas.overlay(how='difference'), {' and '.join(priority[1:])}: "
        f"{overlay_s:.2f} s (resolve_conflicts {resolve_s / overlay_s:.2f}× that)\n"
    )
    print("| layer | kept, overlay (planar m²) | kept, resolve_conflicts | difference |")
    print("|---|---:|---:|---:|")
    for name, kept in zip(priority[1:], kept_by_overlay, strict=True):
        ours = float(resolved[name].area.sum())
        theirs = float(kept.area.sum())
        print(f"| {name} | {theirs:,.3f} | {ours:,.3f} | {ours - theirs:,.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

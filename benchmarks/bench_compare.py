"""Two versions of a province's farmland compared: geozones.compare_versions against overlays.

Runs in one process on the farmland of ``generate.py`` (generated first if missing):

1. reading the farmland from GeoParquet, plainly (``geopandas.read_parquet``) and with
   ``geozones.read_layer`` (which also validates and repairs every geometry);
2. a version after with 1 % of the parcels changed, in five equal parts: removed, shrunk to
   90 % about their centre, split in two (the right half a new parcel), an attribute changed,
   and new parcels added 500 km away;
3. ``geozones.compare_versions`` matched by id (``BSM``), by geometry (no id), and by id with
   the 100 counties of the generator as zones;
4. the obvious alternative on a part of the province (``--overlay-parcels``, the first parcels
   of the file and their versions after): ``geopandas.overlay(before, after,
   how="difference")`` both ways for the land out and in, with geozones on the same part.

The goal: the comparison by id, with zones, in at most 3× the read time. Each figure is the
best of ``--repeat`` runs.

Usage: python benchmarks/bench_compare.py [--size small|medium|large] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import geozones  # noqa: E402

CHANGED_SHARE = 0.01


def best(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The shortest wall time of `repeat` runs, and the result."""
    seconds, cpu, result = measured(function, repeat)
    del cpu
    return seconds, result


def measured(function: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """The shortest wall time and the shortest CPU time (all threads) of `repeat` runs.

    On a shared machine the wall time moves with the other jobs; the CPU time says how much
    work a step is, whatever else runs.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return min(walls), min(cpus), result


def version_after(before: gpd.GeoDataFrame, seed: int = 1) -> tuple[gpd.GeoDataFrame, dict]:
    """The farmland after: 1 % of the parcels edited, in five equal parts."""
    rng = np.random.default_rng(seed)
    n = len(before)
    picked = rng.choice(n, size=int(n * CHANGED_SHARE), replace=False)
    removed, shrunk, split, relabelled, copied = np.array_split(picked, 5)
    geoms = np.asarray(before.geometry.array, dtype=object).copy()
    geoms[shrunk] = np.array(
        [affinity.scale(g, 0.9, 0.9, origin="centroid") for g in geoms[shrunk]], dtype=object
    )
    bounds = shapely.bounds(geoms[split])
    middle = (bounds[:, 0] + bounds[:, 2]) / 2
    left = shapely.intersection(
        geoms[split], shapely.box(bounds[:, 0] - 1, bounds[:, 1] - 1, middle, bounds[:, 3] + 1)
    )
    right = shapely.intersection(
        geoms[split], shapely.box(middle, bounds[:, 1] - 1, bounds[:, 2] + 1, bounds[:, 3] + 1)
    )
    geoms[split] = left
    after = before.set_geometry(gpd.GeoSeries(geoms, index=before.index, crs=before.crs))
    after["TBMJ"] = after["TBMJ"].astype(float)
    after.loc[after.index[relabelled], "TBMJ"] = after["TBMJ"].to_numpy()[relabelled] + 1.0
    halves = before.iloc[split].set_geometry(
        gpd.GeoSeries(right, index=before.index[split], crs=before.crs)
    )
    halves["BSM"] = halves["BSM"] + 10**9
    new = before.iloc[copied].set_geometry(before.geometry.iloc[copied].translate(0, 500_000))
    new["BSM"] = new["BSM"] + 2 * 10**9
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    frame = pd.concat([after[keep], halves, new], ignore_index=True)
    counts = {
        "removed": len(removed),
        "changed_geometry": len(shrunk),
        "split": len(split),
        "changed_attributes": len(relabelled),
        "added": len(copied),
    }
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=before.crs), counts


def counties(crs: Any) -> gpd.GeoDataFrame:
    """The generator's 10 × 10 grid of counties (30 km × 40 km, codes 99xxyy)."""
    width = (generate.X_MAX - generate.X_MIN) / generate.COUNTY_COLS
    height = (generate.Y_MAX - generate.Y_MIN) / generate.COUNTY_ROWS
    cells = [
        (
            f"99{i + 1:02d}{j + 1:02d}",
            shapely.box(
                generate.X_MIN + width * i,
                generate.Y_MIN + height * j,
                generate.X_MIN + width * (i + 1),
                generate.Y_MIN + height * (j + 1),
            ),
        )
        for i in range(generate.COUNTY_COLS)
        for j in range(generate.COUNTY_ROWS)
    ]
    return gpd.GeoDataFrame(
        {"XZQDM": [c for c, _ in cells]}, geometry=[g for _, g in cells], crs=crs
    )


def overlay_out_in(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> tuple[float, float]:
    """The land out and in the way an analyst writes it today, ellipsoidal m²."""
    out = gpd.overlay(before, after, how="difference", keep_geom_type=True)
    put_in = gpd.overlay(after, before, how="difference", keep_geom_type=True)

    def measure(frame: gpd.GeoDataFrame) -> float:
        return float(geozones.area(frame).sum()) if len(frame) else 0.0

    return measure(out), measure(put_in)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best of)")
    parser.add_argument(
        "--overlay-parcels",
        type=int,
        default=20_000,
        help="parcels of the part the overlays run on (0: skip them)",
    )
    args = parser.parse_args()
    paths = generate.ensure_layers(args.size, layers=["farmland"])
    path = paths["farmland"]
    warnings.simplefilter("ignore")

    read_plain, cpu_plain, plain = measured(lambda: gpd.read_parquet(path), args.repeat)
    read_checked, cpu_checked, before = measured(lambda: geozones.read_layer(path), args.repeat)
    del plain
    after, edits = version_after(before)
    zones = counties(before.crs)
    print(f"farmland: {len(before):,} parcels before, {len(after):,} after; edits {edits}")
    print(
        f"python {sys.version.split()[0]}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), geopandas {gpd.__version__}"
    )
    print()
    print("| step | wall (s) | × read_layer | × read_parquet | CPU (s) | CPU × read_layer |")
    print("|---|---:|---:|---:|---:|---:|")

    def row(label: str, seconds: float, cpu: float) -> None:
        print(
            f"| {label} | {seconds:.2f} | {seconds / read_checked:.2f} | "
            f"{seconds / read_plain:.2f} | {cpu:.2f} | {cpu / cpu_checked:.2f} |"
        )

    row("read: `geopandas.read_parquet`", read_plain, cpu_plain)
    row("read: `geozones.read_layer`", read_checked, cpu_checked)
    runs = {
        "`compare_versions`, by id (`BSM`)": {"id_field": "BSM"},
        "`compare_versions`, by geometry (no id)": {},
        "`compare_versions`, by id, 100 counties": {
            "id_field": "BSM",
            "zones": zones,
            "zone_field": "XZQDM",
        },
    }
    results = {}
    for label, options in runs.items():
        seconds, cpu, diff = measured(
            lambda o=options: geozones.compare_versions(before, after, **o), args.repeat
        )
        results[label] = diff
        row(label, seconds, cpu)
    for label, diff in results.items():
        counts = diff.counts()
        found = {s: int(counts.loc[s, "before"]) for s in ("removed", "changed_attributes")}
        found["added"] = int(counts.loc["added", "after"])
        assert found["removed"] == edits["removed"], (label, found)
        assert found["changed_attributes"] == edits["changed_attributes"], (label, found)
        assert found["added"] == edits["added"], (label, found)
        assert int(counts.loc["split", "before"]) == edits["split"], label
        assert int(counts.loc["changed_geometry", "before"]) == edits["changed_geometry"], label
    balance = results["`compare_versions`, by id (`BSM`)"].balance.loc["total"]
    print()
    print(f"every edit found by each run; out {balance['out']:,.2f} 亩, in {balance['in']:,.2f} 亩")

    if args.overlay_parcels:
        part = before.iloc[: args.overlay_parcels]
        ids = set(part["BSM"])
        part_after = after[
            after["BSM"].isin(ids)
            | after["BSM"].isin({b + 10**9 for b in ids})
            | after["BSM"].isin({b + 2 * 10**9 for b in ids})
        ]
        seconds, (out, put_in) = best(lambda: overlay_out_in(part, part_after), 1)
        ours, diff = best(
            lambda: geozones.compare_versions(part, part_after, id_field="BSM", unit="m2"),
            args.repeat,
        )
        total = diff.balance.loc["total"]
        print()
        print(f"on the first {len(part):,} parcels ({len(part_after):,} after):")
        print("| method | time (s) | out (m²) | in (m²) |")
        print("|---|---:|---:|---:|")
        overlay_row = f"| `geopandas.overlay` difference, both ways | {seconds:.2f} |"
        print(f"{overlay_row} {out:,.2f} | {put_in:,.2f} |")
        ours_row = f"| `geozones.compare_versions` | {ours:.2f} |"
        print(f"{ours_row} {total['out']:,.2f} | {total['in']:,.2f} |")
        gap_out = abs(out - total["out"]) / max(out, 1.0)
        gap_in = abs(put_in - total["in"]) / max(put_in, 1.0)
        print(f"speed-up {seconds / ours:.0f}×; areas agree to {gap_out:.1e} and {gap_in:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Contiguous farmland blocks at province scale: geozones.farmland_blocks against a dissolve.

Runs in one process on the farmland layer of ``generate.py`` (generated first if missing):

1. reading the layer (``geopandas.read_parquet``, best of ``--repeat``);
2. ``geozones.analysis.blocks.farmland_blocks`` on every parcel: without outlines (the grouping, the
   ellipsoidal areas and the classes; best of ``--repeat``), then with outlines, then
   ``fragmentation`` by county, city and province on the benchmark's 10 x 10 county grid;
3. on the first ``--subset`` parcels (whole counties: the rows are sorted by county), the chain
   an analyst writes today, ``gdf.buffer(r).union_all()`` -> explode -> ``buffer(-r)`` -> assign
   the parcels with ``geopandas.sjoin``, and geozones on the same parcels. The chain is not run
   on the whole layer: one ``union_all`` of a million buffers takes too long to wait for, and
   its time grows faster than the parcel count, so the 1M figure printed for it is a linear
   extrapolation and a lower bound.

Usage: python benchmarks/bench_blocks.py [--size large] [--subset 50000] [--tolerance 10]
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
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import geozones  # noqa: E402
from geozones.analysis.blocks import farmland_blocks, fragmentation  # noqa: E402

CPU: dict[float, float] = {}  # wall time of a timed run -> CPU time of the process (all threads)


def timed(function: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of `repeat` runs, and the last result; CPU[wall] is that run's CPU time."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = function()
        wall = time.perf_counter() - start
        CPU[wall] = time.process_time() - cpu
        best = min(best, wall)
    return best, result


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def county_grid() -> gpd.GeoDataFrame:
    """The 10 x 10 counties ``99xxyy`` that generate.py assigns parcels to."""
    width = (generate.X_MAX - generate.X_MIN) / generate.COUNTY_COLS
    height = (generate.Y_MAX - generate.Y_MIN) / generate.COUNTY_ROWS
    col, row = np.meshgrid(np.arange(generate.COUNTY_COLS), np.arange(generate.COUNTY_ROWS))
    col, row = col.ravel(), row.ravel()
    x0, y0 = generate.X_MIN + col * width, generate.Y_MIN + row * height
    return gpd.GeoDataFrame(
        {"XZQDM": [f"{990000 + (c + 1) * 100 + r + 1}" for c, r in zip(col, row, strict=True)]},
        geometry=shapely.box(x0, y0, x0 + width, y0 + height),
        crs=generate.EPSG,
    )


def dissolve_chain(parcels: gpd.GeoDataFrame, radius: float) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Buffer, dissolve, explode, unbuffer, then give every parcel the block it intersects."""
    merged = parcels.buffer(radius).union_all()
    pieces = gpd.GeoDataFrame(geometry=[merged], crs=parcels.crs).explode(index_parts=False)
    pieces = pieces.set_geometry(pieces.buffer(-radius)).reset_index(drop=True)
    pieces = pieces[~pieces.is_empty]
    pieces["chain_block"] = np.arange(len(pieces))
    joined = gpd.sjoin(parcels[[parcels.geometry.name]], pieces, predicate="intersects")
    return pieces, joined["chain_block"]


def compare(chain_block: pd.Series, ours: pd.Series) -> dict[str, int]:
    """How the chain's grouping differs from geozones' on the same parcels."""
    per_parcel = chain_block.groupby(level=0).nunique()
    in_none = int(len(ours) - len(per_parcel))
    in_several = int((per_parcel > 1).sum())
    single = chain_block[~chain_block.index.duplicated(keep=False)]
    frame = pd.DataFrame({"chain": single, "ours": ours.reindex(single.index)})
    split = int((frame.groupby("ours")["chain"].nunique() > 1).sum())
    merged = int((frame.groupby("chain")["ours"].nunique() > 1).sum())
    return {
        "parcels_in_no_chain_block": in_none,
        "parcels_in_several_chain_blocks": in_several,
        "geozones_blocks_split_by_chain": split,
        "chain_blocks_merging_geozones_blocks": merged,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=list(generate.SIZES))
    parser.add_argument("--subset", type=int, default=50_000, help="parcels for the dissolve")
    parser.add_argument("--tolerance", type=float, default=10.0, help="gap tolerance, m")
    parser.add_argument("--repeat", type=int, default=2, help="best of N for read and blocks")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    paths = generate.ensure_layers(args.size, layers=["farmland"], log=lambda _: None)
    warnings.simplefilter("ignore")
    command = "python benchmarks/bench_blocks.py " + " ".join(sys.argv[1:])
    figures: dict[str, Any] = {"command": command.strip(), "size": args.size}

    figures["read_s"], farmland = timed(
        lambda: gpd.read_parquet(paths["farmland"]), repeat=args.repeat
    )
    n = len(farmland)
    figures["parcels"] = n
    figures["coordinates"] = int(shapely.get_num_coordinates(farmland.geometry.array).sum())

    figures["blocks_s"], plain = timed(
        lambda: farmland_blocks(farmland, tolerance_m=args.tolerance, outline=False),
        repeat=args.repeat,
    )
    figures["blocks_outline_s"], result = timed(
        lambda: farmland_blocks(farmland, tolerance_m=args.tolerance)
    )
    counties = county_grid()
    county_lines = counties.boundary
    figures["blocks_barriers_s"], barred = timed(
        lambda: farmland_blocks(
            farmland, tolerance_m=args.tolerance, barriers=county_lines, outline=False
        )
    )
    figures["blocks_with_barriers"] = len(barred.blocks)
    figures["fragmentation_s"], table = timed(
        lambda: fragmentation(
            result, counties, zone_field="XZQDM", levels=("county", "city", "province")
        )
    )
    blocks = result.blocks
    figures["blocks"] = len(blocks)
    figures["classes"] = {str(k): int(v) for k, v in blocks["class"].value_counts().items()}
    figures["largest_block_mu"] = float(blocks["area_mu"].max())
    figures["same_as_without_outline"] = bool(
        plain.parcel_block.equals(result.parcel_block)
        and np.array_equal(plain.blocks["area_m2"], blocks["area_m2"])
    )
    province = table.loc["990000"]
    figures["percent_100mu_plus"] = float(province["percent_100mu_plus"])

    # The dissolve chain and geozones on the same subset.
    subset = farmland.iloc[: args.subset]
    radius = args.tolerance / 2
    figures["subset"] = len(subset)
    figures["subset_counties"] = int(subset["XZQDM"].nunique())
    figures["chain_s"], (pieces, chain_block) = timed(lambda: dissolve_chain(subset, radius))
    figures["subset_blocks_s"], ours = timed(
        lambda: farmland_blocks(subset, tolerance_m=args.tolerance, outline=False)
    )
    figures["subset_blocks_outline_s"], ours_outlined = timed(
        lambda: farmland_blocks(subset, tolerance_m=args.tolerance)
    )
    figures["chain_blocks"] = len(pieces)
    figures["subset_geozones_blocks"] = len(ours.blocks)
    figures.update(compare(chain_block, ours.parcel_block.astype("int64")))
    parcels_m2 = float(ours.blocks["area_m2"].sum())
    figures["chain_outline_area_excess_pct"] = 100 * (
        float(geozones.area(pieces).sum()) / parcels_m2 - 1
    )
    figures["subset_outline_area_excess_pct"] = 100 * (
        float(geozones.area(ours_outlined.blocks).sum()) / parcels_m2 - 1
    )
    figures["chain_extrapolated_s"] = figures["chain_s"] * n / len(subset)
    figures["peak_rss_gib"] = peak_rss_gib()
    figures["cpu_s"] = {
        key: CPU[figures[key]]
        for key in (
            "read_s",
            "blocks_s",
            "blocks_outline_s",
            "blocks_barriers_s",
            "fragmentation_s",
            "chain_s",
        )
    }

    read = figures["read_s"]
    print(f"# bench_blocks: {figures['command']}")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy "
        f"{np.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"geopandas {gpd.__version__}; load average before the run "
        f"{load_before:.2f}, after {os.getloadavg()[0]:.2f} (other processes share the CPUs)"
    )
    print(
        f"layer: {n:,} parcels, {figures['coordinates']:,} coordinates; "
        f"tolerance {args.tolerance:g} m"
    )
    print()
    print("| step | parcels | seconds | × read | CPU s (both cores) |")
    print("|---|---:|---:|---:|---:|")
    rows = [
        ("read (`geopandas.read_parquet`)", n, read),
        ("`farmland_blocks(outline=False)`: grouping, areas, classes", n, figures["blocks_s"]),
        ("`farmland_blocks()` with outlines", n, figures["blocks_outline_s"]),
        (
            "`farmland_blocks(outline=False, barriers=county lines)`",
            n,
            figures["blocks_barriers_s"],
        ),
        ("`fragmentation` (county, city, province)", n, figures["fragmentation_s"]),
        ("buffer–dissolve–unbuffer + `sjoin`", len(subset), figures["chain_s"]),
        ("`farmland_blocks(outline=False)`", len(subset), figures["subset_blocks_s"]),
        ("`farmland_blocks()` with outlines", len(subset), figures["subset_blocks_outline_s"]),
        (
            "buffer–dissolve–unbuffer, linear extrapolation (a lower bound)",
            n,
            figures["chain_extrapolated_s"],
        ),
    ]
    for name, count, seconds in rows:
        cpu = f"{CPU[seconds]:.2f}" if seconds in CPU else ""
        print(f"| {name} | {count:,} | {seconds:.2f} | {seconds / read:.2f} | {cpu} |")
    print()
    ratio = figures["blocks_s"] / read
    print(
        f"blocks / read: {ratio:.2f} without outlines, "
        f"{figures['blocks_outline_s'] / read:.2f} with them (goal ≤ 2)"
    )
    print(
        f"blocks: {figures['blocks']:,}; classes {figures['classes']}; largest "
        f"{figures['largest_block_mu']:,.1f} 亩; {figures['percent_100mu_plus']:.2f} % of the "
        f"farmland in blocks ≥ 100 亩; outlines change no figure: "
        f"{figures['same_as_without_outline']}"
    )
    print(
        f"with the {len(county_lines)} county boundaries as barriers: "
        f"{figures['blocks_with_barriers']:,} blocks instead of {len(plain.blocks):,}"
    )
    print(
        f"subset ({figures['subset']:,} parcels, {figures['subset_counties']} counties): the "
        f"chain finds {figures['chain_blocks']:,} blocks, geozones "
        f"{figures['subset_geozones_blocks']:,}. The chain splits "
        f"{figures['geozones_blocks_split_by_chain']:,} geozones blocks and merges "
        f"{figures['chain_blocks_merging_geozones_blocks']:,}; it puts "
        f"{figures['parcels_in_several_chain_blocks']:,} parcels in several blocks and "
        f"{figures['parcels_in_no_chain_block']:,} in none. Its block polygons are "
        f"{figures['chain_outline_area_excess_pct']:.2f} % larger than the parcels (gaps "
        f"counted if measured); geozones' outlines {figures['subset_outline_area_excess_pct']:.2f}"
        " % (outlines only: its areas are the parcels')."
    )
    print(
        f"caveat: the chain was timed on {figures['subset']:,} parcels only; union_all grows "
        "faster than linearly, so its 1M figure is a lower bound, not a measurement."
    )
    print(f"peak RSS of the run: {figures['peak_rss_gib']:.2f} GiB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

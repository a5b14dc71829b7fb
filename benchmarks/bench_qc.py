"""质检 of a delivery database against ``geozones report`` on the same data.

Runs in one process on the layers of ``generate.py`` (generated first if missing):

1. a delivery GeoPackage is written from them: ``XZQ`` (the generator's 10 × 10 counties),
   ``YJJBNTBHTB`` (the farmland, with ``BSM`` as text, ``YJJBNTTBMJ`` the generator's declared
   area with its ~0.1 % deliberate errors, ``KCXS``, ``KCMJ``, ``YJJBNTMJ``, ``DLBM``),
   ``STBHHX`` and ``CZKFBJ`` (which overlap the farmland, as the generator makes them), and a
   check configuration naming the same layers;
2. ``geozones.inspect(delivery)`` with the default rule set (every rule family);
3. the obvious alternative an analyst runs on the same data today, the batch report:
   ``geozones.report.model.build_report(load_config(config))`` (coverage, conflicts,
   resolution, targets, data quality), without writing files, and ``geozones report`` end to
   end with its three files.

The goal: the inspection in under 2× the report's time. Each figure is the best of
``--repeat`` runs (wall time, and CPU time of the process, which says how much work a step is
whatever else runs on the machine).

Usage: python benchmarks/bench_qc.py [--size small|medium|large] [--parcels N] [--repeat 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyarrow.parquet
import pyogrio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from bench_compare import counties  # noqa: E402

import geozones  # noqa: E402
from geozones.report.model import build_report  # noqa: E402
from geozones.workflow.config import load_config  # noqa: E402


def measured(function: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """The shortest wall time and the shortest CPU time of `repeat` runs, and the result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return min(walls), min(cpus), result


def write_delivery(paths: dict[str, Path], folder: Path) -> tuple[Path, Path, int]:
    """The delivery GeoPackage and a check configuration naming its layers."""
    folder.mkdir(parents=True, exist_ok=True)
    delivery = folder / "delivery.gpkg"
    config = folder / "check.toml"
    count = pyarrow.parquet.ParquetFile(paths["farmland"]).metadata.num_rows
    if delivery.exists() and config.exists():
        return delivery, config, count
    farmland = gpd.read_parquet(paths["farmland"])
    gross = farmland["TBMJ"].round(2).to_numpy()
    coefficient = np.full(len(farmland), 0.05)
    deduction = np.round(gross * coefficient, 2)
    parcels = gpd.GeoDataFrame(
        {
            "BSM": farmland["BSM"].astype(str).to_numpy(),
            "XZQDM": farmland["XZQDM"].to_numpy(),
            "DLBM": "0101",
            "YJJBNTTBMJ": gross,
            "KCXS": coefficient,
            "KCMJ": deduction,
            "YJJBNTMJ": np.round(gross - deduction, 2),
        },
        geometry=farmland.geometry.to_numpy(),
        crs=farmland.crs,
    )
    zones = counties(farmland.crs)
    zones["XZQMC"] = [f"县{code}" for code in zones["XZQDM"]]
    layers = {
        "XZQ": zones,
        "YJJBNTBHTB": parcels,
        "STBHHX": gpd.read_parquet(paths["redline"]).astype({"BSM": str}),
        "CZKFBJ": gpd.read_parquet(paths["urban"]).astype({"BSM": str}),
    }
    scratch = delivery.with_suffix(".part.gpkg")
    scratch.unlink(missing_ok=True)
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, scratch, layer=name, driver="GPKG")
    scratch.rename(delivery)
    config.write_text(
        f'[zones]\npath = "{delivery.name}"\nlayer = "XZQ"\ncode_field = "XZQDM"\n'
        'name_field = "XZQMC"\n'
        f'[layers.farmland]\npath = "{delivery.name}"\nlayer = "YJJBNTBHTB"\nid_field = "BSM"\n'
        'declared_area_field = "YJJBNTTBMJ"\n'
        f'[layers.redline]\npath = "{delivery.name}"\nlayer = "STBHHX"\nid_field = "BSM"\n'
        f'[layers.urban]\npath = "{delivery.name}"\nlayer = "CZKFBJ"\nid_field = "BSM"\n',
        encoding="utf-8",
    )
    return delivery, config, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--parcels", type=int, help="custom number of farmland parcels")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    paths = generate.ensure_layers(
        size=None if args.parcels else args.size,
        parcels=args.parcels,
        layers=("farmland", "redline", "urban"),
    )
    folder = paths["farmland"].parent / "qc"
    delivery, config, count = write_delivery(paths, folder)
    print(f"delivery: {delivery} ({count:,} farmland parcels)")
    print(f"{'step':<58} {'wall s':>8} {'cpu s':>8}", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qc_wall, qc_cpu, findings = measured(lambda: geozones.inspect(delivery), args.repeat)
        print(f"{'geozones.inspect(delivery), default rules':<58} {qc_wall:>8.1f} {qc_cpu:>8.1f}")
        print(f"  findings: {len(findings):,} ({findings.count('error'):,} errors)", flush=True)
        report_wall, report_cpu, _ = measured(
            lambda: build_report(load_config(config)), args.repeat
        )
    print(f"{'build_report(load_config(config))':<58} {report_wall:>8.1f} {report_cpu:>8.1f}")
    print(
        f"ratio inspect / report: {qc_wall / report_wall:.2f} (wall), "
        f"{qc_cpu / report_cpu:.2f} (cpu); goal < 2",
        flush=True,
    )
    geozones_cli = str(Path(sys.executable).parent / "geozones")
    timings = {}
    for name, arguments, check in (
        ("qc", ["qc", str(delivery), "-o", str(folder / "qc-out")], False),
        ("report", ["report", str(config), "-o", str(folder / "report-out")], True),
    ):
        start = time.perf_counter()
        subprocess.run([geozones_cli, "-q", *arguments, "--overwrite"], check=check)
        timings[name] = time.perf_counter() - start
        print(f"{f'geozones {name} … -o DIR (CLI, files written)':<58} {timings[name]:>8.1f}")
    print(f"ratio on the command line: {timings['qc'] / timings['report']:.2f}; goal < 2")


if __name__ == "__main__":
    main()

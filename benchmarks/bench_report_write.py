"""Writing the sample report: the GeoPackage with and without SQLite's flush after each layer.

Builds the batch report of ``sample_data/geozones.toml`` once, then writes the province's and
every county's GeoPackage (as ``geozones report --by county`` does) twice in the same process,
each way ``--repeat`` times:

- ``one flush``: geozones as it is: SQLite does not ``fsync`` after each layer
  (``geozones.outputs.unsynchronised_sqlite``, inside every ``geozones.outputs.atomic_file``);
  the finished scratch file is flushed once, whole, before it takes its final name;
- ``flush per layer``: SQLite's default, an ``fsync`` at the end of each layer's transaction.

The timings depend on the disk: an ``fsync`` costs what the storage makes it cost.

Usage: python benchmarks/bench_report_write.py [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyogrio

import geozones
from geozones import outputs
from geozones.report import build_report
from geozones.report import geopackage as report_geopackage

CONFIG = Path(__file__).resolve().parent.parent / "sample_data" / "geozones.toml"


@contextlib.contextmanager
def flushed_per_layer() -> Iterator[None]:
    yield


def write_all(reports: list, folder: Path) -> tuple[float, int]:
    start = time.perf_counter()
    layers = 0
    for number, report in enumerate(reports):
        path = report_geopackage.write_geopackage(report, folder / f"{number}.gpkg")
        layers += len(pyogrio.list_layers(path))
    return time.perf_counter() - start, layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(geozones.load_config(CONFIG))
        reports = [report, *(report.for_zone(code) for code, _ in report.counties())]
    unsynchronised = outputs.unsynchronised_sqlite
    print(f"{len(reports)} GeoPackages (the province and each county) per run")
    print("| run | time (s) | layers | ms per layer |")
    print("|---|---:|---:|---:|")
    for _ in range(options.repeat):
        ways = (("one flush", unsynchronised), ("flush per layer", flushed_per_layer))
        for name, context in ways:
            outputs.unsynchronised_sqlite = context
            try:
                with tempfile.TemporaryDirectory() as folder:
                    seconds, layers = write_all(reports, Path(folder))
            finally:
                outputs.unsynchronised_sqlite = unsynchronised
            print(f"| {name} | {seconds:.2f} | {layers} | {1000 * seconds / layers:.0f} |")


if __name__ == "__main__":
    main()

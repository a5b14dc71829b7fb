"""Read the sample province, say what was found and repaired, write each line's coverage.

Usage: python examples/coverage_demo.py SAMPLE_DIR OUTPUT_DIR [--overwrite]

Writes OUTPUT_DIR/coverage.csv (one row per line and zone: county, city, province),
OUTPUT_DIR/data_quality.csv (every repaired or flagged feature and declared-area mismatch) and
OUTPUT_DIR/coverage.gpkg (counties with the coverage of each line as attributes).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

import geozones

LINES = {
    "redline": ("生态保护红线", "sanqusanxian.gpkg", "STBHHX"),
    "farmland": ("永久基本农田", "YJJBNT.shp", None),
    "urban": ("城镇开发边界", "sanqusanxian.gpkg", "CZKFBJ"),
}
LEVELS = ("county", "city", "province")


def read(path: Path, layer: str | None):
    """Read a layer, printing every warning read_layer gives as a line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", geozones.GeozonesWarning)
        frame = geozones.read_layer(path, layer)
    report = geozones.layer_report(frame)
    print(report.summary())
    for warning in caught:
        print(f"  warning: {warning.message}")
    return frame, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample_dir", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    args = parser.parse_args()

    outputs = [
        args.output_dir / name for name in ("coverage.csv", "data_quality.csv", "coverage.gpkg")
    ]
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not args.overwrite:
        print(
            f"error: {', '.join(existing)} exist; pass --overwrite to replace them", file=sys.stderr
        )
        return 2

    try:
        counties, _ = read(args.sample_dir / "sanqusanxian.gpkg", "XZQ")
        names = dict(zip(counties["XZQDM"], counties["XZQMC"], strict=True))
        rows, quality = [], []
        county_table = counties[["XZQDM", "XZQMC", counties.geometry.name]].set_index("XZQDM")
        for line, (title, file_name, layer_name) in LINES.items():
            print()
            frame, report = read(args.sample_dir / file_name, layer_name)
            issues = report.issues.assign(layer=report.source)
            quality.append(issues)
            if "TBMJ" in frame.columns:
                mismatched = geozones.check_declared_area(frame, "TBMJ", rel_tol=0.01)
                print(f"  declared area (TBMJ) off by more than 1 %: {len(mismatched)} parcel(s)")
                quality.append(
                    pd.DataFrame(
                        {
                            "layer": report.source,
                            "feature": mismatched.index,
                            "problem": [
                                f"declared area {d:.2f} m² vs computed {c:.2f} m²"
                                for d, c in zip(
                                    mismatched["declared"], mismatched["computed"], strict=True
                                )
                            ],
                            "action": "listed",
                        }
                    )
                )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                table = geozones.coverage(frame, counties, by="XZQDM", unit="km2", levels=LEVELS)
            for warning in caught:
                print(f"  warning: {warning.message}")
            table = table.reset_index()
            table.insert(0, "line", line)
            table.insert(1, "line_name", title)
            table.insert(4, "zone_name", table["zone"].map(names).fillna(""))
            rows.append(table)
            county_rows = table[table["level"] == "county"].set_index("zone")
            county_table[f"{line}_km2"] = county_rows["covered_area"]
            county_table[f"{line}_percent"] = county_rows["percent"]
    except geozones.GeozonesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    coverage = pd.concat(rows, ignore_index=True).rename(
        columns={"zone_area": "zone_area_km2", "covered_area": "covered_area_km2"}
    )
    print("\nCoverage (ellipsoidal area on CGCS2000, km²; lines dissolved, overlaps counted once):")
    with pd.option_context("display.width", 160, "display.max_rows", 100):
        print(
            coverage.round({"zone_area_km2": 3, "covered_area_km2": 3, "percent": 2}).to_string(
                index=False
            )
        )

    args.output_dir.mkdir(parents=True, exist_ok=True)
    coverage.to_csv(outputs[0], index=False, encoding="utf-8-sig")
    pd.concat(quality, ignore_index=True).to_csv(outputs[1], index=False, encoding="utf-8-sig")
    county_table.reset_index().to_file(outputs[2], layer="county_coverage", driver="GPKG")
    print(f"\nwrote {', '.join(map(str, outputs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

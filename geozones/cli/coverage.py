"""``geozones coverage PATH ZONES -o OUT.gpkg``: the share of each zone one layer covers."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click
import pandas as pd

from geozones.analysis.coverage import ADMINISTRATIVE_LEVELS, coverage
from geozones.cli.layerio import layer_options, output_option, write_layers
from geozones.cli.options import (
    check_densify,
    claim_output,
    densify_option,
    echo_json,
    frame_records,
    json_option,
    overwrite_option,
    reported_warnings,
    xy_tolerance_option,
)
from geozones.cli.progress import report_progress
from geozones.io import read_layer
from geozones.measure.area import METHODS, AreaMethod
from geozones.measure.tolerance import DEFAULT_XY_TOLERANCE
from geozones.units import AREA_UNITS, UNIT_LABELS


@click.command("coverage")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("zones", type=click.Path(path_type=Path))
@output_option(
    "GeoPackage to write: the table coverage (every zone and roll-up) and the layer zones "
    "(the zone polygons with their figures)."
)
@layer_options()
@layer_options("zones_", "ZONES")
@click.option("--by", required=True, help="Field of ZONES holding the zone code (XZQDM).")
@click.option("--name-field", help="Field of ZONES holding the zone name (XZQMC).")
@click.option(
    "--unit",
    type=click.Choice(list(AREA_UNITS)),
    default="km2",
    show_default=True,
    help="Area unit (mu is 亩).",
)
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="ellipsoidal",
    show_default=True,
    help="Area method (see geozones.area); survey is the 32号 formula of declared areas.",
)
@densify_option
@click.option(
    "--roll-up",
    is_flag=True,
    help="Also give the city and province rows; the codes must be 6-digit county codes.",
)
@xy_tolerance_option
@overwrite_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    path: Path,
    zones: Path,
    output: Path,
    layer: str | None,
    encoding: str | None,
    crs: str | None,
    zones_layer: str | None,
    zones_encoding: str | None,
    zones_crs: str | None,
    by: str,
    name_field: str | None,
    unit: str,
    method: str,
    densify_m: float | None,
    roll_up: bool,
    xy_tolerance: float | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Area of each zone of ZONES, area of PATH inside it (dissolved), and the percentage.

    Overlaps inside PATH count once; overlaps thinner than the coordinate tolerance (phantoms)
    are not dissolved, and their number and area are given.
    """
    check_densify(method, densify_m)
    tolerance = DEFAULT_XY_TOLERANCE if xy_tolerance is None else xy_tolerance
    claim_output(
        ctx, output, overwrite=overwrite, purpose=f"geozones coverage {path}", inputs=[path, zones]
    )
    levels = tuple(ADMINISTRATIVE_LEVELS) if roll_up else None
    report_progress(0.0, f"reading {path} and {zones}")
    with reported_warnings(ctx.obj["verbosity"]):
        frame = read_layer(path, layer, encoding=encoding, crs=crs)
        zone_frame = read_layer(zones, zones_layer, encoding=zones_encoding, crs=zones_crs)
        if name_field is not None and name_field not in zone_frame.columns:
            raise click.UsageError(f"--name-field {name_field!r} is not a field of {zones}")
        report_progress(0.3, f"measuring {len(frame)} features in {len(zone_frame)} zones")
        table = coverage(
            frame,
            zone_frame,
            by=by,
            unit=unit,
            method=cast(AreaMethod, method),
            levels=levels,
            xy_tolerance=tolerance,
            densify_m=densify_m,
        )
    zone_area, covered_area = f"zone_area_{unit}", f"covered_area_{unit}"
    figures = table.rename(columns={"zone_area": zone_area, "covered_area": covered_area})
    rows = figures.reset_index()
    if name_field is not None:
        names = dict(zip(zone_frame[by].astype(str), zone_frame[name_field], strict=False))
        rows.insert(2 if roll_up else 1, "name", rows["zone"].map(names))
    finest = figures[figures["level"] == "county"] if roll_up else figures
    finest = finest.drop(columns=["level"], errors="ignore")
    clash = [column for column in finest.columns if column in zone_frame.columns]
    if clash:
        raise click.UsageError(
            f"{zones} already has field(s) {', '.join(clash)}; rename them before measuring"
        )
    codes = zone_frame[by].astype(str)
    polygons = zone_frame.assign(
        **{column: codes.map(finest[column]).to_numpy() for column in finest.columns}
    )
    report_progress(0.9, f"writing {output}")
    label = UNIT_LABELS[unit]
    outside = float(table.attrs["outside_area"])
    described = f"{method} area in {label['en']} ({label['zh']}) of {path.name} per zone"
    write_layers(
        output,
        {"coverage": pd.DataFrame(rows), "zones": polygons},
        descriptions={
            "coverage": f"{described}; outside every zone: {outside:.6g} {label['en']}",
            "zones": described,
        },
    )
    report_progress(1.0, "done")
    if as_json:
        echo_json(
            {
                "output": str(output),
                "unit": unit,
                "method": method,
                "area_method": method,
                "densify_m": densify_m,
                "outside_area": outside,
                "xy_tolerance": tolerance,
                "phantoms": table.attrs["phantoms"],
                "rows": frame_records(rows),
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        with pd.option_context("display.width", 200, "display.max_rows", 10_000):
            click.echo(rows.round(4).to_string(index=False))
        click.echo(f"areas in {label['en']} ({method}); written to {output}")

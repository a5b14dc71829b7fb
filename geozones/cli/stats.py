"""``geozones stats CONFIG``: coverage of each line per county, city and province."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from geozones.cli.options import (
    config_argument,
    echo_json,
    frame_records,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.config import load_config
from geozones.report.model import coverage_by_line


def coverage_table(
    config_path: Path, verbosity: int, xy_tolerance: float | None = None
) -> tuple[pd.DataFrame, str]:
    """Coverage of every line of the configuration's priority, long form, and its unit."""
    config = with_xy_tolerance(load_config(config_path), xy_tolerance)
    with reported_warnings(verbosity):
        layers = config.read_layers()
        zones = config.read_zones()
        code_field, name_field = config.zones.code_field, config.zones.name_field
        names = (
            dict(zip(zones[code_field].astype(str), zones[name_field].astype(str), strict=False))
            if name_field
            else {}
        )
        lines = {key: layers[key] for key in config.priority}
        table = coverage_by_line(
            lines, zones, code_field, names, config.unit, xy_tolerance=config.xy_tolerance
        )
    table.attrs["xy_tolerance"] = config.xy_tolerance
    return table, config.unit


@click.command("stats")
@config_argument
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="How to print the table.",
)
@xy_tolerance_option
@click.pass_context
def command(
    ctx: click.Context, config: Path, output_format: str, xy_tolerance: float | None
) -> None:
    """Area of each line in each county, city and province, and its share (ellipsoidal).

    Overlaps inside a line count once; overlaps thinner than the coordinate tolerance
    (neighbours' shared boundaries digitised twice) are not overlaps.
    """
    table, unit = coverage_table(config, ctx.obj["verbosity"], xy_tolerance)
    table = table.rename(
        columns={"zone_area": f"zone_area_{unit}", "covered_area": f"covered_area_{unit}"}
    )
    if output_format == "json":
        tolerance = table.attrs.get("xy_tolerance")
        echo_json([{**row, "xy_tolerance": tolerance} for row in frame_records(table)])
    elif output_format == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        with pd.option_context("display.width", 200, "display.max_rows", 10_000):
            click.echo(table.round(4).to_string(index=False))

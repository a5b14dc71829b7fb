"""``geozones stats CONFIG``: coverage of each line per county, city and province."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click
import numpy as np
import pandas as pd

from geozones.cli.options import (
    check_densify,
    config_argument,
    densify_option,
    echo_json,
    frame_records,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.measure.area import AreaMethod
from geozones.workflow.check import coverage_by_line, with_outside_rows
from geozones.workflow.config import load_config


def coverage_table(
    config_path: Path,
    verbosity: int,
    xy_tolerance: float | None = None,
    *,
    method: AreaMethod = "ellipsoidal",
    densify_m: float | None = None,
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
            lines,
            zones,
            code_field,
            names,
            config.unit,
            xy_tolerance=config.xy_tolerance,
            method=method,
            densify_m=densify_m,
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
@click.option(
    "--method",
    type=click.Choice(["ellipsoidal", "survey"]),
    default="ellipsoidal",
    show_default=True,
    help="Area method: ellipsoidal (exact, straight edges on the ellipsoid) or survey (the "
    "32号 formula of declared areas).",
)
@densify_option
@xy_tolerance_option
@click.pass_context
def command(
    ctx: click.Context,
    config: Path,
    output_format: str,
    method: str,
    densify_m: float | None,
    xy_tolerance: float | None,
) -> None:
    """Area of each line in each county, city and province, and its share.

    Areas are ellipsoidal by default; ``--method survey`` gives the figures of the 32号 survey
    formula that declared areas follow (``--densify-m 70`` as tools that densify first).

    Overlaps inside a line count once; overlaps thinner than the coordinate tolerance
    (neighbours' shared boundaries digitised twice) are not overlaps. Each line's area outside
    every zone is a row of its own (level ``outside``), so that nothing is dropped.
    """
    check_densify(method, densify_m)
    table, unit = coverage_table(
        config,
        ctx.obj["verbosity"],
        xy_tolerance,
        method=cast(AreaMethod, method),
        densify_m=densify_m,
    )
    tolerance = table.attrs.get("xy_tolerance")
    outside: dict[str, float] = table.attrs.get("outside_area", {})
    # every line's area is in a row: the zones', or the row of its area outside every zone
    table = with_outside_rows(table, outside).rename(
        columns={"zone_area": f"zone_area_{unit}", "covered_area": f"covered_area_{unit}"}
    )
    if output_format == "json":
        echo_json(
            [
                {**row, "xy_tolerance": tolerance, "area_method": method, "densify_m": densify_m}
                for row in frame_records(table)
            ]
        )
    elif output_format == "csv":
        click.echo(table.to_csv(index=False, float_format=_positional), nl=False)
    else:
        with pd.option_context("display.width", 200, "display.max_rows", 10_000):
            # fixed-point, never 1.2e+05: areas of a province in m² have 11 digits
            click.echo(table.to_string(index=False, na_rep="", float_format=_fixed_point))
        densified = f", edges densified to {densify_m:g} m" if densify_m is not None else ""
        click.echo(f"areas: {method}{densified}; xy tolerance {tolerance:g} m")
        parts = ", ".join(
            f"{line} {round(area, 2) + 0.0:,.2f} {unit}" for line, area in outside.items()
        )
        click.echo(f"outside every zone (in no zone, city or province row): {parts}")


def _fixed_point(value: float) -> str:
    """`value` in fixed-point with four decimals: ``123456789.1235``, never ``1.2346e+08``."""
    return f"{value:.4f}"


def _positional(value: object) -> str:
    """`value` in fixed point with every digit it needs to read back the same float."""
    return np.format_float_positional(cast(float, value), trim="0")

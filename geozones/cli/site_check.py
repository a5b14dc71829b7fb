"""``geozones site-check FOOTPRINT CONFIG``: a proposed project checked against the lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from geozones.analysis.site import site_check
from geozones.cli.layerio import write_layers
from geozones.cli.options import (
    EXIT_CHECK_FAILED,
    claim_output,
    config_argument,
    echo_json,
    fail_option,
    frame_records,
    json_option,
    layers_by_id,
    overwrite_option,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.io import read_layer
from geozones.units import AREA_UNITS
from geozones.workflow.config import load_config


def checked_footprint(project: gpd.GeoDataFrame, result: pd.DataFrame) -> gpd.GeoDataFrame:
    """The project polygons with their figures; area columns named with their unit.

    ``area`` becomes ``area_<unit>`` and ``farmland_area`` ``farmland_area_<unit>`` (and so
    on); the ids of the features hit are comma-separated text. A figure whose name is already
    a field of the footprint is suffixed ``_check``.
    """
    unit = result.attrs["unit"]
    figures = result.rename(
        columns={c: f"{c}_{unit}" for c in result.columns if c == "area" or c.endswith("_area")}
    )
    for column in ("farmland_hit", "redline_hit"):
        figures[column] = [",".join(str(label) for label in hit) for hit in figures[column]]
    figures = figures.rename(
        columns={c: f"{c}_check" for c in figures.columns if c in project.columns}
    )
    return project.assign(**{str(c): figures[c] for c in figures.columns})


@click.command("site-check")
@click.argument("footprint", type=click.Path(path_type=Path))
@config_argument
@click.option("--layer", "-l", help="Layer of FOOTPRINT, for multi-layer files.")
@click.option("--crs", help='CRS of FOOTPRINT if it has none: "infer" or EPSG:….')
@click.option(
    "--unit",
    type=click.Choice(list(AREA_UNITS)),
    help="Area unit (default: the configuration's).",
)
@xy_tolerance_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a GeoPackage: layer site_check, each project polygon with its figures.",
)
@overwrite_option
@fail_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    footprint: Path,
    config: Path,
    layer: str | None,
    crs: str | None,
    unit: str | None,
    xy_tolerance: float | None,
    output: Path | None,
    overwrite: bool,
    fail_on_conflict: bool,
    as_json: bool,
) -> None:
    """Area each project polygon takes from farmland and the red line, and outside the boundary."""
    settings = with_xy_tolerance(load_config(config), xy_tolerance)
    if output is not None:
        claim_output(
            ctx,
            output,
            overwrite=overwrite,
            purpose=f"geozones site-check {footprint}",
            settings=settings,
            inputs=[footprint],
        )
    with reported_warnings(ctx.obj["verbosity"]):
        project = read_layer(footprint, layer, crs=crs)
        layers = layers_by_id(settings)
        result = site_check(
            project,
            layers,
            unit=unit or settings.unit,
            min_area_m2=settings.sliver_m2,
            xy_tolerance=settings.xy_tolerance,
        )
    failed = int((result["verdict"] == "fail").sum())
    if output is not None:
        write_layers(output, {"site_check": checked_footprint(project, result)})
    if as_json:
        records = frame_records(result.reset_index(names="feature"))
        echo_json(
            [
                {**record, "area_method": "ellipsoidal", "xy_tolerance": settings.xy_tolerance}
                for record in records
            ]
        )
    else:
        shown = result.drop(columns=["farmland_hit", "redline_hit"]).reset_index(names="feature")
        with pd.option_context(
            "display.width", 200, "display.max_rows", 10_000, "display.max_colwidth", 80
        ):
            click.echo(shown.round(2).to_string(index=False))
        click.echo(
            f"{len(result)} project polygon(s), {failed} fail(s) (areas in {result.attrs['unit']})"
        )
    if fail_on_conflict and failed:
        sys.exit(EXIT_CHECK_FAILED)

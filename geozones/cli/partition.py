"""``geozones partition CONFIG OUTPUT``: the configuration's layers as county partitions."""

from __future__ import annotations

from pathlib import Path

import click

from geozones.cli.options import (
    check_writable,
    config_argument,
    layers_by_id,
    overwrite_option,
    reported_warnings,
)
from geozones.config import load_config
from geozones.partitions import write_partitions


@click.command("partition")
@config_argument
@click.argument("output", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--row-group-size",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="Features per Parquet row group: the unit a county's read skips or reads.",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context, config: Path, output: Path, row_group_size: int, overwrite: bool
) -> None:
    """Write the layers of CONFIG to OUTPUT as GeoParquet partitioned by county.

    Each feature is stored once, with the county that holds a point on its surface; files are
    sorted along a Hilbert curve and carry bounding-box columns, so `geozones stream` reads a
    county's neighbourhood without reading the province.
    """
    check_writable([output], overwrite=overwrite)
    settings = load_config(config)
    with reported_warnings(ctx.obj["verbosity"]):
        layers = layers_by_id(settings)
        dataset = write_partitions(
            layers,
            settings.read_zones(),
            output,
            zone_field=settings.zones.code_field,
            overwrite=overwrite,
            row_group_size=row_group_size,
        )
    if ctx.obj["verbosity"] >= 0:
        for name in dataset.layers:
            counts = dataset.counts[name]
            click.echo(
                f"{name}: {sum(counts.values())} feature(s) in {len(counts)} county partition(s)"
            )
        click.echo(f"wrote {output}")

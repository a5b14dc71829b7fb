"""``geozones partition CONFIG OUTPUT``: the configuration's layers as county or tile partitions."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from geozones.cli.options import (
    config_argument,
    layers_by_id,
    overwrite_option,
    refuse_inputs,
    reported_warnings,
)
from geozones.outputs import check_output_path
from geozones.scale.partitions import TILE_FIELD, check_replaceable, tile_grid, write_partitions
from geozones.workflow.config import load_config


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
@click.option(
    "--tile-size",
    type=click.FloatRange(min=0, min_open=True),
    metavar="METRES",
    help="Partition by square tiles of this side (in the CRS's unit) instead of counties; "
    "conflict pieces are then kept whole across tile edges.",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    config: Path,
    output: Path,
    row_group_size: int,
    tile_size: float | None,
    overwrite: bool,
) -> None:
    """Write the layers of CONFIG to OUTPUT as GeoParquet partitioned by county.

    Each feature is stored once, with the county that holds a point on its surface; files are
    sorted along a Hilbert curve and carry bounding-box columns, so `geozones stream` reads a
    county's neighbourhood without reading the province. With --tile-size, the partitions are
    square tiles over the layers' extent instead.
    """
    check_output_path(output, folder=True)
    settings = load_config(config)
    refuse_inputs([output], settings)
    check_replaceable(output, overwrite=overwrite)
    with reported_warnings(ctx.obj["verbosity"]):
        layers = layers_by_id(settings)
        zones = settings.read_zones()
        if tile_size is not None:
            extent = pd.concat(
                [layer.to_crs(zones.crs).geometry for layer in layers.values() if len(layer)]
            )
            zones = tile_grid(gpd.GeoSeries(extent, crs=zones.crs), size=tile_size)
        dataset = write_partitions(
            layers,
            zones,
            output,
            zone_field=TILE_FIELD if tile_size is not None else settings.zones.code_field,
            overwrite=overwrite,
            row_group_size=row_group_size,
            tiled=tile_size is not None,
        )
    if ctx.obj["verbosity"] >= 0:
        kind = "tile" if dataset.tiled else "county"
        for name in dataset.layers:
            counts = dataset.counts[name]
            click.echo(
                f"{name}: {sum(counts.values())} feature(s) in {len(counts)} {kind} partition(s)"
            )
        click.echo(f"wrote {output}")

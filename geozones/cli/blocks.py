"""``geozones blocks FARMLAND -o OUT.gpkg``: contiguous farmland blocks (百亩方, 千亩方, 万亩方)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from geozones.analysis.blocks import farmland_blocks
from geozones.cli.layerio import layer_options, output_option, write_layers
from geozones.cli.options import (
    claim_output,
    echo_json,
    json_option,
    overwrite_option,
    reported_warnings,
)
from geozones.cli.progress import report_progress
from geozones.io import read_layer


@click.command("blocks")
@click.argument("farmland", type=click.Path(path_type=Path))
@output_option(
    "GeoPackage to write: blocks (one outline per block), parcels (every parcel with its "
    "block) and skipped (parcels in no block, and why)."
)
@layer_options(what="FARMLAND")
@click.option(
    "--gap-m",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Widest gap (m) between two parcels of one block: field roads and ditches.",
)
@click.option(
    "--barriers",
    type=click.Path(path_type=Path),
    help="Lines or polygons no block crosses (rivers, highways).",
)
@layer_options("barriers_", "--barriers")
@click.option("--zones", type=click.Path(path_type=Path), help="Zones (counties) of the blocks.")
@layer_options("zones_", "--zones")
@click.option("--by", help="Field of --zones holding the zone code (XZQDM).")
@click.option(
    "--outline/--no-outline",
    default=True,
    show_default=True,
    help="Draw an outline per block (most of the time on large layers).",
)
@overwrite_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    farmland: Path,
    output: Path,
    layer: str | None,
    encoding: str | None,
    crs: str | None,
    gap_m: float,
    barriers: Path | None,
    barriers_layer: str | None,
    barriers_encoding: str | None,
    barriers_crs: str | None,
    zones: Path | None,
    zones_layer: str | None,
    zones_encoding: str | None,
    zones_crs: str | None,
    by: str | None,
    outline: bool,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Group the parcels of FARMLAND into contiguous blocks and class them by area in 亩.

    Parcels at most --gap-m apart belong to one block, unless a barrier lies between them;
    a block's area is the sum of its parcels' ellipsoidal areas (gaps are never counted).
    """
    if by is not None and zones is None:
        raise click.UsageError("--by names a field of --zones; give --zones too")
    claim_output(
        ctx,
        output,
        overwrite=overwrite,
        purpose=f"geozones blocks {farmland}",
        inputs=[path for path in (farmland, barriers, zones) if path is not None],
    )
    report_progress(0.0, f"reading {farmland}")
    with reported_warnings(ctx.obj["verbosity"]):
        parcels = read_layer(farmland, layer, encoding=encoding, crs=crs)
        barrier_frame = (
            None
            if barriers is None
            else read_layer(barriers, barriers_layer, encoding=barriers_encoding, crs=barriers_crs)
        )
        zone_frame = (
            None
            if zones is None
            else read_layer(zones, zones_layer, encoding=zones_encoding, crs=zones_crs)
        )
        report_progress(0.3, f"grouping {len(parcels)} parcels (gap {gap_m:g} m)")
        found = farmland_blocks(
            parcels,
            tolerance_m=gap_m,
            barriers=barrier_frame,
            zones=zone_frame,
            zone_field=by,
            outline=outline,
        )
    blocks = found.blocks.assign(**{"class": found.blocks["class"].astype(str)})
    blocks.insert(0, "block", blocks.index.to_numpy())
    added = found.parcels.drop(columns=found.parcels.geometry.name)
    clash = [column for column in added.columns if column in parcels.columns]
    added = added.rename(columns={column: f"{column}_block" for column in clash})
    with_blocks = parcels.assign(**{str(c): added[c] for c in added.columns})
    with_blocks = with_blocks.set_geometry(found.parcels.geometry.array)
    report_progress(0.9, f"writing {output}")
    write_layers(
        output,
        {"blocks": blocks, "parcels": with_blocks, "skipped": pd.DataFrame(found.skipped)},
        descriptions={
            "blocks": f"contiguous farmland blocks, gap {gap_m:g} m; areas ellipsoidal",
            "parcels": "farmland parcels with their block (repaired geometry, area_m2 ellipsoidal)",
        },
    )
    report_progress(1.0, "done")
    classes = blocks["class"].value_counts()
    if as_json:
        echo_json(
            {
                "output": str(output),
                "gap_m": gap_m,
                "area_method": "ellipsoidal",
                "blocks": len(blocks),
                "parcels": int(found.parcel_block.notna().sum()),
                "skipped": len(found.skipped),
                "classes": {str(key): int(value) for key, value in classes.items()},
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        counted = ", ".join(f"{value} {key}" for key, value in classes.items())
        click.echo(
            f"{len(blocks)} blocks ({counted}) of {int(found.parcel_block.notna().sum())} "
            f"parcels, {len(found.skipped)} skipped; written to {output}"
        )

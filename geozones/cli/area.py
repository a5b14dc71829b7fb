"""``geozones area PATH -o OUT.gpkg``: the layer with the area of each feature as a new field."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from geozones.cli.layerio import layer_options, output_option, write_layers
from geozones.cli.options import (
    check_densify,
    claim_output,
    densify_option,
    echo_json,
    json_option,
    overwrite_option,
    reported_warnings,
)
from geozones.cli.progress import report_progress
from geozones.io import read_layer
from geozones.measure.area import METHODS, AreaMethod, area
from geozones.units import AREA_UNITS, UNIT_LABELS


@click.command("area")
@click.argument("path", type=click.Path(path_type=Path))
@output_option("GeoPackage to write: the layer, every feature and field, plus the area field.")
@layer_options()
@click.option(
    "--unit",
    type=click.Choice(list(AREA_UNITS)),
    default="m2",
    show_default=True,
    help="Area unit (mu is 亩).",
)
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="ellipsoidal",
    show_default=True,
    help="Area method (see geozones.area): ellipsoidal is what official statistics report; "
    "survey is the 32号 formula of declared areas (TBMJ).",
)
@densify_option
@click.option("--field", help="Name of the new field (default: area_<unit>).")
@click.option("--output-layer", help="Layer name in OUTPUT (default: the input layer's name).")
@overwrite_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    path: Path,
    output: Path,
    layer: str | None,
    encoding: str | None,
    crs: str | None,
    unit: str,
    method: str,
    densify_m: float | None,
    field: str | None,
    output_layer: str | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Measure each feature of PATH and write the layer with its area to OUTPUT.

    Every feature is written, with all its fields; invalid polygons are repaired first (a
    warning counts them), null geometries get no area.
    """
    check_densify(method, densify_m)
    claim_output(ctx, output, overwrite=overwrite, purpose=f"geozones area {path}", inputs=[path])
    report_progress(0.0, f"reading {path}")
    with reported_warnings(ctx.obj["verbosity"]):
        frame = read_layer(path, layer, encoding=encoding, crs=crs)
        report_progress(0.4, f"measuring {len(frame)} features ({method}, {unit})")
        measured = area(frame, unit=unit, method=cast(AreaMethod, method), densify_m=densify_m)
    name = field or str(measured.name)
    if name in frame.columns:
        raise click.UsageError(
            f"{path} already has a field {name!r}; choose another name with --field"
        )
    result = frame.assign(**{name: measured})
    layer_name = output_layer or layer or path.stem
    report_progress(0.8, f"writing {output}")
    label = UNIT_LABELS[unit]
    write_layers(
        output,
        {layer_name: result},
        descriptions={layer_name: f"{name}: {method} area in {label['en']} ({label['zh']})"},
    )
    report_progress(1.0, "done")
    total = float(measured.sum())
    if as_json:
        echo_json(
            {
                "output": str(output),
                "layer": layer_name,
                "field": name,
                "unit": unit,
                "method": method,
                "area_method": method,
                "densify_m": densify_m,
                "features": len(frame),
                "measured": int(measured.notna().sum()),
                "total": total,
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        click.echo(
            f"{len(frame)} features, {total:,.2f} {label['en']} in all ({method}); "
            f"field {name} written to {output} (layer {layer_name})"
        )

"""``geozones conflicts CONFIG -o OUT.gpkg``: conflict pieces and their summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd
import pyogrio
import pyogrio.errors

from geozones.analysis.conflicts import conflict_summary, find_conflicts, overlap_count
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
    progress_option,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.cli.progress import report_progress
from geozones.outputs import (
    atomic_file,
    record_written,
    write_failed,
)
from geozones.workflow.config import load_config


@click.command("conflicts")
@config_argument
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="GeoPackage to write: layers conflicts and overlap_count.",
)
@xy_tolerance_option
@overwrite_option
@fail_option
@progress_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    config: Path,
    output: Path,
    xy_tolerance: float | None,
    overwrite: bool,
    fail_on_conflict: bool,
    progress: bool,
    as_json: bool,
) -> None:
    """Find every overlap among the lines and inside each line; write the pieces to OUTPUT.

    Overlaps thinner than the coordinate tolerance everywhere (phantoms, where neighbours'
    shared boundaries were digitised twice) are counted, not listed.
    """
    settings = with_xy_tolerance(load_config(config), xy_tolerance)
    claim_output(
        ctx, output, overwrite=overwrite, purpose=f"geozones conflicts {config}", settings=settings
    )
    report_progress(0.0, "reading layers")
    with reported_warnings(ctx.obj["verbosity"]):
        layers = layers_by_id(settings)
        zones = settings.read_zones()
        lines = {key: layers[key] for key in settings.priority}
        report_progress(0.3, "finding conflicts")
        pieces = find_conflicts(
            lines,
            min_area_m2=settings.sliver_m2,
            zones=zones,
            zone_field=settings.zones.code_field,
            xy_tolerance=settings.xy_tolerance,
            progress=progress,
        )
        report_progress(0.7, "counting overlaps")
        faces = overlap_count(
            lines,
            zones=zones,
            zone_field=settings.zones.code_field,
            xy_tolerance=settings.xy_tolerance,
        )
    summary = conflict_summary(pieces)
    report_progress(0.9, f"writing {output}")
    with atomic_file(output) as scratch:  # the GeoPackage appears whole, with every layer
        try:
            for name, frame in (("conflicts", pieces), ("overlap_count", faces)):
                frame = frame.assign(
                    **{c: frame[c].astype(str) for c in ("id_a", "id_b") if c in frame}
                )
                pyogrio.write_dataframe(
                    frame, scratch, layer=name, promote_to_multi=True, geometry_type="MultiPolygon"
                )
            pyogrio.write_dataframe(pd.DataFrame(summary), scratch, layer="summary")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
            raise write_failed(output, error) from error
    record_written(output.parent, [output.name], command="conflicts")
    report_progress(1.0, "done")
    found = int((~pieces["sliver"]).sum()) if len(pieces) else 0
    phantoms = pieces.attrs["phantoms"]
    if as_json:
        echo_json(
            {
                "output": str(output),
                "pieces": len(pieces),
                "conflicts": found,
                "area_method": "ellipsoidal",
                "xy_tolerance": settings.xy_tolerance,
                "phantoms": {key: phantoms[key] for key in ("count", "area_m2", "by_layers")},
                "summary": frame_records(summary),
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        click.echo(
            f"{len(pieces)} overlapping pieces ({found} above {settings.sliver_m2:g} m², "
            f"{len(pieces) - found} slivers); written to {output}"
        )
        if phantoms["count"]:
            click.echo(
                f"{phantoms['count']} phantom overlap(s) thinner than "
                f"{settings.xy_tolerance:g} m dismissed ({phantoms['area_m2']:.4g} m² in all)"
            )
        with pd.option_context("display.width", 200, "display.max_rows", 10_000):
            click.echo(summary.round(2).to_string(index=False))
    if fail_on_conflict and found:
        sys.exit(EXIT_CHECK_FAILED)

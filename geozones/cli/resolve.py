"""``geozones resolve CONFIG -o OUT.gpkg``: the lines after the priority order, and the audit."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from geozones.analysis.conflicts import resolve_conflicts
from geozones.cli.layerio import ids_as_text, output_option, write_layers
from geozones.cli.options import (
    claim_output,
    config_argument,
    echo_json,
    json_option,
    layers_by_id,
    overwrite_option,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.cli.progress import report_progress
from geozones.units import square_metres_per
from geozones.workflow.config import load_config

#: Columns of the audit holding feature ids, written as text so that they join.
_AUDIT_IDS = ("feature", "because_feature")


def with_feature_column(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with its index (the feature ids the audit names) as a first text column."""
    name = "feature" if "feature" not in frame.columns else "feature_id"
    result = frame.copy()
    result.insert(0, name, ids_as_text(frame.index))
    return result


@click.command("resolve")
@config_argument
@output_option(
    "GeoPackage to write: resolved_<layer> for each layer of the priority, and audit (every "
    "piece taken out, or left as a sliver)."
)
@xy_tolerance_option
@overwrite_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    config: Path,
    output: Path,
    xy_tolerance: float | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Apply the priority order of CONFIG: take each overlap out of the lower-priority line.

    Every feature is written, with its fields, ``resolution`` (unchanged, trimmed or removed)
    and ``taken_m2``; the audit lists every piece taken, the feature that outranks it there,
    the rule and the county. Overlaps thinner than the coordinate tolerance (phantoms) are not
    taken, and no part thinner than it is left.
    """
    settings = with_xy_tolerance(load_config(config), xy_tolerance)
    claim_output(
        ctx, output, overwrite=overwrite, purpose=f"geozones resolve {config}", settings=settings
    )
    report_progress(0.0, "reading layers")
    with reported_warnings(ctx.obj["verbosity"]):
        layers = layers_by_id(settings)
        zones = settings.read_zones()
        report_progress(0.3, f"resolving by the priority {' > '.join(settings.priority)}")
        resolved, audit = resolve_conflicts(
            layers,
            settings.priority,
            overrides=settings.overrides_for_resolve(layers),
            min_area_m2=settings.sliver_m2,
            zones=zones,
            zone_field=settings.zones.code_field,
            xy_tolerance=settings.xy_tolerance,
        )
    report_progress(0.9, f"writing {output}")
    unit = settings.unit
    audit_out = audit.assign(**{column: ids_as_text(audit[column]) for column in _AUDIT_IDS})
    if unit != "m2":
        position = list(audit_out.columns).index("area_m2") + 1
        audit_out.insert(position, f"area_{unit}", audit["area_m2"] / square_metres_per(unit))
    frames: dict[str, pd.DataFrame] = {
        f"resolved_{key}": with_feature_column(frame) for key, frame in resolved.items()
    }
    frames["audit"] = audit_out
    write_layers(output, frames)
    report_progress(1.0, "done")
    taken = audit[audit["taken"].astype(bool)]
    per_layer = taken.groupby("layer")["area_m2"].sum()
    counts = {
        key: frame["resolution"].value_counts().reindex(["trimmed", "removed"], fill_value=0)
        for key, frame in resolved.items()
    }
    if as_json:
        echo_json(
            {
                "output": str(output),
                "priority": list(settings.priority),
                "pieces": len(audit),
                "taken": len(taken),
                "area_method": "ellipsoidal",
                "taken_m2": {key: float(per_layer.get(key, 0.0)) for key in resolved},
                "trimmed": {key: int(count["trimmed"]) for key, count in counts.items()},
                "removed": {key: int(count["removed"]) for key, count in counts.items()},
                "xy_tolerance": settings.xy_tolerance,
                "phantoms": audit.attrs["phantoms"],
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        per_unit = square_metres_per(unit)
        for key in resolved:
            click.echo(
                f"{key}: {counts[key]['trimmed']} trimmed, {counts[key]['removed']} removed, "
                f"{per_layer.get(key, 0.0) / per_unit:,.2f} {unit} taken out"
            )
        click.echo(f"{len(taken)} of {len(audit)} pieces taken; written to {output}")

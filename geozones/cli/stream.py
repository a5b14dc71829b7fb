"""``geozones stream CONFIG DATASET OUTPUT``: coverage, conflicts and resolution per county."""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geozones.cli.options import (
    config_argument,
    progress_option,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.config import load_config
from geozones.errors import GeozonesError
from geozones.partitions import open_partitions
from geozones.report.model import LEVELS
from geozones.streaming import stream_conflicts, stream_coverage, stream_resolution

#: Written last: its presence means the output folder holds a finished run.
DONE = "done.json"


@click.command("stream")
@config_argument
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("output", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Address of a dask.distributed scheduler (tcp://host:8786); processes on this "
    "machine when omitted.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes on this machine, this one included (default: GEOZONES_THREADS or the "
    "CPU count).",
)
@xy_tolerance_option
@click.option("--overwrite", is_flag=True, help="Replace a finished run in OUTPUT.")
@progress_option
@click.pass_context
def command(
    ctx: click.Context,
    config: Path,
    dataset: Path,
    output: Path,
    scheduler: str | None,
    workers: int | None,
    xy_tolerance: float | None,
    overwrite: bool,
    progress: bool,
) -> None:
    """Coverage, conflicts and resolution of DATASET (from `geozones partition`), per county.

    On a dataset partitioned by tiles (--tile-size), coverage is per tile and conflict pieces
    are whole, as `geozones conflicts` gives them without zones.

    CONFIG gives the priority, the overrides, the sliver threshold and the unit. OUTPUT gets
    coverage.csv, conflicts.parquet, audit.parquet and resolved_<layer>.parquet (GeoParquet).
    Each finished county is kept under OUTPUT/work at once: after a failure, the same command
    again does only the counties that are missing.
    """
    settings = with_xy_tolerance(load_config(config), xy_tolerance)
    parts = open_partitions(dataset)
    if (output / DONE).exists():
        if not overwrite:
            raise click.UsageError(
                f"{output} holds a finished run; pass --overwrite to replace it, or choose "
                "another output"
            )
        shutil.rmtree(output)
    missing = [
        name
        for name in (*settings.priority, *(override.mask for override in settings.overrides))
        if name not in parts.layers
    ]
    if missing:
        raise GeozonesError(
            f"{dataset}: layer(s) {', '.join(missing)} of {config} are not in the partitioned "
            f"dataset (it has {', '.join(parts.layers)}); run `geozones partition` again"
        )
    output.mkdir(parents=True, exist_ok=True)
    work = output / "work"
    run: dict[str, Any] = {
        "workers": workers,
        "progress": progress,
        "xy_tolerance": settings.xy_tolerance,
    }
    with ExitStack() as stack, reported_warnings(ctx.obj["verbosity"]):
        if scheduler:
            from distributed import Client

            run["client"] = stack.enter_context(Client(scheduler))
        coverage = []
        for line in settings.priority:
            table = stream_coverage(
                parts,
                line,
                unit=settings.unit,
                levels=None if parts.tiled else LEVELS,
                work_dir=work / f"coverage_{line}",
                **run,
            ).reset_index()
            table.insert(0, "line", line)
            coverage.append(table)
        pieces = stream_conflicts(
            parts,
            settings.priority,
            min_area_m2=settings.sliver_m2,
            work_dir=work / "conflicts",
            **run,
        )
        resolved, audit = stream_resolution(
            parts,
            settings.priority,
            overrides=settings.override_masks(),
            min_area_m2=settings.sliver_m2,
            work_dir=work / "resolution",
            **run,
        )
    unit = settings.unit
    table = pd.concat(coverage, ignore_index=True).rename(
        columns={"zone_area": f"zone_area_{unit}", "covered_area": f"covered_area_{unit}"}
    )
    table.to_csv(output / "coverage.csv", index=False, encoding="utf-8-sig")
    _write_geo(pieces, output / "conflicts.parquet")
    _write_geo(audit, output / "audit.parquet")
    for name, frame in resolved.items():
        _write_geo(frame, output / f"resolved_{name}.parquet")
    kind = "tiles" if parts.tiled else "counties"
    summary = {
        kind: len(parts.zones),
        "conflict_pieces": len(pieces),
        "audit_pieces": len(audit),
        "unit": unit,
        "xy_tolerance": settings.xy_tolerance,
        "phantoms": pieces.attrs["phantoms"],
    }
    (output / DONE).write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    if ctx.obj["verbosity"] >= 0:
        click.echo(
            f"{len(parts.zones)} {kind}: {len(pieces)} conflict piece(s), {len(audit)} piece(s) "
            f"taken out; wrote {output}"
        )


def _write_geo(frame: Any, path: Path) -> None:
    frame = frame.copy()
    frame.attrs = {}
    for column in ("id_a", "id_b", "feature", "because_feature"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    frame.to_parquet(path, write_covering_bbox=True)

"""``geozones stream CONFIG DATASET OUTPUT``: coverage, conflicts and resolution per county."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geozones.cli.options import (
    config_argument,
    progress_option,
    refuse_inputs,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.errors import (
    GeozonesError,
    LayerNotFoundError,
    OutputError,
    OutputExistsError,
    SchedulerError,
)
from geozones.outputs import (
    MARKER,
    atomic_file,
    check_output_path,
    forget_written,
    output_lock,
    record_written,
    replace_into,
    temporary_name,
    written_by_geozones,
)
from geozones.scale.partitions import open_partitions
from geozones.scale.streaming import stream_conflicts, stream_coverage, stream_resolution
from geozones.workflow.check import LEVELS, with_outside_rows
from geozones.workflow.config import load_config

#: Written last: its presence means the output folder holds a finished run.
DONE = "done.json"
#: The folder of finished zones, kept so that a rerun resumes.
WORK = "work"


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
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a finished run in OUTPUT (only the files geozones wrote there).",
)
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
    again does only the counties that are missing (all of them if DATASET, CONFIG or geozones
    changed since; with --overwrite too, counties computed from the same input are reused).
    The results replace the earlier ones only when the run is complete.
    """
    settings = with_xy_tolerance(load_config(config), xy_tolerance)
    check_output_path(output, folder=True)
    refuse_inputs([output], settings)
    source, target = dataset.resolve(), output.resolve()
    if target == source or source in target.parents or target in source.parents:
        raise OutputError(
            f"{output}: the output must neither lie in the partitioned dataset {dataset} nor "
            "hold it; choose another output folder"
        )
    parts = open_partitions(dataset)
    missing = [
        name
        for name in (*settings.priority, *(override.mask for override in settings.overrides))
        if name not in parts.layers
    ]
    if missing:
        raise LayerNotFoundError(
            f"{dataset}: layer(s) {', '.join(missing)} of {config} are not in the partitioned "
            f"dataset (it has {', '.join(parts.layers)}); run `geozones partition` again"
        )
    names = [
        "coverage.csv",
        "conflicts.parquet",
        "audit.parquet",
        *(f"resolved_{name}.parquet" for name in settings.priority),
    ]
    _check_output(output, [*names, DONE, WORK], overwrite=overwrite)
    run: dict[str, Any] = {
        "workers": workers,
        "progress": progress,
        "xy_tolerance": settings.xy_tolerance,
    }
    with ExitStack() as stack:
        if scheduler:
            run["client"] = stack.enter_context(_client(scheduler))
        stack.enter_context(output_lock(output, inside=True, purpose=f"geozones stream {config}"))
        _check_output(output, [*names, DONE, WORK], overwrite=overwrite)
        record_written(output, [WORK], command="stream")
        work = output / WORK
        with reported_warnings(ctx.obj["verbosity"]):
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
        outside = {
            line: float(frame.attrs.get("outside_area", 0.0))
            for line, frame in zip(settings.priority, coverage, strict=True)
        }
        table = pd.concat(coverage, ignore_index=True)
        if not parts.tiled:  # tiles cover the layers' extent: nothing is outside them
            table = with_outside_rows(table, outside)
        table = table.rename(
            columns={"zone_area": f"zone_area_{unit}", "covered_area": f"covered_area_{unit}"}
        )
        # every result is written in a scratch folder first; the earlier results are replaced
        # only once all of them are written
        staging = temporary_name(output)
        staging.mkdir()
        stack.callback(_remove_tree, staging)
        table.to_csv(staging / "coverage.csv", index=False, encoding="utf-8-sig")
        _write_geo(pieces, staging / "conflicts.parquet")
        _write_geo(audit, staging / "audit.parquet")
        for name, frame in resolved.items():
            _write_geo(frame, staging / f"resolved_{name}.parquet")
        kind = "tiles" if parts.tiled else "counties"
        summary = {
            kind: len(parts.zones),
            "conflict_pieces": len(pieces),
            "audit_pieces": len(audit),
            "unit": unit,
            "xy_tolerance": settings.xy_tolerance,
            "phantoms": pieces.attrs["phantoms"],
            "outside_area": outside,
        }
        (output / DONE).unlink(missing_ok=True)  # unfinished from here until the end
        replace_into(output, names, staging)
        record_written(output, names, command="stream")
        stale = [
            name
            for name in _ours(output)
            if name.startswith("resolved_") and name.endswith(".parquet") and name not in names
        ]
        for name in stale:  # a layer of an earlier run's configuration
            (output / name).unlink(missing_ok=True)
        forget_written(output, stale)
        with atomic_file(output / DONE) as scratch:
            scratch.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
        record_written(output, [DONE], command="stream")
    if ctx.obj["verbosity"] >= 0:
        click.echo(
            f"{len(parts.zones)} {kind}: {len(pieces)} conflict piece(s), {len(audit)} piece(s) "
            f"taken out; wrote {output}"
        )
        shown = ", ".join(
            f"{line} {round(area, 2) + 0.0:,.2f} {unit}" for line, area in outside.items()
        )
        click.echo(f"outside every zone (in no zone, city or province row): {shown}")


def _check_output(output: Path, names: list[str], *, overwrite: bool) -> None:
    """Refuse an OUTPUT holding a finished run (without --overwrite) or files not geozones'."""
    if (output / DONE).exists() and not overwrite:
        raise OutputExistsError(
            f"{output} holds a finished run; pass --overwrite to replace it, or choose "
            "another output"
        )
    ours = _ours(output)
    foreign = [name for name in names if os.path.lexists(output / name) and name not in ours]
    if foreign:
        raise OutputError(
            f"{output} holds {', '.join(foreign)}, which geozones did not write (not listed in "
            f"its {MARKER}); geozones replaces only what it wrote. Move them away or choose "
            "another output folder"
        )


def _ours(output: Path) -> set[str]:
    """What geozones wrote in OUTPUT: listed in its marker (or, before markers, any run)."""
    if (output / MARKER).exists():
        return {entry.name for entry in output.iterdir() if written_by_geozones(entry)}
    if (output / WORK / "conflicts" / "run.json").exists():  # written by an earlier version
        return {entry.name for entry in output.iterdir()}
    return set()


def _client(address: str) -> Any:
    """A dask.distributed client of the scheduler at `address`, or a one-line error."""
    try:
        from distributed import Client
    except ImportError as error:
        raise GeozonesError(
            "--scheduler needs dask.distributed; install it with: pip install 'geozones[dask]'"
        ) from error
    try:
        return Client(address)
    except (OSError, ValueError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SchedulerError(
            f"--scheduler {address}: no Dask scheduler reached ({first}); check the address "
            "(tcp://host:8786) and that the scheduler runs, or omit --scheduler to run on "
            "this machine"
        ) from error


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _write_geo(frame: Any, path: Path) -> None:
    frame = frame.copy()
    frame.attrs = {}
    for column in ("id_a", "id_b", "feature", "because_feature"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    frame.to_parquet(path, write_covering_bbox=True)

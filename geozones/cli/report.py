"""``geozones report CONFIG -o OUTDIR``: the batch report, for the run and per county."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from geozones.cli.options import (
    EXIT_CHECK_FAILED,
    check_writable,
    claim_folder,
    config_argument,
    echo_json,
    fail_option,
    json_option,
    overwrite_option,
    progress_option,
    reported_warnings,
    with_xy_tolerance,
    xy_tolerance_option,
)
from geozones.cli.progress import report_progress
from geozones.errors import MissingDependencyError
from geozones.outputs import check_output_path, safe_filename, staged_files
from geozones.report.model import Report, build_report
from geozones.workflow.config import load_config


def _writers() -> dict[str, Callable[..., Path]]:
    """The writer of each output file, imported only when a report is asked for."""
    modules = {
        ".xlsx": ("geozones.report.excel", "write_workbook"),
        ".gpkg": ("geozones.report.geopackage", "write_geopackage"),
        ".html": ("geozones.report.html", "write_html"),
    }
    writers = {}
    for suffix, (module, function) in modules.items():
        try:
            writers[suffix] = getattr(importlib.import_module(module), function)
        except ImportError as error:  # openpyxl or matplotlib missing
            raise MissingDependencyError(
                f"the report needs the optional packages of geozones[report] ({error.name} is "
                "missing); install them with: pip install 'geozones[report]'"
            ) from error
    return writers


def report_paths(report: Report, folder: Path) -> dict[str, Path]:
    """Where each file of one report goes, named safely from the data."""
    if report.scope == "all":
        stem = safe_filename(report.title, fallback="geozones_report")
    else:
        stem = safe_filename(f"{report.scope}_{report.scope_name}", fallback=report.scope)
    return {suffix: folder / f"{stem}{suffix}" for suffix in (".xlsx", ".gpkg", ".html")}


@click.command("report")
@config_argument
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the report into.",
)
@click.option(
    "--by",
    type=click.Choice(["county"]),
    default=None,
    help="Also write one report per county, in a folder per county.",
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
    by: str | None,
    xy_tolerance: float | None,
    overwrite: bool,
    fail_on_conflict: bool,
    progress: bool,
    as_json: bool,
) -> None:
    """Write the workbook, GeoPackage and HTML report of the check CONFIG describes.

    The files are written in a scratch folder inside OUTPUT and moved into place when all of
    them are written: a failed run leaves the earlier report as it was. With --overwrite, only
    files geozones wrote are replaced; two runs into one OUTPUT at once are refused.
    """
    writers = _writers()
    settings = with_xy_tolerance(load_config(config), xy_tolerance)
    claim_folder(ctx, output, purpose=f"geozones report {config}", settings=settings)
    report_progress(0.0, "reading layers and computing the report")
    with reported_warnings(ctx.obj["verbosity"]):
        report = build_report(settings)
    reports = [report]
    if by == "county":
        reports += [report.for_zone(code) for code, _ in report.counties()]
    planned = []
    for part in reports:
        folder = (
            output
            if part.scope == "all"
            else output / safe_filename(f"{part.scope}_{part.scope_name}", fallback=part.scope)
        )
        planned.append((part, report_paths(part, folder)))
    paths = [path for _, paths in planned for path in paths.values()]
    for path in paths:
        check_output_path(path, sqlite=True)
    check_writable(paths, overwrite=overwrite)

    steps: Iterable[tuple[Report, dict[str, Path]]] = planned
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(planned, desc="reports", unit="report")
    relative = [path.relative_to(output).as_posix() for path in paths]
    with staged_files(output, relative, command="report") as staging:
        for number, (part, part_paths) in enumerate(steps):
            report_progress(0.5 + 0.5 * number / len(planned), f"writing {part.scope_name}")
            for suffix, path in part_paths.items():
                scratch = staging / path.relative_to(output)
                scratch.parent.mkdir(parents=True, exist_ok=True)
                writers[suffix](part, scratch, overwrite=True)
    written = [str(path) for path in paths]
    report_progress(1.0, "done")
    if as_json:
        count, area = report.phantom_total
        echo_json(
            {
                "written": written,
                "verdict_ok": report.verdict,
                "outside_area": dict(
                    zip(report.outside["line"], report.outside["area"], strict=True)
                ),
                "unit": report.unit,
                "area_method": "ellipsoidal",
                "xy_tolerance": report.xy_tolerance,
                "phantoms": {"count": count, "area_m2": area},
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        verdict = "no conflict" if report.verdict else "conflicts found"
        click.echo(f"{report.title}: {verdict}; wrote {len(written)} files to {output}")
        parts = ", ".join(
            f"{line} {round(area, 2) + 0.0:,.2f} {report.unit}"  # no -0.00
            for line, area in zip(report.outside["line"], report.outside["area"], strict=True)
        )
        click.echo(f"outside every zone (in no zone, city or province row): {parts}")
    if fail_on_conflict and not report.verdict:
        sys.exit(EXIT_CHECK_FAILED)

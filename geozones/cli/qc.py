"""``geozones qc SOURCE [--rules RULES.toml] [-o DIR] [--fail-on error|warning]``: 质检."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geozones.cli.options import (
    EXIT_CHECK_FAILED,
    check_writable,
    claim_folder,
    echo_json,
    frame_records,
    json_option,
    overwrite_option,
    reported_warnings,
)
from geozones.cli.progress import report_progress
from geozones.outputs import staged_files


@click.command("qc")
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path),
    help="Rule set (TOML); the one shipped with geozones by default (docs/qc.md).",
)
@click.option(
    "--zones",
    "zones_path",
    type=click.Path(path_type=Path),
    help="Administrative units to check codes and locations against, instead of the "
    "delivery's zones layer (XZQ).",
)
@click.option("--zones-layer", help="Layer of --zones, for multi-layer files.")
@click.option("--language", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write qc.xlsx, qc.gpkg and qc.html into.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    help="Exit with status 1 when a finding of this severity (or worse) exists.",
)
@overwrite_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    source: Path,
    rules_path: Path | None,
    zones_path: Path | None,
    zones_layer: str | None,
    language: str,
    output: Path | None,
    fail_on: str | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Inspect a delivery database (质检) against a rule set, feature by feature.

    SOURCE is a GeoPackage, a File Geodatabase (.gdb folder) or a check configuration
    (TOML). Every rule of the rule set is applied: schema, CRS, identifiers and codes, areas,
    geometry and the lines; each finding names its rule, layer, feature (BSM, else FID) and
    field, says what is wrong in Chinese and English, and where.
    """
    from geozones.io import read_layer
    from geozones.qc import inspect, load_rules
    from geozones.report.qc import qc_paths, write_qc

    rules = load_rules(rules_path)  # a wrong rule set is refused before any work
    inputs = [path for path in (source, rules_path, zones_path) if path is not None]
    if output is not None:
        claim_folder(ctx, output, purpose=f"geozones qc {source}", inputs=inputs)
        check_writable(list(qc_paths(output).values()), overwrite=overwrite)
    elif zones_layer is not None and zones_path is None:
        raise click.UsageError("--zones-layer needs --zones")
    with reported_warnings(ctx.obj["verbosity"]):
        report_progress(0.0, f"inspecting {source}")
        zones = read_layer(zones_path, zones_layer) if zones_path is not None else None
        findings = inspect(source, rules=rules, zones=zones)
        written: dict[str, Path] = {}
        if output is not None:
            report_progress(0.8, f"writing {output}")
            names = [path.name for path in qc_paths(output).values()]
            with staged_files(output, names, command="qc") as staging:
                written = {
                    suffix: output / path.name
                    for suffix, path in write_qc(
                        findings, staging, language=language, overwrite=True
                    ).items()
                }
    report_progress(1.0, "done")
    if as_json:
        table = pd.DataFrame(findings.table.drop(columns=findings.table.geometry.name))
        echo_json(
            {
                "source": findings.source,
                "rules": findings.rules_source,
                "area_method": findings.area_method,
                "xy_tolerance": findings.xy_tolerance,
                "passed": findings.passed,
                "errors": findings.count("error"),
                "warnings": findings.count("warning"),
                "summary": frame_records(findings.summary),
                "findings": frame_records(table),
                "written": [str(path) for path in written.values()],
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        _print(findings, written, output, language)
    if fail_on is not None and findings.fails_on(fail_on):
        sys.exit(EXIT_CHECK_FAILED)


def _print(findings: Any, written: dict[str, Path], output: Path | None, language: str) -> None:
    summary = findings.summary
    title = "title_en" if language == "en" else "title_zh"
    failed = summary[summary["failed"] > 0]
    with pd.option_context("display.width", 200, "display.max_rows", 10_000):
        if len(failed):
            shown = failed[["rule", "severity", title, "checked", "failed"]]
            click.echo(shown.to_string(index=False))
    verdict = "passed" if findings.passed else "FAILED"
    click.echo(
        f"qc {verdict}: {findings.count('error')} errors, {findings.count('warning')} warnings "
        f"({len(summary)} rules applied)"
    )
    if written and output is not None:
        click.echo(f"wrote {len(written)} files to {output}")
    elif not written:
        click.echo("no files written (give -o DIR to write qc.xlsx, qc.gpkg and qc.html)")

"""``geozones compare BEFORE AFTER -o DIR``: two versions of a line, what moved, the balance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geozones.analysis.conflicts import LINES
from geozones.cli.options import (
    EXIT_CHECK_FAILED,
    check_writable,
    claim_folder,
    echo_json,
    frame_records,
    json_option,
    overwrite_option,
    progress_option,
    reported_warnings,
)
from geozones.cli.progress import report_progress
from geozones.errors import FieldError
from geozones.io import read_layer
from geozones.outputs import staged_files
from geozones.units import AREA_UNITS

_LINES = (*LINES, "other")


@click.command("compare")
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@click.option("--before-layer", help="Layer of BEFORE, for multi-layer files.")
@click.option("--after-layer", help="Layer of AFTER, for multi-layer files.")
@click.option("--encoding", help="Attribute encoding of both versions (GBK); detected if omitted.")
@click.option("--crs", help='CRS of a version that has none: "infer" or EPSG:….')
@click.option(
    "--line",
    type=click.Choice(_LINES),
    default="farmland",
    show_default=True,
    help="Which line the versions are: its rules are checked (other: none).",
)
@click.option("--id-field", help="Field identifying a feature in both versions (BSM).")
@click.option(
    "--grade-field",
    default="auto",
    show_default=True,
    help='Farmland quality grade field (GDDB); "auto" finds one, "none" compares none.',
)
@click.option("--zones", "zones_path", type=click.Path(path_type=Path), help="Zones (counties).")
@click.option("--zones-layer", help="Layer of --zones, for multi-layer files.")
@click.option("--zone-field", help="Zone code field of --zones (default: XZQDM).")
@click.option("--zone-name-field", help="Zone name field of --zones (default: XZQMC if present).")
@click.option(
    "--xy-tolerance",
    type=click.FloatRange(min=0.0),
    default=0.001,
    show_default=True,
    help="Coordinates closer than this (CRS units, metres) are the same point.",
)
@click.option(
    "--unit",
    type=click.Choice(list(AREA_UNITS)),
    default="mu",
    show_default=True,
    help="Area unit of the tables.",
)
@click.option("--net-min", type=float, help="Smallest net change allowed, in --unit (default 0).")
@click.option("--no-quality", is_flag=True, help="Do not check the farmland quality grade.")
@click.option("--cap", type=float, help="Urban: largest area after, in --unit.")
@click.option("--cap-percent", type=float, help="Urban: largest area after, % of before.")
@click.option(
    "--urban-land-2020", type=float, help="Urban: 2020 urban construction land, in --unit."
)
@click.option(
    "--expansion-multiple",
    type=float,
    default=1.3,
    show_default=True,
    help="Urban: largest area after over --urban-land-2020.",
)
@click.option("--whole-only", is_flag=True, help="Check the rules on the whole area only.")
@click.option("--title", help="Title of the files.")
@click.option("--language", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write compare.xlsx, compare.gpkg and compare.html into.",
)
@click.option("--fail-on-rule", is_flag=True, help="Exit with status 1 when a rule is not met.")
@overwrite_option
@progress_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    before: Path,
    after: Path,
    before_layer: str | None,
    after_layer: str | None,
    encoding: str | None,
    crs: str | None,
    line: str,
    id_field: str | None,
    grade_field: str,
    zones_path: Path | None,
    zones_layer: str | None,
    zone_field: str | None,
    zone_name_field: str | None,
    xy_tolerance: float,
    unit: str,
    net_min: float | None,
    no_quality: bool,
    cap: float | None,
    cap_percent: float | None,
    urban_land_2020: float | None,
    expansion_multiple: float,
    whole_only: bool,
    title: str | None,
    language: str,
    output: Path | None,
    fail_on_rule: bool,
    overwrite: bool,
    progress: bool,
    as_json: bool,
) -> None:
    """Compare two versions of a line: the land taken out and put in, per zone, and the rules.

    Features are matched by --id-field where it has a value, else by geometry and overlap;
    each is unchanged, changed in geometry or attributes only, split, merged, added or
    removed. The balance (before - out + in = after) is given per zone and for the whole
    area; the rules of --line are checked: farmland net change not negative and quality not
    lower (补划), red line not smaller, urban boundary under --cap / --cap-percent and
    --expansion-multiple × --urban-land-2020.
    """
    from geozones.analysis.compare import compare_versions
    from geozones.report.compare import comparison_paths, comparison_report, write_comparison

    if line != "urban":
        for flag, value in (
            ("--cap", cap),
            ("--cap-percent", cap_percent),
            ("--urban-land-2020", urban_land_2020),
        ):
            if value is not None:
                raise click.UsageError(f"{flag} applies to --line urban, not to --line {line}")
    if output is not None:  # checked and locked before any work; written whole at the end
        claim_folder(
            ctx,
            output,
            purpose=f"geozones compare {after}",
            inputs=[path for path in (before, after, zones_path) if path is not None],
        )
        check_writable(list(comparison_paths(output).values()), overwrite=overwrite)
    grade = None if grade_field.lower() == "none" else grade_field
    with reported_warnings(ctx.obj["verbosity"]):
        report_progress(0.0, f"reading {before} and {after}")
        old = read_layer(before, before_layer, encoding=encoding, crs=crs)
        new = read_layer(after, after_layer, encoding=encoding, crs=crs)
        zones = None
        if zones_path is not None:
            zones = read_layer(zones_path, zones_layer, crs=crs)
            zone_field = zone_field or _default_field(zones, "XZQDM", "--zone-field")
            if zone_name_field is None and "XZQMC" in zones.columns:
                zone_name_field = "XZQMC"
            if zone_name_field is not None and zone_name_field not in zones.columns:
                raise FieldError(
                    f"--zone-name-field {zone_name_field!r} is not a field of {zones_path}; "
                    f"its fields are: {_fields(zones)}"
                )
        elif zone_field or zone_name_field:
            raise click.UsageError("--zone-field and --zone-name-field need --zones")
        report_progress(0.3, f"comparing {len(old)} features with {len(new)}")
        diff = compare_versions(
            old,
            new,
            zones=zones,
            zone_field=zone_field,
            id_field=id_field,
            xy_tolerance=xy_tolerance,
            unit=unit,
            grade_field=grade,
            progress=progress,
        )
        rules: dict[str, Any] = {"by_zone": not whole_only}
        if net_min is not None:
            rules["net_min"] = net_min
        if line == "farmland":
            rules["quality"] = not no_quality
        if line == "urban":
            rules.update(
                cap=cap,
                cap_percent=cap_percent,
                urban_land_2020=urban_land_2020,
                expansion_multiple=expansion_multiple,
            )
        report = comparison_report(
            diff,
            line=None if line == "other" else line,
            rules=rules,
            title=title,
            language=language,
            name_field=zone_name_field,
            sources=(_source(before, before_layer), _source(after, after_layer)),
        )
        if output is not None:
            report_progress(0.8, f"writing {output}")
        written: dict[str, Path] = {}
        if output is not None:
            names = [path.name for path in comparison_paths(output).values()]
            with staged_files(output, names, command="compare") as staging:
                written = {
                    suffix: output / path.name
                    for suffix, path in write_comparison(report, staging, overwrite=True).items()
                }
    report_progress(1.0, "done")
    verdict = report.verdict
    if as_json:
        echo_json(
            {
                **diff.summary(),
                "area_method": "ellipsoidal",
                "verdict_ok": verdict,
                "rules": frame_records(report.rules) if report.rules is not None else [],
                "balance": frame_records(diff.balance.reset_index()),
                "written": [str(path) for path in written.values()],
            }
        )
    elif ctx.obj["verbosity"] >= 0:
        _print(diff, report.rules, verdict, written, output)
    if fail_on_rule and verdict is False:
        sys.exit(EXIT_CHECK_FAILED)


def _default_field(frame: Any, name: str, option: str) -> str:
    if name in frame.columns:
        return name
    raise FieldError(
        f"the zones have no {name} field; name the zone code field with {option} "
        f"(fields: {_fields(frame)})"
    )


def _fields(frame: Any) -> str:
    return ", ".join(str(c) for c in frame.columns if c != frame.geometry.name) or "none"


def _source(path: Path, layer: str | None) -> str:
    return f"{path} (layer {layer})" if layer else str(path)


def _print(
    diff: Any,
    rules: pd.DataFrame | None,
    verdict: bool | None,
    written: dict[str, Path],
    output: Path | None,
) -> None:
    counts = diff.counts()
    changed = counts.drop(index="unchanged")
    summary = ", ".join(
        f"{status} {row.before}/{row.after}" for status, row in changed.iterrows() if row.any()
    )
    click.echo(f"matched {diff.matching}")
    click.echo(f"features (before/after): {summary or 'none changed'}")
    with pd.option_context("display.width", 200, "display.max_rows", 10_000):
        table = diff.balance.drop(columns=["level"])
        numbers = table.select_dtypes("float").columns
        table[numbers] = table[numbers].round(2) + 0.0  # no "-0.0"
        click.echo(f"balance ({diff.unit}):")
        click.echo(table.to_string())
        if rules is not None and len(rules):
            click.echo("rules:")
            click.echo(rules.round(4).to_string(index=False))
    if verdict is not None:
        click.echo("verdict: " + ("rules met" if verdict else "rules NOT met"))
    if written and output is not None:
        click.echo(f"wrote {len(written)} files to {output}")
    elif not written:
        click.echo("no files written (give -o DIR to write the workbook, GeoPackage and HTML)")

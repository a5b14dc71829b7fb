"""``geozones check PATH...``: what read_layer would repair, guess or refuse, per file."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import click

from geozones.cli.info import describe, layer_names
from geozones.cli.options import EXIT_USAGE, echo_json, json_option
from geozones.errors import GeozonesError, GeozonesWarning
from geozones.io import read_layer
from geozones.io.quality import layer_report


def check_one(
    path: Path, layer: str | None, encoding: str | None, crs: str | None
) -> dict[str, Any]:
    """Read one layer and say what happened: ok, repaired/guessed (with warnings), refused."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeozonesWarning)
        try:
            frame = read_layer(path, layer, encoding=encoding, crs=crs)
        except GeozonesError as error:
            return {
                "source": str(path) if layer is None else f"{path} (layer {layer})",
                "status": "refused",
                "error": type(error).__name__,
                "message": str(error),
            }
    report = layer_report(frame)
    assert report is not None
    notes = [str(w.message) for w in caught if issubclass(w.category, GeozonesWarning)]
    result = describe(report, ())
    del result["bounds"]
    result["status"] = "repaired or guessed" if notes else "ok"
    result["notes"] = notes
    return result


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--encoding", help="Attribute encoding for shapefiles (default: detected).")
@click.option("--crs", help='CRS to use: "infer" accepts the suggestion, or EPSG:….')
@click.option(
    "--layer",
    "-l",
    "only",
    multiple=True,
    help="Only this layer of multi-layer files (repeat for more); default: every layer.",
)
@json_option
def command(
    paths: tuple[Path, ...],
    encoding: str | None,
    crs: str | None,
    only: tuple[str, ...],
    as_json: bool,
) -> None:
    """Say what reading each file would repair, guess or refuse; exit 2 if any is refused."""
    chosen = [
        (path, layer)
        for path in paths
        for layer in layer_names(path)
        if not only or layer is None or layer in only
    ]
    unknown = set(only) - {layer for _, layer in chosen}
    if unknown:
        raise click.UsageError(
            f"--layer {', '.join(sorted(unknown))}: no such layer in {', '.join(map(str, paths))}"
        )
    results = [check_one(path, layer, encoding, crs) for path, layer in chosen]
    if as_json:
        # Repairs are measured by their ellipsoidal area change.
        echo_json([{**result, "area_method": "ellipsoidal"} for result in results])
    else:
        for result in results:
            if result["status"] == "refused":
                click.echo(f"REFUSED  {result['source']}\n  {result['error']}: {result['message']}")
            else:
                status = result["status"].upper()
                click.echo(f"{status:8} {result['source']} ({result['features']} features)")
                for note in result["notes"]:
                    click.echo(f"  - {note}")
    if any(result["status"] == "refused" for result in results):
        sys.exit(EXIT_USAGE)

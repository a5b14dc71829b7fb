"""``geozones info PATH``: layers, CRS (and any inference), encoding, counts, validity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pyogrio
import shapely

from geozones.cli.options import echo_json, json_option, reported_warnings
from geozones.io import read_layer
from geozones.io.quality import LayerReport, layer_report


def layer_names(path: Path) -> list[str | None]:
    """Every layer of a multi-layer dataset; ``[None]`` for single-layer formats."""
    if path.suffix.lower() in (".parquet", ".geoparquet", ".shp", ".dbf") or not path.exists():
        return [None]
    try:
        names: list[str | None] = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # read_layer reports the problem with its own error
        return [None]
    return names if len(names) > 1 else [None]


def describe(report: LayerReport, bounds: tuple[float, ...]) -> dict[str, Any]:
    """A layer report as plain data."""
    code = report.crs.to_epsg(min_confidence=90)
    return {
        "source": report.source,
        "driver": report.driver,
        "features": report.feature_count,
        "crs": f"EPSG:{code}" if code else report.crs.to_wkt(),
        "crs_name": report.crs.name,
        "crs_source": report.crs_source,
        "encoding": report.encoding,
        "encoding_source": report.encoding_source,
        "encoding_guessed": report.encoding_guessed,
        "geometry_types": {str(k): v for k, v in report.geometry_types.items()},
        "invalid_repaired": report.count("invalid"),
        "null": report.count("null"),
        "empty": report.count("empty"),
        "non_polygonal": report.count("non-polygonal"),
        "bounds": list(bounds),
    }


@click.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--layer", "-l", help="Only this layer (default: every layer of the file).")
@click.option("--encoding", help="Attribute encoding of a shapefile (default: detected).")
@click.option(
    "--crs",
    default="infer",
    show_default=True,
    help='CRS: "infer" uses the file\'s, or the one the coordinates suggest; or EPSG:….',
)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    path: Path,
    layer: str | None,
    encoding: str | None,
    crs: str,
    as_json: bool,
) -> None:
    """Describe the layers of PATH: CRS, encoding, feature counts, validity."""
    verbosity = ctx.obj["verbosity"]
    described = []
    for name in [layer] if layer else layer_names(path):
        with reported_warnings(verbosity):
            frame = read_layer(path, name, encoding=encoding, crs=crs)
        report = layer_report(frame)
        assert report is not None
        geoms = frame.geometry.array
        present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        bounds = (
            tuple(float(v) for v in shapely.total_bounds(geoms[present])) if present.any() else ()
        )
        described.append(describe(report, bounds))
    if as_json:
        echo_json(described)
        return
    for item, name in zip(described, [layer] if layer else layer_names(path), strict=True):
        click.echo(f"{item['source']}")
        click.echo(f"  driver:    {item['driver']}")
        click.echo(f"  features:  {item['features']}")
        click.echo(f"  CRS:       {item['crs']} {item['crs_name']} ({item['crs_source']})")
        if item["encoding"]:
            guessed = ", guessed from the bytes" if item["encoding_guessed"] else ""
            click.echo(f"  encoding:  {item['encoding']} ({item['encoding_source']}{guessed})")
        types = ", ".join(f"{k}: {v}" for k, v in item["geometry_types"].items())
        click.echo(f"  geometry:  {types}")
        click.echo(
            f"  validity:  {item['invalid_repaired']} invalid (repaired), {item['null']} null, "
            f"{item['empty']} empty, {item['non_polygonal']} non-polygonal"
        )
        if item["bounds"]:
            xmin, ymin, xmax, ymax = item["bounds"]
            click.echo(f"  bounds:    {xmin:.3f} {ymin:.3f} {xmax:.3f} {ymax:.3f}")
        del name

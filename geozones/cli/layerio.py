"""Layer arguments and GeoPackage outputs of the subcommands that work on files, not a CONFIG.

``geozones area``, ``coverage`` and ``blocks`` take layers as ``PATH`` arguments with a
``--layer`` for multi-layer files, and write their results as layers of one GeoPackage:
:func:`write_layers` writes them all to a temporary file beside the output and moves it into
place, so a failed run leaves no half-written file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import geopandas as gpd
import pandas as pd
import pyogrio

from geozones.report.geopackage import atomic_output

F = TypeVar("F", bound=Callable[..., Any])

#: The geometry type of every polygon layer written: one type, whatever repair made of a row.
POLYGON_LAYER_TYPE = "MultiPolygon"


def output_option(help_text: str) -> Callable[[F], F]:
    """The ``-o/--output`` option naming the GeoPackage a subcommand writes."""
    return click.option(
        "-o",
        "--output",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


def layer_options(prefix: str = "", what: str = "PATH") -> Callable[[F], F]:
    """``--layer``, ``--encoding`` and ``--crs`` of one input (``--zones-layer`` with a prefix).

    The values reach the command as ``<prefix>layer``, ``<prefix>encoding`` and
    ``<prefix>crs`` (dashes made underscores).
    """
    dashed = f"{prefix.replace('_', '-')}" if prefix else ""
    options = [
        click.option(
            f"--{dashed}layer",
            f"{prefix}layer",
            help=f"Layer of {what}, for multi-layer files (GeoPackage, File Geodatabase).",
        ),
        click.option(
            f"--{dashed}encoding",
            f"{prefix}encoding",
            help=f"Attribute encoding of {what} if a shapefile (default: detected).",
        ),
        click.option(
            f"--{dashed}crs",
            f"{prefix}crs",
            help=f'CRS of {what} if it has none: "infer" accepts the suggestion, or EPSG:….',
        ),
    ]

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def write_layers(
    path: Path,
    layers: Mapping[str, pd.DataFrame],
    *,
    descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Write frames as the layers of one new GeoPackage, atomically.

    GeoDataFrames become polygon layers (``MultiPolygon``, null geometries kept), other frames
    attribute tables. The index is not written: put what it holds in a column first.

    Parameters
    ----------
    path : pathlib.Path
        The ``.gpkg`` to write; an existing file is replaced (check ``--overwrite`` first).
    layers : mapping of str to DataFrame
        Layer name to frame, in writing order.
    descriptions : mapping of str to str, optional
        Layer name to its description (``gpkg_contents.description``).

    Returns
    -------
    pathlib.Path
        `path`.
    """
    descriptions = descriptions or {}
    with atomic_output(path) as scratch:
        for name, frame in layers.items():
            options = {"DESCRIPTION": descriptions[name]} if name in descriptions else {}
            plain = frame.reset_index(drop=True)
            if isinstance(frame, gpd.GeoDataFrame):
                pyogrio.write_dataframe(
                    plain,
                    scratch,
                    layer=name,
                    driver="GPKG",
                    geometry_type=POLYGON_LAYER_TYPE,
                    promote_to_multi=True,
                    layer_options=options,
                )
            else:
                pyogrio.write_dataframe(
                    plain, scratch, layer=name, driver="GPKG", layer_options=options
                )
    return path


def ids_as_text(values: pd.Series | pd.Index) -> list[str | None]:
    """Feature ids as text, missing ones as None, so that columns of ids join across layers."""
    return [None if pd.isna(value) else str(value) for value in values]

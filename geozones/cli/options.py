"""Options and helpers the subcommands share, in the style of rasterio's ``rio``."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pandas as pd

from geozones.errors import GeozonesWarning

if TYPE_CHECKING:
    import geopandas as gpd

    from geozones.config import Config

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status when the check itself fails (``--fail-on-conflict``).
EXIT_CHECK_FAILED = 1
#: Exit status for usage errors and unreadable input, as click uses for usage errors.
EXIT_USAGE = 2

overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace output files that already exist."
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON on stdout, for a machine to read."
)
fail_option = click.option(
    "--fail-on-conflict",
    is_flag=True,
    help="Exit with status 1 when the check finds a conflict (above the sliver threshold).",
)
progress_option = click.option(
    "--progress/--no-progress", default=False, help="Show progress bars on long work."
)
config_argument = click.argument(
    "config", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


def _checked_tolerance(
    ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    from geozones.errors import ToleranceError
    from geozones.tolerance import check_xy_tolerance

    if value is None:
        return None
    try:
        return check_xy_tolerance(value, name="--xy-tolerance")
    except ToleranceError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


xy_tolerance_option = click.option(
    "--xy-tolerance",
    type=float,
    default=None,
    metavar="METRES",
    callback=_checked_tolerance,
    help="Coordinate tolerance: boundaries closer than this are the same boundary, and "
    "overlaps thinner than it are not conflicts (default: the configuration's "
    "xy_tolerance, else 0.001 m; 0 compares exact geometry).",
)


def with_xy_tolerance(settings: Config, xy_tolerance: float | None) -> Config:
    """The configuration with ``--xy-tolerance`` in place of its ``xy_tolerance``, if given."""
    if xy_tolerance is None:
        return settings
    from dataclasses import replace

    return replace(settings, xy_tolerance=xy_tolerance)


@contextmanager
def reported_warnings(verbosity: int) -> Iterator[None]:
    """Print geozones' warnings as short ``warning:`` lines on stderr (none with ``-q``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeozonesWarning)
        warnings.simplefilter("ignore" if verbosity < 1 else "always", UserWarning)
        warnings.simplefilter("always", GeozonesWarning)
        try:
            yield
        finally:
            if verbosity >= 0:
                seen = set()
                for warning in caught:
                    text = str(warning.message)
                    if text not in seen and issubclass(warning.category, UserWarning):
                        seen.add(text)
                        click.echo(f"warning: {text}", err=True)


def layers_by_id(settings: Config) -> dict[str, gpd.GeoDataFrame]:
    """The configuration's layers, each indexed by its id field (BSM) where it names one."""
    from geozones.report.model import index_by_id

    return {
        key: index_by_id(frame, settings.layers[key].id_field)
        for key, frame in settings.read_layers().items()
    }


def echo_json(data: Any) -> None:
    """Print `data` as JSON (UTF-8, Chinese kept readable) on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (NaN as null)."""
    cleaned = frame.astype(object).where(frame.notna(), None)
    return [{str(key): value for key, value in row.items()} for row in cleaned.to_dict("records")]


def check_writable(paths: list[Path], *, overwrite: bool) -> None:
    """Refuse, as a usage error, to replace existing outputs without ``--overwrite``."""
    existing = [str(path) for path in paths if path.exists()]
    if existing and not overwrite:
        raise click.UsageError(
            f"{', '.join(existing)} already exist(s); pass --overwrite to replace, or choose "
            "another output"
        )


def configure_logging(verbosity: int) -> None:
    """-v shows geozones' progress messages, -vv debugging; -q only errors."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")

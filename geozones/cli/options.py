"""Options and helpers the subcommands share, in the style of rasterio's ``rio``."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pandas as pd

from geozones.errors import GeozonesWarning, OutputError
from geozones.outputs import check_output_path, output_lock, refuse_existing

if TYPE_CHECKING:
    import geopandas as gpd

    from geozones.workflow.config import Config

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status when the check itself fails (``--fail-on-conflict``).
EXIT_CHECK_FAILED = 1
#: Exit status for usage errors and unreadable input, as click uses for usage errors.
EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status after SIGTERM (128 + SIGTERM).
EXIT_TERMINATED = 143

overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace outputs that exist, if geozones wrote them (never other files).",
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


def _checked_densify(
    ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    if value is None:
        return None
    if not value > 0:
        raise click.BadParameter("must be a positive number of metres", ctx=ctx, param=param)
    return value


def check_densify(method: str, densify_m: float | None) -> None:
    """Refuse ``--densify-m`` with an area method other than ``survey`` (a usage error)."""
    if densify_m is not None and method != "survey":
        raise click.UsageError(f"--densify-m applies to --method survey only, not {method}")


densify_option = click.option(
    "--densify-m",
    type=float,
    default=None,
    metavar="METRES",
    callback=_checked_densify,
    help="With --method survey: cut edges into pieces of at most this many metres in the "
    "plane first, as some official tools do (e.g. 70); default: the vertices as given.",
)


def _checked_tolerance(
    ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    from geozones.errors import ToleranceError
    from geozones.measure.tolerance import check_xy_tolerance

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
    from geozones.workflow.check import index_by_id

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
    """Refuse outputs that exist (without ``--overwrite``, or not written by geozones).

    Raises
    ------
    OutputExistsError, OutputError
        As :func:`geozones.outputs.refuse_existing`.
    """
    refuse_existing(paths, overwrite=overwrite)


def refuse_inputs(
    outputs: list[Path], settings: Config | None = None, *, inputs: Iterable[Path] = ()
) -> None:
    """Refuse outputs that are, or would hold, an input of the run: never written over.

    Parameters
    ----------
    outputs : list of pathlib.Path
        What the run writes.
    settings : Config, optional
        The configuration: its layers, zones and rasters are inputs, and so is the file.
    inputs : iterable of pathlib.Path, optional
        Other inputs (the PATH arguments of ``area``, ``coverage``, ``blocks``).

    Raises
    ------
    OutputError
        An output is an input file (a shapefile's parts included), or a folder holding one.
    """
    named: list[tuple[str, Path]] = [("an input", Path(path)) for path in inputs]
    if settings is not None:
        named.append(("the configuration", settings.source))
        named.append(("zones", settings.zones.path))
        named += [(f"layers.{key}", spec.path) for key, spec in settings.layers.items()]
        if settings.rasters is not None:
            named += [
                (f"rasters.{key}", path)
                for key, path in (
                    ("dem", settings.rasters.dem),
                    ("landcover", settings.rasters.landcover),
                )
                if path is not None
            ]
    sources: dict[Path, str] = {}
    for key, path in named:
        resolved = path.resolve()
        sources.setdefault(resolved, key)
        if resolved.suffix.lower() in (".shp", ".dbf"):
            for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                sources.setdefault(resolved.with_suffix(suffix), key)
    for output in outputs:
        target = output.resolve()
        for source, key in sources.items():
            if source == target or target in source.parents:
                held = "is" if source == target else f"holds {source}, which is"
                what = key if key.startswith("an ") else f"an input of this check ({key})"
                raise OutputError(
                    f"{output} {held} {what}; geozones never writes over its inputs. Choose "
                    "another output"
                )


def claim_output(
    ctx: click.Context,
    output: Path,
    *,
    overwrite: bool,
    purpose: str,
    settings: Config | None = None,
    inputs: Iterable[Path] = (),
) -> None:
    """Make `output` the command's, before any work: refused in one line if it cannot be.

    The path must be possible (:func:`geozones.outputs.check_output_path`), no input of the run
    (:func:`refuse_inputs`), and, if it exists, replaceable (``--overwrite`` and written by
    geozones). The output's lock is held until the command ends, so a second run writing it
    is refused.

    Parameters
    ----------
    ctx : click.Context
        The command's context; the lock is released when it closes.
    output : pathlib.Path
        The file the command writes.
    overwrite : bool
        ``--overwrite`` was given.
    purpose : str
        What the run does, for the message another run shows.
    settings : Config, optional
        The configuration, whose files are inputs.
    inputs : iterable of pathlib.Path, optional
        Other inputs.
    """
    check_output_path(output, sqlite=output.suffix.lower() == ".gpkg")
    refuse_inputs([output], settings, inputs=inputs)
    check_writable([output], overwrite=overwrite)  # at once, before the lock
    ctx.with_resource(output_lock(output, purpose=purpose))
    check_writable([output], overwrite=overwrite)  # and again, now that no other run can


def claim_folder(
    ctx: click.Context,
    output: Path,
    *,
    purpose: str,
    settings: Config | None = None,
    inputs: Iterable[Path] = (),
) -> None:
    """Make the folder `output` the command's, before any work (files are written in place).

    The path must be possible, no input of the run (:func:`refuse_inputs`), and the folder's
    lock (inside it) is held until the command ends, so a second run into it is refused. A
    folder the command created and left empty (it failed before writing) is removed.

    Parameters
    ----------
    ctx : click.Context
        The command's context.
    output : pathlib.Path
        The folder.
    purpose : str
        What the run does, for the message another run shows.
    settings : Config, optional
        The configuration, whose files are inputs.
    inputs : iterable of pathlib.Path, optional
        Other inputs.
    """
    check_output_path(output, folder=True)
    refuse_inputs([output], settings, inputs=inputs)
    if not output.exists():  # closing runs last-in first: this after the lock's release
        ctx.call_on_close(lambda: _remove_if_empty(output))
    ctx.with_resource(output_lock(output, inside=True, purpose=purpose))


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (click's test runner swaps it)."""

    @property
    def stream(self) -> Any:
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(verbosity: int) -> None:
    """-v shows the steps of a run (``INFO:`` lines on stderr), -vv debugging; silent otherwise.

    Only geozones' own loggers (``geozones.*``) are shown; other libraries' are left as they
    are.

    Parameters
    ----------
    verbosity : int
        -1 for ``-q``, 0 by default, 1 for ``-v``, 2 or more for ``-vv``.
    """
    logger = logging.getLogger("geozones")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    if verbosity < 1:
        logger.setLevel(logging.WARNING)
        logger.propagate = True
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    logger.propagate = False

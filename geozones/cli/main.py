"""The ``geozones`` command: a thin click layer over the library, one module per subcommand."""

from __future__ import annotations

import signal
import sys
import threading
from importlib.metadata import PackageNotFoundError, version
from types import FrameType

import click

from geozones.cli.options import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    configure_logging,
)
from geozones.cli.progress import PROGRESS_JSON
from geozones.errors import GeozonesError
from geozones.outputs import describe_os_error


def version_text() -> str:
    """The installed geozones version (the source tree's when not installed)."""
    try:
        return version("geozones")
    except PackageNotFoundError:  # running from a source tree
        from geozones import __version__

        return __version__


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread so that the run ends as after Ctrl-C.

    Temporary files are removed and locks released on the way out, as for
    ``KeyboardInterrupt``; the command exits with status 143 (128 + SIGTERM).
    """


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


class _Group(click.Group):
    """Turns geozones' errors into a one-line message and exit status 2, never a traceback.

    Ctrl-C exits with 130 and SIGTERM with 143, each with one line: exit status 1 means "the
    check failed", which an interrupted run has not decided.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GeozonesError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except FileExistsError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except OSError as error:  # a full or read-only disk, a path that cannot be
            click.echo(f"Error: {describe_os_error(error)}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo(
                "Interrupted: stopped; no output was left half-written, earlier results are "
                "in place",
                err=True,
            )
            sys.exit(EXIT_INTERRUPTED)
        except Terminated:
            click.echo(
                "Terminated: stopped by SIGTERM; no output was left half-written, earlier "
                "results are in place",
                err=True,
            )
            sys.exit(EXIT_TERMINATED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version_text(), "--version", prog_name="geozones")
@click.option("-v", "--verbose", count=True, help="More output (warnings in full with -v).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option(
    "--progress-json",
    is_flag=True,
    help='Report progress as JSON lines on stderr ({"progress": 0.4, "message": …}), for '
    "programs that run geozones, such as the QGIS plugin.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, progress_json: bool) -> None:
    """Check China's three control lines (三区三线): red line, farmland, urban boundary.

    Inputs come first and the output last. Exit status: 0 success; 1 when the check fails with
    --fail-on-conflict; 2 for usage errors and unreadable input.
    """
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = -1 if quiet else verbose
    ctx.obj[PROGRESS_JSON] = progress_json
    configure_logging(ctx.obj["verbosity"])
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
        ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


def main() -> None:
    """Entry point of the ``geozones`` console script."""
    cli(prog_name="geozones")


def _register() -> None:
    from geozones.cli import (
        area,
        blocks,
        capabilities,
        check,
        compare,
        conflicts,
        coverage,
        info,
        partition,
        qc,
        report,
        resolve,
        site_check,
        stats,
        stream,
    )

    for module in (
        info,
        check,
        area,
        coverage,
        stats,
        conflicts,
        resolve,
        report,
        site_check,
        compare,
        qc,
        blocks,
        partition,
        stream,
        capabilities,
    ):
        cli.add_command(module.command)


_register()

"""The ``geozones`` command: a thin click layer over the library, one module per subcommand."""

from __future__ import annotations

import errno
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
from geozones.errors import GeozonesError


def _version() -> str:
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


#: One line per kind of file-system failure, and what to do.
_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free space or choose an output on another disk",
    errno.EDQUOT: "the disk quota is used up; free space or choose another output",
    errno.EROFS: "the disk is read-only; choose an output on a disk you may write to",
    errno.EACCES: "permission denied; choose an output in a folder you may write to",
    errno.EPERM: "not permitted; choose an output in a folder you may write to",
    errno.ENAMETOOLONG: "a name or the path is too long; choose a shorter output path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another output",
    errno.EISDIR: "it is a folder where a file is expected; check the path",
}


def describe_os_error(error: OSError) -> str:
    """One line for a failure of the file system: the file, what happened, what to do.

    Parameters
    ----------
    error : OSError
        The failure.

    Returns
    -------
    str
        E.g. ``out/report.xlsx: No space left on device: the disk is full; free space or …``.

    Examples
    --------
    >>> import errno
    >>> print(describe_os_error(OSError(errno.EROFS, "Read-only file system", "x.gpkg")))
    x.gpkg: Read-only file system: the disk is read-only; choose an output on a disk you may ...
    """
    where = f"{error.filename}: " if error.filename else ""
    what = error.strerror or str(error) or type(error).__name__
    advice = _OS_ADVICE.get(error.errno or 0)
    return f"{where}{what}" + (f": {advice}" if advice else "")


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
@click.version_option(_version(), "--version", prog_name="geozones")
@click.option("-v", "--verbose", count=True, help="More output (warnings in full with -v).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Check China's three control lines (三区三线): red line, farmland, urban boundary.

    Inputs come first and the output last. Exit status: 0 success; 1 when the check fails with
    --fail-on-conflict; 2 for usage errors and unreadable input.
    """
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = -1 if quiet else verbose
    configure_logging(ctx.obj["verbosity"])
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
        ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


def main() -> None:
    """Entry point of the ``geozones`` console script."""
    cli(prog_name="geozones")


def _register() -> None:
    from geozones.cli import check, conflicts, info, partition, report, site_check, stats, stream

    for module in (info, check, stats, conflicts, report, site_check, partition, stream):
        cli.add_command(module.command)


_register()

"""The ``geozones`` command: a thin click layer over the library, one module per subcommand."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import click

from geozones.cli.options import EXIT_USAGE, configure_logging
from geozones.errors import GeozonesError


def _version() -> str:
    try:
        return version("geozones")
    except PackageNotFoundError:  # running from a source tree
        from geozones import __version__

        return __version__


class _Group(click.Group):
    """Turns geozones' errors into a one-line message and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GeozonesError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except FileExistsError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_USAGE)


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


def main() -> None:
    """Entry point of the ``geozones`` console script."""
    cli(prog_name="geozones")


def _register() -> None:
    from geozones.cli import (
        check,
        compare,
        conflicts,
        info,
        partition,
        report,
        site_check,
        stats,
        stream,
    )

    for module in (info, check, stats, conflicts, report, site_check, compare, partition, stream):
        cli.add_command(module.command)


_register()

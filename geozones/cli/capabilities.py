"""``geozones capabilities``: what this installation offers, for programs that drive it.

Programs that run ``geozones`` (the QGIS plugin) ask it which subcommands, area methods and
units it has, instead of assuming a version: a method or subcommand added later appears in
their menus as soon as the installed geozones offers it.
"""

from __future__ import annotations

from typing import Any

import click

from geozones.analysis.coverage import ADMINISTRATIVE_LEVELS
from geozones.cli.options import echo_json, json_option
from geozones.measure.area import METHODS
from geozones.units import AREA_UNITS, UNIT_LABELS
from geozones.workflow.config import LANGUAGES


def capabilities(group: click.Group, version: str) -> dict[str, Any]:
    """The subcommands of `group`, the area methods, units, levels and languages, as data."""
    return {
        "version": version,
        "commands": sorted(group.commands),
        "area_methods": list(METHODS),
        "units": [{"key": key, **UNIT_LABELS[key]} for key in AREA_UNITS],
        "levels": list(ADMINISTRATIVE_LEVELS),
        "languages": list(LANGUAGES),
    }


@click.command("capabilities")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """List the subcommands, area methods, units and report languages this geozones offers."""
    from geozones.cli.main import version_text

    root = ctx.find_root().command
    assert isinstance(root, click.Group)
    offered = capabilities(root, version_text())
    if as_json:
        echo_json(offered)
        return
    click.echo(f"geozones {offered['version']}")
    click.echo(f"  commands:     {', '.join(offered['commands'])}")
    click.echo(f"  area methods: {', '.join(offered['area_methods'])}")
    units = ", ".join(f"{unit['key']} ({unit['zh']})" for unit in offered["units"])
    click.echo(f"  units:        {units}")
    click.echo(f"  levels:       {', '.join(offered['levels'])}")
    click.echo(f"  languages:    {', '.join(offered['languages'])}")

"""Progress of a command as JSON lines on stderr, for programs that drive ``geozones``.

``geozones --progress-json SUBCOMMAND …`` makes every subcommand report where it is as one JSON
object per line on stderr: ``{"progress": 0.4, "message": "finding conflicts"}``, with
``progress`` the fraction of the work done (0 to 1). The QGIS plugin reads these lines to move
its progress bar and fill its log. Without the option, the same messages go to the logger, so
``geozones -v …`` shows them as ``INFO:`` lines.

Examples
--------
>>> from click.testing import CliRunner
>>> import click
>>> @click.command()
... def demo():
...     report_progress(0.5, "half way")
>>> print(CliRunner().invoke(demo, obj={"progress_json": True}).stderr, end="")
{"progress": 0.5, "message": "half way"}
"""

from __future__ import annotations

import json
import logging

import click

#: Key of the click context object that turns JSON progress on.
PROGRESS_JSON = "progress_json"

logger = logging.getLogger("geozones.cli")


def progress_json_enabled() -> bool:
    """Whether the running command was asked for JSON progress (``--progress-json``)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return False
    obj = context.find_root().obj
    return bool(obj.get(PROGRESS_JSON)) if isinstance(obj, dict) else False


def report_progress(fraction: float, message: str) -> None:
    """Say how far the command is: a JSON line on stderr with ``--progress-json``, else a log.

    Parameters
    ----------
    fraction : float
        Share of the work done, clipped to 0 … 1.
    message : str
        What the command does now (``"reading layers"``), in English.
    """
    fraction = min(max(float(fraction), 0.0), 1.0)
    if progress_json_enabled():
        line = json.dumps({"progress": round(fraction, 4), "message": message}, ensure_ascii=False)
        click.echo(line, err=True)
    else:
        logger.info("%s (%d %%)", message, round(100 * fraction))

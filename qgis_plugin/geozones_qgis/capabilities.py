"""What the installed geozones offers: its subcommands, area methods and units.

The provider asks ``geozones capabilities --json`` once when it loads its algorithms. The
choices of a parameter keep a fixed order (the known methods and units first, anything new the
installed geozones reports after them), so that a model saved with one geozones means the same
with the next; a choice the installed geozones lacks is marked and refused when run. No QGIS
import here.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .runner import child_environment, executable_command

#: Area methods in the order the plugin lists them; new ones come after.
KNOWN_METHODS = ("ellipsoidal", "planar", "geodesic", "survey")
#: Area units in the order the plugin lists them, with their labels (English, Chinese).
KNOWN_UNITS: dict[str, tuple[str, str]] = {
    "m2": ("m²", "平方米"),
    "ha": ("ha", "公顷"),
    "km2": ("km²", "平方千米"),
    "mu": ("mu", "亩"),
    "wan_mu": ("10,000 mu", "万亩"),
    "wan_ha": ("10,000 ha", "万公顷"),
}
#: What the plugin assumes when geozones cannot be asked (not installed yet, too old).
DEFAULT_COMMANDS = (
    "area",
    "blocks",
    "check",
    "conflicts",
    "coverage",
    "report",
    "resolve",
    "site-check",
)
#: Seconds `geozones capabilities` may take.
TIMEOUT_SECONDS = 60


@dataclass
class Capabilities:
    """The subcommands, area methods and units of one geozones installation."""

    version: str = "unknown"
    commands: tuple[str, ...] = DEFAULT_COMMANDS
    area_methods: tuple[str, ...] = ("ellipsoidal", "planar", "geodesic")
    units: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(KNOWN_UNITS))
    error: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Capabilities:
        """From the document ``geozones capabilities --json`` prints."""
        units = {
            str(unit["key"]): (str(unit.get("en", unit["key"])), str(unit.get("zh", unit["key"])))
            for unit in data.get("units", [])
        }
        return cls(
            version=str(data.get("version", "unknown")),
            commands=tuple(str(name) for name in data.get("commands", DEFAULT_COMMANDS)),
            area_methods=tuple(str(name) for name in data.get("area_methods", ())),
            units=units or dict(KNOWN_UNITS),
        )

    def method_choices(self) -> list[str]:
        """Area methods to list: the known ones in their order, then any new ones."""
        return _ordered(KNOWN_METHODS, self.area_methods)

    def unit_choices(self) -> list[str]:
        """Area units to list: the known ones in their order, then any new ones."""
        return _ordered(tuple(KNOWN_UNITS), tuple(self.units))

    def unit_label(self, key: str, lang: str) -> str:
        """``"mu (亩)"`` in English, ``"亩"`` in Chinese."""
        english, chinese = self.units.get(key) or KNOWN_UNITS.get(key) or (key, key)
        return (
            chinese
            if lang == "zh"
            else (english if english == chinese else f"{english} ({chinese})")
        )


def _ordered(known: tuple[str, ...], offered: tuple[str, ...]) -> list[str]:
    return [*known, *(name for name in offered if name not in known)]


def query(
    configured: str | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Capabilities:
    """Ask the geozones the plugin would run what it offers; the defaults if that fails.

    Parameters
    ----------
    configured : str, optional
        The Processing setting "geozones executable".
    environ : mapping, optional
        The environment to start from (default: ``os.environ``).
    timeout : float
        Seconds to wait.

    Returns
    -------
    Capabilities
        What geozones reported, or the defaults with `error` saying why not.
    """
    try:
        command = [*executable_command(configured, environ), "capabilities", "--json"]
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=child_environment(environ),
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise RuntimeError(message[-1] if message else f"exit status {done.returncode}")
        return Capabilities.from_json(json.loads(done.stdout.decode("utf-8")))
    except Exception as error:  # not installed, too old, broken: the plugin still loads
        return Capabilities(error=str(error))

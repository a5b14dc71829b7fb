"""What the installed geozones offers: its subcommands, area methods and units.

The provider asks ``geozones capabilities --json`` once when it loads its algorithms. The
choices of a parameter keep a fixed order (the known methods and units first, anything new the
installed geozones reports after them), so that a model saved with one geozones means the same
with the next; a choice the installed geozones lacks is marked and refused when run. No QGIS
import here.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
#: Seconds an answer of `geozones capabilities` is kept (an editable install of geozones
#: changes without its program changing).
CACHE_SECONDS = 3600


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
    cache: Path | None = None,
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
    cache : pathlib.Path, optional
        A JSON file keeping the answer for :data:`CACHE_SECONDS`, for the same ``geozones``
        program (path, size and modification time): every ``qgis_process`` run loads the
        provider, and asking geozones costs a Python start. A ``python`` given as the
        executable is always asked.

    Returns
    -------
    Capabilities
        What geozones reported, or the defaults with `error` saying why not.
    """
    try:
        program = executable_command(configured, environ)
        key = _cache_key(program)
        if cache is not None and key is not None:
            kept = _read_cache(cache, key)
            if kept is not None:
                return Capabilities.from_json(kept)
        done = subprocess.run(
            [*program, "capabilities", "--json"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=child_environment(environ),
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise RuntimeError(message[-1] if message else f"exit status {done.returncode}")
        document = json.loads(done.stdout.decode("utf-8"))
        if cache is not None and key is not None:
            _write_cache(cache, key, document)
        return Capabilities.from_json(document)
    except Exception as error:  # not installed, too old, broken: the plugin still loads
        return Capabilities(error=str(error))


def _cache_key(program: list[str]) -> dict[str, Any] | None:
    if len(program) != 1:  # python -m geozones: its packages change without the program
        return None
    status = os.stat(program[0])
    return {"program": program[0], "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def _read_cache(cache: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fresh = 0 <= time.time() - float(kept.get("time", 0)) < CACHE_SECONDS
    return kept.get("capabilities") if fresh and kept.get("key") == key else None


def _write_cache(cache: Path, key: dict[str, Any], document: dict[str, Any]) -> None:
    record = {"key": key, "time": time.time(), "capabilities": document}
    scratch = cache.with_name(f"{cache.name}.{os.getpid()}.part")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(scratch, cache)
    except OSError:  # a read-only profile: ask again next time
        scratch.unlink(missing_ok=True)

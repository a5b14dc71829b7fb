"""The TOML configuration the plugin writes for the subcommands that read one.

``geozones conflicts``, ``resolve``, ``site-check`` and ``report`` read a configuration. It is
the same file an analyst writes by hand (``docs/config.md``), and the algorithms show it in
their log, so a run from QGIS can be repeated on the command line. This module has no QGIS
import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: The three control lines, in the default priority: farmland, red line, urban boundary.
LINES = ("farmland", "redline", "urban")
#: Every order of the three lines, the default first.
PRIORITIES = (
    ("farmland", "redline", "urban"),
    ("farmland", "urban", "redline"),
    ("redline", "farmland", "urban"),
    ("redline", "urban", "farmland"),
    ("urban", "farmland", "redline"),
    ("urban", "redline", "farmland"),
)
#: Key of the nature-reserve core-zone layer, the mask of the usual exception.
CORE_ZONE = "core_zone"
#: The usual exception: farmland (and urban boundary) inside a core zone is taken out.
CORE_ZONE_RULE = "核心保护区内耕地调出"
CORE_ZONE_PRIORITY = ("redline", CORE_ZONE, "farmland", "urban")


@dataclass
class LayerFile:
    """One layer as geozones reads it: a file, and the layer inside it for multi-layer files."""

    path: str
    layer: str | None = None
    id_field: str | None = None
    declared_area_field: str | None = None
    encoding: str | None = None
    crs: str | None = None


@dataclass
class CheckConfig:
    """What the plugin knows of a check, written by :meth:`to_toml` as a configuration."""

    zones: LayerFile
    code_field: str
    layers: dict[str, LayerFile]
    name_field: str | None = None
    title: str | None = None
    language: str | None = None
    unit: str | None = None
    sliver_m2: float | None = None
    priority: Sequence[str] = LINES
    overrides: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, Any] = field(default_factory=dict)
    rasters: dict[str, Any] = field(default_factory=dict)
    blocks: dict[str, Any] = field(default_factory=dict)
    comment: str = ""

    def to_toml(self) -> str:
        """The configuration as TOML text."""
        out: list[str] = []
        if self.comment:
            out += [f"# {line}" if line else "#" for line in self.comment.splitlines()]
            out.append("")
        for key in ("title", "language", "unit", "sliver_m2"):
            value = getattr(self, key)
            if value is not None:
                out.append(f"{key} = {toml_value(value)}")
        out += ["", "[zones]", *_layer_lines(self.zones)]
        out.append(f"code_field = {toml_value(self.code_field)}")
        if self.name_field:
            out.append(f"name_field = {toml_value(self.name_field)}")
        for key, spec in self.layers.items():
            out += ["", f"[layers.{key}]", *_layer_lines(spec)]
            if spec.id_field:
                out.append(f"id_field = {toml_value(spec.id_field)}")
            if spec.declared_area_field:
                out.append(f"declared_area_field = {toml_value(spec.declared_area_field)}")
        out += ["", "[resolution]", f"priority = {toml_value(list(self.priority))}"]
        for override in self.overrides:
            out += ["", "[[resolution.overrides]]"]
            out += [f"{key} = {toml_value(value)}" for key, value in override.items()]
        for table in ("targets", "rasters", "blocks"):
            values = {k: v for k, v in getattr(self, table).items() if v is not None}
            if values:
                out += ["", f"[{table}]"]
                out += [f"{key} = {toml_value(value)}" for key, value in values.items()]
        return "\n".join(out) + "\n"


def _layer_lines(spec: LayerFile) -> list[str]:
    lines = [f"path = {toml_value(spec.path)}"]
    for key in ("layer", "encoding", "crs"):
        value = getattr(spec, key)
        if value:
            lines.append(f"{key} = {toml_value(value)}")
    return lines


def toml_value(value: Any) -> str:
    r"""A TOML literal for a string, number, boolean or list of them.

    Strings are basic strings with every backslash, quote and control character escaped, so
    Windows paths (``D:\\数据\\YJJBNT.shp``) and Chinese names come through unchanged.

    Examples
    --------
    >>> toml_value("D:/三区三线/YJJBNT.shp")
    '"D:/三区三线/YJJBNT.shp"'
    >>> toml_value(["farmland", "redline"]), toml_value(200.0), toml_value(True)
    ('["farmland", "redline"]', '200.0', 'true')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return repr(value)
    if isinstance(value, str):
        escaped = []
        for char in value:
            if char == "\\":
                escaped.append("\\\\")
            elif char == '"':
                escaped.append('\\"')
            elif ord(char) < 0x20 or ord(char) == 0x7F:
                escaped.append(f"\\u{ord(char):04x}")
            else:
                escaped.append(char)
        return '"' + "".join(escaped) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def parse_priority(text: str, allowed: Sequence[str]) -> list[str]:
    """Layer keys from a comma-separated order (``"redline, core_zone, farmland, urban"``).

    Raises
    ------
    ValueError
        A key that is not in `allowed`, or a key given twice; the message lists the allowed.
    """
    keys = [part.strip() for part in text.replace("，", ",").replace(">", ",").split(",")]
    keys = [key for key in keys if key]
    unknown = [key for key in keys if key not in allowed]
    if unknown or len(set(keys)) != len(keys) or not keys:
        raise ValueError(
            f"the order {text!r} must name each of {', '.join(allowed)} at most once, "
            "separated by commas"
        )
    return keys

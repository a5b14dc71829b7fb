"""Algorithms that check the three lines together: their inputs become a geozones configuration.

``geozones conflicts``, ``resolve``, ``site-check`` and ``report`` read a TOML configuration
(``docs/config.md``). These algorithms write it from their parameters into their scratch
folder and show it in the log, so the same check can be run again from the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterString,
)

from ..configfile import (
    CORE_ZONE,
    CORE_ZONE_PRIORITY,
    CORE_ZONE_RULE,
    LINES,
    PRIORITIES,
    CheckConfig,
    LayerFile,
    parse_priority,
)
from ..i18n import tr
from .base import GeozonesAlgorithm


class LinesAlgorithm(GeozonesAlgorithm):
    """A geozones algorithm whose subcommand reads a configuration of the three lines."""

    def add_zones(self, optional: bool = False) -> None:
        """The counties, their code field and name field."""
        self.add_polygons("ZONES", "zones_optional" if optional else "zones", optional=optional)
        self.add_field("ZONE_FIELD", "zone_field", "ZONES", "XZQDM", optional=True)
        self.add_field("NAME_FIELD", "name_field", "ZONES", "XZQMC", optional=True)

    def add_lines(self) -> None:
        """The three control lines."""
        for name, key in (("FARMLAND", "farmland"), ("REDLINE", "redline"), ("URBAN", "urban")):
            self.add_polygons(name, key)

    def add_priority(self) -> None:
        """The priority order and the core-zone exception."""
        labels = [" > ".join(tr(f"{key}_short") for key in order) for order in PRIORITIES]
        self.addParameter(
            QgsProcessingParameterEnum("PRIORITY", tr("priority"), options=labels, defaultValue=0)
        )
        self.add_polygons("CORE_ZONE", "core_zone", optional=True)
        self.addParameter(
            QgsProcessingParameterString(
                "CORE_ZONE_PRIORITY",
                tr("core_zone_priority"),
                defaultValue=", ".join(CORE_ZONE_PRIORITY),
            )
        )

    def check_config(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        zones: LayerFile | None = None,
    ) -> CheckConfig:
        """The configuration of the lines, zones, priority and sliver threshold given."""
        layers = {key: self.layer_file(parameters, key.upper(), context, feedback) for key in LINES}
        zone_file = zones or self.layer_file(parameters, "ZONES", context, feedback)
        if zone_file is None:
            raise QgsProcessingException(tr("no_zones"))
        code_field = self.parameterAsString(parameters, "ZONE_FIELD", context) or "XZQDM"
        name_field = self.parameterAsString(parameters, "NAME_FIELD", context) or None
        config = CheckConfig(
            zones=zone_file,
            code_field=code_field,
            name_field=name_field,
            layers={key: layer for key, layer in layers.items() if layer is not None},
            sliver_m2=self.parameterAsDouble(parameters, "SLIVER_M2", context),
        )
        if self.parameterDefinition("PRIORITY") is not None:
            config.priority = PRIORITIES[self.parameterAsEnum(parameters, "PRIORITY", context)]
        core = (
            self.layer_file(parameters, "CORE_ZONE", context, feedback)
            if self.parameterDefinition("CORE_ZONE") is not None
            else None
        )
        if core is not None:
            text = self.parameterAsString(parameters, "CORE_ZONE_PRIORITY", context)
            try:
                order = parse_priority(text, [*LINES, CORE_ZONE])
            except ValueError as error:
                raise QgsProcessingException(tr("bad_order", error=error)) from error
            config.layers[CORE_ZONE] = core
            config.overrides.append({"name": CORE_ZONE_RULE, "mask": CORE_ZONE, "priority": order})
        return config

    def write_config(
        self, config: CheckConfig, work: Path, feedback: QgsProcessingFeedback
    ) -> Path:
        """Write the configuration into `work` and show it in the log."""
        config.comment = (
            "Written by the geozones QGIS plugin; run the same check with\n"
            f"  geozones {self.command} <this file> …"
        )
        path = work / "geozones.toml"
        text = config.to_toml()
        path.write_text(text, encoding="utf-8")
        feedback.pushInfo(f"{tr('config_written')}\n{text}")
        return path

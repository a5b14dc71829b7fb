"""Coverage per county: the share of each county a layer covers, rolled up (geozones coverage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
)

from ..i18n import tr
from ..runner import Outcome
from .base import GeozonesAlgorithm


class Coverage(GeozonesAlgorithm):
    """``geozones coverage``: zone area, covered area (dissolved) and percent, per county."""

    key = "coverage"
    command = "coverage"
    group_key = "group_measure"

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_polygons("INPUT", "input")
        self.add_polygons("ZONES", "zones")
        self.add_field("ZONE_FIELD", "zone_field", "ZONES", "XZQDM", optional=True)
        self.add_field("NAME_FIELD", "name_field", "ZONES", "XZQMC", optional=True)
        self.add_unit(default="km2")
        self.add_method()
        self.addParameter(QgsProcessingParameterBoolean("ROLL_UP", tr("roll_up"), True))
        self.add_sink("OUTPUT", "out_coverage_zones")
        self.add_sink("TABLE", "out_coverage_table", geometry=False)

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        layer = self.layer_file(parameters, "INPUT", context, feedback)
        zones = self.layer_file(parameters, "ZONES", context, feedback)
        assert layer is not None and zones is not None
        name_field = self.parameterAsString(parameters, "NAME_FIELD", context)
        return [
            "coverage",
            layer.path,
            zones.path,
            *self.file_arguments(layer),
            *self.file_arguments(zones, "zones-"),
            "--by",
            self.parameterAsString(parameters, "ZONE_FIELD", context) or "XZQDM",
            *(["--name-field", name_field] if name_field else []),
            "--unit",
            self.unit(parameters, context),
            "--method",
            self.method(parameters, context),
            *(["--roll-up"] if self.parameterAsBoolean(parameters, "ROLL_UP", context) else []),
            "-o",
            str(work / "coverage.gpkg"),
        ]

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        out = work / "coverage.gpkg"
        return {
            "OUTPUT": self.copy_layer(
                parameters, "OUTPUT", context, feedback, out, "zones", "coverage", (90.0, 95.0)
            ),
            "TABLE": self.copy_layer(
                parameters, "TABLE", context, feedback, out, "coverage", None, (95.0, 100.0)
            ),
        }

"""Farmland blocks: contiguous blocks classed 百亩方 / 千亩方 / 万亩方 (``geozones blocks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
)

from ..i18n import tr
from ..runner import Outcome
from .base import GeozonesAlgorithm


class FarmlandBlocks(GeozonesAlgorithm):
    """``geozones blocks``: block outlines, parcels with their block, parcels in no block."""

    key = "blocks"
    command = "blocks"
    group_key = "group_tasks"

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_polygons("FARMLAND", "farmland")
        self.addParameter(
            QgsProcessingParameterNumber(
                "GAP_M",
                tr("gap_m"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                defaultValue=10.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "BARRIERS",
                tr("barriers"),
                [QgsProcessing.TypeVectorLine, QgsProcessing.TypeVectorPolygon],
                optional=True,
            )
        )
        self.add_polygons("ZONES", "zones_optional", optional=True)
        self.add_field("ZONE_FIELD", "zone_field", "ZONES", "XZQDM", optional=True)
        self.add_sink("BLOCKS", "out_blocks")
        self.add_sink("PARCELS", "out_parcels")
        self.add_sink("SKIPPED", "out_skipped", geometry=False)

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        farmland = self.layer_file(parameters, "FARMLAND", context, feedback)
        assert farmland is not None
        arguments = [
            "blocks",
            farmland.path,
            *self.file_arguments(farmland),
            "--gap-m",
            repr(self.parameterAsDouble(parameters, "GAP_M", context)),
            "-o",
            str(work / "blocks.gpkg"),
        ]
        barriers = self.layer_file(parameters, "BARRIERS", context, feedback)
        if barriers is not None:
            arguments += ["--barriers", barriers.path, *self.file_arguments(barriers, "barriers-")]
        zones = self.layer_file(parameters, "ZONES", context, feedback)
        if zones is not None:
            arguments += ["--zones", zones.path, *self.file_arguments(zones, "zones-")]
            field = self.parameterAsString(parameters, "ZONE_FIELD", context)
            arguments += ["--by", field] if field else []
        return arguments

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        summary = outcome.result
        classes = ", ".join(f"{key}: {value}" for key, value in summary["classes"].items())
        feedback.pushInfo(f"{summary['blocks']} blocks ({classes}); {summary['skipped']} skipped")
        out = work / "blocks.gpkg"
        return {
            "BLOCKS": self.copy_layer(
                parameters, "BLOCKS", context, feedback, out, "blocks", "blocks", (90.0, 93.0)
            ),
            "PARCELS": self.copy_layer(
                parameters, "PARCELS", context, feedback, out, "parcels", "farmland", (93.0, 99.0)
            ),
            "SKIPPED": self.copy_layer(
                parameters, "SKIPPED", context, feedback, out, "skipped", None, (99.0, 100.0)
            ),
        }

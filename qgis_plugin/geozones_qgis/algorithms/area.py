"""Area: the layer with each feature's area as a new field (``geozones area``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterString,
)

from ..i18n import tr
from ..runner import Outcome
from .base import GeozonesAlgorithm


class Area(GeozonesAlgorithm):
    """``geozones area``: ellipsoidal (or another method's) area in the unit chosen."""

    key = "area"
    command = "area"
    group_key = "group_measure"

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_polygons("INPUT", "input")
        self.add_unit(default="mu")
        self.add_method()
        self.addParameter(
            QgsProcessingParameterString("FIELD", tr("field"), defaultValue="", optional=True)
        )
        self.add_sink("OUTPUT", "out_area")

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        layer = self.layer_file(parameters, "INPUT", context, feedback)
        assert layer is not None
        field = self.parameterAsString(parameters, "FIELD", context).strip()
        return [
            "area",
            layer.path,
            *self.file_arguments(layer),
            "-o",
            str(work / "area.gpkg"),
            "--output-layer",
            "area",
            "--unit",
            self.unit(parameters, context),
            "--method",
            self.method(parameters, context),
            *(["--field", field] if field else []),
        ]

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        summary = outcome.result
        feedback.pushInfo(
            f"{summary['field']}: {summary['method']}, {summary['unit']}; "
            f"{summary['measured']} / {summary['features']}, total {summary['total']:.2f}"
        )
        output = self.copy_layer(
            parameters, "OUTPUT", context, feedback, work / "area.gpkg", "area"
        )
        return {"OUTPUT": output}

"""Check layers: what reading each layer's file would repair, guess or refuse (geozones check)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingUtils,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..configfile import LayerFile
from ..i18n import tr
from ..runner import Outcome
from .base import READABLE_FORMATS, GeozonesAlgorithm

#: Columns of the output table: (name, type), in order.
COLUMNS = (
    ("source", QVariant.String),
    ("status", QVariant.String),
    ("features", QVariant.Int),
    ("driver", QVariant.String),
    ("crs", QVariant.String),
    ("crs_source", QVariant.String),
    ("encoding", QVariant.String),
    ("encoding_source", QVariant.String),
    ("invalid_repaired", QVariant.Int),
    ("null", QVariant.Int),
    ("empty", QVariant.Int),
    ("non_polygonal", QVariant.Int),
    ("error", QVariant.String),
    ("message", QVariant.String),
)


class CheckLayers(GeozonesAlgorithm):
    """``geozones check`` on the files of the layers chosen."""

    key = "check"
    command = "check"
    group_key = "group_measure"

    def initAlgorithm(self, config: Any = None) -> None:
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "LAYERS", tr("layers"), QgsProcessing.TypeVectorAnyGeometry
            )
        )
        self.add_sink("OUTPUT", "out_checked", geometry=False)

    def accepted(self) -> list[int]:
        return [0, 2]  # 2: a file was refused, which is a finding

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        files: list[LayerFile] = []
        for number, layer in enumerate(self.parameterAsLayerList(parameters, "LAYERS", context)):
            if not isinstance(layer, QgsVectorLayer):
                continue
            path, name = QgsProcessingUtils.convertToCompatibleFormatAndLayerName(
                layer, False, f"layer_{number}", list(READABLE_FORMATS), "gpkg", context, feedback
            )
            files.append(LayerFile(path=path, layer=name or None))
        if not files:
            raise QgsProcessingException(tr("no_layers"))
        paths = list(dict.fromkeys(item.path for item in files))
        names = list(dict.fromkeys(item.layer for item in files if item.layer))
        return ["check", *paths, *(part for name in names for part in ("--layer", name))]

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        if not isinstance(outcome.result, list):
            raise QgsProcessingException(" ".join(outcome.errors) or "geozones check failed")
        fields = QgsFields()
        for name, kind in COLUMNS:
            fields.append(QgsField(name, kind))
        sink, destination = self.parameterAsSink(
            parameters, "OUTPUT", context, fields, QgsWkbTypes.NoGeometry
        )
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, "OUTPUT"))
        for row in outcome.result:
            values = dict(row)
            values["message"] = "\n".join(row.get("notes", [])) or row.get("message")
            feature = QgsFeature(fields)
            feature.setAttributes([values.get(name) for name, _ in COLUMNS])
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
            status = str(row.get("status", "")).upper()
            feedback.pushInfo(f"{status}: {row.get('source')}")
        return {"OUTPUT": destination}

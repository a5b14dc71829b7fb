"""Inspect a delivery database (质检): every rule, every feature, the verdict first.

It runs ``geozones qc`` on a GeoPackage (or a check configuration) with the default rule set
or a province's, writes qc.xlsx, qc.gpkg and qc.html to a folder, loads the located findings
of the geometry and lines families, and opens the HTML page when done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
)

from ..i18n import tr
from ..runner import Outcome
from .base import GeozonesAlgorithm
from .report import LANGUAGES

#: Outputs naming the inspection's files, by suffix.
FILES = (
    ("XLSX", ".xlsx", "out_workbook"),
    ("GPKG", ".gpkg", "out_geopackage"),
    ("HTML", ".html", "out_html"),
)


class InspectDelivery(GeozonesAlgorithm):
    """``geozones qc``: a delivery database against a rule set, feature by feature."""

    key = "qc"
    command = "qc"
    group_key = "group_tasks"

    folder = ""

    def initAlgorithm(self, config: Any = None) -> None:
        self.addParameter(
            QgsProcessingParameterFile(
                "DELIVERY", tr("qc_delivery"), fileFilter="GeoPackage (*.gpkg);;TOML (*.toml)"
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "RULES", tr("qc_rules"), fileFilter="TOML (*.toml)", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                "LANGUAGE",
                tr("language"),
                options=[tr(f"lang_{code}") for code in LANGUAGES],
                defaultValue=0,
            )
        )
        self.addParameter(QgsProcessingParameterBoolean("OVERWRITE", tr("overwrite"), False))
        self.add_open_html()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("out_folder")))
        self.add_sink("GEOMETRY_FINDINGS", "out_qc_geometry")
        self.add_sink("LINE_FINDINGS", "out_qc_lines")
        for name, _, key in FILES:
            self.addOutput(QgsProcessingOutputFile(name, tr(key)))
        self.addOutput(QgsProcessingOutputBoolean("PASSED", tr("out_qc_passed")))
        self.addOutput(QgsProcessingOutputNumber("ERRORS", tr("out_qc_errors")))
        self.addOutput(QgsProcessingOutputNumber("WARNINGS", tr("out_qc_warnings")))

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        delivery = self.parameterAsFile(parameters, "DELIVERY", context)
        # resolved once: a temporary folder is a new one at every call
        self.folder = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        arguments = [
            "qc",
            delivery,
            "--language",
            LANGUAGES[self.parameterAsEnum(parameters, "LANGUAGE", context)],
            "-o",
            self.folder,
        ]
        rules = self.parameterAsFile(parameters, "RULES", context)
        arguments += ["--rules", rules] if rules else []
        if self.parameterAsBoolean(parameters, "OVERWRITE", context):
            arguments.append("--overwrite")
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
        feedback.pushInfo(
            tr(
                "qc_summary",
                verdict=tr("qc_passed" if summary["passed"] else "qc_failed"),
                errors=summary["errors"],
                warnings=summary["warnings"],
            )
        )
        written = [Path(path) for path in summary["written"]]
        results: dict[str, Any] = {
            "OUTPUT": self.folder,
            "PASSED": summary["passed"],
            "ERRORS": summary["errors"],
            "WARNINGS": summary["warnings"],
        }
        for name, suffix, _ in FILES:
            results[name] = str(next(path for path in written if path.suffix == suffix))
        geopackage = Path(results["GPKG"])
        results["GEOMETRY_FINDINGS"] = self.copy_layer(
            parameters,
            "GEOMETRY_FINDINGS",
            context,
            feedback,
            geopackage,
            "qc_geometry",
            "qc",
            (90.0, 95.0),
        )
        results["LINE_FINDINGS"] = self.copy_layer(
            parameters,
            "LINE_FINDINGS",
            context,
            feedback,
            geopackage,
            "qc_lines",
            "qc",
            (95.0, 100.0),
        )
        self.open_when_done(parameters, context, results["HTML"])
        return results

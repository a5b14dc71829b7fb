"""Batch report: workbook, GeoPackage and HTML, for the whole area and per county.

It runs ``geozones report``; the HTML opens when done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..i18n import language, tr
from ..runner import Outcome
from .lines import LinesAlgorithm

LANGUAGES = ("zh", "en")
#: Outputs naming the main report's files, by suffix.
FILES = (
    ("XLSX", ".xlsx", "out_workbook"),
    ("GPKG", ".gpkg", "out_geopackage"),
    ("HTML", ".html", "out_html"),
)


class BatchReport(LinesAlgorithm):
    """``geozones report``: the report of the check, and one per county on request."""

    key = "report"
    command = "report"
    group_key = "group_tasks"

    folder = ""

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_lines()
        self.add_zones()
        self.add_priority()
        self.add_sliver()
        self.addParameter(
            QgsProcessingParameterString("TITLE", tr("title"), defaultValue="三区三线 冲突检查")
        )
        default_language = LANGUAGES.index(language())
        self.addParameter(
            QgsProcessingParameterEnum(
                "LANGUAGE",
                tr("language"),
                options=[tr(f"lang_{code}") for code in LANGUAGES],
                defaultValue=default_language,
            )
        )
        self.add_unit(default="mu")
        self.add_field(
            "DECLARED_AREA_FIELD", "declared_area_field", "FARMLAND", "TBMJ", optional=True
        )
        for name, key in (
            ("REDLINE_MIN", "redline_min"),
            ("FARMLAND_MIN", "farmland_min"),
            ("INTENSITY_MAX", "intensity_max"),
        ):
            self.addParameter(
                QgsProcessingParameterNumber(
                    name,
                    tr(key),
                    type=QgsProcessingParameterNumber.Double,
                    minValue=0.0,
                    optional=True,
                )
            )
        self.add_unit("TARGET_UNIT", default="km2", text_key="target_unit")
        self.addParameter(QgsProcessingParameterRasterLayer("DEM", tr("dem"), optional=True))
        self.addParameter(
            QgsProcessingParameterRasterLayer("LANDCOVER", tr("landcover"), optional=True)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "BLOCKS_GAP_M",
                tr("blocks_gap"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                defaultValue=0.0,
            )
        )
        self.addParameter(QgsProcessingParameterBoolean("BY_COUNTY", tr("by_county"), True))
        self.addParameter(QgsProcessingParameterBoolean("OVERWRITE", tr("overwrite"), False))
        self.add_open_html()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("out_folder")))
        for name, _, key in FILES:
            self.addOutput(QgsProcessingOutputFile(name, tr(key)))

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        config = self.check_config(parameters, context, feedback)
        config.title = self.parameterAsString(parameters, "TITLE", context) or None
        config.language = LANGUAGES[self.parameterAsEnum(parameters, "LANGUAGE", context)]
        config.unit = self.unit(parameters, context)
        declared = self.parameterAsString(parameters, "DECLARED_AREA_FIELD", context)
        if declared and "farmland" in config.layers:
            config.layers["farmland"].declared_area_field = declared
        targets = {
            "redline_min": self.optional_number(parameters, "REDLINE_MIN", context),
            "farmland_min": self.optional_number(parameters, "FARMLAND_MIN", context),
            "development_intensity_max_percent": self.optional_number(
                parameters, "INTENSITY_MAX", context
            ),
        }
        if any(value is not None for value in targets.values()):
            config.targets = {"unit": self.unit(parameters, context, "TARGET_UNIT"), **targets}
        rasters = {
            key: layer.source()
            for key, name in (("dem", "DEM"), ("landcover", "LANDCOVER"))
            for layer in [self.parameterAsRasterLayer(parameters, name, context)]
            if layer is not None
        }
        config.rasters = rasters
        gap = self.parameterAsDouble(parameters, "BLOCKS_GAP_M", context)
        if gap > 0:
            config.blocks = {"gap_m": gap}
        path = self.write_config(config, work, feedback)
        # resolved once: a temporary folder is a new one at every call
        self.folder = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        arguments = ["report", str(path), "-o", self.folder]
        if self.parameterAsBoolean(parameters, "BY_COUNTY", context):
            arguments += ["--by", "county"]
        if self.parameterAsBoolean(parameters, "OVERWRITE", context):
            arguments.append("--overwrite")
        return arguments

    def optional_number(
        self, parameters: dict[str, Any], name: str, context: QgsProcessingContext
    ) -> float | None:
        """A number parameter, None when left empty."""
        if parameters.get(name) in (None, ""):
            return None
        return self.parameterAsDouble(parameters, name, context)

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        written = [Path(path) for path in outcome.result["written"]]
        verdict = "no conflict" if outcome.result["verdict_ok"] else "conflicts found"
        feedback.pushInfo(f"{verdict}; {len(written)} files written")
        results: dict[str, Any] = {"OUTPUT": self.folder}
        for name, suffix, _ in FILES:
            results[name] = str(next(path for path in written if path.suffix == suffix))
        self.open_when_done(parameters, context, results["HTML"])
        return results

"""Compare two versions of a line: land taken out and put in, the balance, the rules.

It runs ``geozones compare`` and loads what was taken out (red) and put in (blue); the
workbook, GeoPackage and HTML page are written to a folder, and the HTML opens when done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
)

from ..i18n import tr
from ..runner import Outcome
from .base import GeozonesAlgorithm
from .report import LANGUAGES

#: The lines whose rules geozones compare checks, as its --line names them.
LINES = ("farmland", "redline", "urban", "other")
#: Outputs naming the comparison's files, by suffix.
FILES = (
    ("XLSX", ".xlsx", "out_workbook"),
    ("GPKG", ".gpkg", "out_geopackage"),
    ("HTML", ".html", "out_html"),
)
#: Optional numbers: parameter, i18n key, geozones option.
RULE_NUMBERS = (
    ("NET_MIN", "compare_net_min", "--net-min"),
    ("CAP", "compare_cap", "--cap"),
    ("CAP_PERCENT", "compare_cap_percent", "--cap-percent"),
    ("URBAN_LAND_2020", "compare_urban_land_2020", "--urban-land-2020"),
)


class CompareVersions(GeozonesAlgorithm):
    """``geozones compare``: two versions of a line, what moved between them, the balance."""

    key = "compare"
    command = "compare"
    group_key = "group_tasks"

    folder = ""

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_polygons("BEFORE", "compare_before")
        self.add_polygons("AFTER", "compare_after")
        self.addParameter(
            QgsProcessingParameterEnum(
                "LINE",
                tr("compare_line"),
                options=[tr(f"compare_line_{line}") for line in LINES],
                defaultValue=0,
            )
        )
        self.add_field("ID_FIELD", "compare_id_field", "BEFORE", "BSM", optional=True)
        self.add_polygons("ZONES", "zones_optional", optional=True)
        self.add_field("ZONE_FIELD", "zone_field", "ZONES", "XZQDM", optional=True)
        self.add_unit(default="mu")
        self.addParameter(
            QgsProcessingParameterNumber(
                "XY_TOLERANCE",
                tr("xy_tolerance"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                defaultValue=0.001,
            )
        )
        for name, text_key, _ in RULE_NUMBERS:
            self.addParameter(
                QgsProcessingParameterNumber(
                    name, tr(text_key), type=QgsProcessingParameterNumber.Double, optional=True
                )
            )
        self.addParameter(
            QgsProcessingParameterNumber(
                "EXPANSION_MULTIPLE",
                tr("compare_expansion_multiple"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                defaultValue=1.3,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean("NO_QUALITY", tr("compare_no_quality"), False)
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
        self.add_sink("TAKEN_OUT", "out_taken_out")
        self.add_sink("PUT_IN", "out_put_in")
        for name, _, key in FILES:
            self.addOutput(QgsProcessingOutputFile(name, tr(key)))
        self.addOutput(QgsProcessingOutputBoolean("RULES_MET", tr("out_rules_met")))

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        before = self.layer_file(parameters, "BEFORE", context, feedback)
        after = self.layer_file(parameters, "AFTER", context, feedback)
        assert before is not None and after is not None
        line = LINES[self.parameterAsEnum(parameters, "LINE", context)]
        # resolved once: a temporary folder is a new one at every call
        self.folder = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        arguments = [
            "compare",
            before.path,
            after.path,
            *self.file_arguments(before, "before-"),
            *self.file_arguments(after, "after-"),
            "--line",
            line,
            "--unit",
            self.unit(parameters, context),
            "--xy-tolerance",
            repr(self.parameterAsDouble(parameters, "XY_TOLERANCE", context)),
            "--language",
            LANGUAGES[self.parameterAsEnum(parameters, "LANGUAGE", context)],
            "-o",
            self.folder,
        ]
        id_field = self.parameterAsString(parameters, "ID_FIELD", context)
        arguments += ["--id-field", id_field] if id_field else []
        zones = self.layer_file(parameters, "ZONES", context, feedback)
        if zones is not None:
            arguments += ["--zones", zones.path, *self.file_arguments(zones, "zones-")]
            field = self.parameterAsString(parameters, "ZONE_FIELD", context)
            arguments += ["--zone-field", field] if field else []
        for name, _, option in RULE_NUMBERS:
            if parameters.get(name) in (None, ""):
                continue
            if line != "urban" and option != "--net-min":
                feedback.pushWarning(tr("compare_urban_only", option=option, line=line))
                continue
            arguments += [option, repr(self.parameterAsDouble(parameters, name, context))]
        if line == "urban":
            multiple = self.parameterAsDouble(parameters, "EXPANSION_MULTIPLE", context)
            arguments += ["--expansion-multiple", repr(multiple)]
        if self.parameterAsBoolean(parameters, "NO_QUALITY", context) and line == "farmland":
            arguments.append("--no-quality")
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
        total = next(row for row in summary["balance"] if row["level"] == "total")
        feedback.pushInfo(
            tr(
                "compare_summary",
                matching=summary["matching"],
                changes=summary["changes"],
                before=f"{total['before']:.4f}",
                out=f"{total['out']:.4f}",
                put_in=f"{total['in']:.4f}",
                after=f"{total['after']:.4f}",
                unit=summary["unit"],
            )
        )
        verdict = summary["verdict_ok"]
        if verdict is not None:
            feedback.pushInfo(tr("compare_rules_met" if verdict else "compare_rules_not_met"))
        written = [Path(path) for path in summary["written"]]
        results: dict[str, Any] = {"OUTPUT": self.folder, "RULES_MET": verdict}
        for name, suffix, _ in FILES:
            results[name] = str(next(path for path in written if path.suffix == suffix))
        geopackage = Path(results["GPKG"])
        span = (90.0, 95.0)
        results["TAKEN_OUT"] = self.copy_layer(
            parameters, "TAKEN_OUT", context, feedback, geopackage, "taken_out", "taken_out", span
        )
        results["PUT_IN"] = self.copy_layer(
            parameters, "PUT_IN", context, feedback, geopackage, "put_in", "put_in", (95.0, 100.0)
        )
        self.open_when_done(parameters, context, results["HTML"])
        return results

"""Site check: a project footprint against the lines (``geozones site-check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback

from ..configfile import LayerFile
from ..runner import Outcome
from .lines import LinesAlgorithm


class SiteCheck(LinesAlgorithm):
    """``geozones site-check``: farmland and red line taken, area outside the urban boundary."""

    key = "site_check"
    command = "site-check"
    group_key = "group_tasks"

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_polygons("FOOTPRINT", "footprint")
        self.add_lines()
        self.add_unit(default="mu")
        self.add_sliver()
        self.add_sink("OUTPUT", "out_site_check")

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        footprint = self.layer_file(parameters, "FOOTPRINT", context, feedback)
        assert footprint is not None
        # site-check reads no zones, but a configuration names them: the footprint stands in
        config = self.check_config(
            parameters, context, feedback, zones=LayerFile(footprint.path, footprint.layer)
        )
        path = self.write_config(config, work, feedback)
        return [
            "site-check",
            footprint.path,
            str(path),
            *self.file_arguments(footprint),
            "--unit",
            self.unit(parameters, context),
            "-o",
            str(work / "site_check.gpkg"),
        ]

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        for row in outcome.result:
            feedback.pushInfo(f"{row['feature']}: {row['verdict']}; {row['reasons']}")
        output = self.copy_layer(
            parameters,
            "OUTPUT",
            context,
            feedback,
            work / "site_check.gpkg",
            "site_check",
            "site_check",
        )
        return {"OUTPUT": output}

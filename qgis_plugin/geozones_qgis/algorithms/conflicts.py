"""Find conflicts: every overlap between the lines and inside each (``geozones conflicts``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback

from ..runner import Outcome
from .lines import LinesAlgorithm


class FindConflicts(LinesAlgorithm):
    """``geozones conflicts``: the pieces, the planarised overlaps and the summary."""

    key = "conflicts"
    command = "conflicts"
    group_key = "group_conflicts"

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_lines()
        self.add_zones()
        self.add_sliver()
        self.add_sink("CONFLICTS", "out_conflicts")
        self.add_sink("OVERLAP_COUNT", "out_overlap_count")
        self.add_sink("SUMMARY", "out_summary", geometry=False)

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        config = self.check_config(parameters, context, feedback)
        path = self.write_config(config, work, feedback)
        return ["conflicts", str(path), "-o", str(work / "conflicts.gpkg")]

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        summary = outcome.result
        feedback.pushInfo(f"{summary['pieces']} pieces, {summary['conflicts']} above the threshold")
        out = work / "conflicts.gpkg"
        return {
            "CONFLICTS": self.copy_layer(
                parameters,
                "CONFLICTS",
                context,
                feedback,
                out,
                "conflicts",
                "conflicts",
                (90.0, 95.0),
            ),
            "OVERLAP_COUNT": self.copy_layer(
                parameters,
                "OVERLAP_COUNT",
                context,
                feedback,
                out,
                "overlap_count",
                "overlap_count",
                (95.0, 98.0),
            ),
            "SUMMARY": self.copy_layer(
                parameters, "SUMMARY", context, feedback, out, "summary", None, (98.0, 100.0)
            ),
        }

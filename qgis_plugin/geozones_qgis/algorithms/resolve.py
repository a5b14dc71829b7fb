"""Resolve conflicts: the lines after the priority order, and the audit (``geozones resolve``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback

from ..runner import Outcome
from .lines import LinesAlgorithm

#: Output parameter, geozones layer and style of each resolved line.
RESOLVED = (
    ("RESOLVED_FARMLAND", "resolved_farmland", "farmland"),
    ("RESOLVED_REDLINE", "resolved_redline", "redline"),
    ("RESOLVED_URBAN", "resolved_urban", "urban"),
)


class ResolveConflicts(LinesAlgorithm):
    """``geozones resolve``: each overlap taken out of the lower line, every piece recorded."""

    key = "resolve"
    command = "resolve"
    group_key = "group_conflicts"

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_lines()
        self.add_zones()
        self.add_priority()
        self.add_sliver()
        for name, layer, _ in RESOLVED:
            self.add_sink(name, f"out_{layer}")
        self.add_sink("AUDIT", "out_audit")

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        config = self.check_config(parameters, context, feedback)
        path = self.write_config(config, work, feedback)
        return ["resolve", str(path), "-o", str(work / "resolved.gpkg")]

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        summary = outcome.result
        for key, area in summary["taken_m2"].items():
            feedback.pushInfo(
                f"{key}: {summary['trimmed'][key]} trimmed, {summary['removed'][key]} removed, "
                f"{area:.2f} m² taken out"
            )
        out = work / "resolved.gpkg"
        results: dict[str, Any] = {}
        for number, (name, layer, style) in enumerate(RESOLVED):
            span = (90.0 + 2.5 * number, 92.5 + 2.5 * number)
            results[name] = self.copy_layer(
                parameters, name, context, feedback, out, layer, style, span
            )
        results["AUDIT"] = self.copy_layer(
            parameters, "AUDIT", context, feedback, out, "audit", "conflicts", (97.5, 100.0)
        )
        return results

"""Reports: the content of a check (:class:`Report`), and writers for each output format."""

from geozones.report.model import Report, build_report

__all__ = ["Report", "build_report"]

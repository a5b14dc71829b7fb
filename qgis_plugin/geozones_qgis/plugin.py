"""The plugin object QGIS creates: it registers the Processing provider, nothing else."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsApplication

from .provider import GeozonesProvider


class GeozonesPlugin:
    """Adds the geozones provider to Processing (in QGIS and in qgis_process)."""

    def __init__(self, iface: Any = None) -> None:
        self.iface = iface
        self.provider: GeozonesProvider | None = None

    def initProcessing(self) -> None:
        """Register the provider; qgis_process calls only this."""
        if self.provider is None:
            self.provider = GeozonesProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        """QGIS calls this at start: the provider is all the plugin adds."""
        self.initProcessing()

    def unload(self) -> None:
        """Remove the provider."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

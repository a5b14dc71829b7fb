"""The geozones Processing provider: its setting and its algorithms."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms.area import Area
from .algorithms.base import EXECUTABLE_SETTING, GeozonesAlgorithm, executable_setting
from .algorithms.blocks import FarmlandBlocks
from .algorithms.check import CheckLayers
from .algorithms.compare import CompareVersions
from .algorithms.conflicts import FindConflicts
from .algorithms.coverage import Coverage
from .algorithms.qc import InspectDelivery
from .algorithms.report import BatchReport
from .algorithms.resolve import ResolveConflicts
from .algorithms.site_check import SiteCheck
from .capabilities import Capabilities, query
from .i18n import tr

#: Every algorithm class, in toolbox order. An algorithm whose subcommand the installed
#: geozones lacks is left out of the toolbox (a new subcommand is one module and one line here).
ALGORITHMS: list[type] = [
    CheckLayers,
    Area,
    Coverage,
    FindConflicts,
    ResolveConflicts,
    SiteCheck,
    FarmlandBlocks,
    CompareVersions,
    InspectDelivery,
    BatchReport,
]
ICON = Path(__file__).resolve().parent / "icon.svg"


class GeozonesProvider(QgsProcessingProvider):
    """The ``geozones`` provider of the Processing toolbox."""

    def __init__(self) -> None:
        super().__init__()
        self.capabilities: Capabilities | None = None

    def id(self) -> str:
        return "geozones"

    def name(self) -> str:
        return tr("provider")

    def longName(self) -> str:
        version = self.capabilities.version if self.capabilities else "?"
        return f"{tr('provider')} — geozones {version}"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def load(self) -> bool:
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
        except ImportError:  # Processing's Python framework is not there: no setting
            pass
        else:
            ProcessingConfig.settingIcons[self.name()] = self.icon()
            ProcessingConfig.addSetting(
                Setting(
                    self.name(),
                    EXECUTABLE_SETTING,
                    tr("setting_executable"),
                    "",
                    valuetype=Setting.FILE,
                )
            )
            ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self) -> None:
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
        except ImportError:
            return
        ProcessingConfig.removeSetting(EXECUTABLE_SETTING)

    def loadAlgorithms(self) -> None:
        cache = Path(QgsApplication.qgisSettingsDirPath()) / "geozones" / "capabilities.json"
        self.capabilities = query(executable_setting(), cache=cache)
        if self.capabilities.error:
            QgsMessageLog.logMessage(
                tr("capabilities_failed", error=self.capabilities.error), "geozones", Qgis.Warning
            )
        for algorithm_class in ALGORITHMS:
            algorithm: GeozonesAlgorithm = algorithm_class(self.capabilities)
            if algorithm.offered():
                self.addAlgorithm(algorithm)

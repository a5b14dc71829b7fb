"""What every geozones algorithm shares: parameters, layers as files, running geozones, outputs.

An algorithm names its geozones subcommand, declares its parameters, turns them into the
command's arguments (:meth:`GeozonesAlgorithm.arguments`) and copies the layers geozones wrote
into its Processing outputs (:meth:`GeozonesAlgorithm.outputs`). Layers that are files geozones
can read (Shapefile, GeoPackage, File Geodatabase, GeoJSON, FlatGeobuf) are passed to it as
they are, so geozones sees the encoding, CRS and geometries of the file itself; other layers
(memory layers, database tables, a selection, a filter) are first written to a GeoPackage.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingUtils,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices, QIcon

from ..capabilities import Capabilities
from ..configfile import LayerFile
from ..i18n import TEXTS, language, tr
from ..runner import GeozonesCanceled, GeozonesFailed, GeozonesNotFound, Outcome, run_geozones
from ..styles import StylePostProcessor

#: File formats geozones reads as they are (lower-case suffixes, as Processing compares them).
READABLE_FORMATS = ("shp", "gpkg", "gdb", "geojson", "json", "fgb")
#: Platforms that show no browser: qgis_process and scripts.
HEADLESS = ("qgis_process", "external")
#: Name of the Processing setting holding the geozones executable.
EXECUTABLE_SETTING = "GEOZONES_EXECUTABLE"
#: Fields that name features in the delivery databases (标识码), used as ids when present.
ID_FIELDS = ("BSM",)
ICON = Path(__file__).resolve().parent.parent / "icon.svg"


@contextmanager
def quiet_gdal() -> Iterator[None]:
    """Silence GDAL's messages in this thread while the plugin reads what geozones wrote.

    geozones' GDAL writes GeoPackage 1.4, which an older GDAL in QGIS (3.6 in Debian 12) reads
    fully but with a warning on every open.
    """
    try:
        from osgeo import gdal
    except ImportError:  # QGIS without GDAL's Python bindings
        yield
        return
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        yield
    finally:
        gdal.PopErrorHandler()


def shapefile_without_prj(path: str) -> bool:
    """Whether `path` is a shapefile with no ``.prj`` beside it."""
    shapefile = Path(path)
    if shapefile.suffix.lower() != ".shp":
        return False
    return not any(
        sibling.suffix.lower() == ".prj" and sibling.stem == shapefile.stem
        for sibling in shapefile.parent.glob(f"{shapefile.stem}.*")
    )


def executable_setting() -> str | None:
    """The Processing setting "geozones executable" (None outside the Processing framework)."""
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        value = ProcessingConfig.getSetting(EXECUTABLE_SETTING)
    except Exception:  # the setting is not registered (a script without the provider)
        return None
    return str(value) if value else None


class GeozonesAlgorithm(QgsProcessingAlgorithm):
    """A Processing algorithm that runs one ``geozones`` subcommand."""

    #: Algorithm id (``geozones:<key>``); its name and help are the i18n keys alg_/help_<key>.
    key = ""
    #: The geozones subcommand it runs.
    command = ""
    #: i18n key of its group.
    group_key = "group_measure"

    def __init__(self, capabilities: Capabilities | None = None) -> None:
        super().__init__()
        self.capabilities = capabilities or Capabilities()
        self.html_to_open: str | None = None

    # -- identity --------------------------------------------------------------------------

    def createInstance(self) -> GeozonesAlgorithm:
        return type(self)(self.capabilities)

    def name(self) -> str:
        return self.key

    def displayName(self) -> str:
        return tr(f"alg_{self.key}")

    def group(self) -> str:
        return tr(self.group_key)

    def groupId(self) -> str:
        return self.group_key

    def shortHelpString(self) -> str:
        offered = "" if self.offered() else f"\n\n{self.not_offered_message()}"
        return tr(f"help_{self.key}") + offered

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    # -- capabilities ----------------------------------------------------------------------

    def offered(self) -> bool:
        """Whether the installed geozones has the subcommand (assumed when it cannot be asked)."""
        return self.capabilities.error is not None or self.command in self.capabilities.commands

    def not_offered_message(self, what: str | None = None) -> str:
        """The message for a subcommand or choice the installed geozones lacks."""
        return tr(
            "not_offered_error",
            version=self.capabilities.version,
            what=what or f"`geozones {self.command}`",
        )

    def checkParameterValues(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> Any:
        if not self.offered():
            return False, self.not_offered_message()
        return super().checkParameterValues(parameters, context)

    # -- parameters ------------------------------------------------------------------------

    def add_polygons(self, name: str, text_key: str, optional: bool = False) -> None:
        """A polygon layer input."""
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                name, tr(text_key), [QgsProcessing.TypeVectorPolygon], optional=optional
            )
        )

    def add_field(
        self, name: str, text_key: str, parent: str, default: str | None, optional: bool
    ) -> None:
        """A field of the layer `parent`."""
        self.addParameter(
            QgsProcessingParameterField(
                name,
                tr(text_key),
                defaultValue=default,
                parentLayerParameterName=parent,
                optional=optional,
            )
        )

    def add_unit(self, name: str = "UNIT", default: str = "mu", text_key: str = "unit") -> None:
        """A choice of area unit, as the installed geozones names them."""
        choices = self.capabilities.unit_choices()
        lang = language()
        labels = [self.capabilities.unit_label(unit, lang) for unit in choices]
        self.addParameter(
            QgsProcessingParameterEnum(
                name, tr(text_key), options=labels, defaultValue=choices.index(default)
            )
        )

    def unit(
        self, parameters: dict[str, Any], context: QgsProcessingContext, name: str = "UNIT"
    ) -> str:
        """The unit key chosen."""
        return self.capabilities.unit_choices()[self.parameterAsEnum(parameters, name, context)]

    def add_method(self, name: str = "METHOD") -> None:
        """A choice of area method: the known ones first, then those the installed geozones adds."""
        labels = []
        for method in self.capabilities.method_choices():
            key = f"method_{method}"
            label = tr(key) if key in TEXTS else method
            if self.capabilities.error is None and method not in self.capabilities.area_methods:
                label += f" — {tr('not_offered')}"
            labels.append(label)
        self.addParameter(
            QgsProcessingParameterEnum(name, tr("method"), options=labels, defaultValue=0)
        )

    def method(
        self, parameters: dict[str, Any], context: QgsProcessingContext, name: str = "METHOD"
    ) -> str:
        """The area method chosen; refused when the installed geozones lacks it."""
        method = self.capabilities.method_choices()[self.parameterAsEnum(parameters, name, context)]
        if self.capabilities.error is None and method not in self.capabilities.area_methods:
            raise QgsProcessingException(self.not_offered_message(f"the area method {method}"))
        return method

    def add_sliver(self) -> None:
        """The sliver threshold, in m²."""
        self.addParameter(
            QgsProcessingParameterNumber(
                "SLIVER_M2",
                tr("sliver_m2"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                defaultValue=200.0,
            )
        )

    def add_sink(self, name: str, text_key: str, geometry: bool = True) -> None:
        """An output layer (or table, without geometry)."""
        kind = QgsProcessing.TypeVectorPolygon if geometry else QgsProcessing.TypeVector
        self.addParameter(QgsProcessingParameterFeatureSink(name, tr(text_key), kind))

    # -- inputs as files -------------------------------------------------------------------

    def layer_file(
        self,
        parameters: dict[str, Any],
        name: str,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> LayerFile | None:
        """The file geozones reads for a layer input (the layer's own, or a GeoPackage copy)."""
        if parameters.get(name) in (None, ""):
            return None
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None
        path, layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, list(READABLE_FORMATS), "gpkg", feedback
        )
        if Path(path).suffix.lower() in (".shp", ".geojson", ".json", ".fgb"):
            layer = ""
        names = source.fields().names()
        id_field = next((field for field in ID_FIELDS if field in names), None)
        crs = None
        if shapefile_without_prj(path) and source.sourceCrs().isValid():
            # the file has no CRS: the one the analyst gave the layer in QGIS (geozones still
            # checks it against the coordinates)
            crs = source.sourceCrs().authid() or source.sourceCrs().toWkt()
        return LayerFile(path=path, layer=layer or None, id_field=id_field, crs=crs)

    @staticmethod
    def file_arguments(layer: LayerFile, prefix: str = "") -> list[str]:
        """The ``--layer`` and ``--crs`` options of a layer (``--zones-layer``… with a prefix)."""
        arguments = [f"--{prefix}layer", layer.layer] if layer.layer else []
        return arguments + ([f"--{prefix}crs", layer.crs] if layer.crs else [])

    # -- running ---------------------------------------------------------------------------

    def work_folder(self) -> Path:
        """A new scratch folder in Processing's temporary folder."""
        return Path(tempfile.mkdtemp(prefix="geozones-", dir=QgsProcessingUtils.tempFolder()))

    def geozones(
        self,
        arguments: Sequence[str],
        feedback: QgsProcessingFeedback,
        accept: Sequence[int] = (0,),
        span: tuple = (0.0, 90.0),
    ) -> Outcome:
        """Run ``geozones ARGUMENTS``; its errors become Processing errors with its message."""
        try:
            return run_geozones(
                [str(argument) for argument in arguments],
                feedback,
                configured=executable_setting(),
                accept=accept,
                progress_span=span,
            )
        except GeozonesCanceled as error:
            raise QgsProcessingException(tr("cancelled")) from error
        except GeozonesNotFound as error:
            raise QgsProcessingException(str(error)) from error
        except GeozonesFailed as error:
            message = str(error)
            if "has no CRS" in message:
                message += " " + tr("hint_crs")
            raise QgsProcessingException(message) from error

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        work = self.work_folder()
        try:
            arguments = self.arguments(parameters, context, feedback, work)
            outcome = self.geozones([*arguments, "--json"], feedback, accept=self.accepted())
            return self.outputs(parameters, context, feedback, work, outcome)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def accepted(self) -> Sequence[int]:
        """Exit statuses that are results, not errors."""
        return (0,)

    def arguments(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
    ) -> list[str]:
        """The subcommand and its arguments (without ``--json``)."""
        raise NotImplementedError

    def outputs(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        work: Path,
        outcome: Outcome,
    ) -> dict[str, Any]:
        """The Processing outputs, from what geozones wrote in `work`."""
        raise NotImplementedError

    # -- outputs ---------------------------------------------------------------------------

    def add_open_html(self) -> None:
        """The choice to open the HTML page an algorithm writes (reports) when it is done."""
        self.addParameter(QgsProcessingParameterBoolean("OPEN_HTML", tr("open_html"), True))

    def open_when_done(
        self, parameters: dict[str, Any], context: QgsProcessingContext, html: str
    ) -> None:
        """Open `html` in the browser after the run, if asked (never in qgis_process)."""
        if self.parameterAsBoolean(parameters, "OPEN_HTML", context):
            self.html_to_open = html

    def postProcessAlgorithm(
        self, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        if self.html_to_open and QgsApplication.platform() not in HEADLESS:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.html_to_open))
        return {}

    def copy_layer(
        self,
        parameters: dict[str, Any],
        name: str,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        geopackage: Path,
        layer: str,
        style: str | None = None,
        span: tuple = (90.0, 100.0),
    ) -> str | None:
        """Copy one layer geozones wrote into the output `name`; style it when it is loaded.

        Every feature and field is copied as it is (doubles to the last bit), except the
        GeoPackage's own ``fid``.
        """
        if parameters.get(name) is None and name in parameters:
            return None  # output switched off
        with quiet_gdal():
            return self._copy_layer(
                parameters, name, context, feedback, geopackage, layer, style, span
            )

    def _copy_layer(
        self,
        parameters: dict[str, Any],
        name: str,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        geopackage: Path,
        layer: str,
        style: str | None,
        span: tuple,
    ) -> str | None:
        source = QgsVectorLayer(f"{geopackage}|layername={layer}", layer, "ogr")
        if not source.isValid():
            raise QgsProcessingException(f"geozones wrote no layer {layer} in {geopackage}")
        keep = [i for i, field in enumerate(source.fields()) if field.name().lower() != "fid"]
        fields = QgsFields()
        for index in keep:
            fields.append(source.fields().at(index))
        sink, destination = self.parameterAsSink(
            parameters, name, context, fields, source.wkbType(), source.crs()
        )
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, name))
        total = max(source.featureCount(), 1)
        start, stop = span
        for number, feature in enumerate(source.getFeatures()):
            if feedback.isCanceled():
                break
            copied = QgsFeature(fields)
            if feature.hasGeometry():  # a null geometry stays null, not empty
                copied.setGeometry(feature.geometry())
            copied.setAttributes([feature.attributes()[index] for index in keep])
            sink.addFeature(copied, QgsFeatureSink.FastInsert)
            if number % 1000 == 0:
                feedback.setProgress(start + (stop - start) * number / total)
        if style and context.willLoadLayerOnCompletion(destination):
            details = context.layerToLoadOnCompletionDetails(destination)
            details.setPostProcessor(StylePostProcessor.create(style))
        return destination

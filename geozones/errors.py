"""Errors and warnings raised by geozones.

Every error derives from :class:`GeozonesError` and from the built-in exception that fits it
(``OSError`` for files, ``ValueError`` for data), so ``except ValueError`` in existing code keeps
working. Every warning derives from :class:`GeozonesWarning`.
"""

from __future__ import annotations


class GeozonesError(Exception):
    """Base class of every error raised by geozones."""


class DataSourceError(GeozonesError, OSError):
    """A file or layer cannot be opened or read: missing, unreadable, truncated or not a dataset."""


class LayerNotFoundError(DataSourceError):
    """The requested layer does not exist in the dataset."""


class EmptyLayerError(GeozonesError, ValueError):
    """A layer has no features where features are needed."""


class EncodingError(GeozonesError, ValueError):
    """Attribute text cannot be decoded with the declared or any detectable encoding."""


class CRSError(GeozonesError, ValueError):
    """A coordinate reference system is unusable for the requested operation."""


class MissingCRSError(CRSError):
    """A layer has no CRS; the message names the CRS its coordinates suggest."""


class CRSMismatchError(CRSError):
    """A declared CRS is contradicted by the coordinates, or layers disagree on their CRS."""


class GeometryError(GeozonesError, ValueError):
    """Geometries that cannot be used for the requested operation."""


class NonPolygonalGeometryError(GeometryError):
    """Points or lines where a polygon layer is needed (area, coverage, conflicts)."""


class OptionError(GeozonesError, ValueError):
    """An option value geozones does not know (an area unit, a level, a layer key).

    The message names the nearest known value and lists them all.
    """


class ArgumentTypeError(GeozonesError, TypeError):
    """An argument of the wrong type: a path or a string where a layer or a result goes.

    The message names the argument and the type it needs.
    """


class MissingDependencyError(GeozonesError, ImportError):
    """An optional package a feature needs is not installed; the message says how to install it."""


class ToleranceError(GeozonesError, ValueError):
    """A coordinate tolerance (``xy_tolerance``) that is not a number of metres from 0 to 1."""


class FieldError(GeozonesError, KeyError):
    """A required attribute field is missing or holds unusable values."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0]) if self.args else ""


class ControlTotalError(GeozonesError, ValueError):
    """Areas cannot be adjusted to their control totals (平差).

    A zone without a control total, a negative or missing area or total, or a total to
    spread over no area.
    """


class ShapefilePartsError(DataSourceError):
    """A shapefile's ``.shp``, ``.shx`` and ``.dbf`` disagree on how many features it has."""


class CoordinateError(GeometryError):
    """Coordinates no measurement can use: NaN, infinite or huge, a pole, the 180° line."""


class ZoneError(GeozonesError, ValueError):
    """Zones that cannot be reported by: missing, repeated or malformed codes, overlaps."""


class OutputError(GeozonesError, OSError):
    """An output cannot be written where asked: under a file, a name too long, not geozones'."""


class OutputExistsError(OutputError, FileExistsError):
    """An output exists and ``overwrite`` (``--overwrite``) was not given."""


class OutputLockedError(OutputError):
    """Another geozones run is writing the same output; the message names its process."""


class SchedulerError(GeozonesError, ConnectionError):
    """A Dask scheduler address is malformed, or no scheduler answers there."""


class PartitionError(GeozonesError, RuntimeError):
    """One or more zones of a streamed or distributed run failed; the message names each."""

    def __init__(self, message: str, *, failed: dict[str, BaseException] | None = None) -> None:
        super().__init__(message)
        #: Zone code → the error that zone raised.
        self.failed: dict[str, BaseException] = dict(failed or {})


class GeozonesWarning(UserWarning):
    """Base class of every warning issued by geozones."""


class EncodingGuessWarning(GeozonesWarning):
    """The attribute encoding of a file was not declared and was detected from its bytes."""


class CRSInferredWarning(GeozonesWarning):
    """A CRS was inferred from the coordinates because the file declared none."""


class CRSReprojectionWarning(GeozonesWarning):
    """Layers in different CRSs were reprojected to a common one."""


class GeometryRepairWarning(GeozonesWarning):
    """Invalid geometries were repaired; the warning counts them."""


class GeometryTypeWarning(GeozonesWarning):
    """A layer mixes geometry types, or holds null or empty geometries."""


class CurveLinearisedWarning(GeozonesWarning):
    """Curved geometries (arcs, circles) were replaced by straight-edged approximations."""


class OutsideZonesWarning(GeozonesWarning):
    """Part of a layer lies outside every zone, so it is in no zone's row; the amount is given."""


class ZoneCodeWarning(GeozonesWarning):
    """Several zone features share a code: they are measured as one zone."""


class ZoneGapWarning(GeozonesWarning):
    """The zones leave gaps between them; what lies in a gap is outside every zone."""


class RunRestartedWarning(GeozonesWarning):
    """A resumed run found its input changed and started afresh instead of reusing old zones."""


class MissingOutlinesWarning(GeozonesWarning):
    """Figures that need the blocks' outlines are NaN because the blocks were made without."""


class VersionMatchWarning(GeozonesWarning):
    """Features whose id is missing or repeated were matched by geometry and overlap instead."""


__all__ = [
    "ArgumentTypeError",
    "CRSError",
    "CRSInferredWarning",
    "CRSMismatchError",
    "CRSReprojectionWarning",
    "CoordinateError",
    "CurveLinearisedWarning",
    "DataSourceError",
    "EmptyLayerError",
    "EncodingError",
    "EncodingGuessWarning",
    "FieldError",
    "GeometryError",
    "GeometryRepairWarning",
    "GeometryTypeWarning",
    "GeozonesError",
    "GeozonesWarning",
    "LayerNotFoundError",
    "MissingCRSError",
    "MissingOutlinesWarning",
    "NonPolygonalGeometryError",
    "OutputError",
    "OutputExistsError",
    "OutputLockedError",
    "OutsideZonesWarning",
    "PartitionError",
    "RunRestartedWarning",
    "SchedulerError",
    "ShapefilePartsError",
    "ToleranceError",
    "VersionMatchWarning",
    "ZoneCodeWarning",
    "ZoneError",
    "ZoneGapWarning",
]

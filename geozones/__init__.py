"""geozones: 三区三线 (three zones, three control lines) spatial-planning analysis.

Read the ecological protection red line, permanent basic farmland and urban development
boundary as they arrive, measure area the way official statistics do, and report coverage.
"""

from geozones.area import area
from geozones.coverage import coverage
from geozones.errors import (
    CRSError,
    CRSMismatchError,
    DataSourceError,
    EmptyLayerError,
    EncodingError,
    GeometryError,
    GeozonesError,
    GeozonesWarning,
    LayerNotFoundError,
    MissingCRSError,
    NonPolygonalGeometryError,
)
from geozones.units import AREA_UNITS

__version__ = "0.1.0"

__all__ = [
    "AREA_UNITS",
    "CRSError",
    "CRSMismatchError",
    "DataSourceError",
    "EmptyLayerError",
    "EncodingError",
    "GeometryError",
    "GeozonesError",
    "GeozonesWarning",
    "LayerNotFoundError",
    "MissingCRSError",
    "NonPolygonalGeometryError",
    "__version__",
    "area",
    "coverage",
]

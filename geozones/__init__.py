"""geozones: 三区三线 (three zones, three control lines) spatial-planning analysis.

Read the ecological protection red line, permanent basic farmland and urban development
boundary as they arrive, measure area the way official statistics do, and report coverage.
"""

from geozones.analysis.blocks import farmland_blocks, fragmentation
from geozones.analysis.compare import VersionDiff, check_adjustment, compare_versions
from geozones.analysis.conflicts import (
    conflict_summary,
    find_conflicts,
    overlap_count,
    resolve_conflicts,
)
from geozones.analysis.control import adjust_to_control
from geozones.analysis.coverage import coverage
from geozones.analysis.declared import (
    AreaConvention,
    check_area_fields,
    check_declared_area,
    declared_area_convention,
)
from geozones.analysis.site import site_check
from geozones.analysis.targets import check_targets
from geozones.errors import (
    ControlTotalError,
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
    PartitionError,
    VersionMatchWarning,
)
from geozones.io import read_layer
from geozones.io.crs import CRSSuggestion, suggest_crs
from geozones.io.quality import LayerReport, layer_report
from geozones.measure.area import area
from geozones.qc import Findings, inspect
from geozones.scale.partitions import (
    PartitionedDataset,
    open_partitions,
    tile_grid,
    write_partitions,
)
from geozones.scale.streaming import stream_conflicts, stream_coverage, stream_resolution
from geozones.units import AREA_UNITS
from geozones.workflow.config import Config, ConfigError, load_config

__version__ = "0.1.0"

__all__ = [
    "AREA_UNITS",
    "AreaConvention",
    "CRSError",
    "CRSMismatchError",
    "CRSSuggestion",
    "Config",
    "ConfigError",
    "ControlTotalError",
    "DataSourceError",
    "EmptyLayerError",
    "EncodingError",
    "Findings",
    "GeometryError",
    "GeozonesError",
    "GeozonesWarning",
    "LayerNotFoundError",
    "LayerReport",
    "MissingCRSError",
    "NonPolygonalGeometryError",
    "PartitionError",
    "PartitionedDataset",
    "VersionDiff",
    "VersionMatchWarning",
    "__version__",
    "adjust_to_control",
    "area",
    "check_adjustment",
    "check_area_fields",
    "check_declared_area",
    "check_targets",
    "compare_versions",
    "conflict_summary",
    "coverage",
    "declared_area_convention",
    "farmland_blocks",
    "find_conflicts",
    "fragmentation",
    "inspect",
    "layer_report",
    "load_config",
    "open_partitions",
    "overlap_count",
    "read_layer",
    "resolve_conflicts",
    "site_check",
    "stream_conflicts",
    "stream_coverage",
    "stream_resolution",
    "suggest_crs",
    "tile_grid",
    "write_partitions",
]

"""What was found, guessed and repaired in a layer: the layer report of ``read_layer``.

The checks of a layer's declared area figures are in :mod:`geozones.analysis.declared`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyproj

from geozones.choices import checked_layer
from geozones.io.provenance import recalled_report

if TYPE_CHECKING:
    import geopandas as gpd

#: Columns of :attr:`LayerReport.issues`.
ISSUE_COLUMNS = (
    "feature",
    "problem",
    "action",
    "area_before_m2",
    "area_after_m2",
    "area_change_m2",
)


@dataclass(frozen=True, eq=False)
class LayerReport:
    """How a layer was read: its source, CRS, encoding and every feature-level finding.

    ``read_layer`` records one for the layer it returns, beside its geometries
    (:mod:`geozones.io.provenance`); :func:`layer_report` fetches it. A slice, or a ``to_crs``
    result of the layer has none.

    Attributes
    ----------
    source : str
        The path (and layer name) read.
    driver : str
        The format, e.g. ``ESRI Shapefile``, ``GPKG``, ``Parquet``.
    feature_count : int
        Features read; every one is in the layer, none is dropped.
    crs : pyproj.CRS
        The CRS the layer carries now.
    crs_source : str
        ``declared`` (from the file), ``inferred`` (from the coordinates) or ``set by caller``.
    encoding : str or None
        The attribute encoding used, where the format has a choice (shapefiles).
    encoding_source : str or None
        ``cpg``, ``ldid``, ``ascii``, ``detected`` or ``set by caller``.
    encoding_guessed : bool
        True when the encoding was detected from the bytes rather than declared.
    geometry_types : dict
        Feature count per geometry type (``None`` for null geometries).
    issues : pandas.DataFrame
        One row per feature with a finding: ``feature`` (index label), ``problem``, ``action``,
        and for repairs the ellipsoidal area before and after, in m².
    """

    source: str
    driver: str
    feature_count: int
    crs: pyproj.CRS
    crs_source: str
    encoding: str | None = None
    encoding_source: str | None = None
    encoding_guessed: bool = False
    geometry_types: dict[str | None, int] = field(default_factory=dict)
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ISSUE_COLUMNS))
    #: The feature ids (FID) as read, in the layer's order: what ``issues["feature"]`` names.
    index: pd.Index | None = field(default=None, repr=False)

    def count(self, problem: str) -> int:
        """Number of features whose problem starts with `problem` (e.g. ``"invalid"``)."""
        return int(self.issues["problem"].str.startswith(problem).sum())

    def summary(self) -> str:
        """A few lines saying what was read, guessed and repaired."""
        crs_code = self.crs.to_epsg(min_confidence=90)
        crs_text = f"EPSG:{crs_code}" if crs_code else self.crs.name
        lines = [
            f"{self.source}: {self.feature_count} features ({self.driver})",
            f"  CRS: {crs_text} {self.crs.name} ({self.crs_source})",
        ]
        if self.encoding is not None:
            guessed = ", guessed from the bytes" if self.encoding_guessed else ""
            lines.append(f"  encoding: {self.encoding} ({self.encoding_source}{guessed})")
        types = ", ".join(f"{name or 'null'}: {n}" for name, n in self.geometry_types.items())
        lines.append(f"  geometry types: {types}")
        if len(self.issues):
            for problem in ("invalid", "null", "empty", "non-polygonal"):
                if n := self.count(problem):
                    lines.append(f"  {problem}: {n} feature(s)")
            change = self.issues["area_change_m2"].sum(min_count=1)
            if not np.isnan(change):
                lines.append(f"  area change from repairs: {change:+.2f} m² (ellipsoidal)")
        else:
            lines.append("  no geometry problems")
        return "\n".join(lines)


def layer_report(layer: gpd.GeoDataFrame) -> LayerReport | None:
    """The :class:`LayerReport` that ``read_layer`` recorded for `layer`, if any.

    Parameters
    ----------
    layer : GeoDataFrame
        A layer returned by :func:`geozones.read_layer`, or a frame holding exactly its
        features (other columns, another index or order).

    Returns
    -------
    LayerReport or None
        None when the layer did not come from ``read_layer``, or holds other geometries
        than it read: a slice, a ``to_crs`` result.
    """
    checked_layer(layer, name="layer", series=True)
    report = recalled_report(layer)
    return report if isinstance(report, LayerReport) else None

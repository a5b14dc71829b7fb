"""The content of a conflict report, computed once and written as workbook, GeoPackage and HTML."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geozones.analysis.blocks import FarmlandBlocks, farmland_blocks, fragmentation
from geozones.analysis.compare import LINES, VersionDiff, check_adjustment, compare_versions
from geozones.analysis.conflicts import (
    conflict_summary,
    find_conflicts,
    overlap_count,
    resolve_conflicts,
)
from geozones.analysis.coverage import ADMINISTRATIVE_LEVELS, roll_up
from geozones.analysis.declared import check_declared_area
from geozones.analysis.targets import check_targets
from geozones.choices import checked_instance
from geozones.errors import OutsideZonesWarning
from geozones.io.quality import layer_report
from geozones.measure.tolerance import DEFAULT_XY_TOLERANCE
from geozones.units import square_metres_per
from geozones.workflow.check import LEVELS, coverage_by_line, index_by_id
from geozones.workflow.config import BlockSpec, Config, RasterSpec
from geozones.zones import zone_of_features

logger = logging.getLogger(__name__)

#: Columns of :attr:`Report.steep_farmland`, before the geometry.
STEEP_COLUMNS = (
    "zone",
    "area_m2",
    "steep_area_m2",
    "steep_percent",
    "mean_slope",
    "max_slope",
    "nodata_area_m2",
    "on_raster",
    "listed",
)
#: Columns of :attr:`Report.phantoms`.
PHANTOM_COLUMNS = ("zone", "layer_a", "layer_b", "count", "area_m2")
#: Additive columns of :attr:`Report.steep_summary` (in the report's unit, or counts).
STEEP_SUMMARY_SUMS = ("parcels", "listed", "area", "steep_area", "listed_area", "nodata_area")
#: Columns of :attr:`Report.land_cover` after the class columns.
LAND_COVER_TAIL = ("nodata", "off_raster", "total")


@dataclass(frozen=True)
class Comparison:
    """A layer compared with its version before an adjustment (``before`` in its table).

    Attributes
    ----------
    diff : VersionDiff
        :func:`geozones.compare_versions` of the version before and the layer.
    rules : pandas.DataFrame or None
        :func:`geozones.check_adjustment` of the line; None for a layer that is not one of
        the three lines.
    sources : tuple of str
        The files of the version before and of the layer.
    """

    diff: VersionDiff
    rules: pd.DataFrame | None
    sources: tuple[str, str]

    def for_zone(self, code: str) -> Comparison:
        """The part of the comparison in zone `code` (see :meth:`VersionDiff.for_zone`)."""
        rules = self.rules
        if rules is not None:
            rules = rules[rules["zone"] == code].reset_index(drop=True)
            rules.attrs.update(self.rules.attrs if self.rules is not None else {})
        return replace(self, diff=self.diff.for_zone(code), rules=rules)


def _frame(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def _geoframe(columns: Sequence[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry")


@dataclass(frozen=True)
class Report:
    """Everything a report shows, for a whole run or for one county.

    Attributes
    ----------
    title, language, unit : str
        From the configuration; `unit` is the area unit of every ``*_area`` column.
    scope : str
        What the report covers: ``"all"`` or a zone code.
    scope_name : str
        The zone's name, or the title for a whole run.
    zones : GeoDataFrame
        Zone polygons with ``zone`` (code) and ``name`` columns.
    lines : dict of str to GeoDataFrame
        The checked layers as read (repaired), by key.
    coverage : pandas.DataFrame
        One row per line and zone: ``line``, ``level``, ``zone``, ``name``, ``zone_area``,
        ``covered_area``, ``percent``.
    conflicts : GeoDataFrame
        Conflict pieces (:func:`geozones.find_conflicts`), split at zone boundaries.
    summary : pandas.DataFrame
        :func:`geozones.conflict_summary` of `conflicts`, areas in m².
    overlaps : GeoDataFrame
        :func:`geozones.overlap_count` faces.
    resolved : dict of str to GeoDataFrame
        The layers after :func:`geozones.resolve_conflicts`.
    audit : GeoDataFrame
        One row per piece taken out (or left, as a sliver).
    targets : pandas.DataFrame
        :func:`geozones.check_targets` (empty for a county).
    quality : pandas.DataFrame
        Data-quality findings: ``layer``, ``feature``, ``problem``, ``action`` and the area
        change of repairs, plus guessed encodings and CRSs and declared-area mismatches.
    sources : pandas.DataFrame
        One row per layer: file, driver, features, CRS and how it was decided, encoding.
    sliver_m2 : float
        The sliver threshold (m²).
    outside : pandas.DataFrame
        Each line's area outside every zone (``line``, ``area`` in `unit`): in no row of
        `coverage`, and in no city or province total. Empty for one county's part.
    xy_tolerance : float
        The coordinate tolerance (m): overlaps thinner than it are phantoms, not conflicts.
    phantoms : pandas.DataFrame
        Phantoms per zone and layer pair: ``zone``, ``layer_a``, ``layer_b``, ``count``
        (overlaps of two features with a part in the zone) and ``area_m2`` (their area in
        the zone).
    phantom_total : tuple of (int, float)
        Phantoms of the report's scope and their area (m²); a phantom across a zone boundary
        counts once.
    steep_farmland : GeoDataFrame
        :func:`geozones.raster.steep_farmland` of every farmland parcel, indexed by feature id:
        ``zone`` (the county holding the parcel's representative point), ``area_m2``
        (assessed: on pixels with a slope), ``steep_area_m2``, ``steep_percent``,
        ``mean_slope``, ``max_slope`` (degrees), ``nodata_area_m2``, ``on_raster``, ``listed``
        and the parcel. Empty without a DEM (``[rasters] dem``).
    steep_summary : pandas.DataFrame
        Steep farmland per county, city and province: ``level``, ``zone``, ``name``,
        ``parcels``, ``listed`` (parcels listed), ``area`` (assessed), ``steep_area``,
        ``listed_area`` (the steep area of the listed parcels), ``nodata_area`` in `unit`,
        and ``percent`` (steep over assessed area). Empty without a DEM.
    land_cover : pandas.DataFrame
        :func:`geozones.raster.land_cover` of each line per county, city and province:
        ``line``, ``level``, ``zone``, ``name``, one area column per land-cover class, then
        ``nodata``, ``off_raster`` and ``total``, in `unit`. Empty without a land-cover raster.
    blocks : GeoDataFrame
        :func:`geozones.farmland_blocks` of the farmland: one row per block, indexed by
        ``block``: ``parcels``, ``area_m2``, ``area_mu``, ``class``, ``zone`` (the counties
        of its parcels, joined with commas) and the outline. Empty without ``[blocks]``.
    block_parts : pandas.DataFrame
        The part of each block in each county: ``block``, ``zone``, ``class`` (of the whole
        block), ``parcels``, ``area_m2``, ``block_area_m2`` (the whole block), ``crossing``
        (the block lies in several counties). Parcels outside every county have ``zone`` None.
        Its ``area_m2`` sums to the farmland's area. Empty without ``[blocks]``.
    fragmentation : pandas.DataFrame
        :func:`geozones.fragmentation` per county, city and province, with ``level``,
        ``zone`` and ``name`` columns, areas in `unit`. Empty without ``[blocks]``.
    raster_spec : RasterSpec or None
        The ``[rasters]`` settings the raster tables were made with.
    block_spec : BlockSpec or None
        The ``[blocks]`` settings the block tables were made with.
    comparisons : dict of str to Comparison
        Each layer whose configuration names a ``before`` version, compared with it, by key.
    generated : str
        The date the report was made (ISO).
    """

    title: str
    language: str
    unit: str
    scope: str
    scope_name: str
    zones: gpd.GeoDataFrame
    lines: dict[str, gpd.GeoDataFrame]
    coverage: pd.DataFrame
    conflicts: gpd.GeoDataFrame
    summary: pd.DataFrame
    overlaps: gpd.GeoDataFrame
    resolved: dict[str, gpd.GeoDataFrame]
    audit: gpd.GeoDataFrame
    targets: pd.DataFrame
    quality: pd.DataFrame
    sources: pd.DataFrame
    sliver_m2: float = 0.0
    outside: pd.DataFrame = field(default_factory=lambda: _frame(["line", "area"]))
    steep_farmland: gpd.GeoDataFrame = field(default_factory=lambda: _geoframe(STEEP_COLUMNS))
    steep_summary: pd.DataFrame = field(
        default_factory=lambda: _frame(["level", "zone", "name", *STEEP_SUMMARY_SUMS, "percent"])
    )
    land_cover: pd.DataFrame = field(
        default_factory=lambda: _frame(["line", "level", "zone", "name", *LAND_COVER_TAIL])
    )
    blocks: gpd.GeoDataFrame = field(
        default_factory=lambda: _geoframe(["parcels", "area_m2", "area_mu", "class", "zone"])
    )
    block_parts: pd.DataFrame = field(
        default_factory=lambda: _frame(
            ["block", "zone", "class", "parcels", "area_m2", "block_area_m2", "crossing"]
        )
    )
    fragmentation: pd.DataFrame = field(default_factory=lambda: _frame(["level", "zone", "name"]))
    raster_spec: RasterSpec | None = None
    block_spec: BlockSpec | None = None
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    generated: str = field(default_factory=lambda: date.today().isoformat())
    xy_tolerance: float = DEFAULT_XY_TOLERANCE
    phantoms: pd.DataFrame = field(default_factory=lambda: _frame(PHANTOM_COLUMNS))
    phantom_total: tuple[int, float] = (0, 0.0)

    @property
    def verdict(self) -> bool:
        """True when no piece above the sliver threshold conflicts (不交叉、不重叠、不冲突)."""
        return not bool((~self.conflicts["sliver"]).any()) if len(self.conflicts) else True

    def counties(self) -> list[tuple[str, str]]:
        """Code and name of every zone, in code order."""
        pairs = self.zones[["zone", "name"]].drop_duplicates("zone").sort_values("zone")
        return list(pairs.itertuples(index=False, name=None))

    def for_zone(self, code: str) -> Report:
        """The part of the report that concerns one zone (county)."""
        zones = self.zones[self.zones["zone"] == code]
        if zones.empty:
            raise KeyError(f"no zone {code!r} in the report")
        name = str(zones["name"].iloc[0])
        area = zones.union_all()
        phantoms = self.phantoms[self.phantoms["zone"] == code].reset_index(drop=True)
        lines = {key: _intersecting(frame, area) for key, frame in self.lines.items()}
        resolved = {key: _intersecting(frame, area) for key, frame in self.resolved.items()}
        return replace(
            self,
            scope=code,
            scope_name=name,
            zones=zones,
            lines=lines,
            coverage=self.coverage[
                (self.coverage["level"] == "county") & (self.coverage["zone"] == code)
            ].reset_index(drop=True),
            conflicts=self.conflicts[self.conflicts["zone"] == code].reset_index(drop=True),
            summary=self.summary[self.summary["zone"] == code].reset_index(drop=True),
            overlaps=self.overlaps[self.overlaps["zone"] == code].reset_index(drop=True),
            resolved=resolved,
            audit=self.audit[self.audit["zone"] == code].reset_index(drop=True),
            targets=self.targets.iloc[0:0],
            outside=self.outside.iloc[0:0],
            quality=self.quality[
                self.quality.apply(
                    lambda row: _feature_in(lines, row["layer"], row["feature"]), axis=1
                ).astype(bool)
            ].reset_index(drop=True)
            if len(self.quality)
            else self.quality,
            steep_farmland=self.steep_farmland[self.steep_farmland["zone"] == code],
            steep_summary=_county_rows(self.steep_summary, code),
            land_cover=_county_rows(self.land_cover, code),
            blocks=self.blocks[
                self.blocks["zone"].map(lambda zones: code in str(zones).split(",")).astype(bool)
            ],
            block_parts=self.block_parts[self.block_parts["zone"] == code].reset_index(drop=True),
            fragmentation=_county_rows(self.fragmentation, code),
            comparisons={
                key: comparison.for_zone(code)
                for key, comparison in self.comparisons.items()
                if code in comparison.diff.balance.index
            },
            phantoms=phantoms,
            phantom_total=(int(phantoms["count"].sum()), float(phantoms["area_m2"].sum())),
        )


def _county_rows(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """The rows of a per-level table (``level``, ``zone``) about county `code`."""
    if frame.empty:
        return frame
    return frame[(frame["level"] == "county") & (frame["zone"] == code)].reset_index(drop=True)


def _intersecting(frame: gpd.GeoDataFrame, area: object) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    return frame[shapely.intersects(geoms, area)]


def _feature_in(lines: dict[str, gpd.GeoDataFrame], layer: object, feature: object) -> bool:
    frame = lines.get(str(layer))
    return frame is not None and feature in frame.index


def build_report(config: Config) -> Report:
    """Read the configured layers and compute everything the report shows.

    Parameters
    ----------
    config : Config
        A loaded configuration (:func:`geozones.load_config`).

    Returns
    -------
    Report
        The whole run; :meth:`Report.for_zone` gives one county's part.
    """
    checked_instance(config, Config, name="config", needed="a Config (from load_config)")
    guesses: list[tuple[str, str, str, str]] = []
    logger.info("reading %d layer(s) and the zones", len(config.layers))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = config.read_layers()
        zones = config.read_zones()
    barrier_source = _barrier_source(config)
    for warning in caught:
        message = str(warning.message)
        if (
            barrier_source
            and message.startswith(f"{barrier_source}: ")
            and "not polygons" in message
        ):
            continue  # barrier lines are lines on purpose
        guesses.append(_finding(warning, ""))
        _pass_on(warning)

    code_field, name_field = config.zones.code_field, config.zones.name_field
    zone_frame = zones[[zones.geometry.name]].copy()
    zone_frame["zone"] = zones[code_field].astype(str).str.strip()
    zone_frame["name"] = zones[name_field].astype(str) if name_field else zone_frame["zone"]
    names = dict(zip(zone_frame["zone"], zone_frame["name"], strict=False))
    # Provinces and cities (and counties, overriding name_field) named by [zones.names].
    names.update(config.zones.names)
    zone_frame["name"] = zone_frame["zone"].map(names)

    layers = {
        key: index_by_id(frame, config.layers[key].id_field, guesses)
        for key, frame in layers.items()
    }
    lines = {key: layers[key] for key in config.priority}
    tolerance = config.xy_tolerance
    logger.info("computing coverage, conflicts, resolution and targets")
    with warnings.catch_warnings(record=True) as computed:
        warnings.simplefilter("always")  # each kept as a data-quality finding
        coverage_table = coverage_by_line(
            lines, zones, code_field, names, config.unit, xy_tolerance=tolerance
        )
        listed = find_conflicts(
            lines,
            min_area_m2=config.sliver_m2,
            zones=zones,
            zone_field=code_field,
            xy_tolerance=tolerance,
            keep_phantoms=True,
        )
        overlaps = overlap_count(lines, zones=zones, zone_field=code_field, xy_tolerance=tolerance)
        resolved, audit = resolve_conflicts(
            lines,
            config.priority,
            overrides=config.overrides_for_resolve(layers),
            min_area_m2=config.sliver_m2,
            zones=zones,
            zone_field=code_field,
            xy_tolerance=tolerance,
        )
        targets = config.targets
        target_table = check_targets(
            layers,
            zones,
            redline_min=targets.redline_min,
            farmland_min=targets.farmland_min,
            development_intensity_max_percent=targets.development_intensity_max_percent,
            unit=targets.unit,
            construction_land=targets.construction_land,
        )
    for warning in computed:
        finding = _finding(warning, "")
        if finding not in guesses:
            guesses.append(finding)
            _pass_on(warning)
    outside = coverage_table.attrs.get("outside_area", {})
    extras = _extras(config, layers, zones, zone_frame, names, guesses)
    comparisons = _comparisons(config, layers, zones, guesses)
    phantom = listed["phantom"].to_numpy(dtype=bool)
    conflicts = listed[~phantom].drop(columns="phantom").reset_index(drop=True)
    conflicts.attrs = dict(listed.attrs)
    record = listed.attrs["phantoms"]
    return Report(
        title=config.title,
        language=config.language,
        unit=config.unit,
        scope="all",
        scope_name=config.title,
        zones=zone_frame,
        lines=lines,
        coverage=coverage_table,
        outside=pd.DataFrame(
            {"line": list(outside), "area": [float(area) for area in outside.values()]},
            columns=["line", "area"],
        ),
        conflicts=conflicts,
        summary=conflict_summary(conflicts),
        overlaps=overlaps,
        resolved=resolved,
        audit=audit,
        targets=target_table,
        quality=_quality(config, layers, guesses),
        sources=_sources(layers),
        sliver_m2=config.sliver_m2,
        raster_spec=config.rasters,
        block_spec=config.blocks,
        comparisons=comparisons,
        xy_tolerance=tolerance,
        phantoms=phantoms_by_zone(listed[phantom]),
        phantom_total=(int(record["count"]), float(record["area_m2"])),
        **extras,
    )


def _comparisons(
    config: Config,
    layers: dict[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    guesses: list[tuple[str, str, str, str]],
) -> dict[str, Comparison]:
    """Each layer with a ``before`` version compared with it, and the rules of its line."""
    result: dict[str, Comparison] = {}
    for key, spec in config.layers.items():
        if spec.before is None:
            continue
        where = f"layers.{key}.before"
        with _Recorded(guesses, where), config.errors_named(where):
            before = config.read_before(key)
            diff = compare_versions(
                before,
                layers[key],
                zones=zones,
                zone_field=config.zones.code_field,
                id_field=spec.id_field,
                xy_tolerance=config.xy_tolerance,
                unit=config.unit,
            )
            rules = check_adjustment(diff, key, **spec.before.rules(key)) if key in LINES else None
        result[key] = Comparison(diff, rules, (str(spec.before.path), str(spec.path)))
    return result


def phantoms_by_zone(phantoms: pd.DataFrame) -> pd.DataFrame:
    """Phantom rows of :func:`geozones.find_conflicts` counted per zone and layer pair.

    A phantom split at a zone boundary counts once in each zone it lies in.
    """
    if len(phantoms) == 0:
        return _frame(PHANTOM_COLUMNS)
    frame = phantoms.assign(zone=phantoms["zone"].fillna(""))
    keys = ["zone", "layer_a", "layer_b"]
    pairs = frame.groupby([*keys, "id_a", "id_b"], sort=True)["area_m2"].sum()
    table = pairs.groupby(level=keys, sort=True).agg(["size", "sum"]).reset_index()
    table = table.rename(columns={"size": "count", "sum": "area_m2"})
    table["zone"] = table["zone"].replace("", None)
    return table[list(PHANTOM_COLUMNS)]


def _quality(
    config: Config, layers: dict[str, gpd.GeoDataFrame], guesses: list[tuple[str, str, str, str]]
) -> pd.DataFrame:
    frames = []
    barriers = config.blocks.barriers if config.blocks is not None else None
    for key, frame in layers.items():
        report = layer_report(frame)
        spec = config.layers[key]
        if report is not None and len(report.issues):
            issues = report.issues.assign(layer=key)
            if key == barriers:  # lines (rivers, roads) are what a barrier layer holds
                issues = issues[~issues["problem"].astype(str).str.startswith("non-polygonal")]
            if spec.id_field and frame.index.name == spec.id_field and report.index is not None:
                # The report names features by FID; name them by their id as the tables do.
                by_fid = pd.Series(frame.index, index=report.index)
                issues["feature"] = issues["feature"].map(by_fid).fillna(issues["feature"])
            frames.append(issues)
        if spec.declared_area_field:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                listed = check_declared_area(
                    frame, spec.declared_area_field, unit=spec.declared_area_unit, rel_tol=0.01
                )
            frames.append(
                pd.DataFrame(
                    {
                        "layer": key,
                        "feature": listed.index,
                        "problem": [
                            f"declared {spec.declared_area_field} {_figure(d)} vs computed "
                            f"{_figure(c)} {spec.declared_area_unit}"
                            for d, c in zip(listed["declared"], listed["computed"], strict=True)
                        ],
                        "action": "listed (differs by more than 1 %)",
                    }
                )
            )
    warned = pd.DataFrame(guesses, columns=["kind", "layer", "problem", "action"]).drop(
        columns="kind"
    )
    columns = [
        "layer",
        "feature",
        "problem",
        "action",
        "area_before_m2",
        "area_after_m2",
        "area_change_m2",
    ]
    frames.append(warned.assign(feature=None))
    return pd.concat(frames, ignore_index=True).reindex(columns=columns)


def _figure(value: float) -> str:
    """`value` with two decimals; "—" when it could not be computed (no geometry: NaN)."""
    return f"{value:.2f}" if math.isfinite(value) else "—"


def _sources(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    rows = []
    for key, frame in layers.items():
        report = layer_report(frame)
        if report is None:
            continue
        code = report.crs.to_epsg(min_confidence=90)
        rows.append(
            {
                "layer": key,
                "source": report.source,
                "driver": report.driver,
                "features": report.feature_count,
                "crs": f"EPSG:{code}" if code else report.crs.name,
                "crs_source": report.crs_source,
                "encoding": report.encoding or "",
                "encoding_source": report.encoding_source or "",
            }
        )
    return pd.DataFrame(rows)


# --- rasters and farmland blocks ---------------------------------------------------------------


def _barrier_source(config: Config) -> str | None:
    """How :func:`geozones.read_layer` names the barrier layer in its warnings."""
    if config.blocks is None or config.blocks.barriers is None:
        return None
    spec = config.layers[config.blocks.barriers]
    return str(spec.path) if spec.layer is None else f"{spec.path} (layer {spec.layer})"


class _Recorded:
    """Warnings raised inside, recorded as data-quality findings of `key` instead of shown."""

    def __init__(self, guesses: list[tuple[str, str, str, str]], key: str) -> None:
        self.guesses = guesses
        self.key = key
        self._catcher = warnings.catch_warnings(record=True)
        self._caught: list[warnings.WarningMessage] | None = None

    def __enter__(self) -> None:
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: object) -> None:
        self._catcher.__exit__(None, None, None)
        seen: set[str] = set()
        for warning in self._caught or []:
            message = str(warning.message)
            if message not in seen:
                seen.add(message)
                self.guesses.append(_finding(warning, self.key))
                _pass_on(warning)


def _finding(warning: warnings.WarningMessage, key: str) -> tuple[str, str, str, str]:
    """A warning as a data-quality row: its class, the configuration key, its text."""
    kind = warning.category.__name__
    return (kind, key, str(warning.message), f"warned ({kind})")


def _pass_on(warning: warnings.WarningMessage) -> None:
    """Raise a warning the report recorded again, for the caller (the CLI prints it)."""
    warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


class _Extras(TypedDict, total=False):
    """The :class:`Report` fields of rasters and blocks."""

    steep_farmland: gpd.GeoDataFrame
    steep_summary: pd.DataFrame
    land_cover: pd.DataFrame
    blocks: gpd.GeoDataFrame
    block_parts: pd.DataFrame
    fragmentation: pd.DataFrame


def _extras(
    config: Config,
    layers: dict[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    zone_frame: gpd.GeoDataFrame,
    names: dict[str, str],
    guesses: list[tuple[str, str, str, str]],
) -> _Extras:
    """The raster and block tables the configuration asks for, as :class:`Report` fields."""
    result: _Extras = {}
    farmland = layers["farmland"]
    code_field, unit = config.zones.code_field, config.unit
    rasters = config.rasters
    if rasters is not None and rasters.dem is not None:
        with _Recorded(guesses, "rasters.dem"), config.errors_named("rasters.dem"):
            steep = steep_table(
                rasters.dem,
                farmland,
                zone_frame,
                threshold=rasters.slope_threshold_deg,
                percent_threshold=rasters.steep_share_percent,
            )
        result["steep_farmland"] = steep
        result["steep_summary"] = steep_summary(steep, names, unit)
    if rasters is not None and rasters.landcover is not None:
        lines = {key: layers[key] for key in config.priority}
        with _Recorded(guesses, "rasters.landcover"), config.errors_named("rasters.landcover"):
            result["land_cover"] = land_cover_table(
                rasters.landcover,
                lines,
                zones,
                code_field,
                names,
                unit=unit,
                classes=rasters.landcover_classes,
                xy_tolerance=config.xy_tolerance,
            )
    if config.blocks is not None:
        spec = config.blocks
        barriers = layers[spec.barriers] if spec.barriers is not None else None
        with _Recorded(guesses, "blocks"), config.errors_named("blocks"):
            found = farmland_blocks(
                farmland,
                tolerance_m=spec.gap_m,
                barriers=barriers,
                zones=zones,
                zone_field=code_field,
            )
            table = fragmentation(found, zones, zone_field=code_field, unit=unit, levels=LEVELS)
        result["blocks"] = _block_table(found)
        result["block_parts"] = block_parts(found)
        result["fragmentation"] = _with_names(table.reset_index(), names)
    return result


def steep_table(
    dem: object,
    farmland: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    threshold: float,
    percent_threshold: float,
) -> gpd.GeoDataFrame:
    """:func:`geozones.raster.steep_farmland` of every parcel, in m², with its county.

    Parameters
    ----------
    dem : path or rasterio dataset
        The DEM.
    farmland : GeoDataFrame
        The farmland parcels, indexed by their ids.
    zones : GeoDataFrame
        Zone polygons with a ``zone`` column (codes).
    threshold : float
        Slope (degrees) above which land is steep.
    percent_threshold : float
        Parcels whose steep share (%) is more than this are listed.

    Returns
    -------
    GeoDataFrame
        Indexed like `farmland`, the columns of :data:`STEEP_COLUMNS` and the parcel. A parcel
        lies in the zone holding its representative point (None outside every zone, with a
        warning).
    """
    from geozones.raster import steep_farmland

    steep = steep_farmland(
        dem, farmland, threshold=threshold, percent_threshold=percent_threshold, unit="m2"
    )
    zone = zone_of_features(farmland, zones)
    present = ~(shapely.is_missing(_geoms(farmland)) | shapely.is_empty(_geoms(farmland)))
    outside = present & pd.isna(zone)
    if outside.any():
        area = float(np.nansum(steep["area"].to_numpy()[outside])) / square_metres_per("mu")
        warnings.warn(
            f"{int(outside.sum())} farmland parcel(s) ({area:,.2f} 亩 assessed) lie outside "
            "every zone; they are in no row of the steep-farmland summary",
            OutsideZonesWarning,
            stacklevel=2,
        )
    columns = {
        "zone": zone,
        "area_m2": steep["area"].to_numpy(),
        "steep_area_m2": steep["steep_area"].to_numpy(),
        "steep_percent": steep["steep_percent"].to_numpy(),
        "mean_slope": steep["mean_slope"].to_numpy(),
        "max_slope": steep["max_slope"].to_numpy(),
        "nodata_area_m2": steep["nodata_area"].to_numpy(),
        "on_raster": steep["on_raster"].to_numpy(),
        "listed": steep["listed"].to_numpy(dtype=bool),
    }
    table = gpd.GeoDataFrame(
        columns, geometry=_geoms(farmland), crs=farmland.crs, index=farmland.index
    )
    table.attrs.update(threshold=threshold, percent_threshold=percent_threshold)
    return table


def steep_summary(steep: pd.DataFrame, names: dict[str, str], unit: str) -> pd.DataFrame:
    """Steep farmland per county, city and province (see :attr:`Report.steep_summary`)."""
    per_unit = square_metres_per(unit)
    listed = steep["listed"].to_numpy(dtype=bool)
    area = steep["area_m2"].to_numpy(dtype=float)
    parcels = pd.DataFrame(
        {
            "zone": steep["zone"].to_numpy(),
            "parcels": 1,
            "listed": listed.astype(int),
            "area": area / per_unit,
            "steep_area": steep["steep_area_m2"].to_numpy(dtype=float) / per_unit,
            "listed_area": np.where(listed, area, 0.0) / per_unit,
            "nodata_area": steep["nodata_area_m2"].to_numpy(dtype=float) / per_unit,
        }
    )
    counties = sorted({str(code) for code in names})
    county = parcels.dropna(subset=["zone"]).groupby("zone").sum(min_count=0)
    county = county.reindex(counties, fill_value=0)
    table = by_level(county, names)
    with np.errstate(invalid="ignore", divide="ignore"):
        area_total = table["area"].where(table["area"] > 0)
        table["percent"] = 100.0 * table["steep_area"] / area_total
    return table


def land_cover_table(
    landcover: object,
    lines: dict[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    code_field: str,
    names: dict[str, str],
    *,
    unit: str,
    classes: dict[int, str],
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
) -> pd.DataFrame:
    """:func:`geozones.raster.land_cover` of each line per county, city and province.

    Returns
    -------
    pandas.DataFrame
        ``line``, ``level``, ``zone``, ``name``, one column per class (named as in `classes`,
        others by their value), ``nodata``, ``off_raster`` and ``total``, in `unit`. City and
        province rows are the sums of their county rows: each line is cut at the county
        boundaries and dissolved within each county, so the sums count no land twice.
    """
    from geozones.raster import land_cover

    # Each line's zone rows, then a total row; the total row's label is no zone code.
    raw = land_cover(
        landcover,
        lines,
        zones,
        by=code_field,
        classes=classes,
        unit=unit,
        xy_tolerance=xy_tolerance,
    )
    raw.columns = [str(column) for column in raw.columns]
    codes = {str(code) for code in names}
    frames = []
    for line in lines:
        rows = pd.DataFrame(raw.xs(line, level="line"))
        rows.index = rows.index.astype(str)
        table = by_level(rows[rows.index.isin(codes)], names)
        table.insert(0, "line", line)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _block_table(found: FarmlandBlocks) -> gpd.GeoDataFrame:
    blocks = found.blocks
    table = blocks[["parcels", "area_m2", "area_mu", "class", "zone", blocks.geometry.name]].copy()
    table["class"] = table["class"].astype(str)
    table.attrs.update(blocks.attrs)
    return table


def block_parts(found: FarmlandBlocks) -> pd.DataFrame:
    """The part of each block in each county (see :attr:`Report.block_parts`).

    Parameters
    ----------
    found : FarmlandBlocks
        :func:`geozones.analysis.blocks.farmland_blocks` with zones.

    Returns
    -------
    pandas.DataFrame
        One row per block and county, in block order.
    """
    parcels = found.parcels
    placed = parcels[parcels["block"].notna()]
    frame = pd.DataFrame(
        {
            "block": placed["block"].to_numpy(dtype=np.int64),
            "zone": placed["zone"].to_numpy(dtype=object) if "zone" in placed else None,
            "area_m2": placed["area_m2"].to_numpy(dtype=float),
        }
    )
    frame["zone"] = frame["zone"].fillna("")
    parts = (
        frame.groupby(["block", "zone"], sort=True)
        .agg(parcels=("area_m2", "size"), area_m2=("area_m2", "sum"))
        .reset_index()
    )
    blocks = found.blocks
    parts.insert(2, "class", blocks["class"].astype(str).reindex(parts["block"]).to_numpy())
    parts["block_area_m2"] = blocks["area_m2"].reindex(parts["block"]).to_numpy()
    zones_of_block = parts[parts["zone"] != ""].groupby("block")["zone"].transform("size")
    parts["crossing"] = False
    parts.loc[zones_of_block.index, "crossing"] = zones_of_block.to_numpy() > 1
    parts["zone"] = parts["zone"].replace("", None)
    return parts


def by_level(county: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """County rows summed into city and province rows, ordered province, city, its counties.

    Parameters
    ----------
    county : pandas.DataFrame
        Indexed by 6-digit county code, additive columns only.
    names : dict of str to str
        Zone code to name.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``zone`` (cities and the province as 6-digit codes, ``990100``), ``name``
        and the columns of `county`.
    """
    table = roll_up(county.set_axis(county.index.astype(str)), tuple(ADMINISTRATIVE_LEVELS))
    return _with_names(table.reset_index(), names)


def _with_names(table: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """``level``, ``zone``, ``name`` first, rows in hierarchy order (province, city, county)."""
    table = table.copy()
    table["zone"] = table["zone"].astype(str)
    table["name"] = table["zone"].map(names).fillna("")
    first = ["level", "zone", "name"]
    table = table[first + [column for column in table.columns if column not in first]]
    keys = [
        (code[:2], level != "province", code[:4], level != "city", code)
        for code, level in zip(table["zone"], table["level"], strict=True)
    ]
    order = sorted(range(len(table)), key=keys.__getitem__)
    return table.iloc[order].reset_index(drop=True)


def _geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.array, dtype=object)

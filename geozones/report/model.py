"""The content of a conflict report, computed once and written as workbook, GeoPackage and HTML."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geozones.config import Config
from geozones.conflicts import conflict_summary, find_conflicts, overlap_count, resolve_conflicts
from geozones.coverage import coverage
from geozones.quality import check_declared_area, layer_report
from geozones.targets import check_targets

LEVELS = ("county", "city", "province")


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
    generated: str = field(default_factory=lambda: date.today().isoformat())

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
            quality=self.quality[
                self.quality.apply(
                    lambda row: _feature_in(lines, row["layer"], row["feature"]), axis=1
                ).astype(bool)
            ].reset_index(drop=True)
            if len(self.quality)
            else self.quality,
        )


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
    guesses: list[tuple[str, str, str, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = config.read_layers()
        zones = config.read_zones()
    for warning in caught:
        guesses.append((type(warning.message).__name__, "", str(warning.message), "warned"))

    code_field, name_field = config.zones.code_field, config.zones.name_field
    zone_frame = zones[[zones.geometry.name]].copy()
    zone_frame["zone"] = zones[code_field].astype(str).str.strip()
    zone_frame["name"] = zones[name_field].astype(str) if name_field else zone_frame["zone"]
    names = dict(zip(zone_frame["zone"], zone_frame["name"], strict=False))

    layers = {
        key: index_by_id(frame, config.layers[key].id_field, guesses)
        for key, frame in layers.items()
    }
    lines = {key: layers[key] for key in config.priority}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage_table = coverage_by_line(lines, zones, code_field, names, config.unit)
        conflicts = find_conflicts(
            lines, min_area_m2=config.sliver_m2, zones=zones, zone_field=code_field
        )
        overlaps = overlap_count(lines, zones=zones, zone_field=code_field)
        resolved, audit = resolve_conflicts(
            lines,
            config.priority,
            overrides=config.overrides_for_resolve(layers),
            min_area_m2=config.sliver_m2,
            zones=zones,
            zone_field=code_field,
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
    return Report(
        title=config.title,
        language=config.language,
        unit=config.unit,
        scope="all",
        scope_name=config.title,
        zones=zone_frame,
        lines=lines,
        coverage=coverage_table,
        conflicts=conflicts,
        summary=conflict_summary(conflicts),
        overlaps=overlaps,
        resolved=resolved,
        audit=audit,
        targets=target_table,
        quality=_quality(config, layers, guesses),
        sources=_sources(layers),
        sliver_m2=config.sliver_m2,
    )


def coverage_by_line(
    lines: dict[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    code_field: str,
    names: dict[str, str],
    unit: str,
) -> pd.DataFrame:
    """Coverage of each line per county, city and province, long form with zone names."""
    rows = []
    for key, frame in lines.items():
        table = coverage(frame, zones, by=code_field, unit=unit, levels=LEVELS).reset_index()
        table.insert(0, "line", key)
        table.insert(3, "name", table["zone"].map(names).fillna(""))
        rows.append(table)
    return pd.concat(rows, ignore_index=True)


def index_by_id(
    frame: gpd.GeoDataFrame,
    id_field: str | None,
    guesses: list[tuple[str, str, str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """The layer indexed by its id field (BSM), so reports name features as users do.

    Without an id field, or when its values are missing or repeated, the feature ids (FID)
    stay, and the reason is recorded.
    """
    if not id_field:
        return frame
    ids = frame[id_field]
    if ids.isna().any() or ids.duplicated().any():
        repeated = ids[ids.duplicated(keep=False) & ids.notna()].astype(str).unique()[:5]
        (guesses if guesses is not None else []).append(
            (
                "ids",
                "",
                f"id field {id_field} is missing or repeated ({', '.join(repeated)}); features "
                "are named by their FID instead",
                "FID used",
            )
        )
        return frame
    indexed = frame.set_index(ids.astype(str), drop=False)
    indexed.index.name = id_field
    indexed.attrs = frame.attrs
    return indexed


def _quality(
    config: Config, layers: dict[str, gpd.GeoDataFrame], guesses: list[tuple[str, str, str, str]]
) -> pd.DataFrame:
    frames = []
    for key, frame in layers.items():
        report = layer_report(frame)
        spec = config.layers[key]
        if report is not None and len(report.issues):
            issues = report.issues.assign(layer=key)
            if spec.id_field and frame.index.name == spec.id_field and report.validated is not None:
                # The report names features by FID; name them by their id as the tables do.
                by_fid = pd.Series(frame.index, index=report.validated.index)
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
                            f"declared {spec.declared_area_field} {d:.2f} vs computed {c:.2f} "
                            f"{spec.declared_area_unit}"
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

"""Write a report's geometries as a GeoPackage, ready for QGIS and ArcGIS.

Layers: ``conflicts`` (the conflict pieces), ``overlap_count`` (the planarised overlaps),
``audit`` (every piece the priority order took out, or left as a sliver), ``resolved_<key>`` (each
layer after resolution), when the configuration asks for them ``steep_farmland`` (the farmland
parcels listed as steep, with their slope figures) and ``blocks`` (the outlines of the
contiguous farmland blocks, with their class and area), and ``zones``. Layer and column names
are ASCII without spaces; attribute values (Chinese names, rules) are kept as they are. Feature
ids are written as text, so ``conflicts.id_a``, ``audit.feature`` and
``resolved_<key>.feature`` join. Every layer is MultiPolygon in the report's CRS, even when
empty. The writer only formats what the report holds: the computed columns are ``area_<unit>``,
``area_m2`` in the report's unit, and a block's ``area_mu`` (its class is decided in 亩).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from geozones.choices import checked_instance, checked_layer
from geozones.errors import OutputExistsError
from geozones.outputs import atomic_file, check_output_path, write_failed
from geozones.report import i18n
from geozones.report.labels import header
from geozones.report.model import Report
from geozones.units import square_metres_per

#: Column names GeoPackage keeps for itself (the feature id and the geometry).
_RESERVED = frozenset({"fid", "geom", "geometry"})
#: Columns holding feature ids (index labels of the source layers), written as text.
_ID_COLUMNS = ("id_a", "id_b", "feature", "because_feature")


def output_path(path: str | os.PathLike[str], overwrite: bool) -> Path:
    """`path` as a Path, refusing an existing file unless `overwrite`.

    Raises
    ------
    OutputExistsError
        `path` exists and `overwrite` is False (a ``FileExistsError``).
    OutputError
        `path` cannot be a file (a part of it is a file, or it is a folder).
    """
    target = Path(path)
    check_output_path(target, sqlite=target.suffix.lower() == ".gpkg")
    if target.exists() and not overwrite:
        raise OutputExistsError(
            f"{target} already exists; pass overwrite=True (--overwrite on the command line) "
            "to replace it"
        )
    return target


#: A temporary path next to the target, renamed onto it when the block succeeds
#: (:func:`geozones.outputs.atomic_file`).
atomic_output = atomic_file


def write_geopackage(
    report: Report, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the report's layers to a GeoPackage.

    Parameters
    ----------
    report : Report
        A report (:func:`geozones.report.build_report`) or one county's part of it.
    path : str or path-like
        The ``.gpkg`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        `path` exists and `overwrite` is False (an :class:`~geozones.errors.OutputExistsError`).

    Notes
    -----
    Each layer's description (``gpkg_contents.description``) gives its title in the report's
    language and the original name of any column that had to be renamed to be ASCII.
    """
    checked_instance(report, Report, name="report", needed="the Report build_report returns")
    target = output_path(path, overwrite)
    return write_layers(geopackage_layers(report), target, overwrite=True)


def write_layers(
    layers: Mapping[str, tuple[gpd.GeoDataFrame, str]],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write layers to a GeoPackage, atomically, as :func:`write_geopackage` writes a report.

    Parameters
    ----------
    layers : mapping of str to (GeoDataFrame, str)
        Layer name to (frame, description), in writing order, each prepared with
        :func:`prepare_layer` (safe names, ids as text). Every layer is written as
        MultiPolygon, even when empty.
    path : str or path-like
        The ``.gpkg`` file to write.
    overwrite : bool, default False
        Replace `path` if it exists.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = output_path(path, overwrite)
    with atomic_output(target) as scratch:
        try:
            for name, (frame, description) in layers.items():
                _write_layer(frame, scratch, name, description)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
            raise write_failed(target, error) from error  # a full disk, in GDAL's words
    return target


def geopackage_layers(report: Report) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The layers :func:`write_geopackage` writes: name to (frame, description).

    Parameters
    ----------
    report : Report
        The report.

    Returns
    -------
    dict of str to (GeoDataFrame, str)
        Frames with safe column names and text ids, by safe layer name, in writing order.
    """
    names = dict(zip(report.zones["zone"], report.zones["name"], strict=False))
    sources: list[tuple[str, str, gpd.GeoDataFrame]] = [
        (
            "conflicts",
            header("conflicts", report.language),
            _with_zone_names(report.conflicts, names),
        ),
        (
            "overlap_count",
            header("overlap_count", report.language),
            _with_zone_names(report.overlaps, names),
        ),
        ("audit", header("audit", report.language), _with_zone_names(report.audit, names)),
    ]
    for key, frame in report.resolved.items():
        colon = ": " if report.language == "en" else "："
        title = f"{header('resolved', report.language)}{colon}{header(key, report.language)}"
        sources.append((f"resolved_{key}", title, _with_feature_ids(frame)))
    if len(report.steep_summary):
        sources.append(("steep_farmland", _steep_title(report), _steep_parcels(report)))
    if len(report.fragmentation):
        sources.append(
            ("blocks", header("block_outlines", report.language), _block_outlines(report, names))
        )
    sources.append(("zones", header("zones", report.language), report.zones))
    layers: dict[str, tuple[gpd.GeoDataFrame, str]] = {}

    for position, (name, title, frame) in enumerate(sources, start=1):
        layer = _unique(safe_name(name) or f"layer_{position}", layers)
        prepared, renamed = prepare_layer(_with_unit_area(frame, report.unit))
        layers[layer] = (prepared, _description(report, title, renamed))
    if report.comparisons:
        from geozones.report.compare import report_layers

        for name, entry in report_layers(report).items():
            layers[_unique(name, layers)] = entry
    return layers


def safe_name(name: str) -> str:
    """`name` as an ASCII identifier without spaces; empty when nothing ASCII is left.

    Examples
    --------
    >>> safe_name("resolved_farmland"), safe_name("area (m²)"), safe_name("地类名称")
    ('resolved_farmland', 'area_m', '')
    >>> safe_name("2nd layer")
    'f_2nd_layer'
    """
    ascii_name = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")
    if not re.search(r"[0-9A-Za-z]", ascii_name):
        return ""
    return f"f_{ascii_name}" if ascii_name[0].isdigit() else ascii_name


def _unique(name: str, taken: Iterable[object]) -> str:
    """`name`, suffixed with a number if already in `taken` (compared case-insensitively)."""
    used = {str(existing).lower() for existing in taken}
    candidate, number = name, 2
    while candidate.lower() in used or candidate.lower() in _RESERVED:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _steep_title(report: Report) -> str:
    title = header("steep_parcels", report.language)
    spec = report.raster_spec
    if spec is None:
        return title
    threshold, share = f"{spec.slope_threshold_deg:g}", f"{spec.steep_share_percent:g}"
    return i18n.text(
        "parts.steep_layer", report.language, title=title, threshold=threshold, share=share
    )


def _steep_parcels(report: Report) -> gpd.GeoDataFrame:
    """The parcels listed as steep: id, zone, the slope figures, areas in m²."""
    steep = report.steep_farmland
    listed = steep[steep["listed"].astype(bool)]
    names = dict(zip(report.zones["zone"], report.zones["name"], strict=False))
    columns = [
        "area_m2",
        "steep_area_m2",
        "steep_percent",
        "mean_slope",
        "max_slope",
        "nodata_area_m2",
    ]
    frame = gpd.GeoDataFrame(
        {
            "feature": listed.index.to_numpy(dtype=object),
            "zone": listed["zone"].to_numpy(dtype=object),
            "zone_name": listed["zone"].map(names).to_numpy(dtype=object),
            **{column: listed[column].to_numpy(dtype=float) for column in columns},
        },
        geometry=np.asarray(listed.geometry.array, dtype=object),
        crs=steep.crs,
    )
    return frame


def _block_outlines(report: Report, names: dict[str, str]) -> gpd.GeoDataFrame:
    """One outline per block: id, class, parcels, areas (m², 亩) and the zones it lies in."""
    blocks = report.blocks
    zones = blocks["zone"].map(lambda codes: None if codes is None else str(codes))
    zone_names = zones.map(
        lambda codes: (
            None if codes is None else ",".join(names.get(code, "") for code in codes.split(","))
        )
    )
    columns: dict[str, np.ndarray] = {
        "block": blocks.index.to_numpy(dtype=np.int64),
        "class": blocks["class"].astype(str).to_numpy(dtype=object),
        "parcels": blocks["parcels"].to_numpy(dtype=np.int64),
        "area_m2": blocks["area_m2"].to_numpy(dtype=float),
    }
    if report.unit != "mu":  # the class is decided in 亩: always show them
        columns["area_mu"] = blocks["area_m2"].to_numpy(dtype=float) / square_metres_per("mu")
    columns["zone"] = zones.to_numpy(dtype=object)
    columns["zone_name"] = zone_names.to_numpy(dtype=object)
    return gpd.GeoDataFrame(
        columns, geometry=np.asarray(blocks.geometry.array, dtype=object), crs=blocks.crs
    )


def _with_zone_names(frame: gpd.GeoDataFrame, names: dict[str, str]) -> gpd.GeoDataFrame:
    if "zone" not in frame.columns:
        return frame
    return frame.assign(zone_name=frame["zone"].map(names))


def _with_feature_ids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The index (the feature ids other layers refer to) as a first column ``feature``."""
    column = _unique("feature", frame.columns)
    with_ids = frame.copy()
    with_ids.insert(0, column, frame.index.to_numpy(dtype=object))
    return with_ids


def _with_unit_area(frame: gpd.GeoDataFrame, unit: str) -> gpd.GeoDataFrame:
    """Add ``area_<unit>`` after ``area_m2`` (unless the unit is m²)."""
    column = f"area_{unit}"
    if "area_m2" not in frame.columns or column in frame.columns:
        return frame
    result = frame.copy()
    position = list(frame.columns).index("area_m2") + 1
    result.insert(position, column, frame["area_m2"] / square_metres_per(unit))
    return result


def prepare_layer(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """A frame ready for a GeoPackage: safe column names, ids as text, a plain index.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer; columns named ``id_a``, ``id_b``, ``feature`` or ``because_feature`` hold
        feature ids and are written as text.

    Returns
    -------
    frame : GeoDataFrame
        The prepared copy.
    renamed : dict of str to str
        New column name to the original one, for those that had to change.
    """
    checked_layer(frame, name="frame")
    geometry = frame.geometry.name
    renamed: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    for position, (name, values) in enumerate(frame.drop(columns=geometry).items(), start=1):
        new = _unique(safe_name(str(name)) or f"field_{position}", columns)
        if new != name:
            renamed[new] = str(name)
        plain = pd.Series(values.array, name=values.name)  # attrs left behind: see _table
        columns[new] = _as_text(plain) if name in _ID_COLUMNS else plain
    data = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    geoms = frame.geometry.reset_index(drop=True)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=frame.crs), renamed


def _as_text(values: pd.Series) -> pd.Series:
    """Ids as strings; missing ids stay missing."""
    return values.map(lambda value: None if pd.isna(value) else str(value)).astype(object)


def _description(report: Report, title: str, renamed: dict[str, str]) -> str:
    text = f"{title} — {report.scope_name}"
    if renamed:
        pairs = ", ".join(f"{new} = {old}" for new, old in renamed.items())
        text += i18n.text("parts.renamed_fields", report.language, pairs=pairs)
    return text


def _write_layer(frame: gpd.GeoDataFrame, path: Path, layer: str, description: str) -> None:
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer,
        driver="GPKG",
        geometry_type="MultiPolygon",
        promote_to_multi=True,
        layer_options={"DESCRIPTION": description},
    )

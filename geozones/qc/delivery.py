"""A delivery database opened for the 质检: its layers matched to the rules, read and named.

A delivery is a GeoPackage or File Geodatabase whose layers carry the names of the
specification (or an alias the rule set lists), or a check configuration (TOML) naming the
files of the lines and zones. Every layer is read with :func:`geozones.read_layer`; what
reading had to repair or infer is kept, for the rules to report.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geozones.errors import CRSMismatchError, DataSourceError, MissingCRSError
from geozones.io import read_layer
from geozones.io.crs import suggest_crs
from geozones.io.validity import trimmed_for_intersection
from geozones.qc.rules import Rules


@dataclass
class DeliveryLayer:
    """One layer of a delivery, as read.

    Attributes
    ----------
    name : str
        The layer's name in the rules (``YJJBNTBHTB``), or its own for layers the rules do not
        name.
    source : str
        File and layer, for messages.
    path : pathlib.Path
        The file (or ``.gdb`` folder).
    layer : str or None
        The layer inside the file.
    info : dict
        :func:`pyogrio.read_info` of the layer: ``fields``, ``ogr_types``, ``crs``, ….
    frame : GeoDataFrame or None
        The features, indexed by FID; None when the layer could not be read (its CRS
        contradicts its coordinates and none can be inferred).
    crs_problem : tuple of (str, str) or None
        ``("missing", message)`` or ``("mismatch", message)`` when reading had to infer a CRS.
    """

    name: str
    source: str
    path: Path
    layer: str | None
    info: dict[str, Any]
    frame: gpd.GeoDataFrame | None = None
    crs_problem: tuple[str, str] | None = None
    _ids: np.ndarray | None = field(default=None, repr=False)

    def column(self, name: str | None) -> str | None:
        """The layer's own spelling of field `name` (matched ignoring case), or None."""
        if name is None:
            return None
        fields = [str(f) for f in self.info.get("fields", [])]
        if name in fields:
            return name
        return next((f for f in fields if f.upper() == name.upper()), None)

    @property
    def fids(self) -> np.ndarray:
        """The FID of each feature."""
        assert self.frame is not None
        return np.asarray(self.frame.index, dtype=np.int64)

    def ids(self, id_field: str | None) -> np.ndarray:
        """Each feature's identifier: its `id_field` (``BSM``) where not blank, else its FID."""
        assert self.frame is not None
        if self._ids is None:
            fids = self.frame.index.astype(str).to_numpy(dtype=object)
            column = self.column(id_field)
            if column is None:
                self._ids = fids
            else:
                values = self.frame[column]
                text = values.astype(str).str.strip()
                blank = values.isna() | (text == "")
                self._ids = np.where(blank.to_numpy(), fids, text.to_numpy(dtype=object))
        return self._ids


@dataclass
class Delivery:
    """A delivery opened against a rule set.

    Attributes
    ----------
    source : str
        What was opened.
    layers : dict of str to DeliveryLayer
        The layers the rules name that were found, by rules name.
    missing : list of str
        Layers the rules name that the delivery lacks.
    extra : list of str
        Layers of the delivery the rules do not name.
    zones : GeoDataFrame or None
        The administrative units given to :func:`geozones.qc.inspect`, if any, else those of
        the zones layer.
    """

    source: str
    layers: dict[str, DeliveryLayer]
    missing: list[str]
    extra: list[str]
    zones: gpd.GeoDataFrame | None = None
    others: dict[str, DeliveryLayer] = field(default_factory=dict)


def open_delivery(
    source: str | os.PathLike[str],
    rules: Rules,
    *,
    zones: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
) -> Delivery:
    """Open a delivery: match its layers to the rules and read each.

    Parameters
    ----------
    source : str or path-like
        A GeoPackage, a File Geodatabase (``.gdb`` folder), or a check configuration
        (``.toml``) whose layer keys ``farmland``, ``redline`` and ``urban`` are the lines
        and whose zones are the administrative units.
    rules : Rules
        The rule set.
    zones : GeoDataFrame or path, optional
        Administrative units to check codes and locations against instead of the delivery's
        zones layer (a path is read with :func:`geozones.read_layer`).

    Returns
    -------
    Delivery

    Raises
    ------
    DataSourceError
        `source` cannot be opened, or is a single-layer file.
    ConfigError
        A configuration that is not valid.
    """
    path = Path(os.fspath(source))
    if not path.exists():
        raise DataSourceError(f"{path}: no such file or folder; check the path")
    if path.suffix.lower() == ".toml":
        delivery = _from_config(path, rules)
    else:
        delivery = _from_database(path, rules)
    if zones is not None:
        given = zones if isinstance(zones, gpd.GeoDataFrame) else _quiet_read(Path(zones), None)
        delivery.zones = given
    return delivery


def _from_database(path: Path, rules: Rules) -> Delivery:
    try:
        listed = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, OSError) as error:
        raise DataSourceError(
            f"{path}: cannot be opened as a delivery database ({error}); give a GeoPackage, a "
            "File Geodatabase (.gdb folder) or a check configuration (.toml)"
        ) from error
    names = [str(name) for name in listed[:, 0]]
    claimed: set[str] = set()
    layers: dict[str, DeliveryLayer] = {}
    missing = []
    for rule in rules.layers.values():
        wanted = {rule.name.upper(), *(alias.upper() for alias in rule.aliases)}
        found = next((n for n in names if n.upper() == rule.name.upper()), None) or next(
            (n for n in names if n.upper() in wanted and n not in claimed), None
        )
        if found is None:
            missing.append(rule.name)
            continue
        claimed.add(found)
        layers[rule.name] = _read(rule.name, path, found, None)
    extra = [name for name in names if name not in claimed]
    others = {name: _read(name, path, name, None) for name in extra if _is_spatial(path, name)}
    return Delivery(str(path), layers, missing, extra, others=others)


def _is_spatial(path: Path, layer: str) -> bool:
    try:
        return pyogrio.read_info(path, layer=layer).get("geometry_type") is not None
    except pyogrio.errors.DataSourceError:
        return False


def _from_config(path: Path, rules: Rules) -> Delivery:
    from geozones.workflow.config import load_config

    config = load_config(path)
    layers: dict[str, DeliveryLayer] = {}
    others: dict[str, DeliveryLayer] = {}
    for key, spec in config.layers.items():
        name = rules.lines.get(key, key)
        read = _read(name, spec.path, spec.layer, spec.encoding)
        (layers if name in rules.layers else others)[name] = read
    zone_spec = config.zones
    layers[rules.zones_layer] = _read(
        rules.zones_layer, zone_spec.path, zone_spec.layer, zone_spec.encoding
    )
    missing = [name for name in rules.layers if name not in layers]
    return Delivery(str(path), layers, missing, [], others=others)


def _read(name: str, path: Path, layer: str | None, encoding: str | None) -> DeliveryLayer:
    source = str(path) if layer is None else f"{path} (layer {layer})"
    info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    read = DeliveryLayer(name=name, source=source, path=path, layer=layer, info=info)
    try:
        read.frame = _quiet_read(path, layer, encoding=encoding)
    except MissingCRSError as error:
        read.crs_problem = ("missing", str(error))
        read.frame = _inferred(path, layer, encoding, info)
    except CRSMismatchError as error:
        read.crs_problem = ("mismatch", str(error))
        read.frame = _inferred(path, layer, encoding, info)
    return read


def _inferred(
    path: Path, layer: str | None, encoding: str | None, info: dict[str, Any]
) -> gpd.GeoDataFrame | None:
    bounds = info.get("total_bounds")
    suggestion = suggest_crs(bounds) if bounds is not None else None
    if suggestion is None:
        return None
    return _quiet_read(path, layer, encoding=encoding, crs=suggestion.epsg)


def _quiet_read(
    path: Path, layer: str | None, *, encoding: str | None = None, crs: Any = None
) -> gpd.GeoDataFrame:
    """read_layer, its warnings silenced: what they say becomes findings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_layer(path, layer, encoding=encoding, crs=crs)


def admin_zones(delivery: Delivery, rules: Rules) -> gpd.GeoDataFrame | None:
    """The administrative units as ``zone`` (code), ``name`` and geometry, or None.

    The zones given to :func:`geozones.qc.inspect` if any, else the delivery's zones layer;
    None when neither exists or the code field is missing. Units without a code are left out
    (CODE rules report them).
    """
    frame = delivery.zones
    if frame is None:
        layer = delivery.layers.get(rules.zones_layer)
        if layer is None or layer.frame is None:
            return None
        frame = layer.frame
    columns = {str(c).upper(): c for c in frame.columns}
    code = columns.get(rules.code_field.upper())
    if code is None:
        return None
    name = columns.get(rules.name_field.upper()) if rules.name_field else None
    codes = frame[code].astype("string").str.strip()
    keep = (codes.notna() & (codes != "")).to_numpy()
    return gpd.GeoDataFrame(
        {
            "zone": codes[keep].astype(object).to_numpy(),
            "name": frame[name][keep].astype(object).to_numpy() if name is not None else None,
        },
        geometry=frame.geometry.to_numpy()[keep],
        crs=frame.crs,
    )


def dominant_zone(frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """The code of the zone holding the largest share of each feature, or None outside all.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons.
    zones : GeoDataFrame
        As :func:`admin_zones` returns them; reprojected to `frame`'s CRS if needed.

    Returns
    -------
    numpy.ndarray
        One code (or None) per feature.
    """
    if frame.crs is not None and zones.crs is not None and frame.crs != zones.crs:
        zones = zones.to_crs(frame.crs)
    geoms = frame.geometry.to_numpy()
    zone_geoms = zones.geometry.to_numpy()
    result = np.full(len(geoms), None, dtype=object)
    feature, zone = shapely.STRtree(zone_geoms).query(geoms, predicate="intersects")
    if len(feature) == 0:
        return result
    share = np.ones(len(feature))
    counts = np.bincount(feature, minlength=len(geoms))
    shared = counts[feature] > 1
    if shared.any():
        share[shared] = shapely.area(
            shapely.intersection(
                *trimmed_for_intersection(geoms[feature[shared]], zone_geoms[zone[shared]])
            )
        )
    order = np.lexsort((-share, feature))
    feature, zone = feature[order], zone[order]
    first = np.flatnonzero(np.diff(feature, prepend=-1) != 0)
    result[feature[first]] = zones["zone"].to_numpy(dtype=object)[zone[first]]
    return result

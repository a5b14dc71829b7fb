"""Where the lines overlap, and the priority order applied to take the overlaps out.

The three control lines must not cross, overlap or conflict (不交叉、不重叠、不冲突), and inside one
layer features must not overlap either. :func:`find_conflicts` lists every overlapping piece of
two features; :func:`overlap_count` planarises the overlaps (where two, three, … layers cover
the land); :func:`resolve_conflicts` takes each overlap out of the lower-priority layer and
records every piece taken; :func:`conflict_summary` gives the area per zone and layer pair
without counting a piece of land twice.

The overlaps of each pair of layers come from one kernel, :mod:`geozones.analysis.overlaps`: huge
polygons cut into pieces, a feature covered whole by the other credited without any overlay,
only pairs whose boundaries cross intersected, all in threads (GEOS releases the GIL).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from geopandas.array import from_shapely

from geozones.analysis._pairs import components
from geozones.analysis.clip import two_sum
from geozones.analysis.coverage import ZonePieces
from geozones.analysis.faces import faces_and_points, genuine_groups
from geozones.analysis.noding import node_lines
from geozones.analysis.overlaps import Overlaps, PolygonFacts, built_pieces, classified_overlaps
from geozones.analysis.polygonize import NodedFaces, translated
from geozones.choices import checked_instance, checked_layer, checked_non_negative
from geozones.errors import EmptyLayerError, GeozonesError, MissingCRSError, OutsideZonesWarning
from geozones.io.provenance import object_ids
from geozones.io.rings import PolygonRings
from geozones.io.validity import EMPTY_POLYGONAL, polygon_array, polygonal_parts, trimmed_near
from geozones.measure.area import ellipsoidal_area, ellipsoidal_ring_area
from geozones.measure.tolerance import (
    DEFAULT_XY_TOLERANCE,
    PhantomTally,
    best_per_group,
    check_xy_tolerance,
    eliminate_thin_parts,
    in_narrow_strips,
    is_thin,
    split_thin_parts,
    thin_or_thick_by_size,
    tolerance_in_crs_units,
)
from geozones.parallel import (
    collector_paused,
    map_apart,
    map_by_cost,
    map_by_cost_forked,
    query_pairs,
    worker_count,
)
from geozones.zones import codes_of_parts, to_crs, zone_codes, zone_parts

#: The three lines' layer keys, in the default priority of the rules:
#: 耕地和永久基本农田 (farmland) → 生态保护红线 (redline) → 城镇开发边界 (urban).
LINES: tuple[str, str, str] = ("farmland", "redline", "urban")

#: Columns of the table :func:`find_conflicts` returns, before the geometry.
CONFLICT_COLUMNS = ("layer_a", "layer_b", "id_a", "id_b", "area_m2", "sliver", "zone")
_CLAIM_COLUMNS = (
    "layer",
    "feature",
    "position",
    "because_layer",
    "because_feature",
    "because_rank",
    "because_position",
    "rule",
    "overlap_m2",
    "cutter",
    "geometry",
)
#: Columns of the audit :func:`resolve_conflicts` returns, before the geometry.
AUDIT_COLUMNS = (
    "layer",
    "feature",
    "because_layer",
    "because_feature",
    "rule",
    "area_m2",
    "overlap_m2",
    "taken",
    "zone",
)


@dataclass(frozen=True)
class AlignedLayers:
    """The layers of a check, aligned to one CRS, with measurable (repaired) geometries."""

    names: tuple[str, ...]
    frames: dict[str, gpd.GeoDataFrame]
    geoms: dict[str, np.ndarray]
    crs: pyproj.CRS

    @classmethod
    def prepare(cls, layers: Mapping[str, gpd.GeoDataFrame]) -> AlignedLayers:
        """The `layers` in their common CRS, with their polygons repaired for measuring."""
        checked_instance(layers, Mapping, name="layers", needed="a mapping of name to layer")
        if not layers:
            raise EmptyLayerError("no layers given; pass a mapping of layer name to GeoDataFrame")
        for name, frame in layers.items():
            checked_layer(frame, name=f"layer {name!r}")
        names = tuple(layers)
        crs = _common_crs(layers)
        frames = {
            name: to_crs(frame, crs, name=f"layer {name!r}", target="the check's")
            for name, frame in layers.items()
        }
        geoms = {
            name: _measurable(polygon_array(frame, purpose=f"conflicts (layer {name!r})"))
            for name, frame in frames.items()
        }
        return cls(names, frames, geoms, crs)

    def ring_area(self, rings: PolygonRings, count: int) -> np.ndarray | None:
        """Ellipsoidal area (m²) of `count` polygons given by `rings` in the layers' CRS.

        The ``measure_rings`` of :func:`classified_overlaps`; None where
        :func:`ellipsoidal_ring_area` cannot measure them.
        """
        return ellipsoidal_ring_area(rings, count, self.crs)


def _common_crs(layers: Mapping[str, gpd.GeoDataFrame]) -> pyproj.CRS:
    """The first projected CRS among the layers (the first CRS if none is projected)."""
    crss = [pyproj.CRS.from_user_input(f.crs) for f in layers.values() if f.crs is not None]
    if len(crss) < len(layers):
        missing = [name for name, frame in layers.items() if frame.crs is None]
        raise MissingCRSError(
            f"layer(s) {', '.join(missing)} have no CRS; read them with geozones.read_layer"
        )
    projected = [crs for crs in crss if crs.is_projected]
    return projected[0] if projected else crss[0]


def _measurable(geoms: np.ndarray) -> np.ndarray:
    """Null and empty geometries as empty polygons, so index positions stay aligned."""
    absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if absent.any():
        geoms = geoms.copy()
        geoms[absent] = shapely.Polygon()
    return geoms


def _layer_pairs(names: Sequence[str], *, within_layers: bool) -> list[tuple[str, str]]:
    pairs = list(combinations(names, 2))
    if within_layers:
        pairs = [(name, name) for name in names] + pairs
    return pairs


#: Two pairs of layers are checked at once where they share no layer (with more than one
#: thread); False checks them in turn (``benchmarks/bench_pairs.py`` compares the two).
PAIRS_AT_ONCE = True


def _sharing_objects(geoms: Mapping[str, np.ndarray]) -> dict[str, set[str]]:
    """Per layer, the layers (itself among them) holding one of the same geometry objects.

    A frame passed as two layers, or a shallow copy of one, shares its polygons with the
    other: work on the two must not run at once.
    """
    names = list(geoms)
    ids = np.concatenate([object_ids(geoms[name]) for name in names])
    owner = np.repeat(np.arange(len(names)), [len(geoms[name]) for name in names])
    order = np.argsort(ids, kind="stable")
    same = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(same) == 0:  # the usual case: each layer its own
        return {name: {name} for name in names}
    _, group = components(len(names), owner[order][same], owner[order][same + 1])
    return {
        name: {other for other, g in zip(names, group, strict=True) if g == group[k]}
        for k, name in enumerate(names)
    }


def _progress(total: int, *, enabled: bool, description: str) -> Any:
    """A progress bar (``tqdm.auto``) of `total` pairs, or None when not `enabled`."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="pair")


@collector_paused()
def find_conflicts(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    min_area_m2: float = 0.0,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str | None = None,
    within_layers: bool = True,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    keep_phantoms: bool = False,
    progress: bool = False,
    threads: int | None = None,
) -> gpd.GeoDataFrame:
    """Every piece where two features overlap, between layers and inside each layer.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to polygons: the three lines (``farmland``, ``redline``, ``urban``) or any
        others (core zones, mining rights, a project). Layers in other CRSs are reprojected to
        the first projected CRS among them, with a warning naming both; invalid polygons are
        repaired with a warning, as :func:`geozones.read_layer` does.
    min_area_m2 : float, default 0
        Overlaps of two features smaller than this (ellipsoidal m², the whole overlap, before
        any split at zone boundaries) are flagged ``sliver``; they are kept.
    zones : GeoDataFrame, optional
        Zones (e.g. counties) to split pieces at; adds the ``zone`` column. Parts outside
        every zone are kept with zone None, with a warning.
    zone_field : str, optional
        Field of `zones` holding the zone code; the index when omitted.
    within_layers : bool, default True
        Also report overlaps between features of the same layer (``layer_a == layer_b``).
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres: boundaries closer than this are the same boundary.
        An overlap whose every part is thinner than it (no disc of this diameter fits in it)
        is a *phantom*, digitising noise where neighbours share a boundary, and not a
        conflict. 0 reports every overlap. See :mod:`geozones.measure.tolerance`.
    keep_phantoms : bool, default False
        List the phantoms too, flagged in a ``phantom`` column.
    progress : bool, default False
        Show a progress bar over the layer pairs.
    threads : int, optional
        Threads for the overlays; the ``GEOZONES_THREADS`` environment variable, else the
        CPU count, when omitted (see :mod:`geozones.analysis.overlaps`). With more than one,
        two pairs of layers that share no layer are also checked at once (the farmland with
        itself beside the red line with the urban boundary); the result is the same.

    Returns
    -------
    GeoDataFrame
        One row per piece: ``layer_a``, ``layer_b`` (in the order of `layers`), ``id_a``,
        ``id_b`` (index labels of the features), ``area_m2`` (ellipsoidal), ``sliver``,
        ``zone`` (None without zones), ``phantom`` (with `keep_phantoms` only) and the
        polygonal geometry. Features whose edges or corners merely touch do not conflict.
        ``attrs`` records ``unit``, ``method``, ``min_area_m2``, ``xy_tolerance`` and
        ``phantoms``: how many overlaps were dismissed as phantoms and their area (see
        :class:`geozones.measure.tolerance.PhantomTally`).

    Raises
    ------
    ToleranceError
        `xy_tolerance` is negative, NaN or over 1 m.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> farmland = gpd.GeoDataFrame(geometry=[box(x, y, x + 100, y + 100)], crs=4527)
    >>> redline = gpd.GeoDataFrame(geometry=[box(x + 60, y, x + 200, y + 100)], crs=4527)
    >>> conflicts = find_conflicts({"farmland": farmland, "redline": redline})
    >>> conflicts[["layer_a", "layer_b", "id_a", "id_b"]].to_dict("records")
    [{'layer_a': 'farmland', 'layer_b': 'redline', 'id_a': 0, 'id_b': 0}]
    >>> round(float(conflicts.area_m2.iloc[0]), 2)  # 40 m × 100 m, on the central meridian
    4000.0

    A neighbour whose shared edge was digitised 0.4 mm into the parcel is no conflict:

    >>> neighbour = gpd.GeoDataFrame(geometry=[box(x + 99.9996, y, x + 150, y + 100)], crs=4527)
    >>> phantoms = find_conflicts({"farmland": farmland, "neighbour": neighbour})
    >>> len(phantoms), phantoms.attrs["phantoms"]["count"]
    (0, 1)
    """
    return _conflicts(
        layers,
        min_area_m2=min_area_m2,
        zones=zones,
        zone_field=zone_field,
        within_layers=within_layers,
        xy_tolerance=xy_tolerance,
        keep_phantoms=keep_phantoms,
        counted=None,
        progress=progress,
        threads=threads,
    )


@collector_paused()
def conflicts_counting_phantoms(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    counted: Mapping[str, np.ndarray],
    min_area_m2: float = 0.0,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str | None = None,
    within_layers: bool = True,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    threads: int | None = None,
) -> gpd.GeoDataFrame:
    """:func:`find_conflicts`, counting only the phantoms of some features.

    For a streamed run, which counts each phantom once, in the zone of its first feature:
    a zone's window holds features of the zones around it too, whose phantoms those zones
    count. ``attrs["phantoms"]`` counts and measures the phantoms whose feature of
    ``layer_a`` is marked in ``counted[layer_a]``; the conflicts are all found.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        As for :func:`find_conflicts`.
    counted : mapping of str to numpy.ndarray
        Per layer, a boolean per feature, in the layer's order: its phantoms are counted.
    min_area_m2, zones, zone_field, within_layers, xy_tolerance, threads
        As for :func:`find_conflicts`.

    Returns
    -------
    GeoDataFrame
        What :func:`find_conflicts` returns, ``attrs["phantoms"]`` counting as above.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> farmland = gpd.GeoDataFrame(geometry=[box(x, y, x + 100, y + 100)], crs=4527)
    >>> neighbour = gpd.GeoDataFrame(geometry=[box(x + 99.9996, y, x + 150, y + 100)], crs=4527)
    >>> layers = {"farmland": farmland, "next": neighbour}
    >>> mine = {"farmland": np.array([True]), "next": np.array([False])}
    >>> phantoms = conflicts_counting_phantoms(layers, counted=mine).attrs["phantoms"]
    >>> phantoms["count"], round(phantoms["area_m2"], 2)  # 0.4 mm × 100 m
    (1, 0.04)
    >>> others = {"farmland": np.array([False]), "next": np.array([True])}
    >>> conflicts_counting_phantoms(layers, counted=others).attrs["phantoms"]["count"]
    0
    """
    for name, frame in layers.items():
        marks = counted.get(name)
        if marks is None or len(marks) != len(frame):
            raise GeozonesError(
                f"counted needs one mark per feature of layer {name!r} ({len(frame)}), "
                f"not {'none' if marks is None else len(marks)}"
            )
    return _conflicts(
        layers,
        min_area_m2=min_area_m2,
        zones=zones,
        zone_field=zone_field,
        within_layers=within_layers,
        xy_tolerance=xy_tolerance,
        keep_phantoms=False,
        counted={name: np.asarray(marks, dtype=bool) for name, marks in counted.items()},
        progress=False,
        threads=threads,
    )


def _conflicts(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    min_area_m2: float,
    zones: gpd.GeoDataFrame | None,
    zone_field: str | None,
    within_layers: bool,
    xy_tolerance: float,
    keep_phantoms: bool,
    counted: Mapping[str, np.ndarray] | None,
    progress: bool,
    threads: int | None,
) -> gpd.GeoDataFrame:
    """:func:`find_conflicts`, counting the phantoms `counted` marks if given.

    As :func:`conflicts_counting_phantoms` counts them.
    """
    checked_non_negative(min_area_m2, name="min_area_m2", unit="m²")
    tolerance = check_xy_tolerance(xy_tolerance)
    prepared = AlignedLayers.prepare(layers)
    width = tolerance_in_crs_units(tolerance, prepared.crs)
    tally = PhantomTally()
    pairs = _layer_pairs(prepared.names, within_layers=within_layers)
    facts = PolygonFacts()  # each layer's tree and shapes, for all its pairs

    def overlaps_of(pair: tuple[str, str]) -> tuple[_PairRows, np.ndarray]:
        name_a, name_b = pair
        found = classified_overlaps(
            prepared.geoms[name_a],
            prepared.geoms[name_b],
            same_layer=name_a == name_b,
            width=width,
            threads=threads,
            build_phantoms=keep_phantoms,
            measure_rings=prepared.ring_area,
            facts=facts,
        )
        counted_phantoms = (
            found.phantom if counted is None else found.phantom & counted[name_a][found.left_index]
        )
        rows = np.ones(len(found.phantom), dtype=bool) if keep_phantoms else ~found.phantom
        # Only the rows leave: the phantoms (420,632 slivers within a tessellation of 200,000
        # parcels) go with `found`, not when the next pair's overlaps replace them.
        return _PairRows(
            name_a,
            name_b,
            _ids(prepared, name_a, found.left_index[rows]),
            _ids(prepared, name_b, found.right_index[rows]),
            found.phantom[rows],
            found.pieces[rows],
            _overlap_areas(found, prepared.crs, rows),
        ), _overlap_areas(found, prepared.crs, counted_phantoms)

    at_once = PAIRS_AT_ONCE and worker_count(threads) > 1
    sharing = (
        _sharing_objects(prepared.geoms) if at_once else {name: {name} for name in prepared.names}
    )
    bar = _progress(len(pairs), enabled=progress, description="conflicts")
    # Two pairs of layers at once where they share no layer, nor a polygon (the farmland with
    # itself and the red line with the urban boundary): each call's serial parts leave a core
    # idle. A call prepares polygons of its layers, and two threads using one prepared polygon
    # at once crash.
    found_pairs = map_apart(
        overlaps_of,
        pairs,
        uses=[sharing[a] | sharing[b] for a, b in pairs],
        cost=[len(prepared.geoms[a]) * len(prepared.geoms[b]) for a, b in pairs],
        threads=threads if at_once else 1,
        done=None if bar is None else bar.update,
    )
    if bar is not None:
        bar.close()
    found_rows: list[_PairRows] = []
    for rows, phantom_area in found_pairs:
        tally.add(
            rows.layer_a, rows.layer_b, count=len(phantom_area), area_m2=float(phantom_area.sum())
        )
        found_rows.append(rows)
    del found_pairs
    table, area = _conflict_table(found_rows)
    del found_rows
    if not keep_phantoms:
        table = table.drop(columns="phantom")
    result = _with_zones_and_area(
        table, prepared.crs, zones, zone_field, min_area_m2, whole_area=area
    )
    if keep_phantoms:
        result = result[[*CONFLICT_COLUMNS, "phantom", "geometry"]]
    result.attrs.update(xy_tolerance=tolerance, phantoms=tally.as_dict())
    return result


class _PairRows(NamedTuple):
    """The overlaps of one pair of layers, as rows of the conflict table."""

    layer_a: str
    layer_b: str
    id_a: np.ndarray
    id_b: np.ndarray
    phantom: np.ndarray
    pieces: np.ndarray
    area_m2: np.ndarray


def _conflict_table(found: Sequence[_PairRows]) -> tuple[pd.DataFrame, np.ndarray]:
    """One table of the overlaps of all pairs, built once; and their area (m²)."""
    columns = ("layer_a", "layer_b", "id_a", "id_b", "phantom", "geometry")
    if not found:
        empty = pd.DataFrame({column: [] for column in columns})
        return empty.astype({"phantom": bool}), np.zeros(0)
    if sum(len(part.pieces) for part in found) == 0:
        # As a pair's rows are when there are none (pandas infers the layer names' dtype).
        empty = pd.DataFrame(
            {
                "layer_a": found[0].layer_a,
                "layer_b": found[0].layer_b,
                "id_a": np.zeros(0, dtype=object),
                "id_b": np.zeros(0, dtype=object),
                "phantom": np.zeros(0, dtype=bool),
                "geometry": np.zeros(0, dtype=object),
            },
            index=pd.RangeIndex(0),
            columns=columns,
        )
        return empty, np.zeros(0)
    count = [len(part.pieces) for part in found]
    table = pd.DataFrame(
        {
            "layer_a": np.repeat(np.array([part.layer_a for part in found], dtype=object), count),
            "layer_b": np.repeat(np.array([part.layer_b for part in found], dtype=object), count),
            # Index labels as they are (pandas would infer text where all are strings).
            "id_a": pd.Series(np.concatenate([part.id_a for part in found]), dtype=object),
            "id_b": pd.Series(np.concatenate([part.id_b for part in found]), dtype=object),
            "phantom": np.concatenate([part.phantom for part in found]).astype(bool),
            "geometry": np.concatenate([part.pieces for part in found]),
        },
        columns=columns,
    )
    return table, np.concatenate([part.area_m2 for part in found])


def _ids(prepared: AlignedLayers, name: str, positions: np.ndarray) -> np.ndarray:
    """The index labels of the features of layer `name` at `positions`."""
    return prepared.frames[name].index[positions].to_numpy(dtype=object)


def _tally(
    tally: PhantomTally,
    name_a: str,
    name_b: str,
    found: Overlaps,
    crs: pyproj.CRS,
) -> None:
    """Count the phantoms of `found` and measure them."""
    area = _overlap_areas(found, crs, found.phantom)
    tally.add(name_a, name_b, count=len(area), area_m2=float(area.sum()))


def _overlap_areas(found: Overlaps, crs: pyproj.CRS, which: np.ndarray) -> np.ndarray:
    """Ellipsoidal area (m²) of the overlaps of `found` marked in `which`, in order.

    As measured when they were clipped (``measured_area``); phantoms left as rings, from
    them; the others, and rings that cannot be measured so, from their pieces (built if need
    be).
    """
    area = (
        np.full(len(which), np.nan) if found.measured_area is None else found.measured_area.copy()
    )
    todo = which & np.isnan(area)
    if todo.any() and found.unbuilt is not None and len(found.unbuilt.ring_starts):
        from_rings = ellipsoidal_ring_area(found.unbuilt, len(which), crs)
        if from_rings is not None:
            owned = np.zeros(len(which), dtype=bool)
            owned[found.unbuilt.ring_geometry] = True
            area[owned] = from_rings[owned]
            todo = which & np.isnan(area)
    if todo.any():
        pieces = found.pieces
        if shapely.is_missing(pieces[todo]).any():
            pieces = built_pieces(found)
        area[todo] = ellipsoidal_area(pieces[todo], crs)
    return area[which]


def _with_zones_and_area(
    table: pd.DataFrame,
    crs: pyproj.CRS,
    zones: gpd.GeoDataFrame | None,
    zone_field: str | None,
    min_area_m2: float,
    *,
    whole_area: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Split the pieces in ``table.geometry`` at zone boundaries; measure them; flag slivers.

    A piece is a sliver when the whole overlap it comes from is under `min_area_m2`, not each
    part a zone boundary cuts it into. Parts outside every zone are kept, with zone None.
    `whole_area` is the pieces' ellipsoidal area where the caller measured it already.
    """
    pieces = table["geometry"].to_numpy(dtype=object)
    if whole_area is None:
        whole_area = ellipsoidal_area(pieces, crs) if len(pieces) else np.zeros(0)
    zone = np.full(len(table), None, dtype=object)
    row: np.ndarray = np.arange(len(table))
    area: np.ndarray = whole_area  # the pieces, not split
    if zones is not None and len(pieces):
        codes = zone_codes(zones, zone_field)
        zone_geoms = polygon_array(
            to_crs(zones, crs, name="the zones", target="the layers'"), purpose="zones"
        )
        pieces, row, zone_index, area = zone_parts(pieces, zone_geoms, area=whole_area, crs=crs)
        zone = codes_of_parts(codes, zone_index)
        lost = int((zone_index < 0).sum())
        if lost:
            warnings.warn(
                f"{lost} piece(s) lie partly or wholly outside every zone; those parts are "
                "kept with zone None",
                OutsideZonesWarning,
                stacklevel=3,
            )
    table = table.iloc[row].reset_index(drop=True)
    # The geometry column made from the object array (from a list, geopandas checks each
    # piece in Python) and then named (given the array, geopandas looks for the CRS of a
    # frame without one in a way that costs a millisecond, per streamed window).
    result = table.drop(columns="geometry").assign(
        area_m2=area,
        sliver=whole_area[row] < min_area_m2,
        zone=zone,
        geometry=from_shapely(pieces, crs=crs),
    )
    frame = gpd.GeoDataFrame(result, geometry="geometry")
    frame.attrs.update(unit="m2", method="ellipsoidal", min_area_m2=min_area_m2)
    return frame


@collector_paused()
def overlap_count(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str | None = None,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    threads: int | None = None,
) -> gpd.GeoDataFrame:
    """Planarised overlaps: the land covered by two or more layers, by how many and which.

    Like ArcGIS *Count Overlapping Features* restricted to counts of two and more, the land
    where the lines conflict. Land covered by a single layer is that layer, dissolved, minus
    these faces.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        As for :func:`find_conflicts`.
    zones : GeoDataFrame, optional
        Zones to split faces at; adds the ``zone`` column.
    zone_field : str, optional
        Field of `zones` holding the zone code; the index when omitted.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres, as for :func:`find_conflicts`: overlaps thinner than
        it are phantoms, and faces thinner than it are left out.
    threads : int, optional
        Threads for the overlays; the ``GEOZONES_THREADS`` environment variable, else the
        CPU count, when omitted (see :mod:`geozones.analysis.overlaps`).

    Returns
    -------
    GeoDataFrame
        One row per face: ``count`` (number of layers covering it), ``layers`` (their names
        joined with ``+``, in the order of `layers`), ``area_m2`` (ellipsoidal), ``zone`` and
        the geometry. Faces do not overlap each other but in phantoms: overlaps that meet
        only in overlaps thinner than the tolerance (a tessellation's neighbours, each
        overlapping the red line) are faced apart, as boundaries closer than the tolerance
        are one boundary, so their faces share those slivers. ``attrs`` records
        ``xy_tolerance``, ``phantoms`` (as :func:`find_conflicts` does),
        ``thin_face_area_m2`` (the area of the faces left out as thinner than the tolerance)
        and ``shared_phantoms``: the ``count`` and ``area_m2`` (ellipsoidal) of the slivers
        two faces share, whose area is in both faces' ``area_m2``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> def layer(*boxes):
    ...     return gpd.GeoDataFrame(geometry=[box(*b) for b in boxes], crs=4527)
    >>> faces = overlap_count({
    ...     "farmland": layer((x, y, x + 30, y + 10)),
    ...     "redline": layer((x + 10, y, x + 40, y + 10)),
    ...     "urban": layer((x + 20, y, x + 50, y + 10)),
    ... })
    >>> for face in faces.itertuples():
    ...     print(face.count, face.layers, round(face.area_m2))
    2 farmland+redline 100
    3 farmland+redline+urban 100
    2 redline+urban 100
    """
    tolerance = check_xy_tolerance(xy_tolerance)
    prepared = AlignedLayers.prepare(layers)
    width = tolerance_in_crs_units(tolerance, prepared.crs)
    tally = PhantomTally()
    overlap_regions: list[shapely.Geometry] = []
    facts = PolygonFacts()
    for name_a, name_b in combinations(prepared.names, 2):
        found = classified_overlaps(
            prepared.geoms[name_a],
            prepared.geoms[name_b],
            width=width,
            threads=threads,
            build_phantoms=False,
            measure_rings=prepared.ring_area,
            facts=facts,
        )
        _tally(tally, name_a, name_b, found, prepared.crs)
        overlap_regions.extend(found.pieces[~found.phantom])
    thin_face_area = 0.0
    shared = {"count": 0, "area_m2": 0.0}
    if overlap_regions:
        regions = np.asarray(overlap_regions, dtype=object)
        # Overlaps that meet only in phantoms (the overlaps of a tessellation's neighbours)
        # are faced apart: noded together, a tessellation's overlaps make one group of
        # thousands, whose noding took most of the time.
        group, among = genuine_groups(regions, width=width, threads=threads)
        apart = among.phantom & (group[among.left_index] != group[among.right_index])
        shared = {
            "count": int(apart.sum()),
            "area_m2": float(_overlap_areas(among, prepared.crs, apart).sum()),
        }
        faces, inside = faces_and_points(regions, group=group, threads=threads)
        thin = is_thin(faces, width)
        if thin.any():
            thin_face_area = float(ellipsoidal_area(faces[thin], prepared.crs).sum())
            faces, inside = faces[~thin], inside[~thin]
        points = shapely.STRtree(inside)
        covering = np.zeros((len(faces), len(prepared.names)), dtype=bool)
        for column, name in enumerate(prepared.names):
            # Each polygon is prepared for its points (the query side is): a point tested
            # against a 200,000-vertex red-line polygon unprepared reads every edge.
            _, point_index = query_pairs(
                points, prepared.geoms[name], predicate="contains", threads=threads
            )
            covering[np.unique(point_index), column] = True
        count = covering.sum(axis=1)
        keep = count >= 2
        faces, covering, count = faces[keep], covering[keep], count[keep]
    else:
        faces, covering, count = np.empty(0, dtype=object), np.zeros((0, 0), bool), np.zeros(0, int)
    table = pd.DataFrame(
        {
            "count": count.astype(int),
            "layers": _layer_sets(covering, prepared.names),
            "geometry": faces,
        }
    )
    table = table.sort_values(["layers"], kind="stable").reset_index(drop=True)
    result = _with_zones_and_area(table, prepared.crs, zones, zone_field, 0.0)
    result = result.drop(columns=["sliver"])[["count", "layers", "area_m2", "zone", "geometry"]]
    result.attrs.update(
        xy_tolerance=tolerance,
        phantoms=tally.as_dict(),
        thin_face_area_m2=thin_face_area,
        shared_phantoms=shared,
    )
    return result


def _layer_sets(covering: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Per row of `covering` (faces by layers), the names of the layers it marks, joined by +.

    One join per set of layers, not per face (a tessellated province has 100,000s of faces
    and a few sets).
    """
    if len(covering) == 0:
        return np.empty(0, dtype=object)
    labels = np.asarray(names, dtype=object)
    if len(labels) < 63:  # each row as the bits of one integer: unique integers sort fast
        bits = covering.astype(np.int64) @ (1 << np.arange(len(labels), dtype=np.int64))
        _, first, which = np.unique(bits, return_index=True, return_inverse=True)
    else:
        _, first, which = np.unique(covering, axis=0, return_index=True, return_inverse=True)
    joined = np.array(["+".join(labels[covering[row]]) for row in first], dtype=object)
    return joined[which.reshape(-1)]


@collector_paused()
def conflict_summary(conflicts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Conflict area per zone and layer pair, each piece of land counted once.

    Parameters
    ----------
    conflicts : GeoDataFrame
        The result of :func:`find_conflicts`.

    Returns
    -------
    pandas.DataFrame
        One row per (``zone``, ``layer_a``, ``layer_b``): ``pieces``, ``slivers``, ``area_m2``
        (ellipsoidal area of the union of the pieces that are not slivers) and
        ``sliver_area_m2`` (the union of the slivers, outside the other pieces). Phantoms
        (listed with ``keep_phantoms=True``) are left out; ``attrs`` carries the
        ``xy_tolerance`` and ``phantoms`` of `conflicts`. Pieces that overlap only in
        phantoms of that tolerance (a tessellation's parcels, each over the red line) are
        not unioned: the phantoms' area is taken off theirs, which counts the land once but
        for points in three phantoms at once (where four parcels meet, square micrometres).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> farmland = gpd.GeoDataFrame(geometry=[box(x, y, x + 100, y + 100)] * 2, crs=4527)
    >>> redline = gpd.GeoDataFrame(geometry=[box(x + 60, y, x + 200, y + 100)], crs=4527)
    >>> pieces = find_conflicts({"farmland": farmland, "redline": redline}, within_layers=False)
    >>> summary = conflict_summary(pieces)
    >>> summary[["layer_a", "layer_b", "pieces"]].to_dict("records")
    [{'layer_a': 'farmland', 'layer_b': 'redline', 'pieces': 2}]
    >>> round(float(summary.area_m2.iloc[0]), 2)  # the duplicated parcel's overlap counts once
    4000.0
    """
    checked_layer(conflicts, name="conflicts")
    if conflicts.crs is None:
        raise MissingCRSError(
            "conflicts has no CRS; pass the table find_conflicts returns, in the CRS it measured"
        )
    crs = pyproj.CRS.from_user_input(conflicts.crs)
    keys = ["zone", "layer_a", "layer_b"]
    if "phantom" in conflicts:  # listed with keep_phantoms: not conflicts
        conflicts = conflicts[~conflicts["phantom"].to_numpy(dtype=bool)]
    frame = conflicts.assign(zone=conflicts["zone"].fillna("")) if len(conflicts) else conflicts
    # Overlapping pieces (a parcel drawn twice, say) count once: only groups of pieces that
    # overlap are unioned, not every piece of a layer pair (thousands of unions at province
    # scale). The slivers' area is what they add to the rest.
    grouped = frame.groupby(keys, sort=True, dropna=False)
    group = grouped.ngroup().to_numpy()
    every = np.arange(grouped.ngroups)
    geoms = frame.geometry.to_numpy(dtype=object)
    sliver = frame["sliver"].to_numpy(dtype=bool)
    slivers = np.bincount(group[sliver], minlength=len(every))

    # Pieces that overlap only in phantoms (a tessellation's parcels, each over the red
    # line) are not unioned: their phantoms' area is taken off instead. A union of the
    # farmland inside one red-line polygon took seconds, and wandered by square metres.
    tolerance = conflicts.attrs.get("xy_tolerance", 0.0)
    width = tolerance_in_crs_units(check_xy_tolerance(tolerance), crs) if tolerance else 0.0

    def dissolved(parts: np.ndarray, keep: np.ndarray) -> np.ndarray:
        pieces = ZonePieces(parts[keep], np.flatnonzero(keep), group[keep])
        area, _ = pieces.dissolved_area(
            every, lambda part: ellipsoidal_area(part, crs), width=width, phantoms_once=True
        )
        return area.reindex(every, fill_value=0.0).to_numpy()

    main_area = dissolved(geoms, ~sliver)
    added = dissolved(_outside_the_rest(geoms, group, sliver), sliver)
    index = grouped.size().index
    summary = pd.DataFrame(
        {
            **{key: index.get_level_values(key) for key in keys},
            "pieces": np.bincount(group, minlength=len(every)),
            "slivers": slivers,
            "area_m2": main_area,
            "sliver_area_m2": np.where(slivers > 0, np.maximum(added, 0.0), 0.0),
        }
    )
    summary["zone"] = summary["zone"].replace("", None)
    summary.attrs.update(unit="m2", method="ellipsoidal")
    for key in ("xy_tolerance", "phantoms"):
        if key in conflicts.attrs:
            summary.attrs[key] = conflicts.attrs[key]
    return summary


def _outside_the_rest(geoms: np.ndarray, group: np.ndarray, sliver: np.ndarray) -> np.ndarray:
    """Each sliver less the other pieces of its group that it meets (the rest as they are).

    One vectorized difference per neighbour rank, all slivers at once: no union of a whole
    group (the farmland inside a red-line polygon can be 11,000 pieces, and a union of them
    took seconds).
    """
    small, rest = np.flatnonzero(sliver), np.flatnonzero(~sliver)
    outside = geoms.copy()
    if len(small) == 0:
        return outside
    at, meeting = shapely.STRtree(geoms[rest]).query(geoms[small], predicate="intersects")
    same = group[small[at]] == group[rest[meeting]]
    at, meeting = small[at[same]], rest[meeting[same]]
    # Round k takes each sliver's k-th neighbour (the pairs come sorted by sliver).
    rank = np.arange(len(at)) - np.searchsorted(at, at)
    for k in range(int(rank.max()) + 1 if len(rank) else 0):
        now = rank == k
        outside[at[now]] = shapely.difference(outside[at[now]], geoms[meeting[now]])
    outside[small] = polygonal_parts(outside[small])
    return outside


@collector_paused()
def resolve_conflicts(
    layers: Mapping[str, gpd.GeoDataFrame],
    priority: Sequence[str] = LINES,
    *,
    overrides: Mapping[str, tuple[gpd.GeoDataFrame, Sequence[str]]] | None = None,
    min_area_m2: float = 0.0,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str | None = None,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    threads: int | None = None,
) -> tuple[dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame]:
    """Take every overlap out of the lower-priority layer, recording each piece taken.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        The layers; those named in `priority` are resolved, others are ignored.
    priority : sequence of str, default ("farmland", "redline", "urban")
        Layer names, highest priority first: 耕地和永久基本农田 → 生态保护红线 → 城镇开发边界.
    overrides : mapping of str to (GeoDataFrame, sequence of str), optional
        Exceptions: name → (mask polygons, priority inside the mask). E.g.
        ``{"core zone": (core_zones, ("redline", "farmland", "urban"))}`` takes the farmland
        that overlaps the red line inside a nature-reserve core zone out of the farmland
        instead of the red line. The order may name the mask itself, and then it competes:
        ``("redline", "core zone", "farmland", "urban")`` takes every piece of farmland (and
        urban boundary) inside a core zone out, red line or not, and leaves the red line be.
    min_area_m2 : float, default 0
        Overlaps of two features smaller than this (ellipsoidal m², the whole overlap) are not
        taken out; the audit still lists them, with ``taken`` False.
    zones : GeoDataFrame, optional
        Zones (counties) to split the audit's pieces at.
    zone_field : str, optional
        Field of `zones` holding the zone code; the index when omitted.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres, as for :func:`find_conflicts`. Phantom overlaps are
        not taken, and no part thinner than it is left: a thin part of what a feature keeps
        or of a piece taken from it joins the piece of the same feature it borders most
        (:func:`geozones.measure.tolerance.eliminate_thin_parts`; for a feature under two
        claims or more, thin parts go by the longest border they share, found among its
        faces). 0 cuts exactly.
    threads : int, optional
        Threads for the overlays; the ``GEOZONES_THREADS`` environment variable, else the
        CPU count, when omitted (see :mod:`geozones.analysis.overlaps`). The features under
        two claims or more are cut in as many worker processes forked from this one, where
        that is safe (:func:`geozones.parallel.may_fork`: on Linux, from the main thread
        with no other thread running; ``GEOZONES_FORK=0`` keeps them in threads), as their
        cuts hold the GIL.

    Returns
    -------
    resolved : dict of str to GeoDataFrame
        Each layer of `priority`, every feature kept with its attributes; geometry without the
        pieces taken (empty where a feature was taken out entirely), plus ``resolution``
        (``unchanged``, ``trimmed`` or ``removed``) and ``taken_m2``.
    audit : GeoDataFrame
        One row per piece: ``layer``/``feature`` it was taken from, ``because_layer``/
        ``because_feature`` that outranks it there, ``rule``, ``area_m2``, ``overlap_m2`` (the
        whole overlap of the two features, which decides a sliver), ``taken``,
        ``zone`` and the geometry. The pieces of one feature do not overlap each other or
        what the feature keeps: they are cut from it in turn, each from what the ones
        before left. ``attrs`` records ``xy_tolerance`` and ``phantoms`` (overlaps not taken
        as thinner than the tolerance, as :func:`find_conflicts` counts them).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> def layer(code, *bounds):
    ...     return gpd.GeoDataFrame({"BSM": [code]}, geometry=[box(*bounds)], crs=4527)
    >>> farmland = layer("NT1", x, y, x + 100, y + 100)
    >>> urban = layer("CZ1", x + 60, y, x + 200, y + 100)
    >>> layers = {"farmland": farmland, "urban": urban}
    >>> resolved, audit = resolve_conflicts(layers, ("farmland", "urban"))
    >>> resolved["urban"][["BSM", "resolution"]].to_dict("records")
    [{'BSM': 'CZ1', 'resolution': 'trimmed'}]
    >>> audit[["layer", "because_layer", "rule"]].to_dict("records")
    [{'layer': 'urban', 'because_layer': 'farmland', 'rule': 'priority: farmland > urban'}]
    """
    checked_non_negative(min_area_m2, name="min_area_m2", unit="m²")
    tolerance = check_xy_tolerance(xy_tolerance)
    missing = [name for name in priority if name not in layers]
    if missing:
        raise GeozonesError(
            f"priority names layer(s) {', '.join(map(repr, missing))} not among the layers "
            f"({', '.join(map(repr, layers))})"
        )
    overrides = dict(overrides or {})
    for name, (_, order) in overrides.items():
        ranked = [layer for layer in order if layer != name]
        if sorted(ranked) != sorted(priority) or len(set(order)) != len(order):
            raise GeozonesError(
                f"override {name!r} must order the same layers as the priority "
                f"({', '.join(priority)}), optionally with {name!r} itself among them; it "
                f"gives ({', '.join(order)})"
            )
    prepared = AlignedLayers.prepare({name: layers[name] for name in priority})
    width = tolerance_in_crs_units(tolerance, prepared.crs)
    mask_geoms = {
        name: polygon_array(
            to_crs(mask, prepared.crs, name=f"override mask {name!r}", target="the layers'"),
            purpose=f"override {name!r}",
        )
        for name, (mask, _) in overrides.items()
    }
    masks = {name: shapely.union_all(geoms) for name, geoms in mask_geoms.items()}
    mask_ids = {name: mask.index for name, (mask, _) in overrides.items()}

    tally = PhantomTally()
    claims = pd.concat(
        [
            _claims(prepared, priority, overrides, masks, width, tally, threads),
            _mask_claims(prepared, overrides, mask_geoms, mask_ids, width, tally, threads),
        ],
        ignore_index=True,
    )
    claimed, kept = _take(prepared, claims, min_area_m2, width, threads)
    resolved = _apply(prepared, claimed, kept)
    audit = _with_zones_and_area(
        claimed[[*AUDIT_COLUMNS[:5], "overlap_m2", "taken", "geometry"]],
        prepared.crs,
        zones,
        zone_field,
        0.0,
        whole_area=claimed["area_m2"].to_numpy(dtype=float),
    )
    audit = audit[[*AUDIT_COLUMNS, "geometry"]]
    audit.attrs.update(xy_tolerance=tolerance, phantoms=tally.as_dict())
    return resolved, audit


def _claims(
    prepared: AlignedLayers,
    priority: Sequence[str],
    overrides: Mapping[str, tuple[gpd.GeoDataFrame, Sequence[str]]],
    masks: Mapping[str, Any],
    width: float,
    tally: PhantomTally,
    threads: int | None,
) -> pd.DataFrame:
    """Each overlap piece, split by the override masks, with the layer that loses it."""
    rank = {name: position for position, name in enumerate(priority)}
    rows = []
    facts = PolygonFacts()
    for name_a, name_b in combinations(priority, 2):
        found = classified_overlaps(
            prepared.geoms[name_a],
            prepared.geoms[name_b],
            width=width,
            threads=threads,
            build_phantoms=False,
            measure_rings=prepared.ring_area,
            facts=facts,
        )
        _tally(tally, name_a, name_b, found, prepared.crs)
        genuine = ~found.phantom
        index_a, index_b = found.left_index[genuine], found.right_index[genuine]
        pieces = found.pieces[genuine]
        overlap_area = _overlap_areas(found, prepared.crs, genuine)
        # Each claim is cut from the loser with the winner's polygon (or its part inside or
        # outside a mask), not with the overlap piece: the piece taken and what is left then
        # come from overlays of the same two polygons, and add up to what was cut.
        remaining = pieces
        cutters = {
            name_a: prepared.geoms[name_b][index_b],
            name_b: prepared.geoms[name_a][index_a],
        }
        remaining_cutters = dict(cutters)
        parts: list[tuple[np.ndarray, dict[str, np.ndarray], Sequence[str], str]] = []
        for mask_name, (_, order) in overrides.items():
            mask = masks[mask_name]
            # Thin parts of a split stay with the feature, whose thin parts are then merged
            # into the piece they border most.
            inside = split_thin_parts(
                polygonal_parts(shapely.intersection(remaining, mask)), width
            )[0]
            remaining = split_thin_parts(
                polygonal_parts(shapely.difference(remaining, mask)), width
            )[0]
            inside_cutters = {
                name: polygonal_parts(shapely.intersection(geoms, mask))
                for name, geoms in remaining_cutters.items()
            }
            remaining_cutters = {
                name: polygonal_parts(shapely.difference(geoms, mask))
                for name, geoms in remaining_cutters.items()
            }
            parts.append((inside, inside_cutters, order, f"override {mask_name}"))
        parts.append((remaining, remaining_cutters, priority, "priority"))
        positions = np.arange(len(pieces))
        for geoms, cutter, order, label in parts:
            keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
            a_wins = rank_in(order, name_a) < rank_in(order, name_b)
            winner, loser = (name_a, name_b) if a_wins else (name_b, name_a)
            ids_a = prepared.frames[name_a].index[index_a[positions[keep]]]
            ids_b = prepared.frames[name_b].index[index_b[positions[keep]]]
            pos_a = index_a[positions[keep]]
            pos_b = index_b[positions[keep]]
            rows.append(
                pd.DataFrame(
                    {
                        "layer": loser,
                        "feature": (ids_b if a_wins else ids_a).to_numpy(dtype=object),
                        "position": pos_b if a_wins else pos_a,
                        "because_layer": winner,
                        "because_feature": (ids_a if a_wins else ids_b).to_numpy(dtype=object),
                        "because_rank": rank[winner],
                        "because_position": pos_a if a_wins else pos_b,
                        "rule": f"{label}: {winner} > {loser}",
                        "overlap_m2": overlap_area[positions[keep]],
                        "cutter": cutter[loser][keep],
                        "geometry": geoms[keep],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=_CLAIM_COLUMNS)


def _mask_claims(
    prepared: AlignedLayers,
    overrides: Mapping[str, tuple[gpd.GeoDataFrame, Sequence[str]]],
    mask_geoms: Mapping[str, np.ndarray],
    mask_ids: Mapping[str, pd.Index],
    width: float,
    tally: PhantomTally,
    threads: int | None,
) -> pd.DataFrame:
    """Pieces a mask itself takes: where its order ranks the mask above a layer.

    E.g. ``("core_zone", "redline", "farmland", "urban")`` takes the farmland inside a
    nature-reserve core zone out of the farmland, whether or not the red line is there too.
    """
    rows = []
    facts = PolygonFacts()
    for mask_name, (_, order) in overrides.items():
        if mask_name not in order:
            continue
        for name in order[rank_in(order, mask_name) + 1 :]:
            found = classified_overlaps(
                prepared.geoms[name],
                mask_geoms[mask_name],
                width=width,
                threads=threads,
                build_phantoms=False,
                measure_rings=prepared.ring_area,
                facts=facts,
            )
            _tally(tally, name, mask_name, found, prepared.crs)
            genuine = ~found.phantom
            index, mask_index = found.left_index[genuine], found.right_index[genuine]
            pieces = found.pieces[genuine]
            rows.append(
                pd.DataFrame(
                    {
                        "layer": name,
                        "feature": prepared.frames[name].index[index].to_numpy(dtype=object),
                        "position": index,
                        "because_layer": mask_name,
                        "because_feature": mask_ids[mask_name][mask_index].to_numpy(dtype=object),
                        "because_rank": -1,  # a mask that ranks itself is taken first
                        "because_position": mask_index,
                        "rule": f"override {mask_name}: {mask_name} > {name}",
                        "overlap_m2": _overlap_areas(found, prepared.crs, genuine),
                        "cutter": mask_geoms[mask_name][mask_index],
                        "geometry": pieces,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=_CLAIM_COLUMNS)


def rank_in(order: Sequence[str], name: str) -> int:
    """Position of `name` in a priority order (0 is the highest)."""
    return list(order).index(name)


def _take(
    prepared: AlignedLayers,
    claims: pd.DataFrame,
    min_area_m2: float,
    width: float,
    threads: int | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Cut the claims out of their features in turn; the pieces, and what each feature keeps.

    The claims on one feature are cut in order of the claimant's rank, each from what the
    ones before left, so the pieces of a feature and what it keeps are disjoint and come
    from the same overlays (their areas add up to the feature's). Thin parts are then
    merged into the piece of the feature they border most. Claims under `min_area_m2`
    (slivers) are not taken: they are cut, in turn again, from what the feature keeps, only
    to be listed.
    """
    claims = claims.sort_values(
        ["layer", "position", "because_rank", "because_position"], kind="stable"
    ).reset_index(drop=True)
    taken = claims["overlap_m2"].to_numpy(dtype=float) >= min_area_m2
    cutters = claims.pop("cutter").to_numpy(dtype=object)
    geoms = np.array([shapely.MultiPolygon()] * len(claims), dtype=object)
    layer = claims["layer"].to_numpy(dtype=object)
    position = claims["position"].to_numpy(dtype=np.int64)
    kept = {}
    for name in prepared.names:
        features = prepared.geoms[name]
        rows = np.flatnonzero((layer == name) & taken)
        pieces, rest = _cut_in_turn(features, position[rows], cutters[rows], threads, width)
        if width > 0 and len(rows):
            owners = np.unique(position[rows])
            # The pieces of each feature and what it keeps, as groups of one whole.
            merged = eliminate_thin_parts(
                np.concatenate([pieces, rest[owners]]),
                np.concatenate([position[rows], owners]),
                width,
            )
            pieces, rest[owners] = merged[: len(rows)], merged[len(rows) :]
        geoms[rows] = pieces
        listed = np.flatnonzero((layer == name) & ~taken)
        slivers, _ = _cut_in_turn(rest, position[listed], cutters[listed], threads)
        geoms[listed] = split_thin_parts(slivers, width)[0]
        kept[name] = rest
    area = ellipsoidal_area(geoms, prepared.crs) if len(geoms) else np.zeros(0)
    claims = claims.assign(geometry=geoms, area_m2=area, taken=taken)
    return claims[area > 0].reset_index(drop=True), kept


#: Claims on one feature from which it is cut by all at once (:func:`_cut_at_once`). From
#: two: as fast as cuts in turn on the hard layers (2, 4 and 8 within noise on the plain
#: ones), and the thin parts and specks are given away among the faces, where the borders
#: are exact (with 8, five pieces of features under 7 claims kept specks of 1e-10 m² on the
#: medium 90 % tessellated layers: they touched their new piece only within rounding).
MANY_CLAIMS = 2
#: Cutters of more coordinates are clipped to the box of the feature they cut first.
LARGE_CUTTER = 2_000


def _cut_at_once(feature: Any, cutters: np.ndarray, width: float = 0.0) -> tuple[np.ndarray, Any]:
    """What `feature` loses to each cutter in turn, and what it keeps, from one noding.

    The boundaries of the feature and of every cutter (within the feature's box) are noded
    together (:func:`~geozones.analysis.noding.node_lines`, or GEOS where it declines) and
    cut into faces; each face of the feature goes to the first cutter holding it, or stays.
    The pieces are the faces of each cutter with the lines between them dropped
    (:meth:`NodedFaces.dissolve`), so they and what the feature keeps are disjoint and add
    up to the feature, as when the cutters are cut out one after the other, at the cost of
    one overlay instead of one per cutter. :func:`_cut_together` with one feature.
    """
    if shapely.is_empty(feature):
        return np.full(len(cutters), EMPTY_POLYGONAL, dtype=object), feature
    cut = _cut_together(
        np.array([feature], dtype=object),
        cutters,
        np.zeros(len(cutters), dtype=np.int64),
        width,
        alone=True,
    )
    assert cut is not None  # alone, nothing is left undone
    return cut[0], cut[1][0]


#: Crowded features cut together in one noding (:func:`_cut_together`), at most this many,
#: each with its cutters of at most :data:`TOGETHER_COST` coordinates in all.
CUT_TOGETHER = 32
TOGETHER_COST = 5_000


def _cut_together(
    features: np.ndarray,
    cutters: np.ndarray,
    owner: np.ndarray,
    width: float,
    *,
    alone: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_cut_at_once` of several features, from one noding; None to cut them apart.

    ``cutters[k]`` claims ``features[owner[k]]`` (`owner` sorted, in the order of the
    claims). Each feature and its cutters are moved by whole metres to a slot of its own on
    a grid, apart from the others', noded, faced and labelled together: one set of calls
    for all, where a cut costs about 0.8 ms in calls alone. None where a move would round a
    coordinate (slots farther from the origin than the features are) or the noder declines.
    Returns the pieces (per cutter) and what each feature keeps. `alone` (one feature, moved
    to the origin from its own corner): the move is not checked and GEOS nodes the lines
    where the noder declines, so it never gives None.
    """
    # Noded near the origin: 40,000 km from it, GEOS's fallback snaps within 1e-12 of the
    # coordinates, moving boundaries by tens of micrometres, and our crossing points would be
    # rounded to 7e-9.
    count = len(features)
    bounds = shapely.bounds(features)
    # A cutter can be a red-line polygon of 200,000 vertices: only its part over the feature
    # matters, and every face's point tested against it whole reads all its edges.
    large = np.flatnonzero(shapely.get_num_coordinates(cutters) > LARGE_CUTTER)
    if len(large):
        cutters = cutters.copy()
        cutters[large] = shapely.lib.clip_by_rect(cutters[large], *bounds[owner[large]].T)
    origin = np.floor(bounds[:, :2])
    cell = np.ceil((bounds[:, 2:] - origin).max(axis=0)) + 1.0
    columns = int(np.ceil(np.sqrt(count)))
    slot = np.column_stack([np.arange(count) % columns, np.arange(count) // columns]) * cell
    shift = slot - origin
    moved = _moved(features, shift, exactly=not alone)
    moved_cutters = _moved(cutters, shift[owner], exactly=not alone)
    if moved is None or moved_cutters is None:
        return None
    moved_bounds = bounds + np.tile(shift, 2)
    lines = shapely.lib.clip_by_rect(shapely.boundary(moved_cutters), *moved_bounds[owner].T)
    lines = np.concatenate([shapely.boundary(moved), lines])
    noded = node_lines(lines)
    if noded is not None:
        noded_faces = NodedFaces.of_coordinates(*noded)
    elif alone:
        noded_faces = NodedFaces.of(shapely.get_parts(shapely.union_all(lines)))
    else:
        return None
    # One point inside each face, tested against the features and the cutters, each
    # prepared by the query (a point tested against a cutter unprepared reads all its edges).
    points = shapely.STRtree(shapely.point_on_surface(noded_faces.faces))
    feature, face = points.query(moved, predicate="contains")
    held_by = np.full(len(noded_faces.faces), -1)
    held_by[face] = feature
    cutter, face = points.query(moved_cutters, predicate="contains")
    inside = held_by[face] == owner[cutter]
    # Each face of a feature goes to its first cutter holding it, or stays (label C + feature).
    label = np.where(held_by >= 0, len(cutters) + held_by, -1)
    np.minimum.at(label, face[inside], cutter[inside])
    if width > 0:
        label = _thin_parts_given_away(noded_faces, label, width)
    back = -np.concatenate([shift[owner], shift])
    cut = polygonal_parts(noded_faces.dissolve(label, len(cutters) + count, shift=back))
    return cut[: len(cutters)], cut[len(cutters) :]


def _moved(geoms: np.ndarray, shift: np.ndarray, *, exactly: bool) -> np.ndarray | None:
    """Each geometry moved by its own (dx, dy); None if `exactly` and a coordinate rounds."""
    if exactly:
        step = np.repeat(shift, shapely.get_num_coordinates(geoms), axis=0)
        if two_sum(shapely.get_coordinates(geoms), step)[1].any():
            return None
    return translated(geoms, shift)


def _thin_parts_given_away(noded_faces: NodedFaces, label: np.ndarray, width: float) -> np.ndarray:
    """Faces of thin parts of the pieces and of what a feature keeps, labelled anew.

    Where a jittered tessellation of parcels cuts a red-line polygon, the gaps between the
    parcels and the specks where four parcels' corners overlap are most of the thin parts
    :func:`eliminate_thin_parts` would weigh (48,544 of 51,088 on the medium 90 %
    tessellated layers), each by a buffer and a union, and a speck that touched its new
    piece only within rounding stayed a part of its own. Here the faces of each label (a
    piece, or what the feature keeps) are grouped into the parts they make, and each thin
    part goes to the thick part of another label it shares the longest border with, read from
    the lines between the faces, as :func:`eliminate_thin_parts` chooses along a shared
    border. A thin part bordering no thick part of another label stays.
    """
    if noded_faces.face_of is None:
        return label
    held = np.flatnonzero(label >= 0)
    if len(held) == 0:
        return label
    count, part_of = noded_faces.parts(label)
    label_of_part = np.empty(count, dtype=np.int64)
    label_of_part[part_of[held]] = label[held]
    left, right, length = noded_faces.borders(part_of)
    # Borders of each part with anything else, either way round.
    part = np.concatenate([left, right])
    other = np.concatenate([right, left])
    weight = np.concatenate([length, length])
    on_part = part >= 0
    # Thin or thick for certain from area and perimeter, as is_thin decides most; only the
    # others are built (a feature's large kept part is not built twice).
    area = np.bincount(
        part_of[held], weights=shapely.area(noded_faces.faces[held]), minlength=count
    )
    perimeter = np.bincount(part[on_part], weights=weight[on_part], minlength=count)
    thin, thick = thin_or_thick_by_size(area, perimeter, width)
    doubtful = np.flatnonzero(~thin & ~thick)
    if len(doubtful):
        number = np.full(count, -1)
        number[doubtful] = np.arange(len(doubtful))
        doubtful_label = np.where(part_of >= 0, number[part_of], -1)
        traced = noded_faces.dissolved_rings(doubtful_label)
        if traced is None:
            thin[doubtful] = is_thin(noded_faces.dissolve(doubtful_label, len(doubtful)), width)
        else:
            # Most are gaps along parcel edges, or where a few meet: told from their rings
            # (in_narrow_strips), not built.
            single, coords, first = traced.single_rings(len(doubtful))
            narrow = np.zeros(len(doubtful), dtype=bool)
            usable = np.diff(first) >= 4
            if usable.all():
                narrow[single] = in_narrow_strips(coords, first, width)
            rest = ~narrow
            thin[doubtful[narrow]] = True
            if rest.any():
                thin[doubtful[rest]] = is_thin(traced.built(len(doubtful), rest)[rest], width)
    if not thin.any():
        return label
    usable = on_part & (other >= 0)
    usable[usable] = thin[part[usable]] & ~thin[other[usable]]
    usable[usable] = label_of_part[part[usable]] != label_of_part[other[usable]]
    part, target, weight = part[usable], label_of_part[other[usable]], weight[usable]
    if len(part) == 0:
        return label
    labels = int(label.max()) + 1
    pairs, total = np.unique(part * labels + target, return_inverse=True)
    summed = np.bincount(total, weights=weight)
    pair_part = pairs // labels
    first = best_per_group(pair_part, summed)
    moved_to = label_of_part.copy()
    moved_to[pair_part[first]] = pairs[first] % labels
    moved = label.copy()
    moved[held] = moved_to[part_of[held]]
    return moved


def _cut_in_turn(
    features: np.ndarray,
    owner: np.ndarray,
    cutters: np.ndarray,
    threads: int | None = None,
    width: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``cutters[k]`` from ``features[owner[k]]`` in turn, in the order given.

    `owner` is sorted. Returns the piece each cutter takes, from what the cutters before it
    on the same feature left, and the features with every piece taken out. One overlay per
    turn for every feature at once, in threads.
    """
    rest = features.copy()
    pieces = np.array([shapely.MultiPolygon()] * len(owner), dtype=object)
    if len(owner) == 0:
        return pieces, rest
    # A red-line polygon of 100,000 vertices cutting a parcel: only its edges near the
    # parcel can meet it, and each test or overlay with it whole reads them all. What is
    # left of a feature lies in it: the cutters trimmed to the features cut it the same.
    cutters = trimmed_near(cutters, features[owner])
    turn = np.arange(len(owner)) - np.searchsorted(owner, owner, side="left")
    # A feature with many claims is cut by all of them at once (quadratic in turns), each
    # feature in one thread.
    claims_on = np.bincount(owner)[owner]
    many = claims_on >= MANY_CLAIMS
    crowded = np.unique(owner[many])
    claims_of = np.searchsorted(owner, np.stack([crowded, crowded + 1]))

    # Cost: the feature's coordinates and its cutters'.
    cutter_size = np.cumsum(np.r_[0, shapely.get_num_coordinates(cutters)])
    cost = (
        shapely.get_num_coordinates(features[crowded])
        + cutter_size[claims_of[1]]
        - cutter_size[claims_of[0]]
    )
    # Small crowded features are cut in groups of consecutive ones, each group from one
    # noding; the others alone. The groups are fixed here, so that the pieces (where a
    # crossing point rounds, where a ring starts) do not depend on how the work is spread.
    small = (cost <= TOGETHER_COST) & ~shapely.is_empty(features[crowded])
    unit = np.empty(len(crowded), dtype=np.int64)
    unit[small] = np.arange(np.count_nonzero(small)) // CUT_TOGETHER
    first_alone = -(-np.count_nonzero(small) // CUT_TOGETHER)
    unit[~small] = first_alone + np.arange(np.count_nonzero(~small))
    order = np.argsort(unit, kind="stable")
    members = np.split(order, np.flatnonzero(np.diff(unit[order])) + 1) if len(order) else []

    def cut_group(which: np.ndarray) -> list[tuple[np.ndarray, Any]]:
        spans = claims_of.T[which]
        claims = spans[:, 1] - spans[:, 0]
        if len(which) > 1:
            cut = _cut_together(
                features[owner[spans[:, 0]]],
                cutters[np.concatenate([np.arange(*span) for span in spans])],
                np.repeat(np.arange(len(which)), claims),
                width,
            )
            if cut is not None:
                return list(zip(np.split(cut[0], np.cumsum(claims)[:-1]), cut[1], strict=True))
        return [
            _cut_at_once(features[owner[start]], cutters[start:stop], width)
            for start, stop in spans
        ]

    def cut_groups(batch: np.ndarray) -> np.ndarray:
        out = np.empty(len(batch), dtype=object)
        for k, group in enumerate(batch):
            out[k] = cut_group(members[group])
        return out

    group_cost = np.array([cost[which].sum() for which in members], dtype=np.float64)
    for which, cuts in zip(members, _crowded_cuts(cut_groups, group_cost, threads), strict=True):
        for k, (taken, kept) in zip(which, cuts, strict=True):
            start, stop = claims_of[:, k]
            pieces[start:stop], rest[owner[start]] = taken, kept
    turn[many] = -1
    for number in range(int(turn.max()) + 1):
        now = np.flatnonzero(turn == number)
        feature = owner[now]
        whole = shapely.covers(cutters[now], rest[feature])
        pieces[now[whole]] = rest[feature[whole]]
        rest[feature[whole]] = shapely.MultiPolygon()
        part = now[~whole]

        def cut(k: np.ndarray, part: np.ndarray = part) -> np.ndarray:
            # k < len(part): what the cutter takes; the others, what it leaves.
            taken = k < len(part)
            claim = part[np.where(taken, k, k - len(part))]
            current, cutter = rest[owner[claim]], cutters[claim]
            out = np.empty(len(k), dtype=object)
            out[taken] = polygonal_parts(shapely.intersection(current[taken], cutter[taken]))
            out[~taken] = polygonal_parts(shapely.difference(current[~taken], cutter[~taken]))
            return out

        if len(part):
            # By cost, not count: tens of thousands of parcels cut by red-line polygons are
            # few items but seconds of overlays.
            size = shapely.get_num_coordinates(rest[owner[part]]) + shapely.get_num_coordinates(
                cutters[part]
            )
            both = map_by_cost(cut, np.arange(2 * len(part)), np.tile(size, 2), threads=threads)
            pieces[part], rest[owner[part]] = both[: len(part)], both[len(part) :]
    return pieces, rest


def _crowded_cuts(
    cut_groups: Callable[[np.ndarray], np.ndarray], cost: np.ndarray, threads: int | None
) -> list[list[tuple[np.ndarray, Any]]]:
    """``cut_groups`` of every group of crowded features: in forked processes where possible.

    ``cut_groups(batch)`` gives, per group of `batch`, the (pieces, kept) of each of its
    features. A cut is mostly small numpy and shapely calls that hold the GIL: two threads
    ran the medium 90 % tessellated layers' 4,581 crowded cuts in 9.4 s against 10.8-12.2 s
    in one, two forked processes in 7.5-7.9 s (docs/performance.md). The pieces travel back
    as WKB, which keeps every coordinate.
    """

    def as_wkb(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        per_group = cut_groups(batch)
        cuts = [cut for group in per_group for cut in group]
        return (
            shapely.to_wkb(np.concatenate([pieces for pieces, _ in cuts])),
            np.array([len(pieces) for pieces, _ in cuts], dtype=np.int64),
            shapely.to_wkb(np.array([kept for _, kept in cuts], dtype=object)),
            np.array([len(group) for group in per_group], dtype=np.int64),
        )

    groups = np.arange(len(cost))
    forked = map_by_cost_forked(as_wkb, groups, cost, threads=threads)
    if forked is None:
        return list(map_by_cost(cut_groups, groups, cost, threads=threads))
    out: list[list[tuple[np.ndarray, Any]]] = [[] for _ in groups]
    for batch, (pieces, counts, kept, sizes) in forked:
        taken = np.split(shapely.from_wkb(pieces), np.cumsum(counts)[:-1])
        cuts = list(zip(taken, shapely.from_wkb(kept), strict=True))
        for group, first, size in zip(batch, np.cumsum(sizes) - sizes, sizes, strict=True):
            out[group] = cuts[first : first + size]
    return out


def _apply(
    prepared: AlignedLayers, audit: pd.DataFrame, kept: Mapping[str, np.ndarray]
) -> dict[str, gpd.GeoDataFrame]:
    """Each layer with what its features keep, every feature kept, and what was taken."""
    resolved = {}
    for name in prepared.names:
        frame = prepared.frames[name].copy()
        geoms = kept[name]
        taken = audit[(audit["layer"] == name) & audit["taken"]]
        position = taken["position"].to_numpy(dtype=np.int64)
        taken_area = np.bincount(
            position, weights=taken["area_m2"].to_numpy(dtype=float), minlength=len(frame)
        )
        status = np.full(len(frame), "unchanged", dtype=object)
        positions = np.unique(position)
        status[positions] = np.where(shapely.is_empty(geoms[positions]), "removed", "trimmed")
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=prepared.crs)
        frame["resolution"] = status
        frame["taken_m2"] = taken_area
        resolved[name] = frame
    return resolved

"""Coverage, conflicts and resolution computed zone by zone over a partitioned dataset.

Each zone (county) is one task. A task reads the features near its zone
(:meth:`~geozones.scale.partitions.PartitionedDataset.read_window`), runs the in-memory function on
them and keeps only what the zone owns:

- pieces inside the zone (areas are split at zone boundaries, so each piece of area has
  exactly one owner);
- pieces outside every zone, when the first feature of the piece has its home in the zone;
- resolved features whose home is the zone.

On tiles (``split_at_zones=False``, the default for a dataset partitioned by
:func:`~geozones.scale.partitions.tile_grid`), pieces are not split at tile edges: a whole piece
belongs to the first tile, in dataset order, that holds a point on its surface (to the home of
its first feature when no tile does). A piece is the same geometry in every task that finds it
(the overlay of the same two whole features), so its point, and its owner, are the same too.
A whole piece that resolution takes from a feature is kept by the feature's home: what a claim
takes depends on every other claim on the feature, and only the home's window holds them all.

A task holds one zone's neighbourhood in memory, never the province. Tasks run in worker
processes on this machine, or on a ``dask.distributed`` cluster when a ``Client`` is given:
each worker then reads its own partitions from the shared folder and no geometry passes
through the scheduler.
With ``work_dir``, each finished zone is written there at once, and a rerun with the same
``work_dir`` does only the zones that are missing.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.analysis.conflicts import LINES, conflicts_counting_phantoms, resolve_conflicts
from geozones.analysis.coverage import ZonePieces, area_function, coverage_table
from geozones.choices import checked_instance, checked_non_negative
from geozones.errors import OutsideZonesWarning, PartitionError, RunRestartedWarning
from geozones.io.validity import polygon_array, record_valid
from geozones.measure.area import AreaMethod, check_method
from geozones.measure.tolerance import (
    DEFAULT_XY_TOLERANCE,
    PhantomTally,
    check_xy_tolerance,
    tolerance_in_crs_units,
)
from geozones.outputs import (
    atomic_file,
    remove_stale_temporaries,
    sync_tree,
    temporary_name,
)
from geozones.parallel import worker_count
from geozones.scale.executor import ZoneWarning, reraise_warnings, run_zones
from geozones.scale.partitions import HOME, ROW, PartitionedDataset
from geozones.units import square_metres_per
from geozones.zones import union_of_zones, zone_codes, zone_of

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

Tables = dict[str, pd.DataFrame]
Task = Callable[[PartitionedDataset, str], Tables]


def stream_coverage(
    dataset: PartitionedDataset,
    layer: str,
    *,
    unit: str = "km2",
    method: AreaMethod = "ellipsoidal",
    levels: tuple[str, ...] | None = None,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    client: Any = None,
    workers: int | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """:func:`geozones.coverage` of one layer of a partitioned dataset, zone by zone.

    Parameters
    ----------
    dataset : PartitionedDataset
        Layers and zones written by :func:`geozones.scale.partitions.write_partitions`.
    layer : str
        The layer to measure (e.g. ``"redline"``).
    unit : str, default "km2"
        Area unit (see :func:`geozones.area`).
    method : {"ellipsoidal", "planar", "geodesic"}, default "ellipsoidal"
        Area method (see :func:`geozones.area`).
    levels : tuple of str, optional
        Roll-ups of 6-digit codes, as in :func:`geozones.coverage`.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres, as in :func:`geozones.coverage`.
    client : dask.distributed.Client, optional
        Run the zones on this cluster; processes on this machine when omitted.
    workers : int, optional
        Processes on this machine, this one included (the ``GEOZONES_THREADS`` setting or
        the CPU count by default); 1 runs the zones one after the other in this process. The
        worker processes are started by the first run and kept for the next ones.
    work_dir : path-like, optional
        Folder keeping each finished zone, so that a rerun resumes (see module docs).
    progress : bool, default False
        Show a progress bar over the zones.

    Returns
    -------
    pandas.DataFrame
        As :func:`geozones.coverage` returns for the zone layer and ``by=dataset.zone_field``:
        ``zone_area``, ``covered_area`` and ``percent`` per zone, ``attrs["outside_area"]``,
        ``attrs["xy_tolerance"]`` and ``attrs["phantoms"]``.

    Raises
    ------
    PartitionError
        One or more zones failed; the message names each with its error.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from geozones.scale.partitions import write_partitions
    >>> x, y = 39_500_000, 3_150_000
    >>> counties = gpd.GeoDataFrame(
    ...     {"XZQDM": ["990102", "990121"]},
    ...     geometry=[box(x, y, x + 1000, y + 1000), box(x + 1000, y, x + 2000, y + 1000)],
    ...     crs=4527,
    ... )
    >>> redline = gpd.GeoDataFrame(geometry=[box(x + 500, y, x + 1500, y + 1000)] * 2, crs=4527)
    >>> dataset = write_partitions(
    ...     {"redline": redline}, counties, tempfile.mkdtemp() + "/parts", zone_field="XZQDM"
    ... )
    >>> stream_coverage(dataset, "redline", unit="ha", workers=1)
            zone_area  covered_area  percent
    zone
    990102      100.0          50.0     50.0
    990121      100.0          50.0     50.0
    """
    _check_arguments(dataset, xy_tolerance=xy_tolerance)
    square_metres_per(unit)
    check_method(method)
    square_metres_per(unit)  # an unknown unit fails before any county runs
    tolerance = check_xy_tolerance(xy_tolerance)
    task = partial(_coverage_task, layer=layer, method=method, xy_tolerance=tolerance)
    params = {
        "operation": "coverage",
        "layer": layer,
        "method": method,
        "xy_tolerance": tolerance,
    }
    tables = _run(task, dataset, params, client, workers, work_dir, progress, small=True)
    per_zone = _concat(tables, "coverage").set_index("zone").reindex(list(dataset.zones))
    outside = float(per_zone["outside_m2"].sum())
    total = float(per_zone["covered_area"].sum()) + outside
    result = coverage_table(
        per_zone,
        outside,
        total,
        unit=unit,
        method=method,
        levels=levels,
        name=f"layer {layer!r}",
    )
    phantoms = {
        "count": int(per_zone["phantoms"].sum()),
        "area_m2": float(per_zone["phantom_m2"].sum()),
    }
    result.attrs.update(xy_tolerance=tolerance, phantoms=phantoms)
    return result


def stream_conflicts(
    dataset: PartitionedDataset,
    layers: Sequence[str] | None = None,
    *,
    min_area_m2: float = 0.0,
    within_layers: bool = True,
    split_at_zones: bool | None = None,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    client: Any = None,
    workers: int | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """:func:`geozones.find_conflicts` over a partitioned dataset, zone by zone.

    Parameters
    ----------
    dataset : PartitionedDataset
        Layers and zones written by :func:`geozones.scale.partitions.write_partitions`.
    layers : sequence of str, optional
        Layers to compare, in order; every layer of the dataset when omitted.
    min_area_m2 : float, default 0
        Sliver threshold on the whole overlap of two features, as in
        :func:`geozones.find_conflicts`.
    within_layers : bool, default True
        Also report overlaps between features of the same layer.
    split_at_zones : bool, optional
        Split pieces at zone boundaries and give each its ``zone``, as
        :func:`geozones.find_conflicts` does with ``zones``; False keeps whole pieces (zone
        None), as it does without. Default: True, False for a tiled dataset.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres, as in :func:`geozones.find_conflicts`.
    client : dask.distributed.Client, optional
        Run the zones on this cluster; processes on this machine when omitted.
    workers : int, optional
        Processes on this machine, this one included (the ``GEOZONES_THREADS`` setting or
        the CPU count by default); 1 runs the zones one after the other in this process. The
        worker processes are started by the first run and kept for the next ones.
    work_dir : path-like, optional
        Folder keeping each finished zone, so that a rerun resumes (see module docs).
    progress : bool, default False
        Show a progress bar over the zones.

    Returns
    -------
    GeoDataFrame
        The pieces :func:`geozones.find_conflicts` returns with ``zones`` set to the dataset's
        zones (without, if not `split_at_zones`), sorted by layers, features and zone;
        ``id_a``/``id_b`` are the index labels of the layers that were partitioned.
        ``attrs["phantoms"]`` counts each phantom once, in the zone of its first feature.

    Raises
    ------
    PartitionError
        One or more zones failed; the message names each with its error.
    """
    _check_arguments(dataset, min_area_m2=min_area_m2, xy_tolerance=xy_tolerance)
    names = tuple(layers) if layers is not None else dataset.layers
    split = not dataset.tiled if split_at_zones is None else split_at_zones
    tolerance = check_xy_tolerance(xy_tolerance)
    task = partial(
        _conflicts_task,
        layers=names,
        min_area_m2=min_area_m2,
        within_layers=within_layers,
        split=split,
        xy_tolerance=tolerance,
    )
    params = {
        "operation": "conflicts",
        "layers": list(names),
        "min_area_m2": min_area_m2,
        "within_layers": within_layers,
        "split_at_zones": split,
        "xy_tolerance": tolerance,
    }
    tables = _run(task, dataset, params, client, workers, work_dir, progress)
    pieces = _sorted(
        _as_objects(_concat(tables, "conflicts"), ["id_a", "id_b", "zone"]),
        ["layer_a", "layer_b", "id_a", "id_b", "zone"],
    )
    if split:
        _warn_outside(pieces["zone"].isna().sum())
    tally = PhantomTally()
    for row in _concat(tables, "phantoms").itertuples():
        tally.add(row.layer_a, row.layer_b, count=row.count, area_m2=row.area_m2)
    pieces.attrs.update(
        unit="m2",
        method="ellipsoidal",
        min_area_m2=min_area_m2,
        xy_tolerance=tolerance,
        phantoms=tally.as_dict(),
    )
    return pieces


def stream_resolution(
    dataset: PartitionedDataset,
    priority: Sequence[str] = LINES,
    *,
    overrides: Mapping[str, tuple[str, Sequence[str]]] | None = None,
    min_area_m2: float = 0.0,
    split_at_zones: bool | None = None,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    client: Any = None,
    workers: int | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> tuple[dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame]:
    """:func:`geozones.resolve_conflicts` over a partitioned dataset, zone by zone.

    Parameters
    ----------
    dataset : PartitionedDataset
        Layers and zones written by :func:`geozones.scale.partitions.write_partitions`.
    priority : sequence of str, default ("farmland", "redline", "urban")
        Layer names, highest priority first.
    overrides : mapping of str to (str, sequence of str), optional
        Exceptions, as in :func:`geozones.resolve_conflicts` with the mask given as a layer of
        the dataset: name → (mask layer, priority inside the mask), e.g.
        ``{"core": ("core_zone", ("redline", "core", "farmland", "urban"))}``.
    min_area_m2 : float, default 0
        Overlaps smaller than this are not taken out.
    split_at_zones : bool, optional
        Split the audit's pieces at zone boundaries, as :func:`geozones.resolve_conflicts`
        does with ``zones``; False keeps them whole. Default: True, False for a tiled dataset.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres, as in :func:`geozones.resolve_conflicts`.
    client : dask.distributed.Client, optional
        Run the zones on this cluster; processes on this machine when omitted.
    workers : int, optional
        Processes on this machine, this one included (the ``GEOZONES_THREADS`` setting or
        the CPU count by default); 1 runs the zones one after the other in this process. The
        worker processes are started by the first run and kept for the next ones.
    work_dir : path-like, optional
        Folder keeping each finished zone, so that a rerun resumes (see module docs).
    progress : bool, default False
        Show a progress bar over the zones.

    Returns
    -------
    resolved : dict of str to GeoDataFrame
        Each layer of `priority`, every feature once, in the order of the input layer.
    audit : GeoDataFrame
        The pieces taken, as :func:`geozones.resolve_conflicts` returns them with ``zones``
        (without, if not `split_at_zones`). ``attrs`` records ``xy_tolerance``; the phantoms
        are counted by :func:`stream_conflicts`, not here.

    Raises
    ------
    PartitionError
        One or more zones failed; the message names each with its error.
    """
    _check_arguments(dataset, min_area_m2=min_area_m2, xy_tolerance=xy_tolerance)
    masks = {name: (mask, tuple(order)) for name, (mask, order) in (overrides or {}).items()}
    split = not dataset.tiled if split_at_zones is None else split_at_zones
    tolerance = check_xy_tolerance(xy_tolerance)
    task = partial(
        _resolution_task,
        priority=tuple(priority),
        masks=masks,
        min_area_m2=min_area_m2,
        split=split,
        xy_tolerance=tolerance,
    )
    params = {
        "operation": "resolution",
        "priority": list(priority),
        "overrides": {name: [mask, list(order)] for name, (mask, order) in masks.items()},
        "min_area_m2": min_area_m2,
        "split_at_zones": split,
        "xy_tolerance": tolerance,
    }
    tables = _run(task, dataset, params, client, workers, work_dir, progress)
    resolved = {name: _in_input_order(_concat(tables, name)) for name in priority}
    audit = _sorted(
        _as_objects(_concat(tables, "audit"), ["feature", "because_feature", "zone"]),
        ["layer", "feature", "because_layer", "zone"],
    )
    audit.attrs.update(xy_tolerance=tolerance)
    return resolved, audit


# --- tasks: one zone each, run on a thread or a dask worker ------------------------------------


def _coverage_task(
    dataset: PartitionedDataset,
    zone: str,
    *,
    layer: str,
    method: AreaMethod,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
) -> Tables:
    zones = _zones(dataset)
    measure = area_function(zones.crs, method)
    mine = zones.geoms[zones.codes == zone]
    window = dataset.read_window(layer, zone)
    geoms = _located(window.geometry.to_numpy())
    is_home = (window[HOME] == zone).to_numpy()[geoms.index]
    pieces = ZonePieces.clip(geoms.to_numpy(), mine)
    covered, phantoms = pieces.dissolved_area(
        np.full(len(mine), zone, dtype=object),
        measure,
        width=tolerance_in_crs_units(xy_tolerance, zones.crs),
    )
    # area outside every zone belongs to the first zone (in dataset order) that is home to a
    # feature covering it: each such piece of area is then counted exactly once
    rank = pd.Index(dataset.zones).get_indexer(window[HOME].to_numpy()[geoms.index])
    mine_rank = dataset.zones.index(zone)
    outside = np.full(len(geoms), None, dtype=object)
    crossing = ~shapely.covers(zones.union, geoms.values)
    outside[crossing] = shapely.difference(geoms.values[crossing], zones.union)
    has_outside = crossing & ~shapely.is_empty(outside)
    own = shapely.union_all(outside[has_outside & is_home])
    earlier = shapely.union_all(outside[has_outside & (rank < mine_rank)])
    owned = shapely.difference(own, earlier)
    outside_m2 = float(measure(np.array([owned], dtype=object))[0]) if not owned.is_empty else 0.0
    table = pd.DataFrame(
        {
            "zone": [zone],
            "zone_area": [float(measure(mine).sum())],
            "covered_area": [float(covered.get(zone, 0.0))],
            "outside_m2": [outside_m2],
            "phantoms": [int(phantoms["count"])],
            "phantom_m2": [float(phantoms["area_m2"])],
        }
    )
    return {"coverage": table}


def _conflicts_task(
    dataset: PartitionedDataset,
    zone: str,
    *,
    layers: tuple[str, ...],
    min_area_m2: float,
    within_layers: bool,
    split: bool,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
) -> Tables:
    zones = _zones(dataset)
    windows = _relevant({name: dataset.read_window(name, zone) for name in layers}, zones, zone)
    # parts outside every zone are counted once over all zones, after the run (_run_stored)
    # Each phantom is counted once, by the zone of its first feature.
    pieces = conflicts_counting_phantoms(
        windows,
        counted={name: (frame[HOME] == zone).to_numpy() for name, frame in windows.items()},
        min_area_m2=min_area_m2,
        zones=_nearby_zones(zones, windows) if split else None,
        zone_field=dataset.zone_field if split else None,
        within_layers=within_layers,
        xy_tolerance=xy_tolerance,
    )
    tally = pd.DataFrame(
        pieces.attrs["phantoms"]["by_layers"], columns=["layer_a", "layer_b", "count", "area_m2"]
    )
    home = _home_of(windows, pieces["layer_a"], pieces["id_a"])
    owner = _owner(dataset, zones, pieces, home, split=split)
    return {
        "conflicts": pieces[owner == zone],
        "phantoms": tally,
    }


def _resolution_task(
    dataset: PartitionedDataset,
    zone: str,
    *,
    priority: tuple[str, ...],
    masks: dict[str, tuple[str, tuple[str, ...]]],
    min_area_m2: float,
    split: bool,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
) -> Tables:
    zones = _zones(dataset)
    names = list(dict.fromkeys([*priority, *(mask for mask, _ in masks.values())]))
    windows = _relevant({name: dataset.read_window(name, zone) for name in names}, zones, zone)
    resolved, audit = resolve_conflicts(
        {name: windows[name] for name in priority},
        priority,
        overrides={name: (windows[mask], order) for name, (mask, order) in masks.items()},
        min_area_m2=min_area_m2,
        zones=_nearby_zones(zones, windows) if split else None,
        zone_field=dataset.zone_field if split else None,
        xy_tolerance=xy_tolerance,
    )
    tables: Tables = {
        name: frame[(frame[HOME] == zone).to_numpy()].drop(columns=HOME)
        for name, frame in resolved.items()
    }
    home = _home_of(windows, audit["layer"], audit["feature"])
    # A whole piece taken from a feature is kept by the feature's home, the one window sure to
    # hold every claim on it; where the piece lies, another claimant may be out of the window.
    owner = _owner(dataset, zones, audit, home, split=split) if split else home
    tables["audit"] = audit[owner == zone]
    return tables


class _Zones:
    """The zone polygons of a dataset, their codes and their union, read once per process."""

    def __init__(self, dataset: PartitionedDataset) -> None:
        frame = dataset.read_zones()
        self.frame = frame
        self.crs = pyproj.CRS.from_user_input(frame.crs)
        self.codes = zone_codes(frame, dataset.zone_field)
        self.geoms = polygon_array(frame, purpose="zones")
        self.union = union_of_zones(self.geoms)
        shapely.prepare(self.union)
        self.tree = shapely.STRtree(self.geoms)


#: Geometries of this many coordinates or more are prepared to be tested against others.
PREPARE_FROM = 64

# Per thread: GEOS builds a prepared geometry's indexes lazily, on first use, so one prepared
# union shared by two threads can be built twice at once and crash.
_ZONES = threading.local()


def _zones(dataset: PartitionedDataset) -> _Zones:
    key = (str(dataset.path.resolve()), (dataset.path / "manifest.json").stat().st_mtime_ns)
    cache: dict[tuple[str, int], _Zones] = getattr(_ZONES, "cache", None) or {}
    if key not in cache:
        if len(cache) > 4:
            cache.clear()
        cache[key] = _Zones(dataset)
    _ZONES.cache = cache
    return cache[key]


def _located(geoms: np.ndarray) -> pd.Series:
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return pd.Series(geoms[located], index=np.flatnonzero(located), dtype=object)


def _relevant(
    windows: dict[str, gpd.GeoDataFrame], zones: _Zones, zone: str
) -> dict[str, gpd.GeoDataFrame]:
    """Features that meet the zone or a feature whose home is the zone: all a task needs."""
    mine = shapely.union_all(zones.geoms[zones.codes == zone])
    shapely.prepare(mine)
    home_geoms = np.concatenate(
        [frame.geometry.to_numpy()[(frame[HOME] == zone).to_numpy()] for frame in windows.values()]
    )
    home_geoms = home_geoms[~(shapely.is_missing(home_geoms) | shapely.is_empty(home_geoms))]
    kept = {}
    for name, frame in windows.items():
        geoms = frame.geometry.to_numpy()
        keep = (frame[HOME] == zone).to_numpy() | shapely.intersects(mine, geoms)
        if len(home_geoms):
            keep |= _meeting_any(geoms, home_geoms, skip=keep)
        kept[name] = frame[keep]
        # The window's proof of validity goes with the window (its geometries no longer all
        # held): the features kept are recorded valid again, not checked again by GEOS.
        record_valid(kept[name])
    return kept


def _meeting_any(geoms: np.ndarray, others: np.ndarray, *, skip: np.ndarray) -> np.ndarray:
    """Per geometry of `geoms` (but those to `skip`): whether it meets one of `others`.

    Each pair whose boxes meet is tested with the larger of its two geometries prepared. A
    tree's query with a predicate prepares the query side: a parcel tested against a red-line
    polygon of 200,000 vertices read all its edges, and a county's 2,000 parcels against the
    few large polygons that reach it took most of a streamed run (61 of 90 s on the medium
    90 % tessellated benchmark layers).
    """
    meets = np.zeros(len(geoms), dtype=bool)
    other, position = shapely.STRtree(geoms).query(others)
    todo = ~skip[position]
    other, position = other[todo], position[todo]
    if len(position) == 0:
        return meets
    other_size = shapely.get_num_coordinates(others)[other]
    size = shapely.get_num_coordinates(geoms)[position]
    other_larger = other_size >= size
    first = np.where(other_larger, others[other], geoms[position])
    second = np.where(other_larger, geoms[position], others[other])
    # Prepared here, released after: these are the task's own copies, in one thread.
    prepared = np.concatenate(
        [
            others[np.unique(other[other_larger & (other_size >= PREPARE_FROM)])],
            geoms[np.unique(position[~other_larger & (size >= PREPARE_FROM)])],
        ]
    )
    prepared = prepared[~shapely.is_prepared(prepared)]
    shapely.prepare(prepared)
    try:
        meets[position[shapely.intersects(first, second)]] = True
    finally:
        shapely.destroy_prepared(prepared)
    return meets


def _check_arguments(dataset: object, *, min_area_m2: float = 0.0, xy_tolerance: float) -> None:
    """Refuse a `dataset` that is not one, a negative `min_area_m2` or a bad `xy_tolerance`."""
    checked_instance(
        dataset,
        PartitionedDataset,
        name="dataset",
        needed="a PartitionedDataset (from open_partitions)",
    )
    checked_non_negative(min_area_m2, name="min_area_m2", unit="m²")
    check_xy_tolerance(xy_tolerance)


def _nearby_zones(zones: _Zones, windows: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The zones that meet the bounds of the features: every zone a piece can lie in."""
    bounds = np.array([frame.total_bounds for frame in windows.values() if len(frame)])
    if len(bounds) == 0:
        return zones.frame.iloc[:1]
    box = shapely.box(*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))
    near = np.unique(zones.tree.query(box))
    return zones.frame.iloc[near] if len(near) else zones.frame.iloc[:1]


def _owner(
    dataset: PartitionedDataset,
    zones: _Zones,
    pieces: gpd.GeoDataFrame,
    home: np.ndarray,
    *,
    split: bool,
) -> np.ndarray:
    """The zone that keeps each piece.

    Split at zones, a piece keeps its ``zone``; a whole piece goes to the first zone (in
    dataset order) that holds a point on its surface. A piece in no zone goes to the home of
    its first feature.
    """
    if split:
        owner = pieces["zone"].to_numpy(dtype=object).copy()
    else:
        rank = pd.Index(dataset.zones).get_indexer(pd.Index(zones.codes))
        owner = zone_of(
            pieces.geometry.to_numpy(), zones.geoms, rank=rank, tree=zones.tree, codes=zones.codes
        )
    outside = pd.isna(owner)
    owner[outside] = home[outside]
    return owner


def _home_of(
    windows: Mapping[str, gpd.GeoDataFrame], layer: pd.Series, feature: pd.Series
) -> np.ndarray:
    home = np.full(len(layer), None, dtype=object)
    for name, frame in windows.items():
        rows = (layer == name).to_numpy()
        if rows.any():
            home[rows] = frame[HOME].reindex(feature[rows].to_numpy()).to_numpy()
    return home


# --- running the tasks ---------------------------------------------------------------------------


def _run(
    task: Task,
    dataset: PartitionedDataset,
    params: dict[str, Any],
    client: Any,
    workers: int | None,
    work_dir: str | os.PathLike[str] | None,
    progress: bool,
    *,
    small: bool = False,
) -> list[Tables]:
    """Run `task` on every zone; the tables of each zone, in zone order.

    `small`: each zone's tables are a few rows, kept in memory rather than on disk.
    """
    with ExitStack() as stack:
        if work_dir is None and client is None and not small:
            # Each zone's tables go to disk as they come, and are read back together at the
            # end: kept in this process between large zones, they would pin the memory those
            # zones freed (glibc cannot return a page that still holds one small object).
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="geozones-"))
            return _run_stored(task, dataset, params, client, workers, scratch, progress, None)
        return _run_stored(task, dataset, params, client, workers, work_dir, progress, work_dir)


def _run_stored(
    task: Task,
    dataset: PartitionedDataset,
    params: dict[str, Any],
    client: Any,
    workers: int | None,
    work_dir: str | os.PathLike[str] | None,
    progress: bool,
    named_work_dir: str | os.PathLike[str] | None,
) -> list[Tables]:
    store = _Store.open(work_dir, dataset, params) if work_dir is not None else None
    todo = [zone for zone in dataset.zones if store is None or not store.done(zone)]
    # largest counties first, so that no worker is left with a large one at the end; size on
    # disk, not feature count: a county of a thousand huge red-line polygons and no parcels
    # was sorted among the last and ran alone for 28 s at the end of a 94 s run
    todo.sort(key=lambda zone: -dataset.stored_bytes(zone))
    run_one: Callable[[PartitionedDataset, str], Tables | None] = (
        task if store is None else partial(_store_task, task=task, store=store)
    )
    label = " ".join(str(params[key]) for key in ("operation", "layer") if key in params)
    kept = len(dataset.zones) - len(todo)
    logger.info(
        "%s: %d of %d zone(s) to run%s",
        label,
        len(todo),
        len(dataset.zones),
        f" ({kept} kept in {work_dir})" if kept else "",
    )
    results: dict[str, Tables] = {}
    said: dict[str, list[ZoneWarning]] = {}
    failed: dict[str, BaseException] = {}
    outcomes = run_zones(
        run_one,
        dataset,
        todo,
        workers=workers or worker_count(),
        client=client,
        ignore=(OutsideZonesWarning,),  # counted once over all zones, after the run
    )
    for zone, outcome in _progress(outcomes, len(todo), progress, label):
        if isinstance(outcome, BaseException):
            logger.info("zone %s: failed: %s: %s", zone, type(outcome).__name__, outcome)
            failed[zone] = outcome
            continue
        logger.info("zone %s: done", zone)
        said[zone] = outcome.warnings
        if store is None:
            results[zone] = outcome.value
    reraise_warnings([(zone, said[zone]) for zone in dataset.zones if zone in said], stacklevel=4)
    if failed:
        raise _partition_error(failed, len(dataset.zones), named_work_dir)
    if store is not None:
        return [store.load(zone) for zone in dataset.zones]
    return [results[zone] for zone in dataset.zones]


def _progress(
    items: Iterable[tuple[str, Any]], total: int, enabled: bool, label: str
) -> Iterable[tuple[str, Any]]:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, total=total, desc=label, unit="zone")


def _partition_error(
    failed: dict[str, BaseException], total: int, work_dir: str | os.PathLike[str] | None
) -> PartitionError:
    lines = [f"  {zone}: {type(error).__name__}: {error}" for zone, error in failed.items()]
    if work_dir is not None:
        advice = (
            f"the other zones are kept in {work_dir}; fix the cause and run again with the "
            "same work_dir to do only these"
        )
    else:
        advice = "pass work_dir= to keep finished zones, so that a rerun does only these"
    if any(isinstance(error, BrokenProcessPool) for error in failed.values()):
        advice += (
            "\na worker process died (it ran out of memory, or was killed); workers=1 runs "
            "without worker processes"
        )
    error = PartitionError(
        f"{len(failed)} of {total} zone(s) failed:\n" + "\n".join(lines) + f"\n{advice}",
        failed=dict(failed),
    )
    error.__cause__ = next(iter(failed.values()))
    return error


def _store_task(dataset: PartitionedDataset, zone: str, *, task: Task, store: _Store) -> None:
    store.save(zone, task(dataset, zone))


class _Store:
    """Finished zones of one run on disk: ``<work_dir>/zones/<zone>/<table>.parquet``."""

    def __init__(self, folder: Path, dataset: PartitionedDataset) -> None:
        self.folder = folder
        self.files = dataset.files

    @classmethod
    def open(
        cls,
        work_dir: str | os.PathLike[str],
        dataset: PartitionedDataset,
        params: dict[str, Any],
    ) -> _Store:
        """The store of `work_dir`, emptied first if it holds zones of other input.

        ``run.json`` names the run by content: the dataset's fingerprint (manifest hash, file
        sizes and times), the task's options and the geozones version. When any differs, the
        zones kept are of another run: they are removed, with a warning, and the run starts
        afresh.
        """
        from geozones import __version__

        folder = Path(work_dir)
        run = {
            "dataset": str(dataset.path.resolve()),
            "dataset_content": dataset.fingerprint(),
            "geozones": __version__,
            **params,
        }
        run = json.loads(json.dumps(run))  # as it reads back: lists, not tuples
        record = folder / "run.json"
        zones = folder / "zones"
        if record.exists():
            try:
                previous = json.loads(record.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                previous = {}
            if previous != run:
                kept = (
                    sum(1 for entry in zones.iterdir() if entry.is_dir()) if zones.is_dir() else 0
                )
                warnings.warn(
                    f"{folder} holds {kept} zone(s) of an earlier run with other input "
                    f"({_what_changed(previous, run)}); they are discarded and the run starts "
                    "afresh",
                    RunRestartedWarning,
                    stacklevel=4,
                )
                shutil.rmtree(zones, ignore_errors=True)
                record.unlink()
        if not record.exists():
            zones.mkdir(parents=True, exist_ok=True)
            with atomic_file(record) as scratch:
                scratch.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
        remove_stale_temporaries(zones)  # zones half-saved by a process that was killed
        return cls(folder, dataset)

    def _path(self, zone: str) -> Path:
        return self.folder / "zones" / self.files[zone].removesuffix(".parquet")

    def done(self, zone: str) -> bool:
        return self._path(zone).is_dir()

    def save(self, zone: str, tables: Tables) -> None:
        target = self._path(zone)
        staging = temporary_name(target.parent, target.name)
        staging.mkdir(parents=True)
        _SAVING.add(staging)
        try:
            for name, table in tables.items():
                suffix = ".geo.parquet" if hasattr(table, "geometry") else ".parquet"
                table.to_parquet(staging / f"{name}{suffix}")
            sync_tree(staging)
            try:
                staging.rename(target)  # atomic: a zone is either finished or absent
            except OSError:
                if not target.is_dir():  # else another process saved the same zone first
                    raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            _SAVING.discard(staging)
        shutil.rmtree(staging, ignore_errors=True)  # left only if another process won

    def load(self, zone: str) -> Tables:
        import geopandas as gpd

        tables: Tables = {}
        for file in sorted(self._path(zone).iterdir()):
            if file.name.endswith(".geo.parquet"):
                tables[file.name.removesuffix(".geo.parquet")] = gpd.read_parquet(file)
            else:
                tables[file.name.removesuffix(".parquet")] = pd.read_parquet(file)
        return tables


def _what_changed(previous: dict[str, Any], run: dict[str, Any]) -> str:
    """Which parts of a run's record differ, in words."""
    if not previous:
        return "its run.json is unreadable"
    changes = []
    if previous.get("dataset") != run["dataset"]:
        changes.append(f"dataset {previous.get('dataset')} instead of {run['dataset']}")
    elif previous.get("dataset_content") != run["dataset_content"]:
        before = previous.get("dataset_content") or {}
        if not before:
            changes.append("the dataset's content was not recorded")
        else:
            files = run["dataset_content"]["files"]
            differ = [
                name for name in files if (before.get("files") or {}).get(name) != files[name]
            ]
            changes.append(f"the dataset was written again ({len(differ)} file(s) differ)")
    if previous.get("geozones") != run["geozones"]:
        changes.append(f"geozones {previous.get('geozones')} instead of {run['geozones']}")
    options = [
        key
        for key in {*previous, *run} - {"dataset", "dataset_content", "geozones"}
        if previous.get(key) != run.get(key)
    ]
    if options:
        changes.append(f"other options: {', '.join(sorted(options))}")
    return "; ".join(changes) or "another record"


#: Zones being saved in this process: a run interrupted while this process's own zone thread
#: saves one leaves no half-saved folder behind when the process exits.
_SAVING: set[Path] = set()


@atexit.register
def _remove_unsaved() -> None:
    for staging in list(_SAVING):
        shutil.rmtree(staging, ignore_errors=True)


def _concat(tables: list[Tables], name: str) -> Any:
    import geopandas as gpd

    frames = [zone_tables[name] for zone_tables in tables if name in zone_tables]
    non_empty = [frame for frame in frames if len(frame)] or frames[:1]
    combined = pd.concat(non_empty) if len(non_empty) > 1 else non_empty[0].copy()
    if isinstance(frames[0], gpd.GeoDataFrame):
        return gpd.GeoDataFrame(combined, geometry=frames[0].geometry.name, crs=frames[0].crs)
    return combined


def _in_input_order(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if ROW not in frame.columns:  # a dataset written before rows were recorded
        return frame.sort_index(kind="stable")
    return frame.sort_values(ROW, kind="stable").drop(columns=ROW)


def _as_objects(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Ids and zones as Python objects (None where missing), as the in-memory functions give.

    The same whether a zone's tables came through a Parquet file or straight from a worker.
    """
    frame = frame.copy()
    for column in columns:
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    return frame


def _sorted(frame: gpd.GeoDataFrame, keys: list[str]) -> gpd.GeoDataFrame:
    frame = frame.reset_index(drop=True)
    order = frame[keys].astype(str).assign(_area=frame.get("area_m2", 0.0))
    position = order.sort_values([*keys, "_area"], kind="stable").index
    return frame.loc[position].reset_index(drop=True)


def _warn_outside(count: int) -> None:
    if count:
        warnings.warn(
            f"{count} piece(s) lie partly or wholly outside every zone; those parts are "
            "kept with zone None",
            OutsideZonesWarning,
            stacklevel=3,
        )

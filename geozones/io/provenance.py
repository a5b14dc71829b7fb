"""What is known about a layer's geometries: how they were read, and which were checked valid.

:func:`geozones.read_layer` finds and repairs problems, and
:func:`geozones.io.validity.polygon_array` checks polygons before they are measured. Both facts hold
for the very geometry objects they looked at, so they are recorded for those objects, not in the
frame's ``attrs`` (which pandas copies into every derived frame: a slice would report the whole
layer's problems, a ``to_crs`` result would keep the old geometries alive, and every writer would
have to clear them).

- The **layer report** holds for a frame holding exactly the features read, in any order and
  under any index (``frame.set_index("BSM")``, ``frame.sort_values("BSM")``,
  ``frame[["BSM", "geometry"]]``); a slice, or a ``to_crs`` result (new geometries), has none.
- The **proof of validity** holds per geometry: a feature still holding an object checked valid
  is not checked again, whatever frame it is in now; a geometry replaced or reprojected is.

A record holds the geometries it names (so that their ``id`` cannot be reused while it lives),
never a frame. It is dropped once no frame holds its geometries any more, checked on every use of
the registry (each read, check and measurement), so that a layer deleted, or replaced by its
``to_crs`` result, lets its geometries go at the next geozones call. Not from a garbage-collector
callback: such a callback runs in the middle of arbitrary C code, and numpy called there failed
(``PyCapsule_GetPointer called with invalid PyCapsule object``) and took a test worker down.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> layer = gpd.GeoDataFrame({"BSM": ["b", "a"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
>>> remember(layer, report="how it was read")
>>> recalled_report(layer), recalled_report(layer.sort_values("BSM"))
('how it was read', 'how it was read')
>>> recalled_report(layer.iloc[:1]) is None
True
"""

from __future__ import annotations

import itertools
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass(eq=False)
class _Record:
    objects: np.ndarray  # the geometry objects, sorted by id (strong references)
    ids: np.ndarray  # their ids, sorted
    valid: np.ndarray  # per object: checked and valid
    report: Any = None


_RECORDS: dict[int, _Record] = {}
_BY_PRINT: dict[tuple[int, int, int], set[int]] = {}
_SERIAL = itertools.count()
# Checks of validity may run in threads.
_LOCK = threading.Lock()
# The serials of the records, and the ids of all their objects, sorted (see _prune).
_EVERY_ID: tuple[tuple[int, ...], np.ndarray] = ((), np.zeros(0, dtype=np.int64))


def _buffer(data: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray | None:
    """The object array of shapely geometries under `data`'s geometry column."""
    series = data.geometry if hasattr(data, "geometry") else data
    values = getattr(getattr(series, "array", None), "_data", None)
    return values if isinstance(values, np.ndarray) and values.dtype == object else None


def object_ids(values: np.ndarray) -> np.ndarray:
    """The ``id`` of each object of an object array, as int64.

    Parameters
    ----------
    values : numpy.ndarray
        An object array (of geometries, say).

    Returns
    -------
    numpy.ndarray
        One id per element: two places hold the same object where their ids are equal.

    Examples
    --------
    >>> shared = object()
    >>> ids = object_ids(np.array([shared, object(), shared], dtype=object))
    >>> bool(ids[0] == ids[2]), bool(ids[0] == ids[1])
    (True, False)
    """
    return np.fromiter(map(id, values), dtype=np.int64, count=len(values))


def _print(ids: np.ndarray) -> tuple[int, int, int]:
    """An order-free fingerprint of a multiset of ids."""
    unsigned = ids.view(np.uint64)
    with np.errstate(over="ignore"):
        total = int(unsigned.sum(dtype=np.uint64))
    return len(ids), total, int(np.bitwise_xor.reduce(unsigned)) if len(ids) else 0


#: Objects sampled per record to see whether frames still hold its geometries.
_SAMPLE = 16


def _prune() -> None:
    """Drop the records whose geometries are no longer all held outside the registry."""
    global _EVERY_ID
    recorded = tuple(_RECORDS)
    if not recorded:
        _EVERY_ID = recorded, np.zeros(0, dtype=np.int64)
        return
    # The ids of every record, sorted once (and again only when the records change: a check
    # of three layers prunes three times): counting per record instead made each use of the
    # registry quadratic in the number of records. A record dropped below still counts here,
    # which can only keep another record one prune longer.
    if _EVERY_ID[0] != recorded:
        _EVERY_ID = recorded, np.sort(np.concatenate([record.ids for record in _RECORDS.values()]))
    every = _EVERY_ID[1]

    def held_by_records(obj: object) -> int:
        key = id(obj)
        return int(np.searchsorted(every, key, side="right")) - int(
            np.searchsorted(every, key, side="left")
        )

    for serial, record in list(_RECORDS.items()):
        count = len(record.objects)
        if not count:
            continue
        picks = np.unique(np.linspace(0, count - 1, min(count, _SAMPLE)).astype(np.int64))
        sample = record.objects[picks]
        # getrefcount counts its argument, the loop variable and the `sample` array too
        if any(sys.getrefcount(obj) - 3 - held_by_records(obj) <= 0 for obj in sample):
            del _RECORDS[serial]
            fingerprint = _print(record.ids)
            serials = _BY_PRINT.get(fingerprint, set())
            serials.discard(serial)
            if not serials:
                _BY_PRINT.pop(fingerprint, None)


def _same_features(ids: np.ndarray) -> tuple[int, _Record] | None:
    """The record of exactly these geometry objects (in any order), if any."""
    sorted_ids = np.sort(ids)
    for serial in _BY_PRINT.get(_print(ids), ()):
        record = _RECORDS[serial]
        if np.array_equal(record.ids, sorted_ids):
            return serial, record
    return None


def remember(
    data: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    report: Any = None,
    valid: np.ndarray | None = None,
) -> None:
    """Record a layer report, or which geometries are valid, for the geometries of `data`.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        A layer.
    report : LayerReport, optional
        How the layer was read; it holds for frames holding exactly these features.
    valid : numpy.ndarray of bool, optional
        Per feature of `data`: checked, and a valid polygon.
    """
    values = _buffer(data)
    if values is None:
        return
    ids = object_ids(values)
    with _LOCK:
        _prune()
        found = _same_features(ids)
        if found is None:
            order = np.argsort(ids, kind="stable")
            serial = next(_SERIAL)
            record = _Record(values[order], ids[order], np.zeros(len(ids), dtype=bool))
            _RECORDS[serial] = record
            _BY_PRINT.setdefault(_print(ids), set()).add(serial)
        else:
            serial, record = found
        if report is not None:
            record.report = report
        if valid is not None and valid.any():
            positions = np.searchsorted(record.ids, ids[np.asarray(valid, dtype=bool)])
            record.valid[positions] = True


def recalled_report(data: gpd.GeoDataFrame | gpd.GeoSeries) -> Any:
    """The layer report recorded for exactly the features of `data` (any order), or None.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        A layer.

    Returns
    -------
    LayerReport or None
    """
    values = _buffer(data)
    if values is None:
        return None
    with _LOCK:
        _prune()
        found = _same_features(object_ids(values))
        return None if found is None else found[1].report


def known_valid(data: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Per feature of `data`: True where it holds a geometry object already checked valid.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        A layer.

    Returns
    -------
    numpy.ndarray of bool
    """
    values = _buffer(data)
    if values is None:
        return np.zeros(len(data), dtype=bool)
    ids = object_ids(values)
    result = np.zeros(len(ids), dtype=bool)
    with _LOCK:
        _prune()
        records = list(_RECORDS.values())
    for record in records:
        if not record.valid.any():
            continue
        checked = record.ids[record.valid]
        positions = np.minimum(np.searchsorted(checked, ids), len(checked) - 1)
        result |= checked[positions] == ids
    return result

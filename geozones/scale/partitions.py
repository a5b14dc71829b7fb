"""Layers stored as GeoParquet partitioned by zone (county), for streamed and distributed runs.

A partitioned dataset is a folder::

    manifest.json           CRS, zone field, layers, and each partition's extent and counts
    zones.parquet           the zone polygons
    <layer>/<zone>.parquet  the features whose home is that zone, in Hilbert order

Each feature has one *home* zone: the zone holding a point on its surface (the nearest zone
when the point is in none, the first zone when the feature has no geometry). The zones are
counties, or a grid of square tiles (:func:`tile_grid`) for layers without them. Files are
GeoParquet 1.1 with a ``bbox`` covering column and row groups of nearby features, so
:meth:`PartitionedDataset.read_window` reads the features near one zone without reading the
rest of the province.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.choices import checked_instance
from geozones.errors import (
    ArgumentTypeError,
    DataSourceError,
    EmptyLayerError,
    FieldError,
    MissingCRSError,
    OptionError,
    OutputError,
    OutputExistsError,
)
from geozones.io.validity import polygon_array, record_valid
from geozones.outputs import (
    MARKER,
    atomic_folder,
    check_output_path,
    output_lock,
    safe_filename,
)
from geozones.parallel import worker_count
from geozones.zones import to_crs, zone_codes, zone_of

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

FORMAT = "geozones-partitions"
VERSION = 1
#: Column holding each feature's index label in the input layer.
FID = "_fid"
#: Column holding each feature's home zone.
HOME = "_home"
#: Column holding each feature's row position in the input layer: windows are read back in
#: input order, so that a zone's run meets features in the order the whole layer has them.
ROW = "_row"
#: Field of :func:`tile_grid`'s tiles holding their codes.
TILE_FIELD = "tile"
Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class PartitionedDataset:
    """A folder of layers partitioned by zone, written by :func:`write_partitions`.

    Small and picklable: workers of a distributed run receive it and read their own partitions
    from the shared folder.

    Attributes
    ----------
    path : pathlib.Path
        The dataset folder.
    crs : str
        The CRS of every layer and of the zones (WKT).
    zone_field : str
        Field of the zones holding each zone's code.
    layers : tuple of str
        Layer names.
    zones : tuple of str
        Zone codes, one partition per zone, in the order of the zone layer.
    extents : dict of str to tuple of float
        Per zone: the bounds of the zone and of every feature whose home it is.
    counts : dict of str to dict of str to int
        Per layer and zone: the number of features whose home is that zone.
    files : dict of str to str
        Per zone: the file name of its partition in each layer folder.
    tiled : bool
        The zones are tiles (:func:`tile_grid`), not administrative zones: streamed conflicts
        and resolution keep whole pieces instead of splitting them at tile edges.
    """

    path: Path
    crs: str
    zone_field: str
    layers: tuple[str, ...]
    zones: tuple[str, ...]
    extents: dict[str, Bounds] = field(repr=False)
    counts: dict[str, dict[str, int]] = field(repr=False)
    files: dict[str, str] = field(repr=False)
    tiled: bool = False

    def stored_bytes(self, zone: str) -> int:
        """Bytes of the zone's partition files, all layers together.

        A measure of the work a zone takes: it follows the vertices stored, where a count of
        features does not (a thousand red-line polygons of 100,000 vertices outweigh ten
        thousand parcels).

        Parameters
        ----------
        zone : str
            Zone code.

        Returns
        -------
        int
            The total size on disk; 0 for files that are missing.
        """
        total = 0
        for layer in self.layers:
            try:
                total += self._file(layer, zone).stat().st_size
            except OSError:
                continue
        return total

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the dataset's content: its manifest's hash, its files' sizes and times.

        A resumed run compares it with the one it recorded: a dataset written again at the
        same path (from changed data) has another fingerprint, so no zone of the earlier run
        is reused.

        Returns
        -------
        dict
            ``manifest_sha256`` and ``files`` (relative path → [size, modification time in
            ns], None for a missing file).

        Examples
        --------
        >>> import tempfile
        >>> import geopandas as gpd
        >>> from shapely import box
        >>> zones = gpd.GeoDataFrame({"code": ["a"]}, geometry=[box(0, 0, 1, 1)], crs=4527)
        >>> dataset = write_partitions(
        ...     {"lines": zones}, zones, tempfile.mkdtemp() + "/parts", zone_field="code"
        ... )
        >>> sorted(dataset.fingerprint()["files"])
        ['lines/a.parquet', 'manifest.json', 'zones.parquet']
        """
        manifest = self.path / "manifest.json"
        names = ["manifest.json", "zones.parquet"] + [
            f"{safe_filename(layer, fallback='layer')}/{self.files[zone]}"
            for layer in self.layers
            for zone in self.zones
        ]
        files: dict[str, list[int] | None] = {}
        for name in names:
            try:
                status = (self.path / name).stat()
            except OSError:
                files[name] = None
            else:
                files[name] = [status.st_size, status.st_mtime_ns]
        try:
            digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
        except OSError:
            digest = ""
        return {"manifest_sha256": digest, "files": files}

    def read_zones(self) -> gpd.GeoDataFrame:
        """The zone polygons.

        Returns
        -------
        GeoDataFrame
            The zone layer as written, in the dataset's CRS.
        """
        import geopandas as gpd

        return gpd.read_parquet(self.path / "zones.parquet")

    def read_partition(self, layer: str, zone: str) -> gpd.GeoDataFrame:
        """The features of `layer` whose home is `zone`.

        Parameters
        ----------
        layer : str
            Layer name.
        zone : str
            Zone code.

        Returns
        -------
        GeoDataFrame
            Indexed by the features' index labels in the input layer, with ``_home`` and
            ``_row`` (the position in the input layer).
        """
        return _read_files([self._file(layer, zone)], crs=self.crs)

    def read_window(self, layer: str, zone: str) -> gpd.GeoDataFrame:
        """The features of `layer` that may touch `zone` or the features whose home it is.

        That is every feature whose home is `zone`, and every other feature whose bounding box
        meets the zone's extent (:attr:`extents`). Row groups and files outside the extent are
        skipped through the ``bbox`` column, so memory follows the zone, not the province.

        Parameters
        ----------
        layer : str
            Layer name.
        zone : str
            Zone code.

        Returns
        -------
        GeoDataFrame
            Indexed by the features' index labels in the input layer, with ``_home`` and
            ``_row``, in the order of the input layer.
        """
        own = self._file(layer, zone)
        neighbours = [
            self._file(layer, other)
            for other in self.zones
            if other != zone
            and self.counts[layer][other]
            and _meet(self.extents[other], self.extents[zone])
        ]
        # One scan of all the files: a frame built per file cost more than reading them.
        return _read_files(
            [own, *neighbours],
            crs=self.crs,
            bbox=self.extents[zone] if neighbours else None,
            home=zone,
            ordered=True,
        )

    def _file(self, layer: str, zone: str) -> Path:
        if layer not in self.layers:
            raise DataSourceError(
                f"{self.path}: no layer {layer!r} in this partitioned dataset; it has "
                f"{', '.join(self.layers)}"
            )
        if zone not in self.files:
            raise DataSourceError(f"{self.path}: no partition for zone {zone!r}")
        return self.path / safe_filename(layer, fallback="layer") / self.files[zone]


def write_partitions(
    layers: Mapping[str, gpd.GeoDataFrame | str | os.PathLike[str]],
    zones: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    zone_field: str,
    overwrite: bool = False,
    row_group_size: int = 20_000,
    batch_size: int = 500_000,
    tiled: bool = False,
) -> PartitionedDataset:
    """Write layers as GeoParquet partitioned by zone, spatially sorted, with bbox columns.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or path-like
        Layer name to polygons (e.g. ``{"farmland": farmland, "redline": redline}``), or to a
        GeoParquet file, which is read in batches so that a layer larger than memory can be
        partitioned (any other file is read whole with :func:`geozones.read_layer`). Layers in
        another CRS than the zones are reprojected, with a warning naming both; invalid
        polygons are repaired, with a warning, as :func:`geozones.read_layer` does.
    zones : GeoDataFrame
        The zones (counties, or tiles from :func:`tile_grid`) to partition by; rows sharing a
        code form one zone.
    path : path-like
        The dataset folder to create.
    zone_field : str
        Field of `zones` holding each zone's code (e.g. ``XZQDM``).
    overwrite : bool, default False
        Replace an existing dataset folder at `path`.
    row_group_size : int, default 20000
        Features per Parquet row group at most: the unit a window read skips or reads. Where
        features are large, a group holds fewer, about :data:`ROW_GROUP_BYTES` of coordinates
        (40 red-line polygons of 400 vertices): a window then reads only the groups of its
        neighbours' files that reach it.
    batch_size : int, default 500000
        Features of a GeoParquet file read at a time.
    tiled : bool, default False
        `zones` are tiles rather than administrative zones (see
        :attr:`PartitionedDataset.tiled`).

    Returns
    -------
    PartitionedDataset
        The written dataset.

    Raises
    ------
    FileExistsError
        `path` exists and `overwrite` is False (an :class:`~geozones.errors.OutputExistsError`).
    OutputError
        `path` exists and is not a dataset written by geozones, or holds files it did not
        write (:func:`check_replaceable`); or `path` cannot be a folder.
    OutputLockedError
        Another run is writing `path`.
    FieldError
        `zone_field` is not a field of `zones`.

    Notes
    -----
    The dataset is written in a temporary folder next to `path` and renamed into place when
    complete: a failed or interrupted run leaves the earlier dataset as it was.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> counties = gpd.GeoDataFrame(
    ...     {"XZQDM": ["990102", "990121"]},
    ...     geometry=[box(x, y, x + 1000, y + 1000), box(x + 1000, y, x + 2000, y + 1000)],
    ...     crs=4527,
    ... )
    >>> redline = gpd.GeoDataFrame(geometry=[box(x + 900, y, x + 1500, y + 100)], crs=4527)
    >>> dataset = write_partitions(
    ...     {"redline": redline}, counties, tempfile.mkdtemp() + "/parts", zone_field="XZQDM"
    ... )
    >>> dataset.counts  # its home: the county holding a point on its surface
    {'redline': {'990102': 0, '990121': 1}}
    >>> len(dataset.read_window("redline", "990102"))  # but it is read for both
    1
    """
    import geopandas as gpd

    target = check_output_path(path, folder=True)
    check_replaceable(target, overwrite=overwrite)  # before any work; again under the lock
    codes = zone_codes(zones, zone_field)
    crs = pyproj.CRS.from_user_input(zones.crs)
    zone_geoms = polygon_array(zones, purpose="partitioning")
    order = list(dict.fromkeys(codes.tolist()))
    files = _file_names(order)
    extents = {code: _bounds(zone_geoms[codes == code]) for code in order}
    counts: dict[str, dict[str, int]] = {}

    with ExitStack() as stack:
        stack.enter_context(output_lock(target, purpose="geozones partition"))
        check_replaceable(target, overwrite=overwrite)
        # written beside the target and swapped in whole: a failure leaves the old dataset
        staging = stack.enter_context(atomic_folder(target))
        zone_frame = zones.to_crs(crs)
        zone_frame.to_parquet(staging / "zones.parquet", write_covering_bbox=True)
        for name, layer in layers.items():
            logger.info("partitioning layer %r by %d zone(s)", name, len(order))
            folder = staging / safe_filename(name, fallback="layer")
            scratch = staging / ".scratch" / folder.name
            template: gpd.GeoDataFrame | None = None
            rows_before = 0
            for number, batch in enumerate(_batches(layer, batch_size=batch_size)):
                batch = to_crs(batch, crs, name=f"layer {name!r}", target="the zones'")
                geoms = polygon_array(batch, purpose="partitioning")
                home = np.asarray(order, dtype=object)[_home_zones(geoms, zone_geoms, codes, order)]
                frame = gpd.GeoDataFrame(
                    batch.drop(columns=batch.geometry.name), geometry=geoms, crs=crs
                ).reset_index(names=FID)
                frame[HOME] = home
                frame[ROW] = np.arange(rows_before, rows_before + len(frame), dtype=np.int64)
                rows_before += len(frame)
                template = frame.iloc[:0] if template is None else template
                for code, part in frame.groupby(HOME, sort=False):
                    stem = files[str(code)].removesuffix(".parquet")
                    (scratch / stem).mkdir(parents=True, exist_ok=True)
                    part.to_parquet(scratch / stem / f"{number:06d}.parquet", index=False)
            folder.mkdir()
            counts[name] = {}
            for code in order:
                pieces = scratch / files[code].removesuffix(".parquet")
                part = (
                    _read_files(sorted(pieces.iterdir()), crs=crs.to_wkt()).reset_index(names=FID)
                    if pieces.is_dir()
                    else template
                )
                assert part is not None  # a layer yields at least one (possibly empty) batch
                counts[name][code] = len(part)
                if len(part):
                    part = part.iloc[_hilbert_order(part.geometry)]
                    extents[code] = _union_bounds(extents[code], _bounds(part.geometry.to_numpy()))
                part.to_parquet(
                    folder / files[code],
                    write_covering_bbox=True,
                    schema_version="1.1.0",
                    row_group_size=_group_rows(part.geometry.to_numpy(), row_group_size),
                    index=False,
                )
            if (staging / ".scratch").exists():  # not made for a layer without features
                shutil.rmtree(staging / ".scratch")
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "crs": crs.to_wkt(),
            "zone_field": zone_field,
            "layers": list(layers),
            "zones": order,
            "files": files,
            "extents": extents,
            "counts": counts,
            "tiled": tiled,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return open_partitions(target)


def check_replaceable(path: str | os.PathLike[str], *, overwrite: bool) -> None:
    """Refuse to write a dataset at `path` unless it is free, or a dataset geozones may replace.

    With `overwrite`, an existing folder is replaced only if it is empty, or a dataset
    :func:`write_partitions` wrote (its ``manifest.json`` says so) holding nothing else: no
    other folder, and no file geozones did not write, is ever deleted.

    Parameters
    ----------
    path : path-like
        The dataset folder.
    overwrite : bool
        Replacing an existing dataset is allowed.

    Raises
    ------
    OutputExistsError
        `path` exists and `overwrite` is False.
    OutputError
        `path` exists and is not a dataset geozones wrote, or holds other files.
    """
    target = Path(path)
    if not os.path.lexists(target):
        return
    if not overwrite:
        raise OutputExistsError(
            f"{target} exists; pass overwrite=True (--overwrite on the command line) to replace "
            "it, or choose another output"
        )
    if target.is_symlink() or not target.is_dir():
        raise OutputError(
            f"{target} is not a partitioned dataset geozones wrote; --overwrite replaces only "
            "those. Choose another output"
        )
    if not any(target.iterdir()):
        return  # an empty folder: nothing to lose
    try:
        dataset = open_partitions(target)
    except DataSourceError:
        raise OutputError(
            f"{target} is not a partitioned dataset geozones wrote (no geozones manifest.json); "
            "--overwrite replaces only those. Choose another output, or empty it yourself"
        ) from None
    expected = {safe_filename(layer, fallback="layer"): layer for layer in dataset.layers}
    foreign = [
        entry.name
        for entry in target.iterdir()
        if entry.name not in ("manifest.json", "zones.parquet", MARKER)
        and entry.name not in expected
    ]
    names = set(dataset.files.values())
    for folder in expected:
        if (target / folder).is_dir():
            foreign += [
                f"{folder}/{entry.name}"
                for entry in (target / folder).iterdir()
                if entry.name not in names
            ]
    if foreign:
        shown = ", ".join(sorted(foreign)[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise OutputError(
            f"{target} holds files geozones did not write ({shown}); --overwrite replaces only "
            "what geozones wrote. Move them away or choose another output"
        )


def tile_grid(
    extent: gpd.GeoDataFrame | gpd.GeoSeries | Bounds,
    *,
    size: float,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Square tiles covering an extent, to partition layers that have no counties.

    The tiles are aligned to multiples of `size` in the CRS's coordinates, so two extents give
    the same tiles where they overlap. Each tile's code (field ``tile``) is the coordinates of
    its lower-left corner, ``"<x>_<y>"``.

    Parameters
    ----------
    extent : GeoDataFrame, GeoSeries or (xmin, ymin, xmax, ymax)
        What to cover: a layer (its bounds and CRS), or bounds with `crs`.
    size : float
        Side of a tile in the CRS's unit (metres for Gauss–Krüger).
    crs : optional
        The CRS of bounds given as a tuple; a layer's own CRS otherwise.

    Returns
    -------
    GeoDataFrame
        One row per tile, west to east then south to north, with the field ``tile``.

    Raises
    ------
    ValueError
        `size` is not positive, or the extent is empty.
    MissingCRSError
        No CRS is known.

    Examples
    --------
    >>> tiles = tile_grid((39_500_100, 3_150_100, 39_519_900, 3_159_900), size=10_000, crs=4527)
    >>> tiles["tile"].tolist()
    ['39500000_3150000', '39510000_3150000']
    """
    import geopandas as gpd

    if not isinstance(size, (int, float)) or not size > 0:
        raise OptionError(f"tile size must be positive, not {size!r}")
    if isinstance(extent, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = extent.crs if crs is None else crs
        bounds = tuple(float(value) for value in extent.total_bounds)
    else:
        needed = "a GeoDataFrame, a GeoSeries or (xmin, ymin, xmax, ymax)"
        numbers: Sequence[Any] = checked_instance(
            extent, (tuple, list, np.ndarray), name="extent", needed=needed
        )
        try:
            bounds = tuple(float(value) for value in numbers)
        except (TypeError, ValueError) as error:
            raise ArgumentTypeError(f"extent must be {needed}, not {extent!r}") from error
    if crs is None:
        raise MissingCRSError("tile_grid needs a CRS: pass crs= or an extent layer with one")
    if len(bounds) != 4:
        raise ArgumentTypeError(f"extent must be (xmin, ymin, xmax, ymax), not {extent!r}")
    xmin, ymin, xmax, ymax = bounds
    if not all(np.isfinite(bounds)) or xmin > xmax or ymin > ymax:
        raise EmptyLayerError(f"nothing to tile: the extent {bounds} is empty")
    columns = np.arange(np.floor(xmin / size), max(np.ceil(xmax / size), np.floor(xmin / size) + 1))
    rows = np.arange(np.floor(ymin / size), max(np.ceil(ymax / size), np.floor(ymin / size) + 1))
    x0, y0 = (grid.ravel() * size for grid in np.meshgrid(columns, rows))
    codes = [f"{x:.12g}_{y:.12g}" for x, y in zip(x0, y0, strict=True)]
    return gpd.GeoDataFrame(
        {TILE_FIELD: codes}, geometry=shapely.box(x0, y0, x0 + size, y0 + size), crs=crs
    )


def open_partitions(path: str | os.PathLike[str]) -> PartitionedDataset:
    """Open a dataset written by :func:`write_partitions`.

    Parameters
    ----------
    path : path-like
        The dataset folder.

    Returns
    -------
    PartitionedDataset
        The dataset's description; nothing else is read.

    Raises
    ------
    DataSourceError
        `path` is not a partitioned dataset, or its manifest is damaged.
    """
    # Absolute: the zone tasks carry the path to worker processes, which a reused pool may
    # have started in another working directory.
    folder = Path(path).absolute()
    manifest_path = folder / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataSourceError(
            f"{folder}: not a partitioned dataset (no manifest.json); write one with "
            "geozones.scale.partitions.write_partitions or `geozones partition`"
        ) from None
    except (OSError, ValueError) as error:
        raise DataSourceError(f"{manifest_path}: cannot be read: {error}") from error
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise DataSourceError(
            f"{manifest_path}: not a geozones partition manifest of version {VERSION}"
        )
    try:
        return PartitionedDataset(
            path=folder,
            crs=str(manifest["crs"]),
            zone_field=str(manifest["zone_field"]),
            layers=tuple(manifest["layers"]),
            zones=tuple(manifest["zones"]),
            extents={code: _as_bounds(bounds) for code, bounds in manifest["extents"].items()},
            counts={name: dict(per_zone) for name, per_zone in manifest["counts"].items()},
            files=dict(manifest["files"]),
            tiled=bool(manifest.get("tiled", False)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DataSourceError(f"{manifest_path}: damaged manifest ({error!r})") from error


def _home_zones(
    geoms: np.ndarray, zone_geoms: np.ndarray, codes: np.ndarray, order: list[str]
) -> np.ndarray:
    """Position in `order` of each feature's home zone."""
    # a point on a shared county border meets two zones: the first zone wins; a feature in no
    # zone goes to the nearest one, and a null or empty one to the first
    position = pd.Index(order).get_indexer(pd.Index(codes))
    zone = zone_of(geoms, zone_geoms, rank=position, outside="nearest")
    return np.where(zone >= 0, position[zone], 0)


def _batches(
    layer: gpd.GeoDataFrame | str | os.PathLike[str], *, batch_size: int
) -> Iterator[gpd.GeoDataFrame]:
    """The layer in batches of rows, each indexed by its row positions in the whole layer."""
    import geopandas as gpd

    if isinstance(layer, gpd.GeoDataFrame):
        yield layer
        return
    source = Path(layer)
    if source.suffix.lower() not in {".parquet", ".geoparquet"}:
        from geozones.io import read_layer

        yield read_layer(source)
        return
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(source)
        geo = json.loads(file.schema_arrow.metadata[b"geo"])
    except FileNotFoundError:
        raise DataSourceError(f"{source}: no such file; check the path") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataSourceError(f"{source}: not a readable GeoParquet file ({error!r})") from error
    column = geo["primary_column"]
    crs_json = geo["columns"][column].get("crs")
    if crs_json is None:
        raise MissingCRSError(
            f"{source}: the GeoParquet file declares no CRS; read it with "
            "geozones.read_layer(path, crs=...) and pass the layer instead of the path"
        )
    crs = pyproj.CRS.from_json_dict(crs_json)
    offset = 0
    for record_batch in file.iter_batches(batch_size=batch_size):
        attributes = record_batch.drop_columns([column]).to_pandas()
        attributes.index = pd.RangeIndex(offset, offset + len(attributes))
        geometry = shapely.from_wkb(record_batch.column(column).to_numpy(zero_copy_only=False))
        offset += len(attributes)
        yield gpd.GeoDataFrame(attributes, geometry=geometry, crs=crs)


#: Coordinates' bytes (16 a vertex) in a row group of large features, about: a window of a
#: streamed run read each neighbouring red-line file whole (one group of 186 polygons), 7.8
#: files a window; in four groups a file it read them in 0.6-0.7 of the time
#: (docs/performance.md, "Row groups by the size of the features").
ROW_GROUP_BYTES = 1 << 18
#: Fewest features in a row group: each group read costs about a millisecond.
MIN_GROUP_ROWS = 16


def _group_rows(geoms: np.ndarray, most: int) -> int:
    """Features per row group of a file of `geoms`.

    At most `most`, about :data:`ROW_GROUP_BYTES` of coordinates, at least
    :data:`MIN_GROUP_ROWS`.
    """
    if len(geoms) == 0:
        return max(1, most)
    size = 16.0 * float(np.mean(shapely.get_num_coordinates(geoms)))
    return int(max(1, min(most, max(MIN_GROUP_ROWS, ROW_GROUP_BYTES // max(size, 1.0)))))


def _hilbert_order(geometry: gpd.GeoSeries) -> np.ndarray:
    """Positions that put nearby features next to each other; features without geometry last."""
    geoms = geometry.to_numpy()
    located = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    unlocated = np.setdiff1d(np.arange(len(geoms)), located)
    if len(located) == 0:
        return unlocated
    distance = geometry.iloc[located].hilbert_distance()
    return np.concatenate([located[np.argsort(distance.to_numpy(), kind="stable")], unlocated])


def _file_names(codes: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    used: set[str] = set()
    for number, code in enumerate(codes):
        name = safe_filename(code, fallback="zone")
        if name.casefold() in used:
            name = f"{name}_{number}"
        used.add(name.casefold())
        names[code] = name + ".parquet"
    return names


def _bounds(geoms: np.ndarray) -> Bounds:
    located = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(located) == 0:
        return (np.inf, np.inf, -np.inf, -np.inf)
    box = shapely.bounds(located)
    return (
        float(box[:, 0].min()),
        float(box[:, 1].min()),
        float(box[:, 2].max()),
        float(box[:, 3].max()),
    )


def _union_bounds(a: Bounds, b: Bounds) -> Bounds:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _meet(a: Bounds, b: Bounds) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _as_bounds(values: Any) -> Bounds:
    xmin, ymin, xmax, ymax = (float(value) for value in values)
    return (xmin, ymin, xmax, ymax)


@lru_cache(maxsize=8)
def _parsed_crs(crs: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input(crs)


def _read_files(
    files: list[Path],
    *,
    crs: str,
    bbox: Bounds | None = None,
    home: str | None = None,
    ordered: bool = False,
) -> gpd.GeoDataFrame:
    """Features of partition files, those whose ``bbox`` meets `bbox` if given, in one scan.

    Reads with pyarrow directly: the row-group statistics of the ``bbox`` column skip what lies
    outside, and the frame is built once for all the files. With `bbox`, the features whose
    home is `home` are read too, wherever they lie; `ordered` sorts the features by their
    position in the input layer.
    """
    import geopandas as gpd
    import pyarrow.compute as pc
    import pyarrow.dataset as pads
    from geopandas.array import from_shapely

    # a process that is one of several zone workers uses one thread (arrow's pool would
    # otherwise take CPU from the other workers)
    threads = worker_count() > 1
    try:
        source = pads.dataset([str(file) for file in files], format="parquet")
        columns = [name for name in source.schema.names if name != "bbox"]
        if bbox is None:
            table = source.to_table(columns=columns, use_threads=threads)
        else:
            xmin, ymin, xmax, ymax = bbox
            meets = (
                (pc.field("bbox", "xmin") <= xmax)
                & (pc.field("bbox", "xmax") >= xmin)
                & (pc.field("bbox", "ymin") <= ymax)
                & (pc.field("bbox", "ymax") >= ymin)
            )
            if home is not None:
                meets = meets | (pc.field(HOME) == home)
            table = source.to_table(columns=columns, filter=meets, use_threads=threads)
        if ordered and ROW in table.column_names:
            table = table.sort_by(ROW)
    except (OSError, ValueError) as error:  # pyarrow's errors derive from these
        named = str(files[0]) if len(files) == 1 else f"{files[0].parent} ({len(files)} files)"
        for file in files:
            if str(file) in str(error):
                named = str(file)
        raise DataSourceError(
            f"{named}: cannot be read as a partition ({error}); write the partitioned dataset again"
        ) from error
    geometry = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    attributes = table.drop_columns(["geometry"]).to_pandas(use_threads=threads)
    # The geometry column made, then named (as in geozones.find_conflicts's result).
    attributes["geometry"] = from_shapely(geometry, crs=_parsed_crs(crs))
    frame = _indexed(gpd.GeoDataFrame(attributes, geometry="geometry"))
    # write_partitions checked and repaired every polygon, and WKB keeps every coordinate:
    # each zone's window is not checked again (a red-line polygon that reaches many zones was
    # proven valid in each).
    record_valid(frame)
    return frame


def _indexed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if FID not in frame.columns:
        raise FieldError(f"a partition file lacks the {FID!r} column; rewrite the dataset")
    indexed = frame.set_index(FID)
    indexed.index.name = None
    return indexed

"""Read the lines as they arrive: any common format, any encoding, a CRS that can be trusted.

:func:`read_layer` is the one door data comes in by. It reads Shapefile, GeoPackage, File
Geodatabase, GeoJSON and FlatGeobuf through pyogrio (GDAL) and GeoParquet through pyarrow,
decides a shapefile's encoding from its bytes when no ``.cpg`` says it, refuses or infers a
missing CRS, checks a declared CRS against the coordinates, and repairs invalid polygons,
recording everything in a :class:`~geozones.io.quality.LayerReport`.
"""

from __future__ import annotations

import glob
import logging
import os
import tempfile
import warnings
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geozones.errors import (
    CoordinateError,
    CRSError,
    CRSInferredWarning,
    CurveLinearisedWarning,
    DataSourceError,
    EncodingError,
    EncodingGuessWarning,
    GeometryRepairWarning,
    GeometryTypeWarning,
    LayerNotFoundError,
    ShapefilePartsError,
)
from geozones.io.crs import resolve_crs
from geozones.io.encoding import (
    check_shapefile_encoding,
    dbf_deleted,
    dbf_record_count,
    detect_shapefile_encoding,
)
from geozones.io.provenance import remember
from geozones.io.quality import ISSUE_COLUMNS, LayerReport
from geozones.io.validity import (
    describe_features,
    geometry_array,
    make_polygonal,
    non_polygonal_mask,
    polygonal_mask,
    record_valid,
    valid_mask,
)
from geozones.parallel import collector_paused

_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_SHAPEFILE_SUFFIXES = (".shp", ".dbf")


logger = logging.getLogger(__name__)


@collector_paused()
def read_layer(
    path: str | os.PathLike[str],
    layer: str | int | None = None,
    *,
    encoding: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer, checked: encoding, CRS and geometries, every finding recorded.

    Parameters
    ----------
    path : str or path-like
        A Shapefile (``.shp``), GeoPackage, File Geodatabase (``.gdb`` folder), GeoJSON,
        FlatGeobuf or GeoParquet file.
    layer : str or int, optional
        Layer name or index, for files with several layers (GeoPackage, File Geodatabase).
        Required when there is more than one.
    encoding : str, optional
        Attribute encoding of a shapefile, overriding its ``.cpg`` and any detection.
        Without it, a shapefile with no ``.cpg`` is decoded as UTF-8 or GBK/GB18030,
        decided from its bytes, with an :class:`~geozones.errors.EncodingGuessWarning`.
    crs : str, int or pyproj.CRS, optional
        ``None``: the file's CRS, which must exist and fit the coordinates. ``"infer"``: the
        file's CRS, or if it has none the CRS the coordinates suggest (a CGCS2000
        Gauss–Krüger zone from the easting's zone prefix, or EPSG:4490 for degrees), with a
        :class:`~geozones.errors.CRSInferredWarning`. Anything else (``"EPSG:4527"``, 4527,
        a WKT): that CRS, replacing the file's, checked against the coordinates.

    Returns
    -------
    GeoDataFrame
        Every feature of the layer, indexed by feature id (FID), in its own CRS. Invalid
        polygons are repaired (polygonal parts kept); null and empty geometries are kept.
        :func:`geozones.layer_report` gives its :class:`~geozones.io.quality.LayerReport`.

    Raises
    ------
    DataSourceError
        The file is missing, unreadable, truncated or not a vector dataset.
    LayerNotFoundError
        `layer` is not in the file, or the file has several layers and none was named.
    EncodingError
        The attributes cannot be decoded.
    MissingCRSError
        The layer has no CRS and `crs` was not given; the message names the CRS the
        coordinates suggest.
    CRSMismatchError
        The declared (or given) CRS contradicts the coordinates.

    Examples
    --------
    >>> import geozones
    >>> farmland = geozones.read_layer("sample_data/YJJBNT.shp")  # doctest: +SKIP
    >>> print(geozones.layer_report(farmland).summary())  # doctest: +SKIP
    """
    path = Path(os.fspath(path))
    source = str(path) if layer is None else f"{path} (layer {layer})"
    if not path.exists():
        raise DataSourceError(f"{path}: no such file or folder; check the path")

    encoding_source = "set by caller" if encoding is not None else None
    encoding_guessed = False
    shapefile_features: int | None = None
    decoded: list[tuple[object, ...]] = []
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        frame, driver = _read_parquet(path), "Parquet"
        encoding_source = None
    else:
        if path.suffix.lower() in _SHAPEFILE_SUFFIXES:
            shapefile_features = _check_shapefile_parts(path)
        layer = _choose_layer(path, layer)
        if encoding is not None and path.suffix.lower() in _SHAPEFILE_SUFFIXES:
            check_shapefile_encoding(path, encoding)
        if encoding is None and path.suffix.lower() in _SHAPEFILE_SUFFIXES:
            decision = detect_shapefile_encoding(path)
            encoding, encoding_source = decision.encoding, decision.source
            encoding_guessed = decision.guessed
            if decision.guessed:
                warnings.warn(
                    f"{source}: no .cpg file declares the attribute encoding; decoded as "
                    f"{decision.encoding}, detected from the bytes ({decision.detail}). Pass "
                    "encoding='…' to read_layer or add a .cpg file to make it explicit",
                    EncodingGuessWarning,
                    stacklevel=2,
                )
        frame, driver, decoded, unreadable_crs = _read_ogr(
            path, layer, encoding, source, crs_given=crs is not None
        )
        if shapefile_features is not None and len(frame) != shapefile_features:
            _account_for_deleted(path, frame, shapefile_features, source)
        if unreadable_crs is not None and crs is None:
            _refuse_unreadable_crs(path, source, unreadable_crs)
        if unreadable_crs is not None and crs == "infer":
            warnings.warn(
                f"{source}: its declared CRS cannot be understood ({unreadable_crs[:60]!r}); it "
                "is ignored and the CRS inferred from the coordinates",
                CRSInferredWarning,
                stacklevel=2,
            )

    geoms = geometry_array(frame)
    _check_coordinates(geoms, frame.index, source)
    bounds = _bounds(geoms)
    resolved, crs_source = resolve_crs(
        pyproj.CRS.from_user_input(frame.crs) if frame.crs is not None else None,
        bounds,
        crs=crs,
        source=source,
    )
    if resolved.is_geographic:
        _check_geographic(geoms, frame.index, source)
    frame = frame.set_crs(resolved, allow_override=True)
    frame, issues = _check_geometries(frame, source, decoded)

    type_ids, type_counts = np.unique(
        shapely.get_type_id(geometry_array(frame)), return_counts=True
    )
    report = LayerReport(
        source=source,
        driver=driver,
        feature_count=len(frame),
        crs=resolved,
        crs_source=crs_source,
        encoding=encoding,
        encoding_source=encoding_source,
        encoding_guessed=encoding_guessed,
        geometry_types={
            _TYPE_NAMES[int(t)]: int(n) for t, n in zip(type_ids, type_counts, strict=True)
        },
        issues=issues,
        index=frame.index.copy(),
    )
    remember(frame, report=report)
    record_valid(frame)
    logger.info(
        "read %s: %d feature(s), %s (%s)%s",
        source,
        len(frame),
        resolved.name,
        crs_source,
        f", {len(issues)} finding(s)" if len(issues) else "",
    )
    return frame


_TYPE_NAMES: dict[int, str | None] = {
    -1: None,
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _check_shapefile_parts(path: Path) -> int | None:
    """Refuse a shapefile whose parts are cut short or disagree; the number of its features.

    GDAL reads a truncated ``.shp`` without an error, returning null geometries, and reads as
    many features as the shortest of the ``.shp``, ``.shx`` and ``.dbf`` has, dropping the rest
    without a word. The headers record the true lengths and the ``.shx`` where each shape is,
    so both are caught here.

    Returns
    -------
    int or None
        The number of features all parts agree on; None without a ``.shx`` (GDAL then
        refuses the file itself).
    """
    if path.is_dir():
        raise DataSourceError(
            f"{path} is a folder, not a shapefile; name the .shp file inside it (or the folder "
            "of a File Geodatabase, which ends in .gdb)"
        )
    shp = path if path.suffix.lower() == ".shp" else _sibling(path, ".shp")
    if shp is None:
        raise DataSourceError(f"{path}: the shapefile's .shp file is missing")
    shp_size = _checked_size(shp, ".shp")
    shx = _sibling(path, ".shx")
    if shx is None:
        return None  # GDAL can rebuild a missing index; without SHAPE_RESTORE_SHX it refuses
    _checked_size(shx, ".shx")
    entries = shx.read_bytes()[100:]
    entries = entries[: len(entries) // 8 * 8]  # whole entries: offset and length, 4 bytes each
    index = np.frombuffer(entries, dtype=">i4").reshape(-1, 2).astype(np.int64) * 2
    shapes = _count_shapes(shp, shp_size, offsets=index[:, 0], lengths=index[:, 1])
    dbf = _sibling(path, ".dbf")
    records = dbf_record_count(dbf) if dbf is not None else None
    if shapes != len(index) or (records is not None and records != shapes):
        dbf_text = f"the .dbf holds {records:,} records" if records is not None else "no .dbf"
        counts = [shapes, len(index)] + ([records] if records is not None else [])
        raise ShapefilePartsError(
            f"{shp}: the parts of the shapefile disagree: the .shp holds {shapes:,} shapes, the "
            f".shx indexes {len(index):,} and {dbf_text}; reading it would drop "
            f"{max(counts) - min(counts):,} feature(s) without a word. Export the layer again "
            "from its source, or copy all its parts again (if only the .shx is short: "
            "ogr2ogr --config SHAPE_RESTORE_SHX YES rebuilds it)"
        )
    return shapes


def _checked_size(part: Path, suffix: str) -> int:
    """The length a ``.shp`` or ``.shx`` header declares, checked against the file."""
    if part.is_dir():
        raise DataSourceError(f"{part} is a folder, not a shapefile's {suffix} file")
    try:
        size = part.stat().st_size
        with part.open("rb") as file:
            header = file.read(100)
    except OSError as error:
        raise DataSourceError(f"{part}: cannot be read ({error.strerror or error})") from error
    if len(header) < 28 or int.from_bytes(header[:4], "big") != 9994:
        raise DataSourceError(f"{part}: not a shapefile {suffix} (bad header); re-export it")
    declared = int.from_bytes(header[24:28], "big") * 2
    if size < declared:
        raise DataSourceError(
            f"{part}: truncated: its header says {declared} bytes but the file has {size}; "
            "copy or export it again"
        )
    return min(size, declared)


def _count_shapes(shp: Path, size: int, *, offsets: np.ndarray, lengths: np.ndarray) -> int:
    """Shapes in the ``.shp``: those the index points to, and any after the last of them."""
    ends = offsets + 8 + lengths
    inside = (offsets >= 100) & (lengths >= 0) & (ends <= size)
    # the index counts up to the first record that is not in the file
    indexed = int(np.argmin(inside)) if not inside.all() else len(offsets)
    position = int(ends[:indexed].max()) if indexed else 100
    extra = 0
    with shp.open("rb") as file:
        while position + 8 <= size:  # shapes past the end of the index
            file.seek(position)
            length = int.from_bytes(file.read(8)[4:], "big") * 2
            if length < 0 or position + 8 + length > size:
                break
            extra += 1
            position += 8 + length
    return indexed + extra


def _account_for_deleted(path: Path, frame: gpd.GeoDataFrame, expected: int, source: str) -> None:
    """Explain features GDAL did not return: records marked deleted in the ``.dbf``, or refuse.

    GDAL (and every GIS) skips the records a ``.dbf`` marks deleted (``*``): they were deleted
    in an editor that never packed the file. Any other shortfall is an error.
    """
    missing = np.setdiff1d(np.arange(expected), np.asarray(frame.index, dtype=np.int64))
    dbf = _sibling(path, ".dbf")
    deleted = np.asarray(
        dbf_deleted(dbf, missing.tolist()) if dbf is not None else [], dtype=np.int64
    )
    if len(frame) + len(deleted) != expected or len(deleted) != len(missing):
        lost = pd.Index(missing[~np.isin(missing, deleted)])
        raise DataSourceError(
            f"{source}: GDAL read {len(frame):,} of the {expected:,} features the shapefile "
            f"holds (missing: {describe_features(lost)}); the file may be damaged. Export it "
            "again from its source"
        )
    warnings.warn(
        f"{source}: {len(deleted)} record(s) are marked deleted in the .dbf "
        f"({describe_features(pd.Index(deleted))}); like every GIS, geozones skips them. Pack the "
        "shapefile (or export it again) if they should not be there",
        GeometryTypeWarning,
        stacklevel=4,
    )


def _refuse_unreadable_crs(path: Path, source: str, declared: str) -> NoReturn:
    """A declared CRS (a shapefile's ``.prj``) that cannot be understood: say so."""
    prj = _sibling(path, ".prj") if path.suffix.lower() in _SHAPEFILE_SUFFIXES else None
    if prj is not None:
        with suppress(OSError):
            declared = prj.read_bytes()[:200].decode("utf-8", errors="replace").strip()
    where = f"its .prj file {prj.name}" if prj is not None else "its declared CRS"
    fix = "replace the .prj with a valid one" if prj is not None else "correct it at the source"
    raise CRSError(
        f"{source}: {where} cannot be understood as a CRS (it begins: {declared[:60]!r}); "
        f"{fix}, or pass crs='EPSG:…' (or crs='infer' to use the CRS the coordinates suggest)"
    )


#: Larger coordinates are no position on the Earth in any unit a GIS uses (|x| in metres,
#: feet or degrees); they come from damaged files or a wrong scale.
COORDINATE_LIMIT = 1e9


def _check_coordinates(geoms: np.ndarray, labels: pd.Index, source: str) -> None:
    """Refuse infinite or absurdly large coordinates, naming the features."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[present] = shapely.bounds(geoms[present])
    infinite = present & np.isinf(bounds).any(axis=1)
    with np.errstate(invalid="ignore"):
        huge = present & ~infinite & (np.abs(bounds) > COORDINATE_LIMIT).any(axis=1)
    no_number = present & np.isnan(bounds).all(axis=1)
    if infinite.any():
        raise CoordinateError(
            f"{source}: feature(s) {describe_features(labels[infinite])} have infinite "
            "coordinates; fix or remove them at the source"
        )
    if no_number.any():
        raise CoordinateError(
            f"{source}: feature(s) {describe_features(labels[no_number])} have coordinates "
            "that are not numbers (NaN); fix or remove them at the source"
        )
    if huge.any():
        largest = float(np.nanmax(np.abs(bounds[huge])))
        raise CoordinateError(
            f"{source}: feature(s) {describe_features(labels[huge])} have coordinates of "
            f"absurd size (up to {largest:.3g}; no place on the Earth is beyond "
            f"±{COORDINATE_LIMIT:.0e} in any unit): the file is damaged or its numbers scaled "
            "wrongly. Fix or remove them at the source"
        )


def _check_geographic(geoms: np.ndarray, labels: pd.Index, source: str) -> None:
    """In degrees: refuse features that reach a pole or cross the 180° meridian, by name."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[present] = shapely.bounds(geoms[present])
    with np.errstate(invalid="ignore"):
        outside = present & (
            (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
            | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
        )
        pole = present & ~outside & (np.abs(bounds[:, [1, 3]]) >= 89.999).any(axis=1)
        crossing = present & ~outside & ~pole & (bounds[:, 2] - bounds[:, 0] > 180)
    for mask, what in (
        (
            outside,
            "lie beyond ±180° longitude or ±90° latitude, so they are no place on the Earth",
        ),
        (
            pole,
            "reach a pole (latitude ±90°), where no Gauss–Krüger plane can measure them; "
            "split them off or use method='geodesic' on a layer of their own",
        ),
        (
            crossing,
            "cross the 180° meridian (they span more than half the globe in longitude, "
            "from one side of ±180° to the other); split them at 180° first",
        ),
    ):
        if mask.any():
            raise CoordinateError(f"{source}: feature(s) {describe_features(labels[mask])} {what}")


def _sibling(path: Path, suffix: str) -> Path | None:
    """The file next to `path` with `suffix`, in either letter case."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def _choose_layer(path: Path, layer: str | int | None) -> str | int | None:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as error:  # pyogrio raises its own errors and OSError subclasses
        raise DataSourceError(
            f"{path}: cannot be opened as a vector dataset ({_first_line(error)}); "
            "the file may be truncated, damaged or not a GIS file"
        ) from error
    names = [str(name) for name in layers[:, 0]]
    if layer is None:
        if len(names) > 1:
            raise LayerNotFoundError(
                f"{path} holds {len(names)} layers ({', '.join(names)}); name one with layer=…"
            )
        return None
    if isinstance(layer, int):
        if not 0 <= layer < len(names):
            raise LayerNotFoundError(f"{path} has no layer number {layer}; it has {len(names)}")
        return layer
    if layer not in names:
        raise LayerNotFoundError(
            f"{path} has no layer {layer!r}; its layers are: {', '.join(names)}"
        )
    return layer


def _read_ogr(
    path: Path,
    layer: str | int | None,
    encoding: str | None,
    source: str,
    *,
    crs_given: bool = False,
) -> tuple[gpd.GeoDataFrame, str, list[tuple[object, ...]], str | None]:
    """The layer, its driver, repairs made decoding it (issue rows), an unusable CRS.

    The last is the declared CRS if it could not be understood (the layer then has none).
    The fast path reads through Arrow. Geometries that GEOS cannot decode as they are
    (curves, rings that do not close) make it fail; the layer is then read again feature by
    feature: curves linearised by GDAL, unclosed rings closed, each recorded and warned about.
    """
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        with warnings.catch_warnings():  # unclosed rings: closed and reported when read again
            warnings.filterwarnings("ignore", "Non closed ring", RuntimeWarning)
            frame = pyogrio.read_dataframe(
                path, layer=layer, encoding=encoding, fid_as_index=True, use_arrow=True
            )
        repaired: list[tuple[object, ...]] = []
        unreadable_crs = None
    except UnicodeDecodeError as error:
        raise EncodingError(
            f"{source}: attributes cannot be decoded as {encoding} ({error.reason}); pass the "
            "right encoding='…' (GBK and UTF-8 are the usual ones)"
        ) from error
    except LookupError as error:
        raise EncodingError(f"{source}: unknown encoding {encoding!r}") from error
    except pyogrio.errors.CRSError as error:  # GDAL cannot parse the CRS (a .prj) it declares
        declared = _first_line(error)
        prj = _sibling(path, ".prj") if path.suffix.lower() in _SHAPEFILE_SUFFIXES else None
        if prj is None or not crs_given:
            _refuse_unreadable_crs(path, source, declared)
        assert prj is not None
        with tempfile.TemporaryDirectory(prefix="geozones-") as folder:
            for part in path.parent.glob(glob.escape(path.stem) + ".*"):
                if part.suffix.lower() != ".prj":
                    (Path(folder) / part.name).symlink_to(part.resolve())
            frame, driver, repaired, _ = _read_ogr(
                Path(folder) / path.name, layer, encoding, source
            )
        return frame, driver, repaired, declared
    except Exception as error:
        try:
            frame, repaired, unreadable_crs = _read_carefully(path, layer, encoding, source)
        except Exception:
            raise DataSourceError(
                f"{source}: cannot be read ({_first_line(error)}); the file may be truncated "
                "or damaged, or its companion files (.shx, .dbf) missing"
            ) from error
        info = {"driver": pyogrio.read_info(path, layer=layer).get("driver", "unknown")}
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DataSourceError(f"{source}: holds no geometry column; it is not a spatial layer")
    return frame, str(info.get("driver", "unknown")), repaired, unreadable_crs


#: WKB geometry types with arcs: CircularString, CompoundCurve, CurvePolygon, MultiCurve,
#: MultiSurface, Curve, Surface.
_CURVE_TYPES = frozenset(range(8, 15))


def _read_carefully(
    path: Path, layer: str | int | None, encoding: str | None, source: str
) -> tuple[gpd.GeoDataFrame, list[tuple[object, ...]], str | None]:
    """Read a layer feature by feature: curves linearised, unclosed rings closed, all recorded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's "Non closed ring detected"
        attributes = pyogrio.read_dataframe(
            path,
            layer=layer,
            encoding=encoding,
            read_geometry=False,
            fid_as_index=True,
            use_arrow=False,
        )
        meta, fids, linear, _ = pyogrio.raw.read(
            path, layer=layer, encoding=encoding, columns=[], return_fids=True
        )
        _, table = pyogrio.read_arrow(path, layer=layer, columns=[], return_fids=True)
    crs = meta.get("crs")
    unreadable_crs = None
    if crs:
        try:
            pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError:
            crs, unreadable_crs = None, str(crs)
    stored = table.column(table.schema.names[-1]).to_pylist()
    curved = np.array([_wkb_type(wkb) in _CURVE_TYPES for wkb in stored], dtype=bool)
    if len(curved) != len(linear):
        curved = np.zeros(len(linear), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        strict = shapely.from_wkb(linear, on_invalid="ignore")
        fixed = shapely.from_wkb(linear, on_invalid="fix")
    present = np.array([wkb is not None for wkb in linear], dtype=bool)
    closed = present & shapely.is_missing(strict) & ~shapely.is_missing(fixed) & ~curved
    unreadable = present & shapely.is_missing(fixed)
    labels = pd.Index(fids)
    repaired: list[tuple[object, ...]] = []
    for mask, problem, action in (
        (curved, "curved geometry (arcs)", "linearised: arcs replaced by straight segments"),
        (closed, "unclosed ring", "repaired: ring closed"),
        (unreadable, "unreadable geometry", "kept with a null geometry, flagged"),
    ):
        repaired += [(label, problem, action, np.nan, np.nan, np.nan) for label in labels[mask]]
    if curved.any():
        warnings.warn(
            f"{source}: {int(curved.sum())} curved geometries (arcs, circles) were linearised by "
            f"GDAL ({describe_features(labels[curved])}); areas are those of the straight-edged "
            "approximation. The per-feature record is in geozones.layer_report(layer).issues",
            CurveLinearisedWarning,
            stacklevel=4,
        )
    found = [
        f"{int(mask.sum())} {what} ({describe_features(labels[mask])}), {done}"
        for mask, what, done in (
            (closed, "polygon(s) had rings that did not close", "closed"),
            (unreadable, "geometries could not be decoded", "kept as null"),
        )
        if mask.any()
    ]
    if found:
        warnings.warn(
            f"{source}: {'; '.join(found)}. The per-feature record is in "
            "geozones.layer_report(layer).issues",
            GeometryRepairWarning,
            stacklevel=4,
        )
    frame = gpd.GeoDataFrame(
        attributes.reindex(labels), geometry=np.asarray(fixed, dtype=object), crs=crs
    )
    frame.index.name = attributes.index.name
    return frame, repaired, unreadable_crs


def _wkb_type(wkb: bytes | None) -> int:
    """The base geometry type of a WKB (ISO or extended), 0 when there is none."""
    if not wkb or len(wkb) < 5:
        return 0
    code = int.from_bytes(wkb[1:5], "little" if wkb[0] == 1 else "big")
    return (code & 0x0FFFFFFF) % 1000


def _read_parquet(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError or ValueError
        raise DataSourceError(
            f"{path}: cannot be read as GeoParquet ({_first_line(error)}); the file may be "
            "truncated, or a plain Parquet file without geometry metadata"
        ) from error


def _bounds(geoms: np.ndarray) -> tuple[float, float, float, float]:
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if not present.any():
        return (np.nan, np.nan, np.nan, np.nan)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[present])
    return (float(xmin), float(ymin), float(xmax), float(ymax))


def _check_geometries(
    frame: gpd.GeoDataFrame, source: str, decoded: list[tuple[object, ...]]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Repair invalid polygons; flag null, empty and non-polygonal features.

    `decoded` are the issue rows of repairs made while decoding (curves, unclosed rings).
    """
    # Measuring sits above reading (it uses io.validity): imported here, not at load time.
    from geozones.measure.area import ellipsoidal_area

    geoms = geometry_array(frame)
    labels = frame.index
    null = shapely.is_missing(geoms)
    empty = ~null & shapely.is_empty(geoms)
    non_polygonal = non_polygonal_mask(geoms)
    polygonal = polygonal_mask(geoms)
    invalid = np.zeros(len(geoms), dtype=bool)
    # Proven valid where it can be (large red-line polygons), GEOS for the rest, in threads.
    invalid[polygonal] = ~valid_mask(geoms[polygonal])

    rows: list[tuple[object, ...]] = list(decoded)
    for mask, problem, action in (
        (null, "null geometry", "kept, flagged; no area"),
        (empty, "empty geometry", "kept, flagged; area 0"),
    ):
        rows.extend((label, problem, action, np.nan, np.nan, np.nan) for label in labels[mask])
    if non_polygonal.any():
        kinds = [g.geom_type for g in geoms[non_polygonal]]
        rows.extend(
            (
                label,
                f"non-polygonal: {kind}",
                "kept, flagged; refused where polygons are needed",
                np.nan,
                np.nan,
                np.nan,
            )
            for label, kind in zip(labels[non_polygonal], kinds, strict=True)
        )
        warnings.warn(
            f"{source}: {int(non_polygonal.sum())} feature(s) are not polygons "
            f"({describe_features(labels[non_polygonal], geoms[non_polygonal])}); "
            "area, coverage and conflicts will refuse them",
            GeometryTypeWarning,
            stacklevel=3,
        )
    if invalid.any():
        broken = geoms[invalid]
        reasons = shapely.is_valid_reason(broken)
        no_number = np.char.startswith(reasons.astype(str), "Invalid Coordinate")
        if no_number.any():
            raise CoordinateError(
                f"{source}: feature(s) {describe_features(labels[invalid][no_number])} have "
                "a vertex whose coordinates are not numbers (NaN); fix or remove them at the "
                "source"
            )
        repaired = make_polygonal(broken)
        crs = pyproj.CRS.from_user_input(frame.crs)
        before = ellipsoidal_area(broken, crs)
        after = ellipsoidal_area(repaired, crs)
        rows.extend(
            (label, f"invalid: {reason}", "repaired: made valid, polygonal parts kept", b, a, a - b)
            for label, reason, b, a in zip(labels[invalid], reasons, before, after, strict=True)
        )
        frame = frame.copy()
        geoms = geoms.copy()
        geoms[invalid] = repaired
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
        warnings.warn(
            f"{source}: repaired {int(invalid.sum())} invalid polygon(s) "
            f"({describe_features(labels[invalid])}); the per-feature record with the area "
            "change is in geozones.layer_report(layer).issues",
            GeometryRepairWarning,
            stacklevel=3,
        )
    if null.any() or empty.any():
        warnings.warn(
            f"{source}: {int(null.sum())} null and {int(empty.sum())} empty geometries, kept "
            "and flagged in geozones.layer_report(layer).issues",
            GeometryTypeWarning,
            stacklevel=3,
        )
    issues = pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))
    return frame, issues


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__

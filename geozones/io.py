"""Read the lines as they arrive: any common format, any encoding, a CRS that can be trusted.

:func:`read_layer` is the one door data comes in by. It reads Shapefile, GeoPackage, File
Geodatabase, GeoJSON and FlatGeobuf through pyogrio (GDAL) and GeoParquet through pyarrow,
decides a shapefile's encoding from its bytes when no ``.cpg`` says it, refuses or infers a
missing CRS, checks a declared CRS against the coordinates, and repairs invalid polygons,
recording everything in a :class:`~geozones.quality.LayerReport`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from geozones.area import ellipsoidal_area
from geozones.crs import resolve_crs
from geozones.encoding import check_shapefile_encoding, detect_shapefile_encoding
from geozones.errors import (
    DataSourceError,
    EncodingError,
    EncodingGuessWarning,
    GeometryRepairWarning,
    GeometryTypeWarning,
    LayerNotFoundError,
)
from geozones.quality import ISSUE_COLUMNS, LayerReport
from geozones.validity import (
    describe_features,
    geometry_array,
    make_polygonal,
    non_polygonal_mask,
    polygonal_mask,
)

_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_SHAPEFILE_SUFFIXES = (".shp", ".dbf")


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
        ``attrs["geozones"]`` holds the :class:`~geozones.quality.LayerReport`.

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
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        frame, driver = _read_parquet(path), "Parquet"
        encoding_source = None
    else:
        if path.suffix.lower() in _SHAPEFILE_SUFFIXES:
            _check_shapefile_complete(path)
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
        frame, driver = _read_ogr(path, layer, encoding, source)

    geoms = geometry_array(frame)
    bounds = _bounds(geoms)
    resolved, crs_source = resolve_crs(
        pyproj.CRS.from_user_input(frame.crs) if frame.crs is not None else None,
        bounds,
        crs=crs,
        source=source,
    )
    frame = frame.set_crs(resolved, allow_override=True)
    frame, issues = _check_geometries(frame, source)

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
        validated=pd.Series(geometry_array(frame), index=frame.index),
    )
    frame.attrs["geozones"] = report
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


def _check_shapefile_complete(path: Path) -> None:
    """Refuse a shapefile whose parts are shorter than their headers say.

    GDAL reads a truncated ``.shp`` without an error, returning null geometries; the headers
    record the true lengths, so a cut file is caught here instead.
    """
    for suffix in (".shp", ".shx"):
        part = _sibling(path, suffix)
        if part is None:
            if suffix == ".shx":
                continue  # GDAL can rebuild a missing index; a missing .shp fails below
            raise DataSourceError(f"{path}: the shapefile's {suffix} file is missing")
        size = part.stat().st_size
        with part.open("rb") as file:
            header = file.read(28)
        if len(header) < 28 or int.from_bytes(header[:4], "big") != 9994:
            raise DataSourceError(f"{part}: not a shapefile {suffix} (bad header); re-export it")
        declared = int.from_bytes(header[24:28], "big") * 2
        if size < declared:
            raise DataSourceError(
                f"{part}: truncated: its header says {declared} bytes but the file has {size}; "
                "copy or export it again"
            )
    dbf = _sibling(path, ".dbf")
    if dbf is not None:
        with dbf.open("rb") as file:
            header = file.read(12)
        if len(header) == 12:
            records = int.from_bytes(header[4:8], "little")
            expected = int.from_bytes(header[8:10], "little") + records * int.from_bytes(
                header[10:12], "little"
            )
            if dbf.stat().st_size < expected:
                raise DataSourceError(
                    f"{dbf}: truncated: its header says {records} records "
                    f"({expected} bytes) but the file has {dbf.stat().st_size} bytes; "
                    "copy or export it again"
                )


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
    path: Path, layer: str | int | None, encoding: str | None, source: str
) -> tuple[gpd.GeoDataFrame, str]:
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        frame = pyogrio.read_dataframe(
            path, layer=layer, encoding=encoding, fid_as_index=True, use_arrow=True
        )
    except UnicodeDecodeError as error:
        raise EncodingError(
            f"{source}: attributes cannot be decoded as {encoding} ({error.reason}); pass the "
            "right encoding='…' (GBK and UTF-8 are the usual ones)"
        ) from error
    except LookupError as error:
        raise EncodingError(f"{source}: unknown encoding {encoding!r}") from error
    except Exception as error:
        raise DataSourceError(
            f"{source}: cannot be read ({_first_line(error)}); the file may be truncated "
            "or damaged, or its companion files (.shx, .dbf) missing"
        ) from error
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DataSourceError(f"{source}: holds no geometry column; it is not a spatial layer")
    return frame, str(info.get("driver", "unknown"))


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
    frame: gpd.GeoDataFrame, source: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Repair invalid polygons; flag null, empty and non-polygonal features."""
    geoms = geometry_array(frame)
    labels = frame.index
    null = shapely.is_missing(geoms)
    empty = ~null & shapely.is_empty(geoms)
    non_polygonal = non_polygonal_mask(geoms)
    polygonal = polygonal_mask(geoms)
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[polygonal] = ~shapely.is_valid(geoms[polygonal])

    rows: list[tuple[object, ...]] = []
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

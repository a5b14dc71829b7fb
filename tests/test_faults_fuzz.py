"""The readers fuzzed with mutated files: a geozones error, or every feature accounted for.

Hypothesis damages a small shapefile (bytes overwritten, a part cut short, a header count
changed) and writes GeoJSON with bad coordinates and broken rings. Whatever it makes,
:func:`geozones.read_layer` either raises a :class:`~geozones.GeozonesError` (one line on the
command line) or returns a layer holding every feature the file holds, each geometry problem
recorded in the layer report: never another exception, never a feature lost without a word.
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

import geozones
from geozones.errors import GeozonesError

X, Y = 39_500_000.0, 3_150_000.0
PARTS = (".shp", ".shx", ".dbf")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict[str, bytes]:
    """A shapefile of six parcels (one with a hole), its parts as bytes."""
    folder = tmp_path_factory.mktemp("original")
    parcels = [box(X + 20 * i, Y, X + 20 * i + 15, Y + 15) for i in range(6)]
    parcels[2] = parcels[2].difference(box(X + 44, Y + 4, X + 48, Y + 8))
    layer = gpd.GeoDataFrame(
        {"BSM": [f"p{i}" for i in range(6)], "XZQMC": ["东川区"] * 6, "TBMJ": [225.0] * 6},
        geometry=parcels,
        crs=4527,
    )
    layer.to_file(folder / "parcels.shp", encoding="UTF-8")
    return {
        suffix: (folder / f"parcels{suffix}").read_bytes() for suffix in (*PARTS, ".prj", ".cpg")
    }


def _dbf_records(data: bytes) -> tuple[int, int] | None:
    """Records a .dbf header declares, and how many of them are marked deleted."""
    if len(data) < 12:
        return None
    records = int.from_bytes(data[4:8], "little")
    header, length = int.from_bytes(data[8:10], "little"), int.from_bytes(data[10:12], "little")
    if length == 0:
        return records, 0
    flags = [data[header + i * length : header + i * length + 1] for i in range(records)]
    return records, sum(flag == b"*" for flag in flags)


def _read_or_refused(path: Path, **options: object) -> gpd.GeoDataFrame | None:
    """The layer read, or None if geozones refused it with a one-line error (nothing else)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return geozones.read_layer(path, **options)  # type: ignore[arg-type]
    except GeozonesError as error:
        assert str(error) and "\n" not in str(error)
        return None


def _accounted(layer: gpd.GeoDataFrame) -> None:
    """Every feature without a usable geometry of a layer read is in its report."""
    report = geozones.layer_report(layer)
    assert report is not None and report.feature_count == len(layer)
    geoms = layer.geometry
    assert report.count("null") == int(geoms.isna().sum())
    unusable = set(layer.index[geoms.isna() | geoms.is_empty])  # null, empty, emptied by repair
    assert unusable <= set(report.issues["feature"])


mutations = st.one_of(
    st.tuples(st.just("overwrite"), st.integers(0, 2000), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("cut"), st.integers(0, 2000), st.just(b"")),
    st.tuples(
        st.just("count"),
        st.sampled_from([4, 24]),  # .dbf record count; .shp/.shx file length
        st.integers(0, 2**31 - 1).map(lambda n: n.to_bytes(4, "big")),
    ),
)


def _mutate(data: bytes, kind: str, where: int, value: bytes) -> bytes:
    where = where % max(len(data), 1)
    if kind == "overwrite":
        return data[:where] + value + data[where + len(value) :]
    if kind == "cut":
        return data[:where]
    return data[:where] + value + data[where + 4 :] if len(data) >= where + 4 else data


@FUZZ
@given(part=st.sampled_from(PARTS), mutation=mutations)
def test_a_damaged_shapefile_is_refused_or_read_whole(original, tmp_path_factory, part, mutation):
    folder = tmp_path_factory.mktemp("fuzz")
    for suffix, data in original.items():
        damaged = _mutate(data, *mutation) if suffix == part else data
        (folder / f"parcels{suffix}").write_bytes(damaged)
    layer = _read_or_refused(folder / "parcels.shp")
    if layer is None:
        return
    declared = _dbf_records((folder / "parcels.dbf").read_bytes())
    assert declared is not None
    records, deleted = declared
    assert len(layer) == records - deleted  # every record: read, or deleted and warned about
    _accounted(layer)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_shx_with_trailing_bytes_is_read_whole(original, tmp_path):
    """Found by the fuzzer: bytes after the last whole .shx entry raised a ValueError."""
    for suffix, data in original.items():
        (tmp_path / f"parcels{suffix}").write_bytes(data + b"\0\0\0" if suffix == ".shx" else data)
    layer = _read_or_refused(tmp_path / "parcels.shp")
    assert layer is not None and layer["BSM"].tolist() == [f"p{i}" for i in range(6)]


coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([117.0, 117.01, 30.0, 30.01, 90.0, -90.0, 180.0, -180.0, 1e300]),
)
ring = st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=6)


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


@FUZZ
@given(rings=st.lists(st.lists(ring, min_size=0, max_size=2), min_size=1, max_size=4))
def test_geojson_with_bad_coordinates_is_refused_or_read_whole(tmp_path_factory, rings):
    good = [[117.1, 30.0], [117.11, 30.0], [117.11, 30.01], [117.1, 30.0]]
    features = [
        {
            "type": "Feature",
            "properties": {"nr": 0},
            "geometry": {"type": "Polygon", "coordinates": [good]},
        }
    ]
    for number, polygon in enumerate(rings, start=1):
        coordinates = [[[x, y] for x, y in part] for part in polygon]
        features.append(
            {
                "type": "Feature",
                "properties": {"nr": number},
                "geometry": {"type": "Polygon", "coordinates": coordinates},
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=True)
    text = text.replace("Infinity", "1e999")  # JSON's own way to overflow to infinity
    path = tmp_path_factory.mktemp("geojson") / "layer.geojson"
    path.write_text(text)
    layer = _read_or_refused(path, crs="EPSG:4490")
    if layer is None:
        return
    assert sorted(layer["nr"]) == list(range(len(features)))  # every feature, none dropped
    _accounted(layer)
    measurable = layer[layer.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert np.isfinite(geozones.area(measurable, unit="m2").dropna()).all()


@FUZZ
@given(cut=st.integers(0, 10_000), noise=st.binary(min_size=1, max_size=4))
def test_a_damaged_geopackage_is_refused_or_read_whole(tmp_path_factory, cut, noise):
    folder = tmp_path_factory.mktemp("gpkg")
    path = folder / "layer.gpkg"
    parcels = gpd.GeoDataFrame(
        {"nr": range(4)},
        geometry=[box(X + 20 * i, Y, X + 20 * i + 15, Y + 15) for i in range(4)],
        crs=4527,
    )
    parcels.to_file(path, layer="parcels", driver="GPKG")
    data = path.read_bytes()
    where = cut % len(data)
    path.write_bytes(data[:where] + noise + data[where + len(noise) :])
    layer = _read_or_refused(path)
    if layer is None:
        return
    _accounted(layer)
    assert sorted(layer["nr"]) == [0, 1, 2, 3]

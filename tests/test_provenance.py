"""The layer report and the proof of validity are held beside the geometries, not in attrs."""

from __future__ import annotations

import gc
import weakref

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import Polygon, box

import geozones
from geozones.errors import GeometryRepairWarning
from geozones.io import validity

X, Y = 39_600_000.0, 3_150_000.0
BOWTIE = Polygon([(X, Y), (X + 200, Y + 200), (X + 200, Y), (X, Y + 200)])


def squares(n: int, *, dx: float = 0.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"BSM": [f"B{i:03d}" for i in range(n)]},
        geometry=[box(X + dx + 150 * i, Y, X + dx + 150 * i + 100, Y + 100) for i in range(n)],
        crs=4527,
    )


def read_layer_with_a_bowtie(tmp_path):
    frame = squares(4)
    frame.loc[3, "geometry"] = shapely.affinity.translate(BOWTIE, xoff=1000)
    path = tmp_path / "layer.gpkg"
    pyogrio.write_dataframe(frame, path)
    with pytest.warns(GeometryRepairWarning):
        return geozones.read_layer(path)


@pytest.fixture
def read(tmp_path):
    """A layer of three squares and one bow-tie (repaired on reading), read by read_layer."""
    return read_layer_with_a_bowtie(tmp_path)


def test_the_report_is_not_in_attrs_and_a_slice_has_none(read):
    assert read.attrs == {}
    report = geozones.layer_report(read)
    assert report is not None and report.count("invalid") == 1
    assert geozones.layer_report(read.iloc[:3]) is None  # not the layer's problems
    assert geozones.layer_report(read[read["BSM"] != "B003"]) is None
    # the same features under another index, order or columns: the same report
    assert geozones.layer_report(read.set_index("BSM", drop=False)) is report
    assert geozones.layer_report(read.sort_values("BSM", ascending=False)) is report
    assert geozones.layer_report(read[["geometry"]]) is report


def test_to_crs_result_has_no_report_and_the_original_geometries_go_at_the_next_call(tmp_path):
    read = read_layer_with_a_bowtie(tmp_path)
    first = read.geometry.iloc[0]
    original_geometry, original_array = weakref.ref(first), weakref.ref(read.geometry.array)
    del first
    projected = read.to_crs(4490)
    assert geozones.layer_report(projected) is None
    del read
    gc.collect()
    geozones.area(projected)  # the next geozones call drops the record of the deleted layer
    gc.collect()
    assert original_array() is None
    assert original_geometry() is None
    assert len(projected) == 4


def test_a_layer_read_after_others_goes_too(tmp_path):
    """Records added after a use of the registry are let go like the first."""
    kept = read_layer_with_a_bowtie(tmp_path)
    geozones.area(kept)  # a use of the registry with one record
    with pytest.warns(GeometryRepairWarning):
        later = geozones.read_layer(tmp_path / "layer.gpkg")
    later_geometry = weakref.ref(later.geometry.iloc[0])
    geozones.area(later)
    del later
    gc.collect()
    geozones.area(kept)
    gc.collect()
    assert later_geometry() is None


def test_writers_need_not_clear_anything(read, tmp_path):
    read.to_parquet(tmp_path / "layer.parquet")
    read.to_file(tmp_path / "copy.gpkg", driver="GPKG")
    again = geozones.read_layer(tmp_path / "copy.gpkg")
    report = geozones.layer_report(again)
    assert report is not None and report.feature_count == 4 and report.issues.empty
    back = gpd.read_parquet(tmp_path / "layer.parquet")
    assert back.attrs == {} and len(back) == 4
    assert shapely.equals(np.asarray(back.geometry.array), np.asarray(read.geometry.array)).all()


def test_a_geometry_replaced_in_place_is_checked_again(read):
    assert validity.known_valid(read).all()
    changed = read.copy()
    changed.loc[changed.index[0], "geometry"] = BOWTIE
    with pytest.warns(GeometryRepairWarning, match="repaired 1"):
        result = geozones.area(changed, method="planar")
    assert result.iloc[0] == pytest.approx(20_000)  # the two triangles of the bow-tie
    with pytest.warns(GeometryRepairWarning, match="repaired 1"):  # warned at every call
        geozones.area(changed, method="planar")


def counting(monkeypatch) -> list[int]:
    """Count the geometries GEOS checks for validity."""
    calls: list[int] = []
    original = shapely.lib.is_valid  # what geozones calls (shapely.is_valid is not thread-safe)
    monkeypatch.setattr(
        shapely.lib, "is_valid", lambda geoms: calls.append(len(geoms)) or original(geoms)
    )
    return calls


def layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "farmland": squares(20),
        "redline": squares(20, dx=50),
        "urban": squares(20, dx=75),
    }


def test_find_conflicts_validates_each_layer_once(monkeypatch):
    calls = counting(monkeypatch)
    entries: list[str] = []
    original = validity.checked_polygons

    def entering(data, **options):
        entries.append(options["purpose"])
        return original(data, **options)

    monkeypatch.setattr(validity, "checked_polygons", entering)
    given = layers()
    zones = gpd.GeoDataFrame(
        {"XZQDM": ["990101", "990102"]},
        geometry=[box(X - 10, Y - 10, X + 1500, Y + 110), box(X + 1500, Y - 10, X + 4000, Y + 110)],
        crs=4527,
    )
    first = geozones.find_conflicts(given, zones=zones, zone_field="XZQDM")
    # polygon_array is entered for every layer and the zones; each polygon is checked once
    assert len(entries) >= len(given) + 1
    assert sum(calls) == 62
    calls.clear()
    entries.clear()
    again = geozones.find_conflicts(given, zones=zones, zone_field="XZQDM")
    assert len(entries) >= len(given) + 1
    assert calls == []  # the same layers again: nothing checked
    assert again["area_m2"].tolist() == pytest.approx(first["area_m2"].tolist())
    # each pair of neighbouring squares overlaps by a 50 x 100, 25 x 100 or 75 x 100 strip
    assert len(first) > 0


def test_layers_read_by_read_layer_are_not_checked_again(tmp_path, monkeypatch):
    read = {}
    for name, frame in layers().items():
        pyogrio.write_dataframe(frame, tmp_path / f"{name}.gpkg")
        read[name] = geozones.read_layer(tmp_path / f"{name}.gpkg")
    calls = counting(monkeypatch)
    conflicts = geozones.find_conflicts(read)
    geozones.area(read["farmland"], method="planar")
    assert calls == []
    assert len(conflicts) == len(geozones.find_conflicts(layers()))


def test_area_does_not_prove_again_what_read_layer_checked(tmp_path, monkeypatch):
    from geozones.io import proof

    # a square with a hole and a two-part polygon: the ring pass alone cannot prove them
    with_hole = Polygon(
        box(X, Y, X + 100, Y + 100).exterior, [box(X + 10, Y + 10, X + 20, Y + 20).exterior]
    )
    two_parts = shapely.MultiPolygon(
        [box(X + 200, Y, X + 300, Y + 100), box(X + 400, Y, X + 500, Y + 100)]
    )
    path = tmp_path / "layer.gpkg"
    frame = gpd.GeoDataFrame({"BSM": ["a", "b"]}, geometry=[with_hole, two_parts], crs=4527)
    pyogrio.write_dataframe(frame, path)
    read = geozones.read_layer(path)
    proven: list[int] = []
    original = proof.certainly_valid_rings
    monkeypatch.setattr(
        proof,
        "certainly_valid_rings",
        lambda *args, **options: proven.append(args[-1]) or original(*args, **options),
    )
    assert geozones.area(read).tolist() == pytest.approx([9_900.0, 20_000.0], rel=1e-3)
    assert proven == []  # both were checked at read
    changed = read.copy()
    changed.loc[changed.index[1], "geometry"] = shapely.affinity.translate(two_parts, yoff=1.0)
    assert geozones.area(changed).tolist() == pytest.approx([9_900.0, 20_000.0], rel=1e-3)
    assert proven == [1]  # only the new object

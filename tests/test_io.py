"""read_layer on every format, and on files as they really arrive: GBK, no CRS, broken."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import LineString, Point, Polygon, box

import geozones
from geozones.errors import (
    CRSInferredWarning,
    CRSMismatchError,
    DataSourceError,
    EncodingGuessWarning,
    GeometryRepairWarning,
    GeometryTypeWarning,
    LayerNotFoundError,
    MissingCRSError,
    NonPolygonalGeometryError,
)

X, Y = 39_580_000.0, 3_150_000.0
NAMES = ["东川区", "青溪县", "白石县"]


def parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"BSM": ["1", "2", "3"], "XZQMC": NAMES, "TBMJ": [10_000.0, 20_000.0, 5_000.0]},
        geometry=[
            box(X, Y, X + 100, Y + 100),
            box(X + 200, Y, X + 400, Y + 100),
            box(X + 500, Y, X + 550, Y + 100),
        ],
        crs="EPSG:4527",
    )


FORMATS = {
    "shapefile": ("layer.shp", "ESRI Shapefile"),
    "geopackage": ("layer.gpkg", "GPKG"),
    "geojson": ("layer.geojson", "GeoJSON"),
    "flatgeobuf": ("layer.fgb", "FlatGeobuf"),
    "filegdb": ("layer.gdb", "OpenFileGDB"),
    "geoparquet": ("layer.parquet", "Parquet"),
}


def write(frame: gpd.GeoDataFrame, path: Path, driver: str, **options) -> None:
    if driver == "Parquet":
        frame.to_parquet(path)
    else:
        pyogrio.write_dataframe(frame, path, driver=driver, **options)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_with_crs_attributes_and_report(tmp_path, fmt):
    name, driver = FORMATS[fmt]
    path = tmp_path / name
    write(parcels(), path, driver)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean file gives no warning (the shapefile has a .cpg)
        layer = geozones.read_layer(path)

    assert len(layer) == 3
    assert layer.crs.to_epsg() == 4527
    layer = layer.sort_values("BSM")  # FlatGeobuf's spatial index reorders features
    assert layer["XZQMC"].tolist() == NAMES
    assert geozones.area(layer, method="planar").tolist() == pytest.approx([1e4, 2e4, 5e3])
    report = geozones.layer_report(layer)
    assert report.feature_count == 3
    assert report.crs_source == "declared"
    assert report.issues.empty
    assert "3 features" in report.summary()


def gbk_shapefile_without_cpg(tmp_path: Path) -> Path:
    path = tmp_path / "YJJBNT.shp"
    pyogrio.write_dataframe(parcels(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    return path


def test_gbk_shapefile_without_cpg_is_detected_and_warned(tmp_path):
    path = gbk_shapefile_without_cpg(tmp_path)
    # What a plain reader returns: mojibake.
    assert pyogrio.read_dataframe(path)["XZQMC"].tolist() != NAMES

    with pytest.warns(EncodingGuessWarning, match=r"YJJBNT\.shp.*GBK.*encoding="):
        layer = geozones.read_layer(path)
    assert layer["XZQMC"].tolist() == NAMES
    report = geozones.layer_report(layer)
    assert (report.encoding, report.encoding_guessed) == ("GBK", True)


def test_encoding_argument_overrides_detection(tmp_path):
    path = gbk_shapefile_without_cpg(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = geozones.read_layer(path, encoding="GB18030")
    assert layer["XZQMC"].tolist() == NAMES
    assert geozones.layer_report(layer).encoding_source == "set by caller"


def shapefile_without_prj(tmp_path: Path, frame: gpd.GeoDataFrame | None = None) -> Path:
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(frame if frame is not None else parcels(), path, encoding="UTF-8")
    path.with_suffix(".prj").unlink()
    return path


def test_missing_crs_names_the_suggested_zone(tmp_path):
    path = shapefile_without_prj(tmp_path)
    with pytest.raises(MissingCRSError, match=r"noprj\.shp.*EPSG:4527.*crs=") as caught:
        geozones.read_layer(path)
    assert isinstance(caught.value, ValueError)


def test_crs_infer_accepts_the_suggestion_with_a_warning(tmp_path):
    path = shapefile_without_prj(tmp_path)
    with pytest.warns(CRSInferredWarning, match="4527"):
        layer = geozones.read_layer(path, crs="infer")
    assert layer.crs.to_epsg() == 4527
    assert geozones.layer_report(layer).crs_source == "inferred"


def test_crs_argument_sets_the_crs(tmp_path):
    layer = geozones.read_layer(shapefile_without_prj(tmp_path), crs="EPSG:4527")
    assert layer.crs.to_epsg() == 4527


def test_degrees_without_crs_suggest_cgcs2000_geographic(tmp_path):
    path = shapefile_without_prj(tmp_path, parcels().to_crs("EPSG:4490"))
    with pytest.raises(MissingCRSError, match="EPSG:4490"):
        geozones.read_layer(path)


def test_declared_crs_contradicted_by_coordinates_is_refused(tmp_path):
    path = tmp_path / "wrong.gpkg"
    pyogrio.write_dataframe(parcels().set_crs("EPSG:4490", allow_override=True), path)
    with pytest.raises(CRSMismatchError, match=r"wrong\.gpkg"):
        geozones.read_layer(path)
    # The way out the message gives: name the right CRS.
    assert geozones.read_layer(path, crs="EPSG:4527").crs.to_epsg() == 4527


def test_wrong_zone_prefix_is_refused(tmp_path):
    path = tmp_path / "zone40.gpkg"
    pyogrio.write_dataframe(parcels().set_crs("EPSG:4528", allow_override=True), path)
    with pytest.raises(CRSMismatchError, match="39"):
        geozones.read_layer(path)


def test_invalid_null_and_empty_geometries_are_repaired_or_flagged_never_dropped(tmp_path):
    bowtie = Polygon([(X, Y), (X + 200, Y + 200), (X + 200, Y), (X, Y + 200)])
    frame = gpd.GeoDataFrame(
        {"BSM": ["ok", "bowtie", "null", "empty"]},
        geometry=[box(X, Y, X + 10, Y + 10), bowtie, None, Polygon()],
        crs="EPSG:4527",
    )
    path = tmp_path / "broken.gpkg"
    pyogrio.write_dataframe(frame, path)

    with pytest.warns(GeometryRepairWarning, match="repaired 1 invalid"):
        layer = geozones.read_layer(path)

    assert layer["BSM"].tolist() == ["ok", "bowtie", "null", "empty"]
    issues = geozones.layer_report(layer).issues.set_index("feature")
    by_bsm = dict(zip(layer["BSM"], layer.index, strict=True))
    repaired = issues.loc[by_bsm["bowtie"]]
    assert repaired["problem"].startswith("invalid: Self-intersection")
    # Two triangles of 10,000 m² each after repair; the shoelace of the bow-tie says 0.
    assert repaired["area_after_m2"] == pytest.approx(20_000, rel=1e-3)
    assert repaired["area_before_m2"] == pytest.approx(0, abs=1e-6)
    assert issues.loc[by_bsm["null"], "problem"] == "null geometry"
    assert layer.geometry.loc[by_bsm["bowtie"]].is_valid
    assert np.isnan(geozones.area(layer).loc[by_bsm["null"]])


def test_large_polygons_are_proven_valid_at_read_and_broken_ones_still_repaired(
    tmp_path, monkeypatch
):
    """Large red-line polygons are checked by the compiled proof, not GEOS; nothing slips by."""
    import geozones.io.validity as validity

    angles = np.linspace(0, 2 * np.pi, 4_000, endpoint=False)
    radii = 800 * (1 + 0.3 * np.cos(3 * angles))
    ring = np.column_stack([X + 1_000 + radii * np.cos(angles), Y + 1_000 + radii * np.sin(angles)])
    crossed = ring.copy()
    crossed[[100, 2_100]] = crossed[[2_100, 100]]  # two vertices swapped: edges cross
    frame = gpd.GeoDataFrame(
        {"BSM": ["large", "crossed"]}, geometry=[Polygon(ring), Polygon(crossed)], crs="EPSG:4527"
    )
    path = tmp_path / "large.gpkg"
    pyogrio.write_dataframe(frame, path)
    asked = []
    original = validity._is_valid
    monkeypatch.setattr(validity, "_is_valid", lambda g: asked.append(len(g)) or original(g))

    with pytest.warns(GeometryRepairWarning, match="repaired 1 invalid"):
        layer = geozones.read_layer(path)

    assert sum(asked) == 1  # only the crossed polygon went to GEOS
    issues = geozones.layer_report(layer).issues
    assert len(issues) == 1 and issues["problem"].iloc[0].startswith("invalid:")
    assert layer.geometry.is_valid.all()


def test_points_are_kept_flagged_and_refused_by_area(tmp_path):
    frame = gpd.GeoDataFrame(
        {"BSM": ["a", "b", "c"]},
        geometry=[box(X, Y, X + 10, Y + 10), Point(X, Y), LineString([(X, Y), (X + 1, Y + 1)])],
        crs="EPSG:4527",
    )
    path = tmp_path / "mixed.gpkg"
    pyogrio.write_dataframe(frame, path, geometry_type="Unknown")
    with pytest.warns(GeometryTypeWarning, match="2 feature"):
        layer = geozones.read_layer(path)
    assert len(layer) == 3
    point_fid = layer.index[layer["BSM"] == "b"][0]
    with pytest.raises(NonPolygonalGeometryError, match=rf"{point_fid} \(Point\)"):
        geozones.area(layer)


def test_declared_area_check_lists_the_wrong_parcel(tmp_path):
    frame = parcels()
    frame.loc[1, "TBMJ"] = 23_000.0  # 15 % too much
    found = geozones.check_declared_area(frame, "TBMJ", rel_tol=0.01)
    assert found.index.tolist() == [1]
    # 23,000 against 20,000 m² planar, which is ~1.6e-4 more than the ellipsoidal figure.
    assert found["relative_difference"].iloc[0] == pytest.approx(0.15, abs=5e-4)


# --- broken files ----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(DataSourceError, match=r"nowhere\.shp.*no such file") as caught:
        geozones.read_layer(tmp_path / "nowhere.shp")
    assert isinstance(caught.value, OSError)


@pytest.mark.parametrize("part", [".shp", ".shx", ".dbf"])
def test_truncated_shapefile(tmp_path, part):
    path = tmp_path / "cut.shp"
    pyogrio.write_dataframe(parcels(), path)
    cut = path.with_suffix(part)
    cut.write_bytes(cut.read_bytes()[:-40])
    with pytest.raises(DataSourceError, match=rf"cut\{part}: truncated"):
        geozones.read_layer(path)


def test_not_a_gis_file(tmp_path):
    path = tmp_path / "notes.gpkg"
    path.write_text("this is not a geopackage")
    with pytest.raises(DataSourceError, match=r"notes\.gpkg.*truncated, damaged or not a GIS"):
        geozones.read_layer(path)


def test_truncated_geoparquet(tmp_path):
    path = tmp_path / "cut.parquet"
    parcels().to_parquet(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataSourceError, match=r"cut\.parquet"):
        geozones.read_layer(path)


def test_several_layers_need_a_name_and_a_wrong_name_is_listed(tmp_path):
    path = tmp_path / "lines.gpkg"
    pyogrio.write_dataframe(parcels(), path, layer="STBHHX")
    pyogrio.write_dataframe(parcels(), path, layer="YJJBNT", append=True)
    with pytest.raises(LayerNotFoundError, match="STBHHX, YJJBNT"):
        geozones.read_layer(path)
    with pytest.raises(LayerNotFoundError, match="no layer 'CZKFBJ'"):
        geozones.read_layer(path, "CZKFBJ")
    assert len(geozones.read_layer(path, "YJJBNT")) == 3


def test_empty_layer_reads_as_empty_and_coverage_refuses_it(tmp_path):
    path = tmp_path / "empty.gpkg"
    pyogrio.write_dataframe(parcels().iloc[:0], path, geometry_type="Polygon")
    layer = geozones.read_layer(path)
    assert len(layer) == 0
    with pytest.raises(geozones.EmptyLayerError):
        geozones.coverage(parcels(), layer)


def test_validation_is_not_repeated_for_geometries_read_layer_checked(tmp_path, monkeypatch):
    path = tmp_path / "checked.gpkg"
    pyogrio.write_dataframe(parcels(), path)
    layer = geozones.read_layer(path)
    bowtie = Polygon([(X, Y), (X + 200, Y + 200), (X + 200, Y), (X, Y + 200)])
    calls = []
    original = shapely.lib.is_valid  # what geozones calls (shapely.is_valid is not thread-safe)
    monkeypatch.setattr(shapely.lib, "is_valid", lambda g: calls.append(len(g)) or original(g))
    geozones.area(layer)
    assert calls == []  # every geometry is the object read_layer validated
    # A geometry replaced afterwards is checked (and repaired) again.
    changed = layer.copy()
    changed.loc[changed.index[0], "geometry"] = bowtie
    with pytest.warns(GeometryRepairWarning, match="repaired 1"):
        result = geozones.area(changed, method="planar")
    assert calls == [1]
    assert result.iloc[0] == pytest.approx(20_000)


@pytest.mark.parametrize("wrong", ["UTF-8", "GBX"])
def test_a_wrong_or_unknown_encoding_is_an_error_naming_the_right_one(tmp_path, wrong):
    path = gbk_shapefile_without_cpg(tmp_path)
    with pytest.raises(geozones.EncodingError, match=r"YJJBNT\.shp") as caught:
        geozones.read_layer(path, encoding=wrong)
    if wrong == "UTF-8":
        assert "encoding='GBK'" in str(caught.value)


def test_null_geometry_in_a_geographic_layer_is_nan(tmp_path):
    frame = parcels().to_crs("EPSG:4490")
    frame.loc[1, "geometry"] = None
    result = geozones.area(frame)
    assert np.isnan(result.iloc[1]) and result.iloc[0] == pytest.approx(10_000, rel=1e-3)

"""The shipped sample province: every deliberate defect is found, and the shares check by hand."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import geozones
from geozones.errors import EncodingGuessWarning, GeometryRepairWarning

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
GPKG = SAMPLE / "sanqusanxian.gpkg"


def read(path, layer=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        return geozones.read_layer(path, layer)


@pytest.fixture(scope="module")
def counties():
    return read(GPKG, "XZQ")


@pytest.fixture(scope="module")
def redline():
    return read(GPKG, "STBHHX")


@pytest.fixture(scope="module")
def farmland():
    return read(SAMPLE / "YJJBNT.shp")


def karney(geom) -> float:
    to_lonlat = pyproj.Transformer.from_crs("EPSG:4527", "EPSG:4490", always_xy=True)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    geod = pyproj.Geod(a=6378137.0, rf=298.257222101)
    return abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def test_farmland_arrives_as_gbk_without_cpg_and_is_read_correctly():
    assert not (SAMPLE / "YJJBNT.cpg").exists()
    with pytest.warns(EncodingGuessWarning, match="GBK"):
        farmland = geozones.read_layer(SAMPLE / "YJJBNT.shp")
    assert set(farmland["XZQMC"]) <= {"东川区", "青溪县", "白石县", "西岭区", "云台县", "松山县"}
    assert set(farmland["DLMC"]) <= {"水田", "水浇地", "旱地"}


def test_deliberate_geometry_defects_are_all_reported(farmland):
    issues = geozones.layer_report(farmland).issues
    bsm = farmland["BSM"]
    problems = {bsm[row.feature]: row.problem for row in issues.itertuples()}
    assert problems["NT002309"].startswith("invalid: Self-intersection")  # the bow-tie
    assert problems["NT001277"] == "null geometry"
    assert len(farmland) == 2916  # nothing dropped
    with pytest.warns(GeometryRepairWarning, match="1 invalid"):
        geozones.read_layer(GPKG, "STBHHX")


def test_wrong_declared_areas_are_listed(farmland):
    listed = geozones.check_declared_area(farmland, "TBMJ", rel_tol=0.01)
    found = set(farmland.loc[listed.index, "BSM"])
    assert {"NT002899", "NT000093", "NT001400"} <= found
    # Beyond those, only the bow-tie (declared as intended) and the null parcel.
    assert found - {"NT002899", "NT000093", "NT001400"} == {"NT002309", "NT001277"}


def test_red_line_share_of_the_province_checks_by_hand(counties, redline):
    levels = ("county", "city", "province")
    shares = geozones.coverage(
        redline, counties, by="XZQDM", unit="m2", levels=levels, xy_tolerance=0
    )
    # By hand: dissolve the (repaired) red line, clip to the province, Karney's area.
    province = shapely.union_all(counties.geometry.to_numpy())
    dissolved = shapely.union_all(redline.geometry.to_numpy())
    expected_covered = karney(shapely.intersection(dissolved, province))
    expected_province = karney(province)
    row = shares.loc["990000"]
    assert row["zone_area"] == pytest.approx(expected_province, rel=1e-9)
    assert row["covered_area"] == pytest.approx(expected_covered, rel=1e-9)
    assert row["percent"] == pytest.approx(100 * expected_covered / expected_province, rel=1e-9)
    # At the default 1 mm tolerance the tessellated area's phantom overlaps (README #17) are
    # not dissolved: the covered area exceeds the exact one by their area (to 1 %: areas with
    # geodesic edges of slivers under a millimetre wide do not quite add up).
    default = geozones.coverage(redline, counties, by="XZQDM", unit="m2", levels=levels)
    phantoms = default.attrs["phantoms"]
    assert phantoms["count"] == 20
    extra = default.loc["990000", "covered_area"] - row["covered_area"]
    assert extra == pytest.approx(phantoms["area_m2"], rel=1e-2)


def test_demo_writes_the_coverage_tables(tmp_path):
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "coverage_demo.py"), str(SAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "decoded as GBK" in run.stdout
    coverage = pd.read_csv(tmp_path / "coverage.csv", dtype={"zone": str})
    assert set(coverage["line"]) == {"redline", "farmland", "urban"}
    for _, rows in coverage.groupby("line"):
        counties = rows[rows["level"] == "county"]
        province = rows[rows["level"] == "province"].iloc[0]
        assert counties["covered_area_km2"].sum() == pytest.approx(province["covered_area_km2"])
    # A second run refuses to overwrite without --overwrite.
    again = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "coverage_demo.py"), str(SAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 2
    assert "--overwrite" in again.stderr


def test_the_tessellated_red_line_gives_phantoms_not_conflicts(redline):
    """README #17: 12 polygons whose shared vertices were digitised separately."""
    redline = redline.set_index("BSM")
    pieces = ["HX012", *(f"HX{n:03d}" for n in range(41, 52))]
    conflicts = geozones.find_conflicts({"redline": redline}, keep_phantoms=True)
    phantoms = conflicts[conflicts["phantom"]]
    genuine = conflicts[~conflicts["phantom"]]
    # The one genuine overlap inside the red line is the deliberate pair (#2).
    assert genuine[["id_a", "id_b"]].to_numpy().tolist() == [["HX021", "HX022"]]
    assert len(phantoms) == conflicts.attrs["phantoms"]["count"] == 20
    assert set(phantoms["id_a"]) | set(phantoms["id_b"]) <= set(pieces)
    # Every phantom is thinner than 1 mm: no circle of that diameter fits in any part.
    for piece in phantoms.geometry:
        for part in shapely.get_parts(piece):
            assert 2 * shapely.maximum_inscribed_circle(part, 1e-7).length < 0.001
    # Compared exactly, they are 20 more conflicts.
    exact = geozones.find_conflicts({"redline": redline}, xy_tolerance=0)
    assert len(exact) == 21

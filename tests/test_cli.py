"""The geozones command line: each subcommand, its outputs, its errors and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely import box

import geozones
from geozones.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CONFIG = SAMPLE / "geozones.toml"


def run(*args: str, expect: int = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == expect, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    return result


def test_version_and_help():
    assert "geozones, version" in run("--version").output
    assert "three control lines" in run("--help").output
    for command in ("info", "check", "stats", "conflicts", "report", "site-check"):
        assert "Usage" in run(command, "--help").output


def test_info_reports_the_guessed_encoding_and_repairs_as_json():
    described = json.loads(run("info", SAMPLE / "YJJBNT.shp", "--json").stdout)
    (layer,) = described
    assert layer["features"] == 2916
    assert (layer["encoding"], layer["encoding_guessed"]) == ("GBK", True)
    assert layer["crs"] == "EPSG:4527"
    assert layer["invalid_repaired"] == 1 and layer["null"] == 1


def test_info_lists_every_layer_of_a_geopackage():
    described = json.loads(run("info", SAMPLE / "sanqusanxian.gpkg", "--json").stdout)
    assert [d["source"].split("layer ")[-1].rstrip(")") for d in described] == [
        "XZQ",
        "STBHHX",
        "CZKFBJ",
        "ZRBHD_HXQ",
    ]


def test_missing_file_is_exit_2_with_a_message_not_a_traceback(tmp_path):
    result = run("info", tmp_path / "nowhere.shp", expect=2)
    assert "Error:" in result.stderr and "nowhere.shp" in result.stderr


def no_prj_shapefile(folder: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"BSM": ["1"]}, geometry=[box(39_580_000, 3_150_000, 39_580_100, 3_150_100)], crs=4527
    )
    path = folder / "noprj.shp"
    pyogrio.write_dataframe(frame, path)
    path.with_suffix(".prj").unlink()
    return path


def test_check_refuses_a_file_without_crs_and_accepts_with_infer(tmp_path):
    path = no_prj_shapefile(tmp_path)
    result = run("check", SAMPLE / "YJJBNT.shp", path, expect=2)
    assert "REFUSED" in result.stdout and "MissingCRSError" in result.stdout
    assert "EPSG:4527" in result.stdout
    result = run("check", path, "--crs", "infer", "--json")
    (checked,) = json.loads(result.stdout)
    assert checked["status"] == "repaired or guessed"
    assert checked["crs"] == "EPSG:4527"


def test_stats_json_rows_add_up():
    rows = json.loads(run("-q", "stats", CONFIG, "--format", "json").stdout)
    redline = [row for row in rows if row["line"] == "redline"]
    counties = [row for row in redline if row["level"] == "county"]
    (province,) = [row for row in redline if row["level"] == "province"]
    assert sum(row["covered_area_mu"] for row in counties) == pytest.approx(
        province["covered_area_mu"]
    )
    # Independently: the library's coverage on the same layers.
    config = geozones.load_config(CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers, zones = config.read_layers(), config.read_zones()
        expected = geozones.coverage(layers["redline"], zones, by="XZQDM", unit="mu")
    assert province["covered_area_mu"] == pytest.approx(expected["covered_area"].sum(), rel=1e-12)


def test_conflicts_writes_a_geopackage_and_fails_on_request(tmp_path):
    output = tmp_path / "conflicts.gpkg"
    result = run("-q", "conflicts", CONFIG, "-o", output, "--json")
    summary = json.loads(result.stdout)
    layers = [name for name, _ in pyogrio.list_layers(output)]
    assert {"conflicts", "overlap_count", "summary"} <= set(layers)
    assert len(pyogrio.read_dataframe(output, layer="conflicts")) == summary["pieces"]
    # Nothing is overwritten unless asked: a usage error.
    assert "--overwrite" in run("conflicts", CONFIG, "-o", output, expect=2).stderr
    run("-q", "conflicts", CONFIG, "-o", output, "--overwrite", "--fail-on-conflict", expect=1)


def test_conflicts_state_the_tolerance_and_count_the_phantoms(tmp_path):
    # The sample's tessellated red-line area (sample_data/README.md #17): 20 phantoms.
    output = tmp_path / "conflicts.gpkg"
    summary = json.loads(run("-q", "conflicts", CONFIG, "-o", output, "--json").stdout)
    assert summary["xy_tolerance"] == 0.001
    assert summary["phantoms"]["count"] == 20
    assert summary["phantoms"]["area_m2"] == pytest.approx(0.72, abs=0.01)
    by_layers = {(r["layer_a"], r["layer_b"]): r["count"] for r in summary["phantoms"]["by_layers"]}
    assert by_layers[("redline", "redline")] == 20
    exact = json.loads(
        run(
            "-q", "conflicts", CONFIG, "-o", output, "--overwrite", "--json", "--xy-tolerance", "0"
        ).stdout
    )
    assert exact["xy_tolerance"] == 0.0 and exact["phantoms"]["count"] == 0
    assert exact["pieces"] == summary["pieces"] + 20
    text = run("conflicts", CONFIG, "-o", output, "--overwrite").stdout
    assert "20 phantom overlap(s) thinner than 0.001 m dismissed" in text
    rows = json.loads(run("-q", "stats", CONFIG, "--format", "json").stdout)
    assert {row["xy_tolerance"] for row in rows} == {0.001}


@pytest.mark.parametrize("value", ["-1", "nan", "5"])
def test_a_bad_tolerance_is_a_usage_error(tmp_path, value):
    result = run(
        "conflicts", CONFIG, "-o", tmp_path / "out.gpkg", "--xy-tolerance", value, expect=2
    )
    assert "--xy-tolerance" in result.stderr
    assert not (tmp_path / "out.gpkg").exists()


def test_site_check_batch_and_fail_on_conflict(tmp_path):
    x, y = 39_600_000, 3_160_000
    farmland = gpd.read_file(SAMPLE / "YJJBNT.shp", encoding="GBK").dropna(subset=["geometry"])
    parcel = farmland.geometry.iloc[10]
    projects = gpd.GeoDataFrame(
        {"name": ["on farmland", "far away"]},
        geometry=[parcel.buffer(-1), box(x - 10, y - 10, x, y)],
        crs=4527,
    )
    path = tmp_path / "projects.gpkg"
    projects.to_file(path)
    rows = json.loads(run("-q", "site-check", path, CONFIG, "--json", "--unit", "m2").stdout)
    assert rows[0]["verdict"] == "fail" and rows[0]["farmland_m2"] > 0
    assert rows[0]["xy_tolerance"] == 0.001
    run("-q", "site-check", path, CONFIG, "--fail-on-conflict", expect=1)


def test_bad_config_names_the_key(tmp_path):
    broken = tmp_path / "geozones.toml"
    text = CONFIG.read_text(encoding="utf-8").replace('unit = "mu"', 'unit = "acre"', 1)
    broken.write_text(text, encoding="utf-8")
    for name in ("sanqusanxian.gpkg", "YJJBNT.shp"):
        (tmp_path / name).symlink_to(SAMPLE / name)
    result = run("stats", broken, expect=2)
    assert "unit" in result.stderr and "acre" in result.stderr


def test_report_refuses_to_overwrite_and_sanitises_county_names(two_counties, tmp_path):
    pytest.importorskip("geozones.report.excel")
    pytest.importorskip("geozones.report.html")
    # the sample over two counties, without rasters and blocks: file names do not depend on
    # them, and each county's report takes time
    data = tmp_path / "data"
    shutil.copytree(two_counties.parent, data)
    zones = gpd.read_file(data / "sanqusanxian.gpkg", layer="XZQ")
    zones["XZQMC"] = zones["XZQDM"].map({"990121": "../../x", "990222": "a/b"})
    zones.to_file(data / "sanqusanxian.gpkg", layer="XZQ", driver="GPKG")
    config = data / two_counties.name
    output = tmp_path / "out"
    run("-q", "report", config, "-o", output, "--by", "county")
    written = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
    assert all(".." not in part for name in written for part in name.split("/"))
    assert any(name.startswith("990121_x/") for name in written)
    assert any(name.startswith("990222_a_b/") for name in written)
    assert not (tmp_path / "x").exists()
    # --overwrite and --fail-on-conflict together: docs/howto/province-report.md runs them
    assert "--overwrite" in run("report", config, "-o", output, expect=2).stderr


def _geodesic_area_m2(polygon, crs=4527) -> float:
    """Ellipsoidal area of a polygon with straight edges in `crs`: densify to 1 m, then Karney."""
    import numpy as np
    import pyproj

    dense = polygon.segmentize(1.0)
    to_lonlat = pyproj.Transformer.from_crs(crs, 4490, always_xy=True)
    lon, lat = to_lonlat.transform(*np.asarray(dense.exterior.coords).T)
    return abs(pyproj.Geod(ellps="GRS80").polygon_area_perimeter(lon, lat)[0])


def test_stats_prints_fixed_point_numbers_and_the_area_outside_every_zone(tmp_path):
    # a 20 km county in m²: 4e8 m², which pandas would print as 4.000000e+08
    x, y = 39_500_000.0, 3_150_000.0
    county = box(x, y, x + 20_000, y + 20_000)
    inside = box(x + 100, y + 100, x + 400, y + 400)
    crossing = box(x + 19_900, y + 100, x + 20_100, y + 300)  # half of it east of the county
    data = tmp_path / "lines.gpkg"
    frame = gpd.GeoDataFrame
    frame({"XZQDM": ["990102"]}, geometry=[county], crs=4527).to_file(data, layer="XZQ")
    frame({"BSM": ["f0", "f1"]}, geometry=[inside, crossing], crs=4527).to_file(data, layer="NT")
    for layer, corner in (("HX", 5_000), ("KF", 10_000)):
        square = box(x + corner, y + corner, x + corner + 500, y + corner + 500)
        frame({"BSM": ["a"]}, geometry=[square], crs=4527).to_file(data, layer=layer)
    config = tmp_path / "check.toml"
    layers = (("farmland", "NT"), ("redline", "HX"), ("urban", "KF"))
    config.write_text(
        'unit = "m2"\n[zones]\npath = "lines.gpkg"\nlayer = "XZQ"\ncode_field = "XZQDM"\n'
        + "".join(f'[layers.{k}]\npath = "lines.gpkg"\nlayer = "{n}"\n' for k, n in layers),
        encoding="utf-8",
    )
    text = run("-q", "stats", config).stdout
    assert not re.search(r"\de[+-]\d", text), text
    rows = [line.split() for line in text.splitlines()]
    (county_row,) = [row for row in rows if row[:1] == ["farmland"] and "county" in row]
    numbers = [float(value) for value in county_row if re.fullmatch(r"-?\d+\.\d{4}", value)]
    zone_area, covered = _geodesic_area_m2(county), _geodesic_area_m2(inside)
    covered += _geodesic_area_m2(box(x + 19_900, y + 100, x + 20_000, y + 300))
    assert numbers[0] == pytest.approx(zone_area, abs=1e-3)
    assert numbers[1] == pytest.approx(covered, abs=1e-3)
    outside = _geodesic_area_m2(box(x + 20_000, y + 100, x + 20_100, y + 300))
    assert f"farmland {outside:,.2f} m2" in text
    table = run("-q", "stats", config, "--format", "csv").stdout
    assert not re.search(r"\de[+-]\d", table), table

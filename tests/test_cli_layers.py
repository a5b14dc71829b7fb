"""The subcommands programs drive (the QGIS plugin): area, coverage, resolve, blocks, site-check's
GeoPackage, check --layer, capabilities and --progress-json. Each output is compared with the
library's own result computed here, and the simple cases with figures worked out by hand."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from shapely import box

import geozones
from geozones.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CONFIG = SAMPLE / "geozones.toml"
GPKG = SAMPLE / "sanqusanxian.gpkg"
FARMLAND = SAMPLE / "YJJBNT.shp"
MU = 2000.0 / 3.0


def run(*args: object, expect: int = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == expect, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    return result


def read(path: Path, **kwargs) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(path, **kwargs)


@pytest.fixture(scope="module")
def sample() -> dict[str, gpd.GeoDataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "farmland": geozones.read_layer(FARMLAND),
            "redline": geozones.read_layer(GPKG, "STBHHX"),
            "counties": geozones.read_layer(GPKG, "XZQ"),
        }


def test_capabilities_lists_commands_methods_and_units():
    offered = json.loads(run("capabilities", "--json").stdout)
    assert {"area", "coverage", "resolve", "blocks", "conflicts", "report", "site-check"} <= set(
        offered["commands"]
    )
    assert "capabilities" in offered["commands"]
    assert offered["area_methods"][0] == "ellipsoidal"
    assert {"planar", "geodesic"} <= set(offered["area_methods"])
    units = {unit["key"]: unit["zh"] for unit in offered["units"]}
    assert units["mu"] == "亩" and units["wan_ha"] == "万公顷"
    assert offered["levels"] == ["county", "city", "province"]
    assert offered["version"] == geozones.__version__
    assert "area methods: ellipsoidal" in run("capabilities").stdout


def test_progress_json_lines_on_stderr(tmp_path):
    result = run("--progress-json", "area", FARMLAND, "-o", tmp_path / "a.gpkg", "--json")
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    fractions = [event["progress"] for event in events]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and len(fractions) >= 3
    assert all(isinstance(event["message"], str) and event["message"] for event in events)
    # the warnings stay one-line messages beside them
    assert any(line.startswith("warning: ") for line in result.stderr.splitlines())
    quiet = run("area", FARMLAND, "-o", tmp_path / "b.gpkg", "--json")
    assert not any(line.startswith("{") for line in quiet.stderr.splitlines())


def test_area_of_a_hand_measured_square(tmp_path):
    x, y = 39_500_000, 3_150_000
    squares = gpd.GeoDataFrame(
        {"BSM": ["a", "b"]},
        geometry=[box(x, y, x + 100, y + 100), box(x, y + 200, x + 300, y + 400)],
        crs=4527,
    )
    source = tmp_path / "squares.gpkg"
    pyogrio.write_dataframe(squares, source, layer="squares")
    out = tmp_path / "out.gpkg"
    summary = json.loads(
        run("area", source, "-o", out, "--unit", "mu", "--method", "planar", "--json").stdout
    )
    assert summary["field"] == "area_mu" and summary["layer"] == "squares"
    written = read(out, layer="squares")
    assert written["BSM"].tolist() == ["a", "b"]
    # 100 m × 100 m = 10,000 m² = 15 亩; 300 m × 200 m = 60,000 m² = 90 亩
    np.testing.assert_allclose(written["area_mu"], [15.0, 90.0], rtol=1e-12)
    assert summary["total"] == pytest.approx(105.0, rel=1e-12)
    assert (
        "planar area in mu (亩)"
        in pyogrio.read_info(out, layer="squares")["layer_metadata"]["DESCRIPTION"]
    )


def test_area_keeps_every_feature_and_matches_the_library(tmp_path, sample):
    out = tmp_path / "farmland.gpkg"
    run("area", FARMLAND, "-o", out, "--unit", "mu", "--field", "MJ_MU")
    written = read(out)
    expected = geozones.area(sample["farmland"], unit="mu")
    assert len(written) == len(sample["farmland"]) == 2916
    assert written["BSM"].tolist() == sample["farmland"]["BSM"].tolist()
    assert written["XZQMC"].iloc[0] == sample["farmland"]["XZQMC"].iloc[0]  # GBK decoded
    np.testing.assert_array_equal(written["MJ_MU"].to_numpy(), expected.to_numpy())
    assert written["MJ_MU"].isna().sum() == 1  # the null geometry, kept
    # an existing output is refused without --overwrite, then replaced with it
    result = run("area", FARMLAND, "-o", out, expect=2)
    assert "--overwrite" in result.stderr
    run("area", FARMLAND, "-o", out, "--overwrite")
    assert "area_m2" in read(out).columns
    # a field name that exists already is refused
    clash = run("area", FARMLAND, "-o", tmp_path / "x.gpkg", "--field", "TBMJ", expect=2)
    assert "TBMJ" in clash.stderr


def test_coverage_table_and_zone_layer_match_the_library(tmp_path, sample):
    out = tmp_path / "coverage.gpkg"
    args = ["--layer", "STBHHX", "--zones-layer", "XZQ", "--by", "XZQDM"]
    run("coverage", GPKG, GPKG, *args, "--name-field", "XZQMC", "--roll-up", "-o", out)
    table = read(out, layer="coverage")
    expected = geozones.coverage(
        sample["redline"],
        sample["counties"],
        by="XZQDM",
        unit="km2",
        levels=("county", "city", "province"),
    )
    assert table["zone"].tolist() == expected.index.tolist()
    assert table["level"].tolist() == expected["level"].tolist()
    np.testing.assert_array_equal(table["covered_area_km2"], expected["covered_area"])
    np.testing.assert_array_equal(table["zone_area_km2"], expected["zone_area"])
    np.testing.assert_array_equal(table["percent"], expected["percent"])
    assert table.loc[table["zone"] == "990121", "name"].item() == "青溪县"
    # the rows add up: counties to cities to the province
    county = table[table["level"] == "county"]
    province = table[table["level"] == "province"]
    assert county["covered_area_km2"].sum() == pytest.approx(
        province["covered_area_km2"].item(), rel=1e-12
    )
    zones = read(out, layer="zones")
    assert zones["XZQDM"].tolist() == sample["counties"]["XZQDM"].tolist()
    by_code = expected[expected["level"] == "county"]
    np.testing.assert_array_equal(
        zones["percent"], by_code.loc[zones["XZQDM"], "percent"].to_numpy()
    )


def test_coverage_and_resolve_state_the_tolerance(tmp_path, sample):
    # The sample's tessellated red-line area (sample_data/README.md #17) has 20 phantoms.
    args = ["--layer", "STBHHX", "--zones-layer", "XZQ", "--by", "XZQDM", "--json"]
    shares = json.loads(run("coverage", GPKG, GPKG, *args, "-o", tmp_path / "c.gpkg").stdout)
    assert shares["xy_tolerance"] == 0.001 and shares["phantoms"]["count"] == 20
    exact = json.loads(
        run("coverage", GPKG, GPKG, *args, "--xy-tolerance", "0", "-o", tmp_path / "e.gpkg").stdout
    )
    assert exact["xy_tolerance"] == 0.0 and exact["phantoms"]["count"] == 0
    expected = geozones.coverage(sample["redline"], sample["counties"], by="XZQDM", xy_tolerance=0)
    covered = [row["covered_area_km2"] for row in exact["rows"]]
    np.testing.assert_array_equal(covered, expected["covered_area"].to_numpy())
    summary = json.loads(run("resolve", CONFIG, "-o", tmp_path / "r.gpkg", "--json").stdout)
    assert summary["xy_tolerance"] == 0.001
    # The phantoms the library's resolution dismisses on the same configuration.
    config = geozones.load_config(CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = config.read_layers()
        _, audit = geozones.resolve_conflicts(
            layers, config.priority, overrides=config.overrides_for_resolve(layers)
        )
    assert summary["phantoms"] == audit.attrs["phantoms"]
    bad = run("resolve", CONFIG, "-o", tmp_path / "b.gpkg", "--xy-tolerance", "-1", expect=2)
    assert "--xy-tolerance" in bad.stderr


def test_coverage_refuses_an_unknown_name_field(tmp_path):
    args = ["--layer", "STBHHX", "--zones-layer", "XZQ", "--by", "XZQDM"]
    result = run(
        "coverage", GPKG, GPKG, *args, "--name-field", "NOPE", "-o", tmp_path / "b.gpkg", expect=2
    )
    assert "NOPE" in result.stderr
    assert not (tmp_path / "b.gpkg").exists()


def test_resolve_writes_every_feature_and_the_audit(tmp_path):
    out = tmp_path / "resolved.gpkg"
    summary = json.loads(run("resolve", CONFIG, "-o", out, "--json").stdout)
    config = geozones.load_config(CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = config.read_layers()
        layers = {
            key: frame.set_index(frame[config.layers[key].id_field].astype(str), drop=False)
            for key, frame in layers.items()
        }
        resolved, audit = geozones.resolve_conflicts(
            layers,
            config.priority,
            overrides=config.overrides_for_resolve(layers),
            min_area_m2=config.sliver_m2,
            zones=config.read_zones(),
            zone_field="XZQDM",
        )
    assert [name for name, _ in pyogrio.list_layers(out)] == [
        "resolved_farmland",
        "resolved_redline",
        "resolved_urban",
        "audit",
    ]
    for key, frame in resolved.items():
        written = read(out, layer=f"resolved_{key}")
        assert written["feature"].tolist() == frame.index.tolist()
        assert written["resolution"].tolist() == frame["resolution"].tolist()
        np.testing.assert_array_equal(written["taken_m2"], frame["taken_m2"])
    written_audit = read(out, layer="audit")
    assert len(written_audit) == len(audit) == summary["pieces"]
    assert written_audit["feature"].tolist() == audit["feature"].astype(str).tolist()
    np.testing.assert_array_equal(written_audit["area_m2"], audit["area_m2"])
    np.testing.assert_allclose(written_audit["area_mu"], audit["area_m2"] / MU, rtol=1e-15)
    taken = audit[audit["taken"]]
    for key in resolved:
        assert summary["taken_m2"][key] == pytest.approx(
            taken.loc[taken["layer"] == key, "area_m2"].sum(), rel=1e-12
        )
    # the core-zone exception took farmland out although no red line is there
    assert any(rule.startswith("override 核心保护区内耕地调出") for rule in written_audit["rule"])


def test_blocks_layers_match_the_library(tmp_path, sample):
    out = tmp_path / "blocks.gpkg"
    zones = ["--zones", GPKG, "--zones-layer", "XZQ", "--by", "XZQDM"]
    result = run("blocks", FARMLAND, *zones, "--gap-m", "9", "-o", out, "--json")
    summary = json.loads(result.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.farmland_blocks(
            sample["farmland"], tolerance_m=9, zones=sample["counties"], zone_field="XZQDM"
        )
    # the sample's README: 30 blocks, 1 万亩方, 8 千亩方, 16 百亩方 and 5 smaller
    assert summary["classes"] == {"万亩方": 1, "千亩方": 8, "百亩方": 16, "<100亩": 5}
    blocks = read(out, layer="blocks")
    assert blocks["block"].tolist() == expected.blocks.index.tolist()
    np.testing.assert_array_equal(blocks["area_mu"], expected.blocks["area_mu"])
    assert blocks["class"].tolist() == expected.blocks["class"].astype(str).tolist()
    parcels = read(out, layer="parcels")
    assert len(parcels) == 2916
    assert parcels["BSM"].tolist() == sample["farmland"]["BSM"].tolist()
    assert parcels["block"].astype("Int64").tolist() == expected.parcel_block.tolist()
    skipped = read(out, layer="skipped")
    assert skipped["BSM"].tolist() == ["NT001277"] and skipped["reason"].item() == "null geometry"
    # every parcel is in a block or skipped; block areas are the sums of their parcels'
    assert parcels["block"].notna().sum() + len(skipped) == 2916
    per_block = parcels.groupby("block")["area_m2"].sum()
    np.testing.assert_allclose(
        per_block.loc[blocks["block"]].to_numpy(), blocks["area_m2"], rtol=1e-12
    )
    result = run("blocks", FARMLAND, "--by", "XZQDM", "-o", tmp_path / "x.gpkg", expect=2)
    assert "--zones" in result.stderr


def test_site_check_writes_the_checked_footprint(tmp_path):
    x, y = 39_600_000, 3_160_000
    footprint = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[box(x, y, x + 100, y + 100), box(39_617_300, 3_147_300, 39_617_600, 3_147_600)],
        crs=4527,
    )
    source = tmp_path / "project.gpkg"
    pyogrio.write_dataframe(footprint, source)
    out = tmp_path / "checked.gpkg"
    records = json.loads(run("site-check", source, CONFIG, "-o", out, "--json").stdout)
    written = read(out, layer="site_check")
    assert written["name"].tolist() == ["a", "b"]
    assert written["verdict"].tolist() == [r["verdict"] for r in records]
    for column in ("farmland_area", "redline_area", "outside_urban_area", "area"):
        assert written[f"{column}_mu"].tolist() == [r[column] for r in records]
    assert written["redline_hit"].tolist() == [",".join(r["redline_hit"]) for r in records]
    assert written["farmland_hit"].iloc[1].split(",") == records[1]["farmland_hit"]
    # the 100 m square takes 15 亩 (planar 10,000 m²; ellipsoidal within 3e-4 of it)
    assert written["area_mu"].iloc[0] == pytest.approx(15.0, rel=3e-4)
    run("site-check", source, CONFIG, "-o", out, expect=2)


def test_check_only_the_layers_named(tmp_path):
    checked = json.loads(
        run("check", GPKG, FARMLAND, "--layer", "STBHHX", "--layer", "XZQ", "--json").stdout
    )
    assert [c["source"] for c in checked] == [
        f"{GPKG} (layer XZQ)",
        f"{GPKG} (layer STBHHX)",
        str(FARMLAND),
    ]
    assert [c["status"] for c in checked] == ["ok", "repaired or guessed", "repaired or guessed"]
    result = run("check", GPKG, "--layer", "NOPE", expect=2)
    assert "NOPE" in result.stderr


def test_python_dash_m_runs_the_command_line():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "geozones", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("geozones, version")


def test_frames_with_pandas_index_are_not_written(tmp_path):
    from geozones.cli.layerio import write_layers

    frame = pd.DataFrame({"a": [1, 2]}, index=["x", "y"])
    write_layers(tmp_path / "t.gpkg", {"t": frame})
    assert read(tmp_path / "t.gpkg", layer="t").columns.tolist() == ["a"]


def test_area_by_the_survey_formula_densified(tmp_path):
    # A long slanted parcel 150 km from the meridian: raw, densified at 70 m and exact give
    # three different 0.01 m² figures; the CLI writes the library's.
    e, n = 39_650_000, 3_300_000
    parcel = gpd.GeoDataFrame(
        {"BSM": ["p"]},
        geometry=[
            shapely.Polygon([(e, n), (e + 6000, n + 3000), (e + 5900, n + 3400), (e, n + 250)])
        ],
        crs=4527,
    )
    source = tmp_path / "parcel.gpkg"
    pyogrio.write_dataframe(parcel, source, layer="parcel")
    figures = {}
    for name, options in {
        "raw": ["--method", "survey"],
        "dense": ["--method", "survey", "--densify-m", "70"],
        "exact": [],
    }.items():
        out = tmp_path / f"{name}.gpkg"
        summary = json.loads(run("area", source, "-o", out, *options, "--json").stdout)
        figures[name] = read(out, layer="parcel")["area_m2"].iloc[0]
        assert summary["area_method"] == (options[1] if options else "ellipsoidal")
    assert figures["raw"] == geozones.area(parcel, method="survey").iloc[0]
    assert figures["dense"] == geozones.area(parcel, method="survey", densify_m=70).iloc[0]
    assert len({round(value, 2) for value in figures.values()}) == 3
    wrong = run("area", source, "-o", tmp_path / "w.gpkg", "--densify-m", "70", expect=2)
    assert "--method survey only" in wrong.output + wrong.stderr


def test_stats_by_the_survey_formula_names_its_method(tmp_path):
    rows = json.loads(run("-q", "stats", CONFIG, "--format", "json", "--method", "survey").stdout)
    assert {row["area_method"] for row in rows} == {"survey"}
    assert {row["densify_m"] for row in rows} == {None}
    exact = json.loads(run("-q", "stats", CONFIG, "--format", "json").stdout)
    assert {row["area_method"] for row in exact} == {"ellipsoidal"}
    (province,) = [r for r in rows if r["level"] == "province" and r["line"] == "redline"]
    (province_exact,) = [r for r in exact if r["level"] == "province" and r["line"] == "redline"]
    # The sample's red line has short edges: the two conventions agree to ~1e-8.
    assert province["covered_area_mu"] == pytest.approx(province_exact["covered_area_mu"], rel=1e-6)
    assert province["covered_area_mu"] != province_exact["covered_area_mu"]
    text = run("stats", CONFIG, "--method", "survey", "--densify-m", "70").stdout
    assert "areas: survey, edges densified to 70 m" in text

"""The comparison on the sample province, its files (workbook, GeoPackage, HTML) and its CLI."""

from __future__ import annotations

import json
import math
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

import geozones
from geozones.analysis.compare import compare_versions
from geozones.cli import cli
from geozones.report.compare import (
    comparison_report,
    render_comparison_html,
    write_comparison,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
MU = 2000.0 / 3.0

# The edits sample_data/README.md lists (scripts/make_sample_data.py asserts them).
REMOVED = {"NT900001", "NT900002", "NT900003"}
TRIMMED = {"NT001694", "NT001695", "NT001700", "NT001711"}
ADDED = {"NT001817", "NT001818", "NT001819", "NT001821", "NT001822", "NT001826", "NT001827"}
MERGED = (("NT001710", "NT900004"), ("NT001710",))
SPLIT = (("NT001699",), ("NT001698", "NT001699"))
RELABELLED = "NT001709"


def karney(geom: shapely.Geometry) -> float:
    to_lonlat = pyproj.Transformer.from_crs("EPSG:4527", "EPSG:4490", always_xy=True)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    geod = pyproj.Geod(a=6378137.0, rf=298.257222101)
    return abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def read(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        return geozones.read_layer(path, layer)


@pytest.fixture(scope="module")
def versions() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return (
        read(SAMPLE / "YJJBNT_before.shp"),
        read(SAMPLE / "YJJBNT.shp"),
        read(SAMPLE / "sanqusanxian.gpkg", "XZQ"),
    )


@pytest.fixture(scope="module")
def diff(versions):
    before, after, counties = versions
    return compare_versions(
        before, after, zones=counties, zone_field="XZQDM", id_field="BSM", unit="m2"
    )


def by_bsm(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return frame.set_index("BSM").geometry


# --------------------------------------------------------------------------------------------
# The sample province
# --------------------------------------------------------------------------------------------


def test_the_sample_adjustment_is_found_edit_by_edit(diff):
    rows = {
        (row.status, tuple(sorted(row.before_ids)), tuple(sorted(row.after_ids)))
        for row in diff.changes.itertuples()
    }
    expected = {("removed", (bsm,), ()) for bsm in REMOVED}
    expected |= {("added", (), (bsm,)) for bsm in ADDED}
    expected |= {("changed_geometry", (bsm,), (bsm,)) for bsm in TRIMMED}
    expected |= {("merged", *MERGED), ("split", *SPLIT)}
    expected |= {("changed_attributes", (RELABELLED,), (RELABELLED,))}
    assert rows == expected
    fields = diff.changes.set_index("status").loc["changed_attributes", "fields"]
    assert fields == ("DLBM", "DLMC")
    # 2,916 parcels after, every one not listed above unchanged (the bow-tie and null ones too).
    unchanged = diff.after_status["status"] == "unchanged"
    assert int(unchanged.sum()) == 2916 - len(ADDED) - len(TRIMMED) - 1 - 2 - 1


def test_the_sample_areas_check_by_hand(versions, diff):
    before, after, _ = versions
    old, new = by_bsm(before), by_bsm(after)
    out = diff.taken_out.groupby("feature")["area_m2"].sum()
    put_in = diff.put_in.groupby("feature")["area_m2"].sum()
    assert set(out.index) == REMOVED | TRIMMED and set(put_in.index) == ADDED
    # Geod leaves ~1e-4 m² of rounding on parcels (docs/performance.md): 1e-9 + 5e-4 m².
    for bsm in REMOVED:
        assert out[bsm] == pytest.approx(karney(old[bsm]), rel=1e-9, abs=5e-4)
    for bsm in ADDED:
        assert put_in[bsm] == pytest.approx(karney(new[bsm]), rel=1e-9, abs=5e-4)
    moved = 0.0
    for bsm in TRIMMED:
        # The 3 m strip: the parcel before less the parcel after, but for where the two
        # boundaries lie less than the 1 mm tolerance apart (the before version's vertices
        # were rounded to 1 mm): no change there, at most 1 mm × the boundary's length.
        difference = karney(old[bsm]) - karney(new[bsm])
        assert abs(out[bsm] - difference) <= 0.001 * new[bsm].length
        moved += 0.001 * new[bsm].length
    balance = diff.balance
    county = balance.loc["990122"]
    assert county["out"] == pytest.approx(out.sum(), rel=1e-12)
    assert county["in"] == pytest.approx(put_in.sum(), rel=1e-12)
    # net = in - out + within tolerance, to 1e-9 of the county: the halves of the merged parcel
    # and the parcel they became are measured apart, and an area with geodesic edges moves by
    # ~x Δy L1 L2 / (6 R²) where an edge is cut (docs/area.md): 2.5e-3 m² here, 6e-10.
    net = put_in.sum() - out.sum() + county["within_tolerance"]
    assert county["net"] == pytest.approx(net, rel=0, abs=1e-9 * county["before"])
    others = balance[(balance["level"] == "zone") & (balance.index != "990122")]
    assert (others["out"] == 0).all() and (others["in"] == 0).all()
    assert np.allclose(others["before"], others["after"], rtol=0, atol=1e-6)
    lhs = balance["before"] - balance["out"] + balance["in"] + balance["within_tolerance"]
    assert np.allclose(lhs, balance["after"], rtol=1e-9, atol=0)
    assert 0 < abs(balance.loc["total", "within_tolerance"]) <= moved


def test_the_sample_rules_pass_in_every_county(diff):
    rules = diff.check("farmland")
    assert rules["met"].all() and rules.attrs["verdict"]
    assert set(rules["rule"]) == {"net"}  # the sample farmland has no grade field


# --------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.sources: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        for name in ("src", "href"):
            if values.get(name):
                self.sources.append(values[name] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_files_of_the_sample_comparison(diff, tmp_path):
    named = diff.zones.assign(XZQMC=diff.zones["XZQMC"])
    report = comparison_report(
        diff.__class__(**{**diff.__dict__, "zones": named}),
        line="farmland",
        name_field="XZQMC",
        sources=("YJJBNT_before.shp", "YJJBNT.shp"),
    )
    paths = write_comparison(report, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "compare.gpkg",
        "compare.html",
        "compare.xlsx",
    ]

    book = openpyxl.load_workbook(paths[".xlsx"])
    assert book.sheetnames == ["平衡表", "规则核查", "变化要素", "调出图斑", "调入图斑", "说明"]
    rows = list(book["平衡表"].iter_rows(values_only=True))
    head = rows[0]
    assert head[:3] == ("行政区代码", "行政区名称", "调整前面积（平方米）")
    table = [row for row in rows[1:] if row[1]]
    total = next(row for row in table if row[1] == "合计")
    counties = [row for row in table if row[0]]
    assert [row[0] for row in counties] == [
        "990102",
        "990121",
        "990122",
        "990202",
        "990221",
        "990222",
    ]
    for column in range(2, 8):  # before, out, in, within tolerance, after, net
        assert round(sum(row[column] for row in counties), 2) == pytest.approx(total[column])
    for row in table:  # the identity holds on the rounded figures
        assert round(row[2] - row[3] + row[4] + row[5], 2) == pytest.approx(row[6])
    assert total[3] == pytest.approx(round(diff.balance.loc["total", "out"], 2), abs=0.011)
    changes = list(book["变化要素"].iter_rows(values_only=True))
    assert len(changes) - 1 == len(diff.changes)

    layers = dict(pyogrio.list_layers(paths[".gpkg"]))
    assert list(layers) == ["taken_out", "put_in", "changed_before", "changed_after", "zones"]
    assert set(layers.values()) == {"MultiPolygon"}
    taken = gpd.read_file(paths[".gpkg"], layer="taken_out")
    assert set(taken["feature"]) == REMOVED | TRIMMED
    assert taken["area_m2"].sum() == pytest.approx(diff.balance.loc["total", "out"], rel=1e-12)
    assert set(taken["zone_name"]) == {"白石县"}
    changed = gpd.read_file(paths[".gpkg"], layer="changed_after")
    assert set(changed["feature"]) == ADDED | TRIMMED | {
        "NT001710",
        "NT001698",
        "NT001699",
        RELABELLED,
    }

    page = paths[".html"].read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    assert not [src for src in parser.sources if re.match(r"\s*(https?:)?//", src)]
    assert "http://" not in page and "https://" not in page
    assert len(parser.images) == 2  # one county changed: its before and after maps
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    verdict = page.index('class="verdict pass"')
    assert verdict < page.index('id="rules"') < page.index('id="balance"')
    assert "白石县" in page and "NT900001" in page

    with pytest.raises(FileExistsError):
        write_comparison(report, tmp_path / "out")


def test_values_from_the_data_are_escaped_in_the_page():
    before = gpd.GeoDataFrame(
        {"BSM": ["<b>A</b>"]},
        geometry=[shapely.box(39_580_000, 3_150_000, 39_580_100, 3_150_100)],
        crs=4527,
    )
    after = before.iloc[0:0]
    zones = gpd.GeoDataFrame(
        {"XZQDM": ["990101"], "XZQMC": ['<script>alert("x")</script>']},
        geometry=[shapely.box(39_579_000, 3_149_000, 39_581_000, 3_151_000)],
        crs=4527,
    )
    diff = compare_versions(before, after, zones=zones, zone_field="XZQDM", id_field="BSM")
    page = render_comparison_html(
        comparison_report(diff, line="redline", name_field="XZQMC", title="<i>t</i>")
    )
    assert "<script>" not in page and "<b>A</b>" not in page and "<i>t</i>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;A&lt;/b&gt;" in page
    assert 'class="verdict fail"' in page  # the red line lost a hectare


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------

ARGS = [
    "compare",
    str(SAMPLE / "YJJBNT_before.shp"),
    str(SAMPLE / "YJJBNT.shp"),
    "--id-field",
    "BSM",
    "--encoding",
    "GBK",
    "--zones",
    str(SAMPLE / "sanqusanxian.gpkg"),
    "--zones-layer",
    "XZQ",
]


def test_cli_writes_the_files_and_prints_json(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, [*ARGS, "-o", str(tmp_path), "--json", "--unit", "m2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict_ok"] is True
    assert data["unit"] == "m2" and data["features_after"]["added"] == len(ADDED)
    assert sorted(Path(p).name for p in data["written"]) == [
        "compare.gpkg",
        "compare.html",
        "compare.xlsx",
    ]
    total = next(row for row in data["balance"] if row["zone"] == "total")
    assert total["out"] == pytest.approx(data["balance"][2]["out"])  # all in 白石县 (990122)
    # The files exist: refused without --overwrite (exit 2), replaced with it.
    again = runner.invoke(cli, [*ARGS, "-o", str(tmp_path)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert runner.invoke(cli, [*ARGS, "-o", str(tmp_path), "--overwrite"]).exit_code == 0


def test_cli_exit_status_follows_the_rules():
    runner = CliRunner()
    met = runner.invoke(cli, [*ARGS, "--fail-on-rule"])
    assert met.exit_code == 0, met.output
    assert "rules met" in met.output and "no files written" in met.output
    # Asking for 10 亩 more than the replacement gives fails the county and the whole.
    strict = runner.invoke(cli, [*ARGS, "--fail-on-rule", "--net-min", "10"])
    assert strict.exit_code == 1
    assert "rules NOT met" in strict.output


def test_cli_errors_are_one_line_with_status_2(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(
        cli, ["compare", str(tmp_path / "nope.shp"), str(SAMPLE / "YJJBNT.shp")]
    )
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    wrong = runner.invoke(cli, [*ARGS, "--cap", "5"])
    assert wrong.exit_code == 2 and "--line urban" in wrong.output
    field = runner.invoke(cli, [*ARGS[:3], "--id-field", "XH"])
    assert field.exit_code == 2
    assert "id field 'XH' is not in the before version" in field.output
    assert len([line for line in field.output.splitlines() if line.startswith("Error")]) == 1


def test_urban_rules_from_the_command_line():
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            *ARGS,
            "--line",
            "urban",
            "--cap-percent",
            "100",
            "--urban-land-2020",
            "30000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rules = json.loads(result.stdout)["rules"]
    share = next(r for r in rules if r["rule"] == "cap_percent" and r["zone"] == "990122")
    assert share["met"] is False  # the area grew: more than 100 % of before
    expansion = next(r for r in rules if r["rule"] == "expansion")
    assert expansion["zone"] == "total"
    assert expansion["measured"] == pytest.approx(39790.19 / 30000, rel=1e-4)
    assert math.isfinite(expansion["margin"])


# --------------------------------------------------------------------------------------------
# The configuration's ``before`` and the batch report
# --------------------------------------------------------------------------------------------


def _sample_config(tmp_path: Path, before: str) -> Path:
    """The sample check without rasters and blocks, with a version before of the farmland."""
    text = (SAMPLE / "geozones.toml").read_text(encoding="utf-8")
    text = text.split("[rasters]")[0].replace('path = "', f'path = "{SAMPLE.as_posix()}/')
    text = text.replace('declared_area_unit = "m2"\n', f'declared_area_unit = "m2"\n{before}\n')
    path = tmp_path / "check.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_before_as_a_file_name_or_a_table(tmp_path):
    from geozones.workflow.config import BeforeSpec, ConfigError, load_config

    before = SAMPLE / "YJJBNT_before.shp"
    config = load_config(_sample_config(tmp_path, f'before = "{before.as_posix()}"'))
    assert config.layers["farmland"].before == BeforeSpec(path=before)
    assert config.layers["redline"].before is None
    table = f'before = {{ path = "{before.as_posix()}", encoding = "GBK", net_min = 5 }}'
    config = load_config(_sample_config(tmp_path, table))
    spec = config.layers["farmland"].before
    assert spec is not None and spec.encoding == "GBK"
    assert spec.rules("farmland") == {"net_min": 5.0, "quality": True}
    with pytest.raises(ConfigError, match=r"layers\.farmland\.before\.cap: is a rule of"):
        load_config(_sample_config(tmp_path, f'before = {{ path = "{before}", cap = 1 }}'))
    with pytest.raises(ConfigError, match=r"layers\.farmland\.before: file not found"):
        load_config(_sample_config(tmp_path, 'before = "nope.shp"'))
    with pytest.raises(ConfigError, match=r"layers\.farmland\.before\.pth: unknown key"):
        load_config(_sample_config(tmp_path, f'before = {{ pth = "{before}" }}'))


def test_the_batch_report_gains_the_comparison(tmp_path):
    from geozones.report import build_report
    from geozones.report.excel import workbook_tables
    from geozones.report.geopackage import geopackage_layers
    from geozones.report.html import render_html
    from geozones.workflow.config import load_config

    before = (SAMPLE / "YJJBNT_before.shp").as_posix()
    config = load_config(
        _sample_config(tmp_path, f'before = {{ path = "{before}", encoding = "GBK" }}')
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(config)
    comparison = report.comparisons["farmland"]
    assert comparison.rules is not None and comparison.rules["met"].all()
    assert set(comparison.diff.taken_out["feature"]) == REMOVED | TRIMMED
    assert "调整对比（永久基本农田）" in workbook_tables(report)
    layers = geopackage_layers(report)
    assert {"compare_farmland_taken_out", "compare_farmland_put_in"} <= set(layers)
    page = render_html(report)
    assert 'id="compare-farmland"' in page and "NT900001" in page

    county = report.for_zone("990122")
    part = county.comparisons["farmland"]
    assert list(part.diff.balance.index) == ["990122", "total"]
    assert set(part.rules["zone"]) == {"990122"}
    quiet = report.for_zone("990102").comparisons["farmland"]
    assert quiet.diff.changes.empty and quiet.diff.taken_out.empty

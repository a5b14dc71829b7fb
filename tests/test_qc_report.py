"""The 质检 of the sample delivery: its files (workbook, GeoPackage, HTML) and the qc command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from survey_oracle import survey_m2

import geozones
from geozones.cli import cli
from geozones.qc import FAMILIES, RULES
from geozones.report.qc import render_qc_html, write_qc

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ROOT / "sample_data" / "delivery.gpkg"
RULES_FILE = ROOT / "sample_data" / "delivery_rules.toml"
README = ROOT / "sample_data" / "README.md"


@pytest.fixture(scope="module")
def findings() -> geozones.Findings:
    return geozones.inspect(DELIVERY, rules=RULES_FILE)


def test_sample_delivery_has_every_rule_planted_once(findings: geozones.Findings) -> None:
    failed = findings.summary.set_index("rule")["failed"]
    assert set(failed.index) == set(RULES)
    assert (failed == 1).drop("ID-BSM-DUPLICATE").all()
    assert failed["ID-BSM-DUPLICATE"] == 2  # one finding per feature sharing the BSM
    assert findings.summary.set_index("rule").loc["LINE-CONFLICT", "excepted"] == 1
    # the README lists each planted defect with its feature
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The 质检 sample delivery") :]
    for rule, feature in zip(findings.table["rule"], findings.table["feature"], strict=True):
        assert f"| `{rule}` |" in section
        if rule not in ("ID-BSM-MISSING",) and feature is not None:
            assert f"`{feature}`" in section, (rule, feature)


def test_sample_declared_areas_follow_the_survey_formula(findings: geozones.Findings) -> None:
    """Every declared area of the sample delivery is its 32号 survey area (an implementation
    of the formula independent of geozones), but the one planted wrong, which the 质检 finds."""
    assert findings.area_method == "survey"
    wrong = set()
    for layer, field in (("STBHHX", "MJ"), ("YJJBNTBHTB", "YJJBNTTBMJ"), ("CZKFBJ", "MJ")):
        frame = pyogrio.read_dataframe(DELIVERY, layer=layer)
        geoms = frame.geometry.to_numpy()
        measurable = ~shapely.is_missing(geoms) & shapely.is_valid(geoms)
        crs = frame.crs or "EPSG:4527"  # STBHHX is planted without its CRS (CRS-MISSING)
        survey = survey_m2(geoms[measurable], crs)
        declared = frame[field].to_numpy(dtype=float)[measurable]
        differ = np.abs(declared - survey) > 0.005
        wrong |= {(layer, bsm) for bsm in frame["BSM"].to_numpy()[measurable][differ]}
        assert measurable.sum() > 0.99 * len(frame)
    table = findings.table
    flagged = table[table["rule"] == "AREA-DECLARED"]
    assert wrong == set(zip(flagged["layer"], flagged["feature"], strict=True))
    assert len(wrong) == 1


def test_workbook(findings: geozones.Findings, tmp_path: Path) -> None:
    paths = write_qc(findings, tmp_path)
    book = openpyxl.load_workbook(paths[".xlsx"], read_only=True)
    assert book.sheetnames == ["汇总", *(zh for zh, _ in FAMILIES.values())]
    summary = list(book["汇总"].values)
    assert ("质检结论", "不通过") in summary
    assert ("面积计算方法", "survey (32号图斑椭球面积)") in summary  # what declared areas met
    header = next(row for row in summary if row and row[0] == "规则编号")
    assert header == (
        "规则编号",
        "规则类别",
        "严重程度",
        "检查内容",
        "检查项数",
        "问题数",
        "例外数",
    )
    rows = {row[0]: row for row in summary if row and row[0] in RULES}
    assert rows["AREA-NET"][5] == 1 and rows["AREA-NET"][4] == 2886
    areas = list(book["面积"].values)
    assert areas[0][:4] == ("规则编号", "严重程度", "图层", "要素标识")
    assert {row[0] for row in areas[1:]} == {
        "AREA-DECLARED",
        "AREA-DEDUCTION",
        "AREA-NET",
        "AREA-CONTROL",
    }


def test_geopackage_holds_the_located_findings(findings: geozones.Findings, tmp_path: Path) -> None:
    path = write_qc(findings, tmp_path, language="en")[".gpkg"]
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    assert names == [f"qc_{family}" for family in FAMILIES] + ["zones"]
    table = findings.table
    for family in FAMILIES:
        layer = pyogrio.read_dataframe(path, layer=f"qc_{family}")
        located = table[(table["family"] == family) & table.geometry.notna()]
        assert len(layer) == len(located)
        assert set(layer["rule"]) == set(located["rule"])
    codes = pyogrio.read_dataframe(path, layer="qc_codes")
    assert "XZQDM '99010' is not 6, 9 or 12 digits" in set(codes["message"])


def test_page_is_self_contained_and_escaped(findings: geozones.Findings) -> None:
    page = render_qc_html(findings)
    verdict = page.index('class="verdict fail"')
    assert verdict < page.index("<nav")  # the verdict first
    assert "质检不通过：31 项错误，5 项警告。" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert page.count("data:image/png;base64,") >= 2  # the overview and the counties' maps
    for rule in RULES:
        assert f"<td>{rule}</td>" in page
    assert "survey (32号 survey area)" in render_qc_html(findings, language="en")


def test_page_escapes_values(findings: geozones.Findings) -> None:
    from dataclasses import replace

    table = findings.table.copy()
    table.loc[0, "message_zh"] = "<script>alert(1)</script>"
    page = render_qc_html(replace(findings, table=table, title="<b>省</b>"))
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<b>省</b>" not in page


def test_cli_writes_three_files_and_fails_on(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "qc"
    args = ["qc", str(DELIVERY), "--rules", str(RULES_FILE), "-o", str(out)]
    result = runner.invoke(cli, [*args, "--fail-on", "error"])
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "qc.gpkg",
        "qc.html",
        "qc.xlsx",
    ]
    assert "qc FAILED: 31 errors, 5 warnings" in result.output
    again = runner.invoke(cli, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0


def test_cli_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["qc", str(DELIVERY), "--rules", str(RULES_FILE), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["passed"], data["errors"], data["warnings"]) == (False, 31, 5)
    assert (data["area_method"], data["xy_tolerance"]) == ("survey", 0.001)
    assert len(data["findings"]) == 36
    assert {row["rule"] for row in data["summary"]} == set(RULES)


def test_cli_bad_input_exit_2_without_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    rules = tmp_path / "rules.toml"
    rules.write_text("titel = 'x'\n", encoding="utf-8")
    result = runner.invoke(cli, ["qc", str(DELIVERY), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "did you mean 'title'" in result.output and "Traceback" not in result.output
    missing = runner.invoke(cli, ["qc", str(tmp_path / "none.gpkg")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    clean_warning = runner.invoke(
        cli, ["-q", "qc", str(DELIVERY), "--rules", str(RULES_FILE), "--fail-on", "warning"]
    )
    assert clean_warning.exit_code == 1

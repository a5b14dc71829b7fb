"""The translation catalogue of reports, and a Chinese report with no English left in it."""

from __future__ import annotations

import re
import string
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely import Polygon, box

import geozones.errors
from geozones.cli import cli
from geozones.report import i18n
from geozones.report.labels import header

X, Y = 39_500_000.0, 3_150_000.0


def fields(value: str | list[str]) -> set[str]:
    texts = [value] if isinstance(value, str) else value
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_entry_has_both_languages_with_the_same_fields():
    entries = i18n.catalogue()
    assert len(entries) > 300
    for key, entry in entries.items():
        assert set(entry) == {"zh", "en"}, key
        zh, en = entry["zh"], entry["en"]
        assert type(zh) is type(en), key
        assert zh and en, key
        if isinstance(zh, list):
            assert len(zh) == len(en) and all(zh) and all(en), key
        if key.startswith("messages."):
            # the English is the pattern the fields are taken from; the Chinese uses some
            assert fields(zh) <= fields(en), key
        elif key == "parts.compare_sheet":
            # a sheet title has 31 characters: the English names the key, the Chinese the line
            assert (fields(zh), fields(en)) == ({"line"}, {"key"})
        else:
            assert fields(zh) == fields(en), key


def test_every_geozones_warning_has_a_sentence_in_both_languages():
    classes = [
        value
        for value in vars(geozones.errors).values()
        if isinstance(value, type)
        and issubclass(value, geozones.errors.GeozonesWarning)
        and value is not geozones.errors.GeozonesWarning
    ]
    assert len(classes) >= 10
    for category in classes:
        assert f"warnings.{category.__name__}" in i18n.catalogue(), category.__name__


def test_geos_reasons_are_translated_with_their_location():
    bow_tie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    reason = shapely.is_valid_reason(bow_tie)
    assert reason.startswith("Self-intersection[")
    assert i18n.translate(f"invalid: {reason}", "zh") == f"无效图形：自相交{reason[17:]}"
    for other in ("Ring Self-intersection", "Hole lies outside shell", "Something new"):
        translated = i18n.translate(f"invalid: {other}[1 2]", "zh")
        assert translated.endswith("[1 2]") and not re.search("[A-Za-z]{3,}", translated)


def test_messages_translate_with_labels_and_no_nan():
    label = lambda key: header(key, "zh")  # noqa: E731
    assert i18n.translate("priority: farmland > redline", "zh", label=label) == (
        "优先级：永久基本农田 > 生态保护红线"
    )
    assert i18n.translate("override 核心区: core_zone > farmland", "zh", label=label) == (
        "例外规则“核心区”：自然保护地核心保护区 > 永久基本农田"
    )
    assert i18n.translate("declared TBMJ 12.50 vs computed nan m2", "zh") == (
        "申报面积（TBMJ）12.50，计算面积 — 平方米"
    )
    assert i18n.translate("priority: farmland > redline", "en") == "priority: farmland > redline"


# --- a Chinese report made from a small case --------------------------------------------------

#: ASCII words a Chinese report may show: codes (field, layer and format names, EPSG), the
#: CRS's name, the method's code, the program's name and the font names of the map note.
ALLOWED = {
    "BSM", "TBMJ", "XZQ", "XZQDM", "XZQMC", "YJJBNT", "STBHHX", "CZKFBJ", "HXQ", "ZRBHD",
    "GPKG", "EPSG", "CGCS", "gpkg", "ellipsoidal", "geozones", "Noto", "Sans", "CJK",
}  # fmt: skip


def _frame(geometry, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geometry), crs=4527)


@pytest.fixture
def small_case(tmp_path) -> Path:
    """Two counties; farmland with a bow tie, a null geometry and wrong declared areas; a red
    line over farmland; a core zone that takes farmland out; urban land partly outside."""
    data = tmp_path / "data"
    data.mkdir()
    path = data / "lines.gpkg"
    zones = _frame(
        [box(X, Y, X + 1000, Y + 1000), box(X + 1000, Y, X + 2000, Y + 1000)],
        XZQDM=["990102", "990121"],
        XZQMC=["东川区", "青溪县"],
    )
    bow_tie = Polygon(
        [(X + 600, Y + 600), (X + 800, Y + 800), (X + 800, Y + 600), (X + 600, Y + 800)]
    )
    farmland = _frame(
        [
            box(X + 100, Y + 100, X + 400, Y + 400),
            bow_tie,
            None,
            box(X + 1100, Y + 100, X + 1400, Y + 400),
        ],
        BSM=["f0", "f1", "f2", "f3"],
        TBMJ=[90_000.0, 1.0, 500.0, 50_000.0],
    )
    layers = {
        "XZQ": zones,
        "YJJBNT": farmland,
        "STBHHX": _frame([box(X + 300, Y + 300, X + 1200, Y + 500)], BSM=["r0"]),
        "CZKFBJ": _frame([box(X + 1800, Y + 800, X + 2300, Y + 900)], BSM=["u0"]),
        "ZRBHD_HXQ": _frame([box(X + 50, Y + 50, X + 200, Y + 200)], BSM=["c0"]),
    }
    for name, layer in layers.items():
        layer.to_file(path, layer=name, driver="GPKG")
    config = data / "check.toml"
    config.write_text(
        textwrap.dedent(
            """\
            title = "示范 三区三线 冲突检查"
            language = "zh"
            unit = "mu"
            sliver_m2 = 1
            [zones]
            path = "lines.gpkg"
            layer = "XZQ"
            code_field = "XZQDM"
            name_field = "XZQMC"
            [layers.farmland]
            path = "lines.gpkg"
            layer = "YJJBNT"
            id_field = "BSM"
            declared_area_field = "TBMJ"
            declared_area_unit = "m2"
            [layers.redline]
            path = "lines.gpkg"
            layer = "STBHHX"
            id_field = "BSM"
            [layers.urban]
            path = "lines.gpkg"
            layer = "CZKFBJ"
            id_field = "BSM"
            [layers.core_zone]
            path = "lines.gpkg"
            layer = "ZRBHD_HXQ"
            id_field = "BSM"
            [resolution]
            priority = ["farmland", "redline", "urban"]
            [[resolution.overrides]]
            name = "核心保护区内耕地调出"
            mask = "core_zone"
            priority = ["redline", "core_zone", "farmland", "urban"]
            """
        ),
        encoding="utf-8",
    )
    return config


def english_words(text: str, folder: Path) -> list[str]:
    """ASCII words of three letters or more, outside file paths and the allow-list."""
    text = text.replace(str(folder), "")
    text = re.sub(r"[\w/.-]*\.(gpkg|toml|shp|xlsx|html)", "", text)
    return [word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in ALLOWED]


def page_text(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    attributes = " ".join(re.findall(r'(?:alt|aria-label)="([^"]*)"', page))
    return re.sub(r"<[^>]+>", " ", page) + " " + attributes


def test_a_chinese_report_has_no_english_and_no_nan(small_case, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "report", str(small_case), "-o", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    book = openpyxl.load_workbook(next(out.glob("*.xlsx")), read_only=True)
    cells = [book.sheetnames]
    for sheet in book.worksheets:
        cells += [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    workbook = "\n".join(" ".join(map(str, row)) for row in cells)
    page = page_text(next(out.glob("*.html")).read_text(encoding="utf-8"))
    for text in (workbook, page):
        # the case has what used to come out in English: the problems, the rules, the mask
        assert "无效图形：自相交" in text and "已修复：修正为有效图形" in text
        assert "图形为空" in text and "计算面积 — 平方米" in text
        assert "例外规则“核心保护区内耕地调出”" in text and "优先级：" in text
        assert "自然保护地核心保护区" in text
        assert "位于所有行政区之外" in text
        assert english_words(text, small_case.parent) == []
        assert not re.search(r"(?i)\bnan\b", text)

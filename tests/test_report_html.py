"""The HTML report: self-contained, escaped, with maps, in both languages; and its maps."""

from __future__ import annotations

import base64
import dataclasses
import struct
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geozones.report import Report, maps
from geozones.report.html import MAX_ROWS, render_html, write_html

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "sample_data" / "geozones.toml"
COUNTY = "990122"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM = Path("/usr/bin/chromium")
INJECTED = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(sample_report: Report) -> Report:
    return sample_report


@pytest.fixture(scope="module")
def county(report):
    return report.for_zone(COUNTY)


@pytest.fixture(scope="module")
def county_page(county):
    return render_html(county)


class Page(HTMLParser):
    """Every start tag with its attributes, the text outside tags, and the tables' structure."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.tables: list[dict] = []
        self._stack: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self.tables.append({"caption": "", "header": [], "rows": 0})
        elif tag == "th" and self.tables:
            self.tables[-1]["header"].append(attributes.get("scope"))
        elif tag == "tr" and self.tables and "tbody" in self._stack:
            self.tables[-1]["rows"] += 1
        if tag not in ("meta", "img", "br", "col", "input", "link", "hr"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)
        if self._stack and self._stack[-1] == "caption" and self.tables:
            self.tables[-1]["caption"] += data

    def all(self, tag):
        return [attributes for name, attributes in self.tags if name == tag]

    def captions(self):
        return [table["caption"] for table in self.tables]


def images(page: str) -> list[bytes]:
    return [
        base64.b64decode(attributes["src"].split(",", 1)[1], validate=True)
        for attributes in Page(page).all("img")
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def injected(report, *, url: str = "https://evil.example/x.js"):
    """The report with markup, a path and a URL where the data has names and problems."""
    zones = report.zones.copy()
    zones["name"] = INJECTED
    quality = report.quality.copy()
    quality.loc[0, "problem"] = f"{INJECTED} ../../x {url}"
    quality.loc[0, "feature"] = "../../x"
    coverage = report.coverage.copy()
    coverage["name"] = INJECTED
    sources = report.sources.copy()
    sources.loc[0, "source"] = '../../x" onerror="alert(1)'
    return dataclasses.replace(
        report,
        zones=zones,
        quality=quality,
        coverage=coverage,
        sources=sources,
        scope_name=INJECTED,
        title=f"{INJECTED} title",
    )


# --- self-contained -------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["all", COUNTY])
def test_page_references_nothing_outside_itself(report, scope):
    page = render_html(report if scope == "all" else report.for_zone(scope))
    assert "http://" not in page and "https://" not in page
    assert "url(" not in page and "@import" not in page
    parsed = Page(page)
    forbidden = {"script", "link", "iframe", "object", "embed", "base", "form", "source", "video"}
    assert not forbidden & {tag for tag, _ in parsed.tags}
    ids = {attributes["id"] for _, attributes in parsed.tags if "id" in attributes}
    for _, attributes in parsed.tags:
        for name, value in attributes.items():
            assert not name.startswith("on"), name
            if name in ("src", "href", "srcset", "action", "poster", "data"):
                assert value is not None
                assert value.startswith(("data:", "#")), (name, value[:40])
                if value.startswith("#"):
                    assert value[1:] in ids
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page


def test_maps_are_embedded_png_with_alt_text(county_page):
    pictures = images(county_page)
    assert len(pictures) == 3  # the overview, the conflicts map and the farmland blocks
    for picture in pictures:
        assert picture[:8] == PNG_SIGNATURE
        assert png_size(picture) == (1080, 960)
    for attributes in Page(county_page).all("img"):
        assert attributes["src"].startswith("data:image/png;base64,")
        assert attributes.get("alt")


def test_sections_and_tables(report):
    page = render_html(report)
    parsed = Page(page)
    for anchor in (
        "maps",
        "summary",
        "targets",
        "conflict-summary",
        "conflicts",
        "audit",
        "quality",
        "method",
    ):
        assert f'id="{anchor}"' in page
    assert all(table["caption"] for table in parsed.tables)
    assert all(scope == "col" for table in parsed.tables for scope in table["header"])
    by_caption = {table["caption"]: table for table in parsed.tables}
    summary = by_caption["各级行政区的控制线面积与占比（面积单位：亩）"]
    assert summary["rows"] == 9  # province, two cities, six counties
    assert by_caption["冲突图斑明细"]["rows"] == len(report.conflicts)
    assert by_caption["约束性指标核查"]["rows"] == 3
    assert by_caption["按优先级调出（或作为碎片保留）的图斑"]["rows"] == len(report.audit)
    assert by_caption["数据来源"]["rows"] == len(report.sources)
    text = "".join(parsed.text)
    assert "不通过：三条控制线存在交叉、重叠或冲突" in text
    assert "约束性指标：2 项达标，1 项未达标。" in text
    assert "区域面积（亩）" in text and "永久基本农田面积（亩）" in text
    assert "6378137" in text and "1/298.257222101" in text  # the method note
    assert "永久基本农田 → 生态保护红线 → 城镇开发边界" in text


def test_summary_matches_the_coverage(report):
    page = render_html(report)
    province = report.coverage[
        (report.coverage["level"] == "province") & (report.coverage["line"] == "redline")
    ].iloc[0]
    assert f"{province['covered_area']:,.2f}" in page
    assert f"{province['percent']:.2f}" in page


# --- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["all", COUNTY])
def test_values_from_the_data_are_escaped(report, scope):
    base = report if scope == "all" else report.for_zone(scope)
    page = render_html(injected(base))
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "https://" not in page and "http://" not in page
    parsed = Page(page)
    assert "script" not in {tag for tag, _ in parsed.tags}
    text = "".join(parsed.text)
    assert INJECTED in text  # shown as text, in the title, tables and names
    assert "../../x" in text
    assert "https://evil.example/x.js" in text  # readable, but not a URL in the source
    for _, attributes in parsed.tags:
        assert not any(name.startswith("on") for name in attributes)
        for value in attributes.values():
            assert value is None or "../../x" not in value or value.startswith("data:")


def test_write_html_does_not_follow_names_from_the_data(report, tmp_path):
    target = write_html(injected(report.for_zone(COUNTY)), tmp_path / "county.html")
    assert target == tmp_path / "county.html"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["county.html"]


# --- languages ------------------------------------------------------------------------------


def test_chinese_page(county_page):
    assert '<html lang="zh-CN">' in county_page
    text = "".join(Page(county_page).text)
    assert "白石县（990122）" in text
    assert "区域面积（亩）" in text
    assert "县级报告不核查约束性指标" in text


def test_english_page(county):
    page = render_html(dataclasses.replace(county, language="en"))
    assert '<html lang="en">' in page
    text = "".join(Page(page).text)
    assert "Zone area (mu)" in text
    pieces = int((~county.conflicts["sliver"]).sum())
    assert f"Fail: the control lines cross, overlap or conflict in {pieces} conflict pieces" in text
    assert "白石县 (990122)" in text
    assert "Targets are checked for the whole run" in text
    assert "区域面积" not in text


def test_english_page_of_a_whole_run(report):
    page = render_html(dataclasses.replace(report, language="en", unit="ha"))
    text = "".join(Page(page).text)
    assert "Binding targets: 2 met, 1 not met." in text
    assert "Area and share of each line, per zone (areas in ha)" in text
    assert "Permanent basic farmland → Ecological protection red line" in text


def test_the_page_states_the_tolerance_and_the_phantoms_it_dismissed(report):
    # The sample's tessellated red-line area (sample_data/README.md #17) lies in 青溪县.
    count, area = report.phantom_total
    assert count == 20 and 0 < area < 1
    text = "".join(Page(render_html(report)).text)
    assert "坐标容差：0.001 m" in text
    assert "另有 20 处窄于坐标容差（0.001 m）的伪重叠不计为冲突。" in text
    assert f"本范围内有 20 处伪重叠未计为冲突，面积合计 {area:,.4g} 平方米。" in text
    assert "坐标容差为 0.001 米：距离小于容差的两条边界视为同一条边界" in text  # method
    english = "".join(Page(render_html(dataclasses.replace(report, language="en"))).text)
    assert "A further 20 phantom overlaps, thinner than the 0.001 m coordinate tolerance" in english
    # Per county: the phantoms lie in 青溪县 alone; elsewhere the page has no phantom line.
    qingxi = report.for_zone("990121")
    assert qingxi.phantom_total[0] == 20
    assert qingxi.phantom_total[1] == pytest.approx(area, rel=1e-6)
    assert report.for_zone(COUNTY).phantom_total == (0, 0.0)
    assert "伪重叠不计为冲突" not in "".join(Page(render_html(report.for_zone(COUNTY))).text)


# --- fonts ----------------------------------------------------------------------------------


def figure_texts(figure) -> list[str]:
    from matplotlib.text import Text

    return [text.get_text() for text in figure.findobj(Text) if text.get_text()]


def has_cjk(text: str) -> bool:
    return any(0x2E80 <= ord(char) <= 0x9FFF or 0xFF00 <= ord(char) <= 0xFFEF for char in text)


def test_without_a_cjk_font_maps_fall_back_to_english(county, monkeypatch):
    monkeypatch.setattr(maps, "cjk_font", lambda: None)
    assert maps.labels_language(county) == "en"
    for make in (maps.overview_figure, maps.conflicts_figure, maps.blocks_figure):
        texts = figure_texts(make(county))
        assert texts
        assert not any(has_cjk(text) for text in texts), texts
        assert COUNTY in " ".join(texts)  # zones are labelled by code
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn
        assert maps.overview_map(county)[:8] == PNG_SIGNATURE
        assert maps.conflicts_map(county)[:8] == PNG_SIGNATURE
        assert maps.blocks_map(county)[:8] == PNG_SIGNATURE
    page = render_html(county)
    assert "本机未安装中文字体" in page
    assert len(images(page)) == 3
    english = render_html(dataclasses.replace(county, language="en"))
    assert "No CJK font is installed" in english


def test_with_a_cjk_font_maps_are_in_chinese(county):
    if maps.cjk_font() is None:
        pytest.skip("no CJK font installed (e.g. apt-get install fonts-noto-cjk)")
    assert maps.labels_language(county) == "zh"
    texts = figure_texts(maps.overview_figure(county))
    assert any("白石县" in text for text in texts)
    assert any("生态保护红线" in text for text in texts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        maps.overview_map(county)
    assert maps.font_note(county) is None
    assert "本机未安装中文字体" not in render_html(county)


def test_english_report_keeps_english_map_labels(county):
    english = dataclasses.replace(county, language="en")
    assert maps.labels_language(english) == "en"
    texts = figure_texts(maps.overview_figure(english))
    assert any("Ecological protection red line" in text for text in texts)


# --- maps -----------------------------------------------------------------------------------


def test_maps_are_deterministic_and_carry_no_metadata(county):
    first, second = maps.overview_map(county), maps.overview_map(county)
    assert first == second
    assert b"matplotlib" not in first and b"Software" not in first
    assert maps.conflicts_map(county) == maps.conflicts_map(county)


def test_maps_leave_pyplot_alone(county):
    maps.overview_map(county)
    maps.conflicts_map(county)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_maps_in_geographic_coordinates(county):
    def degrees(frame):
        return frame.to_crs(4490)

    geographic = dataclasses.replace(
        county,
        zones=degrees(county.zones),
        lines={key: degrees(frame) for key, frame in county.lines.items()},
        conflicts=degrees(county.conflicts),
        overlaps=degrees(county.overlaps),
    )
    assert maps.overview_map(geographic)[:8] == PNG_SIGNATURE
    assert maps.conflicts_map(geographic)[:8] == PNG_SIGNATURE


def test_maps_without_conflicts(county):
    clean = dataclasses.replace(
        county,
        conflicts=county.conflicts.iloc[0:0],
        summary=county.summary.iloc[0:0],
        overlaps=county.overlaps.iloc[0:0],
        audit=county.audit.iloc[0:0],
    )
    assert clean.verdict
    assert maps.conflicts_map(clean)[:8] == PNG_SIGNATURE
    page = render_html(clean)
    assert len(images(page)) == 2  # the overview and the blocks, no conflicts map
    text = "".join(Page(page).text)
    assert "通过：三条控制线不交叉、不重叠、不冲突。" in text
    assert "无冲突图斑。" in text and "无调整。" in text


# --- long tables, files ---------------------------------------------------------------------


def test_long_tables_show_their_first_rows(county):
    repeats = MAX_ROWS // len(county.conflicts) + 2
    many = gpd.GeoDataFrame(
        pd.concat([county.conflicts] * repeats, ignore_index=True), crs=county.conflicts.crs
    )
    page = render_html(dataclasses.replace(county, conflicts=many))
    table = next(t for t in Page(page).tables if t["caption"] == "冲突图斑明细")
    assert table["rows"] == MAX_ROWS
    assert f"仅显示前 {MAX_ROWS} 行，共 {len(many)} 行" in page


def test_write_html_refuses_to_overwrite(county, tmp_path):
    target = tmp_path / "report.html"
    assert write_html(county, target) == target
    written = target.read_bytes()
    assert written.decode("utf-8") == render_html(county)
    target.write_text("earlier", encoding="utf-8")
    with pytest.raises(FileExistsError, match="--overwrite"):
        write_html(county, target)
    assert target.read_text(encoding="utf-8") == "earlier"
    write_html(county, target, overwrite=True)
    assert target.read_bytes() == written
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.html"]


# --- in a browser ---------------------------------------------------------------------------


def chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless browser test needs /usr/bin/chromium (apt-get install -y chromium)",
)
def test_page_in_a_headless_browser(report, tmp_path):
    path = write_html(report, tmp_path / "report.html")
    dumped = chromium("--dump-dom", path.as_uri(), profile=tmp_path / "profile-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Page(dumped.stdout)
    captions = dom.captions()
    assert "各级行政区的控制线面积与占比（面积单位：亩）" in captions
    assert "冲突图斑明细" in captions
    assert sum(table["rows"] for table in dom.tables) >= 9 + len(report.conflicts)
    assert len(dom.all("img")) == 3
    assert all(img["src"].startswith("data:image/png;base64,") for img in dom.all("img"))

    shot = tmp_path / "shot.png"
    taken = chromium(
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        path.as_uri(),
        profile=tmp_path / "profile-shot",
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists()
    data = shot.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert png_size(data) == (1280, 2000)
    assert len(data) > 50_000  # a blank page is a few kB; maps and tables are far more

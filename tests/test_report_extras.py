"""Steep farmland, land cover and farmland blocks in the report, checked against direct calls.

The sample configuration enables ``[rasters]`` (dem.tif, landcover.tif) and ``[blocks]``. The
figures of the report are compared with the library functions called directly
(:func:`geozones.area`, :func:`geozones.raster.steep_farmland`, :func:`geozones.coverage`), with
a count of pixel centres, and across levels: county rows add up to the province, in the model
and, rounded, in the workbook. A configuration without the tables still gives the report it
gave before.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

import geozones
from geozones.analysis.blocks import CLASS_THRESHOLDS_MU
from geozones.errors import DataSourceError
from geozones.raster import slope, steep_farmland
from geozones.report import Report, build_report
from geozones.report.excel import write_workbook
from geozones.report.geopackage import write_geopackage
from geozones.report.html import render_html

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CONFIG = SAMPLE / "geozones.toml"
MU = 2000.0 / 3.0
COUNTIES = ["990102", "990121", "990122", "990202", "990221", "990222"]
CLASSES = ["耕地", "林地", "水域", "建设用地"]
EXTRA_SHEETS = ["陡坡耕地", "地类构成", "集中连片"]


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def config():
    return geozones.load_config(CONFIG)


@pytest.fixture(scope="module")
def report(sample_report: Report) -> Report:
    return sample_report


@pytest.fixture(scope="module")
def farmland(config) -> gpd.GeoDataFrame:
    """The farmland as read, indexed by BSM as the report names parcels."""
    layers = quietly(config.read_layers)
    return layers["farmland"].set_index("BSM", drop=False)


@pytest.fixture(scope="module")
def workbook(report, tmp_path_factory):
    path = write_workbook(report, tmp_path_factory.mktemp("xlsx") / "report.xlsx")
    return openpyxl.load_workbook(path)


def sample_without_extras(folder: Path, extra: str = "") -> Path:
    """The sample configuration without [rasters] and [blocks], its data linked into `folder`."""
    text = CONFIG.read_text(encoding="utf-8")
    text = text[: text.index("# Rasters checked against the lines")] + extra
    for source in SAMPLE.iterdir():
        if source.suffix in (".gpkg", ".shp", ".dbf", ".shx", ".prj", ".tif"):
            (folder / source.name).symlink_to(source)
    path = folder / "geozones.toml"
    path.write_text(text, encoding="utf-8")
    return path


def sheet_tables(sheet) -> list[list[dict]]:
    """Every table of a sheet: runs of rows under a header row, split at blank rows.

    A table is a header row followed by rows; a title row (one cell) before a header and the
    notes (one cell per row) are left out.
    """
    tables: list[list[dict]] = []
    rows = [row for row in sheet.iter_rows(values_only=True)]
    position = 0
    while position < len(rows):
        row = rows[position]
        filled = [value for value in row if value is not None]
        if len(filled) > 1:
            headers = row
            records = []
            position += 1
            while position < len(rows) and any(value is not None for value in rows[position]):
                records.append(dict(zip(headers, rows[position], strict=False)))
                position += 1
            tables.append(records)
        position += 1
    return tables


def pixels(origin: float, size: float, start: float, stop: float) -> tuple[int, int]:
    """The pixel indices from `start` to `stop` along one axis of a north-up grid."""
    return math.floor((start - origin) / size), math.ceil((stop - origin) / size)


def centres(transform, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plane coordinates of pixel centres of a north-up grid (no rotation)."""
    assert transform.b == 0 and transform.d == 0
    return transform.c + transform.a * (cols + 0.5), transform.f + transform.e * (rows + 0.5)


def cents(value: float) -> int:
    return round(value * 100)


# --- the configuration ----------------------------------------------------------------------


def test_sample_config_enables_rasters_and_blocks(config):
    assert config.rasters is not None and config.blocks is not None
    assert config.rasters.dem == SAMPLE / "dem.tif"
    assert config.rasters.landcover == SAMPLE / "landcover.tif"
    assert (config.rasters.slope_threshold_deg, config.rasters.steep_share_percent) == (25, 50)
    assert config.rasters.landcover_classes == dict(enumerate(CLASSES, start=1))
    assert (config.blocks.gap_m, config.blocks.barriers) == (10.0, None)
    with rasterio.open(config.rasters.landcover) as dataset:  # the names match the raster
        assert dataset.tags()["CLASSES"] == "1=cropland, 2=forest, 3=water, 4=built-up"


# --- steep farmland -------------------------------------------------------------------------


def test_steep_parcels_are_those_steep_farmland_lists(report, farmland, config):
    direct = quietly(
        steep_farmland, config.rasters.dem, farmland, threshold=25.0, percent_threshold=50.0
    )
    listed = report.steep_farmland[report.steep_farmland["listed"]]
    assert sorted(listed.index) == sorted(direct.attrs["listed"])
    assert len(listed) == 50
    assert set(listed["zone"]) == {"990102", "990121", "990202"}  # the three knolls
    shown = listed["steep_area_m2"] / MU
    assert shown.to_numpy() == pytest.approx(direct.loc[listed.index, "steep_area"].to_numpy())
    assert (listed["steep_percent"] > 50).all()
    others = report.steep_farmland.loc[~report.steep_farmland["listed"], "steep_percent"]
    assert (others.fillna(0.0) <= 50).all()  # NaN: the parcel without a geometry


def test_steep_share_agrees_with_a_count_of_pixel_centres(report, config):
    """Independent: the share of each parcel's pixel centres whose slope is over 25°."""
    degrees = slope(config.rasters.dem)
    with rasterio.open(config.rasters.dem) as dataset:
        transform = dataset.transform
    steep = report.steep_farmland
    checked = 0
    for label, row in steep[steep["area_m2"] > 30_000].iterrows():
        xmin, ymin, xmax, ymax = row.geometry.bounds
        cols = np.arange(*pixels(transform.c, transform.a, xmin, xmax))
        rows = np.arange(*pixels(transform.f, transform.e, ymax, ymin))
        cc, rr = np.meshgrid(cols, rows)
        x, y = centres(transform, cc, rr)
        inside = shapely.contains_xy(row.geometry, x, y)
        if inside.sum() < 40:
            continue
        share = 100.0 * float((degrees[rr[inside], cc[inside]] > 25).mean())
        assert share == pytest.approx(row["steep_percent"], abs=8.0), label
        checked += 1
    assert checked > 100


def test_steep_summary_adds_up_and_matches_the_parcels(report):
    summary = report.steep_summary.set_index("zone")
    steep = report.steep_farmland
    counties = summary[summary["level"] == "county"]
    assert sorted(counties.index) == COUNTIES
    for column in ("parcels", "listed", "area", "steep_area", "listed_area", "nodata_area"):
        assert counties[column].sum() == pytest.approx(summary.loc["990000", column], rel=1e-12)
        for city in ("990100", "990200"):
            under = counties[counties.index.str[:4] == city[:4]]
            assert under[column].sum() == pytest.approx(summary.loc[city, column], rel=1e-12)
    in_zone = steep[steep["zone"].notna()]
    assert summary.loc["990000", "steep_area"] == pytest.approx(
        in_zone["steep_area_m2"].sum() / MU, rel=1e-12
    )
    assert summary.loc["990000", "steep_area"] == pytest.approx(417.89, abs=0.005)
    assert summary.loc["990000", "listed"] == 50
    province = summary.loc["990000"]
    assert province["percent"] == pytest.approx(100 * province["steep_area"] / province["area"])


# --- land cover -----------------------------------------------------------------------------


def test_land_cover_totals_are_the_coverage(report):
    """Independent: the raster-based total of each line per zone is the vector coverage."""
    cover = report.land_cover.set_index(["line", "zone"])
    assert list(report.land_cover.columns[4:8]) == CLASSES
    for row in report.coverage.itertuples():
        total = cover.loc[(row.line, row.zone), "total"]
        assert total == pytest.approx(row.covered_area, rel=1e-7), (row.line, row.zone)
    parts = cover[[*CLASSES, "nodata", "off_raster"]].sum(axis=1)
    assert parts.to_numpy() == pytest.approx(cover["total"].to_numpy(), rel=1e-12)


def test_land_cover_counties_add_up_to_cities_and_province(report):
    for line, table in report.land_cover.groupby("line"):
        frame = table.set_index("zone")
        counties = frame[frame["level"] == "county"]
        columns = [*CLASSES, "nodata", "off_raster", "total"]
        assert counties[columns].sum().to_numpy() == pytest.approx(
            frame.loc["990000", columns].to_numpy(dtype=float), rel=1e-12
        ), line


def test_land_cover_agrees_with_a_count_of_pixel_centres(report, config):
    """Independent: the classes of the pixel centres inside the red line, as shares of it.

    The red line's polygons are large, so the pixels on their edges, which exact coverage
    counts in part and a count of centres wholly or not at all, weigh little. (Farmland parcels
    are small and their edge pixels are forest by construction: there the two differ by 1.3
    points, and exact coverage is the right one.)
    """
    redline = quietly(config.read_layers)["redline"]
    dissolved = shapely.union_all(np.asarray(redline.geometry.dropna().array, dtype=object))
    with rasterio.open(config.rasters.landcover) as dataset:
        values = dataset.read(1)
        transform = dataset.transform
    rows, cols = np.indices(values.shape)
    x, y = centres(transform, cols, rows)
    xmin, ymin, xmax, ymax = dissolved.bounds
    near = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    inside = shapely.contains_xy(dissolved, x[near], y[near])
    classes = values[near][inside]
    province = report.land_cover.set_index(["line", "zone"]).loc[("redline", "990000")]
    for code, name in enumerate(CLASSES, start=1):
        counted = 100.0 * float((classes == code).mean())
        assert 100.0 * province[name] / province["total"] == pytest.approx(counted, abs=0.1), name
    assert province["林地"] / province["total"] > 0.99  # the red line is forest
    pixels = len(classes) * 900.0 / MU  # 30 m pixels, planar: within 0.1 % of the ellipsoid
    assert province["total"] == pytest.approx(pixels, rel=2e-3)


# --- farmland blocks --------------------------------------------------------------------------


def test_block_area_is_the_farmland_area(report, farmland):
    """Independent: the blocks hold every parcel's ellipsoidal area, roads not counted."""
    area = float(quietly(geozones.area, farmland, unit="m2").sum())
    assert report.blocks["area_m2"].sum() == pytest.approx(area, rel=1e-12)
    assert report.block_parts["area_m2"].sum() == pytest.approx(area, rel=1e-12)
    assert report.blocks["parcels"].sum() == farmland.geometry.notna().sum()
    classes = report.blocks["class"].value_counts().to_dict()
    assert classes == {"<100亩": 5, "百亩方": 16, "千亩方": 8, "万亩方": 1}
    mu = report.blocks["area_m2"] / MU
    thresholds = np.searchsorted(CLASS_THRESHOLDS_MU, mu.to_numpy(), side="right")
    names = np.array(["<100亩", "百亩方", "千亩方", "万亩方"])[thresholds]
    assert report.blocks["class"].tolist() == names.tolist()


def test_fragmentation_counties_add_up_and_match_the_block_list(report):
    table = report.fragmentation.set_index("zone")
    parts = report.block_parts
    counties = table[table["level"] == "county"]
    for column in ("farmland_area", "area_under_100mu", "area_100mu", "area_1000mu", "zone_area"):
        assert counties[column].sum() == pytest.approx(table.loc["990000", column], rel=1e-12)
    for code in COUNTIES:
        mine = parts[parts["zone"] == code]
        assert mine["area_m2"].sum() / MU == pytest.approx(
            table.loc[code, "farmland_area"], rel=1e-12
        )
        assert len(mine) == table.loc[code, "blocks"]
    assert table.loc["990000", "blocks"] == len(report.blocks) == 30
    assert not parts["crossing"].any()  # no block of the sample crosses a county line


def test_a_barrier_layer_splits_blocks_and_is_no_quality_finding(tmp_path, report, farmland):
    """A ring (a river line) 1 m around a parcel that touches no other cuts it from its block."""
    parcels = farmland[farmland.geometry.notna()]
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    tree = shapely.STRtree(geoms)
    chosen = None
    for position in range(len(geoms)):  # joined to a neighbour across a gap of 3 to 10 m
        near = tree.query(geoms[position], predicate="dwithin", distance=10.0)
        others = near[near != position]
        if len(others) and shapely.distance(geoms[position], geoms[others]).min() > 3.0:
            chosen = position
            break
    assert chosen is not None
    ring = shapely.LineString(shapely.buffer(geoms[chosen], 1.0).exterior.coords)
    river = gpd.GeoDataFrame({"NAME": ["清溪河"]}, geometry=[ring], crs=parcels.crs)
    river.to_file(tmp_path / "rivers.gpkg", layer="rivers", driver="GPKG")
    extra = (
        '[layers.rivers]\npath = "rivers.gpkg"\nlayer = "rivers"\n\n'
        '[blocks]\ngap_m = 10\nbarriers = "rivers"\n'
    )
    config = geozones.load_config(sample_without_extras(tmp_path, extra))
    assert config.blocks is not None and config.blocks.barriers == "rivers"
    split = quietly(build_report, config)
    assert len(split.blocks) > len(report.blocks)
    alone = split.blocks[split.blocks["parcels"] == 1]
    assert shapely.equals(geoms[chosen], np.asarray(alone.geometry.array, dtype=object)).any()
    assert split.blocks["area_m2"].sum() == pytest.approx(report.blocks["area_m2"].sum())
    problems = " ".join(split.quality["problem"].astype(str))
    assert "non-polygonal" not in problems and "not polygons" not in problems
    assert "rivers" in set(split.sources["layer"])
    assert "障碍图层“rivers”" in render_html(split)


# --- the workbook ---------------------------------------------------------------------------


def test_extra_sheets_are_rounded_so_that_totals_add_up(workbook):
    assert workbook.sheetnames[5:8] == EXTRA_SHEETS
    steep, listed = sheet_tables(workbook["陡坡耕地"])
    for table, columns in (
        (steep, ["评估面积（亩）", "陡坡面积（亩）", "列出图斑面积（亩）", "图斑数", "列出图斑数"]),
    ):
        frame = pd.DataFrame(table)
        counties = frame[frame["级别"] == "县级"]
        for column in columns:
            province = frame.loc[frame["级别"] == "省级", column].item()
            assert sum(cents(v) for v in counties[column]) == cents(province), column
    assert len(listed) == 50
    province = next(row for row in steep if row["级别"] == "省级")
    listed_area = sum(row["评估面积（亩）"] for row in listed)  # exact values in the list
    assert abs(listed_area - province["列出图斑面积（亩）"]) < 0.01

    (cover,) = sheet_tables(workbook["地类构成"])
    frame = pd.DataFrame(cover)
    classes = [f"{name}（亩）" for name in CLASSES] + ["无数据（亩）", "栅格范围外（亩）"]
    for row in cover:  # every row's total is the sum of its classes, to the cent
        assert sum(cents(row[column]) for column in classes) == cents(row["合计（亩）"])
    for line, table in frame.groupby("控制线"):
        counties = table[table["级别"] == "县级"]
        province = table[table["级别"] == "省级"].iloc[0]
        for column in [*classes, "合计（亩）"]:
            assert sum(cents(v) for v in counties[column]) == cents(province[column]), line

    blocks, block_list = sheet_tables(workbook["集中连片"])
    frame = pd.DataFrame(blocks)
    parts = ["不足百亩地块面积（亩）", "百亩方面积（亩）", "千亩方面积（亩）", "万亩方面积（亩）"]
    for row in blocks:
        assert sum(cents(row[column]) for column in parts) == cents(row["永久基本农田面积（亩）"])
    counties = frame[frame["级别"] == "县级"]
    province = frame[frame["级别"] == "省级"].iloc[0]
    for column in [*parts, "永久基本农田面积（亩）", "区域面积（亩）"]:
        assert sum(cents(v) for v in counties[column]) == cents(province[column]), column
    assert len(block_list) == 30
    assert {row["地块等级"] for row in block_list} == {"不足百亩", "百亩方", "千亩方", "万亩方"}


def test_listed_parcels_in_the_workbook_are_the_reports(report, workbook):
    _, listed = sheet_tables(workbook["陡坡耕地"])
    ids = sorted(row["要素编号"] for row in listed)
    assert ids == sorted(report.steep_farmland.index[report.steep_farmland["listed"]])
    assert all(row["陡坡占比（%）"] > 50 for row in listed)


def test_sheets_say_how_their_areas_were_measured(workbook):
    def text(name: str) -> str:
        return " ".join(
            str(value) for row in workbook[name].iter_rows(values_only=True) for value in row
        )

    assert (
        "Horn" in text("陡坡耕地") and "椭球面积" in text("陡坡耕地") and "25°" in text("陡坡耕地")
    )
    assert "landcover.tif" in text("地类构成") and "融合" in text("地类构成")
    assert "10 米" in text("集中连片") and "百亩方" in text("集中连片")
    for name in ("陡坡耕地", "集中连片"):
        headers = next(workbook[name].iter_rows(values_only=True))
        areas = [h for h in headers if "面积" in h]
        assert len(areas) >= 4 and all(h.endswith("（亩）") for h in areas), headers
    headers = next(workbook["地类构成"].iter_rows(values_only=True))
    assert all(h.endswith("（亩）") for h in headers[4:]), headers


def test_english_sheets(report, tmp_path):
    english = dataclasses.replace(report, language="en", unit="ha")
    book = openpyxl.load_workbook(write_workbook(english, tmp_path / "en.xlsx"))
    assert book.sheetnames[5:8] == ["Steep farmland", "Land cover", "Farmland blocks"]
    steep = next(book["Steep farmland"].iter_rows(values_only=True))
    assert "Steep area (ha)" in steep and "Steep share (%)" in steep
    cover = next(book["Land cover"].iter_rows(values_only=True))
    assert "耕地 (ha)" in cover and "Total (ha)" in cover  # class names as configured
    assert "Slope is computed from the DEM" in " ".join(
        str(v) for row in book["Steep farmland"].iter_rows(values_only=True) for v in row
    )


# --- per county -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["990102", "990122"])
def test_county_parts_are_filtered_to_the_county(report, code, tmp_path):
    county = report.for_zone(code)
    assert set(county.steep_farmland["zone"]) <= {code}
    assert county.steep_summary[["level", "zone"]].values.tolist() == [["county", code]]
    assert set(county.land_cover["zone"]) == {code} and len(county.land_cover) == 3
    assert county.fragmentation["zone"].tolist() == [code]
    assert set(county.block_parts["zone"]) == {code}
    assert all(code in zones.split(",") for zones in county.blocks["zone"])
    book = openpyxl.load_workbook(write_workbook(county, tmp_path / f"{code}.xlsx"))
    steep, listed = sheet_tables(book["陡坡耕地"])
    assert [row["行政区代码"] for row in steep] == [code]
    expected = {"990102": 24, "990122": 0}[code]
    assert int(county.steep_farmland["listed"].sum()) == expected
    assert len(listed) == expected
    assert {row["行政区代码"] for row in listed} <= {code}


def test_per_county_tables_sum_to_the_province(report):
    counties = [report.for_zone(code) for code in COUNTIES]
    assert sum(len(part.block_parts) for part in counties) == len(report.block_parts)
    assert sum(part.block_parts["area_m2"].sum() for part in counties) == pytest.approx(
        report.block_parts["area_m2"].sum(), rel=1e-12
    )
    assert sum(int(part.steep_farmland["listed"].sum()) for part in counties) == 50
    province = report.steep_summary.set_index("zone").loc["990000"]
    for column in ("area", "steep_area", "listed_area"):
        total = sum(float(part.steep_summary[column].sum()) for part in counties)
        assert total == pytest.approx(province[column], rel=1e-12)
    cover = report.land_cover.set_index(["line", "zone"])
    for line in ("farmland", "redline", "urban"):
        total = sum(
            float(part.land_cover.set_index("line").loc[line, "total"]) for part in counties
        )
        assert total == pytest.approx(cover.loc[(line, "990000"), "total"], rel=1e-12)


# --- GeoPackage and HTML --------------------------------------------------------------------


def test_geopackage_layers_of_steep_parcels_and_blocks(report, farmland, tmp_path):
    path = write_geopackage(report, tmp_path / "report.gpkg")
    steep = pyogrio.read_dataframe(path, layer="steep_farmland")
    assert sorted(steep["feature"]) == sorted(
        report.steep_farmland.index[report.steep_farmland["listed"]]
    )
    assert (steep["steep_percent"] > 50).all()
    assert steep["area_mu"].to_numpy() == pytest.approx(steep["area_m2"].to_numpy() / MU)
    blocks = pyogrio.read_dataframe(path, layer="blocks")
    area = float(quietly(geozones.area, farmland, unit="m2").sum())
    assert blocks["area_m2"].sum() == pytest.approx(area, rel=1e-9)
    assert set(blocks["class"]) == {"<100亩", "百亩方", "千亩方", "万亩方"}
    assert set(blocks["zone_name"]) <= set(report.zones["name"])
    assert (blocks.geometry.area >= blocks["area_m2"] * 0.99).all()  # outlines hold the parcels


def test_html_sections_tables_and_map(report):
    page = render_html(report)
    for anchor in ("steep", "land-cover", "blocks"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page
    assert page.index('id="audit"') < page.index('id="steep"') < page.index('id="quality"')
    assert "坡度大于 25° 的永久基本农田" in page
    assert "陡坡面积超过图斑评估面积 50% 的图斑" in page
    assert "各控制线内的地类构成（面积单位：亩）" in page
    assert page.count('src="data:image/png;base64,') == 3
    assert "Horn" in page and "间距不超过 10 米" in page


def test_html_escapes_class_names_and_ids(report):
    hostile = "<script>alert(1)</script>"
    cover = report.land_cover.rename(columns={"耕地": hostile})
    steep = report.steep_farmland.copy()
    steep.index = [f"{hostile}{label}" for label in steep.index]
    page = render_html(dataclasses.replace(report, land_cover=cover, steep_farmland=steep))
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;（亩）" in page


# --- without the tables -----------------------------------------------------------------------


def test_a_config_without_rasters_or_blocks_gives_the_report_as_before(tmp_path, report):
    config = geozones.load_config(sample_without_extras(tmp_path))
    assert config.rasters is None and config.blocks is None
    plain = quietly(build_report, config)
    for name in ("steep_farmland", "steep_summary", "land_cover", "blocks", "block_parts"):
        assert getattr(plain, name).empty, name
    assert plain.fragmentation.empty
    pd.testing.assert_frame_equal(plain.coverage, report.coverage)
    book = openpyxl.load_workbook(write_workbook(plain, tmp_path / "plain.xlsx"))
    assert book.sheetnames == ["汇总", "冲突", "冲突汇总", "调整记录", "指标", "数据质量"]
    gpkg = write_geopackage(plain, tmp_path / "plain.gpkg")
    layers = pyogrio.list_layers(gpkg)[:, 0].tolist()
    assert "steep_farmland" not in layers and "blocks" not in layers
    page = render_html(plain)
    assert 'id="steep"' not in page and 'id="blocks"' not in page
    assert page.count('src="data:image/png;base64,') == 2
    county = plain.for_zone("990122")
    assert county.steep_summary.empty and county.blocks.empty
    assert "陡坡耕地" not in render_html(county)


def test_a_file_that_is_no_raster_names_the_key(tmp_path):
    (tmp_path / "broken.tif").write_text("not a raster", encoding="utf-8")
    config = geozones.load_config(
        sample_without_extras(tmp_path, '[rasters]\ndem = "broken.tif"\n')
    )
    with pytest.raises(DataSourceError, match=r"geozones\.toml: rasters\.dem: cannot open"):
        quietly(build_report, config)

"""The TOML configuration of a check: the sample loads and reads; every mistake names its key."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import geozones
from geozones.errors import GeozonesError, LayerNotFoundError
from geozones.workflow.config import (
    BlockSpec,
    Config,
    ConfigError,
    LayerSpec,
    Override,
    RasterSpec,
    Targets,
    ZoneSpec,
    load_config,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

MINIMAL = """\
[zones]
path = "zones.gpkg"
code_field = "XZQDM"

[layers.farmland]
path = "YJJBNT.shp"

[layers.redline]
path = "lines.gpkg"
layer = "STBHHX"

[layers.urban]
path = "lines.gpkg"
layer = "CZKFBJ"
"""

FULL = """\
title = "示范省 三区三线 冲突检查"
language = "zh"
unit = "mu"
sliver_m2 = 200

[zones]
path = "zones.gpkg"
layer = "XZQ"
code_field = "XZQDM"
name_field = "XZQMC"

[layers.farmland]
path = "YJJBNT.shp"
encoding = "GBK"
crs = "EPSG:4527"
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

[layers.core_zone]
path = "lines.gpkg"
layer = "ZRBHD_HXQ"

[resolution]
priority = ["farmland", "redline", "urban"]

[[resolution.overrides]]
name = "核心保护区内耕地调出"
mask = "core_zone"
priority = ["redline", "farmland", "urban"]

[targets]
unit = "km2"
redline_min = 360.0
farmland_min = 25.0
development_intensity_max_percent = 3.0
construction_land = "urban"
"""


def write(folder: Path, text: str, name: str = "geozones.toml") -> Path:
    """Write a configuration and the (empty) files it names: only existence is checked."""
    for data in ("zones.gpkg", "YJJBNT.shp", "lines.gpkg"):
        (folder / data).touch()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def read_quietly(config: Config) -> tuple[dict, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geozones.GeozonesWarning)
        return config.read_layers(), config.read_zones()


# -- the sample ------------------------------------------------------------------------------


def test_sample_config_loads_and_its_layers_read():
    config = load_config(SAMPLE / "geozones.toml")
    assert config.source == SAMPLE / "geozones.toml"
    assert config.title == "示范省 三区三线 冲突检查"
    assert list(config.layers) == ["farmland", "redline", "urban", "core_zone"]
    assert config.layers["farmland"].path == SAMPLE / "YJJBNT.shp"
    assert config.zones == ZoneSpec(SAMPLE / "sanqusanxian.gpkg", "XZQ", "XZQDM", "XZQMC")
    assert config.overrides == (
        Override(
            "核心保护区内耕地调出", "core_zone", ("redline", "core_zone", "farmland", "urban")
        ),
    )

    layers, zones = read_quietly(config)
    assert {key: len(frame) for key, frame in layers.items()} == {
        "farmland": 2916,
        "redline": 51,
        "urban": 9,
        "core_zone": 3,
    }
    assert set(layers["farmland"]["XZQMC"]) <= {
        "东川区",
        "青溪县",
        "白石县",
        "西岭区",
        "云台县",
        "松山县",
    }
    assert sorted(zones["XZQDM"]) == ["990102", "990121", "990122", "990202", "990221", "990222"]

    overrides = config.overrides_for_resolve(layers)
    assert list(overrides) == ["核心保护区内耕地调出"]
    mask, order = overrides["核心保护区内耕地调出"]
    # The mask ranks itself, under the override's name, as resolve_conflicts expects.
    assert mask is layers["core_zone"]
    assert order == ("redline", "核心保护区内耕地调出", "farmland", "urban")


def test_sample_targets_one_passes_one_fails():
    """The comment in sample_data/geozones.toml: red line passes, farmland fails."""
    config = load_config(SAMPLE / "geozones.toml")
    layers, zones = read_quietly(config)
    unit = config.targets.unit
    redline = float(geozones.area(layers["redline"].dissolve(), unit=unit).sum())
    farmland = float(geozones.area(layers["farmland"], unit=unit).sum())
    construction = float(geozones.area(layers[config.targets.construction_land], unit="m2").sum())
    land = float(geozones.area(zones, unit="m2").sum())
    assert config.targets.redline_min is not None and redline >= config.targets.redline_min
    assert config.targets.farmland_min is not None and farmland < config.targets.farmland_min
    intensity = config.targets.development_intensity_max_percent
    assert intensity is not None and 100 * construction / land <= intensity


# -- defaults and paths ----------------------------------------------------------------------


def test_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL, name="东川区 check.toml"))
    assert config.title == "东川区 check"
    assert config.language == "zh"
    assert config.unit == "mu"
    assert config.sliver_m2 == 200.0
    assert config.xy_tolerance == 0.001
    assert config.priority == ("farmland", "redline", "urban")
    assert config.overrides == ()
    assert config.targets == Targets(unit="mu", construction_land="urban")
    assert config.zones.layer is None and config.zones.name_field is None
    assert config.layers["farmland"] == LayerSpec(tmp_path / "YJJBNT.shp")
    assert config.layers["farmland"].declared_area_unit == "m2"


def test_target_unit_defaults_to_the_report_unit(tmp_path):
    config = load_config(write(tmp_path, 'unit = "ha"\n' + MINIMAL + "[targets]\nfarmland_min = 1"))
    assert config.targets == Targets(farmland_min=1.0, unit="ha")


def test_full_layout_loads(tmp_path):
    config = load_config(write(tmp_path, FULL))
    assert config.layers["farmland"] == LayerSpec(
        tmp_path / "YJJBNT.shp", None, "GBK", "EPSG:4527", "BSM", "TBMJ", "m2"
    )
    assert config.targets == Targets(360.0, 25.0, 3.0, "km2", "urban")
    assert config.language == "zh" and config.sliver_m2 == 200.0


def test_relative_paths_are_read_from_the_config_folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    folder = tmp_path / "checks" / "2024"
    data.mkdir()
    folder.mkdir(parents=True)
    write(data, "")
    text = MINIMAL.replace('"YJJBNT.shp"', '"../../data/YJJBNT.shp"')
    text = text.replace('"zones.gpkg"', f'"{(data / "zones.gpkg").as_posix()}"')  # absolute
    text = text.replace('"lines.gpkg"', '"../../data/lines.gpkg"')
    write(folder, text)
    monkeypatch.chdir(tmp_path / "checks")  # a relative config path, cwd elsewhere
    config = load_config(Path("2024") / "geozones.toml")
    assert config.source == folder / "geozones.toml"
    assert config.layers["farmland"].path == data / "YJJBNT.shp"  # absolute, no ".."
    assert config.layers["redline"].path == data / "lines.gpkg"
    assert config.zones.path == data / "zones.gpkg"


def test_crs_infer_and_bom_are_accepted(tmp_path):
    text = MINIMAL.replace('path = "YJJBNT.shp"', 'path = "YJJBNT.shp"\ncrs = "infer"')
    path = write(tmp_path, text)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # Notepad's UTF-8 byte-order mark
    assert load_config(path).layers["farmland"].crs == "infer"


def test_specs_are_frozen(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(AttributeError):
        config.unit = "ha"  # type: ignore[misc]


# -- every mistake names the file and the key -------------------------------------------------

# (id, edit of FULL, dotted key, fragment of the message)
BROKEN = [
    (
        "unknown key, with suggestion",
        lambda t: t.replace('encoding = "GBK"', 'encodng = "GBK"'),
        "layers.farmland.encodng",
        "did you mean 'encoding'",
    ),
    (
        "unknown top-level key",
        lambda t: t.replace('unit = "mu"', 'units = "mu"'),
        "units",
        "did you mean 'unit'",
    ),
    (
        "unknown table",
        lambda t: t.replace("[targets]", "[target]"),
        "target",
        "did you mean 'targets'",
    ),
    (
        "wrong type: number in quotes",
        lambda t: t.replace("sliver_m2 = 200", 'sliver_m2 = "200"'),
        "sliver_m2",
        "expected a number, got a string '200'; write the number without quotes",
    ),
    (
        "wrong type: boolean for a number",
        lambda t: t.replace("sliver_m2 = 200", "sliver_m2 = true"),
        "sliver_m2",
        "expected a number, got a boolean true",
    ),
    (
        "wrong type: integer for a string",
        lambda t: t.replace('layer = "STBHHX"', "layer = 3"),
        "layers.redline.layer",
        'expected a string, got an integer 3; write layer = "3"',
    ),
    (
        "wrong type: layer not a table",
        lambda t: t.replace(
            '[layers.core_zone]\npath = "lines.gpkg"\nlayer = "ZRBHD_HXQ"',
            '[layers]\ncore_zone = "lines.gpkg"',
        ),
        "layers.core_zone",
        "expected a table",
    ),
    (
        "bad unit",
        lambda t: t.replace('unit = "mu"', 'unit = "acre"'),
        "unit",
        "'acre' is not allowed; use one of m2, ha, km2, mu, wan_mu, wan_ha",
    ),
    (
        "unit written in Chinese",
        lambda t: t.replace('unit = "km2"', 'unit = "平方千米"'),
        "targets.unit",
        "did you mean 'km2'",
    ),
    (
        "bad declared-area unit",
        lambda t: t.replace('declared_area_unit = "m2"', 'declared_area_unit = "M²"'),
        "layers.farmland.declared_area_unit",
        "did you mean 'm2'",
    ),
    (
        "declared-area unit without the field",
        lambda t: t.replace('declared_area_field = "TBMJ"\n', ""),
        "layers.farmland.declared_area_unit",
        "declared_area_field is not",
    ),
    (
        "missing required layer",
        lambda t: t.replace("[layers.urban]", "[layers.urbn]"),
        "layers.urban",
        "required layer 'urban' is missing (did you mean 'urbn'?)",
    ),
    (
        "missing required key",
        lambda t: t.replace('code_field = "XZQDM"\n', ""),
        "zones.code_field",
        'missing; add code_field = "XZQDM"',
    ),
    (
        "missing file",
        lambda t: t.replace('path = "YJJBNT.shp"', 'path = "data/YJJBNT2.shp"'),
        "layers.farmland.path",
        "file not found: {folder}/data/YJJBNT2.shp (relative paths are read from {folder})",
    ),
    (
        "missing zone file",
        lambda t: t.replace('path = "zones.gpkg"', 'path = "/nowhere/zones.gpkg"'),
        "zones.path",
        "file not found: /nowhere/zones.gpkg; check the path",
    ),
    (
        "bad encoding",
        lambda t: t.replace('encoding = "GBK"', 'encoding = "GBK2312"'),
        "layers.farmland.encoding",
        "unknown encoding 'GBK2312'",
    ),
    (
        "bad crs",
        lambda t: t.replace('crs = "EPSG:4527"', 'crs = "EPSG:452799"'),
        "layers.farmland.crs",
        "not a CRS pyproj understands",
    ),
    (
        "crs as an integer",
        lambda t: t.replace('crs = "EPSG:4527"', "crs = 4527"),
        "layers.farmland.crs",
        'write crs = "EPSG:4527"',
    ),
    (
        "priority names an unknown layer",
        lambda t: t.replace(
            'priority = ["farmland", "redline", "urban"]\n\n[[',
            'priority = ["farmland", "redlin", "urban"]\n\n[[',
        ),
        "resolution.priority",
        "'redlin' is not a layer key (did you mean 'redline'?)",
    ),
    (
        "priority repeats a layer",
        lambda t: t.replace(
            'priority = ["farmland", "redline", "urban"]\n\n[[',
            'priority = ["farmland", "redline", "farmland"]\n\n[[',
        ),
        "resolution.priority",
        "'farmland' is named twice",
    ),
    (
        "priority not an array",
        lambda t: t.replace(
            'priority = ["farmland", "redline", "urban"]\n\n[[',
            'priority = "farmland, redline, urban"\n\n[[',
        ),
        "resolution.priority",
        "expected an array of layer keys, got a string",
    ),
    (
        "override mask unknown",
        lambda t: t.replace('mask = "core_zone"', 'mask = "core"'),
        "resolution.overrides[0].mask",
        "'core' is not a layer key (did you mean 'core_zone'?)",
    ),
    (
        "override mask in the priority",
        lambda t: t.replace('mask = "core_zone"', 'mask = "redline"'),
        "resolution.overrides[0].mask",
        "'redline' is one of the layers resolution.priority orders",
    ),
    (
        "override priority not a permutation",
        lambda t: t.replace(
            'priority = ["redline", "farmland", "urban"]', 'priority = ["redline", "farmland"]'
        ),
        "resolution.overrides[0].priority",
        "must order the same layers as resolution.priority (farmland, redline, urban), "
        "optionally with the mask 'core_zone' itself, in the order that holds inside the mask; "
        "it leaves out 'urban'",
    ),
    (
        "override with a layer outside the priority",
        lambda t: t.replace(
            'priority = ["redline", "farmland", "urban"]',
            'priority = ["redline", "farmland", "urban", "mining"]',
        ).replace(
            "[resolution]", '[layers.mining]\npath = "lines.gpkg"\nlayer = "KYQ"\n\n[resolution]'
        ),
        "resolution.overrides[0].priority",
        "'mining' is not in resolution.priority",
    ),
    (
        "overrides as a single table",
        lambda t: t.replace("[[resolution.overrides]]", "[resolution.overrides]"),
        "resolution.overrides",
        "(double brackets)",
    ),
    (
        "override without a mask",
        lambda t: t.replace('mask = "core_zone"\n', ""),
        "resolution.overrides[0].mask",
        'missing; add mask = "core_zone" (a layer key) to that [[resolution.overrides]] block',
    ),
    (
        "negative sliver",
        lambda t: t.replace("sliver_m2 = 200", "sliver_m2 = -5"),
        "sliver_m2",
        "must be 0 or more, got -5",
    ),
    (
        "negative tolerance",
        lambda t: t.replace("sliver_m2 = 200", "sliver_m2 = 200\nxy_tolerance = -0.001"),
        "xy_tolerance",
        "must be 0 or more, got -0.001 (metres); 0.001 is ArcGIS's default",
    ),
    (
        "tolerance in millimetres",
        lambda t: t.replace("sliver_m2 = 200", "sliver_m2 = 200\nxy_tolerance = 5"),
        "xy_tolerance",
        "must be at most 1, got 5 (metres)",
    ),
    (
        "tolerance as text",
        lambda t: t.replace("sliver_m2 = 200", 'sliver_m2 = 200\nxy_tolerance = "1mm"'),
        "xy_tolerance",
        "expected a number, got",
    ),
    (
        "bad language",
        lambda t: t.replace('language = "zh"', 'language = "cn"'),
        "language",
        "'cn' is not allowed; use one of zh, en; did you mean 'zh'?",
    ),
    (
        "target zero",
        lambda t: t.replace("redline_min = 360.0", "redline_min = 0"),
        "targets.redline_min",
        "must be more than 0, got 0",
    ),
    (
        "target negative",
        lambda t: t.replace("farmland_min = 25.0", "farmland_min = -25.0"),
        "targets.farmland_min",
        "must be more than 0, got -25.0",
    ),
    (
        "intensity above 100 %",
        lambda t: t.replace(
            "development_intensity_max_percent = 3.0", "development_intensity_max_percent = 300"
        ),
        "targets.development_intensity_max_percent",
        "must be at most 100, got 300; it is a percentage of the land area",
    ),
    (
        "target not finite",
        lambda t: t.replace("redline_min = 360.0", "redline_min = nan"),
        "targets.redline_min",
        "must be a finite number",
    ),
    (
        "construction land not a layer",
        lambda t: t.replace('construction_land = "urban"', 'construction_land = "towns"'),
        "targets.construction_land",
        "'towns' is not a layer key",
    ),
    (
        "empty title",
        lambda t: t.replace('title = "示范省 三区三线 冲突检查"', 'title = " "'),
        "title",
        "is empty",
    ),
]


@pytest.mark.parametrize(
    ("edit", "key", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_every_mistake_names_the_file_and_the_key(tmp_path, edit, key, fragment):
    text = edit(FULL)
    assert text != FULL, "the edit did not apply"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment.format(folder=tmp_path) in message, message
    assert caught.value.key == key
    assert caught.value.source == path


def test_config_error_is_a_geozones_value_error():
    assert issubclass(ConfigError, GeozonesError)
    assert issubclass(ConfigError, ValueError)


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    text = FULL.replace('layer = "STBHHX"', "layer = STBHHX")
    path = write(tmp_path, text)
    line = text.splitlines().index("layer = STBHHX") + 1
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(
        f"{path}: line {line}, column 9 (in [layers.redline]): not valid TOML: Invalid value: "
        "layer = STBHHX; text values need quotes"
    ), message
    assert (caught.value.line, caught.value.column) == (line, 9)
    assert caught.value.key == "layers.redline"


def test_windows_backslashes_get_a_hint(tmp_path):
    text = FULL.replace('path = "YJJBNT.shp"', 'path = "D:\\data\\YJJBNT.shp"')
    line = text.splitlines().index('path = "D:\\data\\YJJBNT.shp"') + 1
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=rf"line {line}, column 13 .*forward slashes"):
        load_config(path)


def test_duplicate_table_is_a_syntax_error(tmp_path):
    path = write(tmp_path, FULL + '\n[layers.urban]\npath = "lines.gpkg"\n')
    with pytest.raises(ConfigError, match=r"line \d+, column \d+ .*given twice"):
        load_config(path)


def test_gbk_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "geozones.toml"
    write(tmp_path, FULL)
    path.write_bytes(FULL.encode("gbk"))
    with pytest.raises(ConfigError, match=r"line 1: not UTF-8 text.*save it again"):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such configuration file"):
        load_config(tmp_path / "nope.toml")


def test_read_errors_name_the_config_key(tmp_path):
    text = MINIMAL.replace('"zones.gpkg"', f'"{(SAMPLE / "sanqusanxian.gpkg").as_posix()}"')
    text = text.replace('"YJJBNT.shp"', f'"{(SAMPLE / "YJJBNT.shp").as_posix()}"')
    text = text.replace('"lines.gpkg"', f'"{(SAMPLE / "sanqusanxian.gpkg").as_posix()}"')
    text = text.replace('layer = "STBHHX"', 'layer = "STBHX"')
    path = write(
        tmp_path, text.replace('code_field = "XZQDM"', 'code_field = "XZQDM"\nlayer = "XZQ"')
    )
    config = load_config(path)
    with pytest.raises(LayerNotFoundError, match=r"geozones\.toml: layers\.redline: .*'STBHX'"):
        read_quietly(config)

    path = write(tmp_path, text.replace('layer = "STBHX"', 'layer = "STBHHX"\nid_field = "BSN"'))
    config = load_config(path)
    with pytest.raises(ConfigError, match=r"layers\.redline\.id_field: 'BSN' .*did you mean 'BSM'"):
        read_quietly(config)


def test_overrides_need_their_mask_layer(tmp_path):
    config = load_config(write(tmp_path, FULL))
    with pytest.raises(ConfigError, match=r"resolution\.overrides\[0\]\.mask: .*'core_zone'"):
        config.overrides_for_resolve({"farmland": None, "redline": None, "urban": None})


# -- [rasters] and [blocks] -------------------------------------------------------------------

EXTRAS = """
[layers.rivers]
path = "lines.gpkg"
layer = "HL"

[rasters]
dem = "dem.tif"
landcover = "landcover.tif"
slope_threshold_deg = 25
steep_share_percent = 50

[rasters.landcover_classes]
1 = "耕地"
2 = "林地"
10 = "水域"

[blocks]
gap_m = 8
barriers = "rivers"
"""


def write_extras(folder: Path, text: str) -> Path:
    """Write a configuration with rasters; the raster files exist (empty)."""
    for data in ("dem.tif", "landcover.tif"):
        (folder / data).touch()
    return write(folder, text)


def test_rasters_and_blocks_load(tmp_path):
    config = load_config(write_extras(tmp_path, FULL + EXTRAS))
    assert config.rasters == RasterSpec(
        dem=tmp_path / "dem.tif",
        landcover=tmp_path / "landcover.tif",
        slope_threshold_deg=25.0,
        steep_share_percent=50.0,
        landcover_classes={1: "耕地", 2: "林地", 10: "水域"},
    )
    assert list(config.rasters.landcover_classes) == [1, 2, 10]  # the file's order
    assert config.blocks == BlockSpec(gap_m=8.0, barriers="rivers")


def test_rasters_and_blocks_are_optional_with_defaults(tmp_path):
    assert load_config(write(tmp_path, FULL)).rasters is None
    assert load_config(write(tmp_path, FULL)).blocks is None
    text = FULL + '\n[rasters]\ndem = "dem.tif"\n\n[blocks]\n'
    config = load_config(write_extras(tmp_path, text))
    assert config.rasters == RasterSpec(dem=tmp_path / "dem.tif")
    assert (config.rasters.slope_threshold_deg, config.rasters.steep_share_percent) == (25, 50)
    assert config.rasters.landcover is None and config.rasters.landcover_classes == {}
    assert config.blocks == BlockSpec(gap_m=10.0, barriers=None)


# (id, edit of FULL + EXTRAS, dotted key, fragment of the message)
BROKEN_EXTRAS = [
    (
        "unknown raster key",
        lambda t: t.replace("slope_threshold_deg = 25", "slope_threshold = 25"),
        "rasters.slope_threshold",
        "did you mean 'slope_threshold_deg'",
    ),
    (
        "missing raster file",
        lambda t: t.replace('dem = "dem.tif"', 'dem = "srtm/dem30.tif"'),
        "rasters.dem",
        "file not found: {folder}/srtm/dem30.tif (relative paths are read from {folder})",
    ),
    (
        "raster path not a string",
        lambda t: t.replace('dem = "dem.tif"', "dem = 30"),
        "rasters.dem",
        'expected a string, got an integer 30; write dem = "30"',
    ),
    (
        "no raster named",
        lambda t: (
            t.replace('dem = "dem.tif"\nlandcover = "landcover.tif"\n', "")
            .replace("slope_threshold_deg = 25\nsteep_share_percent = 50\n", "")
            .replace('[rasters.landcover_classes]\n1 = "耕地"\n2 = "林地"\n10 = "水域"\n', "")
        ),
        "rasters",
        'names no raster; add dem = "dem.tif"',
    ),
    (
        "slope threshold without a DEM",
        lambda t: t.replace('dem = "dem.tif"\n', ""),
        "rasters.slope_threshold_deg",
        "needs a DEM",
    ),
    (
        "classes without a land-cover raster",
        lambda t: t.replace('landcover = "landcover.tif"\n', ""),
        "rasters.landcover_classes",
        'add landcover = "landcover.tif"',
    ),
    (
        "slope of 90° or more",
        lambda t: t.replace("slope_threshold_deg = 25", "slope_threshold_deg = 90"),
        "rasters.slope_threshold_deg",
        "must be less than 90 (degrees), got 90",
    ),
    (
        "slope of 0°",
        lambda t: t.replace("slope_threshold_deg = 25", "slope_threshold_deg = 0"),
        "rasters.slope_threshold_deg",
        "must be more than 0, got 0",
    ),
    (
        "slope in quotes",
        lambda t: t.replace("slope_threshold_deg = 25", 'slope_threshold_deg = "25°"'),
        "rasters.slope_threshold_deg",
        "expected a number, got a string '25°'; write the number without quotes",
    ),
    (
        "steep share of 100 %",
        lambda t: t.replace("steep_share_percent = 50", "steep_share_percent = 100"),
        "rasters.steep_share_percent",
        "must be less than 100, got 100",
    ),
    (
        "steep share as a fraction below 0",
        lambda t: t.replace("steep_share_percent = 50", "steep_share_percent = -0.5"),
        "rasters.steep_share_percent",
        "must be 0 or more, got -0.5; a percentage of each parcel's area",
    ),
    (
        "class code not a number",
        lambda t: t.replace('1 = "耕地"', '"耕地" = 1'),
        "rasters.landcover_classes.耕地",
        "is not a class code; the keys are the pixel values",
    ),
    (
        "class name not a string",
        lambda t: t.replace('2 = "林地"', "2 = 3"),
        "rasters.landcover_classes.2",
        "expected a string, got an integer 3",
    ),
    (
        "class named twice",
        lambda t: t.replace('10 = "水域"', '10 = "林地"'),
        "rasters.landcover_classes.10",
        "'林地' names another class too",
    ),
    (
        "class code given twice",
        lambda t: t.replace('10 = "水域"', '"01" = "水域"'),
        "rasters.landcover_classes.01",
        "names class 1 again",
    ),
    (
        "classes not a table",
        lambda t: t.replace(
            '[rasters.landcover_classes]\n1 = "耕地"\n2 = "林地"\n10 = "水域"\n', ""
        ).replace(
            "steep_share_percent = 50", 'steep_share_percent = 50\nlandcover_classes = "耕地"'
        ),
        "rasters.landcover_classes",
        "expected a table, got a string '耕地'",
    ),
    (
        "negative gap",
        lambda t: t.replace("gap_m = 8", "gap_m = -1"),
        "blocks.gap_m",
        "must be 0 or more, got -1 (m); the widest field road or ditch",
    ),
    (
        "unknown blocks key",
        lambda t: t.replace("gap_m = 8", "tolerance_m = 8"),
        "blocks.tolerance_m",
        "unknown key; the keys of [blocks] are: gap_m, barriers",
    ),
    (
        "barrier not a layer",
        lambda t: t.replace('barriers = "rivers"', 'barriers = "river"'),
        "blocks.barriers",
        "'river' is not a layer key (did you mean 'rivers'?)",
    ),
    (
        "barrier is the farmland",
        lambda t: t.replace('barriers = "rivers"', 'barriers = "farmland"'),
        "blocks.barriers",
        "is the farmland itself",
    ),
    (
        "blocks not a table",
        lambda t: t.replace('[blocks]\ngap_m = 8\nbarriers = "rivers"\n', "").replace(
            "sliver_m2 = 200", "sliver_m2 = 200\nblocks = 10"
        ),
        "blocks",
        "expected a table, got an integer 10; write it as [blocks]",
    ),
]


@pytest.mark.parametrize(
    ("edit", "key", "fragment"),
    [case[1:] for case in BROKEN_EXTRAS],
    ids=[case[0] for case in BROKEN_EXTRAS],
)
def test_every_raster_and_blocks_mistake_names_the_key(tmp_path, edit, key, fragment):
    text = edit(FULL + EXTRAS)
    assert text != FULL + EXTRAS, "the edit did not apply"
    path = write_extras(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment.format(folder=tmp_path) in message, message
    assert caught.value.key == key


def test_errors_named_prefixes_file_and_key_and_keeps_the_type(tmp_path):
    config = load_config(write(tmp_path, FULL))
    with pytest.raises(LayerNotFoundError) as caught, config.errors_named("rasters.dem"):
        raise LayerNotFoundError("cannot open the raster dem.tif")
    assert str(caught.value) == f"{config.source}: rasters.dem: cannot open the raster dem.tif"

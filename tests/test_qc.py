"""质检 (geozones.inspect): each rule finds exactly the defect planted in a clean delivery.

The clean delivery is made here: two counties of 2 km × 2 km, eight farmland parcels, a red-line
and an urban-boundary polygon in each, every field of the default rules filled in, and the
declared areas computed as real deliveries declare them, by the survey formula of
国土调查办发〔2008〕32号, with an implementation of the formula independent of geozones
(``tests/survey_oracle.py``). Other areas (urban boundary, targets) are straight-edge ellipsoidal
areas computed independently: edges segmentized to 1 m in the Gauss–Krüger plane, then Karney's
geodesic area with pyproj.Geod. Each case changes one thing, writes the delivery
(GeoPackage, and File Geodatabase where GDAL's OpenFileGDB writes) and checks that
``geozones.inspect`` reports exactly the findings that change should cause.
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely import box
from survey_oracle import survey_m2

import geozones
from geozones.qc import RULES, inspect, load_rules
from geozones.workflow.config import ConfigError

X0, Y0 = 39_560_000.0, 3_140_000.0
CRS = "EPSG:4527"
COUNTIES = {"990102": "东川区", "990121": "青溪县"}
DEFAULT_RULES = Path(geozones.__file__).parent / "qc" / "default_rules.toml"

Layers = dict[str, gpd.GeoDataFrame]


def karney_m2(geom: shapely.Geometry, crs: str = CRS) -> float:
    """Ellipsoidal area of a polygon with straight edges in `crs`: segmentized, then geodesic."""
    projected = pyproj.CRS(crs)
    fine = shapely.segmentize(geom, 1.0) if projected.is_projected else geom
    geographic = projected.geodetic_crs
    to_lonlat = pyproj.Transformer.from_crs(projected, geographic, always_xy=True)
    lonlat = shapely.transform(fine, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    ellipsoid = geographic.ellipsoid
    geod = pyproj.Geod(a=ellipsoid.semi_major_metre, rf=ellipsoid.inverse_flattening)
    return abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])


def at(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def parcel_row(number: int, county: str, geom: shapely.Geometry) -> dict[str, Any]:
    gross = float(survey_m2([geom], CRS)[0])
    coefficient = 0.05
    deduction = round(gross * coefficient, 2)
    return {
        "BSM": f"{county}NT{number:06d}",
        "YSDM": "2001010100",
        "XZQDM": county,
        "XZQMC": COUNTIES[county],
        "YJJBNTTBBH": f"{county}{number:05d}",
        "TBBH": f"{number:05d}",
        "DLBM": "0101",
        "DLMC": "水田",
        "QSXZ": "30",
        "QSDWDM": f"{county}1010010000000",
        "ZLDWDM": f"{county}1010010000000",
        "YJJBNTTBMJ": gross,
        "KCDLBM": "1203",
        "KCXS": coefficient,
        "KCMJ": deduction,
        "YJJBNTMJ": round(gross - deduction, 2),
        "GDLX": "TT",
        "GDPDJB": "2",
        "GDDB": 5,
        "SJNF": 2023,
        "geometry": geom,
    }


def clean_layers() -> Layers:
    counties = gpd.GeoDataFrame(
        {
            "BSM": ["XZQ0001", "XZQ0002"],
            "YSDM": ["1000600100"] * 2,
            "XZQDM": list(COUNTIES),
            "XZQMC": list(COUNTIES.values()),
            "DCMJ": [4_000_000.0] * 2,
            "JSMJ": [4_000_000.0] * 2,
        },
        geometry=[at(0, 0, 2000, 2000), at(2000, 0, 4000, 2000)],
        crs=CRS,
    )
    rows = []
    for offset, county in ((0.0, "990102"), (2000.0, "990121")):
        for i in range(4):
            for j in range(2):
                x, y = offset + 100 + 100 * i, 100 + 100 * j
                rows.append(parcel_row(len(rows) + 1, county, at(x, y, x + 100, y + 100)))
    farmland = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    farmland = farmland.astype({"GDDB": "int32", "SJNF": "int32"})  # 32-bit, as GDB delivers
    red = [at(1000, 1000, 1500, 1500), at(3000, 1000, 3500, 1500)]
    redline = gpd.GeoDataFrame(
        {
            "BSM": ["HX0001", "HX0002"],
            "YSDM": ["2002000000"] * 2,
            "XZQDM": list(COUNTIES),
            "XZQMC": list(COUNTIES.values()),
            "HXBM": ["HX990102001", "HX990121001"],
            "HXMC": ["东川水源涵养区", "青溪森林生态保护区"],
            "HXLX": ["01", "02"],
            "GKFQ": ["一般控制区", "核心保护区"],
            "MJ": survey_m2(red, CRS),
        },
        geometry=red,
        crs=CRS,
    )
    towns = [at(200, 1200, 700, 1700), at(2200, 1200, 2700, 1700)]
    urban = gpd.GeoDataFrame(
        {
            "BSM": ["CZ0001", "CZ0002"],
            "YSDM": ["2003000000"] * 2,
            "XZQDM": list(COUNTIES),
            "XZQMC": list(COUNTIES.values()),
            "GHFQDM": ["01", "01"],
            "GHFQMC": ["城镇集中建设区"] * 2,
            "MJ": survey_m2(towns, CRS),
        },
        geometry=towns,
        crs=CRS,
    )
    return {"XZQ": counties, "STBHHX": redline, "YJJBNTBHTB": farmland, "CZKFBJ": urban}


def gdb_writable() -> bool:
    return "w" in pyogrio.list_drivers().get("OpenFileGDB", "")


FORMATS = [
    pytest.param("gpkg", id="gpkg"),
    pytest.param(
        "gdb",
        id="filegdb",
        marks=pytest.mark.skipif(not gdb_writable(), reason="GDAL cannot write OpenFileGDB"),
    ),
]


def write(layers: Layers, folder: Path, kind: str) -> Path:
    path = folder / ("delivery.gpkg" if kind == "gpkg" else "delivery.gdb")
    driver = "GPKG" if kind == "gpkg" else "OpenFileGDB"
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver=driver, promote_to_multi=False)
    return path


def found(findings: geozones.qc.Findings) -> set[tuple[str, str | None, str | None]]:
    table = findings.table
    return {
        (rule, layer, feature)
        for rule, layer, feature in zip(
            table["rule"], table["layer"], table["feature"], strict=True
        )
    }


def recompute_mj(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    crs = pyproj.CRS(frame.crs).to_string()
    frame["MJ"] = survey_m2(frame.geometry, crs)
    return frame


def set_value(layer: str, row: int, field: str, value: Any) -> Callable[[Layers], None]:
    def change(layers: Layers) -> None:
        layers[layer].loc[row, field] = value

    return change


def add_parcel(geom: shapely.Geometry, number: int = 99) -> Callable[[Layers], None]:
    def change(layers: Layers) -> None:
        extra = gpd.GeoDataFrame([parcel_row(number, "990102", geom)], geometry="geometry", crs=CRS)
        extra = extra.astype({"GDDB": "int32", "SJNF": "int32"})
        layers["YJJBNTBHTB"] = pd.concat([layers["YJJBNTBHTB"], extra], ignore_index=True)

    return change


def drop_layer(layers: Layers) -> None:
    del layers["CZKFBJ"]


def extra_layer(layers: Layers) -> None:
    layers["BACKUP"] = layers["YJJBNTBHTB"].iloc[:1].copy()


def drop_field(layers: Layers) -> None:
    layers["CZKFBJ"] = layers["CZKFBJ"].drop(columns="GHFQDM")


def text_area(layers: Layers) -> None:
    layers["XZQ"]["DCMJ"] = layers["XZQ"]["DCMJ"].map(lambda v: f"{v:.2f}")


def extra_field(layers: Layers) -> None:
    layers["YJJBNTBHTB"]["TBMJ_OLD"] = layers["YJJBNTBHTB"]["YJJBNTTBMJ"]


def no_crs(layers: Layers) -> None:
    layers["STBHHX"] = layers["STBHHX"].set_crs(None, allow_override=True)


def wrong_zone_declared(layers: Layers) -> None:
    layers["STBHHX"] = layers["STBHHX"].set_crs("EPSG:4528", allow_override=True)


def reproject(crs: str) -> Callable[[Layers], None]:
    def change(layers: Layers) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moved = layers["CZKFBJ"].to_crs(crs)
        grid = 1e-8 if pyproj.CRS(crs).is_geographic else 1e-3  # as delivered data is rounded
        moved["geometry"] = shapely.set_precision(moved.geometry.to_numpy(), grid)
        layers["CZKFBJ"] = recompute_mj(moved)

    return change


def duplicate_id(layers: Layers) -> None:
    layers["YJJBNTBHTB"].loc[1, "BSM"] = layers["YJJBNTBHTB"].loc[0, "BSM"]


def in_other_county(layers: Layers) -> None:
    layers["YJJBNTBHTB"].loc[2, ["XZQDM", "XZQMC"]] = ["990121", "青溪县"]


def wrong_declared(layers: Layers) -> None:
    frame = layers["YJJBNTBHTB"]
    gross = frame.loc[3, "YJJBNTTBMJ"] + 5.0
    deduction = round(gross * frame.loc[3, "KCXS"], 2)
    frame.loc[3, ["YJJBNTTBMJ", "KCMJ", "YJJBNTMJ"]] = [
        gross,
        deduction,
        round(gross - deduction, 2),
    ]


def wrong_deduction(layers: Layers) -> None:
    frame = layers["YJJBNTBHTB"]
    frame.loc[4, "KCMJ"] += 1.0
    frame.loc[4, "YJJBNTMJ"] = round(frame.loc[4, "YJJBNTTBMJ"] - frame.loc[4, "KCMJ"], 2)


def wrong_net(layers: Layers) -> None:
    layers["YJJBNTBHTB"].loc[5, "YJJBNTMJ"] += 1.0


def null_geometry(layers: Layers) -> None:
    frame = layers["YJJBNTBHTB"]
    frame.loc[6, "geometry"] = None


def bow_tie(layers: Layers) -> None:
    frame = layers["YJJBNTBHTB"]
    x0, y0, x1, y1 = frame.geometry.iloc[7].bounds
    frame.loc[7, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])


def multipart(layers: Layers) -> None:
    parts = shapely.MultiPolygon([at(900, 100, 950, 150), at(900, 300, 950, 350)])
    frame = layers["YJJBNTBHTB"]
    frame["geometry"] = [shapely.MultiPolygon([g]) for g in frame.geometry]
    row = parcel_row(99, "990102", parts)
    frame.loc[len(frame)] = row


def overlap_in_layer(layers: Layers) -> None:
    add_parcel(at(190, 400, 290, 500))(layers)  # two new parcels overlapping by 10 m × 100 m
    add_parcel(at(280, 400, 380, 500), number=98)(layers)


def outside(layers: Layers) -> None:
    frame = layers["STBHHX"]
    frame.loc[0, "geometry"] = at(1000, 1800, 1500, 2100)
    recompute_mj(frame)


def zones_overlap(layers: Layers) -> None:
    layers["XZQ"].loc[0, "geometry"] = at(0, 0, 2010, 2000)


def zones_gap(layers: Layers) -> None:
    layers["XZQ"].loc[0, "geometry"] = at(0, 0, 2000, 2000).difference(at(1990, 900, 2000, 1100))


F = "YJJBNTBHTB"
P1, P2, P3 = "990102NT000001", "990102NT000002", "990102NT000003"
CASES: dict[str, tuple[Callable[[Layers], None], set[tuple[str, str | None, str | None]]]] = {
    "SCHEMA-LAYER-MISSING": (drop_layer, {("SCHEMA-LAYER-MISSING", "CZKFBJ", None)}),
    "SCHEMA-LAYER-EXTRA": (extra_layer, {("SCHEMA-LAYER-EXTRA", "BACKUP", None)}),
    "SCHEMA-FIELD-MISSING": (drop_field, {("SCHEMA-FIELD-MISSING", "CZKFBJ", None)}),
    "SCHEMA-FIELD-TYPE": (text_area, {("SCHEMA-FIELD-TYPE", "XZQ", None)}),
    "SCHEMA-FIELD-WIDTH": (set_value(F, 0, "TBBH", "000000001"), {("SCHEMA-FIELD-WIDTH", F, P1)}),
    "SCHEMA-FIELD-EXTRA": (extra_field, {("SCHEMA-FIELD-EXTRA", F, None)}),
    "CRS-MISSING": (no_crs, {("CRS-MISSING", "STBHHX", None)}),
    "CRS-PREFIX": (wrong_zone_declared, {("CRS-PREFIX", "STBHHX", None)}),
    "CRS-DATUM": (reproject("EPSG:2363"), {("CRS-DATUM", "CZKFBJ", None)}),
    "CRS-GEOGRAPHIC": (reproject("EPSG:4490"), {("CRS-GEOGRAPHIC", "CZKFBJ", None)}),
    "CRS-ZONE": (reproject("EPSG:4528"), {("CRS-ZONE", "CZKFBJ", None)}),
    "ID-BSM-MISSING": (set_value(F, 0, "BSM", None), {("ID-BSM-MISSING", F, "1")}),
    "ID-BSM-DUPLICATE": (duplicate_id, {("ID-BSM-DUPLICATE", F, P1)}),
    "CODE-VALUE": (set_value(F, 0, "DLBM", "0201"), {("CODE-VALUE", F, P1)}),
    "CODE-XZQDM-FORMAT": (set_value(F, 0, "XZQDM", "99010"), {("CODE-XZQDM-FORMAT", F, P1)}),
    "CODE-XZQDM-UNKNOWN": (set_value(F, 0, "XZQDM", "990199"), {("CODE-XZQDM-UNKNOWN", F, P1)}),
    "CODE-XZQDM-LOCATION": (in_other_county, {("CODE-XZQDM-LOCATION", F, P3)}),
    "CODE-XZQMC": (set_value(F, 0, "XZQMC", "白石县"), {("CODE-XZQMC", F, P1)}),
    "AREA-DECLARED": (wrong_declared, {("AREA-DECLARED", F, "990102NT000004")}),
    "AREA-DEDUCTION": (wrong_deduction, {("AREA-DEDUCTION", F, "990102NT000005")}),
    "AREA-NET": (wrong_net, {("AREA-NET", F, "990102NT000006")}),
    "GEOM-EMPTY": (null_geometry, {("GEOM-EMPTY", F, "990102NT000007")}),
    "GEOM-INVALID": (bow_tie, {("GEOM-INVALID", F, "990102NT000008")}),
    "GEOM-MULTIPART": (multipart, {("GEOM-MULTIPART", F, "990102NT000099")}),
    "GEOM-SLIVER": (add_parcel(at(900, 100, 905, 105)), {("GEOM-SLIVER", F, "990102NT000099")}),
    "GEOM-THIN": (add_parcel(at(900, 100, 1000, 100.8)), {("GEOM-THIN", F, "990102NT000099")}),
    "GEOM-OVERLAP": (overlap_in_layer, {("GEOM-OVERLAP", F, "990102NT000099")}),
    "GEOM-OUTSIDE": (outside, {("GEOM-OUTSIDE", "STBHHX", "HX0001")}),
    "ZONE-OVERLAP": (zones_overlap, {("ZONE-OVERLAP", "XZQ", "XZQ0001")}),
    "ZONE-GAP": (zones_gap, {("ZONE-GAP", "XZQ", None)}),
    "LINE-CONFLICT": (
        add_parcel(at(1400, 1000, 1550, 1100)),
        {("LINE-CONFLICT", F, "990102NT000099")},
    ),
    "LINE-SLIVER": (add_parcel(at(1499, 1000, 1599, 1100)), {("LINE-SLIVER", F, "990102NT000099")}),
}


@pytest.fixture(scope="module")
def clean() -> Layers:
    return clean_layers()


def planted(clean: Layers, change: Callable[[Layers], None] | None) -> Layers:
    layers = {name: frame.copy() for name, frame in clean.items()}
    if change is not None:
        change(layers)
    return layers


def test_every_rule_has_a_planted_case() -> None:
    targets = {"LINE-EXPANSION", "LINE-TARGET", "AREA-CONTROL"}  # need figures: tested below
    assert set(CASES) | targets == set(RULES)


@pytest.mark.parametrize("kind", FORMATS)
def test_clean_delivery_has_no_findings(clean: Layers, tmp_path: Path, kind: str) -> None:
    findings = inspect(write(planted(clean, None), tmp_path, kind))
    assert len(findings) == 0, findings.table[["rule", "layer", "feature", "message_en"]]
    assert findings.passed
    summary = findings.summary.set_index("rule")
    assert summary.loc["GEOM-EMPTY", "checked"] == 2 + 2 + 16 + 2
    assert summary.loc["AREA-DECLARED", "checked"] == 2 + 16 + 2  # red line, farmland, urban
    assert (summary["failed"] == 0).all()


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("rule", list(CASES))
def test_planted_defect_is_found_alone(clean: Layers, tmp_path: Path, kind: str, rule: str) -> None:
    change, expected = CASES[rule]
    findings = inspect(write(planted(clean, change), tmp_path, kind))
    got = found(findings)
    assert got == expected, findings.table[["rule", "layer", "feature", "message_en"]]
    summary = findings.summary.set_index("rule")
    assert summary.loc[rule, "failed"] == len(findings)
    assert summary["failed"].sum() == len(findings)


def rules_file(folder: Path, extra: str) -> Path:
    """The default rule set with `extra` TOML appended, as a province would adapt it."""
    path = folder / "rules.toml"
    path.write_text(DEFAULT_RULES.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path


def urban_m2(code: str) -> float:
    geom = {"990102": at(200, 1200, 700, 1700), "990121": at(2200, 1200, 2700, 1700)}[code]
    return karney_m2(geom)


def test_expansion_multiple_over_the_limit(clean: Layers, tmp_path: Path) -> None:
    # 2020 urban land of 990102 is the boundary / 1.2 (within 1.3), of 990121 / 1.4 (over)
    land = {
        code: urban_m2(code) / multiple for code, multiple in (("990102", 1.2), ("990121", 1.4))
    }
    rules = rules_file(
        tmp_path,
        '[lines.urban_land_2020]\nunit = "m2"\n'
        + "".join(f'"{code}" = {value:.2f}\n' for code, value in land.items()),
    )
    findings = inspect(write(planted(clean, None), tmp_path, "gpkg"), rules=rules)
    assert found(findings) == {("LINE-EXPANSION", "CZKFBJ", "990121")}
    row = findings.table.iloc[0]
    assert row["zone"] == "990121"
    assert float(row["measured"]) == pytest.approx(1.4, abs=1e-3)
    assert findings.summary.set_index("rule").loc["LINE-EXPANSION", "checked"] == 2


def test_binding_targets_missed(clean: Layers, tmp_path: Path) -> None:
    farmland_km2 = sum(karney_m2(g) for g in clean["YJJBNTBHTB"].geometry) / 1e6
    red_km2 = 2 * karney_m2(at(0, 0, 500, 500)) / 1e6
    rules = rules_file(
        tmp_path,
        f'[targets]\nunit = "km2"\nfarmland_min = {farmland_km2 * 1.001:.6f}\n'
        f"redline_min = {red_km2 * 0.999:.6f}\n",
    )
    findings = inspect(write(planted(clean, None), tmp_path, "gpkg"), rules=rules)
    assert found(findings) == {("LINE-TARGET", "YJJBNTBHTB", None)}
    assert findings.summary.set_index("rule").loc["LINE-TARGET", "checked"] == 2


def test_control_totals(clean: Layers, tmp_path: Path) -> None:
    farmland = clean["YJJBNTBHTB"]
    sums = farmland.groupby("XZQDM")["YJJBNTTBMJ"].sum().round(2)
    rules = rules_file(
        tmp_path,
        '[[areas.control]]\nlayer = "YJJBNTBHTB"\nfield = "YJJBNTTBMJ"\nunit = "m2"\n'
        f'totals = {{ "990102" = {sums["990102"]:.2f}, "990121" = {sums["990121"] + 0.05:.2f} }}\n',
    )
    findings = inspect(write(planted(clean, None), tmp_path, "gpkg"), rules=rules)
    assert found(findings) == {("AREA-CONTROL", F, "990121")}
    row = findings.table.iloc[0]
    assert (row["measured"], row["expected"]) == (
        f"{sums['990121']:.2f}",
        f"{sums['990121'] + 0.05:.2f}",
    )
    assert findings.summary.set_index("rule").loc["AREA-CONTROL", "checked"] == 2


def test_exception_lifts_a_conflict(clean: Layers, tmp_path: Path) -> None:
    """Farmland kept in the red line's general control zone (GKFQ 一般控制区) is allowed."""
    rules = rules_file(
        tmp_path,
        '[[lines.exceptions]]\nname = "一般控制区内保留的永久基本农田"\n'
        'layers = ["YJJBNTBHTB", "STBHHX"]\nfield = "GKFQ"\nvalues = ["一般控制区"]\n',
    )
    general = add_parcel(at(1400, 1000, 1550, 1100))  # into HX0001, 一般控制区
    core = add_parcel(at(3400, 1000, 3550, 1100), number=98)  # into HX0002, 核心保护区

    def both(layers: Layers) -> None:
        general(layers)
        core(layers)
        layers["YJJBNTBHTB"].iloc[-1, list(layers["YJJBNTBHTB"].columns).index("XZQDM")] = "990121"
        layers["YJJBNTBHTB"].iloc[-1, list(layers["YJJBNTBHTB"].columns).index("XZQMC")] = "青溪县"

    findings = inspect(write(planted(clean, both), tmp_path, "gpkg"), rules=rules)
    assert found(findings) == {("LINE-CONFLICT", F, "990102NT000098")}
    summary = findings.summary.set_index("rule")
    assert summary.loc["LINE-CONFLICT", ["failed", "excepted"]].tolist() == [1, 1]


def test_severity_off_and_warning(clean: Layers, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, "")
    text = rules.read_text(encoding="utf-8").replace(
        "[severity]", '[severity]\n"GEOM-SLIVER" = "error"\n"SCHEMA-FIELD-EXTRA" = "off"'
    )
    rules.write_text(text, encoding="utf-8")

    def two(layers: Layers) -> None:
        add_parcel(at(900, 100, 905, 105))(layers)
        extra_field(layers)

    findings = inspect(write(planted(clean, two), tmp_path, "gpkg"), rules=rules)
    assert found(findings) == {("GEOM-SLIVER", F, "990102NT000099")}
    assert findings.table["severity"].tolist() == ["error"]
    assert "SCHEMA-FIELD-EXTRA" not in set(findings.summary["rule"])
    assert not findings.passed and findings.fails_on("error")


@pytest.mark.parametrize(
    ("extra", "key", "hint"),
    [
        ("[areas.oops]\n", "areas.oops", None),
        ('[layers.EXTRA]\nfields.A = { type = "txt" }\n', "layers.EXTRA.fields.A.type", "'text'"),
        (
            '[[lines.exceptions]]\nname = "x"\nlayers = ["YJJBNT", "STBHHX"]\nmask = "XZQ"\n',
            "lines.exceptions[0].layers",
            "'YJJBNTBHTB'",
        ),
    ],
)
def test_rules_errors_name_the_key(
    tmp_path: Path, extra: str, key: str | None, hint: str | None
) -> None:
    path = rules_file(tmp_path, extra)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    if key is not None:
        assert caught.value.key == key
    if hint is not None:
        assert f"did you mean {hint}" in str(caught.value)


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace("xy_tolerance =", "xy_tolerence =")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"xy_tolerence: unknown key \(did you mean 'xy_tolerance'\?\)"
    ):
        load_rules(path)
    severity = rules_file(tmp_path, "")
    severity.write_text(
        severity.read_text(encoding="utf-8").replace(
            "[severity]", '[severity]\n"GEOM-SLIVR" = "off"'
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="did you mean 'GEOM-SLIVER'"):
        load_rules(severity)


def test_default_rules_parse_as_shipped() -> None:
    document = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    rules = load_rules()
    assert set(rules.layers) == set(document["layers"]) == {"XZQ", "STBHHX", "YJJBNTBHTB", "CZKFBJ"}
    assert rules.layers["YJJBNTBHTB"].fields["BSM"].width == 18
    assert not rules.layers["YJJBNTBHTB"].multipart


def test_configuration_as_source(clean: Layers, tmp_path: Path) -> None:
    """A check configuration names the files of the lines and zones; its keys are roles."""
    path = write(planted(clean, add_parcel(at(1400, 1000, 1550, 1100))), tmp_path, "gpkg")
    config = tmp_path / "check.toml"
    config.write_text(
        f'[zones]\npath = "{path.name}"\nlayer = "XZQ"\ncode_field = "XZQDM"\n'
        + "".join(
            f'[layers.{key}]\npath = "{path.name}"\nlayer = "{name}"\nid_field = "BSM"\n'
            for key, name in (("farmland", F), ("redline", "STBHHX"), ("urban", "CZKFBJ"))
        ),
        encoding="utf-8",
    )
    findings = inspect(config)
    assert found(findings) == {("LINE-CONFLICT", F, "990102NT000099")}


# -- the area method: declared areas are checked against the 32号 survey area by default ------

#: Parcels with long slanted edges, free land in 990102: their survey area differs from the
#: straight-edge ellipsoidal one by metres² (axis-parallel 100 m squares agree to 0.01).
LONG_EDGED = {
    "990102NT000097": shapely.Polygon(
        [(X0 + 20, Y0 + 1760), (X0 + 1980, Y0 + 1800), (X0 + 1960, Y0 + 1990), (X0 + 40, Y0 + 1940)]
    ),
    "990102NT000098": shapely.Polygon(
        [(X0 + 600, Y0 + 350), (X0 + 990, Y0 + 360), (X0 + 980, Y0 + 1150)]
    ),
}
DECLARED = {"STBHHX": "MJ", "YJJBNTBHTB": "YJJBNTTBMJ", "CZKFBJ": "MJ"}


def add_long_edged(layers: Layers) -> None:
    for bsm, geom in LONG_EDGED.items():
        add_parcel(geom, number=int(bsm[-2:]))(layers)


def declare_straight_edge(layers: Layers) -> None:
    """Declared areas as the straight-edge ellipsoidal areas (Karney), KCMJ and net consistent."""
    for name, field in DECLARED.items():
        layers[name][field] = [round(karney_m2(g), 2) for g in layers[name].geometry]
    farmland = layers["YJJBNTBHTB"]
    farmland["KCMJ"] = np.round(farmland["YJJBNTTBMJ"] * farmland["KCXS"], 2)
    farmland["YJJBNTMJ"] = np.round(farmland["YJJBNTTBMJ"] - farmland["KCMJ"], 2)


def where_conventions_differ(layers: Layers) -> dict[tuple[str, str], tuple[float, float]]:
    """(layer, BSM) to (survey, straight-edge) m², both rounded, where they differ by > 0.01.

    Rounded figures differ by multiples of 0.01: 0.015 separates "agree" from "differ".
    """
    differ = {}
    for name in DECLARED:
        frame = layers[name]
        survey = survey_m2(frame.geometry, CRS)
        for bsm, geom, by_survey in zip(frame["BSM"], frame.geometry, survey, strict=True):
            straight = round(karney_m2(geom), 2)
            if abs(by_survey - straight) > 0.015:
                differ[(name, bsm)] = (float(by_survey), straight)
    return differ


def rules_with_method(folder: Path, method: str, densify_m: Any = None) -> Path:
    path = folder / "rules.toml"
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert 'area_method = "survey"' in text and "\n[areas]" in text
    text = text.replace('area_method = "survey"', f'area_method = "{method}"')
    if densify_m is not None:
        text = text.replace("\n[areas]", f"\n[areas]\ndensify_m = {densify_m}")
    path.write_text(text, "utf-8")
    return path


def test_area_method_defaults_to_survey(tmp_path: Path) -> None:
    assert load_rules().area_method == "survey"
    document = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    assert document["area_method"] == "survey"
    bare = tmp_path / "bare.toml"  # a rule set that does not say
    bare.write_text(
        "\n".join(
            line for line in DEFAULT_RULES.read_text(encoding="utf-8").splitlines()
            if not line.startswith("area_method")
        ),
        encoding="utf-8",
    )  # fmt: skip
    assert load_rules(bare).area_method == "survey"
    assert load_rules(rules_with_method(tmp_path, "ellipsoidal")).area_method == "ellipsoidal"
    with pytest.raises(ConfigError, match="did you mean 'survey'") as caught:
        load_rules(rules_with_method(tmp_path, "survy"))
    assert caught.value.key == "area_method"


@pytest.mark.parametrize("method", ["survey", "ellipsoidal"])
@pytest.mark.parametrize("declared_by", ["survey", "straight-edge"])
def test_declared_areas_checked_by_the_rules_method(
    clean: Layers, tmp_path: Path, method: str, declared_by: str
) -> None:
    """Declarations follow one convention; only the rule set's other method flags them.

    A delivery declaring the straight-edge areas of long-edged parcels is flagged under the
    default survey rule wherever the two conventions differ by more than 0.01 m², and passes
    under ``area_method = "ellipsoidal"``; a delivery declaring survey areas the other way round.
    """

    def change(layers: Layers) -> None:
        add_long_edged(layers)
        if declared_by == "straight-edge":
            declare_straight_edge(layers)

    layers = planted(clean, change)
    differ = where_conventions_differ(layers)
    assert {bsm for _, bsm in differ} == set(LONG_EDGED)  # the proof is in the data
    rules = None if method == "survey" else rules_with_method(tmp_path, method)  # the default
    findings = inspect(write(layers, tmp_path, "gpkg"), rules=rules)
    assert findings.area_method == method
    agree = (declared_by == "survey") == (method == "survey")
    expected = set() if agree else {("AREA-DECLARED", name, bsm) for name, bsm in differ}
    assert found(findings) == expected, findings.table[["rule", "layer", "feature", "message_en"]]
    name = "32号 survey area" if method == "survey" else "straight-edge ellipsoidal area"
    for row in findings.table.itertuples():
        by_survey, straight = differ[(row.layer, row.feature)]
        declared, computed = (straight, by_survey) if method == "survey" else (by_survey, straight)
        assert (row.measured, row.expected) == (f"{declared:.2f}", f"{computed:.2f}")
        assert f"the geometry's {name} is {computed:.2f} (m2)" in row.message_en


@pytest.mark.parametrize(
    ("method", "densify_m"), [("survey", 0), ("survey", -70), ("ellipsoidal", 70)]
)
def test_densify_m_is_for_the_survey_formula(tmp_path: Path, method: str, densify_m: Any) -> None:
    wrong = r"areas\.densify_m: (must be 0 or more|densifies)"
    with pytest.raises(ConfigError, match=wrong) as caught:
        load_rules(rules_with_method(tmp_path, method, densify_m))
    assert caught.value.key == "areas.densify_m"


def test_survey_declarations_densified_first(clean: Layers, tmp_path: Path) -> None:
    """A tool that densifies edges to 70 m before the formula: its long-edged parcels are
    flagged by the default rule, and pass with ``[areas] densify_m = 70``, which still finds a
    declaration planted 5 m² wrong."""

    def change(layers: Layers) -> None:
        add_long_edged(layers)
        for name, field in DECLARED.items():
            dense = shapely.segmentize(layers[name].geometry.to_numpy(), 70.0)
            layers[name][field] = survey_m2(dense, CRS)
        layers["YJJBNTBHTB"].loc[0, "YJJBNTTBMJ"] += 5.0
        farmland = layers["YJJBNTBHTB"]
        farmland["KCMJ"] = np.round(farmland["YJJBNTTBMJ"] * farmland["KCXS"], 2)
        farmland["YJJBNTMJ"] = np.round(farmland["YJJBNTTBMJ"] - farmland["KCMJ"], 2)

    layers = planted(clean, change)
    differ = {
        (name, bsm)
        for name, field in DECLARED.items()
        for bsm, declared, plain in zip(
            layers[name]["BSM"],
            layers[name][field],
            survey_m2(layers[name].geometry, CRS),
            strict=True,
        )
        if abs(declared - plain) > 0.015
    }
    assert differ == {(F, P1), *((F, bsm) for bsm in LONG_EDGED)}
    path = write(layers, tmp_path, "gpkg")
    assert found(inspect(path)) == {("AREA-DECLARED", name, bsm) for name, bsm in differ}
    densified = inspect(path, rules=rules_with_method(tmp_path, "survey", 70))
    assert found(densified) == {("AREA-DECLARED", F, P1)}
    assert "(edges densified to 70 m)" in densified.table["message_en"].iloc[0]


def test_densify_m_leaves_latitude_longitude_layers_as_given(clean: Layers, tmp_path: Path) -> None:
    """STBHHX may be delivered in EPSG:4490: it has no plane to densify in, and its declared
    areas (the survey formula on its vertices) pass under ``densify_m`` without an error."""

    def geographic_red_line(layers: Layers) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moved = layers["STBHHX"].to_crs("EPSG:4490")
        moved["geometry"] = shapely.set_precision(moved.geometry.to_numpy(), 1e-8)
        layers["STBHHX"] = recompute_mj(moved)

    path = write(planted(clean, geographic_red_line), tmp_path, "gpkg")
    findings = inspect(path, rules=rules_with_method(tmp_path, "survey", 70))
    assert found(findings) == set()
    assert findings.summary.set_index("rule").loc["AREA-DECLARED", "checked"] == 2 + 16 + 2

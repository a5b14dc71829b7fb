"""Build the 质检 sample delivery: ``sample_data/delivery.gpkg`` and ``delivery_rules.toml``.

The delivery is the sample province (``sanqusanxian.gpkg``, ``YJJBNT.shp``) as a county would
deliver it under the database specification: layers XZQ, STBHHX, YJJBNTBHTB and CZKFBJ with
every field of the default rule set. It is first made clean (the deliberate defects of the
sample province are left out, the declared areas computed by the survey formula of
国土调查办发〔2008〕32号 as real deliveries declare them) and checked to give no finding at all;
then one defect of every rule is planted, and ``geozones.inspect`` must find exactly the
planted list, which is written to ``sample_data/README.md`` (the section this script owns, at
its end).

``delivery_rules.toml`` is the province's rule set: the default one plus a required layer the
delivery lacks, the 2020 urban construction land per county, the binding targets and an
exception (farmland kept in the red line's general control zone).

Run from the repository root (after ``scripts/make_sample_data.py``, which calls it)::

    .venv/bin/python scripts/make_sample_delivery.py
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

import geozones
from geozones.errors import GeometryRepairWarning
from geozones.qc import RULES as RULE_IDS
from geozones.qc import inspect

OUT_DIR = Path(__file__).resolve().parent.parent / "sample_data"
DELIVERY = "delivery.gpkg"
RULES = "delivery_rules.toml"
CRS = "EPSG:4527"
FIXED_DATE = "2024-06-01"
README_HEADING = "## The 质检 sample delivery: `delivery.gpkg`"
DEFAULT_RULES = Path(geozones.__file__).parent / "qc" / "default_rules.toml"
TOWN_NAMES = {
    "990102": "东川",
    "990121": "青溪",
    "990122": "白石",
    "990202": "西岭",
    "990221": "云台",
    "990222": "松山",
}


def survey_m2(geoms: Any, crs: str = CRS) -> np.ndarray:
    """Declared area of polygons in `crs` as a county's software fills it, m², rounded to 0.01.

    The survey formula of 国土调查办发〔2008〕32号 (``geozones.area(method="survey")``, the
    vertices as given); ``tests/test_qc.py`` checks the delivery's declared areas against an
    implementation of the formula of its own.
    """
    frame = gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=crs)
    with warnings.catch_warnings():  # the planted bow-tie is measured repaired, as declared
        warnings.simplefilter("ignore", GeometryRepairWarning)
        return np.round(geozones.area(frame, method="survey").to_numpy(dtype=float), 2)


def ellipsoidal_m2(geoms: Any, crs: str = CRS) -> np.ndarray:
    """The area the 质检's sliver rule measures: straight-edge ellipsoidal, m²."""
    frame = gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=crs)
    return geozones.area(frame, method="ellipsoidal").to_numpy(dtype=float)


def read(name: str, layer: str | None = None) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return geozones.read_layer(OUT_DIR / name, layer)


def drop_conflicting(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The sample province without its deliberate defects: a clean delivery to plant into."""
    farmland, red, urban = layers["YJJBNTBHTB"], layers["STBHHX"], layers["CZKFBJ"]
    report = geozones.layer_report(farmland)
    assert report is not None
    broken = set(report.issues["feature"])
    red_report = geozones.layer_report(red)
    assert red_report is not None
    red_broken = set(red_report.issues["feature"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inside = geozones.find_conflicts({"f": farmland, "r": red, "u": urban})
    drop_f = broken | set(inside.loc[inside["layer_a"] == "f", "id_a"])
    drop_f |= set(inside.loc[(inside["layer_a"] == "f") & (inside["layer_b"] == "f"), "id_b"])
    drop_r = red_broken | set(
        inside.loc[(inside["layer_a"] == "r") & (inside["layer_b"] == "r"), "id_b"]
    )
    drop_u = set(inside.loc[(inside["layer_a"] == "r") & (inside["layer_b"] == "u"), "id_b"])
    red = red.drop(index=list(drop_r))
    red = red[ellipsoidal_m2(red.geometry) >= 200]  # the tessellation's slivers (sample #17)
    return {
        "XZQ": layers["XZQ"],
        "STBHHX": red,
        "YJJBNTBHTB": farmland.drop(index=list(drop_f)),
        "CZKFBJ": urban.drop(index=list(drop_u)),
    }


def with_fields(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Every field of the default rule set, filled in as a delivery would."""
    counties = layers["XZQ"]
    names = dict(zip(counties["XZQDM"], counties["XZQMC"], strict=True))
    area = survey_m2(counties.geometry)
    xzq = gpd.GeoDataFrame(
        {
            "BSM": [f"99{i:016d}" for i in range(1, len(counties) + 1)],
            "YSDM": "1000600100",
            "XZQDM": counties["XZQDM"].to_numpy(),
            "XZQMC": counties["XZQMC"].to_numpy(),
            "DCMJ": area,
            "JSMJ": area,
        },
        geometry=counties.geometry.to_numpy(),
        crs=CRS,
    )
    red = layers["STBHHX"]
    stbhhx = gpd.GeoDataFrame(
        {
            "BSM": red["BSM"].to_numpy(),
            "YSDM": "2002000000",
            "XZQDM": red["XZQDM"].to_numpy(),
            "XZQMC": [names[c] for c in red["XZQDM"]],
            "HXBM": [f"{c}{b}" for c, b in zip(red["XZQDM"], red["BSM"], strict=True)],
            "HXMC": red["HXMC"].to_numpy(),
            "HXLX": "01",
            "GKFQ": red["GKFQ"].to_numpy(),
            "MJ": survey_m2(red.geometry),
        },
        geometry=red.geometry.to_numpy(),
        crs=CRS,
    )
    parcels = layers["YJJBNTBHTB"]
    gross = survey_m2(parcels.geometry)
    coefficient = np.where(parcels["DLBM"].to_numpy() == "0103", 0.08, 0.03)
    deduction = np.round(gross * coefficient, 2)
    farmland = gpd.GeoDataFrame(
        {
            "BSM": parcels["BSM"].to_numpy(),
            "YSDM": "2001010100",
            "XZQDM": parcels["XZQDM"].to_numpy(),
            "XZQMC": parcels["XZQMC"].to_numpy(),
            "YJJBNTTBBH": [
                f"{c}{t}" for c, t in zip(parcels["XZQDM"], parcels["TBBH"], strict=True)
            ],
            "TBBH": parcels["TBBH"].to_numpy(),
            "DLBM": parcels["DLBM"].to_numpy(),
            "DLMC": parcels["DLMC"].to_numpy(),
            "QSXZ": "30",
            "QSDWDM": [f"{c}1010010000000" for c in parcels["XZQDM"]],
            "ZLDWDM": [f"{c}1010010000000" for c in parcels["XZQDM"]],
            "YJJBNTTBMJ": gross,
            "KCDLBM": "1203",
            "KCXS": coefficient,
            "KCMJ": deduction,
            "YJJBNTMJ": np.round(gross - deduction, 2),
            "GDLX": "TT",
            "GDPDJB": "2",
            "GDDB": np.full(len(parcels), 5, dtype=np.int32),
            "SJNF": np.full(len(parcels), 2023, dtype=np.int32),
        },
        geometry=parcels.geometry.to_numpy(),
        crs=CRS,
    )
    towns = layers["CZKFBJ"]
    czkfbj = gpd.GeoDataFrame(
        {
            "BSM": towns["BSM"].to_numpy(),
            "YSDM": "2003000000",
            "XZQDM": towns["XZQDM"].to_numpy(),
            "XZQMC": [names[c] for c in towns["XZQDM"]],
            "GHFQDM": "01",
            "GHFQMC": "城镇集中建设区",
            "MJ": survey_m2(towns.geometry),
        },
        geometry=towns.geometry.to_numpy(),
        crs=CRS,
    )
    return {"XZQ": xzq, "STBHHX": stbhhx, "YJJBNTBHTB": farmland, "CZKFBJ": czkfbj}


def province_rules(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    multiple_of: dict[str, float],
    farmland_short: float,
    control: dict[str, float],
) -> str:
    """The province's rule set: the default plus a layer, urban land, targets, an exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = layers["XZQ"].rename(columns={"XZQDM": "zone"})
        urban = geozones.coverage(layers["CZKFBJ"], zones, by="zone", unit="mu")["covered_area"]
        farmland = geozones.coverage(layers["YJJBNTBHTB"], zones, by="zone", unit="km2")
        red = geozones.coverage(layers["STBHHX"], zones, by="zone", unit="km2")
    land = "".join(
        f'"{code}" = {urban[code] / multiple_of.get(code, 1.2):.2f}\n'
        for code in urban.index
        if urban[code] > 0
    )
    return (
        DEFAULT_RULES.read_text(encoding="utf-8").replace(
            'title = "三区三线成果质检"', 'title = "示范省三区三线成果质检（省级规则）"'
        )
        + "\n# ---- 示范省 additions (scripts/make_sample_delivery.py) ----\n\n"
        + "[layers.ZRBHD]             # 自然保护地: the province requires it\n"
        + 'id_field = "BSM"\nfields.BSM = { type = "text", width = 18 }\n'
        + 'fields.MC = { type = "text", width = 100 }\n\n'
        + "[layers.ZRBHD_HXQ]         # 自然保护地核心保护区, where delivered\n"
        + 'optional = true\nid_field = "BSM"\nfields.BSM = { type = "text", width = 18 }\n'
        + 'fields.MC = { type = "text", width = 100 }\n\n'
        + "[lines.urban_land_2020]    # 2020 urban construction land per county (亩)\n"
        + 'unit = "mu"\n'
        + land
        + "\n[targets]                  # binding targets of the province's plan\n"
        + 'unit = "km2"\n'
        + f"redline_min = {float(red['covered_area'].sum()) * 0.98:.2f}\n"
        + f"farmland_min = {float(farmland['covered_area'].sum()) + farmland_short:.2f}\n\n"
        + "[[areas.control]]          # control totals of the farmland per county (m²)\n"
        + 'layer = "YJJBNTBHTB"\nfield = "YJJBNTTBMJ"\nunit = "m2"\n'
        + "totals = { "
        + ", ".join(f'"{code}" = {total:.2f}' for code, total in control.items())
        + " }\n\n"
        + "[[lines.exceptions]]\n"
        + 'name = "一般控制区内保留的永久基本农田"\n'
        + 'layers = ["YJJBNTBHTB", "STBHHX"]\nfield = "GKFQ"\nvalues = ["一般控制区"]\n'
    )


def control_totals(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, float]:
    """The farmland's declared area per county (first six digits of XZQDM), as a province
    publishes its control totals; codes that name no county are left out."""
    parcels = layers["YJJBNTBHTB"]
    county = parcels["XZQDM"].astype("string").str[:6]
    sums = parcels["YJJBNTTBMJ"].round(2).groupby(county.to_numpy()).sum()
    return {code: round(float(sums[code]), 2) for code in TOWN_NAMES if code in sums.index}


class Planter:
    """Finds free land and plants defects, recording what inspect must find."""

    def __init__(self, layers: dict[str, gpd.GeoDataFrame]) -> None:
        self.layers = {name: frame.reset_index(drop=True) for name, frame in layers.items()}
        self.expected: list[tuple[str, str | None, str | None, str]] = []
        self.counter = 900000

    def expect(self, rule: str, layer: str | None, feature: str | None, what: str) -> None:
        self.expected.append((rule, layer, feature, what))

    def occupied(self) -> shapely.STRtree:
        geoms = np.concatenate(
            [self.layers[n].geometry.to_numpy() for n in ("STBHHX", "YJJBNTBHTB", "CZKFBJ")]
        )
        return shapely.STRtree(geoms[~shapely.is_missing(geoms)])

    def free_box(self, county: str, width: float, height: float, skip: int = 0) -> shapely.Polygon:
        """A box of free land (20 m from every feature), 100 m inside `county`."""
        outline = self.layers["XZQ"].set_index("XZQDM").geometry[county]
        inner = outline.buffer(-100)
        tree = self.occupied()
        x0, y0, x1, y1 = inner.bounds
        found = 0
        for y in np.arange(y0, y1, 250.0):
            for x in np.arange(x0, x1, 250.0):
                candidate = shapely.box(x, y, x + width, y + height)
                if not inner.contains(candidate):
                    continue
                if len(tree.query(candidate.buffer(20), predicate="intersects")):
                    continue
                if found == skip:
                    return candidate
                found += 1
        raise RuntimeError(f"no free land in {county}")

    def parcel(self, geom: Any, county: str, **fields: Any) -> str:
        farmland = self.layers["YJJBNTBHTB"]
        template = farmland[farmland["XZQDM"] == county].iloc[0].to_dict()
        self.counter += 1
        bsm = f"NT{self.counter}"
        gross = float(survey_m2([geom])[0]) if not shapely.is_missing(geom) else 0.0
        deduction = round(gross * template["KCXS"], 2)
        template.update(
            BSM=bsm,
            TBBH=f"{self.counter % 100000:05d}",
            YJJBNTTBBH=f"{county}{self.counter % 100000:05d}",
            YJJBNTTBMJ=gross,
            KCMJ=deduction,
            YJJBNTMJ=round(gross - deduction, 2),
            geometry=geom,
        )
        template.update(fields)
        row = gpd.GeoDataFrame([template], geometry="geometry", crs=CRS)
        row = row.astype({"GDDB": "int32", "SJNF": "int32"})
        self.layers["YJJBNTBHTB"] = pd.concat([farmland, row], ignore_index=True)
        return bsm

    def value(self, layer: str, feature: str, field: str) -> Any:
        frame = self.layers[layer]
        return frame.at[frame.index[frame["BSM"] == feature][0], field]

    def edit(self, layer: str, feature: str, **values: Any) -> None:
        frame = self.layers[layer]
        row = frame.index[frame["BSM"] == feature][0]
        for key, value in values.items():
            frame.at[row, key] = value

    def red_feature(self, county: str, zone: str, bsm: str, geom: Any) -> None:
        red = self.layers["STBHHX"]
        template = red[red["XZQDM"] == county].iloc[0].to_dict()
        template.update(BSM=bsm, GKFQ=zone, HXBM=f"{county}{bsm}", MJ=float(survey_m2([geom])[0]))
        template.update(geometry=geom, HXMC=f"{TOWN_NAMES[county]}{zone}补充图斑")
        row = gpd.GeoDataFrame([template], geometry="geometry", crs=CRS)
        self.layers["STBHHX"] = pd.concat([red, row], ignore_index=True)

    def parcel_in(self, county: str, skip: int) -> pd.Series:
        """A rectangular-enough parcel of `county` with 10 m of free land on its east side."""
        farmland = self.layers["YJJBNTBHTB"]
        tree = self.occupied()
        found = 0
        for _, row in farmland[farmland["XZQDM"] == county].iterrows():
            geom = row.geometry
            if geom is None or geom.geom_type != "Polygon":
                continue
            _, y0, x1, y1 = geom.bounds
            if y1 - y0 < 80:
                continue
            strip = shapely.box(x1 + 0.5, y0, x1 + 4.0, y1)
            if len(tree.query(strip, predicate="intersects")):
                continue
            if found == skip:
                return row
            found += 1
        raise RuntimeError(f"no parcel with free land east of it in {county}")


def plant(layers: dict[str, gpd.GeoDataFrame]) -> Planter:
    p = Planter(layers)
    farmland = p.layers["YJJBNTBHTB"]
    ids = list(farmland.loc[farmland["XZQDM"] == "990102", "BSM"])
    ids_b = list(farmland.loc[farmland["XZQDM"] == "990121", "BSM"])
    F = "YJJBNTBHTB"
    # schema
    p.expect(
        "SCHEMA-LAYER-MISSING", "ZRBHD", None, "the province's rules require 自然保护地 (ZRBHD)"
    )
    backup = farmland.iloc[:20].copy()
    p.layers["YJJBNTBHTB_BAK"] = backup
    p.expect("SCHEMA-LAYER-EXTRA", "YJJBNTBHTB_BAK", None, "a backup copy left in the database")
    p.layers["CZKFBJ"] = p.layers["CZKFBJ"].drop(columns="GHFQDM")
    p.expect("SCHEMA-FIELD-MISSING", "CZKFBJ", None, "CZKFBJ has no GHFQDM")
    p.layers["XZQ"]["DCMJ"] = p.layers["XZQ"]["DCMJ"].map(lambda v: f"{v:.2f}")
    p.expect("SCHEMA-FIELD-TYPE", "XZQ", None, "XZQ.DCMJ is text")
    p.edit(F, ids[0], TBBH="990102001")
    p.expect("SCHEMA-FIELD-WIDTH", F, ids[0], "TBBH of 9 characters (width 8)")
    p.layers[F] = p.layers[F].assign(BZ_OLD="")
    p.expect("SCHEMA-FIELD-EXTRA", F, None, "a field BZ_OLD not in the rules")
    # CRS
    p.layers["YJJBNTBHTB_BAK"] = backup.set_crs("EPSG:4528", allow_override=True)
    p.expect("CRS-PREFIX", "YJJBNTBHTB_BAK", None, "declared zone 40, coordinates carry zone 39")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        towns = p.layers["CZKFBJ"].to_crs("EPSG:4490")
    towns["geometry"] = shapely.set_precision(towns.geometry.to_numpy(), 1e-8)
    towns["MJ"] = survey_m2(towns.geometry, "EPSG:4490")
    p.layers["CZKFBJ"] = towns
    p.expect("CRS-GEOGRAPHIC", "CZKFBJ", None, "CZKFBJ in EPSG:4490; the rules allow only STBHHX")
    cores = read("sanqusanxian.gpkg", "ZRBHD_HXQ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        moved = cores[["BSM", "MC", "geometry"]].to_crs("EPSG:2364")
    moved["geometry"] = shapely.set_precision(moved.geometry.to_numpy(), 1e-3)
    p.layers["ZRBHD_HXQ"] = moved
    p.expect("CRS-DATUM", "ZRBHD_HXQ", None, "core zones in Xian 1980 (EPSG:2364)")
    p.expect("CRS-ZONE", "ZRBHD_HXQ", None, "core zones in 3° zone 40 (central meridian 120°E)")
    # identifiers and codes
    p.edit(F, ids[1], BSM=None)
    p.expect("ID-BSM-MISSING", F, None, f"BSM of {ids[1]} left empty (named by its FID)")
    p.edit(F, ids[3], BSM=ids[2])
    p.expect("ID-BSM-DUPLICATE", F, ids[2], f"{ids[3]} given the BSM of {ids[2]} (two findings)")
    p.edit(F, ids[4], DLBM="0201")
    p.expect("CODE-VALUE", F, ids[4], "DLBM 0201 (orchard) in the farmland")
    p.edit(F, ids[5], XZQDM="99010")
    p.expect("CODE-XZQDM-FORMAT", F, ids[5], "XZQDM 99010, five digits")
    p.edit(F, ids[6], XZQDM="990199")
    p.expect("CODE-XZQDM-UNKNOWN", F, ids[6], "XZQDM 990199, no such county")
    p.edit(F, ids[7], XZQDM="990121", XZQMC="青溪县")
    p.expect("CODE-XZQDM-LOCATION", F, ids[7], "a 东川区 parcel coded 990121 青溪县")
    p.edit(F, ids[8], XZQMC="白石县")
    p.expect("CODE-XZQMC", F, ids[8], "990102 named 白石县")
    # areas
    gross = float(p.value(F, ids[9], "YJJBNTTBMJ")) + 12.5
    deduction = round(gross * float(p.value(F, ids[9], "KCXS")), 2)
    p.edit(F, ids[9], YJJBNTTBMJ=gross, KCMJ=deduction, YJJBNTMJ=round(gross - deduction, 2))
    p.expect("AREA-DECLARED", F, ids[9], "YJJBNTTBMJ 12.5 m² more than the geometry")
    deduction = float(p.value(F, ids[10], "KCMJ")) + 3.0
    net = round(float(p.value(F, ids[10], "YJJBNTTBMJ")) - deduction, 2)
    p.edit(F, ids[10], KCMJ=deduction, YJJBNTMJ=net)
    p.expect("AREA-DEDUCTION", F, ids[10], "KCMJ 3 m² more than round(YJJBNTTBMJ × KCXS, 2)")
    p.edit(F, ids[11], YJJBNTMJ=float(p.value(F, ids[11], "YJJBNTMJ")) + 1.0)
    p.expect("AREA-NET", F, ids[11], "YJJBNTMJ 1 m² more than YJJBNTTBMJ − KCMJ")
    # geometry
    p.edit(F, ids[12], geometry=None)
    p.expect("GEOM-EMPTY", F, ids[12], "geometry lost")
    p.expect("AREA-CONTROL", F, "990202", "西岭区's control total 100 m² under its parcels' sum")
    x0, y0, x1, y1 = p.free_box("990102", 50, 50).bounds
    tie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    bow = p.parcel(tie, "990102", YJJBNTTBMJ=2500.0, KCXS=0.03, KCMJ=75.0, YJJBNTMJ=2425.0)
    p.expect("GEOM-INVALID", F, bow, "a bow-tie: corners of a 50 m square swapped")
    a = p.free_box("990122", 40, 40)
    two = shapely.MultiPolygon([a, shapely.affinity.translate(a, 0, 60)])
    multi = p.parcel(two, "990122", XZQMC="白石县")
    p.expect("GEOM-MULTIPART", F, multi, "a parcel of two parts 20 m apart")
    sliver = p.parcel(p.free_box("990202", 6, 6), "990202", XZQMC="西岭区")
    p.expect("GEOM-SLIVER", F, sliver, "a parcel of 36 m² (minimum 50 m²)")
    thin = p.parcel(p.free_box("990221", 120, 0.8), "990221", XZQMC="云台县")
    p.expect("GEOM-THIN", F, thin, "a parcel 120 m × 0.8 m")
    base = p.free_box("990222", 60, 60)
    first = p.parcel(base, "990222", XZQMC="松山县")
    p.parcel(shapely.affinity.translate(base, 50, 0), "990222", XZQMC="松山县")
    p.expect("GEOM-OVERLAP", F, first, "two new parcels overlapping by 10 m × 60 m")
    outline = shapely.union_all(p.layers["XZQ"].geometry.to_numpy())
    tree = p.occupied()
    edge = outline.exterior
    for fraction in np.linspace(0.0, 1.0, 400, endpoint=False):
        point = edge.interpolate(fraction, normalized=True)
        across = shapely.box(point.x - 25, point.y - 25, point.x + 25, point.y + 25)
        if not len(tree.query(across.buffer(20), predicate="intersects")):
            county = p.layers["XZQ"][p.layers["XZQ"].intersects(across)]
            if len(county) == 1:
                break
    code = str(county["XZQDM"].iloc[0])
    out = p.parcel(across, code, XZQMC=str(county["XZQMC"].iloc[0]))
    p.expect("GEOM-OUTSIDE", F, out, "a parcel across the province's outer boundary")
    counties = p.layers["XZQ"].set_index("XZQDM")
    shared = counties.geometry["990102"].intersection(counties.geometry["990121"])
    for fraction in np.linspace(0.1, 0.9, 81):
        point = shared.interpolate(fraction, normalized=True)
        notch = shapely.box(point.x - 15, point.y - 15, point.x + 15, point.y + 15)
        if not len(tree.query(notch.buffer(10), predicate="intersects")):
            break
    xzq = p.layers["XZQ"]
    row_a = xzq.index[xzq["XZQDM"] == "990102"][0]
    xzq.at[row_a, "geometry"] = xzq.at[row_a, "geometry"].union(notch)
    p.expect("ZONE-OVERLAP", "XZQ", xzq.at[row_a, "BSM"], "东川区 reaches 15 m into 青溪县")
    shared = counties.geometry["990202"].intersection(counties.geometry["990221"])
    for fraction in np.linspace(0.1, 0.9, 81):
        point = shared.interpolate(fraction, normalized=True)
        hole = shapely.box(point.x - 15, point.y - 15, point.x + 15, point.y + 15)
        if not len(tree.query(hole.buffer(10), predicate="intersects")):
            break
    for code in ("990202", "990221"):
        row = xzq.index[xzq["XZQDM"] == code][0]
        xzq.at[row, "geometry"] = xzq.at[row, "geometry"].difference(hole)
    p.expect("ZONE-GAP", "XZQ", None, "a 30 m × 30 m hole where 西岭区 meets 云台县")
    # the lines: a small red-line polygon over the east edge of a parcel, reaching into the road
    skip = 0
    for depth, zone, rule, bsm in (
        (None, "核心保护区", "LINE-CONFLICT", "HX901"),
        (1.0, "核心保护区", "LINE-SLIVER", "HX902"),
        (None, "一般控制区", None, "HX903"),
    ):
        while True:  # the next parcel whose east edge the polygon can cross alone
            target = p.parcel_in("990121", skip)
            skip += 1
            x0, y0, x1, y1 = target.geometry.bounds
            middle, half = (y0 + y1) / 2, (y1 - y0) * 0.3
            reach = depth if depth is not None else (x1 - x0) / 2  # a sliver, or half the parcel
            red = shapely.box(x1 - reach, middle - half, x1 + 3.0, middle + half)
            others = p.layers[F].geometry.to_numpy()
            if (shapely.area(shapely.intersection(others, red)) > 0).sum() == 1:
                break
        p.red_feature("990121", zone, bsm, red)
        overlap = shapely.area(red.intersection(target.geometry))
        if rule is not None:
            p.expect(rule, F, str(target["BSM"]), f"red line {bsm} ({zone}) over {overlap:.0f} m²")
    del ids_b
    p.layers["STBHHX"] = p.layers["STBHHX"].set_crs(None, allow_override=True)
    p.expect("CRS-MISSING", "STBHHX", None, "STBHHX written without a CRS (inferred EPSG:4527)")
    p.expect(
        "LINE-EXPANSION",
        "CZKFBJ",
        "990222",
        "松山县's urban boundary is 1.5 × its 2020 urban construction land (limit 1.3)",
    )
    p.expect("LINE-TARGET", F, None, "farmland 0.5 km² under the province's target")
    return p


def write(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write the layers, dates pinned so that the file is the same from run to run."""
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{FIXED_DATE}T00:00:00Z"})
    path.unlink(missing_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided": planted
        for name, frame in layers.items():
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=False)


def readme_section(expected: list[tuple[str, str | None, str | None, str]], found: Any) -> str:
    order = list(RULE_IDS)
    rows = "\n".join(
        f"| `{rule}` | {layer or ''} | {f'`{feature}`' if feature else ''} | {what} |"
        for rule, layer, feature, what in sorted(expected, key=lambda row: order.index(row[0]))
    )
    summary = found.summary
    return f"""{README_HEADING}

Made by `scripts/make_sample_delivery.py` (which `scripts/make_sample_data.py` runs last): the
sample province as a county delivers it to the 质检, in one GeoPackage with the layers of the
database specification, `XZQ`, `STBHHX`, `YJJBNTBHTB` and `CZKFBJ`, with every field of the
default rule set (`geozones/qc/default_rules.toml`), plus two layers the rules do not expect.
`delivery_rules.toml` is the province's rule set: the default one, plus a required layer
`ZRBHD`, the 2020 urban construction land of each county (亩), the binding targets, the
control totals of the farmland per county, and an exception allowing farmland in the red
line's general control zone (一般控制区).

The script first builds the delivery without the deliberate defects of the sample province
(parcels and polygons in a conflict or an overlap, invalid, null or duplicated, and the red
line's tessellation slivers are left out) and with declared areas (MJ, YJJBNTTBMJ, DCMJ,
JSMJ) computed by the survey formula of 国土调查办发〔2008〕32号 on CGCS2000, as real deliveries
declare them (`tests/test_qc.py` checks them against an implementation of the formula of its
own), and asserts that `geozones.inspect` finds nothing in it. Then it plants one defect of
every rule and asserts that
`geozones qc sample_data/delivery.gpkg --rules sample_data/delivery_rules.toml`
finds exactly these ({found.count("error")} errors, {found.count("warning")} warnings; the
duplicate BSM is two findings, one per feature), and that one conflict is excepted
(`HX903`, 一般控制区). `make demo` writes its report to `output/qc/`.

| rule | layer | feature | planted defect |
|---|---|---|---|
{rows}

Rules applied: {len(summary)}; features checked for empty geometry:
{int(summary.set_index("rule").loc["GEOM-EMPTY", "checked"]):,d}.
"""


def main() -> None:
    base = {
        "XZQ": read("sanqusanxian.gpkg", "XZQ"),
        "STBHHX": read("sanqusanxian.gpkg", "STBHHX"),
        "YJJBNTBHTB": read("YJJBNT.shp"),
        "CZKFBJ": read("sanqusanxian.gpkg", "CZKFBJ"),
    }
    clean = with_fields(drop_conflicting(base))
    clean_rules = province_rules(
        clean, multiple_of={}, farmland_short=-0.5, control=control_totals(clean)
    )
    scratch = OUT_DIR / ".delivery-clean.gpkg"
    rules_path = OUT_DIR / RULES
    try:
        write(clean, scratch)
        rules_path.write_text(
            clean_rules.replace("[layers.ZRBHD]", "[layers.ZRBHD]\noptional = true"),
            encoding="utf-8",
        )
        findings = inspect(scratch, rules=rules_path)
        assert len(findings) == 0, findings.table[["rule", "layer", "feature", "message_en"]]
    finally:
        scratch.unlink(missing_ok=True)
    planter = plant(clean)
    control = control_totals(planter.layers)
    control["990202"] -= 100.0  # the planted AREA-CONTROL
    rules_text = province_rules(
        clean, multiple_of={"990222": 1.5}, farmland_short=0.5, control=control
    )
    write(planter.layers, OUT_DIR / DELIVERY)
    rules_path.write_text(rules_text, encoding="utf-8")
    found = inspect(OUT_DIR / DELIVERY, rules=rules_path)
    # the parcel whose BSM was emptied is named by its FID: compare it by rule and layer only
    got = {
        (rule, layer, None if rule == "ID-BSM-MISSING" else feature)
        for rule, layer, feature in zip(
            found.table["rule"], found.table["layer"], found.table["feature"], strict=True
        )
    }
    wanted = {(rule, layer, feature) for rule, layer, feature, _ in planter.expected}
    assert got == wanted, (sorted(got - wanted, key=str), sorted(wanted - got, key=str))
    assert (found.table["rule"] == "ID-BSM-MISSING").sum() == 1
    assert found.summary.set_index("rule").loc["LINE-CONFLICT", "excepted"] == 1
    assert set(found.summary["rule"][found.summary["failed"] > 0]) == set(found.summary["rule"])
    readme = OUT_DIR / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_HEADING in text:
        text = text[: text.index(README_HEADING)].rstrip() + "\n"
    readme.write_text(text + "\n" + readme_section(planter.expected, found), encoding="utf-8")
    print(f"wrote {OUT_DIR / DELIVERY} and {rules_path}: {len(found)} findings, every rule once")


if __name__ == "__main__":
    main()

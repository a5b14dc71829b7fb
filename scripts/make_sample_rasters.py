"""Build the synthetic DEM and land-cover rasters of the sample province in ``sample_data/``.

Deterministic (no random numbers at all: every feature of the terrain is placed from the sample
vector layers or by fixed constants), no network. Writes, overwriting only these two files:

- ``dem.tif``: elevation in metres, float32 (rounded to 0.1 m), nodata -9999 in one small void;
- ``landcover.tif``: uint8 classes 1 cropland (耕地), 2 forest (林地), 3 water (水域),
  4 built-up (建设用地), 0 nodata outside the province.

Both are EPSG:4527 (CGCS2000 3° Gauss-Krüger zone 39), 30 m pixels over the province's box
(eastings 39,561,000-39,639,000, northings 3,131,000-3,189,000: 2600 × 1934 pixels), tiled
256 × 256, DEFLATE with horizontal differencing (1.5 MB and 0.06 MB).

The terrain: a plain rising gently to the west, one smooth hill (a Gaussian, 150-450 m high)
under each red-line polygon (ecological land is hilly), and three knolls, round flat-topped
hills 140-160 m high with sides up to 42-43° steep, centred on the farmland parcels ``KNOLLS``
names, so that the parcels on their flanks lie on slopes over 25°. Away from the knolls no
farmland is steeper than 18°. A 600 m × 450 m void (nodata) sits in the hills of HX024, away
from farmland.

The land cover: forest above 150 m or on slopes over 15° and inside the red line, cropland
elsewhere; water along a river and a reservoir in HX006; built-up inside every urban-boundary
polygon (except 40 m around its farmland, kept as cropland) and in village blocks; farmland
parcels are cropland, except three villages that were built on farmland (in ``BUILT_ON``
parcels); two villages are inside the red line (``RED_LINE_VILLAGES``). The script prints the
parcels its steep-farmland check lists.

Run from the repository root::

    .venv/bin/python scripts/make_sample_rasters.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from affine import Affine
from rasterio import features
from shapely import LineString

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
DEM_PATH = SAMPLE / "dem.tif"
LANDCOVER_PATH = SAMPLE / "landcover.tif"
CRS = "EPSG:4527"
RESOLUTION = 30.0
LEFT, BOTTOM, RIGHT, TOP = 39_561_000.0, 3_131_000.0, 39_639_000.0, 3_189_000.0
WIDTH = int(np.ceil((RIGHT - LEFT) / RESOLUTION))
HEIGHT = int(np.ceil((TOP - BOTTOM) / RESOLUTION))
TRANSFORM = Affine(RESOLUTION, 0.0, LEFT, 0.0, -RESOLUTION, TOP)
DEM_NODATA = -9999.0

CROPLAND, FOREST, WATER, BUILT_UP = 1, 2, 3, 4
CLASSES = {CROPLAND: "cropland", FOREST: "forest", WATER: "water", BUILT_UP: "built-up"}

# Knolls: round flat-topped hills with steep sides, z += H/2 (1 - tanh((r - R) / w)), centred
# on a farmland parcel: (parcel, H m, R m, w m). Their flanks are steepest at r = R, H / 2w.
KNOLLS = (
    ("NT000300", 150.0, 120.0, 80.0),
    ("NT001200", 140.0, 100.0, 75.0),
    ("NT002100", 160.0, 130.0, 85.0),
)
# Villages built on farmland: (parcel, radius m).
BUILT_ON = (("NT000900", 70.0), ("NT002500", 55.0), ("NT001400", 45.0))
# Villages inside the red line: (red-line feature, radius m).
RED_LINE_VILLAGES = (("HX013", 150.0), ("HX031", 120.0))
RESERVOIR = ("HX006", 700.0)
VOID = ("HX024", 600.0, 450.0)
RIVER = ((39_561_000.0, 3_171_500.0), (39_585_000.0, 3_166_000.0), (39_601_000.0, 3_158_500.0),
         (39_618_000.0, 3_151_000.0), (39_639_000.0, 3_146_500.0))  # fmt: skip
RIVER_HALF_WIDTH = 45.0


def read_layers() -> dict[str, gpd.GeoDataFrame]:
    gpkg = SAMPLE / "sanqusanxian.gpkg"
    layers = {
        name: pyogrio.read_dataframe(gpkg, layer=name) for name in ("XZQ", "STBHHX", "CZKFBJ")
    }
    farmland = pyogrio.read_dataframe(SAMPLE / "YJJBNT.shp", encoding="GBK")
    farmland = farmland[~farmland.geometry.isna()].copy()
    farmland["geometry"] = shapely.make_valid(farmland.geometry.to_numpy())
    layers["YJJBNT"] = farmland.set_index("BSM", drop=False)
    layers["STBHHX"] = layers["STBHHX"].set_index("BSM", drop=False)
    return layers


def pixel_centres() -> tuple[np.ndarray, np.ndarray]:
    cols = LEFT + RESOLUTION * (np.arange(WIDTH) + 0.5)
    rows = TOP - RESOLUTION * (np.arange(HEIGHT) + 0.5)
    return np.meshgrid(cols, rows)


def elevation(x: np.ndarray, y: np.ndarray, layers: dict[str, gpd.GeoDataFrame]) -> np.ndarray:
    """The DEM as a function of plane coordinates (m)."""
    z = 40.0 + 1.2e-3 * (RIGHT - x) + 4.0 * np.sin(x / 2300.0) * np.cos(y / 3100.0)
    red = layers["STBHHX"]
    centroids = shapely.centroid(red.geometry.to_numpy())
    radii = np.sqrt(shapely.area(red.geometry.to_numpy()) / np.pi)
    for k, (centre, radius) in enumerate(zip(centroids, radii, strict=True)):
        height = 150.0 + 300.0 * ((k * 7919) % 11) / 10.0
        sigma = max(radius, 800.0)
        z += height * np.exp(-((x - centre.x) ** 2 + (y - centre.y) ** 2) / (2.0 * sigma**2))
    farmland = layers["YJJBNT"]
    for parcel, height, radius, width in KNOLLS:
        centre = farmland.geometry[parcel].centroid
        r = np.hypot(x - centre.x, y - centre.y)
        z += 0.5 * height * (1.0 - np.tanh((r - radius) / width))
    return z


def write(path: Path, data: np.ndarray, dtype: str, nodata: float, predictor: int) -> None:
    profile = {
        "driver": "GTiff",
        "width": WIDTH,
        "height": HEIGHT,
        "count": 1,
        "dtype": dtype,
        "crs": CRS,
        "transform": TRANSFORM,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "zlevel": 9,
        "predictor": predictor,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data.astype(dtype), 1)
        dataset.update_tags(
            SOURCE="synthetic sample province (scripts/make_sample_rasters.py); no real place"
        )
        if dtype == "uint8":
            dataset.update_tags(CLASSES=", ".join(f"{k}={v}" for k, v in CLASSES.items()))


def burn(geoms: np.ndarray) -> np.ndarray:
    return features.rasterize(
        [(g, 1) for g in geoms if g is not None and not g.is_empty],
        out_shape=(HEIGHT, WIDTH),
        transform=TRANSFORM,
        dtype="uint8",
    ).astype(bool)


def build_landcover(
    layers: dict[str, gpd.GeoDataFrame], z: np.ndarray, slope: np.ndarray
) -> np.ndarray:
    red = layers["STBHHX"]
    farmland = layers["YJJBNT"]
    province = burn(layers["XZQ"].geometry.to_numpy())
    cover = np.where((z > 150.0) | (slope > 15.0), FOREST, CROPLAND).astype(np.uint8)
    cover[burn(red.geometry.to_numpy())] = FOREST
    river = LineString(RIVER).buffer(RIVER_HALF_WIDTH)
    reservoir = red.geometry[RESERVOIR[0]].centroid.buffer(RESERVOIR[1])
    cover[burn(np.array([river, reservoir]))] = WATER
    urban = layers["CZKFBJ"].geometry.to_numpy()
    cover[burn(urban)] = BUILT_UP
    farmland_geoms = farmland.geometry.to_numpy()
    # Farmland inside the towns keeps a 40 m green margin; all farmland is cropland.
    near_farmland = burn(
        shapely.buffer(
            farmland_geoms[shapely.intersects(farmland_geoms, shapely.union_all(urban))], 40.0
        )
    )
    cover[near_farmland & (cover == BUILT_UP)] = CROPLAND
    cover[burn(farmland_geoms)] = CROPLAND
    villages = [farmland.geometry[p].centroid.buffer(r) for p, r in BUILT_ON]
    villages += [red.geometry[h].representative_point().buffer(r) for h, r in RED_LINE_VILLAGES]
    cover[burn(np.array(villages))] = BUILT_UP
    cover[~province] = 0
    return cover


def horn_slope(z: np.ndarray) -> np.ndarray:
    """Slope in degrees (Horn), edges by linear extrapolation, void neighbours NaN."""
    p = np.pad(z, 1, mode="reflect", reflect_type="odd")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]) - (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:])
    return np.degrees(np.arctan(np.hypot(gx, gy) / (8 * RESOLUTION)))


def main() -> int:
    layers = read_layers()
    x, y = pixel_centres()
    z = np.round(elevation(x, y, layers), 1)
    slope = horn_slope(z)
    void_centre = layers["STBHHX"].geometry[VOID[0]].representative_point()
    void = (np.abs(x - void_centre.x) < VOID[1] / 2) & (np.abs(y - void_centre.y) < VOID[2] / 2)
    assert not burn(shapely.buffer(layers["YJJBNT"].geometry.to_numpy(), 60.0))[void].any()
    landcover = build_landcover(layers, z, slope)
    dem = np.where(void, DEM_NODATA, z)
    write(DEM_PATH, dem, "float32", DEM_NODATA, predictor=2)
    write(LANDCOVER_PATH, landcover, "uint8", 0, predictor=2)
    for path in (DEM_PATH, LANDCOVER_PATH):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1e6:.2f} MB")
    counts = np.bincount(landcover.ravel(), minlength=5)
    print("land cover pixels:", {CLASSES.get(k, "nodata"): int(c) for k, c in enumerate(counts)})

    sys.path.insert(0, str(ROOT))
    from geozones.raster import steep_farmland

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steep = steep_farmland(DEM_PATH, layers["YJJBNT"])
    steep = steep[steep["steep_area"] > 0].sort_values("steep_percent", ascending=False)
    print(f"{len(steep)} parcels have land over 25°; listed (over 50 %):")
    print(steep[steep["listed"]][["area", "steep_area", "steep_percent", "max_slope"]].round(2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

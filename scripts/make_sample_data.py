"""Build the synthetic 示范省 (code 99) sample data set in ``sample_data/``.

The script is deterministic (one seeded numpy generator, no network, no input
data) and writes, overwriting only its own files:

- ``sanqusanxian.gpkg`` with layers XZQ, STBHHX, CZKFBJ and ZRBHD_HXQ,
- ``YJJBNT.shp`` (+ .shx, .dbf, .prj, GBK attributes, no .cpg),
- ``README.md`` describing the contents and every deliberate defect.

Run from the repository root::

    .venv/bin/python scripts/make_sample_data.py
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.ops
from pyproj import Geod, Transformer
from shapely import LineString, MultiPoint, Point, Polygon
from shapely.affinity import rotate

SEED = 20240601
CRS = "EPSG:4527"  # CGCS2000 3-degree Gauss-Kruger zone 39, CM 117°E, zone-prefixed eastings
OUT_DIR = Path(__file__).resolve().parent.parent / "sample_data"
GPKG_NAME = "sanqusanxian.gpkg"
SHP_NAME = "YJJBNT.shp"
SHP_PARTS = (".shp", ".shx", ".dbf", ".prj")
FIXED_DATE = "2024-06-01"
GRID = 0.001  # coordinates are rounded to 1 mm, as in delivered survey data
SLIVER_LIMIT = 200.0  # m²; every deliberate sliver is below, every other conflict above
MU = 2000.0 / 3.0  # m² per 亩

PROVINCE_BOX = (39_561_000.0, 3_131_000.0, 39_639_000.0, 3_189_000.0)

# county code -> (name, city code, city name, Voronoi seed / county seat)
COUNTIES: dict[str, tuple[str, str, str, tuple[float, float]]] = {
    "990102": ("东川区", "9901", "东川市", (39_617_000.0, 3_165_000.0)),
    "990121": ("青溪县", "9901", "东川市", (39_627_000.0, 3_143_000.0)),
    "990122": ("白石县", "9901", "东川市", (39_600_000.0, 3_178_000.0)),
    "990202": ("西岭区", "9902", "西岭市", (39_577_000.0, 3_171_000.0)),
    "990221": ("云台县", "9902", "西岭市", (39_574_000.0, 3_147_000.0)),
    "990222": ("松山县", "9902", "西岭市", (39_596_000.0, 3_141_000.0)),
}
PLACE_NAMES = {
    "990102": ("东川", "凤凰岭", "龙潭"),
    "990121": ("青溪", "梅岭", "石门"),
    "990122": ("白石", "黄泥岗", "猫儿山"),
    "990202": ("西岭", "雾峰", "鹰嘴岩"),
    "990221": ("云台", "九龙湾", "天池"),
    "990222": ("松山", "桃花溪", "金鸡岭"),
}
ECO_FUNCTIONS = (
    "水源涵养区",
    "生物多样性维护区",
    "水土保持区",
    "森林生态保护区",
    "湿地生态保护区",
    "水土流失防治区",
)
# (county, name, base radius m); the first town of each county is its seat
TOWNS = (
    ("990102", "东川中心城区", 2600.0),
    ("990121", "青溪县城", 1500.0),
    ("990122", "白石县城", 1300.0),
    ("990202", "西岭中心城区", 2400.0),
    ("990221", "云台县城", 1400.0),
    ("990222", "松山县城", 1300.0),
    ("990102", "龙潭镇", 700.0),
    ("990121", "梅岭镇", 650.0),
    ("990222", "桃花溪镇", 700.0),
)
LAND_USE = (("0101", "水田"), ("0102", "水浇地"), ("0103", "旱地"))
CORE_RESERVES = ("国家级自然保护区核心保护区", "省级自然保护区核心保护区")


@dataclass(frozen=True)
class FieldStyle:
    """Layout of one farmland cluster (all lengths in metres)."""

    block_u: tuple[float, float]  # block length along the field rows
    block_v: tuple[float, float]  # block depth across the rows
    strip: tuple[float, float]  # parcel width inside a block
    jitter: float  # random shift of the block corners
    whole_block: float  # probability that a block is a single parcel
    land_use_p: tuple[float, float, float]  # P(水田), P(水浇地), P(旱地)


FIELD_STYLES = {
    "plain": FieldStyle((260, 460), (220, 380), (60, 150), 18, 0.08, (0.70, 0.15, 0.15)),
    "valley": FieldStyle((150, 300), (120, 240), (35, 90), 14, 0.05, (0.60, 0.10, 0.30)),
    "hill": FieldStyle((90, 180), (70, 150), (25, 60), 9, 0.05, (0.30, 0.05, 0.65)),
}


# --------------------------------------------------------------------------- primitives


def fractal_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Periodic 1-D noise with a power-law spectrum, zero mean and unit std.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n : int
        Number of samples (one period).
    exponent : float
        Amplitude of mode ``k`` decays as ``k**-exponent``.

    Returns
    -------
    numpy.ndarray
        ``n`` samples.
    """
    k = np.arange(n // 2 + 1, dtype=float)
    amplitude = np.zeros_like(k)
    amplitude[1:] = k[1:] ** -exponent
    spectrum = (
        amplitude * rng.standard_normal(k.size) * np.exp(1j * rng.uniform(0, 2 * np.pi, k.size))
    )
    series = np.fft.irfft(spectrum, n)
    return (series - series.mean()) / series.std()


def star_blob(
    rng: np.random.Generator,
    center: Sequence[float],
    radius: float,
    n_vertices: int,
    roughness: float = 0.25,
    exponent: float = 1.3,
    aspect: float = 1.0,
    bend: float = 0.0,
) -> Polygon:
    """Return a natural-looking simple polygon (a bent, star-shaped fractal blob).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    center : sequence of float
        Blob centre ``(x, y)``.
    radius : float
        Median distance from the centre to the outline.
    n_vertices : int
        Number of outline vertices.
    roughness : float
        Standard deviation of the log radius.
    exponent : float
        Spectral exponent of the outline noise (larger is smoother).
    aspect : float
        Elongation; the blob is stretched by ``aspect`` along a random direction.
    bend : float
        If positive, bend the blob with transverse waves of about ``bend * radius``
        wavelength (see :func:`bend_points`).

    Returns
    -------
    shapely.Polygon
        A valid polygon: the radius is single-valued in the angle and the bending
        is injective.
    """
    theta = np.linspace(0.0, 2 * np.pi, n_vertices, endpoint=False)
    r = radius * np.exp(roughness * fractal_noise(rng, n_vertices, exponent))
    local = np.column_stack([r * np.cos(theta) * aspect, r * np.sin(theta) / aspect])
    angle = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    local = local @ rot
    if bend > 0:
        local = bend_points(rng, local, bend * radius)
    return Polygon(local + np.asarray(center))


def bend_points(
    rng: np.random.Generator, points: np.ndarray, wavelength: float, strength: float = 0.8
) -> np.ndarray:
    """Displace points by two transverse sine waves (a smooth, injective warp).

    The displacement field has Lipschitz constant ``strength < 1``, so the map
    ``p -> p + d(p)`` is injective and a simple polygon stays simple.
    """
    n_waves = 2
    k = 2 * np.pi / (wavelength * rng.uniform(0.8, 1.25, n_waves))
    heading = rng.uniform(0, 2 * np.pi, n_waves)
    along = np.column_stack([np.cos(heading), np.sin(heading)])
    across = np.column_stack([-np.sin(heading), np.cos(heading)])
    amplitude = strength / (n_waves * k)
    phase = rng.uniform(0, 2 * np.pi, n_waves)
    waves = np.sin((points @ along.T) * k + phase) * amplitude
    return points + waves @ across


def wiggle_line(
    rng: np.random.Generator,
    line: LineString,
    amplitude: float,
    spacing: float,
    roughness: float = 25.0,
) -> LineString:
    """Densify a straight segment and displace it sideways: smooth meanders plus small wiggles.

    The end points stay fixed and the displacement is a function of the position
    along the segment, so the result never crosses itself.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    line : shapely.LineString
        Straight segment (only its end points are used).
    amplitude : float
        Standard deviation of the smooth meanders (m).
    spacing : float
        Vertex spacing (m).
    roughness : float
        Standard deviation of the small-scale wiggles (m).
    """
    start, end = np.asarray(line.coords[0]), np.asarray(line.coords[-1])
    n = max(math.ceil(line.length / spacing) + 1, 3)
    t = np.linspace(0.0, 1.0, n)
    direction = (end - start) / line.length
    normal = np.array([-direction[1], direction[0]])
    meander = amplitude * fractal_noise(rng, n, 2.0)
    wiggle = roughness * fractal_noise(rng, n, 1.0)
    offset = np.sin(np.pi * t) * (meander + wiggle)
    return LineString(start + np.outer(t, end - start) + np.outer(offset, normal))


def round_coords(geoms: Any) -> Any:
    """Round coordinates to the 1 mm grid without changing the vertex structure."""
    return shapely.transform(geoms, lambda xy: np.round(xy / GRID) * GRID)


def polygon_parts(geom: Any) -> list[Polygon]:
    """Return the polygonal parts of any geometry."""
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]


def place(make: Callable[[], Any], what: str, tries: int = 4000) -> Any:
    """Call ``make`` until it returns something other than ``None``."""
    for _ in range(tries):
        candidate = make()
        if candidate is not None:
            return candidate
    raise RuntimeError(f"could not place {what} in {tries} tries")


def random_point_in(rng: np.random.Generator, area: Polygon) -> Point:
    """Return a uniformly random point inside ``area``."""
    minx, miny, maxx, maxy = area.bounds
    while True:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if area.contains(p):
            return p


def outward_frame(
    target: Polygon, distance_along: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return a point on the outline of ``target``, the unit tangent and the outward normal."""
    ring = target.exterior
    p = np.asarray(ring.interpolate(distance_along).coords[0])
    a = np.asarray(ring.interpolate(distance_along - 15.0).coords[0])
    b = np.asarray(ring.interpolate(distance_along + 15.0).coords[0])
    tangent = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-tangent[1], tangent[0]])
    if target.contains(Point(p + 5.0 * normal)):
        normal = -normal
    return p, tangent, normal


# --------------------------------------------------------------------------- administrative units


def build_province(rng: np.random.Generator) -> Polygon:
    """Return the irregular province outline, stretched to touch all sides of ``PROVINCE_BOX``."""
    n = 2400
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    a, b = 40_000.0, 30_000.0
    ellipse = a * b / np.hypot(b * np.cos(theta), a * np.sin(theta))
    r = ellipse * np.exp(0.09 * fractal_noise(rng, n, 1.4))
    outline = np.column_stack([r * np.cos(theta), r * np.sin(theta)])  # star-shaped, so simple
    low, high = np.array(PROVINCE_BOX[:2]), np.array(PROVINCE_BOX[2:])
    lo, hi = outline.min(axis=0), outline.max(axis=0)
    return round_coords(Polygon(low + (outline - lo) * (high - low) / (hi - lo)))


def build_counties(rng: np.random.Generator, province: Polygon) -> gpd.GeoDataFrame:
    """Partition the province into six counties with wiggly shared boundaries.

    Voronoi edges of the county seats are densified and displaced, noded with the
    province outline and polygonized, so neighbouring counties share vertices exactly.
    """
    codes = list(COUNTIES)
    seeds = MultiPoint([COUNTIES[c][3] for c in codes])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=province.buffer(30_000)))
    edges = shapely.get_parts(
        shapely.voronoi_polygons(seeds, extend_to=province.buffer(30_000), only_edges=True)
    )
    wiggled = [
        wiggle_line(rng, e, amplitude=min(2500.0, 0.1 * e.length), spacing=40.0) for e in edges
    ]
    network = shapely.union_all([province.exterior, *wiggled])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(network)))
    faces = faces[shapely.contains(province, shapely.point_on_surface(faces))]
    # each face belongs to the seed cell it overlaps most
    cell_index = np.array([np.argmax(shapely.area(shapely.intersection(f, cells))) for f in faces])
    seed_points = shapely.get_parts(seeds)
    county_of_cell = [codes[int(np.argmax(shapely.contains(c, seed_points)))] for c in cells]
    geoms = []
    for code in codes:
        members = faces[[county_of_cell[i] == code for i in cell_index]]
        geoms.append(shapely.union_all(members))
    geoms = round_coords(np.asarray(geoms))
    return gpd.GeoDataFrame(
        {"XZQDM": codes, "XZQMC": [COUNTIES[c][0] for c in codes]}, geometry=list(geoms), crs=CRS
    )


# --------------------------------------------------------------------------- planning layers


@dataclass(eq=False)
class Feature:
    """A generated feature with its county, an internal role tag and an optional partner."""

    geometry: Any
    county: str
    role: str
    name: str = ""
    zone: str = ""
    partner: Feature | None = field(default=None, repr=False)

    @cached_property
    def shape(self) -> Any:
        """The geometry, made valid (for distance tests only)."""
        return shapely.make_valid(self.geometry)


class Layout:
    """Shared state while the layers are generated.

    Parameters
    ----------
    rng : numpy.random.Generator
        The one random source of the script.
    counties : geopandas.GeoDataFrame
        The XZQ layer.
    """

    def __init__(self, rng: np.random.Generator, counties: gpd.GeoDataFrame) -> None:
        self.rng = rng
        self.county_geoms = dict(zip(counties["XZQDM"], counties.geometry, strict=True))
        self.county_inner = {c: g.buffer(-60.0) for c, g in self.county_geoms.items()}
        for g in (*self.county_geoms.values(), *self.county_inner.values()):
            shapely.prepare(g)
        self.urban_boundary: list[Feature] = []
        self.redline: list[Feature] = []
        self.reserve_cores: list[Feature] = []
        # convex hulls of the farmland clusters placed so far
        self.farmland_outlines: list[Polygon] = []
        self.used_names: set[str] = set()

    def county_at(self, geom: Any) -> str | None:
        """Return the county whose inner buffer contains ``geom``, else ``None``."""
        for code, inner in self.county_inner.items():
            if inner.contains(geom):
                return code
        return None

    def clear_of(self, geom: Any, gaps: dict[str, float], ignore: Sequence[Feature] = ()) -> bool:
        """Tell whether ``geom`` keeps the given gap (m) to every feature of each named layer.

        Parameters
        ----------
        geom : shapely.Geometry
            Candidate geometry.
        gaps : dict
            Minimum distance per layer: ``redline``, ``urban``, ``cores``, ``farmland``.
        ignore : sequence of Feature
            Features the candidate may touch or overlap.
        """
        layers = {
            "redline": self.redline,
            "urban": self.urban_boundary,
            "cores": self.reserve_cores,
        }
        minx, miny, maxx, maxy = geom.bounds
        for layer, gap in gaps.items():
            if layer == "farmland":
                others = list(self.farmland_outlines)
            else:
                others = [f.shape for f in layers[layer] if all(f is not i for i in ignore)]
            if not others:
                continue
            candidates = np.array(others, dtype=object)
            b = shapely.bounds(candidates)
            near = (b[:, 0] <= maxx + gap) & (b[:, 2] >= minx - gap)
            near &= (b[:, 1] <= maxy + gap) & (b[:, 3] >= miny - gap)
            if near.any() and shapely.dwithin(geom, candidates[near], gap).any():
                return False
        return True

    def red_name(self, county: str) -> str:
        """Return an unused red-line name such as 青溪水源涵养区 for ``county``."""
        for _ in range(200):
            name = f"{self.rng.choice(PLACE_NAMES[county])}{self.rng.choice(ECO_FUNCTIONS)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("ran out of red-line names")


def build_urban_boundary(layout: Layout) -> None:
    """Place the nine town polygons of the urban development boundary (CZKFBJ)."""
    rng = layout.rng
    for county, name, radius in TOWNS:
        seat = COUNTIES[county][3]
        is_seat = name.endswith(("城区", "县城"))

        def make(
            county: str = county, radius: float = radius, seat: Any = seat, is_seat: bool = is_seat
        ) -> Any:
            if is_seat:
                center = np.asarray(seat) + rng.normal(0, 600, 2)
            else:
                center = np.asarray(random_point_in(rng, layout.county_inner[county]).coords[0])
            town = star_blob(
                rng, center, radius, int(rng.integers(160, 320)), 0.22, 1.6, rng.uniform(1.0, 1.5)
            )
            if layout.county_at(town) != county or not layout.clear_of(town, {"urban": 3000.0}):
                return None
            return town

        layout.urban_boundary.append(Feature(place(make, name), county, "town", name=name))


def add_red(
    layout: Layout, geom: Polygon, county: str, role: str, zone: str | None = None
) -> Feature:
    """Append one red-line feature."""
    rng = layout.rng
    if zone is None:
        zone = "核心保护区" if rng.random() < 0.3 else "一般控制区"
    feature = Feature(geom, county, role, name=layout.red_name(county), zone=zone)
    layout.redline.append(feature)
    return feature


def punch_holes(rng: np.random.Generator, shell: Polygon, count: int, radius: float) -> Polygon:
    """Return ``shell`` with ``count`` natural holes (villages, clearings) inside it."""
    inner = shell.buffer(-2.0 * radius)
    if inner.is_empty:
        return shell
    holes: list[Polygon] = []
    for _ in range(50 * count):
        if len(holes) == count:
            break
        hole = star_blob(
            rng,
            random_point_in(rng, max(polygon_parts(inner), key=lambda p: p.area)).coords[0],
            radius * rng.uniform(0.5, 1.0),
            int(rng.integers(60, 160)),
            0.2,
            1.5,
        )
        if shell.buffer(-50).contains(hole) and not any(hole.dwithin(h, 80) for h in holes):
            holes.append(hole)
    return Polygon(shell.exterior, [h.exterior for h in holes])


def bow_tie(center: np.ndarray, radii: tuple[float, float], rng: np.random.Generator) -> Polygon:
    """Return an invalid figure-of-eight polygon whose two closing segments cross at ``center``.

    The big lobe lies west of the crossing, the small lobe east of it; they are
    traversed in opposite directions, as when a digitiser loops the ring.
    """
    delta = 0.08

    def lobe(radius: float, lobe_center: np.ndarray, start: float, stop: float) -> np.ndarray:
        theta = np.linspace(start, stop, 400)
        taper = np.sin(np.linspace(0, np.pi, theta.size)) ** 2
        r = radius * np.exp(0.15 * taper * fractal_noise(rng, theta.size, 1.4))
        return lobe_center + np.column_stack([r * np.cos(theta), r * np.sin(theta)])

    big, small = radii
    west = lobe(big, center - np.array([big, 0.0]), delta, 2 * np.pi - delta)  # anticlockwise
    east = lobe(small, center + np.array([small, 0.0]), np.pi - delta, -np.pi + delta)  # clockwise
    return Polygon(np.round(np.vstack([west, east]) / GRID) * GRID)


def build_redline(layout: Layout) -> dict[str, Feature]:
    """Place the ecological protection red line (STBHHX), ~40 polygons.

    Returns
    -------
    dict
        The deliberately special features by role.
    """
    rng = layout.rng
    special: dict[str, Feature] = {}
    towns = layout.urban_boundary

    # 1. a large 一般控制区 polygon with a ~600 m window (天窗) that farmland will fill
    def make_window() -> Any:
        center = random_point_in(rng, layout.county_inner[str(rng.choice(list(COUNTIES)))])
        shell = star_blob(rng, center.coords[0], 3000.0, 3600, 0.2, 1.4, 1.3, bend=3.0)
        window = star_blob(rng, center.coords[0], 290.0, 160, 0.15, 1.6, 1.3)
        county = layout.county_at(shell)
        if county is None or not shell.buffer(-300).contains(window):
            return None
        if not layout.clear_of(shell, {"urban": 500.0}):
            return None
        return Polygon(shell.exterior, [window.exterior]), county

    geom, county = place(make_window, "red line with a window")
    special["window"] = add_red(layout, geom, county, "window", "一般控制区")

    # 2. a red-line polygon that overlaps the town 白石县城 (red line ∩ urban boundary)
    town = next(t for t in towns if t.name == "白石县城")

    def make_urban_overlap() -> Any:
        tc = np.asarray(town.geometry.centroid.coords[0])
        angle = rng.uniform(0, 2 * np.pi)
        center = tc + (1300.0 + 1300.0) * np.array([np.cos(angle), np.sin(angle)])
        blob = star_blob(rng, center, 1500.0, 1800, 0.2, 1.4, bend=3.0)
        overlap = blob.intersection(town.geometry)
        if (
            not isinstance(overlap, Polygon)
            or not 0.2e6 <= overlap.area <= 0.5e6
            or blob.contains(town.geometry.centroid)
        ):
            return None
        if layout.county_at(blob) != town.county:
            return None
        if not layout.clear_of(blob, {"redline": 300.0, "urban": 500.0}, ignore=[town]):
            return None
        return blob

    geom = place(make_urban_overlap, "red line overlapping a town")
    special["urban_overlap"] = add_red(layout, geom, town.county, "urban_overlap", "一般控制区")

    # 3. a pair of red-line polygons that overlap each other
    def make_pair() -> Any:
        code = str(rng.choice(list(COUNTIES)))
        c = np.asarray(random_point_in(rng, layout.county_inner[code]).coords[0])
        first = star_blob(rng, c, 1200.0, 1500, 0.2, 1.3)
        angle = rng.uniform(0, 2 * np.pi)
        second = star_blob(
            rng, c + 1800.0 * np.array([np.cos(angle), np.sin(angle)]), 900.0, 1100, 0.2, 1.3
        )
        overlap = first.intersection(second).area
        if not 0.08e6 <= overlap <= 0.4e6 or layout.county_at(first.union(second)) != code:
            return None
        if not layout.clear_of(first.union(second), {"redline": 300.0, "urban": 500.0}):
            return None
        return first, second, code

    first, second, code = place(make_pair, "overlapping red-line pair")
    special["pair_a"] = add_red(layout, first, code, "pair_a", "核心保护区")
    special["pair_b"] = add_red(layout, second, code, "pair_b", "一般控制区")

    # 4. one invalid (self-intersecting, figure-of-eight) red-line polygon
    def make_bow_tie() -> Any:
        code = str(rng.choice(list(COUNTIES)))
        c = np.asarray(random_point_in(rng, layout.county_inner[code]).coords[0])
        geom = bow_tie(c, (650.0, 380.0), rng)
        valid = shapely.make_valid(geom)
        if layout.county_at(valid) != code or not layout.clear_of(
            valid, {"redline": 300.0, "urban": 500.0}
        ):
            return None
        return geom, code

    geom, code = place(make_bow_tie, "invalid red-line polygon")
    special["invalid"] = add_red(layout, geom, code, "invalid", "一般控制区")

    # 5. ordinary red-line polygons, split along county boundaries, until ~40 features
    plan = [(4500.0, 4800)] * 3 + [(3500.0, 3600)] * 3 + [(2000.0, 1800)] * 12 + [(700.0, 500)] * 40
    holes_left = 5
    for radius, n_vertices in plan:
        if len(layout.redline) >= 40:
            break

        def make_ordinary(radius: float = radius, n_vertices: int = n_vertices) -> Any:
            center = random_point_in(rng, layout.county_inner[str(rng.choice(list(COUNTIES)))])
            scale = rng.uniform(0.6, 1.1)
            blob = star_blob(
                rng,
                center.coords[0],
                radius * scale,
                n_vertices,
                rng.uniform(0.15, 0.25),
                1.4,
                rng.uniform(1.0, 1.8),
                bend=rng.uniform(2.0, 4.0),
            )
            if not layout.clear_of(blob, {"redline": 250.0, "urban": 400.0}):
                return None
            parts = []
            for code, county_geom in layout.county_geoms.items():
                for part in polygon_parts(blob.intersection(county_geom)):
                    if part.area > 0.25e6 or (part.area > 0.05e6 and radius < 1000):
                        parts.append((part, code))
            return parts or None

        for part, code in place(make_ordinary, "red-line polygon"):
            if holes_left and part.area > 8e6:
                part = punch_holes(rng, part, int(rng.integers(1, 4)), 350.0)
                if part.interiors:
                    holes_left -= 1
            add_red(layout, part, code, "ordinary")
    return special


def build_reserve_cores(layout: Layout) -> None:
    """Place three nature-reserve core zones (ZRBHD_HXQ), each straddling a red-line edge."""
    rng = layout.rng
    used_counties: set[str] = set()
    candidates = [f for f in layout.redline if f.role == "ordinary" and f.geometry.area > 3e6]
    for index in range(3):

        def make(index: int = index) -> Any:
            red = candidates[int(rng.integers(len(candidates)))]
            if red.county in used_counties:
                return None
            point, _, normal = outward_frame(
                red.geometry, rng.uniform(0, red.geometry.exterior.length)
            )
            radius = rng.uniform(650.0, 850.0)
            core = star_blob(
                rng, point + 0.3 * radius * normal, radius, int(rng.integers(300, 600)), 0.18, 1.5
            )
            overlap = core.intersection(red.geometry).area
            if not 0.2 <= overlap / core.area <= 0.5 or layout.county_at(core) != red.county:
                return None
            if not layout.clear_of(
                core, {"redline": 150.0, "urban": 400.0, "cores": 1000.0}, ignore=[red]
            ):
                return None
            level = CORE_RESERVES[index % 2]
            name = f"{rng.choice(PLACE_NAMES[red.county])}{level}"
            return Feature(core, red.county, "core", name=name, partner=red)

        core = place(make, "nature-reserve core zone")
        used_counties.add(core.county)
        layout.reserve_cores.append(core)


# --------------------------------------------------------------------------- farmland


@dataclass
class Parcel:
    """One farmland parcel before attributes are assigned."""

    geometry: Any
    county: str
    cluster: int
    role: str
    dlbm: str
    intended: Any = None  # geometry the declared area refers to, if it differs
    note: str = ""


def field_parcels(
    rng: np.random.Generator, outline: Polygon, style: FieldStyle
) -> tuple[list[Polygon], list[str]]:
    """Cut a cluster outline into blocks separated by 5–8 m roads and blocks into strip parcels.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    outline : shapely.Polygon
        Area to fill.
    style : FieldStyle
        Block and parcel dimensions.

    Returns
    -------
    parcels : list of shapely.Polygon
        Parcels of 0.1–20 ha; parcels of one block share their edges exactly.
    land_use : list of str
        DLBM code of each parcel.
    """
    origin = outline.centroid
    angle = rng.uniform(0, 180)
    local = rotate(outline, -angle, origin=origin)
    minx, miny, maxx, maxy = local.bounds

    def lines(lo: float, hi: float, spacing: tuple[float, float]) -> np.ndarray:
        steps = rng.uniform(*spacing, size=int((hi - lo) / spacing[0]) + 3)
        return lo - rng.uniform(0, spacing[0]) + np.concatenate([[0.0], np.cumsum(steps)])

    us, vs = lines(minx, maxx, style.block_u), lines(miny, maxy, style.block_v)
    us, vs = us[: np.searchsorted(us, maxx) + 1], vs[: np.searchsorted(vs, maxy) + 1]
    grid_x = us[:, None] + rng.normal(0, style.jitter / 2, (us.size, vs.size))
    grid_y = vs[None, :] + rng.normal(0, style.jitter / 2, (us.size, vs.size))
    corners = np.stack([grid_x, grid_y], axis=-1)

    strips: list[Polygon] = []
    blocks: list[Polygon] = []
    land_use: list[str] = []
    codes = [code for code, _ in LAND_USE]
    for i in range(us.size - 1):
        for j in range(vs.size - 1):
            a, b, c, d = corners[i, j], corners[i + 1, j], corners[i + 1, j + 1], corners[i, j + 1]
            block = shapely.buffer(
                Polygon([a, b, c, d]), -rng.uniform(2.5, 4.0), join_style="mitre"
            )
            width = np.linalg.norm(b - a)
            if rng.random() < style.whole_block:
                cuts = np.array([0.0, 1.0])
            else:
                steps = rng.uniform(*style.strip, size=int(width / style.strip[0]) + 2) / width
                cuts = np.concatenate([[0.0], np.cumsum(steps)])
                cuts = np.append(cuts[cuts < 1.0 - 0.5 * style.strip[0] / width], 1.0)
            skew = np.clip(cuts + rng.normal(0, 0.02, cuts.size), 0, 1)
            skew[[0, -1]] = [0.0, 1.0]
            skew = np.maximum.accumulate(skew)
            block_use = str(rng.choice(codes, p=style.land_use_p))
            for k in range(cuts.size - 1):
                p0, p1 = a + cuts[k] * (b - a), a + cuts[k + 1] * (b - a)
                q0, q1 = d + skew[k] * (c - d), d + skew[k + 1] * (c - d)
                strips.append(Polygon([p0, p1, q1, q0]))
                blocks.append(block)
                use = (
                    block_use if rng.random() < 0.85 else str(rng.choice(codes, p=style.land_use_p))
                )
                land_use.append(use)
    pieces = shapely.intersection(
        shapely.intersection(np.asarray(strips), np.asarray(blocks)), local
    )
    parcels: list[Polygon] = []
    parcel_use: list[str] = []
    for piece, use in zip(pieces, land_use, strict=True):
        for part in polygon_parts(piece):
            # drop too small/too large parcels and thin slivers left by the clipping
            if 1000.0 <= part.area <= 200_000.0 and part.area / (part.length / 2) > 12.0:
                parcels.append(rotate(part, angle, origin=origin))
                parcel_use.append(use)
    return parcels, parcel_use


class FarmlandBuilder:
    """Generate the permanent basic farmland (YJJBNT) parcels cluster by cluster."""

    CONFLICT_GAPS = MappingProxyType(
        {"redline": 200.0, "urban": 200.0, "cores": 200.0, "farmland": 150.0}
    )

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.rng = layout.rng
        self.parcels: list[Parcel] = []

    def fill(self, outline: Polygon, county: str, style: str, role: str) -> list[Parcel]:
        """Cut ``outline`` into parcels without recording them."""
        geoms, uses = field_parcels(self.rng, outline, FIELD_STYLES[style])
        cluster = len(self.layout.farmland_outlines)
        return [
            Parcel(round_coords(g), county, cluster, role, u)
            for g, u in zip(geoms, uses, strict=True)
        ]

    def commit(self, parcels: list[Parcel]) -> list[Parcel]:
        """Record parcels of one new cluster and reserve the space around them."""
        hull = shapely.convex_hull(shapely.union_all([p.geometry for p in parcels]))
        self.layout.farmland_outlines.append(hull)
        self.parcels.extend(parcels)
        return parcels

    @staticmethod
    def overlap_areas(parcels: Sequence[Parcel], target: Any) -> np.ndarray:
        """Return the overlap area (m²) of each parcel with ``target``."""
        return shapely.area(shapely.intersection([p.geometry for p in parcels], target))

    @staticmethod
    def without_slivers(parcels: list[Parcel], targets: Sequence[Any]) -> list[Parcel]:
        """Drop parcels whose overlap with a target is small (0 < area < 1.5 × ``SLIVER_LIMIT``).

        Only the deliberate sliver parcels may overlap a line by less than the
        sliver limit, so that the limit separates the two kinds of conflict.
        """
        keep = np.ones(len(parcels), dtype=bool)
        for target in targets:
            areas = FarmlandBuilder.overlap_areas(parcels, target)
            keep &= (areas == 0) | (areas >= 1.5 * SLIVER_LIMIT)
        return [p for p, k in zip(parcels, keep, strict=True) if k]

    def window_cluster(self, red: Feature) -> None:
        """Fill the red-line window (天窗) with farmland that touches no red line."""
        window = Polygon(red.geometry.interiors[0])
        parcels = self.fill(window.buffer(-25.0), red.county, "plain", "window")
        if not 4 <= len(parcels) <= 25:
            raise RuntimeError(f"{len(parcels)} parcels in the window")
        self.commit(parcels)

    def conflict_cluster(self, targets: Sequence[Feature], role: str) -> None:
        """Place a small cluster across the edge of one of ``targets`` (4–12 conflicts)."""
        rng, layout = self.rng, self.layout

        def make() -> Any:
            target = targets[int(rng.integers(len(targets)))]
            distance = rng.uniform(0, target.geometry.exterior.length)
            point, _, normal = outward_frame(target.geometry, distance)
            radius = rng.uniform(300.0, 420.0)
            center = point + 0.5 * radius * normal
            outline = star_blob(rng, center, radius, 300, 0.2, 1.5, rng.uniform(1.0, 1.5))
            if layout.county_at(outline) != target.county:
                return None
            if not layout.clear_of(outline, self.CONFLICT_GAPS, ignore=[target]):
                return None
            parcels = self.without_slivers(
                self.fill(outline, target.county, "valley", role), [target.geometry]
            )
            areas = self.overlap_areas(parcels, target.geometry)
            inside = np.isclose(areas, shapely.area([p.geometry for p in parcels]))
            if not 4 <= (areas > 0).sum() <= 12 or not 1 <= inside.sum() < (areas > 0).sum():
                return None
            return parcels

        self.commit(place(make, f"{role} cluster"))

    def triple_cluster(self, red: Feature, town: Feature) -> None:
        """Place a cluster across the overlap of a red-line polygon and a town (2–5 triples)."""
        rng, layout = self.rng, self.layout
        both = red.geometry.intersection(town.geometry)

        def make() -> Any:
            point = both.exterior.interpolate(rng.uniform(0, both.exterior.length))
            outline = star_blob(rng, point.coords[0], rng.uniform(280.0, 360.0), 240, 0.15, 1.6)
            if layout.county_at(outline) != town.county:
                return None
            if not layout.clear_of(outline, self.CONFLICT_GAPS, ignore=[red, town]):
                return None
            parcels = self.fill(outline, town.county, "plain", "triple")
            parcels = self.without_slivers(parcels, [red.geometry, town.geometry, both])
            triples = (self.overlap_areas(parcels, both) > 0).sum()
            red_only = self.overlap_areas(parcels, red.geometry.difference(town.geometry)) > 0
            urban_only = self.overlap_areas(parcels, town.geometry.difference(red.geometry)) > 0
            if not 2 <= triples <= 5 or not red_only.any() or not urban_only.any():
                return None
            return parcels

        self.commit(place(make, "triple-overlap cluster"))

    def core_cluster(self, core: Feature) -> None:
        """Place farmland across the edge of a nature-reserve core zone, outside the red line."""
        rng, layout = self.rng, self.layout
        red = core.partner
        assert red is not None
        red_zone = red.geometry.buffer(60.0)

        def make() -> Any:
            distance = rng.uniform(0, core.geometry.exterior.length)
            point, _, normal = outward_frame(core.geometry, distance)
            if red.shape.distance(Point(point)) < 400.0:
                return None
            radius = rng.uniform(300.0, 420.0)
            blob = star_blob(rng, point + 0.4 * radius * normal, radius, 300, 0.2, 1.5)
            outline = max(polygon_parts(blob.difference(red_zone)), key=lambda p: p.area)
            if layout.county_at(outline) != core.county:
                return None
            gaps = {"redline": 60.0, "urban": 200.0, "cores": 200.0, "farmland": 150.0}
            if not layout.clear_of(outline, gaps, ignore=[red, core]):
                return None
            parcels = self.without_slivers(
                self.fill(outline, core.county, "valley", "core"), [core.geometry]
            )
            inside = [core.geometry.contains(p.geometry) for p in parcels]
            touching = (self.overlap_areas(parcels, core.geometry) > 0).sum()
            if not 2 <= sum(inside) <= 6 or not sum(inside) < touching <= 10:
                return None
            return parcels

        self.commit(place(make, "core-zone cluster"))

    def ordinary_clusters(self, target_count: int) -> None:
        """Place conflict-free clusters: one 万亩方, two 千亩方 and many small ones."""
        rng, layout = self.rng, self.layout
        plan = [(1750.0, "plain"), (900.0, "plain"), (800.0, "valley")]
        while len(self.parcels) < target_count:
            if plan:
                radius, style = plan.pop(0)
            else:
                radius, style = rng.uniform(200.0, 600.0), str(rng.choice(["valley", "hill"]))

            def make(radius: float = radius) -> Any:
                code = str(rng.choice(list(COUNTIES)))
                center = random_point_in(rng, layout.county_inner[code]).coords[0]
                aspect = rng.uniform(1.0, 1.8)
                outline = star_blob(rng, center, radius, 400, 0.22, 1.5, aspect, bend=2.0)
                if layout.county_at(outline) != code:
                    return None
                gaps = {"redline": 80.0, "urban": 80.0, "cores": 80.0, "farmland": 150.0}
                return (outline, code) if layout.clear_of(outline, gaps) else None

            outline, code = place(make, "farmland cluster")
            role = "large" if radius > 700 else "ordinary"
            self.commit(self.fill(outline, code, style, role))

    def sliver_parcel(self, targets: Sequence[Feature], depth: float, role: str) -> None:
        """Add a lone parcel whose edge intrudes ``depth`` metres into one of ``targets``."""
        rng, layout = self.rng, self.layout
        shrunk: dict[int, Any] = {}

        def make() -> Any:
            index = int(rng.integers(len(targets)))
            target = targets[index]
            if index not in shrunk:
                shrunk[index] = target.geometry.buffer(-depth)
            distance = rng.uniform(0, target.geometry.exterior.length)
            point, tangent, normal = outward_frame(target.geometry, distance)
            half, reach = rng.uniform(25.0, 35.0), rng.uniform(90.0, 140.0)
            box = Polygon(
                [
                    point - half * tangent - 10 * normal,
                    point + half * tangent - 10 * normal,
                    point + half * tangent + reach * normal,
                    point - half * tangent + reach * normal,
                ]
            )
            parcel = round_coords(box.difference(shrunk[index]))
            overlap = parcel.intersection(target.geometry).area
            if not isinstance(parcel, Polygon) or not 20.0 <= overlap < SLIVER_LIMIT - 40.0:
                return None
            if parcel.area < 3000.0 or layout.county_at(parcel) != target.county:
                return None
            gaps = {"redline": 150.0, "urban": 150.0, "cores": 150.0, "farmland": 150.0}
            return (parcel, target) if layout.clear_of(parcel, gaps, ignore=[target]) else None

        geom, target = place(make, f"{role} parcel")
        cluster = len(layout.farmland_outlines)
        self.commit([Parcel(geom, target.county, cluster, role, "0103", note=f"{depth:.1f} m")])

    def inject_defects(self) -> None:
        """Turn a few ordinary parcels into the deliberate defects (tagged by ``role``)."""
        ordinary = [p for p in self.parcels if p.role == "ordinary"]
        picks = (ordinary[i] for i in self.rng.permutation(len(ordinary)))

        # within-layer overlap: grow a parcel 12 m into its neighbour in the same block
        for parcel in picks:
            neighbours = [
                q
                for q in ordinary
                if q is not parcel
                and q.cluster == parcel.cluster
                and parcel.geometry.intersection(q.geometry).length > 60.0
            ]
            if not neighbours:
                continue
            other = neighbours[0]
            strip = other.geometry.intersection(parcel.geometry.buffer(12.0, join_style="mitre"))
            grown = parcel.geometry.union(strip)
            if isinstance(grown, Polygon):
                parcel.geometry = round_coords(grown)
                parcel.role, other.role = "overlap_a", "overlap_b"
                break
        # exact duplicate (a copy appended to the data)
        original = next(p for p in picks if p.role == "ordinary")
        original.role = "duplicated"
        self.parcels.append(
            Parcel(original.geometry, original.county, original.cluster, "duplicate", original.dlbm)
        )
        # bow-tie: swap the last two corners of a four-corner parcel
        quad = next(
            p for p in picks if p.role == "ordinary" and len(p.geometry.exterior.coords) == 5
        )
        a, b, c, d = quad.geometry.exterior.coords[:4]
        quad.intended, quad.geometry, quad.role = quad.geometry, Polygon([a, b, d, c]), "bow_tie"
        # null geometry, attributes kept
        empty = next(p for p in picks if p.role == "ordinary")
        empty.intended, empty.geometry, empty.role = empty.geometry, None, "null_geometry"
        # three parcels with a wrong declared area (see WRONG_AREA_FACTORS)
        for index in range(len(WRONG_AREA_FACTORS)):
            next(p for p in picks if p.role == "ordinary").role = f"wrong_area_{index}"


def declared_area(geoms: Sequence[Any]) -> np.ndarray:
    """Return the ellipsoidal area (m²) of GK-39 geometries on GRS80, rounded to 0.01.

    Each geometry is transformed to CGCS2000 geographic coordinates (EPSG:4490) and
    measured with :meth:`pyproj.Geod.geometry_area_perimeter`.
    """
    to_geographic = Transformer.from_crs(CRS, "EPSG:4490", always_xy=True)
    geod = Geod(ellps="GRS80")
    lonlat = shapely.transform(
        shapely.orient_polygons(np.asarray(geoms, dtype=object)),
        lambda xy: np.column_stack(to_geographic.transform(xy[:, 0], xy[:, 1])),
    )
    return np.round(np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in lonlat]), 2)


WRONG_AREA_FACTORS = (1.12, 0.91, 1.145)


def farmland_frame(builder: FarmlandBuilder, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Assign BSM, TBBH and the other attributes; keep the internal role column."""
    names = dict(zip(counties["XZQDM"], counties["XZQMC"], strict=True))
    parcels = builder.parcels
    # delivered order: by county, then cluster; the duplicate is appended at the end of its county
    keys = [(p.county, p.role == "duplicate", p.cluster, i) for i, p in enumerate(parcels)]
    parcels = [parcels[i] for i in sorted(range(len(parcels)), key=keys.__getitem__)]
    measured = declared_area(
        [p.intended if p.intended is not None else p.geometry for p in parcels]
    )
    tbbh: list[str] = []
    counters: dict[str, int] = {}
    for p in parcels:
        if p.role == "duplicate":
            tbbh.append("")
            continue
        counters[p.county] = counters.get(p.county, 0) + 1
        tbbh.append(f"{counters[p.county]:05d}")
    for i, p in enumerate(parcels):
        if p.role.startswith("wrong_area_"):
            measured[i] = round(measured[i] * WRONG_AREA_FACTORS[int(p.role[-1])], 2)
    frame = gpd.GeoDataFrame(
        {
            "BSM": [f"NT{i + 1:06d}" for i in range(len(parcels))],
            "XZQDM": [p.county for p in parcels],
            "XZQMC": [names[p.county] for p in parcels],
            "TBBH": tbbh,
            "DLBM": [p.dlbm for p in parcels],
            "DLMC": [dict(LAND_USE)[p.dlbm] for p in parcels],
            "TBMJ": measured,
            "role": [p.role for p in parcels],
            "cluster": [p.cluster for p in parcels],
            "note": [p.note for p in parcels],
        },
        geometry=[p.geometry for p in parcels],
        crs=CRS,
    )
    # the duplicate repeats every attribute of its original except BSM
    dup = frame.index[frame["role"] == "duplicate"][0]
    src = frame.index[frame["role"] == "duplicated"][0]
    frame.loc[dup, ["TBBH", "TBMJ"]] = frame.loc[src, ["TBBH", "TBMJ"]].to_numpy()
    return frame


def features_frame(
    features: list[Feature], prefix: str, digits: int, columns: dict[str, str]
) -> gpd.GeoDataFrame:
    """Turn features into a layer ordered by county, then north to south, with BSM ids."""
    order = sorted(
        range(len(features)),
        key=lambda i: (features[i].county, -shapely.make_valid(features[i].geometry).centroid.y),
    )
    ordered = [features[i] for i in order]
    data: dict[str, list[str]] = {
        "BSM": [f"{prefix}{i + 1:0{digits}d}" for i in range(len(ordered))]
    }
    for column, attribute in columns.items():
        data[column] = [getattr(f, attribute) for f in ordered]
    data["role"] = [f.role for f in ordered]
    geoms = [f.geometry if f.role == "invalid" else round_coords(f.geometry) for f in ordered]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


# --------------------------------------------------------------------------- tessellation

TESSELLATION_SEED = SEED + 15  # its own stream: the other layers do not change with it
TESSELLATION_GRID = (4, 3)  # sub-units across and up the red-line area
TESSELLATION_JITTER = 0.0003  # m: each copy of a shared vertex within 0.3 mm of the true point
TESSELLATION_EXTRA = 0.4  # share of shared edges with an extra vertex on one side only
TOLERANCE = 0.001  # m: geozones' default xy_tolerance (ArcGIS's default XY tolerance)


def tessellate_redline(red: gpd.GeoDataFrame, clear_of: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Deliver one red-line area as a tessellation, as such layers arrive.

    The area is split along the boundaries of its sub-units (a wiggly grid), and every
    sub-unit was digitised on its own: each copy of a vertex on a shared boundary lies within
    TESSELLATION_JITTER of the true point, independently of its neighbour's copy, and on
    some shared edges only one of the two neighbours has a vertex in the middle. So
    neighbours overlap, and leave gaps, in slivers under a millimetre wide: phantom
    conflicts, which geozones dismisses at its default 1 mm tolerance. The area chosen is
    clear of every other feature, so that no genuine conflict changes. Its first piece keeps
    the feature's BSM, the others get the next free ones; coordinates are not rounded.
    """
    rng = np.random.default_rng(TESSELLATION_SEED)
    others = np.concatenate(
        [frame.geometry.dropna().to_numpy() for frame in clear_of]
        + [red.geometry.to_numpy()[(red["role"] != "ordinary").to_numpy()]]
    )
    others = shapely.make_valid(others)
    ordinary = red[red["role"] == "ordinary"]
    chosen = None
    for position, geom in zip(ordinary.index, ordinary.geometry, strict=True):
        rest = np.concatenate([others, red.geometry.drop(index=position).to_numpy()])
        if 2e6 <= geom.area <= 12e6 and not shapely.dwithin(geom, rest, 300.0).any():
            chosen = position
            break
    assert chosen is not None, "no red-line polygon is clear enough to tessellate"
    area = red.geometry[chosen]
    columns, rows = TESSELLATION_GRID
    x0, y0, x1, y1 = area.buffer(50.0).bounds
    gx = np.linspace(x0, x1, columns + 1)[:, None] + np.zeros((1, rows + 1))
    gy = np.zeros((columns + 1, 1)) + np.linspace(y0, y1, rows + 1)[None, :]
    inner = (slice(1, -1), slice(1, -1))
    gx[inner] += rng.uniform(-0.15, 0.15, gx[inner].shape) * (x1 - x0) / columns
    gy[inner] += rng.uniform(-0.15, 0.15, gy[inner].shape) * (y1 - y0) / rows

    def shared_edge(a: tuple[int, int], b: tuple[int, int]) -> np.ndarray:
        """The vertices of the boundary between two grid points, wiggling as drawn."""
        start, stop = np.array([gx[a], gy[a]]), np.array([gx[b], gy[b]])
        t = np.linspace(0, 1, 9)[1:-1, None]
        normal = np.array([-(stop - start)[1], (stop - start)[0]]) / np.hypot(*(stop - start))
        wiggle = rng.uniform(-25.0, 25.0, (len(t), 1))
        return start + t * (stop - start) + wiggle * normal

    edges: dict[tuple[tuple[int, int], tuple[int, int]], tuple[np.ndarray, int | None, int]] = {}

    def edge(a: tuple[int, int], b: tuple[int, int]) -> np.ndarray:
        """Vertices from grid point a to b (not a itself), with the extra vertex, if any."""
        key = (min(a, b), max(a, b))
        if key not in edges:
            extra = int(rng.integers(0, 6)) if rng.random() < TESSELLATION_EXTRA else None
            edges[key] = (shared_edge(*key), extra, int(rng.integers(0, 2)))
        inner_points, extra, side = edges[key]
        points = list(inner_points)
        if extra is not None and (a < b) == bool(side):
            points.insert(extra + 1, (points[extra] + points[extra + 1]) / 2)
        path = np.array(points) if a < b else np.array(points)[::-1]
        return np.vstack([path, [[gx[b], gy[b]]]])

    cells = []
    for i in range(columns):
        for j in range(rows):
            corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            ring = [np.array([[gx[corners[0]], gy[corners[0]]]])]
            ring += [edge(corners[k], corners[(k + 1) % 4]) for k in range(4)]
            cells.append(Polygon(np.vstack(ring)))
    cut_lines = shapely.union_all([c.boundary for c in cells])
    pieces = [part for cell in cells for part in polygon_parts(area.intersection(cell))]
    assert abs(sum(p.area for p in pieces) - area.area) < 1e-3 * 1e-6 * area.area + 1e-3

    def moved(ring: Any) -> np.ndarray:
        """A ring's vertices, those on a shared boundary each moved on its own."""
        xy = np.asarray(ring.coords)[:-1]
        shared = shapely.distance(shapely.points(xy), cut_lines) < 1e-6
        angle = rng.uniform(0, 2 * np.pi, len(xy))
        radius = TESSELLATION_JITTER * np.sqrt(rng.uniform(0, 1, len(xy)))
        xy = xy + shared[:, None] * np.column_stack(
            [radius * np.cos(angle), radius * np.sin(angle)]
        )
        return np.vstack([xy, xy[:1]])

    def digitised(piece: Polygon) -> Polygon:
        """The piece as digitised on its own."""
        for _ in range(100):
            result = Polygon(moved(piece.exterior), [moved(r) for r in piece.interiors])
            if result.is_valid:
                return result
        raise RuntimeError("could not digitise a valid tessellation piece")

    digitised_pieces = [digitised(piece) for piece in pieces]
    order = sorted(
        range(len(digitised_pieces)), key=lambda k: -digitised_pieces[k].representative_point().y
    )
    digitised_pieces = [digitised_pieces[k] for k in order]
    base = red.loc[chosen]
    numbers = [int(b[2:]) for b in red["BSM"]]
    new_ids = [f"HX{n:03d}" for n in range(max(numbers) + 1, max(numbers) + len(pieces))]
    rows_out = [
        {**base.drop("geometry").to_dict(), "BSM": bsm, "role": "tessellation", "geometry": geom}
        for bsm, geom in zip([base["BSM"], *new_ids], digitised_pieces, strict=True)
    ]
    tessellation = gpd.GeoDataFrame(rows_out, geometry="geometry", crs=red.crs)
    result = pd.concat([red.drop(index=chosen), tessellation])
    position = {bsm: k for k, bsm in enumerate(red["BSM"])}
    result["_order"] = result["BSM"].map(lambda b: position.get(b, len(position) + int(b[2:])))
    result = result.sort_values("_order", kind="stable").drop(columns="_order")
    return gpd.GeoDataFrame(result.reset_index(drop=True), geometry="geometry", crs=red.crs)


def thin(geom: Any) -> bool:
    """No circle of diameter TOLERANCE fits in any part of `geom` (max inscribed circle)."""
    return all(
        2 * shapely.maximum_inscribed_circle(part, 1e-6).length < TOLERANCE
        for part in polygon_parts(geom)
    )


# --------------------------------------------------------------------------- checks


def overlaps(
    left: gpd.GeoDataFrame, right: gpd.GeoDataFrame, same: bool = False, minimum: float = 1e-6
) -> pd.DataFrame:
    """Return all pairs overlapping by more than `minimum` m² (invalid geometries made valid)."""
    lg = shapely.make_valid(left.geometry.to_numpy())
    rg = shapely.make_valid(right.geometry.to_numpy())
    li, ri = shapely.STRtree(rg).query(lg, predicate="intersects")
    if same:
        keep = li < ri
        li, ri = li[keep], ri[keep]
    area = shapely.area(shapely.intersection(lg[li], rg[ri]))
    pairs = pd.DataFrame(
        {"left": left["BSM"].to_numpy()[li], "right": right["BSM"].to_numpy()[ri], "area": area}
    )
    return pairs[pairs["area"] > minimum].reset_index(drop=True)


def check_counties(counties: gpd.GeoDataFrame, province: Polygon) -> dict[str, float]:
    """Verify that the counties tile the province; return the residual areas."""
    geoms = counties.geometry.to_numpy()
    assert all(isinstance(g, Polygon) and g.is_valid for g in geoms), (
        "county polygons must be valid"
    )
    union = shapely.union_all(geoms)
    gap = shapely.symmetric_difference(union, province).area
    pairwise = max(
        shapely.intersection(geoms[i], geoms[j]).area for i in range(6) for j in range(i + 1, 6)
    )
    assert gap < 1.0 and pairwise == 0.0, (gap, pairwise)
    for city in ("9901", "9902"):
        city_geom = shapely.union_all(geoms[counties["XZQDM"].str.startswith(city).to_numpy()])
        assert isinstance(city_geom, Polygon), f"city {city} must be contiguous"
    return {"union_vs_outline_m2": gap, "max_pairwise_overlap_m2": pairwise}


def check_conflicts(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, pd.DataFrame]:
    """Compute every overlap and assert that only the deliberate ones exist."""
    red, urban, cores, farmland = (
        layers["STBHHX"],
        layers["CZKFBJ"],
        layers["ZRBHD_HXQ"],
        layers["YJJBNT"],
    )
    farmland = farmland[farmland.geometry.notna()]
    red_red = overlaps(red, red, same=True, minimum=0.0)  # the phantoms are that small
    red_role = dict(zip(red["BSM"], red["role"], strict=True))
    tessellated = red_red["left"].map(red_role).eq("tessellation") & red_red["right"].map(
        red_role
    ).eq("tessellation")
    geom = dict(zip(red["BSM"], red.geometry, strict=True))
    for a, b in red_red.loc[tessellated, ["left", "right"]].to_numpy():
        assert thin(geom[a].intersection(geom[b])), (a, b)
    found = {
        "red_red": red_red[~tessellated].reset_index(drop=True),
        "red_phantoms": red_red[tessellated].reset_index(drop=True),
        "red_urban": overlaps(red, urban),
        "farm_red": overlaps(farmland, red),
        "farm_urban": overlaps(farmland, urban),
        "farm_core": overlaps(farmland, cores),
        "red_core": overlaps(red, cores),
        "farm_farm": overlaps(farmland, farmland, same=True),
    }
    role = dict(zip(farmland["BSM"], farmland["role"], strict=True))
    assert len(found["red_phantoms"]) > 0
    assert set(red_role[b] for b in found["red_red"][["left", "right"]].to_numpy().ravel()) == {
        "pair_a",
        "pair_b",
    }
    assert (
        len(found["red_urban"]) == 1 and red_role[found["red_urban"]["left"][0]] == "urban_overlap"
    )
    for key, allowed, sliver_role in (
        ("farm_red", {"red_conflict", "triple", "sliver_red"}, "sliver_red"),
        ("farm_urban", {"urban_conflict", "triple", "sliver_urban"}, "sliver_urban"),
    ):
        roles = found[key]["left"].map(role)
        assert set(roles) <= allowed, set(roles)
        small = found[key]["area"] < SLIVER_LIMIT
        assert (roles[small] == sliver_role).all() and (roles[~small] != sliver_role).all()
    assert set(found["farm_core"]["left"].map(role)) == {"core"}
    farm_pairs = {
        frozenset(role[b] for b in pair)
        for pair in found["farm_farm"][["left", "right"]].to_numpy()
    }
    assert farm_pairs == {
        frozenset({"overlap_a", "overlap_b"}),
        frozenset({"duplicate", "duplicated"}),
    }, farm_pairs
    window = red[red["role"] == "window"].geometry.iloc[0]
    inside = farmland[farmland["role"] == "window"].geometry
    assert inside.within(Polygon(window.interiors[0])).all() and not inside.intersects(window).any()
    return found


def check_files(out_dir: Path, expected: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Read the written files back and verify CRS, counts, encoding and defects."""
    notes = []
    gpkg = out_dir / GPKG_NAME
    for layer in ("XZQ", "STBHHX", "CZKFBJ", "ZRBHD_HXQ"):
        back = pyogrio.read_dataframe(gpkg, layer=layer)
        assert back.crs.to_epsg() == 4527 and len(back) == len(expected[layer])
        assert list(back["BSM" if layer != "XZQ" else "XZQDM"]) == list(
            expected[layer]["BSM" if layer != "XZQ" else "XZQDM"]
        )
        invalid = list(back.loc[~back.is_valid, "BSM"]) if layer != "XZQ" else []
        notes.append(
            f"{layer}: {len(back)} features read back, EPSG:4527, invalid: {invalid or 'none'}"
        )
    shp = out_dir / SHP_NAME
    assert not shp.with_suffix(".cpg").exists()
    good = pyogrio.read_dataframe(shp, encoding="GBK")
    assert good.crs.to_epsg() == 4527 and len(good) == len(expected["YJJBNT"])
    assert set(good["XZQMC"]) <= {v[0] for v in COUNTIES.values()} and set(good["DLMC"]) <= {
        n for _, n in LAND_USE
    }
    assert good.geometry.isna().sum() == 1 and (~good.geometry.dropna().is_valid).sum() == 1
    plain = pyogrio.read_dataframe(shp)
    assert not set(plain["XZQMC"]) & {v[0] for v in COUNTIES.values()}, (
        "default read should be mojibake"
    )
    notes.append(
        f"YJJBNT: {len(good)} parcels read back with encoding='GBK'; default read gives e.g. "
        f"{plain['XZQMC'].iloc[0]!r} instead of {good['XZQMC'].iloc[0]!r}"
    )
    raw = shp.with_suffix(".dbf").read_bytes()
    header_length = int.from_bytes(raw[8:10], "little")
    records = raw[header_length:]
    records.decode("gbk")
    try:
        records.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        raise AssertionError("dbf records must not be valid UTF-8")
    assert "东川区".encode("gbk") in records and "东川区".encode() not in records and raw[29] == 0
    notes.append(
        "YJJBNT.dbf: records decode as GBK, fail as UTF-8; language driver byte 0; no .cpg"
    )
    return notes


# --------------------------------------------------------------------------- writing


def write_outputs(out_dir: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write the GeoPackage and the GBK shapefile, replacing previous outputs of this script."""
    out_dir.mkdir(exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{FIXED_DATE}T00:00:00Z"})
    gpkg = out_dir / GPKG_NAME
    gpkg.unlink(missing_ok=True)
    for name in ("XZQ", "STBHHX", "CZKFBJ", "ZRBHD_HXQ"):
        frame = layers[name].drop(columns=["role"], errors="ignore")
        pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    shp = out_dir / SHP_NAME
    for suffix in (*SHP_PARTS, ".cpg"):
        shp.with_suffix(suffix).unlink(missing_ok=True)
    pyogrio.write_dataframe(
        layers["YJJBNT"].drop(columns=["role", "cluster", "note"]),
        shp,
        driver="ESRI Shapefile",
        encoding="GBK",
        layer_options={"DBF_DATE_LAST_UPDATE": FIXED_DATE, "RESIZE": "YES"},
    )
    shp.with_suffix(".cpg").unlink()  # files usually arrive without one


def ellipsoidal_km2(geom: Any) -> float:
    """Return the ellipsoidal area of one (valid) geometry in km²."""
    return float(declared_area([geom])[0]) / 1e6


def farmland_blocks(farmland: gpd.GeoDataFrame, gap: float = 9.0) -> pd.DataFrame:
    """Group parcels closer than ``gap`` metres into contiguous blocks (连片).

    Returns
    -------
    pandas.DataFrame
        One row per block: number of parcels and ellipsoidal area in 亩 of the
        dissolved parcels, largest first.
    """
    geoms = shapely.make_valid(farmland.geometry.dropna().to_numpy())
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=gap)
    parent = np.arange(geoms.size)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    for i, j in zip(left, right, strict=True):
        parent[root(i)] = root(j)
    labels = np.array([root(i) for i in range(geoms.size)])
    rows = []
    for label in np.unique(labels):
        members = geoms[labels == label]
        area_mu = ellipsoidal_km2(shapely.union_all(members)) * 1e6 / MU
        rows.append({"parcels": members.size, "area_mu": area_mu})
    return pd.DataFrame(rows).sort_values("area_mu", ascending=False, ignore_index=True)


def code_list(items: Iterable[str]) -> str:
    """Format ids as a comma-separated list of inline code spans."""
    return ", ".join(f"`{i}`" for i in items)


def table_row(*cells: object) -> str:
    """Return one Markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


README_INTRO = """\
# Sample data: 示范省 (fictional province, code 99)

A small synthetic province slice for the tests, docs and examples of `geozones`. Everything is
generated: no real place, boundary or plan is depicted. Regenerate (deterministic, no network) from
the repository root with:

```
.venv/bin/python scripts/make_sample_data.py
```

The script overwrites only the files listed below and this README, and asserts the statements in
the defect tables: every id below is computed by it, not typed by hand. The shapefile and the
GeoPackage are byte-identical from run to run (dates are pinned to {date}).

## Files

| file | contents |
|---|---|
| `{gpkg}` | GeoPackage, layers `XZQ`, `STBHHX`, `CZKFBJ`, `ZRBHD_HXQ` (UTF-8 text) |
| `YJJBNT.shp` `.shx` `.dbf` `.prj` | permanent basic farmland; attributes **GBK**, **no `.cpg`** |
| `delivery.gpkg`, `delivery_rules.toml` | the 质检 sample delivery and its rules (last section) |
| `README.md` | this file |

All geometry is in **EPSG:4527** (CGCS2000 / 3-degree Gauss-Kruger zone 39, central meridian
117°E, false easting 39 500 000 m: the zone number 39 is prefixed to the easting). The province
lies 60–140 km east of the central meridian (eastings 39 561 000–39 639 000, northings
3 131 000–3 189 000, about {lon_lo:.2f}–{lon_hi:.2f}°E, {lat_lo:.2f}–{lat_hi:.2f}°N), where planar
Gauss-Kruger area exceeds ellipsoidal area by {scale_lo:.1f}–{scale_hi:.1f} × 10⁻⁴ (county by
county). Coordinates are rounded to 1 mm (but for the tessellated red-line area, #17).
`YJJBNT.prj` is the ESRI WKT GDAL writes for EPSG:4527
(`CGCS2000_3_Degree_GK_Zone_39`).

Reference areas in this README are ellipsoidal: the vertices are transformed to EPSG:4490 and
measured with `pyproj.Geod(ellps="GRS80").geometry_area_perimeter` (GRS80 and CGCS2000 share a
and f to 10⁻¹¹). Overlap areas are planar (EPSG:4527) m².

## Administrative units: layer `XZQ`

Fields: `XZQDM` (6-digit county code: the first two digits are the province, 99, the first four
the city), `XZQMC` (name). The six counties tile the province exactly: neighbours share their
boundary vertices, the union equals the generated outline (symmetric difference {residual:.2g} m²,
from the 1 mm rounding) and every pairwise intersection has zero area.

| XZQDM | XZQMC | city | ellipsoidal km² | planar km² |
|---|---|---|---|---|
"""

README_LAYERS = """
## Planning layers

- **`STBHHX`** ecological protection red line, {n_red} polygons ({n_core_zone} 核心保护区,
  {n_general_zone} 一般控制区). Fields: `BSM` (`HX001`…), `XZQDM`, `HXMC` name (e.g.
  青溪水源涵养区), `GKFQ` control zone (`核心保护区` or `一般控制区`). Features are cut at county
  boundaries, so an area spanning two counties is two features touching along the boundary.
  One area is delivered as a tessellation of {n_tessellation} polygons whose shared
  boundaries were digitised separately (#17). Features with ≥ 1,000 vertices: {big}.
- **`CZKFBJ`** urban development boundary, {n_urban} polygons around towns, at least one per
  county. Fields: `BSM` (`CZ01`…), `XZQDM`, `MC` town name.
- **`ZRBHD_HXQ`** nature-reserve core zones, {n_cores} polygons, each straddling the edge of a
  red-line polygon. Fields: `BSM` (`BH01`…), `MC` name.
- **`YJJBNT`** (shapefile) permanent basic farmland, {n_farm} records. Clusters of blocks
  separated by 5–8 m roads and ditches; parcels inside a block share edges exactly. Parcels are
  0.1–20 ha. Fields: `BSM` (`NT000001`…), `XZQDM`, `XZQMC` county name, `TBBH` parcel number
  (5 digits, unique within a county except for the duplicate below), `DLBM`/`DLMC` land use
  (`0101` 水田, `0102` 水浇地, `0103` 旱地), `TBMJ` declared area in m² (ellipsoidal, rounded to
  0.01; three are deliberately wrong). Every parcel lies inside one county: none crosses a county
  boundary.

**Encoding.** `YJJBNT.dbf` text is GBK, its language-driver byte is 0 and there is no `.cpg`,
which is how such files usually arrive. `pyogrio.read_dataframe(path, encoding="GBK")` reads
correct Chinese; a default read assumes ISO-8859-1 and returns mojibake, e.g. `¶«´¨Çø` for 东川区.

**Contiguity.** Joining parcels less than 9 m apart (that is, across the roads) gives {n_blocks}
blocks: {block_classes}. The largest is {largest_mu:,.0f} 亩 in {largest_parcels} parcels.

## Deliberate defects and conflicts

Only the overlaps listed here exist; everything else is disjoint. Every farmland conflict smaller
than {limit:.0f} m² is one of the deliberate slivers (#9); every other farmland conflict is at
least {floor:.0f} m².

| # | case | layer(s) | BSM | notes |
|---|---|---|---|---|
"""

README_APPENDIX = """
All other parcels have `TBMJ` equal to their ellipsoidal area to 0.01 m².

Red line ∩ core zones, by construction (not a defect): {red_core}.

## Appendix: farmland parcels in a conflict or an exception

Overlap areas in planar m² with the feature named.

| BSM | XZQDM | case | red line | urban boundary | core zone |
|---|---|---|---|---|---|
"""

CASE_NAMES = {
    "red_conflict": "red line (#6)",
    "urban_conflict": "urban boundary (#7)",
    "triple": "triple cluster (#6–8)",
    "sliver_red": "sliver (#9)",
    "sliver_urban": "sliver (#9)",
    "core": "core zone (#10)",
    "window": "window (#3)",
}


def readme_defects(layers: dict[str, gpd.GeoDataFrame], found: dict[str, pd.DataFrame]) -> str:
    """Return the rows of the defect table."""
    red, urban, cores, farm = (layers[k] for k in ("STBHHX", "CZKFBJ", "ZRBHD_HXQ", "YJJBNT"))
    parcel = farm.set_index("BSM")
    role = {r: list(farm.loc[farm["role"] == r, "BSM"]) for r in farm["role"].unique()}
    red_id = dict(zip(red["role"], red["BSM"], strict=False))
    red_geom = dict(zip(red["BSM"], red.geometry, strict=True))
    window = red_geom[red_id["window"]]
    holes = [b for b, g in red_geom.items() if g.interiors and b != red_id["window"]]
    invalid = red_geom[red_id["invalid"]]
    pair, red_urban = found["red_red"].iloc[0], found["red_urban"].iloc[0]
    farm_red, farm_urban, farm_core = found["farm_red"], found["farm_urban"], found["farm_core"]
    both = red_geom[red_urban["left"]] & urban.set_index("BSM").geometry[red_urban["right"]]
    triple = {b: parcel.geometry[b].intersection(both).area for b in sorted(set(farm_red["left"]))}
    triple = {b: a for b, a in triple.items() if a > 0}
    conflicts_red = farm_red[farm_red["area"] >= SLIVER_LIMIT]
    conflicts_urban = farm_urban[farm_urban["area"] >= SLIVER_LIMIT]
    slivers = pd.concat([farm_red, farm_urban])
    slivers = slivers[slivers["area"] < SLIVER_LIMIT]
    core_geom = cores.set_index("BSM").geometry
    within = [
        parcel.geometry[b].within(core_geom[c])
        for b, c in zip(farm_core["left"], farm_core["right"], strict=True)
    ]
    grown, neighbour = role["overlap_a"][0], role["overlap_b"][0]
    grown_overlap = found["farm_farm"].set_index("left")["area"].get(grown)
    if grown_overlap is None:
        grown_overlap = found["farm_farm"].set_index("right")["area"][grown]
    original, copy = role["duplicated"][0], role["duplicate"][0]
    bow, null = role["bow_tie"][0], role["null_geometry"][0]
    bow_geom = parcel.geometry[bow]
    wrong = [role[f"wrong_area_{i}"][0] for i in range(3)]
    wrong_true = declared_area([parcel.geometry[b] for b in wrong])

    def span(pairs: pd.DataFrame) -> str:
        return f"{pairs['area'].min():,.0f}–{pairs['area'].max():,.0f} m² each"

    rows = [
        table_row(
            1,
            "invalid red-line polygon: self-intersecting ring",
            "STBHHX",
            f"`{red_id['invalid']}`",
            "figure-of-eight: two lobes traversed in opposite directions, the two closing "
            f"segments cross. Stored as-is. Shoelace area {invalid.area:,.0f} m² (the lobes' "
            f"signs partly cancel); `make_valid` area {shapely.make_valid(invalid).area:,.0f} m²",
        ),
        table_row(
            2,
            "red-line polygons overlapping each other",
            "STBHHX",
            code_list([pair["left"], pair["right"]]),
            f"overlap {pair['area']:,.0f} m², counted twice unless dissolved",
        ),
        table_row(
            3,
            "window (天窗) in a 一般控制区 polygon, filled with farmland",
            "STBHHX, YJJBNT",
            f"`{red_id['window']}`; parcels {code_list(role['window'])}",
            f"hole of {Polygon(window.interiors[0]).area / 1e4:.1f} ha; the parcels lie entirely "
            "inside it, at least 25 m from the red line: not a conflict",
        ),
        table_row(
            4,
            "other red-line polygons with holes",
            "STBHHX",
            code_list(holes),
            "natural holes, nothing inside",
        ),
        table_row(
            5,
            "urban boundary overlapping the red line",
            "CZKFBJ, STBHHX",
            code_list([red_urban["right"], red_urban["left"]]),
            f"overlap {red_urban['area']:,.0f} m²",
        ),
        table_row(
            6,
            "farmland overlapping the red line",
            "YJJBNT, STBHHX",
            code_list(conflicts_red["left"]),
            f"{span(conflicts_red)}, some parcels entirely inside; "
            "includes the triple overlaps (#8)",
        ),
        table_row(
            7,
            "farmland overlapping the urban boundary",
            "YJJBNT, CZKFBJ",
            code_list(conflicts_urban["left"]),
            f"{span(conflicts_urban)}; includes the triple overlaps (#8)",
        ),
        table_row(
            8,
            "farmland ∩ red line ∩ urban boundary",
            "all three",
            code_list(triple),
            f"inside `{red_urban['left']}` ∩ `{red_urban['right']}`: "
            + ", ".join(f"`{b}` {a:,.0f} m²" for b, a in triple.items()),
        ),
        table_row(
            9,
            "slivers: a parcel edge intrudes 0.5–2 m into a line",
            "YJJBNT vs STBHHX / CZKFBJ",
            code_list(slivers["left"]),
            "; ".join(
                f"`{b}` into `{t}` by {parcel.loc[b, 'note']}, {a:.1f} m²"
                for b, t, a in zip(slivers["left"], slivers["right"], slivers["area"], strict=True)
            ),
        ),
        table_row(
            10,
            "farmland in a nature-reserve core zone",
            "YJJBNT, ZRBHD_HXQ",
            f"inside: {code_list(farm_core['left'][within])}; "
            f"partly: {code_list(farm_core['left'][~np.array(within)])}",
            "exception to the priority order: taken out of the farmland. None of them touches "
            "the red line",
        ),
        table_row(
            11,
            "farmland parcels overlapping each other",
            "YJJBNT",
            code_list([grown, neighbour]),
            f"`{grown}` was digitised 12 m into its neighbour: overlap {grown_overlap:,.0f} m²",
        ),
        table_row(
            12,
            "exact duplicate parcel",
            "YJJBNT",
            f"`{original}` (original), `{copy}` (copy)",
            f"same geometry and attributes (`TBBH` {parcel.loc[copy, 'TBBH']}, `TBMJ` "
            f"{parcel.loc[copy, 'TBMJ']:.2f}) except `BSM`; the copy is the last record of "
            f"county {parcel.loc[copy, 'XZQDM']}",
        ),
        table_row(
            13,
            "self-intersecting (bow-tie) parcel",
            "YJJBNT",
            f"`{bow}`",
            f"two corners swapped. `TBMJ` {parcel.loc[bow, 'TBMJ']:.2f} is the area of the "
            f"intended quadrilateral; shoelace area {bow_geom.area:,.2f} m², `make_valid` "
            f"{shapely.make_valid(bow_geom).area:,.2f} m², `buffer(0)` "
            f"{bow_geom.buffer(0).area:,.2f} m²",
        ),
        table_row(
            14,
            "NULL geometry (shapefile null shape)",
            "YJJBNT",
            f"`{null}`",
            f"attributes kept; `TBMJ` {parcel.loc[null, 'TBMJ']:.2f} is the area of the lost "
            "parcel",
        ),
        table_row(
            15,
            "wrong declared area `TBMJ` (off by 8–15 %)",
            "YJJBNT",
            code_list(wrong),
            "; ".join(
                f"`{b}` declares {parcel.loc[b, 'TBMJ']:,.2f}, measures {t:,.2f} "
                f"({(parcel.loc[b, 'TBMJ'] / t - 1) * 100:+.1f} %)"
                for b, t in zip(wrong, wrong_true, strict=True)
            ),
        ),
        table_row(
            16,
            "GBK text, no `.cpg`, language-driver byte 0",
            "YJJBNT.dbf",
            "all",
            'read with `encoding="GBK"` (or detect it)',
        ),
        tessellation_row(17, red, found["red_phantoms"]),
    ]
    return "\n".join(rows) + "\n"


def tessellation_row(number: int, red: gpd.GeoDataFrame, phantoms: pd.DataFrame) -> str:
    """The defect-table row of the tessellated red-line area (see tessellate_redline)."""
    pieces = red[red["role"] == "tessellation"]
    widest = max(
        2 * shapely.maximum_inscribed_circle(part, 1e-6).length
        for a, b in phantoms[["left", "right"]].to_numpy()
        for part in polygon_parts(
            red.set_index("BSM").geometry[a].intersection(red.set_index("BSM").geometry[b])
        )
    )
    return table_row(
        number,
        "red-line area delivered as a tessellation, shared vertices digitised separately",
        "STBHHX",
        code_list(pieces["BSM"]),
        f"{pieces['HXMC'].iloc[0]} split into {len(pieces)} polygons along its sub-units; each "
        f"copy of a shared vertex lies within {TESSELLATION_JITTER * 1000:g} mm of the true "
        f"point. {len(phantoms)} pairs of neighbours overlap by slivers "
        f"({phantoms['area'].sum():.2f} m² in all, the largest {phantoms['area'].max():.3f} m², "
        f"none wider than {widest * 1000:.2f} mm): phantom conflicts, which the default "
        f"`xy_tolerance` of {TOLERANCE:g} m dismisses; with `xy_tolerance = 0` they are "
        "conflicts. Coordinates not rounded to 1 mm",
    )


def write_readme(
    out_dir: Path,
    layers: dict[str, gpd.GeoDataFrame],
    found: dict[str, pd.DataFrame],
    tiling: dict[str, float],
) -> None:
    """Write ``README.md`` describing the files and every deliberate defect."""
    counties, red, farm = layers["XZQ"], layers["STBHHX"], layers["YJJBNT"]
    excess = shapely.area(counties.geometry.to_numpy()) / declared_area(counties.geometry) - 1
    lon_lo, lat_lo, lon_hi, lat_hi = counties.to_crs("EPSG:4490").total_bounds
    text = README_INTRO.format(
        date=FIXED_DATE,
        gpkg=GPKG_NAME,
        residual=tiling["union_vs_outline_m2"],
        scale_lo=excess.min() * 1e4,
        scale_hi=excess.max() * 1e4,
        lon_lo=lon_lo,
        lon_hi=lon_hi,
        lat_lo=lat_lo,
        lat_hi=lat_hi,
    )
    for xzqdm, name, geom in zip(
        counties["XZQDM"], counties["XZQMC"], counties.geometry, strict=True
    ):
        city = " ".join(COUNTIES[xzqdm][1:3])
        text += table_row(
            xzqdm, name, city, f"{ellipsoidal_km2(geom):.2f}", f"{geom.area / 1e6:.2f}"
        )
        text += "\n"
    province = shapely.union_all(counties.geometry.to_numpy())
    text += table_row(
        "**99**",
        "**示范省**",
        "",
        f"**{ellipsoidal_km2(province):.2f}**",
        f"**{province.area / 1e6:.2f}**",
    )
    text += "\n"

    blocks = farmland_blocks(farm)
    classes = {
        "万亩方 (≥ 10,000 亩)": (blocks["area_mu"] >= 10_000).sum(),
        "千亩方 (1,000–10,000 亩)": blocks["area_mu"].between(1_000, 10_000, "left").sum(),
        "百亩方 (100–1,000 亩)": blocks["area_mu"].between(100, 1_000, "left").sum(),
        "smaller than 100 亩": (blocks["area_mu"] < 100).sum(),
    }
    assert classes["万亩方 (≥ 10,000 亩)"] >= 1, "the sample needs a 万亩方"
    zones = red["GKFQ"].value_counts()
    text += README_LAYERS.format(
        n_red=len(red),
        n_core_zone=zones.get("核心保护区", 0),
        n_general_zone=zones.get("一般控制区", 0),
        n_tessellation=int((red["role"] == "tessellation").sum()),
        big=code_list(red.loc[shapely.get_num_coordinates(red.geometry.to_numpy()) >= 1000, "BSM"]),
        n_urban=len(layers["CZKFBJ"]),
        n_cores=len(layers["ZRBHD_HXQ"]),
        n_farm=len(farm),
        n_blocks=len(blocks),
        block_classes=", ".join(f"{n} {label}" for label, n in classes.items()),
        largest_mu=blocks["area_mu"].iloc[0],
        largest_parcels=blocks["parcels"].iloc[0],
        limit=SLIVER_LIMIT,
        floor=1.5 * SLIVER_LIMIT,
    )
    text += readme_defects(layers, found)

    red_core = found["red_core"]
    text += README_APPENDIX.format(
        red_core="; ".join(
            f"`{a}` ∩ `{b}` {x:,.0f} m²"
            for a, b, x in zip(red_core["left"], red_core["right"], red_core["area"], strict=True)
        )
    )
    parcel = farm.set_index("BSM")
    pairs = {k: found[k] for k in ("farm_red", "farm_urban", "farm_core")}
    involved = set().union(*(set(p["left"]) for p in pairs.values()))
    involved |= set(farm.loc[farm["role"] == "window", "BSM"])
    for bsm in sorted(involved):
        cells = [
            ", ".join(
                f"`{r}` {a:.1f}"
                for r, a in zip(
                    p.loc[p["left"] == bsm, "right"], p.loc[p["left"] == bsm, "area"], strict=True
                )
            )
            for p in pairs.values()
        ]
        case = CASE_NAMES[parcel.loc[bsm, "role"]]
        text += table_row(f"`{bsm}`", parcel.loc[bsm, "XZQDM"], case, *cells) + "\n"
    (out_dir / "README.md").write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- the version before

BEFORE_SHP = "YJJBNT_before.shp"
PROJECT_COUNTY = "990122"  # 白石县: a road project took farmland, replaced in the county (补划)
PROJECT_TOWN = "白石县城"
STRIP_WIDTH = 3.0  # m taken off each parcel along the widened road
TAKEN_PREFIX = "NT9"  # BSMs of the parcels only the version before has


@dataclass
class VersionEdits:
    """What the 2024 adjustment of 白石县 changed, by BSM (the after version is YJJBNT.shp)."""

    removed: dict[str, Any] = field(default_factory=dict)  # taken whole: BSM -> parcel before
    trimmed: dict[str, Any] = field(default_factory=dict)  # BSM -> strip taken off it
    added: dict[str, Any] = field(default_factory=dict)  # replacement (补划): BSM -> parcel
    merged: tuple[str, str] = ("", "")  # two parcels before, the first BSM after
    split: tuple[str, str] = ("", "")  # one parcel before (first BSM), two after
    relabelled: str = ""  # DLBM 0103 旱地 before, 0101 水田 after


def build_farmland_before(
    layers: dict[str, gpd.GeoDataFrame],
) -> tuple[gpd.GeoDataFrame, VersionEdits]:
    """The permanent farmland as approved before a road project of 白石县 took some of it.

    The version after is the farmland of ``YJJBNT.shp``. In the version before, three parcels
    stood where the project built an interchange (taken whole), four parcels along the widened
    road were 3 m wider (a strip taken off each), the replacement parcels (补划, at least 5 %
    more than what was taken) were not yet farmland, one parcel was two (merged after), two
    parcels were one (split after) and one parcel was 旱地 (水田 after). Every other parcel,
    with every deliberate defect, is the same in both versions.
    """
    farmland = layers["YJJBNT"]
    county_geom = layers["XZQ"].set_index("XZQDM").geometry[PROJECT_COUNTY]
    town = layers["CZKFBJ"].set_index("MC").geometry[PROJECT_TOWN]
    present = farmland.geometry.notna().to_numpy()
    geoms = shapely.make_valid(farmland.geometry.to_numpy())
    tree = shapely.STRtree(np.where(present, geoms, Polygon()))
    lines = np.concatenate(
        [
            shapely.make_valid(layers[name].geometry.to_numpy())
            for name in ("STBHHX", "CZKFBJ", "ZRBHD_HXQ")
        ]
    )
    others = shapely.union_all(lines)
    candidates = farmland[
        farmland["role"].isin(["ordinary", "large"])
        & (farmland["XZQDM"] == PROJECT_COUNTY)
        & present
    ]
    order = candidates.geometry.distance(town.centroid).sort_values(kind="stable")
    pool = [bsm for bsm in candidates.loc[order.index, "BSM"]]
    position = {bsm: i for i, bsm in enumerate(farmland["BSM"])}
    used: set[str] = set()
    edits = VersionEdits()

    def geom_of(bsm: str) -> Any:
        return geoms[position[bsm]]

    # Four parcels along a road near the town lose a 3 m strip to the widening.
    for bsm in pool:
        parcel = geom_of(bsm)
        near = tree.query(parcel, predicate="dwithin", distance=12.0)
        near = near[near != position[bsm]]
        keep_clear = shapely.buffer(shapely.union_all([*geoms[near], *edits.trimmed.values()]), 1.0)
        grown = shapely.buffer(parcel, STRIP_WIDTH, join_style="mitre", mitre_limit=2.0)
        strip = grown.difference(parcel).difference(keep_clear)
        strip = strip.difference(shapely.buffer(others, 1.0)).intersection(county_geom)
        parts = polygon_parts(strip)
        if not parts:
            continue
        strip = max(parts, key=lambda part: part.area)
        wider = round_coords(shapely.union(parcel, strip))
        if strip.area < 150.0 or not isinstance(wider, Polygon) or not wider.is_valid:
            continue
        edits.trimmed[bsm] = wider
        used.add(bsm)
        if len(edits.trimmed) == 4:
            break
    assert len(edits.trimmed) == 4, "the sample needs four parcels along a road"

    # Three parcels where the interchange was built: on empty land near a farmland block.
    blocked = shapely.buffer(shapely.union_all([*geoms[present], others]), 8.0)
    near_farmland = shapely.buffer(shapely.union_all(candidates.geometry.to_numpy()), 40.0)
    shapely.prepare(blocked)
    shapely.prepare(county_geom)
    shapely.prepare(near_farmland)
    centre = town.centroid
    offsets = [
        (dx, dy)
        for dx in np.arange(-8000.0, 8001.0, 50.0)
        for dy in np.arange(-8000.0, 8001.0, 50.0)
        if math.hypot(dx, dy) <= 8000.0
    ]
    offsets.sort(key=lambda d: (math.hypot(*d), d))
    site = None
    for dx, dy in offsets:
        x, y = centre.x + dx, centre.y + dy
        candidate = shapely.box(x - 75.0, y - 40.0, x + 75.0, y + 40.0)
        if (
            county_geom.contains(candidate)
            and not blocked.intersects(candidate)
            and near_farmland.intersects(candidate)
        ):
            site = (x - 75.0, y - 40.0)
            break
    assert site is not None, "no empty land for the interchange near the town"
    for k in range(3):
        x0, y0 = site[0] + 50.0 * k, site[1]
        edits.removed[f"{TAKEN_PREFIX}{k + 1:05d}"] = round_coords(
            shapely.box(x0, y0, x0 + 50.0, y0 + 80.0)
        )

    # A parcel that was two: cut across its longest side through its centre.
    free = [bsm for bsm in pool if bsm not in used]
    whole = next(bsm for bsm in free if geom_of(bsm).area > 15_000.0)
    used.add(whole)
    edits.merged = (whole, f"{TAKEN_PREFIX}{4:05d}")

    # Two neighbours sharing a long edge were one parcel.
    free = [bsm for bsm in pool if bsm not in used]
    pair = None
    for bsm in free:
        touching = tree.query(geom_of(bsm), predicate="intersects")
        for other in sorted(farmland["BSM"].to_numpy()[touching]):
            if other == bsm or other not in free:
                continue
            shared = shapely.intersection(geom_of(bsm), geom_of(other))
            joined = shapely.union(geom_of(bsm), geom_of(other))
            if shapely.length(shared) >= 20.0 and isinstance(joined, Polygon):
                pair = (bsm, other)
                break
        if pair:
            break
    assert pair is not None, "no pair of neighbours for the split"
    used.update(pair)
    edits.split = pair

    # A 旱地 parcel became 水田.
    free = [bsm for bsm in pool if bsm not in used]
    edits.relabelled = next(
        bsm for bsm in free if farmland.loc[farmland["BSM"] == bsm, "DLBM"].iloc[0] == "0101"
    )
    used.add(edits.relabelled)

    # The replacement (补划): parcels far from the town, a block's worth, > 105 % of the take.
    taken = float(
        declared_area(list(edits.removed.values())).sum()
        + sum(
            declared_area([wider]).sum() - declared_area([geom_of(bsm)]).sum()
            for bsm, wider in edits.trimmed.items()
        )
    )
    start = next(bsm for bsm in reversed(pool) if bsm not in used)
    queue, seen = [start], {start}
    replaced = 0.0
    while queue and replaced < 1.05 * taken:
        bsm = queue.pop(0)
        edits.added[bsm] = geom_of(bsm)
        replaced += float(declared_area([geom_of(bsm)])[0])
        touching = tree.query(geom_of(bsm), predicate="dwithin", distance=9.0)
        for other in sorted(farmland["BSM"].to_numpy()[touching]):
            if other in seen or other in used or other not in pool:
                continue
            seen.add(other)
            queue.append(other)
    assert replaced >= 1.05 * taken, (replaced, taken)
    used.update(edits.added)
    return _farmland_before_frame(farmland, edits), edits


def _farmland_before_frame(farmland: gpd.GeoDataFrame, edits: VersionEdits) -> gpd.GeoDataFrame:
    """Apply the edits backwards to the farmland after; the attributes as delivered."""
    before = farmland.drop(columns=["role", "cluster", "note"]).copy()
    before = before[~before["BSM"].isin(list(edits.added))]
    rows = before.set_index("BSM", drop=False)
    for bsm, wider in edits.trimmed.items():
        rows.loc[bsm, "geometry"] = wider
    kept, half = edits.merged
    whole = rows.loc[kept, "geometry"]
    frame = shapely.minimum_rotated_rectangle(whole)
    corners = np.asarray(frame.exterior.coords)[:4]
    sides = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
    longest = int(np.argmax(sides))
    a, b = corners[longest], corners[(longest + 1) % 4]
    c, d = corners[(longest + 2) % 4], corners[(longest + 3) % 4]
    middle_ab, middle_cd = (a + b) / 2, (c + d) / 2
    across = middle_cd - middle_ab
    cut = LineString([middle_ab - across, middle_cd + across])
    halves = sorted(polygon_parts(shapely.ops.split(whole, cut)), key=lambda p: -p.area)
    assert len(halves) == 2
    rows.loc[kept, "geometry"] = halves[0]
    extra = rows.loc[[kept]].copy()
    extra["BSM"] = half
    extra["geometry"] = [halves[1]]
    first, second = edits.split
    rows.loc[first, "geometry"] = shapely.union(
        rows.loc[first, "geometry"], rows.loc[second, "geometry"]
    )
    rows = rows.drop(index=second)
    rows.loc[edits.relabelled, ["DLBM", "DLMC"]] = ["0103", "旱地"]
    taken = gpd.GeoDataFrame(
        {
            "BSM": list(edits.removed),
            "XZQDM": PROJECT_COUNTY,
            "XZQMC": COUNTIES[PROJECT_COUNTY][0],
            "TBBH": "",
            "DLBM": "0101",
            "DLMC": "水田",
            "TBMJ": 0.0,
        },
        geometry=list(edits.removed.values()),
        crs=farmland.crs,
    )
    result = pd.concat(
        [rows.reset_index(drop=True), extra.reset_index(drop=True), taken], ignore_index=True
    )
    result = gpd.GeoDataFrame(result, geometry="geometry", crs=farmland.crs)
    # TBBH for the parcels only this version has; declared areas of every parcel redrawn.
    numbers = result.loc[result["XZQDM"] == PROJECT_COUNTY, "TBBH"]
    last = int(pd.to_numeric(numbers, errors="coerce").max())
    fresh = result["BSM"].str.startswith(TAKEN_PREFIX).to_numpy()
    result.loc[fresh, "TBBH"] = [f"{last + k + 1:05d}" for k in range(int(fresh.sum()))]
    redrawn = result["BSM"].isin([*edits.trimmed, kept, half, first, *edits.removed]).to_numpy()
    result.loc[redrawn, "TBMJ"] = declared_area(result.geometry.to_numpy()[redrawn])
    return result


def check_farmland_before(
    before: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], edits: VersionEdits
) -> None:
    """The version before adds no overlap: its redrawn parcels touch nothing they did not."""
    changed = (
        before["BSM"]
        .isin([*edits.trimmed, *edits.removed, edits.merged[0], edits.merged[1], edits.split[0]])
        .to_numpy()
    )
    geoms = before.geometry.to_numpy()
    assert all(g.is_valid and isinstance(g, Polygon) for g in geoms[changed])
    for name in ("STBHHX", "CZKFBJ", "ZRBHD_HXQ"):
        other = shapely.make_valid(layers[name].geometry.to_numpy())
        hits = shapely.STRtree(other).query(geoms[changed], predicate="intersects")
        assert (
            not len(hits[0])
            or shapely.area(shapely.intersection(geoms[changed][hits[0]], other[hits[1]])).max()
            < 1e-6
        ), name
    present = before.geometry.notna().to_numpy()
    valid = shapely.make_valid(geoms[present])
    i, j = shapely.STRtree(valid).query(geoms[changed], predicate="intersects")
    owner = np.flatnonzero(changed)[i]
    other = np.flatnonzero(present)[j]
    keep = owner != other
    area = shapely.area(shapely.intersection(geoms[owner[keep]], geoms[other[keep]]))
    assert area.max(initial=0.0) < 1e-6, area.max()
    assert before["BSM"].is_unique


def write_farmland_before(out_dir: Path, before: gpd.GeoDataFrame) -> None:
    """Write ``YJJBNT_before.shp`` like ``YJJBNT.shp``: GBK attributes, no ``.cpg``."""
    shp = out_dir / BEFORE_SHP
    for suffix in (*SHP_PARTS, ".cpg"):
        shp.with_suffix(suffix).unlink(missing_ok=True)
    pyogrio.write_dataframe(
        before,
        shp,
        driver="ESRI Shapefile",
        encoding="GBK",
        layer_options={"DBF_DATE_LAST_UPDATE": FIXED_DATE, "RESIZE": "YES"},
    )
    shp.with_suffix(".cpg").unlink()


README_BEFORE = """
## The farmland before an adjustment: `YJJBNT_before.shp`

The permanent farmland as approved before a road project of {county_name} ({county}) took some
of it and it was replaced in the county (补划): the version before; `YJJBNT.shp` is the
version after. Same fields, GBK attributes and no `.cpg`, {n_before} records. Every parcel not
listed here, with every deliberate defect above, is the same in both versions (identical
coordinates). `geozones compare sample_data/YJJBNT_before.shp sample_data/YJJBNT.shp
--id-field BSM --zones sample_data/sanqusanxian.gpkg --zones-layer XZQ` finds exactly these
edits (`make demo` writes its files to `output/compare/`). Areas are ellipsoidal m² (the
declared-area formula above), 亩 in brackets.

| edit | BSM before | BSM after | land taken out | land put in |
|---|---|---|---|---|
{rows}
| **total** | | | **{out:,.2f} ({out_mu:,.2f} 亩)** | **{inn:,.2f} ({in_mu:,.2f} 亩)** |

The net change is {net:+,.2f} m² ({net_mu:+,.2f} 亩): the replacement is
{share:.1f} % of the land taken, so the farmland of {county_name} is not reduced (数量不减少).
The two halves of the merged parcel meet on a line across it whose two ends lie on the
parcel's edges, off the 1 mm grid (the one exception to the rounding above): their union is
the parcel after, and no land moves there.
"""


def append_readme_before(
    out_dir: Path,
    before: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame],
    edits: VersionEdits,
) -> None:
    """Append the section on the version before to ``README.md``."""
    after = layers["YJJBNT"].set_index("BSM").geometry
    rows = []
    out_total = in_total = 0.0
    for bsm, geom in edits.removed.items():
        area = float(declared_area([geom])[0])
        out_total += area
        rows.append(table_row("taken whole (interchange)", f"`{bsm}`", "", f"{area:,.2f}", ""))
    for bsm, wider in edits.trimmed.items():
        area = float(declared_area([wider])[0] - declared_area([after[bsm]])[0])
        out_total += area
        what = f"{STRIP_WIDTH:g} m strip taken (road widened)"
        rows.append(table_row(what, f"`{bsm}`", f"`{bsm}`", f"{area:,.2f}", ""))
    for bsm, geom in edits.added.items():
        area = float(declared_area([geom])[0])
        in_total += area
        rows.append(table_row("replacement (补划)", "", f"`{bsm}`", "", f"{area:,.2f}"))
    kept, half = edits.merged
    rows.append(table_row("merged", f"`{kept}`, `{half}`", f"`{kept}`", "0", "0"))
    first, second = edits.split
    rows.append(table_row("split", f"`{first}`", f"`{first}`, `{second}`", "0", "0"))
    relabelled = f"`{edits.relabelled}`"
    what = "attributes only: DLBM 0103 旱地 → 0101 水田"
    rows.append(table_row(what, relabelled, relabelled, "0", "0"))
    text = README_BEFORE.format(
        county=PROJECT_COUNTY,
        county_name=COUNTIES[PROJECT_COUNTY][0],
        n_before=len(before),
        rows="\n".join(rows),
        out=out_total,
        out_mu=out_total / MU,
        inn=in_total,
        in_mu=in_total / MU,
        net=in_total - out_total,
        net_mu=(in_total - out_total) / MU,
        share=100.0 * in_total / out_total,
    )
    with (out_dir / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(text)


# --------------------------------------------------------------------------- main


def main() -> None:
    """Generate, write, verify and summarise the sample data."""
    rng = np.random.default_rng(SEED)
    province = build_province(rng)
    counties = build_counties(rng, province)
    tiling = check_counties(counties, province)

    layout = Layout(rng, counties)
    build_urban_boundary(layout)
    special = build_redline(layout)
    build_reserve_cores(layout)

    farmland = FarmlandBuilder(layout)
    bs_town = next(t for t in layout.urban_boundary if t.name == "白石县城")
    farmland.window_cluster(special["window"])
    farmland.triple_cluster(special["urban_overlap"], bs_town)
    for core in layout.reserve_cores:
        farmland.core_cluster(core)
    ordinary_red = [f for f in layout.redline if f.role == "ordinary"]
    other_towns = [t for t in layout.urban_boundary if t is not bs_town]
    farmland.conflict_cluster([f for f in ordinary_red if f.geometry.area > 2e6], "red_conflict")
    farmland.conflict_cluster(other_towns, "urban_conflict")
    for depth in (0.6, 1.8):
        farmland.sliver_parcel(ordinary_red, depth, "sliver_red")
    for depth in (1.2, 0.9):
        farmland.sliver_parcel(other_towns, depth, "sliver_urban")
    farmland.ordinary_clusters(target_count=2900)
    farmland.inject_defects()

    layers = {
        "XZQ": counties,
        "STBHHX": features_frame(
            layout.redline, "HX", 3, {"XZQDM": "county", "HXMC": "name", "GKFQ": "zone"}
        ),
        "CZKFBJ": features_frame(layout.urban_boundary, "CZ", 2, {"XZQDM": "county", "MC": "name"}),
        "ZRBHD_HXQ": features_frame(layout.reserve_cores, "BH", 2, {"MC": "name"}),
        "YJJBNT": farmland_frame(farmland, counties),
    }
    layers["STBHHX"] = tessellate_redline(
        layers["STBHHX"], [layers["CZKFBJ"], layers["ZRBHD_HXQ"], layers["YJJBNT"]]
    )
    found = check_conflicts(layers)
    write_outputs(OUT_DIR, layers)
    notes = check_files(OUT_DIR, layers)
    write_readme(OUT_DIR, layers, found, tiling)
    before, edits = build_farmland_before(layers)
    check_farmland_before(before, layers, edits)
    write_farmland_before(OUT_DIR, before)
    append_readme_before(OUT_DIR, before, layers, edits)
    from make_sample_delivery import main as make_delivery  # the 质检 sample, from these files

    make_delivery()

    print("示范省 sample data written to", OUT_DIR)
    for name, frame in layers.items():
        print(f"  {name:<10} {len(frame):>5} features")
    for note in notes:
        print("  check:", note)
    files = sorted(p for p in OUT_DIR.iterdir() if p.is_file())
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        print(f"  {path.name:<20} {path.stat().st_size:>9,d} bytes  sha256 {digest}")
    print(f"  total {sum(p.stat().st_size for p in files):,d} bytes")


if __name__ == "__main__":
    main()

"""Generate synthetic province-scale 三区三线 layers for benchmarks.

The layers are deterministic (seeded numpy), built with vectorized shapely 2 array functions and
written as GeoParquet in EPSG:4527 (CGCS2000 3° Gauss-Krüger zone 39, central meridian 117°E,
eastings prefixed with the zone number). The province covers eastings 39,350,000-39,650,000 and
northings 3,000,000-3,400,000 (about 300 km x 400 km, roughly 27°-31°N, 115.4°-118.6°E).

- ``farmland.parquet`` (永久基本农田): small irregular parcels (0.01-50 ha, mostly 0.5-2 ha,
  ~13 distinct vertices), laid out in fields on rotated grids inside 2 km blocks that cluster into
  agricultural plains; parcels do not overlap, except ~0.2% that are inflated over a neighbour.
  Fields ``BSM`` (int64), ``XZQDM`` (str, 6-digit county code), ``TBMJ`` (float64, m²: the planar
  area divided by the Gauss-Krüger point scale factor squared, rounded to 0.01 m², i.e. close to
  the ellipsoidal area; ~0.1% of the values are deliberately wrong by 2-30%).
- ``redline.parquet`` (生态保护红线): wiggly star-shaped polygons with hundreds to thousands of
  vertices, a few huge ones (20k-150k vertices), ~20% with holes, mostly away from the plains but
  some over farmland; they may overlap each other. Fields ``BSM``, ``XZQDM``.
- ``urban.parquet`` (城镇开发边界): polygons of 50-300 vertices around towns in the plains, ~5% with
  holes (天窗). Fields ``BSM``, ``XZQDM``.

:func:`tessellation` builds, in memory, a layer whose features share their edges with
sub-millimetre vertex jitter, as tessellations arrive (``bench_conflicts.py --tessellation``).

Exteriors are clockwise and holes counter-clockwise (the ESRI convention of data converted from
shapefiles and File Geodatabases); every geometry is a valid Polygon. Counties are a 10 x 10 grid
of 30 km x 40 km cells coded ``99xxyy`` (xx: column 01-10 west to east, yy: row 01-10 south to
north); each feature takes the county of its centre.

Usage::

    python benchmarks/generate.py --size small            # small | medium | large | xl
    python benchmarks/generate.py --parcels 500000 --layers farmland --force
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

EPSG = 4527
ZONE = 39
X_MIN, X_MAX = ZONE * 1e6 + 350_000.0, ZONE * 1e6 + 650_000.0
Y_MIN, Y_MAX = 3_000_000.0, 3_400_000.0
CENTRAL_EASTING = ZONE * 1e6 + 500_000.0
BLOCK = 2_000.0  # side of a landscape block, m
N_BX, N_BY = int((X_MAX - X_MIN) / BLOCK), int((Y_MAX - Y_MIN) / BLOCK)
COUNTY_COLS, COUNTY_ROWS = 10, 10
EARTH_RADIUS = 6_371_000.0  # only for the approximate TBMJ field
CHUNK_FEATURES = 1 << 20  # farmland parcels per chunk = pyarrow's default row-group size
CHUNK_VERTICES = 8_000_000  # red-line / urban vertices per chunk
LAYERS = ("farmland", "redline", "urban")
DEFAULT_OUT = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Sizes:
    """Feature counts of the three layers."""

    farmland: int
    redline: int
    urban: int

    def count(self, layer: str) -> int:
        """Number of features of ``layer``."""
        return int(getattr(self, layer))


SIZES: dict[str, Sizes] = {
    "small": Sizes(20_000, 2_000, 200),
    "medium": Sizes(200_000, 20_000, 2_000),
    "large": Sizes(1_000_000, 50_000, 5_000),
    "xl": Sizes(10_000_000, 100_000, 10_000),
}
DEFAULT_LAYERS: dict[str, tuple[str, ...]] = {"xl": ("farmland",)}


def sizes_for_parcels(parcels: int) -> Sizes:
    """Counts for a custom farmland size, interpolated between the named sizes."""
    knots = [0, 200_000, 1_000_000, 10_000_000]
    red = np.interp(parcels, knots, [0, 20_000, 50_000, 500_000])
    urban = np.interp(parcels, knots, [0, 2_000, 5_000, 50_000])
    if parcels > knots[-1]:
        red, urban = parcels / 20, parcels / 200
    return Sizes(parcels, max(1, round(red)), max(1, round(urban)))


def resolve(size: str | None = None, parcels: int | None = None) -> tuple[str, Sizes]:
    """Name of the data directory and the feature counts for a size name or a parcel count."""
    if parcels is not None:
        if parcels < 1:
            raise ValueError("--parcels must be positive")
        return f"n{parcels}", sizes_for_parcels(parcels)
    size = size or "small"
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; use one of {', '.join(SIZES)}")
    return size, SIZES[size]


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


# --------------------------------------------------------------------------------------------
# landscape: smooth random fields on the 2 km block grid


@dataclass
class Landscape:
    """Smooth random fields on the block grid, flattened (row-major, y then x)."""

    suitability: np.ndarray  # high in agricultural plains
    field_size: np.ndarray  # regional tendency to large or small fields
    orientation: np.ndarray  # regional field orientation, radians
    bx: np.ndarray  # block centre eastings
    by: np.ndarray  # block centre northings


def _smooth_field(rng: np.random.Generator, sigma_blocks: float) -> np.ndarray:
    """Gaussian-filtered white noise (periodic), standardised to mean 0 and std 1."""
    noise = rng.standard_normal((N_BY, N_BX))
    ky = np.fft.fftfreq(N_BY)[:, None]
    kx = np.fft.rfftfreq(N_BX)[None, :]
    kernel = np.exp(-2.0 * (np.pi * sigma_blocks) ** 2 * (kx**2 + ky**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=noise.shape)
    return ((field - field.mean()) / field.std()).ravel()


def landscape(seed: int) -> Landscape:
    """The landscape shared by all layers of one seed."""
    rng = _rng(seed, 0)
    suitability = 0.8 * _smooth_field(rng, 12.0) + 0.35 * _smooth_field(rng, 3.0)
    field_size = _smooth_field(rng, 8.0)
    orientation = 0.5 * _smooth_field(rng, 10.0)
    iy, ix = np.divmod(np.arange(N_BX * N_BY), N_BX)
    return Landscape(
        suitability, field_size, orientation, X_MIN + (ix + 0.5) * BLOCK, Y_MIN + (iy + 0.5) * BLOCK
    )


def county_codes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """6-digit county codes ``99xxyy`` of points, as an integer array."""
    col = np.clip(
        ((x - X_MIN) / (X_MAX - X_MIN) * COUNTY_COLS).astype(np.int64), 0, COUNTY_COLS - 1
    )
    row = np.clip(
        ((y - Y_MIN) / (Y_MAX - Y_MIN) * COUNTY_ROWS).astype(np.int64), 0, COUNTY_ROWS - 1
    )
    return 990_000 + (col + 1) * 100 + (row + 1)


def _ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Owner index, position within the owner, and start offset of each owner, for ragged data."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    owner = np.repeat(np.arange(len(counts)), counts)
    position = np.arange(int(counts.sum()), dtype=np.int64) - starts[owner]
    return owner, position, starts


def _chunks_by_vertices(counts: np.ndarray, limit: int) -> list[slice]:
    """Consecutive feature slices holding at most about ``limit`` vertices each."""
    bounds = np.searchsorted(np.cumsum(counts), np.arange(limit, int(counts.sum()), limit))
    edges = np.unique(np.concatenate([[0], bounds + 1, [len(counts)]]))
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


# --------------------------------------------------------------------------------------------
# farmland


@dataclass
class Parcels:
    """Per-parcel parameters of the farmland layer (one row per parcel)."""

    cx: np.ndarray
    cy: np.ndarray
    half_w: np.ndarray  # half-size of the field cell along its own axes, m
    half_h: np.ndarray
    theta: np.ndarray  # rotation of the field grid, radians
    fill: np.ndarray  # parcel size relative to its cell
    phase: np.ndarray  # angle of the first vertex
    nvert: np.ndarray  # distinct vertices
    county: np.ndarray

    def __len__(self) -> int:
        return len(self.cx)

    def take(self, index: np.ndarray | slice) -> Parcels:
        """Subset of the parcels."""
        return Parcels(**{k: v[index] for k, v in vars(self).items()})


def _farmland_blocks(n: int, land: Landscape, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-block field-cell geometry for every block, with blocks ordered best land first."""
    nb = len(land.bx)
    log_area = np.log(18_000.0) + 0.35 * land.field_size + 0.45 * rng.standard_normal(nb)
    big = rng.random(nb) < 0.02  # large farms
    log_area[big] += np.log(rng.uniform(5.0, 25.0, big.sum()))
    aspect = np.exp(np.abs(rng.normal(0.35, 0.35, nb)))  # width / height of a field cell
    cell_area = np.clip(np.exp(log_area), 500.0, 600_000.0)
    # agricultural blocks (the best 30% of the land) in random order, then the rest best first:
    # a small layer is scattered over all the plains, a large one fills them
    rank = np.argsort(np.argsort(-land.suitability))
    key = np.where(rank < 0.3 * nb, rng.random(nb), 1.0 + rank / nb)
    order = np.argsort(key, kind="stable")
    # shrink the cells if n parcels would not fit in 65% of the blocks (the xl size)
    for _ in range(3):
        w, h = np.sqrt(cell_area * aspect), np.sqrt(cell_area / aspect)
        usable = np.maximum(BLOCK - 2 * (0.5 * np.hypot(w, h) + 4.0), 0.0)
        capacity = (usable**2 / cell_area)[order[: int(0.65 * nb)]].sum()
        if capacity >= 1.15 * n:
            break
        cell_area = np.maximum(cell_area * capacity / (1.2 * n), 200.0)
    w, h = np.sqrt(cell_area * aspect), np.sqrt(cell_area / aspect)
    usable = np.maximum(BLOCK - 2 * (0.5 * np.hypot(w, h) + 4.0), 0.0)
    theta = land.orientation + rng.normal(0.0, 0.15, nb)
    return {
        "order": order,
        "w": w,
        "h": h,
        "usable": usable,
        "expected": usable**2 / cell_area,
        "theta": theta,
        "phase_x": rng.uniform(-0.5, 0.5, nb),
        "phase_y": rng.uniform(-0.5, 0.5, nb),
    }


def _field_cells(
    blocks: np.ndarray, b: dict[str, np.ndarray], land: Landscape
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of the field cells of ``blocks`` (rotated grids clipped to each block)."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for lo in range(0, len(blocks), 20_000):
        sub = blocks[lo : lo + 20_000]
        w, h, u = b["w"][sub], b["h"][sub], b["usable"][sub]
        nx = np.ceil(u * np.sqrt(2.0) / w).astype(np.int64) + 1
        ny = np.ceil(u * np.sqrt(2.0) / h).astype(np.int64) + 1
        owner, pos, _ = _ragged(nx * ny)
        j, i = np.divmod(pos, nx[owner])
        lx = (i - (nx[owner] - 1) / 2 + b["phase_x"][sub][owner]) * w[owner]
        ly = (j - (ny[owner] - 1) / 2 + b["phase_y"][sub][owner]) * h[owner]
        t = b["theta"][sub][owner]
        dx = lx * np.cos(t) - ly * np.sin(t)
        dy = lx * np.sin(t) + ly * np.cos(t)
        keep = (np.abs(dx) <= u[owner] / 2) & (np.abs(dy) <= u[owner] / 2)
        owner = owner[keep]
        block = sub[owner]
        parts.append((block, land.bx[block] + dx[keep], land.by[block] + dy[keep]))
    block, x, y = (np.concatenate(a) for a in zip(*parts, strict=True))
    return block, x, y


def farmland_parcels(n: int, seed: int, land: Landscape | None = None) -> Parcels:
    """Parameters of ``n`` farmland parcels, sorted by county then block."""
    land = land or landscape(seed)
    rng = _rng(seed, 1)
    b = _farmland_blocks(n, land, rng)
    order, expected = b["order"], b["expected"]
    factor = 1.12
    while True:
        k = int(np.searchsorted(np.cumsum(expected[order]), factor * n)) + 1
        block, x, y = _field_cells(order[:k], b, land)
        if len(block) >= n or k >= len(order):
            break
        factor *= 1.1
    if len(block) < n:
        raise ValueError(f"cannot fit {n} parcels in the province")
    keep = np.sort(rng.permutation(len(block))[:n])  # random gaps: fallow, roads, villages
    block, x, y = block[keep], x[keep], y[keep]
    county = county_codes(x, y)
    sort = np.lexsort((x, y, block, county))
    block, x, y, county = block[sort], x[sort], y[sort], county[sort]

    fill = rng.uniform(0.8, 0.97, n)
    cell_area = b["w"][block] * b["h"][block]
    small = rng.random(n) < 0.05
    fill[small] = np.maximum(rng.uniform(0.1, 0.5, small.sum()), np.sqrt(250.0 / cell_area[small]))
    inflated = rng.random(n) < 0.002  # overlap a neighbour
    fill[inflated] = rng.uniform(1.15, 1.4, inflated.sum())
    nvert = np.clip(4 + rng.poisson(9.0, n), 4, 40)
    return Parcels(
        cx=x,
        cy=y,
        half_w=b["w"][block] / 2,
        half_h=b["h"][block] / 2,
        theta=b["theta"][block],
        fill=fill,
        phase=rng.uniform(0.0, 2 * np.pi, n),
        nvert=nvert,
        county=county,
    )


def farmland_polygons(p: Parcels, rng: np.random.Generator) -> np.ndarray:
    """Clockwise star-shaped polygons inscribed in each parcel's rotated field cell."""
    owner, k, _ = _ragged(p.nvert)
    n = p.nvert[owner]
    phi = p.phase[owner] - (k + rng.uniform(-0.35, 0.35, len(k))) * (2 * np.pi / n)
    del n, k
    c, s = np.cos(phi), np.sin(phi)
    del phi
    r = np.minimum(
        p.half_w[owner] / np.maximum(np.abs(c), 1e-12),
        p.half_h[owner] / np.maximum(np.abs(s), 1e-12),
    )
    r *= p.fill[owner] * (1.0 - rng.uniform(0.0, 0.12, len(r)))
    lx, ly = r * c, r * s
    del r, c, s
    ct, st = np.cos(p.theta)[owner], np.sin(p.theta)[owner]
    coords = np.empty((len(lx), 2))
    coords[:, 0] = p.cx[owner] + lx * ct - ly * st
    coords[:, 1] = p.cy[owner] + lx * st + ly * ct
    del lx, ly, ct, st
    np.round(coords, 3, out=coords)
    return shapely.polygons(shapely.linearrings(coords, indices=owner))


def declared_area(geoms: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Approximate ellipsoidal area (TBMJ, m²) with ~0.1% deliberate errors."""
    k = 1.0 + (x - CENTRAL_EASTING) ** 2 / (2 * EARTH_RADIUS**2)
    tbmj = shapely.area(geoms) / k**2
    wrong = rng.random(len(tbmj)) < 0.001
    tbmj[wrong] *= 1.0 + rng.choice([-1.0, 1.0], wrong.sum()) * rng.uniform(0.02, 0.3, wrong.sum())
    return np.round(tbmj, 2)


Chunk = tuple[np.ndarray, dict[str, np.ndarray]]


def farmland_chunks(n: int, seed: int, log: Callable[[str], None] = print) -> Iterator[Chunk]:
    """Farmland parcels with their attributes, in chunks of ``CHUNK_FEATURES``."""
    t0 = time.perf_counter()
    parcels = farmland_parcels(n, seed)
    log(f"  farmland layout: {n:,} parcels in {time.perf_counter() - t0:.1f} s")
    for i, lo in enumerate(range(0, n, CHUNK_FEATURES)):
        p = parcels.take(slice(lo, lo + CHUNK_FEATURES))
        rng = _rng(seed, 1, 1 + i)
        geoms = farmland_polygons(p, rng)
        attrs = {
            "BSM": np.arange(lo + 1, lo + len(p) + 1, dtype=np.int64),
            "XZQDM": p.county.astype("U6"),
            "TBMJ": declared_area(geoms, p.cx, rng),
        }
        yield geoms, attrs


# --------------------------------------------------------------------------------------------
# red line and urban boundary: wiggly star-shaped polygons, some with holes


@dataclass
class Stars:
    """Per-polygon parameters of star-shaped polygons with wiggly outlines."""

    cx: np.ndarray
    cy: np.ndarray
    radius: np.ndarray  # median radius, m
    nvert: np.ndarray
    harmonic: np.ndarray  # amplitude of the low-frequency lobes (log-radius)
    wiggle: np.ndarray  # amplitude of the Brownian-bridge wiggle (log-radius)
    holes: np.ndarray  # number of holes

    def take(self, index: slice) -> Stars:
        """Subset of the polygons."""
        return Stars(**{k: v[index] for k, v in vars(self).items()})


def _star_rings(
    cx: np.ndarray,
    cy: np.ndarray,
    radius: np.ndarray,
    nvert: np.ndarray,
    harmonic: np.ndarray,
    wiggle: np.ndarray,
    clockwise: bool,
    rng: np.random.Generator,
    max_radius: np.ndarray | None = None,
    smooth: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Rings star-shaped around their centres, and each ring's smallest vertex radius.

    Increasing vertex angles and positive radii make every ring simple. With ``max_radius``
    every vertex stays within that distance of the centre. Each vertex's radius is moved by
    1 % on its own; with `smooth`, by at most half the spacing of the vertices, so that rings
    of many vertices are not combs of needles (a ring of 190,000 vertices 7 km across would
    otherwise be 27,000 km long).
    """
    m = len(cx)
    owner, k, starts = _ragged(nvert)
    n = nvert[owner]
    phi = (k + rng.uniform(-0.35, 0.35, len(k))) * (2 * np.pi / n) + rng.uniform(0, 2 * np.pi, m)[
        owner
    ]
    if clockwise:
        phi = -phi
    log_r = np.log(radius)[owner]
    for order in (2, 3, 4, 5):
        amp = harmonic * rng.standard_normal(m) / order
        log_r += amp[owner] * np.cos(order * phi + rng.uniform(0, 2 * np.pi, m)[owner])
    step = rng.standard_normal(len(k)) * (2.0 * wiggle / np.sqrt(nvert))[owner]
    walk = np.cumsum(step)
    walk -= (walk[starts] - step[starts])[owner]  # restart the walk at each ring
    walk -= (k + 1) / n * walk[starts + nvert - 1][owner]  # Brownian bridge: closes the ring
    log_r += walk
    del step, walk, k
    if smooth:
        log_r += rng.standard_normal(len(log_r)) * np.minimum(0.01, np.pi / n)
    else:
        log_r += rng.normal(0.0, 0.01, len(log_r))
    r = np.exp(log_r)
    del log_r
    if max_radius is not None:
        np.minimum(r, max_radius[owner], out=r)
    coords = np.empty((len(r), 2))
    coords[:, 0] = cx[owner] + r * np.cos(phi)
    coords[:, 1] = cy[owner] + r * np.sin(phi)
    np.round(coords, 3, out=coords)
    r_min = np.minimum.reduceat(r, starts)
    return shapely.linearrings(coords, indices=owner), r_min


def star_polygons(s: Stars, rng: np.random.Generator, *, smooth: bool = False) -> np.ndarray:
    """Clockwise star-shaped polygons with counter-clockwise holes (`smooth`: see _star_rings)."""
    m = len(s.cx)
    shells, r_min = _star_rings(
        s.cx, s.cy, s.radius, s.nvert, s.harmonic, s.wiggle, clockwise=True, rng=rng, smooth=smooth
    )
    owner, j, _ = _ragged(s.holes)  # one row per hole
    h = s.holes[owner]
    # holes sit on a circle of radius d around the centre, each inside its own disc of radius
    # rho; the discs are disjoint and inside 0.85 r_min, which is inside the shell
    d = (rng.uniform(0.35, 0.55, m) * r_min)[owner]
    rho = np.where(h > 1, 0.8 * d * np.sin(np.pi / np.maximum(h, 2)), 0.3 * r_min[owner])
    rho = np.minimum(rho, 0.3 * r_min[owner])
    ang = rng.uniform(0, 2 * np.pi, m)[owner] + 2 * np.pi * j / h
    hole_n = rng.integers(12, 61, len(owner))
    holes, _ = _star_rings(
        s.cx[owner] + d * np.cos(ang),
        s.cy[owner] + d * np.sin(ang),
        rho * rng.uniform(0.4, 0.75, len(owner)),
        hole_n,
        np.full(len(owner), 0.15),
        np.full(len(owner), 0.1),
        clockwise=False,
        rng=rng,
        max_radius=rho,
    )
    rings = np.concatenate([shells, holes])
    ring_owner = np.concatenate([np.arange(m), owner])
    order = np.argsort(ring_owner, kind="stable")  # shell first, then its holes
    return shapely.polygons(rings[order], indices=ring_owner[order])


def _sample_blocks(
    weights: np.ndarray, count: int, rng: np.random.Generator, land: Landscape
) -> tuple[np.ndarray, np.ndarray]:
    """Random points in blocks drawn with probability proportional to ``weights``."""
    block = rng.choice(len(weights), count, p=weights / weights.sum())
    x = land.bx[block] + rng.uniform(-BLOCK / 2, BLOCK / 2, count)
    y = land.by[block] + rng.uniform(-BLOCK / 2, BLOCK / 2, count)
    return x, y


def redline_stars(count: int, seed: int, land: Landscape) -> Stars:
    """Parameters of the red-line polygons: mostly away from the plains, a few huge."""
    rng = _rng(seed, 2)
    rank = np.argsort(np.argsort(land.suitability)) / len(land.suitability)  # 0 = least arable
    x, y = _sample_blocks((1.0 - rank) ** 3, count, rng, land)  # mostly in the mountains
    anywhere = rng.random(count) < 0.12  # some over farmland
    x[anywhere] = rng.uniform(X_MIN, X_MAX, anywhere.sum())
    y[anywhere] = rng.uniform(Y_MIN, Y_MAX, anywhere.sum())
    radius = np.clip(rng.lognormal(np.log(200.0), 0.8, count), 50.0, 6_000.0)
    nvert = np.clip(300 * (radius / 200.0) ** 0.7 * rng.lognormal(0.0, 0.4, count), 100, 8_000)
    huge = rng.choice(count, max(1, count // 2_500), replace=False)
    radius[huge] = rng.uniform(5_000.0, 15_000.0, len(huge))
    nvert[huge] = rng.uniform(20_000, 150_000, len(huge))
    holes = np.where(rng.random(count) < 0.2, rng.integers(1, 7, count), 0)
    return Stars(
        cx=x,
        cy=y,
        radius=radius,
        nvert=nvert.astype(np.int64),
        harmonic=rng.uniform(0.1, 0.35, count),
        wiggle=rng.uniform(0.08, 0.25, count),
        holes=holes,
    )


def urban_stars(count: int, seed: int, land: Landscape) -> Stars:
    """Parameters of the urban-boundary polygons: clusters around towns in the plains."""
    rng = _rng(seed, 3)
    n_towns = max(1, count // 3)
    rank = np.argsort(np.argsort(land.suitability)) / len(land.suitability)
    tx, ty = _sample_blocks(rank**4, n_towns, rng, land)
    weight = 1.0 / np.arange(1, n_towns + 1) ** 0.8  # a few big cities, many small towns
    town = rng.choice(n_towns, count, p=weight / weight.sum())
    town[:n_towns] = np.arange(n_towns)[: min(n_towns, count)]
    spread = 1_500.0 * np.sqrt(weight[town] / weight[0]) * 3 + 500.0
    x = np.clip(tx[town] + rng.normal(0.0, 1.0, count) * spread, X_MIN, X_MAX)
    y = np.clip(ty[town] + rng.normal(0.0, 1.0, count) * spread, Y_MIN, Y_MAX)
    radius = np.clip(rng.lognormal(np.log(350.0), 0.6, count), 100.0, 5_000.0)
    radius[:n_towns] *= 1.0 + 4.0 * np.sqrt(weight[:n_towns])  # the core of each town
    return Stars(
        cx=x,
        cy=y,
        radius=radius,
        nvert=rng.integers(50, 301, count),
        harmonic=rng.uniform(0.1, 0.3, count),
        wiggle=rng.uniform(0.05, 0.15, count),
        holes=np.where(rng.random(count) < 0.05, rng.integers(1, 4, count), 0),
    )


def star_chunks(layer: str, count: int, seed: int) -> Iterator[Chunk]:
    """Red-line or urban polygons with their attributes, in chunks of ~``CHUNK_VERTICES``."""
    land = landscape(seed)
    stars = (redline_stars if layer == "redline" else urban_stars)(count, seed, land)
    key = LAYERS.index(layer) + 1
    for i, sl in enumerate(_chunks_by_vertices(stars.nvert, CHUNK_VERTICES)):
        s = stars.take(sl)
        geoms = star_polygons(s, _rng(seed, key, 1 + i))
        attrs = {
            "BSM": np.arange(sl.start + 1, sl.stop + 1, dtype=np.int64),
            "XZQDM": county_codes(s.cx, s.cy).astype("U6"),
        }
        yield geoms, attrs


# --------------------------------------------------------------------------------------------
# GeoParquet writing


def _geo_metadata(bbox: Sequence[float]) -> bytes:
    crs = CRS.from_epsg(EPSG).to_json_dict()
    column = {"encoding": "WKB", "geometry_types": ["Polygon"], "crs": crs, "bbox": list(bbox)}
    meta = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": column},
        "creator": {"library": "geozones-benchmarks"},
    }
    return json.dumps(meta).encode()


def write_geoparquet(path: Path, chunks: Iterator[Chunk]) -> tuple[int, int, float, float]:
    """Write chunks as row groups of a GeoParquet file.

    Returns features, coordinates, seconds spent building geometries and seconds writing.
    """
    tmp = path.with_name(path.name + ".tmp")
    writer: pq.ParquetWriter | None = None
    bbox: list[float] = [np.inf, np.inf, -np.inf, -np.inf]
    features = coords = 0
    build = write = 0.0
    t = time.perf_counter()
    try:
        for geoms, attrs in chunks:
            t1 = time.perf_counter()
            build += t1 - t
            bounds = shapely.bounds(geoms)
            bbox = [
                *np.minimum(bbox[:2], bounds[:, :2].min(axis=0)),
                *np.maximum(bbox[2:], bounds[:, 2:].max(axis=0)),
            ]
            features += len(geoms)
            coords += int(shapely.get_num_coordinates(geoms).sum())
            columns = {k: pa.array(v) for k, v in attrs.items()}
            columns["geometry"] = pa.array(shapely.to_wkb(geoms), type=pa.binary())
            del geoms
            table = pa.table(columns)
            if writer is None:
                # without a stored Arrow schema, readers take "geo" from the key-value metadata
                # written at the end, when the bbox is known (the Arrow schema's copy would win)
                writer = pq.ParquetWriter(
                    tmp, table.schema, compression="snappy", store_schema=False
                )
            writer.write_table(table.cast(writer.schema))
            del table, columns
            t = time.perf_counter()
            write += t - t1
        if writer is None:
            raise ValueError(f"no features for {path.name}")
        writer.add_key_value_metadata({"geo": _geo_metadata([float(v) for v in bbox])})
        writer.close()
        writer = None
        tmp.replace(path)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return features, coords, build, write


# --------------------------------------------------------------------------------------------
# driver


# --------------------------------------------------------------------------------------------
# tessellations: layers whose features share boundaries digitised separately


def tessellation(
    columns: int,
    rows: int,
    *,
    cell: float = 100.0,
    jitter: float = 0.0003,
    extra_share: float = 0.3,
    warp: float = 0.15,
    seed: int = 0,
    origin: tuple[float, float] = (CENTRAL_EASTING + 80_000.0, 3_150_000.0),
) -> np.ndarray:
    """A layer of ``columns × rows`` cells that share their edges, as a tessellation arrives.

    The grid points are moved by up to ``warp`` cells (edges are not axis-parallel), every
    cell's copy of a shared vertex lies within ``jitter`` m of the true point, moved on its own
    as if digitised separately, and on ``extra_share`` of the edges one of the two neighbours
    has an extra vertex (on the true edge, then moved too). Neighbours therefore overlap, and
    leave gaps, in slivers under ``2 jitter`` wide: phantom conflicts at a tolerance of
    ``2 jitter`` or more. Vectorized; cells in column-major order.
    """
    rng = _rng(seed, 7)
    gx = np.arange(columns + 1, dtype=float)[:, None] * cell + np.zeros((1, rows + 1))
    gy = np.zeros((columns + 1, 1)) + np.arange(rows + 1, dtype=float)[None, :] * cell
    gx += rng.uniform(-warp, warp, gx.shape) * cell
    gy += rng.uniform(-warp, warp, gy.shape) * cell
    gx += origin[0]
    gy += origin[1]
    i, j = np.meshgrid(np.arange(columns), np.arange(rows), indexing="ij")
    i, j = i.ravel(), j.ravel()
    # The four edges of each cell, counter-clockwise: bottom, right, top, left, as
    # (start corner, end corner) offsets; each edge's extra vertex, if any, and the side
    # that has it are drawn once per edge of the grid, so both neighbours agree.
    fraction_h = rng.uniform(0.2, 0.8, (columns, rows + 1))
    fraction_v = rng.uniform(0.2, 0.8, (columns + 1, rows))
    extra_h_any = rng.random((columns, rows + 1)) < extra_share
    extra_v_any = rng.random((columns + 1, rows)) < extra_share
    extra_h = rng.random((columns, rows + 1)) < 0.5  # the cell above the edge has it
    extra_v = rng.random((columns + 1, rows)) < 0.5  # the cell right of the edge has it
    slots = []  # (x, y, present) per slot of the ring, 8 slots per cell
    for (di0, dj0), (di1, dj1), kind in (
        ((0, 0), (1, 0), "bottom"),
        ((1, 0), (1, 1), "right"),
        ((1, 1), (0, 1), "top"),
        ((0, 1), (0, 0), "left"),
    ):
        x0, y0 = gx[i + di0, j + dj0], gy[i + di0, j + dj0]
        x1, y1 = gx[i + di1, j + dj1], gy[i + di1, j + dj1]
        slots.append((x0, y0, np.ones(len(i), dtype=bool)))
        if kind == "bottom":
            t, has = fraction_h[i, j], extra_h_any[i, j] & extra_h[i, j]
        elif kind == "top":
            t, has = 1 - fraction_h[i, j + 1], extra_h_any[i, j + 1] & ~extra_h[i, j + 1]
        elif kind == "right":
            t, has = fraction_v[i + 1, j], extra_v_any[i + 1, j] & ~extra_v[i + 1, j]
        else:
            t, has = 1 - fraction_v[i, j], extra_v_any[i, j] & extra_v[i, j]
        slots.append((x0 + t * (x1 - x0), y0 + t * (y1 - y0), has))
    xs = np.stack([slot[0] for slot in slots], axis=1)
    ys = np.stack([slot[1] for slot in slots], axis=1)
    present = np.stack([slot[2] for slot in slots], axis=1)
    # close each ring with its first vertex
    xs = np.concatenate([xs, xs[:, :1]], axis=1)
    ys = np.concatenate([ys, ys[:, :1]], axis=1)
    present = np.concatenate([present, present[:, :1]], axis=1)
    count = int(present.sum())
    angle = rng.uniform(0, 2 * np.pi, count)
    radius = jitter * np.sqrt(rng.uniform(0, 1, count))
    moved_x, moved_y = xs[present], ys[present]
    moved_x = moved_x + radius * np.cos(angle)
    moved_y = moved_y + radius * np.sin(angle)
    ring_index = np.repeat(np.arange(len(i)), present.sum(axis=1))
    # the closing vertex takes the first vertex's move
    first = np.r_[0, np.cumsum(present.sum(axis=1))[:-1]]
    last = np.cumsum(present.sum(axis=1)) - 1
    moved_x[last], moved_y[last] = moved_x[first], moved_y[first]
    rings = shapely.linearrings(np.column_stack([moved_x, moved_y]), indices=ring_index)
    return shapely.polygons(rings)


def _log(message: str) -> None:
    print(message, flush=True)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def layer_chunks(
    layer: str, count: int, seed: int, log: Callable[[str], None] = print
) -> Iterator[Chunk]:
    """Chunks of one layer."""
    if layer == "farmland":
        return farmland_chunks(count, seed, log)
    return star_chunks(layer, count, seed)


def ensure_layers(
    size: str | None = None,
    parcels: int | None = None,
    layers: Sequence[str] | None = None,
    out_dir: Path = DEFAULT_OUT,
    force: bool = False,
    seed: int = 0,
    log: Callable[[str], None] = _log,
) -> dict[str, Path]:
    """Generate the missing layers of a size (all with ``force``); return their paths."""
    name, counts = resolve(size, parcels)
    if layers is None:
        layers = DEFAULT_LAYERS.get(name, LAYERS)
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; use {', '.join(LAYERS)}")
    directory = Path(out_dir) / (name if seed == 0 else f"{name}-seed{seed}")
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for layer in layers:
        path = directory / f"{layer}.parquet"
        paths[layer] = path
        if path.exists() and not force:
            log(f"{layer}: {path} exists (use --force to regenerate)")
            continue
        log(f"{layer}: generating {counts.count(layer):,} features ...")
        t0 = time.perf_counter()
        features, coords, build, write = write_geoparquet(
            path, layer_chunks(layer, counts.count(layer), seed, log)
        )
        total = time.perf_counter() - t0
        log(
            f"{layer}: {features:,} features, {coords:,} coordinates "
            f"({coords / features:.1f} per feature), {path.stat().st_size / 2**20:,.1f} MiB; "
            f"geometry {build:.1f} s, WKB + write {write:.1f} s, total {total:.1f} s; "
            f"peak RSS {peak_rss_mib():,.0f} MiB"
        )
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--size", choices=list(SIZES), default=None, help="named size (small)")
    group.add_argument("--parcels", type=int, help="custom number of farmland parcels")
    parser.add_argument(
        "--layers",
        help=f"comma-separated subset of {','.join(LAYERS)} (default: all; farmland for xl)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data root (%(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (%(default)s)")
    parser.add_argument("--force", action="store_true", help="regenerate existing files")
    args = parser.parse_args(argv)
    layers = args.layers.split(",") if args.layers else None
    t0 = time.perf_counter()
    try:
        ensure_layers(args.size, args.parcels, layers, args.out, args.force, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    _log(f"done in {time.perf_counter() - t0:.1f} s; peak RSS {peak_rss_mib():,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

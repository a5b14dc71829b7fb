"""Synthetic layers that are hard for conflict detection: most overlapping pairs cross.

``generate.py`` puts most red-line polygons in the hills, away from the farmland, so most
parcels that meet one lie wholly inside it. Province data look different: farmland is cut by
the urban boundary and red-line edges run through fields. This generator keeps the farmland of
``generate.py`` (or a tessellation) and lays red-line and urban polygons over it so that a
chosen share of the overlapping pairs cross a boundary, and about 0.45 pairs per parcel
overlap (the issue's province: ~90,000 pieces for 200,000 parcels). Three dials:

- ``crossing`` (0.1, 0.5, 0.9): the share of overlapping pairs whose boundaries cross. A
  polygon of width ``W`` over parcels of side ``s`` covers ``~L·W / s²`` parcels whole and
  crosses ``~2 L / s``; the share crossing is then ``2 s / (2 s + W)``, so each polygon is a
  star stretched to the width that gives the share (a corridor, as red lines along rivers
  and urban boundaries along roads are). The share actually obtained is measured and stored
  next to the layers (``hard.json``).
- red-line polygon size: vertex counts log-normal with median ``--median-vertices`` (200)
  and a tail cut at ``--max-vertices`` (200,000); one polygon in 2,500 is huge (the tail).
- ``tessellated``: the farmland is a tessellation (``generate.tessellation``): every parcel
  shares its edges with its neighbours, each copy of a shared vertex jittered within 0.3 mm,
  so that every overlap inside the layer is a phantom at the default 1 mm tolerance.

Features of one layer must not overlap (DOMAIN.md), so red-line and urban polygons that
overlap others of their layer are redrawn elsewhere, round after round (``kept_apart``); the
few left after 40 rounds stay, as errors a delivery may hold, and ``hard.json`` counts the
overlapping pairs of each layer (``pairs_within``). ``--overlapping`` skips that: wide
corridors over the farmland then overlap one another many times (at 10 % crossing, 68,432
pairs among the 20,000 red-line polygons at the medium size), the layers of this generator
before 2026-12-04, kept as a stress setting for the within-layer check.

Everything is deterministic for a seed. Usage::

    python benchmarks/generate_hard.py --size medium --crossing 0.5
    python benchmarks/generate_hard.py --size small --crossing 0.9 --tessellated
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

#: Typical side of a parcel of ``generate.py``'s farmland (median ~0.7 ha), m.
PARCEL_SIDE = 85.0
#: Side of a tessellation cell, m.
CELL = 100.0
#: Radius of the stars before they are stretched (generate.py rounds to the millimetre).
UNIT = 1e6
#: The longest corridor, m.
MAX_LENGTH = 30_000.0


def folder(
    size: str, crossing: float, tessellated: bool, seed: int = 0, *, overlapping: bool = False
) -> Path:
    """Where the layers of one setting go."""
    name = f"hard-{size}-c{round(crossing * 100):02d}{'-tess' if tessellated else ''}"
    name += "-overlapping" if overlapping else ""
    return generate.DEFAULT_OUT / (name if seed == 0 else f"{name}-seed{seed}")


def _farmland(size: str, tessellated: bool, seed: int) -> tuple[np.ndarray, float]:
    """The farmland polygons and the typical parcel side."""
    count = generate.SIZES[size].farmland
    if tessellated:
        side = int(np.ceil(np.sqrt(count)))
        cells = generate.tessellation(side, int(np.ceil(count / side)), seed=seed)
        return cells[:count], CELL
    path = generate.ensure_layers(size, layers=("farmland",), seed=seed, log=lambda _: None)
    import geopandas as gpd

    return gpd.read_parquet(path["farmland"]).geometry.to_numpy(), PARCEL_SIDE


def corridor_polygons(
    centres: np.ndarray,
    *,
    width: np.ndarray,
    length: np.ndarray,
    nvert: np.ndarray,
    rng: np.random.Generator,
    smooth: bool = False,
) -> np.ndarray:
    """Wiggly star-shaped polygons stretched to ``length × width``, in random directions.

    With `smooth`, no vertex moves by more than about half the spacing of its neighbours
    (``generate.star_polygons``): the huge polygons are not combs of needles.

    A star-shaped ring stays star-shaped (and simple) under a linear map, so every polygon is
    valid before its coordinates are rounded to the millimetre; the few that rounding makes
    invalid are repaired with ``shapely.make_valid`` (largest part kept).
    """
    count = len(centres)
    unit = generate.Stars(
        cx=np.zeros(count),
        cy=np.zeros(count),
        radius=np.full(count, UNIT),
        nvert=nvert,
        harmonic=rng.uniform(0.05, 0.2, count),
        wiggle=rng.uniform(0.05, 0.15, count),
        holes=np.where(rng.random(count) < 0.2, rng.integers(1, 4, count), 0),
    )
    polygons = generate.star_polygons(unit, rng, smooth=smooth)
    coords = shapely.get_coordinates(polygons)
    owner = np.repeat(np.arange(count), shapely.get_num_coordinates(polygons))
    angle = rng.uniform(0, np.pi, count)[owner]
    x = coords[:, 0] * (length / 2 / UNIT)[owner]
    y = coords[:, 1] * (width / 2 / UNIT)[owner]
    coords = np.column_stack(
        [
            centres[owner, 0] + x * np.cos(angle) - y * np.sin(angle),
            centres[owner, 1] + x * np.sin(angle) + y * np.cos(angle),
        ]
    )
    polygons = shapely.set_coordinates(polygons.copy(), np.round(coords, 3))
    invalid = np.flatnonzero(~shapely.is_valid(polygons))
    for k in invalid:
        parts = shapely.get_parts(shapely.make_valid(polygons[k]))
        parts = parts[shapely.get_type_id(parts) == 3]
        polygons[k] = parts[np.argmax(shapely.area(parts))]
    return polygons


#: Shares of crossing pairs measured for corridors of a width (in parcel sides) over the
#: farmland of ``generate.py`` (small size, 300 red-line polygons, median 200 vertices).
#: The ideal ``2 s / (2 s + W)`` misses them: parcels leave gaps and outlines wiggle.
CALIBRATION = (
    (0.02, 54.0),
    (0.14, 18.0),
    (0.22, 12.0),
    (0.42, 6.0),
    (0.80, 2.0),
    (0.90, 1.33),
    (0.977, 0.67),
    (0.99, 0.22),
)


def width_for(crossing: float) -> float:
    """Corridor width, in parcel sides, for a share of crossing pairs (log-interpolated)."""
    shares, widths = zip(*CALIBRATION, strict=True)
    return float(np.exp(np.interp(crossing, shares, np.log(widths))))


def lines_over(
    farmland: np.ndarray,
    count: int,
    *,
    crossing: float,
    side: float,
    pairs: float,
    median_vertices: float,
    max_vertices: int,
    huge_every: int,
    rng: np.random.Generator,
    apart: bool = True,
) -> np.ndarray:
    """`count` corridors crossing the share `crossing` of their pairs with the farmland.

    Enough of them are centred on random parcels to meet about `pairs` parcels in all; the
    others lie anywhere in the province (mostly away from the farmland, which covers ~1 % of
    it at the medium size), as red-line polygons in the hills do. With `apart`, polygons that
    overlap one another are redrawn (:func:`kept_apart`), as a layer's features must not
    overlap; without, wide corridors over the farmland overlap one another many times.
    """
    spread = rng.lognormal(0.0, 0.3, count)
    width = side * width_for(crossing) * spread
    nvert = np.clip(rng.lognormal(np.log(median_vertices), 1.0, count), 16, max_vertices)

    def length_for(width: np.ndarray, nvert: np.ndarray) -> np.ndarray:
        # One vertex every ~5 m of outline: long polygons have many vertices (and no needles).
        return np.clip(nvert * 5.0 / 2, 2 * width, np.minimum(MAX_LENGTH, 100 * width))

    length = length_for(width, nvert)
    huge = np.zeros(0, dtype=np.int64)
    if huge_every:
        # The tail: compact polygons 10-20 km across (as in generate.py), the first over the
        # farmland, the others anywhere.
        huge = rng.choice(count, max(1, count // huge_every), replace=False)
        nvert[huge] = rng.uniform(0.1, 1.0, len(huge)) * max_vertices
        width[huge] = length[huge] = rng.uniform(10_000.0, 20_000.0, len(huge))
    nvert = nvert.astype(np.int64)
    # Parcels met by a corridor over the farmland (about half the land there is farmland).
    meets = 0.5 * (length * width / side**2 + 2 * (length + width) / side)
    meets[huge] = 0.0
    over = np.cumsum(meets) <= pairs
    over[huge[:1]] = True
    hills = np.zeros(count, dtype=bool)
    farmland_tree = shapely.STRtree(farmland)

    def draw(which: np.ndarray) -> np.ndarray:
        """Polygons `which` (positions), on new centres."""
        centres = np.column_stack(
            [
                rng.uniform(generate.X_MIN, generate.X_MAX, len(which)),
                rng.uniform(generate.Y_MIN, generate.Y_MAX, len(which)),
            ]
        )
        on_farmland = over[which]
        centres[on_farmland] = shapely.get_coordinates(
            shapely.centroid(farmland[rng.integers(0, len(farmland), int(on_farmland.sum()))])
        )
        return corridor_polygons(
            centres,
            width=width[which],
            length=length[which],
            nvert=nvert[which],
            rng=rng,
            smooth=apart,
        )

    if apart:
        # The corridors meet fewer parcels than the estimate above (farmland is patchy): as
        # many more are laid over it as a first draw says.
        trial = np.setdiff1d(np.flatnonzero(over), huge)
        met = len(farmland_tree.query(draw(trial), predicate="intersects")[0])
        if met:
            over = np.cumsum(meets * (met / meets[trial].sum())) <= pairs
            over[huge[:1]] = True
        # Away from the farmland the share does not matter: polygons there are never wider
        # than at 50 %, else at 10 % the red line (20,000 corridors 1.5 km wide) would cover
        # the province several times over; and they stay off the farmland.
        hills = ~over
        hills[huge] = False
        width[hills] = side * width_for(max(crossing, 0.5)) * spread[hills]
        length[hills] = length_for(width[hills], nvert[hills])
    polygons = draw(np.arange(count))
    if not apart:
        return polygons
    # The huge polygons first, then in order; those meant for the hills kept off the farmland.
    order = np.where(np.isin(np.arange(count), huge), -1, np.arange(count))
    rank = np.argsort(order, kind="stable")

    def misplaced(which: np.ndarray, polygons: np.ndarray) -> np.ndarray:
        away = np.flatnonzero(hills[which])
        found = np.zeros(len(which), dtype=bool)
        met, _ = farmland_tree.query(polygons[which[away]], predicate="intersects")
        found[away[met]] = True
        return found

    return kept_apart(polygons, draw, rank=rank, rounds=APART_ROUNDS, misplaced=misplaced)


#: Rounds of redrawing the polygons that overlap others of their layer.
APART_ROUNDS = 40


def kept_apart(
    polygons: np.ndarray,
    draw: Callable[[np.ndarray], np.ndarray],
    *,
    rank: np.ndarray,
    rounds: int,
    misplaced: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The polygons, those meeting one placed before them redrawn until none does.

    Features of one layer must not overlap (DOMAIN.md), so a delivered red line has few
    overlaps with itself. Round after round, each polygon that meets a kept one, or one
    before it in `rank` order among those not yet kept, is redrawn by `draw`; after `rounds`
    rounds the rest stay where they are (overlaps a layer may really hold, as errors).
    ``misplaced(positions, polygons)`` says which of the polygons at `positions` must be
    redrawn whatever they meet.
    """
    polygons = polygons.copy()
    position = np.empty(len(polygons), dtype=np.int64)
    position[rank] = np.arange(len(polygons))
    kept = np.zeros(len(polygons), dtype=bool)
    for round_ in range(rounds):
        todo = np.flatnonzero(~kept)
        if len(todo) == 0:
            break
        blocked = np.zeros(len(polygons), dtype=bool)
        if misplaced is not None:
            blocked[todo[misplaced(todo, polygons)]] = True
        if kept.any():
            hit, _ = shapely.STRtree(polygons[kept]).query(polygons[todo], predicate="intersects")
            blocked[todo[hit]] = True
        free = todo[~blocked[todo]]
        free = free[np.argsort(position[free], kind="stable")]
        first, second = shapely.STRtree(polygons[free]).query(
            polygons[free], predicate="intersects"
        )
        # Each pair once, the later (in rank order) after the earlier.
        later = first > second
        neighbours: dict[int, list[int]] = {}
        for a, b in zip(first[later].tolist(), second[later].tolist(), strict=True):
            neighbours.setdefault(a, []).append(b)
        accepted = np.zeros(len(free), dtype=bool)
        for k in range(len(free)):
            accepted[k] = not any(accepted[j] for j in neighbours.get(k, ()))
        kept[free[accepted]] = True
        redraw = np.flatnonzero(~kept)
        if len(redraw) and round_ < rounds - 1:
            polygons[redraw] = draw(redraw)
    return polygons


#: What ``hard.json`` says of the polygons of a layer: kept apart (the default) or not.
LAYOUT = {False: "apart", True: "overlapping"}


def _pairs_within(geoms: np.ndarray) -> int:
    """Pairs of polygons of one layer that overlap (share interior points)."""
    first, second = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = first < second
    first, second = first[pair], second[pair]
    return int((~shapely.touches(geoms[first], geoms[second])).sum())


def crossing_share(layers: dict[str, np.ndarray]) -> tuple[dict[str, float], dict[str, int]]:
    """Per two layers, the share of their meeting pairs whose boundaries cross, and the pairs."""
    names = list(layers)
    shares: dict[str, float] = {}
    pairs: dict[str, int] = {}
    crossing = total = 0
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = layers[first], layers[second]
            ia, ib = shapely.STRtree(b).query(a, predicate="intersects")
            covered = shapely.covers(a[ia], b[ib]) | shapely.covers(b[ib], a[ia])
            shares[f"{first}-{second}"] = float((~covered).mean()) if len(ia) else 0.0
            pairs[f"{first}-{second}"] = len(ia)
            crossing += int((~covered).sum())
            total += len(ia)
    shares["all"] = crossing / max(total, 1)
    pairs["all"] = total
    return shares, pairs


def generate_hard(
    size: str,
    *,
    crossing: float,
    tessellated: bool = False,
    median_vertices: float = 200.0,
    max_vertices: int = 200_000,
    seed: int = 0,
    overlapping: bool = False,
    force: bool = False,
) -> dict[str, Path]:
    """Write the three layers of a setting (if missing or stale) and return their paths.

    With `overlapping`, red-line and urban polygons are not kept apart from the others of
    their layer (the layers of this generator before 2026-12-04).
    """
    directory = folder(size, crossing, tessellated, seed, overlapping=overlapping)
    paths = {name: directory / f"{name}.parquet" for name in generate.LAYERS}
    info_path = directory / "hard.json"
    current = (
        all(path.exists() for path in paths.values())
        and info_path.exists()
        and json.loads(info_path.read_text()).get("layout") == LAYOUT[overlapping]
    )
    if current and not force:
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    farmland, side = _farmland(size, tessellated, seed)
    counts = generate.SIZES[size]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11, round(crossing * 100)]))
    redline = lines_over(
        farmland,
        counts.redline,
        crossing=crossing,
        side=side,
        median_vertices=median_vertices,
        pairs=0.3 * len(farmland),
        max_vertices=max_vertices,
        huge_every=2_500,
        rng=rng,
        apart=not overlapping,
    )
    urban = lines_over(
        farmland,
        counts.urban,
        crossing=crossing,
        side=side,
        median_vertices=120.0,
        pairs=0.15 * len(farmland),
        max_vertices=2_000,
        huge_every=0,
        rng=rng,
        apart=not overlapping,
    )
    layers = {"farmland": farmland, "redline": redline, "urban": urban}
    for name, geoms in layers.items():
        centre = shapely.get_coordinates(shapely.centroid(geoms))
        attrs = {
            "BSM": np.arange(1, len(geoms) + 1, dtype=np.int64),
            "XZQDM": generate.county_codes(centre[:, 0], centre[:, 1]).astype("U6"),
        }
        generate.write_geoparquet(paths[name], iter([(geoms, attrs)]))
    shares, pairs_between = crossing_share(layers)
    info = {
        "size": size,
        "crossing_target": crossing,
        "tessellated": tessellated,
        "seed": seed,
        "layout": LAYOUT[overlapping],
        "pairs_within": {name: _pairs_within(geoms) for name, geoms in layers.items()},
        "features": {name: len(geoms) for name, geoms in layers.items()},
        "vertices": {
            name: int(shapely.get_num_coordinates(geoms).sum()) for name, geoms in layers.items()
        },
        "redline_vertices_median": float(np.median(shapely.get_num_coordinates(redline))),
        "redline_vertices_max": int(shapely.get_num_coordinates(redline).max()),
        "crossing_measured": shares,
        "pairs_between": pairs_between,
        "seconds": round(time.perf_counter() - start, 1),
    }
    (directory / "hard.json").write_text(json.dumps(info, indent=2))
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", type=float, default=0.5)
    parser.add_argument("--tessellated", action="store_true")
    parser.add_argument("--median-vertices", type=float, default=200.0)
    parser.add_argument("--max-vertices", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--overlapping",
        action="store_true",
        help="do not keep the red-line and urban polygons apart from the others of their layer",
    )
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    paths = generate_hard(
        args.size,
        crossing=args.crossing,
        tessellated=args.tessellated,
        median_vertices=args.median_vertices,
        max_vertices=args.max_vertices,
        seed=args.seed,
        overlapping=args.overlapping,
        force=args.force,
    )
    print((paths["farmland"].parent / "hard.json").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

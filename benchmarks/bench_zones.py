"""Work by county where county boundaries wind, as surveyed ones do.

``generate.py``'s counties are a 10 x 10 grid of straight-edged boxes: a zone split or a
union of the zones there reads a handful of vertices. Surveyed county boundaries follow
rivers and ridges, thousands of vertices each. This script draws the same grid with every
inner edge a random walk of ``--spacing`` metre steps (shared exactly by the two counties
on either side, so the zones still tile the province) and, in one process, on one setting
of ``generate_hard.py``:

1. the union of the zones: ``shapely.union_all`` (the obvious way) against
   ``geozones.zones.union_of_zones``;
2. ``geozones.find_conflicts`` with its defaults: without zones, split by the straight grid,
   split by the winding counties (the same pieces and area each way, printed);
3. ``geozones.coverage`` of the red line by the straight grid and by the winding counties.

Usage::

    python benchmarks/bench_zones.py --size medium --crossing 0.9 --tessellated yes
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import generate_hard  # noqa: E402

import geozones  # noqa: E402
from geozones.zones import union_of_zones  # noqa: E402


def winding_counties(spacing: float | None, *, seed: int = 7) -> gpd.GeoDataFrame:
    """The generator's county grid, every inner edge a random walk of `spacing` m steps.

    None keeps the edges straight (the generator's grid).
    """
    rng = np.random.default_rng(seed)
    xs = np.linspace(generate.X_MIN, generate.X_MAX, generate.COUNTY_COLS + 1)
    ys = np.linspace(generate.Y_MIN, generate.Y_MAX, generate.COUNTY_ROWS + 1)

    def edge(p: tuple[float, float], q: tuple[float, float], outer: bool) -> shapely.LineString:
        start, end = np.asarray(p), np.asarray(q)
        if outer or spacing is None:
            return shapely.LineString([start, end])
        length = float(np.hypot(*(end - start)))
        t = np.linspace(0.0, 1.0, int(length / spacing) + 1)
        normal = np.array([start[1] - end[1], end[0] - start[0]]) / length
        walk = np.cumsum(rng.normal(0.0, 0.6 * spacing, len(t)))
        # Pinned at both ends (the grid's corners), within 2 km of the straight line.
        walk = np.clip(walk - t * walk[-1], -2_000, 2_000) * np.sin(np.pi * t) ** 0.2
        line = start + t[:, None] * (end - start) + walk[:, None] * normal
        return shapely.LineString(np.round(line, 3))

    cols, rows = generate.COUNTY_COLS, generate.COUNTY_ROWS
    lines = [
        edge((xs[i], ys[j]), (xs[i], ys[j + 1]), i in (0, cols))
        for i in range(cols + 1)
        for j in range(rows)
    ] + [
        edge((xs[i], ys[j]), (xs[i + 1], ys[j]), j in (0, rows))
        for j in range(rows + 1)
        for i in range(cols)
    ]
    faces = np.asarray(shapely.get_parts(shapely.polygonize(lines)), dtype=object)
    centre = shapely.centroid(faces)
    codes = generate.county_codes(shapely.get_x(centre), shapely.get_y(centre)).astype("U6")
    return gpd.GeoDataFrame({"XZQDM": codes}, geometry=faces, crs=f"EPSG:{generate.EPSG}")


def straight_counties() -> gpd.GeoDataFrame:
    """The generator's county grid of boxes."""
    return winding_counties(None)


def timed(label: str, function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s", file=sys.stderr, flush=True)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--crossing", type=float, default=0.9)
    parser.add_argument("--tessellated", default="no", choices=["no", "yes"])
    parser.add_argument("--spacing", type=float, default=15.0, help="step of the walk, m")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    paths = generate_hard.generate_hard(
        args.size, crossing=args.crossing, tessellated=args.tessellated == "yes"
    )
    layers = {name: gpd.read_parquet(path) for name, path in paths.items()}
    winding, straight = winding_counties(args.spacing), straight_counties()
    vertices = shapely.get_num_coordinates(winding.geometry.to_numpy())
    print(f"# bench_zones: {' '.join(sys.argv)}")
    print(
        f"{os.cpu_count()} CPUs, shapely {shapely.__version__} (GEOS "
        f"{shapely.geos_version_string}); load "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}"
    )
    print(
        f"{len(winding)} winding counties, {int(np.median(vertices)):,} vertices each "
        f"(median; {int(vertices.max()):,} at most)\n"
    )
    geozones.find_conflicts({name: frame.iloc[:300] for name, frame in layers.items()})
    zone_geoms = winding.geometry.to_numpy()
    union_s, union = timed("union_all", lambda: shapely.union_all(zone_geoms))
    ours_s, ours = timed("union_of_zones", lambda: union_of_zones(zone_geoms))
    print("| step | seconds | result |")
    print("|---|---:|---|")
    print(f"| `shapely.union_all` of the winding counties | {union_s:.2f} | {union.area:,.1f} m² |")
    print(f"| `union_of_zones` of them | {ours_s:.2f} | {ours.area:,.1f} m² |")
    for label, zones in (("no zones", None), ("straight grid", straight), ("winding", winding)):
        seconds, found = timed(
            f"find_conflicts, {label}",
            lambda zones=zones: (
                geozones.find_conflicts(layers, zones=zones, zone_field="XZQDM")
                if zones is not None
                else geozones.find_conflicts(layers)
            ),
        )
        print(
            f"| `find_conflicts`, {label} | {seconds:.2f} | {len(found):,} rows, "
            f"{found['area_m2'].sum():,.3f} m² |"
        )
    for label, zones in (("straight grid", straight), ("winding", winding)):
        seconds, table = timed(
            f"coverage, {label}",
            lambda zones=zones: geozones.coverage(layers["redline"], zones, by="XZQDM"),
        )
        print(
            f"| `coverage` of the red line, {label} | {seconds:.2f} | "
            f"{table['covered_area'].sum():,.3f} km² covered |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

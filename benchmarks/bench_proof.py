"""The validity proof against GEOS's ``is_valid``, and the area of raw layers against the read.

On the layers of ``generate.py`` (generated first if missing; the red line also with 16 % of its
polygons cut in two, as ``bench_area.py`` makes it) and on a layer of polygons that are
not star-shaped (river corridors: random-walk lines buffered by GEOS, the shape of many real
red-line polygons, where the proof must sweep their monotone chains), it times, in one process:

- ``shapely.is_valid`` (one thread) against ``geozones.io.proof.certainly_valid`` (all
  threads; it also asks GEOS for the rings), and the share proven;
- ``geopandas.read_parquet`` of the layer and ``geozones.area`` on that fresh frame (validity
  and area in one pass; geozones remembers geometries it has checked, so every run reads a
  fresh frame);
- ``geozones.read_layer`` of the layer (once: it checks and records every geometry's
  validity) and ``geozones.area`` of its result, which measures without proving again.

Each figure is the best of ``--repeat`` runs. Usage::

    python benchmarks/bench_proof.py [--size small|medium|large] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate
from bench_area import redline_with_multipolygons

import geozones
from geozones.io.proof import certainly_valid

#: Corridors: how many, and vertices per buffered line.
CORRIDORS = 2_000
WALK_STEPS = 400


def corridors(crs: object, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Buffered random walks in Gauss–Krüger zone 39: valid, far from star-shaped."""
    rng = np.random.default_rng(seed)
    lines = []
    for k in range(CORRIDORS):
        heading = np.cumsum(rng.normal(0, 0.35, WALK_STEPS))
        steps = 40.0 * np.column_stack([np.cos(heading), np.sin(heading)])
        origin = np.array([39_450_000.0 + 2_000.0 * (k % 50), 3_300_000.0 + 2_000.0 * (k // 50)])
        lines.append(shapely.LineString(origin + np.cumsum(steps, axis=0)))
    polygons = shapely.buffer(np.array(lines), 15.0, quad_segs=2)
    polygons = shapely.make_valid(polygons)  # a walk that crosses itself leaves holes
    keep = shapely.get_type_id(polygons) == shapely.GeometryType.POLYGON
    return gpd.GeoDataFrame(geometry=polygons[keep], crs=crs)


def best(func, repeat: int) -> tuple[float, object]:
    """Fastest of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    """Print the figures of each layer as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    layers: dict[str, Path] = dict(generate.ensure_layers(args.size))
    layers["redline, 16 % multipolygons"] = redline_with_multipolygons(layers["redline"])
    with tempfile.TemporaryDirectory() as scratch:
        crs = gpd.read_parquet(layers["redline"]).crs
        path = Path(scratch) / "corridors.parquet"
        corridors(crs).to_parquet(path)
        layers["corridors (not star-shaped)"] = path
        # Compile (or load) the kernels before timing.
        geozones.area(gpd.read_parquet(layers["urban"]))
        certainly_valid(np.asarray(gpd.read_parquet(layers["urban"]).geometry.array))
        print(f"size {args.size}, best of {args.repeat}\n")
        print(
            "| layer | features | coordinates | `is_valid` (1 thread) | proof | proven | "
            "read | `area` on the fresh frame | area / read | `read_layer` | "
            "`area` of its result | that / read |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, source in layers.items():
            geoms = np.asarray(gpd.read_parquet(source).geometry.array, dtype=object)
            geos, _ = best(lambda geoms=geoms: shapely.is_valid(geoms), args.repeat)
            proof, proven = best(lambda geoms=geoms: certainly_valid(geoms), args.repeat)
            reads, areas = [], []
            for _ in range(args.repeat):
                read, frame = best(lambda source=source: gpd.read_parquet(source), 1)
                measured, _ = best(lambda frame=frame: geozones.area(frame), 1)
                reads.append(read)
                areas.append(measured)
            checked, layer = best(lambda source=source: geozones.read_layer(source), 1)
            known, _ = best(lambda layer=layer: geozones.area(layer), args.repeat)
            coordinates = int(shapely.get_num_coordinates(geoms).sum())
            print(
                f"| {name} | {len(geoms):,} | {coordinates:,} | {geos:.3f} s | {proof:.3f} s | "
                f"{np.mean(proven):.1%} | {min(reads):.3f} s | {min(areas):.3f} s | "
                f"{min(areas) / min(reads):.2f} | {checked:.3f} s | {known:.3f} s | "
                f"{known / min(reads):.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

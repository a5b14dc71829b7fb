"""How far the 32号 survey area departs from the exact ellipsoidal area, by parcel and edge.

Parcels are rectangles turned by 30° and right triangles with a slanted hypotenuse, placed
at a distance from the central meridian of CGCS2000 zone 39 (EPSG:4527) at 30°N. On a
rectangle the curvature of the edges in (B, L) cancels between opposite sides; on a triangle
(or any irregular parcel) it does not. For each, the survey area on the vertices
as given, the survey area with edges densified at 70 m, and the exact area
(``geozones.area``, straight plane edges) are computed; the table gives the relative and
absolute departures of the survey figures. Printed as markdown.

Usage::

    python benchmarks/survey_departure.py
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
from shapely import Polygon

import geozones

NORTHING = 3_320_000.0  # ~30°N
CENTRE = 39_500_000.0
ANGLE = math.radians(30.0)


def rectangle(x: float, length: float, width: float) -> Polygon:
    """A length × width rectangle turned by 30°, its corner at easting CENTRE + x."""
    u = np.array([math.cos(ANGLE), math.sin(ANGLE)])
    v = np.array([-math.sin(ANGLE), math.cos(ANGLE)])
    corner = np.array([CENTRE + x, NORTHING])
    return Polygon(
        [corner, corner + length * u, corner + length * u + width * v, corner + width * v]
    )


def triangle(x: float, side: float) -> Polygon:
    """A right triangle with legs `side` east and north, its right angle at CENTRE + x."""
    corner = np.array([CENTRE + x, NORTHING])
    return Polygon([corner, corner + np.array([side, 0.0]), corner + np.array([0.0, side])])


def main() -> None:
    """Print the table."""
    cases = []
    for x in (50_000.0, 150_000.0):
        for length, width in (
            (30, 30),
            (100, 100),
            (300, 300),
            (1_000, 1_000),
            (3_000, 3_000),
            (4_000, 250),
            (10_000, 500),
        ):
            cases.append((x, f"{length:,} m × {width:,} m", rectangle(x, length, width)))
        for side in (30, 100, 300, 1_000, 3_000):
            cases.append((x, f"triangle, legs {side:,} m", triangle(x, side)))
    layer = gpd.GeoSeries([case[2] for case in cases], crs=4527)
    exact = geozones.area(layer).to_numpy()
    raw = geozones.area(layer, method="survey").to_numpy()
    dense = geozones.area(layer, method="survey", densify_m=70).to_numpy()
    print(
        "| from meridian | parcel | exact area m² | survey − exact | relative "
        "| densified 70 m − exact | relative |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for (x, shape, _), e, r, d in zip(cases, exact, raw, dense, strict=True):
        print(
            f"| {x / 1000:.0f} km | {shape} | {e:,.2f} | {r - e:+.4f} m² "
            f"| {(r - e) / e:+.1e} | {d - e:+.4f} m² | {(d - e) / e:+.1e} |"
        )


if __name__ == "__main__":
    main()

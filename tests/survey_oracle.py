"""An area oracle for the tests of declared areas: the 32号 survey formula, written out.

Independent of geozones' code (``geozones.measure.survey``): the formula of
国土调查办发〔2008〕32号 (《图幅理论面积与图斑椭球面积计算公式及要求》) as DOMAIN.md gives
it, with PROJ's inverse projection and numpy, one ring at a time. This is how a county's
software fills the declared-area fields (TBMJ, YJJBNTTBMJ, MJ) of a delivery.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import shapely


def survey_m2(geoms: Any, crs: str) -> np.ndarray:
    """The 32号 survey area of polygons, m², rounded to 0.01, written out from the formula.

    Each vertex inverse-projected to ``B, L`` with pyproj (taken as given in a geographic
    `crs`), each edge's ellipsoidal trapezoid against the central meridian ``L0``,
    ``S = 2 b² ΔL [A sin(ΔB/2) cos Bm − B sin(3ΔB/2) cos 3Bm + C sin(5ΔB/2) cos 5Bm
    − D sin(7ΔB/2) cos 7Bm + E sin(9ΔB/2) cos 9Bm]`` with ``ΔL = (L1 + L2)/2 − L0``, a ring's
    area ``|Σ S|``, holes subtracted.
    """
    given = pyproj.CRS(crs)
    geographic = given.geodetic_crs
    ellipsoid = geographic.ellipsoid
    b = ellipsoid.semi_minor_metre
    e2 = 1.0 - (b / ellipsoid.semi_major_metre) ** 2
    a_ = 1 + e2 / 2 + 3 * e2**2 / 8 + 5 * e2**3 / 16 + 35 * e2**4 / 128
    b_ = e2 / 6 + 3 * e2**2 / 16 + 3 * e2**3 / 16 + 35 * e2**4 / 192
    c_ = 3 * e2**2 / 80 + e2**3 / 16 + 5 * e2**4 / 64
    d_ = e2**3 / 112 + 5 * e2**4 / 256
    e_ = 5 * e2**4 / 2304
    # In latitude/longitude L0 is the ring's first vertex: a ring's Σ S does not depend on L0,
    # and a meridian near the ring keeps the terms small.
    central: float | None = None
    if given.is_geographic:
        to_lonlat = pyproj.Transformer.from_crs(given, given, always_xy=True)
    else:
        origin = next(
            p for p in given.coordinate_operation.params if p.name == "Longitude of natural origin"
        )
        central = float(np.radians(origin.value))
        to_lonlat = pyproj.Transformer.from_crs(given, geographic, always_xy=True)

    def ring_m2(ring: Any) -> float:
        lon, lat = to_lonlat.transform(*np.asarray(ring.coords)[:, :2].T)
        big_l, big_b = np.radians(lon), np.radians(lat)
        d_b = big_b[1:] - big_b[:-1]
        b_m = (big_b[1:] + big_b[:-1]) / 2
        meridian = big_l[0] if central is None else central
        d_l = (big_l[1:] + big_l[:-1]) / 2 - meridian
        terms = (
            a_ * np.sin(d_b / 2) * np.cos(b_m)
            - b_ * np.sin(3 * d_b / 2) * np.cos(3 * b_m)
            + c_ * np.sin(5 * d_b / 2) * np.cos(5 * b_m)
            - d_ * np.sin(7 * d_b / 2) * np.cos(7 * b_m)
            + e_ * np.sin(9 * d_b / 2) * np.cos(9 * b_m)
        )
        return abs(float(np.sum(2 * b**2 * d_l * terms)))

    result = []
    for geom in np.asarray(geoms, dtype=object).ravel():
        total = 0.0
        for polygon in shapely.get_parts(geom):
            total += ring_m2(polygon.exterior)
            total -= sum(ring_m2(hole) for hole in polygon.interiors)
        result.append(total)
    return np.round(np.array(result, dtype=float), 2)

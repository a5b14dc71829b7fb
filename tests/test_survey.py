"""The 32号 survey area against an independent implementation of the published formula."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon, box

import geozones
from geozones.errors import CRSError

CGCS2000_A = 6378137.0
CGCS2000_F = Fraction(1) / Fraction("298.257222101")


def published_coefficients(e2: Fraction) -> list[Fraction]:
    """A..E of 国土调查办发〔2008〕32号, exactly, in rational arithmetic from e²."""
    e4, e6, e8 = e2**2, e2**3, e2**4
    return [
        1 + Fraction(3, 6) * e2 + Fraction(30, 80) * e4 + Fraction(35, 112) * e6
        + Fraction(630, 2304) * e8,
        Fraction(1, 6) * e2 + Fraction(15, 80) * e4 + Fraction(21, 112) * e6
        + Fraction(420, 2304) * e8,
        Fraction(3, 80) * e4 + Fraction(7, 112) * e6 + Fraction(180, 2304) * e8,
        Fraction(1, 112) * e6 + Fraction(45, 2304) * e8,
        Fraction(5, 2304) * e8,
    ]  # fmt: skip


def reference_survey_area(geom, crs, *, central_meridian: float, densify_m=None) -> float:
    """The formula as published, one vertex and one edge at a time in plain Python.

    Vertices go to B, L with PROJ (one call per vertex); each ring's Σ S is taken in absolute
    value and holes are subtracted.
    """
    crs = pyproj.CRS.from_user_input(crs)
    to_lonlat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    f = CGCS2000_F
    e2 = f * (2 - f)
    b = CGCS2000_A * (1 - float(f))
    A, B, C, D, E = (float(c) for c in published_coefficients(e2))
    l0 = math.radians(central_meridian)

    def ring_area(ring) -> float:
        coords = list(ring.coords)
        if densify_m is not None:
            dense = [coords[0]]
            for (x1, y1), (x2, y2) in itertools.pairwise(coords):
                pieces = max(1, math.ceil(math.hypot(x2 - x1, y2 - y1) / densify_m))
                dense += [
                    (x1 + (x2 - x1) * k / pieces, y1 + (y2 - y1) * k / pieces)
                    for k in range(1, pieces + 1)
                ]
            coords = dense
        bl = []
        for x, y in coords:
            lon, lat = to_lonlat.transform(x, y)
            bl.append((math.radians(lat), math.radians(lon)))
        total = 0.0
        for (b1, l1), (b2, l2) in itertools.pairwise(bl):
            db = b2 - b1
            bm = (b1 + b2) / 2
            dl = (l1 + l2) / 2 - l0
            total += (
                2 * b * b * dl
                * (
                    A * math.sin(db / 2) * math.cos(bm)
                    - B * math.sin(3 * db / 2) * math.cos(3 * bm)
                    + C * math.sin(5 * db / 2) * math.cos(5 * bm)
                    - D * math.sin(7 * db / 2) * math.cos(7 * bm)
                    + E * math.sin(9 * db / 2) * math.cos(9 * bm)
                )
            )  # fmt: skip
        return abs(total)

    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return sum(ring_area(p.exterior) - sum(ring_area(hole) for hole in p.interiors) for p in parts)


def slanted_parcels(false_easting: float, *, seed: int, n: int = 40):
    """Parcels from 30 m to 3 km across, with slanted edges, 20-160 km from the meridian."""
    rng = np.random.default_rng(seed)
    parcels = []
    while len(parcels) < n:
        size = 10 ** rng.uniform(1.5, 3.5)
        cx = false_easting + rng.choice([-1, 1]) * rng.uniform(20e3, 160e3)
        cy = rng.uniform(2.6e6, 5.0e6)
        k = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = size * rng.uniform(0.4, 1.0, k)
        parcel = Polygon(np.c_[cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
        if parcel.is_valid:
            parcels.append(parcel)
    return parcels


@pytest.mark.parametrize(
    ("crs", "false_easting", "central_meridian"),
    [
        ("EPSG:4527", 39_500_000.0, 117.0),  # 3° zone 39 with its prefix
        ("EPSG:4548", 500_000.0, 117.0),  # the same zone without it
        ("EPSG:4497", 19_500_000.0, 111.0),  # 6° zone 19 with its prefix
        ("EPSG:4503", 500_000.0, 105.0),  # 6°, CM 105°E, unprefixed
    ],
)
@pytest.mark.parametrize("densify_m", [None, 70.0])
def test_survey_area_matches_the_published_formula(crs, false_easting, central_meridian, densify_m):
    parcels = slanted_parcels(false_easting, seed=int(false_easting) % 97)
    x, y = false_easting + 60_000, 3_300_000
    hole = box(x + 200, y + 200, x + 400, y + 300)
    parcels.append(Polygon(box(x, y, x + 1000, y + 800).exterior, [hole.exterior]))
    parcels.append(
        MultiPolygon([box(x, y - 900, x + 50, y - 850), box(x + 90, y - 900, x + 99, y)])
    )
    layer = gpd.GeoSeries(parcels, crs=crs)

    result = geozones.area(layer, method="survey", densify_m=densify_m)

    expected = [
        reference_survey_area(p, crs, central_meridian=central_meridian, densify_m=densify_m)
        for p in parcels
    ]
    # Declared figures are rounded to 0.01 m²: equal after rounding, up to one unit where the
    # two straddle a half-unit; before rounding they agree to a micro-square-metre.
    rounded_gap = np.abs(result.round(2).to_numpy() - np.round(expected, 2))
    assert np.all(rounded_gap <= 0.01 + 1e-9)
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=1e-12, atol=1e-6)
    assert result.attrs["method"] == "survey"
    assert result.attrs["densify_m"] == densify_m


def test_the_zone_prefix_does_not_change_the_survey_area():
    parcels = slanted_parcels(39_500_000.0, seed=3)
    prefixed = gpd.GeoSeries(parcels, crs="EPSG:4527")
    unprefixed = prefixed.translate(xoff=-39_000_000.0).set_crs("EPSG:4548", allow_override=True)
    np.testing.assert_allclose(
        geozones.area(prefixed, method="survey").to_numpy(),
        geozones.area(unprefixed, method="survey").to_numpy(),
        rtol=1e-13,
    )


def test_coefficients_follow_from_the_first_eccentricity():
    e2 = float(CGCS2000_F * (2 - CGCS2000_F))
    expected = [float(c) for c in published_coefficients(CGCS2000_F * (2 - CGCS2000_F))]
    from geozones.measure.survey import survey_coefficients

    np.testing.assert_allclose(survey_coefficients(e2), expected, rtol=1e-15, atol=1e-20)
    # The pitfalls of circulating code give other figures: the second eccentricity ...
    e2_second = e2 / (1 - e2)
    assert survey_coefficients(e2_second)[1] / expected[1] - 1 > 1e-3


def test_survey_departs_from_the_exact_area_on_long_edges_and_densifying_closes_it():
    # A thin parcel 150 km from the meridian with 4 km slanted edges: the survey figure
    # (edges straight in B, L) and the exact one (straight in the plane) differ measurably;
    # densified at 10 m they agree to 1e-9.
    e, n = 39_650_000.0, 3_300_000.0
    parcel = Polygon([(e, n), (e + 4000, n + 1500), (e + 3950, n + 1750), (e, n + 250)])
    layer = gpd.GeoSeries([parcel], crs="EPSG:4527")
    exact = geozones.area(layer).iloc[0]
    raw = geozones.area(layer, method="survey").iloc[0]
    dense = geozones.area(layer, method="survey", densify_m=10).iloc[0]
    assert abs(raw / exact - 1) > 1e-7
    assert abs(dense / exact - 1) < 1e-9


@settings(max_examples=30, deadline=None)
@given(
    st.floats(-150_000, 150_000, allow_subnormal=False),
    st.floats(2.6e6, 5.0e6, allow_subnormal=False),
    st.floats(5, 800, allow_subnormal=False),
)
def test_axis_aligned_square_survey_is_close_to_exact(dx, y, side):
    # On a small square the two conventions agree to ~1e-9 (they differ by the curvature of
    # the edges in B, L); a sanity bound, not the oracle.
    square = box(39_500_000 + dx, y, 39_500_000 + dx + side, y + side)
    layer = gpd.GeoSeries([square], crs="EPSG:4527")
    exact = geozones.area(layer).iloc[0]
    survey = geozones.area(layer, method="survey").iloc[0]
    assert survey == pytest.approx(exact, rel=2e-8)


def test_null_empty_and_refusals():
    layer = gpd.GeoSeries([None, Polygon(), box(39_500_000, 3e6, 39_500_010, 3e6 + 10)], crs=4527)
    result = geozones.area(layer, method="survey")
    assert np.isnan(result.iloc[0])
    assert result.iloc[1] == 0.0
    assert result.iloc[2] == pytest.approx(100.0, rel=1e-3)
    with pytest.raises(ValueError, match="survey"):
        geozones.area(layer, densify_m=70)
    with pytest.raises(ValueError, match="positive"):
        geozones.area(layer, method="survey", densify_m=0)
    with pytest.raises(CRSError, match="Gauss-Kruger"):
        geozones.area(layer.to_crs(4490), method="survey", densify_m=70)


def test_geographic_vertices_are_used_as_b_l():
    parcels = gpd.GeoSeries(slanted_parcels(39_500_000.0, seed=9, n=10), crs="EPSG:4527")
    in_degrees = parcels.to_crs(4490)
    expected = [reference_survey_area(p, "EPSG:4527", central_meridian=117.0) for p in parcels]
    result = geozones.area(in_degrees, method="survey").to_numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-6)
    assert shapely.get_num_coordinates(in_degrees.values).sum() > 0

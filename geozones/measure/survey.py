"""The survey area of 国土调查办发〔2008〕32号: the figure declared in delivered databases.

《图幅理论面积与图斑椭球面积计算公式及要求》 (used in the second and third national land
surveys) computes a parcel's ellipsoidal area (图斑椭球面积) from its Gauss–Krüger vertices:

1. inverse Gauss projection of each vertex to latitude ``B`` and longitude ``L`` (here PROJ's
   exact inverse, which the published series matches to ~0.1 mm), on the CRS's ellipsoid;
2. for each edge ``(B1, L1) → (B2, L2)``, with ``ΔB = B2 − B1``, ``Bm = (B1 + B2) / 2`` and
   ``ΔL = (L1 + L2) / 2 − L0`` (radians, ``L0`` the central meridian), the area of the
   ellipsoidal trapezoid between the edge and the meridian ``L0``::

       S = 2 b² ΔL [A sin(ΔB/2) cos Bm − B sin(3ΔB/2) cos 3Bm + C sin(5ΔB/2) cos 5Bm
                    − D sin(7ΔB/2) cos 7Bm + E sin(9ΔB/2) cos 9Bm]

   with ``b`` the semi-minor axis and ``A … E`` series in the first eccentricity squared
   ``e²`` (:func:`survey_coefficients`);
3. a ring's area is ``|Σ S|``; holes are subtracted. The declared figures are this rounded to
   0.01 m².

Each edge is integrated as if it were straight in (B, L), so the figure departs from the exact
ellipsoidal area (:func:`geozones.area`) on long edges: some tools densify the edges first
(``densify_m``, e.g. 70 m). docs/conventions.md gives measured departures.
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
import shapely

from geozones.errors import CRSError, OptionError
from geozones.measure._rings import RingLayout

__all__ = ["survey_area", "survey_coefficients"]


def survey_coefficients(e2: float) -> tuple[float, float, float, float, float]:
    """The coefficients ``A, B, C, D, E`` of the 32号 formula for first eccentricity² `e2`.

    Parameters
    ----------
    e2 : float
        The first eccentricity squared, ``f (2 − f)`` (not the second eccentricity).

    Returns
    -------
    tuple of float
        ``(A, B, C, D, E)``.

    Examples
    --------
    On a sphere the formula is the exact trapezoid ``b² ΔL (sin B2 − sin B1)``:

    >>> survey_coefficients(0.0)
    (1.0, 0.0, 0.0, 0.0, 0.0)
    >>> [round(c, 12) for c in survey_coefficients(0.00669438002290)]  # CGCS2000
    [1.003364089834, 0.001124189382, 1.699459e-06, 2.718e-09, 4e-12]
    """
    e4, e6, e8 = e2 * e2, e2**3, e2**4
    return (
        1.0 + 3.0 / 6.0 * e2 + 30.0 / 80.0 * e4 + 35.0 / 112.0 * e6 + 630.0 / 2304.0 * e8,
        1.0 / 6.0 * e2 + 15.0 / 80.0 * e4 + 21.0 / 112.0 * e6 + 420.0 / 2304.0 * e8,
        3.0 / 80.0 * e4 + 7.0 / 112.0 * e6 + 180.0 / 2304.0 * e8,
        1.0 / 112.0 * e6 + 45.0 / 2304.0 * e8,
        5.0 / 2304.0 * e8,
    )


def survey_area(
    geoms: np.ndarray, crs: pyproj.CRS, *, densify_m: float | None = None
) -> np.ndarray:
    """Survey area in m² (32号 formula, unrounded) of valid polygons.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons or multipolygons; None gives NaN, empty gives 0.
    crs : pyproj.CRS
        Their CRS: a Gauss–Krüger zone (with or without the zone prefix), UTM or any other
        projected CRS (inverse-projected by PROJ), or latitude/longitude (used as B, L).
    densify_m : float, optional
        Cut every edge into equal pieces of at most this many metres in the plane
        (``shapely.segmentize``) first. None (default) takes the vertices as given.

    Returns
    -------
    numpy.ndarray
        Area in square metres, not rounded.

    Raises
    ------
    CRSError
        The CRS has no ellipsoid, or `densify_m` is given for a geographic CRS.
    ValueError
        `densify_m` is not positive.

    Examples
    --------
    A 100 m square 100 km east of the central meridian of zone 39 (CGCS2000):

    >>> import pyproj
    >>> from shapely import box
    >>> square = box(39_600_000, 3_150_000, 39_600_100, 3_150_100)
    >>> survey_area(np.array([square]), pyproj.CRS(4527)).round(2).tolist()
    [9997.53]
    """
    if densify_m is not None and not (densify_m > 0 and math.isfinite(densify_m)):
        raise OptionError(f"densify_m must be a positive number of metres, not {densify_m!r}")
    geographic = crs.geodetic_crs
    ellipsoid = geographic.ellipsoid if geographic is not None else None
    if geographic is None or ellipsoid is None:
        raise CRSError(f"{crs.name} has no ellipsoid; the survey area needs one")
    result = np.full(len(geoms), np.nan)
    present = ~shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms)
    result[present & empty] = 0.0
    todo = np.flatnonzero(present & ~empty)
    if len(todo) == 0:
        return result
    polygons = geoms[todo]
    if densify_m is not None:
        if crs.is_geographic:
            raise CRSError(
                "densify_m cuts edges in the plane of a projected CRS; the layer is in "
                f"latitude/longitude ({crs.name}): transform it to its Gauss-Kruger zone first"
            )
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        polygons = shapely.segmentize(polygons, densify_m / unit)
    layout = RingLayout.of(polygons)
    lon, lat = _lonlat(layout.coords, crs, geographic)
    ring_sum = _ring_sums(layout, np.radians(lon), np.radians(lat), ellipsoid, _meridian(crs, lon))
    ring_area = np.where(layout.ring_is_hole, -1.0, 1.0) * np.abs(ring_sum)
    result[todo] = np.bincount(layout.ring_geometry, weights=ring_area, minlength=len(todo))
    return result


def _lonlat(
    coords: np.ndarray, crs: pyproj.CRS, geographic: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude in degrees of plane (or geographic) coordinates."""
    if crs.is_geographic:
        to_lonlat = pyproj.Transformer.from_crs(crs, crs, always_xy=True)
    else:
        to_lonlat = pyproj.Transformer.from_crs(crs, geographic, always_xy=True)
    lon, lat = to_lonlat.transform(coords[:, 0], coords[:, 1])
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _meridian(crs: pyproj.CRS, lon: np.ndarray) -> float:
    """``L0`` in radians: the central meridian of a transverse Mercator CRS.

    The ring sums do not depend on ``L0`` (the trapezoids' ``ΔB`` terms sum to zero around a
    ring); a meridian near the data keeps the terms small. Other CRSs take the mean longitude.
    """
    operation = crs.coordinate_operation if crs.is_projected else None
    if operation is not None and operation.method_name == "Transverse Mercator":
        params = {p.name: p.value for p in operation.params}
        return math.radians(float(params["Longitude of natural origin"]))
    return math.radians(float(np.mean(lon)))


def _ring_sums(
    layout: RingLayout,
    lon: np.ndarray,
    lat: np.ndarray,
    ellipsoid: pyproj.crs.Ellipsoid,
    meridian: float,
) -> np.ndarray:
    """``Σ S`` over the edges of each ring, signed by its orientation, in m²."""
    a = ellipsoid.semi_major_metre
    flattening = 1.0 / ellipsoid.inverse_flattening if ellipsoid.inverse_flattening else 0.0
    b = a * (1.0 - flattening)
    A, B, C, D, E = survey_coefficients(flattening * (2.0 - flattening))
    # Edge i joins vertex i to i + 1 inside a ring; the last vertex of a ring starts none.
    is_edge = np.ones(len(lon), dtype=bool)
    is_edge[layout.ring_ends] = False
    start = np.flatnonzero(is_edge)
    b1, b2 = lat[start], lat[start + 1]
    delta_b = b2 - b1
    mean_b = 0.5 * (b1 + b2)
    delta_l = 0.5 * (lon[start] + lon[start + 1]) - meridian
    series = (
        A * np.sin(0.5 * delta_b) * np.cos(mean_b)
        - B * np.sin(1.5 * delta_b) * np.cos(3.0 * mean_b)
        + C * np.sin(2.5 * delta_b) * np.cos(5.0 * mean_b)
        - D * np.sin(3.5 * delta_b) * np.cos(7.0 * mean_b)
        + E * np.sin(4.5 * delta_b) * np.cos(9.0 * mean_b)
    )
    edge_area = 2.0 * b * b * delta_l * series
    ring_of_vertex = np.repeat(np.arange(len(layout.ring_starts)), layout.ring_lengths)
    return np.bincount(ring_of_vertex[start], weights=edge_area, minlength=len(layout.ring_starts))

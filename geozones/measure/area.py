"""Area of polygon layers, measured the way official statistics measure it.

Official statistics report ellipsoidal area (椭球面积) on the CRS's ellipsoid (CGCS2000 for
Chinese CRSs). A polygon stored in a Gauss–Krüger (transverse Mercator) CRS has straight edges
in that plane: that is what was digitised and what an overlay cuts. Its ellipsoidal area is the
area, on the ellipsoid, of the region those straight edges bound. On the plane the ellipsoidal
area element is ``dA = f(x, y) dx dy`` with ``f = 1 / m²`` and ``m`` the point scale:

* ``f`` is fitted to PROJ's own inverse projection (a polynomial, even in the distance ``x``
  from the central meridian), and checked against it to 5e-12. It is fitted per band of
  northing on a grid fixed by the CRS, not by the data, so a polygon's area depends on its own
  coordinates only, the same to the last bit whichever polygons it is measured with;
* by Green's theorem the area is ``∮ F dy`` with ``F = ∫ f dx``: the planar area (times
  ``1 / k0²``) plus ``∮ G dy``, ``G`` a polynomial in ``x`` and the northing. Along a straight
  edge both are linear, so Gauss–Legendre quadrature with enough nodes integrates ``G``
  exactly; an edge that crosses from one band to the next is cut at the boundary, so every
  point of the plane is integrated with the same function. The area is therefore additive:
  the pieces of a polygon sum to its area (to the rounding of the vertices GEOS creates).

Other CRSs: in latitude/longitude (EPSG:4490) the edges are geodesics, as PostGIS geography and
PROJ's ``Geod`` assume; the vertices move to the 3-degree Gauss–Krüger zone of each feature and
the sliver between each straight edge and its geodesic is added. Equal-area projections
(Albers, Lambert azimuthal) measure their straight edges exactly by their planar area. Other
projected CRSs (Lambert conformal, Web Mercator, …) have their edges cut into pieces of at
most :data:`STRAIGHT_EDGE_STEP_M` in their own plane before the vertices move to a zone, so the
edges stay straight in the plane they were drawn in (to ~1e-10 of a parcel's area).

``method="survey"`` is the formula of 国土调查办发〔2008〕32号 instead (see
:mod:`geozones.measure.survey`): the figure declared in delivered databases.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pandas as pd
import pyproj
import shapely
from pyproj.crs import Ellipsoid

from geozones.choices import checked_choice, checked_layer
from geozones.errors import CRSError, MissingCRSError, OptionError
from geozones.io.crs import crs_label, is_mercator
from geozones.io.rings import PolygonRings
from geozones.io.validity import checked_polygons, geometry_array, polygon_array
from geozones.measure._rings import EdgeSeries, RingLayout, RingSums, ring_sums
from geozones.measure.survey import survey_area
from geozones.units import square_metres_per

if TYPE_CHECKING:
    import geopandas as gpd

AreaMethod = Literal["ellipsoidal", "planar", "geodesic", "survey"]
METHODS: tuple[str, ...] = ("ellipsoidal", "planar", "geodesic", "survey")

# Largest |f_fit - f_exact| accepted for the fitted area scale (f is close to 1).
_FIT_TOLERANCE = 5e-12
# The fixed grid of fitted domains: bands of northing, and tiers of |x|. A CRS takes the first
# tier that holds its area of use (3° zones the first, 6° zones and UTM the second); features
# far outside it take a wider one.
_BAND_HEIGHT = 200_000.0
#: More bands than pole to pole (2 × 10,002 km of meridian) span.
_MAX_BANDS = 101
_X_TIERS = (170_000.0, 350_000.0, 700_000.0, 1_400_000.0, 2_800_000.0)
#: Longest piece, in metres, that an edge of a projected CRS other than transverse Mercator
#: is cut into before its vertices move to a Gauss–Krüger zone (see docs/area.md).
STRAIGHT_EDGE_STEP_M = 10.0
#: No feature on the ellipsoid has a longer perimeter: two and a half times round the equator.
_MAX_PERIMETER_M = 1.0e8


def area(
    data: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    unit: str = "m2",
    method: AreaMethod = "ellipsoidal",
    densify_m: float | None = None,
) -> pd.Series:
    """Area of each feature, in `unit`, by `method`.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        Polygon features with a CRS. Invalid polygons are repaired first, with a
        :class:`~geozones.errors.GeometryRepairWarning` that counts them; null geometries give
        NaN and empty ones 0.
    unit : {"m2", "ha", "km2", "mu", "wan_mu", "wan_ha"}, default "m2"
        Unit of the result (``mu`` is 亩, 2000/3 m²).
    method : {"ellipsoidal", "planar", "geodesic", "survey"}, default "ellipsoidal"
        ``ellipsoidal``: area on the CRS's ellipsoid (CGCS2000 for Chinese CRSs) of the region
        the straight plane edges bound (geodesic edges in latitude/longitude), to 1e-9;
        additive. ``planar``: area on the projection plane, refused for geographic CRSs and
        Mercator projections. ``geodesic``: Karney's area of the polygon with geodesic edges
        between its vertices, one polygon at a time; slow. ``survey``: the formula of
        国土调查办发〔2008〕32号 that declared areas (TBMJ) follow
        (:func:`geozones.measure.survey.survey_area`), not rounded.
    densify_m : float, optional
        ``survey`` only: cut edges into pieces of at most this many metres in the plane
        first (some official tools use 70). None takes the vertices as given.

    Returns
    -------
    pandas.Series
        Float areas aligned with ``data.index``, named ``area_<unit>``; ``attrs`` records
        ``unit`` and ``method`` (and ``densify_m`` for ``survey``).

    Raises
    ------
    MissingCRSError
        `data` has no CRS.
    CRSError
        ``planar`` asked for in a geographic or Mercator CRS.
    NonPolygonalGeometryError
        Points or lines among the features; the message names them.

    Examples
    --------
    A 1 km square 100 km east of the central meridian of zone 39, in CGCS2000:

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> square = gpd.GeoSeries([box(39_600_000, 3_150_000, 39_601_000, 3_151_000)], crs=4527)
    >>> area(square, method="planar").round(3).tolist()
    [1000000.0]
    >>> area(square).round(3).tolist()  # the plane stretches lengths this far from the meridian
    [999750.844]
    >>> area(square, unit="mu").round(2).tolist()
    [1499.63]
    >>> area(square, method="survey").round(2).tolist()  # 32号, as declared in TBMJ
    [999750.85]
    """
    checked_layer(data, name="data", series=True)
    check_method(method, densify_m=densify_m)
    per_unit = square_metres_per(unit)
    crs = require_crs(data)

    if method == "planar":
        require_planar_crs(crs)
        geoms = polygon_array(data, purpose="area")
        square_metres = shapely.area(geoms) * linear_unit_metres(crs) ** 2
    elif method == "geodesic":
        square_metres = geodesic_area(polygon_array(data, purpose="area"), crs)
    elif method == "survey":
        geoms = polygon_array(data, purpose="area")
        square_metres = survey_area(geoms, crs, densify_m=densify_m)
    else:
        square_metres = measured_polygons(data, crs, purpose="area").area

    result = pd.Series(square_metres / per_unit, index=data.index, name=f"area_{unit}")
    result.attrs.update(unit=unit, method=method)
    if method == "survey":
        result.attrs["densify_m"] = densify_m
    return result


def ellipsoidal_area(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Ellipsoidal area in m² of valid polygons, by the fast Gauss–Krüger method.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons or multipolygons; None gives NaN, empty gives 0.
    crs : pyproj.CRS
        The CRS of the coordinates.

    Returns
    -------
    numpy.ndarray
        Area in square metres.
    """
    result = np.full(len(geoms), np.nan)
    present = ~shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms)
    result[present & empty] = 0.0
    todo = np.flatnonzero(present & ~empty)
    if len(todo) == 0:
        return result
    if _is_equal_area(crs):
        # The plane's area is the ellipsoid's: straight edges in it are measured exactly.
        result[todo] = shapely.area(geoms[todo]) * linear_unit_metres(crs) ** 2
        return result
    projection = TransverseMercator.from_crs(crs)
    if projection is not None:
        measured = _transverse_mercator_area(geoms[todo], projection)
        if measured is not None:
            result[todo] = measured
            return result
    geodesic_edges = bool(crs.is_geographic)
    for zone_index, zone_geoms, zone_projection in _split_by_zone(geoms[todo], crs):
        measured = _transverse_mercator_area(
            zone_geoms, zone_projection, geodesic_edges=geodesic_edges
        )
        if measured is None and geodesic_edges:
            # Edges of a geographic CRS are geodesics: Karney's area is the same quantity, for
            # features wider than a Gauss-Kruger zone can hold.
            measured = geodesic_area(geoms[todo[zone_index]], crs)
        if measured is None:
            raise CRSError(
                "features span too much longitude for ellipsoidal area on one Gauss-Kruger "
                "zone; split them or use method='geodesic'"
            )
        result[todo[zone_index]] = measured
    return result


class MeasuredPolygons(NamedTuple):
    """What :func:`measured_polygons` returns."""

    #: The checked (repaired) geometries.
    geoms: np.ndarray
    #: Their ellipsoidal area in m² (NaN for null geometries, 0 for empty ones).
    area: np.ndarray
    #: All coordinates of the rows measured from their coordinates, flat (or None) ...
    coords: np.ndarray | None
    #: ... and per row the span ``coords[first:stop]`` of its one ring, for the polygons
    #: without holes that were not repaired; -1 for the other rows.
    first: np.ndarray | None
    stop: np.ndarray | None
    #: ``(n, 4)`` bounds of those same rows (as ``shapely.bounds``), NaN for the others.
    bounds: np.ndarray | None


def measured_polygons(
    data: gpd.GeoDataFrame | gpd.GeoSeries,
    crs: pyproj.CRS,
    *,
    purpose: str,
    stacklevel: int = 3,
) -> MeasuredPolygons:
    """:func:`~geozones.io.validity.polygon_array` and the ellipsoidal area, in one pass.

    In a transverse Mercator CRS the area is computed first, from the raw coordinates; the
    same pass proves most polygons valid (see :mod:`geozones.measure._rings`), so GEOS checks only
    the rest. Polygons that had to be repaired are measured again, repaired.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        The layer.
    crs : pyproj.CRS
        Its CRS.
    purpose : str
        For messages, as in :func:`~geozones.io.validity.polygon_array`.
    stacklevel : int, default 3
        Of the repair warning.

    Returns
    -------
    MeasuredPolygons
        The checked geometries, their area in m², and their vertices where they were read.
    """
    projection = TransverseMercator.from_crs(crs)
    if projection is None:
        geoms = polygon_array(data, purpose=purpose, stacklevel=stacklevel + 1)
        return MeasuredPolygons(geoms, ellipsoidal_area(geoms, crs), None, None, None, None)
    raw = geometry_array(data)
    found: list[tuple[np.ndarray, _Measured]] = []

    def certify(index: np.ndarray, known: Callable[[], np.ndarray]) -> np.ndarray:
        measured = (
            _transverse_mercator_measure(raw[index], projection, prove=True, known=known)
            if len(index)
            else None
        )
        if measured is None:
            return np.zeros(len(index), dtype=bool)
        found.append((index, measured))
        return measured.certain

    geoms, repaired = checked_polygons(
        data, purpose=purpose, certify=certify, stacklevel=stacklevel + 1
    )
    if not found:
        return MeasuredPolygons(geoms, ellipsoidal_area(geoms, crs), None, None, None, None)
    index, measured = found[0]
    result = np.full(len(geoms), np.nan)
    result[~shapely.is_missing(geoms)] = 0.0
    result[index] = measured.area
    first = np.full(len(geoms), -1, dtype=np.int64)
    stop = np.full(len(geoms), -1, dtype=np.int64)
    # Spans only for polygons without holes: their coordinates are one ring.
    layout = measured.layout
    single = measured.one_ring >= 0
    rows = index[single]
    first[rows] = layout.ring_starts[measured.one_ring[single]]
    stop[rows] = first[rows] + layout.ring_lengths[measured.one_ring[single]]
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[rows] = measured.ring_bounds[measured.one_ring[single]]
    # Repaired polygons are measured again, with the same fit (repair stays inside the bounds).
    redo = np.flatnonzero(repaired)
    redo = redo[~shapely.is_empty(geoms[redo])]
    first[repaired] = stop[repaired] = -1
    bounds[repaired] = np.nan
    if len(redo):
        again = _transverse_mercator_measure(geoms[redo], projection, measured.scale)
        assert again is not None
        result[redo] = again.area
    return MeasuredPolygons(geoms, result, layout.coords, first, stop, bounds)


def geodesic_area(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Exact geodesic area in m² (Karney's algorithm, one polygon at a time).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons or multipolygons.
    crs : pyproj.CRS
        The CRS of the coordinates.

    Returns
    -------
    numpy.ndarray
        Area in square metres; NaN for null geometries.
    """
    geographic, ellipsoid = _geographic(crs)
    geod = pyproj.Geod(a=ellipsoid.semi_major_metre, rf=ellipsoid.inverse_flattening)
    if not crs.is_geographic:
        to_lonlat = pyproj.Transformer.from_crs(crs, geographic, always_xy=True)
        geoms = shapely.transform(geoms, _transform_with(to_lonlat))
    result = np.full(len(geoms), np.nan)
    for i, geom in enumerate(geoms):
        if geom is not None:
            result[i] = abs(geod.geometry_area_perimeter(geom)[0])
    return result


@dataclass(frozen=True)
class TransverseMercator:
    """The parameters of a transverse Mercator CRS that the area method needs."""

    crs: pyproj.CRS
    false_easting: float
    scale_factor: float

    @classmethod
    def from_crs(cls, crs: pyproj.CRS) -> TransverseMercator | None:
        """The parameters of `crs`, or None if it is not a transverse Mercator in metres."""
        operation = crs.coordinate_operation if crs.is_projected else None
        if operation is None or operation.method_name != "Transverse Mercator":
            return None
        if linear_unit_metres(crs) != 1.0:
            return None
        params = {p.name: p.value for p in operation.params}
        return cls(
            crs, float(params["False easting"]), float(params["Scale factor at natural origin"])
        )


def _transverse_mercator_area(
    geoms: np.ndarray, projection: TransverseMercator, *, geodesic_edges: bool = False
) -> np.ndarray | None:
    """Area of non-empty polygons in a transverse Mercator CRS, or None if it cannot fit."""
    measured = _transverse_mercator_measure(geoms, projection, geodesic_edges=geodesic_edges)
    return None if measured is None else measured.area


class _Measured(NamedTuple):
    area: np.ndarray
    certain: np.ndarray
    scale: BandedScale
    layout: RingLayout
    #: Per geometry: the index of its one ring in `layout` (a Polygon without holes), or -1.
    one_ring: np.ndarray
    #: ``(n, 4)`` bounds of each ring of `layout`.
    ring_bounds: np.ndarray


def _transverse_mercator_measure(
    geoms: np.ndarray,
    projection: TransverseMercator,
    scale: BandedScale | None = None,
    *,
    geodesic_edges: bool = False,
    prove: bool = False,
    known: Callable[[], np.ndarray] | None = None,
) -> _Measured | None:
    """Area of non-empty polygons, which are certainly valid, the fit of ``f``, the layout.

    One pass over the coordinates gives, per ring, the planar area, the ellipsoidal
    correction and whether the ring is certainly simple (see :mod:`geozones.measure._rings`).
    `scale` is the fit of the bands the polygons' bounds cover unless given; None if no fit is
    exact. A Polygon without holes whose ring the pass proves simple is valid; with `prove`,
    the others are proven, where they can be, by
    :func:`geozones.io.proof.certainly_valid_rings` on the same coordinates, except those
    that `known()` (per geometry, called only if some are left to prove) says are valid
    already, which are returned as certain.
    """
    layout = RingLayout.of(geoms)
    if scale is None:
        scale = _covering_scale(projection, _total_bounds(geoms, layout.coords))
        if scale is None:
            return None
    series = scale.edge_series(projection.false_easting, geodesic_edges=geodesic_edges)
    sums = ring_sums(layout, series)
    area = _geometry_areas(layout, sums, projection, len(geoms))
    single = np.flatnonzero(layout.ring_single)
    one_ring = np.full(len(geoms), -1, dtype=np.int64)
    one_ring[layout.ring_geometry[single]] = single
    certain = np.zeros(len(geoms), dtype=bool)
    certain[layout.ring_geometry[single[sums.simple[single]]]] = True
    if known is not None and prove and not certain.all():
        certain |= known()
    rest = np.flatnonzero(~certain)
    if prove and len(rest):
        from geozones.io.proof import certainly_valid_rings  # loads numba

        rings = ~certain[layout.ring_geometry]
        certain[rest] = certainly_valid_rings(
            layout.coords,
            layout.ring_starts[rings],
            layout.ring_lengths[rings],
            layout.ring_is_hole[rings],
            np.searchsorted(rest, layout.ring_geometry[rings]),
            len(rest),
            simple=sums.simple[rings],
        )
    return _Measured(area, certain, scale, layout, one_ring, sums.bounds)


def ellipsoidal_ring_area(rings: PolygonRings, count: int, crs: pyproj.CRS) -> np.ndarray | None:
    """:func:`ellipsoidal_area` of valid polygons given by their rings, without geometries.

    Parameters
    ----------
    rings : geozones.io.rings.PolygonRings
        The rings of `count` polygons (``ring_geometry`` says whose; a polygon without rings
        measures 0).
    count : int
        How many polygons.
    crs : pyproj.CRS
        The CRS of the coordinates.

    Returns
    -------
    numpy.ndarray or None
        Area in square metres per polygon, the same as :func:`ellipsoidal_area` of the
        polygons built from the rings; None where the CRS is not one transverse Mercator
        zone in metres that holds them (build the geometries and measure those).
    """
    projection = TransverseMercator.from_crs(crs)
    if projection is None:
        return None
    if len(rings.coords) == 0:
        return np.zeros(count)
    x, y = rings.coords[:, 0], rings.coords[:, 1]
    bounds = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
    scale = _covering_scale(projection, bounds)
    if scale is None:
        return None
    layout = RingLayout(*rings)
    sums = ring_sums(layout, scale.edge_series(projection.false_easting))
    return _geometry_areas(layout, sums, projection, count)


def _covering_scale(
    projection: TransverseMercator, bounds: tuple[float, float, float, float]
) -> BandedScale | None:
    """The fit of the area scale over the bands `bounds` cover, or None if none is exact."""
    xmin, ymin, xmax, ymax = bounds
    x_max = max(abs(xmin - projection.false_easting), abs(xmax - projection.false_easting))
    return BandedScale.covering(projection, x_max, ymin, ymax)


def _geometry_areas(
    layout: RingLayout, sums: RingSums, projection: TransverseMercator, count: int
) -> np.ndarray:
    """Ellipsoidal area per geometry: its rings' (:func:`_ring_areas`) summed."""
    ring_area = _ring_areas(layout, sums, projection)
    if (
        len(ring_area) == count
        and layout.ring_single.all()
        and np.array_equal(layout.ring_geometry, np.arange(count))
    ):
        return ring_area
    return np.bincount(layout.ring_geometry, weights=ring_area, minlength=count)


def _total_bounds(geoms: np.ndarray, coords: np.ndarray) -> tuple[float, float, float, float]:
    """``shapely.total_bounds``, from the coordinates where the geometries are small.

    GEOS keeps each geometry's envelope, but reading one costs about as much as taking the
    minimum and maximum of 30 coordinates (parcels have about 14).
    """
    if 0 < len(coords) < 30 * len(geoms):
        x = coords[:, 0]
        y = coords[:, 1]
        bounds = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
        if all(math.isfinite(value) for value in bounds):
            return bounds
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return float(xmin), float(ymin), float(xmax), float(ymax)


def _ring_areas(layout: RingLayout, sums: RingSums, projection: TransverseMercator) -> np.ndarray:
    """Ellipsoidal area of each ring, positive for shells and negative for holes."""
    planar = 0.5 * sums.double_area
    # Shells count positive and holes negative, whichever way their rings run.
    sign = np.where(layout.ring_is_hole, -1.0, 1.0) * np.sign(planar)
    return sign * (planar / projection.scale_factor**2 + sums.integral)


@dataclass(frozen=True)
class _AreaScale:
    """``f(x, y) = 1/m²`` of a transverse Mercator CRS as ``Σ_k c_k(y) x^(2k)``.

    ``c_k(y) = Σ_j coefficients[k, j] v^j / x_scale^(2k)`` with ``v`` the northing mapped to
    [-1, 1] over the fitted range.
    """

    coefficients: np.ndarray
    x_scale: float
    y_centre: float
    y_half_range: float

    @classmethod
    def fit_domain(
        cls,
        projection: TransverseMercator,
        x_scale: float,
        y_centre: float,
        y_half_range: float,
    ) -> _AreaScale | None:
        """Fit ``f`` over ``|x| <= x_scale``, ``|y - y_centre| <= y_half_range``, or None."""
        inverse_scale = _InverseAreaScale(projection.crs)
        for x_degree, y_degree in ((3, 4), (4, 6), (5, 8), (6, 10), (7, 12)):
            s_nodes = 0.5 - 0.5 * np.cos(np.pi * (np.arange(x_degree + 3) + 0.5) / (x_degree + 3))
            v_nodes = np.cos(np.pi * (np.arange(y_degree + 4) + 0.5) / (y_degree + 4))
            s, v = (a.ravel() for a in np.meshgrid(s_nodes, v_nodes))
            design = _design_matrix(s, v, x_degree, y_degree)
            exact = inverse_scale(np.sqrt(s) * x_scale, y_centre + v * y_half_range)
            check_s, check_v = (
                a.ravel() for a in np.meshgrid(np.linspace(0, 1, 9), np.linspace(-1, 1, 11))
            )
            check_design = _design_matrix(check_s, check_v, x_degree, y_degree)
            # Check between the nodes, with both signs of x, against PROJ.
            check_x = np.sqrt(check_s) * x_scale * np.where(np.arange(len(check_s)) % 2, 1, -1)
            reference = inverse_scale(check_x, y_centre + check_v * y_half_range)

            fit = _Fit(design, exact, check_design, reference)
            used = np.ones(design.shape[1], dtype=bool)
            solution = fit.solve(used)
            if solution is None:
                continue
            # Higher powers of x vary less with latitude: drop the powers of v they do not
            # need, saving work per edge.
            for k in range(x_degree, 1, -1):
                for j in range(y_degree, -1, -1):
                    trial = used.copy()
                    trial[k * (y_degree + 1) + j] = False
                    reduced = fit.solve(trial)
                    if reduced is None:
                        break
                    used, solution = trial, reduced
            return cls(
                solution.reshape(x_degree + 1, y_degree + 1), x_scale, y_centre, y_half_range
            )
        return None

    def _c(self, k: int, v: np.ndarray) -> np.ndarray:
        row = np.trim_zeros(self.coefficients[k], "b")
        if len(row) == 0:
            return np.zeros_like(v)
        value = np.full_like(v, row[-1])
        for coefficient in row[-2::-1]:
            value *= v
            value += coefficient
        return value / self.x_scale ** (2 * k)

    def edge_terms(self) -> tuple[np.ndarray, int]:
        """``G = F - c0 x`` as polynomials in ``v``, and its degree along a straight edge.

        ``F = ∫ f dx = Σ_k c_k(v) x^(2k+1) / (2k+1)``; row ``k - 1`` of the result holds
        the coefficients of ``c_k(v) / (2k+1)`` (``k >= 1``, the ``1 / x_scale^(2k)``
        folded in), zero-padded. Along a straight edge ``x`` and ``v`` are linear, so
        ``G`` is a polynomial of the returned degree in the edge's parameter.
        """
        rows = [
            np.trim_zeros(self.coefficients[k], "b") / (self.x_scale ** (2 * k) * (2 * k + 1))
            for k in range(1, self.coefficients.shape[0])
        ]
        while rows and not len(rows[-1]):
            rows.pop()
        width = max((len(row) for row in rows), default=1)
        terms = np.zeros((len(rows), width))
        degree = 0
        for k, row in enumerate(rows):
            terms[k, : len(row)] = row
            if len(row):
                degree = max(degree, 2 * k + 3 + len(row) - 1)
        return terms, degree


@functools.lru_cache(maxsize=64)
def _x_extent_of_use(projection: TransverseMercator) -> float:
    """Largest ``|x|`` of the CRS's area of use (at its latitude nearest the equator), or 0."""
    use = projection.crs.area_of_use
    geographic = projection.crs.geodetic_crs
    if use is None or geographic is None:
        return 0.0
    latitude = min(max(0.0, use.south), use.north)
    to_plane = pyproj.Transformer.from_crs(geographic, projection.crs, always_xy=True)
    x, _ = to_plane.transform([use.west, use.east], [latitude, latitude])
    extent = float(np.max(np.abs(np.asarray(x) - projection.false_easting)))
    return extent if math.isfinite(extent) else 0.0


def _band_of(y: float) -> int:
    """The band of northing `y` on the fixed grid, as the ring pass computes it."""
    return math.floor(y * (1.0 / _BAND_HEIGHT))


@functools.lru_cache(maxsize=512)
def _band_scale(projection: TransverseMercator, x_scale: float, band: int) -> _AreaScale | None:
    """The fit of ``f`` over one band of northing of the fixed grid, or None."""
    return _AreaScale.fit_domain(
        projection, x_scale, (band + 0.5) * _BAND_HEIGHT, 0.5 * _BAND_HEIGHT * 1.01
    )


@dataclass(frozen=True)
class BandedScale:
    """``f`` fitted per band of northing of a grid fixed by the CRS (:data:`_BAND_HEIGHT`).

    The bands and the tier of ``|x|`` do not depend on the data, and each edge takes the band
    of its midpoint, so the area of a polygon is a function of its coordinates alone.
    """

    projection: TransverseMercator
    bands: tuple[_AreaScale, ...]
    first_band: int

    @classmethod
    def covering(
        cls, projection: TransverseMercator, x_max: float, y_min: float, y_max: float
    ) -> BandedScale | None:
        """The fits of the bands over ``y_min..y_max`` for ``|x| <= x_max``; None if any fails."""
        x_max = max(x_max, _x_extent_of_use(projection))
        tier = next((x for x in _X_TIERS if x_max * 1.01 <= x), None)
        if tier is None:
            return None
        first = _band_of(y_min)
        last = _band_of(y_max)
        if last - first > _MAX_BANDS:
            # Northings further apart than pole to pole are not coordinates on the ellipsoid.
            return None
        bands = [_band_scale(projection, tier, band) for band in range(first, last + 1)]
        if any(band is None for band in bands):
            return None
        return cls(projection, tuple(band for band in bands if band is not None), first)

    def coefficients_at(self, y: np.ndarray) -> np.ndarray:
        """``c_k(y)`` of ``f = Σ_k c_k(y) x^(2k)``, from the band of each `y`: ``(k, len(y))``.

        ``c_0`` is the exact ``1/k0²`` (the scale on the central meridian), as in the area of
        polygons.
        """
        y = np.asarray(y, dtype=float)
        band = np.clip(
            np.floor(y * (1.0 / _BAND_HEIGHT)).astype(np.int64) - self.first_band,
            0,
            len(self.bands) - 1,
        )
        degree = max(scale.coefficients.shape[0] for scale in self.bands)
        result = np.zeros((degree, len(y)))
        for b, scale in enumerate(self.bands):
            here = band == b
            v = (y[here] - scale.y_centre) / scale.y_half_range
            for k in range(1, scale.coefficients.shape[0]):
                result[k, here] = scale._c(k, v)
        result[0] = 1.0 / self.projection.scale_factor**2
        return result

    def edge_series(self, false_easting: float, *, geodesic_edges: bool = False) -> EdgeSeries:
        """All bands' terms, padded with zeros to one shape, for the ring pass.

        `geodesic_edges` adds the sliver between each straight edge and the geodesic
        between its ends (for vertices that came from a geographic CRS).
        """
        terms = [band.edge_terms() for band in self.bands]
        padded = np.zeros(
            (
                len(terms),
                max(t.shape[0] for t, _ in terms),
                max(t.shape[1] for t, _ in terms),
            )
        )
        lengths = np.zeros(padded.shape[:2], dtype=np.int64)
        for b, (band_terms, _) in enumerate(terms):
            padded[b, : band_terms.shape[0], : band_terms.shape[1]] = band_terms
            for k, row in enumerate(band_terms):
                lengths[b, k] = len(np.trim_zeros(row, "b"))
        degree = max(d for _, d in terms)
        # n Gauss-Legendre nodes integrate polynomials of degree 2n - 1 exactly.
        nodes, weights = np.polynomial.legendre.leggauss(degree // 2 + 1)
        half_range = self.bands[0].y_half_range
        return EdgeSeries(
            false_easting=false_easting,
            terms=padded,
            term_lengths=lengths,
            nodes=0.5 + 0.5 * nodes,
            weights=0.5 * weights,
            v_scale=1.0 / half_range,
            v_shift=np.array([-band.y_centre / band.y_half_range for band in self.bands]),
            first_band=self.first_band,
            inverse_band_height=1.0 / _BAND_HEIGHT,
            bow=1.0 if geodesic_edges else 0.0,
        )


@dataclass(frozen=True)
class _Fit:
    """Least squares of f on some columns of the design, checked against PROJ between nodes."""

    design: np.ndarray
    exact: np.ndarray
    check_design: np.ndarray
    reference: np.ndarray

    def solve(self, used: np.ndarray) -> np.ndarray | None:
        """Coefficients (zero where unused), or None if the fit misses the tolerance."""
        solution = np.zeros(self.design.shape[1])
        solution[used] = np.linalg.lstsq(self.design[:, used], self.exact, rcond=None)[0]
        error = np.max(np.abs(self.check_design @ solution - self.reference))
        return solution if error < _FIT_TOLERANCE else None


def _design_matrix(s: np.ndarray, v: np.ndarray, x_degree: int, y_degree: int) -> np.ndarray:
    """Columns ``s^k v^j`` for k <= x_degree, j <= y_degree, k-major."""
    s_powers = s[:, None] ** np.arange(x_degree + 1)
    v_powers = v[:, None] ** np.arange(y_degree + 1)
    return (s_powers[:, :, None] * v_powers[:, None, :]).reshape(len(s), -1)


class _InverseAreaScale:
    """Exact ``1/m²`` of a projected CRS at plane points, from PROJ's inverse projection.

    ``1/m² = M N cos φ |∂(φ, λ)/∂(x, y)|``, the Jacobian by fourth-order central differences
    over 5 km steps (truncation ~1e-14; PROJ itself is good to ~1e-12 here).
    """

    _STEP = 5_000.0

    def __init__(self, crs: pyproj.CRS) -> None:
        self._projection = TransverseMercator.from_crs(crs)
        geographic, ellipsoid = _geographic(crs)
        self._to_lonlat = pyproj.Transformer.from_crs(crs, geographic, always_xy=True)
        self._a = ellipsoid.semi_major_metre
        flattening = 1.0 / ellipsoid.inverse_flattening
        self._e2 = flattening * (2.0 - flattening)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        assert self._projection is not None
        easting = x + self._projection.false_easting
        h = self._STEP

        def derivative(dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
            weights = ((-2, 1.0), (-1, -8.0), (1, 8.0), (2, -1.0))
            d_lon = np.zeros_like(x)
            d_lat = np.zeros_like(x)
            for step, weight in weights:
                lon, lat = self._to_lonlat.transform(easting + step * dx * h, y + step * dy * h)
                d_lon += weight * np.radians(lon)
                d_lat += weight * np.radians(lat)
            return d_lon / (12 * h), d_lat / (12 * h)

        dlon_dx, dlat_dx = derivative(1.0, 0.0)
        dlon_dy, dlat_dy = derivative(0.0, 1.0)
        _, lat = self._to_lonlat.transform(easting, y)
        phi = np.radians(lat)
        w2 = 1.0 - self._e2 * np.sin(phi) ** 2
        meridian = self._a * (1.0 - self._e2) / w2**1.5
        prime_vertical = self._a / np.sqrt(w2)
        jacobian = np.abs(dlat_dx * dlon_dy - dlat_dy * dlon_dx)
        return meridian * prime_vertical * np.cos(phi) * jacobian


def _split_by_zone(
    geoms: np.ndarray, crs: pyproj.CRS
) -> Iterator[tuple[np.ndarray, np.ndarray, TransverseMercator]]:
    """Transform features to the 3-degree Gauss–Krüger zone of their centre, zone by zone.

    Edges straight in a projected `crs` are first cut into pieces of at most
    :data:`STRAIGHT_EDGE_STEP_M`, so that they stay (nearly) straight in that plane, not in
    the zone's; the vertices of a geographic `crs` are moved as they are.
    """
    geographic, ellipsoid = _geographic(crs)
    to_lonlat = pyproj.Transformer.from_crs(crs, geographic, always_xy=True)
    if not crs.is_geographic:
        metres = linear_unit_metres(crs)
        perimeter_m = shapely.length(geoms) * metres
        beyond = ~np.isfinite(perimeter_m) | (perimeter_m > _MAX_PERIMETER_M)
        if beyond.any():
            # Cutting such edges into 10 m pieces would exhaust the memory.
            raise CRSError(
                f"{int(beyond.sum())} feature(s) have coordinates no ellipsoid holds (a "
                f"perimeter of {np.nanmax(np.where(beyond, perimeter_m, 0.0)):.3g} m, or not a "
                "number): the file is damaged, or its CRS is not the one its coordinates are in"
            )
        geoms = shapely.segmentize(geoms, STRAIGHT_EDGE_STEP_M / metres)
    lonlat = shapely.transform(geoms, _transform_with(to_lonlat))
    bounds = shapely.bounds(lonlat)
    zones = np.round((bounds[:, 0] + bounds[:, 2]) / 6.0).astype(int)
    for zone in np.unique(zones):
        index = np.flatnonzero(zones == zone)
        zone_crs = pyproj.CRS.from_proj4(
            f"+proj=tmerc +lat_0=0 +lon_0={3 * zone} +k=1 +x_0=500000 +y_0=0 "
            f"+a={ellipsoid.semi_major_metre!r} +rf={ellipsoid.inverse_flattening!r} "
            "+units=m +no_defs"
        )
        to_zone = pyproj.Transformer.from_crs(geographic, zone_crs, always_xy=True)
        zone_geoms = shapely.transform(lonlat[index], _transform_with(to_zone))
        projection = TransverseMercator.from_crs(zone_crs)
        assert projection is not None
        yield index, zone_geoms, projection


#: PROJ's methods that map the ellipsoid to the plane with no change of area.
EQUAL_AREA_METHODS = frozenset(
    {"Albers Equal Area", "Lambert Azimuthal Equal Area", "Lambert Cylindrical Equal Area"}
)


def _is_equal_area(crs: pyproj.CRS) -> bool:
    """True for a projected CRS on an ellipsoid by an equal-area method."""
    operation = crs.coordinate_operation if crs.is_projected else None
    if operation is None or operation.method_name not in EQUAL_AREA_METHODS:
        return False
    ellipsoid = crs.ellipsoid
    return ellipsoid is not None and bool(ellipsoid.inverse_flattening)


def _transform_with(transformer: pyproj.Transformer) -> Callable[[np.ndarray], np.ndarray]:
    """A coordinate function for ``shapely.transform`` from a pyproj transformer."""

    def transform(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return transform


def _geographic(crs: pyproj.CRS) -> tuple[pyproj.CRS, Ellipsoid]:
    """The geographic CRS under `crs` and its ellipsoid."""
    geographic = crs.geodetic_crs
    ellipsoid = geographic.ellipsoid if geographic is not None else None
    if geographic is None or ellipsoid is None:
        raise CRSError(f"{crs_label(crs)} has no ellipsoid; cannot compute ellipsoidal area")
    if not ellipsoid.inverse_flattening:  # 0 for a sphere
        label = crs_label(crs) if crs.name != "unknown" else "the layer's CRS"
        raise CRSError(
            f"{label} is defined on a sphere (radius {ellipsoid.semi_major_metre:,.0f} "
            "m), not an ellipsoid, so no official (ellipsoidal) area exists in it; give the "
            "data its real CRS (CGCS2000: EPSG:4490 or a Gauss-Kruger zone such as EPSG:4527)"
        )
    return geographic, ellipsoid


def check_method(method: object, *, densify_m: float | None = None) -> str:
    """`method` if it is an area method, and `densify_m` fits it; else an OptionError.

    Parameters
    ----------
    method : object
        The area method given (one of :data:`METHODS`).
    densify_m : float, optional
        The densification given, which only ``survey`` takes.

    Returns
    -------
    str
        `method`.

    Raises
    ------
    OptionError
        An unknown method (with the nearest known one), or `densify_m` with another method
        than ``survey``.

    Examples
    --------
    >>> check_method("ellipsoid")
    Traceback (most recent call last):
    ...
    geozones.errors.OptionError: unknown area method 'ellipsoid' (did you mean 'ellipsoidal'?); \
use one of: ellipsoidal, planar, geodesic, survey
    """
    checked_choice(method, METHODS, what="area method")
    if densify_m is not None and method != "survey":
        raise OptionError(f"densify_m applies to method='survey' only, not to method={method!r}")
    return str(method)


def require_crs(data: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """The CRS of `data`; :class:`~geozones.errors.MissingCRSError` if it has none."""
    checked_layer(data, name="the layer", series=True)
    crs = data.crs
    if crs is None:
        raise MissingCRSError(
            "the layer has no CRS, so its area cannot be measured; read it with "
            "geozones.read_layer(path, crs='infer') or set one with .set_crs('EPSG:…')"
        )
    return pyproj.CRS.from_user_input(crs)


def require_planar_crs(crs: pyproj.CRS) -> None:
    """Raise :class:`~geozones.errors.CRSError` if planar area in `crs` is not area.

    A geographic CRS measures square degrees; a (non-transverse) Mercator inflates area.
    """
    if crs.is_geographic:
        raise CRSError(
            f"planar area in {crs_label(crs)} would be in square degrees; use "
            "method='ellipsoidal', or reproject to a CGCS2000 Gauss-Kruger zone first"
        )
    if is_mercator(crs):
        method = crs.coordinate_operation.method_name if crs.coordinate_operation else "Mercator"
        raise CRSError(
            f"planar area in {crs_label(crs)} ({method}) is inflated by "
            f"1/cos²(latitude), about {1 / math.cos(math.radians(30)) ** 2:.2f}× at 30°N; use "
            "method='ellipsoidal', or reproject to a CGCS2000 Gauss-Kruger zone first"
        )


def linear_unit_metres(crs: pyproj.CRS) -> float:
    """Metres per unit of `crs`'s first axis (1.0 when it does not say)."""
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return float(factor)

"""The rings of a polygon array as flat coordinates, and one fused pass over their edges.

The pass computes, per ring and in one sweep over the coordinates (a compiled loop, see
:mod:`geozones.measure.kernels`, on spans of whole rings in threads): the signed planar area, the
integral of the ellipsoidal correction of :mod:`geozones.measure.area` along every straight edge,
the ring's bounds, and whether the ring is certainly simple.

The simplicity test is a cheap, exact sufficient condition: a ring is simple if, seen from a
point ``c``, every edge turns strictly the same way around ``c`` and the ring winds around
``c`` exactly once (a star-shaped ring). Each orientation is decided with Shewchuk's error bound
for ``orient2d``, so a ring is declared simple only when that is certain; rings the test cannot
decide (non-star-shaped, degenerate, coordinates too far apart to shift exactly) are left to
GEOS. The point ``c`` is the mean of the ring's vertices; the shift ``x - c`` is exact (Sterbenz)
when all coordinates of the ring lie within a factor of 1.5 of each other, which is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import shapely

from geozones.parallel import chunk_cuts, for_spans, map_blocks

T = TypeVar("T")

# Vertices per unit of work handed to a thread.
_CHUNK = 1 << 16
#: Edges shorter than this (metres) are integrated on two Gauss–Legendre nodes, see
#: :class:`EdgeSeries`.
SHORT_EDGE_M = 250.0


@dataclass(frozen=True)
class RingLayout:
    """All ring coordinates of a polygon array, flat, with where each ring starts and belongs.

    Rings are in the order of the geometries, and of ``shapely.get_coordinates``: each
    polygon's exterior, then its holes; a multipolygon's polygons in turn.
    """

    coords: np.ndarray
    ring_starts: np.ndarray
    ring_lengths: np.ndarray
    ring_geometry: np.ndarray
    ring_is_hole: np.ndarray
    #: Per ring: it is the whole of its geometry, a Polygon without holes.
    ring_single: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray) -> RingLayout:
        """The layout of non-empty polygons and multipolygons.

        A Polygon without holes is one ring, all its coordinates. The coordinates of the
        others are split where each ring comes back to its first vertex, into as many rings
        as GEOS counts holes (and parts): no ring is copied out of GEOS. A ring that comes
        back to its first vertex before its end is not simple, so its geometry is invalid
        whatever the split; where the split does not give GEOS's count of rings (such a
        ring, or one that ends on a repeated vertex), GEOS's rings are used.
        """
        from geozones.measure import kernels

        # The per-geometry counts run in threads (GEOS releases the GIL) while this thread
        # reads the coordinates (which holds it).
        counted = _in_background(_count_rings, geoms)
        coords = shapely.get_coordinates(geoms)
        blocks = counted()
        simple = np.concatenate([block[0] for block in blocks])
        lengths = np.concatenate([block[1] for block in blocks]).astype(np.int64)
        n = len(geoms)
        span_starts = np.cumsum(lengths) - lengths
        if simple.all():
            return cls(
                coords=coords,
                ring_starts=span_starts,
                ring_lengths=lengths,
                ring_geometry=np.arange(n),
                ring_is_hole=np.zeros(n, dtype=bool),
                ring_single=np.ones(n, dtype=bool),
            )
        other = np.flatnonzero(~simple)
        other_rings, is_hole = _counted_rings(geoms[other])
        first_ring = np.concatenate([[0], np.cumsum(other_rings)]).astype(np.int64)
        split = np.zeros(int(first_ring[-1]), dtype=np.int64)
        if not kernels.ring_lengths_by_closure(
            coords, span_starts[other], span_starts[other] + lengths[other], first_ring, split
        ):
            split, other_rings, is_hole = _geos_rings(geoms[other])
        per_geometry = np.ones(n, dtype=np.int64)
        per_geometry[other] = other_rings
        first = np.cumsum(per_geometry) - per_geometry
        # The rings of each other geometry are consecutive, in order.
        owner = np.repeat(np.arange(len(other)), other_rings)
        rank = np.arange(len(owner)) - (np.cumsum(other_rings) - other_rings)[owner]
        at = first[other][owner] + rank
        total = int(per_geometry.sum())
        ring_lengths = np.empty(total, dtype=np.int64)
        ring_is_hole = np.zeros(total, dtype=bool)
        ring_single = np.zeros(total, dtype=bool)
        ring_lengths[first[simple]] = lengths[simple]
        ring_single[first[simple]] = True
        ring_lengths[at] = split
        ring_is_hole[at] = is_hole
        if ring_lengths.sum() != len(coords):  # pragma: no cover - GEOS's order, checked
            raise AssertionError("rings and coordinates disagree")
        return cls(
            coords=coords,
            ring_starts=np.cumsum(ring_lengths) - ring_lengths,
            ring_lengths=ring_lengths,
            ring_geometry=np.repeat(np.arange(n), per_geometry),
            ring_is_hole=ring_is_hole,
            ring_single=ring_single,
        )

    @property
    def ring_ends(self) -> np.ndarray:
        """Index of the last (closing) coordinate of each ring."""
        return self.ring_starts + self.ring_lengths - 1


def _in_background(func: Callable[[np.ndarray], T], items: np.ndarray) -> Callable[[], list[T]]:
    """Start :func:`~geozones.parallel.map_blocks` in a thread; call the result to wait."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(map_blocks, func, items)

    def result() -> list[T]:
        try:
            return future.result()
        finally:
            pool.shutdown()

    return result


def _count_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which geometries are polygons without holes, and how many coordinates each has."""
    simple = (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (
        shapely.get_num_interior_rings(geoms) == 0
    )
    return simple, shapely.get_num_coordinates(geoms)


def _counted_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per geometry how many rings it has; per ring whether it is a hole (GEOS's counts).

    Asks GEOS for the parts of multipolygons and the number of holes of each polygon, not
    for the rings themselves. An empty part has no ring.
    """
    multi = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON
    part_owner = np.arange(len(geoms))
    part_rings = 1 + shapely.get_num_interior_rings(geoms).astype(np.int64)
    if multi.any():
        parts, owner = shapely.get_parts(geoms[multi], return_index=True)
        polygons = np.flatnonzero(~multi)
        part_owner = np.concatenate([polygons, np.flatnonzero(multi)[owner]])
        part_rings = np.concatenate(
            [
                part_rings[polygons],
                (1 + shapely.get_num_interior_rings(parts)) * ~shapely.is_empty(parts),
            ]
        ).astype(np.int64)
        order = np.argsort(part_owner, kind="stable")
        part_owner, part_rings = part_owner[order], part_rings[order]
    is_hole = np.ones(int(part_rings.sum()), dtype=bool)
    is_hole[(np.cumsum(part_rings) - part_rings)[part_rings > 0]] = False
    return np.bincount(part_owner, weights=part_rings, minlength=len(geoms)).astype(
        np.int64
    ), is_hole


def _geos_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ring its length; per geometry its number of rings; per ring whether a hole."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    per_geometry = np.bincount(part_owner[ring_part], minlength=len(geoms)).astype(np.int64)
    is_hole = np.diff(ring_part, prepend=-1) == 0
    return shapely.get_num_coordinates(rings).astype(np.int64), per_geometry, is_hole


@dataclass(frozen=True)
class EdgeSeries:
    """The ellipsoidal area correction, ``G = F - x / k0²``, as polynomials per band.

    ``G(x, y) = Σ_k x^(2k+3) · P[b, k](v)`` with ``x`` the easting minus `false_easting`,
    ``b`` the band of northing that holds ``y`` (``floor(y / band_height) - first_band``) and
    ``v = y · v_scale + v_shift[b]``; each ``P[b, k]`` is a polynomial in ``v`` whose
    coefficients, in increasing powers and zero-padded, are ``terms[b, k]``. The pass adds
    ``∫ G dy`` along every straight edge, cut where it crosses a band boundary, by
    Gauss–Legendre quadrature on `nodes` (in [0, 1]) and `weights`, enough of them to be
    exact for the polynomial. Edges shorter than :data:`SHORT_EDGE_M` take two nodes
    instead: their error there is ``g⁗/4320`` (``g`` the integrand along the edge), below
    1e-17 of the edge's term, which is below the rounding of the result. With ``bow = 1``
    it adds, per edge, the sliver between the
    straight edge and the geodesic (for edges that are geodesics, from geographic CRSs).
    :class:`geozones.measure.area._AreaScale` says where the terms come from.
    """

    false_easting: float
    #: ``(bands, terms, degree + 1)``.
    terms: np.ndarray
    #: ``(bands, terms)``: how many coefficients of each row are not padding.
    term_lengths: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    v_scale: float
    #: ``(bands,)``.
    v_shift: np.ndarray
    first_band: int
    inverse_band_height: float
    bow: float = 0.0


@dataclass(frozen=True)
class RingSums:
    """Per ring: twice the signed planar area, the summed edge integral, certainly simple."""

    double_area: np.ndarray
    integral: np.ndarray
    simple: np.ndarray
    #: ``(n, 4)``: ``xmin, ymin, xmax, ymax`` of each ring's coordinates.
    bounds: np.ndarray


def ring_sums(layout: RingLayout, series: EdgeSeries | None) -> RingSums:
    """One pass over every edge: planar area, `series` summed per ring, simplicity.

    Parameters
    ----------
    layout : RingLayout
        The rings.
    series : EdgeSeries or None
        The correction to integrate along the edges; None sums nothing (``integral`` is
        zero).

    Returns
    -------
    RingSums
        Per-ring sums. ``simple`` is True only where the ring is certainly simple (closed,
        star-shaped around its vertex mean, no repeated vertex); False means undecided.
    """
    n_rings = len(layout.ring_starts)
    double_area = np.zeros(n_rings)
    integral = np.zeros(n_rings)
    simple = np.zeros(n_rings, dtype=np.bool_)
    ring_bounds = np.full((n_rings, 4), np.nan)
    if n_rings == 0:
        return RingSums(double_area, integral, simple, ring_bounds)
    from geozones.measure import kernels

    coords = np.ascontiguousarray(layout.coords, dtype=np.float64)
    starts = np.ascontiguousarray(layout.ring_starts, dtype=np.int64)
    lengths = np.ascontiguousarray(layout.ring_lengths, dtype=np.int64)
    if series is None:
        series = EdgeSeries(
            0.0,
            np.zeros((1, 0, 1)),
            np.zeros((1, 0), dtype=np.int64),
            np.zeros(0),
            np.zeros(0),
            0.0,
            np.zeros(1),
            0,
            0.0,
        )
    terms = np.ascontiguousarray(series.terms, dtype=np.float64)
    term_lengths = np.ascontiguousarray(series.term_lengths, dtype=np.int64)
    short_nodes = 0.5 + 0.5 * np.array([-1.0, 1.0]) / np.sqrt(3.0)
    short_weights = np.array([0.5, 0.5])
    nodes = np.ascontiguousarray(series.nodes, dtype=np.float64)
    weights = np.ascontiguousarray(series.weights, dtype=np.float64)
    v_shift = np.ascontiguousarray(series.v_shift, dtype=np.float64)
    # Spans of whole rings of about _CHUNK vertices each, spread over the threads.
    cuts = chunk_cuts(starts, len(coords), _CHUNK)

    def span(bounds: tuple[int, int]) -> None:
        kernels.ring_kernel(
            coords,
            starts,
            lengths,
            int(cuts[bounds[0]]),
            int(cuts[bounds[1]]),
            float(series.false_easting),
            terms,
            term_lengths,
            nodes,
            weights,
            short_nodes,
            short_weights,
            SHORT_EDGE_M**2,
            float(series.v_scale),
            v_shift,
            int(series.first_band),
            float(series.inverse_band_height),
            float(series.bow),
            double_area,
            integral,
            simple,
            ring_bounds,
        )

    for_spans(span, len(cuts) - 1, min_span=1)
    return RingSums(double_area, integral, simple, ring_bounds)

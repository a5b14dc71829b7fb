"""One fused pass over the edges of a polygon array's rings (:mod:`geozones.io.rings`).

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

from dataclasses import dataclass

import numpy as np

from geozones.io.rings import PolygonRings, polygon_rings
from geozones.parallel import chunk_cuts, for_spans

# Vertices per unit of work handed to a thread.
_CHUNK = 1 << 16
#: Edges shorter than this (metres) are integrated on two Gauss–Legendre nodes, see
#: :class:`EdgeSeries`.
SHORT_EDGE_M = 250.0


class RingLayout(PolygonRings):
    """The rings a ring pass walks (:class:`~geozones.io.rings.PolygonRings`), from :meth:`of`."""

    __slots__ = ()

    @classmethod
    def of(cls, geoms: np.ndarray) -> RingLayout:
        """The rings of non-empty polygons (:func:`~geozones.io.rings.polygon_rings`)."""
        return cls(*polygon_rings(geoms))


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

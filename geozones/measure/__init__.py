"""Measuring polygons: area (planar, ellipsoidal, geodesic, survey), xy tolerance, thin parts.

:class:`RingLayout` and :func:`ring_sums` are the ring pass the area methods share, public for
the raster layer and the workers' preload; the compiled kernels are in ``geozones.measure.kernels``.
"""

from geozones.measure._rings import RingLayout, ring_sums

__all__ = ["RingLayout", "ring_sums"]

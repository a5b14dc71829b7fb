"""Ready a process for zone tasks: import what they need and load the compiled area pass.

Importing this module imports the tasks of :mod:`geozones.scale.streaming` and everything they
use, and loads the compiled ring pass and validity proof from numba's cache, so that the first
county a process runs does not pay for it (about a second). Dask workers import it at start-up with
``dask worker --preload geozones.scale.preload`` (or
``LocalCluster(..., preload=["geozones.scale.preload"])``): see ``docs/scale-out.md``.
"""

from __future__ import annotations

import numpy as np

import geozones.scale.streaming  # noqa: F401  (the tasks and everything they import)
from geozones.io.proof import certainly_valid_rings
from geozones.measure import RingLayout, ring_sums


def _load_ring_pass() -> None:
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    layout = RingLayout(
        coords=square,
        ring_starts=np.array([0]),
        ring_lengths=np.array([5]),
        ring_geometry=np.array([0]),
        ring_is_hole=np.array([False]),
        ring_single=np.array([True]),
    )
    ring_sums(layout, None)
    certainly_valid_rings(square, np.array([0]), np.array([5]), np.array([False]), np.array([0]), 1)


_load_ring_pass()

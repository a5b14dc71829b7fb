"""The compiled loop of :mod:`geozones.io.rings` (numba, imported only when it first runs)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def ring_lengths_by_closure(
    coords: np.ndarray,
    span_starts: np.ndarray,
    span_stops: np.ndarray,
    first_ring: np.ndarray,
    lengths: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Split each span into its rings where each ring comes back to its first vertex.

    Span ``g`` (coordinates ``span_starts[g]:span_stops[g]``) holds the rings
    ``first_ring[g]:first_ring[g + 1]``, one after the other; their lengths go to `lengths`.
    A ring ends at the first repeat of its first vertex at least three places on. False
    where the spans do not split into exactly that many rings: a ring that comes back to
    its first vertex before its end (not a simple ring) or ends on a repeated vertex.
    """
    for g in range(len(span_starts)):
        at = span_starts[g]
        stop = span_stops[g]
        for r in range(first_ring[g], first_ring[g + 1]):
            x = coords[at, 0]
            y = coords[at, 1]
            end = at + 3
            while end < stop and not (coords[end, 0] == x and coords[end, 1] == y):
                end += 1
            if end >= stop:
                return False
            lengths[r] = end - at + 1
            at = end + 1
        if at != stop:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def closes_only_at_end(
    coords: np.ndarray, span_starts: np.ndarray, span_lengths: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Whether each span's first vertex comes back only as its last (one ring, closed).

    ``out[g]`` is True where span ``g`` (``span_lengths[g]`` coordinates from
    ``span_starts[g]``) ends on its first vertex and does not reach it anywhere from three
    places on before that, as :func:`ring_lengths_by_closure` counts a ring's end.
    """
    for g in range(len(span_starts)):
        out[g] = False
        if span_lengths[g] < 4:
            continue
        at = span_starts[g]
        last = at + span_lengths[g] - 1
        x = coords[at, 0]
        y = coords[at, 1]
        closed = coords[last, 0] == x and coords[last, 1] == y
        i = at + 3
        while closed and i < last:
            if coords[i, 0] == x and coords[i, 1] == y:
                closed = False
            i += 1
        out[g] = closed

"""Pairs of polygons within a distance of each other: candidates on a grid, cheap exact tests.

:func:`candidate_pairs` finds every pair of bounding boxes that come within a distance, with a
uniform grid instead of an STR-tree of box geometries (no GEOS objects are made).
:func:`classify_pairs` then settles most candidates from the coordinates alone, with tests that
are certain or say nothing:

* *far*: the two vertex sets are separated, along the direction of an edge of one polygon or
  its normal, by more than the distance plus a safety margin (a polygon lies in the convex hull
  of its vertices, so the polygons are at least that far apart);
* *near*: a vertex of one polygon is closer than the distance minus the margin to a vertex,
  or to an edge, of the other (vertices and edges are points of the polygons).

Pairs neither test settles are left to GEOS (``shapely.dwithin``), so the pairs found are
exactly those ``dwithin`` finds.
"""

from __future__ import annotations

import numpy as np

from geozones.parallel import for_spans

#: Codes of :func:`classify_pairs`.
FAR, NEAR, UNDECIDED = 0, 1, 2


def classify_pairs(
    coords: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    distance: float,
    out: np.ndarray,
) -> None:
    """Per pair ``(left[p], right[p])``: FAR, NEAR or UNDECIDED into ``out[p]``.

    From the vertices ``coords[first[g]:stop[g]]`` of each geometry ``g``; each span must be
    one closed ring (a polygon without holes). A geometry with ``first[g] < 0`` has no usable
    coordinates: its pairs are UNDECIDED. Releases the GIL: call it from threads.
    """
    from geozones.measure import kernels

    kernels.classify_pairs(coords, first, stop, left, right, distance, out)


def candidate_pairs(
    bounds: np.ndarray, margin: float, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` whose boxes, widened by `margin`, meet and are at most `reach` apart.

    Parameters
    ----------
    bounds : numpy.ndarray
        ``(n, 4)`` boxes ``xmin, ymin, xmax, ymax``.
    margin : float
        Each box is widened by this much on every side before the boxes are matched.
    reach : float
        Pairs whose (unwidened) boxes are farther apart than this are dropped.

    Returns
    -------
    tuple of numpy.ndarray
        ``i`` and ``j`` (int64), in the grid's order.
    """
    n = len(bounds)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    bounds = np.ascontiguousarray(bounds, dtype=np.float64)
    finite = np.isfinite(bounds).all(axis=1)
    if not finite.all():
        raise ValueError("bounds must be finite")
    width = bounds[:, 2] - bounds[:, 0] + 2 * margin
    height = bounds[:, 3] - bounds[:, 1] + 2 * margin
    # Cells about twice the typical box: few cells per box, few boxes per cell.
    cell = max(float(np.median(np.maximum(width, height))) * 2.0, 1e-9)
    x0 = float(bounds[:, 0].min()) - margin
    y0 = float(bounds[:, 1].min()) - margin
    columns = int((float(bounds[:, 2].max()) + margin - x0) // cell) + 1
    rows = int((float(bounds[:, 3].max()) + margin - y0) // cell) + 1
    while columns * rows > 4 * n + 1024:
        cell *= 2.0
        columns = int((float(bounds[:, 2].max()) + margin - x0) // cell) + 1
        rows = int((float(bounds[:, 3].max()) + margin - y0) // cell) + 1
    from geozones.measure import kernels

    start, members = kernels.grid(bounds, margin, x0, y0, cell, columns, rows)
    # The boxes of each cell, contiguous: the pair loops read memory in order.
    boxes = bounds[members]
    # Spans of cells with about equal numbers of entries, counted then written in threads.
    spans = max(1, min(64, len(members) // 50_000))
    cuts = np.searchsorted(start, np.linspace(0, len(members), spans + 1)).astype(np.int64)
    cuts[0], cuts[-1] = 0, columns * rows
    counts = np.zeros(spans, dtype=np.int64)
    nothing = np.zeros(0, dtype=np.int64)
    grid = (margin, reach, x0, y0, cell, columns, rows)

    def count(span: tuple[int, int]) -> None:
        for k in range(*span):
            counts[k] = kernels.cell_pairs(
                start, members, boxes, *grid, int(cuts[k]), int(cuts[k + 1]), nothing, nothing, 0
            )

    for_spans(count, spans, min_span=1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    left = np.empty(int(offsets[-1]), dtype=np.int64)
    right = np.empty(int(offsets[-1]), dtype=np.int64)

    def write(span: tuple[int, int]) -> None:
        for k in range(*span):
            kernels.cell_pairs(
                start,
                members,
                boxes,
                *grid,
                int(cuts[k]),
                int(cuts[k + 1]),
                left,
                right,
                int(offsets[k]),
            )

    for_spans(write, spans, min_span=1)
    return left, right


def components(size: int, left: np.ndarray, right: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the graph on ``range(size)`` whose edges are the pairs.

    Returns the number of components and, for each node, the label of its component.
    """
    # scipy is imported here: it costs a fifth of a second, and most commands never link pairs.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(size, size))
    count, labels = connected_components(graph, directed=False)
    return int(count), labels

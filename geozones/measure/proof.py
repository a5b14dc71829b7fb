"""Proofs that polygons are valid, exact and much cheaper than GEOS's validity test.

The ring pass of :mod:`geozones.measure._rings` proves most parcels valid (star-shaped rings),
but not large red-line polygons, polygons with holes or multipolygons. GEOS's ``is_valid``
builds a topology graph of every ring and costs seconds per million vertices: on a red-line
layer it takes several times as long as reading the layer.

:func:`certainly_valid` proves the rest with a test that is certain or says nothing, in a
compiled loop (:func:`geozones.measure.kernels.valid_polygons`), per geometry:

1. every ring is closed, has finite coordinates and at least three edges of non-zero length;
2. no two edges of any of its rings have a point in common, except consecutive edges of a
   ring at their shared vertex (and those do not double back along each other). Edges are
   paired only within the cells of a uniform grid of about one cell per edge, so the work
   is linear in the vertices for rings of edges of similar lengths;
3. the rings therefore do not meet, and each lies wholly inside or outside each other: which
   rings hold a vertex of each ring is counted along a ray over the grid. Each hole lies in
   its own shell and in no other hole of its polygon; each shell lies outside every other
   polygon of the geometry, or inside one of its holes.

Every orientation is decided with Shewchuk's error bound for ``orient2d``: a geometry is
declared valid only when every step is certain. Rings that touch (a hole touching its shell
at a point is valid), collinear edges, crowded grid cells or a budget exceeded leave the
geometry undecided, and GEOS checks it.
"""

from __future__ import annotations

import numpy as np
import shapely

from geozones.parallel import for_spans

# Coordinates per unit of work handed to a thread.
_CHUNK = 1 << 16


def certainly_valid(geoms: np.ndarray) -> np.ndarray:
    """True where a polygon or multipolygon is certainly valid; False where undecided.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygons and multipolygons. Anything else (missing, empty, other types, empty
        parts) is undecided.

    Returns
    -------
    numpy.ndarray
        Booleans. True implies ``shapely.is_valid``; False says nothing (GEOS decides).
        Releases the GIL: the geometries are split over threads by their coordinates.

    Examples
    --------
    >>> from shapely import Polygon
    >>> square = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (2, 1), (2, 2)]])
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> certainly_valid(np.array([square, bowtie])).tolist()
    [True, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=np.bool_)
    usable = np.flatnonzero(
        np.isin(
            shapely.get_type_id(geoms),
            (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON),
        )
        & ~shapely.is_empty(geoms)
    )
    if len(usable) == 0:
        return out
    parts, part_owner = shapely.get_parts(geoms[usable], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    # A multipolygon with an empty polygon among its parts is left to GEOS.
    empty_part = np.bincount(ring_part, minlength=len(parts)) == 0
    ring_owner = part_owner[ring_part]
    lengths = shapely.get_num_coordinates(rings).astype(np.int64)
    coords = np.ascontiguousarray(shapely.get_coordinates(rings), dtype=np.float64)
    starts = np.cumsum(lengths) - lengths
    # The first ring of each polygon is its shell.
    is_hole = np.ones(len(rings), dtype=np.bool_)
    is_hole[0] = False
    is_hole[1:] = ring_part[1:] == ring_part[:-1]
    geometry_rings = np.searchsorted(ring_owner, np.arange(len(usable) + 1)).astype(np.int64)
    decided = np.zeros(len(usable), dtype=np.bool_)
    ring_part = ring_part.astype(np.int64)
    from geozones.measure import kernels

    # Spans of whole geometries of about _CHUNK coordinates each, spread over the threads.
    geometry_start = starts[np.minimum(geometry_rings[:-1], len(rings) - 1)]
    cuts = np.unique(
        np.concatenate(
            [
                np.searchsorted(geometry_start, np.arange(0, len(coords), _CHUNK)),
                [len(usable)],
            ]
        )
    )

    def span(bounds: tuple[int, int]) -> None:
        kernels.valid_polygons(
            coords,
            starts,
            lengths,
            ring_part,
            is_hole,
            geometry_rings,
            int(cuts[bounds[0]]),
            int(cuts[bounds[1]]),
            decided,
        )

    for_spans(span, len(cuts) - 1, min_span=1)
    if empty_part.any():
        decided[np.unique(part_owner[empty_part])] = False
    out[usable] = decided
    return out

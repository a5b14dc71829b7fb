"""The overlay kernel: every overlap of two polygon arrays, fast on hard data and on every core.

:func:`find_conflicts <geozones.find_conflicts>`, :func:`resolve_conflicts
<geozones.resolve_conflicts>`, :func:`overlap_count <geozones.overlap_count>`, coverage, the
site check and the streamed runs all find their overlaps here. Per pair of arrays:

1. polygons with more than `max_vertices` coordinates (:data:`MAX_VERTICES`, 512) are cut
   into pieces on a quadtree of their bounding box (as PostGIS ``ST_Subdivide`` does), so
   that a parcel is tested and intersected against the few hundred vertices of the red line
   near it, not against all 100,000 (:func:`subdivide`); only on the side with the larger
   features, only when the other side's are much smaller (:data:`CUT_WHEN_FINER`), and only
   polygons with many candidates other than small polygons (:data:`CUT_FROM_CANDIDATES`),
   where the cuts pay;
2. an STR-tree on the other side's features is queried with the pieces; each pair is
   settled from the coordinates of the two where their boxes meet
   (:mod:`geozones.analysis.clip`: apart, one inside the other, or crossing; the pairs'
   coordinates are read in chunks, :data:`CHUNK_COORDINATES`), and GEOS's ``intersects``
   settles the pairs left in doubt (prepared for pieces with many candidates);
3. a piece covered whole by the other piece is its own overlap: no overlay, on either side;
4. only the pairs whose boundaries cross are intersected: those with a small polygon are
   clipped from their coordinates (and told thin or not from them: a phantom can stay as
   rings, not built, for callers that only count and measure phantoms), GEOS intersects the
   rest and any the clip is unsure of;
5. the pieces of one pair of polygons are put together again (pairwise unions, all pairs at
   once), so the result is one overlap per pair of polygons, as without subdivision.

The cuts of step 1, the overlays of step 4 and the unions of step 5 run in threads (GEOS
releases the GIL), in batches of about equal cost (coordinates), costliest first
(:func:`geozones.parallel.map_by_cost`); ``threads`` or the ``GEOZONES_THREADS`` environment
variable sets how many. The predicates of steps 2 and 3 run in the calling thread: GEOS builds
a prepared polygon's indexes on first use, and two threads using one prepared polygon at once
crash the process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import shapely

from geozones.choices import checked_non_negative
from geozones.io.rings import PolygonRings
from geozones.io.validity import (
    clip_to_rects,
    polygonal_parts,
    trimmed_for_intersection,
    valid_mask,
)
from geozones.measure.tolerance import STRIP_SHARE, is_thin
from geozones.parallel import (
    chunk_cuts,
    for_spans,
    map_by_cost,
    map_groups,
    query_pairs,
    worker_count,
)

#: Polygons with more coordinates than this are cut into pieces before pairing, by default
#: (0 cuts nothing), with :data:`CUT_WHEN_FINER` and :data:`CUT_FROM_CANDIDATES`. It halved
#: the CPU time where a 188,000-vertex red-line polygon lies over 4,000 parcels, and changed
#: nothing measurable elsewhere, on ``bench_hard.py`` (docs/performance.md).
MAX_VERTICES = 512
#: Polygons are cut only when their side has this many times the vertices per feature of the
#: other side (the tree's).
CUT_WHEN_FINER = 4.0
#: A large polygon is cut only when the tree holds this many candidates for it (features whose
#: boxes meet its box): cutting costs about as much as a validity check of the polygon, and
#: with 100 candidates the cuts of the medium 90 % setting of bench_hard.py cost 1.6× the
#: CPU time of the plain path (docs/performance.md).
CUT_FROM_CANDIDATES = 1000
#: Candidates from which a piece is prepared before it is tested against them.
PREPARE_FROM = 8


class Overlaps(NamedTuple):
    """Every overlap of two polygon arrays, each classed genuine or phantom.

    Returned by :func:`classified_overlaps`; one entry per overlapping pair.
    """

    #: Positions of the two polygons of each overlap.
    left_index: np.ndarray
    right_index: np.ndarray
    #: The overlaps, polygonal, each with area.
    pieces: np.ndarray
    #: True where every part of the overlap is thinner than the tolerance.
    phantom: np.ndarray
    #: With ``build_phantoms=False``: the rings of the phantoms that were clipped from the
    #: coordinates and not built (their entry of `pieces` is None); ``ring_geometry`` is the
    #: overlap's position. :func:`built_pieces` builds them.
    unbuilt: PolygonRings | None = None
    #: With ``measure_rings``: the area it gave each overlap clipped from the coordinates
    #: (a phantom left unbuilt, whose rings were then let go, or a piece built from them);
    #: NaN elsewhere.
    measured_area: np.ndarray | None = None


class PolygonFacts:
    """What :func:`classified_overlaps` finds of an array of polygons, kept for the next call.

    :func:`geozones.find_conflicts` pairs each layer with itself and with every other: the
    farmland's coordinate counts, shapes and STR-tree were found three times over (0.08 s
    each for 200,000 parcels, in one thread). One instance per run holds them per array,
    and the arrays themselves, for as long as it lives; arrays are told apart by identity,
    so they must not be changed in place meanwhile.

    Examples
    --------
    >>> from shapely import box
    >>> parcels = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)])
    >>> facts = PolygonFacts()
    >>> facts.tree(parcels) is facts.tree(parcels)
    True
    >>> facts.count(parcels).tolist()
    [5, 5]
    """

    def __init__(self) -> None:
        self._held: dict[int, _ArrayFacts] = {}

    def _facts(self, geoms: np.ndarray) -> _ArrayFacts:
        held = self._held.get(id(geoms))
        if held is None or held.geoms is not geoms:
            held = self._held[id(geoms)] = _ArrayFacts(geoms)
        return held

    def count(self, geoms: np.ndarray) -> np.ndarray:
        """Coordinates of each geometry of `geoms`."""
        facts = self._facts(geoms)
        if facts.count is None:
            facts.count = shapely.get_num_coordinates(geoms)
        return facts.count

    def shapes(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_shapes` of `geoms`: which are small polygons, and which to clip."""
        facts = self._facts(geoms)
        if facts.shapes is None:
            facts.shapes = _shapes(geoms, self.count(geoms))
        return facts.shapes

    def tree(self, geoms: np.ndarray) -> shapely.STRtree:
        """An STR-tree of `geoms`."""
        facts = self._facts(geoms)
        if facts.tree is None:
            facts.tree = shapely.STRtree(geoms)
        return facts.tree


@dataclass
class _ArrayFacts:
    """What :class:`PolygonFacts` holds of one array (the array itself, to keep its id)."""

    geoms: np.ndarray
    count: np.ndarray | None = None
    shapes: tuple[np.ndarray, np.ndarray] | None = None
    tree: shapely.STRtree | None = None


def subdivide(
    geoms: np.ndarray, max_vertices: int = 512, *, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons with more than `max_vertices` coordinates into pieces, on a quadtree.

    Each such polygon is cut along the middle of the longer side of its bounding box, and
    the halves again, until every piece has at most `max_vertices` coordinates (or its box
    is a millionth of the polygon's). The pieces of a polygon cover it exactly and meet only
    along the cut lines, so the areas of the pieces add up to the polygon's.

    The cuts are GEOS rectangle clips (``shapely.clip_by_rect``), in time linear in the
    coordinates: a cut of a 190,000-vertex polygon takes milliseconds, where an overlay with
    a box took over a minute. A clip of a valid polygon can be invalid where its boundary
    runs along the cut line (GEOS does not promise valid output); the final pieces (few
    coordinates each, so cheap to check) that are invalid are repaired with
    ``shapely.make_valid``, polygonal parts kept. The pieces in between are not checked (that
    would cost a validity check of the huge polygon): a clip works on the rings' lines, and
    a flaw it makes along one cut line is repaired in the final piece that holds it.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons.
    max_vertices : int, default 512
        0 cuts nothing.
    threads : int, optional
        Threads for the cuts (``GEOZONES_THREADS``, else the CPU count, when omitted).

    Returns
    -------
    owner : numpy.ndarray of int
        Position in `geoms` of each piece, ascending.
    pieces : numpy.ndarray of shapely geometries
        The pieces; polygons with few enough coordinates are their own single piece.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import Point
    >>> disc = Point(0, 0).buffer(10, 256)
    >>> owner, pieces = subdivide(np.array([disc]), max_vertices=300)
    >>> owner.tolist(), abs(float(sum(p.area for p in pieces)) - disc.area) < 1e-9
    ([0, 0, 0, 0], True)
    """
    geoms = np.asarray(geoms, dtype=object)
    owner = np.arange(len(geoms))
    if max_vertices <= 0 or len(geoms) == 0:
        return owner, geoms
    big = shapely.get_num_coordinates(geoms) > max_vertices
    if not big.any():
        return owner, geoms
    done_owner, done = [owner[~big]], [geoms[~big]]
    todo_owner, todo = owner[big], geoms[big]
    smallest = 1e-6 * np.max(np.ptp(shapely.bounds(todo).reshape(-1, 2, 2), axis=1), axis=1)
    floor_of = np.zeros(len(geoms))
    floor_of[todo_owner] = smallest
    while len(todo):
        halves = _halves(todo, threads=threads)
        halves_owner = np.concatenate([todo_owner, todo_owner])
        keep = ~shapely.is_empty(halves)
        halves, halves_owner = halves[keep], halves_owner[keep]
        count = shapely.get_num_coordinates(halves)
        extent = np.max(np.ptp(shapely.bounds(halves).reshape(-1, 2, 2), axis=1), axis=1)
        again = (count > max_vertices) & (extent > floor_of[halves_owner])
        final = halves[~again]
        invalid = np.flatnonzero(~valid_mask(final))
        if len(invalid):
            final[invalid] = polygonal_parts(shapely.make_valid(final[invalid]))
        done_owner.append(halves_owner[~again])
        done.append(final)
        todo_owner, todo = halves_owner[again], halves[again]
    owner = np.concatenate(done_owner)
    pieces = np.concatenate(done)
    order = np.argsort(owner, kind="stable")
    return owner[order], pieces[order]


#: Where a polygon is cut across its box (share of the longer side): the middle, else these
#: when GEOS's rectangle clip fails on a degenerate case at the middle (a vertex on the line).
CUT_AT = (0.5, 0.5 + 1 / 97, 0.5 - 1 / 31, 0.5 + 1 / 11)


def _halves(geoms: np.ndarray, *, threads: int | None) -> np.ndarray:
    """Each polygon cut in two across the longer side of its box: first halves, then second.

    Cut by GEOS's rectangle clip, at the middle; where that fails (GEOS raises on a few
    degenerate cases, such as a ring collapsing to three points on the cut line), at the other
    places of :data:`CUT_AT`, and as a last resort by an overlay with the half box.
    """
    xmin, ymin, xmax, ymax = shapely.bounds(geoms).T
    wide = (xmax - xmin) >= (ymax - ymin)
    halves = np.full(2 * len(geoms), None, dtype=object)
    failed = np.arange(len(geoms))
    for share in CUT_AT:
        k = failed
        rects = _half_rects(xmin[k], ymin[k], xmax[k], ymax[k], wide[k], share)
        whole = np.concatenate([geoms[k], geoms[k]])
        cut = map_by_cost(
            partial(_clip_rows, whole, rects),
            np.arange(len(whole)),
            shapely.get_num_coordinates(whole),
            threads=threads,
        )
        first, second = cut[: len(k)], cut[len(k) :]
        ok = np.array([x is not None for x in first]) & np.array([x is not None for x in second])
        halves[k[ok]], halves[len(geoms) + k[ok]] = first[ok], second[ok]
        failed = k[~ok]
        if not len(failed):
            return halves
    k = failed
    rects = _half_rects(xmin[k], ymin[k], xmax[k], ymax[k], wide[k], CUT_AT[0])
    boxes = shapely.box(*rects.T)
    cut = polygonal_parts(shapely.intersection(np.concatenate([geoms[k], geoms[k]]), boxes))
    halves[k], halves[len(geoms) + k] = cut[: len(k)], cut[len(k) :]
    return halves


def _half_rects(
    xmin: np.ndarray,
    ymin: np.ndarray,
    xmax: np.ndarray,
    ymax: np.ndarray,
    wide: np.ndarray,
    share: float,
) -> np.ndarray:
    """``[x0, y0, x1, y1]`` of the first halves of the boxes, then of the second halves."""
    cut_x, cut_y = xmin + share * (xmax - xmin), ymin + share * (ymax - ymin)
    first = np.column_stack([xmin, ymin, np.where(wide, cut_x, xmax), np.where(wide, ymax, cut_y)])
    second = np.column_stack([np.where(wide, cut_x, xmin), np.where(wide, ymin, cut_y), xmax, ymax])
    return np.concatenate([first, second])


def _clip_rows(geoms: np.ndarray, rects: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return clip_to_rects(geoms[rows], rects[rows])


def classified_overlaps(
    left: np.ndarray,
    right: np.ndarray,
    *,
    same_layer: bool = False,
    width: float = 0.0,
    threads: int | None = None,
    max_vertices: int = MAX_VERTICES,
    build_phantoms: bool = True,
    facts: PolygonFacts | None = None,
    measure_rings: Callable[[PolygonRings, int], np.ndarray | None] | None = None,
) -> Overlaps:
    """Every piece where a polygon of `left` overlaps one of `right`, phantoms apart.

    An overlap whose every part is thinner than `width` (:func:`geozones.measure.tolerance.is_thin`)
    is a *phantom*: two boundaries closer than the tolerance are the same boundary. The
    other overlaps are genuine, and kept whole.

    Parameters
    ----------
    left, right : numpy.ndarray of shapely geometries
        Valid polygons (empty ones are ignored).
    same_layer : bool, default False
        `left` and `right` are the same array: report each unordered pair once, not a
        feature with itself.
    width : float, default 0
        The tolerance in the units of the coordinates; 0 makes no overlap a phantom.
    threads : int, optional
        Threads for the GEOS work; the ``GEOZONES_THREADS`` environment variable, else the
        CPU count, when omitted.
    max_vertices : int, default :data:`MAX_VERTICES` (512)
        Polygons with more coordinates are cut into pieces before pairing
        (:func:`subdivide`), on the side whose features have :data:`CUT_WHEN_FINER` times
        the vertices of the other side's; 0 cuts nothing. The result does not depend on it, beyond
        rounding: the cut lines add vertices, so a piece's area can move by the coordinates'
        resolution times its edge lengths (2e-6 m² at x ≈ 4e7 m on bench_hard.py).
    build_phantoms : bool, default True
        False leaves the phantoms clipped from the coordinates as rings (``unbuilt``), not
        geometries: a tessellation has two for every pair of neighbours, and callers that
        only count and measure them (:func:`geozones.measure.area.ellipsoidal_ring_area`)
        need no geometry.
    facts : PolygonFacts, optional
        Where to keep what is found of `left` and `right` (their STR-trees, ...) for other
        calls on the same arrays, and to find it if an earlier call did.
    measure_rings : callable, optional
        ``measure_rings(rings, count)`` gives the area of each of `count` polygons from
        their rings (as :func:`geozones.measure.area.ellipsoidal_ring_area` does), or None
        if it cannot. The overlaps clipped from the coordinates are measured by it as they
        are clipped, a chunk of pairs at a time (``measured_area``), and the phantoms left
        as rings are then let go: a tessellation's phantoms are not all held at once, and
        the pieces built need not be read back out of GEOS to be measured.

    Returns
    -------
    Overlaps
        Positions, pieces and phantom flags, ordered by the two positions. Touching
        polygons (no overlap of positive area) are not among them.

    Examples
    --------
    A genuine overlap, and neighbours whose shared edge was digitised 0.3 mm apart:

    >>> import numpy as np
    >>> from shapely import box
    >>> found = classified_overlaps(
    ...     np.array([box(0, 0, 2, 2), box(5, 0, 6, 1)]),
    ...     np.array([box(1, 1, 3, 3), box(5.9997, 0, 7, 1)]),
    ...     width=0.001,
    ... )
    >>> found.left_index.tolist(), found.phantom.tolist(), [round(p.area, 4) for p in found.pieces]
    ([0, 1], [False, True], [1.0, 0.0003])
    """
    checked_non_negative(width, name="width", unit="CRS units")
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    threads = worker_count(threads)
    facts = PolygonFacts() if facts is None else facts
    # The tree holds the side with fewer vertices per feature (parcels); the other side's
    # features (red-line polygons) are tested against the features whose boxes they meet.
    left_count = facts.count(left)
    right_count = left_count if same_layer else facts.count(right)
    swap = not same_layer and _per_feature(right_count) > _per_feature(left_count)
    queried, indexed = (right, left) if swap else (left, right)
    queried_count, indexed_count = (right_count, left_count) if swap else (left_count, right_count)
    small_indexed, fit_indexed = facts.shapes(indexed)
    # Only the queried side is cut, and only its polygons with many candidates in a tree of
    # much smaller features (a huge red-line polygon over farmland): cutting every large
    # polygon, or against features as large (red lines against urban polygons, within a
    # layer), cost more than it saved on bench_hard.py.
    tree = facts.tree(indexed)
    cut = np.zeros(len(queried), dtype=bool)
    finer = _per_feature(queried_count) >= CUT_WHEN_FINER * _per_feature(indexed_count)
    if max_vertices > 0 and finer and not same_layer:
        large = np.flatnonzero(queried_count > max_vertices)
        large_index, candidate = tree.query(queried[large])
        if SMALL_PAIR_VERTICES >= 4:
            # Pairs with small polygons are settled and clipped from the coordinates, a few
            # blocks of edges each: cutting the large polygon would not make them cheaper.
            large_index = large_index[~small_indexed[candidate]]
        met = np.bincount(large_index, minlength=len(large))
        cut[large[met >= CUT_FROM_CANDIDATES]] = True
    queried_owner, queried_pieces = np.arange(len(queried)), queried
    query_count = queried_count
    if cut.any():
        cut_owner, cut_pieces = subdivide(queried[cut], max_vertices, threads=threads)
        queried_owner = np.concatenate([np.flatnonzero(~cut), np.flatnonzero(cut)[cut_owner]])
        queried_pieces = np.concatenate([queried[~cut], cut_pieces])
        query_count = shapely.get_num_coordinates(queried_pieces)
    query_piece, tree_piece = query_pairs(tree, queried_pieces, threads=threads)
    if same_layer:  # nothing is cut: the pieces are the features
        keep = np.flatnonzero(query_piece < tree_piece)
        query_piece, tree_piece = query_piece[keep], tree_piece[keep]
    query_index = queried_owner[query_piece] if cut.any() else query_piece
    tree_index = tree_piece

    cost = query_count[query_piece] + indexed_count[tree_piece]
    a, b = queried_pieces[query_piece], indexed[tree_piece]
    # Only pieces tested many times are prepared: preparing costs more than a few tests.
    candidates = np.bincount(query_piece, minlength=len(queried_pieces))
    # Released after the tests: a prepared polygon holds GEOS indexes of its edges, and these
    # are the caller's geometries.
    prepared = queried_pieces[candidates >= PREPARE_FROM]
    prepared = prepared[~shapely.is_prepared(prepared)]
    shapely.prepare(prepared)

    def settle(k: np.ndarray) -> np.ndarray:
        """Per pair: 0 apart, 1 the tree piece inside, 2 the queried piece inside, 3 crossing."""
        code = shapely.intersects(a[k], b[k]).astype(np.int8) * 3
        meets = np.flatnonzero(code)
        # Covered whole either way: the box of one must hold the other's.
        box_a, box_b = shapely.bounds(a[k[meets]]), shapely.bounds(b[k[meets]])
        may_hold_b = (box_a[:, :2] <= box_b[:, :2]).all(axis=1) & (
            box_a[:, 2:] >= box_b[:, 2:]
        ).all(axis=1)
        may_hold_a = (box_b[:, :2] <= box_a[:, :2]).all(axis=1) & (
            box_b[:, 2:] >= box_a[:, 2:]
        ).all(axis=1)
        holds_b = np.zeros(len(meets), dtype=bool)
        holds_b[may_hold_b] = shapely.covers(a[k[meets[may_hold_b]]], b[k[meets[may_hold_b]]])
        holds_a = np.zeros(len(meets), dtype=bool)
        rest = may_hold_a & ~holds_b
        holds_a[rest] = shapely.covers(b[k[meets[rest]]], a[k[meets[rest]]])
        code[meets[holds_b]] = 1
        code[meets[holds_a]] = 2
        return code

    # Pairs are mostly settled, and those crossing clipped, from their coordinates; GEOS
    # tests the rest. A phantom can stay rings unless it is one of several pieces of a pair
    # (of a cut polygon).
    if same_layer:
        small_queried, fit_queried = small_indexed, fit_indexed
    elif queried_pieces is queried:
        small_queried, fit_queried = facts.shapes(queried)
    else:
        small_queried, fit_queried = _shapes(queried_pieces, query_count)
    code, clipped = _from_coordinates(
        queried_pieces,
        indexed,
        query_piece,
        tree_piece,
        counts=(query_count, indexed_count),
        small=(small_queried, small_indexed),
        fit=(fit_queried, fit_indexed),
        same_layer=same_layer,
        width=width,
        leave=None if build_phantoms else ~cut[query_index],
        measure_rings=measure_rings,
    )
    rest = np.flatnonzero(code < 0)
    if len(rest) and (
        shapely.is_prepared(indexed).any()
        or _repeated(queried_pieces[shapely.is_prepared(queried_pieces)])
    ):
        # A prepared polygon on the tree side, or one object at two places of the queried
        # side (a frame holding the same geometry twice), could be in two threads at once.
        code[rest] = settle(rest)
    elif len(rest):
        # The pairs come sorted by queried piece (the tree's query order): each prepared
        # polygon stays in one thread.
        code[rest] = map_groups(lambda k: settle(rest[k]), query_piece[rest], threads=threads)
    shapely.destroy_prepared(prepared)
    met = np.flatnonzero(code > 0)
    pieces = np.where(code[met] == 2, a[met], b[met])
    # Per overlap, what the clip knows of it (thin or not, -1 nothing) and its planar area
    # (NaN unknown); the phantoms it left as rings.
    thin, area = clipped.thin[met], clipped.area[met]
    measured_area = clipped.ring_area[met]
    unbuilt = clipped.unbuilt
    if unbuilt is not None:
        position = np.full(len(code), -1, dtype=np.int64)
        position[met] = np.arange(len(met))
        unbuilt = unbuilt._replace(ring_geometry=position[unbuilt.ring_geometry])
    done = clipped.done[met]
    pieces[done] = clipped.pieces[met[done]]
    crossing = np.flatnonzero((code[met] == 3) & ~done)
    del clipped
    if len(crossing):
        pieces[crossing] = map_by_cost(
            lambda k: polygonal_parts(
                shapely.intersection(*trimmed_for_intersection(a[met[k]], b[met[k]], threads=1))
            ),
            crossing,
            cost[met[crossing]],
            threads=threads,
        )
    query_index, tree_index = query_index[met], tree_index[met]
    pieces, query_index, tree_index, source = _reassemble(
        pieces, query_index, tree_index, threads=threads
    )
    left_index, right_index = (tree_index, query_index) if swap else (query_index, tree_index)
    order = np.lexsort((right_index, left_index))
    source = source[order]
    known = source >= 0
    thin = np.where(known, thin[source], -1)
    area = np.where(known, area[source], np.nan)
    measured_area = np.where(known, measured_area[source], np.nan)
    measure = np.flatnonzero(np.isnan(area))
    area[measure] = np.where(
        shapely.is_empty(pieces[order[measure]]), 0.0, shapely.area(pieces[order[measure]])
    )
    keep = np.flatnonzero(area > 0)
    pieces, thin, source = pieces[order[keep]], thin[keep], source[keep]
    phantom = thin == 1
    undecided = np.flatnonzero(thin < 0)
    phantom[undecided] = is_thin(pieces[undecided], width)
    if unbuilt is not None:
        position = np.full(len(met), -1, dtype=np.int64)
        position[source[source >= 0]] = np.flatnonzero(source >= 0)
        unbuilt = unbuilt._replace(ring_geometry=position[unbuilt.ring_geometry])
    return Overlaps(
        left_index[order[keep]],
        right_index[order[keep]],
        pieces,
        phantom,
        unbuilt,
        None if measure_rings is None else measured_area[keep],
    )


def built_pieces(found: Overlaps) -> np.ndarray:
    """The pieces of `found`, with the phantoms left as rings (``unbuilt``) built.

    Parameters
    ----------
    found : Overlaps
        From :func:`classified_overlaps`.

    Returns
    -------
    numpy.ndarray of shapely geometries
        One polygonal geometry per overlap.
    """
    if found.unbuilt is None or len(found.unbuilt.ring_starts) == 0:
        return found.pieces
    pieces = found.pieces.copy()
    made = _polygons(found.unbuilt, len(pieces))
    owners = _marked(len(pieces), found.unbuilt.ring_geometry)
    pieces[owners] = made[owners]
    return pieces


def _polygons(rings: PolygonRings, count: int) -> np.ndarray:
    """`count` geometries, each ring of `rings` a polygon of its geometry (None: no rings).

    The rings are shells; a geometry of several is a multipolygon of them, in their order.
    """
    out = np.full(count, None, dtype=object)
    if len(rings.ring_starts) == 0:
        return out
    parts = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON,
        rings.coords,
        (np.append(rings.ring_starts, len(rings.coords)), np.arange(len(rings.ring_starts) + 1)),
    )
    single = rings.ring_single
    out[rings.ring_geometry[single]] = parts[single]
    if not single.all():
        rest = np.flatnonzero(~single)
        rest = rest[np.argsort(rings.ring_geometry[rest], kind="stable")]
        several, indices = np.unique(rings.ring_geometry[rest], return_inverse=True)
        out[several] = shapely.multipolygons(parts[rest], indices=indices)
    return out


def _some_rings(rings: PolygonRings, geometries: np.ndarray) -> PolygonRings:
    """The rings of the geometries where `geometries` is True, in order."""
    of = geometries[rings.ring_geometry]
    if of.all():
        return rings
    lengths = rings.ring_lengths[of]
    return PolygonRings(
        coords=np.compress(np.repeat(of, rings.ring_lengths), rings.coords, axis=0),
        ring_starts=np.cumsum(lengths) - lengths,
        ring_lengths=lengths,
        ring_geometry=rings.ring_geometry[of],
        ring_is_hole=rings.ring_is_hole[of],
        ring_single=rings.ring_single[of],
    )


#: A pair with a polygon without holes of at most this many coordinates (a parcel, most
#: red-line and urban polygons) is clipped from the coordinates where the boundaries cross
#: (:mod:`geozones.analysis.clip`), and large polygons are not cut for such pairs; 0 leaves
#: every pair to GEOS. The clip looks only at the blocks of edges near each other, so the
#: size of the polygons costs little: 4096 rather than 32 took the red line against the
#: urban boundary from 0.25-0.33 to 0.18-0.23 s on bench_hard.py's medium 90 % tessellated
#: layers (docs/performance.md, session 47).
SMALL_PAIR_VERTICES = 4096
#: Pairs of geometries of at most this many coordinates each are settled from their
#: coordinates (only the edges in blocks near the other's box are read for a pair).
CLIP_VERTICES = 1 << 20


def _shapes(geoms: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which geometries are small polygons, and which any polygonal geometry to clip.

    Small: a polygon without holes of 4 to :data:`SMALL_PAIR_VERTICES` coordinates (`count`
    per geometry). To clip: a polygon or multipolygon of 4 to :data:`CLIP_VERTICES`.
    """
    kind = shapely.get_type_id(geoms)
    polygon = kind == shapely.GeometryType.POLYGON
    enough = count >= 4
    small = polygon & enough & (count <= SMALL_PAIR_VERTICES)
    small[small] = shapely.get_num_interior_rings(geoms[small]) == 0
    fit = (polygon | (kind == shapely.GeometryType.MULTIPOLYGON)) & enough
    return small, fit & (count <= CLIP_VERTICES)


class _CoordinatePairs(NamedTuple):
    """Candidate pairs of a small polygon and another, with the rings of both.

    Pair ``pairs[k]`` (a position among the candidate pairs) has P at ``small[k]`` and Q at
    ``other[k]``, as geometries of the rings (as :func:`geozones.analysis.clip.clip_pairs`
    takes them): P is the small polygon of the pair (:data:`SMALL_PAIR_VERTICES`), the one
    with fewer coordinates if both are, where ``small_is_small[k]``, else the queried piece;
    ``small_queried[k]``: P is the queried piece of the pair.
    """

    pairs: np.ndarray
    small: np.ndarray
    other: np.ndarray
    small_queried: np.ndarray
    small_is_small: np.ndarray
    coords: np.ndarray
    ring_start: np.ndarray
    ring_stop: np.ndarray
    ring_hole: np.ndarray
    geometry_ring: np.ndarray
    ring_block: np.ndarray
    block_box: np.ndarray


def _coordinate_pairs(
    queried: np.ndarray,
    indexed: np.ndarray,
    query_piece: np.ndarray,
    tree_piece: np.ndarray,
    *,
    same_layer: bool,
    small: tuple[np.ndarray, np.ndarray] | None = None,
    fit: tuple[np.ndarray, np.ndarray] | None = None,
    counts: tuple[np.ndarray, np.ndarray] | None = None,
) -> _CoordinatePairs | None:
    """The pairs of two polygonal geometries to clip, or None if there are none.

    `small` and `fit` are :func:`_shapes` of `queried` and `indexed`, `counts` their
    coordinates per geometry (found when omitted). Only the coordinates of polygons in such
    pairs are read, once.
    """
    from geozones.analysis import clip  # loads numba
    from geozones.io.rings import polygon_rings

    if SMALL_PAIR_VERTICES < 4 or len(query_piece) == 0:
        return None
    if counts is None:
        counts = shapely.get_num_coordinates(queried), shapely.get_num_coordinates(indexed)
    if small is None or fit is None:
        shapes_queried = _shapes(queried, counts[0])
        shapes_indexed = _shapes(indexed, counts[1])
        small = shapes_queried[0], shapes_indexed[0]
        fit = shapes_queried[1], shapes_indexed[1]
    small_queried, small_indexed = small
    fit_queried, fit_indexed = fit
    queried_small = small_queried[query_piece]
    pairs = np.flatnonzero(fit_queried[query_piece] & fit_indexed[tree_piece])
    if len(pairs) == 0:
        return None
    # The polygons of these pairs, one after the other, and each pair's two places there.
    if same_layer:
        used = _marked(len(queried), query_piece[pairs], tree_piece[pairs])
        polygons = queried[used]
        place = np.full(len(queried), -1, dtype=np.int64)
        place[used] = np.arange(len(used))
        left, right = place[query_piece[pairs]], place[tree_piece[pairs]]
    else:
        used_queried = _marked(len(queried), query_piece[pairs])
        used_indexed = _marked(len(indexed), tree_piece[pairs])
        polygons = np.concatenate([queried[used_queried], indexed[used_indexed]])
        place_queried = np.full(len(queried), -1, dtype=np.int64)
        place_queried[used_queried] = np.arange(len(used_queried))
        place_indexed = np.full(len(indexed), -1, dtype=np.int64)
        place_indexed[used_indexed] = len(used_queried) + np.arange(len(used_indexed))
        left, right = place_queried[query_piece[pairs]], place_indexed[tree_piece[pairs]]
    # P is the small polygon of the pair, the smaller if both are (the clip reads all of P's
    # coordinates, and only Q's near P); the queried one if neither is.
    indexed_small = small_indexed[tree_piece[pairs]]
    queried_fewer = counts[0][query_piece[pairs]] <= counts[1][tree_piece[pairs]]
    small_is_queried = queried_small[pairs] & (queried_fewer | ~indexed_small) | ~indexed_small
    p_small = queried_small[pairs] | indexed_small
    rings = polygon_rings(polygons)
    coords = np.ascontiguousarray(rings.coords, dtype=np.float64)
    ring_start = np.ascontiguousarray(rings.ring_starts, dtype=np.int64)
    ring_stop = ring_start + rings.ring_lengths
    ring_block, block_box = clip.edge_blocks(coords, ring_start, ring_stop)
    return _CoordinatePairs(
        pairs,
        np.ascontiguousarray(np.where(small_is_queried, left, right), dtype=np.int64),
        np.ascontiguousarray(np.where(small_is_queried, right, left), dtype=np.int64),
        small_is_queried,
        p_small,
        coords,
        ring_start,
        ring_stop,
        np.ascontiguousarray(rings.ring_is_hole, dtype=np.bool_),
        np.searchsorted(rings.ring_geometry, np.arange(len(polygons) + 1)).astype(np.int64),
        ring_block,
        block_box,
    )


#: Candidate pairs are settled and clipped from their coordinates in chunks whose polygons
#: hold about this many coordinates (16 MiB), read for the chunk and let go after it: the
#: red line's 8 M coordinates are not all held at once. On bench_hard.py's medium 90 %
#: setting the peak went from 1.63× to 1.52× the loaded layers, at no measurable cost in
#: time; 1 << 22 saved nothing (docs/performance.md).
CHUNK_COORDINATES = 1 << 20


def _from_coordinates(
    queried: np.ndarray,
    indexed: np.ndarray,
    query_piece: np.ndarray,
    tree_piece: np.ndarray,
    *,
    counts: tuple[np.ndarray, np.ndarray],
    small: tuple[np.ndarray, np.ndarray],
    fit: tuple[np.ndarray, np.ndarray],
    same_layer: bool,
    width: float,
    leave: np.ndarray | None,
    measure_rings: Callable[[PolygonRings, int], np.ndarray | None] | None = None,
) -> tuple[np.ndarray, _Clipped]:
    """Per candidate pair: its code (:func:`_settle_from_coordinates`) and its clip.

    The pairs (sorted by queried piece) go in chunks of :data:`CHUNK_COORDINATES`, each
    queried piece's pairs in one; per chunk, :func:`_coordinate_pairs` reads the polygons,
    :func:`_settle_from_coordinates` settles the pairs and :func:`_clip_small` clips those
    crossing. `counts` are the coordinates of each queried and indexed geometry, `small` and
    `fit` their :func:`_shapes`; `leave` (per pair, or None) and `measure_rings` are
    :func:`_clip_small`'s. The unbuilt rings' ``ring_geometry`` is the pair's position.
    """
    pairs = len(query_piece)
    code = np.full(pairs, -1, dtype=np.int8)
    clipped = _Clipped(
        np.full(pairs, None, dtype=object),
        np.zeros(pairs, dtype=bool),
        np.full(pairs, -1, dtype=np.int8),
        np.full(pairs, np.nan),
        None,
        np.full(pairs, np.nan),
    )
    unbuilt: list[PolygonRings] = []
    for chunk in _pair_chunks(query_piece, counts[0][query_piece], counts[1][tree_piece]):
        found = _coordinate_pairs(
            queried,
            indexed,
            query_piece[chunk],
            tree_piece[chunk],
            small=small,
            fit=fit,
            counts=counts,
            same_layer=same_layer,
        )
        code[chunk] = _settle_from_coordinates(found, chunk.stop - chunk.start)
        crossing = np.flatnonzero(code[chunk] == 3)
        part = _clip_small(
            found,
            crossing,
            width=width,
            leave=None if leave is None else leave[chunk][crossing],
            measure_rings=measure_rings,
        )
        del found
        at = chunk.start + crossing
        clipped.pieces[at] = part.pieces
        clipped.done[at] = part.done
        clipped.thin[at] = part.thin
        clipped.area[at] = part.area
        clipped.ring_area[at] = part.ring_area
        if part.unbuilt is not None:
            unbuilt.append(part.unbuilt._replace(ring_geometry=at[part.unbuilt.ring_geometry]))
    return code, clipped._replace(unbuilt=_joined_rings(unbuilt))


def _pair_chunks(
    query_piece: np.ndarray, query_count: np.ndarray, tree_count: np.ndarray
) -> list[slice]:
    """Spans of the pairs, each queried piece's in one, of about :data:`CHUNK_COORDINATES`.

    The pairs are sorted by queried piece; `query_count` and `tree_count` are the
    coordinates of each pair's two polygons. A queried piece counts once, a tree piece once
    per pair (a bound of what the chunk reads).
    """
    if len(query_piece) == 0:
        return []
    first = np.flatnonzero(np.r_[True, query_piece[1:] != query_piece[:-1]])
    cost = tree_count.astype(np.int64)
    cost[first] += query_count[first]
    offset = np.cumsum(cost) - cost
    cuts = chunk_cuts(offset[first], int(cost.sum()), CHUNK_COORDINATES)
    bounds = np.append(first, len(query_piece))[cuts]
    return [slice(int(a), int(b)) for a, b in pairwise(bounds)]


def _joined_rings(parts: list[PolygonRings]) -> PolygonRings | None:
    """The rings of `parts`, one after the other (None if there are none)."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    lengths = np.concatenate([part.ring_lengths for part in parts])
    return PolygonRings(
        coords=np.concatenate([part.coords for part in parts]),
        ring_starts=np.cumsum(lengths) - lengths,
        ring_lengths=lengths,
        ring_geometry=np.concatenate([part.ring_geometry for part in parts]),
        ring_is_hole=np.concatenate([part.ring_is_hole for part in parts]),
        ring_single=np.concatenate([part.ring_single for part in parts]),
    )


def _settle_from_coordinates(found: _CoordinatePairs | None, candidates: int) -> np.ndarray:
    """Per candidate pair the code of ``settle`` in :func:`classified_overlaps`, or -1 for GEOS.

    Pairs of a small polygon and another (:func:`_coordinate_pairs`), by
    :func:`geozones.analysis.clip.settle_pairs`: a tessellation's neighbours, whose boundaries
    cross or leave a gap where their shared vertices were digitised apart; a parcel inside a
    red-line piece, across its boundary or apart. Pairs touching exactly are left to GEOS.
    """
    from geozones.analysis import clip  # loads numba

    code = np.full(candidates, clip.PAIR_UNDECIDED, dtype=np.int8)
    if found is None:
        return code
    verdict = np.empty(len(found.pairs), dtype=np.int8)
    boxes = clip.geometry_boxes(found.ring_block, found.block_box, found.geometry_ring)

    def span(bounds: tuple[int, int]) -> None:
        clip.settle_pairs(
            found.coords,
            found.ring_start,
            found.ring_stop,
            found.ring_block,
            found.block_box,
            found.geometry_ring,
            boxes,
            found.small,
            found.other,
            *bounds,
            verdict,
        )

    for_spans(span, len(found.pairs), min_span=20_000)
    # Inside: the code says which side of the pair is the piece (2: the queried one).
    small_inside = verdict == clip.PAIR_SMALL_INSIDE
    other_inside = verdict == clip.PAIR_OTHER_INSIDE
    verdict[small_inside] = np.where(found.small_queried[small_inside], 2, 1)
    verdict[other_inside] = np.where(found.small_queried[other_inside], 1, 2)
    code[found.pairs] = verdict
    return code


class _Clipped(NamedTuple):
    """What :func:`_clip_small` returns, per crossing pair."""

    #: The intersection, or None: left to GEOS (not `done`), or left as rings (`unbuilt`).
    pieces: np.ndarray
    #: Clipped from the coordinates (GEOS is not needed).
    done: np.ndarray
    #: 1 every part thinner than the width, 0 a part not, -1 undecided or not clipped.
    thin: np.ndarray
    #: Planar area; NaN where not clipped.
    area: np.ndarray
    #: The rings of the phantoms not built and not measured; ``ring_geometry`` is the
    #: crossing pair's place.
    unbuilt: PolygonRings | None
    #: The area `measure_rings` gave each clip (built or not); else NaN.
    ring_area: np.ndarray


def _clip_small(
    found: _CoordinatePairs | None,
    crossing: np.ndarray,
    *,
    width: float = 0.0,
    leave: np.ndarray | None = None,
    measure_rings: Callable[[PolygonRings, int], np.ndarray | None] | None = None,
) -> _Clipped:
    """Per crossing candidate pair: the intersection clipped from the coordinates, or None.

    Pairs of a small polygon and another (:func:`_coordinate_pairs`) are clipped by
    :func:`geozones.analysis.clip.clip_pairs`; the other pairs, and those whose result is not
    certainly valid, are left to GEOS. The clip proves most results valid around their
    crossings, which holds as the polygons given are valid; the others go to
    :func:`geozones.io.proof.certainly_valid_rings`.
    Where `leave` (per pair) is True, a result whose every part is certainly thinner than
    `width` (:func:`geozones.analysis.clip.loop_shapes`) is left as rings, not built; those
    rings are returned unless `measure_rings` (as for :func:`classified_overlaps`) measures
    every result (``ring_area``).
    """
    from geozones.analysis import clip  # loads numba
    from geozones.io.proof import certainly_valid_rings, ring_forward

    out = _Clipped(
        np.full(len(crossing), None, dtype=object),
        np.zeros(len(crossing), dtype=bool),
        np.full(len(crossing), -1, dtype=np.int8),
        np.full(len(crossing), np.nan),
        None,
        np.full(len(crossing), np.nan),
    )
    if found is None or len(crossing) == 0:
        return out
    position = np.full(found.pairs[-1] + 1, -1, dtype=np.int64)
    position[found.pairs] = np.arange(len(found.pairs))
    inside = crossing <= found.pairs[-1]
    at = np.full(len(crossing), -1, dtype=np.int64)
    at[inside] = position[crossing[inside]]
    at[at >= 0] = np.where(found.small_is_small[at[at >= 0]], at[at >= 0], -1)
    pairs = np.flatnonzero(at >= 0)
    if len(pairs) == 0:
        return out
    small = np.ascontiguousarray(found.small[at[pairs]])
    other = np.ascontiguousarray(found.other[at[pairs]])
    forward = ring_forward(found.coords, found.ring_start, found.ring_stop, found.ring_hole)
    spans: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def span(bounds: tuple[int, int]) -> None:
        spans[bounds] = clip.clip_pairs(
            found.coords,
            found.ring_start,
            found.ring_stop,
            forward,
            found.ring_block,
            found.block_box,
            found.geometry_ring,
            small,
            other,
            *bounds,
        )

    for_spans(span, len(pairs), min_span=5_000)
    results = [spans[key] for key in sorted(spans)]
    loops = np.concatenate([part[0] for part in results])
    xy = np.concatenate([part[1] for part in results])
    lengths = np.concatenate([part[2] for part in results])
    clipped = np.flatnonzero(loops)
    if len(clipped) == 0:
        return out
    # Each loop a polygon; pairs with several, multipolygons. Kept only where certainly
    # valid: proven by the clip around its crossings, else by the proof of any rings.
    loop_start = np.cumsum(lengths) - lengths
    owner = np.repeat(np.arange(len(clipped)), loops[clipped])
    valid = np.concatenate([part[3] for part in results])[clipped]
    doubt = ~valid
    if doubt.any():
        doubt_ring = doubt[owner]
        valid[doubt] = certainly_valid_rings(
            xy,
            loop_start[doubt_ring],
            lengths[doubt_ring],
            np.zeros(int(doubt_ring.sum()), dtype=np.bool_),
            (np.cumsum(doubt) - 1)[owner[doubt_ring]],
            int(doubt.sum()),
        )
    loop_area, loop_thin = clip.loop_shapes(xy, loop_start, lengths, width, STRIP_SHARE * width)
    # A piece is thin if every part is, thick if one part is; undecided otherwise.
    thin_parts = np.bincount(owner, weights=loop_thin == clip.LOOP_THIN, minlength=len(clipped))
    thick_parts = np.bincount(owner, weights=loop_thin == clip.LOOP_THICK, minlength=len(clipped))
    thin = np.where(thick_parts > 0, 0, np.where(thin_parts == loops[clipped], 1, -1))
    placed = pairs[clipped[valid]]
    out.done[placed] = True
    out.thin[placed] = thin[valid]
    out.area[placed] = np.bincount(owner, weights=loop_area, minlength=len(clipped))[valid]
    rings = PolygonRings(
        coords=xy,
        ring_starts=loop_start,
        ring_lengths=lengths,
        ring_geometry=owner,
        ring_is_hole=np.zeros(len(lengths), dtype=bool),
        ring_single=(loops[clipped] == 1)[owner],
    )
    measured = None if measure_rings is None else measure_rings(rings, len(clipped))
    if measured is not None:
        out.ring_area[placed] = measured[valid]
    unbuilt = valid & (thin == 1)
    if leave is None:
        unbuilt[:] = False
    else:
        unbuilt &= leave[pairs[clipped]]
    build = valid & ~unbuilt
    if unbuilt.any() and measured is None:
        kept = _some_rings(rings, unbuilt)
        out = out._replace(unbuilt=kept._replace(ring_geometry=pairs[clipped[kept.ring_geometry]]))
    if build.any():
        made = _polygons(rings if build.all() else _some_rings(rings, build), len(clipped))
        out.pieces[pairs[clipped[build]]] = made[build]
    return out


def _marked(length: int, *positions: np.ndarray) -> np.ndarray:
    """The distinct `positions`, sorted (``np.unique`` without the sort)."""
    mark = np.zeros(length, dtype=bool)
    for some in positions:
        mark[some] = True
    return np.flatnonzero(mark)


def _repeated(geoms: np.ndarray) -> bool:
    """True if one geometry object is at two places of `geoms`."""
    return len({id(geometry) for geometry in geoms}) < len(geoms)


def _reassemble(
    pieces: np.ndarray, first: np.ndarray, second: np.ndarray, *, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One overlap per pair ``(first, second)``: the union of the pieces of cut polygons.

    The pieces of a pair are united two by two, all pairs at once, in ``log2`` rounds of the
    largest group (a vectorized tree reduction, in threads). The fourth array says, per
    overlap, which of the given pieces it is, or -1 for a union.
    """
    source = np.arange(len(pieces))
    if len(pieces) == 0:
        return pieces, first, second, source
    order = np.lexsort((second, first))
    pieces, first, second = pieces[order], first[order], second[order]
    starts = np.flatnonzero(np.r_[True, (first[1:] != first[:-1]) | (second[1:] != second[:-1])])
    if len(starts) == len(pieces):
        return pieces, first, second, order
    size = np.diff(np.r_[starts, len(pieces)])
    source = np.where(size == 1, order[starts], -1)
    group = np.repeat(np.arange(len(starts)), size)
    while len(pieces) > len(starts):
        group_start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        rank = np.arange(len(pieces)) - np.repeat(
            group_start, np.diff(np.r_[group_start, len(group)])
        )
        even = rank % 2 == 0
        merge = np.flatnonzero(even & np.r_[group[1:] == group[:-1], False])
        pieces = pieces.copy()
        pieces[merge] = _union_pairs(pieces[merge], pieces[merge + 1], threads=threads)
        pieces, group = pieces[even], group[even]
    return pieces, first[starts], second[starts], source


def _union_pairs(a: np.ndarray, b: np.ndarray, *, threads: int | None) -> np.ndarray:
    """The polygonal union of ``a[k]`` and ``b[k]`` for each k, in threads."""
    cost = shapely.get_num_coordinates(a) + shapely.get_num_coordinates(b)
    return map_by_cost(
        lambda k: polygonal_parts(shapely.union(a[k], b[k])),
        np.arange(len(a)),
        cost,
        threads=threads,
    )


def overlapping_pieces(
    left: np.ndarray,
    right: np.ndarray,
    *,
    same_layer: bool = False,
    width: float = 0.0,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every piece where a polygon of `left` overlaps one of `right` (touching is not overlap).

    The genuine overlaps of :func:`classified_overlaps`: phantoms thinner than `width` are
    left out.

    Parameters
    ----------
    left, right : numpy.ndarray of shapely geometries
        Valid polygons (empty ones are ignored).
    same_layer : bool, default False
        `left` and `right` are the same array: report each unordered pair once, not a
        feature with itself.
    width : float, default 0
        The tolerance in the units of the coordinates; 0 keeps every overlap whole.
    threads : int, optional
        Threads for the GEOS work, as for :func:`classified_overlaps`.

    Returns
    -------
    left_index, right_index : numpy.ndarray
        Positions of the two polygons of each piece.
    pieces : numpy.ndarray
        The overlapping parts, polygonal, each with area.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> i, j, pieces = overlapping_pieces(
    ...     np.array([box(0, 0, 2, 2)]), np.array([box(1, 1, 3, 3), box(2, 0, 3, 1)])
    ... )
    >>> i.tolist(), j.tolist(), [p.area for p in pieces]
    ([0], [0], [1.0])
    """
    checked_non_negative(width, name="width", unit="CRS units")
    found = classified_overlaps(left, right, same_layer=same_layer, width=width, threads=threads)
    genuine = ~found.phantom
    return found.left_index[genuine], found.right_index[genuine], found.pieces[genuine]


def _per_feature(count: np.ndarray) -> float:
    """Mean coordinates per feature, of their counts."""
    return float(count.sum()) / max(len(count), 1)

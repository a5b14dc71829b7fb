"""The faces of noded lines, found from their coordinates in a compiled loop.

Cutting a feature by thousands of claims (:func:`geozones.resolve_conflicts`) and facing a
group of overlaps (:func:`geozones.overlap_count`) node boundaries with GEOS and then
polygonize the noded lines. ``shapely.polygonize`` holds the GIL (0.83 s on one thread and
0.81 s on two for the same calls), so in threads the cuts waited on each other: it was 3.7 s
of 10 s of one thread's work on the medium 90 % tessellated layers of ``bench_resolve.py``.

:func:`polygonize_noded` walks the planar graph of the lines instead (numba, without the
GIL): the edges leaving each node are ordered by angle (exact orientation tests, Shewchuk's
filter), each half-edge is followed by the one next clockwise around its end, which traces
every face with the face on its left; a traced boundary that passes a node twice is split
there into simple rings. A boundary with one anticlockwise ring is a face's shell, and its
clockwise rings are holes touching it; a boundary of clockwise rings only is the outside of
a connected part of the lines, and each of its rings is a hole of the smallest shell of
another part around it (or of none, the outside of everything). Lines that run out (dangles)
or link two parts (cut edges) come out as rings of one edge there and back, and are left out,
as polygonize leaves them out.

:class:`NodedFaces` keeps which face lies left of each line, so that faces given labels
(the cutter each face of a feature goes to) can be unioned per label by dropping the lines
between faces of one label and tracing again (:meth:`NodedFaces.dissolve`), grouped into the
parts they make (:meth:`NodedFaces.parts`), and the borders between labels measured
(:meth:`NodedFaces.borders`), without GEOS.

Where an angle or a point's side cannot be decided for certain, or the lines are not noded
(edges along each other), the lines are left to ``shapely.polygonize``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import numba
import numpy as np
import shapely

from geozones.io.proof import orientation, ray_crossing
from geozones.io.validity import EMPTY_POLYGONAL


def polygonize_noded(lines: np.ndarray) -> np.ndarray:
    """The polygons enclosed by noded `lines`, as ``shapely.polygonize`` finds them.

    Parameters
    ----------
    lines : numpy.ndarray of shapely LineStrings
        Lines that meet only at their ends, e.g. the parts of ``shapely.union_all`` of
        boundaries.

    Returns
    -------
    numpy.ndarray of shapely Polygons
        Every face the lines enclose, in no particular order: shells anticlockwise, holes
        clockwise. Lines that enclose nothing (dangles, cut edges) are left out.

    Examples
    --------
    Two squares sharing an edge, and a line running out of them:

    >>> from shapely import LineString, union_all
    >>> lines = [LineString([(0, 0), (2, 0), (2, 1), (0, 1), (0, 0)]),
    ...          LineString([(1, 0), (1, 1), (1, 3)])]
    >>> faces = polygonize_noded(shapely.get_parts(union_all(lines)))
    >>> sorted(shapely.area(faces).tolist())
    [1.0, 1.0]
    """
    return NodedFaces.of(lines).faces


class TracedPolygons(NamedTuple):
    """Polygons as rings, not built (shapely's ragged arrays), each with a label."""

    #: The rings' coordinates, each ring closed.
    coords: np.ndarray
    #: Ring ``r`` is ``coords[ring_offsets[r]:ring_offsets[r + 1]]``.
    ring_offsets: np.ndarray
    #: Polygon ``p``'s rings are ``polygon_offsets[p]`` up to ``polygon_offsets[p + 1]``,
    #: its shell first.
    polygon_offsets: np.ndarray
    #: Per polygon, its label (-1 for none).
    polygon_label: np.ndarray

    def single_rings(self, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The labels traced as one polygon of one ring, with the rings' coordinates.

        Returns the labels (of ``0..count - 1``), and the coordinates of their rings one
        after the other with where each starts (and the last ends).
        """
        present = np.flatnonzero(self.polygon_label >= 0)
        label = self.polygon_label[present]
        rings = np.diff(self.polygon_offsets)[present]
        single = (np.bincount(label, minlength=count) == 1) & (
            np.bincount(label, weights=rings, minlength=count) == 1
        )
        polygon = present[single[label]]
        take, first = ragged_take(self.ring_offsets, self.polygon_offsets[polygon])
        return self.polygon_label[polygon], self.coords[take], first

    def built(
        self, count: int, keep: np.ndarray | None = None, *, shift: np.ndarray | None = None
    ) -> np.ndarray:
        """Per label ``0..count - 1``, its polygons as one geometry.

        A Polygon, a MultiPolygon, or an empty MultiPolygon where no polygon has the label
        or `keep` (per label) leaves it out. `shift` (x, y) is added to every coordinate, or
        ``shift[label]`` to those of each label if it is ``(count, 2)``.
        """
        out = np.full(count, EMPTY_POLYGONAL, dtype=object)
        chosen = self.polygon_label >= 0
        if keep is not None:
            chosen[chosen] = keep[self.polygon_label[chosen]]
        polygon = np.flatnonzero(chosen)
        polygon = polygon[np.argsort(self.polygon_label[polygon], kind="stable")]
        ring, polygon_offsets = ragged_take(self.polygon_offsets, polygon)
        take, ring_offsets = ragged_take(self.ring_offsets, ring)
        label = self.polygon_label[polygon]
        coords = self.coords[take]
        if shift is not None and np.ndim(shift) == 2:
            ring_label = np.repeat(label, np.diff(polygon_offsets))
            coords = coords + np.repeat(shift[ring_label], np.diff(ring_offsets), axis=0)
        elif shift is not None:
            coords = coords + shift
        merged = _polygons(coords, ring_offsets, polygon_offsets)
        shapely.multipolygons(merged, indices=label, out=out)
        single = np.flatnonzero(np.bincount(label, minlength=count) == 1)
        out[single] = shapely.get_geometry(out[single], 0)
        return out


def ragged_take(offsets: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the items of spans `which` of a ragged array, and their offsets.

    Span ``k`` is ``offsets[k]`` up to ``offsets[k + 1]``; the spans taken come one after
    the other, span ``j`` of them at ``new_offsets[j]`` up to ``new_offsets[j + 1]``.

    Examples
    --------
    >>> take, new_offsets = ragged_take(np.array([0, 2, 5, 6]), np.array([2, 1]))
    >>> take.tolist(), new_offsets.tolist()
    ([5, 2, 3, 4], [0, 1, 4])
    """
    which = np.asarray(which, dtype=np.int64)
    sizes = offsets[which + 1] - offsets[which]
    new_offsets = np.zeros(len(which) + 1, dtype=np.int64)
    np.cumsum(sizes, out=new_offsets[1:])
    take = np.repeat(offsets[which] - new_offsets[:-1], sizes) + np.arange(new_offsets[-1])
    return take, new_offsets


@dataclass(frozen=True)
class NodedFaces:
    """The faces of noded lines (:func:`polygonize_noded`), and which face lies by which line.

    Attributes
    ----------
    faces : numpy.ndarray of shapely Polygons
        The faces.
    coords, line_start : numpy.ndarray
        The lines' coordinates, line ``i`` at ``coords[line_start[i]:line_start[i + 1]]``.
    face_of : numpy.ndarray or None
        The face left of each half-edge (``2i`` along line ``i``, ``2i + 1`` against it),
        -1 where none; None where the faces were left to ``shapely.polygonize``.
    """

    faces: np.ndarray
    coords: np.ndarray
    line_start: np.ndarray
    face_of: np.ndarray | None

    @classmethod
    def of(cls, lines: np.ndarray) -> NodedFaces:
        """Trace the faces of `lines` (noded LineStrings)."""
        lines = np.asarray(lines, dtype=object)
        lines = lines[~shapely.is_empty(lines)]
        coords, which = shapely.get_coordinates(lines, return_index=True)
        line_start = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(np.bincount(which, minlength=len(lines)), out=line_start[1:])
        return cls.of_coordinates(coords, line_start)

    @classmethod
    def of_coordinates(cls, coords: np.ndarray, line_start: np.ndarray) -> NodedFaces:
        """Trace the faces of the noded lines ``coords[line_start[i]:line_start[i + 1]]``.

        As :meth:`of`, for lines held as coordinates (:func:`geozones.analysis.noding.node_lines`).
        """
        if len(line_start) == 1:
            return cls(np.empty(0, dtype=object), coords, line_start, np.zeros(0, np.int64))
        ok, ring_coords, ring_offsets, polygon_offsets, face_of = _faces(coords, line_start)
        if not ok:
            lines = shapely.linestrings(
                coords, indices=np.repeat(np.arange(len(line_start) - 1), np.diff(line_start))
            )
            faces = shapely.get_parts(shapely.polygonize(lines))
            return cls(faces, coords, line_start, None)
        faces = _polygons(ring_coords, ring_offsets, polygon_offsets)
        return cls(faces, coords, line_start, face_of)

    def dissolve(
        self, label: np.ndarray, count: int, *, shift: np.ndarray | None = None
    ) -> np.ndarray:
        """The union of the faces of each label ``0..count - 1``; faces labelled -1 left out.

        The lines between faces of one label are dropped and the faces of the rest traced
        again: the unions share their boundaries exactly, as the faces did. Where that is
        left to GEOS, each label's faces are unioned as a coverage.

        Parameters
        ----------
        label : numpy.ndarray of int
            Per face, in ``-1..count - 1``.
        count : int
            Number of labels.
        shift : numpy.ndarray, optional
            (x, y) added to every coordinate of the unions, or ``(count, 2)``: one per
            label. Faces traced near the origin come back where they belong without a
            second pass over the geometries.

        Returns
        -------
        numpy.ndarray
            Per label, a Polygon or MultiPolygon (an empty MultiPolygon where no face has it).

        Examples
        --------
        Three unit squares in a row, the first two labelled 0 and the third 1:

        >>> from shapely import box
        >>> lines = shapely.get_parts(shapely.union_all(
        ...     shapely.boundary([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)])))
        >>> noded = NodedFaces.of(lines)
        >>> label = np.where(shapely.bounds(noded.faces)[:, 0] < 2, 0, 1)
        >>> [round(g.area, 9) for g in noded.dissolve(label, 2)]
        [2.0, 1.0]
        """
        label = np.asarray(label, dtype=np.int64)
        traced = self.dissolved_rings(label)
        if traced is not None:
            return traced.built(count, shift=shift)
        out = np.full(count, EMPTY_POLYGONAL, dtype=object)
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.arange(count + 1))
        for which, (start, stop) in enumerate(pairwise(bounds)):
            if stop == start + 1:
                out[which] = self.faces[order[start]]
            elif stop > start:
                out[which] = shapely.coverage_union_all(self.faces[order[start:stop]])
        return out if shift is None else translated(out, shift)

    def dissolved_rings(self, label: np.ndarray) -> TracedPolygons | None:
        """The rings of :meth:`dissolve`'s polygons, not built: each with its label.

        None where the faces were left to ``shapely.polygonize`` or the tracing was left to
        GEOS. A caller that needs only some of the unions, or only their coordinates, reads
        them here.

        Examples
        --------
        >>> from shapely import box
        >>> lines = shapely.get_parts(shapely.union_all(
        ...     shapely.boundary([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)])))
        >>> noded = NodedFaces.of(lines)
        >>> label = np.where(shapely.bounds(noded.faces)[:, 0] < 2, 0, -1)
        >>> traced = noded.dissolved_rings(label)
        >>> traced.polygon_label.tolist(), traced.ring_offsets.tolist()  # nodes stay vertices
        ([0], [0, 7])
        """
        if self.face_of is None:
            return None
        label = np.asarray(label, dtype=np.int64)
        side = np.where(self.face_of >= 0, label[self.face_of], -1)
        kept = np.flatnonzero(side[0::2] != side[1::2])
        take, kept_start = ragged_take(self.line_start, kept)
        ok, ring_coords, ring_offsets, polygon_offsets, face_of = _faces(
            self.coords[take], kept_start
        )
        if not ok:
            return None
        # Each merged face's label: that of the old face beside one of its lines.
        half = np.flatnonzero(face_of >= 0)
        first = half[np.unique(face_of[half], return_index=True)[1]]
        polygon_label = side[2 * kept[first >> 1] + (first & 1)]
        return TracedPolygons(ring_coords, ring_offsets, polygon_offsets, polygon_label)

    def borders(self, label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The lines between faces of different labels: (label left, label right, length).

        Parameters
        ----------
        label : numpy.ndarray of int
            Per face; -1 for none, as outside every face.

        Returns
        -------
        left, right, length : numpy.ndarray
            Per line with two different labels either side (-1 where no face).

        Examples
        --------
        >>> from shapely import box
        >>> lines = shapely.get_parts(shapely.union_all(
        ...     shapely.boundary([box(0, 0, 1, 1), box(1, 0, 3, 1)])))
        >>> noded = NodedFaces.of(lines)
        >>> label = np.where(shapely.bounds(noded.faces)[:, 0] < 1, 0, 1)
        >>> left, right, length = noded.borders(label)
        >>> sorted(zip(np.minimum(left, right).tolist(), np.maximum(left, right).tolist(),
        ...            length.tolist()))
        [(-1, 0, 3.0), (-1, 1, 2.0), (-1, 1, 3.0), (0, 1, 1.0)]
        """
        if self.face_of is None:
            raise ValueError("faces left to shapely.polygonize have no record of their lines")
        label = np.asarray(label, dtype=np.int64)
        side = np.where(self.face_of >= 0, label[self.face_of], -1)
        left, right = side[0::2], side[1::2]
        step = np.hypot(*np.diff(self.coords, axis=0).T) if len(self.coords) else np.zeros(0)
        # Segments are those within a line: drop the step from one line's end to the next's.
        within = np.ones(len(step), dtype=bool)
        within[self.line_start[1:-1] - 1] = False
        segment_line = np.repeat(np.arange(len(self.line_start) - 1), np.diff(self.line_start))
        length = np.bincount(segment_line[:-1][within], weights=step[within], minlength=len(left))
        differ = np.flatnonzero(left != right)
        return left[differ], right[differ], length[differ]

    def parts(self, label: np.ndarray) -> tuple[int, np.ndarray]:
        """The faces of each label grouped into parts: linked across the lines between them.

        Returns the number of parts and, per face, its part (-1 for faces labelled -1).
        Faces of one label meeting only at a point are different parts, as in their union.

        Examples
        --------
        >>> from shapely import box
        >>> lines = shapely.get_parts(shapely.union_all(shapely.boundary(
        ...     [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2), box(3, 1, 4, 2)])))
        >>> noded = NodedFaces.of(lines)
        >>> label = np.where(shapely.bounds(noded.faces)[:, 0] < 3, 0, 1)
        >>> count, part = noded.parts(label)
        >>> count, sorted(np.bincount(part).tolist())
        (3, [1, 1, 2])
        """
        if self.face_of is None:
            raise ValueError("faces left to shapely.polygonize have no record of their lines")
        return _face_parts(self.face_of, np.asarray(label, dtype=np.int64))


def translated(geoms: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Each geometry moved by (x, y), or by its own row of a ``(len(geoms), 2)`` `shift`.

    Examples
    --------
    >>> from shapely import Point
    >>> points = np.array([Point(0, 0), Point(1, 1)])
    >>> [p.wkt for p in translated(points, np.array([[1, 0], [0, 2]]))]
    ['POINT (1 0)', 'POINT (1 3)']
    """
    shifts = np.broadcast_to(np.asarray(shift, dtype=float), (len(geoms), 2))
    step = np.repeat(shifts, shapely.get_num_coordinates(geoms), axis=0)
    return shapely.transform(geoms, lambda xy: xy + step)


def _polygons(
    ring_coords: np.ndarray, ring_offsets: np.ndarray, polygon_offsets: np.ndarray
) -> np.ndarray:
    """Polygons from the rings :func:`_faces` returns."""
    if len(polygon_offsets) == 1:
        return np.empty(0, dtype=object)
    return shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, ring_coords, (ring_offsets, polygon_offsets)
    )


@numba.njit(cache=True, nogil=True)
def _graph(
    coords: np.ndarray, line_start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The half-edges' first vertex, origin node and next vertex, and each node's half-edges.

    Half-edge ``2i`` runs line ``i`` forwards from its first vertex, ``2i + 1`` backwards
    from its last. Returns (ends, origin, ahead, around, node_start): the half-edges leaving
    node ``n`` are ``around[node_start[n]:node_start[n + 1]]``, not yet ordered.
    """
    halves = 2 * (len(line_start) - 1)
    ends = np.empty(halves, np.int64)
    for i in range(len(line_start) - 1):
        ends[2 * i] = line_start[i]
        ends[2 * i + 1] = line_start[i + 1] - 1
    # Nodes: the ends sorted by x, then y (two stable sorts), equal ends one node.
    by_y = np.argsort(coords[ends, 1], kind="mergesort")
    by_place = by_y[np.argsort(coords[ends[by_y], 0], kind="mergesort")]
    origin = np.empty(halves, np.int64)
    node = -1
    for k in range(halves):
        h = by_place[k]
        if k == 0:
            node += 1
        else:
            g = by_place[k - 1]
            if coords[ends[h], 0] != coords[ends[g], 0] or coords[ends[h], 1] != coords[ends[g], 1]:
                node += 1
        origin[h] = node
    nodes = node + 1
    node_start = np.zeros(nodes + 1, np.int64)
    for h in range(halves):
        node_start[origin[h] + 1] += 1
    for n in range(nodes):
        node_start[n + 1] += node_start[n]
    slot = node_start[:-1].copy()
    around = np.empty(halves, np.int64)
    for h in range(halves):
        around[slot[origin[h]]] = h
        slot[origin[h]] += 1
    return ends, origin, _first_step(coords, line_start), around, node_start


@numba.njit(cache=True, nogil=True)
def _first_step(coords: np.ndarray, line_start: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Per half-edge, the first vertex after its origin that is not the origin."""
    lines = len(line_start) - 1
    ahead = np.empty(2 * lines, dtype=np.int64)
    for i in range(lines):
        first = line_start[i]
        last = line_start[i + 1] - 1
        k = first + 1
        while k < last and coords[k, 0] == coords[first, 0] and coords[k, 1] == coords[first, 1]:
            k += 1
        ahead[2 * i] = k
        k = last - 1
        while k > first and coords[k, 0] == coords[last, 0] and coords[k, 1] == coords[last, 1]:
            k -= 1
        ahead[2 * i + 1] = k
    return ahead


@numba.njit(cache=True, nogil=True, inline="always")
def _upper(dx: float, dy: float) -> bool:  # pragma: no cover - compiled
    """Whether a direction's angle lies in [0, pi)."""
    return dy > 0.0 or (dy == 0.0 and dx > 0.0)


@numba.njit(cache=True, nogil=True)
def _sort_around(
    coords: np.ndarray,
    ends: np.ndarray,
    ahead: np.ndarray,
    around: np.ndarray,
    node_start: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Order each node's half-edges anticlockwise from east, exactly; False if undecided.

    Insertion sort: a node of a noded boundary has few edges.
    """
    for node in range(len(node_start) - 1):
        first = node_start[node]
        stop = node_start[node + 1]
        if stop - first < 2:
            continue
        ox = coords[ends[around[first]], 0]
        oy = coords[ends[around[first]], 1]
        for k in range(first + 1, stop):
            h = around[k]
            hx = coords[ahead[h], 0]
            hy = coords[ahead[h], 1]
            j = k
            while j > first:
                g = around[j - 1]
                gx = coords[ahead[g], 0]
                gy = coords[ahead[g], 1]
                g_upper = _upper(gx - ox, gy - oy)
                h_upper = _upper(hx - ox, hy - oy)
                if g_upper != h_upper:
                    if g_upper:
                        break
                else:
                    turn = orientation(ox, oy, gx, gy, hx, hy)
                    if turn == 0:
                        return False  # the same direction (not noded) or undecided
                    if turn > 0:
                        break
                around[j] = g
                j -= 1
            around[j] = h
    return True


@numba.njit(cache=True, nogil=True)
def _faces(
    coords: np.ndarray, line_start: np.ndarray
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Rings of every face, and the face left of each half-edge.

    Returns (decided, ring coordinates, ring offsets, polygon offsets, face of each
    half-edge, -1 where none).
    """
    nothing = (
        np.empty((0, 2)),
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
        np.zeros(0, np.int64),
    )
    ends, origin, ahead, around, node_start = _graph(coords, line_start)
    if not _sort_around(coords, ends, ahead, around, node_start):
        return False, nothing[0], nothing[1], nothing[2], nothing[3]
    halves = len(origin)
    nodes = len(node_start) - 1
    place = np.empty(halves, np.int64)
    for k in range(halves):
        place[around[k]] = k
    # Next half-edge along a face: the one before the twin in anticlockwise order at its end.
    following = np.empty(halves, np.int64)
    for h in range(halves):
        twin = h ^ 1
        end = origin[twin]
        k = place[twin] - 1
        if k < node_start[end]:
            k = node_start[end + 1] - 1
        following[h] = around[k]

    # Simple rings: each traced boundary split where it passes a node again.
    seen = np.zeros(halves, np.bool_)
    at = np.full(nodes, -1, np.int64)
    stack = np.empty(halves, np.int64)
    ring_halves = np.empty(halves, np.int64)
    ring_bounds = np.zeros(halves + 1, np.int64)
    ring_boundary = np.empty(halves, np.int64)
    rings = 0
    filled = 0
    boundaries = 0
    for h in range(halves):
        if seen[h]:
            continue
        top = 0
        e = h
        while not seen[e]:
            seen[e] = True
            v = origin[e]
            if at[v] >= 0:
                j = at[v]
                for k in range(j, top):
                    at[origin[stack[k]]] = -1
                    ring_halves[filled] = stack[k]
                    filled += 1
                ring_bounds[rings + 1] = filled
                ring_boundary[rings] = boundaries
                rings += 1
                top = j
            at[v] = top
            stack[top] = e
            top += 1
            e = following[e]
        for k in range(top):
            at[origin[stack[k]]] = -1
            ring_halves[filled] = stack[k]
            filled += 1
        ring_bounds[rings + 1] = filled
        ring_boundary[rings] = boundaries
        rings += 1
        boundaries += 1

    # Twice the signed area of each ring, from its first vertex; an edge there and back is 0.
    twice = np.zeros(rings, np.float64)
    size = np.zeros(rings, np.int64)
    for r in range(rings):
        first = ring_bounds[r]
        stop = ring_bounds[r + 1]
        if stop - first == 2 and ring_halves[first] == ring_halves[first + 1] ^ 1:
            continue
        ox = coords[ends[ring_halves[first]], 0]
        oy = coords[ends[ring_halves[first]], 1]
        total = 0.0
        count = 0
        for k in range(first, stop):
            h = ring_halves[k]
            line = h >> 1
            a = line_start[line]
            b = line_start[line + 1] - 1
            count += b - a
            if h & 1 == 0:
                for i in range(a, b):
                    total += (coords[i, 0] - ox) * (coords[i + 1, 1] - oy) - (
                        coords[i + 1, 0] - ox
                    ) * (coords[i, 1] - oy)
            else:
                for i in range(b, a, -1):
                    total += (coords[i, 0] - ox) * (coords[i - 1, 1] - oy) - (
                        coords[i - 1, 0] - ox
                    ) * (coords[i, 1] - oy)
        if total == 0.0:
            return False, nothing[0], nothing[1], nothing[2], nothing[3]
        twice[r] = total
        size[r] = count + 1

    # Each boundary's shell (its one anticlockwise ring), if it has one.
    shell_of = np.full(boundaries, -1, np.int64)
    for r in range(rings):
        if twice[r] > 0.0:
            if shell_of[ring_boundary[r]] >= 0:
                return False, nothing[0], nothing[1], nothing[2], nothing[3]
            shell_of[ring_boundary[r]] = r

    # Coordinates of every ring that is not an edge there and back.
    ring_offsets = np.zeros(rings + 1, np.int64)
    for r in range(rings):
        ring_offsets[r + 1] = ring_offsets[r] + size[r]
    out = np.empty((ring_offsets[rings], 2), np.float64)
    xmin = np.empty(rings)
    xmax = np.empty(rings)
    for r in range(rings):
        if size[r] == 0:
            continue
        w = ring_offsets[r]
        for k in range(ring_bounds[r], ring_bounds[r + 1]):
            h = ring_halves[k]
            line = h >> 1
            a = line_start[line]
            b = line_start[line + 1] - 1
            if h & 1 == 0:
                for i in range(a, b):
                    out[w, 0] = coords[i, 0]
                    out[w, 1] = coords[i, 1]
                    w += 1
            else:
                for i in range(b, a, -1):
                    out[w, 0] = coords[i, 0]
                    out[w, 1] = coords[i, 1]
                    w += 1
        out[w, 0] = out[ring_offsets[r], 0]
        out[w, 1] = out[ring_offsets[r], 1]
        s = ring_offsets[r]
        xmin[r] = out[s : w + 1, 0].min()
        xmax[r] = out[s : w + 1, 0].max()

    # Connected parts of the lines, to pair a part's outside only with other parts' shells.
    part = np.arange(nodes)
    for h in range(0, halves, 2):
        a = _root(part, origin[h])
        b = _root(part, origin[h + 1])
        if a != b:
            part[a] = b
    # Which polygon each ring belongs to (-1: none).
    owner = np.full(rings, -1, np.int64)
    loose = 0
    for r in range(rings):
        if size[r] > 0:
            owner[r] = shell_of[ring_boundary[r]]
            if owner[r] < 0:
                loose += 1
    if loose:
        part_of = _ring_part(part, origin, ring_halves, ring_bounds, rings)
        if not _outsides_placed(out, ring_offsets, twice, owner, xmin, xmax, part_of, size):
            return False, nothing[0], nothing[1], nothing[2], nothing[3]

    # Polygons: each shell, then its holes.
    shells = 0
    for r in range(rings):
        if owner[r] == r:
            shells += 1
    polygon_of = np.full(rings, -1, np.int64)
    polygon_offsets = np.zeros(shells + 1, np.int64)
    p = 0
    for r in range(rings):
        if owner[r] == r:
            polygon_of[r] = p
            p += 1
    holes_in = np.zeros(shells + 1, np.int64)
    for r in range(rings):
        if owner[r] >= 0:
            holes_in[polygon_of[owner[r]] + 1] += 1
    for q in range(shells):
        polygon_offsets[q + 1] = polygon_offsets[q] + holes_in[q + 1]
    slot = polygon_offsets[:-1].copy()
    order = np.empty(polygon_offsets[shells], np.int64)
    for r in range(rings):
        if owner[r] == r:
            order[slot[polygon_of[r]]] = r
            slot[polygon_of[r]] += 1
    for r in range(rings):
        if owner[r] >= 0 and owner[r] != r:
            order[slot[polygon_of[owner[r]]]] = r
            slot[polygon_of[owner[r]]] += 1
    kept_offsets = np.zeros(len(order) + 1, np.int64)
    for k in range(len(order)):
        kept_offsets[k + 1] = kept_offsets[k] + size[order[k]]
    kept = np.empty((kept_offsets[len(order)], 2), np.float64)
    for k in range(len(order)):
        r = order[k]
        kept[kept_offsets[k] : kept_offsets[k + 1]] = out[ring_offsets[r] : ring_offsets[r + 1]]
    face_of = np.full(halves, -1, np.int64)
    for r in range(rings):
        if owner[r] >= 0:
            for k in range(ring_bounds[r], ring_bounds[r + 1]):
                face_of[ring_halves[k]] = polygon_of[owner[r]]
    return True, kept, kept_offsets, polygon_offsets, face_of


@numba.njit(cache=True, nogil=True, inline="always")
def _root(part: np.ndarray, node: int) -> int:  # pragma: no cover - compiled
    """The representative of `node`'s connected part (union-find, halving the path)."""
    while part[node] != node:
        part[node] = part[part[node]]
        node = part[node]
    return node


@numba.njit(cache=True, nogil=True)
def _ring_part(
    part: np.ndarray,
    origin: np.ndarray,
    ring_halves: np.ndarray,
    ring_bounds: np.ndarray,
    rings: int,
) -> np.ndarray:  # pragma: no cover - compiled
    """The connected part of the lines each ring lies on."""
    out = np.empty(rings, np.int64)
    for r in range(rings):
        out[r] = _root(part, origin[ring_halves[ring_bounds[r]]])
    return out


@numba.njit(cache=True, nogil=True)
def _outsides_placed(
    out: np.ndarray,
    ring_offsets: np.ndarray,
    twice: np.ndarray,
    owner: np.ndarray,
    xmin: np.ndarray,
    xmax: np.ndarray,
    part_of: np.ndarray,
    size: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Make each part's outside (``owner`` -1) a hole of the smallest shell around it.

    Only shells of other parts are tried, at the ring's first vertex. The shells' edges are
    read once: each is tested against the points whose rays to +x it may cross (points
    sorted by y), so a feature of 200,000 vertices with hundreds of islands is not read once
    per island. False where a crossing is undecided.
    """
    rings = len(owner)
    loose = np.empty(rings, np.int64)
    count = 0
    for r in range(rings):
        if size[r] > 0 and owner[r] < 0:
            loose[count] = r
            count += 1
    loose = loose[:count]
    ys = np.empty(count)
    for k in range(count):
        ys[k] = out[ring_offsets[loose[k]], 1]
    by_y = np.argsort(ys)
    sorted_y = ys[by_y]
    inside = np.zeros(count, np.bool_)
    seen_by = np.full(count, -1, np.int64)
    touched = np.empty(count, np.int64)
    best = np.full(count, -1, np.int64)
    for s in range(rings):
        if twice[s] <= 0.0:
            continue
        hits = 0
        for i in range(ring_offsets[s], ring_offsets[s + 1] - 1):
            ay = out[i, 1]
            by = out[i + 1, 1]
            low = min(ay, by)
            high = max(ay, by)
            if high <= sorted_y[0] or low > sorted_y[count - 1]:
                continue
            first = np.searchsorted(sorted_y, low, side="left")
            stop = np.searchsorted(sorted_y, high, side="left")
            for j in range(first, stop):
                k = by_y[j]
                r = loose[k]
                px = out[ring_offsets[r], 0]
                if px < xmin[s] or px > xmax[s] or part_of[r] == part_of[s]:
                    continue
                crossing = ray_crossing(out, i, px, sorted_y[j])
                if crossing == 0:
                    return False
                if crossing > 0:
                    if seen_by[k] != s:
                        seen_by[k] = s
                        touched[hits] = k
                        hits += 1
                    inside[k] = not inside[k]
        for t in range(hits):
            k = touched[t]
            if inside[k] and (best[k] < 0 or twice[s] < twice[best[k]]):
                best[k] = s
            inside[k] = False
    for k in range(count):
        owner[loose[k]] = best[k]
    return True


@numba.njit(cache=True, nogil=True)
def _face_parts(face_of: np.ndarray, label: np.ndarray) -> tuple[int, np.ndarray]:
    # pragma: no cover - compiled
    """Union-find of the faces across the lines between two faces of one label."""
    faces = len(label)
    root = np.arange(faces)
    for h in range(0, len(face_of), 2):
        a = face_of[h]
        b = face_of[h + 1]
        if a < 0 or b < 0 or a == b or label[a] < 0 or label[a] != label[b]:
            continue
        a = _root(root, a)
        b = _root(root, b)
        if a != b:
            root[a] = b
    part = np.full(faces, -1, np.int64)
    number = np.full(faces, -1, np.int64)
    count = 0
    for f in range(faces):
        if label[f] < 0:
            continue
        r = _root(root, f)
        if number[r] < 0:
            number[r] = count
            count += 1
        part[f] = number[r]
    return count, part

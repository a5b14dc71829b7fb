"""Contiguous farmland blocks (集中连片): 百亩方, 千亩方, 万亩方, and how fragmented farmland is.

Permanent basic farmland should lie in contiguous blocks. Parcels (图斑) that touch, or that are
separated only by a gap no wider than a tolerance (a field road, a ditch), belong to one block;
blocks of at least 100, 1,000 and 10,000 亩 are 百亩方, 千亩方 and 万亩方.

The grouping is a graph computation, not a geometric dissolve: an STR-tree finds every pair of
parcels within the tolerance of each other (``dwithin``), pairs whose shortest connecting segment
crosses a barrier (a river, a highway) are dropped unless the two parcels share an edge, and the
blocks are the connected components of what is left. A block's area is the sum of its parcels'
ellipsoidal areas, so the roads and ditches between them are never counted. The outline drawn
for maps (a closing: buffer by half the tolerance and back) is built afterwards from the
finished grouping and changes no figure.

See ``docs/blocks.md`` for every definition.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike

from geozones.analysis._pairs import NEAR, UNDECIDED, candidate_pairs, classify_pairs, components
from geozones.analysis.coverage import ADMINISTRATIVE_LEVELS
from geozones.choices import checked_choice, checked_instance, checked_layer, checked_non_negative
from geozones.errors import (
    CRSError,
    FieldError,
    GeometryError,
    GeometryTypeWarning,
    MissingOutlinesWarning,
    OutsideZonesWarning,
)
from geozones.io.crs import crs_label
from geozones.io.validity import (
    LOWER_DIMENSIONAL_TYPES,
    POLYGONAL_TYPES,
    describe_features,
    geometry_array,
    make_polygonal,
    polygon_array,
    polygonal_parts,
    trimmed_for_intersection,
)
from geozones.measure.area import (
    ellipsoidal_area,
    linear_unit_metres,
    measured_polygons,
    require_crs,
)
from geozones.parallel import concatenate_blocks, for_spans, worker_count
from geozones.units import square_metres_per
from geozones.zones import to_crs, zone_codes, zone_of

if TYPE_CHECKING:
    import geopandas as gpd

#: Square metres in one 亩.
MU = square_metres_per("mu")
#: Block classes, smallest first, and the least area (亩) of each class above the first.
BLOCK_CLASSES: tuple[str, ...] = ("<100亩", "百亩方", "千亩方", "万亩方")
CLASS_THRESHOLDS_MU: tuple[float, ...] = (100.0, 1_000.0, 10_000.0)
#: Column suffixes of :func:`fragmentation` for the four classes.
CLASS_KEYS: tuple[str, ...] = ("under_100mu", "100mu", "1000mu", "10000mu")

# Bounding boxes are widened by this much (m) beyond half the tolerance, so that rounding in
# the box arithmetic never loses a pair; the exact distance test decides.
_SLACK = 1e-3
# The outline grows the parcels with mitred corners (so that shrinking gives every convex
# corner back exactly) and shrinks them with 2 segments per quarter circle: the arcs are only
# at the mouths of the filled gaps, and this is about half the time of GEOS's default of 8.
_QUAD_SEGMENTS = 2
# Below this many coordinates the outlines are built in the calling thread.
_THREADED_COORDINATES = 200_000


class FarmlandBlocks(NamedTuple):
    """What :func:`farmland_blocks` returns; unpack it or use the fields by name.

    Attributes
    ----------
    parcel_block : pandas.Series
        The block id of every farmland row (nullable ``Int64``, index of the farmland, named
        ``block``); ``<NA>`` for the parcels in `skipped`.
    blocks : GeoDataFrame
        One row per block, indexed by ``block`` (1, 2, …): ``parcels``, ``area_m2``,
        ``area_mu``, ``area_ha``, ``class``, ``zone`` (with zones) and the outline geometry.
    skipped : pandas.DataFrame
        The parcels in no block (null or empty geometry, or nothing left after repair), with
        their attributes and ``reason``. Empty when every parcel has a geometry.
    parcels : GeoDataFrame
        One row per farmland row: ``block``, ``area_m2`` (ellipsoidal), ``zone`` (with zones)
        and the repaired parcel geometry. :func:`fragmentation` works from it.
    """

    parcel_block: pd.Series
    blocks: gpd.GeoDataFrame
    skipped: pd.DataFrame
    parcels: gpd.GeoDataFrame


def farmland_blocks(
    farmland: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    tolerance_m: float = 10.0,
    barriers: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str | None = None,
    outline: bool = True,
) -> FarmlandBlocks:
    """Group farmland parcels into contiguous blocks and class them 百亩方 / 千亩方 / 万亩方.

    Two parcels are joined when the distance between them is at most `tolerance_m` (so
    parcels sharing an edge are always joined), unless the shortest segment between them
    crosses a barrier and they do not share an edge. A block is a set of parcels connected by
    joins. Its area is the sum of its parcels' ellipsoidal areas: gaps are never counted.

    Parameters
    ----------
    farmland : GeoDataFrame or GeoSeries
        Farmland parcels in a projected CRS in metres (a Gauss–Krüger zone). Invalid polygons
        are repaired with a :class:`~geozones.errors.GeometryRepairWarning`; null and empty
        geometries are put in no block and listed in ``skipped``, with a
        :class:`~geozones.errors.GeometryTypeWarning`.
    tolerance_m : float, default 10.0
        Widest gap (m) bridged between two parcels: field roads and ditches. A gap of exactly
        `tolerance_m` is bridged.
    barriers : GeoDataFrame or GeoSeries, optional
        Lines or polygons (rivers, highways, railways) that no join may cross. A join is
        dropped when the shortest segment between the two parcels meets a barrier line, or
        the interior of a barrier polygon, unless the parcels share an edge or overlap.
        Reprojected to the farmland's CRS with a warning if needed.
    zones : GeoDataFrame, optional
        Zones (counties); each parcel lies in the zone holding its representative point, and a
        block lies in the zones of its parcels (column ``zone``).
    zone_field : str, optional
        Field of `zones` holding the zone code (e.g. ``XZQDM``); the index when omitted.
    outline : bool, default True
        Draw an outline per block: the parcel itself for a one-parcel block, else the closing
        of the parcels (buffered by ``tolerance_m / 2`` and back). False leaves the geometry
        empty (None) and saves most of the time on large layers.

    Returns
    -------
    FarmlandBlocks
        ``(parcel_block, blocks, skipped, parcels)``. Block ids are 1, 2, … from south to
        north: blocks are ordered by their lowest parcel (the smallest ``(ymin, xmin, ymax,
        xmax, area)`` of a parcel's bounds), so they do not depend on the order of the rows.
        ``blocks.attrs`` records ``tolerance_m``.

    Raises
    ------
    MissingCRSError
        `farmland` has no CRS.
    CRSError
        The CRS is geographic, Mercator, or not in metres: distances would be meaningless.
    NonPolygonalGeometryError
        Points or lines among the parcels.
    GeometryError
        Points among the barriers.
    ValueError
        `tolerance_m` is negative or not finite.

    Examples
    --------
    Three 100 m × 100 m parcels (15 亩 each) in a row: an 8 m road after the first, a 12 m
    one after the second.

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> parcels = gpd.GeoDataFrame(
    ...     {"BSM": ["a", "b", "c"]},
    ...     geometry=[box(x, y, x + 100, y + 100), box(x + 108, y, x + 208, y + 100),
    ...               box(x + 220, y, x + 320, y + 100)],
    ...     crs=4527,
    ... )
    >>> parcel_block, blocks, skipped, _ = farmland_blocks(parcels, tolerance_m=10)
    >>> parcel_block.tolist()
    [1, 1, 2]
    >>> blocks[["parcels", "area_mu", "class"]].round(2)
           parcels  area_mu   class
    block
    1            2    30.00  <100亩
    2            1    15.00  <100亩
    >>> len(skipped)
    0

    A river between the first two parcels splits their block:

    >>> river = gpd.GeoSeries([box(x + 102, y - 50, x + 106, y + 150)], crs=4527)
    >>> farmland_blocks(parcels, barriers=river).parcel_block.tolist()
    [1, 2, 3]
    """
    checked_layer(farmland, name="farmland", series=True)
    if barriers is not None:
        checked_layer(barriers, name="barriers", series=True)
    tolerance = checked_non_negative(tolerance_m, name="tolerance_m", unit="m")
    crs = require_crs(farmland)
    _require_metric_crs(crs)
    codes = None if zones is None else zone_codes(zones, zone_field)
    barrier_parts = None if barriers is None else _barrier_array(barriers, crs)
    original = geometry_array(farmland)
    measured = measured_polygons(farmland, crs, purpose="farmland blocks")
    geoms = measured.geoms
    # Null geometries measure NaN, empty ones 0, and valid polygons more than 0.
    present = measured.area > 0
    zero = np.flatnonzero(measured.area == 0)
    present[zero] = ~_is_empty_or_missing(geoms[zero])
    index = np.flatnonzero(present)
    parcels = geoms[index]

    vertices = None
    if measured.bounds is None:
        bounds = shapely.bounds(parcels) if len(parcels) else np.zeros((0, 4))
    else:
        bounds = measured.bounds[index]
        unknown = np.flatnonzero(np.isnan(bounds[:, 0]))
        bounds[unknown] = shapely.bounds(parcels[unknown])
    if measured.coords is not None and measured.first is not None and measured.stop is not None:
        vertices = (measured.coords, measured.first[index], measured.stop[index])
    left, right = _neighbour_pairs(parcels, tolerance, bounds, vertices)
    if barrier_parts is not None:
        keep = ~_barred(parcels, left, right, *barrier_parts, tolerance, bounds)
        left, right = left[keep], right[keep]
    n = len(parcels)
    n_blocks, component = components(n, left, right)

    area_m2 = measured.area[index]
    numbering = _Numbering.of(bounds, area_m2, component, n_blocks)
    block_area = numbering.block_sum(area_m2)
    count = np.bincount(numbering.parcel_block, minlength=n_blocks + 1)[1:]

    zone_of_parcel: np.ndarray | None = None
    if zones is not None and codes is not None:
        zone_of_parcel = _parcel_zones(parcels, zones, codes, crs, area_m2)

    outlines = (
        _outlines(parcels, numbering.parcel_block, n_blocks, tolerance)
        if outline
        else np.full(n_blocks, None, dtype=object)
    )
    result = _assemble(
        farmland=farmland,
        original=original,
        geoms=geoms,
        index=index,
        parcel_block=numbering.parcel_block,
        area_m2=area_m2,
        count=count,
        block_area=block_area,
        zone_of_parcel=zone_of_parcel,
        outlines=outlines,
        crs=crs,
        tolerance=tolerance,
    )
    if len(result.skipped):
        warnings.warn(
            f"{len(result.skipped)} farmland parcel(s) have no geometry and are in no block "
            f"({describe_features(result.skipped.index)}); they are listed in .skipped",
            GeometryTypeWarning,
            stacklevel=2,
        )
    return result


def _is_empty_or_missing(geoms: np.ndarray) -> np.ndarray:
    return shapely.is_missing(geoms) | shapely.is_empty(geoms)


def block_class(area_mu: ArrayLike) -> pd.Categorical[str]:
    """The class of blocks of the given areas in 亩: ``<100亩``, 百亩方, 千亩方 or 万亩方.

    A block is in a class from the class's threshold on: exactly 100 亩 is a 百亩方, 1,000 亩
    a 千亩方, 10,000 亩 a 万亩方.

    Parameters
    ----------
    area_mu : array_like
        Block areas in 亩.

    Returns
    -------
    pandas.Categorical
        Ordered categories ``<100亩`` < ``百亩方`` < ``千亩方`` < ``万亩方``; NaN for NaN.

    Examples
    --------
    >>> import numpy as np
    >>> list(block_class([np.nextafter(100.0, 0), 100.0, 999.99, 1_000.0, 10_000.0]))
    ['<100亩', '百亩方', '百亩方', '千亩方', '万亩方']
    """
    values = np.asarray(area_mu, dtype=float)
    codes = np.searchsorted(np.asarray(CLASS_THRESHOLDS_MU), values, side="right")
    codes = np.where(np.isnan(values), -1, codes)
    return pd.Categorical.from_codes(
        codes, categories=pd.Index(BLOCK_CLASSES), ordered=True, validate=False
    )


def fragmentation(
    blocks: FarmlandBlocks,
    zones: gpd.GeoDataFrame,
    *,
    zone_field: str | None = None,
    unit: str = "mu",
    levels: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """How contiguous the farmland of each zone is: blocks by class, shares, sizes, edge density.

    A block that crosses a zone boundary is counted in every zone it lies in, with its class
    from its whole area and, in each zone, the area of its parcels there (a parcel lies in the
    zone of its representative point). ``docs/blocks.md`` defines every column.

    Parameters
    ----------
    blocks : FarmlandBlocks
        The result of :func:`farmland_blocks`.
    zones : GeoDataFrame
        Zone polygons (counties). Rows sharing a code form one zone. Reprojected to the
        farmland's CRS with a warning if needed.
    zone_field : str, optional
        Field of `zones` holding the zone code (e.g. ``XZQDM``); the index when omitted.
    unit : str, default "mu"
        Unit of the area columns (see :func:`geozones.area`).
    levels : tuple of str, optional
        With 6-digit administrative codes, report these levels instead of the zones as given:
        any of ``"county"``, ``"city"`` (first four digits) and ``"province"`` (first two),
        written as 6-digit codes (``990100``, ``990000``). Every level is computed from the
        parcels, so a block crossing two counties of one city is one block of the city.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``zone`` (with ``level`` first when `levels` is given), columns:
        ``zone_area``, ``farmland_area``, ``blocks``, ``blocks_<class>`` and
        ``area_<class>`` for the classes ``under_100mu``, ``100mu`` (百亩方), ``1000mu``
        (千亩方) and ``10000mu`` (万亩方), ``percent_100mu_plus``, ``mean_block_area``,
        ``largest_block_area``, ``largest_block_percent``, ``crossing_blocks``, ``edge_m``
        and ``edge_density`` (m of block outline per ha of zone area). ``attrs`` records
        ``unit``, ``tolerance_m`` and ``outside_area``, the farmland in no zone.

    Raises
    ------
    FieldError
        `zone_field` is not a field of `zones`, or `levels` is given and a code is not
        6 digits.

    Examples
    --------
    Two counties of 1 km²; a 180 亩 block straddles the line between them (120 亩 west,
    60 亩 east), and a 15 亩 parcel lies in the east:

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> counties = gpd.GeoDataFrame(
    ...     {"XZQDM": ["990102", "990121"]},
    ...     geometry=[box(x, y, x + 1000, y + 1000), box(x + 1000, y, x + 2000, y + 1000)],
    ...     crs=4527,
    ... )
    >>> farmland = gpd.GeoDataFrame(
    ...     geometry=[box(x + 600, y, x + 1000, y + 200), box(x + 1000, y, x + 1200, y + 200),
    ...               box(x + 1500, y + 500, x + 1600, y + 600)],
    ...     crs=4527,
    ... )
    >>> result = farmland_blocks(farmland)
    >>> table = fragmentation(result, counties, zone_field="XZQDM", levels=("county", "city"))
    >>> table[["level", "farmland_area", "blocks", "blocks_100mu", "percent_100mu_plus"]].round(1)
             level  farmland_area  blocks  blocks_100mu  percent_100mu_plus
    zone
    990102  county          120.0       1             1               100.0
    990121  county           75.0       2             1                80.0
    990100    city          195.0       2             1                92.3
    """
    checked_instance(
        blocks, FarmlandBlocks, name="blocks", needed="the FarmlandBlocks farmland_blocks returns"
    )
    per_unit = square_metres_per(unit)
    parcels = blocks.parcels
    crs = pyproj.CRS.from_user_input(parcels.crs)
    codes = zone_codes(zones, zone_field)
    if levels:
        _check_levels(levels, codes)
    zones = to_crs(zones, crs, name="the zone layer", target="the farmland's")
    zone_geoms = polygon_array(zones, purpose="fragmentation")

    placed = parcels["block"].notna().to_numpy()
    parcel_geoms = geometry_array(parcels)[placed]
    parcel_zone = zone_of(parcel_geoms, zone_geoms, codes=codes)
    frame = pd.DataFrame(
        {
            "zone": parcel_zone,
            "block": parcels["block"].to_numpy()[placed].astype(np.int64),
            "area": parcels["area_m2"].to_numpy()[placed],
        }
    )
    outside = float(frame.loc[frame["zone"].isna(), "area"].sum())
    frame = frame.dropna(subset=["zone"])
    block_classes = blocks.blocks["class"]
    zone_area = pd.Series(ellipsoidal_area(zone_geoms, crs), index=codes).groupby(level=0).sum()
    edge = _edge_length(blocks.blocks, zone_geoms, codes)

    if levels:
        ordered = sorted(levels, key=lambda name: -ADMINISTRATIVE_LEVELS[name])
        tables = []
        for level in ordered:
            digits = ADMINISTRATIVE_LEVELS[level]

            def key(code: pd.Index, digits: int = digits) -> pd.Index:
                return code.str[:digits].str.ljust(6, "0")

            table = _fragmentation_table(
                frame.assign(zone=key(pd.Index(frame["zone"]))),
                block_classes,
                zone_area.groupby(key(zone_area.index)).sum(),
                None if edge is None else edge.groupby(key(edge.index)).sum(),
                per_unit,
            )
            table.insert(0, "level", level)
            tables.append(table)
        result = pd.concat(tables)
    else:
        result = _fragmentation_table(frame, block_classes, zone_area, edge, per_unit)
    result.index.name = "zone"
    result.attrs.update(
        unit=unit,
        tolerance_m=blocks.blocks.attrs.get("tolerance_m"),
        outside_area=outside / per_unit,
    )
    if edge is None:
        warnings.warn(
            "the blocks have no outlines (farmland_blocks(..., outline=False)), so edge_m and "
            "edge_density are NaN",
            MissingOutlinesWarning,
            stacklevel=2,
        )
    return result


# ------------------------------------------------------------------------------------------
# grouping


def _require_metric_crs(crs: pyproj.CRS) -> None:
    """Refuse CRSs in which a distance in CRS units is not a distance in metres on the ground."""
    operation = crs.coordinate_operation
    method = operation.method_name.lower() if operation is not None else ""
    if crs.is_geographic or ("mercator" in method and "transverse" not in method):
        raise CRSError(
            f"farmland blocks join parcels closer than a distance in metres, which "
            f"{crs_label(crs)} does not measure; reproject to a CGCS2000 Gauss-Kruger zone first"
        )
    if linear_unit_metres(crs) != 1.0:
        raise CRSError(
            f"farmland blocks need a CRS in metres, not {crs.axis_info[0].unit_name}; "
            "reproject to a CGCS2000 Gauss-Kruger zone first"
        )


def _neighbour_pairs(
    geoms: np.ndarray,
    tolerance: float,
    bounds: np.ndarray | None = None,
    vertices: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` of geometries at most `tolerance` apart (shapely ``dwithin``).

    The same pairs as ``STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)``
    but many times faster on parcels: boxes widened by the tolerance are matched on a grid,
    pairs whose boxes are farther apart than the tolerance are dropped, most of the rest are
    settled by certain tests on the vertices (`vertices`: flat coordinates and each
    geometry's span of them, -1 where unknown; see :mod:`geozones.analysis._pairs`), and ``dwithin``
    decides the others, in threads.
    """
    if len(geoms) < 2:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    if bounds is None:
        bounds = shapely.bounds(geoms)
    left, right = candidate_pairs(bounds, tolerance / 2 + _SLACK, tolerance + 2 * _SLACK)
    verdict = np.full(len(left), UNDECIDED, dtype=np.int8)
    if vertices is not None:
        coords, first, stop = vertices
        coords = np.ascontiguousarray(coords, dtype=np.float64)
        first = np.ascontiguousarray(first, dtype=np.int64)
        stop = np.ascontiguousarray(stop, dtype=np.int64)

        def classify(span: tuple[int, int]) -> None:
            a, b = span
            classify_pairs(coords, first, stop, left[a:b], right[a:b], tolerance, verdict[a:b])

        for_spans(classify, len(left), min_span=10_000)
    near = verdict == NEAR
    undecided = np.flatnonzero(verdict == UNDECIDED)
    if len(undecided):
        near[undecided] = concatenate_blocks(
            lambda pair: shapely.dwithin(geoms[pair[:, 0]], geoms[pair[:, 1]], tolerance),
            np.column_stack([left[undecided], right[undecided]]),
        )
    return left[near], right[near]


def _barrier_array(
    barriers: gpd.GeoDataFrame | gpd.GeoSeries, crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Barrier parts (polygons repaired) in the farmland's CRS, and which are polygons."""
    import geopandas as gpd

    frame = barriers if isinstance(barriers, gpd.GeoDataFrame) else barriers.to_frame()
    frame = to_crs(frame, crs, name="the barrier layer", target="the farmland's")
    parts = shapely.get_parts(geometry_array(frame))
    types = shapely.get_type_id(parts)
    points = (types == shapely.GeometryType.POINT) | (types == shapely.GeometryType.MULTIPOINT)
    if points.any():
        raise GeometryError(
            f"barriers must be lines or polygons, but {int(points.sum())} part(s) are points; "
            "remove them or buffer them into polygons"
        )
    is_polygon = np.isin(types, POLYGONAL_TYPES)
    is_line = np.isin(types, LOWER_DIMENSIONAL_TYPES)
    parts = parts[(is_polygon | is_line) & ~shapely.is_empty(parts)]
    is_polygon = np.isin(shapely.get_type_id(parts), POLYGONAL_TYPES)
    invalid = is_polygon & ~shapely.is_valid(parts)
    if invalid.any():
        parts = parts.copy()
        parts[invalid] = make_polygonal(parts[invalid])
    return parts, is_polygon


def _barred(
    geoms: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    barriers: np.ndarray,
    is_polygon: np.ndarray,
    tolerance: float,
    bounds: np.ndarray,
) -> np.ndarray:
    """True for joins crossing a barrier (shortest segment) between parcels sharing no edge."""
    barred = np.zeros(len(left), dtype=bool)
    if len(left) == 0 or len(barriers) == 0:
        return barred
    # A joining segment lies within `tolerance` of its first parcel: only parcels whose box,
    # widened by the tolerance, meets a barrier can have a barred join. Each barrier is
    # prepared once and tested against the boxes near it.
    involved = np.unique(left)
    reach = tolerance + _SLACK
    box = bounds[involved]
    boxes = shapely.box(box[:, 0] - reach, box[:, 1] - reach, box[:, 2] + reach, box[:, 3] + reach)
    shapely.prepare(barriers)
    near = np.zeros(len(geoms), dtype=bool)
    near[involved[shapely.STRtree(boxes).query(barriers, predicate="intersects")[1]]] = True
    pairs = np.flatnonzero(near[left])
    if len(pairs) == 0:
        return barred
    segments = concatenate_blocks(
        lambda pair: shapely.shortest_line(geoms[pair[:, 0]], geoms[pair[:, 1]]),
        np.column_stack([left[pairs], right[pairs]]),
    )
    # Touching parcels: the segment is a point; a degenerate line would be invalid.
    degenerate = shapely.length(segments) == 0
    segments[degenerate] = shapely.get_point(segments[degenerate], 0)
    barrier, segment = shapely.STRtree(segments).query(barriers, predicate="intersects")
    polygon = is_polygon[barrier]
    # For a polygon barrier only its interior counts: a segment along its edge does not cross.
    crosses = ~polygon
    crosses[polygon] = ~shapely.touches(barriers[barrier[polygon]], segments[segment[polygon]])
    barred[pairs[segment[crosses]]] = True
    candidates = np.flatnonzero(barred)
    a, b = geoms[left[candidates]], geoms[right[candidates]]
    share_edge = shapely.relate_pattern(a, b, "****1****") | shapely.relate_pattern(
        a, b, "2********"
    )
    barred[candidates[share_edge]] = False
    return barred


class _Numbering:
    """Block ids from south to north, independent of row order."""

    def __init__(self, order: np.ndarray, parcel_block: np.ndarray) -> None:
        self.order = order  # parcels sorted by block id, then by their own sort key
        self.parcel_block = parcel_block  # block id (1-based) of each parcel
        block_of_sorted = parcel_block[order]
        self.starts = np.flatnonzero(np.diff(block_of_sorted, prepend=0) != 0)

    @classmethod
    def of(
        cls, bounds: np.ndarray, area: np.ndarray, component: np.ndarray, n_blocks: int
    ) -> _Numbering:
        n = len(bounds)
        if n == 0:
            return cls(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64))
        by_key = _sort_parcels(bounds, area)
        # A block is ranked by its first parcel in that order.
        first = np.full(n_blocks, n)
        np.minimum.at(first, component[by_key], np.arange(n))
        block_id = np.empty(n_blocks, dtype=np.int64)
        block_id[np.argsort(first)] = np.arange(1, n_blocks + 1)
        parcel_block = block_id[component]
        order = by_key[np.argsort(parcel_block[by_key], kind="stable")]
        return cls(order, parcel_block)

    def block_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum per block, parcels always added in the same order (so bit-for-bit stable)."""
        if len(self.order) == 0:
            return np.zeros(0)
        return np.add.reduceat(values[self.order], self.starts)


def _sort_parcels(bounds: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Parcels ordered by ``(ymin, xmin, ymax, xmax, area)``: by ``ymin``, ties broken after."""
    by_key = np.argsort(bounds[:, 1], kind="stable")
    ymin = bounds[by_key, 1]
    tied = np.flatnonzero(np.diff(ymin) == 0)
    if len(tied):
        # Runs of equal ymin (parcels along one straight road) are sorted by the other keys.
        members = np.unique(np.concatenate([tied, tied + 1]))
        parcels = by_key[members]
        within = np.lexsort(
            (
                area[parcels],
                bounds[parcels, 2],
                bounds[parcels, 3],
                bounds[parcels, 0],
                ymin[members],
            )
        )
        by_key[members] = parcels[within]
    return by_key


# ------------------------------------------------------------------------------------------
# zones


def _parcel_zones(
    parcels: np.ndarray,
    zones: gpd.GeoDataFrame,
    codes: np.ndarray,
    crs: pyproj.CRS,
    area_m2: np.ndarray,
) -> np.ndarray:
    zones = to_crs(zones, crs, name="the zone layer", target="the farmland's")
    zone_geoms = polygon_array(zones, purpose="farmland blocks")
    result = zone_of(parcels, zone_geoms, codes=codes)
    outside = np.flatnonzero(pd.isna(result))
    if len(outside):
        warnings.warn(
            f"{len(outside)} parcel(s) ({area_m2[outside].sum() / MU:,.2f} 亩) lie outside "
            "every zone; their zone is None",
            OutsideZonesWarning,
            stacklevel=3,
        )
    return result


def _block_zones(parcel_block: np.ndarray, zone_of_parcel: np.ndarray, n_blocks: int) -> np.ndarray:
    """Per block, the codes of the zones of its parcels, sorted and joined with commas."""
    pairs = (
        pd.DataFrame({"block": parcel_block, "zone": zone_of_parcel})
        .dropna()
        .drop_duplicates()
        .sort_values(["block", "zone"])
    )
    result = np.full(n_blocks + 1, None, dtype=object)
    several = pairs["block"].duplicated(keep=False).to_numpy()
    single = pairs[~several]
    result[single["block"].to_numpy()] = single["zone"].to_numpy()
    if several.any():
        joined = pairs[several].groupby("block")["zone"].agg(",".join)
        result[joined.index.to_numpy()] = joined.to_numpy()
    return result[1:]


# ------------------------------------------------------------------------------------------
# outlines


def _outlines(
    geoms: np.ndarray, parcel_block: np.ndarray, n_blocks: int, tolerance: float
) -> np.ndarray:
    """Per block: its parcel if alone, else the closing of its parcels by ``tolerance / 2``.

    A closing (grow by ``r``, shrink by ``r``) fills every gap narrower than ``2 r`` and keeps
    the parcels' outer edges and corners; corners sharper than the mitre limit (about 23°)
    lose their tips.
    """
    outlines = np.full(n_blocks, None, dtype=object)
    if n_blocks == 0:
        return outlines
    count = np.bincount(parcel_block, minlength=n_blocks + 1)
    alone = count[parcel_block] == 1
    outlines[parcel_block[alone] - 1] = geoms[alone]
    together = np.flatnonzero(~alone)
    if len(together) == 0:
        return outlines
    parts, owner = shapely.get_parts(geoms[together], return_index=True)
    part_block = parcel_block[together][owner]
    order = np.argsort(part_block, kind="stable")
    parts, part_block = parts[order], part_block[order]
    blocks, compact = np.unique(part_block, return_inverse=True)
    collections = shapely.multipolygons(parts, indices=compact)
    radius = max(tolerance / 2, _SLACK)

    def close(items: np.ndarray) -> np.ndarray:
        grown = shapely.buffer(items, radius, join_style="mitre")
        closed = shapely.buffer(grown, -radius, quad_segs=_QUAD_SEGMENTS)
        invalid = ~shapely.is_valid(closed)
        closed[invalid] = make_polygonal(closed[invalid])
        return closed

    closed = _map_balanced(close, collections, shapely.get_num_coordinates(collections))
    outlines[blocks - 1] = closed
    return outlines


def _map_balanced(
    func: Callable[[np.ndarray], np.ndarray], items: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """``func(items)``, computed on chunks of about equal total weight in threads."""
    workers = worker_count()
    if workers == 1 or weights.sum() < _THREADED_COORDINATES:
        return func(items)
    heaviest_first = np.argsort(-weights, kind="stable")
    cumulative = np.cumsum(weights[heaviest_first])
    cuts = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], 8 * workers + 1)[1:-1])
    chunks = [chunk for chunk in np.split(heaviest_first, cuts) if len(chunk)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda chunk: func(items[chunk]), chunks))
    out = np.empty(len(items), dtype=object)
    for chunk, result in zip(chunks, results, strict=True):
        out[chunk] = result
    return out


# ------------------------------------------------------------------------------------------
# results


def _assemble(
    *,
    farmland: gpd.GeoDataFrame | gpd.GeoSeries,
    original: np.ndarray,
    geoms: np.ndarray,
    index: np.ndarray,
    parcel_block: np.ndarray,
    area_m2: np.ndarray,
    count: np.ndarray,
    block_area: np.ndarray,
    zone_of_parcel: np.ndarray | None,
    outlines: np.ndarray,
    crs: pyproj.CRS,
    tolerance: float,
) -> FarmlandBlocks:
    import geopandas as gpd

    n_rows = len(geoms)
    ids = np.arange(1, len(count) + 1)
    area_mu = block_area / MU
    columns: dict[str, object] = {
        "parcels": count,
        "area_m2": block_area,
        "area_mu": area_mu,
        "area_ha": block_area / square_metres_per("ha"),
        "class": block_class(area_mu),
    }
    if zone_of_parcel is not None:
        columns["zone"] = _block_zones(parcel_block, zone_of_parcel, len(count))
    blocks = gpd.GeoDataFrame(
        columns, geometry=outlines, crs=crs, index=pd.Index(ids, name="block")
    )
    blocks.attrs["tolerance_m"] = tolerance

    values = np.zeros(n_rows, dtype=np.int64)
    values[index] = parcel_block
    unplaced = np.ones(n_rows, dtype=bool)
    unplaced[index] = False
    block_of_row = pd.arrays.IntegerArray(values, unplaced)
    series = pd.Series(block_of_row, index=farmland.index, name="block")

    area_of_row = np.full(n_rows, np.nan)
    area_of_row[index] = area_m2
    parcel_columns: dict[str, object] = {"block": block_of_row, "area_m2": area_of_row}
    if zone_of_parcel is not None:
        zone_of_row = np.full(n_rows, None, dtype=object)
        zone_of_row[index] = zone_of_parcel
        parcel_columns["zone"] = zone_of_row
    parcels = gpd.GeoDataFrame(parcel_columns, geometry=geoms, crs=crs, index=farmland.index)
    return FarmlandBlocks(series, blocks, _skipped(farmland, original, index), parcels)


def _skipped(
    farmland: gpd.GeoDataFrame | gpd.GeoSeries, original: np.ndarray, index: np.ndarray
) -> pd.DataFrame:
    """The rows in no block, with their attributes and why."""
    missing = np.ones(len(original), dtype=bool)
    missing[index] = False
    rows = np.flatnonzero(missing)
    geoms = original[rows]
    reason = np.where(
        shapely.is_missing(geoms),
        "null geometry",
        np.where(shapely.is_empty(geoms), "empty geometry", "empty after repair"),
    )
    if hasattr(farmland, "columns"):
        attributes = pd.DataFrame(farmland.iloc[rows].drop(columns=farmland.geometry.name))
    else:
        attributes = pd.DataFrame(index=farmland.index[rows])
    return attributes.assign(reason=reason)


# ------------------------------------------------------------------------------------------
# fragmentation


def _check_levels(levels: tuple[str, ...], codes: np.ndarray) -> None:
    for level in levels:
        checked_choice(level, ADMINISTRATIVE_LEVELS, what="level")
    malformed = [str(code) for code in np.unique(codes) if not _is_admin_code(code)]
    if malformed:
        raise FieldError(
            f"roll-up to {', '.join(levels)} needs 6-digit administrative codes (XZQDM); "
            f"these are not: {', '.join(malformed[:5])}"
        )


def _is_admin_code(code: object) -> bool:
    return isinstance(code, str) and len(code) == 6 and code.isdigit()


def _edge_length(
    blocks: gpd.GeoDataFrame, zone_geoms: np.ndarray, codes: np.ndarray
) -> pd.Series | None:
    """Length (m, on the plane) of block outline boundaries in each zone code, None if unknown.

    An outline inside a zone puts its whole perimeter there. An outline across zones puts in
    each zone the part of its boundary that bounds its part in the zone: the cut along the
    zone boundary is no edge, and a rim lying on the zone boundary goes to the zone on the
    block's side of it.
    """
    outlines = geometry_array(blocks)
    if shapely.is_missing(outlines).any():
        return None
    zone, outline = shapely.STRtree(outlines).query(zone_geoms, predicate="intersects")
    shapely.prepare(zone_geoms)
    inside = concatenate_blocks(
        lambda pair: shapely.covers(zone_geoms[pair[:, 0]], outlines[pair[:, 1]]),
        np.column_stack([zone, outline]),
    )
    length = shapely.length(outlines[outline])
    crossing = np.flatnonzero(~inside)
    if len(crossing):
        crossing_outlines = outlines[outline[crossing]]
        parts = polygonal_parts(
            shapely.intersection(
                *trimmed_for_intersection(crossing_outlines, zone_geoms[zone[crossing]])
            )
        )
        rims = shapely.intersection(shapely.boundary(crossing_outlines), parts)
        length[crossing] = shapely.length(rims)
    return pd.Series(length).groupby(codes[zone]).sum().reindex(np.unique(codes), fill_value=0.0)


def _fragmentation_table(
    frame: pd.DataFrame,
    block_classes: pd.Series,
    zone_area: pd.Series,
    edge: pd.Series | None,
    per_unit: float,
) -> pd.DataFrame:
    """The measures per zone from parcels (zone, block, area m²) and the blocks' classes."""
    parts = frame.groupby(["zone", "block"], sort=True)["area"].sum().reset_index()
    parts["class"] = block_classes.reindex(parts["block"].to_numpy()).to_numpy()
    zones_of_block = parts.groupby("block")["zone"].transform("size")
    parts["crossing"] = zones_of_block.to_numpy() > 1
    by_zone = parts.groupby("zone", sort=True)

    index = zone_area.index
    table = pd.DataFrame(index=index)
    table["zone_area"] = zone_area / per_unit
    farmland_m2 = by_zone["area"].sum().reindex(index, fill_value=0.0)
    table["farmland_area"] = farmland_m2 / per_unit
    table["blocks"] = by_zone.size().reindex(index, fill_value=0).astype(int)
    counts = parts.groupby(["zone", "class"], observed=False).size().unstack("class")
    areas = parts.groupby(["zone", "class"], observed=False)["area"].sum().unstack("class")
    counts = counts.reindex(index=index, columns=list(BLOCK_CLASSES), fill_value=0).fillna(0)
    areas = areas.reindex(index=index, columns=list(BLOCK_CLASSES), fill_value=0.0).fillna(0.0)
    for label, key in zip(BLOCK_CLASSES, CLASS_KEYS, strict=True):
        table[f"blocks_{key}"] = counts[label].astype(int)
    for label, key in zip(BLOCK_CLASSES, CLASS_KEYS, strict=True):
        table[f"area_{key}"] = areas[label] / per_unit
    in_large = areas[list(BLOCK_CLASSES[1:])].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["percent_100mu_plus"] = 100.0 * in_large / farmland_m2.where(farmland_m2 > 0)
        table["mean_block_area"] = table["farmland_area"] / table["blocks"].where(
            table["blocks"] > 0
        )
        largest = by_zone["area"].max().reindex(index, fill_value=0.0)
        table["largest_block_area"] = largest / per_unit
        table["largest_block_percent"] = 100.0 * largest / farmland_m2.where(farmland_m2 > 0)
    table["crossing_blocks"] = by_zone["crossing"].sum().reindex(index, fill_value=0).astype(int)
    if edge is None:
        table["edge_m"] = np.nan
        table["edge_density"] = np.nan
    else:
        table["edge_m"] = edge.reindex(index, fill_value=0.0)
        table["edge_density"] = table["edge_m"] / (zone_area / square_metres_per("ha"))
    return table

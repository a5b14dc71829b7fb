"""Zones (counties, cities, provinces) and the shared steps of measuring things inside them."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.choices import checked_layer
from geozones.errors import (
    CRSReprojectionWarning,
    EmptyLayerError,
    FieldError,
    MissingCRSError,
    OptionError,
    ZoneCodeWarning,
    ZoneError,
    ZoneGapWarning,
)
from geozones.measure.tolerance import DEFAULT_XY_TOLERANCE

if TYPE_CHECKING:
    import geopandas as gpd


def zone_codes(
    zones: gpd.GeoDataFrame, field: str | None, *, source: str = "the zone layer"
) -> np.ndarray:
    """The code of each zone feature as a string: `field`'s values, or the index labels.

    Parameters
    ----------
    zones : GeoDataFrame
        Zone polygons.
    field : str or None
        The field holding each zone's code (e.g. ``XZQDM``); None for the index.
    source : str, default "the zone layer"
        How to name the layer in messages.

    Returns
    -------
    numpy.ndarray
        One code per zone feature, stripped of surrounding blanks.

    Raises
    ------
    EmptyLayerError
        `zones` has no features.
    MissingCRSError
        `zones` has no CRS.
    FieldError
        `field` is not a field of `zones`.
    ZoneError
        A zone has no code (NULL, NaN or blank): its area would be in no row.
    """
    checked_layer(zones, name="zones")
    if len(zones) == 0:
        raise EmptyLayerError("the zone layer has no features; zone polygons are needed")
    if zones.crs is None:
        raise MissingCRSError("the zone layer has no CRS; read it with geozones.read_layer")
    if field is None:
        return np.asarray(zones.index.astype(str))
    if field not in zones.columns:
        fields = ", ".join(map(str, zones.columns.drop(zones.geometry.name)))
        raise FieldError(f"zone field {field!r} is not in the zone layer; its fields are: {fields}")
    values = zones[field]
    codes = values.astype(str).str.strip()
    missing = values.isna().to_numpy() | (codes == "").to_numpy()
    if missing.any():
        from geozones.io.validity import describe_features

        raise ZoneError(
            f"{source}: feature(s) {describe_features(zones.index[missing])} have no zone code "
            f"({field} is empty); their area would be in no row. Give every zone its code"
        )
    return np.asarray(codes)


def to_crs(layer: gpd.GeoDataFrame, crs: pyproj.CRS, *, name: str, target: str) -> gpd.GeoDataFrame:
    """`layer` in `crs`: unchanged if already there, else reprojected with a warning naming both.

    Parameters
    ----------
    layer : GeoDataFrame
        The layer to align.
    crs : pyproj.CRS
        The CRS wanted.
    name : str
        What the layer is, for messages ("the layer", "layer 'redline'").
    target : str
        Whose CRS `crs` is, for messages ("the zones'", "layer 'farmland''s").

    Returns
    -------
    GeoDataFrame
        `layer`, or a reprojected copy.

    Raises
    ------
    MissingCRSError
        `layer` has no CRS.
    """
    checked_layer(layer, name=name, series=True)
    if layer.crs is None:
        raise MissingCRSError(f"{name} has no CRS; read it with geozones.read_layer")
    own = pyproj.CRS.from_user_input(layer.crs)
    if own == crs:
        return layer
    warnings.warn(
        f"{name} is in {own.name} but {target} CRS is {crs.name}; {name} was reprojected "
        f"to {crs.name}",
        CRSReprojectionWarning,
        stacklevel=3,
    )
    return layer.to_crs(crs)


def split_by_zones(
    geoms: np.ndarray, zones: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut polygons at zone boundaries; a polygon inside one zone is kept whole.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons.
    zones : numpy.ndarray of shapely geometries
        Valid zone polygons, not overlapping each other.

    Returns
    -------
    pieces : numpy.ndarray
        The parts of `geoms` inside each zone, with area.
    geom_index, zone_index : numpy.ndarray
        For each piece, the position of its polygon in `geoms` and of its zone in `zones`.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> pieces, geom_index, zone_index = split_by_zones(
    ...     np.array([box(0, 0, 2, 1)]), np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)])
    ... )
    >>> [piece.area for piece in pieces], zone_index.tolist()
    ([1.0, 1.0], [0, 1])
    """
    from geozones.io.validity import polygonal_parts, trimmed_for_intersection

    # The tree holds the few zones; the many polygons are matched to them by their boxes, and
    # a prepared zone that covers a polygon keeps it whole without any overlay.
    geom_index, zone_index = shapely.STRtree(zones).query(geoms)
    order = np.lexsort((zone_index, geom_index))
    zone_index, geom_index = zone_index[order], geom_index[order]
    shapely.prepare(zones)
    inside = shapely.covers(zones[zone_index], geoms[geom_index])
    pieces = geoms[geom_index].copy()
    crossing = np.flatnonzero(~inside)
    # A county boundary of 10,000 vertices: each overlay reads only its part near the polygon.
    pieces[crossing] = polygonal_parts(
        shapely.intersection(
            *trimmed_for_intersection(geoms[geom_index[crossing]], zones[zone_index[crossing]])
        )
    )
    keep = ~shapely.is_empty(pieces) & (shapely.area(pieces) > 0)
    return pieces[keep], geom_index[keep], zone_index[keep]


def outside_zones(geoms: np.ndarray, zones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parts of polygons that lie in no zone.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons.
    zones : numpy.ndarray of shapely geometries
        Valid zone polygons.

    Returns
    -------
    pieces : numpy.ndarray
        One polygonal piece, with area, per polygon that reaches out of the zones (a polygon
        in no zone is its own piece); the pieces may overlap where the polygons do.
    index : numpy.ndarray
        The position in `geoms` of each piece's polygon.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> pieces, index = outside_zones(
    ...     np.array([box(0, 0, 3, 1), box(0, 0, 1, 1)]), np.array([box(0, 0, 2, 1)])
    ... )
    >>> [piece.area for piece in pieces], index.tolist()
    ([1.0], [0])
    """
    from geozones.io.validity import polygonal_parts, trimmed_near

    # Most polygons lie inside one zone: a prepared zone covering them settles it, and only the
    # rest are cut by the union of the zones (never the whole layer unioned, which at province
    # scale is the costliest step of a coverage).
    geom_index, zone_index = shapely.STRtree(zones).query(geoms)
    shapely.prepare(zones)
    inside = np.zeros(len(geoms), dtype=bool)
    inside[geom_index[shapely.covers(zones[zone_index], geoms[geom_index])]] = True
    rest = np.flatnonzero(~inside)
    if len(rest) == 0:
        return geoms[rest], rest
    union = union_of_zones(zones)
    shapely.prepare(union)
    rest = rest[~shapely.covers(union, geoms[rest])]
    # The province's boundary can hold 100,000 vertices: each difference reads its part near
    # the polygon.
    near = trimmed_near(np.full(len(rest), union, dtype=object), geoms[rest])
    pieces = polygonal_parts(shapely.difference(geoms[rest], near))
    keep = ~shapely.is_empty(pieces) & (shapely.area(pieces) > 0)
    return pieces[keep], rest[keep]


def codes_of_parts(codes: np.ndarray, zone_index: np.ndarray) -> np.ndarray:
    """The code of each part's zone (`zone_index` of :func:`zone_parts`), None outside them all.

    Parameters
    ----------
    codes : numpy.ndarray
        The zones' codes (:func:`zone_codes`).
    zone_index : numpy.ndarray of int
        Per part, the position of its zone, or -1.

    Returns
    -------
    numpy.ndarray of object

    Examples
    --------
    >>> codes_of_parts(np.array(["110101", "110102"]), np.array([1, -1, 0])).tolist()
    ['110102', None, '110101']
    """
    zone_index = np.asarray(zone_index)
    labels = np.asarray(codes)[np.maximum(zone_index, 0)].astype(object)
    labels[zone_index < 0] = None
    return labels


def zone_parts(
    geoms: np.ndarray, zones: np.ndarray, *, area: np.ndarray, crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each polygon's parts in every zone and outside them all, with their ellipsoidal area.

    :func:`split_by_zones`, then :func:`outside_zones` for the polygons no zone covers
    whole. A polygon inside one zone is its own part, and keeps its `area` (most of a
    layer's features): only the parts a boundary cut are measured.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygons, none missing or empty.
    zones : numpy.ndarray of shapely geometries
        Valid zone polygons, not overlapping each other.
    area : numpy.ndarray
        The ellipsoidal area of each of `geoms` (m²).
    crs : pyproj.CRS
        The CRS of both.

    Returns
    -------
    pieces : numpy.ndarray
        The parts with area: those in zones, then those outside every zone.
    geom_index, zone_index : numpy.ndarray
        For each part, the position of its polygon in `geoms` and of its zone in `zones`
        (-1 outside every zone).
    piece_area : numpy.ndarray
        The ellipsoidal area of each part (m²).

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> crs = pyproj.CRS(4527)
    >>> x, y = 39_500_000, 3_150_000
    >>> zones = np.array([box(x, y, x + 100, y + 100), box(x + 100, y, x + 200, y + 100)])
    >>> parcels = np.array([box(x + 10, y, x + 20, y + 10), box(x + 190, y, x + 210, y + 10)])
    >>> pieces, geom_index, zone_index, piece_area = zone_parts(
    ...     parcels, zones, area=np.array([100.0, 200.0]), crs=crs
    ... )
    >>> geom_index.tolist(), zone_index.tolist(), piece_area.round(1).tolist()
    ([0, 1, 1], [0, 1, -1], [100.0, 100.0, 100.0])
    """
    from geozones.io.provenance import object_ids
    from geozones.measure.area import ellipsoidal_area

    pieces, geom_index, zone_index = split_by_zones(geoms, zones)
    whole = object_ids(pieces) == object_ids(geoms[geom_index])  # kept whole: the same object
    covered = np.zeros(len(geoms), dtype=bool)
    covered[geom_index[whole]] = True
    rest = np.flatnonzero(~covered)
    outside, lost = outside_zones(geoms[rest], zones)
    pieces = np.concatenate([pieces, outside])
    geom_index = np.concatenate([geom_index, rest[lost]])
    zone_index = np.concatenate([zone_index, np.full(len(lost), -1, dtype=zone_index.dtype)])
    whole = np.concatenate([whole, np.zeros(len(lost), dtype=bool)])
    piece_area = np.asarray(area, dtype=float)[geom_index]
    cut = np.flatnonzero(~whole)
    if len(cut):
        piece_area[cut] = ellipsoidal_area(pieces[cut], crs)
    return pieces, geom_index, zone_index, piece_area


def union_of_zones(zones: np.ndarray) -> shapely.Geometry:
    """The land of all the zones, as one geometry.

    Zones tile the land (counties of a province): GEOS's coverage union dissolves the edges
    they share without overlaying them (0.11 s against 2.5 s for ``shapely.union_all`` of
    100 counties of 9,300 vertices each, whose shared edges wind). It is kept where it is
    valid and as large as the zones' areas added up; zones that overlap, or whose shared
    edges cross, are not a coverage, and are overlaid by ``shapely.union_all``.

    Parameters
    ----------
    zones : numpy.ndarray of shapely geometries
        Valid zone polygons (missing and empty ones are ignored).

    Returns
    -------
    shapely.Geometry
        Their union.

    Examples
    --------
    >>> from shapely import box
    >>> union_of_zones(np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)])).area
    2.0
    >>> union_of_zones(np.array([box(0, 0, 2, 1), box(1, 0, 3, 1)])).area
    3.0
    """
    from geozones.io.validity import valid_mask

    zones = np.asarray(zones, dtype=object)
    zones = zones[~(shapely.is_missing(zones) | shapely.is_empty(zones))]
    try:
        union = shapely.coverage_union_all(zones)
    except shapely.errors.GEOSException:
        return shapely.union_all(zones)
    if shapely.is_empty(union):
        return union
    total = float(shapely.area(zones).sum())
    # valid_mask, not shapely.is_valid: a zone worker's thread may be here (the latter swaps
    # the process's warning filters).
    valid = bool(valid_mask(np.array([union], dtype=object))[0])
    if valid and abs(float(shapely.area(union)) - total) <= 1e-9 * total:
        return union
    return shapely.union_all(zones)


def check_zones(
    zones: gpd.GeoDataFrame,
    code_field: str,
    *,
    name_field: str | None = None,
    administrative: bool = True,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    source: str = "the zone layer",
) -> None:
    """Check the zones results are reported by, feature by feature, as they are read.

    - A zone without a code (NULL, NaN or blank) is refused: its area would fall out of
      every table.
    - With `administrative`, a code that is not 6 digits is refused: codes roll up to cities
      (first four digits) and provinces (first two).
    - Features sharing a code are one zone (a county stored in two parts), with a
      :class:`~geozones.errors.ZoneCodeWarning`; if their names (`name_field`) differ, they
      are two zones given one code by mistake, and refused.
    - Zones that overlap are refused, naming each pair and the overlap's area: the overlap
      would be counted in both, and twice in their city and province. Overlaps narrower
      than `xy_tolerance` (digitising noise along a shared boundary) are not counted.
    - Gaps between zones (holes in their union, wider than `xy_tolerance`) are reported
      with a :class:`~geozones.errors.ZoneGapWarning`: what lies in them lies outside every
      zone, and is reported as such.

    Parameters
    ----------
    zones : GeoDataFrame
        Zone polygons with a CRS.
    code_field : str
        Field holding each zone's code (``XZQDM``).
    name_field : str, optional
        Field holding each zone's name (``XZQMC``).
    administrative : bool, default True
        Codes are 6-digit administrative codes.
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres (:mod:`geozones.measure.tolerance`): overlaps and gaps
        thinner than it are digitising noise.
    source : str, default "the zone layer"
        How to name the layer in messages.

    Raises
    ------
    ZoneError
        Missing, malformed or conflicting codes, or overlapping zones; the message names the
        features.
    FieldError
        `code_field` or `name_field` is not a field of `zones`.

    Warns
    -----
    ZoneCodeWarning
        Several features share a code (and a name).
    ZoneGapWarning
        The zones leave gaps.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> counties = gpd.GeoDataFrame(
    ...     {"XZQDM": ["990102", "990121"]},
    ...     geometry=[box(x, y, x + 1000, y + 1000), box(x + 900, y, x + 2000, y + 1000)],
    ...     crs=4527,
    ... )
    >>> check_zones(counties, "XZQDM")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geozones.errors.ZoneError: the zone layer: zones overlap: 990102 (feature 0) and 990121 ...
    """
    from geozones.io.validity import describe_features, polygon_array
    from geozones.measure.tolerance import check_xy_tolerance, tolerance_in_crs_units

    codes = zone_codes(zones, code_field, source=source)
    labels = zones.index
    if administrative:
        malformed = ~np.array([code.isdigit() and len(code) == 6 for code in codes], dtype=bool)
        if malformed.any():
            shown = ", ".join(
                f"{code!r} (feature {label})"
                for code, label in list(zip(codes[malformed], labels[malformed], strict=True))[:5]
            )
            more = f" and {int(malformed.sum()) - 5} more" if malformed.sum() > 5 else ""
            raise ZoneError(
                f"{source}: {code_field} must hold 6-digit administrative codes (990102), which "
                f"roll up to cities and provinces; these do not: {shown}{more}. Correct them (a "
                "code read as a number loses its leading zeros or gains '.0')"
            )
    frame = pd.DataFrame({"code": codes, "label": labels})
    if name_field is not None:
        if name_field not in zones.columns:
            raise FieldError(f"zone name field {name_field!r} is not in {source}")
        frame["name"] = zones[name_field].astype(str).str.strip().to_numpy()
    repeated = frame[frame.duplicated("code", keep=False)]
    if len(repeated):
        if "name" in frame:
            named = repeated.groupby("code")["name"].nunique()
            clash = named[named > 1].index
            if len(clash):
                code = clash[0]
                rows = repeated[repeated["code"] == code]
                parts = "; ".join(
                    f"{name} (feature(s) {describe_features(group['label'])})"
                    for name, group in rows.groupby("name", sort=False)
                )
                raise ZoneError(
                    f"{source}: code {code} is given to {rows['name'].nunique()} different "
                    f"zones: {parts}; each zone needs its own code"
                    + (f" (and {len(clash) - 1} more codes like it)" if len(clash) > 1 else "")
                )
        warnings.warn(
            f"{source}: {repeated['code'].nunique()} code(s) are shared by several features "
            f"(e.g. {repeated['code'].iloc[0]}: features "
            f"{describe_features(repeated[repeated['code'] == repeated['code'].iloc[0]]['label'])}"
            "); the features of one code are measured as one zone",
            ZoneCodeWarning,
            stacklevel=2,
        )
    crs = pyproj.CRS.from_user_input(zones.crs)
    tolerance = tolerance_in_crs_units(check_xy_tolerance(xy_tolerance), crs)
    geoms = polygon_array(zones, purpose="zones")
    _refuse_overlaps(geoms, codes, labels, crs, tolerance, source)
    _warn_gaps(geoms, crs, tolerance, source)


def _refuse_overlaps(
    geoms: np.ndarray,
    codes: np.ndarray,
    labels: object,
    crs: pyproj.CRS,
    tolerance: float,
    source: str,
) -> None:
    from geozones.io.validity import polygonal_parts
    from geozones.measure.area import ellipsoidal_area
    from geozones.measure.tolerance import is_thin

    located = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    tree = shapely.STRtree(geoms[located])
    left, right = tree.query(geoms[located], predicate="intersects")
    keep = left < right
    left, right = located[left[keep]], located[right[keep]]
    if len(left) == 0:
        return
    overlap = polygonal_parts(shapely.intersection(geoms[left], geoms[right]))
    real = ~shapely.is_empty(overlap) & ~is_thin(overlap, tolerance)
    if not real.any():
        return
    area = ellipsoidal_area(overlap[real], crs)
    index = np.asarray(labels)
    pairs = [
        f"{codes[a]} (feature {index[a]}) and {codes[b]} (feature {index[b]}) by {m2:,.0f} m²"
        for a, b, m2 in zip(left[real], right[real], area, strict=True)
    ]
    more = f" and {len(pairs) - 3} more pair(s)" if len(pairs) > 3 else ""
    raise ZoneError(
        f"{source}: zones overlap: {'; '.join(pairs[:3])}{more}; an overlap would be counted "
        "in both zones and twice in their city and province. Correct the zone boundaries "
        "(counties must not overlap)"
    )


def _warn_gaps(geoms: np.ndarray, crs: pyproj.CRS, tolerance: float, source: str) -> None:
    from geozones.measure.area import ellipsoidal_area
    from geozones.measure.tolerance import is_thin

    located = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    parts = shapely.get_parts(shapely.union_all(located))
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons
    counts = shapely.get_num_interior_rings(parts)
    if counts.sum() == 0:
        return
    owner = np.repeat(np.arange(len(parts)), counts)
    number = np.concatenate([np.arange(count) for count in counts])
    holes = shapely.polygons(shapely.get_interior_ring(parts[owner], number))
    holes = holes[~is_thin(holes, tolerance)]
    if len(holes) == 0:
        return
    area = ellipsoidal_area(holes, crs)
    largest = int(np.argmax(area))
    point = shapely.point_on_surface(holes[largest])
    warnings.warn(
        f"{source}: the zones leave {len(holes)} gap(s) between them ({area.sum():,.0f} m² in "
        f"all; the largest, {area[largest]:,.0f} m², around x={point.x:.3f}, y={point.y:.3f}); "
        "what lies in a gap lies outside every zone and is reported as such",
        ZoneGapWarning,
        stacklevel=3,
    )


#: What :func:`zone_of` gives a feature whose point lies in no zone.
OUTSIDE_CHOICES = ("none", "nearest")


def zone_of(
    geoms: np.ndarray,
    zone_geoms: np.ndarray,
    *,
    rank: np.ndarray | None = None,
    outside: str = "none",
    tree: shapely.STRtree | None = None,
    codes: np.ndarray | None = None,
) -> np.ndarray:
    """The position (or code) of the zone holding each feature, by a point on the feature's surface.

    A feature belongs to the zone that holds its representative point
    (:func:`shapely.point_on_surface`), not to the zone with the largest share of its area: a
    feature straddling two zones goes wholly to the one holding its point. A point on the
    boundary of several zones goes to the zone of lowest `rank` (the first zone row by
    default). Null and empty features have no zone (-1).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        The features, in the CRS of the zones.
    zone_geoms : numpy.ndarray of shapely geometries
        Zone polygons.
    rank : numpy.ndarray of int, optional
        Per zone, its precedence on a shared boundary (lower first); default the zone's position.
    outside : {"none", "nearest"}, default "none"
        For a feature whose point lies in no zone: no zone (-1), or the nearest zone (of lowest
        `rank` among zones at the same distance).
    tree : shapely.STRtree, optional
        A tree already built on `zone_geoms`, to reuse.
    codes : numpy.ndarray, optional
        The code of each zone: give it to have codes returned instead of positions.

    Returns
    -------
    numpy.ndarray
        Per feature, the position of its zone in `zone_geoms` or -1 (int64); with `codes`, the
        code of its zone or None (object).

    Raises
    ------
    OptionError
        `outside` is not one of ``"none"``, ``"nearest"``.
        `rank` or `codes` is not one value per zone.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> zones = np.array([box(0, 0, 1, 1), box(1, 0, 3, 1)])
    >>> features = np.array([box(0.2, 0.2, 0.4, 0.4), box(0, 0, 3, 1), box(5, 0, 6, 1), None])
    >>> zone_of(features, zones).tolist()
    [0, 1, -1, -1]
    >>> zone_of(features, zones, outside="nearest").tolist()
    [0, 1, 1, -1]
    >>> zone_of(features, zones, codes=np.array(["990102", "990121"])).tolist()
    ['990102', '990121', None, None]
    """
    from geozones.choices import checked_choice
    from geozones.parallel import concatenate_blocks

    outside = checked_choice(outside, OUTSIDE_CHOICES, what="outside option")
    geoms = np.asarray(geoms, dtype=object)
    zone_geoms = np.asarray(zone_geoms, dtype=object)
    if rank is None:
        rank = np.arange(len(zone_geoms), dtype=np.int64)
    rank = np.asarray(rank, dtype=np.int64)
    if rank.shape != (len(zone_geoms),) or (codes is not None and len(codes) != len(zone_geoms)):
        raise OptionError(
            f"rank and codes need one value per zone ({len(zone_geoms)}); give one per zone"
        )
    result = np.full(len(geoms), -1, dtype=np.int64)
    located = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if len(located) == 0 or len(zone_geoms) == 0:
        return result
    points = concatenate_blocks(shapely.point_on_surface, geoms[located])
    tree = shapely.STRtree(zone_geoms) if tree is None else tree
    point, zone = tree.query(points, predicate="intersects")
    chosen = _lowest_rank(point, zone, rank, len(points))
    if outside == "nearest":
        stray = np.flatnonzero(chosen < 0)
        if len(stray):
            point, zone = tree.query_nearest(points[stray])
            chosen[stray] = _lowest_rank(point, zone, rank, len(stray))
    result[located] = chosen
    if codes is None:
        return result
    named = np.full(len(result), None, dtype=object)
    found = result >= 0
    named[found] = np.asarray(codes, dtype=object)[result[found]]
    return named


def _lowest_rank(point: np.ndarray, zone: np.ndarray, rank: np.ndarray, count: int) -> np.ndarray:
    """Per point, of the zones paired with it, the one of lowest rank (then position), or -1."""
    order = np.lexsort((zone, rank[zone], point))
    point, zone = point[order], zone[order]
    first = np.flatnonzero(np.diff(point, prepend=-1) != 0)
    chosen = np.full(count, -1, dtype=np.int64)
    chosen[point[first]] = zone[first]
    return chosen


def zone_of_features(frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """The code of the zone holding each feature's representative point, or None.

    :func:`zone_of` for layers: a point on the boundary of two zones goes to the first zone
    row; null and empty features, and features in no zone, have None.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons.
    zones : GeoDataFrame
        Zone polygons with a ``zone`` column; reprojected to `frame`'s CRS (with a warning)
        if in another one.

    Returns
    -------
    numpy.ndarray
        One code (or None) per row of `frame`.

    Raises
    ------
    MissingCRSError
        `frame` or `zones` has no CRS.
    FieldError
        `zones` has no ``zone`` column.
    EmptyLayerError
        `zones` has no features.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"zone": ["990102", "990121"]},
    ...                          geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4527)
    >>> farmland = gpd.GeoDataFrame(geometry=[box(1.2, 0, 1.8, 1), box(3, 0, 4, 1)], crs=4527)
    >>> zone_of_features(farmland, zones).tolist()
    ['990121', None]
    """
    checked_layer(frame, name="frame")
    checked_layer(zones, name="zones")
    if frame.crs is None:
        raise MissingCRSError("frame has no CRS; read the layer with geozones.read_layer")
    if "zone" not in zones.columns:
        raise FieldError("zones has no 'zone' column holding each zone's code")
    if len(zones) == 0:
        raise EmptyLayerError("zones has no features; zone polygons are needed")
    zones = to_crs(
        zones, pyproj.CRS.from_user_input(frame.crs), name="the zones", target="the layer's"
    )
    return zone_of(
        np.asarray(frame.geometry.array, dtype=object),
        np.asarray(zones.geometry.array, dtype=object),
        codes=zones["zone"].to_numpy(dtype=object),
    )

"""How much of each zone a layer covers, without counting overlaps inside the layer twice."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.analysis._pairs import components
from geozones.analysis.overlaps import Overlaps, classified_overlaps
from geozones.choices import checked_choice, checked_layer
from geozones.errors import FieldError, OptionError, OutsideZonesWarning
from geozones.io.quality import layer_report
from geozones.io.validity import polygon_array
from geozones.measure.area import AreaMethod, check_method, ellipsoidal_area, geodesic_area
from geozones.measure.survey import survey_area
from geozones.measure.tolerance import (
    DEFAULT_XY_TOLERANCE,
    check_xy_tolerance,
    tolerance_in_crs_units,
)
from geozones.parallel import concatenate_blocks, map_by_cost
from geozones.units import square_metres_per
from geozones.zones import outside_zones, split_by_zones, to_crs
from geozones.zones import zone_codes as codes_of

if TYPE_CHECKING:
    import geopandas as gpd

#: Administrative levels of 6-digit codes (XZQDM) and how many leading digits identify them.
ADMINISTRATIVE_LEVELS = {"county": 6, "city": 4, "province": 2}


def coverage(
    layer: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    unit: str = "km2",
    method: AreaMethod = "ellipsoidal",
    levels: tuple[str, ...] | None = None,
    xy_tolerance: float = DEFAULT_XY_TOLERANCE,
    densify_m: float | None = None,
) -> pd.DataFrame:
    """Area of each zone, area of the layer inside it, and the percentage covered.

    The layer is dissolved first: where its features overlap each other the overlap counts
    once. Zone rows therefore add up: the covered area of a city is the sum over its counties.
    Overlaps thinner than `xy_tolerance` (neighbours whose shared boundary was digitised
    twice) are not overlaps: they are not dissolved, and ``attrs["phantoms"]`` says how many
    there were and their area, which is all the covered area can count twice.

    Parameters
    ----------
    layer : GeoDataFrame
        The polygons to measure (e.g. the red line).
    zones : GeoDataFrame
        Zone polygons (e.g. counties). Rows sharing a `by` value form one zone.
    by : str, optional
        Field of `zones` that names each zone (e.g. ``XZQDM``); the index when omitted.
    unit : str, default "km2"
        Area unit of ``zone_area`` and ``covered_area`` (see :func:`geozones.area`).
    method : {"ellipsoidal", "planar", "geodesic", "survey"}, default "ellipsoidal"
        Area method (see :func:`geozones.area`); ``planar`` needs a projected CRS.
        ``survey`` (the 32号 formula) measures each piece by its own vertices, so a zone's
        covered area is the sum of its pieces' survey areas.
    levels : tuple of str, optional
        With 6-digit administrative codes in `by`, also report these roll-ups, any of
        ``"county"``, ``"city"`` (first four digits) and ``"province"`` (first two); city and
        province codes are written as 6 digits (``990100``, ``990000``).
    xy_tolerance : float, default 0.001
        Coordinate tolerance in metres (see :func:`geozones.find_conflicts`); 0 dissolves
        every overlap.
    densify_m : float, optional
        ``survey`` only: densify edges to this many metres first (see :func:`geozones.area`).

    Returns
    -------
    pandas.DataFrame
        Indexed by zone code (``zone``), with ``level`` when `levels` is given, and columns
        ``zone_area``, ``covered_area`` and ``percent``. ``attrs`` records ``unit``,
        ``method``, ``densify_m``, ``outside_area`` (the layer's area outside every zone),
        ``xy_tolerance`` and ``phantoms`` (``count`` and ``area_m2`` of the overlaps of
        features, within a zone, that are thinner than the tolerance; areas by `method`).

    Raises
    ------
    EmptyLayerError
        `zones` has no polygons.
    FieldError
        `by` is not a field of `zones`, or `levels` is given and a code is not 6 digits.

    Examples
    --------
    Two 1 km × 1 km counties; a red-line polygon covering half of the first, drawn twice:

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> counties = gpd.GeoDataFrame(
    ...     {"XZQDM": ["990102", "990121"]},
    ...     geometry=[box(x, y, x + 1000, y + 1000), box(x + 1000, y, x + 2000, y + 1000)],
    ...     crs=4527,
    ... )
    >>> redline = gpd.GeoDataFrame(geometry=[box(x, y, x + 500, y + 1000)] * 2, crs=4527)
    >>> coverage(redline, counties, by="XZQDM", unit="ha", levels=("county", "province"))
              level  zone_area  covered_area  percent
    zone
    990102   county      100.0          50.0     50.0
    990121   county      100.0           0.0      0.0
    990000 province      200.0          50.0     25.0
    """
    checked_layer(layer, name="layer")
    square_metres_per(unit)  # an unknown unit fails before any work
    check_method(method, densify_m=densify_m)
    tolerance = check_xy_tolerance(xy_tolerance)
    zone_codes = codes_of(zones, by)
    crs = pyproj.CRS.from_user_input(zones.crs)
    layer = to_crs(layer, crs, name="the layer", target="the zones'")
    zone_geoms = polygon_array(zones, purpose="coverage")
    layer_geoms = polygon_array(layer, purpose="coverage")
    measure = area_function(crs, method, densify_m)
    width = tolerance_in_crs_units(tolerance, crs)

    zone_area = pd.Series(measure(zone_geoms), index=zone_codes).groupby(level=0, sort=False).sum()
    measurable = np.flatnonzero(~shapely.is_missing(layer_geoms) & ~shapely.is_empty(layer_geoms))
    pieces = ZonePieces.clip(layer_geoms[measurable], zone_geoms)
    covered, phantoms = pieces.dissolved_area(zone_codes, measure, width=width)
    covered = covered.reindex(zone_area.index, fill_value=0.0)
    outside_area, _ = ZonePieces.whole(
        outside_zones(layer_geoms[measurable], zone_geoms)[0]
    ).dissolved_area(np.array(["outside"]), measure, width=width)
    outside = float(outside_area.sum())
    per_zone = pd.DataFrame({"zone_area": zone_area, "covered_area": covered})
    report = layer_report(layer)
    result = coverage_table(
        per_zone,
        outside,
        float(covered.sum()) + outside,
        unit=unit,
        method=method,
        levels=levels,
        name=report.source if report is not None else "the layer",
    )
    result.attrs.update(xy_tolerance=tolerance, phantoms=phantoms, densify_m=densify_m)
    return result


def coverage_table(
    per_zone_m2: pd.DataFrame,
    outside_m2: float,
    total_m2: float,
    *,
    unit: str,
    method: str,
    levels: tuple[str, ...] | None,
    name: str = "the layer",
) -> pd.DataFrame:
    """The table :func:`coverage` returns, from the areas in m² of each zone and the layer in it.

    Warns (:class:`~geozones.errors.OutsideZonesWarning`, naming the layer as `name`) when more
    than 1e-6 of the layer's area `total_m2` lies outside every zone.
    """
    per_unit = square_metres_per(unit)
    result = per_zone_m2[["zone_area", "covered_area"]] / per_unit
    result.index.name = "zone"
    if levels:
        result = roll_up(result, levels)
    result["percent"] = 100.0 * result["covered_area"] / result["zone_area"]
    result.attrs.update(unit=unit, method=method, outside_area=outside_m2 / per_unit)
    if outside_m2 > 1e-6 * max(total_m2, 1.0):
        warnings.warn(
            f"{outside_m2 / per_unit:.6g} {unit} of {name} lie outside every zone; they are "
            "in no row (see attrs['outside_area'])",
            OutsideZonesWarning,
            stacklevel=3,
        )
    return result


Measure = Callable[[np.ndarray], np.ndarray]


def area_function(crs: pyproj.CRS, method: AreaMethod, densify_m: float | None = None) -> Measure:
    """The function measuring polygons in `crs` by `method`.

    It returns square metres, or for ``planar`` square units of `crs` (refused where planar area
    is not area, see :func:`geozones.measure.area.require_planar_crs`).
    """
    if method == "survey":
        return lambda geoms: survey_area(geoms, crs, densify_m=densify_m)
    if method == "ellipsoidal":
        return lambda geoms: ellipsoidal_area(geoms, crs)
    if method == "geodesic":
        return lambda geoms: geodesic_area(geoms, crs)
    if method == "planar":
        from geozones.measure.area import require_planar_crs

        require_planar_crs(crs)
        return shapely.area
    raise OptionError(f"unknown area method {method!r}")  # check_method refused it before


@dataclass(frozen=True)
class ZonePieces:
    """Pieces of layer features, each inside one zone (or in no zone for the whole layer)."""

    geoms: np.ndarray
    feature: np.ndarray
    zone: np.ndarray

    @classmethod
    def clip(cls, features: np.ndarray, zones: np.ndarray) -> ZonePieces:
        """Cut features at zone boundaries; a feature inside a zone is kept whole."""
        return cls(*split_by_zones(features, zones))

    @classmethod
    def whole(cls, features: np.ndarray) -> ZonePieces:
        """All features as pieces of a single zone."""
        index = np.arange(len(features))
        return cls(features, index, np.zeros(len(features), dtype=int))

    def dissolved(self, *, width: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pieces with overlapping ones unioned, each in its zone, and the phantoms.

        Returns one geometry per piece that overlaps no other piece of its zone and one union
        per group of overlapping pieces, the zone index of each, and the overlaps thinner
        than `width` (phantoms), by which pieces are not grouped.
        """
        if len(self.geoms) == 0:
            return self.geoms, np.zeros(0, dtype=np.int64), np.empty(0, dtype=object)
        group, thin, _ = self._grouping(width)
        return (*self._united(group), thin)

    def _united(self, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pieces in no group, then each group's union; the zone index of each."""
        alone = group < 0
        unions, zone = self._unions(group)
        return (
            np.concatenate([self.geoms[alone], unions]),
            np.concatenate([self.zone[alone], zone]).astype(np.int64),
        )

    def _unions(self, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The union of each group's pieces (group ids 0 up; -1 is no group), and its zone."""
        grouped = np.flatnonzero(group >= 0)
        if len(grouped) == 0:
            return np.empty(0, dtype=object), np.zeros(0, dtype=np.int64)
        # A group is one zone's (only pieces of a zone are grouped).
        grouped = grouped[np.argsort(group[grouped], kind="stable")]
        starts = np.flatnonzero(np.r_[True, group[grouped][1:] != group[grouped][:-1]])
        unions = _group_unions(self.geoms, np.split(grouped, starts[1:]))
        return unions, self.zone[grouped[starts]].astype(np.int64)

    def dissolved_area(
        self,
        zone_codes: np.ndarray,
        measure: Measure,
        *,
        width: float = 0.0,
        phantoms_once: bool = False,
    ) -> tuple[pd.Series, dict[str, Any]]:
        """Area per zone code of the union of the pieces in it, and the phantoms left apart.

        Pieces whose overlaps are all thinner than `width` are not unioned; the second
        result gives ``count`` and ``area_m2`` of those overlaps. They count twice in the
        area (as the land of both pieces), or once with `phantoms_once`: their area is then
        taken off, exact but for points in three pieces' phantoms at once (a corner where
        four parcels digitised apart overlap, of a few square micrometres).
        """
        if len(self.geoms) == 0:
            areas, zone, thin = np.zeros(0), np.zeros(0, dtype=np.int64), np.empty(0, dtype=object)
        else:
            group, thin, overlaps = self._grouping(width)
            if overlaps is None:
                geoms, zone = self._united(group)
                areas = concatenate_blocks(measure, geoms)
            else:
                areas, zone = self._areas_by_overlaps(group, overlaps, measure)
                if phantoms_once:
                    left, right = overlaps.left_index, overlaps.right_index
                    together = (group[left] >= 0) & (group[left] == group[right])
                    apart = np.flatnonzero(overlaps.phantom & ~together)
                    areas = np.concatenate([areas, -measure(overlaps.pieces[apart])])
                    zone = np.concatenate([zone, self.zone[left[apart]]])
        phantoms = {"count": len(thin), "area_m2": float(measure(thin).sum()) if len(thin) else 0.0}
        per_zone = pd.Series(areas).groupby(zone).sum()
        codes = zone_codes[per_zone.index.to_numpy(dtype=int)]
        dissolved = pd.Series(per_zone.to_numpy(), index=codes).groupby(level=0, sort=False).sum()
        return dissolved, phantoms

    def _areas_by_overlaps(
        self, group: np.ndarray, overlaps: Overlaps, measure: Measure
    ) -> tuple[np.ndarray, np.ndarray]:
        """Areas to sum per zone for the union of the pieces, from the overlaps already found.

        Taking a group's pieces in order, each adds its area less the part already counted:
        its overlaps with the pieces before it (phantoms between two of its pieces included),
        united where it has several. The area of the union is then the pieces' areas less
        those of the overlaps (unions of a few overlaps, not of the group's whole polygons:
        a group of red-line polygons of 100,000 vertices each took 28 s to unite on the
        benchmark's province). Returns the areas and their zones.
        """
        left, right, pieces = overlaps.left_index, overlaps.right_index, overlaps.pieces
        inside = (group[left] >= 0) & (group[left] == group[right])
        later, pieces = np.maximum(left, right)[inside], pieces[inside]
        order = np.argsort(later, kind="stable")
        later, pieces = later[order], pieces[order]
        starts = np.flatnonzero(np.r_[True, later[1:] != later[:-1]]) if len(later) else later
        counts = np.diff(np.r_[starts, len(later)])
        alone = np.repeat(counts == 1, counts)
        several = np.flatnonzero(counts > 1)
        members = np.split(np.arange(len(later)), starts[1:])
        unions = _group_unions(pieces, [members[k] for k in several])
        areas = concatenate_blocks(measure, np.concatenate([self.geoms, pieces[alone], unions]))
        signs = np.repeat([1.0, -1.0, -1.0], [len(self.geoms), alone.sum(), len(unions)])
        zone = np.concatenate(
            [self.zone, self.zone[later[alone]], self.zone[later[starts[several]]]]
        )
        return areas * signs, zone

    def _grouping(self, width: float) -> tuple[np.ndarray, np.ndarray, Overlaps | None]:
        """Group id of pieces whose interiors overlap another piece in the same zone, else -1.

        With a `width`, pieces that overlap only by phantoms (overlaps thinner than it) are
        not grouped; the phantoms come second, and third every overlap of two pieces of a zone
        (None without a `width`: the pairs are then found by a predicate, not an overlay).
        """
        thin = np.empty(0, dtype=object)
        same_zone_overlaps = None
        if width > 0:
            found = classified_overlaps(self.geoms, self.geoms, same_layer=True, width=width)
            same_zone = self.zone[found.left_index] == self.zone[found.right_index]
            same_zone_overlaps = Overlaps(
                found.left_index[same_zone],
                found.right_index[same_zone],
                found.pieces[same_zone],
                found.phantom[same_zone],
            )
            thin = found.pieces[same_zone & found.phantom]
            genuine = same_zone & ~found.phantom
            left, right = found.left_index[genuine], found.right_index[genuine]
        else:
            tree = shapely.STRtree(self.geoms)
            left, right = tree.query(self.geoms, predicate="intersects")
            candidate = (left < right) & (self.zone[left] == self.zone[right])
            left, right = left[candidate], right[candidate]
            meet = shapely.relate_pattern(self.geoms[left], self.geoms[right], "2********")
            left, right = left[meet], right[meet]
        group = np.full(len(self.geoms), -1)
        if len(left) == 0:
            return group, thin, same_zone_overlaps
        members = np.unique(np.concatenate([left, right]))
        position = np.searchsorted(members, [left, right])
        group[members] = components(len(members), position[0], position[1])[1]
        return group, thin, same_zone_overlaps


def _group_unions(geoms: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
    """``shapely.union_all(geoms[m])`` for each array `m` of `members`.

    One union can take seconds where boundaries nearly coincide: the groups are united in
    threads, costliest first.
    """
    if not members:
        return np.empty(0, dtype=object)
    size = shapely.get_num_coordinates(geoms)
    cost = np.array([size[m].sum() for m in members], dtype=np.float64)

    def unite(batch: np.ndarray) -> np.ndarray:
        unions = np.empty(len(batch), dtype=object)
        for position, k in enumerate(batch):
            unions[position] = shapely.union_all(geoms[members[k]])
        return unions

    return map_by_cost(unite, np.arange(len(members)), cost)


def roll_up(result: pd.DataFrame, levels: tuple[str, ...]) -> pd.DataFrame:
    """The rows of `result` summed per administrative level, with a ``level`` column.

    `result` is indexed by 6-digit administrative code (XZQDM); each level in `levels` adds the
    rows summed per code prefix of that level (:data:`ADMINISTRATIVE_LEVELS`), padded to six
    digits, the most detailed level first.
    """
    for level in levels:
        checked_choice(level, ADMINISTRATIVE_LEVELS, what="level")
    codes = result.index.to_series()
    malformed = ~codes.str.fullmatch(r"\d{6}")
    if malformed.any():
        raise FieldError(
            f"roll-up to {', '.join(levels)} needs 6-digit administrative codes (XZQDM); "
            f"these are not: {', '.join(codes[malformed].head(5))}"
        )
    frames = []
    for level in sorted(levels, key=lambda name: -ADMINISTRATIVE_LEVELS[name]):
        digits = ADMINISTRATIVE_LEVELS[level]
        keys = codes.str[:digits].str.ljust(6, "0")
        rolled = result.groupby(keys.to_numpy(), sort=True).sum()
        rolled.index.name = "zone"
        rolled.insert(0, "level", level)
        frames.append(rolled)
    return pd.concat(frames)

"""Compare two versions of a line: what was taken out (调出), put in (调入), and the balance.

The lines change after approval: projects take permanent farmland and it is replaced (补划), the
red line is corrected, the urban development boundary is locally optimised under its cap. Each
change is approved by comparing the version before with the version after.
:func:`compare_versions` does that comparison:

- every feature is classified (unchanged, changed geometry, changed attributes only, split,
  merged, added, removed), matched by an id field where it has one and by geometry, then by
  overlap, where it does not;
- the land taken out (the parts of `before` not in `after`) and put in (the parts of `after`
  not in `before`) are returned as pieces, per county, with the ids of their features;
- the balance per county and for the whole area (before, out, in, after, net, and for farmland
  the area-weighted quality grade of the land taken out and put in) adds up:
  ``before - out + in + within_tolerance = after``;
- :func:`check_adjustment` checks the rules of each line: farmland net not negative and quality
  not lower (补划: 数量不减少、质量不降低), red line not smaller, urban boundary under its cap and
  expansion multiple.

Most features of a province do not change between two versions, so they are found first without
any overlay: pairs whose coordinates are identical, or all within the XY tolerance. Only the
rest is overlaid.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geozones.analysis._pairs import components
from geozones.analysis.conflicts import LINES
from geozones.choices import checked_instance, checked_layer, checked_non_negative
from geozones.errors import (
    FieldError,
    MissingCRSError,
    OutsideZonesWarning,
    VersionMatchWarning,
)
from geozones.io.validity import geometry_array, polygon_array, polygonal_parts
from geozones.measure.area import ellipsoidal_area, measured_polygons
from geozones.measure.tolerance import check_xy_tolerance, is_thin, tolerance_in_crs_units
from geozones.units import square_metres_per
from geozones.zones import codes_of_parts, to_crs, zone_codes, zone_parts

__all__ = [
    "BALANCE_COLUMNS",
    "LINES",
    "STATUSES",
    "VersionDiff",
    "VersionMatchWarning",
    "check_adjustment",
    "compare_versions",
]

#: What can happen to a feature between two versions, in the order tables list them.
STATUSES: Final = (
    "removed",
    "added",
    "split",
    "merged",
    "changed_geometry",
    "changed_attributes",
    "unchanged",
)
#: Area columns of :attr:`VersionDiff.balance`, in the table's unit.
BALANCE_COLUMNS: Final = ("before", "out", "in", "within_tolerance", "after", "net")
#: Fields looked for as the farmland quality grade (耕地质量等别) with ``grade_field="auto"``.
GRADE_FIELDS: Final = ("GDDB", "GDDJ", "ZLDJ", "等别")
#: Row labels of the balance that are not zone codes.
OUTSIDE, TOTAL = "outside", "total"


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class VersionDiff:
    """What changed between two versions of a layer, as :func:`compare_versions` returns it.

    Attributes
    ----------
    balance : pandas.DataFrame
        One row per zone (county), then ``outside`` (land outside every zone, only when there
        is some) and ``total``, indexed by ``zone``: ``level`` (``zone``, ``outside`` or
        ``total``), ``before``, ``out``, ``in``, ``within_tolerance``, ``after`` and ``net``
        (after - before), in :attr:`unit`. ``before - out + in + within_tolerance = after``
        in every row; ``within_tolerance`` is the net area of boundaries that moved by less
        than the XY tolerance, which is no change. With a grade field, also
        ``grade_before``, ``grade_after``, ``grade_out``, ``grade_in`` (area-weighted mean
        grades; 1 is the best) and ``quality_fell`` (the land put in has a worse mean grade
        than the land taken out). ``attrs`` records ``unit`` and ``method``.
    changes : pandas.DataFrame
        One row per change (a group of features that changed together), indexed by
        ``change``: ``status``, ``matched_by`` (``id``, ``geometry``, ``overlap`` or empty for
        a feature added or removed), ``before_ids`` and ``after_ids`` (tuples of feature ids),
        ``before_area``, ``after_area``, ``out_area``, ``in_area`` (in :attr:`unit`),
        ``fields`` (the attributes that changed, for features matched one to one) and
        ``zones`` (the codes of the zones its land lies in). Unchanged features have no row.
    taken_out, put_in : GeoDataFrame
        The land taken out (调出: in `before`, not in `after`) and put in (调入), one piece per
        feature and zone: ``change``, ``status``, ``feature`` (the id of the before or after
        feature), ``zone`` (None outside every zone), ``area_m2``, ``area`` (in
        :attr:`unit`), ``grade`` (with a grade field) and the polygon. The pieces do not
        overlap, and their areas sum to the ``out`` and ``in`` columns of :attr:`balance`.
    before_status, after_status : pandas.DataFrame
        One row per feature of each version, indexed like it: ``feature`` (its id),
        ``status``, ``change`` (-1 for unchanged features) and ``area_m2`` (ellipsoidal; 0
        for null and empty geometries).
    before, after : GeoDataFrame
        The two versions as compared: repaired polygons, `after` in `before`'s CRS.
    zones : GeoDataFrame or None
        The zones, with their code in a ``zone`` column.
    matching : str
        How features were matched, in words.
    unit : str
        The area unit of the tables.
    xy_tolerance : float
        Coordinates closer than this (in the CRS's unit) are the same point.
    id_field, grade_field : str or None
        The id field used for matching, and the quality grade field (None without one).
    without_id : int
        Features of both versions together that had no usable id (missing or repeated) and
        were matched by geometry and overlap.
    """

    balance: pd.DataFrame
    changes: pd.DataFrame
    taken_out: gpd.GeoDataFrame
    put_in: gpd.GeoDataFrame
    before_status: pd.DataFrame
    after_status: pd.DataFrame
    before: gpd.GeoDataFrame
    after: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | None
    matching: str
    unit: str
    xy_tolerance: float
    id_field: str | None = None
    grade_field: str | None = None
    without_id: int = 0

    def __repr__(self) -> str:
        out, in_, net = self.balance.loc[TOTAL, ["out", "in", "net"]].to_numpy(dtype=float)
        return (
            f"<VersionDiff: {len(self.changes)} changes; out {out:,.2f}, in {in_:,.2f}, "
            f"net {net:+,.2f} {self.unit}; matched {self.matching}>"
        )

    def counts(self) -> pd.DataFrame:
        """Features of each version by status, in the order of :data:`STATUSES`.

        Returns
        -------
        pandas.DataFrame
            Indexed by status, columns ``before`` and ``after`` (feature counts).
        """
        return (
            pd.DataFrame(
                {
                    "before": self.before_status["status"].value_counts(),
                    "after": self.after_status["status"].value_counts(),
                }
            )
            .reindex(list(STATUSES), fill_value=0)
            .fillna(0)
            .astype(int)
            .rename_axis("status")
        )

    def for_zone(self, code: str) -> VersionDiff:
        """The part of the comparison in zone `code`: its balance row, changes and pieces.

        The balance keeps the zone's row, and a ``total`` row equal to it; the changes are
        those with land in the zone; the status tables keep every feature, with the status
        ``unchanged`` for features of changes elsewhere.

        Parameters
        ----------
        code : str
            A zone code of :attr:`balance`.

        Returns
        -------
        VersionDiff

        Raises
        ------
        KeyError
            `code` is not a zone of the comparison.
        """
        balance = self.balance
        if code not in balance.index or balance.loc[code, "level"] != "zone":
            raise KeyError(f"no zone {code!r} in the comparison")
        row = balance.loc[[code]]
        total = row.rename(index={code: TOTAL}).assign(level=TOTAL)
        part = pd.concat([row, total])
        part.index.name = "zone"
        part.attrs.update(balance.attrs)
        changes = self.changes[[code in zones for zones in self.changes["zones"]]]
        keep = set(changes.index)

        def status(frame: pd.DataFrame) -> pd.DataFrame:
            inside = frame["change"].isin(keep)
            return frame.assign(
                status=frame["status"].where(inside, "unchanged"),
                change=frame["change"].where(inside, -1),
            )

        return replace(
            self,
            balance=part,
            changes=changes,
            taken_out=self.taken_out[self.taken_out["zone"] == code].reset_index(drop=True),
            put_in=self.put_in[self.put_in["zone"] == code].reset_index(drop=True),
            before_status=status(self.before_status),
            after_status=status(self.after_status),
            zones=self.zones[self.zones["zone"] == code] if self.zones is not None else None,
        )

    def check(self, line: str, **rules: Any) -> pd.DataFrame:
        """The rules of `line` checked on this comparison: :func:`check_adjustment`.

        Parameters
        ----------
        line : {"farmland", "redline", "urban"}
            Which line the two versions are.
        **rules
            The keyword options of :func:`check_adjustment`.

        Returns
        -------
        pandas.DataFrame
            As :func:`check_adjustment` returns it.
        """
        return check_adjustment(self, line, **rules)

    def summary(self) -> dict[str, Any]:
        """The comparison in a few numbers, ready for JSON.

        Returns
        -------
        dict
            ``unit``, ``matching``, ``xy_tolerance``, the total row of the balance, and the
            feature counts by status of each version.
        """
        total = self.balance.loc[TOTAL]
        counts = self.counts()
        return {
            "unit": self.unit,
            "method": "ellipsoidal",
            "matching": self.matching,
            "xy_tolerance": self.xy_tolerance,
            "balance": {key: _plain(total[key]) for key in self.balance.columns if key != "level"},
            "features_before": {k: int(v) for k, v in counts["before"].items()},
            "features_after": {k: int(v) for k, v in counts["after"].items()},
            "changes": len(self.changes),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value


# --------------------------------------------------------------------------------------------
# compare_versions
# --------------------------------------------------------------------------------------------


def compare_versions(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str | None = None,
    id_field: str | None = None,
    xy_tolerance: float = 0.001,
    unit: str = "mu",
    grade_field: str | None = "auto",
    progress: bool = False,
) -> VersionDiff:
    """Compare two versions of a layer: the features that changed, the land out and in.

    Parameters
    ----------
    before, after : GeoDataFrame
        The two versions of one layer (e.g. the permanent farmland as approved and as adjusted).
        `after` is reprojected to `before`'s CRS, with a warning, if it is in another one;
        invalid polygons are repaired with a warning, as :func:`geozones.read_layer` does.
        Null geometries count as empty.
    zones : GeoDataFrame, optional
        Zones (counties) to give the balance by; the land outside every zone is a row of its
        own, with a warning.
    zone_field : str, optional
        Field of `zones` holding the zone code; the index when omitted.
    id_field : str, optional
        Field identifying a feature in both versions (``BSM``). Features with the same id are
        the same feature; features without a usable id (missing, or repeated within a version)
        are matched like those of layers without an id field, with a
        :class:`VersionMatchWarning`. Without it, features are matched by geometry (identical,
        or every vertex within `xy_tolerance`), then by overlap.
    xy_tolerance : float, default 0.001
        Coordinates closer than this, in the CRS's unit (metres; for a geographic CRS it is
        converted at 111,320 m a degree), are the same point, as in desktop GIS: a boundary
        that moved by less is no change, and pieces thinner than it are not land taken out or
        put in (their net area is the balance's ``within_tolerance``).
    unit : str, default "mu"
        Area unit of the tables (:data:`geozones.AREA_UNITS`); pieces have ``area_m2`` too.
    grade_field : str or None, default "auto"
        Field holding the farmland quality grade (等别, 1 the best) in both versions; ``"auto"``
        takes the first of ``GDDB``, ``GDDJ``, ``ZLDJ``, ``等别`` both versions have, None
        compares no grades.
    progress : bool, default False
        Show a progress bar over the steps (``tqdm.auto``).

    Returns
    -------
    VersionDiff
        The balance, the changes, the pieces taken out and put in, and the status of every
        feature.

    Raises
    ------
    MissingCRSError
        A version has no CRS.
    FieldError
        `id_field` or `grade_field` is missing from a version, or a grade is not a number.
    NonPolygonalGeometryError
        Points or lines among the features.

    Notes
    -----
    Areas are ellipsoidal (CGCS2000, :func:`geozones.area`). ``before`` and ``after`` are the
    land each version covers in the zone: where a changed feature overlaps another feature of
    its version the overlap counts once; overlaps between features that did not change are the
    same in both versions and count as the data has them (find them with
    :func:`geozones.find_conflicts`). ``before - out + in + within_tolerance = after`` holds to
    ~1e-9 relative (areas with geodesic edges are additive to that, see ``docs/area.md``).

    Examples
    --------
    A parcel taken by a project, another one put in (补划), a third unchanged:

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> def version(ids, boxes):
    ...     return gpd.GeoDataFrame({"BSM": ids}, geometry=[box(*b) for b in boxes], crs=4527)
    >>> before = version(["A", "B"], [(x, y, x + 100, y + 100), (x + 200, y, x + 300, y + 100)])
    >>> after = version(["A", "C"], [(x, y, x + 100, y + 100), (x, y + 200, x + 150, y + 300)])
    >>> diff = compare_versions(before, after, id_field="BSM", unit="m2")
    >>> diff.changes[["status", "before_ids", "after_ids"]].to_dict("records")
    [{'status': 'removed', 'before_ids': ('B',), 'after_ids': ()}, {'status': 'added', \
'before_ids': (), 'after_ids': ('C',)}]
    >>> diff.balance.loc["total", ["before", "out", "in", "after", "net"]].round(2).tolist()
    [20000.0, 10000.0, 15000.0, 25000.0, 5000.0]
    >>> diff  # doctest: +ELLIPSIS
    <VersionDiff: 2 changes; out 10,000.00, in 15,000.00, net +5,000.00 m2; matched by id ...>
    """
    checked_layer(before, name="before")
    checked_layer(after, name="after")
    per_unit = square_metres_per(unit)
    xy_tolerance = check_xy_tolerance(xy_tolerance)
    if before.crs is None:
        raise MissingCRSError("the before version has no CRS; read it with geozones.read_layer")
    crs = pyproj.CRS.from_user_input(before.crs)
    after = to_crs(after, crs, name="the after version", target="the before version's")
    tolerance = tolerance_in_crs_units(xy_tolerance, crs)
    grade = _grade_field(before, after, grade_field)

    steps = _Steps(progress)
    old = _Version.read(before, "before", id_field, grade)
    new = _Version.read(after, "after", id_field, grade)
    steps.done("unchanged features")
    pairs = _Pairs.find(old, new, tolerance)
    steps.done("areas")
    old.measure(crs)
    new.measure(crs, (pairs.after[pairs.exact], pairs.before[pairs.exact], old))
    steps.done("overlay of the changes")
    overlay = _Overlay.run(old, new, pairs, tolerance)
    steps.done("changes")
    groups = _Groups.find(old, new, pairs, overlay)
    steps.done("zones")
    zoning = _Zoning.prepare(zones, zone_field, crs)
    pieces = _pieces(old, new, overlay, groups, zoning, crs, per_unit, unit)
    steps.done("balance")
    balance = _balance(old, new, pairs, overlay, pieces, zoning, crs, per_unit)
    balance.attrs.update(unit=unit, method="ellipsoidal")
    changes = _changes(old, new, groups, pieces, per_unit)
    changes.attrs.update(unit=unit, method="ellipsoidal")
    steps.close()
    matching = _matching_text(id_field, old, new, tolerance)
    return VersionDiff(
        balance=balance,
        changes=changes,
        taken_out=pieces.frame("out", crs),
        put_in=pieces.frame("in", crs),
        before_status=groups.status_frame(old, 0),
        after_status=groups.status_frame(new, 1),
        before=old.frame.set_geometry(old.geoms_series()),
        after=new.frame.set_geometry(new.geoms_series()),
        zones=zoning.frame,
        matching=matching,
        unit=unit,
        xy_tolerance=float(xy_tolerance),
        id_field=id_field,
        grade_field=grade,
        without_id=sum(int((~v.usable).sum()) for v in (old, new) if v.usable is not None),
    )


class _Steps:
    """A progress bar over the steps of a comparison, when asked for (``tqdm.auto``)."""

    COUNT = 7

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.COUNT, desc="compare", unit="step")

    def done(self, following: str) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(following)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.COUNT - self.bar.n)
            self.bar.close()


def _grade_field(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, field: str | None
) -> str | None:
    if field is None:
        return None
    if field == "auto":
        return next((f for f in GRADE_FIELDS if f in before.columns and f in after.columns), None)
    missing = [name for name, frame in (("before", before), ("after", after)) if field not in frame]
    if missing:
        raise FieldError(
            f"grade field {field!r} is not in the {' and '.join(missing)} version; name a field "
            "both versions have (GDDB, 耕地质量等别) or pass grade_field=None"
        )
    return field


# --------------------------------------------------------------------------------------------
# One version
# --------------------------------------------------------------------------------------------


@dataclass
class _Version:
    """One version: its frame, repaired geometries, areas, ids and grades."""

    name: str
    frame: gpd.GeoDataFrame
    geoms: np.ndarray
    area: np.ndarray  # m², 0 for null and empty
    ids: np.ndarray  # object: the id of each feature as reports name it
    key: pd.Series | None  # the id field's values, for matching
    usable: np.ndarray | None  # bool: the id is present and unique in the version
    grade: np.ndarray | None  # float grades, NaN where missing

    @classmethod
    def read(
        cls, frame: gpd.GeoDataFrame, name: str, id_field: str | None, grade_field: str | None
    ) -> _Version:
        """The version as given: raw geometries (null ones empty), ids and grades."""
        geoms = geometry_array(frame)
        absent = shapely.is_missing(geoms)
        if absent.any():
            geoms = geoms.copy()
            geoms[absent] = shapely.Polygon()
        labels = frame.index.to_numpy(dtype=object)
        key: pd.Series | None = None
        usable: np.ndarray | None = None
        ids = labels
        if id_field is not None:
            if id_field not in frame.columns:
                fields = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
                raise FieldError(
                    f"id field {id_field!r} is not in the {name} version; its fields are: "
                    f"{fields or 'none'}; name a field both versions have, or none to match "
                    "by geometry"
                )
            values = frame[id_field]
            usable = values.notna().to_numpy() & ~values.duplicated(keep=False).to_numpy()
            key = values
            ids = np.where(values.notna(), values.to_numpy(dtype=object), labels)
            if not usable.all():
                repeated = values[values.duplicated(keep=False) & values.notna()]
                shown = ", ".join(map(str, repeated.astype(str).unique()[:5]))
                warnings.warn(
                    f"{int((~usable).sum())} feature(s) of the {name} version have no usable "
                    f"{id_field} (missing, or repeated{': ' + shown if shown else ''}); they "
                    "are matched by geometry and overlap instead",
                    VersionMatchWarning,
                    stacklevel=4,
                )
        grade = None
        if grade_field is not None:
            raw = frame[grade_field]
            grade = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
            bad = raw.notna().to_numpy() & np.isnan(grade)
            if bad.any():
                shown = ", ".join(map(str, ids[bad][:5]))
                raise FieldError(
                    f"grade field {grade_field!r} of the {name} version holds values that are "
                    f"not numbers ({', '.join(map(repr, raw[bad].unique()[:3]))}) in feature(s) "
                    f"{shown}; grades are numbers, 1 the best"
                )
        return cls(name, frame, geoms, np.zeros(len(geoms)), ids, key, usable, grade)

    def measure(
        self, crs: pyproj.CRS, copied: tuple[np.ndarray, np.ndarray, _Version] | None = None
    ) -> None:
        """Repair and measure the geometries (:func:`geozones.measure.area.measured_polygons`).

        `copied` (positions here, positions there, the other version, already measured): the
        features identical to one of the other version, whose repaired geometry and area are
        taken from it instead.
        """
        geoms = self.geoms.copy()
        area = np.zeros(len(geoms))
        todo = np.arange(len(geoms))
        if copied is not None:
            here, there, other = copied
            geoms[here] = other.geoms[there]
            area[here] = other.area[there]
            todo = _others(len(geoms), here)
        if len(todo):
            frame = self.frame if len(todo) == len(geoms) else self.frame.iloc[todo]
            purpose = f"the comparison ({self.name} version)"
            measured = measured_polygons(frame, crs, purpose=purpose, stacklevel=5)
            geoms[todo] = measured.geoms
            area[todo] = measured.area
        absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        geoms[absent] = shapely.Polygon()
        self.geoms = geoms
        self.area = np.where(absent, 0.0, area)

    def __len__(self) -> int:
        return len(self.geoms)

    def geoms_series(self) -> gpd.GeoSeries:
        return gpd.GeoSeries(self.geoms, index=self.frame.index, crs=self.frame.crs)


# --------------------------------------------------------------------------------------------
# Unchanged features, found without overlay
# --------------------------------------------------------------------------------------------


@dataclass
class _Pairs:
    """Features matched one to one before any overlay.

    ``before``/``after`` are positions; ``by_id`` says the pair shares an id; ``same`` that
    the geometry is unchanged (identical, or every vertex within the tolerance), ``exact``
    that it is identical.
    """

    before: np.ndarray
    after: np.ndarray
    by_id: np.ndarray
    same: np.ndarray
    exact: np.ndarray

    @classmethod
    def find(cls, old: _Version, new: _Version, tolerance: float) -> _Pairs:
        left = np.zeros(0, dtype=np.int64)
        right = np.zeros(0, dtype=np.int64)
        if old.key is not None and new.key is not None:
            assert old.usable is not None and new.usable is not None
            keys_old, keys_new = old.key[old.usable], new.key[new.usable]
            if keys_old.dtype.kind != keys_new.dtype.kind:  # ids read as numbers in one version
                keys_old, keys_new = keys_old.astype(str), keys_new.astype(str)
            hit = pd.Index(keys_old).get_indexer(pd.Index(keys_new))
            found = hit >= 0
            left = np.flatnonzero(old.usable)[hit[found]]
            right = np.flatnonzero(new.usable)[found]
        exact, same = same_geometry(old.geoms[left], new.geoms[right], tolerance)
        by_id = np.ones(len(left), dtype=bool)
        # Features without an id pair: matched by their coordinates, found through their bounds.
        free_old = _others(len(old), left)
        free_new = _others(len(new), right)
        geo_left, geo_right, geo_exact = _pairs_by_bounds(
            old.geoms, new.geoms, free_old, free_new, tolerance
        )
        return cls(
            before=np.concatenate([left, geo_left]),
            after=np.concatenate([right, geo_right]),
            by_id=np.concatenate([by_id, np.zeros(len(geo_left), dtype=bool)]),
            same=np.concatenate([same, np.ones(len(geo_left), dtype=bool)]),
            exact=np.concatenate([exact, geo_exact]),
        )

    def kept(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the pairs whose geometry did not change (before, after)."""
        return self.before[self.same], self.after[self.same]


def _others(count: int, taken: np.ndarray) -> np.ndarray:
    """The positions in ``range(count)`` not in `taken`, in order."""
    free = np.ones(count, dtype=bool)
    free[taken] = False
    return np.flatnonzero(free)


def same_geometry(
    left: np.ndarray, right: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Compare geometries pair by pair, vertex by vertex, without overlay.

    Parameters
    ----------
    left, right : numpy.ndarray of shapely geometries
        Paired geometries (same length).
    tolerance : float
        Largest distance between two vertices that are the same point.

    Returns
    -------
    identical, within : numpy.ndarray of bool
        ``identical``: the same parts, rings and coordinates; ``within``: the same parts,
        rings and number of vertices, every vertex within `tolerance` of its counterpart. A
        ring drawn from another start vertex or the other way round is not found here (the
        overlay finds it).

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import Polygon
    >>> square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    >>> moved = Polygon([(0, 0), (10, 0.0004), (10, 10), (0, 10)])
    >>> same_geometry(np.array([square, square]), np.array([square, moved]), 0.001)
    (array([ True, False]), array([ True,  True]))
    """
    checked_non_negative(tolerance, name="tolerance", unit="CRS units")
    identical = np.asarray(shapely.equals_identical(left, right), dtype=bool)
    within = identical.copy()
    rest = np.flatnonzero(~identical)
    if len(rest) == 0:
        return identical, within
    a, b = left[rest], right[rest]
    count = shapely.get_num_coordinates(a)
    shape = (
        (count == shapely.get_num_coordinates(b))
        & (count > 0)
        & (shapely.get_type_id(a) == shapely.get_type_id(b))
        & (shapely.get_num_geometries(a) == shapely.get_num_geometries(b))
        & (shapely.get_num_interior_rings(a) == shapely.get_num_interior_rings(b))
    )
    candidates = np.flatnonzero(shape)
    # In chunks, to bound the memory of the coordinate arrays.
    for start in range(0, len(candidates), 200_000):
        chunk = candidates[start : start + 200_000]
        xy_a = shapely.get_coordinates(a[chunk])
        xy_b = shapely.get_coordinates(b[chunk])
        offsets = np.concatenate([[0], np.cumsum(count[chunk])[:-1]])
        gap = np.hypot(xy_a[:, 0] - xy_b[:, 0], xy_a[:, 1] - xy_b[:, 1])
        within[rest[chunk]] = np.maximum.reduceat(gap, offsets) <= tolerance
    return identical, within


def _pairs_by_bounds(
    geoms_old: np.ndarray,
    geoms_new: np.ndarray,
    free_old: np.ndarray,
    free_new: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of features with the same geometry (within the tolerance), found by their bounds.

    Bounds are joined on a grid of cells much larger than the tolerance; a pair whose bounds
    straddle a cell edge is not found here, and the overlay finds it instead.
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(free_old) == 0 or len(free_new) == 0:
        return empty, empty, np.zeros(0, dtype=bool)
    cell = max(tolerance * 100.0, 1e-6)
    bounds_old = shapely.bounds(geoms_old[free_old])
    bounds_new = shapely.bounds(geoms_new[free_new])
    present_old = ~np.isnan(bounds_old).any(axis=1)
    present_new = ~np.isnan(bounds_new).any(axis=1)
    table_old = pd.DataFrame(
        {"key": _cell_key(bounds_old[present_old], cell), "i": free_old[present_old]}
    )
    table_new = pd.DataFrame(
        {"key": _cell_key(bounds_new[present_new], cell), "j": free_new[present_new]}
    )
    joined = table_old.merge(table_new, on="key", how="inner")
    if joined.empty:
        return empty, empty, np.zeros(0, dtype=bool)
    i = joined["i"].to_numpy(dtype=np.int64)
    j = joined["j"].to_numpy(dtype=np.int64)
    exact, within = same_geometry(geoms_old[i], geoms_new[j], tolerance)
    # One to one: exact pairs first, then each feature in its first pair only.
    order = np.lexsort((j, i, ~exact))
    i, j, exact, within = i[order], j[order], exact[order], within[order]
    keep = within.copy()
    chosen = pd.DataFrame({"i": i[keep], "j": j[keep], "exact": exact[keep]})
    chosen = chosen.drop_duplicates("i").drop_duplicates("j")
    return (
        chosen["i"].to_numpy(dtype=np.int64),
        chosen["j"].to_numpy(dtype=np.int64),
        chosen["exact"].to_numpy(dtype=bool),
    )


#: Odd 64-bit multipliers mixing the four cell numbers of a box into one key.
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
    dtype=np.uint64,
)


def _cell_key(bounds: np.ndarray, cell: float) -> np.ndarray:
    """One int64 per box: its corners' grid cells mixed (boxes in one cell share a key).

    Different cells may share a key too, rarely; the vertex comparison that follows tells
    such pairs apart.
    """
    cells = np.floor(bounds / cell).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        mixed = cells[:, 0] * _MIX[0]
        for column in range(1, 4):
            mixed ^= cells[:, column] * _MIX[column]
    return mixed.view(np.int64)


def _changed_fields(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, left: np.ndarray, right: np.ndarray
) -> dict[int, tuple[str, ...]]:
    """The pairs (positions) whose attributes differ: pair number to the fields that do.

    Fields present in both versions are compared; two missing values are equal.
    """
    columns = [
        column
        for column in before.columns
        if column != before.geometry.name
        and column in after.columns
        and column != after.geometry.name
    ]
    differs = np.zeros((len(left), len(columns)), dtype=bool)
    for position, column in enumerate(columns):
        a = before[column].to_numpy()[left]
        b = after[column].to_numpy()[right]
        if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
            equal = a == b
            if a.dtype.kind == "f" or b.dtype.kind == "f":
                equal |= np.isnan(a.astype(float)) & np.isnan(b.astype(float))
        else:
            a, b = a.astype(object), b.astype(object)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                equal = np.asarray(a == b, dtype=bool)
            unequal = np.flatnonzero(~equal)
            equal[unequal] = pd.isna(a[unequal]) & pd.isna(b[unequal])
        differs[:, position] = ~equal
    rows = np.flatnonzero(differs.any(axis=1))
    return {int(row): tuple(str(columns[k]) for k in np.flatnonzero(differs[row])) for row in rows}


# --------------------------------------------------------------------------------------------
# The overlay of the features that changed
# --------------------------------------------------------------------------------------------


@dataclass
class _Overlay:
    """The land of the features that changed, and the pieces taken out and put in.

    Positions ``old_changed`` (into the before version) and ``new_changed`` (after) list the
    features not matched as unchanged. For each of them, in the same order:

    - ``land_old``: the before feature minus unchanged features and earlier changed ones it
      overlaps (the land it adds to the before version);
    - ``land_new``: the same for the after feature, as drawn, and ``land_snapped`` for the
      after feature with its vertices snapped to the before features within the tolerance
      (what the out and in pieces are cut from);
    - ``out``, ``thin_out``: the land of a before feature not in the after version, without and
      with only the parts thinner than the tolerance; ``in_``, ``thin_in`` the same for after;
    - ``links``: (changed before, changed after, overlap area) of the pairs whose overlap is
      wider than the tolerance, which tie features into changes.
    """

    old_changed: np.ndarray
    new_changed: np.ndarray
    land_old: np.ndarray
    land_new: np.ndarray
    land_snapped: np.ndarray
    out: np.ndarray
    thin_out: np.ndarray
    in_: np.ndarray
    thin_in: np.ndarray
    links: pd.DataFrame

    @classmethod
    def run(cls, old: _Version, new: _Version, pairs: _Pairs, tolerance: float) -> _Overlay:
        kept_old, kept_new = pairs.kept()
        changed_old = _others(len(old), kept_old)
        changed_new = _others(len(new), kept_new)
        # The after version as cut: unchanged features in their before shape, changed ones
        # snapped to the before features within the tolerance.
        is_kept_old = np.zeros(len(old), dtype=bool)
        is_kept_old[kept_old] = True
        near_new, near_old = _near(new.geoms[changed_new], old.geoms, tolerance)
        snapped = _snapped(new.geoms[changed_new], old.geoms, near_new, near_old, tolerance)

        # Land of the changed before features: minus unchanged ones and earlier changed ones.
        rank_old = np.full(len(old), -1)
        rank_old[changed_old] = np.arange(len(changed_old))
        a, b = _near(old.geoms[changed_old], old.geoms, 0.0)
        other = changed_old[a] != b
        a, b = a[other], b[other]
        earlier = is_kept_old[b] | ((rank_old[b] >= 0) & (rank_old[b] < a))
        land_old = _minus(old.geoms[changed_old], old.geoms, a[earlier], b[earlier])

        # Land of the changed after features, snapped and as drawn.
        keep_snap = is_kept_old[near_old]
        land_snapped = _minus(snapped, old.geoms, near_new[keep_snap], near_old[keep_snap])
        changed_tree = shapely.STRtree(snapped)
        p, q = changed_tree.query(snapped, predicate="intersects")
        keep = q < p
        land_snapped = _minus(land_snapped, snapped, p[keep], q[keep])
        land_new = _land_as_drawn(new, changed_new, kept_old, kept_new, near_new, near_old)

        # Out: changed before land not in the snapped after version; in: the reverse.
        i, j = changed_tree.query(land_old, predicate="intersects")
        out_raw = _minus(land_old, snapped, i, j)
        cut_old = shapely.STRtree(old.geoms[changed_old])
        k, m = cut_old.query(land_snapped, predicate="intersects")
        in_raw = _minus(land_snapped, old.geoms[changed_old], k, m)
        out, thin_out = _split_thin(out_raw, tolerance)
        in_, thin_in = _split_thin(in_raw, tolerance)

        links = _links(old.geoms[changed_old], snapped, i, j, tolerance)
        return cls(
            changed_old,
            changed_new,
            land_old,
            land_new,
            land_snapped,
            out,
            thin_out,
            in_,
            thin_in,
            links,
        )


def _near(few: np.ndarray, many: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (position in `few`, position in `many`) of polygons within `distance`.

    The tree holds the few (changed) polygons' boxes, grown by `distance`; the many are
    matched to it by their own boxes, and only those pairs are tested: no tree of a whole
    province is built.
    """
    bounds = shapely.bounds(few)
    present = ~np.isnan(bounds).any(axis=1)
    grown = np.full(len(few), None, dtype=object)
    grown[present] = shapely.box(
        bounds[present, 0] - distance,
        bounds[present, 1] - distance,
        bounds[present, 2] + distance,
        bounds[present, 3] + distance,
    )
    many_index, few_index = shapely.STRtree(grown).query(many)
    if distance > 0:
        close = shapely.dwithin(few[few_index], many[many_index], distance)
    else:
        close = shapely.intersects(few[few_index], many[many_index])
    few_index, many_index = few_index[close], many_index[close]
    order = np.lexsort((many_index, few_index))
    return few_index[order], many_index[order]


def _snapped(
    geoms: np.ndarray,
    reference: np.ndarray,
    index: np.ndarray,
    reference_index: np.ndarray,
    tolerance: float,
) -> np.ndarray:
    """`geoms` with their vertices snapped to the `reference` polygons within `tolerance`.

    First GEOS's snap: vertices onto reference vertices, and reference vertices inserted into
    the edges they lie near. Then each vertex still within the tolerance of a reference edge
    is moved onto it (GEOS leaves those), so that a boundary redrawn less than the tolerance
    away from the old one lies on it.
    """
    result = geoms.copy()
    if tolerance <= 0 or len(index) == 0:
        return result
    collections = _collections(reference[reference_index], index, len(geoms))
    todo = np.flatnonzero(~shapely.is_empty(collections) & ~shapely.is_empty(geoms))
    if len(todo) == 0:
        return result
    moved = shapely.snap(geoms[todo], collections[todo], tolerance)
    edges = _collections(shapely.boundary(reference[reference_index]), index, len(geoms))[todo]
    coords, owner = shapely.get_coordinates(moved, return_index=True)
    nearest = shapely.shortest_line(shapely.points(coords), edges[owner])
    gap = shapely.length(nearest)
    close = (gap > 0) & (gap <= tolerance)
    if close.any():
        coords[close] = shapely.get_coordinates(shapely.get_point(nearest[close], 1))
        moved = shapely.set_coordinates(moved.copy(), coords)
    broken = ~shapely.is_valid(moved)
    if broken.any():
        moved[broken] = shapely.make_valid(moved[broken], method="structure", keep_collapsed=False)
    result[todo] = polygonal_parts(moved)
    return result


def _collections(parts: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """One GeometryCollection per owner (empty where an owner has none), of its parts."""
    result = np.empty(count, dtype=object)
    if len(parts):
        order = np.argsort(owner, kind="stable")
        shapely.geometrycollections(parts[order], indices=owner[order], out=result)
    result[shapely.is_missing(result)] = shapely.GeometryCollection()
    return result


def _minus(
    geoms: np.ndarray, others: np.ndarray, index: np.ndarray, other_index: np.ndarray
) -> np.ndarray:
    """Each of `geoms` minus the `others` paired with it (``geoms[index] - others[other_index]``).

    Only pairs whose interiors meet are cut: neighbours that merely share an edge cost a
    predicate, not an overlay.
    """
    result = np.asarray(geoms, dtype=object).copy()
    if len(index) == 0:
        return result
    meets = shapely.relate_pattern(result[index], others[other_index], "T********")
    index, other_index = index[meets], other_index[meets]
    if len(index) == 0:
        return result
    collections = _collections(others[other_index], index, len(result))
    todo = np.unique(index)
    result[todo] = polygonal_parts(shapely.difference(result[todo], collections[todo]))
    return result


def _land_as_drawn(
    new: _Version,
    changed_new: np.ndarray,
    kept_old: np.ndarray,
    kept_new: np.ndarray,
    near_new: np.ndarray,
    near_old: np.ndarray,
) -> np.ndarray:
    """The changed after features as drawn, minus the unchanged and earlier changed ones."""
    geoms = new.geoms[changed_new]
    # The unchanged after features near a changed one are those whose before shape is near it.
    new_of_old = pd.Series(kept_new, index=kept_old)
    near = pd.Series(near_old).isin(new_of_old.index).to_numpy()
    index = near_new[near]
    others_index = new_of_old.loc[near_old[near]].to_numpy(dtype=np.int64)
    result = _minus(geoms, new.geoms, index, others_index)
    tree = shapely.STRtree(geoms)
    p, q = tree.query(geoms, predicate="intersects")
    keep = q < p
    return _minus(result, geoms, p[keep], q[keep])


def _split_thin(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Each polygon as (its parts wider than the tolerance, its parts thinner than it)."""
    count = len(geoms)
    wide = np.array([shapely.MultiPolygon()] * count, dtype=object)
    thin = np.array([shapely.MultiPolygon()] * count, dtype=object)
    if count == 0:
        return wide, thin
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polygons = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    parts, owner = parts[polygons], owner[polygons]
    present = ~shapely.is_empty(parts) & (shapely.area(parts) > 0)
    parts, owner = parts[present], owner[present]
    if len(parts) == 0:
        return wide, thin
    narrow = is_thin(parts, tolerance)
    for mask, target in ((~narrow, wide), (narrow, thin)):
        if mask.any():
            grouped = np.empty(count, dtype=object)
            shapely.multipolygons(parts[mask], indices=owner[mask], out=grouped)
            filled = ~shapely.is_missing(grouped)
            target[filled] = grouped[filled]
    return wide, thin


def _links(
    old_geoms: np.ndarray,
    new_geoms: np.ndarray,
    old_index: np.ndarray,
    new_index: np.ndarray,
    tolerance: float,
) -> pd.DataFrame:
    """Pairs (changed before, changed after) overlapping by more than a sliver of tolerance."""
    columns = ["old", "new", "overlap"]
    if len(new_index) == 0:
        return pd.DataFrame(
            {c: np.zeros(0, dtype=float if c == "overlap" else int) for c in columns}
        )
    meets = shapely.relate_pattern(old_geoms[old_index], new_geoms[new_index], "T********")
    old_index, new_index = old_index[meets], new_index[meets]
    shared = polygonal_parts(shapely.intersection(old_geoms[old_index], new_geoms[new_index]))
    wide = ~is_thin(shared, tolerance)
    return pd.DataFrame(
        {
            "old": old_index[wide],
            "new": new_index[wide],
            "overlap": shapely.area(shared[wide]),
        }
    )


# --------------------------------------------------------------------------------------------
# Changes: features tied together by an id or by their overlap
# --------------------------------------------------------------------------------------------


@dataclass
class _Groups:
    """The change of every feature: ``change`` number (-1 unchanged), status, how matched.

    ``old_change``/``new_change`` give each feature's change; ``table`` one row per change:
    ``status``, ``matched_by``, ``old`` and ``new`` (positions), ``fields``.
    """

    old_change: np.ndarray
    new_change: np.ndarray
    old_status: np.ndarray
    new_status: np.ndarray
    table: pd.DataFrame

    @classmethod
    def find(cls, old: _Version, new: _Version, pairs: _Pairs, overlay: _Overlay) -> _Groups:
        rows: list[dict[str, Any]] = []
        old_status = np.full(len(old), "unchanged", dtype=object)
        new_status = np.full(len(new), "unchanged", dtype=object)

        # Unchanged geometry: a change only where attributes differ.
        kept_old, kept_new = pairs.kept()
        by_id = pairs.by_id[pairs.same]
        for row, changed in _changed_fields(old.frame, new.frame, kept_old, kept_new).items():
            rows.append(
                {
                    "status": "changed_attributes",
                    "matched_by": "id" if by_id[row] else "geometry",
                    "old": (int(kept_old[row]),),
                    "new": (int(kept_new[row]),),
                    "fields": changed,
                }
            )

        # Changed geometry: features tied by their id, or to the feature they overlap most.
        changed_old, changed_new = overlay.old_changed, overlay.new_changed
        n_old, n_new = len(changed_old), len(changed_new)
        rank_old = np.full(len(old), -1)
        rank_old[changed_old] = np.arange(n_old)
        rank_new = np.full(len(new), -1)
        rank_new[changed_new] = np.arange(n_new)
        named = pairs.by_id & ~pairs.same
        id_old = rank_old[pairs.before[named]]
        id_new = rank_new[pairs.after[named]]
        links = overlay.links
        paired_old = np.zeros(n_old, dtype=bool)
        paired_old[id_old] = True
        paired_new = np.zeros(n_new, dtype=bool)
        paired_new[id_new] = True
        best_new = links[~paired_old[links["old"].to_numpy(dtype=int)]]
        best_new = best_new.sort_values(["overlap", "new"], ascending=[False, True])
        best_new = best_new.drop_duplicates("old")
        best_old = links[~paired_new[links["new"].to_numpy(dtype=int)]]
        best_old = best_old.sort_values(["overlap", "old"], ascending=[False, True])
        best_old = best_old.drop_duplicates("new")
        edges_old = np.concatenate(
            [id_old, best_new["old"].to_numpy(dtype=int), best_old["old"].to_numpy(dtype=int)]
        )
        edges_new = np.concatenate(
            [id_new, best_new["new"].to_numpy(dtype=int), best_old["new"].to_numpy(dtype=int)]
        )
        size = n_old + n_new
        n_components, component = components(size, edges_old, n_old + edges_new)
        named_component = np.zeros(n_components, dtype=bool)
        named_component[component[id_old]] = True
        members = pd.Series(np.arange(size)).groupby(component).agg(list)
        out_area = shapely.area(overlay.out)
        in_area = shapely.area(overlay.in_)
        one_to_one: list[tuple[int, int, int]] = []
        for nodes in members:
            olds = tuple(int(changed_old[k]) for k in nodes if k < n_old)
            news = tuple(int(changed_new[k - n_old]) for k in nodes if k >= n_old)
            status = _status(len(olds), len(news))
            if len(olds) == len(news) == 1:
                one_to_one.append((len(rows), olds[0], news[0]))
                k_old, k_new = nodes[0], nodes[1] - n_old
                if out_area[k_old] == 0 and in_area[k_new] == 0:
                    status = "unchanged"  # redrawn, but no land moved by more than the tolerance
            matched = "id" if named_component[component[nodes[0]]] else "overlap"
            rows.append(
                {
                    "status": status,
                    "matched_by": matched if olds and news else "",
                    "old": olds,
                    "new": news,
                    "fields": (),
                }
            )
        if one_to_one:
            positions, lefts, rights = (np.array(v) for v in zip(*one_to_one, strict=True))
            for row, changed in _changed_fields(old.frame, new.frame, lefts, rights).items():
                position = int(positions[row])
                rows[position]["fields"] = changed
                if rows[position]["status"] == "unchanged":
                    rows[position]["status"] = "changed_attributes"

        table = pd.DataFrame(rows, columns=["status", "matched_by", "old", "new", "fields"])
        table = table[table["status"] != "unchanged"]
        table["first"] = [
            str(old.ids[o[0]]) if o else str(new.ids[n[0]])
            for o, n in zip(table["old"], table["new"], strict=True)
        ]
        table["order"] = table["status"].map({s: k for k, s in enumerate(STATUSES)})
        table = table.sort_values(["order", "first"], kind="stable").drop(
            columns=["order", "first"]
        )
        table.index = pd.RangeIndex(1, len(table) + 1, name="change")
        old_change = np.full(len(old), -1, dtype=np.int64)
        new_change = np.full(len(new), -1, dtype=np.int64)
        for change, status, olds, news in zip(
            table.index, table["status"], table["old"], table["new"], strict=True
        ):
            old_change[list(olds)] = change
            new_change[list(news)] = change
            old_status[list(olds)] = status
            new_status[list(news)] = status
        return cls(old_change, new_change, old_status, new_status, table)

    def status_frame(self, version: _Version, side: int) -> pd.DataFrame:
        change = self.old_change if side == 0 else self.new_change
        status = self.old_status if side == 0 else self.new_status
        return pd.DataFrame(
            {"feature": version.ids, "status": status, "change": change, "area_m2": version.area},
            index=version.frame.index,
        )


def _status(olds: int, news: int) -> str:
    """The status of a change with this many before and after features."""
    if olds == 0:
        return "added"
    if news == 0:
        return "removed"
    if olds == news:
        return "changed_geometry"
    return "split" if news > olds else "merged"


# --------------------------------------------------------------------------------------------
# Zones
# --------------------------------------------------------------------------------------------


@dataclass
class _Zoning:
    """The zones in the layers' CRS: codes, polygons, and the frame reports draw."""

    codes: np.ndarray
    geoms: np.ndarray
    frame: gpd.GeoDataFrame | None

    @classmethod
    def prepare(
        cls, zones: gpd.GeoDataFrame | None, zone_field: str | None, crs: pyproj.CRS
    ) -> _Zoning:
        if zones is None:
            return cls(np.zeros(0, dtype=object), np.zeros(0, dtype=object), None)
        codes = zone_codes(zones, zone_field)
        aligned = to_crs(zones, crs, name="the zones", target="the versions'")
        geoms = polygon_array(aligned, purpose="zones")
        frame = aligned.copy()
        frame.insert(0, "zone", codes)
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=crs))
        return cls(codes, geoms, frame)

    def split(
        self, geoms: np.ndarray, area: np.ndarray | None, crs: pyproj.CRS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cut polygons at zone boundaries: (pieces, owner position, zone code or None, m²).

        Parts outside every zone are pieces of zone None. `area` (of `geoms`, m²) is reused
        for polygons inside one zone; None to measure them.
        """
        geoms = np.asarray(geoms, dtype=object)
        present = np.flatnonzero(~shapely.is_empty(geoms) & ~shapely.is_missing(geoms))
        if area is None:
            area = np.zeros(len(geoms))
            area[present] = ellipsoidal_area(geoms[present], crs) if len(present) else 0.0
        if self.frame is None:
            keep = present[area[present] > 0]
            return geoms[keep], keep, np.full(len(keep), None, dtype=object), area[keep]
        pieces, owner, zone, piece_area = zone_parts(
            geoms[present], self.geoms, area=area[present], crs=crs
        )
        owner = present[owner]
        codes = codes_of_parts(self.codes, zone)
        positive = piece_area > 0
        return pieces[positive], owner[positive], codes[positive], piece_area[positive]

    def sums(
        self,
        geoms: np.ndarray,
        area: np.ndarray | None,
        crs: pyproj.CRS,
        *weights: np.ndarray | None,
    ) -> list[pd.DataFrame]:
        """Area (m²) per zone of `geoms`, once for each of `weights` (None: no grades).

        Each frame has ``area``, ``graded`` (the area with a grade) and ``weighted`` (the sum
        of area × grade), indexed by zone (``outside`` for land outside every zone). The
        polygons are cut at zone boundaries once.
        """
        _, owner, codes, piece_area = self.split(geoms, area, crs)
        return [
            _by_zone(_zone_labels(codes), piece_area, None if w is None else w[owner])
            for w in (weights or (None,))
        ]


def _by_zone(labels: np.ndarray, area: np.ndarray, grade: np.ndarray | None) -> pd.DataFrame:
    """Sums per zone label of ``area``, ``graded`` and ``weighted`` (area × grade)."""
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object), sort=True)
    index = np.asarray(codes, dtype=np.intp)
    unique = np.asarray(uniques, dtype=object)
    size = len(unique)
    zeros = np.zeros(size)
    columns: dict[str, np.ndarray] = {
        "area": np.bincount(index, weights=area, minlength=size) if size else zeros
    }
    if grade is not None and size:
        graded = ~np.isnan(grade)
        columns["graded"] = np.bincount(index, weights=np.where(graded, area, 0.0), minlength=size)
        columns["weighted"] = np.bincount(
            index, weights=np.where(graded, area * np.nan_to_num(grade), 0.0), minlength=size
        )
    else:
        columns["graded"] = columns["weighted"] = zeros
    return pd.DataFrame(columns, index=pd.Index(unique.tolist(), name="zone"))


def _zone_labels(codes: np.ndarray) -> np.ndarray:
    """Zone codes, with ``outside`` for pieces outside every zone (code None)."""
    labels = np.asarray(codes, dtype=object).copy()
    labels[pd.isna(labels)] = OUTSIDE
    return labels


# --------------------------------------------------------------------------------------------
# Pieces, balance, changes
# --------------------------------------------------------------------------------------------


@dataclass
class _Pieces:
    """The pieces taken out and put in, cut at zone boundaries, as table columns."""

    columns: dict[str, dict[str, np.ndarray]]
    grades: bool
    unit: str

    def frame(self, side: str, crs: pyproj.CRS) -> gpd.GeoDataFrame:
        columns = dict(self.columns[side])
        geometry = columns.pop("geometry")
        if not self.grades:
            columns.pop("grade")
        frame = gpd.GeoDataFrame(columns, geometry=list(geometry), crs=crs)
        frame.attrs.update(unit=self.unit, method="ellipsoidal")
        return frame


def _pieces(
    old: _Version,
    new: _Version,
    overlay: _Overlay,
    groups: _Groups,
    zoning: _Zoning,
    crs: pyproj.CRS,
    per_unit: float,
    unit: str,
) -> _Pieces:
    columns: dict[str, dict[str, np.ndarray]] = {}
    for side, geoms, positions, version, change, status in (
        ("out", overlay.out, overlay.old_changed, old, groups.old_change, groups.old_status),
        ("in", overlay.in_, overlay.new_changed, new, groups.new_change, groups.new_status),
    ):
        pieces, owner, codes, area = zoning.split(geoms, None, crs)
        feature = positions[owner]
        order = np.lexsort((codes.astype(str), feature))
        pieces, feature, codes, area = pieces[order], feature[order], codes[order], area[order]
        grade = version.grade[feature] if version.grade is not None else np.full(len(area), np.nan)
        columns[side] = {
            "change": change[feature],
            "status": status[feature].astype(object),
            "feature": version.ids[feature],
            "zone": codes,
            "area_m2": area,
            "area": area / per_unit,
            "grade": grade,
            "geometry": pieces,
        }
    lost = [side for side in ("out", "in") if any(code is None for code in columns[side]["zone"])]
    if lost and zoning.frame is not None:
        warnings.warn(
            f"land {' and '.join('taken out' if s == 'out' else 'put in' for s in lost)} lies "
            "partly outside every zone; those pieces are kept with zone None and the balance "
            "has a row 'outside'",
            OutsideZonesWarning,
            stacklevel=3,
        )
    return _Pieces(columns, old.grade is not None, unit)


def _balance(
    old: _Version,
    new: _Version,
    pairs: _Pairs,
    overlay: _Overlay,
    pieces: _Pieces,
    zoning: _Zoning,
    crs: pyproj.CRS,
    per_unit: float,
) -> pd.DataFrame:
    kept_old, kept_new = pairs.kept()
    moved = ~pairs.exact[pairs.same]  # unchanged within the tolerance, not identical
    grade_old = old.grade
    grade_new = new.grade
    new_grade_of_old = None
    if grade_new is not None:
        new_grade_of_old = np.full(len(old), np.nan)
        new_grade_of_old[kept_old] = grade_new[kept_new]

    def sums(
        geoms: np.ndarray, area: np.ndarray | None, *weights: np.ndarray | None
    ) -> list[pd.DataFrame]:
        return zoning.sums(geoms, area, crs, *weights)

    kept, kept_after = sums(
        old.geoms[kept_old],
        old.area[kept_old],
        _take(grade_old, kept_old),
        _take(new_grade_of_old, kept_old),
    )
    grade_moved = _take(grade_new, kept_new[moved])
    (moved_old,) = sums(old.geoms[kept_old[moved]], old.area[kept_old[moved]], grade_moved)
    (moved_new,) = sums(new.geoms[kept_new[moved]], new.area[kept_new[moved]], grade_moved)
    (land_old,) = sums(overlay.land_old, None, _take(grade_old, overlay.old_changed))
    (land_new,) = sums(overlay.land_new, None, _take(grade_new, overlay.new_changed))
    (land_snapped,) = sums(overlay.land_snapped, None)
    (thin_out,) = sums(overlay.thin_out, None)
    (thin_in,) = sums(overlay.thin_in, None)
    out, in_ = (
        _by_zone(
            _zone_labels(pieces.columns[side]["zone"]),
            pieces.columns[side]["area_m2"],
            pieces.columns[side]["grade"],
        )
        for side in ("out", "in")
    )
    labels = list(zoning.codes) if zoning.frame is not None else []
    labels = list(dict.fromkeys(labels))
    frames = [kept, kept_after, moved_old, moved_new, land_old, land_new, land_snapped]
    frames += [thin_out, thin_in, out, in_]
    if any(OUTSIDE in frame.index for frame in frames) or zoning.frame is None:
        labels.append(OUTSIDE)
    frames = [frame.reindex(labels, fill_value=0.0) for frame in frames]
    kept, kept_after, moved_old, moved_new, land_old, land_new, land_snapped = frames[:7]
    thin_out, thin_in, out, in_ = frames[7:]

    table = pd.DataFrame(index=pd.Index(labels, name="zone"))
    table["level"] = "zone"
    if zoning.frame is None:
        table = table.drop(index=OUTSIDE)
    else:
        table.loc[table.index == OUTSIDE, "level"] = OUTSIDE
    rows = table.index
    # Accumulated in m², then the total row, then the unit.
    delta = moved_new["area"] - moved_old["area"]
    before = kept["area"] + land_old["area"]
    after = kept["area"] + delta + land_new["area"]
    within = delta + land_new["area"] - land_snapped["area"] + thin_in["area"] - thin_out["area"]
    m2 = pd.DataFrame(
        {
            "before": before,
            "out": out["area"],
            "in": in_["area"],
            "within_tolerance": within,
            "after": after,
        }
    )
    grades = old.grade is not None
    if grades:
        m2["before_graded"] = kept["graded"] + land_old["graded"]
        m2["before_weighted"] = kept["weighted"] + land_old["weighted"]
        m2["after_graded"] = (
            kept_after["graded"] + moved_new["graded"] - moved_old["graded"] + land_new["graded"]
        )
        m2["after_weighted"] = (
            kept_after["weighted"]
            + moved_new["weighted"]
            - moved_old["weighted"]
            + land_new["weighted"]
        )
        for side, frame in (("out", out), ("in", in_)):
            m2[f"{side}_graded"] = frame["graded"]
            m2[f"{side}_weighted"] = frame["weighted"]
    if zoning.frame is None:
        m2 = m2.loc[[OUTSIDE]]
        m2.index = pd.Index([TOTAL], name="zone")
        table = pd.DataFrame({"level": [TOTAL]}, index=m2.index)
    else:
        m2 = m2.loc[rows]
        total = m2.sum().to_frame(TOTAL).T
        m2 = pd.concat([m2, total])
        m2.index.name = "zone"
        table = pd.concat([table, pd.DataFrame({"level": [TOTAL]}, index=[TOTAL])])
        table.index.name = "zone"
    result = table.copy()
    for column in ("before", "out", "in", "within_tolerance", "after"):
        result[column] = m2[column] / per_unit
    result["net"] = (m2["after"] - m2["before"]) / per_unit
    if grades:
        with np.errstate(invalid="ignore", divide="ignore"):
            for side in ("before", "after", "out", "in"):
                graded = m2[f"{side}_graded"]
                result[f"grade_{side}"] = (m2[f"{side}_weighted"] / graded).where(graded > 0)
        result["quality_fell"] = (
            result["grade_in"].notna()
            & result["grade_out"].notna()
            & (result["grade_in"] > result["grade_out"] + 1e-9)
        )
    return result


def _take(values: np.ndarray | None, index: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[index]


def _changes(
    old: _Version, new: _Version, groups: _Groups, pieces: _Pieces, per_unit: float
) -> pd.DataFrame:
    table = groups.table
    out = pd.Series(pieces.columns["out"]["area_m2"]).groupby(pieces.columns["out"]["change"]).sum()
    in_ = pd.Series(pieces.columns["in"]["area_m2"]).groupby(pieces.columns["in"]["change"]).sum()
    zones: dict[int, set[str]] = {}
    for side in ("out", "in"):
        for change, code in zip(
            pieces.columns[side]["change"], pieces.columns[side]["zone"], strict=True
        ):
            if code is not None:
                zones.setdefault(int(change), set()).add(str(code))
    result = pd.DataFrame(
        {
            "status": table["status"],
            "matched_by": table["matched_by"],
            "before_ids": [tuple(old.ids[list(o)]) for o in table["old"]],
            "after_ids": [tuple(new.ids[list(n)]) for n in table["new"]],
            "before_area": [float(old.area[list(o)].sum()) / per_unit for o in table["old"]],
            "after_area": [float(new.area[list(n)].sum()) / per_unit for n in table["new"]],
            "out_area": out.reindex(table.index, fill_value=0.0).to_numpy() / per_unit,
            "in_area": in_.reindex(table.index, fill_value=0.0).to_numpy() / per_unit,
            "fields": list(table["fields"]),
            "zones": [tuple(sorted(zones.get(int(c), ()))) for c in table.index],
        },
        index=table.index,
    )
    return result


def _matching_text(id_field: str | None, old: _Version, new: _Version, tolerance: float) -> str:
    geometry = (
        f"by geometry (identical, or every vertex within {tolerance:g} of its counterpart), "
        "then by overlap"
    )
    if id_field is None:
        return geometry
    unusable = sum(int((~v.usable).sum()) for v in (old, new) if v.usable is not None)
    if unusable:
        return f"by id field {id_field}; {unusable} feature(s) without a usable id {geometry}"
    return f"by id field {id_field}; features with a new id {geometry}"


# --------------------------------------------------------------------------------------------
# The rules of adjustments
# --------------------------------------------------------------------------------------------

#: The rules :func:`check_adjustment` checks: comparison, Chinese and English name.
RULES: Final = {
    "net": (">=", "净增面积", "net change of area"),
    "quality": ("<=", "调入耕地平均质量等别", "mean grade of the land put in"),
    "cap": ("<=", "调整后面积上限", "area after, cap"),
    "cap_percent": ("<=", "调整后面积占调整前比例", "area after as a share of before"),
    "expansion": ("<=", "扩展倍数", "expansion multiple over 2020 urban land"),
}


def check_adjustment(
    diff: VersionDiff,
    line: str,
    *,
    net_min: float | None = None,
    quality: bool = True,
    cap: float | Mapping[str, float] | None = None,
    cap_percent: float | None = None,
    urban_land_2020: float | Mapping[str, float] | None = None,
    expansion_multiple: float = 1.3,
    by_zone: bool = True,
) -> pd.DataFrame:
    """Check the rules of adjusting `line` on a comparison of its two versions.

    - ``farmland`` (补划: 数量不减少、质量不降低): the net change is at least `net_min` (0 by
      default), and, with a grade field and `quality`, the land put in has a mean grade no
      worse (no larger) than the land taken out.
    - ``redline`` (面积不减少): the net change is at least `net_min` (0 by default).
    - ``urban``: the area after is at most `cap`, and at most `cap_percent` % of the area
      before; with `urban_land_2020`, the area after is at most `expansion_multiple` times
      the 2020 urban construction land (现状城镇建设用地). `net_min` is checked when given.

    Parameters
    ----------
    diff : VersionDiff
        The result of :func:`compare_versions`.
    line : {"farmland", "redline", "urban"}
        Which line the two versions are.
    net_min : float, optional
        Smallest net change allowed (after - before), in ``diff.unit``.
    quality : bool, default True
        Check the quality of farmland (needs a grade field).
    cap : float or mapping of str to float, optional
        Largest urban area after, in ``diff.unit``: a number for the whole area, or a mapping
        of zone code to cap for each zone (the whole area's cap is then their sum).
    cap_percent : float, optional
        Largest urban area after, as a percentage of the area before (100: not larger).
    urban_land_2020 : float or mapping of str to float, optional
        The 2020 urban construction land, in ``diff.unit``: a number for the whole area or a
        mapping of zone code to area.
    expansion_multiple : float, default 1.3
        Largest ratio of urban area after to `urban_land_2020`.
    by_zone : bool, default True
        Check each zone as well as the whole area (a cap or 2020 figure given as one number
        applies to the whole area only).

    Returns
    -------
    pandas.DataFrame
        One row per rule and zone (then ``total``): ``rule`` (``net``, ``quality``, ``cap``,
        ``cap_percent``, ``expansion``), ``zone``, ``comparison``, ``required``, ``measured``,
        ``unit`` (``diff.unit``, ``grade``, ``%`` or ``×``), ``met`` and ``margin`` (how far
        on the right side; negative when missed). ``attrs["verdict"]`` is True when every rule
        is met.

    Raises
    ------
    ValueError
        An unknown line, or a rule given that does not apply to it.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 39_500_000, 3_150_000
    >>> def version(ids, grades, boxes):
    ...     return gpd.GeoDataFrame({"BSM": ids, "GDDB": grades},
    ...                             geometry=[box(*b) for b in boxes], crs=4527)
    >>> before = version(["A"], [3], [(x, y, x + 100, y + 100)])
    >>> after = version(["B"], [5], [(x, y + 200, x + 120, y + 300)])
    >>> diff = compare_versions(before, after, id_field="BSM", unit="m2")
    >>> rules = check_adjustment(diff, "farmland")
    >>> rules[["rule", "required", "measured", "met"]].round(2).to_dict("records")
    [{'rule': 'net', 'required': 0.0, 'measured': 2000.0, 'met': True}, {'rule': 'quality', \
'required': 3.0, 'measured': 5.0, 'met': False}]
    """
    checked_instance(diff, VersionDiff, name="diff", needed="a VersionDiff (from compare_versions)")
    if line not in LINES:
        raise ValueError(f"unknown line {line!r}; use one of: {', '.join(LINES)}")
    urban_only = {"cap": cap, "cap_percent": cap_percent, "urban_land_2020": urban_land_2020}
    given = [name for name, value in urban_only.items() if value is not None]
    if line != "urban" and given:
        raise ValueError(
            f"{', '.join(given)} apply to the urban development boundary (line='urban'), "
            f"not to {line}"
        )
    if net_min is None and line in ("farmland", "redline"):
        net_min = 0.0
    balance = diff.balance
    zones = [
        str(code)
        for code, level in zip(balance.index, balance["level"], strict=True)
        if level == "zone"
    ]
    scopes = ([*zones, TOTAL] if by_zone else [TOTAL]) if zones else [TOTAL]
    rows: list[tuple[Any, ...]] = []

    def add(rule: str, zone: str, required: float, measured: float, unit: str) -> None:
        comparison = RULES[rule][0]
        if math.isnan(measured) or math.isnan(required):
            met, margin = True, math.nan  # nothing to compare: nothing taken out or put in
        elif comparison == ">=":
            met, margin = measured >= required - 1e-9 * max(1.0, abs(required)), measured - required
        else:
            met, margin = measured <= required + 1e-9 * max(1.0, abs(required)), required - measured
        rows.append((rule, zone, comparison, required, measured, unit, bool(met), margin))

    numbers = balance.drop(columns="level").astype(float)
    for zone in scopes:
        row = dict(
            zip(map(str, numbers.columns), numbers.loc[zone].to_numpy().tolist(), strict=True)
        )
        if net_min is not None:
            add("net", zone, float(net_min), float(row["net"]), diff.unit)
        if line == "farmland" and quality and diff.grade_field is not None:
            add("quality", zone, float(row["grade_out"]), float(row["grade_in"]), "grade")
        if line != "urban":
            continue
        limit = _scoped(cap, zone, zones)
        if limit is not None:
            add("cap", zone, limit, float(row["after"]), diff.unit)
        if cap_percent is not None:
            share = (
                100.0 * float(row["after"]) / float(row["before"]) if row["before"] else math.nan
            )
            add("cap_percent", zone, float(cap_percent), share, "%")
        land = _scoped(urban_land_2020, zone, zones)
        if land is not None:
            multiple = float(row["after"]) / land if land > 0 else math.inf
            add("expansion", zone, float(expansion_multiple), multiple, "×")
    result = pd.DataFrame(
        rows,
        columns=["rule", "zone", "comparison", "required", "measured", "unit", "met", "margin"],
    )
    result["met"] = result["met"].astype(bool)
    result.attrs.update(line=line, unit=diff.unit, verdict=bool(result["met"].all()))
    return result


def _scoped(
    value: float | Mapping[str, float] | None, zone: str, zones: Sequence[str]
) -> float | None:
    """A rule's figure for `zone`: a mapping's entry (summed for the total), a number's total."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if zone == TOTAL:
            return float(sum(float(v) for v in value.values()))
        return float(value[zone]) if zone in value else None
    return float(value) if zone == TOTAL else None

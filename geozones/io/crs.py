"""What CRS a layer's coordinates suggest, and whether a declared CRS fits them.

Chinese planning data mostly come in CGCS2000: geographic degrees (EPSG:4490) or
Gauss-Kruger metres, 3-degree or 6-degree zones, with or without the zone number
prefixed to the easting. Files often arrive without a CRS, or with one that
contradicts the numbers. The functions here read what the numbers say:

- :func:`suggest_crs` names the CRS the coordinates point to, when they do;
- :func:`describe_coordinates` says in words what they look like;
- :func:`check_crs_matches` raises when a declared CRS contradicts them;
- :func:`resolve_crs` is the policy ``read_layer(..., crs=...)`` follows.

Bounds are ``(xmin, ymin, xmax, ymax)`` in the traditional GIS axis order
(easting or longitude first), as GeoPandas' ``total_bounds`` and pyogrio give them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pyproj
from pyproj.exceptions import CRSError as PyprojCRSError

from geozones.errors import CRSError, CRSInferredWarning, CRSMismatchError, MissingCRSError

__all__ = [
    "BoundsLike",
    "CRSSuggestion",
    "check_crs_matches",
    "crs_label",
    "describe_coordinates",
    "is_mercator",
    "resolve_crs",
    "suggest_crs",
]

BoundsLike: TypeAlias = (
    "tuple[float, float, float, float] | Sequence[float] | npt.NDArray[np.floating[Any]]"
)
"""``(xmin, ymin, xmax, ymax)``: a tuple, a sequence or an array of four numbers."""

PREFIX_EASTING = 10_000_000.0
"""Eastings at or above this carry their zone number: ``zone = floor(easting / 10**6)``."""

_ZONE_WIDTH = 1_000_000.0
_NORTHING_RANGE = (300_000.0, 6_100_000.0)  # Gauss-Kruger northings of latitudes 3°N–54°N
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)
_ZONES_3DEG = range(25, 46)  # EPSG:4513 (zone 25) … EPSG:4533 (zone 45)
_ZONES_6DEG = range(13, 24)  # EPSG:4491 (zone 13) … EPSG:4501 (zone 23)
_EPSG_CGCS2000_GEOGRAPHIC = 4490
_AREA_MARGIN_DEG = 10.0  # slack around a CRS's area of use when testing a projection
_ROUND_TRIP_TOLERANCE_M = 1.0

_Kind = Literal["degrees", "prefixed", "mixed zones", "partly prefixed", "unprefixed", "projected"]


# --------------------------------------------------------------------------------------------
# Suggestion
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CRSSuggestion:
    """A CRS the coordinates of a layer point to, and why.

    Attributes
    ----------
    epsg : int
        EPSG code of the suggested CRS.
    reason : str
        Why the coordinates suggest it, in English, for messages and warnings.
    """

    epsg: int
    reason: str

    @property
    def crs(self) -> pyproj.CRS:
        """The suggested CRS as a :class:`pyproj.CRS`."""
        return pyproj.CRS.from_epsg(self.epsg)


def suggest_crs(bounds: BoundsLike) -> CRSSuggestion | None:
    """Suggest the Chinese CRS that coordinates with these bounds are in.

    Eastings of 10,000,000 or more carry their Gauss-Kruger zone (``floor(easting / 10**6)``):
    zones 25–45 are CGCS2000 3-degree zones (EPSG:4513–4533), zones 13–23 are 6-degree
    zones (EPSG:4491–4501). Both ends of the easting range must give the same zone and
    the northings must be plausible for China. Longitudes and latitudes within China
    suggest CGCS2000 geographic (EPSG:4490).

    Parameters
    ----------
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the layer, easting or longitude first.

    Returns
    -------
    CRSSuggestion or None
        None when the coordinates do not point to one CRS: degrees outside China,
        eastings without a zone prefix (the zone cannot be told), mixed zones, empty
        or non-finite bounds.

    See Also
    --------
    describe_coordinates : What the coordinates look like, in words.

    Examples
    --------
    >>> from geozones.io.crs import suggest_crs
    >>> s = suggest_crs((39_560_000, 3_400_000, 39_640_000, 3_500_000))
    >>> s.epsg
    4527
    >>> s.crs.name
    'CGCS2000 / 3-degree Gauss-Kruger zone 39'
    >>> suggest_crs((116.1, 39.6, 116.9, 40.2)).epsg
    4490
    >>> suggest_crs((440_000, 3_400_000, 560_000, 3_500_000)) is None
    True
    """
    box = _parse_bounds(bounds)
    if box is None:
        return None
    kind = _kind(box)
    if kind == "degrees":
        if not _in_china_degrees(box):
            return None
        return CRSSuggestion(
            _EPSG_CGCS2000_GEOGRAPHIC,
            f"longitudes {_deg(box[0])}–{_deg(box[2])} and latitudes {_deg(box[1])}–"
            f"{_deg(box[3])} lie within China: CGCS2000 geographic",
        )
    if kind != "prefixed" or not _plausible_northings(box):
        return None
    zone = _zone_of(box[0])
    epsg = _prefixed_epsg(zone)
    if epsg is None:
        return None
    return CRSSuggestion(
        epsg,
        f"eastings {_m(box[0])}–{_m(box[2])} carry the zone prefix {zone}: "
        f"CGCS2000 {_zone_title(zone)} (CM {_central_meridian(zone)}°E)",
    )


def describe_coordinates(bounds: BoundsLike) -> str:
    """Describe in words what coordinates with these bounds look like.

    Used in error messages to say why a CRS fits or does not fit, or why none can be
    suggested.

    Parameters
    ----------
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the layer, easting or longitude first.

    Returns
    -------
    str
        A lower-case clause starting with "coordinates" or "there are no coordinates".

    Examples
    --------
    >>> from geozones.io.crs import describe_coordinates
    >>> describe_coordinates((440_000, 3_400_000, 560_000, 3_500_000))
    'coordinates look like CGCS2000 Gauss-Kruger eastings without a zone prefix; ...'
    >>> describe_coordinates((39_560_000, 3_400_000, 39_640_000, 3_500_000))
    'coordinates look like 3-degree Gauss-Kruger zone 39 (central meridian 117°E): ...'
    """
    box = _parse_bounds(bounds)
    if box is None:
        return "there are no coordinates to tell from (empty layer, or empty or non-finite bounds)"
    xmin, ymin, xmax, ymax = box
    xs, ys = f"{_m(xmin)}–{_m(xmax)}", f"{_m(ymin)}–{_m(ymax)}"
    kind = _kind(box)
    if kind == "degrees":
        return _describe_degrees(box)
    if kind == "prefixed":
        return _describe_prefixed(box)
    if kind == "mixed zones":
        return (
            f"coordinates have eastings {xs} whose zone prefixes {_zone_of(xmin)} and "
            f"{_zone_of(xmax)} differ: the layer mixes Gauss-Kruger zones or is not Gauss-Kruger"
        )
    if kind == "partly prefixed":
        return (
            f"coordinates have eastings {xs}: some (10,000,000 or more) carry a zone prefix "
            "and others do not, so they fit no single Gauss-Kruger zone"
        )
    if kind == "unprefixed":
        return (
            "coordinates look like CGCS2000 Gauss-Kruger eastings without a zone prefix; "
            f"the zone cannot be told from them (eastings {xs}, northings {ys}; "
            "EPSG:4534–4554 are the 3-degree zones by central meridian 75°E–135°E, "
            "EPSG:4502–4512 the 6-degree ones)"
        )
    if _swapped_degrees_in_china(box):
        return (
            f"coordinates look like latitude/longitude in China with the axes swapped "
            f"(x {_deg(xmin)}–{_deg(xmax)} looks like latitudes, y {_deg(ymin)}–{_deg(ymax)} "
            "like longitudes)"
        )
    return (
        f"coordinates (x {xs}, y {ys}) are projected numbers that fit no CGCS2000 "
        "Gauss-Kruger pattern"
    )


# --------------------------------------------------------------------------------------------
# Checking a declared CRS
# --------------------------------------------------------------------------------------------


def check_crs_matches(crs: pyproj.CRS, bounds: BoundsLike, *, source: str) -> None:
    """Raise if a CRS is contradicted by the coordinates it is declared for.

    The CRS is contradicted when it is geographic but the numbers lie outside ±180/±90;
    when it is projected but every number lies within ±180/±90 (degrees); when it is a
    Gauss-Kruger CRS with a zone prefix in its false easting (such as EPSG:4491–4501 and
    4513–4533, or a Xian 1980 or Beijing 1954 zone from a .prj) and the eastings carry
    another zone or none; and when its false easting is below 10,000,000 but the eastings
    are 10,000,000 or more (for projections other than Transverse Mercator, only if the
    numbers cannot be inverse-projected into the CRS's area of use; Web Mercator
    eastings of eastern China are legitimately that large). Empty or non-finite bounds
    are not checked.

    Parameters
    ----------
    crs : pyproj.CRS
        The declared CRS (anything :meth:`pyproj.CRS.from_user_input` accepts).
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the layer, easting or longitude first.
    source : str
        The file or layer the CRS comes from, named in the message.

    Raises
    ------
    CRSMismatchError
        The CRS does not fit the coordinates; the message says what they look like and
        which ``crs=`` to pass to ``read_layer`` instead.

    Examples
    --------
    >>> import pyproj
    >>> from geozones.io.crs import check_crs_matches
    >>> bounds = (39_560_000, 3_400_000, 39_640_000, 3_500_000)
    >>> check_crs_matches(pyproj.CRS("EPSG:4527"), bounds, source="farmland.shp")
    >>> check_crs_matches(pyproj.CRS("EPSG:4528"), bounds, source="farmland.shp")
    Traceback (most recent call last):
    ...
    geozones.errors.CRSMismatchError: farmland.shp: the declared CRS EPSG:4528 ...
    """
    declared = pyproj.CRS.from_user_input(crs)
    box = _parse_bounds(bounds)
    if box is None:
        return
    problem = _mismatch(declared, box)
    if problem is None:
        return
    raise CRSMismatchError(
        f"{source}: the declared CRS {crs_label(declared)} does not fit the coordinates: "
        f"{problem}; {describe_coordinates(box)}. {_advice(declared, box)}"
    )


def resolve_crs(
    declared: pyproj.CRS | None,
    bounds: BoundsLike,
    *,
    crs: str | pyproj.CRS | int | None,
    source: str,
) -> tuple[pyproj.CRS, str]:
    """Decide the CRS of a layer from what the file declares and what the caller asked.

    This is the policy of ``read_layer(..., crs=...)``:

    - ``crs=None``: the declared CRS, after :func:`check_crs_matches`; a layer without
      one raises :class:`MissingCRSError` naming the CRS the coordinates suggest.
    - ``crs="infer"``: the declared CRS if there is one (checked); otherwise the CRS
      the coordinates suggest, with a :class:`CRSInferredWarning`.
    - anything else: that CRS (parsed by :meth:`pyproj.CRS.from_user_input`) and checked
      against the coordinates. It replaces a declared CRS that differs: that is how a
      wrong .prj is overridden.

    Parameters
    ----------
    declared : pyproj.CRS or None
        The CRS stored with the data, None if it has none.
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the layer, easting or longitude first.
    crs : str, pyproj.CRS, int or None
        The caller's choice: None, ``"infer"``, or a CRS such as ``"EPSG:4527"`` or ``4527``.
    source : str
        The file or layer, named in messages.

    Returns
    -------
    crs : pyproj.CRS
        The CRS to use.
    provenance : str
        ``"declared"``, ``"inferred"`` or ``"set by caller"``.

    Raises
    ------
    MissingCRSError
        No CRS is declared and the caller did not accept or give one.
    CRSMismatchError
        The declared or given CRS contradicts the coordinates.
    CRSError
        ``crs`` is not a CRS pyproj understands.

    Warns
    -----
    CRSInferredWarning
        ``crs="infer"`` took the CRS from the coordinates.

    Examples
    --------
    >>> import pyproj
    >>> from geozones.io.crs import resolve_crs
    >>> bounds = (39_560_000, 3_400_000, 39_640_000, 3_500_000)
    >>> crs, how = resolve_crs(pyproj.CRS(4527), bounds, crs=None, source="a.shp")
    >>> crs.to_epsg(), how
    (4527, 'declared')
    >>> crs, how = resolve_crs(pyproj.CRS(4528), bounds, crs="EPSG:4527", source="a.shp")
    >>> crs.to_epsg(), how
    (4527, 'set by caller')
    """
    if crs is None:
        if declared is None:
            raise _missing_crs_error(bounds, source=source, infer_asked=False)
        declared_crs = pyproj.CRS.from_user_input(declared)
        check_crs_matches(declared_crs, bounds, source=source)
        return declared_crs, "declared"
    if isinstance(crs, str) and crs.strip().lower() == "infer":
        if declared is not None:
            declared_crs = pyproj.CRS.from_user_input(declared)
            check_crs_matches(declared_crs, bounds, source=source)
            return declared_crs, "declared"
        suggestion = suggest_crs(bounds)
        if suggestion is None:
            raise _missing_crs_error(bounds, source=source, infer_asked=True)
        inferred = suggestion.crs
        warnings.warn(
            f"{source} declares no CRS; using {crs_label(inferred)}, inferred from the "
            f'coordinates ({suggestion.reason}). Pass crs="EPSG:{suggestion.epsg}" to '
            "read_layer to state it and silence this warning.",
            CRSInferredWarning,
            stacklevel=3,  # resolve_crs is called by read_layer: point at the user's call
        )
        return inferred, "inferred"
    given = _parse_user_crs(crs, source=source)
    box = _parse_bounds(bounds)
    problem = None if box is None else _mismatch(given, box)
    if box is not None and problem is not None:
        raise CRSMismatchError(
            f"{source}: the CRS passed as crs={crs!r}, {crs_label(given)}, does not fit the "
            f"coordinates: {problem}; {describe_coordinates(box)}. "
            f"{_advice(given, box, caller=True)}"
        )
    return given, "set by caller"


# --------------------------------------------------------------------------------------------
# Reading the bounds
# --------------------------------------------------------------------------------------------

_Box: TypeAlias = tuple[float, float, float, float]


def _parse_bounds(bounds: BoundsLike) -> _Box | None:
    """Return the bounds as four floats, or None when empty or not finite."""
    values = np.asarray(bounds, dtype=np.float64).reshape(-1)
    if values.size != 4:
        raise ValueError(f"bounds must be (xmin, ymin, xmax, ymax), got {bounds!r}")
    if not np.isfinite(values).all():
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    if xmin > xmax or ymin > ymax:
        raise ValueError(f"bounds must be (xmin, ymin, xmax, ymax) with min <= max, got {bounds!r}")
    return xmin, ymin, xmax, ymax


def _kind(box: _Box) -> _Kind:
    """Classify the numbers: degrees, prefixed eastings, unprefixed eastings or other."""
    xmin, ymin, xmax, ymax = box
    if xmin >= -180.0 and xmax <= 180.0 and ymin >= -90.0 and ymax <= 90.0:
        return "degrees"
    if xmin >= PREFIX_EASTING:
        return "prefixed" if _zone_of(xmin) == _zone_of(xmax) else "mixed zones"
    if xmax >= PREFIX_EASTING:
        return "partly prefixed"
    if xmin >= 0.0 and xmax < _ZONE_WIDTH and _plausible_northings(box):
        return "unprefixed"
    return "projected"


def _zone_of(easting: float) -> int:
    return math.floor(easting / _ZONE_WIDTH)


def _plausible_northings(box: _Box) -> bool:
    low, high = _NORTHING_RANGE
    return low <= box[1] and box[3] <= high


def _in_china_degrees(box: _Box) -> bool:
    return _within(box, _CHINA_LON, _CHINA_LAT)


def _swapped_degrees_in_china(box: _Box) -> bool:
    return _within(box, _CHINA_LAT, _CHINA_LON)


def _within(box: _Box, xrange: tuple[float, float], yrange: tuple[float, float]) -> bool:
    xmin, ymin, xmax, ymax = box
    return xrange[0] <= xmin and xmax <= xrange[1] and yrange[0] <= ymin and ymax <= yrange[1]


def _describe_degrees(box: _Box) -> str:
    xmin, ymin, xmax, ymax = box
    where = f"longitudes {_deg(xmin)}–{_deg(xmax)}, latitudes {_deg(ymin)}–{_deg(ymax)}"
    if _in_china_degrees(box):
        return f"coordinates look like longitude/latitude degrees within China ({where})"
    text = (
        f"coordinates look like longitude/latitude degrees ({where}), but not within China "
        f"(longitude {_CHINA_LON[0]:g}–{_CHINA_LON[1]:g}°E, "
        f"latitude {_CHINA_LAT[0]:g}–{_CHINA_LAT[1]:g}°N)"
    )
    if _swapped_degrees_in_china(box):
        text += ", unless the axes are swapped (latitude first)"
    return text


def _describe_prefixed(box: _Box) -> str:
    xmin, _, xmax, _ = box
    zone = _zone_of(xmin)
    eastings = f"eastings {_m(xmin)}–{_m(xmax)} carry the zone prefix {zone}"
    if _prefixed_epsg(zone) is None:
        return (
            f"coordinates have {eastings}, which is not a Chinese Gauss-Kruger zone "
            "(3-degree zones 25–45, 6-degree zones 13–23)"
        )
    text = (
        f"coordinates look like {_zone_title(zone)} (central meridian "
        f"{_central_meridian(zone)}°E): {eastings}"
    )
    if not _plausible_northings(box):
        low, high = _NORTHING_RANGE
        text += (
            f", but the northings {_m(box[1])}–{_m(box[3])} are outside the range plausible "
            f"for China ({_m(low)}–{_m(high)})"
        )
    return text


# --------------------------------------------------------------------------------------------
# Zones
# --------------------------------------------------------------------------------------------


def _prefixed_epsg(zone: int) -> int | None:
    """EPSG code of the CGCS2000 Gauss-Kruger CRS whose eastings carry ``zone``."""
    if zone in _ZONES_3DEG:
        return 4513 + zone - _ZONES_3DEG.start
    if zone in _ZONES_6DEG:
        return 4491 + zone - _ZONES_6DEG.start
    return None


def _zone_title(zone: int) -> str:
    degrees = 3 if zone in _ZONES_3DEG else 6
    return f"{degrees}-degree Gauss-Kruger zone {zone}"


def _central_meridian(zone: int) -> int:
    return 3 * zone if zone in _ZONES_3DEG else 6 * zone - 3


# --------------------------------------------------------------------------------------------
# What a CRS expects
# --------------------------------------------------------------------------------------------


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS:
    """Return the horizontal part of a CRS: unwrap bound (TOWGS84) and compound CRSs."""
    if crs.is_bound and crs.source_crs is not None:
        return _horizontal(crs.source_crs)
    if crs.is_compound and crs.sub_crs_list:
        return _horizontal(crs.sub_crs_list[0])
    return crs


def _false_easting(crs: pyproj.CRS) -> float | None:
    """Return the false easting of a projected CRS in its axis unit, None if it has none."""
    operation = crs.coordinate_operation
    if operation is None:
        return None
    names = {"false easting", "easting at false origin", "easting at projection centre"}
    for param in operation.params:
        if param.name.lower() in names:
            metres = float(param.value) * float(param.unit_conversion_factor or 1.0)
            axis_factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
            return metres / float(axis_factor or 1.0)
    return None


def is_mercator(crs: pyproj.CRS) -> bool:
    """Whether `crs` is a Mercator projection other than transverse (Web Mercator and the like).

    Its planar distances and areas grow away from the equator (by 1/cos(latitude), and its
    square for area), so neither is measured on its plane.

    Parameters
    ----------
    crs : pyproj.CRS
        The CRS.

    Returns
    -------
    bool
        True for a (non-transverse) Mercator projection.

    Examples
    --------
    >>> is_mercator(pyproj.CRS(3857)), is_mercator(pyproj.CRS(4527)), is_mercator(pyproj.CRS(4490))
    (True, False, False)
    """
    operation = crs.coordinate_operation
    method = operation.method_name.lower() if operation is not None else ""
    return "mercator" in method and "transverse" not in method


def _is_transverse_mercator(crs: pyproj.CRS) -> bool:
    operation = crs.coordinate_operation
    if operation is None:
        return False
    method = operation.method_name.lower()
    return ("transverse mercator" in method and "south" not in method) or "gauss" in method


def _mismatch(crs: pyproj.CRS, box: _Box) -> str | None:
    """Say how ``crs`` contradicts coordinates with bounds ``box``; None if it does not."""
    horizontal = _horizontal(crs)
    kind = _kind(box)
    xmin, ymin, xmax, ymax = box
    if horizontal.is_geographic:
        if kind == "degrees":
            return None
        return (
            f"it is geographic (degrees), but x runs {_m(xmin)}–{_m(xmax)} and y "
            f"{_m(ymin)}–{_m(ymax)}, outside ±180/±90"
        )
    if not horizontal.is_projected:
        return None
    if kind == "degrees":
        return "it is projected, but every coordinate lies within ±180/±90, as degrees do"
    false_easting = _false_easting(horizontal)
    if false_easting is not None and false_easting >= PREFIX_EASTING:
        return _prefixed_crs_mismatch(_zone_of(false_easting), false_easting, box, kind)
    if xmax < PREFIX_EASTING:
        return None
    if _is_transverse_mercator(horizontal):
        fe = "0" if false_easting is None else _m(false_easting)
        return (
            f"its false easting is {fe}, so its eastings carry no zone prefix, but the "
            f"eastings {_m(xmin)}–{_m(xmax)} are 10,000,000 or more"
        )
    if _fits_projection(horizontal, box):
        return None
    return (
        f"the eastings {_m(xmin)}–{_m(xmax)} are 10,000,000 or more and do not "
        "inverse-project into the CRS's area of use"
    )


def _prefixed_crs_mismatch(zone: int, false_easting: float, box: _Box, kind: _Kind) -> str | None:
    xmin, _, xmax, _ = box
    expects = f"its eastings carry the zone prefix {zone} (false easting {_m(false_easting)})"
    if kind == "prefixed":
        found = _zone_of(xmin)
        if found == zone:
            return None
        return f"{expects}, but the eastings {_m(xmin)}–{_m(xmax)} carry the prefix {found}"
    if kind == "mixed zones":
        return (
            f"{expects}, but the eastings {_m(xmin)}–{_m(xmax)} span the prefixes "
            f"{_zone_of(xmin)}–{_zone_of(xmax)}"
        )
    return f"{expects}, but the eastings {_m(xmin)}–{_m(xmax)} do not all carry it"


def _fits_projection(crs: pyproj.CRS, box: _Box) -> bool:
    """Whether the corners of ``box`` inverse-project into ``crs``'s area of use and back."""
    geodetic = crs.geodetic_crs
    if geodetic is None:
        return True
    xmin, ymin, xmax, ymax = box
    xs = np.array([xmin, xmax, xmin, xmax, (xmin + xmax) / 2])
    ys = np.array([ymin, ymin, ymax, ymax, (ymin + ymax) / 2])
    inverse = pyproj.Transformer.from_crs(crs, geodetic, always_xy=True)
    forward = pyproj.Transformer.from_crs(geodetic, crs, always_xy=True)
    lon, lat = (np.asarray(v) for v in inverse.transform(xs, ys, errcheck=False))
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return False
    xs_back, ys_back = (np.asarray(v) for v in forward.transform(lon, lat, errcheck=False))
    if not np.allclose(xs_back, xs, rtol=0, atol=_ROUND_TRIP_TOLERANCE_M) or not np.allclose(
        ys_back, ys, rtol=0, atol=_ROUND_TRIP_TOLERANCE_M
    ):
        return False
    area = crs.area_of_use
    if area is None or area.west > area.east:  # unknown, or crossing the antimeridian
        return True
    m = _AREA_MARGIN_DEG
    return bool(
        (lon >= area.west - m).all()
        and (lon <= area.east + m).all()
        and (lat >= area.south - m).all()
        and (lat <= area.north + m).all()
    )


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


def crs_label(crs: pyproj.CRS) -> str:
    """`crs` as messages name it: ``EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39)``.

    The EPSG code and the name of the horizontal part, or the name alone (quoted) when there
    is no EPSG code, or the start of its definition when it has no name either.

    Parameters
    ----------
    crs : pyproj.CRS
        The CRS.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> crs_label(pyproj.CRS(4527))
    'EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39)'
    """
    horizontal = _horizontal(crs)
    name = horizontal.name if horizontal.name and horizontal.name != "unknown" else crs.name
    epsg = crs.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg} ({name})"
    if name and name != "unknown":
        return f"'{name}'"
    text = str(crs.srs)
    return f"'{text[:77]}...'" if len(text) > 80 else f"'{text}'"


def _advice(crs: pyproj.CRS, box: _Box, *, caller: bool = False) -> str:
    """Say what to do about a CRS that does not fit: which ``crs=`` to pass instead."""
    suggestion = suggest_crs(box)
    if suggestion is None:
        if caller:
            return 'Pass a CRS that fits the coordinates, e.g. crs="EPSG:…".'
        return (
            'Pass the right CRS to read_layer with crs="EPSG:…" (it overrides the declared '
            "one), or correct the CRS stored with the data (a shapefile's .prj file)."
        )
    target = f'crs="EPSG:{suggestion.epsg}" ({suggestion.crs.name})'
    if caller:
        text = f"The coordinates suggest {target}."
    else:
        text = (
            f"If the coordinates are right, pass {target} to read_layer (it overrides the "
            "declared CRS), or correct the CRS stored with the data (a shapefile's .prj file)."
        )
    twin = _same_datum_twin(crs, suggestion.epsg)
    if twin is not None:
        datum, epsg = twin
        whose = "The CRS passed" if caller else "The declared CRS"
        text += (
            f" {whose} is on the {datum} datum: if the data are too, pass "
            f'crs="EPSG:{epsg}" ({pyproj.CRS.from_epsg(epsg).name}) instead.'
        )
    return text


# Older Chinese datums: (title, geographic EPSG, EPSG of 3-degree zone 25, of 6-degree zone 13).
_OLDER_DATUMS = {
    "xian 1980": ("Xian 1980", 4610, 2349, 2327),
    "beijing 1954": ("Beijing 1954", 4214, 2401, 21413),
}


def _same_datum_twin(crs: pyproj.CRS, cgcs2000_epsg: int) -> tuple[str, int] | None:
    """Return the Xian 1980 / Beijing 1954 twin of a CGCS2000 code if ``crs`` is on that datum."""
    datum = _horizontal(crs).datum
    name = " ".join(datum.name.lower().replace("_", " ").split()) if datum is not None else ""
    for key, (title, geographic, first_3deg, first_6deg) in _OLDER_DATUMS.items():
        if key not in name:
            continue
        if cgcs2000_epsg == _EPSG_CGCS2000_GEOGRAPHIC:
            return title, geographic
        if 4513 <= cgcs2000_epsg <= 4533:
            return title, first_3deg + cgcs2000_epsg - 4513
        if 4491 <= cgcs2000_epsg <= 4501:
            return title, first_6deg + cgcs2000_epsg - 4491
    return None


def _missing_crs_error(bounds: BoundsLike, *, source: str, infer_asked: bool) -> MissingCRSError:
    head = f"{source} has no CRS (for a shapefile: no .prj file next to the .shp)"
    suggestion = suggest_crs(bounds)
    if suggestion is not None:
        return MissingCRSError(
            f"{head}; the coordinates suggest {crs_label(suggestion.crs)} ({suggestion.reason}). "
            f'Pass crs="infer" to read_layer to accept it, or crs="EPSG:…" to set the CRS '
            "yourself."
        )
    tried = ', and crs="infer" found nothing to infer' if infer_asked else ""
    return MissingCRSError(
        f"{head}{tried}: no CRS can be suggested because {describe_coordinates(bounds)}. "
        'Pass the CRS the data were made in to read_layer, e.g. crs="EPSG:4549" for CGCS2000 '
        "3-degree Gauss-Kruger CM 120°E."
    )


def _parse_user_crs(value: Any, *, source: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(value)
    except (PyprojCRSError, TypeError, ValueError) as exc:
        raise CRSError(
            f"{source}: crs={value!r} is not a CRS pyproj understands ({exc}). Pass an EPSG "
            'code such as crs="EPSG:4527" or 4527, a WKT or PROJ string, a pyproj.CRS, or '
            'crs="infer".'
        ) from exc


def _m(value: float) -> str:
    """Format metres (or any large number) with thousands separators."""
    return f"{value:,.0f}" if 1000 <= abs(value) < 1e12 else f"{value:.6g}"


def _deg(value: float) -> str:
    return f"{value:.4g}"

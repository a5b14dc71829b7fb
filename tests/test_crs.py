"""Tests of geozones.io.crs: suggesting, describing, checking and resolving CRSs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyproj
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geozones.errors import CRSError, CRSInferredWarning, CRSMismatchError, MissingCRSError
from geozones.io.crs import (
    CRSSuggestion,
    check_crs_matches,
    describe_coordinates,
    resolve_crs,
    suggest_crs,
)

ZONES_3DEG = range(25, 46)
ZONES_6DEG = range(13, 24)
SOURCE = "县级/永久基本农田.shp"


def zone_bounds(zone: int) -> tuple[float, float, float, float]:
    """Bounds of a 60 km × 100 km block near the central meridian of ``zone``."""
    return (zone * 1e6 + 470_000, 3_400_000.0, zone * 1e6 + 530_000, 3_500_000.0)


def false_easting(crs: pyproj.CRS) -> float:
    params = crs.coordinate_operation.params
    return next(p.value for p in params if p.name == "False easting")


BEIJING_DEGREES = (116.1, 39.6, 116.9, 40.2)
UNPREFIXED = (440_000.0, 3_400_000.0, 560_000.0, 3_500_000.0)
ZONE39 = zone_bounds(39)


# --------------------------------------------------------------------------------------------
# suggest_crs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ZONES_3DEG)
def test_suggest_every_3deg_zone(zone: int) -> None:
    suggestion = suggest_crs(zone_bounds(zone))
    assert suggestion is not None
    assert suggestion.epsg == 4513 + zone - 25
    # independent check: PROJ's definition of that code has this zone's false easting
    crs = pyproj.CRS.from_epsg(suggestion.epsg)
    assert false_easting(crs) == zone * 1e6 + 500_000
    assert f"zone {zone}" in crs.name and "3-degree" in crs.name
    assert suggestion.crs == crs
    assert f"CM {3 * zone}°E" in suggestion.reason
    assert f"zone prefix {zone}" in suggestion.reason


@pytest.mark.parametrize("zone", ZONES_6DEG)
def test_suggest_every_6deg_zone(zone: int) -> None:
    suggestion = suggest_crs(zone_bounds(zone))
    assert suggestion is not None
    assert suggestion.epsg == 4491 + zone - 13
    crs = pyproj.CRS.from_epsg(suggestion.epsg)
    assert false_easting(crs) == zone * 1e6 + 500_000
    assert crs.name == f"CGCS2000 / Gauss-Kruger zone {zone}"
    assert f"CM {6 * zone - 3}°E" in suggestion.reason


@pytest.mark.parametrize("zone", ZONES_3DEG)
def test_suggested_zone_central_meridian_matches_pyproj(zone: int) -> None:
    crs = suggest_crs(zone_bounds(zone)).crs  # type: ignore[union-attr]
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 3 * zone


@pytest.mark.parametrize("zone", [10, 12, 24, 46, 60])
def test_prefix_outside_chinese_zones_gives_no_suggestion(zone: int) -> None:
    assert suggest_crs(zone_bounds(zone)) is None
    assert "not a Chinese Gauss-Kruger zone" in describe_coordinates(zone_bounds(zone))


def test_suggestion_is_frozen_dataclass() -> None:
    suggestion = suggest_crs(ZONE39)
    assert isinstance(suggestion, CRSSuggestion)
    with pytest.raises(AttributeError):
        suggestion.epsg = 1  # type: ignore[misc]
    assert suggestion.reason.startswith("eastings 39,470,000–39,530,000 carry the zone prefix 39")


def test_degrees_inside_china_suggest_4490() -> None:
    suggestion = suggest_crs(BEIJING_DEGREES)
    assert suggestion is not None and suggestion.epsg == 4490
    assert suggestion.crs.is_geographic
    assert "within China" in suggestion.reason


@pytest.mark.parametrize(
    "bounds",
    [
        (2.2, 48.8, 2.5, 48.9),  # Paris
        (-74.1, 40.6, -73.8, 40.9),  # New York
        (130.0, 60.0, 135.0, 62.0),  # north of China's latitude range
        (-180.0, -90.0, 180.0, 90.0),
    ],
)
def test_degrees_outside_china_give_no_suggestion(bounds: tuple[float, ...]) -> None:
    assert suggest_crs(bounds) is None
    assert "not within China" in describe_coordinates(bounds)


def test_unprefixed_eastings_give_no_suggestion() -> None:
    assert suggest_crs(UNPREFIXED) is None
    text = describe_coordinates(UNPREFIXED)
    assert "without a zone prefix" in text
    assert "zone cannot be told" in text


def test_mixed_zones_give_no_suggestion() -> None:
    bounds = (39_900_000.0, 3_400_000.0, 40_100_000.0, 3_500_000.0)
    assert suggest_crs(bounds) is None
    assert "39 and 40 differ" in describe_coordinates(bounds)


def test_partly_prefixed_eastings_give_no_suggestion() -> None:
    bounds = (500_000.0, 3_400_000.0, 39_500_000.0, 3_500_000.0)
    assert suggest_crs(bounds) is None
    assert "some" in describe_coordinates(bounds)


@pytest.mark.parametrize("northings", [(0.0, 100.0), (-3e6, -2e6), (6.5e6, 7e6), (2e5, 3.4e6)])
def test_prefixed_eastings_with_implausible_northings(northings: tuple[float, float]) -> None:
    bounds = (39_500_000.0, northings[0], 39_600_000.0, northings[1])
    assert suggest_crs(bounds) is None
    assert "not plausible" in describe_coordinates(bounds) or "outside the range" in (
        describe_coordinates(bounds)
    )


@pytest.mark.parametrize(
    "bounds",
    [(math.nan,) * 4, (np.nan, 1.0, 2.0, 3.0), (0.0, 0.0, math.inf, 1.0), np.full(4, np.nan)],
)
def test_empty_bounds(bounds: tuple[float, ...]) -> None:
    assert suggest_crs(bounds) is None
    assert describe_coordinates(bounds).startswith("there are no coordinates")
    check_crs_matches(pyproj.CRS(4527), bounds, source=SOURCE)  # nothing to check


def test_bounds_as_numpy_array() -> None:
    assert suggest_crs(np.array(ZONE39)).epsg == 4527  # type: ignore[union-attr]


@pytest.mark.parametrize("bounds", [(1.0, 2.0, 3.0), (3.0, 0.0, 1.0, 1.0)])
def test_malformed_bounds_raise_value_error(bounds: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="xmin, ymin, xmax, ymax"):
        suggest_crs(bounds)


def test_swapped_axes_are_described() -> None:
    text = describe_coordinates((39.6, 116.1, 40.2, 116.9))
    assert "axes swapped" in text


def test_other_projected_numbers_are_described() -> None:
    text = describe_coordinates((-2_000_000.0, 2_000_000.0, 1_000_000.0, 5_000_000.0))
    assert "fit no CGCS2000 Gauss-Kruger pattern" in text


@given(
    zone=st.sampled_from([*ZONES_3DEG, *ZONES_6DEG]),
    offsets=st.lists(
        st.floats(min_value=0.0, max_value=999_999.99, allow_nan=False, allow_subnormal=False),
        min_size=2,
        max_size=2,
    ),
    northings=st.lists(
        st.floats(min_value=300_000.0, max_value=6_100_000.0, allow_nan=False),
        min_size=2,
        max_size=2,
    ),
)
def test_any_easting_in_a_zone_band_gives_that_zone(
    zone: int, offsets: list[float], northings: list[float]
) -> None:
    xmin, xmax = sorted(zone * 1e6 + o for o in offsets)
    ymin, ymax = sorted(northings)
    suggestion = suggest_crs((xmin, ymin, xmax, ymax))
    assert suggestion is not None
    assert false_easting(suggestion.crs) == zone * 1e6 + 500_000


# --------------------------------------------------------------------------------------------
# check_crs_matches
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epsg", "bounds"),
    [
        (4527, ZONE39),
        (4490, BEIJING_DEGREES),
        (4326, BEIJING_DEGREES),
        (4326, (2.2, 48.8, 2.5, 48.9)),  # degrees anywhere fit a geographic CRS
        (4549, UNPREFIXED),
        (2363, ZONE39),  # Xian 1980 zone 39 carries the prefix too
        (4497, zone_bounds(19)),
        (32650, UNPREFIXED),
        (3857, (13_400_000.0, 3_500_000.0, 13_600_000.0, 3_700_000.0)),  # Shanghai, Web Mercator
    ],
)
def test_matching_crs_passes(epsg: int, bounds: tuple[float, ...]) -> None:
    check_crs_matches(pyproj.CRS.from_epsg(epsg), bounds, source=SOURCE)


def mismatch_message(crs: object, bounds: tuple[float, ...]) -> str:
    with pytest.raises(CRSMismatchError) as info:
        check_crs_matches(crs, bounds, source=SOURCE)
    message = str(info.value)
    assert SOURCE in message
    return message


def test_geographic_crs_with_projected_numbers() -> None:
    message = mismatch_message(pyproj.CRS(4490), ZONE39)
    assert "EPSG:4490 (China Geodetic Coordinate System 2000)" in message
    assert "outside ±180/±90" in message
    assert 'crs="EPSG:4527"' in message
    assert ".prj" in message


def test_projected_crs_with_degrees() -> None:
    message = mismatch_message(pyproj.CRS(4527), BEIJING_DEGREES)
    assert "EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39)" in message
    assert "within ±180/±90" in message
    assert 'crs="EPSG:4490"' in message


def test_prefixed_crs_with_other_zone() -> None:
    message = mismatch_message(pyproj.CRS(4528), ZONE39)
    assert "zone prefix 40" in message and "prefix 39" in message
    assert 'crs="EPSG:4527"' in message


def test_prefixed_6deg_crs_with_3deg_zone() -> None:
    message = mismatch_message(pyproj.CRS(4497), ZONE39)
    assert 'crs="EPSG:4527"' in message


def test_prefixed_crs_with_unprefixed_eastings() -> None:
    message = mismatch_message(pyproj.CRS(4527), UNPREFIXED)
    assert "do not all carry it" in message
    assert "without a zone prefix" in message


def test_prefixed_crs_with_mixed_zones() -> None:
    bounds = (39_900_000.0, 3_400_000.0, 40_100_000.0, 3_500_000.0)
    message = mismatch_message(pyproj.CRS(4527), bounds)
    assert "span the prefixes 39–40" in message


@pytest.mark.parametrize("epsg", [4549, 4502, 4534, 4554, 32650, 2383])
def test_unprefixed_tm_crs_with_prefixed_eastings(epsg: int) -> None:
    message = mismatch_message(pyproj.CRS.from_epsg(epsg), ZONE39)
    assert "carry no zone prefix" in message
    assert 'crs="EPSG:4527"' in message


def test_other_projection_with_prefixed_eastings() -> None:
    message = mismatch_message(pyproj.CRS(3857), ZONE39)
    assert "area of use" in message


def test_albers_with_prefixed_eastings() -> None:
    albers = pyproj.CRS("+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m")
    message = mismatch_message(albers, ZONE39)
    assert "area of use" in message


ESRI_XIAN_ZONE_39 = (
    'PROJCS["Xian_1980_3_Degree_GK_Zone_39",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",'
    'SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],'
    'PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)
PROJ_BEIJING_ZONE_39 = (
    "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=39500000 +y_0=0 +ellps=krass "
    "+towgs84=15.8,-154.4,-82.3,0,0,0,0 +units=m +no_defs"
)


@pytest.mark.parametrize("definition", [ESRI_XIAN_ZONE_39, PROJ_BEIJING_ZONE_39])
def test_custom_prefixed_gk_crs_read_from_false_easting(definition: str) -> None:
    crs = pyproj.CRS(definition)
    check_crs_matches(crs, ZONE39, source=SOURCE)
    message = mismatch_message(crs, zone_bounds(38))
    assert "zone prefix 39" in message and "prefix 38" in message
    assert 'crs="EPSG:4526"' in message


def test_xian_crs_mismatch_names_the_xian_twin() -> None:
    message = mismatch_message(pyproj.CRS(ESRI_XIAN_ZONE_39), zone_bounds(38))
    assert 'crs="EPSG:2362" (Xian 1980 / 3-degree Gauss-Kruger zone 38)' in message


def test_compound_crs_checked_by_its_horizontal_part() -> None:
    compound = pyproj.CRS("EPSG:4527+5737")
    check_crs_matches(compound, ZONE39, source=SOURCE)
    mismatch_message(compound, zone_bounds(38))


# --------------------------------------------------------------------------------------------
# resolve_crs
# --------------------------------------------------------------------------------------------


def test_resolve_declared() -> None:
    crs, how = resolve_crs(pyproj.CRS(4527), ZONE39, crs=None, source=SOURCE)
    assert crs.to_epsg() == 4527 and how == "declared"


def test_resolve_declared_mismatch_raises() -> None:
    with pytest.raises(CRSMismatchError, match="EPSG:4528"):
        resolve_crs(pyproj.CRS(4528), ZONE39, crs=None, source=SOURCE)


def test_resolve_missing_names_the_suggestion() -> None:
    with pytest.raises(MissingCRSError) as info:
        resolve_crs(None, ZONE39, crs=None, source=SOURCE)
    message = str(info.value)
    assert SOURCE in message
    assert "no CRS" in message and ".prj" in message
    assert "coordinates suggest EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39)" in message
    assert 'crs="infer"' in message and 'crs="EPSG:' in message


def test_resolve_missing_without_suggestion_says_why() -> None:
    with pytest.raises(MissingCRSError) as info:
        resolve_crs(None, UNPREFIXED, crs=None, source=SOURCE)
    message = str(info.value)
    assert SOURCE in message
    assert "zone cannot be told" in message
    assert 'crs="EPSG:' in message


def test_resolve_infer_uses_suggestion_with_warning() -> None:
    with pytest.warns(CRSInferredWarning) as record:
        crs, how = resolve_crs(None, ZONE39, crs="infer", source=SOURCE)
    assert crs.to_epsg() == 4527 and how == "inferred"
    message = str(record[0].message)
    assert SOURCE in message and "EPSG:4527" in message


def test_resolve_infer_degrees() -> None:
    with pytest.warns(CRSInferredWarning, match="EPSG:4490"):
        crs, how = resolve_crs(None, BEIJING_DEGREES, crs="INFER", source=SOURCE)
    assert crs.to_epsg() == 4490 and how == "inferred"


def test_resolve_infer_prefers_declared_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crs, how = resolve_crs(pyproj.CRS(4527), ZONE39, crs="infer", source=SOURCE)
    assert crs.to_epsg() == 4527 and how == "declared"


def test_resolve_infer_checks_declared() -> None:
    with pytest.raises(CRSMismatchError, match=SOURCE):
        resolve_crs(pyproj.CRS(4490), ZONE39, crs="infer", source=SOURCE)


@pytest.mark.parametrize("bounds", [UNPREFIXED, (2.2, 48.8, 2.5, 48.9), (math.nan,) * 4])
def test_resolve_infer_without_suggestion_raises(bounds: tuple[float, ...]) -> None:
    with pytest.raises(MissingCRSError, match='crs="infer" found nothing') as info:
        resolve_crs(None, bounds, crs="infer", source=SOURCE)
    assert SOURCE in str(info.value)


@pytest.mark.parametrize("given_crs", ["EPSG:4527", 4527, pyproj.CRS(4527), "epsg:4527"])
def test_resolve_caller_crs(given_crs: object) -> None:
    crs, how = resolve_crs(None, ZONE39, crs=given_crs, source=SOURCE)  # type: ignore[arg-type]
    assert crs.to_epsg() == 4527 and how == "set by caller"


def test_resolve_caller_crs_overrides_wrong_declared() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crs, how = resolve_crs(pyproj.CRS(4490), ZONE39, crs="EPSG:4527", source=SOURCE)
    assert crs.to_epsg() == 4527 and how == "set by caller"


def test_resolve_caller_crs_overrides_unprefixed_without_suggestion() -> None:
    crs, how = resolve_crs(None, UNPREFIXED, crs=4549, source=SOURCE)
    assert crs.to_epsg() == 4549 and how == "set by caller"


def test_resolve_caller_crs_is_checked() -> None:
    with pytest.raises(CRSMismatchError) as info:
        resolve_crs(None, ZONE39, crs="EPSG:4528", source=SOURCE)
    message = str(info.value)
    assert SOURCE in message and "crs='EPSG:4528'" in message
    assert 'crs="EPSG:4527"' in message


@pytest.mark.parametrize("bad", ["EPSG:99999999", "not a crs", 3.5])
def test_resolve_bad_caller_crs(bad: object) -> None:
    with pytest.raises(CRSError, match="is not a CRS pyproj understands") as info:
        resolve_crs(None, ZONE39, crs=bad, source=SOURCE)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)
    assert not isinstance(info.value, (CRSMismatchError, MissingCRSError))


def test_errors_keep_builtin_bases() -> None:
    with pytest.raises(ValueError):
        resolve_crs(None, ZONE39, crs=None, source=SOURCE)

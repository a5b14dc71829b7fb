"""Declared areas: the convention they follow, the check against it, the area fields' arithmetic."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Polygon
from test_survey import reference_survey_area

import geozones
from geozones.errors import FieldError


def long_edged_parcels(n: int = 30, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Parcels with slanted km-long edges 100-160 km from the meridian of zone 39, where the
    survey formula, its densified variants and the exact area give different 0.01 m² figures."""
    rng = np.random.default_rng(seed)
    parcels = []
    for _ in range(n):
        e = 39_500_000 + rng.choice([-1, 1]) * rng.uniform(100e3, 160e3)
        nn = rng.uniform(2.8e6, 4.5e6)
        length, rise, width = rng.uniform(2000, 6000), rng.uniform(500, 3000), rng.uniform(200, 500)
        parcels.append(
            Polygon(
                [
                    (e, nn),
                    (e + length, nn + rise),
                    (e + length - 80, nn + rise + width),
                    (e, nn + width),
                ]
            )
        )
    return gpd.GeoDataFrame({"BSM": [f"P{i:03d}" for i in range(n)]}, geometry=parcels, crs=4527)


def test_declared_survey_figures_pass_and_wrong_ones_are_listed():
    layer = long_edged_parcels()
    # Declared by the published formula (the test's own implementation), rounded.
    layer["TBMJ"] = [
        round(reference_survey_area(g, 4527, central_meridian=117.0), 2) for g in layer.geometry
    ]
    layer.loc[[3, 17], "TBMJ"] += [0.05, -12.0]
    listed = geozones.check_declared_area(layer, "TBMJ")
    assert listed.index.tolist() == [3, 17]
    assert listed["difference"].round(2).tolist() == [0.05, -12.0]
    assert listed.attrs["method"] == "survey"
    # The exact area disagrees with most correct declarations of such parcels.
    exact_listed = geozones.check_declared_area(layer, "TBMJ", method="ellipsoidal")
    assert len(exact_listed) > len(layer) // 2


def test_the_older_relative_tolerance_still_works():
    layer = long_edged_parcels(5)
    layer["TBMJ"] = geozones.area(layer, method="survey").round(2)
    layer.loc[2, "TBMJ"] *= 1.02
    listed = geozones.check_declared_area(layer, "TBMJ", rel_tol=0.01)
    assert listed.index.tolist() == [2]
    assert "max(1.0 m2, 0.01" in listed.attrs["tolerance"]


@pytest.mark.parametrize(
    ("method", "densify_m", "expected"),
    [
        ("survey", None, "survey"),
        ("survey", 70.0, "survey, densified at 70 m"),
        ("survey", 20.0, "survey, densified at 20 m"),
        ("ellipsoidal", None, "exact"),
    ],
)
def test_the_convention_of_declared_figures_is_recognised(method, densify_m, expected):
    layer = long_edged_parcels(40, seed=5)
    layer["TBMJ"] = geozones.area(layer, method=method, densify_m=densify_m).round(2)
    layer.loc[[0, 1], "TBMJ"] += 1.0  # two wrong declarations
    found = geozones.declared_area_convention(layer, "TBMJ")
    assert found.convention == expected, found.candidates
    assert found.equivalent == ()
    assert found.compared == 40
    assert found.matched == 38
    assert found.share == pytest.approx(38 / 40)
    assert found.candidates["share"].is_monotonic_decreasing


def test_missing_or_textual_fields_are_field_errors():
    layer = long_edged_parcels(3)
    with pytest.raises(FieldError, match=r"TBMJ.*fields are: BSM"):
        geozones.check_declared_area(layer, "TBMJ")
    layer["TBMJ"] = ["a", "b", "c"]
    with pytest.raises(FieldError, match="no numbers"):
        geozones.declared_area_convention(layer, "TBMJ")


def farmland_table() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    gross = np.round(rng.uniform(100, 50_000, 200), 2)
    coefficient = rng.choice([0.0, 0.02, 0.05, 0.08, 0.1, 0.127], 200)
    deduction = np.round(gross * coefficient, 2)
    return pd.DataFrame(
        {
            "BSM": [f"330100{i:06d}" for i in range(200)],
            "YJJBNTTBMJ": gross,
            "KCXS": coefficient,
            "KCMJ": deduction,
            "YJJBNTMJ": np.round(gross - deduction, 2),
        }
    )


def test_area_field_arithmetic_lists_each_mismatch_by_bsm():
    table = farmland_table()
    assert geozones.check_area_fields(table).empty
    table.loc[5, "KCMJ"] += 0.01  # one cent off: KCMJ wrong, and so the net no longer adds up
    table.loc[9, "YJJBNTMJ"] -= 0.02
    table.loc[12, "KCXS"] = np.nan
    listed = geozones.check_area_fields(table)
    assert listed["id"].tolist() == [
        "330100000005",
        "330100000005",
        "330100000009",
        "330100000012",
    ]
    assert listed["field"].tolist() == ["KCMJ", "YJJBNTMJ", "YJJBNTMJ", "KCMJ"]
    assert listed.attrs["gross"] == "YJJBNTTBMJ"
    assert listed.attrs["net"] == "YJJBNTMJ"
    assert listed.iloc[0]["expected"] == table.loc[5, "KCMJ"] - 0.01
    assert np.isnan(listed.iloc[3]["expected"])


def test_area_fields_accept_either_rounding_of_a_tie_and_survey_field_names():
    table = pd.DataFrame(
        {"BSM": ["1", "2"], "TBMJ": [1234.25, 100.0], "KCXS": [0.1, 0.1], "KCMJ": [123.42, 10.0],
         "TBDLMJ": [1110.83, 90.0]}
    )  # fmt: skip
    assert geozones.check_area_fields(table).empty  # 123.425 rounds either way
    table.loc[0, "KCMJ"] = 123.43
    table.loc[0, "TBDLMJ"] = 1110.82
    assert geozones.check_area_fields(table).empty
    with pytest.raises(FieldError, match="gross area"):
        geozones.check_area_fields(table.drop(columns="TBMJ"))


# --- control totals (平差) -----------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from geozones.errors import ControlTotalError  # noqa: E402

areas_strategy = st.lists(st.floats(0.0, 1e7, allow_nan=False), min_size=1, max_size=40).filter(
    lambda xs: sum(xs) > 0
)


@settings(max_examples=200, deadline=None)
@given(areas_strategy, st.floats(0.0, 1e8), st.integers(0, 3), st.randoms(use_true_random=False))
def test_adjusted_parts_sum_exactly_stay_within_a_unit_and_ignore_order(
    areas, control, decimals, random
):
    parts = pd.Series(areas, index=[f"p{i}" for i in range(len(areas))])
    adjusted = geozones.adjust_to_control(parts, control, decimals=decimals)
    unit = 10.0**-decimals
    units = np.round(adjusted.to_numpy() / unit)
    # Sums exact, in whole units of the last decimal.
    assert int(units.sum()) == round(control / unit)
    np.testing.assert_allclose(adjusted.to_numpy(), units * unit, atol=1e-9 * max(control, 1))
    # No part moves by a unit or more from its proportional share.
    share = parts.to_numpy() * (round(control / unit) * unit) / sum(areas)
    assert np.all(np.abs(adjusted.to_numpy() - share) < unit * (1 + 1e-9) + 1e-6 * share)
    # Order independent.
    order = list(parts.index)
    random.shuffle(order)
    again = geozones.adjust_to_control(parts[order], control, decimals=decimals)
    pd.testing.assert_series_equal(again.loc[parts.index], adjusted)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["330102", "330103", "330104"]), st.floats(0.01, 1e6)),
        min_size=3,
        max_size=60,
    ),
    st.floats(0.9, 1.1),
)
def test_each_zone_sums_to_its_own_control_total(rows, factor):
    zones = pd.Series([zone for zone, _ in rows])
    parts = pd.Series([value for _, value in rows])
    control = {zone: round(parts[zones == zone].sum() * factor, 2) for zone in zones.unique()}
    adjusted = geozones.adjust_to_control(parts, control, by=zones)
    for zone, total in control.items():
        assert round(adjusted[zones == zone].sum() * 100) == round(total * 100)


def test_hand_computed_adjustment():
    # 1000 m² over 3 equal parts: 333.33 each, the last cent to the largest remainder, tied,
    # so to the first label.
    parts = pd.Series([1.0, 1.0, 1.0], index=["b", "a", "c"])
    assert geozones.adjust_to_control(parts, 1000.0).to_dict() == {
        "b": 333.33,
        "a": 333.34,
        "c": 333.33,
    }
    # 10 and 30 to a total of 41: 10.25 and 30.75.
    assert geozones.adjust_to_control(pd.Series([10.0, 30.0]), 41.0).tolist() == [10.25, 30.75]


@pytest.mark.parametrize(
    ("areas", "control", "by", "match"),
    [
        ([1.0, -2.0], 10.0, None, "negative"),
        ([1.0, np.nan], 10.0, None, "missing"),
        ([1.0, 2.0], -1.0, None, "non-negative"),
        ([1.0, 2.0], float("nan"), None, "non-negative"),
        ([0.0, 0.0], 5.0, None, "nothing to spread"),
        ([1.0, 2.0], {"a": 3.0}, ["a", "b"], "no control total for zone.*'b'"),
        ([1.0, 2.0], {"a": 3.0}, None, "by="),
        ([1.0, 2.0], 3.0, ["a", "a"], "mapping"),
    ],
)
def test_control_total_errors(areas, control, by, match):
    with pytest.raises(ControlTotalError, match=match) as caught:
        geozones.adjust_to_control(pd.Series(areas), control, by=by)
    assert isinstance(caught.value, ValueError)

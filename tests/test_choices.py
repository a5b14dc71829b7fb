"""Options of a closed set (area units, levels, layer keys): one error class, a "did you mean"."""

from __future__ import annotations

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely import box

import geozones
from geozones.cli.main import cli
from geozones.errors import GeozonesError, OptionError
from geozones.units import square_metres_per

SAMPLE = "sample_data"


@pytest.fixture
def counties() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"XZQDM": ["990101", "990102"]},
        geometry=[
            box(39_500_000, 3_150_000, 39_501_000, 3_151_000),
            box(39_501_000, 3_150_000, 39_502_000, 3_151_000),
        ],
        crs=4527,
    )


@pytest.mark.parametrize(
    ("given", "guess"),
    [("hectare", "ha"), ("公顷", "ha"), ("MU", "mu"), ("亩", "mu"), ("km²", "km2"), ("sqm", "m2")],
)
def test_an_unknown_unit_names_the_nearest(given: str, guess: str) -> None:
    with pytest.raises(
        OptionError, match=rf"unknown area unit '{given}' \(did you mean '{guess}'\?\)"
    ):
        square_metres_per(given)


def test_an_unknown_unit_is_a_geozones_error_and_a_value_error(counties) -> None:
    with pytest.raises(OptionError) as raised:
        geozones.area(counties, unit="acre")
    assert isinstance(raised.value, GeozonesError) and isinstance(raised.value, ValueError)
    assert "did you mean" not in str(raised.value)  # nothing near: just the list
    assert str(raised.value).endswith("use one of: m2, ha, km2, mu, wan_mu, wan_ha")


def test_an_unknown_level_names_the_nearest(counties) -> None:
    redline = counties.iloc[:1].copy()
    with pytest.raises(
        OptionError, match=r"unknown level 'provence' \(did you mean 'province'\?\)"
    ):
        geozones.coverage(redline, counties, by="XZQDM", levels=("county", "provence"))


def test_a_misspelt_layer_key_names_the_nearest(counties) -> None:
    footprint = counties.iloc[:1].copy()
    layers = {"farmland": counties, "redline": counties}
    with pytest.raises(
        OptionError, match=r"'redlin' is not among the layers \(did you mean 'redline'\?\)"
    ):
        geozones.site_check(footprint, layers, redline="redlin")


def test_the_cli_refuses_an_unknown_unit_before_reading_any_layer() -> None:
    result = CliRunner().invoke(
        cli, ["site-check", f"{SAMPLE}/YJJBNT.shp", f"{SAMPLE}/geozones.toml", "--unit", "hectare"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--unit': 'hectare'" in result.output
    assert "Traceback" not in result.output and "warning:" not in result.output

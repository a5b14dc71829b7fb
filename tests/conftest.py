"""Hypothesis profiles: ``ci`` replays the same examples on every run, ``fuzz`` explores.

``make test`` (and so CI) runs ``--hypothesis-profile=ci``: a red run then means a change broke
something, never that this run drew an unlucky example. ``make fuzz`` runs the property tests
with fresh random examples each time; what it finds becomes a fixed example or a test.

The session fixtures below are the sample cut to two counties, partitioned and streamed once
for the command-line tests of streamed runs that need no more of the sample.
"""

import warnings
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)


# --- the sample province cut to two counties, for the streamed command-line runs ---------------

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
#: One county of each city: farmland in conflict with both other lines, the core-zone override
#: in both counties.
TWO_COUNTIES = ("990121", "990222")


def _cli(*args: object) -> None:
    from click.testing import CliRunner

    from geozones.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr


@pytest.fixture(scope="session")
def two_counties(tmp_path_factory) -> Path:
    """``sample_data/geozones.toml`` over two of the six counties, in a folder of its own.

    The sample's files, written again with the features that meet the two counties (and those
    without geometry), in the same formats (the farmland a GBK Shapefile); the config is the
    sample's without the province-wide targets, rasters and blocks. A streamed command-line
    run of it does a third of the sample's county tasks.
    """
    import geopandas as gpd

    folder = tmp_path_factory.mktemp("two_counties")
    gpkg = SAMPLE / "sanqusanxian.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = gpd.read_file(gpkg, layer="XZQ")
        zones = zones[zones["XZQDM"].isin(TWO_COUNTIES)]
        area = zones.union_all()

        def near(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            geoms = frame.geometry
            return frame[geoms.intersects(area) | geoms.isna() | geoms.is_empty]

        zones.to_file(folder / gpkg.name, layer="XZQ")
        for layer in ("STBHHX", "CZKFBJ", "ZRBHD_HXQ"):
            near(gpd.read_file(gpkg, layer=layer)).to_file(folder / gpkg.name, layer=layer)
        farmland = gpd.read_file(SAMPLE / "YJJBNT.shp", encoding="GBK")
        near(farmland).to_file(folder / "YJJBNT.shp", encoding="GBK")
    text = (SAMPLE / "geozones.toml").read_text(encoding="utf-8")
    config = folder / "geozones.toml"
    config.write_text(text[: text.index("\n[targets]")], encoding="utf-8")
    return config


@pytest.fixture(scope="session")
def two_county_parts(two_counties, tmp_path_factory) -> Path:
    """``geozones partition`` of :func:`two_counties`; read only (copy it to change it)."""
    parts = tmp_path_factory.mktemp("two_county_parts") / "parts"
    _cli("-q", "partition", two_counties, parts)
    return parts


@pytest.fixture(scope="session")
def two_county_streamed(two_counties, two_county_parts, tmp_path_factory) -> Path:
    """``geozones stream --workers 2`` of :func:`two_county_parts`: its output folder."""
    out = tmp_path_factory.mktemp("two_county_streamed") / "out"
    _cli("-q", "stream", two_counties, two_county_parts, out, "--workers", "2")
    return out

"""Shared test set-up: hypothesis profiles, the sample report built once per process, and the
order in which the tests are handed to the xdist workers (the long ones first).

``make test`` (and so CI) runs ``--hypothesis-profile=ci``: a red run then means a change broke
something, never that this run drew an unlucky example. ``make fuzz`` runs the property tests
with fresh random examples each time; what it finds becomes a fixed example or a test.

The session fixtures at the end are the sample cut to two counties, partitioned and streamed once
for the command-line tests of streamed runs that need no more of the sample.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import settings

import geozones
from geozones.report import Report, build_report

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)

#: Where the tests that take tens of seconds each live (the QGIS runs, the notebooks, the docs
#: pages' examples and the site build, the multi-process runs). They are handed to the workers
#: first, and the many short tests fill in around them: started last, one of them would keep
#: one worker busy for a minute after the other had finished.
LONG_RUNNING = ("tests/test_qgis.py", "notebooks/", "tests/test_docs.py", "tests/test_streaming.py")

#: Tests that share an expensive module fixture, by the start of their node ids: each group is
#: handed to one xdist worker as a whole (``make test`` runs ``--dist loadgroup``, with the
#: scheduler below), so that the fixture is made once, not once per worker: the QGIS runs
#: (80 CPU seconds) and the Sphinx build of the site (20).
ONE_WORKER_GROUPS = {
    "qgis": ("tests/test_qgis.py::",),
    "docs_site": (
        "tests/test_docs.py::test_the_site_builds",
        "tests/test_docs.py::test_the_cli_page_documents",
        "tests/test_docs.py::test_every_public_name_is_documented",
        "tests/test_docs.py::test_the_error_reference_covers",
    ),
}

SAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "sample_data" / "geozones.toml"


@pytest.fixture(scope="session")
def sample_report() -> Report:
    """The report of ``sample_data/geozones.toml``, built once per test process.

    The report, workbook and page tests share it (a report takes seconds to build); they read
    it and must not change it: a test that needs a variant makes one with
    :func:`dataclasses.replace` or copies of its tables.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_report(geozones.load_config(SAMPLE_CONFIG))


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With ``--dist loadgroup``: the groups of :data:`ONE_WORKER_GROUPS`, every other test on
    its own.

    pytest-xdist's own loadgroup reads ``xdist_group`` marks through the node ids, which pytest
    9.2 no longer lets it change, so the marks are silently ignored
    (pytest-dev/pytest-xdist#1386); the scheduler sees node ids only, so the groups are named
    here by their ids.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for group, starts in ONE_WORKER_GROUPS.items():
                if nodeid.startswith(starts):
                    return group
            return nodeid

    return OneWorkerGroups(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long-running tests first, in the order of :data:`LONG_RUNNING`; otherwise the order of
    collection (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        starts = [item.nodeid.startswith(prefix) for prefix in LONG_RUNNING]
        return starts.index(True) if any(starts) else len(LONG_RUNNING)

    items.sort(key=rank)


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

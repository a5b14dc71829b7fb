"""The warning contract: every geozones warning has its own class, and nothing said in a worker
process or a Dask task is lost: it is raised again in the caller, in zone order, naming its zones.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import shutil
import time
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

import geozones
import geozones.raster
import geozones.scale.streaming as streaming
from geozones.errors import GeometryRepairWarning, GeozonesWarning
from geozones.scale.executor import reraise_warnings, run_zones

PACKAGE = Path(geozones.__file__).parent
ZONES = ["990102", "990121", "990122"]
X, Y = 39_500_000, 3_150_000


def _all_subclasses(base: type) -> list[type]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


WARNING_CLASSES = sorted(_all_subclasses(GeozonesWarning), key=lambda c: c.__name__)


def warn_each(categories: tuple[type[Warning], ...], zone: str) -> int:
    """A zone task raising each warning class once, and one warning of its own zone."""
    time.sleep(0.2)  # long enough for the worker process to take zones beside this process
    return warn_at_once(categories, zone)


def warn_at_once(categories: tuple[type[Warning], ...], zone: str) -> int:
    """:func:`warn_each` without waiting, for runs in this process."""
    for category in categories:
        warnings.warn(f"{category.__name__} raised", category, stacklevel=1)
    if zone == ZONES[1]:
        warnings.warn(f"only in {zone}", GeometryRepairWarning, stacklevel=1)
    return os.getpid()


def test_there_are_warning_classes_to_check() -> None:
    names = {category.__name__ for category in WARNING_CLASSES}
    assert {"OutsideZonesWarning", "RasterExtentWarning", "MissingOutlinesWarning"} <= names


def test_every_warning_geozones_raises_names_a_geozones_warning_class() -> None:
    # warnings.warn(message, category, ...) everywhere in the package, the category a
    # GeozonesWarning subclass: never a plain UserWarning, never left out
    classes = {category.__name__ for category in WARNING_CLASSES}
    calls = 0
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "warn"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "warnings"
            ):
                calls += 1
                category = node.args[1] if len(node.args) > 1 else None
                category = category or next(
                    (k.value for k in node.keywords if k.arg == "category"), None
                )
                where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
                assert category is not None, f"{where}: warnings.warn without a category"
                if path.name == "executor.py":  # re-raises the category a worker raised
                    continue
                assert isinstance(category, ast.Name) and category.id in classes, where
    assert calls > 20


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.parametrize("where", ["processes", "dask"])
def test_each_warning_class_raised_in_a_worker_reaches_the_caller(where, request) -> None:
    client = request.getfixturevalue("dask_client") if where == "dask" else None
    outcomes = dict(run_zones(warn_each, tuple(WARNING_CLASSES), ZONES, workers=2, client=client))
    assert set(outcomes) == set(ZONES)
    elsewhere = [outcome.value != os.getpid() for outcome in outcomes.values()]
    # on Dask every zone runs in a worker; locally this process takes zones too
    assert all(elsewhere) if client is not None else any(elsewhere)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reraise_warnings([(zone, outcomes[zone].warnings) for zone in ZONES])
    said = [(w.category, str(w.message)) for w in caught]
    every = "in 3 zones (990102, 990121, 990122)"
    assert said == [
        *((category, f"{every}: {category.__name__} raised") for category in WARNING_CLASSES),
        (GeometryRepairWarning, "zone 990121: only in 990121"),
    ]


def test_many_zones_are_summarised_in_one_line() -> None:
    zones = [f"99{number:04d}" for number in range(25)]
    outcomes = dict(run_zones(warn_at_once, (GeometryRepairWarning,), zones, workers=1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reraise_warnings([(zone, outcomes[zone].warnings) for zone in zones])
    assert [str(w.message) for w in caught] == [
        "in 25 zones (990000, 990001, 990002, 990003, 990004, 990005, 990006, 990007, 990008, "
        "990009 and 15 more): GeometryRepairWarning raised"
    ]


_REAL_COVERAGE_TASK = streaming._coverage_task


def repairing_coverage_task(dataset, zone, **options):
    """The coverage task, raising a warning in one zone, as a repair there would."""
    if zone == ZONES[1]:
        warnings.warn("2 polygon(s) repaired in this county", GeometryRepairWarning, stacklevel=1)
    return _REAL_COVERAGE_TASK(dataset, zone, **options)


def test_a_streamed_run_raises_its_workers_warnings_in_the_caller(tmp_path, monkeypatch) -> None:
    counties = gpd.GeoDataFrame(
        {"XZQDM": ZONES},
        geometry=[box(X + 1000 * i, Y, X + 1000 * (i + 1), Y + 1000) for i in range(3)],
        crs=4527,
    )
    # a part outside every zone too: counted once over all zones, not once per zone
    urban = gpd.GeoDataFrame(geometry=[box(X + 500, Y - 500, X + 2500, Y + 500)], crs=4527)
    dataset = geozones.write_partitions(
        {"urban": urban}, counties, tmp_path / "parts", zone_field="XZQDM"
    )
    monkeypatch.setattr(streaming, "_coverage_task", repairing_coverage_task)
    for workers in (1, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = geozones.stream_coverage(dataset, "urban", unit="m2", workers=workers)
        said = [(w.category.__name__, str(w.message)) for w in caught]
        assert (
            "GeometryRepairWarning",
            "zone 990121: 2 polygon(s) repaired in this county",
        ) in said
        outside = [text for name, text in said if name == "OutsideZonesWarning"]
        assert len(outside) == 1 and "outside every zone" in outside[0]
        assert table.attrs["outside_area"] == pytest.approx(1_000_000, rel=1e-6)
        assert caught[0].filename == __file__  # points at the caller's line
    pd.testing.assert_series_equal(
        table["covered_area"],
        pd.Series([250_000.0, 500_000.0, 250_000.0], index=table.index),
        check_names=False,
        rtol=1e-6,
    )


def test_every_warning_class_raised_in_a_report_run_is_listed_in_the_report(
    tmp_path, monkeypatch
) -> None:
    import openpyxl

    import geozones.report.model as model
    from geozones.report import build_report, i18n
    from geozones.report.excel import write_workbook
    from geozones.report.html import render_html

    real = model.find_conflicts

    def warning_find_conflicts(*args, **kwargs):
        for category in WARNING_CLASSES:
            warnings.warn(f"{category.__name__} in the conflicts", category, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "find_conflicts", warning_find_conflicts)
    # the sample without [rasters] and [blocks]: the warnings come through find_conflicts
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parent.parent / "sample_data", data)
    text = (data / "geozones.toml").read_text(encoding="utf-8")
    (data / "geozones.toml").write_text(
        text[: text.index("# Rasters checked against the lines")], encoding="utf-8"
    )
    config = geozones.load_config(data / "geozones.toml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = build_report(config)
    passed_on = {(w.category, str(w.message)) for w in caught}
    rows = report.quality[report.quality["action"].astype(str).str.startswith("warned")]
    listed = set(zip(rows["action"], rows["problem"], strict=True))
    html = render_html(report)
    workbook = openpyxl.load_workbook(write_workbook(report, tmp_path / "report.xlsx"))
    cells = {
        str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row
    }
    english = render_html(dataclasses.replace(report, language="en"))
    for category in WARNING_CLASSES:
        message = f"{category.__name__} in the conflicts"
        assert (f"warned ({category.__name__})", message) in listed
        assert (category, message) in passed_on  # and the caller (the CLI) sees it
        assert message in english
        # the sample's report is Chinese: a text the catalogue has no pattern for is listed as
        # what its class says (geozones.report.i18n.warning_text), not in English
        said = i18n.warning_text(category.__name__, "zh")
        assert said in html and said in cells and message not in html
    # the warnings of reading the layers are listed too, as before
    assert any("repaired 1 invalid polygon" in problem for problem in rows["problem"])

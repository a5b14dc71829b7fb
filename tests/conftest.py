"""Shared test set-up: hypothesis profiles, the sample report built once per process, and the
order in which the tests are handed to the xdist workers (the long ones first).

``make test`` (and so CI) runs ``--hypothesis-profile=ci``: a red run then means a change broke
something, never that this run drew an unlucky example. ``make fuzz`` runs the property tests
with fresh random examples each time; what it finds becomes a fixed example or a test.
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long-running tests first, in the order of :data:`LONG_RUNNING`; otherwise the order of
    collection (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        starts = [item.nodeid.startswith(prefix) for prefix in LONG_RUNNING]
        return starts.index(True) if any(starts) else len(LONG_RUNNING)

    items.sort(key=rank)

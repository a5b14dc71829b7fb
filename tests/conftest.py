"""Shared test set-up: hypothesis profiles, and the sample report built once per process.

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

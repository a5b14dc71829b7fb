"""Logging: silent by default, the steps of a run with -v, more with -vv; never print."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

import geozones
from geozones.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "sample_data" / "geozones.toml"


def run(*args: object):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def test_default_verbosity_logs_nothing_and_v_shows_each_layer_read() -> None:
    quiet = run("stats", CONFIG)
    assert "INFO:" not in quiet.stderr and "DEBUG:" not in quiet.stderr
    assert quiet.stdout  # the table
    loud = run("-v", "stats", CONFIG)
    read = [line for line in loud.stderr.splitlines() if line.startswith("INFO: read ")]
    assert len(read) == 5, loud.stderr  # farmland, red line, urban, reserve core zone, counties
    assert any("YJJBNT.shp: 2916 feature(s)" in line for line in read)
    assert "DEBUG:" not in loud.stderr
    assert loud.stdout == quiet.stdout  # logging goes to stderr only


def test_v_shows_the_stages_of_a_streamed_run_and_vv_each_zone_sent(
    two_counties, two_county_parts, tmp_path
) -> None:
    # two counties of the sample (tests/conftest.py), partitioned once for several tests
    config, parts = two_counties, two_county_parts
    loud = run("-v", "stream", config, parts, tmp_path / "out", "--workers", "1")
    lines = loud.stderr.splitlines()
    zones = geozones.open_partitions(parts).zones
    assert f"INFO: coverage farmland: {len(zones)} of {len(zones)} zone(s) to run" in lines
    for zone in zones:
        assert f"INFO: zone {zone}: done" in lines
    assert any(line.startswith("INFO: wrote ") for line in lines)
    debug = run("-vv", "stream", config, parts, tmp_path / "out2", "--workers", "2")
    assert any(
        line.startswith("DEBUG: zone ") and line.endswith("sent to a worker process")
        for line in debug.stderr.splitlines()
    )
    quiet = run("stream", config, parts, tmp_path / "out3", "--workers", "1")
    assert "INFO:" not in quiet.stderr and "DEBUG:" not in quiet.stderr


def test_v_shows_the_stages_of_a_report_and_the_files_written(two_counties, tmp_path) -> None:
    loud = run("-v", "report", two_counties, "-o", tmp_path / "out")
    lines = loud.stderr.splitlines()
    assert "INFO: reading 4 layer(s) and the zones" in lines, loud.stderr
    assert "INFO: computing coverage, conflicts, resolution and targets" in lines
    wrote = [line for line in lines if line.startswith("INFO: wrote ")]
    assert any(line.endswith(".xlsx") for line in wrote), wrote


def test_the_library_never_prints() -> None:
    package = Path(geozones.__file__).parent
    for path in package.rglob("*.py"):
        if "cli" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"{path.relative_to(package)}:{node.lineno} prints")


def test_each_library_module_that_logs_has_its_own_logger() -> None:
    import logging

    import geozones.io.read
    import geozones.outputs
    import geozones.report.model
    import geozones.scale.executor
    import geozones.scale.partitions
    import geozones.scale.streaming

    for module in (
        geozones.scale.executor,
        geozones.io.read,
        geozones.outputs,
        geozones.scale.partitions,
        geozones.report.model,
        geozones.scale.streaming,
    ):
        assert isinstance(module.logger, logging.Logger)
        assert module.logger.name == module.__name__

"""The fault probe of issue 16, repeated: nothing lost, nothing deleted, nothing stale.

Each numbered defect of the probe is a test here (``test_defect_N_…``) that failed before the
fix; the outputs' machinery, the readers and the zones have tests of their own below. Runs
use a small synthetic province (three 1 km counties) so that the whole file stays fast, and
real processes where the defect is about processes (signals, concurrent runs, full disks).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
from click.testing import CliRunner
from shapely import box

import geozones
from geozones.cli import cli
from geozones.errors import (
    GeozonesError,
    OutputError,
    OutputExistsError,
    OutputLockedError,
    OutsideZonesWarning,
    RunRestartedWarning,
    ShapefilePartsError,
    ZoneCodeWarning,
    ZoneError,
    ZoneGapWarning,
)
from geozones.outputs import (
    LOCK_NAME,
    atomic_file,
    atomic_folder,
    output_lock,
    record_written,
    refuse_existing,
    remove_stale_temporaries,
    safe_filename,
    written_by_geozones,
)
from geozones.scale.partitions import open_partitions, write_partitions
from geozones.scale.streaming import stream_coverage

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GEOZONES = str(Path(sys.executable).parent / "geozones")
X, Y = 39_500_000.0, 3_150_000.0
CODES = ("990102", "990121", "990201")
NAMES = ("东川区", "青溪县", "西岭区")
MU = 2000 / 3


# --- a small province ------------------------------------------------------------------------


def _frame(geometry, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geometry), crs=4527)


def counties(codes=CODES, names=NAMES) -> gpd.GeoDataFrame:
    return _frame(
        [box(X + i * 1000, Y, X + (i + 1) * 1000, Y + 1000) for i in range(len(codes))],
        XZQDM=list(codes),
        XZQMC=list(names),
    )


def write_check(
    folder: Path,
    *,
    zones: gpd.GeoDataFrame | None = None,
    urban_extra: list | None = None,
    title: str = "check",
    crs: str | None = None,
) -> Path:
    """A configuration of three counties, farmland in each, a red line over two of them."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "lines.gpkg"
    zones = counties() if zones is None else zones
    farmland = _frame(
        [box(X + i * 1000 + 100, Y + 100, X + i * 1000 + 400, Y + 400) for i in range(3)],
        BSM=["f0", "f1", "f2"],
    )
    redline = _frame([box(X + 300, Y + 300, X + 1300, Y + 600)], BSM=["r0"])
    urban = _frame(
        [box(X + 2500, Y + 500, X + 2900, Y + 900), *(urban_extra or [])],
        BSM=[f"u{i}" for i in range(1 + len(urban_extra or []))],
    )
    for name, layer in (
        ("XZQ", zones),
        ("YJJBNT", farmland),
        ("STBHHX", redline),
        ("CZKFBJ", urban),
    ):
        (layer if crs is None else layer.to_crs(crs)).to_file(data, layer=name, driver="GPKG")
    config = folder / "check.toml"
    config.write_text(
        textwrap.dedent(
            f"""\
            title = "{title}"
            unit = "mu"
            sliver_m2 = 200
            [zones]
            path = "lines.gpkg"
            layer = "XZQ"
            code_field = "XZQDM"
            name_field = "XZQMC"
            [layers.farmland]
            path = "lines.gpkg"
            layer = "YJJBNT"
            id_field = "BSM"
            [layers.redline]
            path = "lines.gpkg"
            layer = "STBHHX"
            id_field = "BSM"
            [layers.urban]
            path = "lines.gpkg"
            layer = "CZKFBJ"
            id_field = "BSM"
            """
        ),
        encoding="utf-8",
    )
    return config


@pytest.fixture
def check(tmp_path) -> Path:
    return write_check(tmp_path / "data")


def run(*args: object, expect: int = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == expect, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    return result


def one_line(result) -> str:
    """The error of a failed run: one line, starting with Error:."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 + sum(
        line.startswith("warning:") for line in result.stderr.splitlines()
    ), result.stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) and a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """Temporary names, backups and locks anywhere under `folder`."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if "geozones-tmp" in path.name or "geozones-old" in path.name or "lock" in path.name
    )


def geodesic_area_m2(polygon, crs=4527, step=1.0) -> float:
    """Ellipsoidal area of a polygon with straight edges in `crs`: densify, then Karney."""
    dense = polygon.segmentize(step)
    to_lonlat = pyproj.Transformer.from_crs(crs, 4490, always_xy=True)
    lon, lat = to_lonlat.transform(*np.asarray(dense.exterior.coords).T)
    area, _ = pyproj.Geod(ellps="GRS80").polygon_area_perimeter(lon, lat)
    return abs(area)


#: Another run holding an output's lock, as geozones holds it (flock, and its id in the file).
HOLDER = """
import fcntl, json, os, sys, time
lock = sys.argv[1]
os.makedirs(os.path.dirname(lock), exist_ok=True)
descriptor = os.open(lock, os.O_RDWR | os.O_CREAT)
fcntl.flock(descriptor, fcntl.LOCK_EX)
holder = {"pid": os.getpid(), "host": "here", "purpose": sys.argv[2]}
os.write(descriptor, json.dumps(holder).encode())
print("held", flush=True)
time.sleep(60)
"""


def _hold(lock: Path, purpose: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [PYTHON, "-c", HOLDER, str(lock), purpose], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


# --- the outputs' machinery --------------------------------------------------------------------


def test_atomic_file_leaves_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")
    record_written(tmp_path, ["result.txt"], command="test")
    with pytest.raises(RuntimeError), atomic_file(target) as scratch:
        scratch.write_text("half of the new")
        raise RuntimeError("disk trouble")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []
    with atomic_file(target) as scratch:
        scratch.write_text("new")
    assert target.read_text() == "new" and leftovers(tmp_path) == []


def test_atomic_folder_swaps_whole_or_keeps_the_old(tmp_path):
    target = tmp_path / "parts"
    target.mkdir()
    (target / "a.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_folder(target) as staging:
        (staging / "b.txt").write_text("new")
        raise KeyboardInterrupt
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"] and leftovers(tmp_path) == []
    with atomic_folder(target) as staging:
        (staging / "b.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"] and leftovers(tmp_path) == []


def test_leftovers_of_a_dead_process_are_cleaned_and_a_moved_folder_put_back(tmp_path):
    dead = subprocess.run([PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True)
    pid = int(dead.stdout)
    (tmp_path / f".geozones-tmp-{pid}-0badc0de").mkdir()
    (tmp_path / f".report.xlsx.geozones-tmp-{pid}-00000001").write_text("half")
    backup = tmp_path / f".parts.geozones-old-{pid}-00000002"
    backup.mkdir()
    (backup / "manifest.json").write_text("{}")
    mine = tmp_path / f".geozones-tmp-{os.getpid()}-00000003"  # a live process: kept
    mine.mkdir()
    cleaned = remove_stale_temporaries(tmp_path)
    assert len(cleaned) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, "parts"]
    assert (tmp_path / "parts" / "manifest.json").read_text() == "{}"


def test_overwrite_replaces_only_what_geozones_wrote(tmp_path):
    ours, theirs = tmp_path / "conflicts.gpkg", tmp_path / "survey.gpkg"
    ours.write_text("x")
    theirs.write_text("y")
    record_written(tmp_path, [ours.name], command="conflicts")
    assert written_by_geozones(ours) and not written_by_geozones(theirs)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        refuse_existing([ours], overwrite=False)
    refuse_existing([ours], overwrite=True)
    with pytest.raises(OutputError, match="not written by geozones"):
        refuse_existing([ours, theirs], overwrite=True)


def test_a_held_lock_refuses_and_a_stale_one_is_taken_over(tmp_path):
    target = tmp_path / "out"
    holder = _hold(target / LOCK_NAME, "test")
    try:
        locked = pytest.raises(OutputLockedError, match=rf"process {holder.pid} .*: test")
        with locked, output_lock(target, inside=True):
            pass
    finally:
        holder.kill()  # SIGKILL: it cannot remove its lock file
        holder.wait()
    assert (target / LOCK_NAME).exists()  # stale now: nobody holds it
    with output_lock(target, inside=True) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not (target / LOCK_NAME).exists()


def test_safe_filename_fits_any_file_system():
    long_name = "很长的县名" * 60
    name = safe_filename(long_name)
    assert len(name.encode()) <= 120 and long_name.startswith(name)
    assert safe_filename("a" * 300, max_length=500, max_bytes=50) == "a" * 50


# --- 1: --overwrite deleted what it did not write -------------------------------------------


def test_defect_1_partition_overwrite_never_deletes_a_folder_geozones_did_not_write(
    check, tmp_path
):
    # the user's own folder, with their data in it
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.docx").write_bytes(b"three weeks of work")
    before = snapshot(folder)
    result = run("partition", check, folder, "--overwrite", expect=2)
    assert "not a partitioned dataset geozones wrote" in one_line(result)
    assert snapshot(folder) == before
    # a folder holding the inputs is never the output
    inside = tmp_path / "inputs"
    shutil.copytree(check.parent, inside)
    result = run("partition", inside / "check.toml", inside, "--overwrite", expect=2)
    assert "input of this check" in one_line(result)
    assert (inside / "lines.gpkg").exists()


def test_defect_1_a_dataset_holding_other_files_is_not_replaced(check, tmp_path):
    parts = tmp_path / "parts"
    run("-q", "partition", check, parts)
    (parts / "my_notes.txt").write_text("mine")
    result = run("partition", check, parts, "--overwrite", expect=2)
    assert "my_notes.txt" in one_line(result)
    (parts / "my_notes.txt").unlink()
    run("-q", "partition", check, parts, "--overwrite")
    assert open_partitions(parts).layers == ("farmland", "redline", "urban")


def test_defect_1_a_failed_repartition_keeps_the_previous_dataset(check, tmp_path):
    settings = geozones.load_config(check)
    layers, zones = settings.read_layers(), settings.read_zones()
    parts = tmp_path / "parts"
    write_partitions(layers, zones, parts, zone_field="XZQDM")
    before = snapshot(parts)
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1 not really")
    with pytest.raises(GeozonesError):
        write_partitions(
            {"farmland": layers["farmland"], "urban": damaged},
            zones,
            parts,
            zone_field="XZQDM",
            overwrite=True,
        )
    assert snapshot(parts) == before
    assert leftovers(tmp_path) == []


def test_defect_1_stream_overwrite_keeps_unrelated_files(check, tmp_path):
    parts, out = tmp_path / "parts", tmp_path / "out"
    run("-q", "partition", check, parts)
    out.mkdir()
    (out / "README.txt").write_text("the user's")
    run("-q", "stream", check, parts, out, "--workers", "1")
    run("-q", "stream", check, parts, out, "--workers", "1", "--overwrite")
    assert (out / "README.txt").read_text() == "the user's"
    assert (out / "done.json").exists() and leftovers(out) == []
    # a file geozones would write, but did not: refused, not replaced
    other = tmp_path / "other"
    other.mkdir()
    (other / "coverage.csv").write_text("a,b\n1,2\n")
    result = run("stream", check, parts, other, "--workers", "1", expect=2)
    assert "coverage.csv" in one_line(result) and "did not write" in one_line(result)
    assert (other / "coverage.csv").read_text() == "a,b\n1,2\n"


def test_defect_1_commands_on_files_never_write_over_their_input(check, tmp_path):
    data = check.parent / "lines.gpkg"
    before = snapshot(check.parent)
    message = one_line(run("area", data, "--layer", "YJJBNT", "-o", data, "--overwrite", expect=2))
    assert "is an input" in message and snapshot(check.parent) == before
    output = tmp_path / "area.gpkg"
    run("-q", "area", data, "--layer", "YJJBNT", "-o", output)
    run("-q", "area", data, "--layer", "YJJBNT", "-o", output, "--overwrite")  # geozones' own
    assert [name for name, _ in pyogrio.list_layers(output)] == ["YJJBNT"]


# --- 2: a shapefile's parts disagree --------------------------------------------------------


def _shapefile(folder: Path, count: int = 5) -> Path:
    path = folder / "parcels.shp"
    parcels = _frame(
        [box(X + 10 * i, Y, X + 10 * i + 8, Y + 8) for i in range(count)],
        BSM=[f"p{i}" for i in range(count)],
    )
    parcels.to_file(path, encoding="UTF-8")
    return path


def _set_dbf_records(path: Path, records: int) -> None:
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[4:8] = records.to_bytes(4, "little")
    dbf.write_bytes(bytes(data))


def test_defect_2_dbf_counting_fewer_records_is_refused_with_the_three_counts(tmp_path):
    path = _shapefile(tmp_path, 5)
    _set_dbf_records(path, 3)
    with pytest.raises(ShapefilePartsError) as raised:
        geozones.read_layer(path)
    message = str(raised.value)
    assert "holds 5 shapes" in message and "indexes 5" in message and "3 records" in message
    result = run("check", path, expect=2)
    assert "REFUSED" in result.stdout and "3 records" in result.stdout


def test_defect_2_a_shx_cut_short_with_its_header_fixed_is_refused(tmp_path):
    path = _shapefile(tmp_path, 5)
    shx = path.with_suffix(".shx")
    data = bytearray(shx.read_bytes()[: 100 + 8 * 3])
    data[24:28] = (len(data) // 2).to_bytes(4, "big")  # the header agrees with the cut file
    shx.write_bytes(bytes(data))
    with pytest.raises(ShapefilePartsError, match=r"holds 5 shapes, the \.shx indexes 3"):
        geozones.read_layer(path)


def test_defect_2_records_marked_deleted_are_accounted_for(tmp_path):
    path = _shapefile(tmp_path, 5)
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    header, record = int.from_bytes(data[8:10], "little"), int.from_bytes(data[10:12], "little")
    data[header + 2 * record] = ord("*")
    dbf.write_bytes(bytes(data))
    with pytest.warns(geozones.GeozonesWarning, match=r"1 record\(s\) are marked deleted .*\(2\)"):
        layer = geozones.read_layer(path)
    assert sorted(layer.index) == [0, 1, 3, 4]


# --- 3: a resume reused the counties of a run on other data ---------------------------------


def test_defect_3_resume_after_repartitioning_changed_data_starts_afresh(check, tmp_path):
    settings = geozones.load_config(check)
    layers, zones = settings.read_layers(), settings.read_zones()
    parts, work = tmp_path / "parts", tmp_path / "work"
    write_partitions(layers, zones, parts, zone_field="XZQDM")
    first = stream_coverage(open_partitions(parts), "urban", unit="m2", work_dir=work, workers=1)
    # new data at the same path: the urban boundary grows by a square in the first county
    grown = pd.concat([layers["urban"], _frame([box(X + 100, Y + 500, X + 300, Y + 700)])])
    write_partitions({**layers, "urban": grown}, zones, parts, zone_field="XZQDM", overwrite=True)
    with pytest.warns(RunRestartedWarning, match="the dataset was written again"):
        resumed = stream_coverage(
            open_partitions(parts), "urban", unit="m2", work_dir=work, workers=1
        )
    added = geodesic_area_m2(box(X + 100, Y + 500, X + 300, Y + 700))
    assert resumed.loc["990102", "covered_area"] == pytest.approx(
        first.loc["990102", "covered_area"] + added, rel=1e-9
    )
    assert resumed.loc["990201", "covered_area"] == pytest.approx(
        first.loc["990201", "covered_area"], rel=1e-12
    )


# --- 4: zones with a NULL, repeated or overlapping code, area outside every zone ----------


def test_defect_4_a_zone_without_a_code_is_refused_by_stats_and_report(tmp_path):
    zones = counties()
    zones.loc[1, "XZQDM"] = None
    config = write_check(tmp_path / "data", zones=zones)
    for command in (("stats", config), ("report", config, "-o", tmp_path / "out")):
        message = one_line(run(*command, expect=2))
        assert "no zone code" in message and "feature(s) 2" in message  # FIDs count from 1


def test_defect_4_area_outside_every_zone_is_reported_everywhere(tmp_path):
    stray = box(X + 5000, Y, X + 5100, Y + 100)  # 100 m × 100 m east of the province
    config = write_check(tmp_path / "data", urban_extra=[stray])
    expected_mu = geodesic_area_m2(stray) / MU
    settings = geozones.load_config(config)
    with pytest.warns(OutsideZonesWarning, match="outside every zone"):
        geozones.coverage(settings.read_layers()["urban"], settings.read_zones(), by="XZQDM")
    shown = run("stats", config)
    assert "outside every zone" in shown.stderr  # the warning, at default verbosity
    assert f"urban {expected_mu:,.2f} mu" in shown.stdout
    table = pd.read_csv(io.StringIO(run("-q", "stats", config, "--format", "csv").stdout))
    outside = table[(table["level"] == "outside") & (table["line"] == "urban")]
    assert outside["covered_area_mu"].item() == pytest.approx(expected_mu, rel=1e-7)
    urban = table[table["line"] == "urban"]
    polygons = gpd.read_file(config.parent / "lines.gpkg", layer="CZKFBJ").geometry
    whole = sum(geodesic_area_m2(polygon) for polygon in polygons) / MU
    counties_and_outside = urban[urban["level"].isin(["county", "outside"])]["covered_area_mu"]
    assert counties_and_outside.sum() == pytest.approx(whole, rel=1e-7)  # nothing lost
    pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    result = run("report", config, "-o", out)
    assert f"urban {expected_mu:,.2f} mu" in result.stdout
    from openpyxl import load_workbook

    book = load_workbook(next(out.glob("*.xlsx")), read_only=True)
    cells = [str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert "行政区范围外" in cells
    assert any("位于所有行政区之外" in cell and f"{expected_mu:,.2f}" in cell for cell in cells)
    quality = [str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r]
    # the warning, in Chinese as the whole workbook (tests/test_i18n.py)
    assert any("（图层 CZKFBJ）有" in cell and "位于所有行政区之外" in cell for cell in quality)


def test_defect_4_overlapping_zones_are_refused_naming_both(tmp_path):
    zones = counties()
    zones.loc[1, "geometry"] = box(X + 900, Y, X + 2000, Y + 1000)  # 100 m into 990102
    config = write_check(tmp_path / "data", zones=zones)
    message = one_line(run("stats", config, expect=2))
    overlap = geodesic_area_m2(box(X + 900, Y, X + 1000, Y + 1000))
    assert "990102 (feature 1) and 990121 (feature 2)" in message
    assert f"{overlap:,.0f} m²" in message


def test_defect_4_noise_overlaps_below_the_tolerance_are_not_refused(tmp_path):
    zones = counties()
    zones.loc[1, "geometry"] = box(X + 1000 - 0.0004, Y, X + 2000, Y + 1000)  # 0.4 mm
    config = write_check(tmp_path / "data", zones=zones)
    run("-q", "stats", config)


def test_defect_4_one_code_for_two_different_zones_is_refused(tmp_path):
    zones = counties(codes=("990102", "990102", "990201"))
    config = write_check(tmp_path / "data", zones=zones)
    message = one_line(run("stats", config, expect=2))
    assert "code 990102 is given to 2 different zones" in message
    assert "东川区" in message and "青溪县" in message
    # the same name twice: one county in two parts, measured as one zone, with a warning
    same = counties(codes=("990102", "990102", "990201"), names=("东川区", "东川区", "西岭区"))
    with pytest.warns(ZoneCodeWarning, match="measured as one zone"):
        geozones.zones.check_zones(same, "XZQDM", name_field="XZQMC")


def test_defect_4_malformed_codes_are_refused(tmp_path):
    zones = counties(codes=("990102", "990121.0", "9902"))
    with pytest.raises(ZoneError, match=r"'990121.0' \(feature 1\), '9902' \(feature 2\)"):
        geozones.zones.check_zones(zones, "XZQDM")


def test_defect_4_gaps_between_zones_are_reported(tmp_path):
    zones = counties()
    zones.loc[1, "geometry"] = box(X + 1000, Y, X + 2000, Y + 1000).difference(
        box(X + 1400, Y + 400, X + 1600, Y + 600)
    )
    with pytest.warns(ZoneGapWarning, match=r"1 gap\(s\)"):
        geozones.zones.check_zones(zones, "XZQDM")


# --- 5: two report runs into one folder -----------------------------------------------------


def test_defect_5_a_second_run_into_the_same_folder_is_refused(check, tmp_path):
    pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    holder = _hold(out / LOCK_NAME, "geozones report")
    try:
        message = one_line(run("report", check, "-o", out, expect=2))
        assert "being written by another geozones run" in message and str(holder.pid) in message
    finally:
        holder.kill()
        holder.wait()
    run("-q", "report", check, "-o", out)  # the lock of a dead process is stale
    assert leftovers(out) == []


def test_defect_5_concurrent_conflicts_runs_one_wins_one_is_refused(check, tmp_path):
    output = tmp_path / "conflicts.gpkg"
    command = [GEOZONES, "conflicts", str(check), "-o", str(output)]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = sorted((p.wait(timeout=120), p.stderr.read()) for p in runs)  # type: ignore[union-attr]
    assert [code for code, _ in outcomes] == [0, 2], outcomes
    refused = outcomes[1][1]
    assert "Traceback" not in refused and (
        "being written by another geozones run" in refused or "already exist" in refused
    )
    assert {name for name, _ in pyogrio.list_layers(output)} >= {"conflicts", "summary"}


# --- 6: a killed run left a damaged file, or a hidden one ----------------------------------

HOOK = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # even where the tests run with it ignored
import pyogrio
from geozones.cli import main
calls = 0
original = pyogrio.write_dataframe
def write(*args, **kwargs):
    global calls
    calls += 1
    if calls == int(os.environ["FAULT_AT"]):
        os.kill(os.getpid(), getattr(signal, os.environ["FAULT_SIGNAL"]))
    return original(*args, **kwargs)
pyogrio.write_dataframe = write
sys.argv[0] = "geozones"
main()
"""


def _killed_at(call: int, sig: str, *args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAULT_AT": str(call), "FAULT_SIGNAL": sig}
    return subprocess.run(
        [PYTHON, "-c", HOOK, *map(str, args)], capture_output=True, text=True, env=env, timeout=180
    )


def test_defect_6_conflicts_interrupted_while_writing_leaves_no_file(check, tmp_path):
    output = tmp_path / "conflicts.gpkg"
    interrupted = _killed_at(1, "SIGINT", "conflicts", check, "-o", output)  # Ctrl-C
    assert interrupted.returncode == 130, interrupted.stderr  # not 1, "a conflict found"
    assert interrupted.stderr.startswith("Interrupted:")
    assert (
        len(interrupted.stderr.strip().splitlines()) == 1 and "Traceback" not in interrupted.stderr
    )
    assert not output.exists() and leftovers(tmp_path) == []


def test_defect_6_conflicts_terminated_while_writing_leaves_the_old_file(check, tmp_path):
    output = tmp_path / "conflicts.gpkg"
    run("-q", "conflicts", check, "-o", output)
    before = snapshot(tmp_path)
    terminated = _killed_at(3, "SIGTERM", "conflicts", check, "-o", output, "--overwrite")
    assert terminated.returncode == 143, terminated.stderr
    assert terminated.stderr.startswith("Terminated:") and "Traceback" not in terminated.stderr
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []  # the earlier file


def test_defect_6_sigkill_while_writing_leaves_nothing_at_the_final_path(check, tmp_path):
    output = tmp_path / "conflicts.gpkg"
    killed = _killed_at(2, "SIGKILL", "conflicts", check, "-o", output)
    assert killed.returncode == -signal.SIGKILL
    assert not output.exists()
    assert leftovers(tmp_path)  # a temporary folder and a lock, both of a dead process...
    run("-q", "conflicts", check, "-o", output)  # ...cleaned up by the next run
    assert leftovers(tmp_path) == []
    assert {name for name, _ in pyogrio.list_layers(output)} == {
        "conflicts",
        "overlap_count",
        "summary",
    }


def test_defect_6_report_killed_while_writing_leaves_no_hidden_file(check, tmp_path):
    pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    run("-q", "report", check, "-o", out)
    before = snapshot(out)
    killed = _killed_at(2, "SIGTERM", "report", check, "-o", out, "--overwrite")
    assert killed.returncode == 143 and "Traceback" not in killed.stderr
    assert snapshot(out) == before and leftovers(out) == []


# --- 7: stream's workers outlived it ---------------------------------------------------------


def _processes_with(token: str) -> list[int]:
    """Processes (of this user) whose environment holds the token."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"FAULT_TOKEN={token}".encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


#: A county task slowed down, importable by the worker processes (through PYTHONPATH), so
#: that a signal finds the workers at work.
SLOW_TASK = """
import time
import geozones.scale.streaming as streaming
coverage_task = streaming._coverage_task
def slow_coverage_task(*args, **kwargs):
    time.sleep(1.0)
    return coverage_task(*args, **kwargs)
"""
SLOW_STREAM = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # even where the tests run with it ignored
import faultslow
import geozones.scale.streaming as streaming
streaming._coverage_task = faultslow.slow_coverage_task
from geozones.cli import main
sys.argv[0] = "geozones"
main()
"""


def _workers(run: int, token: str) -> list[int]:
    """The run's worker processes: its processes started by loky to run zones."""
    found = []
    for pid in _processes_with(token):
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if pid != run and b"popen_loky" in command:
            found.append(pid)
    return found


def _slow_stream_with_workers(
    check: Path, tmp_path: Path, *, poll: float, **popen: Any
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """A `geozones stream --workers 2` of slowed-down counties, once its workers are there.

    Returns the process, the token in its processes' environment, and its output folder.
    """
    parts, out = tmp_path / "parts", tmp_path / "out"
    run("-q", "partition", check, parts)
    (tmp_path / "faultslow.py").write_text(SLOW_TASK)
    token = uuid.uuid4().hex
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "FAULT_TOKEN": token, "PYTHONPATH": path}
    stream = subprocess.Popen(
        [PYTHON, "-c", SLOW_STREAM, "stream", str(check), str(parts), str(out), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        **popen,
    )
    deadline = time.monotonic() + 60
    while not _workers(stream.pid, token) and time.monotonic() < deadline:
        time.sleep(poll)
    assert _workers(stream.pid, token), "no worker started"
    return stream, token, out


def _no_process_left(token: str) -> None:
    deadline = time.monotonic() + 5
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(token) == [], "worker processes outlived the run"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130), ("SIGKILL", -9)])
def test_defect_7_stream_killed_takes_its_workers_with_it(check, tmp_path, sig, code):
    stream, token, out = _slow_stream_with_workers(check, tmp_path, poll=0.1)
    time.sleep(0.5)
    stream.send_signal(getattr(signal, sig))
    _, stderr = stream.communicate(timeout=30)
    assert stream.returncode == code, stderr
    text = stderr.decode()
    assert "Traceback" not in text, text
    if sig != "SIGKILL":
        assert len(text.strip().splitlines()) == 1 and leftovers(out) == [], text
    _no_process_left(token)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_defect_7_ctrl_c_while_the_workers_start_stops_the_run_without_a_traceback(check, tmp_path):
    # Ctrl-C in a terminal goes to every process of the foreground group: the workers too,
    # here while they are still starting (importing geozones), before their initialiser ran.
    stream, token, out = _slow_stream_with_workers(
        check,
        tmp_path,
        poll=0.01,
        start_new_session=True,  # a group, as a terminal's job
    )
    time.sleep(0.3)  # the worker is importing its modules now (it takes a second or more)
    os.killpg(stream.pid, signal.SIGINT)  # the whole group, workers starting up included
    _, stderr = stream.communicate(timeout=30)
    text = stderr.decode()
    assert stream.returncode == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert len(text.strip().splitlines()) == 1 and leftovers(out) == [], text
    _no_process_left(token)


# --- 8: tracebacks and the wrong exit codes -----------------------------------------------


def test_defect_8_a_folder_named_like_a_shapefile(tmp_path):
    (tmp_path / "x.shp").mkdir()
    assert "is a folder, not a shapefile" in one_line(run("info", tmp_path / "x.shp", expect=2))


def test_defect_8_an_output_under_a_regular_file(check, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    for command in (
        ("conflicts", check, "-o", blocker / "c.gpkg"),
        ("report", check, "-o", blocker / "out"),
        ("partition", check, blocker / "parts"),
    ):
        assert "is a file, not a folder" in one_line(run(*command, expect=2))
    assert blocker.read_text() == ""


def test_defect_8_a_crs_on_a_sphere(tmp_path):
    sphere = "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +R=6371000 +units=m"
    config = write_check(tmp_path / "data", crs=sphere)
    message = one_line(run("stats", config, expect=2))
    assert "is defined on a sphere" in message


def test_defect_8_scheduler_unreachable_or_malformed(check, tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    parts = tmp_path / "parts"
    run("-q", "partition", check, parts)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        for address in ("tcp://127.0.0.1:9", "not an address:::"):
            out = tmp_path / "out"
            result = run("stream", check, parts, out, "--scheduler", address, expect=2)
            assert "no Dask scheduler reached" in one_line(result)
            assert not out.exists()


def test_defect_8_long_county_names_and_paths(tmp_path):
    pytest.importorskip("openpyxl")
    long_names = ("东川区" * 60, "青溪县" * 60, "西岭区" * 60)
    config = write_check(tmp_path / "data", zones=counties(names=long_names))
    out = tmp_path / "out"
    run("-q", "report", config, "-o", out, "--by", "county")
    written = [path for path in out.rglob("*") if path.is_file()]
    assert len([p for p in written if p.suffix == ".gpkg"]) == 4
    assert all(len(part.encode()) <= 255 for path in written for part in path.parts)
    deep = tmp_path / ("很深的目录" * 12) / ("很深的目录" * 12)
    message = one_line(run("report", config, "-o", deep, "--by", "county", expect=2))
    assert "too long for a GeoPackage" in message
    assert not deep.exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB file system (tmpfs), or a skip where the machine does not allow mounting."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_defect_8_a_full_disk(check, tiny_disk):
    (tiny_disk / "filler").write_bytes(b"\0" * (200 * 1024))
    output = tiny_disk / "conflicts.gpkg"
    message = one_line(run("conflicts", check, "-o", output, expect=2))
    assert "No space left on device" in message and "the disk is full" in message
    assert not output.exists() and leftovers(tiny_disk) == []


def test_defect_8_a_read_only_disk(check, tiny_disk):
    done = subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=False)
    if done.returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    message = one_line(run("report", check, "-o", tiny_disk / "out", expect=2))
    assert "Read-only file system" in message and "read-only" in message


# --- 9: messages that named the wrong cause or no feature -----------------------------------


def _geojson(tmp_path: Path, rings: list[str], name: str = "layer.geojson") -> Path:
    features = ",".join(
        f'{{"type":"Feature","properties":{{"id":{number}}},'
        f'"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}'
        for number, ring in enumerate(rings)
    )
    path = tmp_path / name
    path.write_text(f'{{"type":"FeatureCollection","features":[{features}]}}')
    return path


GOOD = "[[117.1,30],[117.11,30],[117.11,30.01],[117.1,30]]"


@pytest.mark.parametrize(
    ("ring", "words"),
    [
        ("[[117,30],[117.01,30],[NaN,30.01],[117,30]]", "not numbers (NaN)"),
        ("[[117,30],[1e300,30],[117.01,30.01],[117,30]]", "coordinates of absurd size"),
        ("[[117,30],[117.01,30],[117.01,90],[117,30]]", "reach a pole"),
        ("[[179.9,30],[-179.9,30],[-179.9,30.01],[179.9,30]]", "cross the 180° meridian"),
    ],
)
def test_defect_9_bad_coordinates_name_their_feature(tmp_path, ring, words):
    path = _geojson(tmp_path, [GOOD, ring, GOOD])
    with pytest.raises(geozones.GeometryError) as raised:
        geozones.read_layer(path)
    message = str(raised.value)
    assert words in message and "feature(s) 1 " in message
    assert len(message) < 400  # no 300-digit number
    assert "span too much longitude" not in message


def test_defect_9_an_unclosed_ring_is_closed_and_reported(tmp_path):
    path = _geojson(tmp_path, [GOOD, "[[117,30],[117.01,30],[117.01,30.01],[117,30.01]]"])
    with pytest.warns(geozones.GeozonesWarning, match=r"did not close \(1\)"):
        layer = geozones.read_layer(path)
    assert len(layer) == 2 and layer.geometry.is_valid.all()
    issues = geozones.layer_report(layer).issues
    assert issues.set_index("feature").loc[1, "problem"] == "unclosed ring"
    geodesic = pyproj.Geod(ellps="WGS84")  # EPSG:4326: the edges are geodesics
    expected = abs(
        geodesic.polygon_area_perimeter([117, 117.01, 117.01, 117], [30, 30, 30.01, 30.01])[0]
    )
    assert geozones.area(layer, unit="m2").loc[1] == pytest.approx(expected, rel=1e-6)


def test_defect_9_curves_are_linearised_with_a_warning(tmp_path):
    import struct

    import pyogrio.raw

    radius, x, y = 100.0, X + 500, Y + 500
    circle = [(x - radius, y), (x + radius, y), (x - radius, y)]
    ring = struct.pack("<BII", 1, 8, 3) + b"".join(struct.pack("<dd", *p) for p in circle)
    curve = struct.pack("<BII", 1, 10, 1) + ring  # CurvePolygon of one CircularString
    path = tmp_path / "curve.gpkg"
    pyogrio.raw.write(
        path,
        geometry=np.array([curve], dtype=object),
        field_data=[np.array([7])],
        fields=["nr"],
        geometry_type="Unknown",
        crs="EPSG:4527",
        driver="GPKG",
    )
    with pytest.warns(geozones.errors.CurveLinearisedWarning, match="linearised"):
        layer = geozones.read_layer(path)
    assert len(layer) == 1 and layer["nr"].tolist() == [7]
    area = geozones.area(layer, unit="m2").iloc[0]
    assert area == pytest.approx(np.pi * radius**2, rel=2e-3)  # a polygon inside the circle
    assert geozones.layer_report(layer).count("curved") == 1


def test_defect_9_an_unparsable_prj_says_so(tmp_path):
    path = _shapefile(tmp_path)
    path.with_suffix(".prj").write_text('PROJCS["broken",GEOGCS[')
    with pytest.raises(geozones.CRSError, match=r"\.prj file parcels\.prj cannot be understood"):
        geozones.read_layer(path)
    assert geozones.read_layer(path, crs="EPSG:4527").crs.to_epsg() == 4527


def test_defect_9_site_check_never_shows_the_internal_name(check, tmp_path):
    from shapely import Point

    footprint = gpd.GeoDataFrame(geometry=[Point(X + 150, Y + 150)], crs=4527)
    footprint.to_file(tmp_path / "project.gpkg")
    message = one_line(run("site-check", tmp_path / "project.gpkg", check, expect=2))
    assert "__project__" not in message and "project footprint" in message

"""Partitioned datasets and zone-by-zone runs: the same answers as the in-memory functions."""

from __future__ import annotations

import io
import os
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box

import geozones
from geozones.errors import DataSourceError, PartitionError, RunRestartedWarning
from geozones.scale import streaming as streaming_module
from geozones.scale.partitions import HOME, open_partitions, tile_grid, write_partitions
from geozones.scale.streaming import stream_conflicts, stream_coverage, stream_resolution

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
LINES = ("farmland", "redline", "urban")
PRIORITY = ["farmland", "redline", "urban"]
CORE = "核心保护区内耕地调出"  # an override named as in sample_data/geozones.toml
CORE_ORDER = ["redline", CORE, "farmland", "urban"]
X, Y = 39_500_000, 3_150_000


@pytest.fixture(scope="module")
def sample() -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame]]:
    gpkg = SAMPLE / "sanqusanxian.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = geozones.read_layer(gpkg, "XZQ")
        layers = {
            "farmland": geozones.read_layer(SAMPLE / "YJJBNT.shp", encoding="GBK"),
            "redline": geozones.read_layer(gpkg, "STBHHX"),
            "urban": geozones.read_layer(gpkg, "CZKFBJ"),
            "core_zone": geozones.read_layer(gpkg, "ZRBHD_HXQ"),
        }
    return zones, layers


@pytest.fixture(scope="module")
def dataset(sample, tmp_path_factory):
    zones, layers = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write_partitions(
            layers, zones, tmp_path_factory.mktemp("parts") / "province", zone_field="XZQDM"
        )


# Against the in-memory functions, every piece's and feature's area agrees to the last bit (a
# polygon's ellipsoidal area depends on its coordinates only, docs/area.md); sums over zones and
# levels add the same numbers in another order, hence 1e-14 (the issue asks for 1e-12). Threads
# and a dask cluster agree bit for bit.
IN_MEMORY_RTOL = 1e-14


def _relative(a: pd.Series, b: pd.Series) -> float:
    return float((np.abs(a - b) / np.maximum(np.abs(b), 1e-300)).max())


def test_every_feature_has_one_home(sample, dataset) -> None:
    _, layers = sample
    for name, layer in layers.items():
        parts = [dataset.read_partition(name, zone) for zone in dataset.zones]
        assert sum(dataset.counts[name].values()) == len(layer)
        labels = np.concatenate([part.index.to_numpy() for part in parts])
        assert sorted(labels) == sorted(layer.index)
        for zone, part in zip(dataset.zones, parts, strict=True):
            assert (part[HOME] == zone).all()
            assert len(part) == dataset.counts[name][zone]


def test_home_zone_holds_a_point_of_the_feature(sample, dataset) -> None:
    zones, _ = sample
    zone_of = zones.set_index("XZQDM").geometry
    for zone in dataset.zones:
        part = dataset.read_partition("farmland", zone)
        located = part[~part.geometry.is_empty & part.geometry.notna()]
        assert shapely.intersects(zone_of[zone], located.geometry.to_numpy()).all()


def test_partitions_keep_attributes_and_geometry(sample, dataset) -> None:
    _, layers = sample
    farmland = layers["farmland"]
    stored = pd.concat(dataset.read_partition("farmland", z) for z in dataset.zones).sort_index()
    assert list(stored["BSM"]) == list(farmland["BSM"])
    assert list(stored["XZQMC"]) == list(farmland["XZQMC"])  # Chinese text survives
    same = shapely.equals_exact(stored.geometry.to_numpy(), farmland.geometry.to_numpy(), 0)
    both_missing = stored.geometry.isna().to_numpy() & farmland.geometry.isna().to_numpy()
    assert (same | both_missing).all()


def test_window_reads_the_neighbourhood_only(dataset) -> None:
    zone = dataset.zones[0]
    window = dataset.read_window("farmland", zone)
    total = sum(dataset.counts["farmland"].values())
    assert dataset.counts["farmland"][zone] <= len(window) < total
    zones = dataset.read_zones()
    mine = zones.loc[zone == zones.XZQDM].geometry.union_all()
    outside_window = pd.concat(
        dataset.read_partition("farmland", z) for z in dataset.zones if z != zone
    ).drop(window.index, errors="ignore")
    # nothing left out of the window touches the zone
    assert not shapely.intersects(mine, outside_window.geometry.dropna().to_numpy()).any()


@pytest.mark.parametrize("name", ["redline", "farmland", "urban"])
def test_window_is_the_zones_own_and_the_neighbours_meeting_its_extent(dataset, name) -> None:
    for zone in dataset.zones:
        own = dataset.read_partition(name, zone)
        xmin, ymin, xmax, ymax = dataset.extents[zone]
        near = []
        for other in dataset.zones:
            if other == zone:
                continue
            theirs = dataset.read_partition(name, other)
            box = shapely.bounds(theirs.geometry.to_numpy())
            meets = (box[:, 0] <= xmax) & (box[:, 2] >= xmin)
            meets &= (box[:, 1] <= ymax) & (box[:, 3] >= ymin)
            near.append(theirs[meets])
        expected = pd.concat([own, *near]).sort_values("_row")
        window = dataset.read_window(name, zone)
        assert window.index.tolist() == expected.index.tolist()
        assert (window["_home"] == zone).sum() == len(own)  # a feature without geometry too
        assert window["_row"].is_monotonic_increasing


@pytest.mark.parametrize("name", ["redline", "farmland", "urban"])
def test_stream_coverage_equals_coverage(sample, dataset, name) -> None:
    zones, layers = sample
    levels = ("county", "city", "province")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.coverage(layers[name], zones, by="XZQDM", unit="ha", levels=levels)
        streamed = stream_coverage(dataset, name, unit="ha", levels=levels, workers=2)
    assert list(streamed.index) == list(expected.index)
    assert list(streamed["level"]) == list(expected["level"])
    assert _relative(streamed["zone_area"], expected["zone_area"]) < IN_MEMORY_RTOL
    assert _relative(streamed["covered_area"], expected["covered_area"]) < IN_MEMORY_RTOL
    assert streamed.attrs["unit"] == "ha"
    # coverage() finds the area outside as total minus the zones' sum, a difference of large
    # numbers; the zone-by-zone run measures it directly
    noise = IN_MEMORY_RTOL * float(expected["covered_area"].sum())
    assert streamed.attrs["outside_area"] == pytest.approx(
        expected.attrs["outside_area"], abs=noise
    )


@pytest.fixture(scope="module")
def streamed_conflicts(dataset) -> gpd.GeoDataFrame:
    """The sample's conflicts streamed in this process and a worker process."""
    return stream_conflicts(dataset, LINES, min_area_m2=200, workers=2)


def test_stream_conflicts_equals_find_conflicts(sample, streamed_conflicts) -> None:
    zones, layers = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.find_conflicts(
            {name: layers[name] for name in LINES}, min_area_m2=200, zones=zones, zone_field="XZQDM"
        )
    streamed = streamed_conflicts
    keys = ["layer_a", "layer_b", "id_a", "id_b", "zone"]
    merged = streamed.merge(expected, on=keys, how="outer", indicator=True, suffixes=("", "_in"))
    assert (merged["_merge"] == "both").all()
    assert len(streamed) == len(expected) > 0
    # the same pieces, to the last bit
    np.testing.assert_array_equal(merged["area_m2"], merged["area_m2_in"])
    assert (merged["sliver"] == merged["sliver_in"]).all()
    assert (
        streamed.geometry.union_all().symmetric_difference(expected.geometry.union_all()).area
        < 1e-6
    )


def test_stream_resolution_equals_resolve_conflicts(sample, dataset) -> None:
    zones, layers = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, expected_audit = geozones.resolve_conflicts(
            {name: layers[name] for name in LINES},
            PRIORITY,
            overrides={CORE: (layers["core_zone"], CORE_ORDER)},
            min_area_m2=200,
            zones=zones,
            zone_field="XZQDM",
        )
    resolved, audit = stream_resolution(
        dataset, PRIORITY, overrides={CORE: ("core_zone", CORE_ORDER)}, min_area_m2=200, workers=2
    )
    for name in PRIORITY:
        assert list(resolved[name].index) == list(expected[name].index)
        assert list(resolved[name].resolution) == list(expected[name].resolution)
        kept, kept_in = geozones.area(resolved[name]), geozones.area(expected[name])
        np.testing.assert_array_equal(kept, kept_in)
    assert len(audit) == len(expected_audit) > 0
    assert sorted(audit["rule"]) == sorted(expected_audit["rule"])
    assert any(rule.startswith(f"override {CORE}") for rule in audit["rule"])
    by_key = ["layer", "feature", "because_layer", "because_feature", "zone"]
    totals = audit.groupby(by_key, dropna=False)["area_m2"].sum()
    totals_in = expected_audit.groupby(by_key, dropna=False)["area_m2"].sum()
    assert _relative(totals, totals_in.reindex(totals.index)) < IN_MEMORY_RTOL


def _crossing_layers() -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame]]:
    """Two 1 km counties; features crossing the border and reaching outside both."""
    counties = gpd.GeoDataFrame(
        {"XZQDM": ["990102", "990121"]},
        geometry=[box(X, Y, X + 1000, Y + 1000), box(X + 1000, Y, X + 2000, Y + 1000)],
        crs=4527,
    )
    redline = gpd.GeoDataFrame(
        {"BSM": ["r1", "r2", "r3"]},
        geometry=[
            box(X + 800, Y + 100, X + 1400, Y + 400),  # crosses the border
            box(X + 1800, Y + 900, X + 2300, Y + 1300),  # reaches outside both counties
            box(X + 1900, Y + 950, X + 2200, Y + 1200),  # overlaps r2 outside the counties
        ],
        crs=4527,
    )
    farmland = gpd.GeoDataFrame(
        {"BSM": ["f1", "f2", "f3"]},
        geometry=[
            box(X + 900, Y + 200, X + 1100, Y + 300),  # inside r1, across the border
            box(X + 2100, Y + 1000, X + 2500, Y + 1100),  # meets r2 and r3 outside
            None,  # kept and accounted for, though it has no geometry
        ],
        crs=4527,
    )
    return counties, {"redline": redline, "farmland": farmland}


def test_crossing_features_are_counted_once(tmp_path) -> None:
    counties, layers = _crossing_layers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = write_partitions(layers, counties, tmp_path / "parts", zone_field="XZQDM")
        expected = geozones.coverage(layers["redline"], counties, by="XZQDM", unit="m2")
        streamed = stream_coverage(dataset, "redline", unit="m2", workers=1)
        pieces = stream_conflicts(dataset, workers=1)
        expected_pieces = geozones.find_conflicts(layers, zones=counties, zone_field="XZQDM")
    assert sum(dataset.counts["farmland"].values()) == 3
    # by hand: r1 is 600 m × 300 m, 200 m of its width in 990102, 400 m in 990121
    assert streamed.loc["990102", "covered_area"] == pytest.approx(200 * 300, rel=1e-6)
    assert streamed.loc["990121", "covered_area"] == pytest.approx(400 * 300 + 200 * 100, rel=1e-6)
    # outside both counties: r2 ∪ r3 minus the county square, 300 m × 400 m + 500 m × 300 m less
    # the part of r3 already inside r2 (r3 lies in r2)
    outside_by_hand = 500 * 400 - 200 * 100
    assert streamed.attrs["outside_area"] == pytest.approx(outside_by_hand, rel=1e-6)
    assert streamed.attrs["outside_area"] == pytest.approx(expected.attrs["outside_area"], rel=1e-9)
    assert _relative(streamed["covered_area"], expected["covered_area"]) < IN_MEMORY_RTOL
    keys = ["layer_a", "layer_b", "id_a", "id_b", "zone"]
    got = pieces[keys].astype(str).sort_values(keys).to_numpy().tolist()
    want = expected_pieces[keys].astype(str).sort_values(keys).to_numpy().tolist()
    assert got == want
    assert pieces.zone.isna().sum() == expected_pieces.zone.isna().sum() > 0


def test_a_layer_without_features_is_partitioned(tmp_path) -> None:
    # a mask layer with nothing in this province (or this part of it) once failed the write
    counties, layers = _crossing_layers()
    empty = layers["redline"].iloc[:0]
    dataset = write_partitions(
        {**layers, "core_zone": empty}, counties, tmp_path / "parts", zone_field="XZQDM"
    )
    assert dataset.counts["core_zone"] == {"990102": 0, "990121": 0}
    assert dataset.read_partition("core_zone", "990102").empty
    assert not (dataset.path / ".scratch").exists()


def test_dask_cluster_gives_the_local_answer(dataset, streamed_conflicts) -> None:
    # workers in threads of this process; worker processes of a cluster are those of
    # test_the_documented_multi_machine_commands_work
    distributed = pytest.importorskip("distributed")
    local = streamed_conflicts  # in local processes
    local_cover = stream_coverage(dataset, "redline", workers=1)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
            preload=["geozones.scale.preload"],
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # the documented preload has readied each worker before its first county
        readied = client.run(lambda: "geozones.scale.preload" in __import__("sys").modules)
        assert list(readied.values()) == [True, True]
        with distributed.get_task_stream(client) as tasks:
            on_cluster = stream_conflicts(dataset, LINES, min_area_m2=200, client=client)
        cover = stream_coverage(dataset, "redline", client=client)
    assert len({task["worker"] for task in tasks.data}) == 2  # both workers took zones
    pd.testing.assert_frame_equal(
        pd.DataFrame(on_cluster.drop(columns="geometry")),
        pd.DataFrame(local.drop(columns="geometry")),
        check_exact=True,
    )
    assert shapely.equals_exact(on_cluster.geometry.to_numpy(), local.geometry.to_numpy(), 0).all()
    pd.testing.assert_frame_equal(cover, local_cover, check_exact=True)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_documented_multi_machine_commands_work(
    two_counties, two_county_parts, two_county_streamed, tmp_path
) -> None:
    # docs/scale-out.md: `dask scheduler`, `dask worker ... --nworkers 2 --nthreads 1` and
    # `geozones stream ... --scheduler`, each a separate process, the data on "shared" storage
    # (two counties of the sample, partitioned and streamed locally once for several tests)
    distributed = pytest.importorskip("distributed")
    import subprocess
    import sys

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    config = two_counties
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            bin_dir / "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
        ],
        **quiet,
    )
    worker = None
    try:
        with distributed.Client(address, timeout=60):
            pass  # the scheduler is up
        worker = subprocess.Popen(
            [
                bin_dir / "dask",
                "worker",
                address,
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--memory-limit",
                "2GiB",
                "--no-dashboard",
                "--preload",
                "geozones.scale.preload",
            ],
            **quiet,
        )
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        _cli("-q", "stream", config, two_county_parts, tmp_path / "out", "--scheduler", address)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
    for name in ("conflicts", "audit", "resolved_farmland"):
        on_cluster = gpd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        local = gpd.read_parquet(two_county_streamed / f"{name}.parquet")
        assert len(local) > 0
        pd.testing.assert_frame_equal(on_cluster, local, check_exact=True)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "out" / "coverage.csv"),
        pd.read_csv(two_county_streamed / "coverage.csv"),
    )


def test_a_dask_jobqueue_cluster_runs_the_zones(dataset) -> None:
    # dask-jobqueue's LocalCluster starts its workers as "jobs" through the same job-script
    # machinery as SLURMCluster or PBSCluster, only as local processes
    distributed = pytest.importorskip("distributed")
    jobqueue = pytest.importorskip("dask_jobqueue.local")
    expected = stream_coverage(dataset, "urban", workers=1)
    with (
        jobqueue.LocalCluster(
            cores=1,
            processes=1,
            memory="2GiB",
            worker_extra_args=["--preload", "geozones.scale.preload"],
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        cluster.scale(jobs=2)
        client.wait_for_workers(2, timeout=120)
        cover = stream_coverage(dataset, "urban", client=client)
    pd.testing.assert_frame_equal(cover, expected, check_exact=True)


def test_stored_bytes_measure_a_zone_on_disk(dataset) -> None:
    for zone in dataset.zones:
        files = [dataset.path / layer / dataset.files[zone] for layer in dataset.layers]
        expected = sum(os.path.getsize(file) for file in files if file.exists())
        assert dataset.stored_bytes(zone) == expected > 0


def _worker_facts(pool, tasks: int = 8) -> set[tuple[int, frozenset[int]]]:
    """(pid, allowed CPUs) of the pool's worker processes, as seen from tasks run on them."""
    futures = [pool.submit(_pid_and_cpus) for _ in range(tasks)]
    return {future.result(timeout=60) for future in futures}


def _pid_and_cpus() -> tuple[int, frozenset[int]]:
    return os.getpid(), frozenset(os.sched_getaffinity(0))


def test_worker_processes_are_kept_for_the_next_run(dataset) -> None:
    from geozones.scale.executor import local_executor

    first = stream_coverage(dataset, "farmland", workers=2)
    workers = _worker_facts(local_executor(1))
    again = stream_coverage(dataset, "farmland", workers=2)
    assert _worker_facts(local_executor(1)) == workers  # the same processes did the second run
    pd.testing.assert_frame_equal(again, first, check_exact=True)


def test_a_relative_dataset_path_is_found_by_workers_started_elsewhere(
    dataset, tmp_path, monkeypatch
) -> None:
    # The kept worker processes were started in another working directory: a dataset opened
    # by a relative path must still be found by them (the docs' examples run this way).
    expected = stream_coverage(dataset, "urban", workers=2)
    shutil.copytree(dataset.path, tmp_path / "parts")
    monkeypatch.chdir(tmp_path)
    relative = open_partitions("parts")
    cover = stream_coverage(relative, "urban", workers=2)
    pd.testing.assert_frame_equal(cover, expected, check_exact=True)


def test_a_worker_that_died_while_idle_is_replaced(dataset) -> None:
    import signal
    import time

    from geozones.scale.executor import local_executor

    expected = stream_coverage(dataset, "urban", workers=1)
    stream_coverage(dataset, "urban", workers=2)
    pool = local_executor(1)
    pid, _ = next(iter(_worker_facts(pool, tasks=1)))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while pool._flags.broken is None and time.monotonic() < deadline:
        time.sleep(0.05)
    cover = stream_coverage(dataset, "urban", workers=2)  # no zone fails for it
    pd.testing.assert_frame_equal(cover, expected, check_exact=True)
    assert pid not in {pid for pid, _ in _worker_facts(local_executor(1))}


def _worker_settings() -> tuple[str | None, object]:
    import signal

    return os.environ.get("GEOZONES_THREADS"), signal.getsignal(signal.SIGINT)


def test_workers_use_one_thread_and_ignore_ctrl_c_and_leave_this_process_alone(dataset) -> None:
    import signal

    from geozones.scale.executor import local_executor

    before = os.environ.get("GEOZONES_THREADS"), signal.getsignal(signal.SIGINT)
    stream_coverage(dataset, "urban", workers=2)
    settings = {local_executor(1).submit(_worker_settings).result(timeout=60) for _ in range(4)}
    assert settings == {("1", signal.SIG_IGN)}
    assert (os.environ.get("GEOZONES_THREADS"), signal.getsignal(signal.SIGINT)) == before


def test_a_worker_killed_during_a_zone_fails_that_zone_with_advice(dataset, tmp_path) -> None:
    import subprocess
    import sys

    # a task that kills the worker process that runs it, in the first zone a worker process
    # gets, and again whenever that zone runs in a worker; importable by the workers
    (tmp_path / "dying.py").write_text(
        "import os\n"
        "import geozones.scale.streaming as streaming\n"
        "task = streaming._coverage_task\n"
        "def dying(dataset, zone, **options):\n"
        "    if os.getpid() != int(os.environ['DYING_PARENT']):\n"
        "        try:\n"
        "            with open(os.environ['DYING_CLAIM'], 'x') as claim:\n"
        "                claim.write(zone)\n"
        "        except FileExistsError:\n"
        "            pass\n"
        "        with open(os.environ['DYING_CLAIM']) as claim:\n"
        "            if claim.read() == zone:\n"
        "                os._exit(9)\n"
        "    return task(dataset, zone, **options)\n",
        encoding="utf-8",
    )
    script = (
        "import os, dying, geozones, geozones.scale.streaming as streaming\n"
        "os.environ['DYING_PARENT'] = str(os.getpid())\n"
        "streaming._coverage_task = dying.dying\n"
        f"parts = geozones.open_partitions(r'{dataset.path}')\n"
        "try:\n"
        "    geozones.stream_coverage(parts, 'farmland', workers=3)\n"
        "except geozones.PartitionError as error:\n"
        "    print(sorted(error.failed))\n"
        "    print(error)\n"
        "streaming._coverage_task = dying.task\n"
        "print(len(geozones.stream_coverage(parts, 'farmland', workers=2)))\n"
    )
    claim = tmp_path / "claim"
    env = {
        **os.environ,
        "DYING_CLAIM": str(claim),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    culprit = claim.read_text()
    # the zone the other worker had in hand when the first died ran again: only the zone that
    # killed its worker (twice, the second time alone) failed
    assert lines[0] == str([culprit])
    assert f"{culprit}: TerminatedWorkerError" in result.stdout
    assert "a worker process died" in result.stdout and "workers=1" in result.stdout
    # the next run in the same process gets a new worker: every zone is done
    assert lines[-1] == str(len(dataset.zones))


def test_an_unguarded_script_runs_in_worker_processes(tmp_path) -> None:
    # The worker processes do not import the script that started them (loky starts them
    # afresh), so a script without a __main__ guard runs as it would with workers=1. One
    # worker process shows it (workers=2): a zone is sent to it at once.
    import subprocess
    import sys

    script = tmp_path / "analysis.py"
    script.write_text(
        "import warnings, geopandas as gpd, geozones\n"
        "from shapely import box\n"
        "warnings.simplefilter('ignore')\n"
        f"x, y = {X}, {Y}\n"
        "counties = gpd.GeoDataFrame({'XZQDM': ['990102', '990121', '990122']}, geometry=[\n"
        "    box(x + 1000 * i, y, x + 1000 * (i + 1), y + 1000) for i in range(3)], crs=4527)\n"
        "urban = gpd.GeoDataFrame(geometry=[box(x + 500, y, x + 2500, y + 500)], crs=4527)\n"
        f"parts = geozones.write_partitions({{'urban': urban}}, counties, r'{tmp_path}/parts',\n"
        "    zone_field='XZQDM', overwrite=True)\n"
        "print(geozones.stream_coverage(parts, 'urban', workers=2))\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("covered_area") == 1  # the script ran once
    assert "990121" in result.stdout and "Traceback" not in result.stderr


def test_unreadable_partition_is_named(dataset, tmp_path) -> None:
    shutil.copytree(dataset.path, tmp_path / "copy")
    copy = open_partitions(tmp_path / "copy")
    victim = tmp_path / "copy" / "farmland" / copy.files[copy.zones[2]]
    victim.write_bytes(b"not parquet at all")
    with pytest.raises(PartitionError) as caught:
        stream_coverage(copy, "farmland", workers=2)
    assert copy.zones[2] in caught.value.failed  # its neighbours fail too: they read it
    assert isinstance(caught.value.failed[copy.zones[2]], DataSourceError)
    assert str(victim) in str(caught.value) and "work_dir" in str(caught.value)


def test_failed_zone_is_named_and_a_rerun_resumes(dataset, tmp_path, monkeypatch) -> None:
    import geozones.scale.streaming as streaming

    zone = dataset.zones[2]
    task = streaming._coverage_task

    def failing(dataset, this_zone, **options):
        if this_zone == zone:
            raise MemoryError("out of memory in this county")
        return task(dataset, this_zone, **options)

    monkeypatch.setattr(streaming, "_coverage_task", failing)
    work = tmp_path / "work"
    with pytest.raises(PartitionError) as caught:
        stream_coverage(dataset, "farmland", work_dir=work, workers=1)
    message = str(caught.value)
    assert f"{zone}: MemoryError: out of memory in this county" in message
    assert str(work) in message and "1 of 6 zone(s) failed" in message
    assert set(caught.value.failed) == {zone}
    stamps = {p.name: p.stat().st_mtime_ns for p in (work / "zones").iterdir()}
    assert len(stamps) == len(dataset.zones) - 1

    done = []

    def counting(dataset, this_zone, **options):
        done.append(this_zone)
        return task(dataset, this_zone, **options)

    monkeypatch.setattr(streaming, "_coverage_task", counting)
    resumed = stream_coverage(dataset, "farmland", work_dir=work, workers=1)
    assert done == [zone]  # only the failed zone is done again
    for name, stamp in stamps.items():
        assert (work / "zones" / name).stat().st_mtime_ns == stamp
    monkeypatch.undo()
    fresh = stream_coverage(dataset, "farmland", workers=2)  # in two processes
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)


def test_work_dir_of_another_run_starts_afresh(dataset, tmp_path) -> None:
    urban = stream_coverage(dataset, "urban", work_dir=tmp_path / "work", workers=1)
    with pytest.warns(RunRestartedWarning, match="other options: layer"):
        redline = stream_coverage(dataset, "redline", work_dir=tmp_path / "work", workers=1)
    expected = stream_coverage(dataset, "redline", workers=1)
    pd.testing.assert_frame_equal(redline, expected)
    assert not urban["covered_area"].equals(redline["covered_area"])


def test_existing_dataset_is_not_overwritten(sample, tmp_path) -> None:
    zones, layers = sample
    target = tmp_path / "parts"
    target.mkdir()
    with pytest.raises(FileExistsError, match="overwrite"):
        write_partitions({"urban": layers["urban"]}, zones, target, zone_field="XZQDM")
    dataset = write_partitions(
        {"urban": layers["urban"]}, zones, target, zone_field="XZQDM", overwrite=True
    )
    assert dataset.layers == ("urban",)


def test_not_a_dataset(tmp_path) -> None:
    with pytest.raises(DataSourceError, match=r"manifest\.json"):
        open_partitions(tmp_path)
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(DataSourceError, match="cannot be read"):
        open_partitions(tmp_path)


def test_unknown_layer_is_named(dataset) -> None:
    with pytest.raises(DataSourceError, match="no layer 'forest'"):
        dataset.read_window("forest", dataset.zones[0])


def test_missing_zone_field(sample, tmp_path) -> None:
    zones, layers = sample
    with pytest.raises(geozones.errors.FieldError, match="XZQ_CODE"):
        write_partitions({"urban": layers["urban"]}, zones, tmp_path / "p", zone_field="XZQ_CODE")
    assert not os.path.exists(tmp_path / "p")


def _cli(*args: object, expect: int = 0):
    from click.testing import CliRunner

    from geozones.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == expect, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    return result


def test_cli_partition_and_stream_match_stats_and_conflicts(
    two_counties, two_county_parts, two_county_streamed, tmp_path
) -> None:
    # `geozones partition` and `geozones stream --workers 2` of two counties of the sample: the
    # fixtures, shared with other tests
    config, parts, out = two_counties, two_county_parts, two_county_streamed
    _cli("-q", "partition", config, parts, expect=2)  # not overwritten unasked
    streamed = pd.read_csv(out / "coverage.csv", dtype={"zone": str})
    stats = _cli("-q", "stats", config, "--format", "csv").stdout
    expected = pd.read_csv(io.StringIO(stats), dtype={"zone": str})
    assert list(streamed[["line", "zone", "level"]].itertuples(index=False)) == list(
        expected[["line", "zone", "level"]].itertuples(index=False)
    )
    inside = (expected["level"] != "outside").to_numpy()
    assert (
        _relative(streamed["covered_area_mu"][inside], expected["covered_area_mu"][inside])
        < IN_MEMORY_RTOL
    )
    # the area outside every zone: rounding noise of the clip here, the same to 1e-6 mu
    np.testing.assert_allclose(
        streamed["covered_area_mu"][~inside], expected["covered_area_mu"][~inside], atol=1e-6
    )
    _cli("-q", "conflicts", config, "-o", tmp_path / "conflicts.gpkg")
    pieces = gpd.read_parquet(out / "conflicts.parquet")
    expected_pieces = gpd.read_file(tmp_path / "conflicts.gpkg", layer="conflicts")
    assert len(pieces) == len(expected_pieces) > 0
    assert sorted(pieces["id_a"]) == sorted(expected_pieces["id_a"].astype(str))  # BSM, not FID
    resolved = gpd.read_parquet(out / "resolved_farmland.parquet")
    farmland = gpd.read_file(config.parent / "YJJBNT.shp", ignore_geometry=True)
    assert resolved.index.is_unique and len(resolved) == len(farmland) > 1000
    _cli("-q", "stream", config, parts, out, expect=2)  # a finished run is not overwritten


def test_cli_partition_by_tiles_keeps_pieces_whole(two_counties, tmp_path) -> None:
    from geozones.cli.options import layers_by_id

    config = two_counties  # on 2 x 2 tiles of 40 km
    printed = _cli("partition", config, tmp_path / "tiles", "--tile-size", "40000").stdout
    assert "tile partition(s)" in printed
    _cli("-q", "stream", config, tmp_path / "tiles", tmp_path / "out", "--workers", "2")
    pieces = gpd.read_parquet(tmp_path / "out" / "conflicts.parquet")
    settings = geozones.load_config(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = layers_by_id(settings)
        expected = geozones.find_conflicts(
            {name: layers[name] for name in settings.priority}, min_area_m2=settings.sliver_m2
        )
    assert len(pieces) == len(expected) > 0
    assert pieces["zone"].isna().all()
    np.testing.assert_array_equal(np.sort(pieces["area_m2"]), np.sort(expected["area_m2"]))
    coverage = pd.read_csv(tmp_path / "out" / "coverage.csv", dtype={"zone": str})
    assert "level" not in coverage and coverage["zone"].str.contains("_").all()  # tile codes
    _cli("partition", config, tmp_path / "bad", "--tile-size", "0", expect=2)


def test_cli_stream_names_a_failed_county_and_resumes(
    two_counties, two_county_parts, tmp_path
) -> None:
    config = two_counties
    shutil.copytree(two_county_parts, tmp_path / "parts")
    parts = open_partitions(tmp_path / "parts")
    victim = tmp_path / "parts" / "urban" / parts.files[parts.zones[0]]
    saved = victim.read_bytes()
    victim.write_bytes(saved[: len(saved) // 2])  # truncated
    failed = _cli("stream", config, tmp_path / "parts", tmp_path / "out", expect=2)
    assert parts.zones[0] in failed.stderr and str(victim) in failed.stderr
    assert "same work_dir" in failed.stderr
    assert not (tmp_path / "out" / "done.json").exists()
    victim.write_bytes(saved)
    _cli("-q", "stream", config, tmp_path / "parts", tmp_path / "out")
    assert (tmp_path / "out" / "done.json").exists()


def test_cli_stream_refuses_a_dataset_without_the_lines(tmp_path, sample) -> None:
    zones, layers = sample
    write_partitions({"urban": layers["urban"]}, zones, tmp_path / "parts", zone_field="XZQDM")
    failed = _cli("stream", SAMPLE / "geozones.toml", tmp_path / "parts", tmp_path / "o", expect=2)
    assert "farmland" in failed.stderr and "geozones partition" in failed.stderr


def test_geoparquet_path_is_partitioned_in_batches(sample, tmp_path) -> None:
    zones, layers = sample
    farmland = layers["farmland"].copy()
    farmland.attrs = {}
    farmland.to_parquet(tmp_path / "farmland.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_frame = write_partitions(
            {"farmland": farmland}, zones, tmp_path / "a", zone_field="XZQDM"
        )
        from_file = write_partitions(
            {"farmland": tmp_path / "farmland.parquet"},
            zones,
            tmp_path / "b",
            zone_field="XZQDM",
            batch_size=700,  # five batches
        )
    assert from_file.counts == from_frame.counts
    assert from_file.extents == from_frame.extents
    for zone in from_frame.zones:
        a = from_frame.read_partition("farmland", zone)
        b = from_file.read_partition("farmland", zone)
        assert list(a.index) == list(b.index) and list(a["BSM"]) == list(b["BSM"])
        same = a.geometry.geom_equals_exact(b.geometry, 0) | (a.geometry.isna() & b.geometry.isna())
        assert same.all()


def test_geoparquet_without_crs_is_refused(sample, tmp_path) -> None:
    zones, layers = sample
    urban = layers["urban"].copy()
    urban.attrs = {}
    urban.set_crs(None, allow_override=True).to_parquet(tmp_path / "urban.parquet")
    with pytest.raises(geozones.MissingCRSError, match=r"urban\.parquet"):
        write_partitions(
            {"urban": tmp_path / "urban.parquet"}, zones, tmp_path / "p", zone_field="XZQDM"
        )


# --- tiles ---------------------------------------------------------------------------------------


def test_tile_grid_covers_the_extent_with_aligned_tiles() -> None:
    tiles = tile_grid((X + 100, Y - 2500, X + 4900, Y + 100), size=2000, crs=4527)
    assert tiles["tile"].is_unique
    assert len(tiles) == 3 * 3  # x: X..X+6000, y: Y-4000..Y+2000
    assert shapely.union_all(tiles.geometry.to_numpy()).equals(box(X, Y - 4000, X + 6000, Y + 2000))
    assert np.allclose(tiles.area, 2000 * 2000)
    assert tiles["tile"].iloc[0] == f"{X}_{Y - 4000}"
    with pytest.raises(ValueError, match="positive"):
        tile_grid((0, 0, 1, 1), size=0, crs=4527)
    with pytest.raises(geozones.errors.MissingCRSError):
        tile_grid((0, 0, 1, 1), size=1)


def test_a_piece_across_tile_edges_is_found_once_and_whole(tmp_path) -> None:
    # r1 and f1 overlap over 200 m × 100 m, across the edge of two 1 km tiles (at X + 1000)
    _, layers = _crossing_layers()
    tiles = tile_grid(layers["redline"], size=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = write_partitions(layers, tiles, tmp_path / "tiles", zone_field="tile", tiled=True)
        pieces = stream_conflicts(dataset, workers=1)
        expected = geozones.find_conflicts(layers)
    assert open_partitions(tmp_path / "tiles").tiled
    crossing = pieces[
        (pieces["layer_a"] == "redline") & (pieces["layer_b"] == "farmland") & (pieces["id_a"] == 0)
    ]
    assert len(crossing) == 1
    assert crossing["area_m2"].iloc[0] == pytest.approx(200 * 100, rel=1e-6)
    assert pieces["zone"].isna().all()
    keys = ["layer_a", "layer_b", "id_a", "id_b"]
    assert pieces[keys].astype(str).sort_values(keys).to_numpy().tolist() == (
        expected[keys].astype(str).sort_values(keys).to_numpy().tolist()
    )


# The parts of the sample that make tiles hard, on 9 km tiles (9 tiles, not the 48 of the whole
# sample): the 2 x 2 tiles around urban feature 5, and the tiles of a core zone that crosses the
# tile edge at x = 39,618,000 (an override across tiles). The piece the red line takes from urban
# feature 5 lies in a tile whose window misses farmland claims on that feature (kept there, it
# was 365,546 m² instead of 315,743 m²); four pieces cross tile edges.
TILED_AREAS = (
    box(39_591_000, 3_168_000, 39_609_000, 3_186_000),
    box(39_609_000, 3_141_000, 39_627_000, 3_150_000),
)


@pytest.fixture(scope="module")
def tiled_layers(sample) -> dict[str, gpd.GeoDataFrame]:
    """The sample's features that meet :data:`TILED_AREAS`, with their labels."""
    _, layers = sample
    area = shapely.union_all(TILED_AREAS)
    return {name: layer[layer.intersects(area)] for name, layer in layers.items()}


@pytest.fixture(scope="module")
def tiled(tiled_layers, tmp_path_factory):
    features = shapely.union_all(
        np.concatenate([layer.geometry.dropna().to_numpy() for layer in tiled_layers.values()])
    )
    tiles = tile_grid(tiled_layers["farmland"], size=9_000)
    tiles = tiles[tiles.intersects(features)]  # the tiles that hold none are left out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write_partitions(
            tiled_layers,
            tiles,
            tmp_path_factory.mktemp("tiles") / "province",
            zone_field="tile",
            tiled=True,
        )


def test_tiled_conflicts_equal_find_conflicts_without_zones(tiled_layers, tiled) -> None:
    layers = tiled_layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.find_conflicts({name: layers[name] for name in LINES}, min_area_m2=200)
    streamed = stream_conflicts(tiled, LINES, min_area_m2=200, workers=2)
    keys = ["layer_a", "layer_b", "id_a", "id_b"]
    assert not streamed.duplicated(keys).any()  # each piece once, whole
    merged = streamed.merge(expected, on=keys, how="outer", indicator=True, suffixes=("", "_in"))
    assert (merged["_merge"] == "both").all()
    assert len(streamed) == len(expected) > 0
    np.testing.assert_array_equal(merged["area_m2"], merged["area_m2_in"])
    assert (merged["sliver"] == merged["sliver_in"]).all()
    assert shapely.equals(
        shapely.normalize(merged.geometry.to_numpy()),
        shapely.normalize(gpd.GeoSeries(merged["geometry_in"]).to_numpy()),
    ).all()
    crossing = shapely.STRtree(tiled.read_zones().boundary.to_numpy()).query(
        streamed.geometry.to_numpy(), predicate="intersects"
    )[0]
    assert len(np.unique(crossing)) >= 2  # whole pieces across tile edges (4 here)


def test_tiled_resolution_equals_resolve_conflicts_without_zones(tiled_layers, tiled) -> None:
    layers = tiled_layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, expected_audit = geozones.resolve_conflicts(
            {name: layers[name] for name in LINES},
            PRIORITY,
            overrides={CORE: (layers["core_zone"], CORE_ORDER)},
            min_area_m2=200,
        )
    resolved, audit = stream_resolution(
        tiled, PRIORITY, overrides={CORE: ("core_zone", CORE_ORDER)}, min_area_m2=200, workers=1
    )
    for name in PRIORITY:
        assert list(resolved[name].index) == list(expected[name].index)
        assert list(resolved[name].resolution) == list(expected[name].resolution)
        np.testing.assert_array_equal(geozones.area(resolved[name]), geozones.area(expected[name]))
    assert any(rule.startswith(f"override {CORE}") for rule in audit["rule"])
    by_key = ["layer", "feature", "because_layer", "because_feature"]
    assert not audit.duplicated([*by_key, "rule"]).any()
    got = audit.set_index([*by_key, "rule"])["area_m2"].sort_index()
    want = expected_audit.set_index([*by_key, "rule"])["area_m2"].sort_index()
    assert got.index.equals(want.index)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())  # the same pieces


def _zone_cpus(payload, zone: str) -> tuple[int, frozenset[int]]:
    import time

    time.sleep(0.05)  # long enough for every process to take zones
    return os.getpid(), frozenset(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux CPU affinity")
def test_processes_filling_the_cpus_each_get_their_own(monkeypatch) -> None:
    import geozones.scale.executor
    from geozones.scale.executor import run_zones

    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("one CPU: no worker processes")
    zones = [str(number) for number in range(8 * len(allowed))]

    def seen(workers: int) -> dict[int, set[frozenset[int]]]:
        by_process: dict[int, set[frozenset[int]]] = {}
        for _, outcome in run_zones(_zone_cpus, None, zones, workers=workers):
            pid, cpus = outcome.value
            by_process.setdefault(pid, set()).add(cpus)
        return by_process

    full = seen(len(allowed))
    assert full[os.getpid()] == {frozenset(allowed[:1])}  # this process's zone thread
    workers = {pid: cpus for pid, cpus in full.items() if pid != os.getpid()}
    assert workers and all(len(cpu) == 1 for cpus in workers.values() for cpu in cpus)
    assert {cpu for cpus in workers.values() for only in cpus for cpu in only} <= set(allowed[1:])
    assert sorted(os.sched_getaffinity(0)) == allowed  # this thread was not pinned
    # fewer processes than CPUs, or pinning turned off: nothing pinned
    if len(allowed) > 2:
        assert set().union(*seen(len(allowed) - 1).values()) == {frozenset(allowed)}
    monkeypatch.setattr(geozones.scale.executor, "PIN_CPUS", False)
    assert set().union(*seen(len(allowed)).values()) == {frozenset(allowed)}


def test_what_meets_a_zones_features_is_what_a_tree_query_finds():
    rng = np.random.default_rng(5)
    parcels = shapely.buffer(shapely.points(rng.uniform(0, 1_000, (400, 2))), 12, quad_segs=2)
    # Large polygons (hundreds of vertices) on both sides: each pair is tested with the larger
    # one prepared, whichever side it is on.
    walks = np.cumsum(rng.normal(0, 30, (6, 120, 2)), axis=1) + rng.uniform(0, 1_000, (6, 1, 2))
    rivers = shapely.buffer(shapely.linestrings(walks), 8)
    geoms = np.concatenate([parcels[:300], rivers[:3]])
    home = np.concatenate([parcels[300:], rivers[3:]])
    skip = rng.random(len(geoms)) < 0.2
    expected = np.zeros(len(geoms), dtype=bool)
    expected[shapely.STRtree(geoms).query(home, predicate="intersects")[1]] = True
    expected &= ~skip
    found = streaming_module._meeting_any(geoms, home, skip=skip)
    assert found.tolist() == expected.tolist()
    assert 0 < found.sum() < len(geoms)
    assert not shapely.is_prepared(np.concatenate([geoms, home])).any()


def test_a_zones_window_is_valid_and_known_so(dataset):
    from geozones.io.provenance import known_valid

    # write_partitions checked and repaired every polygon: a window is not checked again.
    for zone in dataset.zones[:3]:
        window = dataset.read_window("farmland", zone)
        present = ~shapely.is_missing(window.geometry.to_numpy())  # the sample has a null one
        assert present.sum() > 100
        assert shapely.is_valid(window.geometry.to_numpy()[present]).all()
        assert known_valid(window)[present].all()


def test_the_features_a_task_keeps_of_a_window_are_still_known_valid(dataset):
    from geozones.io.provenance import known_valid
    from geozones.scale import streaming

    zones = streaming._zones(dataset)
    for zone in dataset.zones[:3]:
        # The windows themselves are let go: only the features kept hold their geometries.
        kept = streaming._relevant(
            {name: dataset.read_window(name, zone) for name in LINES}, zones, zone
        )
        for name, frame in kept.items():
            present = ~shapely.is_missing(frame.geometry.to_numpy())
            assert present.sum() > 0, name
            assert known_valid(frame)[present].all(), name


def test_files_of_large_features_are_read_by_small_row_groups(tmp_path) -> None:
    import pyarrow.parquet as pq

    from geozones.scale import partitions

    rng = np.random.default_rng(3)
    zones = gpd.GeoDataFrame(
        {"XZQDM": ["a", "b", "c", "d"]},
        geometry=[
            box(X + i * 1000, Y + j * 1000, X + i * 1000 + 1000, Y + j * 1000 + 1000)
            for i in (0, 1)
            for j in (0, 1)
        ],
        crs=4527,
    )
    centres = shapely.points(rng.uniform(X, X + 2000, 240), rng.uniform(Y, Y + 2000, 240))
    large = gpd.GeoDataFrame(geometry=shapely.buffer(centres, 60, quad_segs=250), crs=4527)
    small = gpd.GeoDataFrame(geometry=shapely.buffer(centres, 5, quad_segs=2), crs=4527)
    dataset = write_partitions(
        {"redline": large, "farmland": small}, zones, tmp_path / "parts", zone_field="XZQDM"
    )
    for zone in dataset.zones:
        groups = pq.ParquetFile(dataset._file("redline", zone)).metadata
        # 1,001 vertices a polygon: 16 polygons (MIN_GROUP_ROWS) to a group, not all in one
        assert groups.num_rows > partitions.MIN_GROUP_ROWS
        assert groups.num_row_groups == -(-groups.num_rows // partitions.MIN_GROUP_ROWS)
        assert pq.ParquetFile(dataset._file("farmland", zone)).metadata.num_row_groups == 1
        xmin, ymin, xmax, ymax = dataset.extents[zone]
        for name in ("redline", "farmland"):
            own = dataset.read_partition(name, zone)
            near = []
            for other in dataset.zones:
                if other != zone:
                    theirs = dataset.read_partition(name, other)
                    bounds = shapely.bounds(theirs.geometry.to_numpy())
                    meets = (bounds[:, 0] <= xmax) & (bounds[:, 2] >= xmin)
                    near.append(theirs[meets & (bounds[:, 1] <= ymax) & (bounds[:, 3] >= ymin)])
            expected = pd.concat([own, *near]).sort_values("_row")
            window = dataset.read_window(name, zone)
            assert window.index.tolist() == expected.index.tolist()
            assert shapely.equals_exact(
                window.geometry.to_numpy(), expected.geometry.to_numpy(), tolerance=0
            ).all()

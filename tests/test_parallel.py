"""Work split over threads gives what one call gives."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import weakref

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geozones import parallel
from geozones.parallel import MIN_QUERY_BLOCK, query_pairs

ACTIVE_COUNT = threading.active_count


def random_boxes(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 1_000, (count, 2))
    size = rng.uniform(1, 30, (count, 2))
    return shapely.box(corner[:, 0], corner[:, 1], *(corner + size).T)


@pytest.mark.parametrize("predicate", [None, "intersects", "contains"])
def test_query_in_threads_gives_the_pairs_of_one_query(predicate):
    tree_geoms = random_boxes(3_000, seed=1)
    queried = random_boxes(5 * MIN_QUERY_BLOCK + 17, seed=2)
    queried[10] = None
    queried[MIN_QUERY_BLOCK + 3] = shapely.Polygon()
    expected = shapely.STRtree(tree_geoms).query(queried, predicate=predicate)
    # A fresh tree each time: GEOS builds it at its first query.
    found = query_pairs(shapely.STRtree(tree_geoms), queried, predicate=predicate, threads=2)
    assert found.shape[1] > 100
    np.testing.assert_array_equal(found, expected)


def test_prepared_polygons_are_queried_with_a_predicate_in_one_thread():
    tree_geoms = random_boxes(500, seed=3)
    queried = random_boxes(3 * MIN_QUERY_BLOCK, seed=4)
    queried[5::7] = queried[5]  # one prepared polygon at many places
    shapely.prepare(queried[5])
    tree = shapely.STRtree(tree_geoms)
    expected = tree.query(queried, predicate="intersects")
    calls = []
    whole = tree.query

    def spy(geoms, **kwargs):
        calls.append(len(np.atleast_1d(geoms)))
        return whole(geoms, **kwargs)

    tree.query = spy
    found = query_pairs(tree, queried, predicate="intersects", threads=2)
    np.testing.assert_array_equal(found, expected)
    assert calls == [len(queried)]
    calls.clear()
    query_pairs(tree, queried, threads=2)  # no predicate: the prepared polygon is not used
    assert len(calls) > 2


@pytest.fixture
def forking(monkeypatch):
    """Forking allowed here whatever the test runner's threads, for work of any cost."""
    monkeypatch.setattr(parallel, "FORK_FROM_COST", 0)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    monkeypatch.delenv("GEOZONES_FORK", raising=False)


def squares_and_pid(batch: np.ndarray) -> tuple[np.ndarray, int]:
    return batch**2, os.getpid()


def test_forked_batches_cover_every_item_once_in_other_processes(forking):
    items = np.arange(1_000)
    found = parallel.map_by_cost_forked(squares_and_pid, items, items + 1.0, threads=2)
    assert found is not None
    out = np.full(len(items), -1)
    for batch, (squares, pid) in found:
        assert pid != os.getpid()
        assert (out[batch] == -1).all()
        out[batch] = squares
    np.testing.assert_array_equal(out, items**2)


def test_no_forking_where_it_is_not_safe_or_not_wanted(forking, monkeypatch):
    items, cost = np.arange(100), np.ones(100)
    assert parallel.map_by_cost_forked(squares_and_pid, items, cost, threads=1) is None
    with parallel.one_thread():
        assert parallel.map_by_cost_forked(squares_and_pid, items, cost, threads=2) is None
    monkeypatch.setenv("GEOZONES_FORK", "0")
    assert parallel.map_by_cost_forked(squares_and_pid, items, cost, threads=2) is None
    monkeypatch.delenv("GEOZONES_FORK")
    monkeypatch.setattr(parallel.threading, "active_count", ACTIVE_COUNT)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert parallel.map_by_cost_forked(squares_and_pid, items, cost, threads=2) is None
    finally:
        stop.set()
        other.join()
    monkeypatch.setattr(parallel, "FORK_FROM_COST", 1_000)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    assert parallel.map_by_cost_forked(squares_and_pid, items, cost, threads=2) is None


def dies_on_seven(batch: np.ndarray) -> np.ndarray:
    if 7 in batch:
        os._exit(1)
    return batch


def test_a_worker_that_dies_gives_none_and_says_so(forking, caplog):
    with caplog.at_level(logging.WARNING, logger="geozones.parallel"):
        found = parallel.map_by_cost_forked(dies_on_seven, np.arange(40), np.ones(40), threads=2)
    assert found is None
    assert "died" in caplog.text


def test_no_forking_from_another_thread_than_the_main_one(forking):
    found = []
    worker = threading.Thread(
        target=lambda: found.append(
            parallel.map_by_cost_forked(squares_and_pid, np.arange(10), np.ones(10), threads=2)
        )
    )
    worker.start()
    worker.join()
    assert found == [None]


class Cycle:
    """An object in a reference cycle with itself: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector_on():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_no_collection_runs_in_a_paused_block_and_the_collector_is_back_after(collector_on):
    with parallel.collector_paused():
        assert not gc.isenabled()
        before = [generation["collections"] for generation in gc.get_stats()]
        geoms = shapely.points(np.arange(20_000.0), 0.0).tolist()  # tracked objects
        after = [generation["collections"] for generation in gc.get_stats()]
    assert after == before
    assert gc.isenabled()
    assert len(geoms) == 20_000


def test_nested_blocks_and_errors_restore_the_collector(collector_on):
    with pytest.raises(ZeroDivisionError), parallel.collector_paused():
        with parallel.collector_paused():
            pass
        assert not gc.isenabled()  # the outer block still runs
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with parallel.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


def test_a_block_ending_beside_another_frees_its_cycles(collector_on):
    other_started, block_ended = threading.Event(), threading.Event()

    def other_block() -> None:
        with parallel.collector_paused():
            other_started.set()
            block_ended.wait(10)

    other = threading.Thread(target=other_block)
    other.start()
    other_started.wait(10)
    with parallel.collector_paused():
        cycle = weakref.ref(Cycle())
    alive_after_block = cycle() is not None
    still_paused = not gc.isenabled()
    block_ended.set()
    other.join()
    assert still_paused and not alive_after_block
    assert gc.isenabled()


def test_the_conflict_functions_run_with_the_collector_paused(collector_on, monkeypatch):
    from geozones.analysis import conflicts

    seen = []
    classified = conflicts.classified_overlaps

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return classified(*args, **kwargs)

    monkeypatch.setattr(conflicts, "classified_overlaps", spy)
    farmland = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)], crs=4547)
    redline = gpd.GeoDataFrame(geometry=[shapely.box(5, 5, 20, 20)], crs=4547)
    conflicts.find_conflicts({"farmland": farmland, "redline": redline})
    assert seen and not any(seen)
    assert gc.isenabled()


class Recorder:
    """Tasks that sleep a little and record when they ran, in which thread, beside what."""

    def __init__(self, uses, seconds=None):
        self.uses = uses
        self.seconds = seconds
        self.lock = threading.Lock()
        self.running: set[int] = set()
        self.beside: list[tuple[int, int]] = []
        self.thread: dict[int, str] = {}

    def __call__(self, task: int) -> int:
        with self.lock:
            self.beside.extend((task, other) for other in self.running)
            self.running.add(task)
            self.thread[task] = threading.current_thread().name
        time.sleep(0.002 * (1 + task % 3) if self.seconds is None else self.seconds[task])
        with self.lock:
            self.running.discard(task)
        return task * 10


@pytest.mark.parametrize("seed", range(6))
def test_tasks_apart_run_two_at_once_never_beside_one_they_share_a_use_with(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(2, 14))
    uses = [
        set(rng.choice(5, size=int(rng.integers(1, 3)), replace=False).tolist())
        for _ in range(count)
    ]
    recorder = Recorder(uses)
    finished = []
    results = parallel.map_apart(
        recorder,
        list(range(count)),
        uses=uses,
        cost=rng.uniform(0, 1, count).tolist(),
        threads=2,
        done=lambda: finished.append(threading.current_thread().name),
    )
    assert results == [task * 10 for task in range(count)]
    assert len(finished) == count and set(finished) == {threading.current_thread().name}
    for task, other in recorder.beside:
        assert not uses[task] & uses[other], (task, other)
    assert all(thread.name != "geozones-map-apart" for thread in threading.enumerate())


def test_the_costliest_task_runs_in_the_calling_thread_the_cheap_ones_beside_it():
    # Task 0 (costliest) uses "a"; 1 and 2 use nothing of it; 3 shares "a".
    # Task 0 lasts until 1 and 2 are done (or 10 s): they can only have run beside it.
    uses = [{"a"}, {"b"}, {"c"}, {"a", "b"}]
    cheap_done = [threading.Event(), threading.Event()]
    recorder = Recorder(uses, seconds=[0, 0.01, 0.01, 0.01])

    def task(position: int) -> int:
        if position == 0:
            for event in cheap_done:
                event.wait(10)
        result = recorder(position)
        if position in (1, 2):
            cheap_done[position - 1].set()
        return result

    parallel.map_apart(task, [0, 1, 2, 3], uses=uses, cost=[9, 1, 1, 5], threads=2)
    assert all(event.is_set() for event in cheap_done)
    assert recorder.thread[0] == threading.current_thread().name
    assert recorder.thread[1] == recorder.thread[2] == "geozones-map-apart"


def test_one_thread_runs_the_tasks_in_turn_in_the_calling_thread():
    uses = [set(), set(), set()]
    recorder = Recorder(uses)
    assert parallel.map_apart(recorder, [0, 1, 2], uses=uses, threads=1) == [0, 10, 20]
    assert set(recorder.thread.values()) == {threading.current_thread().name}
    assert recorder.beside == []


@pytest.mark.parametrize("failing", [0, 3])  # the calling thread's task, the helper's
def test_an_error_in_either_thread_reaches_the_caller_and_no_thread_is_left(failing):
    def task(position: int) -> int:
        time.sleep(0.01)
        if position == failing:
            raise ValueError(f"task {position}")
        return position

    with pytest.raises(ValueError, match=f"task {failing}"):
        parallel.map_apart(
            task, [0, 1, 2, 3], uses=[{"a"}, {"a"}, {"a"}, {"b"}], cost=[4, 3, 2, 1], threads=2
        )
    assert all(thread.name != "geozones-map-apart" for thread in threading.enumerate())


def test_uses_and_cost_need_one_entry_per_task():
    with pytest.raises(ValueError, match="one entry per task"):
        parallel.map_apart(str, [1, 2], uses=[{1}])

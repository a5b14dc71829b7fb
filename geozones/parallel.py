"""Run vectorized work on blocks of an array in threads (or forked processes).

shapely's vectorized functions and numpy's arithmetic release the GIL, so threads give real
parallelism on blocks of features without the cost of pickling geometries to processes. Work
made of many small calls per item holds the GIL most of its time: :func:`map_by_cost_forked`
runs it in processes forked from this one, where that is safe. :func:`collector_paused`
keeps Python's cycle collector from walking every geometry while the work makes many.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
import shapely

from geozones.errors import GeozonesError

T = TypeVar("T")

logger = logging.getLogger(__name__)

#: Below this many items the work is done in the calling thread.
MIN_BLOCK = 50_000


#: Per thread: a limit set by :func:`one_thread` (the thread is one of several zone workers).
_LIMIT = threading.local()


def worker_count(threads: int | None = None) -> int:
    """Threads: `threads`, else 1 in :func:`one_thread`, else ``GEOZONES_THREADS``, else CPUs."""
    if threads is not None:
        if int(threads) < 1:
            raise GeozonesError(f"threads must be 1 or more, not {threads}; omit it for all CPUs")
        return int(threads)
    if getattr(_LIMIT, "one", False):
        return 1
    configured = os.environ.get("GEOZONES_THREADS")
    if configured:
        return max(1, int(configured))
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )


@contextmanager
def one_thread() -> Iterator[None]:
    """Within the block, work started from this thread uses this thread alone.

    For a thread that is one of several zone workers, which fill the CPUs between them. Only
    this thread is affected, and nothing in the environment changes.

    Examples
    --------
    >>> with one_thread():
    ...     worker_count()
    1
    """
    before = getattr(_LIMIT, "one", False)
    _LIMIT.one = True
    try:
        yield
    finally:
        _LIMIT.one = before


_PAUSES_LOCK = threading.Lock()
#: How many blocks of :func:`collector_paused` are running, and whether the collector was on
#: before the first.
_PAUSES = {"running": 0, "was_enabled": False}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Within the block, Python's cycle collector does not run; as before afterwards.

    Every shapely geometry is an object the collector tracks: work that makes hundreds of
    thousands of them (pieces, faces) triggers thousands of collections, and each of the
    oldest generation walks every geometry alive, the layers' included. On the medium
    tessellated benchmark layers that was a tenth to a fifth of ``resolve_conflicts``, and
    more than half of ``geopandas.read_parquet``'s time beside loaded layers
    (docs/performance.md). The work makes few reference cycles; those it makes are
    collected once the collector is back on. Nested and concurrent blocks keep it off until
    the last ends, and a block that ends while others run collects the youngest generation
    (all made since the collector stopped), so that a long run of concurrent blocks (a
    streamed run's counties) does not keep its cycles to the end. A collector the caller
    turned off stays off. Usable as a decorator.

    Examples
    --------
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    with _PAUSES_LOCK:
        if _PAUSES["running"] == 0:
            _PAUSES["was_enabled"] = gc.isenabled()
            gc.disable()
        _PAUSES["running"] += 1
    try:
        yield
    finally:
        with _PAUSES_LOCK:
            _PAUSES["running"] -= 1
            others = _PAUSES["running"] > 0
            if _PAUSES["was_enabled"] and not others:
                gc.enable()
            collect = others and _PAUSES["was_enabled"]
        if collect:
            gc.collect(0)


def map_blocks(func: Callable[[np.ndarray], T], items: np.ndarray) -> list[T]:
    """Apply `func` to consecutive blocks of `items`, in threads, results in block order.

    Parameters
    ----------
    func : callable
        Takes a block (a slice of `items`) and returns anything.
    items : numpy.ndarray
        The items, split along the first axis.

    Returns
    -------
    list
        ``func(block)`` for each block, in order.

    Examples
    --------
    >>> import numpy as np
    >>> [len(block) for block in map_blocks(lambda block: block, np.arange(10))]
    [10]
    """
    workers = worker_count()
    blocks = max(1, min(4 * workers, len(items) // MIN_BLOCK))
    if blocks == 1:
        return [func(items)]
    edges = np.linspace(0, len(items), blocks + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, (items[a:b] for a, b in pairwise(edges))))


def concatenate_blocks(func: Callable[[np.ndarray], np.ndarray], items: np.ndarray) -> np.ndarray:
    """Like :func:`map_blocks` for a func that returns one array per block; concatenated.

    Parameters
    ----------
    func : callable
        Takes a block and returns an array as long as the block.
    items : numpy.ndarray
        The items.

    Returns
    -------
    numpy.ndarray
        The results of all blocks, concatenated.

    Examples
    --------
    >>> import numpy as np
    >>> concatenate_blocks(lambda block: block * 2, np.arange(4))
    array([0, 2, 4, 6])
    """
    return np.concatenate(map_blocks(func, items))


def chunk_cuts(starts: np.ndarray, total: int, chunk: int) -> np.ndarray:
    """Cut points between items so that each span holds about `chunk` units of data.

    Parameters
    ----------
    starts : numpy.ndarray
        Sorted offsets where each item's data start (a ring's first coordinate, say).
    total : int
        The size of all the data.
    chunk : int
        Units of data per span, roughly; an item is never split.

    Returns
    -------
    numpy.ndarray
        Increasing item indices from 0 to ``len(starts)``: span ``k`` is items
        ``cuts[k]:cuts[k + 1]``, for :func:`for_spans` over ``len(cuts) - 1`` spans.

    Examples
    --------
    >>> chunk_cuts(np.array([0, 3, 5, 9]), 12, 4).tolist()
    [0, 2, 3, 4]
    """
    return np.unique(
        np.concatenate([np.searchsorted(starts, np.arange(0, total, chunk)), [len(starts)]])
    )


def for_spans(
    func: Callable[[tuple[int, int]], None],
    length: int,
    *,
    step: int = 1,
    min_span: int = MIN_BLOCK * 4,
) -> None:
    """Call ``func((start, stop))`` on consecutive spans of ``range(length)``, in threads.

    Parameters
    ----------
    func : callable
        Takes a ``(start, stop)`` span and writes its results itself (into shared arrays).
    length : int
        The range to cover.
    step : int, default 1
        Span boundaries fall on multiples of `step`.
    min_span : int, default ``4 * MIN_BLOCK``
        No span is shorter than this (below it, the work is not worth a thread).

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros(6)
    >>> def fill(span):
    ...     out[span[0] : span[1]] = np.arange(*span)
    >>> for_spans(fill, 6)
    >>> out.tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    workers = worker_count()
    pieces = max(1, min(4 * workers, length // max(min_span, 1)))
    edges = np.linspace(0, length, pieces + 1).astype(int)
    edges[1:-1] = edges[1:-1] // step * step
    spans = [(int(a), int(b)) for a, b in pairwise(edges) if b > a]
    if len(spans) <= 1:
        for span in spans:
            func(span)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(func, spans))


#: Below this total cost (GEOS coordinates, say) the work is done in the calling thread.
MIN_COST = 20_000


#: Fewest geometries per block of :func:`query_pairs` (a query costs a microsecond or more).
MIN_QUERY_BLOCK = 1_000


def query_pairs(
    tree: shapely.STRtree,
    geoms: np.ndarray,
    *,
    predicate: str | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """``tree.query(geoms, predicate=predicate)``, with blocks of `geoms` in threads.

    The same pairs in the same order (by position in `geoms`). GEOS builds a tree at its
    first query, without a lock: that query is made here, in this thread, first. A polygon of
    `geoms` prepared already is used by a predicate as it is, and a prepared polygon used in
    two threads at once can crash (:func:`map_groups`): with a predicate and such polygons
    among `geoms`, one thread queries.

    Parameters
    ----------
    tree : shapely.STRtree
        The tree.
    geoms : numpy.ndarray of shapely geometries
        The geometries to query with.
    predicate : str, optional
        As for ``STRtree.query``.
    threads : int, optional
        Threads to use (:func:`worker_count`).

    Returns
    -------
    numpy.ndarray
        ``(2, n)`` positions: in `geoms`, in the tree.

    Examples
    --------
    >>> from shapely import box
    >>> tree = shapely.STRtree([box(0, 0, 1, 1), box(5, 5, 6, 6)])
    >>> query_pairs(tree, np.array([box(0.5, 0.5, 5.5, 5.5), box(9, 9, 10, 10)])).tolist()
    [[0, 0], [0, 1]]
    """
    geoms = np.asarray(geoms, dtype=object)
    workers = worker_count(threads)
    blocks = max(1, min(4 * workers, len(geoms) // MIN_QUERY_BLOCK))
    if blocks == 1 or workers == 1 or (predicate is not None and shapely.is_prepared(geoms).any()):
        return tree.query(geoms, predicate=predicate)
    tree.query(shapely.Point(0.0, 0.0))
    edges = np.linspace(0, len(geoms), blocks + 1).astype(int)
    spans = list(pairwise(edges))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(
            pool.map(lambda span: tree.query(geoms[span[0] : span[1]], predicate=predicate), spans)
        )
    for (start, _), part in zip(spans, parts, strict=True):
        part[0] += start
    return np.concatenate(parts, axis=1)


def map_by_cost(
    func: Callable[[np.ndarray], np.ndarray],
    items: np.ndarray,
    cost: np.ndarray,
    *,
    threads: int | None = None,
) -> np.ndarray:
    """``func`` on batches of `items` of about equal `cost`, costliest first, in threads.

    Vectorized GEOS calls release the GIL, but a block of features cut by count can hold one
    polygon of 100,000 vertices and leave the other threads idle. Here the items are sorted by
    cost, cut into batches of about equal cost (several per thread) and the costliest batch
    starts first, so that the threads finish together.

    Parameters
    ----------
    func : callable
        Takes a 1-d array of items and returns an array as long.
    items : numpy.ndarray
        The items (1-d).
    cost : numpy.ndarray
        Cost of each item (e.g. its number of coordinates), non-negative.
    threads : int, optional
        Threads to use (:func:`worker_count`).

    Returns
    -------
    numpy.ndarray
        ``func`` of each item, in the order of `items`.

    Examples
    --------
    >>> import numpy as np
    >>> map_by_cost(np.sqrt, np.array([4.0, 9.0, 16.0]), np.array([1, 50_000, 1])).tolist()
    [2.0, 3.0, 4.0]
    """
    workers = worker_count(threads)
    cost = np.asarray(cost, dtype=np.float64)
    total = float(cost.sum())
    if workers == 1 or len(items) < 2 or total < MIN_COST:
        return np.asarray(func(items))
    batches = _cost_batches(cost, 4 * workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda batch: np.asarray(func(items[batch])), batches))
    out = np.empty(len(items), dtype=results[0].dtype)
    for batch, result in zip(batches, results, strict=True):
        out[batch] = result
    return out


def _cost_batches(cost: np.ndarray, count: int) -> list[np.ndarray]:
    """Positions in about `count` batches of equal cost, costliest first.

    A single costly item makes a batch alone.
    """
    order = np.argsort(-cost, kind="stable")
    total = float(cost.sum())
    edges = np.searchsorted(np.cumsum(cost[order]), np.linspace(0, total, count + 1)[1:-1])
    return [batch for batch in np.split(order, np.unique(edges)) if len(batch)]


#: Work of less total cost than this is not worth forking processes for (about 20 ms each).
FORK_FROM_COST = 200_000
#: The work of the forked processes (set before they are forked, read in them).
_FORKED: dict[str, Callable[[np.ndarray], Any]] = {}


def may_fork() -> bool:
    """Whether worker processes may be forked from here.

    On Linux, from the main thread with no other Python thread running (a forked child
    holds only the thread that forked it: locks other threads held stay locked in it, so
    Jupyter kernels, QGIS's background tasks and callers' own threads are left alone),
    outside :func:`one_thread`, and unless the ``GEOZONES_FORK`` environment variable is
    ``0``.

    Returns
    -------
    bool
    """
    return (
        sys.platform.startswith("linux")
        and os.environ.get("GEOZONES_FORK", "1") != "0"
        and not getattr(_LIMIT, "one", False)
        and threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    )


def _run_forked(batch: np.ndarray) -> Any:
    with one_thread():
        return _FORKED["func"](batch)


def map_by_cost_forked(
    func: Callable[[np.ndarray], T],
    items: np.ndarray,
    cost: np.ndarray,
    *,
    threads: int | None = None,
) -> list[tuple[np.ndarray, T]] | None:
    """``func`` on batches of `items` of about equal `cost`, in forked worker processes.

    For work that holds the GIL most of its time (many small numpy and shapely calls per
    item), which threads cannot run at once. The processes are forked from this one, so
    they start in milliseconds with everything it holds; each runs one thread, and sends
    back what `func` returns (make it cheap to pickle: arrays, WKB). None, and nothing run,
    where forking is not worth it or not safe here (:func:`may_fork`): the caller then runs
    the work in threads. A process that dies (killed for memory, say) also gives None.

    Parameters
    ----------
    func : callable
        Takes a 1-d array of items and returns something picklable.
    items : numpy.ndarray
        The items (1-d).
    cost : numpy.ndarray
        Cost of each item, non-negative; below :data:`FORK_FROM_COST` in all, None.
    threads : int, optional
        Processes to use (:func:`worker_count`); 1 gives None.

    Returns
    -------
    list of (positions, result), or None
        Each batch's positions in `items` and ``func(items[positions])``.
    """
    workers = worker_count(threads)
    cost = np.asarray(cost, dtype=np.float64)
    if workers == 1 or len(items) < 2 or float(cost.sum()) < FORK_FROM_COST or not may_fork():
        return None
    batches = _cost_batches(cost, 8 * workers)
    _FORKED["func"] = lambda batch: func(items[batch])
    try:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(batches)), mp_context=multiprocessing.get_context("fork")
        ) as pool:
            results = list(pool.map(_run_forked, batches))
    except BrokenProcessPool:
        logger.warning("a worker process died; the work is done again in threads")
        return None
    finally:
        _FORKED.clear()
    return list(zip(batches, results, strict=True))


def map_groups(
    func: Callable[[np.ndarray], np.ndarray], groups: np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """``func`` on spans of positions, in threads, each group's positions in one span.

    For work that must not split a group over two threads (GEOS's prepared polygons build
    their indexes on first use without a lock: two threads using one at once crash).

    Parameters
    ----------
    func : callable
        Takes positions ``np.arange(start, stop)`` and returns an array as long.
    groups : numpy.ndarray
        Group of each position, sorted. Unsorted groups, one thread, or fewer than
        ``2 * MIN_BLOCK`` positions make one call.
    threads : int, optional
        Threads to use (:func:`worker_count`).

    Returns
    -------
    numpy.ndarray
        ``func`` of every position, in order.

    Examples
    --------
    >>> import numpy as np
    >>> map_groups(lambda k: k * 10, np.array([0, 0, 1, 2, 2])).tolist()
    [0, 10, 20, 30, 40]
    """
    workers = worker_count(threads)
    total = len(groups)
    if workers <= 1 or total < 2 * MIN_BLOCK or (np.diff(groups) < 0).any():
        return np.asarray(func(np.arange(total)))
    group_start = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    cuts = chunk_cuts(group_start, total, max(total // (4 * workers), 1))
    bounds = np.r_[group_start, total][cuts]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(
            lambda k: np.asarray(func(np.arange(bounds[k], bounds[k + 1]))), range(len(cuts) - 1)
        )
        return np.concatenate(list(parts))


def map_apart(
    func: Callable[[T], Any],
    tasks: Sequence[T],
    *,
    uses: Sequence[Collection[Hashable]],
    cost: Sequence[float] | None = None,
    threads: int | None = None,
    done: Callable[[], None] | None = None,
) -> list[Any]:
    """``func`` of each task, two at once where they use nothing in common.

    For calls whose serial parts (reading coordinates, numpy's bookkeeping) leave a core idle:
    a second call fills it. Tasks that share something in `uses` (a layer, whose polygons a
    call may prepare: two threads using one prepared polygon at once crash) never run at once.
    The calling thread takes the costliest task it may, a helper thread the cheapest: the
    large tasks' memory is allocated in one thread, as when they run in turn (memory freed by
    one thread's task is not reused by another thread's, in glibc's per-thread arenas: two
    threads taking tasks alike took the peak of ``bench_hard.py``'s medium 90 % tessellated
    setting from 1.31 to 1.47-1.53 times the layers).

    Parameters
    ----------
    func : callable
        Called with each task.
    tasks : sequence
        The tasks.
    uses : sequence of collections
        Per task, what it uses.
    cost : sequence of float, optional
        Per task, its expected cost; the order of `tasks` (costliest first) when omitted.
    threads : int, optional
        One thread (:func:`worker_count`) runs the tasks in turn in the calling thread.
    done : callable, optional
        Called after each task, in the calling thread (a progress bar's update).

    Returns
    -------
    list
        ``func`` of each task, in the order of `tasks`.

    Examples
    --------
    >>> map_apart(lambda pair: "+".join(pair), [("a", "b"), ("c", "d"), ("a", "c")],
    ...           uses=[{"a", "b"}, {"c", "d"}, {"a", "c"}])
    ['a+b', 'c+d', 'a+c']
    """
    if len(uses) != len(tasks) or (cost is not None and len(cost) != len(tasks)):
        raise ValueError("uses and cost need one entry per task")
    results: list[Any] = [None] * len(tasks)
    if worker_count(threads) <= 1 or len(tasks) <= 1:
        for position, task in enumerate(tasks):
            results[position] = func(task)
            if done is not None:
                done()
        return results
    pending = list(range(len(tasks)))
    if cost is not None:
        pending.sort(key=lambda position: -cost[position])
    changed = threading.Condition()
    current: dict[str, int | None] = {"main": None, "helper": None}
    helper_done: list[int] = []
    failure: list[BaseException] = []

    def next_task(me: str, other: str, *, cheapest: bool) -> int | None:
        """The next task `me` may run beside `other`'s (waiting for one), None when all ran."""
        with changed:
            while pending and not failure:
                running = current[other]
                busy = set() if running is None else set(uses[running])
                for position in reversed(pending) if cheapest else list(pending):
                    if busy.isdisjoint(uses[position]):
                        pending.remove(position)
                        current[me] = position
                        return position
                changed.wait()
            return None

    def finished(me: str, position: int, error: BaseException | None = None) -> None:
        with changed:
            current[me] = None
            if error is not None:
                failure.append(error)
            elif me == "helper":
                helper_done.append(position)
            changed.notify_all()

    def report(own: int) -> None:
        if done is None:
            return
        with changed:
            count = len(helper_done) + own
            helper_done.clear()
        for _ in range(count):
            done()

    def helper() -> None:
        while (position := next_task("helper", "main", cheapest=True)) is not None:
            try:
                results[position] = func(tasks[position])
            except BaseException as error:  # raised in the calling thread
                finished("helper", position, error)
                return
            finished("helper", position)

    thread = threading.Thread(target=helper, name="geozones-map-apart", daemon=True)
    thread.start()
    try:
        while (mine := next_task("main", "helper", cheapest=False)) is not None:
            try:
                results[mine] = func(tasks[mine])
            except BaseException as error:
                finished("main", mine, error)  # stops the helper after its task
                raise
            finished("main", mine)
            report(1)
    finally:
        thread.join()
    if failure:
        raise failure[0]
    report(0)
    return results

"""Run one task per zone: in this process, in local worker processes, or on a Dask cluster.

With ``workers=N``, this process and ``N - 1`` worker processes each take the next zone when
free. The worker processes come from :func:`loky.get_reusable_executor`: started by the first
run, kept for the next ones, shut down after :data:`IDLE_TIMEOUT` seconds without work, and
started afresh after a worker died. Each worker ignores Ctrl-C (the run that started it
handles it and stops the workers), uses one thread, and ends as soon as the process that
started it ends, even by SIGKILL. When the processes fill the CPUs, each has a CPU of its own
(:data:`PIN_CPUS`). Nothing in this process's environment changes.

Every task runs under :func:`record_warnings`: the warnings it raises travel back with its
result, and :func:`reraise_warnings` raises them in the caller, in zone order, each naming its
zones. Nothing said in a worker is lost.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import signal
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from geozones.parallel import one_thread

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a local worker process waits for work before it ends; the next run starts another.
IDLE_TIMEOUT = 300

#: Zones named in full in a warning summarised over many zones; the others are counted.
ZONES_NAMED = 10

#: Give each process a CPU of its own when the processes of a run fill the CPUs this process
#: may use: unpinned, two processes on two CPUs ran their zones 15-25 % slower than pinned
#: (``benchmarks/bench_scale.py``, ``local-2`` against ``local-2+pin``; docs/performance.md).
PIN_CPUS = True


@dataclass(frozen=True)
class ZoneWarning:
    """A warning raised while a zone's task ran, as it travels back to the caller.

    Attributes
    ----------
    category : type of Warning
        The warning's class (e.g. :class:`~geozones.errors.GeometryRepairWarning`).
    message : str
        Its text.
    """

    category: type[Warning]
    message: str


@dataclass
class ZoneResult:
    """What a zone's task returned, and the warnings it raised on the way.

    Attributes
    ----------
    value : object
        The task's return value.
    warnings : list of ZoneWarning
        The warnings, in the order they were raised.
    """

    value: Any
    warnings: list[ZoneWarning] = field(default_factory=list)


def record_warnings(
    task: Callable[[Any, str], Any], payload: Any, zone: str, *, ignore: tuple[type[Warning], ...]
) -> ZoneResult:
    """Run ``task(payload, zone)`` and keep every warning it raises with its result.

    Parameters
    ----------
    task : callable
        The zone's task.
    payload : object
        Its first argument (the partitioned dataset).
    zone : str
        The zone's code, its second argument.
    ignore : tuple of Warning classes
        Categories the caller accounts for itself, not recorded.

    Returns
    -------
    ZoneResult
        The task's value and its warnings.

    Examples
    --------
    >>> import warnings
    >>> def task(payload, zone):
    ...     warnings.warn(f"{payload} in {zone}", RuntimeWarning)
    ...     return 42
    >>> result = record_warnings(task, "odd", "990102", ignore=())
    >>> result.value, result.warnings
    (42, [ZoneWarning(category=<class 'RuntimeWarning'>, message='odd in 990102')])
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category in ignore:
            warnings.filterwarnings("ignore", category=category)
        value = task(payload, zone)
    return ZoneResult(value, [ZoneWarning(w.category, str(w.message)) for w in caught])


def reraise_warnings(
    per_zone: Sequence[tuple[str, Sequence[ZoneWarning]]], *, stacklevel: int = 2
) -> None:
    """Raise the warnings of each zone in the caller, in zone order, each naming its zones.

    The same warning (same class, same text) from several zones is raised once, naming the
    zones and counting them (``in 3 zones (990102, 990121, 990122): ...``), where the first of
    those zones had it.

    Parameters
    ----------
    per_zone : sequence of (str, sequence of ZoneWarning)
        Each zone's code and its warnings, in zone order.
    stacklevel : int, default 2
        As for :func:`warnings.warn`, counted from the caller of this function.

    Examples
    --------
    >>> import warnings
    >>> found = [ZoneWarning(UserWarning, "2 polygons repaired")]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     reraise_warnings([("990102", found), ("990121", []), ("990122", found)])
    >>> [str(w.message) for w in caught]
    ['in 2 zones (990102, 990122): 2 polygons repaired']
    """
    zones_of: dict[tuple[type[Warning], str], list[str]] = {}
    for zone, found in per_zone:
        for warning in found:
            zones = zones_of.setdefault((warning.category, warning.message), [])
            if zone not in zones:
                zones.append(zone)
    for (category, message), zones in zones_of.items():
        warnings.warn(f"{_zones_phrase(zones)}: {message}", category, stacklevel=stacklevel + 1)


def _zones_phrase(zones: list[str]) -> str:
    if len(zones) == 1:
        return f"zone {zones[0]}"
    named = ", ".join(zones[:ZONES_NAMED])
    more = f" and {len(zones) - ZONES_NAMED} more" if len(zones) > ZONES_NAMED else ""
    return f"in {len(zones)} zones ({named}{more})"


def run_zones(
    task: Callable[[Any, str], T],
    payload: Any,
    zones: Sequence[str],
    *,
    workers: int,
    client: Any = None,
    ignore: tuple[type[Warning], ...] = (),
) -> Iterator[tuple[str, ZoneResult | BaseException]]:
    """Run ``task(payload, zone)`` for every zone; yield each zone's outcome as it finishes.

    Parameters
    ----------
    task : callable
        A picklable function of the payload and a zone code.
    payload : object
        A picklable first argument, sent to every worker (a partitioned dataset: its
        description, never geometries).
    zones : sequence of str
        The zones, in the order to start them.
    workers : int
        Local processes, this one included; 1 runs the zones one after the other in this
        process.
    client : dask.distributed.Client, optional
        Run each zone as one task on this cluster instead.
    ignore : tuple of Warning classes
        Warning categories not recorded (see :func:`record_warnings`).

    Yields
    ------
    (str, ZoneResult or BaseException)
        A zone and its result, or the error it raised: a failed zone does not stop the others.

    Examples
    --------
    >>> def task(payload, zone):
    ...     return payload * int(zone)
    >>> {zone: result.value for zone, result in run_zones(task, 2, ["1", "2"], workers=1)}
    {'1': 2, '2': 4}
    """
    recorded = partial(record_warnings, task, ignore=ignore)
    if client is not None:
        yield from _on_dask(recorded, payload, zones, client)
    elif workers <= 1 or len(zones) <= 1:
        for zone in zones:
            logger.debug("zone %s: started in this process", zone)
            try:
                outcome: ZoneResult | BaseException = recorded(payload, zone)
            except Exception as failure:  # reported with the zone's name, after the others
                outcome = failure
            yield zone, outcome
    else:
        yield from _in_processes(recorded, payload, zones, min(workers, len(zones)))


def local_executor(workers: int) -> Any:
    """The local worker processes: `workers` of them, kept for the next run.

    A run with ``workers=N`` uses ``local_executor(N - 1)`` beside this process.

    Parameters
    ----------
    workers : int
        Processes.

    Returns
    -------
    loky.ProcessPoolExecutor
        The reusable executor of :func:`loky.get_reusable_executor`, resized to `workers`; a
        new one when the last one broke (a worker died).
    """
    from loky import get_reusable_executor

    return get_reusable_executor(
        max_workers=workers,
        timeout=IDLE_TIMEOUT,
        initializer=start_worker,
        initargs=(os.getpid(),),
        env={"GEOZONES_THREADS": "1"},  # each worker one thread: the workers fill the CPUs
    )


def start_worker(run: int) -> None:
    """Initialise a local worker process: end it when process `run` (its parent) ends.

    Parameters
    ----------
    run : int
        The process id of the run that started the worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_die_with, args=(run,), name="geozones-watchdog", daemon=True).start()


def _die_with(run: int) -> None:
    """End this worker process as soon as the run that started it ends, even by SIGKILL.

    The run's process is watched through a pidfd where Linux has them (readable when the
    process ends), else by polling it twice a second.
    """
    try:
        watched = os.pidfd_open(run)
    except (AttributeError, OSError):  # not Linux 5.3+, or the run is already gone
        watched = None
    if watched is not None:
        select.select([watched], [], [])
        os._exit(1)
    while True:
        time.sleep(0.5)
        try:
            os.kill(run, 0)
            with open(f"/proc/{run}/stat", "rb") as stat:  # a zombie has ended too
                if stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    os._exit(1)
        except ProcessLookupError:
            os._exit(1)
        except OSError:  # no /proc: the signal test alone
            continue


def _in_processes(
    recorded: Callable[[Any, str], ZoneResult],
    payload: Any,
    zones: Sequence[str],
    count: int,
) -> Iterator[tuple[str, ZoneResult | BaseException]]:
    """Run the zones in this process and ``count - 1`` worker processes, as each is free.

    This process is one of the workers: it is warm (geozones imported, kernels loaded) and
    starts at once, while the worker processes start (on the first run only). A worker that
    dies (killed, out of memory) fails every zone in the workers' hands; those zones run again,
    one at a time in a new worker, so that only the zone that kills a worker by itself fails.
    """
    executor = _executor(count - 1)
    allowed = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cpus = _cpus_to_pin(count)
    free_cpus = cpus[1:]  # one per worker process; the first is this process's zone thread
    lock = threading.Lock()
    todo = list(reversed(zones))  # popped from the end: in the order given
    suspects: list[str] = []  # in a worker when one died: each runs again, alone
    retried: set[str] = set()
    stopped = threading.Event()
    finished: queue.SimpleQueue[tuple[str, Future[ZoneResult], bool]] = queue.SimpleQueue()
    in_workers = 0

    def here() -> None:
        if cpus:
            with suppress(OSError):  # this thread only
                os.sched_setaffinity(threading.get_native_id(), {cpus[0]})
        with one_thread():  # the worker processes take the other CPUs
            while True:
                with lock:
                    if stopped.is_set() or not todo:
                        return
                    zone = todo.pop()
                logger.debug("zone %s: started in this process", zone)
                done: Future[ZoneResult] = Future()
                try:
                    done.set_result(recorded(payload, zone))
                except Exception as failure:
                    done.set_exception(failure)
                finished.put((zone, done, False))

    def submit(zone: str) -> None:
        nonlocal executor, in_workers
        in_workers += 1
        if executor._flags.broken is not None:
            executor = _executor(count - 1)
        with lock:
            cpu = free_cpus.pop() if free_cpus else None
        # a worker kept from a pinned run is unpinned again, to the CPUs this process may use
        on = frozenset([cpu]) if cpu is not None else allowed
        try:
            with _signals_deferred():
                future = executor.submit(run_on_cpus, on, recorded, payload, zone)
        except Exception as failure:  # the executor broke meanwhile: the zone failed
            future = Future()
            future.set_exception(failure)

        def done(future: Future[ZoneResult]) -> None:
            if cpu is not None:
                with lock:
                    free_cpus.append(cpu)
            finished.put((zone, future, True))

        future.add_done_callback(done)
        logger.debug("zone %s: sent to a worker process", zone)

    def fill() -> None:
        with lock:
            if suspects:
                chosen = [suspects.pop(0)] if in_workers == 0 else []
            else:
                chosen = [todo.pop() for _ in range(min(len(todo), count - 1 - in_workers))]
        for zone in chosen:
            submit(zone)

    # this process starts first: the first submit waits for a worker process to be spawned
    local = threading.Thread(target=here, name="geozones-zones", daemon=True)
    local.start()
    fill()
    outstanding = len(zones)
    completed = False
    interrupted = False
    try:
        while outstanding:
            zone, done, in_worker = finished.get()
            error = done.exception()
            if in_worker:
                in_workers -= 1
            if in_worker and isinstance(error, BrokenProcessPool) and zone not in retried:
                logger.info("zone %s: a worker process died; the zone runs again", zone)
                retried.add(zone)
                with lock:
                    suspects.append(zone)
            else:
                outstanding -= 1
                yield zone, error if error is not None else done.result()
            fill()
        completed = True
    except (KeyboardInterrupt, SystemExit):
        interrupted = True
        raise
    finally:
        stopped.set()  # no new zone starts
        if not completed:
            # failed, abandoned or interrupted (Ctrl-C, SIGTERM): the workers stop now, not
            # after their zones; the next run starts new ones.
            with suppress(Exception):
                executor.shutdown(wait=False, kill_workers=True)
        if not interrupted:
            # This process's zone thread finishes its zone first: left running, it would
            # leave the warnings module's state (process-wide, not thread-safe) to be
            # restored under a later caller. Only an interrupted run, which ends the
            # process, leaves it.
            local.join()


def run_on_cpus(
    cpus: frozenset[int] | None,
    recorded: Callable[[Any, str], ZoneResult],
    payload: Any,
    zone: str,
) -> ZoneResult:
    """Run one zone in a worker process, on the CPUs `cpus` (all it may use if None).

    Parameters
    ----------
    cpus : frozenset of int or None
        The CPUs: one that no other process of the run uses while this zone runs, or all
        those the run may use.
    recorded : callable
        The zone's task, recording its warnings (:func:`record_warnings`).
    payload : object
        Its first argument.
    zone : str
        The zone's code.

    Returns
    -------
    ZoneResult
        What `recorded` returns.
    """
    if cpus is not None:
        with suppress(OSError):  # a CPU was taken away since (a cgroup change): left as is
            os.sched_setaffinity(0, cpus)
    return recorded(payload, zone)


def _cpus_to_pin(count: int) -> list[int]:
    """The CPUs of `count` processes, one each, if they fill the CPUs allowed; else none."""
    if not PIN_CPUS or not hasattr(os, "sched_getaffinity"):
        return []
    allowed = sorted(os.sched_getaffinity(0))
    return allowed if len(allowed) == count else []


def _executor(count: int) -> Any:
    with _signals_deferred():  # a worker is never left half-started
        return local_executor(count)


def _on_dask(
    recorded: Callable[[Any, str], ZoneResult], payload: Any, zones: Sequence[str], client: Any
) -> Iterator[tuple[str, ZoneResult | BaseException]]:
    from distributed import as_completed as dask_as_completed

    token = uuid.uuid4().hex[:8]
    futures = {
        client.submit(recorded, payload, zone, key=f"geozones-{zone}-{token}", pure=False): zone
        for zone in zones
    }
    for future in dask_as_completed(futures):
        error = future.exception()
        outcome = error if error is not None else future.result()
        zone = futures.pop(future)
        future.release()  # the worker may drop the result now that it is here
        yield zone, outcome


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM back until the block is done, then deliver it; ignore Ctrl-C meanwhile.

    Starting a worker process is a handshake; interrupted half-way, the worker would start
    with half its state. Ctrl-C is ignored while the block runs (a few milliseconds: the
    worker is forked and handed its start-up data), so that a worker started here inherits
    the ignored signal: a Ctrl-C in a terminal goes to every process of the foreground group,
    and would otherwise print a ``KeyboardInterrupt`` traceback from a worker still importing
    its modules. A Ctrl-C within those milliseconds is lost. Outside the main thread (where
    signals cannot be handled) the block just runs.
    """
    received: list[int] = []

    def defer(signum: int, frame: object) -> None:
        received.append(signum)

    try:
        previous = {
            signal.SIGTERM: signal.signal(signal.SIGTERM, defer),
            signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        }
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: set outside Python, left as it is
                signal.signal(sig, handler)
        for signum in received:
            signal.raise_signal(signum)

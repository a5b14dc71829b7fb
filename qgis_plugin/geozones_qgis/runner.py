"""Run the ``geozones`` command out of QGIS's process, feeding its progress to a feedback object.

The plugin never imports geozones: it runs the command line of a configured environment, so
QGIS's own Python and libraries stay untouched and geozones brings its own (shapely 2, pyproj,
GDAL wheels). This module has no QGIS import: `feedback` is anything with the methods of
``QgsProcessingFeedback`` used here, which keeps it testable without QGIS.

The command runs as ``geozones --progress-json SUBCOMMAND … --json``: stdout holds one JSON
document, stderr one JSON object per progress step and one line per warning or error.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Environment variable naming the geozones executable when the Processing setting is empty.
EXECUTABLE_VARIABLE = "GEOZONES_EXE"
#: Variables QGIS sets for its own Python, GDAL and PROJ: another Python or another PROJ
#: (pyproj's wheels bring their own database) breaks when it inherits them.
FOREIGN_VARIABLES = (
    "PYTHONHOME",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONEXECUTABLE",
    "PROJ_LIB",
    "PROJ_DATA",
    "GDAL_DATA",
    "GDAL_DRIVER_PATH",
    "GDAL_PLUGINS",
    "GEOTIFF_CSV",
    "QT_PLUGIN_PATH",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)
#: Seconds between two looks at the process and at the cancel button.
POLL_SECONDS = 0.1
#: Seconds a cancelled process gets to end after SIGTERM before it is killed.
GRACE_SECONDS = 5.0


class GeozonesNotFound(RuntimeError):
    """No geozones executable: neither the setting, nor $GEOZONES_EXE, nor PATH names one."""


class GeozonesFailed(RuntimeError):
    """The command ended with an error: the message is geozones' own one-line message."""

    def __init__(self, message: str, *, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


class GeozonesCanceled(RuntimeError):
    """The user cancelled: the process and its children were ended."""


@dataclass
class Outcome:
    """What a finished run returned.

    Attributes
    ----------
    returncode : int
        The exit status.
    result : object
        The JSON document printed on stdout (None when stdout was empty).
    warnings : list of str
        The ``warning:`` lines of stderr, without the prefix.
    errors : list of str
        The ``Error:`` lines of stderr, without the prefix.
    """

    returncode: int
    result: Any
    warnings: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def executable_command(configured: str | None = None, environ: Mapping[str, str] | None = None):
    """The command that starts geozones, as a list: ``[path]`` or ``[python, "-m", "geozones"]``.

    Parameters
    ----------
    configured : str, optional
        The Processing setting "geozones executable": a ``geozones`` executable, or a Python
        interpreter that has geozones installed (then run as ``python -m geozones``).
    environ : mapping, optional
        The environment to read ``GEOZONES_EXE`` and ``PATH`` from (default: ``os.environ``).

    Returns
    -------
    list of str
        The program and its first arguments.

    Raises
    ------
    GeozonesNotFound
        Nothing found; the message says the three ways to name it.
    """
    environ = os.environ if environ is None else environ
    tried = []
    for origin, value in (
        ("the Processing setting", configured),
        (f"${EXECUTABLE_VARIABLE}", environ.get(EXECUTABLE_VARIABLE)),
    ):
        value = (value or "").strip().strip('"')
        if not value:
            continue
        path = Path(value).expanduser()
        if path.is_file() and os.access(str(path), os.X_OK):
            return _as_command(path)
        tried.append(f"{origin} names {value}, which is not an executable file")
    found = shutil.which("geozones", path=environ.get("PATH"))
    if found:
        return _as_command(Path(found))
    tried.append("no geozones on PATH")
    raise GeozonesNotFound(
        "geozones was not found ("
        + "; ".join(tried)
        + "). Install geozones in its own Python environment (see docs/qgis.md), then set "
        "Settings > Options > Processing > Providers > geozones > geozones executable to its "
        f"geozones program (or its python), or set ${EXECUTABLE_VARIABLE}."
    )


def _as_command(path: Path) -> list:
    name = path.name.lower()
    if name.startswith("python") and not name.startswith("pythonw"):
        return [str(path), "-m", "geozones"]
    return [str(path)]


def child_environment(environ: Mapping[str, str] | None = None) -> dict:
    """The environment geozones runs in: QGIS's own Python and PROJ settings left out, UTF-8 on.

    Parameters
    ----------
    environ : mapping, optional
        The environment to start from (default: ``os.environ``).

    Returns
    -------
    dict
        A copy without :data:`FOREIGN_VARIABLES`, with ``PYTHONUTF8=1`` and
        ``PYTHONIOENCODING=utf-8`` (Chinese text on Windows consoles).
    """
    environ = os.environ if environ is None else environ
    result = {key: value for key, value in environ.items() if key not in FOREIGN_VARIABLES}
    result["PYTHONUTF8"] = "1"
    result["PYTHONIOENCODING"] = "utf-8"
    return result


def run_geozones(
    arguments: Sequence[str],
    feedback: Any,
    *,
    configured: str | None = None,
    accept: Iterable[int] = (0,),
    environ: Mapping[str, str] | None = None,
    progress_span: tuple = (0.0, 100.0),
) -> Outcome:
    """Run ``geozones --progress-json ARGUMENTS`` and report to `feedback` as it goes.

    Parameters
    ----------
    arguments : sequence of str
        The subcommand and its arguments (``["area", path, "-o", out, "--json"]``).
    feedback : QgsProcessingFeedback or alike
        Receives ``setProgress``, ``setProgressText``, ``pushInfo``, ``pushWarning`` (when it
        has it) and ``pushCommandInfo``; ``isCanceled()`` is polled.
    configured : str, optional
        The Processing setting "geozones executable" (see :func:`executable_command`).
    accept : iterable of int, default (0,)
        Exit statuses that are not an error (``check`` exits 2 when it refuses a file).
    environ : mapping, optional
        The environment to start from (default: ``os.environ``).
    progress_span : tuple of float, default (0, 100)
        The part of the progress bar this run fills.

    Returns
    -------
    Outcome
        The exit status, the JSON document of stdout and the warnings.

    Raises
    ------
    GeozonesNotFound
        No executable.
    GeozonesCanceled
        `feedback` was cancelled; the process group was ended.
    GeozonesFailed
        Any other exit status, with geozones' one-line message.
    """
    command = [*executable_command(configured, environ), "--progress-json", *arguments]
    feedback.pushCommandInfo(" ".join(_quoted(part) for part in command))
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_environment(environ),
        **_new_process_group(),
    )
    lines: queue.Queue = queue.Queue()
    stdout_chunks: list = []
    readers = [
        threading.Thread(target=_read_lines, args=(process.stderr, lines), daemon=True),
        threading.Thread(target=_read_all, args=(process.stdout, stdout_chunks), daemon=True),
    ]
    for reader in readers:
        reader.start()
    messages = StderrMessages(feedback, progress_span)
    try:
        while process.poll() is None:
            if feedback.isCanceled():
                end_process_group(process)
                raise GeozonesCanceled("cancelled: geozones and its workers were ended")
            messages.take(lines)
            time.sleep(POLL_SECONDS)
    except BaseException:
        if process.poll() is None:
            end_process_group(process)
        raise
    for reader in readers:
        reader.join()
    messages.take(lines)
    stdout = b"".join(stdout_chunks).decode("utf-8", errors="replace")
    if process.returncode not in tuple(accept):
        raise GeozonesFailed(messages.failure(process.returncode), returncode=process.returncode)
    result = json.loads(stdout) if stdout.strip() else None
    return Outcome(process.returncode, result, messages.warnings, messages.errors)


class StderrMessages:
    """Turns geozones' stderr lines into feedback: progress, warnings, errors, other output."""

    def __init__(self, feedback: Any, progress_span: tuple = (0.0, 100.0)) -> None:
        self.feedback = feedback
        self.start, self.stop = progress_span
        self.warnings: list = []
        self.errors: list = []
        self.other: list = []

    def take(self, lines: queue.Queue) -> None:
        """Handle every line waiting in `lines`."""
        while True:
            try:
                line = lines.get_nowait()
            except queue.Empty:
                return
            self.handle(line)

    def handle(self, line: str) -> None:
        """Handle one line of stderr."""
        text = line.rstrip("\r\n")
        if not text.strip():
            return
        event = _progress_event(text)
        if event is not None:
            fraction, message = event
            self.feedback.setProgress(self.start + (self.stop - self.start) * fraction)
            if message:  # Processing shows it above the bar and in the log
                self.feedback.setProgressText(message)
        elif text.startswith("warning: "):
            self.warnings.append(text[len("warning: ") :])
            warn = getattr(self.feedback, "pushWarning", None) or self.feedback.reportError
            warn(text[len("warning: ") :])
        elif text.startswith("Error: "):
            self.errors.append(text[len("Error: ") :])
        else:
            self.other.append(text)
            self.feedback.pushConsoleInfo(text)

    def failure(self, returncode: int) -> str:
        """The message of a failed run: geozones' error lines, else the end of its output."""
        if self.errors:
            return " ".join(self.errors)
        tail = "\n".join(self.other[-15:]) or "no message"
        return f"geozones ended with status {returncode}:\n{tail}"


def _progress_event(text: str):
    if not text.startswith("{"):
        return None
    try:
        event = json.loads(text)
    except ValueError:
        return None
    if not isinstance(event, dict) or "progress" not in event:
        return None
    try:
        fraction = min(max(float(event["progress"]), 0.0), 1.0)
    except (TypeError, ValueError):
        return None
    return fraction, str(event.get("message") or "")


def _read_lines(stream: Any, lines: queue.Queue) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode("utf-8", errors="replace"))
    stream.close()


def _read_all(stream: Any, chunks: list) -> None:
    for chunk in iter(lambda: stream.read(65536), b""):
        chunks.append(chunk)
    stream.close()


def _new_process_group() -> dict:
    """Popen arguments that start the command in its own process group (session)."""
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | getattr(subprocess, "CREATE_NO_WINDOW", 0)
        return {"creationflags": flags}
    return {"start_new_session": True}


def end_process_group(process: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """End `process` and every process of its group: politely, then by force.

    Parameters
    ----------
    process : subprocess.Popen
        Started by :func:`run_geozones` (in its own process group).
    grace : float
        Seconds between the request to end (SIGTERM) and the kill (SIGKILL).
    """
    if sys.platform == "win32":
        subprocess.run(
            ["taskkill", "/T", "/F", "/PID", str(process.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        process.wait()
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):  # the workers too, if the leader ended
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _quoted(part: str) -> str:
    return f'"{part}"' if any(c in part for c in " \t'") else part

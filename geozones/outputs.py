"""Outputs written whole or not at all, and never over what geozones did not write.

Every file and folder geozones writes goes through this module:

- :func:`atomic_file` and :func:`atomic_folder` write to a temporary name next to the target
  (``.geozones-tmp-<pid>-<random>``), flush it to the disk and rename it into place: the target
  is the old one or the new one, never part of either. A failed or interrupted write removes
  its temporary name; one left by a killed process is removed by the next run that writes
  there (:func:`remove_stale_temporaries`).
- :func:`output_lock` holds a lock file naming the process next to (or inside) an output, so
  two runs never write one output at once. The lock of a process that died is taken over.
- :func:`record_written` lists what geozones wrote in a folder in the folder's
  ``.geozones.json``; :func:`written_by_geozones` tells whether ``--overwrite`` may replace a
  file or folder (it replaces nothing else).
- :func:`safe_filename` makes a file name from data, and :func:`check_output_path` refuses
  paths no file can have, before any work is done.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> with output_lock(folder / "notes.txt"), atomic_file(folder / "notes.txt") as scratch:
...     _ = scratch.write_text("whole or not at all")
>>> (folder / "notes.txt").read_text()
'whole or not at all'
>>> sorted(path.name for path in folder.iterdir())  # no temporary name, no lock left
['notes.txt']
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import shutil
import socket
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from geozones.errors import OutputError, OutputExistsError, OutputLockedError

logger = logging.getLogger(__name__)

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: locks by exclusive creation and process ids
    fcntl = None  # type: ignore[assignment]

#: The file in a folder listing what geozones wrote there.
MARKER = ".geozones.json"
#: Suffix of the lock file next to an output (``.<name>.geozones-lock``).
LOCK_SUFFIX = ".geozones-lock"
#: Name of the lock file inside a folder written in place.
LOCK_NAME = ".geozones-lock"
#: Marks temporary names; followed by ``-<pid>-<random hex>``.
TEMPORARY = "geozones-tmp"
#: Marks an old folder moved aside while its replacement is renamed into place.
BACKUP = "geozones-old"
#: SQLite (GeoPackage) refuses longer paths (its ``MAX_PATHNAME``, in bytes).
SQLITE_MAX_PATH = 512

_LEFTOVER = re.compile(
    rf"^\.(?P<name>.*?)\.?(?P<kind>{TEMPORARY}|{BACKUP})-(?P<pid>\d+)-[0-9a-f]+$"
)
_UNSAFE = re.compile(r"[^\w\-]+", flags=re.UNICODE)
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_filename(
    text: str, *, fallback: str = "report", max_length: int = 80, max_bytes: int = 120
) -> str:
    """A file name from `text`: letters (Chinese included), digits, ``-`` and ``_`` only.

    Path separators, dots, control and reserved characters become ``_``; the result can
    never climb out of its folder (``..``), is not a Windows device name, and is never empty.

    Parameters
    ----------
    text : str
        Text from the data, e.g. a county name.
    fallback : str, default "report"
        Used when nothing safe is left of `text`.
    max_length : int, default 80
        Longest result, in characters.
    max_bytes : int, default 120
        Longest result in UTF-8 bytes (a Chinese character takes three): a file system takes
        names of 255 bytes at most, and SQLite (GeoPackage) paths of 512.

    Returns
    -------
    str
        A name without a suffix.

    Examples
    --------
    >>> safe_filename("白石县")
    '白石县'
    >>> safe_filename("../../x"), safe_filename("a/b"), safe_filename("  ")
    ('x', 'a_b', 'report')
    >>> len(safe_filename("很长的县名" * 30).encode())
    120
    """
    normalised = unicodedata.normalize("NFKC", str(text))
    cleaned = _UNSAFE.sub("_", normalised)
    cleaned = re.sub("_{2,}", "_", cleaned).strip("_")[:max_length]
    cleaned = cleaned.encode()[:max_bytes].decode(errors="ignore").strip("_")
    if not cleaned or cleaned.upper() in _RESERVED:
        return fallback
    return cleaned


def check_output_path(
    path: str | os.PathLike[str], *, folder: bool = False, sqlite: bool = False
) -> Path:
    """Refuse, before any work, an output path that no file or folder can have.

    Parameters
    ----------
    path : path-like
        The file or folder to write.
    folder : bool, default False
        `path` is a folder (else a file).
    sqlite : bool, default False
        `path` is a GeoPackage (or lies in a folder that will hold one): its absolute path,
        temporary name included, must fit SQLite's limit of 512 bytes.

    Returns
    -------
    pathlib.Path
        `path`, absolute.

    Raises
    ------
    OutputError
        A part of the path is a file, `path` is a folder where a file is wanted (or the other
        way round), or a name or the whole path is too long.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> here = Path(tempfile.mkdtemp())
    >>> (here / "notes.txt").write_text("")
    0
    >>> try:
    ...     check_output_path(here / "notes.txt" / "out.gpkg")
    ... except OutputError as error:
    ...     print(str(error).split(": ", 1)[1])  # doctest: +ELLIPSIS
    cannot be written: .../notes.txt is a file, not a folder; choose an output inside a folder
    """
    target = Path(os.path.abspath(os.fspath(path)))
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(
                    f"{target}: cannot be written: {parent} is a file, not a folder; choose an "
                    "output inside a folder"
                )
            break
    if target.exists() and target.is_dir() != folder:
        kind, wanted = ("a file", "a folder") if folder else ("a folder", "a file")
        raise OutputError(
            f"{target} is {kind}, but {wanted} is written there; choose another output name"
        )
    for part in target.parts:
        if len(part.encode()) > 255:
            raise OutputError(
                f"{target}: the name {part[:40]}… is {len(part.encode())} bytes long; file "
                "systems take at most 255. Choose a shorter output name"
            )
    # the temporary folder a file is written in adds one name to its path
    longest = len(str(target).encode()) + len(f"/.{TEMPORARY}-{os.getpid()}-12345678") + 16
    if sqlite and longest > SQLITE_MAX_PATH:
        raise OutputError(
            f"{target}: the path is {len(str(target).encode())} bytes long, too long for a "
            f"GeoPackage (SQLite takes at most {SQLITE_MAX_PATH}, temporary name included); "
            "choose an output folder with a shorter path"
        )
    return target


def refuse_existing(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Refuse to replace outputs that exist, unless `overwrite` and geozones wrote them.

    Parameters
    ----------
    paths : iterable of pathlib.Path
        The files and folders a run will write.
    overwrite : bool
        Replacing outputs is allowed (``--overwrite``).

    Raises
    ------
    OutputExistsError
        Some exist and `overwrite` is False; the message names them (the first few and a
        count).
    OutputError
        Some exist, `overwrite` is True, and geozones did not write them
        (:func:`written_by_geozones`).
    """
    existing = [path for path in paths if os.path.lexists(path)]
    if not existing:
        return
    if not overwrite:
        raise OutputExistsError(
            f"{_listed(existing)} already exist(s); pass --overwrite (overwrite=True) to "
            "replace, or choose another output"
        )
    foreign = [path for path in existing if not written_by_geozones(path)]
    if foreign:
        raise OutputError(
            f"{_listed(foreign)} exist(s) and {'was' if len(foreign) == 1 else 'were'} not "
            f"written by geozones (not listed in the folder's {MARKER}); --overwrite replaces "
            "only what geozones wrote. Move it away or choose another output"
        )


def _listed(paths: list[Path], shown: int = 3) -> str:
    names = ", ".join(str(path) for path in paths[:shown])
    if len(paths) > shown:
        names += f" and {len(paths) - shown} more in {paths[0].parent}"
    return names


# --- failures ---------------------------------------------------------------------------------

#: What each kind of file-system failure means, and what to do.
_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free space or choose an output on another disk",
    errno.EDQUOT: "the disk quota is used up; free space or choose another output",
    errno.EROFS: "the disk is read-only; choose an output on a disk you may write to",
    errno.EACCES: "permission denied; choose an output in a folder you may write to",
    errno.EPERM: "not permitted; choose an output in a folder you may write to",
    errno.ENAMETOOLONG: "a name or the path is too long; choose a shorter output path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another output",
    errno.EISDIR: "it is a folder where a file is expected; check the path",
}
#: Less free space than this after a failed write: the disk was full.
_NEARLY_FULL = 1 << 20


def describe_os_error(error: OSError) -> str:
    """One line for a failure of the file system: the file, what happened, what to do.

    Parameters
    ----------
    error : OSError
        The failure.

    Returns
    -------
    str
        E.g. ``out/report.xlsx: No space left on device: the disk is full; free space or …``.

    Examples
    --------
    >>> import errno
    >>> print(describe_os_error(OSError(errno.EROFS, "Read-only file system", "x.gpkg")))
    x.gpkg: Read-only file system: the disk is read-only; choose an output on a disk you may ...
    """
    where = f"{error.filename}: " if error.filename else ""
    what = error.strerror or str(error) or type(error).__name__
    advice = _OS_ADVICE.get(error.errno or 0)
    return f"{where}{what}" + (f": {advice}" if advice else "")


def write_failed(target: str | os.PathLike[str], error: BaseException) -> OutputError:
    """The error to raise when a library (GDAL, Arrow) failed to write `target`.

    Such libraries report a full or read-only disk in their own words ("database or disk is
    full", "no such table"); the file system is asked what happened, so the message names the
    cause and what to do, as for an ``OSError``.

    Parameters
    ----------
    target : path-like
        The file being written.
    error : BaseException
        What the library raised.

    Returns
    -------
    OutputError
        Its message names the cause where the file system tells it (a full or read-only disk).
    """
    path = Path(os.path.abspath(os.fspath(target)))
    folder = next((parent for parent in path.parents if parent.exists()), path.parent)
    code = error.errno if isinstance(error, OSError) else None
    if code is None:
        try:
            if shutil.disk_usage(folder).free < _NEARLY_FULL:
                code = errno.ENOSPC
        except OSError:
            pass
    if code is None and not os.access(folder, os.W_OK):
        code = errno.EACCES
    if code is None:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return OutputError(f"{path}: cannot be written ({detail}); check the disk and the path")
    return OutputError(describe_os_error(OSError(code, os.strerror(code), str(path))))


# --- what geozones wrote -----------------------------------------------------------------------


def written_by_geozones(path: str | os.PathLike[str]) -> bool:
    """Whether geozones wrote `path`: the ``.geozones.json`` of its folder lists it.

    Parameters
    ----------
    path : path-like
        A file or folder.

    Returns
    -------
    bool
        True when listed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> record_written(folder, ["conflicts.gpkg"], command="conflicts")
    >>> written_by_geozones(folder / "conflicts.gpkg"), written_by_geozones(folder / "x.gpkg")
    (True, False)
    """
    target = Path(os.path.abspath(os.fspath(path)))
    return target.name in _read_marker(target.parent).get("entries", {})


def record_written(folder: str | os.PathLike[str], names: Iterable[str], *, command: str) -> None:
    """Add `names` to the list of what geozones wrote in `folder` (its ``.geozones.json``).

    Parameters
    ----------
    folder : path-like
        The folder holding the outputs.
    names : iterable of str
        Names of files or folders directly in `folder`.
    command : str
        What wrote them (``"conflicts"``, ``"report"``).
    """
    _update_marker(Path(folder), add=list(names), remove=[], command=command)


def forget_written(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Remove `names` from the list of what geozones wrote in `folder` (they were deleted).

    Parameters
    ----------
    folder : path-like
        The folder holding the outputs.
    names : iterable of str
        Names to remove.
    """
    _update_marker(Path(folder), add=[], remove=list(names), command="")


def _read_marker(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("entries"), dict) else {}


def _update_marker(folder: Path, *, add: list[str], remove: list[str], command: str) -> None:
    with _folder_lock(folder):
        data = _read_marker(folder) or {"written_by": "geozones", "entries": {}}
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        for name in add:
            data["entries"][name] = {"command": command, "written": stamp}
        for name in remove:
            data["entries"].pop(name, None)
        with atomic_file(folder / MARKER) as scratch:
            scratch.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a folder while its marker is read and rewritten."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


# --- writing whole or not at all ---------------------------------------------------------------


def temporary_name(folder: Path, name: str = "") -> Path:
    """A fresh temporary name in `folder`: ``.<name>.geozones-tmp-<pid>-<random>``.

    Parameters
    ----------
    folder : pathlib.Path
        Where.
    name : str, default ""
        The name of the output it stands for (empty for a scratch folder).

    Returns
    -------
    pathlib.Path
        A path that does not exist yet.
    """
    prefix = f".{name}." if name else "."
    return folder / f"{prefix}{TEMPORARY}-{os.getpid()}-{secrets.token_hex(4)}"


@contextmanager
def unsynchronised_sqlite() -> Iterator[None]:
    """GDAL's SQLite formats (GeoPackage) written without an ``fsync`` after each layer.

    Only for scratch files that are flushed once, whole, before they take their final name
    (:func:`atomic_file`): there the per-layer flushes buy no safety. A layer of a report's
    GeoPackage took 110 ms with them and 45 ms without while other jobs loaded the machine, 24
    and 19 ms on a quiet one (``benchmarks/bench_report_write.py``).
    """
    import pyogrio

    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": before})


@contextmanager
def atomic_file(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside `target`, flushed and renamed onto `target` when the block ends.

    The temporary file has `target`'s name (so GDAL and openpyxl pick the format from the
    suffix) in a temporary folder next to it, where journal files go too. A failure or
    interruption inside the block leaves `target` as it was and removes the temporary folder.

    Parameters
    ----------
    target : path-like
        The file to write. Its folder must exist.

    Yields
    ------
    pathlib.Path
        Where to write.
    """
    final = Path(os.path.abspath(os.fspath(target)))
    scratch_folder = temporary_name(final.parent)
    scratch_folder.mkdir()
    try:
        scratch = scratch_folder / final.name
        with unsynchronised_sqlite():
            yield scratch
        sync_tree(scratch)
        os.replace(scratch, final)
        _sync_directory(final.parent)
        logger.info("wrote %s", final)
    finally:
        shutil.rmtree(scratch_folder, ignore_errors=True)


@contextmanager
def atomic_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary folder beside `target`, flushed and swapped in for `target` at the end.

    An existing `target` is moved aside, the new folder renamed into place and the old one
    removed; a failure inside the block leaves `target` as it was. The caller decides
    whether `target` may be replaced (:func:`refuse_existing`) and holds its
    :func:`output_lock`.

    Parameters
    ----------
    target : path-like
        The folder to write. Its parent is created if missing.

    Yields
    ------
    pathlib.Path
        The (empty) folder to write into.
    """
    final = Path(os.path.abspath(os.fspath(target)))
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_name(final.parent, final.name)
    staging.mkdir()
    try:
        yield staging
        sync_tree(staging)
        if os.path.lexists(final):
            backup = final.parent / f".{final.name}.{BACKUP}-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(final, backup)
            try:
                os.rename(staging, final)
            except BaseException:
                os.rename(backup, final)
                raise
            _sync_directory(final.parent)
            _remove(backup)
        else:
            os.rename(staging, final)
            _sync_directory(final.parent)
        logger.info("wrote %s", final)
    finally:
        _remove(staging)


def replace_into(folder: Path, names: Iterable[str], staging: Path) -> None:
    """Move each of `names` from `staging` into `folder`, replacing what is there.

    Each move is one rename (atomic); files are flushed first. For outputs written into a
    folder that holds other things too (a report folder).

    Parameters
    ----------
    folder : pathlib.Path
        Where the outputs go.
    names : iterable of str
        Relative paths under `staging` (``county_990102_东川区/东川区.xlsx``).
    staging : pathlib.Path
        The temporary folder holding them (:func:`temporary_name` in `folder`).
    """
    for name in names:
        source, destination = staging / name, folder / name
        sync_tree(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.is_dir() and not destination.is_symlink():
            _remove(destination)
        os.replace(source, destination)
        _sync_directory(destination.parent)
        logger.info("wrote %s", destination)


@contextmanager
def staged_files(
    folder: str | os.PathLike[str], names: Iterable[str], *, command: str
) -> Iterator[Path]:
    """Write several files into `folder` as one output: all of them, or none.

    The block writes each of `names` under the scratch folder it is given (inside `folder`, so
    on the same disk); when it ends, each is moved into place (one rename each, after all were
    written) and recorded as geozones' (:func:`record_written`). A failure or interruption in
    the block leaves `folder` as it was. The caller holds the folder's :func:`output_lock`.

    Parameters
    ----------
    folder : path-like
        Where the files go; created if missing.
    names : iterable of str
        Their paths relative to `folder` (``990102_东川区/990102_东川区.xlsx``).
    command : str
        What writes them, for the record.

    Yields
    ------
    pathlib.Path
        The scratch folder to write them into, at the same relative paths.
    """
    final = Path(folder)
    final.mkdir(parents=True, exist_ok=True)
    staging = temporary_name(final)
    staging.mkdir()
    try:
        yield staging
        relative = [Path(name) for name in names]
        replace_into(final, [name.as_posix() for name in relative], staging)
        by_folder: dict[Path, list[str]] = {}
        for name in relative:
            by_folder.setdefault(final / name.parent, []).append(name.name)
            if len(name.parts) > 1:
                by_folder.setdefault(final, []).append(name.parts[0])
        for place, entries in by_folder.items():
            record_written(place, dict.fromkeys(entries), command=command)
    finally:
        _remove(staging)


def sync_tree(path: Path) -> None:
    """Flush a file, or every file and folder under a folder, to the disk (``fsync``).

    Parameters
    ----------
    path : pathlib.Path
        A file or folder.
    """
    if path.is_dir():
        for root, _, files in os.walk(path):
            for name in files:
                _sync_file(Path(root) / name)
            _sync_directory(Path(root))
    elif path.exists():
        _sync_file(path)


def _sync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_directory(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory descriptors
        return
    try:
        with suppress(OSError):  # some file systems cannot flush a directory
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(FileNotFoundError):
            path.unlink()


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Clean up after processes that died while writing in `folder`.

    Temporary names of a process that no longer runs are removed. A folder moved aside for
    its replacement (``.<name>.geozones-old-<pid>-…``) is put back if the replacement never
    arrived, else removed.

    Parameters
    ----------
    folder : path-like
        A folder geozones writes in.

    Returns
    -------
    list of pathlib.Path
        What was removed or put back.
    """
    base = Path(folder)
    cleaned: list[Path] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return cleaned
    for entry in entries:
        match = _LEFTOVER.match(entry.name)
        if match is None or _alive(int(match["pid"])):
            continue
        if match["kind"] == BACKUP and not os.path.lexists(base / match["name"]):
            with suppress(OSError):
                os.rename(entry, base / match["name"])
                cleaned.append(entry)
            continue
        _remove(entry)
        cleaned.append(entry)
    return cleaned


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:  # pragma: no cover
        return True
    return True


# --- one run at a time -------------------------------------------------------------------------


@contextmanager
def output_lock(
    target: str | os.PathLike[str], *, inside: bool = False, purpose: str = ""
) -> Iterator[Path]:
    """Hold the lock of an output for the duration: a second run writing it is refused.

    The lock is a file next to `target` (``.<name>.geozones-lock``), or inside it for a
    folder written in place (``<folder>/.geozones-lock``), holding the process id, host and
    start time. It is held with ``flock``, which the system releases when the process ends
    however it ends: a lock file left by a process that died is stale and taken over.
    Leftovers of dead processes in the folder are cleaned up at the same time
    (:func:`remove_stale_temporaries`).

    Parameters
    ----------
    target : path-like
        The output file or folder.
    inside : bool, default False
        Put the lock inside `target` (a folder, created if missing).
    purpose : str, default ""
        What the run does, recorded in the lock for the message another run shows.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    OutputLockedError
        Another running process holds the lock; the message names it.
    """
    final = Path(os.path.abspath(os.fspath(target)))
    if inside:
        final.mkdir(parents=True, exist_ok=True)
        lock = final / LOCK_NAME
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        lock = final.parent / f".{final.name}{LOCK_SUFFIX}"
    descriptor = _acquire(lock, final)
    try:
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now().astimezone().isoformat(timespec="seconds"),
            "purpose": purpose,
        }
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps(holder, ensure_ascii=False).encode())
        remove_stale_temporaries(final if inside else final.parent)
        yield lock
    finally:
        with suppress(OSError):
            lock.unlink()
        os.close(descriptor)


def _acquire(lock: Path, target: Path) -> int:
    while True:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:  # pragma: no cover
            return descriptor
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            os.close(descriptor)
            raise OutputLockedError(
                f"{target} is being written by another geozones run ({holder}); wait for it to "
                "finish, or choose another output"
            ) from None
        try:  # the holder may have removed the file just before it released the lock
            same = os.stat(lock).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return descriptor
        os.close(descriptor)


def _holder(descriptor: int) -> str:
    try:
        data = json.loads(os.pread(descriptor, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return "process unknown"
    text = f"process {data['pid']} on {data.get('host', '?')}, started {data.get('started', '?')}"
    if data.get("purpose"):
        text += f": {data['purpose']}"
    return text


__all__ = [
    "LOCK_NAME",
    "LOCK_SUFFIX",
    "MARKER",
    "SQLITE_MAX_PATH",
    "atomic_file",
    "atomic_folder",
    "check_output_path",
    "forget_written",
    "output_lock",
    "record_written",
    "refuse_existing",
    "remove_stale_temporaries",
    "replace_into",
    "safe_filename",
    "staged_files",
    "sync_tree",
    "temporary_name",
    "written_by_geozones",
]

"""The attribute encoding of a shapefile.

A shapefile keeps its attributes in a dBASE (.dbf) file that does not say reliably
how its text is encoded. Chinese planning data are usually GBK, often without the
``.cpg`` file that would say so, and GDAL then reads them as ISO-8859-1: mojibake.
:func:`detect_shapefile_encoding` decides the encoding to pass to
``pyogrio.read_dataframe(..., encoding=...)`` from, in order:

1. the ``.cpg`` file next to the .dbf, checked against the bytes;
2. the language driver id in the .dbf header, when the bytes decode with it;
3. the bytes of the field names and character fields themselves: pure ASCII,
   else UTF-8, else GBK, else GB18030.

The .dbf is read in blocks of whole records, so files of hundreds of megabytes are
scanned without being loaded whole, and a multi-byte character is never split
between blocks.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from geozones.errors import DataSourceError, EncodingError

__all__ = ["EncodingDecision", "detect_shapefile_encoding"]

EncodingSource = Literal["cpg", "ldid", "ascii", "detected"]

_BLOCK_BYTES = 1 << 20  # record bytes read at once (rounded down to whole records, at least one)
_HEADER_SIZE = 32
_DESCRIPTOR_SIZE = 32
_HEADER_TERMINATOR = 0x0D
_DELETED = 0x2A  # b"*": first byte of a deleted record
_TEXT_TYPES = frozenset(b"C")  # character fields; numbers, dates and logicals are ASCII
_DETECTION_ORDER = ("UTF-8", "GBK", "GB18030")
_LDID_NO_INFORMATION = 0x57  # "ANSI": the writer's current code page, whatever it was

# Language driver id (byte 29 of a .dbf header) -> Windows code page, as GDAL reads it.
_LDID_CODEPAGES = {
    0x01: 437, 0x02: 850, 0x03: 1252, 0x04: 10000, 0x08: 865, 0x0A: 850, 0x0B: 437,
    0x0D: 437, 0x0E: 850, 0x0F: 437, 0x10: 850, 0x11: 437, 0x12: 850, 0x13: 932,
    0x14: 850, 0x15: 437, 0x16: 850, 0x17: 865, 0x18: 437, 0x19: 437, 0x1A: 850,
    0x1B: 437, 0x1C: 863, 0x1D: 850, 0x1F: 852, 0x22: 852, 0x23: 852, 0x24: 860,
    0x25: 850, 0x26: 866, 0x37: 850, 0x40: 852, 0x4D: 936, 0x4E: 949, 0x4F: 950,
    0x50: 874, 0x58: 1252, 0x59: 1252, 0x64: 852, 0x65: 866, 0x66: 865, 0x67: 861,
    0x68: 895, 0x69: 620, 0x6A: 737, 0x6B: 857, 0x6C: 863, 0x78: 950, 0x79: 949,
    0x7A: 936, 0x7B: 932, 0x7C: 874, 0x86: 737, 0x87: 852, 0x88: 857, 0x96: 10007,
    0x97: 10029, 0xC8: 1250, 0xC9: 1251, 0xCA: 1254, 0xCB: 1253, 0xCC: 1257,
}  # fmt: skip

# Code pages whose codec name is not simply "CP<n>" (names both Python and GDAL's iconv know).
_CODEPAGE_CODECS = {
    936: "GBK",
    20936: "GBK",
    54936: "GB18030",
    65001: "UTF-8",
    10000: "MACINTOSH",
    28591: "ISO-8859-1",
}

# What .cpg files say -> codec. GB2312 and 936 files routinely hold GBK characters, and GBK
# reads all of GB2312, so both map to GBK.
_CPG_NAMES = {
    "UTF-8": "UTF-8",
    "UTF8": "UTF-8",
    "GBK": "GBK",
    "GB2312": "GBK",
    "EUC-CN": "GBK",
    "GB18030": "GB18030",
    "BIG5": "BIG5",
    "BIG-5": "BIG5",
    "LATIN1": "ISO-8859-1",
    "LATIN-1": "ISO-8859-1",
    "ASCII": "ascii",
    "US-ASCII": "ascii",
}
_CPG_NO_INFORMATION = frozenset({"", "SYSTEM", "ANSI", "OEM", "DEFAULT", "LOCALE"})
_CPG_CODEPAGE = re.compile(r"(?:ANSI|OEM|CP|MS|WINDOWS|WIN|IBM)?[\s_-]*(\d+)")
_CPG_ISO8859 = re.compile(r"(?:ISO)?[\s_-]*8859[\s_-]*(\d+)")


@dataclass(frozen=True)
class EncodingDecision:
    """The attribute encoding of a shapefile, and where it comes from.

    Attributes
    ----------
    encoding : str
        A codec name that both Python and ``pyogrio.read_dataframe(..., encoding=...)``
        accept, e.g. ``"GBK"``, ``"UTF-8"``, ``"GB18030"`` or ``"ascii"``.
    source : {"cpg", "ldid", "ascii", "detected"}
        ``"cpg"``: the .cpg file says so; ``"ldid"``: the .dbf's language driver id says
        so; ``"ascii"``: nothing declared and all text is ASCII; ``"detected"``: nothing
        declared and the encoding was told from the bytes.
    guessed : bool
        True when the encoding was detected from the bytes rather than declared.
    detail : str
        What was found, in English, for messages and warnings.
    """

    encoding: str
    source: EncodingSource
    guessed: bool
    detail: str


def detect_shapefile_encoding(path: str | os.PathLike[str]) -> EncodingDecision:
    """Decide the encoding of a shapefile's attribute text.

    The ``.cpg`` file next to the .dbf (extension in any case) is used when it names an
    encoding; it must decode the text. Otherwise the .dbf's language driver id is used if
    it names a code page that decodes the text (0x57, "ANSI", names none). Otherwise the
    field names and character fields are decoded: pure ASCII gives ``"ascii"``; else valid
    UTF-8 gives ``"UTF-8"``, else ``"GBK"``, else ``"GB18030"`` (these are guesses).

    Parameters
    ----------
    path : str or os.PathLike
        The .shp or the .dbf file (or the shapefile's path without extension).

    Returns
    -------
    EncodingDecision
        The codec name, where it came from and whether it was guessed.

    Raises
    ------
    DataSourceError
        The .dbf is missing, truncated or not a dBASE file.
    EncodingError
        The .cpg names an encoding the text is not in, or the text is neither ASCII,
        UTF-8, GBK nor GB18030 and nothing declares its encoding.

    Examples
    --------
    >>> import geopandas as gpd, pyogrio, shapely, tempfile, pathlib
    >>> from geozones.io.encoding import detect_shapefile_encoding
    >>> points = [shapely.Point(117, 35)] * 2
    >>> df = gpd.GeoDataFrame({"DLMC": ["水田", "旱地"]}, geometry=points, crs=4490)
    >>> shp = pathlib.Path(tempfile.mkdtemp()) / "farmland.shp"
    >>> pyogrio.write_dataframe(df, shp, encoding="GBK")
    >>> shp.with_suffix(".cpg").unlink()  # as such files often arrive
    >>> decision = detect_shapefile_encoding(shp)
    >>> decision.encoding, decision.source, decision.guessed
    ('GBK', 'detected', True)
    >>> list(pyogrio.read_dataframe(shp, encoding=decision.encoding)["DLMC"])
    ['水田', '旱地']
    """
    dbf = _read_header(_locate_dbf(Path(os.fspath(path))))
    notes: list[str] = []

    cpg_path = _find_sibling(dbf.path.with_suffix(""), ".cpg")
    if cpg_path is None:
        notes.append(f"{dbf.path.name} has no .cpg file")
    else:
        said = _read_cpg(cpg_path)
        codec = _codec_from_cpg(said)
        if codec is not None:
            failure = _first_failure(dbf, codec)
            if failure is None:
                return EncodingDecision(codec, "cpg", False, f"{cpg_path.name} says {said!r}")
            raise _cpg_contradiction(dbf, cpg_path, said, codec, failure)
        notes.append(f"{cpg_path.name} says {said!r}, which names no usable encoding")

    ldid_codec = _codec_from_ldid(dbf.ldid)
    if ldid_codec is not None:
        failure = _first_failure(dbf, ldid_codec)
        ldid = f"language driver id 0x{dbf.ldid:02X} (code page {_LDID_CODEPAGES[dbf.ldid]})"
        if failure is None:
            return EncodingDecision(ldid_codec, "ldid", False, f"{dbf.path.name} has {ldid}")
        notes.append(f"its {ldid} does not decode the text ({failure})")
    elif dbf.ldid in _LDID_CODEPAGES:
        notes.append(
            f"its language driver id 0x{dbf.ldid:02X} names code page "
            f"{_LDID_CODEPAGES[dbf.ldid]}, which Python cannot decode"
        )
    else:
        notes.append(f"its language driver id 0x{dbf.ldid:02X} names no specific encoding")

    return _detect(dbf, notes)


# --------------------------------------------------------------------------------------------
# Finding and reading the files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: bytes
    type: int
    offset: int  # within a record; byte 0 is the deletion flag
    length: int


@dataclass(frozen=True)
class _Dbf:
    path: Path
    n_records: int
    header_length: int
    record_length: int
    ldid: int
    fields: tuple[_Field, ...]

    @property
    def text_fields(self) -> tuple[_Field, ...]:
        return tuple(f for f in self.fields if f.type in _TEXT_TYPES)


@dataclass(frozen=True)
class _Failure:
    """Where some text does not decode."""

    record: int | None  # None: a field name in the header
    field: bytes
    snippet: bytes

    def __str__(self) -> str:
        field = _show_name(self.field)
        where = (
            f"field name {field}"
            if self.record is None
            else f"field {field} of record {self.record}"
        )
        return f"{where}: bytes {self.snippet!r}"


def check_shapefile_encoding(path: str | os.PathLike[str], encoding: str) -> None:
    """Raise if a shapefile's attributes do not decode with `encoding`.

    Parameters
    ----------
    path : str or path-like
        The .shp or .dbf.
    encoding : str
        A Python codec name, as given to ``read_layer(encoding=…)``.

    Raises
    ------
    EncodingError
        The codec is unknown, or some text does not decode with it; the message names the
        first field and record that fails and the encoding the bytes suggest.
    """
    codec = _known(encoding)
    if codec is None:
        raise EncodingError(
            f"{path}: unknown encoding {encoding!r}; use a name such as 'GBK', 'GB18030' or 'UTF-8'"
        )
    dbf = _read_header(_locate_dbf(Path(os.fspath(path))))
    failure = _first_failure(dbf, codec)
    if failure is not None:
        suggestion = _detect(dbf, [])
        raise EncodingError(
            f"{path}: attributes do not decode as {encoding} ({failure}); the bytes decode as "
            f"{suggestion.encoding}: pass encoding={suggestion.encoding!r}, or omit encoding "
            "to have it detected"
        )


def dbf_record_count(path: str | os.PathLike[str]) -> int:
    """The number of records a ``.dbf`` file's header declares (its size checked against it).

    Parameters
    ----------
    path : str or path-like
        The ``.dbf`` file.

    Returns
    -------
    int
        Records, deleted ones included.

    Raises
    ------
    DataSourceError
        The file is not a dBASE file, or shorter than its header says.

    Examples
    --------
    >>> dbf_record_count("sample_data/YJJBNT.dbf")
    2916
    """
    return _read_header(Path(os.fspath(path))).n_records


def dbf_deleted(path: str | os.PathLike[str], records: Sequence[int]) -> list[int]:
    """Which of `records` (positions, from 0) a ``.dbf`` file marks deleted (``*``).

    Parameters
    ----------
    path : str or path-like
        The ``.dbf`` file.
    records : sequence of int
        Record positions to look at.

    Returns
    -------
    list of int
        Those of `records` marked deleted, in the order given.

    Raises
    ------
    DataSourceError
        The file is not a dBASE file, or shorter than its header says.

    Examples
    --------
    >>> dbf_deleted("sample_data/YJJBNT.dbf", [0, 1, 2])
    []
    """
    dbf = _read_header(Path(os.fspath(path)))
    deleted = []
    with dbf.path.open("rb") as file:
        for record in records:
            file.seek(dbf.header_length + int(record) * dbf.record_length)
            if file.read(1) == b"*":
                deleted.append(int(record))
    return deleted


def _locate_dbf(path: Path) -> Path:
    """Return the .dbf of the shapefile ``path`` names (.shp, .dbf or no extension)."""
    suffix = path.suffix.lower()
    if suffix == ".dbf" and path.is_file():
        return path
    base = path.with_suffix("") if suffix in {".dbf", ".shp", ".shx", ".cpg", ".prj"} else path
    found = _find_sibling(base, ".dbf")
    if found is None:
        raise DataSourceError(
            f"{path}: no .dbf file {base.name}.dbf next to it, so there are no attributes "
            "whose encoding could be read"
        )
    return found


def _find_sibling(base: Path, extension: str) -> Path | None:
    """Return ``base`` + ``extension`` if it exists, the extension matched in any case."""
    for candidate in (base.name + extension.lower(), base.name + extension.upper()):
        if (base.parent / candidate).is_file():
            return base.parent / candidate
    wanted = (base.name + extension).lower()
    try:
        entries = list(base.parent.iterdir())
    except OSError:
        return None
    return next((e for e in entries if e.name.lower() == wanted and e.is_file()), None)


def _read_header(path: Path) -> _Dbf:
    """Parse a .dbf header; raise DataSourceError if the file is truncated or not a DBF."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(_HEADER_SIZE)
            if len(head) < _HEADER_SIZE:
                raise _not_dbf(path, f"it has {size} bytes, fewer than a dBASE header's 32")
            n_records = int.from_bytes(head[4:8], "little")
            header_length = int.from_bytes(head[8:10], "little")
            record_length = int.from_bytes(head[10:12], "little")
            if header_length < _HEADER_SIZE + 1 or record_length < 1:
                raise _not_dbf(
                    path, f"header length {header_length}, record length {record_length}"
                )
            if header_length > size:
                raise _not_dbf(path, f"header length {header_length} exceeds its size {size}")
            descriptors = head + file.read(header_length - _HEADER_SIZE)
    except OSError as exc:
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(f"{path}: cannot read the .dbf file ({exc})") from exc

    fields = _parse_fields(path, descriptors, record_length)
    expected = header_length + n_records * record_length
    if size < expected:
        raise DataSourceError(
            f"{path}: truncated: its header promises {n_records:,} records of "
            f"{record_length} bytes ({expected:,} bytes in all) but the .dbf file has {size:,} "
            "bytes; copy or export it again"
        )
    return _Dbf(path, n_records, header_length, record_length, head[29], fields)


def _parse_fields(path: Path, header: bytes, record_length: int) -> tuple[_Field, ...]:
    fields: list[_Field] = []
    offset = 1  # after the deletion flag
    for start in range(_HEADER_SIZE, len(header) - _DESCRIPTOR_SIZE + 1, _DESCRIPTOR_SIZE):
        descriptor = header[start : start + _DESCRIPTOR_SIZE]
        if descriptor[0] == _HEADER_TERMINATOR:
            break
        kind, length = descriptor[11], descriptor[16]
        if not (chr(kind).isalnum() or chr(kind) in "@+") or kind > 0x7F:
            raise _not_dbf(path, f"field descriptor {len(fields) + 1} has type byte 0x{kind:02X}")
        fields.append(_Field(descriptor[:11].split(b"\x00", 1)[0], kind, offset, length))
        offset += length
    if offset > record_length:
        raise _not_dbf(
            path, f"its fields take {offset} bytes, more than its record length {record_length}"
        )
    return tuple(fields)


def _not_dbf(path: Path, why: str) -> DataSourceError:
    return DataSourceError(f"{path}: truncated or not a dBASE (.dbf) file: {why}")


def _read_cpg(path: Path) -> str:
    try:
        data = path.read_bytes()[:256]
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read the .cpg file ({exc})") from exc
    return data.decode("utf-8-sig", errors="replace").replace("\x00", "").strip()


# --------------------------------------------------------------------------------------------
# Declared encodings
# --------------------------------------------------------------------------------------------


def _codec_from_cpg(said: str) -> str | None:
    """Return the codec a .cpg's text names, None if it names none Python knows."""
    text = " ".join(said.split()).upper()
    if text in _CPG_NO_INFORMATION:
        return None
    if text in _CPG_NAMES:
        return _CPG_NAMES[text]
    iso = _CPG_ISO8859.fullmatch(text)
    if iso is not None:
        return _known(f"ISO-8859-{iso.group(1)}")
    codepage = _CPG_CODEPAGE.fullmatch(text)
    if codepage is not None:
        return _codec_for_codepage(int(codepage.group(1)))
    return _known(said.strip())


def _codec_from_ldid(ldid: int) -> str | None:
    codepage = _LDID_CODEPAGES.get(ldid)
    return None if codepage is None else _codec_for_codepage(codepage)


def _codec_for_codepage(codepage: int) -> str | None:
    return _CODEPAGE_CODECS.get(codepage) or _known(f"CP{codepage}")


def _known(codec: str) -> str | None:
    """Return ``codec`` if Python knows it and it reads ASCII as ASCII, else None."""
    try:
        codecs.lookup(codec)
        ascii_compatible = "aZ09 _".encode(codec) == b"aZ09 _"
    except (LookupError, UnicodeError):
        return None
    return codec if ascii_compatible else None


# --------------------------------------------------------------------------------------------
# Decoding the bytes
# --------------------------------------------------------------------------------------------


def _detect(dbf: _Dbf, notes: list[str]) -> EncodingDecision:
    """Tell the encoding from the bytes: ASCII, else UTF-8, else GBK, else GB18030."""
    declared = "; ".join(notes) or f"{dbf.path.name} declares no encoding"
    start = _first_non_ascii(dbf)
    if start is None:
        return EncodingDecision(
            "ascii", "ascii", False, f"{declared}; all its attribute text is ASCII"
        )
    failures: dict[str, _Failure] = {}
    for codec in _DETECTION_ORDER:
        failure = _first_failure(dbf, codec, start=start)
        if failure is None:
            rejected = ", ".join(_DETECTION_ORDER[: len(failures)])
            how = f"decodes as {codec}" + (f" (not as {rejected})" if rejected else "")
            return EncodingDecision(codec, "detected", True, f"{declared}; its text {how}")
        failures[codec] = failure
    tried = "; ".join(f"not {codec} at {failure}" for codec, failure in failures.items())
    raise EncodingError(
        f"cannot tell the attribute encoding of {dbf.path}: {declared}, and its text is "
        f"neither ASCII, UTF-8, GBK nor GB18030 ({tried}). Pass encoding='…' with the "
        "encoding it was written in to read_layer (e.g. encoding='Big5' or 'CP1252'), or add "
        f"a .cpg file next to it ({dbf.path.with_suffix('.cpg').name}) naming the encoding."
    )


def _cpg_contradiction(
    dbf: _Dbf, cpg_path: Path, said: str, codec: str, failure: _Failure
) -> EncodingError:
    try:
        detected: str | None = _detect(dbf, []).encoding
    except EncodingError:
        detected = None
    if detected is None:
        likely, fix = "match none of UTF-8, GBK and GB18030", "encoding='…'"
    else:
        likely, fix = f"decode as {detected}", f"encoding={detected!r}"
    return EncodingError(
        f"{dbf.path}: the .cpg file {cpg_path.name} says {said!r} ({codec}), but the "
        f"attribute text is not {codec} ({failure}); the .cpg contradicts the bytes, which "
        f"{likely}. Pass {fix} to read_layer, or correct the .cpg file."
    )


def _first_non_ascii(dbf: _Dbf) -> int | None:
    """Return the first record with a non-ASCII text byte (0 if a field name has one)."""
    if any(max(f.name, default=0) >= 0x80 for f in dbf.fields):
        return 0
    for records, text in _text_blocks(dbf, start=0):
        if text.size and text.max() >= 0x80:
            rows = np.flatnonzero((text >= 0x80).any(axis=1))
            return int(records[rows[0]])
    return None


def _first_failure(dbf: _Dbf, codec: str, *, start: int = 0) -> _Failure | None:
    """Return where the field names or text from record ``start`` on fail to decode."""
    for field in dbf.fields:
        if not _decodes(field.name, codec):
            return _Failure(None, field.name, field.name)
    for records, text in _text_blocks(dbf, start=start):
        if not text.size or text.max() < 0x80:
            continue
        try:
            str(text.data, codec)
            continue
        except UnicodeDecodeError:
            pass
        failure = _failure_in_block(dbf, codec, records, text)
        if failure is not None:
            return failure
    return None


def _failure_in_block(
    dbf: _Dbf, codec: str, records: npt.NDArray[np.int64], text: npt.NDArray[np.uint8]
) -> _Failure | None:
    """Decode a block value by value, allowing a character cut at a field's end."""
    spans = []
    position = 0
    for field in dbf.text_fields:
        spans.append((field, position, position + field.length))
        position += field.length
    for row in np.flatnonzero((text >= 0x80).any(axis=1)):
        line = text[row].tobytes()
        for field, begin, end in spans:
            value = line[begin:end]
            if not _decodes(value, codec):
                return _Failure(int(records[row]), field.name, _snippet(value, codec))
    return None


def _decodes(value: bytes, codec: str) -> bool:
    """Whether ``value`` decodes, a multi-byte character cut at its end allowed.

    Writers cut text to the field width in bytes, which can leave the first bytes of a
    character at the end of a value (padding after it is stripped first).
    """
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        decoder.decode(value.rstrip(b" \x00"), final=False)
    except UnicodeDecodeError:
        return False
    return True


def _snippet(value: bytes, codec: str) -> bytes:
    try:
        value.decode(codec)
    except UnicodeDecodeError as exc:
        return value[max(exc.start - 6, 0) : exc.end + 6]
    return value[:24]


def _text_blocks(
    dbf: _Dbf, *, start: int
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]]:
    """Yield record numbers and the character-field bytes of live records, by blocks.

    Blocks hold whole records, so no value, and no character, is split between two.
    """
    fields = dbf.text_fields
    if not fields or start >= dbf.n_records:
        return
    columns = np.concatenate([np.arange(f.offset, f.offset + f.length) for f in fields])
    per_block = max(1, _BLOCK_BYTES // dbf.record_length)
    with dbf.path.open("rb") as file:
        file.seek(dbf.header_length + start * dbf.record_length)
        for first in range(start, dbf.n_records, per_block):
            count = min(per_block, dbf.n_records - first)
            data = file.read(count * dbf.record_length)
            if len(data) < count * dbf.record_length:
                raise DataSourceError(f"{dbf.path}: the .dbf file ends inside record {first}")
            rows = np.frombuffer(data, dtype=np.uint8).reshape(count, dbf.record_length)
            live = np.flatnonzero(rows[:, 0] != _DELETED)
            yield live + first, rows[np.ix_(live, columns)]


def _show_name(name: bytes) -> str:
    for codec in _DETECTION_ORDER:
        try:
            return repr(name.decode(codec))
        except UnicodeDecodeError:
            continue
    return repr(name)

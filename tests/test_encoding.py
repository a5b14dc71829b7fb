"""Tests of geozones.io.encoding: deciding the attribute encoding of a shapefile."""

from __future__ import annotations

import struct
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

import geozones.io.encoding as encoding_module
from geozones.errors import DataSourceError, EncodingError
from geozones.io.encoding import EncodingDecision, detect_shapefile_encoding

CHINESE = ["永久基本农田", "生态保护红线", "城镇开发边界", "水田", "旱地"]
ASCII = ["YJJBNT", "STBHHX", "CZKFBJ", "011", "013"]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def write_shapefile(
    folder: Path,
    names: list[str],
    *,
    encoding: str,
    cpg: bool,
    stem: str = "layer",
    field: str = "DLMC",
) -> Path:
    """Write a point shapefile with one text field via pyogrio; drop the .cpg if asked."""
    frame = gpd.GeoDataFrame(
        {field: names, "BSM": np.arange(len(names))},
        geometry=shapely.points(np.full(len(names), 117.0), np.full(len(names), 35.0)),
        crs=4490,
    )
    path = folder / f"{stem}.shp"
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    written_cpg = path.with_suffix(".cpg")
    assert written_cpg.exists()  # GDAL writes one whenever encoding is given
    if not cpg:
        written_cpg.unlink()
    return path


def read_strings(path: Path, decision: EncodingDecision, field: str = "DLMC") -> list[str]:
    """Read the text field back with pyogrio, using the decided encoding."""
    frame = pyogrio.read_dataframe(path, encoding=decision.encoding)
    return list(frame[field])


def dbf_header(count: int, *, width: int = 20, ldid: int = 0, field: bytes = b"NAME") -> bytes:
    """A dBASE III header with one character field of ``width`` bytes."""
    header_length = 32 + 32 + 1
    header = struct.pack("<B3BIHH20x", 0x03, 124, 1, 1, count, header_length, 1 + width)
    header = header[:29] + bytes([ldid]) + header[30:]
    descriptor = field.ljust(11, b"\x00") + b"C" + b"\x00" * 4 + bytes([width, 0]) + b"\x00" * 14
    return header + descriptor + b"\x0d"


def raw_dbf(
    values: list[bytes],
    *,
    width: int = 20,
    ldid: int = 0,
    field: bytes = b"NAME",
    deleted: frozenset[int] = frozenset(),
) -> bytes:
    """Build a dBASE III file with one character field, byte by byte."""
    records = b"".join(
        (b"*" if i in deleted else b" ") + v[:width].ljust(width, b" ")
        for i, v in enumerate(values)
    )
    return dbf_header(len(values), width=width, ldid=ldid, field=field) + records + b"\x1a"


def write_raw(folder: Path, data: bytes, name: str = "raw.dbf") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# Written by pyogrio, with and without .cpg
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("names", "encoding"), [(CHINESE, "GBK"), (CHINESE, "UTF-8")])
def test_with_cpg(tmp_path: Path, names: list[str], encoding: str) -> None:
    path = write_shapefile(tmp_path, names, encoding=encoding, cpg=True)
    decision = detect_shapefile_encoding(path)
    assert decision == EncodingDecision(encoding, "cpg", False, f"layer.cpg says {encoding!r}")
    assert read_strings(path, decision) == names


def test_gbk_without_cpg_is_detected(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, CHINESE, encoding="GBK", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == ("GBK", "detected", True)
    assert "not as UTF-8" in decision.detail and "no .cpg" in decision.detail
    assert read_strings(path, decision) == CHINESE
    # without the decision GDAL falls back to ISO-8859-1: the mojibake this module prevents
    assert list(pyogrio.read_dataframe(path)["DLMC"]) != CHINESE


def test_utf8_without_cpg_is_detected(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, CHINESE, encoding="UTF-8", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == ("UTF-8", "detected", True)
    assert read_strings(path, decision) == CHINESE


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_ascii_without_cpg(tmp_path: Path, encoding: str) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding=encoding, cpg=False)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == ("ascii", "ascii", False)
    assert read_strings(path, decision) == ASCII


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_ascii_with_cpg_follows_cpg(tmp_path: Path, encoding: str) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding=encoding, cpg=True)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == (encoding, "cpg", False)
    assert read_strings(path, decision) == ASCII


def test_chinese_field_names_are_decoded_too(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding="GBK", cpg=False, field="地类名称")
    decision = detect_shapefile_encoding(path)
    assert decision.encoding == "GBK" and decision.source == "detected"
    assert read_strings(path, decision, field="地类名称") == ASCII


def test_utf8_field_name_cut_mid_character(tmp_path: Path) -> None:
    # GDAL cuts "地类名称" to 10 bytes in UTF-8, leaving the first bytes of 称 behind
    with pytest.warns(RuntimeWarning):
        path = write_shapefile(tmp_path, CHINESE, encoding="UTF-8", cpg=False, field="地类名称")
    decision = detect_shapefile_encoding(path)
    assert decision.encoding == "UTF-8"


def test_path_may_be_dbf_or_bare_or_upper_case(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, CHINESE, encoding="GBK", cpg=True)
    for suffix in (".DBF", ".CPG"):
        source = path.with_suffix(suffix.lower())
        source.rename(path.with_suffix(suffix))
    for given in (path, path.with_suffix(".DBF"), path.with_suffix(""), str(path)):
        decision = detect_shapefile_encoding(given)
        assert decision.encoding == "GBK" and decision.source == "cpg"


# --------------------------------------------------------------------------------------------
# .cpg contents
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "codec"),
    [
        ("UTF-8", "UTF-8"),
        ("utf8", "UTF-8"),
        ("65001", "UTF-8"),
        ("GBK", "GBK"),
        ("936", "GBK"),
        ("CP936", "GBK"),
        ("ANSI 936", "GBK"),
        ("GB2312", "GBK"),
        ("gb18030", "GB18030"),
        ("54936", "GB18030"),
        ("\ufeffGBK\r\n", "GBK"),
    ],
)
def test_cpg_names_for_chinese_text(tmp_path: Path, said: str, codec: str) -> None:
    encoding = "UTF-8" if codec == "UTF-8" else "GBK"
    path = write_shapefile(tmp_path, CHINESE, encoding=encoding, cpg=False)
    path.with_suffix(".cpg").write_text(said, encoding="utf-8")
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == (codec, "cpg", False)
    assert read_strings(path, decision) == CHINESE


@pytest.mark.parametrize(
    ("said", "codec"),
    [
        ("1252", "CP1252"),
        ("ANSI 1252", "CP1252"),
        ("ISO-8859-1", "ISO-8859-1"),
        ("8859-1", "ISO-8859-1"),
        ("88591", "ISO-8859-1"),
        ("Big5", "BIG5"),
        ("950", "CP950"),
        ("437", "CP437"),
        ("EUC-KR", "EUC-KR"),
    ],
)
def test_cpg_names_for_other_code_pages(tmp_path: Path, said: str, codec: str) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding="UTF-8", cpg=False)
    path.with_suffix(".cpg").write_text(said)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source) == (codec, "cpg")
    assert read_strings(path, decision) == ASCII  # GDAL accepts the name too


def test_big5_cpg_reads_traditional_chinese(tmp_path: Path) -> None:
    names = ["臺灣", "農田"]
    path = write_shapefile(tmp_path, names, encoding="CP950", cpg=False)
    path.with_suffix(".cpg").write_text("950")
    decision = detect_shapefile_encoding(path)
    assert decision.encoding == "CP950"
    assert read_strings(path, decision) == names


@pytest.mark.parametrize("said", ["System", "", "  ", "ANSI", "no-such-codec"])
def test_cpg_naming_nothing_falls_through_to_detection(tmp_path: Path, said: str) -> None:
    path = write_shapefile(tmp_path, CHINESE, encoding="GBK", cpg=False)
    path.with_suffix(".cpg").write_text(said)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == ("GBK", "detected", True)
    assert "names no usable encoding" in decision.detail


def test_cpg_contradicting_the_bytes_raises(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, CHINESE, encoding="GBK", cpg=False)
    path.with_suffix(".cpg").write_text("UTF-8")
    with pytest.raises(EncodingError) as info:
        detect_shapefile_encoding(path)
    message = str(info.value)
    assert "layer.dbf" in message and "layer.cpg" in message
    assert "contradicts" in message
    assert "decode as GBK" in message and "encoding='GBK'" in message
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------------------------
# Language driver id
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ldid", [0x4D, 0x7A])
def test_ldid_936_is_trusted_when_it_decodes(tmp_path: Path, ldid: int) -> None:
    dbf = write_raw(tmp_path, raw_dbf([n.encode("gbk") for n in CHINESE], ldid=ldid))
    decision = detect_shapefile_encoding(dbf)
    assert (decision.encoding, decision.source, decision.guessed) == ("GBK", "ldid", False)
    assert f"0x{ldid:02X}" in decision.detail and "936" in decision.detail


def test_ldid_read_by_gdal_too(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, CHINESE, encoding="GBK", cpg=False)
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[29] = 0x4D
    dbf.write_bytes(bytes(data))
    decision = detect_shapefile_encoding(path)
    assert decision.source == "ldid"
    assert read_strings(path, decision) == CHINESE


def test_ldid_that_does_not_decode_falls_through(tmp_path: Path) -> None:
    # 0x4D says GBK but the text is UTF-8 that is not valid GBK (b"\xb4" + b"1")
    values = ["水1号".encode(), "水田".encode()]
    with pytest.raises(UnicodeDecodeError):
        values[0].decode("gbk")
    dbf = write_raw(tmp_path, raw_dbf(values, ldid=0x4D))
    decision = detect_shapefile_encoding(dbf)
    assert (decision.encoding, decision.source, decision.guessed) == ("UTF-8", "detected", True)
    assert "does not decode" in decision.detail


@pytest.mark.parametrize("ldid", [0x00, 0x57])
def test_ldid_without_information(tmp_path: Path, ldid: int) -> None:
    dbf = write_raw(tmp_path, raw_dbf([n.encode("gbk") for n in CHINESE], ldid=ldid))
    decision = detect_shapefile_encoding(dbf)
    assert (decision.encoding, decision.source) == ("GBK", "detected")


def test_ldid_of_code_page_python_lacks(tmp_path: Path) -> None:
    dbf = write_raw(tmp_path, raw_dbf([n.encode("gbk") for n in CHINESE], ldid=0x68))
    decision = detect_shapefile_encoding(dbf)
    assert (decision.encoding, decision.source) == ("GBK", "detected")
    assert "code page 895" in decision.detail


def test_ldid_for_ascii_file(tmp_path: Path) -> None:
    dbf = write_raw(tmp_path, raw_dbf([n.encode() for n in ASCII], ldid=0x4D))
    assert detect_shapefile_encoding(dbf).source == "ldid"


def test_cpg_wins_over_ldid(tmp_path: Path) -> None:
    dbf = write_raw(tmp_path, raw_dbf([n.encode() for n in CHINESE], ldid=0x4D))
    dbf.with_suffix(".cpg").write_text("UTF-8")
    decision = detect_shapefile_encoding(dbf)
    assert (decision.encoding, decision.source) == ("UTF-8", "cpg")


# --------------------------------------------------------------------------------------------
# Detection from the bytes
# --------------------------------------------------------------------------------------------


def test_utf8_that_is_also_valid_gb18030_is_utf8(tmp_path: Path) -> None:
    value = "中文".encode()
    # the classic mojibake "涓枃": the UTF-8 bytes are valid GB18030 (not GBK: 0xADE6 is
    # in GBK's user-defined area, which GB18030 maps to private use)
    assert value.decode("gb18030").startswith("涓")
    with pytest.raises(UnicodeDecodeError):
        value.decode("gbk")
    path = write_shapefile(tmp_path, ["中文"], encoding="UTF-8", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert decision.encoding == "UTF-8"
    assert read_strings(path, decision) == ["中文"]


def test_utf8_that_is_also_valid_gbk_is_utf8(tmp_path: Path) -> None:
    names = ["农田", "水田"]
    assert "".join(names).encode().decode("gbk")  # valid GBK too
    path = write_shapefile(tmp_path, names, encoding="UTF-8", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert decision.encoding == "UTF-8"
    assert read_strings(path, decision) == names


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # U+20000 (CJK Extension B) exists in GB18030 (four bytes) but not in GBK
    names = ["𠀀地", "水田"]
    path = write_shapefile(tmp_path, names, encoding="GB18030", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source, decision.guessed) == ("GB18030", "detected", True)
    assert read_strings(path, decision) == names


@pytest.mark.parametrize("block_bytes", [None, 7, 1000, 4096])
def test_first_non_ascii_only_in_last_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int | None
) -> None:
    if block_bytes is not None:  # small blocks: thousands of block boundaries
        monkeypatch.setattr(encoding_module, "_BLOCK_BYTES", block_bytes)
    names = [f"TB{i:06d}" for i in range(4999)] + ["永久基本农田保护区"]
    path = write_shapefile(tmp_path, names, encoding="GBK", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.source) == ("GBK", "detected")
    assert read_strings(path, decision) == names


def test_utf8_only_in_last_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding_module, "_BLOCK_BYTES", 333)
    names = ["x" * 20] * 3000 + ["城镇开发边界"]
    path = write_shapefile(tmp_path, names, encoding="UTF-8", cpg=False)
    assert detect_shapefile_encoding(path).encoding == "UTF-8"


def test_thousands_of_chinese_records(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = [
        "".join(rng.choice(list("耕地林草水田旱地园村庄城镇红线农田")) for _ in range(8))
        for _ in range(3000)
    ]
    path = write_shapefile(tmp_path, names, encoding="GBK", cpg=False)
    decision = detect_shapefile_encoding(path)
    assert decision.encoding == "GBK"
    assert read_strings(path, decision) == names


def test_value_cut_mid_character_at_field_end(tmp_path: Path) -> None:
    # ArcGIS and GDAL cut text at the field width in bytes: a lone GBK lead byte remains
    cut = "永久基本农田".encode("gbk")[:5]
    dbf = write_raw(tmp_path, raw_dbf([cut, "水田".encode("gbk")], width=5))
    assert detect_shapefile_encoding(dbf).encoding == "GBK"
    cut_utf8 = "永久基本农田".encode()[:7]
    dbf = write_raw(tmp_path, raw_dbf([cut_utf8, "水田".encode()], width=7), name="u.dbf")
    assert detect_shapefile_encoding(dbf).encoding == "UTF-8"


def test_deleted_records_are_ignored(tmp_path: Path) -> None:
    values = [b"\xff\xff\xff\xff", "水田".encode("gbk")]  # 0xFF is no lead byte anywhere
    dbf = write_raw(tmp_path, raw_dbf(values, deleted=frozenset({0})))
    assert detect_shapefile_encoding(dbf).encoding == "GBK"


def test_undecodable_text_raises(tmp_path: Path) -> None:
    values = ["水田".encode("gbk"), b"\xff\xfe\xff\xfe bad"]
    dbf = write_raw(tmp_path, raw_dbf(values))
    with pytest.raises(EncodingError) as info:
        detect_shapefile_encoding(dbf)
    message = str(info.value)
    assert str(dbf) in message
    for tried in ("UTF-8", "GBK", "GB18030", ".cpg", "language driver id 0x00"):
        assert tried in message
    assert "encoding=" in message and "read_layer" in message
    assert "record 1" in message


def test_file_without_text_fields_is_ascii(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding="UTF-8", cpg=False)
    frame = pyogrio.read_dataframe(path)[["BSM", "geometry"]]
    pyogrio.write_dataframe(frame, tmp_path / "numbers.shp")
    (tmp_path / "numbers.cpg").unlink()
    decision = detect_shapefile_encoding(tmp_path / "numbers.shp")
    assert (decision.encoding, decision.source) == ("ascii", "ascii")


def test_empty_dbf(tmp_path: Path) -> None:
    dbf = write_raw(tmp_path, raw_dbf([]))
    assert detect_shapefile_encoding(dbf).encoding == "ascii"


def test_large_file_is_read_in_blocks(tmp_path: Path) -> None:
    # ~32 MB of records, GBK text only in the last one: peak memory must stay far below
    width, count = 100, 320_000
    body = np.full((count, width + 1), ord(" "), dtype=np.uint8)
    body[:, 1:10] = np.frombuffer(b"TB0000001", dtype=np.uint8)
    last = "永久基本农田".encode("gbk")
    body[-1, 1 : 1 + len(last)] = np.frombuffer(last, dtype=np.uint8)
    head = dbf_header(count, width=width)
    dbf = tmp_path / "big.dbf"
    dbf.write_bytes(head + body.tobytes())
    size = dbf.stat().st_size
    del body
    tracemalloc.start()
    started = time.perf_counter()
    decision = detect_shapefile_encoding(dbf)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert decision.encoding == "GBK"
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,}-byte file"
    print(f"{size:,} bytes scanned in {elapsed:.2f} s, peak traced memory {peak:,} bytes")
    assert elapsed < 30


# --------------------------------------------------------------------------------------------
# Broken files
# --------------------------------------------------------------------------------------------


def test_missing_dbf(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding="UTF-8", cpg=True)
    path.with_suffix(".dbf").unlink()
    with pytest.raises(DataSourceError, match=r"layer\.shp.*no \.dbf"):
        detect_shapefile_encoding(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="nothing"):
        detect_shapefile_encoding(tmp_path / "nothing.shp")


def test_truncated_records(tmp_path: Path) -> None:
    data = raw_dbf([n.encode("gbk") for n in CHINESE])
    dbf = write_raw(tmp_path, data[:-30])
    with pytest.raises(DataSourceError, match="truncated") as info:
        detect_shapefile_encoding(dbf)
    assert str(dbf) in str(info.value)
    assert isinstance(info.value, OSError)


def test_truncated_pyogrio_dbf(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, CHINESE * 100, encoding="GBK", cpg=False)
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:1000])
    with pytest.raises(DataSourceError, match="truncated"):
        detect_shapefile_encoding(path)


@pytest.mark.parametrize("cut", [0, 10, 31, 40])
def test_truncated_header(tmp_path: Path, cut: int) -> None:
    dbf = write_raw(tmp_path, raw_dbf([b"abc"])[:cut])
    with pytest.raises(DataSourceError, match=r"raw\.dbf"):
        detect_shapefile_encoding(dbf)


def test_not_a_dbf(tmp_path: Path) -> None:
    dbf = write_raw(tmp_path, b"This is a text file, not a dBASE table.\n" * 5)
    with pytest.raises(DataSourceError, match="not a dBASE"):
        detect_shapefile_encoding(dbf)


def test_shp_given_as_dbf(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path, ASCII, encoding="UTF-8", cpg=True)
    fake = tmp_path / "fake.dbf"
    fake.write_bytes(path.read_bytes())
    with pytest.raises(DataSourceError, match=r"fake\.dbf"):
        detect_shapefile_encoding(fake)

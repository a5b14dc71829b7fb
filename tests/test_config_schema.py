"""The configuration schema: declared once, the docs generated from it, zone names."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import geozones
from geozones.workflow.config import KEY_TABLES, Config, ConfigError, ZoneSpec, load_config
from geozones.workflow.config_schema import fill_key_tables, keys_of

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
DOCS = ROOT / "docs" / "config.md"

MINIMAL = """
[zones]
path = "XZQ.shp"
code_field = "XZQDM"
{names}
[layers.farmland]
path = "YJJBNT.shp"

[layers.redline]
path = "STBHHX.shp"

[layers.urban]
path = "CZKFBJ.shp"
"""


def write(folder: Path, names: str = "") -> Path:
    for name in ("XZQ.shp", "YJJBNT.shp", "STBHHX.shp", "CZKFBJ.shp"):
        (folder / name).write_bytes(b"")
    path = folder / "geozones.toml"
    path.write_text(MINIMAL.format(names=names), encoding="utf-8")
    return path


# --- docs/config.md is generated from the schema -------------------------------------------


def test_docs_key_tables_are_up_to_date():
    text = DOCS.read_text(encoding="utf-8")
    assert text.count("<!-- keys: ") == len(KEY_TABLES)
    assert fill_key_tables(text, KEY_TABLES) == text, (
        "docs/config.md's key tables are out of date with geozones/config.py; "
        "run: python scripts/make_config_docs.py"
    )


def test_every_key_of_the_schema_is_in_the_docs():
    text = DOCS.read_text(encoding="utf-8")
    for cls in KEY_TABLES.values():
        for key in keys_of(cls).values():
            assert f"| {key.label or f'`{key.name}`'} |" in text, key.name


def test_docs_script_regenerates_a_stale_table():
    stale = DOCS.read_text(encoding="utf-8").replace(
        "| `gap_m` | number ≥ 0 | `10` |", "| `gap_m` | number | `12` |"
    )
    assert fill_key_tables(stale, KEY_TABLES) == DOCS.read_text(encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_config_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_key_declared_on_a_field_is_validated_from_there(tmp_path):
    """The loader takes the key list, defaults and bounds from the dataclass fields."""
    config = load_config(write(tmp_path))
    top = keys_of(Config)
    assert config.unit == top["unit"].default == "mu"
    assert config.sliver_m2 == top["sliver_m2"].default == 200.0
    assert list(top)[:5] == ["title", "language", "unit", "sliver_m2", "xy_tolerance"]
    with pytest.raises(ConfigError, match=r"zones\.nmes: unknown key \(did you mean 'names'\?\)"):
        load_config(write(tmp_path, "nmes = 1"))
    text = MINIMAL.format(names="") + "\n[blocks]\ngap_m = -1\n"
    (tmp_path / "geozones.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"blocks\.gap_m: must be 0 or more, got -1 \(m\)"):
        load_config(tmp_path / "geozones.toml")


def test_zone_spec_keeps_its_positional_fields():
    spec = ZoneSpec(Path("XZQ.shp"), None, "XZQDM")
    assert (spec.layer, spec.code_field, spec.name_field, spec.names) == (None, "XZQDM", None, {})


# --- [zones.names] ---------------------------------------------------------------------------


def test_zone_names_are_read_by_full_code(tmp_path):
    names = '[zones.names]\n99 = "示范省"\n"9901" = "东川市"\n990102 = "东川区"\n'
    config = load_config(write(tmp_path, names))
    assert config.zones.names == {"990000": "示范省", "990100": "东川市", "990102": "东川区"}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ('[zones.names]\n"9a" = "x"', r"zones\.names\.9a: is not a zone code; the keys are 2-"),
        ('[zones.names]\n990 = "x"', r"zones\.names\.990: is not a zone code"),
        (
            '[zones.names]\n99 = "示范省"\n990000 = "省"',
            r"zones\.names\.990000: names zone 990000 again",
        ),
        ('[zones.names]\n99 = " "', r"zones\.names\.99: is empty; give the name"),
        ("[zones.names]\n99 = 1", r"zones\.names\.99: expected a string, got an integer 1"),
        ('names = "示范省"', r"zones\.names: expected a table, got a string"),
    ],
)
def test_wrong_zone_names_are_refused(tmp_path, names, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, names))


def test_report_rows_of_cities_and_provinces_carry_their_names(tmp_path):
    from geozones.report import build_report

    config = geozones.load_config(SAMPLE / "geozones.toml")
    names = {"990000": "示范省", "990100": "东川市", "990200": "西岭市", "990102": "东川城区"}
    config = dataclasses.replace(
        config,
        rasters=None,
        blocks=None,
        zones=dataclasses.replace(config.zones, names=names),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(config)
    rows = report.coverage.drop_duplicates("zone").set_index("zone")
    assert rows.loc["990000", "level"] == "province"
    assert rows.loc["990000", "name"] == "示范省"
    assert rows.loc["990100", "name"] == "东川市"
    assert rows.loc["990200", "name"] == "西岭市"
    assert rows.loc["990102", "name"] == "东川城区"  # [zones.names] wins over name_field
    counties = dict(report.counties())
    assert counties["990102"] == "东川城区"
    # a county not named in the table keeps the name of its name_field
    zones = config.read_zones()
    own = dict(zip(zones["XZQDM"].astype(str), zones["XZQMC"].astype(str), strict=True))
    assert rows.loc["990121", "name"] == own["990121"] != ""

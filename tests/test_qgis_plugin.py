"""The QGIS plugin's parts that need no QGIS: running geozones (progress, errors, cancel), the
configuration it writes, what it asks the installed geozones, and its texts. They run in
geozones' own environment; tests/test_qgis.py runs the algorithms in QGIS."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

import geozones

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
GEOZONES = Path(sys.executable).parent / "geozones"
sys.path.insert(0, str(ROOT / "qgis_plugin"))

from geozones_qgis import capabilities, configfile, i18n, runner  # noqa: E402


class Feedback:
    """What QgsProcessingFeedback records, in lists; cancels after `cancel_after` polls."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.progress: list[float] = []
        self.texts: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.commands: list[str] = []
        self.polls = 0
        self.cancel_after = cancel_after

    def setProgress(self, value: float) -> None:
        self.progress.append(value)

    def setProgressText(self, text: str) -> None:
        self.texts.append(text)

    def pushWarning(self, text: str) -> None:
        self.warnings.append(text)

    def reportError(self, text: str, fatal: bool = False) -> None:
        self.errors.append(text)

    def pushConsoleInfo(self, text: str) -> None:
        self.console.append(text)

    def pushCommandInfo(self, text: str) -> None:
        self.commands.append(text)

    def isCanceled(self) -> bool:
        self.polls += 1
        return self.cancel_after is not None and self.polls > self.cancel_after


def environ(**extra: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if key != runner.EXECUTABLE_VARIABLE}
    return {**base, **extra}


# --------------------------------------------------------------------------------------------
# Finding and running geozones
# --------------------------------------------------------------------------------------------


def test_the_setting_comes_first_then_the_variable_then_path(tmp_path):
    other = tmp_path / "bin" / "geozones"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    env = environ(GEOZONES_EXE=str(other), PATH=str(GEOZONES.parent))
    assert runner.executable_command(str(GEOZONES), env) == [str(GEOZONES)]
    assert runner.executable_command(None, env) == [str(other)]
    assert runner.executable_command(None, environ(PATH=str(GEOZONES.parent))) == [str(GEOZONES)]
    # a Python interpreter runs geozones as a module
    assert runner.executable_command(sys.executable, env) == [sys.executable, "-m", "geozones"]


def test_nothing_found_says_the_three_ways_to_name_it(tmp_path):
    env = environ(GEOZONES_EXE=str(tmp_path / "missing"), PATH=str(tmp_path))
    with pytest.raises(runner.GeozonesNotFound) as caught:
        runner.executable_command("", env)
    message = str(caught.value)
    assert str(tmp_path / "missing") in message and "no geozones on PATH" in message
    assert "Processing > Providers > geozones" in message and "GEOZONES_EXE" in message


def test_the_child_gets_neither_qgis_python_nor_its_proj():
    qgis_like = {
        "PYTHONHOME": "C:/OSGeo4W/apps/Python39",
        "PYTHONPATH": "C:/OSGeo4W/apps/qgis/python",
        "PROJ_LIB": "C:/OSGeo4W/share/proj",
        "GDAL_DATA": "C:/OSGeo4W/share/gdal",
        "PATH": "/usr/bin",
        "LANG": "zh_CN.UTF-8",
    }
    child = runner.child_environment(qgis_like)
    assert child["PATH"] == "/usr/bin" and child["LANG"] == "zh_CN.UTF-8"
    assert not {"PYTHONHOME", "PYTHONPATH", "PROJ_LIB", "GDAL_DATA"} & set(child)
    assert child["PYTHONUTF8"] == "1" and child["PYTHONIOENCODING"] == "utf-8"


def test_a_run_feeds_progress_warnings_and_returns_the_json(tmp_path):
    feedback = Feedback()
    out = tmp_path / "area.gpkg"
    arguments = ["area", str(SAMPLE / "YJJBNT.shp"), "-o", str(out), "--unit", "mu", "--json"]
    outcome = runner.run_geozones(
        arguments, feedback, configured=str(GEOZONES), progress_span=(0.0, 90.0)
    )
    assert outcome.returncode == 0 and outcome.result["unit"] == "mu"
    assert outcome.result["features"] == 2916 and out.exists()
    assert feedback.progress[0] == 0.0 and feedback.progress[-1] == 90.0
    assert feedback.progress == sorted(feedback.progress)
    assert any(text.startswith("measuring 2916 features") for text in feedback.texts)
    # geozones' warnings, one line each: GBK guessed, one polygon repaired, one null geometry
    assert any("decoded as GBK" in text for text in feedback.warnings)
    assert any("repaired 1 invalid polygon" in text for text in feedback.warnings)
    assert outcome.warnings == feedback.warnings
    assert feedback.commands[0].startswith(f"{GEOZONES} --progress-json area")


def test_an_error_is_geozones_one_line_message(tmp_path):
    feedback = Feedback()
    with pytest.raises(runner.GeozonesFailed) as caught:
        runner.run_geozones(
            ["area", str(tmp_path / "nowhere.shp"), "-o", str(tmp_path / "o.gpkg"), "--json"],
            feedback,
            configured=str(GEOZONES),
        )
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert "nowhere.shp" in message and "\n" not in message
    assert "Traceback" not in message


def test_an_accepted_status_returns_its_json():
    feedback = Feedback()
    missing_crs = ["check", str(SAMPLE / "YJJBNT.shp"), "--crs", "EPSG:4490", "--json"]
    outcome = runner.run_geozones(missing_crs, feedback, configured=str(GEOZONES), accept=(0, 2))
    assert outcome.returncode == 2
    (checked,) = outcome.result
    assert checked["status"] == "refused" and checked["error"] == "CRSMismatchError"


def fake_geozones(folder: Path) -> Path:
    """A 'geozones' that starts a worker, reports progress, then works for a minute."""
    script = folder / "geozones"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            sleep 60 &
            echo $! > {folder}/worker.pid
            echo $$ > {folder}/leader.pid
            echo '{{"progress": 0.1, "message": "working"}}' >&2
            sleep 60
            """
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


@pytest.mark.skipif(sys.platform == "win32", reason="process groups by POSIX signals")
def test_cancel_ends_geozones_and_its_workers(tmp_path):
    script = fake_geozones(tmp_path)
    feedback = Feedback(cancel_after=10)  # about one second of polling
    started = time.monotonic()
    with pytest.raises(runner.GeozonesCanceled):
        runner.run_geozones(["stats", "x.toml"], feedback, configured=str(script))
    assert time.monotonic() - started < 10
    leader = int((tmp_path / "leader.pid").read_text())
    worker = int((tmp_path / "worker.pid").read_text())
    deadline = time.monotonic() + 5
    while (alive(leader) or alive(worker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(leader) and not alive(worker)
    assert feedback.texts == ["working"]


def test_stderr_lines_that_are_not_json_progress_go_to_the_console():
    feedback = Feedback()
    messages = runner.StderrMessages(feedback, (10.0, 20.0))
    for line in (
        '{"progress": 0.5, "message": "half"}\n',
        '{"progress": "x"}\n',
        "{not json\n",
        "warning: a warning\n",
        "Error: the error\n",
        "Traceback (most recent call last):\n",
        "\n",
    ):
        messages.handle(line)
    assert feedback.progress == [15.0] and feedback.texts == ["half"]
    assert feedback.warnings == ["a warning"]
    assert feedback.console == [
        '{"progress": "x"}',
        "{not json",
        "Traceback (most recent call last):",
    ]
    assert messages.failure(2) == "the error"
    crashed = runner.StderrMessages(Feedback())
    crashed.handle("Traceback (most recent call last):\n")
    crashed.handle("ZeroDivisionError: division by zero\n")
    assert crashed.failure(1) == (
        "geozones ended with status 1:\nTraceback (most recent call last):\n"
        "ZeroDivisionError: division by zero"
    )


# --------------------------------------------------------------------------------------------
# What geozones offers
# --------------------------------------------------------------------------------------------


def test_capabilities_of_the_installed_geozones():
    offered = capabilities.query(str(GEOZONES))
    assert offered.error is None and offered.version == geozones.__version__
    assert {"area", "coverage", "resolve", "blocks", "site-check", "report"} <= set(
        offered.commands
    )
    methods = offered.method_choices()
    assert methods[:4] == ["ellipsoidal", "planar", "geodesic", "survey"]
    assert set(offered.area_methods) <= set(methods)
    assert offered.unit_choices()[:6] == ["m2", "ha", "km2", "mu", "wan_mu", "wan_ha"]
    assert offered.unit_label("mu", "en") == "mu (亩)" and offered.unit_label("mu", "zh") == "亩"


def test_new_methods_come_after_the_known_ones_and_a_broken_install_gives_defaults(tmp_path):
    offered = capabilities.Capabilities.from_json(
        {"version": "9", "commands": ["area"], "area_methods": ["ellipsoidal", "better"]}
    )
    assert offered.method_choices() == ["ellipsoidal", "planar", "geodesic", "survey", "better"]
    broken = tmp_path / "geozones"
    broken.write_text("#!/bin/sh\necho 'Error: no such command' >&2\nexit 2\n")
    broken.chmod(0o755)
    fallback = capabilities.query(str(broken))
    assert fallback.error == "Error: no such command"
    assert "resolve" in fallback.commands and fallback.method_choices()[0] == "ellipsoidal"


def test_capabilities_are_kept_for_the_same_program(tmp_path):
    calls = tmp_path / "calls"
    program = tmp_path / "geozones"
    document = {"version": "7", "commands": ["area"], "area_methods": ["ellipsoidal", "survey"]}
    program.write_text(f"#!/bin/sh\necho x >> {calls}\necho '{json.dumps(document)}'\n")
    program.chmod(0o755)
    cache = tmp_path / "profile" / "geozones" / "capabilities.json"

    def asked() -> int:
        return len(calls.read_text().splitlines()) if calls.exists() else 0

    first = capabilities.query(str(program), cache=cache)
    assert (first.version, first.area_methods, asked()) == ("7", ("ellipsoidal", "survey"), 1)
    again = capabilities.query(str(program), cache=cache)
    assert (again.version, again.area_methods, asked()) == ("7", ("ellipsoidal", "survey"), 1)
    # a new program (reinstalled: other size or time) is asked again
    program.write_text(program.read_text() + "# reinstalled\n")
    capabilities.query(str(program), cache=cache)
    assert asked() == 2
    # so is one asked more than an hour ago
    record = json.loads(cache.read_text())
    record["time"] -= capabilities.CACHE_SECONDS + 1
    cache.write_text(json.dumps(record))
    capabilities.query(str(program), cache=cache)
    assert asked() == 3
    # a python running "-m geozones" is always asked: its packages change without it
    python = tmp_path / "python.json"
    assert capabilities.query(sys.executable, cache=python).error is None
    assert not python.exists()


# --------------------------------------------------------------------------------------------
# The configuration the plugin writes
# --------------------------------------------------------------------------------------------


def test_the_written_configuration_is_the_sample_check(tmp_path):
    gpkg = str(SAMPLE / "sanqusanxian.gpkg")
    config = configfile.CheckConfig(
        zones=configfile.LayerFile(gpkg, "XZQ"),
        code_field="XZQDM",
        name_field="XZQMC",
        layers={
            "farmland": configfile.LayerFile(
                str(SAMPLE / "YJJBNT.shp"), id_field="BSM", declared_area_field="TBMJ"
            ),
            "redline": configfile.LayerFile(gpkg, "STBHHX", id_field="BSM"),
            "urban": configfile.LayerFile(gpkg, "CZKFBJ", id_field="BSM"),
            "core_zone": configfile.LayerFile(gpkg, "ZRBHD_HXQ", id_field="BSM"),
        },
        title="示范省 三区三线 冲突检查",
        unit="mu",
        sliver_m2=200.0,
        overrides=[
            {
                "name": configfile.CORE_ZONE_RULE,
                "mask": "core_zone",
                "priority": list(configfile.CORE_ZONE_PRIORITY),
            }
        ],
        targets={"unit": "km2", "redline_min": 360.0, "farmland_min": None},
        blocks={"gap_m": 10.0},
        comment="Written by a test\nsecond line",
    )
    text = config.to_toml()
    assert text.startswith("# Written by a test\n# second line\n")
    path = tmp_path / "geozones.toml"  # the paths in it are absolute
    path.write_text(text, encoding="utf-8")
    loaded = geozones.load_config(path)
    sample = geozones.load_config(SAMPLE / "geozones.toml")
    assert list(loaded.layers) == list(sample.layers)
    for key, spec in loaded.layers.items():
        expected = sample.layers[key]
        assert (spec.path, spec.layer, spec.id_field) == (
            expected.path,
            expected.layer,
            expected.id_field,
        )
        assert spec.declared_area_field == expected.declared_area_field
    assert loaded.zones == sample.zones
    assert loaded.priority == sample.priority and loaded.overrides == sample.overrides
    assert (loaded.title, loaded.unit, loaded.sliver_m2) == (sample.title, "mu", 200.0)
    assert loaded.targets.redline_min == 360.0 and loaded.targets.farmland_min is None
    assert loaded.blocks is not None and loaded.blocks.gap_m == 10.0


def test_windows_paths_quotes_and_chinese_survive_toml():
    config = configfile.CheckConfig(
        zones=configfile.LayerFile('D:\\三区三线\\"新"\\XZQ.shp'),
        code_field="XZQDM",
        layers={"farmland": configfile.LayerFile("D:\\数据\\YJJBNT.shp", layer="a\tb")},
    )
    parsed = tomllib.loads(config.to_toml())
    assert parsed["zones"]["path"] == 'D:\\三区三线\\"新"\\XZQ.shp'
    assert parsed["layers"]["farmland"] == {"path": "D:\\数据\\YJJBNT.shp", "layer": "a\tb"}
    assert parsed["resolution"]["priority"] == ["farmland", "redline", "urban"]
    with pytest.raises(ValueError):
        configfile.toml_value(float("nan"))


def test_priority_orders():
    allowed = [*configfile.LINES, configfile.CORE_ZONE]
    assert configfile.parse_priority("redline, core_zone，farmland > urban", allowed) == [
        "redline",
        "core_zone",
        "farmland",
        "urban",
    ]
    for wrong in ("redline, redline", "forest, urban", " , "):
        with pytest.raises(ValueError, match="must name each of"):
            configfile.parse_priority(wrong, allowed)
    assert len(set(configfile.PRIORITIES)) == 6
    assert all(sorted(order) == sorted(configfile.LINES) for order in configfile.PRIORITIES)


# --------------------------------------------------------------------------------------------
# Texts and metadata
# --------------------------------------------------------------------------------------------


def test_every_text_has_english_and_chinese():
    for key, (english, chinese) in i18n.TEXTS.items():
        assert english.strip() and chinese.strip(), key
        assert any("\u4e00" <= char <= "\u9fff" for char in chinese), key
    assert i18n.language("zh_CN") == "zh" and i18n.language("zh-Hans") == "zh"
    assert i18n.language("en_US") == "en" and i18n.language("fr") == "en"
    assert i18n.tr("alg_resolve", "zh") == "按优先级调出冲突"
    assert i18n.tr("not_offered_error", "en", version="1", what="x") == (
        "The installed geozones (1) does not offer x; update geozones."
    )


def test_metadata_targets_qgis_3_22_and_declares_a_processing_provider():
    import configparser

    parser = configparser.ConfigParser()
    parser.read(ROOT / "qgis_plugin" / "geozones_qgis" / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["version"] == geozones.__version__
    assert (ROOT / "qgis_plugin" / "geozones_qgis" / general["icon"]).exists()
    assert json.dumps(general["description[zh]"], ensure_ascii=False)


def test_the_plugin_zip_holds_one_folder_with_the_plugin(tmp_path):
    import subprocess
    import zipfile

    script = ROOT / "scripts" / "build_qgis_plugin.py"
    built = subprocess.run(
        [sys.executable, str(script), "--dist", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    target = tmp_path / f"geozones_qgis-{geozones.__version__}.zip"
    assert built.stdout.strip() == f"wrote {target}"
    names = zipfile.ZipFile(target).namelist()
    assert {name.split("/")[0] for name in names} == {"geozones_qgis"}
    for needed in (
        "metadata.txt",
        "__init__.py",
        "provider.py",
        "icon.svg",
        "algorithms/resolve.py",
        "models/check_resolve_report.model3",
    ):
        assert f"geozones_qgis/{needed}" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    source = ROOT / "qgis_plugin" / "geozones_qgis"
    expected = sorted(
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    assert sorted(name.removeprefix("geozones_qgis/") for name in names) == expected

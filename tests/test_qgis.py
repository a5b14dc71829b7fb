"""The QGIS plugin in QGIS: every algorithm run headless, by ``processing.run`` in PyQGIS or by
``qgis_process run geozones:…``, on the sample province, its outputs compared with the
library's results computed here to the last digit; the Modeler chain; the styles, checked on
rendered pixels; errors and the QGIS locale.

QGIS comes from Debian (``apt-get install qgis python3-qgis``; ``make test`` tries to install
it). Without ``qgis_process`` every test here is skipped, saying so. The plugin is found through
``QGIS_PLUGINPATH`` and enabled in a scratch profile (``QGIS_CUSTOM_CONFIG_PATH``): the user's
own QGIS profile is never touched. qgis_process needs a few seconds to start, so most
algorithms run one after another in one PyQGIS process through ``processing.run`` (as the
toolbox and the Modeler run them), and ``qgis_process`` itself runs what only it shows (the
list, the help in two locales, an algorithm with its log, errors); the two go side by side,
once for the module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import box
from shapely.ops import polylabel

import geozones
from geozones.cli.check import check_one

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "qgis_plugin"
GEOZONES = Path(sys.executable).parent / "geozones"
MODEL = PLUGINS / "geozones_qgis" / "models" / "check_resolve_report.model3"
RENDER = ROOT / "scripts" / "render_qgis_map.py"
SYSTEM_PYTHON = "/usr/bin/python3"
#: Index of 亩 and km² in the plugin's unit choices (their order is fixed).
MU, KM2 = 3, 2
#: Seconds one qgis_process run may take on a loaded machine.
TIMEOUT = 300


def find_qgis_process() -> str | None:
    """qgis_process, or None. Debian 12's ``qgis_process`` wrapper passes ``--noversioncheck``,
    which its ``qgis_process.bin`` refuses: the binary is run directly when it is there."""
    for name in ("qgis_process.bin", "qgis_process"):
        found = shutil.which(name)
        if not found:
            continue
        probe = subprocess.run(
            [found, "--version"],
            capture_output=True,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            timeout=120,
            check=False,
        )
        if probe.returncode == 0:
            return found
    return None


NOT_AVAILABLE = (
    "qgis_process is not available (install QGIS: apt-get install qgis python3-qgis "
    "qgis-providers); the QGIS plugin's algorithms are not run"
)
# Whether it starts is seen by the fixture (a second or so, not paid by every test process that
# only collects this module).
if not any(shutil.which(name) for name in ("qgis_process.bin", "qgis_process")):
    pytest.skip(NOT_AVAILABLE, allow_module_level=True)


@dataclass
class Run:
    """One qgis_process run: its exit status, its JSON (with --json), its output."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def document(self) -> dict:
        assert self.returncode == 0, self.stdout[-3000:] + self.stderr[-3000:]
        return json.loads(self.stdout)

    @property
    def results(self) -> dict:
        return self.document["results"]


class Qgis:
    """qgis_process with a scratch profile in which the plugin, installed from its zip
    (``make qgis-plugin``), is enabled."""

    def __init__(self, folder: Path) -> None:
        program = find_qgis_process()
        if program is None:
            pytest.skip(NOT_AVAILABLE)
        self.program = program
        built = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "build_qgis_plugin.py"), "--dist", str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        plugins = folder / "plugins"
        with zipfile.ZipFile(built.stdout.split("wrote ", 1)[1].strip()) as archive:
            archive.extractall(plugins)
        runtime = folder / "runtime"
        runtime.mkdir(mode=0o700)
        base = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "GEOZONES_EXE")
        }
        self.env = {
            **base,
            "PATH": system_path(),
            "QT_QPA_PLATFORM": "offscreen",
            "QGIS_CUSTOM_CONFIG_PATH": str(folder / "profile"),
            "QGIS_PLUGINPATH": str(plugins),
            "GEOZONES_EXE": str(GEOZONES),
            "XDG_RUNTIME_DIR": str(runtime),
            "LANG": "en_US.UTF-8",
            "LC_ALL": "",
        }
        enabled = self.run("plugins", "enable", "geozones_qgis")
        assert enabled.returncode == 0, enabled.stdout + enabled.stderr

    def run(self, *arguments: str, json_output: bool = False, **env: str) -> Run:
        command = [self.program, *(["--json"] if json_output else []), *arguments]
        done = subprocess.run(
            command,
            capture_output=True,
            env={**self.env, **env},
            timeout=TIMEOUT,
            check=False,
        )
        return Run(
            done.returncode,
            done.stdout.decode("utf-8", errors="replace"),
            done.stderr.decode("utf-8", errors="replace"),
        )

    def python(self, script: Path, **env: str) -> Run:
        """Run a PyQGIS script with QGIS's own Python, the plugin importable."""
        done = subprocess.run(
            [SYSTEM_PYTHON, str(script)],
            capture_output=True,
            env={**self.env, "PYTHONPATH": self.env["QGIS_PLUGINPATH"], **env},
            timeout=TIMEOUT,
            check=False,
        )
        return Run(
            done.returncode,
            done.stdout.decode("utf-8", errors="replace"),
            done.stderr.decode("utf-8", errors="replace"),
        )

    def algorithm(self, algorithm: str, parameters: dict[str, object], **env: str) -> Run:
        if algorithm == "python":
            return self.python(Path(str(parameters["script"])), **env)
        if algorithm in ("list", "help"):
            return self.run(algorithm, *map(str, parameters.get("", [])), **env)
        pairs = []
        for name, value in parameters.items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append(f"{name}={item}")
        return self.run("run", algorithm, "--", *pairs, json_output=True, **env)


@dataclass
class Data:
    """The copy of the sample province the runs read, and the folder they write to."""

    folder: Path
    out: Path

    @property
    def farmland(self) -> Path:
        return self.folder / "YJJBNT.shp"

    @property
    def gpkg(self) -> Path:
        return self.folder / "sanqusanxian.gpkg"

    def layer(self, name: str) -> str:
        return f"{self.gpkg}|layername={name}"

    @property
    def lines(self) -> dict[str, str]:
        return {
            "FARMLAND": str(self.farmland),
            "REDLINE": self.layer("STBHHX"),
            "URBAN": self.layer("CZKFBJ"),
            "ZONES": self.layer("XZQ"),
        }


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    folder = tmp_path_factory.mktemp("sample")
    shutil.copytree(ROOT / "sample_data", folder, dirs_exist_ok=True)
    x, y = 39_600_000, 3_160_000
    footprint = gpd.GeoDataFrame(
        {"XMMC": ["东川区项目", "西岭区项目"]},
        geometry=[box(39_617_300, 3_147_300, 39_617_600, 3_147_600), box(x, y, x + 100, y + 100)],
        crs=4527,
    )
    pyogrio.write_dataframe(footprint, folder / "project.gpkg")
    noprj = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[box(x, y, x + 100, y + 100)], crs=4527)
    pyogrio.write_dataframe(noprj, folder / "noprj.shp")
    (folder / "noprj.prj").unlink()
    return Data(folder, tmp_path_factory.mktemp("qgis_outputs"))


def pyqgis_script(data: Data) -> Path:
    """A script that runs geozones:area through processing.run, as PyQGIS users do, on a
    shapefile without .prj whose CRS was set in QGIS and on a memory layer; and a report into
    a temporary folder (which qgis_process removes when it ends); resolve run and loaded into
    the project, as the toolbox does."""
    script = data.out / "pyqgis_area.py"
    script.write_text(
        f"""\
import json, sys
sys.path.insert(0, "/usr/share/qgis/python/plugins")
from qgis.core import (
    QgsApplication, QgsCoordinateReferenceSystem, QgsFeatureRequest, QgsProject, QgsVectorLayer,
)
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
from geozones_qgis.provider import GeozonesProvider
provider = GeozonesProvider()
QgsApplication.processingRegistry().addProvider(provider)
noprj = QgsVectorLayer({str(data.folder / "noprj.shp")!r}, "noprj", "ogr")
assert not noprj.crs().isValid()
noprj.setCrs(QgsCoordinateReferenceSystem("EPSG:4527"))
redline = QgsVectorLayer({data.layer("STBHHX")!r}, "redline", "ogr")
memory = redline.materialize(QgsFeatureRequest())
QgsProject.instance().addMapLayers([noprj, memory])
out = {str(data.out)!r}
results = {{}}
for name, layer in (("noprj", noprj), ("memory", memory)):
    parameters = {{"INPUT": layer, "UNIT": 0, "OUTPUT": f"{{out}}/py_{{name}}.gpkg"}}
    results[name] = processing.run("geozones:area", parameters)["OUTPUT"]
# a report into a temporary folder: the folder returned is the one written
lines = {{
    "FARMLAND": {str(data.farmland)!r},
    "REDLINE": {data.layer("STBHHX")!r},
    "URBAN": {data.layer("CZKFBJ")!r},
    "ZONES": {data.layer("XZQ")!r},
}}
# per county, on one county picked by a filter on the layer (geozones gets what QGIS shows)
county = QgsVectorLayer(lines["ZONES"], "county", "ogr")
assert county.setSubsetString("XZQDM = '990121'")
report = processing.run(
    "geozones:report",
    {{
        **lines,
        "ZONES": county,
        "BY_COUNTY": True,
        "OPEN_HTML": False,
        "OUTPUT": "TEMPORARY_OUTPUT",
    }},
)
import os
results["report_in_folder"] = (
    os.path.dirname(report["HTML"]) == report["OUTPUT"] and os.path.exists(report["HTML"])
)
results["report_counties"] = sorted(
    (name, sorted(os.listdir(os.path.join(report["OUTPUT"], name))))
    for name in os.listdir(report["OUTPUT"])
    if os.path.isdir(os.path.join(report["OUTPUT"], name))
)
# run and load the results, as the toolbox does: the layers get their styles
resolve = {{
    **lines,
    **{{name: "TEMPORARY_OUTPUT" for name in (
        "RESOLVED_FARMLAND", "RESOLVED_REDLINE", "RESOLVED_URBAN", "AUDIT"
    )}},
}}
before = set(QgsProject.instance().mapLayers())
processing.runAndLoadResults("geozones:resolve", resolve)
styles = {{}}
for key, layer in QgsProject.instance().mapLayers().items():
    if key not in before:
        symbol = layer.renderer().symbol().symbolLayer(0)
        styles[layer.name()] = [
            symbol.fillColor().name(), symbol.strokeColor().name(), int(symbol.brushStyle())
        ]
results["styles"] = styles
print(json.dumps({{"memory_provider": memory.providerType(), **results}}))
""",
        encoding="utf-8",
    )
    return script


def planned_runs(data: Data) -> dict[str, tuple[str, dict[str, object], dict[str, str]]]:
    """Every run: name → (algorithm or model, parameters, extra environment)."""
    out = data.out
    lines = data.lines
    core = {"CORE_ZONE": data.layer("ZRBHD_HXQ")}
    return {
        "check": (
            "geozones:check",
            {
                "LAYERS": [
                    str(data.farmland),
                    data.layer("STBHHX"),
                    str(data.folder / "noprj.shp"),
                ],
                "OUTPUT": out / "check.gpkg",
            },
            {},
        ),
        "area": (
            "geozones:area",
            {"INPUT": data.farmland, "UNIT": MU, "OUTPUT": out / "area.gpkg"},
            {},
        ),
        "coverage": (
            "geozones:coverage",
            {
                "INPUT": data.layer("STBHHX"),
                "ZONES": data.layer("XZQ"),
                "UNIT": KM2,
                "OUTPUT": out / "coverage_zones.gpkg",
                "TABLE": out / "coverage_table.gpkg",
            },
            {},
        ),
        "conflicts": (
            "geozones:conflicts",
            {
                **lines,
                "CONFLICTS": out / "conflicts.gpkg",
                "OVERLAP_COUNT": out / "overlap_count.gpkg",
                "SUMMARY": out / "summary.gpkg",
            },
            {},
        ),
        "resolve": (
            "geozones:resolve",
            {
                **lines,
                **core,
                "RESOLVED_FARMLAND": out / "resolved_farmland.gpkg",
                "RESOLVED_REDLINE": out / "resolved_redline.gpkg",
                "RESOLVED_URBAN": out / "resolved_urban.gpkg",
                "AUDIT": out / "audit.gpkg",
            },
            {},
        ),
        "site_check": (
            "geozones:site_check",
            {
                "FOOTPRINT": data.folder / "project.gpkg",
                **{k: v for k, v in lines.items() if k != "ZONES"},
                "UNIT": MU,
                "OUTPUT": out / "site_check.gpkg",
            },
            {},
        ),
        "blocks": (
            "geozones:blocks",
            {
                "FARMLAND": data.farmland,
                "GAP_M": 9,
                "ZONES": data.layer("XZQ"),
                "BLOCKS": out / "blocks.gpkg",
                "PARCELS": out / "parcels.gpkg",
                "SKIPPED": out / "skipped.gpkg",
            },
            {},
        ),
        "compare": (
            "geozones:compare",
            {
                "BEFORE": data.folder / "YJJBNT_before.shp",
                "AFTER": data.farmland,
                "ID_FIELD": "BSM",
                "ZONES": data.layer("XZQ"),
                "UNIT": MU,
                "OPEN_HTML": False,
                "OUTPUT": out / "compare",
                "TAKEN_OUT": out / "taken_out.gpkg",
                "PUT_IN": out / "put_in.gpkg",
            },
            {},
        ),
        "qc": (
            "geozones:qc",
            {
                "DELIVERY": data.folder / "delivery.gpkg",
                "RULES": data.folder / "delivery_rules.toml",
                "OPEN_HTML": False,
                "OUTPUT": out / "qc",
                "GEOMETRY_FINDINGS": out / "qc_geometry.gpkg",
                "LINE_FINDINGS": out / "qc_lines.gpkg",
            },
            {},
        ),
        "model": (
            str(MODEL),
            {
                **lines,
                **core,
                "BY_COUNTY": False,  # the counties' reports: the PyQGIS run writes them
                "check:checked": out / "model_check.gpkg",
                "resolve:farmland": out / "model_farmland.gpkg",
                "resolve:redline": out / "model_redline.gpkg",
                "resolve:urban": out / "model_urban.gpkg",
                "resolve:audit": out / "model_audit.gpkg",
                "report:report": out / "model_report",
            },
            {},
        ),
        "pyqgis": ("python", {"script": pyqgis_script(data)}, {}),
        "list": ("list", {}, {}),
        "help_zh": ("help", {"": ["geozones:resolve"]}, {"LANG": "zh_CN.UTF-8"}),
        "help_en": ("help", {"": ["geozones:resolve"]}, {}),
        "no_crs": (
            "geozones:area",
            {"INPUT": data.folder / "noprj.shp", "OUTPUT": out / "no_crs.gpkg"},
            {},
        ),
        "not_installed": (
            "geozones:area",
            {"INPUT": data.farmland, "OUTPUT": out / "not_installed.gpkg"},
            {"GEOZONES_EXE": str(data.folder / "no-geozones-here"), "PATH": "/usr/bin:/bin"},
        ),
    }


@pytest.fixture(scope="module")
def qgis(tmp_path_factory: pytest.TempPathFactory) -> Qgis:
    return Qgis(tmp_path_factory.mktemp("qgis"))


#: The runs made in one PyQGIS process (:func:`batch_script`); the others start qgis_process.
BATCHED = (
    "check",
    "coverage",
    "conflicts",
    "resolve",
    "site_check",
    "blocks",
    "compare",
    "qc",
    "model",
)


def batch_script(data: Data, planned: dict[str, tuple[str, dict[str, object]]]) -> Path:
    """A PyQGIS script that runs each planned algorithm or model through ``processing.run``
    and prints, as its last line, each run's exit status (0, or 1 when it raised), outputs and
    log (what qgis_process would have printed of the algorithm's feedback)."""
    runs = {
        name: (algorithm, {key: _plain(value) for key, value in parameters.items()})
        for name, (algorithm, parameters) in planned.items()
    }
    script = data.out / "batch.py"
    script.write_text(
        f"""\
import json, sys
sys.path.insert(0, "/usr/share/qgis/python/plugins")
from qgis.core import (
    QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsProcessingModelAlgorithm,
)
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
from geozones_qgis.provider import GeozonesProvider
provider = GeozonesProvider()  # kept: the registry does not own it
QgsApplication.processingRegistry().addProvider(provider)


class Log(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def pushInfo(self, text):
        self.lines.append(text)

    def pushWarning(self, text):
        self.lines.append(text)

    def reportError(self, text, fatalError=False):
        self.lines.append(text)

    def pushCommandInfo(self, text):
        self.lines.append(text)

    def pushConsoleInfo(self, text):
        self.lines.append(text)


done = {{}}
for name, (algorithm, parameters) in {runs!r}.items():
    if algorithm.endswith(".model3"):
        model = QgsProcessingModelAlgorithm()
        assert model.fromFile(algorithm), algorithm
        algorithm = model
    log = Log()
    try:
        results = processing.run(algorithm, parameters, feedback=log)
        status = 0
    except QgsProcessingException as error:
        results, status = {{}}, 1
        log.lines.append(str(error))
    done[name] = {{
        "returncode": status,
        "results": {{key: value for key, value in results.items() if key != "CHILD_RESULTS"}},
        "log": "\\n".join(log.lines),
    }}
print(json.dumps(done, default=str))
""",
        encoding="utf-8",
    )
    return script


def _plain(value: object) -> object:
    """A parameter value as the script's source can spell it."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value


@pytest.fixture(scope="module")
def runs(qgis: Qgis, data: Data) -> dict[str, Run]:
    planned = planned_runs(data)
    batched = {name: planned.pop(name)[:2] for name in BATCHED}
    with ThreadPoolExecutor(max_workers=2) as pool:
        batch = pool.submit(qgis.python, batch_script(data, batched))
        futures = {
            name: pool.submit(qgis.algorithm, algorithm, parameters, **env)
            for name, (algorithm, parameters, env) in planned.items()
        }
        done = {name: future.result() for name, future in futures.items()}
        finished = batch.result()
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    for name, run in json.loads(finished.stdout.strip().splitlines()[-1]).items():
        document = json.dumps({"results": run["results"], "log": run["log"]})
        done[name] = Run(run["returncode"], document, run["log"])
    return done


@pytest.fixture(scope="module")
def library(data: Data) -> dict[str, object]:
    """The sample layers read by the library, as geozones' command line reads them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = {
            "farmland": geozones.read_layer(data.farmland),
            "redline": geozones.read_layer(data.gpkg, "STBHHX"),
            "urban": geozones.read_layer(data.gpkg, "CZKFBJ"),
            "core_zone": geozones.read_layer(data.gpkg, "ZRBHD_HXQ"),
        }
        indexed = {
            key: frame.set_index(frame["BSM"].astype(str), drop=False)
            for key, frame in layers.items()
        }
        counties = geozones.read_layer(data.gpkg, "XZQ")
    return {"layers": layers, "indexed": indexed, "counties": counties}


def read(path: Path, **kwargs: object) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyogrio.read_dataframe(path, **kwargs)


# --------------------------------------------------------------------------------------------
# The provider
# --------------------------------------------------------------------------------------------


def test_the_provider_lists_every_algorithm(runs: dict[str, Run]) -> None:
    listed = runs["list"]
    assert listed.returncode == 0, listed.stderr
    for algorithm in (
        "check",
        "area",
        "coverage",
        "conflicts",
        "resolve",
        "site_check",
        "blocks",
        "compare",
        "qc",
        "report",
    ):
        assert f"geozones:{algorithm}\t" in listed.stdout
    assert "geozones:resolve\tResolve conflicts (priority order)" in listed.stdout


def test_descriptions_follow_the_qgis_locale(runs: dict[str, Run]) -> None:
    chinese = runs["help_zh"]
    assert chinese.returncode == 0, chinese.stderr
    assert "按优先级调出冲突 (geozones:resolve)" in chinese.stdout
    assert "FARMLAND: 永久基本农田\n" in chinese.stdout
    assert (
        "核心保护区内的顺序" in chinese.stdout
        and "永久基本农田 > 生态保护红线 > 城镇开发边界" in chinese.stdout
    )
    english = runs["help_en"]
    assert "FARMLAND: Permanent basic farmland (永久基本农田)\n" in english.stdout
    assert "farmland > red line > urban boundary" in english.stdout


# --------------------------------------------------------------------------------------------
# Each algorithm against the library
# --------------------------------------------------------------------------------------------


def test_check_layers(runs: dict[str, Run], data: Data) -> None:
    run = runs["check"]
    checked = read(Path(run.results["OUTPUT"]))
    expected = [
        check_one(data.farmland, None, None, None),
        check_one(data.gpkg, "STBHHX", None, None),
        check_one(data.folder / "noprj.shp", None, None, None),
    ]
    assert checked["source"].tolist() == [row["source"] for row in expected]
    assert checked["status"].tolist() == ["repaired or guessed", "repaired or guessed", "refused"]
    for column in ("features", "invalid_repaired", "null", "encoding", "crs"):
        values = [None if pd.isna(value) else value for value in checked[column].iloc[:2]]
        assert values == [row[column] for row in expected[:2]]
    assert checked["encoding"].iloc[0] == "GBK" and checked["null"].iloc[0] == 1
    assert checked["error"].iloc[2] == "MissingCRSError"
    assert checked["message"].iloc[2] == expected[2]["message"]
    assert "decoded as GBK" in checked["message"].iloc[0]


def test_area(runs: dict[str, Run], library: dict) -> None:
    written = read(Path(runs["area"].results["OUTPUT"]))
    farmland = library["layers"]["farmland"]
    expected = geozones.area(farmland, unit="mu")
    assert len(written) == 2916
    assert written["BSM"].tolist() == farmland["BSM"].tolist()
    assert written["XZQMC"].tolist() == farmland["XZQMC"].tolist()  # GBK, detected by geozones
    np.testing.assert_array_equal(written["area_mu"].to_numpy(), expected.to_numpy())
    # the geometry QGIS wrote is geozones' (the bow-tie NT002309 repaired): same area again;
    # QGIS 3.22 writes a feature without geometry (NT001277) as an empty MultiPolygon
    null = expected.isna().to_numpy()
    assert null.sum() == 1 and written.geometry[null].is_empty.all()
    again = geozones.area(written, unit="mu").to_numpy()
    np.testing.assert_array_equal(again[~null], expected.to_numpy()[~null])
    log = runs["area"].document["log"]
    assert any("repaired 1 invalid polygon" in line for line in log["warning"])


def test_coverage(runs: dict[str, Run], library: dict) -> None:
    results = runs["coverage"].results
    expected = geozones.coverage(
        library["layers"]["redline"],
        library["counties"],
        by="XZQDM",
        unit="km2",
        levels=("county", "city", "province"),
    )
    table = read(Path(results["TABLE"]))
    assert table["zone"].tolist() == expected.index.tolist()
    assert table["level"].tolist() == expected["level"].tolist()
    np.testing.assert_array_equal(table["covered_area_km2"], expected["covered_area"])
    np.testing.assert_array_equal(table["zone_area_km2"], expected["zone_area"])
    np.testing.assert_array_equal(table["percent"], expected["percent"])
    assert table["name"].iloc[0] == "东川区"
    zones = read(Path(results["OUTPUT"]))
    county = expected[expected["level"] == "county"]
    np.testing.assert_array_equal(zones["percent"], county.loc[zones["XZQDM"], "percent"])


def test_find_conflicts(runs: dict[str, Run], library: dict) -> None:
    results = runs["conflicts"].results
    lines = {key: library["indexed"][key] for key in ("farmland", "redline", "urban")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pieces = geozones.find_conflicts(
            lines, min_area_m2=200, zones=library["counties"], zone_field="XZQDM"
        )
        faces = geozones.overlap_count(lines, zones=library["counties"], zone_field="XZQDM")
    conflicts = read(Path(results["CONFLICTS"]))
    assert len(conflicts) == len(pieces) == 40
    assert conflicts["id_a"].tolist() == pieces["id_a"].astype(str).tolist()
    assert conflicts["id_b"].tolist() == pieces["id_b"].astype(str).tolist()
    np.testing.assert_array_equal(conflicts["area_m2"], pieces["area_m2"])
    assert conflicts["sliver"].astype(bool).tolist() == pieces["sliver"].tolist()
    counted = read(Path(results["OVERLAP_COUNT"]))
    np.testing.assert_array_equal(counted["area_m2"], faces["area_m2"])
    summary = read(Path(results["SUMMARY"]))
    expected = geozones.conflict_summary(pieces)
    np.testing.assert_array_equal(summary["area_m2"], expected["area_m2"])


def test_resolve_conflicts(runs: dict[str, Run], library: dict) -> None:
    results = runs["resolve"].results
    layers = library["indexed"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resolved, audit = geozones.resolve_conflicts(
            layers,
            ("farmland", "redline", "urban"),
            overrides={
                "核心保护区内耕地调出": (
                    layers["core_zone"],
                    ("redline", "核心保护区内耕地调出", "farmland", "urban"),
                )
            },
            min_area_m2=200,
            zones=library["counties"],
            zone_field="XZQDM",
        )
    for key in ("farmland", "redline", "urban"):
        written = read(Path(results[f"RESOLVED_{key.upper()}"]))
        frame = resolved[key]
        assert written["feature"].tolist() == frame.index.tolist()
        assert written["resolution"].tolist() == frame["resolution"].tolist()
        np.testing.assert_array_equal(written["taken_m2"], frame["taken_m2"])
        # the geometries QGIS wrote are geozones' to the last bit: their areas are equal
        np.testing.assert_array_equal(
            geozones.area(written).to_numpy(), geozones.area(frame).to_numpy()
        )
    written_audit = read(Path(results["AUDIT"]))
    assert written_audit["feature"].tolist() == audit["feature"].astype(str).tolist()
    np.testing.assert_array_equal(written_audit["area_m2"], audit["area_m2"])
    assert written_audit["taken"].astype(bool).tolist() == audit["taken"].tolist()


def test_site_check(runs: dict[str, Run], library: dict, data: Data) -> None:
    written = read(Path(runs["site_check"].results["OUTPUT"]))
    project = read(data.folder / "project.gpkg")
    expected = geozones.site_check(project, library["indexed"], unit="mu", min_area_m2=200)
    assert written["XMMC"].tolist() == ["东川区项目", "西岭区项目"]
    assert written["verdict"].tolist() == expected["verdict"].tolist() == ["fail", "fail"]
    for column in ("farmland", "redline", "outside_urban"):
        np.testing.assert_array_equal(written[f"{column}_area_mu"], expected[f"{column}_area"])
        np.testing.assert_array_equal(written[f"{column}_m2"], expected[f"{column}_m2"])
    assert written["redline_hit"].iloc[1] == "HX006"
    assert written["reasons"].tolist() == expected["reasons"].tolist()


def test_farmland_blocks(runs: dict[str, Run], library: dict) -> None:
    results = runs["blocks"].results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.farmland_blocks(
            library["layers"]["farmland"],
            tolerance_m=9,
            zones=library["counties"],
            zone_field="XZQDM",
        )
    blocks = read(Path(results["BLOCKS"]))
    assert blocks["block"].tolist() == expected.blocks.index.tolist()
    np.testing.assert_array_equal(blocks["area_mu"], expected.blocks["area_mu"])
    assert blocks["class"].tolist() == expected.blocks["class"].astype(str).tolist()
    assert blocks["class"].value_counts().to_dict() == {
        "百亩方": 16,
        "千亩方": 8,
        "<100亩": 5,
        "万亩方": 1,
    }
    parcels = read(Path(results["PARCELS"]))
    assert parcels["block"].astype("Int64").tolist() == expected.parcel_block.tolist()
    skipped = read(Path(results["SKIPPED"]))
    assert skipped["BSM"].tolist() == ["NT001277"]


def test_compare_versions(runs: dict[str, Run], library: dict, data: Data) -> None:
    run = runs["compare"]
    assert run.returncode == 0, run.stderr
    results = run.results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = geozones.read_layer(data.folder / "YJJBNT_before.shp")
        expected = geozones.compare_versions(
            before,
            library["layers"]["farmland"],
            zones=library["counties"],
            zone_field="XZQDM",
            id_field="BSM",
            unit="mu",
        )
    assert results["RULES_MET"] is True
    folder = Path(results["OUTPUT"])
    assert {Path(results[name]).name for name in ("XLSX", "GPKG", "HTML")} == {
        "compare.xlsx",
        "compare.gpkg",
        "compare.html",
    }
    assert all(Path(results[name]).parent == folder for name in ("XLSX", "GPKG", "HTML"))
    for name, pieces in (("TAKEN_OUT", expected.taken_out), ("PUT_IN", expected.put_in)):
        written = read(Path(results[name]))
        assert len(written) == len(pieces) > 0
        assert written["feature"].tolist() == pieces["feature"].astype(str).tolist()
        np.testing.assert_array_equal(written["area_mu"], pieces["area"])
        np.testing.assert_array_equal(written["area_m2"], pieces["area_m2"])
    total = expected.balance.loc[expected.balance["level"] == "total"].iloc[0]
    assert f"taken out {total['out']:.4f}, put in {total['in']:.4f}" in run.stdout + run.stderr


def test_inspect_delivery(runs: dict[str, Run], data: Data) -> None:
    run = runs["qc"]
    assert run.returncode == 0, run.stderr
    results = run.results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.inspect(
            data.folder / "delivery.gpkg", rules=data.folder / "delivery_rules.toml"
        )
    assert results["PASSED"] is False
    assert (results["ERRORS"], results["WARNINGS"]) == (31, 5)
    assert (expected.count("error"), expected.count("warning")) == (31, 5)
    assert {Path(results[name]).name for name in ("XLSX", "GPKG", "HTML")} == {
        "qc.xlsx",
        "qc.gpkg",
        "qc.html",
    }
    table = expected.table
    for name, family in (("GEOMETRY_FINDINGS", "geometry"), ("LINE_FINDINGS", "lines")):
        written = read(Path(results[name]))
        located = table[(table["family"] == family) & table.geometry.notna()]
        assert len(written) == len(located) > 0
        assert sorted(written["rule"]) == sorted(located["rule"])
    assert "31 errors, 5 warnings" in run.stdout + run.stderr


def test_the_model_checks_resolves_and_reports(runs: dict[str, Run], library: dict) -> None:
    results = runs["model"].results
    checked = read(Path(results["check:checked"]))
    assert len(checked) == 4 and set(checked["status"]) == {"ok", "repaired or guessed"}
    folder = Path(results["report:report"])
    html = folder / "调整后_三区三线_检查.html"
    assert "调整后 三区三线 检查" in html.read_text(encoding="utf-8")
    assert (folder / "调整后_三区三线_检查.xlsx").exists()
    # the model's "one report per county" input, ticked by default, was unticked for this run
    # (the PyQGIS run writes the counties' reports)
    assert not [path for path in folder.iterdir() if path.is_dir()]
    by_county = ElementTree.parse(MODEL).find(
        "./Option[@name='parameterDefinitions']/Option[@name='BY_COUNTY']"
    )
    assert by_county is not None
    assert by_county.find("./Option[@name='default']").get("value") == "true"
    conflicts = read(folder / "调整后_三区三线_检查.gpkg", layer="conflicts")
    # the report's numbers are the library's on the resolved lines the model passed it
    resolved = {}
    for key in ("farmland", "redline", "urban"):
        frame = read(Path(results[f"resolve:{key}"]))
        resolved[key] = frame.set_index(frame["BSM"].astype(str), drop=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pieces = geozones.find_conflicts(
            resolved, min_area_m2=200, zones=library["counties"], zone_field="XZQDM"
        )
    assert conflicts["id_a"].tolist() == pieces["id_a"].astype(str).tolist()
    np.testing.assert_array_equal(conflicts["area_m2"], pieces["area_m2"])
    # after the priority order, the conflicts left are the overlaps inside one line (sample
    # defects #2, #11, #12), which it does not decide; everything else is a sliver
    left = conflicts[~conflicts["sliver"].astype(bool)]
    assert sorted(zip(left["id_a"], left["id_b"], strict=True)) == [
        ("HX021", "HX022"),
        ("NT000226", "NT000603"),
        ("NT001565", "NT001566"),
    ]
    assert (left["layer_a"] == left["layer_b"]).all()
    audit = read(Path(results["resolve:audit"]))
    assert audit["taken"].astype(bool).sum() == 61


def test_processing_run_in_pyqgis(runs: dict[str, Run], library: dict, data: Data) -> None:
    run = runs["pyqgis"]
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert results["memory_provider"] == "memory"
    assert results["report_in_folder"] is True
    # with "one report per county", on the one county the layer's filter leaves: its three
    # files, and the record of the run that wrote them, in a folder of its own
    name = "990121_青溪县"
    assert results["report_counties"] == [
        [name, [".geozones.json", *(f"{name}.{suffix}" for suffix in ("gpkg", "html", "xlsx"))]]
    ]
    # loaded into the project, the outputs carry their styles: [fill, outline, brush]
    solid, none = 1, 0
    assert results["styles"] == {
        "Resolved farmland": ["#ffdd00", "#b89b00", solid],
        "Resolved red line": ["#00a03c", "#006428", solid],
        "Resolved urban boundary": ["#000000", "#e60000", none],
        "Pieces taken out (audit)": ["#ff00ff", "#800080", solid],
    }
    # the shapefile has no .prj: geozones got the CRS the analyst set in QGIS
    square = read(Path(results["noprj"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = geozones.area(geozones.read_layer(data.folder / "noprj.shp", crs=4527))
    np.testing.assert_array_equal(square["area_m2"], expected)
    # the memory layer went to geozones through a GeoPackage, its invalid polygon included
    memory = read(Path(results["memory"]))
    redline = library["layers"]["redline"]
    assert memory["BSM"].tolist() == redline["BSM"].tolist()
    np.testing.assert_array_equal(memory["area_m2"], geozones.area(redline))


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_a_geozones_error_is_its_one_line_message(runs: dict[str, Run]) -> None:
    run = runs["no_crs"]
    assert run.returncode != 0
    text = run.stdout + run.stderr
    assert "noprj.shp" in text and "no CRS" in text
    assert "Layer Properties › Source › Assigned CRS" in text  # what to do in QGIS
    assert "Traceback" not in text


def test_without_geozones_the_algorithm_says_how_to_set_it(runs: dict[str, Run]) -> None:
    run = runs["not_installed"]
    assert run.returncode != 0
    text = run.stdout + run.stderr
    assert "geozones was not found" in text and "no-geozones-here" in text
    assert "Processing > Providers > geozones" in text


# --------------------------------------------------------------------------------------------
# Styles, on rendered pixels
# --------------------------------------------------------------------------------------------

#: Fill colours of the styles (geozones_qgis.styles.COLOURS), and the background.
GREEN, YELLOW, MAGENTA, WHITE = (0, 160, 60), (255, 221, 0), (255, 0, 255), (255, 255, 255)
#: Land taken out of a version and put in (the comparison's colours).
RED, BLUE = (214, 39, 40), (31, 111, 209)
#: Where the urban boundary CZ05 overlaps the red line HX017 and the farmland (sample defect #8).
EXTENT = (39_594_000, 3_172_000, 39_604_000, 3_181_000)


def system_path() -> str:
    """PATH without this venv's bin: QGIS's embedded Python finds its home from the ``python3``
    on PATH, and with an activated venv first it took this Python's library and lost ``qgis``."""
    venv_bin = str(Path(sys.prefix) / "bin")
    return os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != venv_bin
    )


def render(layers: list[str], out: Path, extent: tuple[float, ...] | None = None) -> dict:
    command = [SYSTEM_PYTHON, str(RENDER), str(out), *layers, "--each", "--width", "600"]
    command += ["--height", "450"]
    if extent:
        command += ["--extent", ",".join(map(str, extent))]
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONHOME", "PYTHONPATH")
    }
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**env, "PATH": system_path(), "QT_QPA_PLATFORM": "offscreen"},
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def pixel_of(frame: dict, x: float, y: float) -> tuple[int, int]:
    xmin, _, _, ymax = frame["extent"]
    size = frame["units_per_pixel"]
    return int((x - xmin) / size), int((ymax - y) / size)


def on_map(frame: dict, geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """The polygons wholly inside the map."""
    return geoms[~geoms.is_empty & geoms.within(box(*frame["extent"]))]


def deep_points(frame: dict, geoms: gpd.GeoSeries, count: int = 5) -> list[tuple[int, int]]:
    """Pixels well inside the largest polygons on the map (3 pixels or more from any edge)."""
    points = []
    margin = 3 * frame["units_per_pixel"]
    shown = on_map(frame, geoms)
    for geom in shown.iloc[np.argsort(-shown.area.to_numpy())].head(count * 3):
        part = max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)
        label = polylabel(part, tolerance=frame["units_per_pixel"] / 4)
        if part.exterior.distance(label) >= margin and all(
            hole.distance(label) >= margin for hole in part.interiors
        ):
            points.append(pixel_of(frame, label.x, label.y))
    return points[:count]


def test_styled_outputs_render_in_their_colours(runs: dict[str, Run], data: Data) -> None:
    from PIL import Image

    results = runs["resolve"].results
    layers = [
        f"{results['RESOLVED_REDLINE']}::redline",
        f"{results['RESOLVED_FARMLAND']}::farmland",
        f"{results['RESOLVED_URBAN']}::urban",
        f"{results['AUDIT']}::conflicts",
    ]
    frame = render(layers, data.out / "styles.png", EXTENT)
    images = [Image.open(data.out / f"styles-{n}.png").convert("RGB") for n in range(1, 5)]
    redline, farmland, urban, audit = (read(Path(spec.split("::")[0])) for spec in layers)
    for image, frame_geoms, colour in (
        (images[0], redline.geometry, GREEN),
        (images[1], farmland.geometry, YELLOW),
        (images[3], audit.geometry, MAGENTA),
    ):
        points = deep_points(frame, frame_geoms)
        assert points, "no polygon large enough to test on this map"
        assert [image.getpixel(point) for point in points] == [colour] * len(points)
    # the urban boundary: a red outline, no fill
    assert len(on_map(frame, urban.geometry)) >= 1
    for geom in on_map(frame, urban.geometry):
        part = max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)
        x, y = part.exterior.coords[0]
        column, row = pixel_of(frame, x, y)
        around = [
            images[2].getpixel((column + dx, row + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
        ]
        assert any(r > 200 and g < 80 and b < 80 for r, g, b in around), around
    for point in deep_points(frame, urban.geometry):
        assert images[2].getpixel(point) == WHITE
    # on the map of all four, the pieces taken out lie on top
    combined = Image.open(data.out / "styles.png").convert("RGB")
    points = deep_points(frame, audit.geometry)
    assert [combined.getpixel(point) for point in points] == [MAGENTA] * len(points)


def test_compared_versions_render_taken_out_red_and_put_in_blue(
    runs: dict[str, Run], data: Data
) -> None:
    from PIL import Image

    results = runs["compare"].results
    for name, style, colour in (("TAKEN_OUT", "taken_out", RED), ("PUT_IN", "put_in", BLUE)):
        pieces = read(Path(results[name])).geometry
        xmin, ymin, xmax, ymax = pieces.total_bounds
        margin = 0.1 * max(xmax - xmin, ymax - ymin)
        extent = (xmin - margin, ymin - margin, xmax + margin, ymax + margin)
        frame = render([f"{results[name]}::{style}"], data.out / f"{style}.png", extent)
        image = Image.open(data.out / f"{style}-1.png").convert("RGB")
        points = deep_points(frame, pieces)
        assert points, "no polygon large enough to test on this map"
        assert [image.getpixel(point) for point in points] == [colour] * len(points)

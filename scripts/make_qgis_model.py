"""Write the Graphical Modeler model that reads, resolves and reports (PyQGIS, QGIS's Python).

    QT_HASH_SEED=0 QT_QPA_PLATFORM=offscreen python3 scripts/make_qgis_model.py

(``QT_HASH_SEED=0``: Qt writes the XML attributes in the same order each time, so that a change
to the model is a small diff.)

Writes ``qgis_plugin/geozones_qgis/models/check_resolve_report.model3``: the layers are checked
(geozones:check), the conflicts resolved by the priority order with the core-zone exception
(geozones:resolve), and the batch report written on the resolved lines (geozones:report), so it
shows what is left after resolution: the overlaps inside a line, which the priority order does
not decide, and the slivers. Building the model through the API (instead of writing its XML by
hand) keeps it loadable by every QGIS from 3.22 on.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "qgis_plugin" / "geozones_qgis" / "models" / "check_resolve_report.model3"
sys.path.insert(0, str(ROOT / "qgis_plugin"))
sys.path.insert(0, "/usr/share/qgis/python/plugins")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessing,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildDependency,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
)
from qgis.PyQt.QtCore import QPointF  # noqa: E402

#: Model inputs: name, description, optional.
INPUTS = (
    ("ZONES", "行政区 Counties (XZQDM, XZQMC)", False),
    ("FARMLAND", "永久基本农田 Permanent basic farmland", False),
    ("REDLINE", "生态保护红线 Ecological protection red line", False),
    ("URBAN", "城镇开发边界 Urban development boundary", False),
    ("CORE_ZONE", "自然保护地核心保护区 Nature-reserve core zones", True),
)


def source(name: str) -> list[QgsProcessingModelChildParameterSource]:
    return [QgsProcessingModelChildParameterSource.fromModelParameter(name)]


def static(value: object) -> list[QgsProcessingModelChildParameterSource]:
    return [QgsProcessingModelChildParameterSource.fromStaticValue(value)]


def child_output(child: str, output: str) -> list[QgsProcessingModelChildParameterSource]:
    return [QgsProcessingModelChildParameterSource.fromChildOutput(child, output)]


def outputs(child: str, names: dict[str, tuple[str, str]]) -> dict[str, QgsProcessingModelOutput]:
    """Model outputs of one child: its output → (ASCII name, description)."""
    result = {}
    for output, (name, description) in names.items():
        model_output = QgsProcessingModelOutput(name, description)
        model_output.setChildId(child)
        model_output.setChildOutputName(output)
        result[name] = model_output
    return result


def child(
    algorithm: str, child_id: str, description: str, position: tuple[float, float]
) -> QgsProcessingModelChildAlgorithm:
    step = QgsProcessingModelChildAlgorithm(algorithm)
    step.setChildId(child_id)
    step.setDescription(description)
    step.setPosition(QPointF(*position))
    return step


def build() -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm(
        "三线检查：读取、调出、报告 Check, resolve, report", "geozones"
    )
    for number, (name, description, optional) in enumerate(INPUTS):
        parameter = QgsProcessingParameterFeatureSource(
            name, description, [QgsProcessing.TypeVectorPolygon], optional=optional
        )
        component = QgsProcessingModelParameter(name)
        component.setPosition(QPointF(120, 80 + 90 * number))
        model.addModelParameter(parameter, component)
    # a choice left to the one who runs the model: the counties' reports take as long again
    by_county = QgsProcessingParameterBoolean(
        "BY_COUNTY", "同时按县输出报告 Also one report per county", True
    )
    component = QgsProcessingModelParameter("BY_COUNTY")
    component.setPosition(QPointF(120, 80 + 90 * len(INPUTS)))
    model.addModelParameter(by_county, component)

    check = child("geozones:check", "check", "检查图层 Check layers", (420, 80))
    check.addParameterSources(
        "LAYERS",
        [
            QgsProcessingModelChildParameterSource.fromModelParameter(name)
            for name, _, optional in INPUTS
            if not optional
        ],
    )
    check.setModelOutputs(outputs("check", {"OUTPUT": ("checked", "检查结果 check results")}))
    model.addChildAlgorithm(check)

    resolve = child("geozones:resolve", "resolve", "按优先级调出 Resolve conflicts", (420, 280))
    for name in ("ZONES", "FARMLAND", "REDLINE", "URBAN", "CORE_ZONE"):
        resolve.addParameterSources(name, source(name))
    resolve.addParameterSources("ZONE_FIELD", static("XZQDM"))
    resolve.addParameterSources("NAME_FIELD", static("XZQMC"))
    resolve.addParameterSources("PRIORITY", static(0))
    resolve.addParameterSources("CORE_ZONE_PRIORITY", static("redline, core_zone, farmland, urban"))
    resolve.addParameterSources("SLIVER_M2", static(200.0))
    resolve.setDependencies([QgsProcessingModelChildDependency("check")])
    resolve.setModelOutputs(
        outputs(
            "resolve",
            {
                "RESOLVED_FARMLAND": ("farmland", "调整后永久基本农田 resolved farmland"),
                "RESOLVED_REDLINE": ("redline", "调整后生态保护红线 resolved red line"),
                "RESOLVED_URBAN": ("urban", "调整后城镇开发边界 resolved urban boundary"),
                "AUDIT": ("audit", "调出图斑 pieces taken out"),
            },
        )
    )
    model.addChildAlgorithm(resolve)

    report = child("geozones:report", "report", "批量报告 Batch report", (420, 480))
    report.addParameterSources("ZONES", source("ZONES"))
    report.addParameterSources("CORE_ZONE", source("CORE_ZONE"))
    report.addParameterSources("BY_COUNTY", source("BY_COUNTY"))
    for name, output in (
        ("FARMLAND", "RESOLVED_FARMLAND"),
        ("REDLINE", "RESOLVED_REDLINE"),
        ("URBAN", "RESOLVED_URBAN"),
    ):
        report.addParameterSources(name, child_output("resolve", output))
    values = {
        "ZONE_FIELD": "XZQDM",
        "NAME_FIELD": "XZQMC",
        "PRIORITY": 0,
        "CORE_ZONE_PRIORITY": "redline, core_zone, farmland, urban",
        "SLIVER_M2": 200.0,
        "TITLE": "调整后 三区三线 检查",
        "LANGUAGE": 0,
        "UNIT": 3,
        "DECLARED_AREA_FIELD": "TBMJ",
        "TARGET_UNIT": 2,
        "BLOCKS_GAP_M": 10.0,
        "OVERWRITE": False,
        "OPEN_HTML": True,
    }
    for name, value in values.items():
        report.addParameterSources(name, static(value))
    report.setModelOutputs(outputs("report", {"OUTPUT": ("report", "报告文件夹 report folder")}))
    model.addChildAlgorithm(report)
    model.setHelpContent(
        {
            "ALG_DESC": "Checks the layers, resolves the conflicts by the priority order "
            "(farmland > red line > urban boundary; inside the core zones red line > core zone "
            "> farmland > urban) and writes the batch report of the resolved lines. "
            "检查图层，按优先级调出冲突，并输出调整后三条控制线的批量报告。",
        }
    )
    return model


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    from geozones_qgis.provider import GeozonesProvider
    from processing.core.Processing import Processing

    Processing.initialize()
    provider = GeozonesProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    model = build()
    for step in model.childAlgorithms().values():
        if step.algorithm() is None:
            print(f"{step.algorithmId()} is not registered", file=sys.stderr)
            return 2
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    if not model.toFile(str(MODEL)):
        print(f"cannot write {MODEL}", file=sys.stderr)
        return 2
    print(f"wrote {MODEL.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

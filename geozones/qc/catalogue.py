"""The rules of the 质检: their ids, families, default severities and titles.

Each rule is implemented by one family module of :mod:`geozones.qc`; the rule set
(:func:`geozones.qc.load_rules`) sets its thresholds and may change its severity or turn it off.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The families, in report order: key to (Chinese, English) title.
FAMILIES: dict[str, tuple[str, str]] = {
    "schema": ("数据结构", "Schema"),
    "crs": ("坐标系", "Coordinate system"),
    "codes": ("标识码与代码", "Identifiers and codes"),
    "areas": ("面积", "Areas"),
    "geometry": ("图形", "Geometry"),
    "lines": ("三线关系", "The lines"),
}

#: Severities, the worst first.
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Rule:
    """One rule of the 质检.

    Attributes
    ----------
    id : str
        ``SCHEMA-LAYER-MISSING``, …: what findings and the rule set name it by.
    family : str
        A key of :data:`FAMILIES`.
    severity : str
        ``error`` or ``warning`` by default.
    title_zh, title_en : str
        What the rule checks, in a few words.
    """

    id: str
    family: str
    severity: str
    title_zh: str
    title_en: str


_RULES = (
    Rule("SCHEMA-LAYER-MISSING", "schema", "error", "缺少图层", "required layer missing"),
    Rule("SCHEMA-LAYER-EXTRA", "schema", "warning", "多余图层", "layer not in the rules"),
    Rule("SCHEMA-FIELD-MISSING", "schema", "error", "缺少字段", "required field missing"),
    Rule("SCHEMA-FIELD-TYPE", "schema", "error", "字段类型错误", "field of the wrong type"),
    Rule("SCHEMA-FIELD-WIDTH", "schema", "error", "字段值超长", "text longer than its width"),
    Rule("SCHEMA-FIELD-EXTRA", "schema", "warning", "多余字段", "field not in the rules"),
    Rule("CRS-MISSING", "crs", "error", "未定义坐标系", "no coordinate system"),
    Rule("CRS-DATUM", "crs", "error", "非CGCS2000坐标系", "not CGCS2000"),
    Rule("CRS-GEOGRAPHIC", "crs", "error", "不允许的地理坐标", "geographic CRS not allowed"),
    Rule("CRS-ZONE", "crs", "error", "投影带不一致", "another Gauss–Krüger zone"),
    Rule("CRS-PREFIX", "crs", "error", "带号与坐标不符", "zone prefix contradicts the CRS"),
    Rule("ID-BSM-MISSING", "codes", "error", "标识码为空", "identifier (BSM) empty"),
    Rule("ID-BSM-DUPLICATE", "codes", "error", "标识码重复", "identifier (BSM) repeated"),
    Rule("CODE-VALUE", "codes", "error", "代码值不在值域内", "code not among the allowed"),
    Rule("CODE-XZQDM-FORMAT", "codes", "error", "行政区代码格式错误", "XZQDM not 6/9/12 digits"),
    Rule("CODE-XZQDM-UNKNOWN", "codes", "error", "行政区代码不存在", "XZQDM not in the XZQ layer"),
    Rule(
        "CODE-XZQDM-LOCATION",
        "codes",
        "error",
        "行政区代码与位置不符",
        "XZQDM is not where the feature lies",
    ),
    Rule("CODE-XZQMC", "codes", "error", "行政区名称与代码不符", "XZQMC does not match XZQDM"),
    Rule(
        "AREA-DECLARED", "areas", "error", "面积与图形不符", "declared area differs from geometry"
    ),
    Rule("AREA-DEDUCTION", "areas", "error", "扣除面积计算错误", "KCMJ ≠ round(TBMJ × KCXS, 2)"),
    Rule("AREA-NET", "areas", "error", "净面积计算错误", "net area ≠ gross − deduction"),
    Rule(
        "AREA-CONTROL",
        "areas",
        "error",
        "面积与控制面积不符",
        "sum per county differs from its control total",
    ),
    Rule("GEOM-EMPTY", "geometry", "error", "空图形", "null or empty geometry"),
    Rule("GEOM-INVALID", "geometry", "error", "图形无效", "invalid geometry"),
    Rule("GEOM-MULTIPART", "geometry", "error", "多部件图形", "multipart feature"),
    Rule("GEOM-SLIVER", "geometry", "warning", "碎片图斑", "feature smaller than the minimum"),
    Rule("GEOM-THIN", "geometry", "warning", "狭长图斑", "feature thinner than the minimum"),
    Rule("GEOM-OVERLAP", "geometry", "error", "图层内重叠", "features of a layer overlap"),
    Rule("GEOM-OUTSIDE", "geometry", "error", "超出行政区范围", "outside the administrative area"),
    Rule("ZONE-OVERLAP", "geometry", "error", "行政区重叠", "administrative units overlap"),
    Rule("ZONE-GAP", "geometry", "error", "行政区间缝隙", "gap between administrative units"),
    Rule("LINE-CONFLICT", "lines", "error", "三线冲突", "two lines overlap"),
    Rule("LINE-SLIVER", "lines", "warning", "三线冲突碎片", "two lines overlap by a sliver"),
    Rule(
        "LINE-EXPANSION",
        "lines",
        "error",
        "城镇开发边界扩展倍数超限",
        "urban boundary over its expansion multiple",
    ),
    Rule("LINE-TARGET", "lines", "error", "约束性指标未达标", "binding target not met"),
)

#: Every rule, by id, in report order.
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}

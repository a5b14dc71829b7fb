"""Chinese and English texts of the plugin, chosen by the QGIS locale.

Every name, parameter description and message the plugin shows is a key of :data:`TEXTS`, with
an English and a Chinese text. With a Chinese QGIS locale (``zh_CN``, ``zh-Hans``, ``zh_TW``)
the Chinese text is shown, otherwise the English one; the English texts keep the Chinese
term of each planning object in parentheses, since that is what analysts call them.
"""

from __future__ import annotations

#: key: (English, Chinese)
TEXTS: dict[str, tuple[str, str]] = {
    # provider, settings, groups
    "provider": ("geozones (三区三线)", "geozones 三区三线"),
    "setting_executable": (
        "geozones executable (geozones program or the python of its environment)",
        "geozones 可执行文件（geozones 程序或其环境中的 python）",
    ),
    "group_measure": ("Check and measure", "检查与量算"),
    "group_conflicts": ("Conflicts", "冲突"),
    "group_tasks": ("Planning tasks", "规划业务"),
    # algorithm names
    "alg_check": ("Check layers", "检查图层"),
    "alg_area": ("Area (ellipsoidal, 亩)", "面积（椭球面积、亩）"),
    "alg_coverage": ("Coverage per county", "分县覆盖率"),
    "alg_conflicts": ("Find conflicts", "查找冲突"),
    "alg_resolve": ("Resolve conflicts (priority order)", "按优先级调出冲突"),
    "alg_site_check": ("Site check (项目选址)", "项目选址检查"),
    "alg_blocks": ("Farmland blocks (百亩方 / 千亩方 / 万亩方)", "永久基本农田集中连片"),
    "alg_report": ("Batch report", "批量报告"),
    "alg_compare": ("Compare two versions (调入调出)", "版本对比（调入调出）"),
    "alg_qc": ("Inspect a delivery database (质检)", "成果数据库质检"),
    # inputs
    "layers": ("Layers to check", "要检查的图层"),
    "input": ("Polygon layer", "面图层"),
    "farmland": ("Permanent basic farmland (永久基本农田)", "永久基本农田"),
    "redline": ("Ecological protection red line (生态保护红线)", "生态保护红线"),
    "urban": ("Urban development boundary (城镇开发边界)", "城镇开发边界"),
    "zones": ("Counties (行政区)", "行政区（县级）"),
    "zones_optional": ("Counties (行政区), optional", "行政区（县级，可选）"),
    "zone_field": ("County code field (6-digit, XZQDM)", "行政区代码字段（6 位，XZQDM）"),
    "name_field": ("County name field (XZQMC), optional", "行政区名称字段（XZQMC，可选）"),
    "core_zone": (
        "Nature-reserve core zones (核心保护区), optional",
        "自然保护地核心保护区（可选）",
    ),
    "core_zone_priority": (
        "Order inside the core zones (layers: redline, core_zone, farmland, urban)",
        "核心保护区内的顺序（图层：redline、core_zone、farmland、urban）",
    ),
    "priority": ("Priority order, highest first", "优先级（从高到低）"),
    "sliver_m2": (
        "Sliver threshold (m², ellipsoidal): smaller overlaps are reported, not taken out",
        "碎片阈值（平方米，椭球面积）：更小的重叠只报告、不调出",
    ),
    "unit": ("Area unit", "面积单位"),
    "method": ("Area method", "面积计算方法"),
    "field": ("Name of the area field (empty: area_<unit>)", "面积字段名（空：area_<单位>）"),
    "roll_up": (
        "Roll up to cities and provinces (6-digit county codes)",
        "汇总到市和省（6 位行政区代码）",
    ),
    "footprint": ("Project footprint (建设项目用地范围)", "建设项目用地范围"),
    "gap_m": (
        "Widest gap inside a block (m): field roads and ditches",
        "连片内最大间隔（米）：田间道路和沟渠",
    ),
    "barriers": (
        "Barriers no block crosses (rivers, highways), optional",
        "不可跨越的障碍（河流、高速公路，可选）",
    ),
    "title": ("Report title", "报告标题"),
    "language": ("Report language", "报告语言"),
    "by_county": ("Also one report per county", "同时按县输出报告"),
    "declared_area_field": (
        "Declared area field of the farmland (TBMJ, m²), optional",
        "永久基本农田申报面积字段（TBMJ，平方米，可选）",
    ),
    "redline_min": (
        "Target: red-line area at least, optional",
        "约束性指标：生态保护红线面积不少于（可选）",
    ),
    "farmland_min": (
        "Target: permanent farmland area at least, optional",
        "约束性指标：永久基本农田面积不少于（可选）",
    ),
    "intensity_max": (
        "Target: development intensity at most (%), optional",
        "约束性指标：开发强度不超过（%，可选）",
    ),
    "target_unit": ("Unit of the targets", "约束性指标单位"),
    "dem": ("DEM (elevation, m): steep farmland, optional", "数字高程模型（米）：坡耕地（可选）"),
    "landcover": ("Land-cover raster, optional", "土地覆盖栅格（可选）"),
    "blocks_gap": (
        "Farmland blocks: widest gap (m), 0 for none",
        "永久基本农田集中连片：最大间隔（米），0 为不计算",
    ),
    "overwrite": ("Replace report files that exist", "覆盖已有的报告文件"),
    "compare_before": ("Version before (调整前)", "调整前版本"),
    "qc_delivery": (
        "Delivery database (GeoPackage) or check configuration (TOML)",
        "成果数据库（GeoPackage）或检查配置（TOML）",
    ),
    "qc_rules": ("Rule set (TOML), optional: the default one", "质检规则（TOML，可选：默认规则）"),
    "out_qc_geometry": ("Geometry findings (图形)", "图形问题"),
    "out_qc_lines": ("Findings of the lines (三线关系)", "三线关系问题"),
    "out_qc_passed": ("Passed (no errors)", "质检通过（无错误）"),
    "out_qc_errors": ("Errors", "错误数"),
    "out_qc_warnings": ("Warnings", "警告数"),
    "compare_after": ("Version after (调整后)", "调整后版本"),
    "compare_line": (
        "Which line the versions are (its rules are checked)",
        "所对比的控制线（检查其规则）",
    ),
    "compare_line_farmland": (
        "permanent farmland: net ≥ 0, quality not lower (补划)",
        "永久基本农田：净增减 ≥ 0、质量不降低（补划）",
    ),
    "compare_line_redline": ("red line: area not lower", "生态保护红线：面积不减少"),
    "compare_line_urban": ("urban boundary: under a cap", "城镇开发边界：不超过上限"),
    "compare_line_other": ("other: no rules", "其他：不检查规则"),
    "compare_id_field": (
        "Field identifying a feature in both versions (BSM), optional",
        "两个版本共有的要素标识字段（BSM，可选）",
    ),
    "xy_tolerance": (
        "XY tolerance (m): boundaries closer than this are the same",
        "XY 容差（米）：小于此距离的边界视为同一边界",
    ),
    "compare_net_min": (
        "Smallest net change allowed (in the area unit), optional",
        "允许的最小净变化（面积单位，可选）",
    ),
    "compare_cap": (
        "Urban: largest area after (in the area unit), optional",
        "城镇开发边界：调整后面积上限（面积单位，可选）",
    ),
    "compare_cap_percent": (
        "Urban: largest area after, % of before, optional",
        "城镇开发边界：调整后面积上限（占调整前 %，可选）",
    ),
    "compare_urban_land_2020": (
        "Urban: 2020 urban construction land (in the area unit), optional",
        "城镇开发边界：2020 年城镇建设用地面积（面积单位，可选）",
    ),
    "compare_expansion_multiple": (
        "Urban: largest expansion multiple over the 2020 urban land",
        "城镇开发边界：相对 2020 年城镇建设用地的最大扩展倍数",
    ),
    "compare_no_quality": ("Do not check the farmland quality grade", "不检查耕地质量等别"),
    "open_html": ("Open the HTML report when done", "完成后打开 HTML 报告"),
    # outputs
    "out_checked": ("Check results", "检查结果"),
    "out_area": ("Area", "面积"),
    "out_coverage_zones": ("Coverage per county (map)", "分县覆盖率（地图）"),
    "out_coverage_table": ("Coverage table", "覆盖率表"),
    "out_conflicts": ("Conflicts", "冲突图斑"),
    "out_overlap_count": ("Overlaps (how many lines)", "重叠次数"),
    "out_summary": ("Conflict summary", "冲突汇总"),
    "out_resolved_farmland": ("Resolved farmland", "调整后永久基本农田"),
    "out_resolved_redline": ("Resolved red line", "调整后生态保护红线"),
    "out_resolved_urban": ("Resolved urban boundary", "调整后城镇开发边界"),
    "out_audit": ("Pieces taken out (audit)", "调出图斑（审计）"),
    "out_site_check": ("Site check", "项目选址检查结果"),
    "out_blocks": ("Farmland blocks", "集中连片地块"),
    "out_parcels": ("Farmland parcels with their block", "永久基本农田图斑（含连片编号）"),
    "out_skipped": ("Parcels in no block", "未计入连片的图斑"),
    "out_folder": ("Report folder", "报告文件夹"),
    "out_html": ("HTML report", "HTML 报告"),
    "out_workbook": ("Excel workbook", "Excel 工作簿"),
    "out_geopackage": ("Report GeoPackage", "报告 GeoPackage"),
    "out_taken_out": ("Land taken out (调出)", "调出图斑"),
    "out_put_in": ("Land put in (调入)", "调入图斑"),
    "out_rules_met": ("Rules met", "规则是否满足"),
    # choices
    "lang_zh": ("Chinese (中文)", "中文"),
    "lang_en": ("English", "英文"),
    "farmland_short": ("farmland", "永久基本农田"),
    "redline_short": ("red line", "生态保护红线"),
    "urban_short": ("urban boundary", "城镇开发边界"),
    "method_ellipsoidal": ("ellipsoidal (椭球面积, official statistics)", "椭球面积（官方统计）"),
    "method_planar": ("planar (on the projection plane)", "平面面积（投影平面）"),
    "method_geodesic": ("geodesic (Karney, the reference)", "测地线面积（Karney，参考值）"),
    "method_survey": ("survey (国土调查, 32号 formula)", "国土调查面积（32号文公式）"),
    "not_offered": ("not in the installed geozones", "已安装的 geozones 不提供"),
    # messages
    "cancelled": (
        "Cancelled: geozones and its workers were ended.",
        "已取消：geozones 及其子进程已结束。",
    ),
    "not_offered_error": (
        "The installed geozones ({version}) does not offer {what}; update geozones.",
        "已安装的 geozones（{version}）不提供 {what}；请更新 geozones。",
    ),
    "capabilities_failed": (
        "Could not ask geozones what it offers ({error}); the plugin shows its defaults.",
        "无法查询 geozones 的功能（{error}）；插件使用默认列表。",
    ),
    "config_written": ("Configuration passed to geozones:", "传给 geozones 的配置文件："),
    "hint_crs": (
        "In QGIS: set the layer's CRS (Layer Properties › Source › Assigned CRS) and run "
        "again; geozones checks it against the coordinates.",
        "在 QGIS 中：设置图层的坐标系（图层属性 › 源 › 指定坐标系）后重新运行；"
        "geozones 会用坐标核对它。",
    ),
    "no_layers": ("Choose at least one vector layer to check.", "请至少选择一个要检查的矢量图层。"),
    "no_zones": ("Choose the counties (行政区) layer.", "请选择行政区图层。"),
    "bad_order": ("Wrong order: {error}", "顺序有误：{error}"),
    "compare_urban_only": (
        "{option} applies to the urban boundary only, not to {line}: ignored.",
        "{option} 仅适用于城镇开发边界，不适用于 {line}：已忽略。",
    ),
    "compare_summary": (
        "Matched {matching}; {changes} features changed. Balance ({unit}): before {before}, "
        "taken out {out}, put in {put_in}, after {after}.",
        "匹配方式：{matching}；{changes} 个要素有变化。面积平衡（{unit}）：调整前 {before}，"
        "调出 {out}，调入 {put_in}，调整后 {after}。",
    ),
    "compare_rules_met": ("Verdict: the rules are met.", "结论：满足规则。"),
    "qc_summary": (
        "Verdict: {verdict}; {errors} errors, {warnings} warnings.",
        "质检结论：{verdict}；错误 {errors} 项，警告 {warnings} 项。",
    ),
    "qc_passed": ("passed", "通过"),
    "qc_failed": ("failed", "不通过"),
    "compare_rules_not_met": ("Verdict: the rules are NOT met.", "结论：不满足规则。"),
    # help
    "help_check": (
        "What reading each layer's file would repair, guess or refuse: encoding, CRS, invalid "
        "and null geometries. Refused files are listed too, with the reason.",
        "读取每个图层文件时会修复、推断或拒绝的内容：编码、坐标系、无效和空几何。被拒绝的文件也会列出原因。",
    ),
    "help_area": (
        "The layer with the area of each feature as a new field, in the unit chosen. "
        "Ellipsoidal area on CGCS2000 is what official statistics report.",
        "为每个要素计算面积并写入新字段。CGCS2000 椭球面积即官方统计所用面积。",
    ),
    "help_coverage": (
        "Area of each county, area of the layer inside it (overlaps inside the layer counted "
        "once) and the percentage; with roll-up, also per city and for the province.",
        "每个县的面积、图层在县内的面积（图层内部重叠只计一次）和比例；汇总时还给出市和省。",
    ),
    "help_conflicts": (
        "Every piece where two features overlap, between the three lines and inside each line, "
        "split by county; pieces under the sliver threshold are flagged as slivers.",
        "三条控制线之间及各线内部所有重叠图斑，按县切分；小于碎片阈值的标为碎片。",
    ),
    "help_resolve": (
        "Applies the priority order: each overlap is taken out of the lower line; inside the "
        "core zones the order given for them applies. Every piece taken out is in the audit.",
        "按优先级调出：重叠部分从较低优先级的控制线中调出；核心保护区内按其顺序处理。每块调出图斑都记录在审计表中。",
    ),
    "help_site_check": (
        "For each project polygon: the farmland and red line it takes, the part outside the "
        "urban boundary, and a verdict.",
        "对每个项目用地：占用的永久基本农田和生态保护红线、城镇开发边界外的部分，以及结论。",
    ),
    "help_blocks": (
        "Contiguous farmland blocks: parcels at most the gap apart form one block, classed "
        "百亩方 / 千亩方 / 万亩方 by their area in 亩.",
        "永久基本农田集中连片：间隔不超过阈值的图斑组成一个地块，按亩面积分为百亩方、千亩方、万亩方。",
    ),
    "help_report": (
        "The batch report: an Excel workbook, a GeoPackage and a self-contained HTML page for "
        "the whole area, and per county on request.",
        "批量报告：全域的 Excel 工作簿、GeoPackage 和独立 HTML 页面，可按县分别输出。",
    ),
    "help_qc": (
        "Inspect a 三区三线 delivery database (质检) against a rule set, feature by feature: the "
        "layers and fields of the specification, the CRS, identifiers and codes, declared areas "
        "and their arithmetic, geometry, and the rules of the lines. Writes a workbook, a "
        "GeoPackage of located findings and an HTML page with the verdict first.",
        "按质检规则逐个要素检查三区三线成果数据库：图层与字段、坐标系、标识码与代码、"
        "面积及其计算关系、图形、三线关系。"
        "输出 Excel 工作簿、问题定位 GeoPackage 和结论在前的 HTML 页面。",
    ),
    "help_compare": (
        "Two versions of a line (before and after an adjustment): the land taken out (调出) and "
        "put in (调入) per county, each feature's change (matched by the id field, else by "
        "geometry), the balance before − out + in = after, and the rules of the line (补划: net "
        "not negative and quality not lower; red line not smaller; urban boundary under its "
        "cap). Writes a workbook, a GeoPackage and an HTML page with the verdict first.",
        "对比控制线调整前后两个版本：按县统计调出和调入的面积、"
        "每个要素的变化（按标识字段匹配，否则按几何），"
        "面积平衡（调整前 − 调出 + 调入 = 调整后），"
        "并检查该控制线的规则（补划：数量不减少、质量不降低；"
        "生态保护红线面积不减少；城镇开发边界不超过上限）。"
        "输出 Excel 工作簿、GeoPackage 和结论在前的 HTML 页面。",
    ),
}


def language(locale: str | None = None) -> str:
    """``"zh"`` for a Chinese locale, else ``"en"``; the QGIS user locale when not given."""
    if locale is None:
        try:
            from qgis.core import QgsApplication

            locale = QgsApplication.locale()
        except Exception:  # outside QGIS
            locale = ""
    return "zh" if str(locale).lower().replace("-", "_").startswith("zh") else "en"


def tr(key: str, lang: str | None = None, **values: object) -> str:
    """The text of `key` in the QGIS locale's language (or `lang`), formatted with `values`."""
    english, chinese = TEXTS[key]
    text = chinese if (lang or language()) == "zh" else english
    return text.format(**values) if values else text

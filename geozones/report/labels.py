"""Column headers, sheet and layer titles and value words of reports, in Chinese and English.

Chinese (``zh``) is the default; English is ``en``. Every area header names its unit, from
:data:`geozones.units.UNIT_LABELS`, e.g. ``区域面积（亩）`` / ``Zone area (mu)``. Keys nobody
translated (a layer name from the configuration, a column added later) pass through unchanged,
so a report never fails for want of a label.
"""

from __future__ import annotations

from typing import Final

from geozones.analysis.targets import TARGETS
from geozones.units import UNIT_LABELS

#: Report languages; the first is the default.
LANGUAGES: Final = ("zh", "en")

#: Headers of area columns: Chinese and English, before the unit. ``m2`` columns are always m².
_AREA_HEADERS: Final[dict[str, tuple[str, str]]] = {
    "zone_area": ("区域面积", "Zone area"),
    "covered_area": ("覆盖面积", "Covered area"),
    "area": ("面积", "Area"),
    "sliver_area": ("碎片面积", "Sliver area"),
    # steep farmland
    "assessed_area": ("评估面积", "Assessed area"),
    "steep_area": ("陡坡面积", "Steep area"),
    "listed_area": ("列出图斑面积", "Area of the listed parcels"),
    "nodata_area": ("无坡度数据面积", "Area without slope data"),
    # land cover
    "nodata": ("无数据", "No data"),
    "off_raster": ("栅格范围外", "Off the raster"),
    "total": ("合计", "Total"),
    # farmland blocks
    "farmland_area": ("永久基本农田面积", "Farmland area"),
    "area_under_100mu": ("不足百亩地块面积", "Area in blocks under 100 mu"),
    "area_100mu": ("百亩方面积", "Area in 百亩方 (100–1,000 mu)"),
    "area_1000mu": ("千亩方面积", "Area in 千亩方 (1,000–10,000 mu)"),
    "area_10000mu": ("万亩方面积", "Area in 万亩方 (10,000 mu or more)"),
    "mean_block_area": ("平均地块面积", "Mean block area"),
    "largest_block_area": ("最大地块面积", "Largest block area"),
}
_M2_HEADERS: Final[dict[str, tuple[str, str]]] = {
    "area_m2": ("面积", "Area"),
    "sliver_area_m2": ("碎片面积", "Sliver area"),
    "area_before_m2": ("修复前面积", "Area before repair"),
    "area_after_m2": ("修复后面积", "Area after repair"),
    "area_change_m2": ("面积变化", "Area change"),
    "taken_m2": ("调出面积", "Area taken out"),
    "block_area_m2": ("整块面积", "Whole block area"),
}

#: Headers without a unit, and words that appear in cells.
_WORDS: Final[dict[str, tuple[str, str]]] = {
    # columns
    "percent": ("占比（%）", "Share (%)"),
    "level": ("级别", "Level"),
    "zone": ("行政区代码", "Zone code"),
    "name": ("行政区名称", "Zone name"),
    "line": ("控制线", "Line"),
    "layer_a": ("图层A", "Layer A"),
    "layer_b": ("图层B", "Layer B"),
    "id_a": ("要素A编号", "Feature A id"),
    "id_b": ("要素B编号", "Feature B id"),
    "sliver": ("碎片", "Sliver"),
    "pieces": ("图斑数", "Pieces"),
    "slivers": ("碎片数", "Slivers"),
    "layer": ("图层", "Layer"),
    "feature": ("要素编号", "Feature id"),
    "because_layer": ("优先图层", "Outranked by layer"),
    "because_feature": ("优先要素编号", "Outranked by feature"),
    "rule": ("规则", "Rule"),
    "taken": ("已调出", "Taken out"),
    "resolution": ("调整结果", "Resolution"),
    "count": ("重叠图层数", "Layers overlapping"),
    "layers": ("重叠图层", "Overlapping layers"),
    "target": ("指标", "Target"),
    "comparison": ("要求", "Comparison"),
    "required": ("目标值", "Required"),
    "measured": ("实测值", "Measured"),
    "unit": ("单位", "Unit"),
    "met": ("是否达标", "Met"),
    "margin": ("余量", "Margin"),
    "problem": ("问题", "Problem"),
    "action": ("处理", "Action"),
    "source": ("来源文件", "Source"),
    "driver": ("格式", "Driver"),
    "features": ("要素数", "Features"),
    "crs": ("坐标系", "CRS"),
    "crs_source": ("坐标系依据", "CRS decided by"),
    "encoding": ("编码", "Encoding"),
    "encoding_source": ("编码依据", "Encoding decided by"),
    # steep farmland
    "parcels": ("图斑数", "Parcels"),
    "listed": ("列出图斑数", "Parcels listed"),
    "steep_percent": ("陡坡占比（%）", "Steep share (%)"),
    "mean_slope": ("平均坡度（°）", "Mean slope (°)"),
    "max_slope": ("最大坡度（°）", "Steepest slope (°)"),
    "on_raster": ("在栅格范围内的比例", "Share on the raster"),
    # farmland blocks
    "block": ("地块编号", "Block"),
    "class": ("地块等级", "Class"),
    "crossing": ("跨界", "Crosses a zone line"),
    "blocks_count": ("地块数", "Blocks"),
    "blocks_under_100mu": ("不足百亩地块数", "Blocks under 100 mu"),
    "blocks_100mu": ("百亩方数", "百亩方 (100–1,000 mu)"),
    "blocks_1000mu": ("千亩方数", "千亩方 (1,000–10,000 mu)"),
    "blocks_10000mu": ("万亩方数", "万亩方 (10,000 mu or more)"),
    "percent_100mu_plus": ("百亩方以上集中连片比例（%）", "Share in blocks of 100 mu or more (%)"),
    "largest_block_percent": ("最大地块占比（%）", "Largest block share (%)"),
    "crossing_blocks": ("跨界地块数", "Blocks crossing a zone line"),
    "edge_m": ("地块边界长度（米）", "Block edge (m)"),
    "edge_density": ("边缘密度（米/公顷）", "Edge density (m/ha)"),
    "block_area_mu": ("整块面积（亩）", "Whole block area (mu)"),
    # block classes (geozones.analysis.blocks.BLOCK_CLASSES)
    "<100亩": ("不足百亩", "under 100 mu"),
    "百亩方": ("百亩方", "百亩方 (100–1,000 mu)"),
    "千亩方": ("千亩方", "千亩方 (1,000–10,000 mu)"),
    "万亩方": ("万亩方", "万亩方 (10,000 mu or more)"),
    # the three lines
    "farmland": ("永久基本农田", "Permanent basic farmland"),
    "redline": ("生态保护红线", "Ecological protection red line"),
    "urban": ("城镇开发边界", "Urban development boundary"),
    # administrative levels
    "county": ("县级", "County"),
    "city": ("市级", "City"),
    "province": ("省级", "Province"),
    "outside": ("行政区范围外", "Outside every zone"),
    # verdict words
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "pass": ("通过", "Pass"),
    "fail": ("不通过", "Fail"),
    ">=": ("≥", "≥"),
    "<=": ("≤", "≤"),
    # sheet titles (workbook)
    "summary": ("汇总", "Summary"),
    "conflicts": ("冲突", "Conflicts"),
    "conflict_summary": ("冲突汇总", "Conflict summary"),
    "audit": ("调整记录", "Resolution audit"),
    "targets": ("指标", "Targets"),
    "quality": ("数据质量", "Data quality"),
    "sources": ("数据来源", "Data sources"),
    "steep_farmland": ("陡坡耕地", "Steep farmland"),
    "steep_listed": ("列出的陡坡耕地图斑", "Steep parcels listed"),
    "land_cover": ("地类构成", "Land cover"),
    "blocks": ("集中连片", "Farmland blocks"),
    "block_list": ("地块清单", "Blocks, part by part"),
    "notes": ("说明", "Notes"),
    # layer titles (GeoPackage)
    "overlap_count": ("重叠计数", "Overlap count"),
    "resolved": ("调整后", "Resolved"),
    "zones": ("行政区", "Zones"),
    "steep_parcels": ("陡坡耕地图斑", "Steep farmland parcels"),
    "block_outlines": ("永久基本农田集中连片地块", "Farmland block outlines"),
}

#: Target names, from :data:`geozones.analysis.targets.TARGETS` (comparison, Chinese, English).
_TARGET_NAMES: Final[dict[str, tuple[str, str]]] = {
    key: (zh, en) for key, (_, zh, en) in TARGETS.items()
}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


def unit_label(unit: str, language: str) -> str:
    """How `unit` is written in `language`; unknown units (``%``) pass through.

    Examples
    --------
    >>> unit_label("mu", "zh"), unit_label("km2", "en"), unit_label("%", "zh")
    ('亩', 'km²', '%')
    """
    labels = UNIT_LABELS.get(unit)
    if labels is None:
        return unit
    return labels["en"] if language == "en" else labels["zh"]


def with_unit(text: str, language: str, unit: str) -> str:
    """`text` followed by `unit` in parentheses: full-width in Chinese.

    Examples
    --------
    >>> with_unit("面积", "zh", "mu"), with_unit("Area", "en", "ha")
    ('面积（亩）', 'Area (ha)')
    """
    label = unit_label(unit, language)
    return f"{text} ({label})" if language == "en" else f"{text}（{label}）"


def header(key: str, language: str = "zh", unit: str = "mu") -> str:
    """The header, title or word for `key` in `language`.

    Parameters
    ----------
    key : str
        A column name (``zone_area``, ``area_m2``, ``layer_a``, …), a line (``farmland``,
        ``redline``, ``urban``), a level (``county``, ``city``, ``province``), a target
        (:data:`geozones.analysis.targets.TARGETS`), a word (``yes``, ``no``, ``pass``, ``fail``,
        ``>=``, ``<=``) or a sheet or layer title (``summary``, ``conflicts``, …).
    language : str, default "zh"
        ``zh`` or ``en``; anything else is treated as ``zh``.
    unit : str, default "mu"
        Area unit (:data:`geozones.units.AREA_UNITS`) named in area headers. Columns ending
        in ``_m2`` are always in m².

    Returns
    -------
    str
        The label; `key` itself when it has none.

    Examples
    --------
    >>> header("zone_area", "zh", "mu"), header("zone_area", "en", "mu")
    ('区域面积（亩）', 'Zone area (mu)')
    >>> header("area_m2", "zh", "mu"), header("percent", "zh", "mu")
    ('面积（平方米）', '占比（%）')
    >>> header("redline", "zh"), header("city", "en"), header("core_zone", "zh")
    ('生态保护红线', 'City', 'core_zone')
    """
    if key in _AREA_HEADERS:
        return with_unit(_pick(_AREA_HEADERS[key], language), language, unit)
    if key in _M2_HEADERS:
        return with_unit(_pick(_M2_HEADERS[key], language), language, "m2")
    if key in _WORDS:
        return _pick(_WORDS[key], language)
    if key in _TARGET_NAMES:
        return _pick(_TARGET_NAMES[key], language)
    return key


def line_header(line: str, measure: str, language: str = "zh", unit: str = "mu") -> str:
    """Header of a line's column in the summary: its area (`measure` ``area``) or share.

    Examples
    --------
    >>> line_header("farmland", "area", "zh", "mu")
    '永久基本农田面积（亩）'
    >>> line_header("redline", "percent", "en", "mu")
    'Ecological protection red line share (%)'
    """
    name = header(line, language, unit)
    if measure == "percent":
        return f"{name} share (%)" if language == "en" else f"{name}占比（%）"
    return with_unit(f"{name} area" if language == "en" else f"{name}面积", language, unit)


def yes_no(flag: bool, language: str = "zh") -> str:
    """``是``/``否`` (``Yes``/``No``).

    Examples
    --------
    >>> yes_no(True, "zh"), yes_no(False, "en")
    ('是', 'No')
    """
    return header("yes" if flag else "no", language)

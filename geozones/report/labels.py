"""Column headers, sheet and layer titles and value words of reports, in Chinese and English.

The words themselves are in the translation catalogue (:mod:`geozones.report.i18n`,
``labels.*``); this module composes them. Chinese (``zh``) is the default; English is
``en``. Every area header names its unit, from
:data:`geozones.units.UNIT_LABELS`, e.g. ``区域面积（亩）`` / ``Zone area (mu)``. Keys nobody
translated (a layer name from the configuration, a column added later) pass through unchanged,
so a report never fails for want of a label.
"""

from __future__ import annotations

from typing import Final

from geozones.analysis.targets import TARGETS
from geozones.report import i18n
from geozones.units import UNIT_LABELS

#: Report languages; the first is the default.
LANGUAGES: Final = i18n.LANGUAGES

#: Headers of area columns: Chinese and English, before the unit. ``m2`` columns are always m².
_AREA_HEADERS: Final = i18n.pairs("labels.area")
_M2_HEADERS: Final = i18n.pairs("labels.m2")

#: Headers without a unit, and words that appear in cells.
_WORDS: Final = {
    **i18n.pairs("labels.word"),
    **i18n.pairs("labels.layer"),
    **i18n.pairs("labels.source"),
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
    ('生态保护红线', 'City', '自然保护地核心保护区')
    >>> header("my_layer", "zh")
    'my_layer'
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
        return i18n.text("parts.line_share", language, line=name)
    return with_unit(i18n.text("parts.line_area", language, line=name), language, unit)


def yes_no(flag: bool, language: str = "zh") -> str:
    """``是``/``否`` (``Yes``/``No``).

    Examples
    --------
    >>> yes_no(True, "zh"), yes_no(False, "en")
    ('是', 'No')
    """
    return header("yes" if flag else "no", language)

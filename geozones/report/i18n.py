"""The translation catalogue of reports: every text a report shows, in Chinese and English.

The texts live in one file, ``catalogue.toml`` next to this module: one entry per key, each
with ``zh`` and ``en`` (a string, or a list of paragraphs), ``{name}`` fields filled in when
used. :func:`text` looks one up; the report modules take whole groups of it
(:func:`pairs`, :func:`words`) for their headers and sentences.

Texts the computations write in English (data-quality problems of :mod:`geozones.io`, the
rules of the resolution audit, warnings) are translated by :func:`translate`: the catalogue's
``messages`` hold their English form as a pattern and the Chinese one to render, and the
``warnings`` a Chinese sentence per warning class for the messages no pattern matches.

Examples
--------
>>> text("labels.word.level", "zh"), text("labels.word.level", "en")
('级别', 'Level')
>>> text("page.fail", "en", n=3, z=2)
'Fail: the control lines cross, overlap or conflict in 3 conflict pieces (in 2 zones).'
>>> translate("declared TBMJ 4450.20 vs computed 4890.33 m2", "zh")
'申报面积（TBMJ）4450.20，计算面积 4890.33 平方米'
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Final

from geozones.choices import checked_choice
from geozones.units import UNIT_LABELS

__all__ = [
    "LANGUAGES",
    "catalogue",
    "language_of",
    "pairs",
    "paragraphs",
    "text",
    "translate",
    "warning_text",
    "words",
]

#: Report languages; the first is the default.
LANGUAGES: Final = ("zh", "en")

Entry = dict[str, str | list[str]]


@functools.cache
def catalogue() -> dict[str, Entry]:
    """Every entry of ``catalogue.toml``, by its dotted key (``labels.word.level``).

    Returns
    -------
    dict
        Key to ``{"zh": …, "en": …}``; a value is a string or a list of paragraphs.

    Examples
    --------
    >>> catalogue()["labels.word.city"]
    {'zh': '市级', 'en': 'City'}
    """
    return {
        f"{group}.{key}" if group else key: entry
        for group, members in _groups().items()
        for key, entry in members.items()
    }


@functools.cache
def _groups() -> dict[str, dict[str, Entry]]:
    """The entries of ``catalogue.toml`` by group (``labels.word``) and key (``level``).

    A key may hold a dot (``rasters.landcover``, quoted in the file).
    """
    raw = tomllib.loads(
        resources.files("geozones.report").joinpath("catalogue.toml").read_text("utf-8")
    )
    groups: dict[str, dict[str, Entry]] = {}

    def walk(node: Mapping[str, object], path: tuple[str, ...]) -> None:
        if any(language in node for language in LANGUAGES):
            groups.setdefault(".".join(path[:-1]), {})[path[-1]] = dict(node)  # type: ignore[arg-type]
            return
        for key, child in node.items():
            if not isinstance(child, Mapping):
                where = ".".join((*path, key))
                raise ValueError(f"catalogue.toml: {where} is neither an entry nor a group")
            walk(child, (*path, key))

    walk(raw, ())
    return groups


def language_of(language: str) -> str:
    """``en`` for English, ``zh`` (the default) for anything else.

    Examples
    --------
    >>> language_of("en"), language_of("zh"), language_of("fr")
    ('en', 'zh', 'zh')
    """
    return "en" if language == "en" else "zh"


def text(key: str, language: str = "zh", /, **fields: object) -> str:
    """The text of `key` in `language`, with its ``{name}`` fields filled in from `fields`.

    Parameters
    ----------
    key : str
        A dotted key of the catalogue (``labels.word.level``, ``page.fail``).
    language : str, default "zh"
        ``zh`` or ``en``; anything else is ``zh``.
    **fields
        Values of the text's ``{name}`` fields; without any the text is returned as it is.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        `key` is not in the catalogue.

    Examples
    --------
    >>> text("page.slivers", "zh", n=2, t=200)
    '另有 2 处碎片（小于 200 m²）已列出，不计入结论。'
    """
    checked_choice(language, LANGUAGES, what="report language")
    value = catalogue()[key][language_of(language)]
    if not isinstance(value, str):
        raise TypeError(f"catalogue entry {key} is a list of paragraphs: use paragraphs()")
    return value.format(**fields) if fields else value


def paragraphs(key: str, language: str = "zh") -> list[str]:
    """The paragraphs of list entry `key` (notes on method), their fields still unfilled.

    Examples
    --------
    >>> len(paragraphs("method.report", "zh")) == len(paragraphs("method.report", "en"))
    True
    """
    value = catalogue()[key][language_of(language)]
    return [value] if isinstance(value, str) else list(value)


def pairs(group: str) -> dict[str, tuple[str, str]]:
    """The texts of a group (``labels.word``) as key to (Chinese, English).

    Examples
    --------
    >>> pairs("labels.word")["province"]
    ('省级', 'Province')
    """
    found: dict[str, tuple[str, str]] = {}
    for key, entry in _groups()[group].items():
        zh, en = entry["zh"], entry["en"]
        if isinstance(zh, str) and isinstance(en, str):
            found[key] = (zh, en)
    return found


def words(group: str, language: str) -> dict[str, str]:
    """The texts of a group (``page``) in one language, by their last key.

    Examples
    --------
    >>> words("page", "en")["contents"]
    'Contents'
    """
    index = 1 if language_of(language) == "en" else 0
    return {key: pair[index] for key, pair in pairs(group).items()}


# --- texts the computations write in English ------------------------------------------------


_FORMATTER = string.Formatter()


@functools.cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """The catalogue's messages: a pattern of the English text, and the key to render."""
    found = []
    for key, entry in catalogue().items():
        if not key.startswith("messages."):
            continue
        pattern = ""
        for literal, name, _, _ in _FORMATTER.parse(str(entry["en"])):
            pattern += re.escape(literal)
            if name is not None:
                pattern += f"(?P<{name}>.+?)"
        found.append((re.compile(pattern, re.DOTALL), key))
    return found


def translate(
    message: str, language: str, *, label: Callable[[str], str] | None = None
) -> str | None:
    """`message`, written in English by the computations, in `language`; None if unknown.

    Parameters
    ----------
    message : str
        A data-quality problem or action, a rule of the resolution audit, a warning's text.
    language : str
        ``zh`` or ``en``; in English `message` is returned as it is.
    label : callable, optional
        Names a layer key (``farmland``, ``core_zone``) in `language`: applied to the fields
        named ``layer``, ``layers`` (``a > b > c``) and ``mask``.

    Returns
    -------
    str or None
        The message in `language`, or None when no entry of the catalogue's ``messages``
        matches it.

    Examples
    --------
    >>> translate("priority: farmland > redline", "zh")
    '优先级：farmland > redline'
    >>> translate("kept, flagged; no area", "zh"), translate("anything", "en")
    ('保留并标记；不计面积', 'anything')
    >>> translate("something new", "zh") is None
    True
    """
    checked_choice(language, LANGUAGES, what="report language")
    if language_of(language) == "en":
        return message
    for pattern, key in _patterns():
        match = pattern.fullmatch(message)
        if match is None:
            continue
        fields = match.groupdict()
        for name in ("layer", "mask", "layers"):
            if name in fields:  # a key (farmland) or a file (…/lines.gpkg (layer CZKFBJ))
                parts = [label(part) if label else part for part in fields[name].split(" > ")]
                fields[name] = " > ".join(_source(part, language) for part in parts)
        if "reason" in fields:
            fields["reason"] = _reason(fields["reason"])
        if "unit" in fields and fields["unit"] in UNIT_LABELS:
            fields["unit"] = UNIT_LABELS[fields["unit"]]["zh"]
        if "source" in fields and key != "messages.source_layer":
            fields["source"] = _source(fields["source"], language)
        for name, value in fields.items():
            if value.lower() == "nan":  # a number that could not be computed: no figure
                fields[name] = "—"
        return text(key, language, **fields)
    return None


def _source(source: str, language: str) -> str:
    """A file as :func:`geozones.read_layer` names it (``path (layer NAME)``) in `language`."""
    if " (layer " not in source:
        return source
    return translate(source, language) or source


def _reason(reason: str) -> str:
    """A GEOS validity reason (``Self-intersection[x y]``) in Chinese, its location kept."""
    name, bracket, rest = reason.partition("[")
    key = f"geos.{name.strip().lower().replace(' ', '_').replace('-', '_')}"
    translated = text(key, "zh") if key in catalogue() else text("geos.other", "zh")
    return f"{translated}{bracket}{rest}"


def warning_text(category: str, language: str) -> str:
    """What a warning class (``GeometryRepairWarning``) says, in `language`, in one sentence.

    The fallback of :func:`translate` for a warning whose text no pattern matches.

    Examples
    --------
    >>> warning_text("OutsideZonesWarning", "zh")
    '部分图形位于所有行政区之外，不计入任何行政区的行。'
    """
    checked_choice(language, LANGUAGES, what="report language")
    key = f"warnings.{category}"
    if key not in catalogue():
        key = "warnings.other"
    return text(key, language)

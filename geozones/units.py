"""Area units used in Chinese planning statistics.

One 亩 (mu) is 2000/3 m²; one 公顷 (ha) is 10,000 m² = 15 亩; one km² is 100 ha = 1,500 亩.
"""

from __future__ import annotations

from typing import Final

from geozones.choices import checked_choice

#: Square metres in one unit of each supported area unit.
AREA_UNITS: Final[dict[str, float]] = {
    "m2": 1.0,
    "ha": 10_000.0,
    "km2": 1_000_000.0,
    "mu": 2000.0 / 3.0,
    "wan_mu": 2000.0 / 3.0 * 10_000.0,
    "wan_ha": 10_000.0 * 10_000.0,
}

#: How each unit is written in English and Chinese headers.
UNIT_LABELS: Final[dict[str, dict[str, str]]] = {
    "m2": {"en": "m²", "zh": "平方米"},
    "ha": {"en": "ha", "zh": "公顷"},
    "km2": {"en": "km²", "zh": "平方千米"},
    "mu": {"en": "mu", "zh": "亩"},
    "wan_mu": {"en": "10,000 mu", "zh": "万亩"},
    "wan_ha": {"en": "10,000 ha", "zh": "万公顷"},
}

#: Other names of the units, lower-case, for the "did you mean" of an unknown unit only.
UNIT_ALIASES: Final[dict[str, str]] = {
    "m²": "m2",
    "sqm": "m2",
    "square metre": "m2",
    "square meter": "m2",
    "平方米": "m2",
    "hectare": "ha",
    "hectares": "ha",
    "公顷": "ha",
    "km²": "km2",
    "square kilometre": "km2",
    "square kilometer": "km2",
    "平方千米": "km2",
    "平方公里": "km2",
    "亩": "mu",
    "万亩": "wan_mu",
    "万公顷": "wan_ha",
    **{
        label.lower(): unit
        for unit, labels in UNIT_LABELS.items()
        for label in labels.values()
        if label != unit
    },
}


def square_metres_per(unit: str) -> float:
    """Return how many square metres make one `unit`.

    Parameters
    ----------
    unit : str
        One of ``m2``, ``ha``, ``km2``, ``mu`` (亩), ``wan_mu`` (万亩), ``wan_ha`` (万公顷).

    Returns
    -------
    float
        Square metres per unit.

    Raises
    ------
    OptionError
        For an unknown unit (a ``ValueError``); the message names the nearest known one and
        lists them all.

    Examples
    --------
    >>> square_metres_per("mu")
    666.666...
    >>> 1_000_000 / square_metres_per("mu")  # one km² in 亩
    1500.0...
    >>> square_metres_per("hectare")
    Traceback (most recent call last):
    ...
    geozones.errors.OptionError: unknown area unit 'hectare' (did you mean 'ha'?); use one of: ...
    """
    return AREA_UNITS[checked_choice(unit, AREA_UNITS, what="area unit", aliases=UNIT_ALIASES)]

"""Area units used in Chinese planning statistics.

One 亩 (mu) is 2000/3 m²; one 公顷 (ha) is 10,000 m² = 15 亩; one km² is 100 ha = 1,500 亩.
"""

from __future__ import annotations

from typing import Final

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
    ValueError
        For an unknown unit; the message lists the known ones.

    Examples
    --------
    >>> square_metres_per("mu")
    666.666...
    >>> 1_000_000 / square_metres_per("mu")  # one km² in 亩
    1500.0...
    """
    try:
        return AREA_UNITS[unit]
    except (KeyError, TypeError):
        known = ", ".join(AREA_UNITS)
        raise ValueError(f"unknown area unit {unit!r}; use one of: {known}") from None

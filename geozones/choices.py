"""Checking a value against the choices an option allows, with a "did you mean" for a near miss.

Every option of a closed set (an area unit, an administrative level, a layer key) is checked
here, so that a misspelt value gets the same one-line message from the library, the
configuration and the command line.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Mapping
from typing import TypeVar

from geozones.errors import ArgumentTypeError, OptionError

T = TypeVar("T")


def closest(
    word: str, candidates: Collection[str], aliases: Mapping[str, str] | None = None
) -> str | None:
    """The candidate `word` most likely stands for, or None.

    Case is ignored; `aliases` maps other names of a candidate (``hectare`` for ``ha``) to it.

    Parameters
    ----------
    word : str
        The value given.
    candidates : collection of str
        The values allowed.
    aliases : mapping, optional
        Other names of the candidates, lower-case, to the candidate they name.

    Returns
    -------
    str or None
        The nearest candidate, None when none is near.

    Examples
    --------
    >>> closest("Country", ["county", "city", "province"])
    'county'
    >>> closest("hectare", ["m2", "ha"], aliases={"hectare": "ha"})
    'ha'
    >>> closest("parish", ["county", "city", "province"]) is None
    True
    """
    lowered = {candidate.lower(): candidate for candidate in candidates}
    key = str(word).strip().lower()
    if key in lowered:
        return lowered[key]
    if aliases and key in aliases:
        return aliases[key]
    matches = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None


def did_you_mean(
    word: str, candidates: Collection[str], aliases: Mapping[str, str] | None = None
) -> str:
    """``" (did you mean 'x'?)"`` for the nearest candidate, or ``""``.

    Parameters
    ----------
    word : str
        The value given.
    candidates : collection of str
        The values allowed.
    aliases : mapping, optional
        As in :func:`closest`.

    Returns
    -------
    str
        The suggestion, with a leading space, or an empty string.

    Examples
    --------
    >>> did_you_mean("provence", ["county", "city", "province"])
    " (did you mean 'province'?)"
    """
    guess = closest(word, candidates, aliases)
    return f" (did you mean {guess!r}?)" if guess else ""


def checked_choice(
    value: object,
    choices: Collection[str],
    *,
    what: str,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """`value` if it is one of `choices`, else an :class:`~geozones.errors.OptionError`.

    Parameters
    ----------
    value : object
        The value given.
    choices : collection of str
        The values allowed (compared exactly).
    what : str
        What the value is, for the message (``"area unit"``).
    aliases : mapping, optional
        Other names of the choices, for the suggestion only: they are not accepted.

    Returns
    -------
    str
        `value`.

    Raises
    ------
    OptionError
        `value` is not one of `choices`; the message names the nearest one and lists them all.

    Examples
    --------
    >>> checked_choice("mu", ["m2", "mu"], what="area unit")
    'mu'
    >>> checked_choice("MU", ["m2", "mu"], what="area unit")
    Traceback (most recent call last):
    ...
    geozones.errors.OptionError: unknown area unit 'MU' (did you mean 'mu'?); use one of: m2, mu
    """
    if isinstance(value, str) and value in choices:
        return value
    suggestion = did_you_mean(value, choices, aliases) if isinstance(value, str) else ""
    raise OptionError(f"unknown {what} {value!r}{suggestion}; use one of: {', '.join(choices)}")


def checked_instance(
    value: object, kind: type[T] | tuple[type, ...], *, name: str, needed: str
) -> T:
    """`value` if it is an instance of `kind`, else an :class:`~geozones.errors.ArgumentTypeError`.

    Parameters
    ----------
    value : object
        The argument given.
    kind : type or tuple of types
        The type(s) allowed.
    name : str
        The argument's name, for the message.
    needed : str
        What the argument should be, for the message (``"a GeoDataFrame (read one with
        geozones.read_layer)"``).

    Returns
    -------
    object
        `value`.

    Raises
    ------
    ArgumentTypeError
        `value` is not a `kind`; the message names the argument, what it needs and what it got.

    Examples
    --------
    >>> checked_instance(3, int, name="decimals", needed="a whole number")
    3
    >>> checked_instance("farmland.shp", int, name="decimals", needed="a whole number")
    Traceback (most recent call last):
    ...
    geozones.errors.ArgumentTypeError: decimals must be a whole number, not str ('farmland.shp')
    """
    if isinstance(value, kind):
        return value  # type: ignore[return-value]
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ArgumentTypeError(f"{name} must be {needed}, not {type(value).__name__} ({shown})")


def checked_layer(value: object, *, name: str, series: bool = False) -> object:
    """`value` if it is a GeoDataFrame (or, with `series`, a GeoSeries), else an error.

    Parameters
    ----------
    value : object
        The argument given.
    name : str
        The argument's name, for the message.
    series : bool, default False
        Accept a GeoSeries too.

    Returns
    -------
    GeoDataFrame or GeoSeries
        `value`.

    Raises
    ------
    ArgumentTypeError
        `value` is something else (a path, a DataFrame without geometry, …).

    Examples
    --------
    >>> checked_layer("redline.shp", name="layer")
    Traceback (most recent call last):
    ...
    geozones.errors.ArgumentTypeError: layer must be a GeoDataFrame (read the file with \
geozones.read_layer), not str ('redline.shp')
    """
    import geopandas as gpd

    kind: tuple[type, ...] = (gpd.GeoDataFrame, gpd.GeoSeries) if series else (gpd.GeoDataFrame,)
    needed = "a GeoDataFrame" + (" or a GeoSeries" if series else "")
    return checked_instance(
        value, kind, name=name, needed=f"{needed} (read the file with geozones.read_layer)"
    )


def checked_non_negative(value: object, *, name: str, unit: str) -> float:
    """`value` as a float if a finite number ≥ 0, else an :class:`~geozones.errors.OptionError`.

    Parameters
    ----------
    value : object
        The argument given.
    name : str
        The argument's name, for the message.
    unit : str
        Its unit, for the message (``"m²"``).

    Returns
    -------
    float
        `value`.

    Raises
    ------
    OptionError
        `value` is negative, NaN, infinite or not a number.

    Examples
    --------
    >>> checked_non_negative(0, name="min_area_m2", unit="m²")
    0.0
    >>> checked_non_negative(-1, name="min_area_m2", unit="m²")
    Traceback (most recent call last):
    ...
    geozones.errors.OptionError: min_area_m2 must be a finite number ≥ 0 (in m²), not -1
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise OptionError(f"{name} must be a finite number ≥ 0 (in {unit}), not {value!r}")
    return number

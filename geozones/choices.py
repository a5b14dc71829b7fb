"""Checking a value against the choices an option allows, with a "did you mean" for a near miss.

Every option of a closed set (an area unit, an administrative level, a layer key) is checked
here, so that a misspelt value gets the same one-line message from the library, the
configuration and the command line.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

from geozones.errors import OptionError


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

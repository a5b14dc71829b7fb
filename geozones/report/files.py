"""File names built from data (county names, titles), made safe."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile(r"[^\w\-]+", flags=re.UNICODE)
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_filename(text: str, *, fallback: str = "report", max_length: int = 80) -> str:
    """A file name from `text`: letters (Chinese included), digits, ``-`` and ``_`` only.

    Path separators, dots, control and reserved characters become ``_``; the result can
    never climb out of its folder (``..``), is not a Windows device name, and is never empty.

    Parameters
    ----------
    text : str
        Text from the data, e.g. a county name.
    fallback : str, default "report"
        Used when nothing safe is left of `text`.
    max_length : int, default 80
        Longest result, in characters.

    Returns
    -------
    str
        A name without a suffix.

    Examples
    --------
    >>> safe_filename("白石县")
    '白石县'
    >>> safe_filename("../../x"), safe_filename("a/b"), safe_filename("  ")
    ('x', 'a_b', 'report')
    """
    normalised = unicodedata.normalize("NFKC", str(text))
    cleaned = _UNSAFE.sub("_", normalised)
    cleaned = re.sub("_{2,}", "_", cleaned).strip("_")[:max_length].strip("_")
    if not cleaned or cleaned.upper() in _RESERVED:
        return fallback
    return cleaned

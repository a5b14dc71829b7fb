"""The schema of the TOML configuration, declared once on the dataclasses that hold it.

Each key of the configuration is one dataclass field of :mod:`geozones.workflow.config`,
declared with :func:`setting`: its type, default, bounds, allowed values and meaning live in
the field's ``metadata``. The validation (``load_config``) reads the key lists, defaults and
bounds from there, and ``docs/config.md``'s key tables are generated from there
(:func:`key_table`, written by ``scripts/make_config_docs.py``), so a key is described in one
place.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Example:
...     gap_m: float = setting("Widest gap.", kind="number", default=10.0, minimum=0.0)
>>> Example().gap_m, keys_of(Example)["gap_m"].minimum
(10.0, 0.0)
>>> print(key_table(Example))
| key | type | default | meaning |
|---|---|---|---|
| `gap_m` | number ≥ 0 | `10` | Widest gap. |
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Marks a key without a default (required, or absent when not given).
NO_DEFAULT: Any = dataclasses.MISSING
_METADATA = "geozones.workflow.config"


@dataclass(frozen=True)
class Key:
    """One key of the configuration, as :func:`setting` declares it.

    Attributes
    ----------
    name : str
        The key as written in TOML.
    kind : str
        Its type as the documentation says it: ``string``, ``number``, ``boolean``,
        ``table``, ``layer key``, ``array of layer keys``, …
    doc : str
        What it means (Markdown, one paragraph).
    default : object
        The value when the key is not given; :data:`NO_DEFAULT` when it has none.
    shown : str or None
        How the documentation shows the default when it is not the value itself
        ("the file name without `.toml`", "detected", "required", …).
    required : bool
        Whether the key must be given.
    example : str or None
        What to write when a required key is missing (``path = "sanqusanxian.gpkg"``).
    minimum, above, maximum, below : float or None
        Bounds of a number: ≥ `minimum`, > `above`, ≤ `maximum`, < `below`.
    hint : str
        Added to a message about a number out of its bounds.
    choices : tuple of str
        The allowed values of a string, when they are a closed list.
    lines : tuple of str
        For the keys of ``[layers.KEY.before]`` that are rules of some lines only: those lines.
    label : str or None
        How the documentation names the key when not as `` `name` `` (``[zones]``).
    """

    name: str
    kind: str
    doc: str
    default: Any = NO_DEFAULT
    shown: str | None = None
    required: bool = False
    example: str | None = None
    minimum: float | None = None
    above: float | None = None
    maximum: float | None = None
    below: float | None = None
    hint: str = ""
    choices: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    label: str | None = None

    @property
    def has_default(self) -> bool:
        """Whether the key has a default value."""
        return self.default is not NO_DEFAULT

    def bounds(self) -> dict[str, Any]:
        """The keyword options of a number check: `minimum`, `above`, `maximum`, `hint`."""
        return {
            "minimum": self.minimum,
            "above": self.above,
            "maximum": self.maximum,
            "hint": self.hint,
        }

    def type_text(self) -> str:
        """The type as the key tables show it (``number ≥ 0``, ``number in (0, 100]``)."""
        if self.kind != "number":
            return self.kind
        low, low_open = (self.above, True) if self.above is not None else (self.minimum, False)
        high, high_open = (self.below, True) if self.below is not None else (self.maximum, False)
        if low is None and high is None:
            return "number"
        if high is None:
            return f"number {'>' if low_open else '≥'} {low:g}"
        if low is None:
            return f"number {'<' if high_open else '≤'} {high:g}"
        if not low_open and not high_open:
            return f"number from {low:g} to {high:g}"
        return f"number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def default_text(self) -> str:
        """The default as the key tables show it."""
        if self.shown is not None:
            return self.shown
        if self.required:
            return "required"
        if not self.has_default or self.default is None:
            return "none"
        return f"`{_toml(self.default)}`"

    def row(self) -> str:
        """The key's row of a key table."""
        label = self.label or f"`{self.name}`"
        cells = (label, self.type_text(), self.default_text(), self.doc)
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def setting(
    doc: str,
    *,
    kind: str,
    default: Any = NO_DEFAULT,
    default_factory: Callable[[], Any] | None = None,
    field_default: bool = True,
    name: str | None = None,
    shown: str | None = None,
    required: bool = False,
    example: str | None = None,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    hint: str = "",
    choices: Sequence[str] = (),
    lines: Sequence[str] = (),
    label: str | None = None,
) -> Any:
    """A dataclass field that is a key of the configuration.

    Parameters
    ----------
    doc : str
        What the key means, as the key table says it.
    kind : str
        Its type as the key table says it (``string``, ``number``, ``table``, …).
    default : object, optional
        The value when the key is not given; also the field's default unless
        `field_default` is False.
    default_factory : callable, optional
        For a mutable default: makes it (then `default` is its value in the documentation).
    field_default : bool, default True
        Give the dataclass field the default too. False for a field the loader always fills.
    name : str, optional
        The key in TOML when it is not the field's name.
    shown, required, example, minimum, above, maximum, below, hint, choices, lines, label
        As the attributes of :class:`Key`.

    Returns
    -------
    dataclasses.Field
        The field, its :class:`Key` under ``metadata``.
    """
    key = Key(
        name=name or "",
        kind=kind,
        doc=doc,
        default=default,
        shown=shown,
        required=required,
        example=example,
        minimum=minimum,
        above=above,
        maximum=maximum,
        below=below,
        hint=hint,
        choices=tuple(choices),
        lines=tuple(lines),
        label=label,
    )
    metadata = {_METADATA: key}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    if field_default and default is not NO_DEFAULT:
        return dataclasses.field(default=default, metadata=metadata)
    return dataclasses.field(metadata=metadata)


def keys_of(cls: type) -> dict[str, Key]:
    """The configuration keys a dataclass declares, by TOML name, in the order of its fields.

    Parameters
    ----------
    cls : dataclass type
        A class whose fields are declared with :func:`setting`; other fields are skipped.

    Returns
    -------
    dict of str to Key
    """
    keys: dict[str, Key] = {}
    for item in dataclasses.fields(cls):
        key = item.metadata.get(_METADATA)
        if key is None:
            continue
        if not key.name:
            key = dataclasses.replace(key, name=item.name)
        keys[key.name] = key
    return keys


def key_table(cls: type) -> str:
    """The Markdown key table of a dataclass's configuration keys.

    Parameters
    ----------
    cls : dataclass type
        A class whose fields are declared with :func:`setting`.

    Returns
    -------
    str
        The table: key, type, default, meaning; one row per key, without a final newline.
    """
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    rows += [key.row() for key in keys_of(cls).values()]
    return "\n".join(rows)


_MARKED = re.compile(r"(<!-- keys: (\w+) -->\n)(.*?)(<!-- /keys -->)", re.DOTALL)


def fill_key_tables(text: str, tables: Mapping[str, type]) -> str:
    r"""`text` with each marked key table replaced by the one generated from its class.

    A table is marked by the lines ``<!-- keys: NAME -->`` before it and ``<!-- /keys -->``
    after it; NAME is a key of `tables`.

    Parameters
    ----------
    text : str
        A Markdown document (``docs/config.md``).
    tables : mapping of str to dataclass type
        Marker name to the class whose keys the table lists.

    Returns
    -------
    str
        The document with every marked table generated afresh.

    Raises
    ------
    KeyError
        A marker names no class of `tables`.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Blocks:
    ...     gap_m: float = setting("Widest gap.", kind="number", default=10.0)
    >>> print(fill_key_tables("<!-- keys: blocks -->\nold\n<!-- /keys -->", {"blocks": Blocks}))
    <!-- keys: blocks -->
    <BLANKLINE>
    | key | type | default | meaning |
    |---|---|---|---|
    | `gap_m` | number | `10` | Widest gap. |
    <BLANKLINE>
    <!-- /keys -->
    """

    def table(match: re.Match[str]) -> str:
        opening, name, _, closing = match.groups()
        return f"{opening}\n{key_table(tables[name])}\n\n{closing}"

    return _MARKED.sub(table, text)


def _toml(value: Any) -> str:
    """`value` as TOML writes it (``"zh"``, ``200``, ``true``, ``["a", "b"]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)

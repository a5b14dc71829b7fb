"""The rule set of the 质检: a TOML file an analyst can read, shipped with geozones.

:func:`load_rules` reads the default rule set (``geozones/qc/default_rules.toml``) or a
province's own, and validates it without opening any GIS file: an unknown key, a wrong type or
a layer that is not defined is refused with the file, the dotted key and a "did you mean".
``docs/qc.md`` describes every key.

Examples
--------
>>> rules = load_rules()
>>> rules.lines["farmland"], rules.layers["YJJBNTBHTB"].fields["DLBM"].width
('YJJBNTBHTB', 5)
>>> rules.layers["YJJBNTBHTB"].fields["DLBM"].values
('0101', '0102', '0103')
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from geozones.analysis.conflicts import LINES
from geozones.choices import did_you_mean
from geozones.measure.tolerance import DEFAULT_XY_TOLERANCE, MAX_XY_TOLERANCE
from geozones.qc.catalogue import RULES, SEVERITIES
from geozones.units import AREA_UNITS
from geozones.workflow.config import ConfigError

#: Field types of the rule set, and the OGR types that satisfy each.
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("OFTString",),
    "integer": ("OFTInteger", "OFTInteger64"),
    "real": ("OFTReal",),
    "number": ("OFTInteger", "OFTInteger64", "OFTReal"),
    "date": ("OFTDate", "OFTDateTime"),
}
#: Area methods the declared areas can be checked with, the default first, each with its name
#: in Chinese and English: ``survey`` is the formula of 国土调查办发〔2008〕32号 that fills the
#: declared fields of a delivery (:func:`geozones.measure.survey.survey_area`), ``ellipsoidal``
#: the exact area of the straight-edged region (:func:`geozones.area`).
AREA_METHOD_NAMES: dict[str, tuple[str, str]] = {
    "survey": ("32号图斑椭球面积", "32号 survey area"),
    "ellipsoidal": ("直线边椭球面积", "straight-edge ellipsoidal area"),
}
#: Area methods the declared areas can be checked with, the default first.
AREA_METHODS = tuple(AREA_METHOD_NAMES)
#: The roles of the three lines: the line names of the conflicts engine.
LINE_ROLES = LINES
#: The rule set shipped with geozones.
DEFAULT_RULES = "default_rules.toml"


@dataclass(frozen=True)
class FieldRule:
    """A field a layer must have: ``fields.NAME = {type = "text", width = 18}``.

    Attributes
    ----------
    name : str
        The field name, as in the specification (``BSM``).
    type : str
        A key of :data:`FIELD_TYPES`.
    width : int or None
        Longest text allowed, in characters.
    values : tuple of str or None
        The allowed values (a code list); None allows any.
    optional : bool
        The field may be absent; when present, it is checked.
    """

    name: str
    type: str
    width: int | None = None
    values: tuple[str, ...] | None = None
    optional: bool = False


@dataclass(frozen=True)
class Deduction:
    """The area fields of a farmland layer: gross, coefficient, deduction and net.

    ``deduction = round(gross × coefficient, 2)`` and ``net = gross − deduction``, to 0.01.
    """

    gross: str
    coefficient: str
    deduction: str
    net: str | None = None


@dataclass(frozen=True)
class LayerRule:
    """What one layer of the delivery must hold: a ``[layers.NAME]`` table.

    Attributes
    ----------
    name : str
        The layer name of the specification (``YJJBNTBHTB``).
    aliases : tuple of str
        Other names the layer may be delivered under; matched ignoring case.
    id_field : str or None
        The identifier field (``BSM``): present and unique.
    multipart : bool
        Whether a feature may have several parts.
    min_area_m2, min_width_m : float or None
        Features smaller (ellipsoidal m²) or thinner (m) than this are slivers.
    declared_area : tuple of (str, str) or None
        ``(field, unit)`` of the declared area checked against the geometry.
    deduction : Deduction or None
        The gross, coefficient, deduction and net area fields.
    fields : dict of str to FieldRule
        The fields, in the file's order.
    optional : bool
        The layer may be absent.
    """

    name: str
    aliases: tuple[str, ...] = ()
    id_field: str | None = None
    multipart: bool = True
    min_area_m2: float | None = None
    min_width_m: float | None = None
    declared_area: tuple[str, str] | None = None
    deduction: Deduction | None = None
    fields: dict[str, FieldRule] = field(default_factory=dict)
    optional: bool = False


@dataclass(frozen=True)
class ControlTotals:
    """Control totals (控制面积) per county: an ``[[areas.control]]`` entry.

    The values of `field` of the layer's features, summed per county (the first six digits
    of their XZQDM), must equal the county's total to 0.01.
    """

    layer: str
    field: str
    unit: str
    totals: dict[str, float]


@dataclass(frozen=True)
class LineException:
    """Overlaps of two lines the rules allow: a ``[[lines.exceptions]]`` entry.

    An overlap of the two layers is lifted when the feature of the second layer holds one of
    `values` in `field`, or when the overlap lies inside the polygons of the layer `mask`.
    """

    name: str
    layers: tuple[str, str]
    field: str | None = None
    values: tuple[str, ...] = ()
    mask: str | None = None


@dataclass(frozen=True)
class Rules:
    """A validated rule set, as :func:`load_rules` returns it.

    Attributes
    ----------
    source : pathlib.Path
        The TOML file.
    title : str
        Title of the reports.
    xy_tolerance : float
        Coordinate tolerance in metres (:mod:`geozones.measure.tolerance`).
    area_method : str
        How declared areas are checked (:data:`AREA_METHODS`).
    severity : dict of str to str
        Rule id to ``error``, ``warning`` or ``off``, overriding the rule's default.
    crs_zone : int or None
        The delivery's Gauss–Krüger zone; None takes the most common.
    geographic_layers, other_zones : tuple of str
        Layers allowed in latitude/longitude, and in another zone.
    zones_layer, code_field, name_field : str
        The administrative units: layer, code and name fields.
    lines : dict of str to str
        ``farmland``, ``redline``, ``urban`` to layer names.
    sliver_m2 : float
        Overlaps of two lines smaller than this are slivers (warnings).
    expansion_limit : float
        Largest urban boundary area over 2020 urban construction land, per county.
    urban_land_2020 : dict of str to float
        County code to its 2020 urban construction land, in `urban_land_unit`.
    urban_land_unit : str
        Unit of `urban_land_2020`.
    exceptions : tuple of LineException
        Overlaps of lines that are allowed.
    targets : dict of str to float
        The binding targets, as keyword arguments of :func:`geozones.check_targets`.
    targets_unit : str
        Unit of the area targets.
    area_tolerance_m2, area_relative : float
        Declared areas may differ from the computed ones by the larger of these.
    area_densify_m : float or None
        ``survey`` only: edges densified to this many metres before the formula, as some
        tools do (``[areas] densify_m``); None takes the vertices as given.
    controls : tuple of ControlTotals
        Control totals per county.
    layers : dict of str to LayerRule
        The layers, by name, in the file's order.
    """

    source: Path
    title: str
    xy_tolerance: float
    area_method: str
    severity: dict[str, str]
    crs_zone: int | None
    geographic_layers: tuple[str, ...]
    other_zones: tuple[str, ...]
    zones_layer: str
    code_field: str
    name_field: str | None
    lines: dict[str, str]
    sliver_m2: float
    expansion_limit: float
    urban_land_2020: dict[str, float]
    urban_land_unit: str
    exceptions: tuple[LineException, ...]
    targets: dict[str, float]
    targets_unit: str
    area_tolerance_m2: float
    area_relative: float
    layers: dict[str, LayerRule]
    controls: tuple[ControlTotals, ...] = ()
    area_densify_m: float | None = None

    def severity_of(self, rule: str) -> str:
        """``error``, ``warning`` or ``off``: the rule set's choice, else the rule's default."""
        return self.severity.get(rule, RULES[rule].severity)

    def role_of(self, layer: str) -> str | None:
        """``farmland``, ``redline``, ``urban`` or ``zones`` for a layer name, else None."""
        if layer == self.zones_layer:
            return "zones"
        return next((role for role, name in self.lines.items() if name == layer), None)


_TOP = (
    "title",
    "xy_tolerance",
    "area_method",
    "severity",
    "crs",
    "zones",
    "lines",
    "targets",
    "areas",
    "layers",
)
_CRS = ("zone", "geographic_layers", "other_zones")
_ZONES = ("layer", "code_field", "name_field")
_LINES = (*LINE_ROLES, "sliver_m2", "expansion_limit", "urban_land_2020", "exceptions")
_EXCEPTION = ("name", "layers", "field", "values", "mask")
_TARGETS = ("unit", "redline_min", "farmland_min", "development_intensity_max_percent")
_AREAS = ("tolerance_m2", "relative", "densify_m", "control")
_CONTROL = ("layer", "field", "unit", "totals")
_LAYER = (
    "aliases",
    "id_field",
    "multipart",
    "min_area_m2",
    "min_width_m",
    "declared_area",
    "deduction",
    "fields",
    "optional",
)
_FIELD = ("type", "width", "values", "optional")
_DECLARED = ("field", "unit")
_DEDUCTION = ("gross", "coefficient", "deduction", "net")


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """Read and validate a rule set; the one shipped with geozones when `path` is None.

    Parameters
    ----------
    path : str or path-like, optional
        A rule set in TOML (``docs/qc.md`` describes every key).

    Returns
    -------
    Rules

    Raises
    ------
    ConfigError
        The file is missing, not UTF-8 TOML, or holds an unknown key, a wrong value or a
        layer that is not defined; the message names the file and the dotted key, with a
        "did you mean" where a key looks misspelt.

    Examples
    --------
    >>> rules = load_rules()
    >>> rules.severity_of("SCHEMA-FIELD-EXTRA"), rules.xy_tolerance
    ('warning', 0.001)
    """
    if path is None:
        resource = resources.files("geozones.qc").joinpath(DEFAULT_RULES)
        with resources.as_file(resource) as default:
            return _Reader(Path(default)).rules()
    return _Reader(Path(path)).rules()


class _Reader:
    """Validation of one rule set, raising ConfigError naming the file and the key."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, key: str | None, message: str) -> NoReturn:
        where = f"{key}: " if key else ""
        raise ConfigError(f"{self.source}: {where}{message}", source=self.source, key=key)

    def parse(self) -> dict[str, Any]:
        try:
            text = self.source.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            self.fail(None, "no such rules file; check the path")
        except IsADirectoryError:
            self.fail(None, "is a folder; name the rules file (e.g. rules.toml)")
        except OSError as error:
            self.fail(None, f"cannot be read ({error.strerror or error})")
        except UnicodeDecodeError:
            self.fail(None, "not UTF-8 text; save it again with the encoding UTF-8")
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            self.fail(None, f"not valid TOML: {error}")

    def known(self, table: Mapping[str, Any], where: str | None, keys: Sequence[str]) -> None:
        for key in table:
            if key not in keys:
                self.fail(
                    _join(where, key),
                    f"unknown key{did_you_mean(key, keys)}; the keys here are: {', '.join(keys)}",
                )

    def table(self, parent: Mapping[str, Any], where: str | None, key: str) -> dict[str, Any]:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            self.fail(_join(where, key), f"expected a table, got {_describe(value)}")
        return value

    def text(
        self, table: Mapping[str, Any], where: str | None, key: str, default: str | None = None
    ) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(_join(where, key), f"expected a non-empty string, got {_describe(value)}")
        return value

    def optional_text(self, table: Mapping[str, Any], where: str | None, key: str) -> str | None:
        return self.text(table, where, key) if key in table else None

    def number(
        self,
        table: Mapping[str, Any],
        where: str | None,
        key: str,
        default: float,
        *,
        minimum: float = 0.0,
        maximum: float = math.inf,
    ) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(_join(where, key), f"expected a number, got {_describe(value)}")
        if not (minimum <= value <= maximum):
            bound = f"from {minimum:g} to {maximum:g}" if math.isfinite(maximum) else ""
            self.fail(_join(where, key), f"must be {bound or f'{minimum:g} or more'}, got {value}")
        return float(value)

    def flag(self, table: Mapping[str, Any], where: str, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(_join(where, key), f"expected true or false, got {_describe(value)}")
        return value

    def strings(self, table: Mapping[str, Any], where: str | None, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(_join(where, key), f"expected an array of strings, got {_describe(value)}")
        return tuple(value)

    def layer_name(self, name: str, key: str, layers: Mapping[str, Any]) -> str:
        if name not in layers:
            self.fail(
                key,
                f"{name!r} is not a layer of the rules{did_you_mean(name, list(layers))}; "
                f"the layers are: {', '.join(layers)}",
            )
        return name

    # -- the document --------------------------------------------------------------------------

    def rules(self) -> Rules:
        document = self.parse()
        self.known(document, None, _TOP)
        layers_table = self.table(document, None, "layers")
        if not layers_table:
            self.fail("layers", "no layer is defined; add a [layers.NAME] table per layer")
        layers = {
            name: self.layer(name, self.table(layers_table, "layers", name))
            for name in layers_table
        }
        severity = self.severity(self.table(document, None, "severity"))
        crs = self.table(document, None, "crs")
        self.known(crs, "crs", _CRS)
        zone_value = crs.get("zone", "auto")
        if zone_value == "auto":
            zone = None
        elif isinstance(zone_value, int) and not isinstance(zone_value, bool):
            if not 13 <= zone_value <= 45:
                self.fail("crs.zone", f"a Gauss–Krüger zone is 13–23 or 25–45, got {zone_value}")
            zone = zone_value
        else:
            self.fail("crs.zone", f'expected a zone number or "auto", got {_describe(zone_value)}')
        geographic = self.strings(crs, "crs", "geographic_layers")
        other_zones = self.strings(crs, "crs", "other_zones")
        for key, names in (("crs.geographic_layers", geographic), ("crs.other_zones", other_zones)):
            for name in names:
                self.layer_name(name, key, layers)
        zones = self.table(document, None, "zones")
        self.known(zones, "zones", _ZONES)
        zones_layer = self.layer_name(
            self.text(zones, "zones", "layer", "XZQ"), "zones.layer", layers
        )
        lines_table = self.table(document, None, "lines")
        self.known(lines_table, "lines", _LINES)
        lines = {
            role: self.layer_name(self.text(lines_table, "lines", role), f"lines.{role}", layers)
            for role in LINE_ROLES
            if role in lines_table
        }
        urban_land = self.table(lines_table, "lines", "urban_land_2020")
        urban_unit = self.unit(urban_land, "lines.urban_land_2020", "unit", "mu")
        urban_land_2020 = {
            code: self.number(urban_land, "lines.urban_land_2020", code, 0.0)
            for code in urban_land
            if code != "unit"
        }
        targets = self.table(document, None, "targets")
        self.known(targets, "targets", _TARGETS)
        areas = self.table(document, None, "areas")
        self.known(areas, "areas", _AREAS)
        area_method = self.choice(document, None, "area_method", AREA_METHODS, AREA_METHODS[0])
        densify_m = self.optional_number(areas, "areas", "densify_m")
        if densify_m is not None and (densify_m <= 0 or area_method != "survey"):
            self.fail(
                "areas.densify_m",
                "densifies the edges before the survey formula: a number of metres above 0, "
                f'with area_method = "survey" (it is {area_method!r})',
            )
        return Rules(
            source=self.source,
            title=self.text(document, None, "title", "三区三线成果质检"),
            xy_tolerance=self.number(
                document, None, "xy_tolerance", DEFAULT_XY_TOLERANCE, maximum=MAX_XY_TOLERANCE
            ),
            area_method=area_method,
            severity=severity,
            crs_zone=zone,
            geographic_layers=geographic,
            other_zones=other_zones,
            zones_layer=zones_layer,
            code_field=self.text(zones, "zones", "code_field", "XZQDM"),
            name_field=self.optional_text(zones, "zones", "name_field"),
            lines=lines,
            sliver_m2=self.number(lines_table, "lines", "sliver_m2", 200.0),
            expansion_limit=self.number(lines_table, "lines", "expansion_limit", 1.3),
            urban_land_2020=urban_land_2020,
            urban_land_unit=urban_unit,
            exceptions=self.exceptions(lines_table, layers),
            targets={
                key: self.number(targets, "targets", key, 0.0)
                for key in _TARGETS
                if key != "unit" and key in targets
            },
            targets_unit=self.unit(targets, "targets", "unit", "mu"),
            area_tolerance_m2=self.number(areas, "areas", "tolerance_m2", 0.01),
            area_relative=self.number(areas, "areas", "relative", 0.0, maximum=1.0),
            area_densify_m=densify_m,
            layers=layers,
            controls=self.controls(areas, layers),
        )

    def controls(
        self, areas: Mapping[str, Any], layers: Mapping[str, LayerRule]
    ) -> tuple[ControlTotals, ...]:
        entries = areas.get("control", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail("areas.control", "expected [[areas.control]] tables")
        result = []
        for number, entry in enumerate(entries):
            where = f"areas.control[{number}]"
            self.known(entry, where, _CONTROL)
            layer = self.layer_name(self.text(entry, where, "layer"), f"{where}.layer", layers)
            totals = self.table(entry, where, "totals")
            result.append(
                ControlTotals(
                    layer=layer,
                    field=self.text(entry, where, "field"),
                    unit=self.unit(entry, where, "unit", "m2"),
                    totals={
                        code: self.number(totals, f"{where}.totals", code, 0.0) for code in totals
                    },
                )
            )
        return tuple(result)

    def choice(
        self,
        table: Mapping[str, Any],
        where: str | None,
        key: str,
        choices: Sequence[str],
        default: str,
    ) -> str:
        value = self.text(table, where, key, default)
        if value not in choices:
            self.fail(
                _join(where, key),
                f"{value!r} is not allowed{did_you_mean(value, choices)}; use one of "
                f"{', '.join(choices)}",
            )
        return value

    def unit(self, table: Mapping[str, Any], where: str, key: str, default: str) -> str:
        return self.choice(table, where, key, tuple(AREA_UNITS), default)

    def severity(self, table: Mapping[str, Any]) -> dict[str, str]:
        result = {}
        for rule in table:
            if rule not in RULES:
                self.fail(
                    f"severity.{rule}",
                    f"no rule has this id{did_you_mean(rule, list(RULES))}; the ids are listed "
                    "in docs/qc.md",
                )
            result[rule] = self.choice(table, "severity", rule, (*SEVERITIES, "off"), "error")
        return result

    def exceptions(
        self, lines: Mapping[str, Any], layers: Mapping[str, LayerRule]
    ) -> tuple[LineException, ...]:
        entries = lines.get("exceptions", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail("lines.exceptions", "expected [[lines.exceptions]] tables")
        result = []
        for number, entry in enumerate(entries):
            where = f"lines.exceptions[{number}]"
            self.known(entry, where, _EXCEPTION)
            pair = self.strings(entry, where, "layers")
            if len(pair) != 2:
                self.fail(f"{where}.layers", "name two layers: the lines that may overlap")
            for name in pair:
                self.layer_name(name, f"{where}.layers", layers)
            mask = self.optional_text(entry, where, "mask")
            if mask is not None:
                self.layer_name(mask, f"{where}.mask", layers)
            field_name = self.optional_text(entry, where, "field")
            values = self.strings(entry, where, "values")
            if (field_name is None) == (mask is None):
                self.fail(where, "give either field and values (of the second layer) or a mask")
            if field_name is not None and not values:
                self.fail(f"{where}.values", f"list the values of {field_name} that allow it")
            result.append(
                LineException(
                    name=self.text(entry, where, "name"),
                    layers=(pair[0], pair[1]),
                    field=field_name,
                    values=values,
                    mask=mask,
                )
            )
        return tuple(result)

    def layer(self, name: str, table: Mapping[str, Any]) -> LayerRule:
        where = f"layers.{name}"
        self.known(table, where, _LAYER)
        fields_table = self.table(table, where, "fields")
        fields = {
            field_name: self.field(field_name, f"{where}.fields.{field_name}", spec)
            for field_name, spec in fields_table.items()
        }
        declared = None
        if "declared_area" in table:
            spec = self.table(table, where, "declared_area")
            self.known(spec, f"{where}.declared_area", _DECLARED)
            declared_field = self.text(spec, f"{where}.declared_area", "field")
            declared = (declared_field, self.unit(spec, f"{where}.declared_area", "unit", "m2"))
        deduction = None
        if "deduction" in table:
            spec = self.table(table, where, "deduction")
            key = f"{where}.deduction"
            self.known(spec, key, _DEDUCTION)
            deduction = Deduction(
                gross=self.text(spec, key, "gross"),
                coefficient=self.text(spec, key, "coefficient"),
                deduction=self.text(spec, key, "deduction"),
                net=self.optional_text(spec, key, "net"),
            )
        id_field = self.optional_text(table, where, "id_field")
        named = [id_field, declared[0] if declared else None]
        if deduction is not None:
            named += [deduction.gross, deduction.coefficient, deduction.deduction, deduction.net]
        for field_name in named:
            if field_name is not None and fields and field_name not in fields:
                self.fail(
                    where,
                    f"the field {field_name!r} it names is not among its fields"
                    f"{did_you_mean(field_name, list(fields))}; add fields.{field_name}",
                )
        return LayerRule(
            name=name,
            aliases=self.strings(table, where, "aliases"),
            id_field=id_field,
            multipart=self.flag(table, where, "multipart", True),
            min_area_m2=self.optional_number(table, where, "min_area_m2"),
            min_width_m=self.optional_number(table, where, "min_width_m"),
            declared_area=declared,
            deduction=deduction,
            fields=fields,
            optional=self.flag(table, where, "optional", False),
        )

    def optional_number(self, table: Mapping[str, Any], where: str, key: str) -> float | None:
        return self.number(table, where, key, 0.0) if key in table else None

    def field(self, name: str, where: str, spec: Any) -> FieldRule:
        if not isinstance(spec, dict):
            self.fail(where, f'expected {{ type = "text", width = 18 }}, got {_describe(spec)}')
        self.known(spec, where, _FIELD)
        kind = self.choice(spec, where, "type", tuple(FIELD_TYPES), "text")
        width = spec.get("width")
        if width is not None and (
            isinstance(width, bool) or not isinstance(width, int) or width < 1
        ):
            self.fail(f"{where}.width", f"expected a whole number of characters, got {width!r}")
        values = self.strings(spec, where, "values") if "values" in spec else None
        return FieldRule(
            name=name,
            type=kind,
            width=width,
            values=values,
            optional=self.flag(spec, where, "optional", False),
        )


def _join(where: str | None, key: str) -> str:
    return key if where is None else f"{where}.{key}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return repr(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return re.sub(r"^<class '(.*)'>$", r"\1", str(type(value)))

"""The error contract: every public function refuses bad arguments with a geozones error.

The functions are found by introspection (``geozones.__all__``, ``geozones.inspect`` and every
function docs/api.md documents), so a new public function is walked without anyone listing it.
Each parameter gets the bad values its name and annotation call for:

- a string where a layer (GeoDataFrame) or one of geozones' own objects goes;
- a layer without a CRS, and a layer with no features;
- an unknown area unit, area method, administrative level or report language (misspelt, so
  the message must say "did you mean");
- a negative tolerance or distance.

Each call must raise an exception that is both a :class:`geozones.errors.GeozonesError` and
the built-in that fits (``TypeError`` for a wrong type, ``ValueError`` for a wrong value),
with a message naming the argument. The other arguments get good values from ``GOOD``, by
parameter name; a function that needs other good values has a recipe in ``RECIPES``, and one
the walk cannot call says why in ``NOT_WALKED``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

import geozones
import geozones.report.compare
import geozones.report.excel
from geozones.errors import GeozonesError

API_PAGE = Path(__file__).parent.parent / "docs" / "api.md"

X, Y = 39_500_000, 3_150_000  # CGCS2000 3-degree Gauss-Kruger zone 39 (EPSG:4527)


def _layer(*boxes: tuple[float, float, float, float], crs: Any = 4527) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"TBMJ": [100.0] * len(boxes), "XZQDM": ["990102"] * len(boxes)},
        geometry=[box(X + a, Y + b, X + c, Y + d) for a, b, c, d in boxes],
        crs=crs,
    )


LAYER = _layer((0, 0, 100, 100), (50, 0, 150, 100))
ZONES = _layer((0, 0, 1000, 1000))
LAYERS = {"farmland": LAYER, "redline": _layer((20, 20, 80, 80)), "urban": _layer((0, 0, 10, 10))}
NO_CRS = "layer without CRS"  # stands for the good layer of the parameter, without its CRS
EMPTY = "empty layer"  # stands for the good layer of the parameter, without its rows


def _scratch() -> str:
    return tempfile.mkdtemp(prefix="geozones-contract-")


@functools.cache
def _dataset() -> Any:
    return geozones.write_partitions(LAYERS, ZONES, _scratch() + "/parts", zone_field="XZQDM")


@functools.cache
def _findings() -> Any:
    return geozones.inspect("sample_data/delivery.gpkg", rules="sample_data/delivery_rules.toml")


@functools.cache
def _diff() -> Any:
    return geozones.compare_versions(LAYER, LAYER)


#: Good values by parameter name, for the arguments a call does not make bad.
GOOD: dict[str, Callable[[], Any]] = {
    "layer": lambda: LAYER,
    "data": lambda: LAYER,
    "farmland": lambda: LAYER,
    "footprint": lambda: _layer((40, 40, 60, 60)),
    "before": lambda: LAYER,
    "after": lambda: LAYER,
    "zones": lambda: ZONES,
    "layers": lambda: dict(LAYERS),
    "conflicts": lambda: geozones.find_conflicts(LAYERS),
    "geoms": lambda: np.asarray(LAYER.geometry.array),
    "left": lambda: np.asarray(LAYER.geometry.array),
    "right": lambda: np.asarray(LAYER.geometry.array),
    "group": lambda: np.zeros(len(LAYER), dtype=np.int64),
    "width": lambda: 0.001,
    "tolerance": lambda: 0.001,
    "crs": lambda: LAYER.crs,
    "code_field": lambda: "XZQDM",
    "zone_field": lambda: "XZQDM",
    "blocks": lambda: geozones.farmland_blocks(LAYER),
    "areas": lambda: geozones.area(LAYER),
    "control": lambda: 200.0,
    "path": lambda: _scratch() + "/out",
    "folder": lambda: _scratch(),
    "line": lambda: "farmland",
    "diff": _diff,
    "size": lambda: 100.0,
    "extent": lambda: LAYER,
    "dataset": _dataset,
    "layer_name": lambda: "farmland",
    "source": lambda: "sample_data/delivery.gpkg",
    "findings": _findings,
    "report": lambda: geozones.report.compare.comparison_report(_diff()),
    "key": lambda: "page.fail",
    "message": lambda: "a message",
    "category": lambda: "OutsideZonesWarning",
    "lines": lambda: ["a line"],
    "passed": lambda: True,
    "table": lambda: None,
    "caption": lambda: "a caption",
    "zone_geoms": lambda: np.asarray(ZONES.geometry.array),
}

#: Functions needing good values GOOD cannot give, by qualified name.
RECIPES: dict[str, dict[str, Callable[[], Any]]] = {
    # with no target there is nothing to measure: give one, so the layers are used
    "geozones.analysis.targets.check_targets": {"farmland_min": lambda: 1.0},
    "geozones.analysis.declared.check_area_fields": {
        "layer": lambda: LAYER.assign(KCXS=0.1, KCMJ=10.0)
    },
    "geozones.scale.streaming.stream_coverage": {"layer": lambda: "farmland"},
    "geozones.zones.zone_of_features": {
        "frame": lambda: LAYER,
        "zones": lambda: ZONES.assign(zone=ZONES["XZQDM"]),
    },
    "geozones.report.html.html_table": {
        "table": lambda: geozones.report.excel.Table(frame=LAYER.drop(columns="geometry"))
    },
}

#: Functions that need no CRS (they read attributes only, or take any layer), and why.
NO_CRS_ACCEPTED: dict[str, str] = {
    "geozones.analysis.declared.check_area_fields": "compares attribute fields only",
    "geozones.scale.partitions.tile_grid": "takes crs= when the extent has none",
    "geozones.io.quality.layer_report": "looks up the report of any layer",
    "geozones.report.geopackage.prepare_layer": "prepares columns; GDAL writes no CRS then",
}
#: Parameters that need at least one feature (elsewhere an empty layer gives an empty result).
NEED_FEATURES = {"zones", "extent"}

#: Functions the walk does not call, and why.
NOT_WALKED: dict[str, str] = {
    # building blocks of the report pages, fed by the report code, not by users' data: any
    # value is text to escape or a fragment to place
    "geozones.report.html.escape_text": "takes any object and escapes its text",
    "geozones.report.html.figure_html": "a page fragment from the report's own figures",
    "geozones.report.html.figure_grid_html": "a page fragment from the report's own figures",
    "geozones.report.html.heading_html": "a page fragment from a text",
    "geozones.report.html.list_html": "a page fragment from texts",
    "geozones.report.html.note_html": "a page fragment from a text",
    "geozones.report.html.html_page": "a page from fragments the report code made",
    "geozones.outputs.describe_os_error": "formats an OSError already caught",
    "geozones.outputs.write_failed": "turns an error already caught into an OutputError",
    "geozones.outputs.replace_into": "moves files a staging step made",
    "geozones.measure.survey.survey_coefficients": "a formula of one number (e²); no options",
    "geozones.io.crs.suggest_crs": "takes any bounds, and says None when none fits",
}


def _documented() -> list[Callable[..., Any]]:
    """``geozones.__all__``'s functions, ``geozones.inspect`` and docs/api.md's functions."""
    found: list[Callable[..., Any]] = [geozones.inspect]
    found += [
        getattr(geozones, name)
        for name in geozones.__all__
        if inspect.isfunction(getattr(geozones, name))
    ]
    module = "geozones"
    for line in API_PAGE.read_text(encoding="utf-8").splitlines():
        if match := re.search(r"currentmodule:: (\S+)", line):
            module = match.group(1)
        elif match := re.search(r"autofunction:: (\S+)", line):
            name = match.group(1)
            owner, _, attribute = name.rpartition(".") if "." in name else (module, "", name)
            found.append(getattr(importlib.import_module(owner), attribute))
    unique = {f"{func.__module__}.{func.__name__}": func for func in found}
    return [unique[name] for name in sorted(unique)]


FUNCTIONS = _documented()


def _qualified(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__name__}"


#: Misspelt values of the options of a closed set, and the value the message should suggest.
MISSPELT = {
    "unit": ("hectare", "ha"),
    "method": ("elipsoidal", "ellipsoidal"),
    "levels": (("provence",), "province"),
    "language": ("ZH", "zh"),
    "outside": ("neares", "nearest"),
}
#: Parameters that hold a length, an area or a tolerance: never negative.
NON_NEGATIVE = {
    "xy_tolerance",
    "min_area_m2",
    "tolerance_m",
    "tolerance_m2",
    "densify_m",
    "width",
    "tolerance",
}
#: geozones' own objects a function takes, which a string must not pass for.
OWN_TYPES = (
    "FarmlandBlocks",
    "Findings",
    "Report",
    "ComparisonReport",
    "PartitionedDataset",
    "Config",
    "VersionDiff",
)


def _bad_values(
    qualified: str, name: str, annotation: str
) -> Iterator[tuple[str, Any, type | None, str | None]]:
    """(case, bad value, built-in expected, suggestion expected) for one parameter.

    No built-in (None): the call may succeed; if it raises, the error must be a geozones
    error and a ValueError.
    """
    if annotation.startswith(("gpd.GeoDataFrame", "GeoDataFrame")):
        if "str" not in annotation:
            yield "string for a layer", "not a layer", TypeError, None
        needs_crs = qualified not in NO_CRS_ACCEPTED
        yield "layer without CRS", NO_CRS, ValueError if needs_crs else None, None
        yield "empty layer", EMPTY, ValueError if name in NEED_FEATURES else None, None
    elif annotation.startswith("Mapping[str, gpd.GeoDataFrame | str"):
        yield "missing file for a layer in the mapping", "no/such/file.gpkg", OSError, None
        yield "layer without CRS in the mapping", NO_CRS, ValueError, None
    elif annotation.startswith("Mapping[str, gpd.GeoDataFrame"):
        yield "string for a layer in the mapping", "not a layer", TypeError, None
        yield "layer without CRS in the mapping", NO_CRS, ValueError, None
    elif annotation.split(" ")[0] in OWN_TYPES:
        yield f"string for a {annotation.split(' ')[0]}", "not one", TypeError, None
    if name in MISSPELT:
        value, suggestion = MISSPELT[name]
        yield f"misspelt {name}", value, ValueError, suggestion
    if name in NON_NEGATIVE:
        yield f"negative {name}", -1.0, ValueError, None


def _cases() -> Iterator[Any]:
    for func in FUNCTIONS:
        qualified = _qualified(func)
        if qualified in NOT_WALKED:
            continue
        for parameter in inspect.signature(func).parameters.values():
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            for case, value, builtin, suggestion in _bad_values(
                qualified, parameter.name, str(parameter.annotation)
            ):
                yield pytest.param(
                    func, parameter.name, value, builtin, suggestion, id=f"{qualified}-{case}"
                )


CASES = list(_cases())


def _arguments(func: Callable[..., Any], bad_name: str, bad_value: Any) -> dict[str, Any]:
    """Good values for `func`'s required parameters, and `bad_value` for `bad_name`."""
    good = {**GOOD, **RECIPES.get(_qualified(func), {})}
    arguments: dict[str, Any] = {}
    for parameter in inspect.signature(func).parameters.values():
        if parameter.name == bad_name or parameter.kind in (
            parameter.VAR_KEYWORD,
            parameter.VAR_POSITIONAL,
        ):
            continue
        if parameter.default is parameter.empty or parameter.name in RECIPES.get(
            _qualified(func), {}
        ):
            assert parameter.name in good, (
                f"{_qualified(func)}: no good value for parameter {parameter.name!r}: add one "
                "to GOOD or RECIPES, or the function to NOT_WALKED with the reason"
            )
            arguments[parameter.name] = good[parameter.name]()
    if bad_value in (NO_CRS, EMPTY):
        layer = good.get(bad_name, lambda: LAYER)()
        layer = layer if isinstance(layer, gpd.GeoDataFrame) else LAYER
        bad_value = (
            layer.set_crs(None, allow_override=True) if bad_value == NO_CRS else layer.iloc[:0]
        )
    if bad_name == "layers" and not isinstance(bad_value, dict):
        bad_value = {**LAYERS, "farmland": bad_value}
    arguments[bad_name] = bad_value
    return arguments


def _call(func: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    parameters = inspect.signature(func).parameters
    positional = [
        arguments.pop(name)
        for name, parameter in parameters.items()
        if parameter.kind == parameter.POSITIONAL_ONLY and name in arguments
    ]
    return func(*positional, **arguments)


def test_the_walk_finds_the_documented_functions() -> None:
    names = {_qualified(func) for func in FUNCTIONS}
    assert {"geozones.measure.area.area", "geozones.qc.runner.inspect"} <= names
    assert "geozones.report.html.render_html" in names  # from docs/api.md
    assert set(NOT_WALKED) <= names, set(NOT_WALKED) - names
    assert len(CASES) > 50


@pytest.mark.parametrize(("func", "name", "value", "builtin", "suggestion"), CASES)
def test_bad_argument_gives_a_geozones_error(
    func: Callable[..., Any], name: str, value: Any, builtin: type | None, suggestion: str | None
) -> None:
    arguments = _arguments(func, name, value)
    if builtin is None:
        try:
            _call(func, arguments)
        except Exception as error:
            assert isinstance(error, GeozonesError) and isinstance(error, ValueError), error
        return
    with pytest.raises(Exception) as caught:
        _call(func, arguments)
    error = caught.value
    assert isinstance(error, GeozonesError) and isinstance(error, builtin), (
        f"{type(error).__module__}.{type(error).__name__} is not both a GeozonesError and a "
        f"{builtin.__name__}: {error}"
    )
    message = str(error)
    words = {name, *_WORDS.get(name, ())}
    if isinstance(error, OSError):  # a file error names the file
        words.add("no/such/file.gpkg")
    assert any(word in message for word in words), f"{message!r} names none of {words}"
    if suggestion is not None:
        assert f"did you mean {suggestion!r}" in message, message


#: Other words by which a message may name an argument.
_WORDS: dict[str, tuple[str, ...]] = {
    "zones": ("zone layer", "the zones"),
    "layer": ("the layer",),
    "data": ("the layer",),
    "layers": ("layer 'farmland'", "farmland"),
    "farmland": ("the layer",),
    "barriers": ("barrier",),
    "unit": ("area unit",),
    "method": ("area method",),
    "levels": ("level",),
    "outside": ("outside option",),
    "language": ("language",),
}

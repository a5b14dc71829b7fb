"""Area rules: declared areas against the geometry, and the arithmetic of the area fields."""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geozones.analysis.declared import check_declared_area
from geozones.errors import FieldError
from geozones.measure.area import AreaMethod
from geozones.qc.delivery import Delivery, DeliveryLayer
from geozones.qc.findings import (
    RuleResult,
    add_feature_findings,
    concat_findings,
    finding_rows,
)
from geozones.qc.geometry import repaired_features
from geozones.qc.rules import AREA_METHOD_NAMES, ControlTotals, Rules
from geozones.units import square_metres_per

#: The arithmetic of area fields holds to this, in the fields' unit (m²): one cent.
FIELD_TOLERANCE = 0.01


def declared_area_differences(
    frame: gpd.GeoDataFrame, field: str, *, unit: str, rules: Rules
) -> pd.DataFrame:
    """Features whose declared area differs from the computed one by more than the rules allow.

    The one place the 质检 measures declared areas: with the rules' ``area_method`` (by
    default ``survey``, the 32号 formula that fills the declared fields of a delivery, on
    edges densified to ``areas.densify_m`` where the rules say so and the layer is projected),
    both figures rounded to 0.01 (of `unit`) before they are compared, and the larger of
    ``areas.tolerance_m2`` and ``areas.relative`` × area allowed.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer.
    field : str
        Its declared-area field.
    unit : str
        The field's unit.
    rules : Rules
        The rule set.

    Returns
    -------
    pandas.DataFrame
        As :func:`geozones.check_declared_area`: ``declared``, ``computed``, ``difference``
        and ``relative_difference``, for the features listed.
    """
    per_unit = square_metres_per(unit)
    tolerance = rules.area_tolerance_m2 / per_unit
    candidates = check_declared_area(
        frame,
        field,
        unit=unit,
        rel_tol=rules.area_relative,
        abs_tol=tolerance,
        method=cast(AreaMethod, rules.area_method),
        densify_m=_densify_m(frame, rules),
    )
    rounded = (candidates["declared"].round(2) - candidates["computed"].round(2)).abs()
    allowed = np.maximum(tolerance, rules.area_relative * candidates["computed"].abs())
    keep = ~(rounded <= allowed + 1e-9)
    return candidates[keep.to_numpy()]


def check_areas(delivery: Delivery, rules: Rules) -> list[RuleResult]:
    """AREA-DECLARED, AREA-DEDUCTION, AREA-NET and AREA-CONTROL.

    Features whose geometry is null, empty or was invalid (GEOM rules report them) have no
    area to compare with and are not checked by AREA-DECLARED.

    Parameters
    ----------
    delivery : Delivery
        The opened delivery.
    rules : Rules
        The rule set.

    Returns
    -------
    list of RuleResult
    """
    found: dict[str, list[gpd.GeoDataFrame]] = {
        rule: [] for rule in ("AREA-DECLARED", "AREA-DEDUCTION", "AREA-NET", "AREA-CONTROL")
    }
    checked = dict.fromkeys(found, 0)
    for control in rules.controls:
        checked["AREA-CONTROL"] += _control(found["AREA-CONTROL"], delivery, rules, control)
    for name, layer in delivery.layers.items():
        rule = rules.layers[name]
        frame = layer.frame
        if frame is None:
            continue
        if rule.declared_area is not None:
            column = layer.column(rule.declared_area[0])
            if column is not None:
                checked["AREA-DECLARED"] += _declared(
                    found, layer, rule.id_field, column, rule.declared_area[1], rules
                )
        if rule.deduction is not None:
            fields = rule.deduction
            gross, coefficient, deduction, net = (
                _numbers(layer, f)
                for f in (fields.gross, fields.coefficient, fields.deduction, fields.net)
            )
            if gross is not None and coefficient is not None and deduction is not None:
                expected = np.round(gross * coefficient, 2)
                wrong = ~(np.abs(deduction - expected) <= FIELD_TOLERANCE + 1e-9)
                checked["AREA-DEDUCTION"] += len(frame)
                add_feature_findings(
                    found,
                    "AREA-DEDUCTION",
                    layer,
                    rule.id_field,
                    wrong,
                    layer.column(fields.deduction),
                    zh=f"{fields.deduction} 为 {{measured}}，应为 round({fields.gross} × "
                    f"{fields.coefficient}, 2) = {{expected}}",
                    en=f"{fields.deduction} is {{measured}}, round({fields.gross} × "
                    f"{fields.coefficient}, 2) = {{expected}}",
                    measured=_texts(deduction),
                    expected=_texts(expected),
                )
            if gross is not None and deduction is not None and net is not None:
                expected = gross - deduction
                wrong = ~(np.abs(net - expected) <= FIELD_TOLERANCE + 1e-9)
                checked["AREA-NET"] += len(frame)
                add_feature_findings(
                    found,
                    "AREA-NET",
                    layer,
                    rule.id_field,
                    wrong,
                    layer.column(fields.net),
                    zh=f"{fields.net} 为 {{measured}}，应为 {fields.gross} − {fields.deduction} "
                    "= {expected}",
                    en=f"{fields.net} is {{measured}}, {fields.gross} − {fields.deduction} "
                    "= {expected}",
                    measured=_texts(net),
                    expected=_texts(expected),
                )
    return [RuleResult(rule, checked[rule], concat_findings(rows)) for rule, rows in found.items()]


def _control(
    found: list[gpd.GeoDataFrame], delivery: Delivery, rules: Rules, control: ControlTotals
) -> int:
    """Sums of `control.field` per county against the control totals; counties checked."""
    layer = delivery.layers.get(control.layer)
    column = layer.column(control.field) if layer is not None else None
    code_column = layer.column(rules.code_field) if layer is not None else None
    if layer is None or layer.frame is None or column is None or code_column is None:
        return 0
    values = pd.to_numeric(layer.frame[column], errors="coerce").round(2)
    county = layer.frame[code_column].astype("string").str.strip().str[:6]
    sums = values.groupby(county.to_numpy()).sum()
    for code, total in control.totals.items():
        measured = round(float(sums.get(code, 0.0)), 2)
        if abs(measured - total) <= FIELD_TOLERANCE + 1e-9:
            continue
        found.append(
            finding_rows(
                "AREA-CONTROL",
                layer.name,
                feature=code,
                field=column,
                message_zh=f"{code} 的 {column} 合计 {measured:.2f}，控制面积 {total:.2f}"
                f"（{control.unit}）",
                message_en=f"{column} of {code} adds up to {measured:.2f}, its control total is "
                f"{total:.2f} ({control.unit})",
                measured=f"{measured:.2f}",
                expected=f"{total:.2f}",
            ).assign(zone=code)
        )
    return len(control.totals)


def _declared(
    found: dict[str, list[gpd.GeoDataFrame]],
    layer: DeliveryLayer,
    id_field: str | None,
    column: str,
    unit: str,
    rules: Rules,
) -> int:
    frame = layer.frame
    assert frame is not None
    geoms = frame.geometry.to_numpy()
    measurable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    measurable &= ~frame.index.isin(repaired_features(frame))
    subset = frame[measurable]
    try:
        listed = declared_area_differences(subset, column, unit=unit, rules=rules)
    except FieldError:  # a text field holding no numbers: SCHEMA-FIELD-TYPE reports it
        return 0
    mask = frame.index.isin(listed.index)
    table = listed.reindex(frame.index)
    method_zh, method_en = AREA_METHOD_NAMES[rules.area_method]
    densify_m = _densify_m(frame, rules)
    if densify_m is not None:
        method_zh += f"（边加密至 {densify_m:g} 米）"
        method_en += f" (edges densified to {densify_m:g} m)"
    add_feature_findings(
        found,
        "AREA-DECLARED",
        layer,
        id_field,
        mask,
        column,
        zh=f"{column} 为 {{measured}}，图形的{method_zh}为 {{expected}}（{unit}）",
        en=f"{column} is {{measured}}, the geometry's {method_en} is {{expected}} ({unit})",
        measured=_texts(table["declared"].to_numpy(dtype=float)),
        expected=_texts(table["computed"].to_numpy(dtype=float)),
    )
    return int(measurable.sum())


def _densify_m(frame: gpd.GeoDataFrame, rules: Rules) -> float | None:
    """``areas.densify_m`` for a projected layer; None for one in latitude/longitude.

    Edges are densified in the plane they are straight in; a layer delivered in
    latitude/longitude has no such plane and is measured on its vertices as given.
    """
    if rules.area_densify_m is None or frame.crs is None or frame.crs.is_geographic:
        return None
    return rules.area_densify_m


def _numbers(layer: DeliveryLayer, name: str | None) -> np.ndarray | None:
    column = layer.column(name)
    if column is None or layer.frame is None:
        return None
    return pd.to_numeric(layer.frame[column], errors="coerce").to_numpy(dtype=float)


def _texts(values: np.ndarray) -> np.ndarray:
    return np.array(["" if not np.isfinite(v) else f"{v:.2f}" for v in values], dtype=object)

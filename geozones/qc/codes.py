"""Identifier and code rules: BSM present and unique, code lists, XZQDM and XZQMC."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from geozones.qc.delivery import Delivery, admin_zones, dominant_zone
from geozones.qc.findings import RuleResult, add_feature_findings, concat_findings
from geozones.qc.rules import Rules

#: Administrative codes: county (6 digits), township (9) or village (12).
_CODE = re.compile(r"^\d{6}(\d{3}){0,2}$")


def check_codes(delivery: Delivery, rules: Rules) -> list[RuleResult]:
    """ID-BSM-MISSING, ID-BSM-DUPLICATE, CODE-VALUE and the CODE-XZQDM / CODE-XZQMC rules.

    The XZQDM of a feature is known when its first six digits are the code of an
    administrative unit, and in the right place when the unit holding the largest share of
    the feature's area has that code. XZQMC is compared with the unit's name where XZQDM is
    exactly a unit's code.

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
    zones = admin_zones(delivery, rules)
    found: dict[str, list[gpd.GeoDataFrame]] = {
        rule: []
        for rule in (
            "ID-BSM-MISSING",
            "ID-BSM-DUPLICATE",
            "CODE-VALUE",
            "CODE-XZQDM-FORMAT",
            "CODE-XZQDM-UNKNOWN",
            "CODE-XZQDM-LOCATION",
            "CODE-XZQMC",
        )
    }
    checked = dict.fromkeys(found, 0)
    for name, layer in delivery.layers.items():
        frame = layer.frame
        if frame is None:
            continue
        rule = rules.layers[name]
        is_zones = name == rules.zones_layer
        id_column = layer.column(rule.id_field)
        if id_column is not None:
            values = frame[id_column].astype("string").str.strip()
            blank = (values.isna() | (values == "")).to_numpy()
            checked["ID-BSM-MISSING"] += len(frame)
            checked["ID-BSM-DUPLICATE"] += len(frame)
            add_feature_findings(
                found,
                "ID-BSM-MISSING",
                layer,
                rule.id_field,
                blank,
                id_column,
                zh="{column} 为空",
                en="{column} is empty",
            )
            repeated = (values.duplicated(keep=False) & ~blank).to_numpy()
            add_feature_findings(
                found,
                "ID-BSM-DUPLICATE",
                layer,
                rule.id_field,
                repeated,
                id_column,
                zh="{column} {value} 出现 {measured} 次",
                en="{column} {value} appears {measured} times",
                value=values.fillna("").to_numpy(dtype=object),
                measured=values.map(values.value_counts()).to_numpy(),
                expected="1",
            )
        for spec in rule.fields.values():
            column = layer.column(spec.name)
            if spec.values is None or column is None:
                continue
            values = frame[column].astype("string").str.strip()
            checked["CODE-VALUE"] += len(frame)
            empty = (values.isna() | (values == "")).to_numpy()
            wrong = ~values.fillna("").isin(set(spec.values)).to_numpy()
            if spec.optional:
                wrong &= ~empty
            add_feature_findings(
                found,
                "CODE-VALUE",
                layer,
                rule.id_field,
                wrong,
                column,
                zh="{column} 值 '{measured}' 不在值域 {expected} 内",
                en="{column} '{measured}' is not one of {expected}",
                measured=values.fillna("").to_numpy(dtype=object),
                expected=", ".join(spec.values),
            )
        code_column = layer.column(rules.code_field)
        if code_column is None:
            continue
        codes = frame[code_column].astype("string").str.strip().fillna("")
        code_values = codes.to_numpy(dtype=object)
        well_formed = codes.str.fullmatch(_CODE.pattern).fillna(False).to_numpy(dtype=bool)
        checked["CODE-XZQDM-FORMAT"] += len(frame)
        add_feature_findings(
            found,
            "CODE-XZQDM-FORMAT",
            layer,
            rule.id_field,
            ~well_formed,
            code_column,
            zh="{column} '{measured}' 不是 6、9 或 12 位数字",
            en="{column} '{measured}' is not 6, 9 or 12 digits",
            measured=code_values,
            expected="6/9/12 digits",
        )
        if zones is None or is_zones:
            continue
        county = codes.str[:6].to_numpy(dtype=object)
        known = well_formed & np.isin(county, list(set(zones["zone"].astype(str).str[:6])))
        checked["CODE-XZQDM-UNKNOWN"] += int(well_formed.sum())
        add_feature_findings(
            found,
            "CODE-XZQDM-UNKNOWN",
            layer,
            rule.id_field,
            well_formed & ~known,
            code_column,
            zh="{column} {measured} 不在行政区图层中",
            en="{column} {measured} is not a unit of the zones layer",
            measured=code_values,
        )
        located = dominant_zone(frame, zones)
        there = np.array([str(z)[:6] if z is not None else "" for z in located], dtype=object)
        placed = known & (there != "")
        checked["CODE-XZQDM-LOCATION"] += int(placed.sum())
        add_feature_findings(
            found,
            "CODE-XZQDM-LOCATION",
            layer,
            rule.id_field,
            placed & (there != county),
            code_column,
            zh="{column} 为 {measured}，图斑主要位于 {expected}",
            en="{column} is {measured}, the feature lies mostly in {expected}",
            measured=code_values,
            expected=there,
        )
        name_column = layer.column(rules.name_field)
        if name_column is None:
            continue
        names_by_code = dict(zip(zones["zone"].astype(str), zones["name"], strict=True))
        expected_names = pd.Series(code_values).map(names_by_code).to_numpy(dtype=object)
        names = frame[name_column].astype("string").str.strip().fillna("").to_numpy(dtype=object)
        comparable = pd.notna(expected_names)
        checked["CODE-XZQMC"] += int(comparable.sum())
        add_feature_findings(
            found,
            "CODE-XZQMC",
            layer,
            rule.id_field,
            comparable & (names != expected_names),
            name_column,
            zh="{column} 为 {measured}，代码 {value} 的名称是 {expected}",
            en="{column} is {measured}, the name of code {value} is {expected}",
            value=code_values,
            measured=names,
            expected=expected_names,
        )
    return [RuleResult(rule, checked[rule], concat_findings(rows)) for rule, rows in found.items()]

"""Schema rules: the layers and fields of the specification, their types and widths."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geozones.qc.delivery import Delivery
from geozones.qc.findings import RuleResult, concat_findings, finding_rows
from geozones.qc.rules import FIELD_TYPES, Rules


def check_schema(delivery: Delivery, rules: Rules) -> list[RuleResult]:
    """SCHEMA-LAYER-MISSING, -LAYER-EXTRA, -FIELD-MISSING, -FIELD-TYPE, -FIELD-WIDTH, -EXTRA.

    Field names are matched ignoring case; widths count characters (a Chinese character is
    one).

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
    required = [name for name, rule in rules.layers.items() if not rule.optional]
    missing = [name for name in delivery.missing if name in required]
    results = [
        RuleResult(
            "SCHEMA-LAYER-MISSING",
            len(required),
            concat_findings(
                finding_rows(
                    "SCHEMA-LAYER-MISSING",
                    name,
                    message_zh=f"数据库缺少图层 {name}",
                    message_en=f"the delivery has no layer {name} (nor any of its aliases)",
                    expected=name,
                )
                for name in missing
            ),
        ),
        RuleResult(
            "SCHEMA-LAYER-EXTRA",
            len(delivery.layers) + len(delivery.extra),
            concat_findings(
                finding_rows(
                    "SCHEMA-LAYER-EXTRA",
                    name,
                    message_zh=f"图层 {name} 不在质检规则中，未检查",
                    message_en=f"layer {name} is not in the rules; it was not checked",
                    measured=name,
                )
                for name in delivery.extra
            ),
        ),
    ]
    found: dict[str, list[gpd.GeoDataFrame]] = {
        key: [] for key in ("missing", "type", "width", "extra")
    }
    checked = dict.fromkeys(found, 0)
    for name, layer in delivery.layers.items():
        rule = rules.layers[name]
        if not rule.fields:
            continue
        types = dict(zip(map(str, layer.info["fields"]), layer.info["ogr_types"], strict=True))
        for spec in rule.fields.values():
            column = layer.column(spec.name)
            checked["missing"] += not spec.optional
            if column is None:
                if not spec.optional:
                    found["missing"].append(
                        finding_rows(
                            "SCHEMA-FIELD-MISSING",
                            name,
                            field=spec.name,
                            message_zh=f"图层 {name} 缺少字段 {spec.name}",
                            message_en=f"layer {name} has no field {spec.name}",
                            expected=spec.type,
                        )
                    )
                continue
            checked["type"] += 1
            if types[column] not in FIELD_TYPES[spec.type]:
                found["type"].append(
                    finding_rows(
                        "SCHEMA-FIELD-TYPE",
                        name,
                        field=column,
                        message_zh=f"字段 {column} 类型应为 {spec.type}，实为 {types[column]}",
                        message_en=f"field {column} should be {spec.type}, is {types[column]}",
                        measured=types[column],
                        expected=spec.type,
                    )
                )
            if spec.width is not None and layer.frame is not None:
                values = layer.frame[column]
                checked["width"] += len(values)
                lengths = values.astype("string").str.len().to_numpy(dtype=float, na_value=0)
                over = np.flatnonzero(lengths > spec.width)
                if len(over):
                    found["width"].append(
                        finding_rows(
                            "SCHEMA-FIELD-WIDTH",
                            name,
                            feature=layer.ids(rule.id_field)[over],
                            fid=layer.fids[over],
                            field=column,
                            message_zh=[
                                f"{column} 长 {int(n)} 字符，超过 {spec.width}"
                                for n in lengths[over]
                            ],
                            message_en=[
                                f"{column} is {int(n)} characters, over its width {spec.width}"
                                for n in lengths[over]
                            ],
                            measured=lengths[over].astype(int),
                            expected=spec.width,
                            geometry=layer.frame.geometry.to_numpy()[over],
                            crs=layer.frame.crs,
                        )
                    )
        known = {spec.name.upper() for spec in rule.fields.values()}
        for column in types:
            checked["extra"] += 1
            if column.upper() not in known:
                found["extra"].append(
                    finding_rows(
                        "SCHEMA-FIELD-EXTRA",
                        name,
                        field=column,
                        message_zh=f"图层 {name} 的字段 {column} 不在规则中",
                        message_en=f"field {column} of layer {name} is not in the rules",
                        measured=column,
                    )
                )
    for key, rule_id in (
        ("missing", "SCHEMA-FIELD-MISSING"),
        ("type", "SCHEMA-FIELD-TYPE"),
        ("width", "SCHEMA-FIELD-WIDTH"),
        ("extra", "SCHEMA-FIELD-EXTRA"),
    ):
        results.append(RuleResult(rule_id, checked[key], concat_findings(found[key])))
    return results

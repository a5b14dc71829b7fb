"""质检: inspect a 三区三线 delivery database against a rule set, feature by feature.

:func:`inspect` opens a delivery (GeoPackage, File Geodatabase or check configuration),
applies the rule set (:func:`load_rules`; the default ships as ``default_rules.toml``) family
by family (schema, CRS, identifiers and codes, areas, geometry, the lines) and returns the
:class:`Findings`: one row per defect, located where it can be, and a summary per rule.
``docs/qc.md`` lists every rule.
"""

from geozones.qc.catalogue import FAMILIES, RULES, Rule
from geozones.qc.findings import Findings
from geozones.qc.rules import Rules, load_rules
from geozones.qc.runner import inspect

__all__ = ["FAMILIES", "RULES", "Findings", "Rule", "Rules", "inspect", "load_rules"]

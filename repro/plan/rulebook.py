"""How a run's channels are compared (its normalisation rules, how each captured file and
query is read) as plain data a run record keeps: a run from a case is compared after the
temporary project it ran from is gone (`repro diff`, docs/cases.md)."""

from __future__ import annotations

import dataclasses
from typing import Any

from repro.config.model import Rule
from repro.config.schema import build
from repro.config.yaml_source import Source
from repro.errors import ConfigError, Problem
from repro.plan.values import CapturePlan, Plan


def capture_plans(plan: Plan) -> dict[str, CapturePlan]:
    """How each captured file, and each query's rows, is compared."""
    out = {c.name: c for c in plan.captures}
    for q in plan.queries:
        out[f"query:{q.name}"] = CapturePlan(q.name, f"query:{q.name}", "csv", q.key)
    return out


def to_dict(plan: Plan) -> dict[str, Any]:
    return {"normalize": [_rule(r) for r in plan.rules],
            "captures": {name: {"path": c.path, "type": c.type, "key": list(c.key),
                                "ordered": c.ordered, "tolerance": c.tolerance}
                         for name, c in capture_plans(plan).items()}}


def _rule(rule: Rule) -> dict[str, Any]:
    """As written in YAML (`with`, not `with_`), its unset keys left out."""
    out = {}
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        if value is not None:
            out[f.metadata.get("alias") or f.name] = list(value) if isinstance(value, tuple) \
                else value
    return out


def from_dict(data: Any, where: str) -> tuple[tuple[Rule, ...], dict[str, CapturePlan]]:
    """The rules and capture plans `to_dict` wrote, validated as the scenario's were (a
    record edited by hand is a ConfigError naming `where`, not a crash)."""
    try:
        rules = build(tuple[Rule, ...], Source(where, list(data["normalize"])))
        captures = {str(name): CapturePlan(
            str(name), str(c["path"]), str(c["type"]), tuple(str(k) for k in c["key"]),
            bool(c["ordered"]), None if c["tolerance"] is None else float(c["tolerance"]))
            for name, c in data["captures"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(Problem(where, None, "compare", f"not a rulebook this repro can "
                                  f"read ({type(exc).__name__}: {exc})")) from None
    return rules, captures

"""The oracle as a run evaluates it: each `differs_from: {data: ...}` reads the customer's
value now, from their file (a missing file, column, row or field fails the plan, naming
the scenario's line), so the run compares with a value the plan shows."""

from __future__ import annotations

import dataclasses

from repro.config.model import Condition, Oracle, Scenario
from repro.config.oracle_values import NoValue, describe_where, pick
from repro.config.paths import outside
from repro.config.project import Loaded, project_root
from repro.config.yaml_source import Loc, display_path
from repro.errors import ConfigError, Problem


def plan_oracle(scen: Loaded[Scenario], problems: list[Problem | str]) -> Oracle:
    oracle = scen.record.oracle
    key = "any" if oracle.any is not None else "all"
    resolved = tuple(_resolve(c, (key, i), scen, problems)
                     for i, c in enumerate(oracle.conditions))
    if oracle.any is not None:
        return dataclasses.replace(oracle, any=resolved)
    return dataclasses.replace(oracle, all=resolved)


def _resolve(cond: Condition, loc: Loc, scen: Loaded[Scenario],
             problems: list[Problem | str]) -> Condition:
    if cond.not_ is not None:
        return dataclasses.replace(cond, not_=_resolve(cond.not_, (*loc, "not"), scen,
                                                       problems))
    if cond.any is not None:
        return dataclasses.replace(cond, any=tuple(
            _resolve(c, (*loc, "any", j), scen, problems) for j, c in enumerate(cond.any)))
    if cond.all is not None:
        return dataclasses.replace(cond, all=tuple(
            _resolve(c, (*loc, "all", j), scen, problems) for j, c in enumerate(cond.all)))
    ref = cond.differs_from
    if ref is None or ref.data is None:
        return cond
    at = ("oracle", *loc, "differs_from", "data")
    path = scen.base / ref.data
    refused = outside(path, project_root(scen.base))
    if refused:
        problems.append(scen.source.problem(at, refused))
        return cond
    try:
        from repro.config.yaml_source import read_input

        text = read_input(path, "the customer's file is not there")
        value = pick(text, ref.column, ref.row, ref.field)
    except ConfigError as exc:
        problems.append(scen.source.problem(at, exc.lines()[0]))
        return cond
    except NoValue as exc:
        place = describe_where(ref.column, ref.row, ref.field)
        problems.append(scen.source.problem(at, f"{display_path(path)}: {exc} (looking "
                                            f"for {place})"))
        return cond
    return dataclasses.replace(cond, differs_from=dataclasses.replace(ref, value=value))

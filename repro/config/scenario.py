"""The record a scenario file validates into, and the views of its steps the later
stages ask for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from repro.config import units
from repro.config.checks import (
    DURATION_SCHEMA,
    NAME,
    Issues,
)
from repro.config.conditions import condition_issues
from repro.config.environment import Clock, Limits
from repro.config.oracle import Oracle, leaf_conditions
from repro.config.privacy import PrivacyRule
from repro.config.rules import Rule
from repro.config.schema import did_you_mean, spec
from repro.config.services import DbLoad, Query
from repro.config.steps import Capture, DataLoad, ParameterFile, Step
from repro.config.timeline import WaitFor
from repro.config.yaml_source import Loc


@dataclass(frozen=True)
class Scenario:
    """A customer's case: parameters, data, the steps that triggered it, the oracle."""

    environment: str = spec(doc="Environment name (environments/<name>.yaml) or path")
    steps: tuple[Step, ...] = spec(doc="Commands replayed in order")
    oracle: Oracle = spec(doc="Conditions that mean the customer's error showed")
    id: str | None = spec(None, doc="Scenario id (default: the directory name)")
    title: str = spec("", doc="One-line summary")
    ticket: str = spec("", doc="Support ticket reference")
    expect: Literal["reproduces", "fixed"] = spec(
        "reproduces", doc="`reproduces`: the oracle must fire; `fixed`: it must not")
    parameters_from: tuple[ParameterFile, ...] = spec(factory=tuple,
                                                      doc="Customer parameter exports")
    parameters: dict[str, Any] = spec(factory=dict, doc="Parameters (override the files)")
    data: tuple[DataLoad, ...] = spec(factory=tuple, doc="Customer data to load")
    capture: tuple[Capture, ...] = spec(factory=tuple, doc="Files read back after the steps")
    load: tuple[DbLoad, ...] = spec(factory=tuple, doc="Customer exports loaded into database "
                              "services (SQL dumps, CSV into tables)")
    queries: tuple[Query, ...] = spec(factory=tuple, doc="Database state read after the steps")
    normalize: tuple[Rule, ...] = spec(factory=tuple, doc="Normalisation rules of this scenario "
                                 "(after the environment's)")
    step_timeout: float = spec(300.0, parse=units.duration, doc="Default step timeout",
                               schema=DURATION_SCHEMA)
    # Conditions of the customer's machine (docs/conditions.md); a scenario's win.
    timezone: str | None = spec(None, doc="Time zone of every container, an IANA name such "
                                "as Europe/Berlin (a Jinja template); sets TZ")
    locale: str | None = spec(None, doc="Locale of every container, e.g. de_DE.UTF-8 (a "
                              "Jinja template); sets LANG and LC_ALL, generated if missing")
    hostname: str | None = spec(None, doc="Host name of the steps' container (a Jinja "
                                "template; default: sandbox)")
    tmpfs: dict[str, str] = spec(factory=dict, doc="Small disks: absolute path -> size, "
                                 "e.g. /var/lib/app: 20m (starts empty)")
    limits: Limits | None = spec(None, doc="Resource limits over the environment's (per key)")
    clock: Clock | None = spec(None, doc="The wall clock of every container, from the first "
                               "step on: {at: INSTANT} or {from_log: FILE, match: REGEX}")
    # Regression cases (docs/replay.md): `repro replay --tag NAME` and pytest markers.
    tags: tuple[str, ...] = spec(factory=tuple, doc="Labels to select the scenario by "
                                 "(`repro replay --tag NAME`; pytest markers: `pytest "
                                 "scenarios/ -m NAME`)")
    extends: str | None = spec(None, doc="Another scenario's folder (e.g. ../ACME-4521): "
                               "inherit all of it but its id, and state only what differs "
                               "(parameters merge key by key; other keys replace)")
    # Run records hold customer data: kept this long, then pruned after each run of the
    # scenario (docs/cases.md). Wins over the project's `retention:` (repro.yaml).
    retention: float | None = spec(None, parse=units.duration, schema=DURATION_SCHEMA,
                                   doc="Keep this scenario's run records this long, e.g. "
                                   "30d; older ones are deleted after each of its runs")
    privacy: tuple[PrivacyRule, ...] = spec(factory=tuple, doc="Personal data in the "
                                            "customer's files (by CSV column, JSON/YAML field, "
                                            "SQL table.column or pattern), pseudonymised by "
                                            "`repro redact` (docs/privacy.md)")

    def check(self) -> Issues:
        issues: Issues = condition_issues(self)
        issues += [(("tags", i), f"{tag!r}: a tag is a word (letters, digits, _)")
                   for i, tag in enumerate(self.tags) if not NAME.match(tag)]
        clash = set(capture_names(self)) & {q.name for q in self.queries}
        if clash:
            issues.append((("queries",), f"{', '.join(sorted(clash))}: a query and a capture "
                           "share the name; the oracle could not tell them apart"))
        if not self.steps:
            issues.append((("steps",), "a scenario needs at least one step"))
        names: dict[str, Step] = {}
        for at, step, name in command_steps(self):
            if name in names:
                issues.append(((*at, "name"), f"duplicate step name {name!r}: give each "
                               "step a name of its own (the oracle and baselines use them)"))
            names[name] = step
        issues += _wait_targets(self, names)
        seen: dict[str, int] = {}
        for i, name in enumerate(capture_names(self)):
            if name in seen:
                issues.append((("capture", i), f"two captures are named {name!r}: give this "
                               "one a `name:` of its own"))
            seen[name] = i
        captured = {c.path for c in self.capture} | set(capture_names(self)) | {
            q.name for q in self.queries}
        key = "any" if self.oracle.any is not None else "all"
        faulted = {name for _, _, name in fault_entries(self)}
        for at, cond in leaf_conditions(self.oracle.conditions, ("oracle", key)):
            if cond.step is not None and cond.step in faulted:
                issues.append(((*at, "step"), f"{cond.step!r} is a fault, not a "
                               "command: the oracle looks at the steps that run commands"))
            elif cond.step is not None and cond.step not in names:
                hint = ", ".join(names) or "none"
                issues.append(((*at, "step"),
                               f"no step named {cond.step!r} (steps: {hint})"))
            elif cond.instances is not None and (cond.step is None or
                                                 names[cond.step].repeat is None):
                issues.append(((*at, "instances"), "applies to a condition on "
                               "a repeated step (`repeat:`)"))
            if cond.file is not None and cond.file not in captured and \
                    not cond.file.startswith("/"):
                issues.append(((*at, "file"), f"{cond.file!r} is neither a "
                               "capture name nor an absolute path"))
        for key, value in self.parameters.items():
            if not isinstance(value, (str, int, float, bool)):
                issues.append((("parameters", key), "must be a string, number or boolean"))
        return issues


def step_names(scenario: Scenario) -> list[str]:
    """The names of the command steps (nested ones too), in file order."""
    return [name for _, _, name in command_steps(scenario)]


def command_steps(scenario: Scenario) -> list[tuple[Loc, Step, str]]:
    """Every `run` step, those inside `parallel` groups too, in file order: (location,
    step, name). Unnamed ones are step-N by position (step-N.M inside a group)."""
    return _entries(scenario, lambda step: step.kind == "run")


def fault_entries(scenario: Scenario) -> list[tuple[Loc, Step, str]]:
    """Every `fault` entry, those inside groups too: (location, entry, name). Unnamed ones
    are step-N by position, as command steps are."""
    return _entries(scenario, lambda step: step.fault is not None)


def _entries(scenario: Scenario, wanted: Callable[[Step], bool]
             ) -> list[tuple[Loc, Step, str]]:
    out: list[tuple[Loc, Step, str]] = []

    def walk(entries: tuple[Step, ...], at: Loc, prefix: str) -> None:
        for i, step in enumerate(entries):
            where, default = (*at, i), f"{prefix}{i + 1}"
            if step.parallel is not None:
                walk(step.parallel, (*where, "parallel"), f"{default}.")
            elif wanted(step):
                out.append((where, step, step.name or f"step-{default}"))

    walk(scenario.steps, ("steps",), "")
    return out


def wait_entries(scenario: Scenario) -> list[tuple[Loc, WaitFor]]:
    """Every `wait_for` entry, those inside groups too, with its location."""
    return [((*at, "wait_for"), step.wait_for)
            for at, step, _ in _entries(scenario, lambda step: step.wait_for is not None)
            if step.wait_for is not None]


def _wait_targets(scenario: Scenario, names: dict[str, Step]) -> Issues:
    """A log wait reads a step's output: that step must exist and be a single process."""
    issues: Issues = []
    for at, wait in wait_entries(scenario):
        if wait.step is None:
            continue
        step = names.get(wait.step)
        if step is None:
            issues.append(((*at, "step"), f"no step named {wait.step!r}"
                           + (did_you_mean(wait.step, names) or
                              f" (steps: {', '.join(names) or 'none'})")))
        elif step.repeat is not None:
            issues.append(((*at, "step"), f"step {wait.step!r} is repeated; wait for a "
                           "single step's output (a background server, say)"))
    return issues


def capture_names(scenario: Scenario) -> list[str]:
    return [c.name or c.path.rstrip("/").rsplit("/", 1)[-1] for c in scenario.capture]

"""The oracle: the conditions on steps and captured files that say the customer's error
showed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from repro.config import units
from repro.config.checks import (
    Issues,
    one_of,
)
from repro.config.oracle_values import ValueRef, where_issues
from repro.config.schema import spec
from repro.config.timeline import instances_test
from repro.config.yaml_source import Loc

_STEP_TESTS = ["exit_code", "failed", "timed_out", "stdout", "stderr", "oom_killed"]
_FILE_TESTS = ["exists", "contains"]


@dataclass(frozen=True)
class Condition:
    """One observation that means the customer's error showed."""

    step: str | None = spec(None, doc="Name of the step observed")
    file: str | None = spec(None, doc="Captured file or query observed (its name, or a path)")
    exit_code: int | None = spec(None, doc="The step exited with this code")
    failed: bool | None = spec(None, doc="The step exited non-zero or timed out")
    timed_out: bool | None = spec(None, doc="The step hit its timeout")
    stdout: str | None = spec(None, parse=units.regex, doc="Regex found in stdout",
                              schema={"type": "string"})
    stderr: str | None = spec(None, parse=units.regex, doc="Regex found in stderr",
                              schema={"type": "string"})
    exists: bool | None = spec(None, doc="The file exists (true) or not (false)")
    contains: str | None = spec(None, parse=units.regex, doc="Regex found in the file",
                                schema={"type": "string"})
    oom_killed: bool | None = spec(None, doc="The kernel killed the step for lack of memory")
    instances: str | None = spec(None, parse=instances_test, doc="A repeated step: how many "
                                 "instances must show it: `all`, N (at least N) or \">= 2\"; "
                                 "default: any one", schema={"type": ["string", "integer"]})
    # What support engineers say (docs/patches.md): "not ...", nested groups, and "the
    # report's total differs from the total in the customer's export".
    not_: Condition | None = spec(None, alias="not", doc="Holds when this condition does not")
    any: tuple[Condition, ...] | None = spec(None, doc="A group: holds when one of these "
                                             "conditions holds")
    all: tuple[Condition, ...] | None = spec(None, doc="A group: holds when every one of "
                                             "these conditions holds")
    differs_from: ValueRef | None = spec(None, doc="The file's value (at `column` and `row`, "
                                         "or `field`) differs from this one, e.g. {data: "
                                         "customer/export.csv, column: amount, row: 3}")
    column: str | None = spec(None, doc="differs_from: the CSV/TSV column of the file's value")
    row: int | dict[str, str] | None = spec(
        None, doc="differs_from: the file's data row (1 = first after the header), or the "
        "row whose columns hold these values, e.g. {customer: ACME}",
        schema={"type": ["integer", "object"]})
    field: str | None = spec(None, doc="differs_from: the JSON/YAML field of the file's "
                             "value, e.g. totals.0.amount")
    compare: Literal["text", "number"] = spec("text", doc="differs_from: compare as text "
                                              "(spaces around ignored) or as numbers")
    decimal: Literal[".", ","] = spec(".", doc="compare: number: the decimal separator of "
                                      "both values (the other one groups thousands)")

    @property
    def kind(self) -> str:
        """step, file, not, any or all: what the condition looks at."""
        return next((k.rstrip("_") for k in _KINDS if getattr(self, k) is not None), "")

    def check(self) -> Issues:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            names = [f"'{k.rstrip('_')}'" for k in _KINDS]
            keys = ", ".join(names[:-1]) + " or " + names[-1]
            return [((given[1].rstrip("_"),) if given else (),
                     f"a condition takes only one of {keys}" if given else
                     f"a condition needs {keys}")]
        if self.kind in ("not", "any", "all"):
            inner = [n for n in [*_STEP_TESTS, *_FILE_TESTS, *_VALUE_KEYS, "instances"]
                     if getattr(self, n) is not None]
            if inner:
                return [((inner[0],), f"'{inner[0]}' goes inside the conditions of "
                         f"'{self.kind}'")]
            if self.kind != "not" and not getattr(self, self.kind):
                return [((self.kind,), "a group needs at least one condition")]
            return []
        tests, other = (_STEP_TESTS, [*_FILE_TESTS, *_VALUE_KEYS]) if self.step else (
            [*_FILE_TESTS, "differs_from"], _STEP_TESTS)
        wrong = [n for n in other if getattr(self, n) is not None]
        if wrong:
            kind = "step" if self.step else "file"
            return [((wrong[0],), f"'{wrong[0]}' does not apply to a {kind}; use one of "
                     + ", ".join(tests))]
        stray = [n for n in ("column", "row", "field") if getattr(self, n) is not None]
        if self.file is not None and self.differs_from is None and stray:
            return [((stray[0],), f"'{stray[0]}' goes with 'differs_from'")]
        issues = one_of(self, tests, f"a {'step' if self.step else 'file'} condition")
        if self.differs_from is not None:
            issues += where_issues(self.column, self.row, self.field, "the file's value")
        return issues


_KINDS = ("step", "file", "not_", "any", "all")
_VALUE_KEYS = ["differs_from", "column", "row", "field"]


def leaf_conditions(conditions: tuple[Condition, ...], at: Loc
                    ) -> list[tuple[Loc, Condition]]:
    """The conditions on a step or a file, those inside `not`, `any` and `all` too, each
    with its location (for errors)."""
    out: list[tuple[Loc, Condition]] = []

    def walk(cond: Condition, loc: Loc) -> None:
        if cond.not_ is not None:
            walk(cond.not_, (*loc, "not"))
        elif cond.any is not None or cond.all is not None:
            key = "any" if cond.any is not None else "all"
            for j, inner in enumerate(getattr(cond, key)):
                walk(inner, (*loc, key, j))
        else:
            out.append((loc, cond))

    for i, cond in enumerate(conditions):
        walk(cond, (*at, i))
    return out


@dataclass(frozen=True)
class Oracle:
    """When the customer's error showed: any (or all) of the conditions hold."""

    any: tuple[Condition, ...] | None = spec(None, doc="Fires when at least one condition holds")
    all: tuple[Condition, ...] | None = spec(None, doc="Fires when every condition holds")

    def check(self) -> Issues:
        issues = one_of(self, ["any", "all"], "the oracle")
        conditions = self.any if self.any is not None else self.all
        if not issues and not conditions:
            issues.append(((), "the oracle needs at least one condition"))
        return issues

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(self.any if self.any is not None else self.all or ())


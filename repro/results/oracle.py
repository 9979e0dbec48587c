"""Decide whether the customer's error showed, from observations alone (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from repro.config.model import Condition, Oracle
from repro.config.oracle_values import NoValue, differ, pick
from repro.config.timeline import count_holds, monotone
from repro.plan.show import describe_condition
from repro.results.observations import CaptureObservation, StepObservation
from repro.results.outcome import StepStatus
from repro.results.timeline import Moment


@dataclass(frozen=True)
class ConditionResult:
    description: str
    fired: bool
    detail: str
    moment: Moment | None = None  # when it first held (fired conditions)
    children: tuple[ConditionResult, ...] = ()  # a group's conditions, or what `not` negates

    def to_dict(self, mask: Callable[[str], str]) -> dict[str, Any]:
        """As the run record holds it (a group with its conditions)."""
        out: dict[str, Any] = {"condition": self.description, "fired": self.fired,
                               "observed": mask(self.detail)}
        if self.children:
            out["conditions"] = [c.to_dict(mask) for c in self.children]
        return out


def _match(pattern: str, text: str) -> tuple[str, int] | None:
    """The first matching line (stripped, at most 200 characters) and its number."""
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start: line_end if line_end != -1 else len(text)].strip()
    return line[:200], text.count("\n", 0, line_start)


def _first_match(pattern: str, text: str) -> str | None:
    found = _match(pattern, text)
    return None if found is None else found[0]


_Seen = tuple[float | None, str | None, int | None]  # when, the line, the instance


def _step_moment(cond: Condition, obs: StepObservation | None
                 ) -> tuple[bool, str, _Seen]:
    """Whether it holds, what was seen, and (when, the line) it was seen."""
    if obs is None or obs.status == StepStatus.SKIPPED:
        return False, "the step did not run (an earlier step failed)", (None, None, None)
    if obs.instances is not None:
        return _repeated(cond, obs)
    end = obs.ended_at
    if cond.exit_code is not None:
        return obs.exit_code == cond.exit_code, f"exit code {obs.exit_code}", (end, None, None)
    if cond.failed is not None:
        return obs.failed == cond.failed, obs.status.replace("_", " "), (end, None, None)
    if cond.timed_out is not None:
        return ((obs.status == StepStatus.TIMED_OUT) == cond.timed_out,
                obs.status.replace("_", " "), (end, None, None))
    if cond.oom_killed is not None:
        killed = obs.status == StepStatus.OOM_KILLED
        return killed == cond.oom_killed, obs.status.replace("_", " ") + (
            "" if obs.exit_code is None else f" (exit code {obs.exit_code})"), (end, None, None)
    stream, pattern = ("stdout", cond.stdout) if cond.stdout is not None else \
        ("stderr", cond.stderr)
    assert pattern is not None
    found = _match(pattern, obs.text(stream))
    if found is None:
        return False, f"no match in {stream}", (None, None, None)
    line, number = found
    when = obs.line_time(stream, number)
    return True, f"{stream}: {line}", (end if when is None else when, line, None)


def _repeated(cond: Condition, obs: StepObservation
              ) -> tuple[bool, str, _Seen]:
    """Each instance on its own, then the count against `instances:` (default: any)."""
    instances = obs.instances or []
    hits: list[tuple[float, int, str, str | None]] = []  # when, instance, seen, line
    for inst in instances:
        fired, detail, (when, line, _) = _step_moment(cond, inst)
        if fired:
            hits.append((when if when is not None else inst.ended_at or 0.0,
                         inst.instance or 0, detail, line))
    hits.sort()
    test = cond.instances
    fired = count_holds(test, len(hits), len(instances))
    summary = f"{len(hits)} of {len(instances)} instances"
    if hits:
        summary += f" (first: instance {hits[0][1]}, {hits[0][2]})"
    if not fired:
        return False, summary, (None, None, None)
    if monotone(test) and hits:
        need = 1 if test is None else int(test.split()[1]) + (test.startswith(">") and
                                                              not test.startswith(">="))
        when, index, _, line = hits[max(need, 1) - 1]
        return True, summary, (when, line, index)
    last = max((i.ended_at or 0.0 for i in instances), default=None)
    return True, summary, (last, None, None)


def _check_file(cond: Condition, obs: CaptureObservation | None) -> tuple[bool, str]:
    exists = obs is not None and obs.exists
    if cond.exists is not None:
        return exists == cond.exists, "exists" if exists else "absent"
    if not exists or obs is None:
        return False, "the file is absent"
    assert cond.contains is not None
    line = _first_match(cond.contains, obs.text())
    return line is not None, line if line is not None else "no match in the file"


def evaluate(oracle: Oracle, steps: list[StepObservation],
             captures: list[CaptureObservation], captured_at: float | None = None
             ) -> tuple[bool, list[ConditionResult]]:
    """Did it fire, and each condition's result with the moment it first held (a file
    condition holds from the moment the files were read back, `captured_at`)."""
    by_step = {s.name: s for s in steps}
    by_file = {c.name: c for c in captures} | {c.path: c for c in captures}
    results = [_one(cond, by_step, by_file, captured_at) for cond in oracle.conditions]
    flags = [r.fired for r in results]
    return (all(flags) if oracle.all is not None else any(flags)), results


def _one(cond: Condition, by_step: dict[str, StepObservation],
         by_file: dict[str, CaptureObservation], captured_at: float | None
         ) -> ConditionResult:
    description = describe_condition(cond)
    if cond.not_ is not None:
        inner = _one(cond.not_, by_step, by_file, captured_at)
        # Known not to show once the step ended (or the files were read back).
        step = by_step.get(cond.not_.step or "")
        when = step.ended_at if step is not None else captured_at
        moment = None if inner.fired or when is None else Moment(
            when, description, cond.not_.step, None, inner.detail)
        return ConditionResult(description, not inner.fired, inner.detail, moment, (inner,))
    if cond.any is not None or cond.all is not None:
        every = cond.all is not None
        children = tuple(_one(c, by_step, by_file, captured_at)
                         for c in (cond.all if every else cond.any) or ())
        held = sum(c.fired for c in children)
        fired = held == len(children) if every else held > 0
        found = _group_moment(every, list(children))
        moment = None if found is None else Moment(found.time, description, found.step,
                                                   found.instance, found.line)
        return ConditionResult(description, fired, f"{held} of {len(children)} held",
                               moment, children)
    if cond.step is not None:
        fired, detail, (when, line, instance) = _step_moment(cond, by_step.get(cond.step))
        moment = None if not fired or when is None else Moment(
            when, description, cond.step, instance, line)
        return ConditionResult(description, fired, detail, moment)
    obs = by_file.get(cond.file or "")
    fired, detail = _check_value(cond, obs) if cond.differs_from is not None else \
        _check_file(cond, obs)
    moment = None if not fired or captured_at is None else Moment(
        captured_at, description, None, None, detail)
    return ConditionResult(description, fired, detail, moment)


def _check_value(cond: Condition, obs: CaptureObservation | None) -> tuple[bool, str]:
    """The file's value against the customer's (read when the plan was made)."""
    assert cond.differs_from is not None and cond.differs_from.value is not None
    if obs is None or not obs.exists:
        return False, "the file is absent"
    expected = cond.differs_from.value
    try:
        value = pick(obs.text(), cond.column, cond.row, cond.field)
    except NoValue as exc:
        return False, str(exc)
    verdict = differ(value, expected, cond.compare, cond.decimal)
    if verdict is None:
        return False, f"{value!r} and {expected!r} are not both numbers"
    return verdict, f"{value!r}, the customer's {expected!r}"


def _group_moment(every: bool, results: list[ConditionResult]) -> Moment | None:
    """When a group first held: the earliest moment of a fired condition (any), or the
    moment the last of them came true (all). None when it did not hold."""
    fired = [r for r in results if r.fired]
    if not fired or (every and len(fired) < len(results)):
        return None
    moments = [r.moment for r in fired if r.moment is not None]
    if not moments:
        return None
    if every:
        return max(moments, key=lambda m: m.time)
    return min(moments, key=lambda m: m.time)


def first_held(oracle: Oracle, results: list[ConditionResult]) -> Moment | None:
    """When the oracle first held: the earliest moment of a fired condition (`any`), or
    the moment the last of them came true (`all`). None when it did not fire."""
    return _group_moment(oracle.all is not None, results)

"""Decide whether the customer's error showed, from observations alone (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from repro.config.model import Condition, Oracle
from repro.plan.show import describe_condition
from repro.results.observations import CaptureObservation, StepObservation
from repro.results.outcome import StepStatus


@dataclass(frozen=True)
class ConditionResult:
    description: str
    fired: bool
    detail: str


def _first_match(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start: line_end if line_end != -1 else len(text)].strip()
    return line[:200]


def _check_step(cond: Condition, obs: StepObservation | None) -> tuple[bool, str]:
    if obs is None or obs.status == StepStatus.SKIPPED:
        return False, "the step did not run (an earlier step failed)"
    if cond.exit_code is not None:
        return obs.exit_code == cond.exit_code, f"exit code {obs.exit_code}"
    if cond.failed is not None:
        return obs.failed == cond.failed, obs.status.replace("_", " ")
    if cond.timed_out is not None:
        return (obs.status == StepStatus.TIMED_OUT) == cond.timed_out, obs.status.replace("_", " ")
    if cond.oom_killed is not None:
        killed = obs.status == StepStatus.OOM_KILLED
        return killed == cond.oom_killed, obs.status.replace("_", " ") + (
            "" if obs.exit_code is None else f" (exit code {obs.exit_code})")
    stream, pattern = ("stdout", cond.stdout) if cond.stdout is not None else \
        ("stderr", cond.stderr)
    assert pattern is not None
    line = _first_match(pattern, obs.text(stream))
    return line is not None, f"{stream}: {line}" if line is not None else f"no match in {stream}"


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
             captures: list[CaptureObservation]) -> tuple[bool, list[ConditionResult]]:
    by_step = {s.name: s for s in steps}
    by_file = {c.name: c for c in captures} | {c.path: c for c in captures}
    results = []
    for cond in oracle.conditions:
        if cond.step is not None:
            fired, detail = _check_step(cond, by_step.get(cond.step))
        else:
            fired, detail = _check_file(cond, by_file.get(cond.file or ""))
        results.append(ConditionResult(describe_condition(cond), fired, detail))
    flags = [r.fired for r in results]
    return (all(flags) if oracle.all is not None else any(flags)), results

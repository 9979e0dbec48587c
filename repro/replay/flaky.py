"""`--repeat N`: a scenario is flaky when its verdict or its baseline comparison is not the
same in every run; what varied is found by the determinism gate (compare.determinism) on
the runs' observations through the scenario's own rules, so each finding comes with the
normalisation rule that would remove it."""

from __future__ import annotations

from repro.compare.determinism import Variation, variations
from repro.plan.values import Plan
from repro.report.replay import CaseRun
from repro.results.outcome import RunStatus


def judge(plan: Plan, runs: list[CaseRun]) -> tuple[bool, list[Variation]]:
    """Flaky or not, and what varied between the complete runs."""
    if len(runs) < 2:
        return False, []
    flaky = len({r.record.verdict for r in runs}) > 1 or len({r.baseline for r in runs}) > 1
    complete = [r for r in runs if r.record.status == RunStatus.COMPLETE]
    if not flaky or len(complete) < 2:
        return flaky, []
    from repro.compare import baseline

    observed = [baseline.observe(plan, r.record.stored()) for r in complete]
    return flaky, variations(observed)

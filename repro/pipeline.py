"""Record a baseline: replay (N times for the determinism gate), then store or refuse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from repro.compare import baseline
from repro.compare.channels import load_record
from repro.compare.determinism import Variation, variations
from repro.compare.diff import Comparison, compare
from repro.compare.normalise import Normal, Rulebook
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.execute import runner
from repro.plan.build import Plan, plan_scenario
from repro.results.record import RunRecord
from repro.sandbox import backends


@dataclass
class Recording:
    runs: list[RunRecord]
    observations: list[list[Normal]]
    varied: list[Variation]


def replay(plan: Plan, say: Callable[[str], None], repeat: int,
           on_step: Callable | None = None) -> Recording:
    """Run `repeat` times; every run must complete (a sandbox failure raises)."""
    if repeat < 1:
        raise ConfigError(Problem("--repeat", None, "", "must be at least 1"))
    runs, observations = [], []
    backend = backends.default()
    for number in range(1, repeat + 1):
        if repeat > 1:
            say(f"run {number} of {repeat}")
        record = runner.run(plan, say, backend=backend, on_step=on_step)
        runs.append(record)
        observed = baseline.observe(plan, record.to_dict(), record.directory)
        for normal in observed:  # a key that is not there is a scenario mistake here
            if normal.note and normal.note.startswith("key column"):
                raise ConfigError(Problem(display_path(plan.scenario_path), None,
                                          f"capture {normal.name.removeprefix('files.')}",
                                          normal.note.removesuffix(": compared as text") +
                                          "; fix `key:`"))
        observations.append(observed)
    return Recording(runs, observations, variations(observations) if repeat > 1 else [])


def against_current(plan: Plan, new: list[Normal]) -> tuple[Comparison | None, str | None]:
    """What re-recording would change; an unreadable old baseline is simply replaced."""
    try:
        old = baseline.load(plan)
    except ConfigError as exc:
        return None, exc.lines()[0]
    if old is None:
        return None, None
    return compare(old, new, labels=("current baseline", "new baseline")), None


def diff_runs(first: str, second: str) -> tuple[Comparison, list[str]]:
    """Two run records through the rulebook of the first run's scenario (as it is now)."""
    notes = []
    (rec_a, dir_a), (rec_b, dir_b) = load_record(first), load_record(second)
    scenario_path = Path(rec_a.get("scenario", {}).get("path", ""))
    try:
        plan: Plan | None = plan_scenario(scenario_path)
    except ConfigError as exc:
        plan = None
        notes.append(f"no normalisation rules applied: the scenario of {rec_a['run_id']} "
                     f"cannot be loaded ({exc.lines()[0]})")
    if plan is not None:
        book = Rulebook(plan.rules)
        sides = [baseline.channels_of(plan, rec, folder) for rec, folder in
                 ((rec_a, dir_a), (rec_b, dir_b))]
    else:
        from repro.compare.channels import from_record

        book = Rulebook([])
        sides = [from_record(rec, folder) for rec, folder in ((rec_a, dir_a), (rec_b, dir_b))]
    return compare(*sides, book=book, labels=(rec_a["run_id"], rec_b["run_id"])), notes

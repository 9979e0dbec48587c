"""Proofs for a patch, composed of runs: fail-before / pass-after (`repro verify-fix`) and
the first value of a parameter at which the verdict changes (`repro bisect`).

Every plan is made before the first run, so a typo in a value fails in a second, not after
minutes of runs. A run that cannot complete (no verdict) is reported, never guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repro import pipeline
from repro.config.parameters import parse_cli_params
from repro.errors import ConfigError, Interrupted, Problem, ReproError
from repro.plan.values import Plan
from repro.report.patches import Bisection, FixProof, Probe, Side
from repro.sandbox import backends

if TYPE_CHECKING:
    from repro.compare.diff import Comparison
    from repro.compare.normalise import Normal
    from repro.sandbox.api import Backend

Say = Callable[[str], None]


@dataclass
class _Target:
    """What a proof runs: a scenario folder, or a case's scenario in its temporary project
    (its runs recorded as the case's)."""

    scenario: Path
    prepare: Callable[[list[str]], tuple[Plan, list[Normal] | None]]
    where: dict  # pipeline.run's arguments for the record's home and case
    case: pipeline.CaseFiles | None
    say: Say

    def backend(self) -> Backend:
        """The engine, with a case's images loaded where it lacks them (after every plan
        is made: a typo fails before the engine is asked anything)."""
        backend = backends.default()
        if self.case is not None:
            pipeline.load_case_images(self.case, backend, self.say)
        return backend


@contextmanager
def _target(target: Path, say: Say) -> Iterator[_Target]:
    """A case (`repro pack`) is checked and unpacked into a temporary project, removed
    afterwards, as `repro run` does with one."""
    from repro.case.unpack import is_case

    if not is_case(target):
        yield _Target(target, lambda params: pipeline.prepare(target, params), {}, None, say)
        return
    with pipeline.case_files(target) as case:  # planned per run, with each run's values
        yield _Target(case.unpacked.scenario, case.prepare, case.where, case, say)


# ---- verify-fix ---------------------------------------------------------------------------


def verify_fix(target: Path, before: list[str], after: list[str], common: list[str],
               say: Say, on_step: Callable | None = None) -> FixProof:
    """Run the scenario with the `before` assignments, then with the `after` ones (each over
    `common`), and say whether the error showed before, not after, and after matched the
    baseline."""
    sides = {"before": parse_cli_params(before), "after": parse_cli_params(after)}
    if sides["before"] == sides["after"]:
        raise ConfigError(Problem("--before/--after", None, "", "the two runs would be the "
                                  "same: give the parameters that differ, e.g. --before "
                                  "version=1.4.2 --after version=1.4.3"))
    with _target(target, say) as scenario:
        prepared = {name: scenario.prepare([*common, *(f"{k}={v}" for k, v in
                                                       assigned.items())])
                    for name, assigned in sides.items()}
        backend = scenario.backend()
        runs: dict[str, Side] = {}
        for name, (plan, expected) in prepared.items():
            shown = ", ".join(f"{k}={v}" for k, v in sides[name].items()) or "as written"
            say(f"{name}: running {plan.scenario_id} ({shown}) ...")
            outcome = pipeline.run(plan, say, expected, on_step=on_step, backend=backend,
                                   **scenario.where)
            _stop_if_interrupted(outcome.error)
            error = outcome.error
            runs[name] = Side(name, sides[name], outcome.record, outcome.comparison,
                              None if error is None else error.lines()[0],
                              0 if error is None else error.exit_code)
        plan_after = prepared["after"][0]
        return FixProof(plan_after.scenario_id, runs["before"], runs["after"],
                        _change(plan_after, runs["before"], runs["after"]),
                        plan_after.baseline_path.is_file())


def _change(plan: Plan, before: Side, after: Side) -> Comparison | None:
    """Before vs after, channel by channel through the scenario's rulebook."""
    if before.error is not None or after.error is not None:
        return None
    from repro.compare import baseline
    from repro.compare.diff import compare
    from repro.compare.normalise import Rulebook

    sides = [baseline.channels_of(plan, s.record.stored()) for s in (before, after)]
    return compare(sides[0], sides[1], book=Rulebook(plan.rules),
                   labels=(f"before ({before.record.run_id})", f"after ({after.record.run_id})"))


def _stop_if_interrupted(error: ReproError | None) -> None:
    if isinstance(error, Interrupted):  # Ctrl-C ends the whole command, not one run
        raise error


# ---- bisect -------------------------------------------------------------------------------


def read_values(values: str | None, values_from: Path | None) -> list[str]:
    """`--values a,b,c` or `--values-from FILE` (one value a line; blank lines and
    `#` comments skipped)."""
    if (values is None) == (values_from is None):
        raise ConfigError(Problem("--values", None, "", "give the values to try with --values "
                                  "A,B,C or --values-from FILE (one of them)"))
    if values is not None:
        return [v.strip() for v in values.split(",") if v.strip()]
    assert values_from is not None
    from repro.config.yaml_source import read_input

    text = read_input(values_from, "file not found (--values-from)")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def check_bisect(target: Path, param: str, values: list[str], common: list[str]) -> None:
    """Bad input in one line each, before any run: too few or repeated values, a parameter
    the environment lacks, a value not among its choices."""
    from repro.config.project import (
        environment_file,
        load_environment,
        load_scenario,
        scenario_file,
    )
    from repro.config.schema import did_you_mean
    from repro.config.yaml_source import display_path

    if len(values) < 2:
        raise ConfigError(Problem("--values", None, "", f"bisect needs at least two values, "
                                  f"got {len(values)}{': ' + values[0] if values else ''}"))
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ConfigError(Problem("--values", None, "", f"{', '.join(repeated)} given more "
                                  "than once; list each value once, in order"))
    if param in parse_cli_params(common):
        raise ConfigError(Problem("--param", None, param, "is the parameter bisect varies; "
                                  "drop it from --param"))
    scenario = load_scenario(scenario_file(target))
    env_path = environment_file(scenario)
    declared = load_environment(env_path).record.parameters
    if param not in declared:
        hint = did_you_mean(param, declared) or f" (parameters: {', '.join(declared)})"
        raise ConfigError(Problem("--param", None, "", f"{param!r}: environment "
                                  f"{display_path(env_path)} has no such parameter{hint}"))
    choices = declared[param].choices
    outside = [v for v in values if choices and v not in choices]
    if outside:
        raise ConfigError(Problem("--values", None, "", f"{outside[0]!r} is not one of "
                                  f"{param}'s choices ({', '.join(choices or ())}); add it to "
                                  f"`choices:` in {display_path(env_path)} or drop it"))


def bisect(target: Path, param: str, values: list[str], common: list[str], say: Say,
           on_probe: Callable[[Probe], None] | None = None) -> Bisection:
    """The first value at which the verdict changes, in about log2(n) runs: both ends
    first, then halves. A value whose run errors is skipped and the halving goes on
    around it (as `git bisect skip`). Assumes one change over the list, as git does."""
    with _target(target, say) as scenario:
        return _bisect(scenario, param, values, common, say, on_probe)


def _bisect(scenario: _Target, param: str, values: list[str], common: list[str], say: Say,
            on_probe: Callable[[Probe], None] | None) -> Bisection:
    check_bisect(scenario.scenario, param, values, common)
    plans = [scenario.prepare([*common, f"{param}={value}"])[0] for value in values]
    backend = scenario.backend()
    result = Bisection(plans[0].scenario_id, param, values)
    tried: dict[int, Probe] = {}

    def probe(index: int) -> Probe:
        say(f"{param}={values[index]}: running ...")
        outcome = pipeline.run(plans[index], say, backend=backend, **scenario.where)
        _stop_if_interrupted(outcome.error)
        found = Probe(index, values[index], outcome.record,
                      None if outcome.error is None else outcome.error.lines()[0])
        tried[index] = found
        result.probes.append(found)
        if on_probe is not None:
            on_probe(found)
        return found

    low, high = 0, len(values) - 1
    while low < high and probe(low).error is not None:
        low += 1
    while high > low and probe(high).error is not None:
        high -= 1
    if low >= high:
        result.reason = "fewer than two values gave a verdict (every other run errored)"
        return result
    start = tried[low].verdict
    if start == tried[high].verdict:
        result.reason = (f"the verdict is {start.value} at both ends ({values[low]} and "
                         f"{values[high]}): bisect looks for one change; give ends whose "
                         "verdicts differ")
        return result
    while True:
        left = [i for i in range(low + 1, high) if i not in tried]
        if not left:
            break
        middle = (low + high) / 2
        index = min(left, key=lambda i: (abs(i - middle), i))
        found = probe(index)
        if found.error is not None:
            continue
        if found.verdict == start:
            low = index
        else:
            high = index
    result.boundary = (tried[low], tried[high])
    return result

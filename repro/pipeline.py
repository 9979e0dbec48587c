"""Compose the stages for each command: plan -> execute -> compare -> an outcome value.

The stages do not call each other forward: the runner executes and records, comparing
happens here, and every function returns a value (the CLI prints it and picks the exit
code). Errors leaving here carry no secret of the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from repro.config.model import Environment, Scenario
from repro.config.parameters import parse_cli_params
from repro.config.project import Loaded, find_project, project_root
from repro.config.settings import project_settings
from repro.errors import (
    EXIT_NOT_AS_EXPECTED,
    EXIT_OK,
    ConfigError,
    Problem,
    ReproError,
    masked,
)
from repro.execute import runner
from repro.plan.build import plan_scenario
from repro.plan.values import Plan
from repro.results.outcome import BaselineVerdict, RunStatus
from repro.results.progress import Emit
from repro.results.reader import runs_dir
from repro.results.record import RunRecord
from repro.sandbox import backends
from repro.signals import shielded

if TYPE_CHECKING:  # comparing is imported only by runs that have a baseline
    from repro.case.pack import Packed
    from repro.case.unpack import Unpacked
    from repro.compare.determinism import Variation
    from repro.compare.diff import Comparison
    from repro.compare.normalise import Normal
    from repro.sandbox.api import Backend, Sandbox

Say = Callable[[str], None]
Pause = Callable[["Sandbox", RunRecord, "Comparison | None"], None]


@dataclass
class RunOutcome:
    """A run as the user sees it: its record, its comparison, the error that ended it."""

    record: RunRecord
    comparison: Comparison | None
    error: ReproError | None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return EXIT_OK if self.record.ok else EXIT_NOT_AS_EXPECTED


def prepare(target: Path, params: list[str], *, loaded: Loaded[Scenario] | None = None,
            environments: dict[Path, Loaded[Environment]] | None = None
            ) -> tuple[Plan, list[Normal] | None]:
    """The plan and the baseline it is compared with: a broken baseline fails now, not
    after the run. `loaded` and `environments`: see plan_scenario."""
    plan = plan_scenario(target, parse_cli_params(params), loaded=loaded,
                         environments=environments)
    expected = None
    if plan.baseline_path.is_file():  # comparing costs imports only when there is one
        from repro.compare import baseline

        with masked(plan.redactor):
            expected = baseline.load(plan)
    return plan, expected


def run(plan: Plan, say: Say, expected: list[Normal] | None = None, keep: bool = False,
        on_step: Callable | None = None, replay: bool = True,
        pause: Pause | None = None, backend: Backend | None = None,
        purpose: str = "run", home: Path | None = None, case: dict | None = None,
        progress: Emit | None = None) -> RunOutcome:
    """Replay the plan in a fresh sandbox (on the default backend unless one is given)
    and compare it with `expected`, if given. `purpose` says why in the record: run,
    baseline (a recording) or shell. `home` is the project whose `.repro/` keeps the
    record and the access-log line (default: the plan's own; a case's run names another),
    and `case` the case it came from (its file and sha256, in the record and the line).
    `progress` hears the run's events as they happen."""
    compared: list[Comparison | None] = [None]
    home = home or plan.project_root

    def compare_then_pause(sandbox: Sandbox, record: RunRecord) -> None:
        if record.status != RunStatus.NOT_REPLAYED and record.reproduced is not None:
            compared[0] = _compare(plan, expected, record)
        if pause is not None:
            pause(sandbox, record, compared[0])

    # With a pause (`repro shell`) the comparison happens before it, the sandbox alive.
    with masked(plan.redactor):
        record, error = runner.run(plan, say, backend=backend or backends.default(),
                                   keep=keep, on_step=on_step, replay=replay,
                                   pause=compare_then_pause if pause is not None else None,
                                   purpose=purpose, runs=runs_dir(home), case=case,
                                   progress=progress)
    try:
        if error is None and pause is None and replay and expected is not None:
            try:
                compared[0] = _compare(plan, expected, record)
            except ReproError as exc:  # e.g. a capture's key column is missing
                record.status, record.error, error = RunStatus.ERROR, str(exc), exc
            record.write()
    finally:  # a Ctrl-C during the comparison still leaves the line, and never half of it
        with shielded():
            _after_run(plan, record, home, say)
    return RunOutcome(record, compared[0],
                      None if error is None else error.redacted(plan.redactor))


def _after_run(plan: Plan, record: RunRecord, home: Path, say: Say) -> None:
    """Every run, however it ended, leaves its line in the access log (it may have touched
    customer data); then the scenario's old records go, when it has a `retention:`."""
    from repro.results import access_log, history

    try:
        access_log.append(home, record)
    except OSError as exc:
        say(f"warning: could not append to {access_log.log_path(home)}: {exc}")
    if plan.retention is not None:
        from_case = record.case is not None
        gone = history.apply_retention(runs_dir(home), plan.scenario_id, plan.retention,
                                       from_case)
        if gone:
            say(f"retention: deleted {len(gone)} run record(s) of {plan.scenario_id}"
                f"{' (from cases)' if from_case else ''} older than {_age(plan.retention)}")


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _compare(plan: Plan, expected: list[Normal] | None, record: RunRecord
             ) -> Comparison | None:
    if expected is None:
        return None
    from repro.compare import baseline

    comparison = baseline.check(plan, expected, record.stored())
    record.baseline_verdict = BaselineVerdict(comparison.verdict.value)
    record.baseline = comparison.to_dict()
    return comparison


# ---- portable cases (docs/cases.md) ----------------------------------------------------


def pack_case(target: Path, out: Path, with_images: bool, say: Say) -> Packed:
    """The scenario, its environment, build context, baseline and data (and with
    `with_images` the images a run needs) as one file."""
    from repro.case.pack import pack

    plan = plan_scenario(target)
    return pack(plan, out, say, backends.default() if with_images else None)


def unpack_case(case: Path, dest: Path) -> Unpacked:
    from repro.case.unpack import unpack

    return unpack(case, dest)


@dataclass(frozen=True)
class CaseFiles:
    """A case checked and unpacked into a temporary project, not planned yet."""

    file: Path  # the case file
    unpacked: Unpacked
    home: Path  # the project that keeps the run's record (`case_home`)
    named: dict  # the case as the record and the audit line name it

    @property
    def where(self) -> dict:
        """`pipeline.run`'s arguments that record a run as this case's."""
        return {"home": self.home, "case": self.named}

    def prepare(self, params: list[str]) -> tuple[Plan, list[Normal] | None]:
        """The case's scenario planned with `params`; its retention, where it has none,
        that of the project keeping the records."""
        plan, expected = prepare(self.unpacked.scenario, params)
        if plan.retention is None:
            plan = replace(plan, retention=project_settings(self.home).retention)
        return plan, expected


@dataclass(frozen=True)
class OpenCase(CaseFiles):
    """A case unpacked and planned: what runs it."""

    plan: Plan
    expected: list[Normal] | None  # its baseline


@contextmanager
def case_files(case: Path) -> Iterator[CaseFiles]:
    """The case checked and unpacked into a temporary project (removed afterwards);
    refused before the engine is asked anything. Plans come from `CaseFiles.prepare`."""
    from repro.case import unpack

    with unpack.opened(case) as unpacked:
        yield CaseFiles(case, unpacked, case_home(case), unpacked.named(case))


@contextmanager
def case_opened(case: Path, params: list[str]) -> Iterator[OpenCase]:
    """`case_files`, planned with `params`. Its images are not loaded
    (`load_case_images`)."""
    with case_files(case) as files:
        plan, expected = files.prepare(params)
        yield OpenCase(files.file, files.unpacked, files.home, files.named, plan, expected)


def load_case_images(opened: CaseFiles, backend: Backend, say: Say) -> None:
    """The case's images onto the engine, those it lacks only."""
    from repro.case import unpack

    if opened.unpacked.manifest.images:
        loaded = unpack.load_images(opened.unpacked, backend, say)
        say(f"images from the case: {len(loaded)} loaded, "
            f"{len(opened.unpacked.manifest.images) - len(loaded)} already here")


@contextmanager
def open_case(case: Path, params: list[str], say: Say, backend: Backend | None = None
              ) -> Iterator[tuple[OpenCase, Backend]]:
    """A case opened (`case_opened`), its images loaded where the engine (`backend`, or
    the default one) lacks them: the case and the backend to run it on."""
    with case_opened(case, params) as opened:
        backend = backend or backends.default()
        load_case_images(opened, backend, say)
        yield opened, backend


def case_home(case: Path) -> Path:
    """Where a case's run is recorded: the project the command runs in, if any (its
    `.repro/runs`, beside its own runs), else the folder holding the case."""
    return find_project(Path.cwd()) or case.resolve().parent


# ---- baselines -------------------------------------------------------------------------


@dataclass
class Recording:
    """Runs replayed to record a baseline: their observations and what varied."""

    runs: list[RunRecord]
    observations: list[list[Normal]]
    varied: list[Variation]


def replay_for_baseline(plan: Plan, say: Say, repeat: int,
                        on_step: Callable | None = None,
                        progress: Emit | None = None) -> Recording:
    """Run `repeat` times; every run must complete (a sandbox failure raises)."""
    from repro.compare import baseline
    from repro.compare.determinism import variations
    from repro.config.yaml_source import display_path

    if repeat < 1:
        raise ConfigError(Problem("--repeat", None, "", "must be at least 1"))
    runs, observations = [], []
    backend = backends.default()
    for number in range(1, repeat + 1):
        if repeat > 1:
            say(f"run {number} of {repeat}")
        outcome = run(plan, say, on_step=on_step, backend=backend, purpose="baseline",
                      progress=progress)
        if outcome.error is not None:
            raise outcome.error
        runs.append(outcome.record)
        observed = baseline.observe(plan, outcome.record.stored())
        for normal in observed:  # a key that is not there is a scenario mistake here
            if normal.note and normal.note.startswith("key column"):
                raise ConfigError(Problem(display_path(plan.scenario_path), None,
                                          f"capture {normal.name.removeprefix('files.')}",
                                          normal.note.removesuffix(": compared as text") +
                                          "; fix `key:`"))
        observations.append(observed)
    return Recording(runs, observations, variations(observations) if repeat > 1 else [])


class Proposal(StrEnum):
    NEW = "new"  # no baseline yet (or an unreadable one): record it
    UNCHANGED = "unchanged"  # the baseline already holds this behaviour
    REPLACE = "replace"  # the behaviour changed: replacing needs the user's yes


@dataclass(frozen=True)
class BaselineProposal:
    kind: Proposal
    target: Path
    change: Comparison | None = None  # what replacing would change
    unreadable: str | None = None  # why the current baseline could not be read


def propose_baseline(plan: Plan, recording: Recording) -> BaselineProposal:
    """What storing this recording would do to the scenario's baseline."""
    from repro.compare import baseline
    from repro.compare.diff import compare
    from repro.results.outcome import ChannelVerdict

    try:
        old = baseline.load(plan)
    except ConfigError as exc:  # an unreadable old baseline is simply replaced
        return BaselineProposal(Proposal.NEW, plan.baseline_path, None, exc.lines()[0])
    if old is None:
        return BaselineProposal(Proposal.NEW, plan.baseline_path)
    change = compare(old, recording.observations[0],
                     labels=("current baseline", "new baseline"))
    kind = Proposal.UNCHANGED if change.verdict == ChannelVerdict.MATCH else Proposal.REPLACE
    return BaselineProposal(kind, plan.baseline_path, change)


def store_baseline(plan: Plan, recording: Recording) -> Path:
    from repro.compare import baseline

    return baseline.write(plan, recording.observations[0], recording.runs[0].stored())


# ---- diff of two runs ------------------------------------------------------------------


def diff_runs(first: str, second: str) -> tuple[Comparison, list[str]]:
    """Two run records through the rulebook of the first run's scenario (as it is now;
    for a run from a case, whose temporary project is gone, the rules its record keeps)."""
    from repro.compare.channels import from_record
    from repro.compare.diff import compare
    from repro.compare.normalise import Rulebook
    from repro.plan import rulebook
    from repro.results import reader

    notes = []
    root = project_root(Path.cwd())
    run_a, run_b = reader.find(first, root), reader.find(second, root)
    rules: tuple = ()
    captures = None
    try:
        if run_a.case is not None:
            if run_a.compare is None:
                raise ConfigError(f"it ran from the case {Path(run_a.case.get('file', '?')).name}"
                                  " and its record keeps no rules (an older repro wrote it)")
            rules, captures = rulebook.from_dict(run_a.compare, str(run_a.folder /
                                                                     reader.RECORD_FILE))
        else:
            plan = plan_scenario(Path(run_a.scenario_path))
            rules, captures = plan.rules, rulebook.capture_plans(plan)
    except ConfigError as exc:
        notes.append(f"no normalisation rules applied: the scenario of {run_a.run_id} "
                     f"cannot be loaded ({exc.lines()[0]})")
    sides = [from_record(r, captures) for r in (run_a, run_b)]
    comparison = compare(sides[0], sides[1], book=Rulebook(rules),
                         labels=(run_a.run_id, run_b.run_id))
    return comparison, notes

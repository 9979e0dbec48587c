"""`repro runs`: what ran here lately, read from the run records (no engine needed)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from repro import owner
from repro.results import reader
from repro.results.outcome import RunStatus
from repro.results.reader import StoredRun


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    scenario: str
    status: str
    verdict: str
    ok: bool | None
    baseline: str
    started_at: str
    folder: Path
    purpose: str = "run"  # run | baseline | shell
    case: str | None = None  # the file name of the case it ran from

    @property
    def judged(self) -> str:
        """How the run came out against what was expected, or what else it was: a
        baseline recording or a shell session is not judged against `expect:`."""
        if self.purpose == "baseline":
            return "baseline recording"
        if self.purpose == "shell":
            return "shell session" + (", no steps" if self.status == RunStatus.NOT_REPLAYED
                                      else "")
        ok = {True: "ok", False: "NOT ok", None: "-"}[self.ok]
        return f"{ok:7} baseline {self.baseline}"


def _summary(run: StoredRun) -> RunSummary:
    # A run without a verdict shows its status instead (ERROR, INTERRUPTED, RUNNING); a
    # shell session without steps has none to give.
    verdict = str(run.status).upper() if run.reproduced is None else run.verdict.value
    if run.status == RunStatus.NOT_REPLAYED:
        verdict = "-"
    case = None if run.case is None else Path(str(run.case.get("file", "?"))).name
    return RunSummary(run.run_id, run.scenario_id, str(run.status), verdict, run.ok,
                      run.baseline_verdict, run.started_at, run.folder, run.purpose, case)


def settle_dead(runs_dir: Path) -> list[str]:
    """Mark `killed` the records still saying `running` whose repro process, on this host,
    is gone (a `kill -9`, a crash of the machine): no run is listed as going forever.
    Returns their run ids. Records of other hosts are left as they are."""
    settled = []
    for path in runs_dir.glob(f"*/{reader.RECORD_FILE}") if runs_dir.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        who = data.get("owner") if isinstance(data, dict) else None
        if data.get("status") != RunStatus.RUNNING or not who or not owner.here(who) or \
                owner.alive(who):
            continue
        data["status"] = RunStatus.KILLED.value
        data["error"] = (f"the repro process (pid {owner.pid(who)}) ended without finishing "
                         "this record: it was killed; `repro gc` removes what it left")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        tmp.replace(path)
        settled.append(str(data.get("run_id", path.parent.name)))
    return settled


def read(runs_dir: Path) -> list[RunSummary]:
    """Newest first; a folder without a readable record shows as 'unreadable'."""
    out = []
    for folder in runs_dir.glob("*/") if runs_dir.is_dir() else []:
        try:
            data = json.loads((folder / reader.RECORD_FILE).read_text())
            out.append(_summary(reader.from_dict(data, folder)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            out.append(RunSummary(folder.name, "?", "unreadable", "UNREADABLE", None, "-", "",
                                  folder))
    return sorted(out, key=lambda r: (r.started_at, r.run_id), reverse=True)


def prune(runs: list[RunSummary], older_than_s: float) -> list[RunSummary]:
    """Delete run folders older than the given age (their artifacts hold customer data)."""
    cutoff = time.time() - older_than_s
    gone = []
    for run in runs:
        try:
            started = datetime.fromisoformat(run.started_at).timestamp()
        except ValueError:
            started = run.folder.stat().st_mtime
        if started < cutoff:
            shutil.rmtree(run.folder, ignore_errors=True)
            gone.append(run)
    return gone


def apply_retention(runs_dir: Path, scenario_id: str, older_than_s: float,
                    from_case: bool = False) -> list[RunSummary]:
    """The automatic `--prune` after a run of a scenario with `retention:`: only that
    scenario's records, and never one still running (a run of another process).

    A project's scenario and a case's are not the same scenario, whatever their ids (a
    case may come from another project, with its own retention): a run from a case prunes
    the records of runs from cases of that scenario only, a run of the project's scenario
    those of the project's only."""
    mine = [r for r in read(runs_dir) if r.scenario == scenario_id and
            (r.case is not None) == from_case and r.status != RunStatus.RUNNING]
    return prune(mine, older_than_s)

"""Read run records back (record.json) as typed values: `repro diff`, `repro runs`, baselines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.results.outcome import BaselineVerdict, RunStatus, StepStatus, Verdict
from repro.results.timeline import Event

RECORD_FILE = "record.json"


def runs_dir(project_root: Path) -> Path:
    """Where a project's run records live."""
    return project_root / ".repro" / "runs"


@dataclass(frozen=True)
class StoredStep:
    name: str
    status: StepStatus
    exit_code: int | None
    stdout_file: str | None  # relative to the run folder
    stderr_file: str | None
    # -- the timeline --
    instance: int | None = None
    instances: tuple[StoredStep, ...] | None = None  # a repeated step's
    compare: str = "all"  # a repeated step: all | aggregate (channels compared)


@dataclass(frozen=True)
class StoredCapture:
    name: str
    path: str
    exists: bool
    kind: str | None  # file | dir
    artifact: str | None  # relative to the run folder
    query: bool = False
    error: str | None = None


@dataclass(frozen=True)
class StoredRun:
    """A run record as written, with the folder its artifacts are in."""

    folder: Path
    run_id: str
    status: RunStatus | str  # a string when a newer repro wrote a status this one lacks
    scenario_id: str
    scenario_path: str
    reproduced: bool | None
    ok: bool | None
    baseline_verdict: str
    started_at: str
    parameters: dict[str, Any]
    steps: tuple[StoredStep, ...]
    captures: tuple[StoredCapture, ...]
    owner: str | None = None  # host:pid:start of the repro process that ran it
    events: tuple[Event, ...] = ()
    when: dict[str, Any] | None = None  # the moment the oracle first held
    purpose: str = "run"  # run | baseline | shell (see RunRecord.purpose)
    case: dict[str, Any] | None = None  # the portable case it ran from (file, sha256, ...)
    compare: dict[str, Any] | None = None  # a case's run: its rules (plan.rulebook)

    @property
    def verdict(self) -> Verdict:
        return Verdict.of(self.reproduced)


def _status(value: Any) -> RunStatus | str:
    try:
        return RunStatus(value)
    except ValueError:
        return str(value)


def from_dict(data: dict[str, Any], folder: Path) -> StoredRun:
    scenario = data.get("scenario") or {}
    return StoredRun(
        folder=folder, run_id=str(data.get("run_id", folder.name)),
        status=_status(data.get("status", "?")), scenario_id=scenario.get("id", "?"),
        scenario_path=scenario.get("path", ""), reproduced=data.get("reproduced"),
        ok=data.get("ok"),
        baseline_verdict=(data.get("baseline") or {}).get("verdict",
                                                          BaselineVerdict.NONE.value),
        started_at=data.get("started_at") or "", parameters=data.get("parameters") or {},
        steps=tuple(_step(s) for s in data.get("steps", [])),
        captures=tuple(StoredCapture(c["name"], c.get("path", ""), bool(c.get("exists")),
                                     c.get("kind"), c.get("artifact"), bool(c.get("query")),
                                     c.get("error"))
                       for c in data.get("captures", [])),
        owner=data.get("owner"),
        events=tuple(Event.from_dict(e) for e in data.get("events") or []),
        when=data.get("when"), purpose=_purpose(data),
        case=data["case"] if isinstance(data.get("case"), dict) else None,
        compare=data.get("compare"))


def _purpose(data: dict[str, Any]) -> str:
    # Records older than the field: only `repro shell --no-steps` left one not replayed.
    default = "shell" if data.get("status") == RunStatus.NOT_REPLAYED else "run"
    return str(data.get("purpose") or default)


def _step(data: dict[str, Any]) -> StoredStep:
    instances = data.get("instances")
    return StoredStep(data["name"], StepStatus(data["status"]), data.get("exit_code"),
                      data.get("stdout_file"), data.get("stderr_file"), data.get("instance"),
                      None if instances is None else tuple(_step(i) for i in instances),
                      (data.get("repeat") or {}).get("compare", "all"))


def read(path: Path) -> StoredRun:
    """One record.json; ConfigError naming the file when it is not a run record."""
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(display_path(path), None, "",
                                  f"not a run record: {exc}")) from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or \
            "run_id" not in data:
        raise ConfigError(Problem(display_path(path), None, "", "not a run record (no run_id "
                                  "and steps): give a run id or a .repro/runs/<id>/record.json"))
    try:
        return from_dict(data, path.parent)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(Problem(display_path(path), None, "", f"not a run record this "
                                  f"repro can read ({type(exc).__name__}: {exc})")) from None


def find(target: str | Path, project_root: Path) -> StoredRun:
    """A run record by run id (in the project's runs folder), run folder, or record.json."""
    path = Path(target)
    for candidate in (path, path / RECORD_FILE, runs_dir(project_root) / str(target) /
                      RECORD_FILE):
        if candidate.is_file():
            return read(candidate)
    raise ConfigError(Problem(str(target), None, "", "no such run: give a run id from "
                              ".repro/runs/, a run folder, or a record.json path"))

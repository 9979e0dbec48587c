"""The run record: everything a run observed, written to `.repro/runs/<run-id>/record.json`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repro import __version__
from repro import owner as owner_mod
from repro.config.yaml_source import display_path
from repro.plan import rulebook
from repro.plan.conditions import shown as conditions_shown
from repro.plan.show import parameters_shown
from repro.plan.values import Plan
from repro.results import reader
from repro.results.faults import FaultObservation
from repro.results.observations import INLINE_LIMIT, CaptureObservation, StepObservation
from repro.results.oracle import ConditionResult
from repro.results.outcome import BaselineVerdict, RunStatus, Verdict
from repro.results.reader import StoredRun
from repro.results.timeline import Moment, Timeline
from repro.results.timeline_record import step_timing, timeline_dict

FORMAT = 1


def new_run_id(scenario_id: str) -> str:
    # Docker names take [A-Za-z0-9_.-] only: `Müller-4711` becomes `M-ller-4711`.
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", scenario_id).strip("-.")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{slug or 'run'}-{stamp}-{secrets.token_hex(2)}"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


@dataclass
class RunRecord:
    """Filled in as the run goes; `write` can be called at any point (even after a crash)."""

    plan: Plan
    run_id: str
    directory: Path
    started: float = field(default_factory=time.time)
    image: dict[str, Any] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    steps: list[StepObservation] = field(default_factory=list)
    captures: list[CaptureObservation] = field(default_factory=list)
    oracle: list[ConditionResult] = field(default_factory=list)
    reproduced: bool | None = None
    status: RunStatus = RunStatus.RUNNING
    error: str | None = None
    sandbox: str | None = None
    kept: bool = False
    one_shot: bool = False  # its one step ran as the container's own process (no exec)
    enter_hint: str | None = None  # how a person enters a kept sandbox
    baseline_verdict: BaselineVerdict = BaselineVerdict.NONE
    baseline: dict[str, Any] | None = None  # the comparison with the baseline, as data
    scrubbed: bool = False  # artifacts already masked
    owner: str = field(default_factory=owner_mod.current)  # the repro process running it
    conditions: dict[str, Any] = field(default_factory=dict)  # what the run did for them
    faults: list[FaultObservation] = field(default_factory=list)  # fault entries of the steps
    clock: dict[str, Any] | None = None  # the run's clock (execute.clock fills it in)
    timeline: Timeline = field(default_factory=Timeline)  # events (docs/timeline.md)
    when: Moment | None = None  # the moment the oracle first held
    purpose: str = "run"  # why it ran: run | baseline (a recording) | shell (`repro shell`)
    case: dict[str, Any] | None = None  # the portable case it ran from: file, sha256

    @property
    def verdict(self) -> Verdict:
        return Verdict.of(self.reproduced)

    @property
    def ok(self) -> bool | None:
        """As expected: the oracle as `expect` says, and for `fixed` the baseline matched."""
        if self.reproduced is None:
            return None
        if self.plan.expect == "fixed":
            return not self.reproduced and self.baseline_verdict != BaselineVerdict.DIVERGED
        return self.reproduced

    @property
    def path(self) -> Path:
        return self.directory / "record.json"

    def scrub_artifacts(self) -> None:
        """Mask secret parameter values in every artifact the run wrote (once: a run that
        completed was scrubbed before its comparison; the final pass covers the others)."""
        redactor = self.plan.redactor
        if not redactor or self.scrubbed:
            return
        self.scrubbed = True
        for artifact in self.directory.rglob("*"):
            if artifact.is_file() and artifact.name != "record.json":
                redactor.file(artifact)

    def to_dict(self) -> dict[str, Any]:
        """The record as written and shown; secrets masked in every field, as a whole."""
        return dict(self.plan.redactor.deep(self._fields()))

    def _fields(self) -> dict[str, Any]:
        plan = self.plan
        mask = plan.redactor
        shown = self._shown
        ended = max([time.time(), *(s.ended_at or 0 for s in self.steps)])
        return {
            "format": FORMAT,
            "run_id": self.run_id,
            "status": str(self.status),
            "owner": self.owner,
            "error": None if self.error is None else mask(self.error),
            "scenario": {"id": plan.scenario_id, "title": plan.title, "ticket": plan.ticket,
                         "path": shown(plan.scenario_path)},
            "environment": {"name": plan.environment,
                            "path": shown(plan.environment_path)},
            "expected": plan.expect,
            "reproduced": self.reproduced,
            "ok": self.ok,
            "started_at": iso(self.started),
            "ended_at": iso(ended),
            "duration_s": round(ended - self.started, 3),
            "parameters": parameters_shown(plan),
            "parameters_from": {k: self._origin(v)  # file:line
                                for k, v in sorted(plan.parameter_origins.items())},
            "skipped_parameters": list(plan.skipped_parameters),
            "image": self.image,
            "services": self.services,
            "facts": {"repro_version": __version__, "host_os": host_os(),
                      **self.facts},
            "sandbox": {"name": self.sandbox, "kept": self.kept, "one_shot": self.one_shot,
                        "network_egress": plan.egress,
                        "conditions": {**conditions_shown(plan.conditions, plan.limits),
                                       **self.conditions}},
            "data": [{"from": shown(d.source), "to": d.to, "kind": d.kind,
                      "skipped": list(d.skipped)} for d in plan.data],  # docs/data-limits.md
            "steps": [self._step(s, mask) for s in self.steps],
            "faults": [f.to_dict(mask) for f in self.faults],
            "captures": [self._capture(c) for c in self.captures],
            "oracle": {"mode": "all" if plan.oracle.all is not None else "any",
                       "fired": self.reproduced,
                       "conditions": [r.to_dict(mask) for r in self.oracle]},
            "baseline": self.baseline or {"verdict": self.baseline_verdict.value},
            **({"clock": self.clock} if self.clock is not None else {}),
            **timeline_dict(self.timeline, self.when, mask),
            "purpose": self.purpose,
            # A case's temporary project is gone after the run: the record keeps what
            # `repro diff` compares it with.
            **({"case": self.case, "compare": rulebook.to_dict(plan)}
               if self.case is not None else {}),
        }

    def _shown(self, path: Path) -> str:
        """A path in messages; a case's, as in its project (the temporary one is gone)."""
        if self.case is not None:
            root = self.plan.project_root.resolve()
            if path.resolve().is_relative_to(root):
                return path.resolve().relative_to(root).as_posix()
        return display_path(path)

    def _origin(self, origin: str) -> str:
        """`file:line` of a parameter; a case's file as in its project."""
        if self.case is not None:
            for root in {self.plan.project_root, self.plan.project_root.resolve()}:
                origin = origin.removeprefix(f"{display_path(root)}/")
        return origin

    def _artifact(self, path: Path | None) -> str | None:
        return None if path is None else path.relative_to(self.directory).as_posix()

    def _step(self, s: StepObservation, mask: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"name": s.name, "command": mask(s.command), "status": str(s.status),
                               "exit_code": s.exit_code, "started_at": iso(s.started_at),
                               "ended_at": iso(s.ended_at),
                               "duration_s": None if s.duration is None else
                               round(s.duration, 3)}
        for stream, path in (("stdout", s.stdout_path), ("stderr", s.stderr_path)):
            size = path.stat().st_size if path is not None and path.exists() else 0
            out[stream] = s.text(stream) if size <= INLINE_LIMIT else None
            out[f"{stream}_bytes"] = size
            out[f"{stream}_file"] = self._artifact(path)
        return out | step_timing(s, lambda inst: self._step(inst, mask))

    def _capture(self, c: CaptureObservation) -> dict[str, Any]:
        out: dict[str, Any] = {"name": c.name, "path": c.path, "exists": c.exists,
                               "kind": c.kind, "artifact": self._artifact(c.artifact)}
        if c.query:
            out.update(query=True, error=None if c.error is None else
                       self.plan.redactor(c.error))
        if c.kind == "file" and c.artifact is not None:
            data = c.artifact.read_bytes()
            out["size"] = len(data)
            out["sha256"] = hashlib.sha256(data).hexdigest()
        return out

    def stored(self) -> StoredRun:
        """The record as a reader of record.json sees it (what comparisons read)."""
        return reader.from_dict(self.to_dict(), self.directory)

    def write(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        tmp.replace(self.path)  # readers never see half a record
        return self.path


_HOST_OS: list[str] = []


def host_os() -> str:
    """What platform.platform() says (`Linux-6.1.0-x86_64-with-glibc2.36`), without the
    `uname -p` process it starts on Linux: a fork and exec on every run for a processor
    name Linux leaves empty."""
    if not _HOST_OS:
        uname = os.uname()
        libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in getattr(
            os, "confstr_names", {}) else None
        parts = [uname.sysname, uname.release, uname.machine]
        if libc:
            parts += ["with", libc.replace(" ", "")]
        _HOST_OS.append("-".join(parts))
    return _HOST_OS[0]

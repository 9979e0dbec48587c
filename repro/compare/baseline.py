"""Baselines: a scenario's approved, normalised behaviour, stored as reviewable YAML."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from repro.compare.channels import Channel, from_record
from repro.compare.diff import Comparison, compare
from repro.compare.normalise import Normal, Rulebook
from repro.config.schema import build, spec
from repro.config.yaml_source import display_path, load_yaml
from repro.errors import ConfigError, Problem
from repro.plan.rulebook import capture_plans
from repro.plan.values import CapturePlan, Plan
from repro.results.reader import StoredRun

SIDE_DIR = "baseline.d"  # channels too large to review inline
INLINE_LIMIT = 256 * 1024
FORMAT = 1
KINDS = ("exit_code", "absent", "text", "json", "yaml", "csv", "tsv", "binary")


@dataclass(frozen=True)
class StoredStep:
    name: str = spec(doc="Step name")
    command: str = spec(doc="The step's command as written (before templating)")


@dataclass(frozen=True)
class StoredChannel:
    kind: Literal[KINDS] = spec(doc="Content type")  # type: ignore[valid-type]
    value: Any = spec(None, doc="Exit code or status")
    text: str | None = spec(None, doc="Normalised content")
    file: str | None = spec(None, doc="Normalised content, in a side file")
    sha256: str | None = spec(None, doc="Hash of the normalised content")
    raw_sha256: str | None = spec(None, doc="Hash of the content before normalisation")
    size: int | None = spec(None, doc="Size in bytes before normalisation")


@dataclass(frozen=True)
class StoredBaseline:
    format: int = spec(doc="Baseline file format")
    scenario: str = spec(doc="Scenario id")
    steps: list[StoredStep] = spec(doc="The steps the baseline was recorded with")
    channels: dict[str, StoredChannel] = spec(doc="Normalised observation per channel")
    recorded_at: str = spec("", doc="When")
    run_id: str = spec("", doc="The run it was recorded from")
    parameters: dict[str, Any] = spec(factory=dict, doc="Parameters of that run")

    def check(self) -> list[tuple[tuple, str]]:
        if self.format != FORMAT:
            return [(("format",), f"unknown baseline format {self.format}; this repro "
                     f"writes format {FORMAT}")]
        return []


def path_for(plan: Plan) -> Path:
    return plan.baseline_path


def channels_of(plan: Plan, run: StoredRun) -> list[Channel]:
    return from_record(run, capture_plans(plan))


def observe(plan: Plan, run: StoredRun) -> list[Normal]:
    """A run's channels through the plan's rulebook."""
    book = Rulebook(plan.rules)
    return [book.normalise(channel) for channel in channels_of(plan, run)]


def load(plan: Plan) -> list[Normal] | None:
    """The scenario's baseline as Normals, or None when there is none yet."""
    path = path_for(plan)
    if not path.is_file():
        return None
    again = f"re-record it with `repro baseline {display_path(plan.scenario_path.parent)}`"
    src = load_yaml(path)
    if not isinstance(src.data, dict):
        raise ConfigError(src.problem((), f"not a baseline: {again}"))
    try:
        stored: StoredBaseline = build(StoredBaseline, src)
    except ConfigError as exc:  # edited by hand or cut short: say how to get a good one
        raise ConfigError([replace(p, message=f"{p.message}; {again}")
                           if isinstance(p, Problem) else p for p in exc.problems]) from None
    recorded = [(s.name, s.command) for s in stored.steps]
    current = [(s.name, s.source) for s in plan.steps]
    if recorded != current:
        what = _steps_change(recorded, current)
        raise ConfigError(src.problem(("steps",), f"recorded for other steps ({what}): "
                                      "re-record it with `repro baseline "
                                      f"{display_path(plan.scenario_path.parent)}`"))
    captures = {f"files.{c.name}": c for c in plan.captures} | {
        f"queries.{q.name}": CapturePlan(q.name, f"query:{q.name}", "csv", q.key)
        for q in plan.queries}
    out = []
    for name, ch in stored.channels.items():
        text = ch.text
        if ch.file is not None:
            side = path.parent / ch.file
            try:
                text = side.read_text(encoding="utf-8")
            except OSError:
                raise ConfigError(src.problem(("channels", name, "file"),
                                              f"{display_path(side)} is missing")) from None
        if ch.kind in ("exit_code", "absent"):
            sha, raw = hashlib.sha256(repr(ch.value).encode()).hexdigest(), None
        elif ch.kind == "binary":
            if not ch.sha256:
                raise ConfigError(src.problem(("channels", name), "a binary channel needs "
                                              "its sha256"))
            sha, raw = ch.sha256, ch.sha256
        else:
            if text is None:
                raise ConfigError(src.problem(("channels", name), "needs `text` or `file`"))
            sha = hashlib.sha256(text.encode()).hexdigest()
            # Edited by hand (an approved change)? Then the raw-hash shortcut no longer holds.
            raw = ch.raw_sha256 if ch.sha256 == sha else None
        capture = captures.get(name.split("/")[0])
        out.append(Normal(name, ch.kind, ch.value, text, sha, raw, ch.size,
                          key=tuple(capture.key) if capture else (),
                          tolerance=capture.tolerance if capture else None))
    return out


def _steps_change(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> str:
    old_names, new_names = [n for n, _ in old], [n for n, _ in new]
    if old_names != new_names:
        return f"steps {', '.join(old_names)} -> {', '.join(new_names)}"
    changed = [n for (n, a), (_, b) in zip(old, new, strict=True) if a != b]
    return f"command of {', '.join(changed)} changed"


def check(plan: Plan, expected: list[Normal], run: StoredRun) -> Comparison:
    return compare(expected, channels_of(plan, run), Rulebook(plan.rules))


def write(plan: Plan, normals: list[Normal], run: StoredRun) -> Path:
    """Store the observation next to the scenario (large channels in baseline.d/)."""
    from repro.config.yaml_dump import dump

    path = path_for(plan)
    side = path.parent / SIDE_DIR
    for old in side.glob("*") if side.is_dir() else []:
        old.unlink()
    channels: dict[str, Any] = {}
    for n in normals:
        entry: dict[str, Any] = {"kind": n.kind}
        if n.kind in ("exit_code", "absent"):
            entry["value"] = n.value
        elif n.kind == "binary":
            entry.update(sha256=n.sha256, size=n.size)
        else:
            assert n.text is not None
            entry.update(sha256=n.sha256, raw_sha256=n.raw_sha256, size=n.size)
            if len(n.text) > INLINE_LIMIT:
                side.mkdir(exist_ok=True)
                name = re.sub(r"[^\w.-]+", "_", n.name)
                (side / name).write_text(n.text, encoding="utf-8")
                entry["file"] = f"{SIDE_DIR}/{name}"
            else:
                entry["text"] = n.text
        channels[n.name] = entry
    doc = {
        "format": FORMAT,
        "scenario": plan.scenario_id,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "parameters": run.parameters,
        # Commands as written: no secret or parameter value, and `--param` runs still
        # compare with the baseline.
        "steps": [{"name": s.name, "command": s.source} for s in plan.steps],
        "channels": channels,
    }
    header = (f"# Baseline of scenario {plan.scenario_id}: its approved behaviour, normalised.\n"
              f"# `repro run` compares every run with it; re-record with `repro baseline "
              f"{display_path(plan.scenario_path.parent)}`.\n")
    path.write_text(header + dump(doc), encoding="utf-8")
    return path


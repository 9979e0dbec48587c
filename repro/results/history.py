"""`repro runs`: what ran here lately, read from the run records (no engine needed)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


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


def _verdict(record: dict) -> str:
    if record.get("reproduced") is None:
        return record.get("status", "?").upper()
    return "REPRODUCED" if record["reproduced"] else "NOT REPRODUCED"


def read(runs_dir: Path) -> list[RunSummary]:
    """Newest first; a folder without a readable record shows as 'unreadable'."""
    out = []
    for folder in runs_dir.glob("*/") if runs_dir.is_dir() else []:
        try:
            record = json.loads((folder / "record.json").read_text())
        except (OSError, ValueError):
            record = {"run_id": folder.name, "status": "unreadable"}
        out.append(RunSummary(
            record.get("run_id", folder.name), (record.get("scenario") or {}).get("id", "?"),
            record.get("status", "?"), _verdict(record), record.get("ok"),
            (record.get("baseline") or {}).get("verdict", "-"),
            record.get("started_at") or "", folder))
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

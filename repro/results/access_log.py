"""`.repro/access.log`: one JSON line per run saying who touched which customer files.

Appended, never rewritten: each line is written with a single write() on a descriptor
opened with O_APPEND, so lines of runs ending at the same moment (`repro replay --jobs
4`, several terminals) never interleave or overwrite each other. The line names files and
their sha256, never their content; parameter values are not in it at all.

It was `.repro/audit.log` (a name `repro audit`, the privacy scan, made confusing): a
project's log of that name becomes the access log at the first write, history kept.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repro.config.yaml_source import display_path
from repro.hashing import file_sha256
from repro.results.record import RunRecord

LOG_FILE = "access.log"
FORMER_LOG_FILE = "audit.log"


def log_path(project: Path) -> Path:
    return project / ".repro" / LOG_FILE


def who() -> str:
    """The OS user running repro (the uid when the system has no name for it)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's uid without a passwd entry
        return f"uid:{os.getuid()}"


def customer_files(record: RunRecord) -> list[dict[str, Any]]:
    """Every customer file the run used: parameter exports, data (each file of a data
    folder), database loads; with its sha256 and size."""
    plan = record.plan
    used: list[tuple[str, Path]] = [("parameters_from", p) for p in plan.parameter_files]
    used += [("data", d.source) for d in plan.data]
    used += [("load", ld.source) for ld in plan.loads]
    out = []
    for kind, source in used:
        paths = sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()) \
            if source.is_dir() else [source]
        for path in paths:
            digest, size = _sha256(path)
            out.append({"kind": kind, "path": _shown(path, plan.project_root),
                        "sha256": digest, "size": size})
    return out


def _shown(path: Path, project: Path) -> str:
    """Relative to the project (the same in a case unpacked elsewhere)."""
    try:
        return path.relative_to(project.resolve()).as_posix()
    except ValueError:  # allowed from outside the project (REPRO_ALLOW_PATHS)
        return display_path(path)


def _sha256(path: Path) -> tuple[str | None, int | None]:
    """Remembered by the file's identity on disk (repro.hashing): the run's copy into its
    sandbox hashed the data as it read it, and a replay hashes a file its runs share once."""
    try:
        return file_sha256(path)
    except OSError:  # gone or unreadable: the line still says the run named it
        return None, None


def entry(record: RunRecord) -> dict[str, Any]:
    return {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "user": who(),
            "scenario": record.plan.scenario_id, "run_id": record.run_id,
            "purpose": record.purpose, "status": str(record.status),
            "verdict": None if record.reproduced is None else record.verdict.value,
            "ok": record.ok, "baseline": record.baseline_verdict.value,
            **({"case": record.case} if record.case is not None else {}),
            "files": customer_files(record)}


def _carry_over(path: Path) -> None:
    """The log under its former name, if there is one and no log under the new name yet,
    renamed (atomically: every line of it, or none, is in the new one)."""
    former = path.with_name(FORMER_LOG_FILE)
    if former.is_file() and not path.exists():
        with contextlib.suppress(FileNotFoundError):  # a run ending now renamed it first
            os.replace(former, path)


def append(project: Path, record: RunRecord) -> Path:
    """Add the run's line to the project's access log (created with mode 0600)."""
    path = log_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    _carry_over(path)
    line = (json.dumps(entry(record), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, line)  # one call: the line lands whole, after every other
    finally:
        os.close(fd)
    if written != len(line):  # a full disk: say so rather than leave half a line unsaid
        raise OSError(f"{display_path(path)}: only {written} of {len(line)} bytes written")
    return path

"""`repro doctor`: is this machine and this project ready to reproduce issues?

The engine's checks come from the backend (the port's `diagnose`); the project's are made
here: it validates, its .repro folder is writable, and what old run records hold.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from repro.config.yaml_source import display_path
from repro.errors import ConfigError
from repro.sandbox.api import Backend, Check

OLD_RECORDS_DAYS = 30  # what `repro runs --prune 30d` would delete


def checks(backend: Backend, root: Path) -> list[Check]:
    return [*backend.diagnose(), _validates(root), _writable(root), _records(root)]


def healthy(found: list[Check]) -> bool:
    """Every check holds (one not checked because another failed fails with it)."""
    return all(check.ok is not False for check in found)


def _validates(root: Path) -> Check:
    from repro.plan import validate

    try:
        files = validate.targets([], root)
    except ConfigError as exc:
        return Check("project", False, exc.lines()[0], "`repro init` makes a new project, or "
                     "run `repro doctor` in one")
    failed = []
    for path in files:
        _, problems = validate.validate(path)
        if problems:
            failed.append(ConfigError(problems).lines()[0])
    if failed:
        return Check("project", False, f"{len(failed)} of {len(files)} files have problems, "
                     f"first: {failed[0]}", "`repro validate` lists them all")
    return Check("project", True, f"{len(files)} files valid in {display_path(root)}")


def _writable(root: Path) -> Check:
    folder = root / ".repro"
    existing = folder if folder.is_dir() else root  # .repro is made on the first run
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(".repro folder", False, f"{display_path(existing)} is not writable "
                     f"({exc.strerror})", f"make it writable by user {os.getuid()}: run "
                     "records and crash logs go there")
    made = "" if folder.is_dir() else " (made on the first run)"
    return Check(".repro folder", True, f"{display_path(folder)} writable{made}")


def _records(root: Path) -> Check:
    from repro.results import history
    from repro.results.reader import runs_dir

    runs = history.read(runs_dir(root))
    cutoff = time.time() - OLD_RECORDS_DAYS * 86400
    old = [r for r in runs if _started(r.started_at, r.folder) < cutoff]
    total = sum(_bytes(r.folder) for r in runs)
    detail = f"{len(runs)} run record(s), {_size(total)}"
    if old:
        detail += (f"; {len(old)} older than {OLD_RECORDS_DAYS} days, "
                   f"{_size(sum(_bytes(r.folder) for r in old))}: `repro runs --prune "
                   f"{OLD_RECORDS_DAYS}d` frees them (`retention: {OLD_RECORDS_DAYS}d` in "
                   "repro.yaml does it after every run)")
    return Check("run records", True, detail)


def _started(started_at: str, folder: Path) -> float:
    try:
        return datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        return folder.stat().st_mtime


def _bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"

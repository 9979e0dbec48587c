"""What `repro report` was given: one run (a run id, a run folder, a record.json), or many
(several runs, `repro replay --json` output, `repro replay --junit` XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.results import reader
from repro.results.reader import RECORD_FILE


def load(folder: Path) -> dict[str, Any]:
    """A run folder's record.json as data; a file that is not a run record is bad input
    (one line naming it), not a crash."""
    path = folder / RECORD_FILE
    reader.read(path)  # checks it is one
    return dict(json.loads(path.read_text(encoding="utf-8")))


@dataclass
class Entry:
    """A run of an index: its folder, or what the summary said when it has none here."""

    folder: Path | None
    fallback: dict[str, Any]

    def row(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.fallback)
        if self.folder is not None:
            record = load(self.folder)
            reproduced = record.get("reproduced")
            ok = record.get("ok")
            data.update(
                scenario=(record.get("scenario") or {}).get("id", "?"),
                title=(record.get("scenario") or {}).get("title") or "",
                run_id=record.get("run_id", self.folder.name),
                verdict="ERROR" if reproduced is None else
                "REPRODUCED" if reproduced else "NOT REPRODUCED",
                expected=record.get("expected", "?"),
                outcome="no verdict" if reproduced is None or ok is None else
                "as expected" if ok else "NOT as expected",
                baseline=(record.get("baseline") or {}).get("verdict", "none"))
        return {"scenario": "?", "title": "", "run_id": "", "verdict": "-", "expected": "?",
                "outcome": "not run", "baseline": "-", "href": None, "note": "", **data}


@dataclass
class Found:
    entries: list[Entry]
    source: str  # what they came from, as shown on the index


def _bad(path: Path, message: str, line: int | None = None) -> ConfigError:
    return ConfigError(Problem(display_path(path), line, "", message))


def is_summary(target: str) -> bool:
    """A replay's JSON list or JUnit XML (anything else is taken for a run)."""
    path = Path(target)
    if not path.is_file() or path.name == RECORD_FILE:
        return False
    if path.suffix.lower() == ".xml":
        return True
    if path.suffix.lower() != ".json":
        return False
    with path.open("rb") as handle:
        return handle.read(64).lstrip()[:1] == b"["


def _folder(record: str | None, run_id: str | None, bases: list[Path], root: Path
            ) -> Path | None:
    for base in bases:
        if record and (base / record).is_file():
            return (base / record).parent
    if run_id and (reader.runs_dir(root) / run_id / RECORD_FILE).is_file():
        return reader.runs_dir(root) / run_id
    return None


def from_json(path: Path, cwd: Path, root: Path) -> Found:
    """`repro replay --json` output: one object per scenario, its last run's record."""
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad(path, f"not a replay's JSON ({exc}): give `repro replay --json` output, "
                   "a JUnit XML or run ids", getattr(exc, "lineno", None)) from None
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise _bad(path, "not a replay's JSON (a list of objects, as `repro replay --json` "
                   "prints)")
    entries = []
    for case in cases:
        folder = _folder(case.get("record"), case.get("run_id"), [path.parent, cwd, root],
                         root)
        note = "did not run" if not case.get("record") else \
            f"record not found: {case.get('record')}"
        entries.append(Entry(folder, {
            "scenario": str(case.get("scenario", "?")), "title": str(case.get("title") or ""),
            "verdict": str(case.get("verdict") or "-"),
            "expected": str(case.get("expected", "?")),
            "outcome": "as expected" if case.get("as_expected", case.get("ok")) else
            str(case.get("result") or "not run"),
            "baseline": str(case.get("baseline") or "-"), "note": note}))
    return Found(entries, display_path(path))


def from_junit(path: Path, cwd: Path, root: Path) -> Found:
    """`repro replay --junit` XML: each testcase's last `record:` line."""
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise _bad(path, f"not a JUnit XML ({exc})", exc.position[0]) from None
    entries = []
    for case in tree.getroot().iter("testcase"):
        out = case.findtext("system-out") or ""
        records = [line[len("record: "):] for line in out.splitlines()
                   if line.startswith("record: ")]
        folder = _folder(records[-1] if records else None, None, [path.parent, cwd, root],
                         root)
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        entries.append(Entry(folder, {
            "scenario": case.get("name", "?"),
            "outcome": "not run" if skipped else "NOT as expected" if failed else
            "as expected", "note": "did not run" if not records else
            f"record not found: {records[-1]}"}))
    if not entries:
        raise _bad(path, "no testcase in it: give the XML `repro replay --junit` wrote")
    return Found(entries, display_path(path))


def summary(target: str, cwd: Path, root: Path) -> Found:
    path = Path(target)
    return from_junit(path, cwd, root) if path.suffix.lower() == ".xml" else \
        from_json(path, cwd, root)


def runs(targets: list[str], root: Path) -> Found:
    """Several runs given by id, folder or record.json (each must exist)."""
    return Found([Entry(reader.find(t, root).folder, {}) for t in targets],
                 ", ".join(targets))

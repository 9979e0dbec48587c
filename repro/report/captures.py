"""Captured files and query results in a run's summary: a line each, like steps."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from repro.report.oneline import one_line


def capture_lines(captures: list[dict[str, Any]], folder: Path) -> list[str]:
    """`capture report  found, 412 bytes  /var/lib/app/report.csv`; a failed query with
    what the database said."""
    if not captures:
        return []
    width = max(len(c["name"]) for c in captures)
    states = [_state(c, folder) for c in captures]
    state_width = max((len(state) for state, where in states if where), default=0)
    out = []
    for capture, (state, where) in zip(captures, states, strict=True):
        kind = "query  " if capture.get("query") else "capture"
        out.append(f"  {kind} {capture['name']:<{width}}  {state:<{state_width}}  "
                   f"{where}".rstrip())
    return out


def _state(capture: dict[str, Any], folder: Path) -> tuple[str, str]:
    """What was found, and where it was looked for."""
    if capture.get("query"):
        if capture.get("error"):
            return f"FAILED: {one_line(capture['error'])}", ""
        rows = _rows(folder, capture.get("artifact"))
        return "ok" + ("" if rows is None else f", {rows} row(s)"), ""
    where = capture.get("path", "")
    if not capture.get("exists"):
        return "absent", where
    if capture.get("kind") == "dir":
        files = _files(folder, capture.get("artifact"))
        return "found, a folder" + ("" if files is None else f" of {files} file(s)"), where
    return f"found, {capture.get('size', '?')} bytes", where


def _rows(folder: Path, artifact: str | None) -> int | None:
    """Data rows of a query's CSV (its header line not counted)."""
    path = None if artifact is None else folder / artifact
    if path is None or not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8", errors="replace") as rows:
        return max(sum(1 for _ in csv.reader(rows)) - 1, 0)  # a quoted field may hold \n


def _files(folder: Path, artifact: str | None) -> int | None:
    path = None if artifact is None else folder / artifact
    if path is None or not path.is_dir():
        return None
    return sum(1 for p in path.rglob("*") if p.is_file())

"""What a run's page shows, from its record.json and run folder alone (plain values; the
template escapes every one of them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.report.html import sides
from repro.report.html.timeline import Drawing, drawing
from repro.report.timeline import when_line
from repro.results.outcome import ChannelVerdict

TAIL_LINES = 200  # lines of a step's output embedded (its file holds all)
TAIL_CHARS = 64 * 1024
INLINE_FILE = 64 * 1024  # captured files up to this size are embedded
MAX_LISTED = 200  # files of a captured folder listed


@dataclass
class Output:
    stream: str
    text: str | None  # the embedded end of it (None: not embedded)
    lines: int  # lines in all (when known)
    cut: int  # lines left out at the start
    size: int
    file: str | None  # where all of it is

    @property
    def label(self) -> str:
        """`stdout (12 lines)`, or how much of it is shown and where the rest is."""
        if self.text is None:
            return f"{self.stream}: {self.size} bytes, not embedded; in {self.file}"
        shown = self.text.count("\n") + 1
        if self.lines == 0:  # a tail read from the file
            return (f"{self.stream} ({self.size} bytes; its last {shown} lines shown, all of "
                    f"it in {self.file})")
        if self.cut:
            return (f"{self.stream} ({self.lines} lines; the last {self.lines - self.cut} "
                    f"shown, all of it in {self.file})")
        return f"{self.stream} ({self.lines} lines)"


@dataclass
class Step:
    name: str
    command: str
    status: str
    exit_code: int | None
    duration: float | None
    outputs: list[Output]
    summary: str = ""  # a repeated step: how its instances ended


@dataclass
class Condition:
    text: str
    fired: bool
    observed: str
    children: list[Condition] = field(default_factory=list)


@dataclass
class Channel:
    name: str
    kind: str
    verdict: str
    summary: str
    blocks: list[sides.Block]


@dataclass
class Capture:
    name: str
    path: str
    state: str
    text: str | None  # embedded content
    files: list[tuple[str, int]] = field(default_factory=list)  # a folder's
    more_files: int = 0
    location: str | None = None  # where the captured content is


@dataclass
class Page:
    data: dict[str, Any]
    folder: str
    verdict: str
    outcome: str  # as expected | NOT as expected | no verdict
    parameters: list[tuple[str, str, str]]  # name, value, origin
    steps: list[Step]
    conditions: list[Condition]
    when: str | None
    baseline: str
    channels: list[Channel]
    captures: list[Capture]
    timeline: Drawing | None
    faults: list[dict[str, Any]]


def _verdict(data: dict[str, Any]) -> str:
    reproduced = data.get("reproduced")
    return "ERROR" if reproduced is None else "REPRODUCED" if reproduced else \
        "NOT REPRODUCED"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


def _output(step: dict[str, Any], stream: str, folder: Path) -> Output:
    text = step.get(stream)
    size = int(step.get(f"{stream}_bytes") or 0)
    file = step.get(f"{stream}_file")
    location = str(folder / file) if file else None
    if text is None and location is not None and size:
        return _tail(stream, Path(location), size)
    if text is None or "\x00" in text:
        return Output(stream, None, 0, 0, size, location)
    rows = text.splitlines()
    kept = rows[-TAIL_LINES:]
    shown = "\n".join(kept)
    if len(shown) > TAIL_CHARS:
        shown = "…" + shown[-TAIL_CHARS:]
    return Output(stream, shown, len(rows), len(rows) - len(kept), size, location)


def _tail(stream: str, path: Path, size: int) -> Output:
    """The end of an output too large for the record (it is only in its file)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(size - TAIL_CHARS, 0))
            data = handle.read(TAIL_CHARS)
    except OSError:
        return Output(stream, None, 0, 0, size, str(path))
    if b"\x00" in data:
        return Output(stream, None, 0, 0, size, str(path))
    rows = data.decode("utf-8", "replace").splitlines()[1:][-TAIL_LINES:]  # whole lines
    return Output(stream, "\n".join(rows), 0, 0, size, str(path))


def _steps(data: dict[str, Any], folder: Path) -> list[Step]:
    out = []
    for step in data.get("steps", []):
        summary = ""
        if step.get("instances") is not None:
            counts = ", ".join(f"{k} x{n}" for k, n in (step.get("exit_codes") or {}).items())
            summary = f"x{len(step['instances'])}: {counts or 'none ran'}"
        outputs = [] if step.get("status") == "skipped" or step.get("instances") is not None \
            else [_output(step, s, folder) for s in ("stdout", "stderr")]
        out.append(Step(str(step.get("name")), str(step.get("command", "")),
                        str(step.get("status")), step.get("exit_code"),
                        step.get("duration_s"), outputs, summary))
    return out


def _conditions(items: list[dict[str, Any]]) -> list[Condition]:
    return [Condition(str(c.get("condition", "")), bool(c.get("fired")),
                      str(c.get("observed", "")), _conditions(c.get("conditions") or []))
            for c in items]


def _channels(baseline: dict[str, Any]) -> list[Channel]:
    out = []
    for channel in baseline.get("channels") or []:
        diverged = channel.get("verdict") == ChannelVerdict.DIVERGED
        out.append(Channel(str(channel.get("channel")), str(channel.get("kind")),
                           str(channel.get("verdict")), str(channel.get("summary", "")),
                           sides.blocks(channel) if diverged else []))
    return out


def _looks_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _captures(data: dict[str, Any], folder: Path) -> list[Capture]:
    out = []
    for cap in data.get("captures", []):
        name, where = str(cap.get("name")), str(cap.get("path", ""))
        artifact = folder / cap["artifact"] if cap.get("artifact") else None
        location = None if artifact is None else str(artifact)
        if cap.get("query") and cap.get("error"):
            out.append(Capture(name, where, f"query failed: {cap['error']}", None))
            continue
        if not cap.get("exists") or artifact is None:
            out.append(Capture(name, where, "absent", None))
            continue
        if cap.get("kind") == "dir" or artifact.is_dir():
            files = sorted(p for p in artifact.rglob("*") if p.is_file())
            listed = [(p.relative_to(artifact).as_posix(), p.stat().st_size)
                      for p in files[:MAX_LISTED]]
            out.append(Capture(name, where, f"a folder of {len(files)} file(s)", None,
                               listed, len(files) - len(listed), location))
            continue
        size = artifact.stat().st_size if artifact.is_file() else int(cap.get("size") or 0)
        state = f"{size} bytes" + (f", sha256 {cap['sha256'][:16]}…" if cap.get("sha256")
                                   else "")
        text = None
        if artifact.is_file() and size <= INLINE_FILE:
            raw = artifact.read_bytes()
            if _looks_text(raw):
                text = raw.decode("utf-8")
            else:
                state += ", binary"
        elif size > INLINE_FILE:
            state += ", too large to embed"
        out.append(Capture(name, where, state, text, location=location))
    return out


def page(data: dict[str, Any], folder: Path) -> Page:
    """The page of one run record (record.json's dict) whose artifacts are in `folder`."""
    ok = data.get("ok")
    origins = data.get("parameters_from") or {}
    parameters = [(str(k), _value(v), str(origins.get(k, "")))
                  for k, v in (data.get("parameters") or {}).items()]
    baseline = data.get("baseline") or {}
    return Page(data=data, folder=str(folder), verdict=_verdict(data),
                outcome="no verdict" if ok is None or data.get("reproduced") is None
                else "as expected" if ok else "NOT as expected",
                parameters=parameters, steps=_steps(data, folder),
                conditions=_conditions((data.get("oracle") or {}).get("conditions") or []),
                when=when_line(data), baseline=str(baseline.get("verdict", "none")),
                channels=_channels(baseline), captures=_captures(data, folder),
                timeline=drawing(data), faults=list(data.get("faults") or []))

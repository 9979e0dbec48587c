"""The events of a run, each at its offset from the timeline start and its real time.

The timeline starts when the steps start (offset 0); events before it (services ready)
have negative offsets. Every event also carries the sandbox clock's time at that moment
when the run has a sandbox clock: see `SandboxClock` and `Timeline.sandbox_clock`.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

# A real epoch time -> the sandbox clock's time then (ISO 8601 text), or None when the run
# has no clock of its own. HOOK(clock): the clock feature provides this mapping; the
# runner sets `Timeline.sandbox_clock` to it and every event, and the oracle's moment,
# gets its `sandbox_time`.
SandboxClock = Callable[[float], str | None]

# Event kinds
START, END, OUTPUT, WAITED, WAIT_FAILED, STOPPED, READY, ORACLE = (
    "start", "end", "output", "waited", "wait_timed_out", "stopped", "ready", "oracle")
MAX_OUTPUT_EVENTS = 200  # lines of a background step kept as events (its files hold all)
MAX_LINE = 300  # characters of a line kept in an event
MAX_LINE_TIMES = 1_000_000  # lines per stream whose arrival time is remembered


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Event:
    """Something that happened at a moment of the run."""

    kind: str  # start | end | output | waited | wait_timed_out | stopped | ready | oracle
    time: float  # real epoch seconds
    entry: str  # the step, wait or service it belongs to
    instance: int | None = None  # the instance of a repeated step (1-based)
    detail: str = ""  # exit status, the line, what was waited for
    stream: str | None = None  # output: stdout | stderr
    offset: float | None = None  # seconds from the timeline start (None: never started)
    sandbox_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"offset_s": None if self.offset is None else
                               round(self.offset, 3), "at": iso(self.time),
                               "sandbox_time": self.sandbox_time, "kind": self.kind,
                               "entry": self.entry}
        if self.instance is not None:
            out["instance"] = self.instance
        if self.stream is not None:
            out["stream"] = self.stream
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        at = data.get("at")
        when = datetime.fromisoformat(at).timestamp() if at else 0.0
        return cls(str(data.get("kind", "?")), when, str(data.get("entry", "")),
                   data.get("instance"), str(data.get("detail", "")), data.get("stream"),
                   data.get("offset_s"), data.get("sandbox_time"))


@dataclass(frozen=True)
class Moment:
    """When an oracle condition first held: the event that made it true."""

    time: float
    condition: str
    step: str | None = None
    instance: int | None = None
    line: str | None = None

    def to_dict(self, timeline: Timeline) -> dict[str, Any]:
        return {"offset_s": timeline.offset_of(self.time), "at": iso(self.time),
                "sandbox_time": timeline.sandbox_time_of(self.time),
                "condition": self.condition, "step": self.step, "instance": self.instance,
                "line": self.line}


@dataclass
class Timeline:
    """The run's events, added from any thread; offsets from `start`."""

    start: float | None = None
    events: list[Event] = field(default_factory=list)
    sandbox_clock: SandboxClock | None = None  # HOOK(clock): see SandboxClock
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self) -> float:
        self.start = time.time()
        return self.start

    def add(self, kind: str, entry: str, *, at: float | None = None,
            instance: int | None = None, detail: str = "", stream: str | None = None
            ) -> Event:
        event = Event(kind, time.time() if at is None else at, entry, instance,
                      detail[:MAX_LINE], stream)
        with self._lock:
            self.events.append(event)
        return event

    def offset_of(self, moment: float) -> float | None:
        return None if self.start is None else round(moment - self.start, 3)

    def sandbox_time_of(self, moment: float) -> str | None:
        return None if self.sandbox_clock is None else self.sandbox_clock(moment)

    def resolved(self) -> list[Event]:
        """The events in time order, with offsets and sandbox times filled in."""
        with self._lock:
            events = sorted(self.events, key=lambda e: e.time)
        return [Event(e.kind, e.time, e.entry, e.instance, e.detail, e.stream,
                      self.offset_of(e.time), self.sandbox_time_of(e.time)) for e in events]

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.resolved()]


class TimedLines:
    """A binary output file that remembers when each line began to arrive (for the
    oracle's moment) and, for a background step, hands whole lines to `on_line`."""

    def __init__(self, target: IO[bytes], on_line: Callable[[float, str], None] | None = None):
        self.target = target
        self.on_line = on_line
        self.times = array("d")  # when line N (0-based) began, for the first lines
        self._open = False  # a line has begun and not ended yet
        self._partial = b""  # its beginning, for on_line (at most MAX_LINE bytes)

    def write(self, data: bytes) -> int:
        now = time.time()
        self.target.write(data)
        pos = 0
        while pos < len(data):
            if not self._open:
                self._open = True
                if len(self.times) < MAX_LINE_TIMES:
                    self.times.append(now)
            cut = data.find(b"\n", pos)
            end = len(data) if cut == -1 else cut
            if self.on_line is not None and len(self._partial) < MAX_LINE:
                self._partial += data[pos:min(end, pos + MAX_LINE)]
            if cut == -1:
                break
            self._end_line(now)
            pos = cut + 1
        return len(data)

    def _end_line(self, now: float) -> None:
        self._open = False
        line, self._partial = self._partial, b""
        if self.on_line is not None:
            self.on_line(now, line.decode("utf-8", "replace").rstrip("\r"))

    def flush(self) -> None:
        self.target.flush()

    def finish(self) -> None:
        """A last line without its newline still counts."""
        if self._open:
            self._end_line(time.time())

"""Progress events: what a run is doing while it does it, as plain values.

The execute stage emits them (an `Emit` callback); a presenter in `repro.report.progress`
decides how they look (plain lines, or a live view on a terminal). Data flows one way:
nothing here knows how, or whether, an event is shown. Texts are masked on the way out
(`masked`), and step output files are masked as they are written: no secret reaches a
terminal either.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from repro.redact import Redactor
from repro.results.observations import StepObservation, exit_counts


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class BuildLine:
    """A line of an image build's output (`Step N/M : ...` marks a Dockerfile step)."""

    image: str  # what is built: the environment, or ENVIRONMENT-SERVICE
    line: str
    at: float = field(default_factory=_now)

    @property
    def is_step(self) -> bool:
        return self.line.startswith("Step ") and "/" in self.line.split(" ", 2)[1]


@dataclass(frozen=True)
class ImageReady:
    image: str
    ref: str
    built: bool
    seconds: float


@dataclass(frozen=True)
class Waiting:
    """A service was started; readiness (`what`) is awaited from `since`, up to `timeout`."""

    service: str
    what: str
    timeout: float
    since: float = field(default_factory=_now)


@dataclass(frozen=True)
class Poll:
    """A readiness probe said "not yet"."""

    service: str
    attempt: int
    elapsed: float


@dataclass(frozen=True)
class Ready:
    service: str
    seconds: float


@dataclass(frozen=True)
class StepStarted:
    """A step's process started; its output goes to `outputs` (stdout, stderr), masked
    as it is written: a presenter reads their ends for the last line, at its own pace
    (no cost per line for a step that prints a lot)."""

    name: str
    instance: int | None = None  # of a repeated step
    background: bool = False
    outputs: tuple[Path, ...] = ()
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class StepFinished:
    name: str
    status: str  # StepStatus value
    exit_code: int | None
    seconds: float | None
    instances: str | None = None  # a repeated step: "N instances: exit 0 x3, ..."

    @classmethod
    def of(cls, step: StepObservation) -> StepFinished:
        summary = None
        if step.instances is not None:
            counts = ", ".join(f"{k} x{n}" for k, n in exit_counts(step.instances).items())
            summary = f"{len(step.instances)} instances: {counts}"
        return cls(step.name, str(step.status), step.exit_code, step.duration, summary)


Event = BuildLine | ImageReady | Waiting | Poll | Ready | StepStarted | StepFinished
Emit = Callable[[Event], None]


def masked(emit: Emit, redactor: Redactor) -> Emit:
    """`emit`, with every text of every event masked (build output and readiness commands
    may hold a secret)."""
    if not redactor:
        return emit

    def send(event: Event) -> None:
        texts = {f.name: redactor.text(value) for f in dataclasses.fields(event)
                 if isinstance(value := getattr(event, f.name), str)}
        emit(dataclasses.replace(event, **texts))  # type: ignore[arg-type]

    return send

"""Show a run's progress events (repro.results.progress): plain lines, or a live view.

Off a terminal (CI logs, pipes, files) every fact is one `repro: ...` line on stderr, in a
stable form scripts and tests read. On a terminal a live view (repro.report.live, the only
module importing `rich`) redraws what runs now and prints the same finished facts above
it. Verbosity filters both: quiet shows nothing (the verdict and errors are printed
elsewhere), verbose adds every build line, readiness polls and step starts.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from enum import IntEnum, StrEnum
from pathlib import Path
from types import TracebackType
from typing import Protocol, TextIO

from repro.report import terminal
from repro.results import progress as ev
from repro.results.outcome import StepStatus

WARNING = "warning:"  # said even when quiet
HEARTBEAT = 10.0  # seconds between plain "still running" lines of a long step
TAIL_BYTES = 4096  # read from the end of a step's output for its last line


class Verbosity(IntEnum):
    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


class ColorChoice(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


def colour_on(choice: ColorChoice, stream: TextIO) -> bool:
    """`always` and `never` win; `auto` colours a terminal unless NO_COLOR or TERM=dumb."""
    if choice is ColorChoice.ALWAYS:
        return True
    if choice is ColorChoice.NEVER:
        return False
    return _is_terminal(stream) and not os.environ.get("NO_COLOR") and \
        os.environ.get("TERM") != "dumb"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class Presenter(Protocol):
    def say(self, message: str) -> None: ...

    def emit(self, event: ev.Event) -> None: ...

    def __enter__(self) -> Presenter: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def presenter(verbosity: Verbosity, choice: ColorChoice,
              out: TextIO | None = None) -> Presenter:
    """A live view on a terminal (not a dumb one, and not when quiet); plain lines
    elsewhere. `rich` is imported only for the live view."""
    out = out or sys.stderr  # looked up now: a test (or a pipe) may have replaced it
    colour = colour_on(choice, out)
    if verbosity is not Verbosity.QUIET and _is_terminal(out) and \
            os.environ.get("TERM") != "dumb":
        from repro.report.live import LiveView

        return LiveView(out, verbosity, colour)
    return Lines(out, verbosity, colour)


# ---- the facts as text -----------------------------------------------------------------


def step_text(step: ev.StepFinished) -> str:
    """`step NAME: ok (exit 0) 0.03s`; a repeated step: how its instances ended."""
    took = f"{step.seconds:.2f}s" if step.seconds is not None else ""
    if step.instances is not None:
        return f"step {step.name}: {step.instances} {took}"
    return f"step {step.name}: {step.status.replace('_', ' ')} (exit {step.exit_code}) {took}"


def event_lines(event: ev.Event, verbosity: Verbosity, live: bool) -> list[str]:
    """The lines an event leaves for good (without `repro: `). A live view draws what is
    under way itself, so build steps and waits are lines only without one."""
    if verbosity is Verbosity.QUIET:
        return []
    verbose = verbosity is Verbosity.VERBOSE
    match event:
        case ev.BuildLine(image=image, line=line):
            if verbose or (event.is_step and not live):
                return [f"build {image}: {line}"]
        case ev.ImageReady(ref=ref, built=True, seconds=seconds):
            return [f"image {ref} built in {seconds:.2f}s"]
        case ev.Waiting(service=service, what=what, timeout=timeout) if not live or verbose:
            return [f"waiting for service {service}: {what} (up to {timeout:g}s)"]
        case ev.Poll(service=service, attempt=attempt, elapsed=elapsed) if verbose:
            return [f"service {service}: not ready after {elapsed:.1f}s (check {attempt})"]
        case ev.Ready(service=service, seconds=seconds):
            return [f"service {service} ready after {seconds:.2f}s"]
        case ev.StepStarted(name=name, instance=instance, background=background) if verbose:
            which = f" instance {instance}" if instance is not None else ""
            return [f"step {name}{which}: started" + (" (background)" if background else "")]
        case ev.StepFinished():
            return [step_text(event)]
    return []


def last_line(outputs: tuple[Path, ...]) -> str:
    """The last line a running step printed: the end of the output file written last
    (a line still being written counts; so does the last `\\r` of a progress bar)."""
    newest, ending = -1, ""
    for path in outputs:
        try:
            with path.open("rb") as file:
                size = os.fstat(file.fileno())
                if size.st_size == 0 or size.st_mtime_ns < newest:
                    continue
                file.seek(max(0, size.st_size - TAIL_BYTES))
                tail = file.read(TAIL_BYTES)
        except OSError:  # not created yet
            continue
        rows = [row for row in re.split(rb"[\r\n]", tail) if row.strip()]
        if rows:
            newest, ending = size.st_mtime_ns, rows[-1].decode("utf-8", "replace")
    return terminal.printable(ending.strip())


def step_colour(event: ev.Event) -> str | None:
    """good/bad for a finished step's line, None for the rest."""
    if not isinstance(event, ev.StepFinished):
        return None
    status = StepStatus(event.status)
    return "bad" if status.failed else "good" if status is StepStatus.OK else None


# ---- plain lines -----------------------------------------------------------------------


class _Running:
    """A foreground step under way: since when, where it writes, when it was last said."""

    def __init__(self, since: float, outputs: tuple[Path, ...]):
        self.since = self.said = since
        self.outputs = outputs


class Lines:
    """One fact a line on `out`; a step running longer than HEARTBEAT gets a line saying
    for how long and what it printed last, every HEARTBEAT seconds."""

    def __init__(self, out: TextIO, verbosity: Verbosity, colour: bool,
                 heartbeat: float = HEARTBEAT, clock: Callable[[], float] = time.monotonic):
        self.out, self.verbosity, self.heartbeat, self.clock = out, verbosity, heartbeat, clock
        self.style = terminal.Style(out, colour)
        self.running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _print(self, text: str, colour: str | None = None) -> None:
        shown = getattr(self.style, colour)(text) if colour else text
        with self._lock:
            print(f"repro: {shown}", file=self.out, flush=True)

    def say(self, message: str) -> None:
        # Quiet hides progress, never a warning (the run went on, but something is off).
        if self.verbosity is not Verbosity.QUIET or message.startswith(WARNING):
            self._print(message)

    def emit(self, event: ev.Event) -> None:
        self._track(event)
        for line in event_lines(event, self.verbosity, live=False):
            self._print(line, step_colour(event))

    def _track(self, event: ev.Event) -> None:
        with self._lock:
            if isinstance(event, ev.StepStarted) and not event.background:
                self.running.setdefault(event.name, _Running(self.clock(), event.outputs))
            elif isinstance(event, ev.StepFinished):
                self.running.pop(event.name, None)

    def tick(self) -> None:
        """Say which steps have been running for another HEARTBEAT seconds."""
        if self.verbosity is Verbosity.QUIET:
            return
        now = self.clock()
        due = []
        with self._lock:
            for name, step in self.running.items():
                if now - step.said >= self.heartbeat:
                    step.said = now
                    due.append((name, now - step.since, step.outputs))
        for name, elapsed, outputs in due:
            last = last_line(outputs)
            said = f"; last output: {last[:160]}" if last else "; no output yet"
            self._print(f"step {name}: running for {elapsed:.0f}s{said}")

    def _tick_until_closed(self) -> None:
        while not self._stop.wait(1.0):
            self.tick()

    def __enter__(self) -> Lines:
        if self.verbosity is not Verbosity.QUIET:
            self._ticker = threading.Thread(target=self._tick_until_closed,
                                            name="progress heartbeat", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()

"""The live view of a run on a terminal: what runs now, redrawn in place, with for how
long and what it printed last; finished facts printed above it as lines.

The only module importing `rich`, and only imported when stderr is a terminal
(repro.report.progress.presenter): `repro --help` and runs in CI never load it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from repro.report.progress import Verbosity, event_lines, last_line, step_colour
from repro.report.terminal import printable
from repro.results import progress as ev

REFRESH = 4  # redraws a second: elapsed times tick without costing the run anything
STYLES = {"good": "green", "bad": "bold red", None: ""}


@dataclass
class _Row:
    """Something under way: since when, and the latest line worth showing."""

    label: str
    since: float
    detail: str = ""
    last: str = ""
    limit: float | None = None  # a wait's timeout
    users: int = 0  # instances of a repeated step started
    outputs: tuple[Path, ...] = ()  # a step's output files: its last line, when drawn


class LiveView:
    def __init__(self, out: TextIO, verbosity: Verbosity, colour: bool):
        self.verbosity = verbosity
        # The colour decision is ours (repro.report.progress.colour_on): rich's own reading
        # of NO_COLOR would overrule `--color always`.
        self.console = Console(file=out, force_terminal=True, highlight=False,
                               color_system="auto" if colour else None, no_color=not colour)
        if colour and self.console.color_system is None:  # `--color always`, TERM unset
            self.console = Console(file=out, force_terminal=True, highlight=False,
                                   color_system="standard", no_color=False)
        self.rows: dict[str, _Row] = {}  # by kind and name, in the order they began
        self._lock = threading.Lock()
        self._live = Live(self, console=self.console, refresh_per_second=REFRESH,
                          transient=True, redirect_stdout=False, redirect_stderr=False)

    # -- what is drawn -----------------------------------------------------------------
    def __rich__(self) -> Group:
        now = time.monotonic()
        with self._lock:
            rows = list(self.rows.values())
        return Group(*(self._line(row, now) for row in rows))

    def _line(self, row: _Row, now: float) -> Text:
        elapsed = f"{now - row.since:.1f}s" + (f" of {row.limit:g}s" if row.limit else "")
        label = row.label + (f" ({row.users} users)" if row.users > 1 else "")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("… ", style="cyan")
        text.append(label, style="bold")
        text.append(f"  {elapsed}", style="yellow")
        last = last_line(row.outputs) if row.outputs else printable(row.last)
        for part in (printable(row.detail), last):
            if part:
                text.append(f"  {part[:200]}", style="dim")
        return text

    # -- what happens ------------------------------------------------------------------
    def say(self, message: str) -> None:
        self.console.print(Text(f"repro: {message}"), soft_wrap=True)

    def emit(self, event: ev.Event) -> None:
        with self._lock:
            self._track(event)
        for line in event_lines(event, self.verbosity, live=True):
            self.console.print(Text(f"repro: {line}", style=STYLES[step_colour(event)]),
                               soft_wrap=True)

    def _track(self, event: ev.Event) -> None:
        match event:
            case ev.BuildLine(image=image, line=line):
                row = self.rows.setdefault(f"build {image}", _Row(
                    f"building the image of {image}", event.at))
                if event.is_step:
                    row.detail, row.last = line, ""
                else:
                    row.last = line
            case ev.ImageReady(image=image):
                self.rows.pop(f"build {image}", None)
            case ev.Waiting(service=service, what=what, timeout=timeout, since=since):
                self.rows[f"wait {service}"] = _Row(f"waiting for service {service}", since,
                                                    what, limit=timeout)
            case ev.Ready(service=service):
                self.rows.pop(f"wait {service}", None)
            case ev.StepStarted(name=name, background=background, at=at):
                row = self.rows.setdefault(f"step {name}", _Row(
                    f"step {name}" + (" (background)" if background else ""), at))
                row.users += 1
                row.outputs = event.outputs  # the latest instance's
            case ev.StepFinished(name=name):
                self.rows.pop(f"step {name}", None)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._lock:
            self.rows.clear()
        self._live.stop()

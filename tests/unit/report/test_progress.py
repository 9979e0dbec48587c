"""How progress events are shown: plain lines (exact, stable), verbosity, colours, the live
view's drawing, and the heartbeat of a long step."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest

from repro.report import progress
from repro.report.progress import ColorChoice, Lines, Verbosity
from repro.results import progress as ev

SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour or style escape


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def events() -> list[ev.Event]:
    """A run with a build, a service and two steps, as the pipeline emits it."""
    return [
        ev.BuildLine("bb", "Step 1/2 : FROM repro-base/busybox"),
        ev.BuildLine("bb", " ---> 0a1b2c"),
        ev.BuildLine("bb", "Step 2/2 : RUN make"),
        ev.BuildLine("bb", "cc -o app app.c"),
        ev.ImageReady("bb", "repro-env/bb:0123", True, 3.5),
        ev.ImageReady("bb-db", "postgres:16", False, 0.01),
        ev.Waiting("db", "port 5432 listening", 60.0),
        ev.Poll("db", 1, 0.5),
        ev.Ready("db", 1.25),
        ev.StepStarted("load"),
        ev.StepFinished("load", "ok", 0, 2.0),
        ev.StepStarted("crash"),
        ev.StepFinished("crash", "failed", 3, 0.031),
        ev.StepFinished("users", "failed", None, 1.5, "4 instances: exit 0 x3, exit 1 x1"),
    ]


def plain(verbosity: Verbosity, colour: bool = False) -> str:
    out = io.StringIO()
    lines = Lines(out, verbosity, colour)
    lines.say("running T-1 in a fresh sandbox ...")
    for event in events():
        lines.emit(event)
    return out.getvalue()


def test_plain_lines_are_exact_and_stable():
    assert plain(Verbosity.NORMAL).splitlines() == [
        "repro: running T-1 in a fresh sandbox ...",
        "repro: build bb: Step 1/2 : FROM repro-base/busybox",
        "repro: build bb: Step 2/2 : RUN make",
        "repro: image repro-env/bb:0123 built in 3.50s",
        "repro: waiting for service db: port 5432 listening (up to 60s)",
        "repro: service db ready after 1.25s",
        "repro: step load: ok (exit 0) 2.00s",
        "repro: step crash: failed (exit 3) 0.03s",
        "repro: step users: 4 instances: exit 0 x3, exit 1 x1 1.50s",
    ]


def test_quiet_shows_nothing_and_verbose_adds_build_output_polls_and_starts():
    assert plain(Verbosity.QUIET) == ""
    warned = io.StringIO()
    Lines(warned, Verbosity.QUIET, False).say("warning: could not append to .repro/access.log")
    assert warned.getvalue() == "repro: warning: could not append to .repro/access.log\n"
    normal, verbose = plain(Verbosity.NORMAL).splitlines(), \
        plain(Verbosity.VERBOSE).splitlines()
    added = [line for line in verbose if line not in normal]
    assert added == [
        "repro: build bb:  ---> 0a1b2c",
        "repro: build bb: cc -o app app.c",
        "repro: service db: not ready after 0.5s (check 1)",
        "repro: step load: started",
        "repro: step crash: started",
    ]
    assert [line for line in normal if line not in verbose] == []


def test_plain_lines_colour_only_the_step_verdicts_and_only_when_asked():
    assert not SGR.search(plain(Verbosity.VERBOSE, colour=False))
    coloured = plain(Verbosity.NORMAL, colour=True).splitlines()
    assert [SGR.sub("", line) for line in coloured] == plain(Verbosity.NORMAL).splitlines()
    assert coloured[-3] == "repro: \x1b[32mstep load: ok (exit 0) 2.00s\x1b[0m"
    assert coloured[-2].startswith("repro: \x1b[31;1mstep crash: failed")


def test_a_long_step_says_for_how_long_and_what_it_printed_last(tmp_path):
    now = [100.0]
    out = io.StringIO()
    slow = (tmp_path / "slow.stdout", tmp_path / "slow.stderr")  # not there yet
    lines = Lines(out, Verbosity.NORMAL, False, heartbeat=10.0, clock=lambda: now[0])
    lines.emit(ev.StepStarted("quiet"))
    lines.emit(ev.StepStarted("slow", outputs=slow))
    lines.emit(ev.StepStarted("bg", background=True))  # runs until the end: no heartbeat
    now[0] = 109.0
    lines.tick()
    assert out.getvalue() == ""
    slow[0].write_text("tick 1\ntick \x1b[31m2\n")
    now[0] = 112.5
    lines.tick()
    lines.tick()  # said once per heartbeat
    assert out.getvalue().splitlines() == [
        "repro: step quiet: running for 12s; no output yet",
        "repro: step slow: running for 12s; last output: tick \\x1b[31m2"]
    lines.emit(ev.StepFinished("slow", "ok", 0, 13.0))
    now[0] = 123.0
    lines.tick()
    assert out.getvalue().splitlines()[-2:] == [
        "repro: step slow: ok (exit 0) 13.00s",
        "repro: step quiet: running for 23s; no output yet"]
    quiet = Lines(io.StringIO(), Verbosity.QUIET, False, clock=lambda: now[0])
    quiet.emit(ev.StepStarted("slow"))
    now[0] = 200.0
    quiet.tick()
    assert quiet.out.getvalue() == ""


def test_the_last_line_is_the_end_of_the_output_written_last(tmp_path):
    out, err = tmp_path / "s.stdout", tmp_path / "s.stderr"
    assert progress.last_line((out, err)) == ""
    out.write_text("one\ntwo\n\n")
    assert progress.last_line((out, err)) == "two"
    err.write_text("warning: half a li")  # a line still being written counts
    os.utime(out, ns=(1, 1))
    assert progress.last_line((out, err)) == "warning: half a li"
    out.write_text("x" * 10_000 + "\n12%\r57%\r")  # a progress bar redrawn with \r
    assert progress.last_line((out, err)) == "57%"


def live(tmp_path: Path, choice: ColorChoice, verbosity: Verbosity = Verbosity.NORMAL
         ) -> str:
    out = Tty()
    written = tmp_path / "load.stdout"
    written.write_text("row 1\nrow 7 of 9\n")
    with progress.presenter(verbosity, choice, out) as shown:
        shown.say("running T-1 ...")
        for event in events()[:9]:  # up to the step `load` running
            shown.emit(event)
        shown.emit(ev.StepStarted("load", outputs=(written, tmp_path / "load.stderr")))
        assert type(shown).__module__ == "repro.report.live"
        from rich.console import Console

        drawn = io.StringIO()  # what the view draws now: the step under way
        Console(file=drawn, width=120, color_system=None).print(shown)
        assert re.fullmatch(r"… step load  \d+\.\ds  row 7 of 9\n", drawn.getvalue())
        shown.emit(events()[10])
    return out.getvalue()


def test_the_live_view_prints_finished_facts_and_draws_what_runs(monkeypatch, tmp_path):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    text = SGR.sub("", live(tmp_path, ColorChoice.AUTO))
    assert "repro: running T-1 ...\n" in text
    assert "repro: image repro-env/bb:0123 built in 3.50s" in text
    assert "repro: service db ready after 1.25s" in text
    assert "repro: step load: ok (exit 0) 2.00s" in text
    # Under way, not finished: drawn in the view, not printed as a line.
    assert "repro: build bb: Step" not in text and "repro: waiting" not in text
    assert "repro: build bb: cc -o app" in SGR.sub("", live(tmp_path, ColorChoice.AUTO,
                                                            Verbosity.VERBOSE))


def test_the_live_view_colours_follow_no_color_and_the_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert SGR.search(live(tmp_path, ColorChoice.AUTO))
    assert not SGR.search(live(tmp_path, ColorChoice.NEVER))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not SGR.search(live(tmp_path, ColorChoice.AUTO))
    assert SGR.search(live(tmp_path, ColorChoice.ALWAYS))


@pytest.mark.parametrize(("choice", "tty", "no_color", "term", "expected"), [
    (ColorChoice.AUTO, True, "", "xterm", True),
    (ColorChoice.AUTO, False, "", "xterm", False),
    (ColorChoice.AUTO, True, "1", "xterm", False),
    (ColorChoice.AUTO, True, "", "dumb", False),
    (ColorChoice.ALWAYS, False, "1", "dumb", True),
    (ColorChoice.NEVER, True, "", "xterm", False),
])
def test_colour_choice(monkeypatch, choice, tty, no_color, term, expected):
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setenv("TERM", term)
    assert progress.colour_on(choice, Tty() if tty else io.StringIO()) is expected


def test_plain_lines_off_a_terminal_on_a_dumb_one_and_when_quiet(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert isinstance(progress.presenter(Verbosity.NORMAL, ColorChoice.AUTO, io.StringIO()),
                      Lines)
    assert isinstance(progress.presenter(Verbosity.QUIET, ColorChoice.AUTO, Tty()), Lines)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(progress.presenter(Verbosity.NORMAL, ColorChoice.AUTO, Tty()), Lines)


def test_the_heartbeat_runs_while_the_presenter_is_open_and_stops_with_it():
    out = io.StringIO()
    lines = Lines(out, Verbosity.NORMAL, False, heartbeat=0.0)
    with lines:
        lines.emit(ev.StepStarted("slow"))
        deadline = time.monotonic() + 10
        while "running for" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert re.match(r"repro: step slow: running for \ds; no output yet\n", out.getvalue())
    assert lines._ticker is not None and not lines._ticker.is_alive()

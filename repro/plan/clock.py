"""The run's clock: the instant it starts from (written, or found in the customer's log),
and where the sandbox clock stands at any real moment of the run."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repro.config.model import Clock, Environment, Scenario
from repro.config.paths import outside
from repro.config.project import Loaded, project_root
from repro.config.yaml_source import Loc, Source, display_path
from repro.errors import Problem
from repro.plan.values import ClockPlan

if TYPE_CHECKING:  # the log formats' patterns: compiled only when a clock needs them
    from repro.config import logtime

# What `repro plan` and the record say about how the clock is applied.
THROUGH = ("libfaketime, preloaded into every container: it reaches programs dynamically "
           "linked with the GNU C library (2.34 or later), not static binaries (busybox), "
           "Go programs or musl-based images; the run checks each container and stops if "
           "the clock did not take")
_SHOWN_LINE = 200  # characters of a matched log line kept in the plan and record

Text = Callable[[str, Source, Loc], str]


def sandbox_time(clock: ClockPlan, started: float | None, real: float) -> float:
    """The sandbox clock's reading (epoch seconds) at the real epoch time `real`, in a run
    whose clock was started at the real time `started` (the start of the steps): until
    then, and always when frozen, it stands at `clock.at`."""
    if clock.frozen or started is None or real <= started:
        return clock.at
    return clock.at + clock.rate * (real - started)


def iso(epoch: float) -> str:
    """`2024-03-31T00:29:50Z`, with milliseconds when there are any."""
    moment = datetime.fromtimestamp(epoch, UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def plan_clock(scen: Loaded[Scenario], envl: Loaded[Environment], text: Text,
               problems: list[Problem | str]) -> ClockPlan | None:
    """The scenario's clock, else its environment's; None without one. Problems (an
    instant that does not parse, a log without the line) are added to `problems`."""
    if scen.record.clock is not None:
        clock, src, base = scen.record.clock, scen.source, scen.base
    elif envl.record.clock is not None:
        clock, src, base = envl.record.clock, envl.source, envl.base
    else:
        return None
    from repro.config import logtime

    where = logtime.zone(clock.zone) if clock.zone else None  # checked when loaded
    if clock.at is not None:
        found = _written(clock.at, where, src, text, problems)
    else:
        found = _from_log(clock, where, src, base, text, problems)
    if found is None:
        return None
    instant, origin = found
    return ClockPlan(instant.timestamp(), 1.0 if clock.rate is None else clock.rate,
                     clock.frozen, origin)


def _written(value: str, where: Any, src: Source, text: Text,
             problems: list[Problem | str]) -> tuple[datetime, dict[str, Any]] | None:
    loc: Loc = ("clock", "at")
    from repro.config import logtime

    known = len(problems)
    written = text(value, src, loc)
    if len(problems) > known:  # the template failed: that is the one problem to show
        return None
    try:
        instant = logtime.parse_instant(written, where)
    except logtime.StampError as exc:
        message = str(exc)
        if message.endswith("has no zone"):
            message += (": add Z (UTC) or an offset (2024-03-31T02:29:50+02:00), or name the "
                        "zone it is in with clock.zone")
        problems.append(src.problem(loc, message))
        return None
    return instant, {"at": written, "written": f"{src.file_of(loc)}:{src.value_line(loc)}"}


def _from_log(clock: Clock, where: Any, src: Source, base: Path, text: Text,
              problems: list[Problem | str]) -> tuple[datetime, dict[str, Any]] | None:
    loc: Loc = ("clock", "from_log")
    assert clock.from_log is not None
    from repro.config import logtime

    known = len(problems)
    path = base / text(clock.from_log, src, loc)
    if len(problems) > known:
        return None
    refused = outside(path, project_root(base))
    if refused:
        problems.append(src.problem(loc, refused))
        return None
    shown = display_path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        problems.append(src.problem(loc, f"{shown} not found (the customer's log, relative "
                                    f"to {Path(src.file).name})"))
        return None
    events = logtime.events(lines)
    if not events:
        problems.append(src.problem(loc, f"no line of {shown} carries a timestamp repro "
                                    "recognises (ISO 8601, syslog, Apache/nginx, log4j, "
                                    "epoch seconds: see docs/clock.md)"))
        return None
    matched, stamped = _line(lines, events, clock.match)
    if matched is None:
        problems.append(src.problem(("clock", "match"), f"no line of {shown} matches "
                                    f"/{clock.match}/ ({len(events)} timestamped lines, "
                                    f"{events[0].stamp.text if events[0].stamp else ''} to "
                                    f"{events[-1].stamp.text if events[-1].stamp else ''})"))
        return None
    if stamped is None or stamped.stamp is None:
        problems.append(src.problem(("clock", "match"), f"{shown}:{matched.number} matches, "
                                    "but neither it nor a line above it has a timestamp"))
        return None
    year = logtime.years(events, clock.year).get(stamped.number)
    try:
        instant = logtime.place(stamped.stamp, where, year)
    except logtime.StampError as exc:
        fix = ("say which zone the customer's server wrote it in with clock.zone (UTC, "
               "Europe/Berlin, +02:00)" if str(exc).endswith("no zone") else
               "give the year of the log's first line with clock.year" if
               str(exc).endswith("no year") else "check the log")
        problems.append(src.problem(loc, f"{shown}:{stamped.number}: {exc}: {fix}"))
        return None
    before = clock.before or 0.0
    origin: dict[str, Any] = {"log": shown, "line": f"{shown}:{matched.number}",
                              "text": matched.text.strip()[:_SHOWN_LINE],
                              "timestamp": stamped.stamp.text, "instant": iso(
                                  instant.timestamp()),
                              "before_s": before}
    if clock.match is not None:
        origin["match"] = clock.match
    if stamped.number != matched.number:
        origin["timestamp_line"] = stamped.number
    return datetime.fromtimestamp(instant.timestamp() - before, UTC), origin


def _line(text: str, events: list[logtime.Event], match: str | None
          ) -> tuple[logtime.Event | None, logtime.Event | None]:
    """The first line matching `match` (the first timestamped line without one), and the
    line whose timestamp it goes by: its own, or the nearest one above it (a stack trace
    line belongs to the entry that began above it)."""
    from repro.config import logtime

    if match is None:
        return events[0], events[0]
    pattern = re.compile(match)
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            above = [e for e in events if e.number <= number]
            return logtime.Event(number, line, logtime.find(line)), \
                (above[-1] if above else None)
    return None, None


def clock_dict(clock: ClockPlan, mask: Callable[[str], str]) -> dict[str, Any]:
    """The clock as `repro plan` and the record show it."""
    origin = dict(clock.origin)
    if "text" in origin:
        origin["text"] = mask(origin["text"])
    return {"at_first_step": iso(clock.at), "mode": "frozen" if clock.frozen else "running",
            "rate": clock.rate, "from": origin, "through": THROUGH}



def log_timeline(path: Path, match: str | None, zone_name: str | None, year: int | None
                 ) -> tuple[list[tuple[logtime.Event, float | None]], logtime.Event | None, int]:
    """`repro timeline`: the log's timestamped lines (those matching `match`, if given)
    with their offsets in seconds from its first timestamped line, that line, and the
    log's line count.
    Naive timestamps count in `zone_name` (UTC if none: offsets only shift across a DST
    change), year-less ones from `year` (2000 if none: a leap year, so February 29th
    parses)."""
    from repro.config import logtime
    from repro.config.yaml_source import read_input
    from repro.errors import ConfigError

    try:
        pattern = re.compile(match) if match is not None else None
    except re.error as exc:
        raise ConfigError(Problem("--match", None, "", f"invalid regular expression: {exc}")
                          ) from None
    try:
        where = logtime.zone(zone_name) if zone_name else UTC
    except logtime.StampError as exc:
        raise ConfigError(Problem("--zone", None, "", str(exc))) from None
    if year is not None and not 1 <= year <= 9999:  # else no line could be placed
        raise ConfigError(Problem("--year", None, "", f"expected a year like 2024, got {year}"))
    text = read_input(path, "not found")
    events = logtime.events(text)
    years = logtime.years(events, year if year is not None else 2000)

    def instant(event: logtime.Event) -> float | None:
        assert event.stamp is not None
        try:
            return logtime.place(event.stamp, where, years.get(event.number)).timestamp()
        except logtime.StampError:
            return None

    origin = next((e for e in events if instant(e) is not None), None)
    first = None if origin is None else instant(origin)
    shown_events = [(e, None if first is None or (t := instant(e)) is None else t - first)
                    for e in events if pattern is None or pattern.search(e.text)]
    return shown_events, origin, len(text.splitlines())

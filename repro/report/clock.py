"""The clock of a run and the events of a customer's log, as people read them."""

from __future__ import annotations

from typing import Any

from repro.config.logtime import Event


def clock_line(clock: dict[str, Any]) -> str:
    """`clock 2024-01-31T00:29:30Z at the first step, running x1, from app.log:4 (30s
    before); reached: sandbox, db`."""
    how = "frozen" if clock.get("mode") == "frozen" else f"running x{clock.get('rate', 1):g}"
    origin = clock.get("from", {})
    if "line" in origin:
        before = f" ({origin['before_s']:g}s before)" if origin.get("before_s") else ""
        source = f"from {origin['line']}{before}"
    else:
        source = f"from {origin.get('written', 'clock.at')}"
    reach = clock.get("reach", {})
    reached = [name for name, r in reach.items() if r.get("reached")]
    unsure = [name for name, r in reach.items() if r.get("reached") is None]
    missed = [name for name, r in reach.items() if r.get("reached") is False]
    checks = (f"; reached: {', '.join(reached)}" if reached else "") + \
        (f"; unchecked: {', '.join(unsure)}" if unsure else "") + \
        (f"; NOT reached: {', '.join(missed)}" if missed else "")
    instant = clock.get("at_first_step", "?")
    return f"clock {instant} at the first step, {how}, {source}{checks}"


def log_events(shown: str, events: list[tuple[Event, float | None]], origin: Event | None,
               total: int) -> list[str]:
    """`repro timeline`: each event as its offset from the first timestamped line."""
    if origin is None or origin.stamp is None:
        return [f"{shown}: no line with a timestamp repro recognises ({total} lines)"]
    lines = [f"{shown}: {len(events)} event(s); offsets from line {origin.number} "
             f"({origin.stamp.text})"]
    width = max([len(str(e.number)) for e, _ in events] + [1])
    for event, offset in events:
        when = "?" if offset is None else _offset(offset)
        lines.append(f"{when:>12}  {event.number:>{width}}| {event.text.rstrip()[:160]}")
    return lines


def _offset(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{rest:06.3f}s"
    if minutes:
        return f"{sign}{minutes}m{rest:06.3f}s"
    return f"{sign}{rest:.3f}s"

"""The run's timeline as lanes and bars, in SVG units (the template draws them).

One lane per entry, in the order entries began: services (ending when they were ready),
steps (a repeated step as one bar from its first start to its last end), background
steps with a tick per output line, faults (until undone), waits; and a line at the moment
the oracle first held. Times are offsets from the start of the steps (record.json's
`offset_s`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WIDTH = 1000  # the drawing's width in SVG units (it scales to the page)
LABEL = 180  # room for the lane names on the left
LANE = 22
TOP = 26  # room for the axis
MAX_TICKS = 200  # output marks drawn per lane


@dataclass
class Bar:
    lane: str
    kind: str  # service | step | background | repeat | fault | wait
    status: str  # ok | failed | stopped | ... (a CSS class)
    start: float
    end: float
    title: str  # shown on hover and kept as <title>
    ticks: list[float] = field(default_factory=list)
    x: float = 0.0
    width: float = 0.0
    y: float = 0.0
    tick_xs: list[float] = field(default_factory=list)


@dataclass
class Axis:
    x: float
    label: str


@dataclass
class Drawing:
    bars: list[Bar]
    axis: list[Axis]
    height: float
    oracle_x: float | None
    oracle_label: str
    zero_x: float
    width: int = WIDTH
    label_width: int = LABEL
    lane: int = LANE


def _epoch(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text).timestamp()


def _lanes(data: dict[str, Any]) -> list[Bar]:
    steps = {s["name"]: s for s in data.get("steps", [])}
    faults = {f["name"]: f for f in data.get("faults", [])}
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in data.get("events", []):
        if event.get("kind") != "oracle" and event.get("offset_s") is not None:
            groups.setdefault(str(event.get("entry", "")), []).append(event)
    bars: list[Bar] = []
    start = _epoch(data.get("timeline_start"))
    for entry, events in groups.items():
        offsets = [e["offset_s"] for e in events]
        first, last = min(offsets), max(offsets)
        kinds = {e["kind"] for e in events}
        if kinds == {"ready"}:
            bars += _services(data, last)
            continue
        step = steps.get(entry)
        if entry in faults:
            fault = faults[entry]
            undone = _epoch(fault.get("undone_at"))
            if undone is not None and start is not None:
                last = max(last, undone - start)
            bars.append(Bar(entry, "fault", str(fault.get("status", "done")), first, last,
                            f"fault {entry}: {fault.get('description', '')}"
                            + (f", undone ({fault['undo']})" if fault.get("undo") and
                               undone is not None else "")))
        elif kinds & {"waited", "wait_timed_out"}:
            held = any(e["kind"] == "waited" for e in events)
            bars.append(Bar(entry, "wait", "ok" if held else "failed", first, last,
                            f"wait {entry}: " + ("held" if held else "timed out")))
        elif step is not None:
            kind = "repeat" if step.get("instances") is not None else \
                "background" if step.get("background") else "step"
            ticks = [e["offset_s"] for e in events if e["kind"] == "output"][:MAX_TICKS]
            took = f"{last - first:.2f}s"
            bars.append(Bar(entry, kind, str(step.get("status", "?")), first, last,
                            f"{kind} {entry}: {step.get('status')}, "
                            f"exit {step.get('exit_code')}, {took}", ticks))
        else:
            bars.append(Bar(entry, "step", "ok", first, last, f"{entry}: "
                            + ", ".join(sorted(kinds))))
    return bars


def _services(data: dict[str, Any], ready: float) -> list[Bar]:
    """Services came up one after the other, the last ready at the `ready` event."""
    services = data.get("services") or {}
    bars = []
    end = ready
    for name, facts in reversed(list(services.items())):
        took = float((facts or {}).get("ready_s") or 0.0)
        bars.append(Bar(name, "service", "ok", end - took, end,
                        f"service {name}: ready after {took:.2f}s"))
        end -= took
    return bars[::-1]


def _ticks(low: float, high: float) -> list[float]:
    span = max(high - low, 1e-3)
    step = next(s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120,
                            300, 600, 1800, 3600, 1e9) if span / s <= 10)
    first = int(low / step) * step
    out = []
    value = first
    while value <= high + 1e-9:
        if value >= low - 1e-9:
            out.append(round(value, 6))
        value += step
    return out


def drawing(data: dict[str, Any]) -> Drawing | None:
    """The timeline of a record (record.json's dict), or None when it has no events."""
    bars = _lanes(data)
    when = data.get("when") or {}
    moment = when.get("offset_s")
    if not bars:
        return None
    low = min([0.0, *(b.start for b in bars)])
    high = max([*(b.end for b in bars), *([moment] if moment is not None else [])])
    high = max(high, low + 0.01)
    scale = (WIDTH - LABEL - 20) / (high - low)

    def x(value: float) -> float:
        return round(LABEL + (value - low) * scale, 2)

    for lane, bar in enumerate(bars):
        bar.x, bar.y = x(bar.start), TOP + lane * LANE
        bar.width = max(round((bar.end - bar.start) * scale, 2), 2.0)
        bar.tick_xs = [x(t) for t in bar.ticks]
    axis = [Axis(x(t), f"{t:+g}s") for t in _ticks(low, high)]
    label = ""
    if moment is not None:
        label = f"oracle held at {moment:+.2f}s" + (f" ({when['step']})"
                                                      if when.get("step") else "")
    return Drawing(bars, axis, TOP + len(bars) * LANE + 20,  # room for the oracle label
                   None if moment is None else x(moment), label, x(0.0))

"""A run's timeline for people: one line per entry (a repeat of 50 is one line, not 100),
and the moment the oracle first held."""

from __future__ import annotations

from typing import Any

SHOWN_LINES = 3  # a background step's first output lines shown on its line


def _at(offset: float | None) -> str:
    return "    ?   " if offset is None else f"{offset:+8.2f}s"


def timeline_lines(data: dict[str, Any]) -> list[str]:
    """From record.json's `events` and `steps`: the entries in the order they began."""
    steps = {s["name"]: s for s in data.get("steps", [])}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in data.get("events", []):
        if event["kind"] == "oracle":
            continue
        family = "wait" if event["kind"] in ("waited", "wait_timed_out") else "entry"
        groups.setdefault((family, event["entry"]), []).append(event)
    width = max([len(entry) for _, entry in groups] + [4])
    width = min(width, 32)
    out = []
    for (_, entry), events in groups.items():  # dicts keep the order of first events
        first = events[0]
        text = _describe(entry, events, steps.get(entry))
        name = entry if len(entry) <= width else entry[:width - 3] + "..."
        out.append(f"  {_at(first.get('offset_s'))}  {name:<{width}}  {text}")
    return out


def _describe(entry: str, events: list[dict[str, Any]], step: dict[str, Any] | None) -> str:
    kinds = [e["kind"] for e in events]
    last = events[-1]
    if "waited" in kinds or "wait_timed_out" in kinds:
        held = last["kind"] == "waited"
        return ("held: " if held else "TIMED OUT: ") + str(last.get("detail", ""))[:160]
    if kinds == ["ready"]:
        return f"ready ({last.get('detail', '')})"
    if step is not None and step.get("instances") is not None:
        return _repeat(events, step)
    if step is not None and step.get("background"):
        return _background(events, step)
    if step is not None:
        end = next((e for e in reversed(events) if e["kind"] in ("end", "stopped")), None)
        if end is None:
            return str(step.get("status", "?"))
        took = ""
        if end.get("offset_s") is not None and events[0].get("offset_s") is not None:
            took = f" after {end['offset_s'] - events[0]['offset_s']:.2f}s"
        return f"{end.get('detail', '')}{took}"
    # An entry kind this report does not know in detail (a fault): its events in words.
    return "; ".join(f"{e['kind']} {e.get('detail', '')}".strip() for e in events)[:200]


def _repeat(events: list[dict[str, Any]], step: dict[str, Any]) -> str:
    repeat = step.get("repeat") or {}
    counts = ", ".join(f"{k} x{n}" for k, n in (step.get("exit_codes") or {}).items())
    ends: list[float] = [e["offset_s"] for e in events if e["kind"] == "end" and
                         e.get("offset_s") is not None]
    until = f" until {max(ends):+.2f}s" if ends else ""
    started = sum(1 for e in events if e["kind"] == "start")
    return (f"x{repeat.get('count', started)}, {repeat.get('concurrency', '?')} at once, "
            f"{started} started{until}: {counts or step.get('status', '?')}")


def _background(events: list[dict[str, Any]], step: dict[str, Any]) -> str:
    lines = [e for e in events if e["kind"] == "output"]
    end = next((e for e in reversed(events) if e["kind"] in ("end", "stopped")), None)
    shown = " | ".join(str(e.get("detail", "")) for e in lines[:SHOWN_LINES])
    more = f" (+{len(lines) - SHOWN_LINES} more)" if len(lines) > SHOWN_LINES else ""
    ending = "still running" if end is None else \
        f"{end.get('detail', '')} at {_at(end.get('offset_s')).strip()}"
    said = f"; output: {shown}{more}" if lines else "; no output"
    return f"background, {ending}{said}"[:240]


def when_line(data: dict[str, Any]) -> str | None:
    """`the oracle first held at +1.98s: step 'b' instance 3: stdout: ...`."""
    when = data.get("when")
    if not when:
        return None
    where = f"step {when['step']!r}" if when.get("step") else "the captured files"
    if when.get("instance") is not None:
        where += f" instance {when['instance']}"
    clock = f" (sandbox clock {when['sandbox_time']})" if when.get("sandbox_time") else ""
    line = f": {when['line']}" if when.get("line") else f": {when.get('condition', '')}"
    offset = when.get("offset_s")
    at = "" if offset is None else f" at {offset:+.2f}s"
    return f"the oracle first held{at}{clock}, {where}{line}"[:300]

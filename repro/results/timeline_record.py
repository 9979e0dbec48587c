"""The timeline's parts of a run record: events, the oracle's moment, repeated steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from repro.results.observations import StepObservation, exit_counts
from repro.results.timeline import Moment, Timeline, iso


def timeline_dict(timeline: Timeline, when: Moment | None,
                  mask: Callable[[str], str]) -> dict[str, Any]:
    """`timeline_start`, `events` and `when` of record.json (secrets masked in lines)."""
    events = timeline.to_list()
    for event in events:
        if "detail" in event:
            event["detail"] = mask(event["detail"])
    moment = None if when is None else when.to_dict(timeline)
    if moment is not None and moment["line"] is not None:
        moment["line"] = mask(moment["line"])
    return {"timeline_start": None if timeline.start is None else iso(timeline.start),
            "events": events, "when": moment}


def step_timing(step: StepObservation,
                instance_dict: Callable[[StepObservation], dict[str, Any]]) -> dict[str, Any]:
    """A step's timeline keys: its instance, its repeat with every instance and their
    exit-code counts, background. Nothing for a plain step (records stay as they were)."""
    out: dict[str, Any] = {}
    if step.instance is not None:
        out["instance"] = step.instance
    if step.background:
        out["background"] = True
    if step.repeat is not None:
        out["repeat"] = step.repeat.shown()
    if step.instances is not None:
        out["exit_codes"] = exit_counts(step.instances)
        out["instances"] = [_small(instance_dict(inst)) for inst in step.instances]
    return out


INSTANCE_INLINE = 4096  # an instance's output inline in record.json up to this size


def _small(instance: dict[str, Any]) -> dict[str, Any]:
    for stream in ("stdout", "stderr"):
        if instance.get(f"{stream}_bytes", 0) > INSTANCE_INLINE:
            instance[stream] = None  # in its file: 50 users' logs do not bloat the record
    return instance

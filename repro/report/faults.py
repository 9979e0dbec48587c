"""A run's faults as summary lines, each placed before the command step it preceded."""

from __future__ import annotations

from typing import Any, Protocol

from repro.plan.values import EntryPlan
from repro.results.faults import FaultObservation, FaultStatus
from repro.results.record import RunRecord


class _Styled(Protocol):
    def bad(self, text: str) -> str: ...
    def dim(self, text: str) -> str: ...


def fault_line(fault: FaultObservation, width: int, s: _Styled) -> str:
    tag = {FaultStatus.DONE: "fault  ", FaultStatus.FAILED: s.bad("FAILED "),
           FaultStatus.SKIPPED: s.dim("skipped"), FaultStatus.INTERRUPTED: s.bad("STOPPED")}
    took = "" if fault.duration is None else f"{fault.duration:.2f}s"
    line = f"  {tag[fault.status]} {fault.name:<{width}}  {fault.description}  {took}"
    if fault.error:
        line += "\n" + s.dim("      error| ") + fault.error[:300]
    if fault.undone_at is not None and fault.started_at is not None:
        after = fault.undone_at - fault.started_at
        when = (f"by fault {fault.undone_by!r}" if fault.undone_by else
                "when the steps ended" if fault.undone_early else "when its time ran out")
        line += "\n" + s.dim(f"      {fault.undo} after {after:.2f}s ({when})")
    if fault.undo_error:
        line += "\n" + s.dim("      error| ") + f"{fault.undo} failed: {fault.undo_error[:300]}"
    return line


def lines_before_steps(record: RunRecord, width: int, s: _Styled) -> dict[str | None, list[str]]:
    """Summary lines of the faults, keyed by the command step each came before in the
    timeline as written (None: after the last one)."""
    done: dict[str, FaultObservation] = {f.name: f for f in record.faults}
    out: dict[str | None, list[str]] = {}
    waiting: list[str] = []
    for kind, name in _in_order(record.plan.timeline):
        if kind == "run":
            if waiting:
                out[name], waiting = waiting, []
        elif kind == "fault" and name in done:
            waiting.append(fault_line(done[name], width, s))
    if waiting:
        out[None] = waiting
    return out


def _in_order(entries: tuple[EntryPlan, ...]) -> list[tuple[str, str]]:
    """(kind, name) of every entry, those of parallel groups in place."""
    out: list[tuple[str, str]] = []
    for entry in entries:
        if entry.kind == "parallel":
            out += _in_order(entry.group)
        else:
            out.append((entry.kind, entry.step.name if entry.step else entry.label))
    return out


def width_of(record: RunRecord, steps: list[dict[str, Any]]) -> int:
    return max([len(step["name"]) for step in steps] + [len(f.name) for f in record.faults]
               + [4])

"""What a fault did: a named event of the run, with its times and the engine's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class FaultStatus(StrEnum):
    DONE = "done"  # the engine did it
    FAILED = "failed"  # the engine refused: the run stops with its reason (no verdict)
    SKIPPED = "skipped"  # an earlier step failed with stop_on_failure
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM while it was being done


@dataclass
class FaultObservation:
    name: str
    kind: str
    service: str
    description: str  # `kill db (SIGKILL)`
    status: FaultStatus = FaultStatus.DONE
    started_at: float | None = None  # epoch seconds: asked the engine
    ended_at: float | None = None  # the engine answered (after start/restart: ready again)
    error: str | None = None  # the engine's refusal
    undo: str | None = None  # a timed fault: what undoes it (unpause, reconnect, ...)
    undone_at: float | None = None  # when it was undone: its duration ran out, or
    undone_early: bool = False  # the steps ended first
    undo_error: str | None = None
    undone_by: str | None = None  # a later fault undid it first (`reconnect` ...)

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def to_dict(self, mask: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "fault": self.kind, "service": self.service,
            "description": self.description, "status": str(self.status),
            "started_at": _iso(self.started_at), "ended_at": _iso(self.ended_at),
            "started_epoch": self.started_at, "ended_epoch": self.ended_at,
            "error": None if self.error is None else mask(self.error)}
        if self.undo is not None:
            out.update(undo=self.undo, undone_at=_iso(self.undone_at),
                       undone_epoch=self.undone_at, undone_early=self.undone_early,
                       undone_by=self.undone_by,
                       undo_error=None if self.undo_error is None else mask(self.undo_error))
        return out


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(
        timespec="milliseconds")

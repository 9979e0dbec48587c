"""What a run observed: per-step results and captured files, as plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from repro.config.timeline import Repeat
from repro.results.outcome import StepStatus

INLINE_LIMIT = 1024 * 1024  # larger outputs stay in their artifact file only


@dataclass
class StepObservation:
    name: str
    command: str
    status: StepStatus
    exit_code: int | None
    started_at: float | None
    ended_at: float | None
    stdout_path: Path | None
    stderr_path: Path | None
    # -- the timeline (execute.timeline) --
    instance: int | None = None  # the index of one instance of a repeated step
    instances: list[StepObservation] | None = None  # a repeated step: each instance
    repeat: Repeat | None = None
    background: bool = False
    line_times: dict[str, Sequence[float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.status = StepStatus(self.status)  # a plain "ok" read back becomes the enum

    def line_time(self, stream: str, line: int) -> float | None:
        """When line `line` (0-based) of a stream began to arrive, if known."""
        times = self.line_times.get(stream)
        return times[line] if times is not None and line < len(times) else None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    @property
    def failed(self) -> bool:
        return self.status.failed

    def text(self, stream: str) -> str:
        path = self.stdout_path if stream == "stdout" else self.stderr_path
        if path is None or not path.exists():
            return ""
        return path.read_bytes().decode("utf-8", "replace")


@dataclass
class CaptureObservation:
    name: str
    path: str
    kind: str | None  # file | dir | None when absent
    artifact: Path | None
    query: bool = False  # rows of a database query (queries.NAME), not a file
    error: str | None = None  # the query failed: what the database said

    @property
    def exists(self) -> bool:
        return self.kind is not None

    def text(self) -> str:
        if self.kind != "file" or self.artifact is None:
            return ""
        return self.artifact.read_bytes().decode("utf-8", "replace")


def aggregate_status(instances: list[StepObservation]) -> StepStatus:
    """A repeated step's status: the worst of its instances' (timed out, failed,
    interrupted), ok when every one is."""
    statuses = {i.status for i in instances}
    for worst in (StepStatus.INTERRUPTED, StepStatus.TIMED_OUT, StepStatus.FAILED):
        if worst in statuses:
            return worst
    return StepStatus.OK if statuses <= {StepStatus.OK} and statuses else StepStatus.SKIPPED


class _Ended(Protocol):  # a step observation, as run or as read back from a record
    @property
    def status(self) -> StepStatus: ...

    @property
    def exit_code(self) -> int | None: ...


def exit_counts(instances: Iterable[_Ended]) -> dict[str, int]:
    """How many instances ended how: `exit 0`, `exit 3`, `timed_out` ... in a stable order."""
    counts: dict[str, int] = {}
    for inst in instances:
        key = f"exit {inst.exit_code}" if inst.status in (StepStatus.OK, StepStatus.FAILED) \
            else str(inst.status)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: _count_order(kv[0])))


def _count_order(key: str) -> tuple[int, int, str]:
    if key.startswith("exit ") and key[5:].lstrip("-").isdigit():
        return 0, int(key[5:]), ""
    return 1, 0, key

"""What a run observed: per-step results and captured files, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    def __post_init__(self) -> None:
        self.status = StepStatus(self.status)  # a plain "ok" read back becomes the enum

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

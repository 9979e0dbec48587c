"""Outcomes as values: what a step, a run, the oracle and a comparison came to.

StrEnums, so a record written as JSON reads the same as before they existed and a
comparison with the stored text still holds.
"""

from __future__ import annotations

from enum import StrEnum


class StepStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"  # exited non-zero
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # an earlier step failed with stop_on_failure
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM while it ran
    OOM_KILLED = "oom_killed"  # the kernel killed it for lack of memory (not a plain 137)
    STOPPED = "stopped"  # a background step, stopped by repro when the steps ended

    @property
    def failed(self) -> bool:
        return self in (StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.OOM_KILLED)


class RunStatus(StrEnum):
    RUNNING = "running"  # what a record killed mid-run keeps saying
    COMPLETE = "complete"
    NOT_REPLAYED = "not replayed"  # `repro shell --no-steps`
    ERROR = "error"  # the sandbox itself failed: no verdict
    INTERRUPTED = "interrupted"
    KILLED = "killed"  # its repro process died without finishing the record (kill -9)


class Verdict(StrEnum):
    """What the oracle said about the customer's error."""

    REPRODUCED = "REPRODUCED"
    NOT_REPRODUCED = "NOT REPRODUCED"
    ERROR = "ERROR"  # no verdict: the run did not complete

    @classmethod
    def of(cls, reproduced: bool | None) -> Verdict:
        if reproduced is None:
            return cls.ERROR
        return cls.REPRODUCED if reproduced else cls.NOT_REPRODUCED


class ChannelVerdict(StrEnum):
    MATCH = "match"
    DIVERGED = "diverged"


class BaselineVerdict(StrEnum):
    """A run against its scenario's baseline."""

    MATCH = "match"
    DIVERGED = "diverged"
    NONE = "none"  # the scenario has no baseline yet
    NOT_COMPARED = "not compared"  # the run did not complete

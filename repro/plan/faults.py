"""A `fault:` entry of the steps, checked against the environment's services and resolved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repro.config.faults import UNDO, Fault
from repro.config.model import Environment, Ready
from repro.config.schema import did_you_mean
from repro.config.yaml_source import Loc, Source
from repro.errors import Problem


@dataclass(frozen=True)
class FaultPlan:
    """What to do to which service; the executor needs nothing else."""

    kind: str  # stop | start | kill | restart | pause | unpause | disconnect | reconnect | network
    service: str
    signal: str = "SIGKILL"  # kill
    latency: float = 0.0  # network, seconds
    jitter: float = 0.0
    loss: float = 0.0  # percent
    rate: str | None = None
    clear: bool = False  # network: remove the conditions
    duration: float | None = None  # undo after this many seconds
    ready: Ready | None = None  # the service's readiness, awaited after start and restart

    @property
    def undo(self) -> str | None:
        """The kind that reverses this one when `duration` runs out."""
        return UNDO.get(self.kind) if self.duration is not None else None

    def describe(self) -> str:
        """`kill db (SIGKILL)`, `network db: latency 200ms ±20ms, loss 10% for 30s`."""
        text = f"{self.kind} {self.service}"
        if self.kind == "kill":
            text += f" ({self.signal})"
        if self.kind == "network":
            text += ": " + (", ".join(self.conditions()) or "clear")
        if self.duration is not None:
            text += f" for {_seconds(self.duration)}"
        return text

    def conditions(self) -> list[str]:
        shown = []
        if self.latency:
            shown.append(f"latency {_seconds(self.latency)}" +
                         (f" ±{_seconds(self.jitter)}" if self.jitter else ""))
        if self.loss:
            shown.append(f"loss {self.loss:g}%")
        if self.rate:
            shown.append(f"rate {self.rate}")
        return shown

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "service": self.service}
        if self.kind == "kill":
            out["signal"] = self.signal
        if self.kind == "network":
            out.update(latency_s=self.latency, jitter_s=self.jitter, loss_percent=self.loss,
                       rate=self.rate, clear=self.clear)
        if self.duration is not None:
            out.update(duration_s=self.duration, undo=self.undo)
        return out


def _seconds(value: float) -> str:
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


def plan_fault(fault: Fault, loc: Loc, source: Source, env: Environment,
               problems: list[Problem | str]) -> FaultPlan:
    """The fault resolved; its service must exist (a problem at its file:line if not)."""
    kind, service = fault.kind, fault.service
    if not env.services:
        problems.append(source.problem((*loc, kind), "the environment has no services: "
                                       "faults act on services (declare them under "
                                       "`services:` in the environment)"))
    elif service not in env.services:
        problems.append(source.problem((*loc, kind), f"no service {service!r} in the "
                                       "environment" + did_you_mean(service, env.services)
                                       + f" (services: {', '.join(env.services)})"))
    svc = env.services.get(service)
    return FaultPlan(kind, service, signal=fault.signal or "SIGKILL",
                     latency=fault.latency or 0.0, jitter=fault.jitter or 0.0,
                     loss=fault.loss or 0.0, rate=fault.rate, clear=bool(fault.clear),
                     duration=fault.duration, ready=svc.ready if svc else None)


def timeline_faults(entries: tuple[Any, ...]) -> list[tuple[str, FaultPlan]]:
    """(name, fault) of a timeline's fault entries (plan.values.EntryPlan), those inside
    parallel groups too, in order."""
    out: list[tuple[str, FaultPlan]] = []
    for entry in entries:
        if entry.kind == "fault":
            out.append((entry.label, entry.detail))
        out += timeline_faults(entry.group)
    return out

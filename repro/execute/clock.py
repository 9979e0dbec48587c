"""The run's clock in the execute stage: asked of the backend, checked in every container
before the first step, started right before it, written into the record."""

from __future__ import annotations

from collections.abc import Callable

from repro.errors import SandboxError
from repro.plan.clock import clock_dict, iso, sandbox_time
from repro.plan.values import Plan
from repro.results.record import RunRecord
from repro.sandbox import api
from repro.sandbox.api import Backend, Sandbox


def spec(plan: Plan) -> api.Clock | None:
    clock = plan.clock
    return None if clock is None else api.Clock(clock.at, clock.rate, clock.frozen)


def prepare(plan: Plan, backend: Backend, record: RunRecord, say: Callable[[str], None]
            ) -> None:
    """What the backend needs for a clock, before the sandbox exists."""
    if plan.clock is None:
        return
    record.clock = {**clock_dict(plan.clock, plan.redactor), "reach": {}}
    backend.prepare_clock(say)


def check(plan: Plan, sandbox: Sandbox, record: RunRecord, say: Callable[[str], None]
          ) -> None:
    """Every container must see the clock: a run whose clock took in some containers only
    would give a verdict about a world that never existed (a `fixed` twin could pass
    because the clock missed). One that cannot be checked (no `date`) is said and run."""
    if plan.clock is None or record.clock is None:
        return
    containers = {"sandbox": sandbox.main, **sandbox.services}
    for name, container in containers.items():
        reach = container.clock_reach()
        if reach is None:
            continue
        record.clock["reach"][name] = {"reached": reach.reached, "detail": reach.detail}
        what = "the steps' container" if name == "sandbox" else f"service {name}"
        if reach.reached is False:
            raise SandboxError(f"clock: not applied in {what}: {reach.detail}; no verdict "
                               "(use an image whose programs use the GNU C library, or "
                               "remove `clock:`)")
        if reach.reached is None:
            say(f"warning: clock: {what}: {reach.detail}")


def start(plan: Plan, sandbox: Sandbox, record: RunRecord) -> float | None:
    """Right before the first step: the clock reads `at` from now on."""
    if plan.clock is None or record.clock is None:
        return None
    started = sandbox.start_clock()
    record.clock["started_at"] = iso(started)
    return started


def on_events(plan: Plan, record: RunRecord, started: float | None) -> None:
    """Every event of the timeline, and the oracle's moment, carry the sandbox clock's
    reading then."""
    clock_plan = plan.clock
    if clock_plan is None or started is None:
        return
    record.timeline.sandbox_clock = lambda real: iso(sandbox_time(clock_plan, started, real))


def finish(plan: Plan, record: RunRecord, started: float | None) -> None:
    """What the clock read when the first step began."""
    if plan.clock is None or record.clock is None or started is None:
        return
    first = next((s.started_at for s in record.steps if s.started_at is not None), None)
    if first is not None:
        record.clock["at_first_step"] = iso(sandbox_time(plan.clock, started, first))

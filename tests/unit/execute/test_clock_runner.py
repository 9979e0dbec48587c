"""The clock through the port: asked for, checked in every container before the first
step, started right before it, recorded (fake backend)."""

from __future__ import annotations

from pathlib import Path

from repro.errors import SandboxError
from repro.execute import runner
from repro.plan.build import plan_scenario
from repro.report.clock import clock_line
from repro.sandbox.api import ClockReach

from ..fake_backend import FakeBackend, FakeContainer

ENV = """\
image: debian:12
services:
  db: {image: postgres:16}
"""
SCENARIO = """\
environment: e
clock: {at: "2024-01-31T00:29:30Z", rate: 60}
steps: [{name: s, run: "date"}]
oracle: {any: [{step: s, failed: true}]}
"""


def plan_of(project):
    project.environment("e", ENV)
    project.scenario("T-1", SCENARIO)
    return plan_scenario(Path("T-1"))


def test_the_clock_is_asked_checked_started_and_recorded(project):
    backend = FakeBackend()
    said: list[str] = []
    record, error = runner.run(plan_of(project), said.append, backend=backend)
    assert error is None
    (spec,) = backend.specs
    assert (spec.clock.at, spec.clock.rate, spec.clock.frozen) == (1706660970.0, 60.0, False)
    assert backend.clocks_prepared == 1
    sandbox = backend.sandboxes[0]
    assert sandbox.clock_started is not None and sandbox.clock_started <= \
        record.steps[0].started_at
    clock = record.to_dict()["clock"]
    assert set(clock["reach"]) == {"sandbox", "db"}
    assert clock["at_first_step"].startswith("2024-01-31T00:29:3")
    assert clock_line(clock).startswith("clock 2024-01-31T00:29:3")
    assert "running x60" in clock_line(clock) and "reached: sandbox, db" in clock_line(clock)


def test_a_container_the_clock_missed_stops_the_run_before_any_step(project):
    db = FakeContainer("db")
    db.reach = ClockReach(False, "`date` reads the real time")
    backend = FakeBackend({"db": db})
    record, error = runner.run(plan_of(project), lambda _: None, backend=backend)
    assert isinstance(error, SandboxError)
    assert str(error).startswith("clock: not applied in service db: `date` reads the real")
    assert record.steps == [] and backend.sandboxes[0].main.execs == []
    assert record.to_dict()["clock"]["reach"]["db"]["reached"] is False


def test_a_container_that_cannot_be_checked_is_said_and_run(project):
    main = FakeContainer("main")
    main.reach = ClockReach(None, "could not check: `date` printed 'not found'")
    said: list[str] = []
    record, error = runner.run(plan_of(project), said.append,
                               backend=FakeBackend({"sandbox": main}))
    assert error is None and len(record.steps) == 1
    assert said == ["warning: clock: the steps' container: could not check: `date` printed "
                    "'not found'"]


def test_no_clock_no_clock_calls(project):
    project.environment("e", ENV)
    project.scenario("T-2", SCENARIO.replace('clock: {at: "2024-01-31T00:29:30Z", rate: 60}\n',
                                             ""))
    backend = FakeBackend()
    record, error = runner.run(plan_scenario(Path("T-2")), lambda _: None, backend=backend)
    assert error is None and backend.specs[0].clock is None and backend.clocks_prepared == 0
    assert "clock" not in record.to_dict()

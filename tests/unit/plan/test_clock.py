"""The clock of a plan: written or found in the customer's log, bad input in one line, and
the arithmetic from real time to the sandbox clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.clock import sandbox_time
from repro.plan.values import ClockPlan

ENV = "image: busybox:1.36\nparameters: {when: '2024-02-29T12:00:00+01:00'}\n"
STEPS = """\
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
"""
LOG = """\
2024-01-31 00:29:58,001 INFO  [renewals] nightly run started
2024-01-31 00:30:00,087 ERROR [renewals] PaymentScheduler: renewal failed
java.lang.IllegalStateException: date field value out of range
\tat billing.Renewals.next(Renewals.java:42)
2024-01-31 00:30:01,000 INFO  [renewals] done
"""


def clock_plan(project, clock: str, log: str | None = LOG, env: str = ENV) -> ClockPlan:
    project.environment("e", env)
    if log is not None:
        project.write("scenarios/T-1/customer/app.log", log)
    project.scenario("T-1", f"environment: e\nclock: {clock}\n{STEPS}")
    plan = plan_scenario(Path("T-1"))
    assert plan.clock is not None
    return plan.clock


def refused(project, clock: str, log: str | None = LOG) -> str:
    with pytest.raises(ConfigError) as excinfo:
        clock_plan(project, clock, log)
    (line,) = excinfo.value.lines()
    return line


def test_an_instant_written_with_its_offset_and_from_a_parameter(project):
    clock = clock_plan(project, '{at: "{{ when }}", rate: 60}')
    assert (clock.at, clock.rate, clock.frozen) == (1709204400.0, 60.0, False)
    assert clock.origin["written"] == "scenarios/T-1/scenario.yaml:2"


def test_an_unquoted_yaml_timestamp_is_read_as_written(project):
    assert clock_plan(project, "{at: 2024-03-31T00:29:50Z, frozen: true}").at == 1711844990.0


def test_from_log_starts_before_the_first_matching_line(project):
    clock = clock_plan(project, '{from_log: customer/app.log, match: "ERROR .*Payment", '
                                'before: 30s, zone: UTC}')
    assert clock.at == 1706660970.087  # 2024-01-31T00:29:30.087Z
    assert clock.origin["line"] == "scenarios/T-1/customer/app.log:2"
    assert clock.origin["timestamp"] == "2024-01-31 00:30:00,087"


def test_a_matching_line_without_a_timestamp_goes_by_the_entry_above(project):
    clock = clock_plan(project, '{from_log: customer/app.log, match: "out of range", '
                                'zone: "+01:00"}')
    assert clock.at == 1706657400.087  # 00:30:00.087 at +01:00
    assert (clock.origin["line"], clock.origin["timestamp_line"]) == (
        "scenarios/T-1/customer/app.log:3", 2)


def test_without_match_the_first_timestamped_line(project):
    assert clock_plan(project, "{from_log: customer/app.log, zone: UTC}").at == 1706660998.001


def test_an_environment_clock_is_the_default_a_scenario_replaces(project):
    env = ENV + "clock: {at: '2020-01-01T00:00:00Z'}\n"
    project.environment("e", env)
    project.scenario("T-2", f"environment: e\n{STEPS}")
    plan = plan_scenario(Path("T-2"))
    assert plan.clock is not None and plan.clock.at == 1577836800.0
    assert clock_plan(project, "{at: '2024-03-31T00:29:50Z'}", env=env).at == 1711844990.0


@pytest.mark.parametrize(("clock", "log", "message"), [
    ('{at: "31/03/2024"}', None, "clock.at: '31/03/2024' is not an ISO 8601 instant"),
    ('{at: "2024-03-31 00:29:50"}', None, "clock.at: '2024-03-31 00:29:50' has no zone: add Z"),
    ("{at: 2024-03-31T00:29:50Z, rate: -2}", None, "clock.rate: must be greater than zero"),
    ("{at: 2024-03-31T00:29:50Z, rate: 0}", None, "clock.rate: must be greater than zero"),
    ("{at: 2024-03-31T00:29:50Z, rate: 2, frozen: true}", None,
     "clock.rate: a frozen clock has no rate"),
    ("{at: 2024-03-31T00:29:50Z, from_log: x.log}", None,
     "clock.from_log: the clock takes only one of 'at' or 'from_log'"),
    ("{from_log: customer/app.log, match: Refund, zone: UTC}", LOG,
     "clock.match: no line of scenarios/T-1/customer/app.log matches /Refund/"),
    ("{from_log: customer/missing.log}", None,
     "clock.from_log: scenarios/T-1/customer/missing.log not found"),
    ("{from_log: customer/app.log}", "just words\nand more\n",
     "clock.from_log: no line of scenarios/T-1/customer/app.log carries a timestamp"),
    ("{from_log: customer/app.log, match: ERROR}", LOG,
     "clock.from_log: scenarios/T-1/customer/app.log:2: '2024-01-31 00:30:00,087' has no "
     "zone: say which zone"),
    ("{from_log: customer/app.log, zone: UTC}", "Mar 31 00:29:50 host x\n",
     "has no year: give the year of the log's first line with clock.year"),
    ("{at: 2024-03-31T00:29:50Z, zone: Nowhere/City}", None, "clock.zone: unknown zone"),
])
def test_bad_clocks_are_one_line_with_file_and_line(project, clock, log, message):
    line = refused(project, clock, log)
    assert line.startswith("scenarios/T-1/scenario.yaml:2: "), line
    assert message in line, line


def test_the_sandbox_clock_from_real_time():
    clock = ClockPlan(at=1000.0, rate=60.0)
    assert sandbox_time(clock, started=500.0, real=400.0) == 1000.0  # before the steps
    assert sandbox_time(clock, started=500.0, real=500.5) == 1030.0
    assert sandbox_time(ClockPlan(at=1000.0), started=500.0, real=502.25) == 1002.25
    assert sandbox_time(ClockPlan(at=1000.0, frozen=True), started=500.0, real=900) == 1000.0
    assert sandbox_time(clock, started=None, real=900.0) == 1000.0  # never started

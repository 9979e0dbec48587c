"""The timeline scheduler on the in-memory fake backend: order, offsets, background steps,
waits, simultaneous users, and what the record and the channels get."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from repro.compare.channels import from_record
from repro.compare.normalise import Rulebook
from repro.errors import SandboxError
from repro.execute import runner
from repro.plan.build import plan_scenario

from ..fake_backend import Answer, FakeBackend, FakeContainer

ENV = """\
image: busybox
services:
  api: {image: busybox}
"""


def plan_of(project, steps: str, oracle: str = "{any: [{step: first, failed: true}]}"):
    project.environment("tl", ENV)
    project.scenario("T", f"environment: tl\nsteps:\n{steps}\noracle: {oracle}\n")
    return plan_scenario(Path("T"))


def run(plan, main: FakeContainer, api: FakeContainer | None = None):
    containers = {"sandbox": main} | ({"api": api} if api else {})
    record, error = runner.run(plan, lambda _: None, backend=FakeBackend(containers))
    return record, error


def events(record, kind: str) -> list:
    return [e for e in record.timeline.resolved() if e.kind == kind]


def test_entries_without_at_follow_each_other_and_at_entries_start_at_their_offset(project):
    plan = plan_of(project, """\
  - {name: first, run: "slow"}
  - {name: second, run: "quick"}
  - {name: third, run: "quick", at: 0.3s}
""")
    main = FakeContainer("m")
    main.answer("slow", Answer(0, "slow\n", seconds=0.5))
    record, error = run(plan, main)
    assert error is None
    starts = {e.entry: e.offset for e in events(record, "start")}
    ends = {e.entry: e.offset for e in events(record, "end")}
    assert starts["second"] >= ends["first"] - 0.01  # after the previous one ended
    assert 0.28 <= starts["third"] < 0.45  # at its offset, while `first` still ran
    assert starts["third"] < ends["first"]
    assert [s.name for s in record.steps] == ["first", "second", "third"]


def test_a_background_step_runs_until_the_foreground_ends_and_is_stopped_not_failed(project):
    plan = plan_of(project, """\
  - {name: server, run: "serve", background: true}
  - wait_for: {log: "^listening", step: server, timeout: 2s, interval: 10ms}
  - {name: first, run: "client"}
""")
    main = FakeContainer("m")
    main.answer("serve", Answer(0, "listening on 8080\n", seconds=30))
    record, error = run(plan, main)
    assert error is None
    server = record.steps[0]
    assert (server.status, server.background) == ("stopped", True)
    assert not server.failed and server.ended_at - server.started_at < 5
    assert [e.detail for e in events(record, "output")] == ["listening on 8080"]
    waited = events(record, "waited")
    assert len(waited) == 1 and waited[0].detail == "listening on 8080"
    stopped = events(record, "stopped")[0]
    assert stopped.entry == "server" and stopped.offset >= events(record, "end")[0].offset
    data = record.to_dict()
    assert data["steps"][0]["background"] is True
    assert [e["kind"] for e in data["events"]][:4] == ["ready", "start", "output", "waited"]
    assert data["events"][0]["offset_s"] <= 0  # the services were ready before the steps


def test_a_wait_that_times_out_ends_the_run_as_a_setup_error_with_what_it_saw(project):
    plan = plan_of(project, """\
  - wait_for: {log: "ready to serve", service: api, timeout: 0.3s, interval: 10ms}
  - {name: first, run: "never"}
""")
    api = FakeContainer("api", log="booting\nloading plugins\n")
    record, error = run(plan, FakeContainer("m"), api)
    assert isinstance(error, SandboxError)
    assert "wait_for log /ready to serve/ of service api: not satisfied after 0.3s" in str(error)
    assert "booting | loading plugins" in str(error)
    assert record.status == "error"
    assert [s.status for s in record.steps] == ["skipped"]
    assert [e.kind for e in events(record, "wait_timed_out")] == ["wait_timed_out"]


def test_command_and_port_waits_poll_until_they_hold(project):
    plan = plan_of(project, """\
  - wait_for: {command: "test -f /tmp/ready", timeout: 2s, interval: 10ms}
  - wait_for: {port: 5432, service: api, timeout: 2s, interval: 10ms}
  - {name: first, run: "true"}
""")
    main = FakeContainer("m")
    main.answer("test -f /tmp/ready", Answer(1), Answer(1), Answer(0))
    main.answer("probe", Answer(1, "", "connection refused"), Answer(0))
    record, error = run(plan, main, FakeContainer("api"))
    assert error is None
    probes = [r for r in main.execs if "probe" in r.argv]
    assert probes[-1].argv[-2:] == ("api", "5432")  # from the steps' container to the service
    assert sum("test -f /tmp/ready" in " ".join(r.argv) for r in main.execs) == 3
    assert [e.detail for e in events(record, "waited")] == ["exit 0", "connected to api:5432"]


def test_repeat_runs_count_instances_at_most_concurrency_at_once_each_with_its_index(project):
    plan = plan_of(project, """\
  - name: first
    run: "book seat-{{ instance }}"
    env: {USER_NAME: "user-{{ instance }}"}
    repeat: {count: 7, concurrency: 3}
""")
    running, peak, lock = [0], [0], threading.Lock()

    def busy(_c: FakeContainer) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    main = FakeContainer("m")
    main.answer("book", Answer(0, "booked\n", effect=busy))
    record, error = run(plan, main)
    assert error is None
    assert peak[0] == 3
    books = sorted((r for r in main.execs if r.argv[-1].startswith("book")),
                   key=lambda r: int(r.env["REPRO_INSTANCE"]))
    assert [r.argv[-1] for r in books] == [f"book seat-{i}" for i in range(1, 8)]
    assert [r.env["USER_NAME"] for r in books] == [f"user-{i}" for i in range(1, 8)]
    assert {r.env["REPRO_INSTANCES"] for r in books} == {"7"}
    step = record.steps[0]
    assert [i.instance for i in step.instances] == list(range(1, 8))
    assert {i.stdout_path.name for i in step.instances} == {
        f"01-first.{i:03d}.stdout" for i in range(1, 8)}
    assert record.to_dict()["steps"][0]["exit_codes"] == {"exit 0": 7}


def test_instances_are_channels_each_and_aggregated_with_distinct_outputs(project):
    plan = plan_of(project, """\
  - {name: first, run: "book", repeat: {count: 4, concurrency: 2}, stop_on_failure: false}
""", "{any: [{step: first, stdout: 'sold out'}]}")
    main = FakeContainer("m")
    main.answer("book", Answer(0, "booked at 10:00:01\n"), Answer(3, "sold out\n"),
                Answer(0, "booked at 10:00:02\n"), Answer(3, "sold out\n"))
    record, error = run(plan, main)
    assert error is None
    channels = from_record(record.stored())
    names = [c.name for c in channels]
    assert names[:3] == ["steps.first.exit_codes", "steps.first.stdout", "steps.first.stderr"]
    assert "steps.first.4.stdout" in names and "steps.first.1.exit_code" in names
    book = Rulebook([])
    by_name = {c.name: book.normalise(c) for c in channels}
    assert by_name["steps.first.exit_codes"].text == "exit 0: 2\nexit 3: 2\n"
    assert by_name["steps.first.stdout"].text == \
        "booked at 10:00:01\nbooked at 10:00:02\nsold out\n"
    from repro.config.model import Rule

    masked = Rulebook([Rule(mask="log-timestamp")])
    assert masked.normalise(next(c for c in channels if c.name == "steps.first.stdout")
                            ).text == "booked at <time>\nsold out\n"


def test_compare_aggregate_leaves_the_instances_out_of_the_channels(project):
    plan = plan_of(project, """\
  - {name: first, run: "book", repeat: {count: 3, compare: aggregate}}
""")
    record, _ = run(plan, FakeContainer("m"))
    names = [c.name for c in from_record(record.stored())]
    assert names == ["steps.first.exit_codes", "steps.first.stdout", "steps.first.stderr"]


def test_a_failing_step_skips_what_has_not_started_but_not_what_runs(project):
    plan = plan_of(project, """\
  - {name: first, run: "fail"}
  - {name: later, run: "true"}
  - {name: timed, run: "true", at: 5s}
""")
    main = FakeContainer("m")
    main.answer("fail", Answer(1))
    started = time.monotonic()
    record, error = run(plan, main)
    assert error is None and time.monotonic() - started < 3  # `timed` is not waited for
    assert [s.status for s in record.steps] == ["failed", "skipped", "skipped"]


def test_parallel_entries_start_together_and_the_next_waits_for_all(project):
    plan = plan_of(project, """\
  - parallel:
      - {name: a, run: "slow-a"}
      - {name: b, run: "slow-b"}
  - {name: first, run: "after"}
""")
    main = FakeContainer("m")
    main.answer("slow-a", Answer(0, seconds=0.3))
    main.answer("slow-b", Answer(0, seconds=0.2))
    record, _ = run(plan, main)
    starts = {e.entry: e.offset for e in events(record, "start")}
    ends = {e.entry: e.offset for e in events(record, "end")}
    assert abs(starts["a"] - starts["b"]) < 0.1
    assert starts["first"] >= max(ends["a"], ends["b"]) - 0.01
    assert [s.name for s in record.steps] == ["a", "b", "first"]


def test_the_moment_the_oracle_first_held_is_the_instance_that_made_the_count(project):
    plan = plan_of(project, """\
  - {name: first, run: "book", repeat: {count: 3, concurrency: 1}}
""", "{any: [{step: first, stdout: booked, instances: '>= 2'}]}")
    main = FakeContainer("m")
    main.answer("book", Answer(0, "booked\n", seconds=0.1))
    record, _ = run(plan, main)
    assert record.reproduced
    second = sorted(record.steps[0].instances, key=lambda i: i.started_at)[1]
    assert record.when is not None and record.when.instance == second.instance
    assert second.started_at <= record.when.time <= second.ended_at
    when = record.to_dict()["when"]
    assert when["step"] == "first" and when["line"] == "booked"
    assert when["offset_s"] == pytest.approx(record.when.time - record.timeline.start, abs=0.01)
    assert events(record, "oracle")[0].instance == second.instance


def test_events_get_the_sandbox_clock_time_when_a_clock_is_set(project):
    plan = plan_of(project, "  - {name: first, run: 'true'}\n")
    record, _ = run(plan, FakeContainer("m"))
    assert all(e["sandbox_time"] is None for e in record.to_dict()["events"])
    record.timeline.sandbox_clock = lambda t: f"T+{round(t - record.timeline.start)}"
    assert {e["sandbox_time"] for e in record.to_dict()["events"]} == {"T+0"}

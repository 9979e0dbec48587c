"""Faults in a run, on the in-memory backend: their order among the steps, what the record
and the summary say, timed faults, refusals, and queries of a service a fault took down."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from repro.errors import ConfigError, SandboxError
from repro.execute import runner
from repro.plan.build import plan_scenario
from repro.report import terminal
from repro.sandbox.api import Status

from ..fake_backend import Answer, FakeBackend, FakeContainer

ENV = """\
image: busybox
services:
  db:
    image: postgres:16
    ready: {command: pg_isready, timeout: 5s, interval: 10ms}
"""


def _plan(project, steps: str, extra: str = ""):
    project.environment("tiny", ENV)
    project.scenario("F", f"environment: tiny\nsteps:\n{steps}{extra}"
                     "oracle: {any: [{step: last, failed: true}]}\n")
    return plan_scenario(Path("F"))


def _backend(**main_answers: Answer) -> tuple[FakeBackend, FakeContainer]:
    main = FakeContainer("main", "sandbox")
    for needle, answer in main_answers.items():
        main.answer(needle, answer)
    db = FakeContainer("db")
    return FakeBackend({"sandbox": main, "db": db}), db


def _run(plan, backend):
    said: list[str] = []
    record, error = runner.run(plan, said.append, backend=backend)
    return record, error, said


def test_faults_happen_in_their_place_among_the_steps_and_are_recorded(project):
    plan = _plan(project, """\
  - {name: first, run: "echo one"}
  - {name: freeze, fault: {pause: db}}
  - {name: during, run: "echo two"}
  - fault: {unpause: db}
  - {name: dies, fault: {kill: db, signal: TERM}}
  - {name: last, run: "echo three"}
""")
    backend, db = _backend()
    record, error, said = _run(plan, backend)
    assert error is None
    assert db.done == ["pause", "unpause", "kill SIGTERM"]
    assert [f.name for f in record.faults] == ["freeze", "step-4", "dies"]
    assert [s.name for s in record.steps] == ["first", "during", "last"]
    # Times: each fault between the steps around it.
    first, during, last = record.steps
    freeze, thaw, dies = record.faults
    assert first.ended_at <= freeze.started_at <= freeze.ended_at <= during.started_at
    assert during.ended_at <= thaw.started_at and dies.ended_at <= last.started_at
    data = json.loads(record.path.read_text())
    assert [(f["name"], f["fault"], f["service"], f["status"], f["error"])
            for f in data["faults"]] == [("freeze", "pause", "db", "done", None),
                                         ("step-4", "unpause", "db", "done", None),
                                         ("dies", "kill", "db", "done", None)]
    assert "fault dies: kill db (SIGTERM)" in " ".join(said)
    out = io.StringIO()
    terminal.summary(record, None, out)
    names = [line.split()[1] for line in out.getvalue().splitlines()
             if line.startswith("  ") and line.split()[0] in ("ok", "fault")]
    assert names == ["first", "freeze", "during", "step-4", "dies", "last"]


def test_a_fault_after_a_failed_step_is_skipped(project):
    plan = _plan(project, """\
  - {name: first, run: "do-fail"}
  - {name: down, fault: {stop: db}}
  - {name: last, run: "echo"}
""")
    backend, db = _backend(**{"do-fail": Answer(1)})
    record, error, _ = _run(plan, backend)
    assert error is None and db.done == []
    assert [(f.name, f.status) for f in record.faults] == [("down", "skipped")]


def test_a_refused_fault_ends_the_run_with_the_engines_reason_and_no_verdict(project):
    plan = _plan(project, """\
  - {name: thaw, fault: {unpause: db}}
  - {name: last, run: "echo"}
""")
    backend, db = _backend()
    db.refuse["unpause"] = "Container db is not paused"
    record, error, _ = _run(plan, backend)
    assert isinstance(error, SandboxError)
    assert str(error) == ("fault 'thaw' (unpause db): unpause of db failed: Container db is "
                          "not paused")
    assert record.status == "error" and record.reproduced is None
    assert [(s.name, s.status) for s in record.steps] == [("last", "skipped")]  # never ran
    (thaw,) = record.faults
    assert thaw.status == "failed" and thaw.error == "unpause of db failed: Container db is " \
        "not paused"
    assert backend.removed == [record.sandbox]


def test_start_and_restart_wait_until_the_service_is_ready_again(project):
    plan = _plan(project, """\
  - {name: down, fault: {stop: db}}
  - {name: up, fault: {start: db}}
  - {name: bounce, fault: {restart: db}}
  - {name: last, run: "echo"}
""")
    backend, db = _backend()
    db.answer("pg_isready", Answer(1), Answer(0))  # not ready at the first probe
    record, error, _ = _run(plan, backend)
    assert error is None
    probes = [r for r in db.execs if r.argv[-1] == "pg_isready"]
    # bring-up: one failing probe then a good one; then one good probe after each of
    # start and restart (the last scripted answer repeats).
    assert len(probes) == 4 and db.done == ["stop", "restart"]  # start is the port's start
    assert db.status is Status.REMOVED


def test_a_timed_fault_is_undone_when_its_time_runs_out(project):
    plan = _plan(project, """\
  - {name: freeze, fault: {pause: db, duration: 100ms}}
  - {name: last, run: "slow"}
""")
    backend, db = _backend(slow=Answer(0, effect=lambda _: time.sleep(0.5)))
    record, error, _ = _run(plan, backend)
    assert error is None and db.done == ["pause", "unpause"]
    (freeze,) = record.faults
    assert freeze.undo == "unpause" and not freeze.undone_early
    assert freeze.undone_at is not None and freeze.started_at is not None
    assert 0.09 <= freeze.undone_at - freeze.started_at < 0.45


def test_a_timed_fault_still_in_force_is_undone_when_the_steps_end(project):
    plan = _plan(project, """\
  - {name: cut, fault: {disconnect: db, duration: 1h}}
  - {name: last, run: "echo"}
""")
    backend, db = _backend()
    started = time.monotonic()
    record, error, _ = _run(plan, backend)
    assert error is None and time.monotonic() - started < 5
    assert db.done == ["disconnect", "reconnect"]
    assert record.faults[0].undone_early is True


def test_an_explicit_undo_ends_the_timed_fault(project):
    plan = _plan(project, """\
  - {name: slow, fault: {network: db, loss: 5%, duration: 1h}}
  - {name: faster, fault: {network: db, latency: 10ms}}
  - {name: last, run: "echo"}
""")
    backend, db = _backend()
    record, error, _ = _run(plan, backend)
    assert error is None
    # The second shape replaced the first: the first's timer must not clear it.
    assert [d.split("(")[0] for d in db.done] == ["network NetworkShape", "network NetworkShape"]
    assert record.faults[0].undone_by == "faster"


def test_a_failed_undo_is_a_setup_error_at_the_end_of_the_steps(project):
    plan = _plan(project, """\
  - {name: freeze, fault: {pause: db, duration: 1h}}
  - {name: last, run: "echo"}
""")
    backend, db = _backend()
    db.refuse["unpause"] = "engine gone"
    record, error, _ = _run(plan, backend)
    assert str(error) == ("fault 'freeze' (pause db for 3600s): undoing it (unpause) failed: "
                          "unpause of db failed: engine gone")
    assert record.status == "error"


def test_network_faults_are_checked_before_the_sandbox_exists(project):
    plan = _plan(project, """\
  - {name: slow, fault: {network: db, latency: 200ms}}
  - {name: last, run: "echo"}
""")
    backend, _ = _backend()
    backend.shaping_refused = "no netem here"
    record, error, _ = _run(plan, backend)
    assert str(error) == "no netem here" and backend.specs == []
    assert backend.shaping_checked == 1


@pytest.mark.parametrize("fault, reason", [
    ("{pause: db}", "service db is paused (fault 'gone': pause db): nothing runs in it "
     "until it is unpaused"),
    ("{kill: db}", "service db is not running (exited, exit 137) (fault 'gone': kill db "
     "(SIGKILL))"),
])
def test_a_query_of_a_service_a_fault_took_down_says_why_at_once(project, fault, reason):
    plan = _plan(project, f"""\
  - {{name: gone, fault: {fault}}}
  - {{name: last, run: "echo"}}
""", extra="queries: [{name: rows, service: db, sql: select 1}]\n")
    backend, db = _backend()
    record, error, _ = _run(plan, backend)
    # Like a query that fails: the scenario asks for what cannot be, so no verdict.
    assert isinstance(error, ConfigError) and record.reproduced is None
    assert str(error) == (f"scenarios/F/scenario.yaml: queries[0]: query 'rows' cannot run: "
                          f"{reason}; bring the service back before the steps end (start, "
                          "unpause) or drop the query")
    assert not any(r.argv[0] == "psql" for r in db.execs)

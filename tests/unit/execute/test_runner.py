"""execute.runner.run end to end on the in-memory fake backend: what the pipeline asks of
the sandbox port, and what it records."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from repro.errors import ConfigError, Interrupted, SandboxError
from repro.execute import runner
from repro.plan.build import plan_scenario
from repro.report import machine, terminal
from repro.sandbox.api import Status

from ..fake_backend import Answer, FakeBackend, FakeContainer

ENV = """\
description: tiny
image: busybox:1.36
user: app
workdir: /srv
env:
  MODE: fast
files:
  - path: /etc/app/app.conf
    content: "mode=fast\\n"
limits: {cpus: 1.5, memory: 256m}
services:
  db:
    image: postgres:16
    env: {POSTGRES_PASSWORD: pw}
    files:
      - {path: /docker-entrypoint-initdb.d/init.sql, content: "SELECT 1;\\n"}
    ready: {command: pg_isready, timeout: 5s, interval: 10ms}
"""

SCENARIO = """\
environment: tiny
steps:
  - {name: first, run: "echo one"}
  - {name: second, run: "do-fail"}
  - {name: third, run: "echo three"}
data:
  - {from: customer/export.csv, to: /srv/import/}
capture:
  - {path: /var/log/app/current.log, name: log}
  - {path: /var/log/app/missing.log, name: missing}
oracle:
  any:
    - {step: second, stderr: "boom"}
"""


@pytest.fixture
def plan(project):
    project.environment("tiny", ENV)
    project.write("scenarios/T-1/customer/export.csv", "id;amount\n1;1.234,50\n")
    project.scenario("T-1", SCENARIO)
    return plan_scenario(Path("T-1"))


def sandbox_container() -> FakeContainer:
    main = FakeContainer("unused", "sandbox")
    main.answer("do-fail", Answer(1, "", "boom\n"))
    main.answer("echo one", Answer(0, "one\n"))
    main.links["/var/log/app/current.log"] = "app-2024.log"
    main.files["/var/log/app/app-2024.log"] = b"ERROR amount\n"
    main.files["/etc/passwd"] = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home:/bin/sh\n"
    return main


def run(plan, backend: FakeBackend, **options):
    """A run that must complete: (record, what it said)."""
    said: list[str] = []
    record, error = runner.run(plan, said.append, backend=backend, **options)
    assert error is None, error
    return record, said


def failed(plan, backend: FakeBackend, kind: type[Exception], **options):
    """A run ended by an error of `kind`: (record, error); the record is written."""
    record, error = runner.run(plan, lambda _: None, backend=backend, **options)
    assert isinstance(error, kind), error
    assert json.loads(record.path.read_text())["status"] == record.status
    return record, error


def test_a_run_asks_the_backend_for_images_and_a_sandbox_built_from_the_plan(plan):
    backend = FakeBackend({"sandbox": sandbox_container()})
    record, _ = run(plan, backend)
    assert [(image.ref, env) for image, env in backend.images] == [
        ("busybox:1.36", "tiny"), ("postgres:16", "tiny-db")]
    (spec,) = backend.specs
    assert (spec.run_id, spec.scenario_id, spec.egress, spec.keep) == (
        record.run_id, "T-1", False, False)
    assert (spec.main.image, spec.main.user, spec.main.workdir, dict(spec.main.env)) == (
        "id-of-busybox:1.36", "app", "/srv", {"MODE": "fast"})
    assert (spec.main.limits.cpus, spec.main.limits.memory) == (1.5, 256 * 1024 * 1024)
    assert [(s.name, s.image, dict(s.env)) for s in spec.services] == [
        ("db", "id-of-postgres:16", {"POSTGRES_PASSWORD": "pw"})]
    assert record.facts == {"engine_version": "fake-1.0"}
    assert record.image["ref"] == "busybox:1.36" and record.services["db"]["image_id"] == \
        "id-of-postgres:16"
    assert backend.removed == [record.sandbox] and not record.kept


def test_steps_run_in_order_and_stop_after_a_failure(plan):
    backend = FakeBackend({"sandbox": sandbox_container()})
    record, _ = run(plan, backend)
    assert record.status == "complete"
    assert [(s.name, s.status, s.exit_code) for s in record.steps] == [
        ("first", "ok", 0), ("second", "failed", 1), ("third", "skipped", None)]
    assert record.steps[0].stdout_path.read_text() == "one\n"
    assert record.steps[1].stderr_path.read_text() == "boom\n"
    assert record.reproduced is True
    requests = [r for r in backend.sandboxes[0].main.execs if r.label.startswith("step")]
    assert [r.label for r in requests] == ["step 'first'", "step 'second'"]
    assert all(r.timeout and r.timeout > 0 for r in requests)


def test_config_and_data_are_copied_in_and_given_to_the_user(plan):
    backend = FakeBackend({"sandbox": sandbox_container()})
    run(plan, backend)
    main = backend.sandboxes[0].main
    assert main.files["/etc/app/app.conf"] == b"mode=fast\n"
    assert main.files["/srv/import/export.csv"] == b"id;amount\n1;1.234,50\n"
    # Handed to the user in the stream itself: no privileged chown runs in the sandbox.
    assert main.owners["/srv/import/export.csv"] == (1000, 1001)
    assert main.owners["/etc/app/app.conf"] == (0, 0)
    assert not any(r.argv[0] == "chown" for r in main.execs)
    assert main.status is Status.REMOVED  # started, then removed on leaving


def test_a_user_the_image_lacks_is_a_located_config_error(plan):
    main = sandbox_container()
    main.files["/etc/passwd"] = b"root:x:0:0:root:/root:/bin/sh\n"
    record, error = failed(plan, FakeBackend({"sandbox": main}), ConfigError)
    assert str(error).startswith("environments/tiny.yaml: user: user 'app' is not in the "
                                 "image's /etc/passwd: write a number")
    assert record.status == "error"


def test_a_service_gets_its_files_before_it_starts_and_is_waited_for(plan):
    db = FakeContainer("fake-db", "db", default=Answer(1))
    db.answer("pg_isready", Answer(1), Answer(0))
    backend = FakeBackend({"sandbox": sandbox_container(), "db": db})
    record, _ = run(plan, backend)
    assert db.files == {"/docker-entrypoint-initdb.d/init.sql": b"SELECT 1;\n"}
    assert [r.argv for r in db.execs] == [("sh", "-c", "pg_isready")] * 2
    assert record.services["db"]["ready_s"] >= 0


def test_a_capture_follows_a_symbolic_link_and_an_absent_path_is_none(plan):
    backend = FakeBackend({"sandbox": sandbox_container()})
    record, _ = run(plan, backend)
    log, missing = record.captures
    assert (log.name, log.kind, log.artifact.read_bytes()) == (
        "log", "file", b"ERROR amount\n")
    assert (missing.name, missing.kind, missing.artifact) == ("missing", None, None)


def test_a_capture_through_a_loop_of_links_is_refused(plan):
    main = sandbox_container()
    main.links["/var/log/app/current.log"] = "/var/log/app/current.log"
    _, error = failed(plan, FakeBackend({"sandbox": main}), SandboxError)
    assert "too many levels of symbolic links" in str(error)


def test_exit_137_with_the_sandbox_gone_is_a_sandbox_error_naming_it(plan):
    main = sandbox_container()
    main.answer("echo one", Answer(137, effect=lambda c: setattr(c, "status", Status.REMOVED)))
    backend = FakeBackend({"sandbox": main})
    record, error = failed(plan, backend, SandboxError)
    name = backend.sandboxes[0].name
    assert str(error).startswith(f"the sandbox {name} was stopped or removed from "
                                 "outside during the run")
    saved = json.loads(record.path.read_text())
    assert saved["status"] == "error" and name in saved["error"]


def test_exit_137_of_a_step_in_a_living_sandbox_is_its_own_failure(plan):
    main = sandbox_container()
    main.answer("echo one", Answer(137))  # e.g. the kernel's OOM killer took the step
    record, _ = run(plan, FakeBackend({"sandbox": main}))
    assert [(s.status, s.exit_code) for s in record.steps][0] == ("failed", 137)
    assert record.status == "complete"


def test_a_timed_out_step_is_recorded_as_such(plan):
    main = sandbox_container()
    main.answer("echo one", Answer(None, timed_out=True))
    record, _ = run(plan, FakeBackend({"sandbox": main}))
    assert [s.status for s in record.steps] == ["timed_out", "skipped", "skipped"]


def test_an_interrupted_run_records_the_step_and_removes_the_sandbox(plan):
    def interrupt(_container: FakeContainer) -> None:
        raise Interrupted("SIGTERM")

    main = sandbox_container()
    main.answer("do-fail", Answer(effect=interrupt))
    backend = FakeBackend({"sandbox": main})
    record, error = failed(plan, backend, Interrupted)
    assert str(error) == "interrupted by SIGTERM; the sandbox was removed"
    assert record.status == "interrupted"
    assert [s.status for s in record.steps] == ["ok", "interrupted"]
    assert backend.removed == [backend.sandboxes[0].name]


def test_a_kept_sandbox_is_left_and_entered_with_the_backends_hint(plan):
    backend = FakeBackend({"sandbox": sandbox_container()})
    record, _ = run(plan, backend, keep=True)
    name = backend.sandboxes[0].name
    assert backend.removed == [] and record.kept and record.sandbox == name
    assert record.enter_hint == f"fake-enter {name}"
    out = io.StringIO()
    terminal.summary(record, None, out=out)
    assert f"sandbox kept: enter it with `fake-enter {name}`; remove it with `repro gc " \
           f"--run {record.run_id}`" in out.getvalue()
    assert machine.run_json(record, None)["sandbox"] == name


def test_a_pause_gets_the_live_sandbox_before_it_is_removed(plan):
    backend = FakeBackend({"sandbox": sandbox_container()})
    seen = []

    def pause(sandbox, record) -> None:
        seen.append((sandbox.name, sandbox.main.status, record.status))

    record, _ = run(plan, backend, replay=False, pause=pause)
    assert seen == [(record.sandbox, Status.RUNNING, "not replayed")]
    assert record.steps == [] and backend.removed == [record.sandbox]


def test_a_run_emits_its_progress_in_order(plan):
    from repro.results import progress as ev

    backend = FakeBackend({"sandbox": sandbox_container()})
    heard: list[ev.Event] = []
    record, _ = run(plan, backend, progress=heard.append)
    kinds = [(type(e).__name__, getattr(e, "name", getattr(e, "service", None))
              or getattr(e, "image", None)) for e in heard]
    assert kinds == [
        ("ImageReady", "tiny"), ("ImageReady", "tiny-db"),
        ("Waiting", "db"), ("Ready", "db"),
        ("StepStarted", "first"), ("StepFinished", "first"),
        ("StepStarted", "second"), ("StepFinished", "second")]
    # `third`, skipped after the failure, never started: the summary lists it
    assert heard[2] == ev.Waiting("db", "command pg_isready", 5.0, heard[2].since)
    assert [e.outputs for e in heard if isinstance(e, ev.StepStarted)] == [
        (s.stdout_path, s.stderr_path) for s in record.steps[:2]]
    assert [(e.status, e.exit_code) for e in heard if isinstance(e, ev.StepFinished)] == [
        ("ok", 0), ("failed", 1)]


def test_progress_never_carries_a_secret(project):
    from repro.report.progress import last_line
    from repro.results import progress as ev

    from ..conftest import RUN_SECRET, run_plan

    plan = run_plan(project)
    main = FakeContainer("unused", "sandbox")
    main.answer("app import", Answer(1, f"token {RUN_SECRET} refused\n"))
    heard: list[ev.Event] = []
    _, error = runner.run(plan, lambda _: None, backend=FakeBackend({"sandbox": main}),
                          progress=heard.append)
    started = [e for e in heard if isinstance(e, ev.StepStarted)]
    assert error is None and last_line(started[0].outputs) == "token *** refused"
    sent = []
    ev.masked(sent.append, plan.redactor)(ev.BuildLine("tiny", f"ARG TOKEN={RUN_SECRET}"))
    assert sent == [ev.BuildLine("tiny", "ARG TOKEN=***", sent[0].at)]

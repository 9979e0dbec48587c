"""The execute stage's side of the conditions, on the fake backend: the specs it asks for,
zone files, locales and steps killed for memory."""

from __future__ import annotations

import io
import json
from pathlib import Path

from repro.errors import ConfigError, SandboxError
from repro.execute import runner
from repro.plan.build import plan_scenario
from repro.report import terminal
from repro.results import reader
from repro.results.outcome import StepStatus

from ..fake_backend import Answer, FakeBackend, FakeContainer

ENV = """\
image: busybox
env: {TZ: Asia/Tokyo, MODE: fast}
timezone: Europe/Berlin
hostname: erp-prod-01
tmpfs: {/var/lib/app: 20m}
limits: {memory: 64m, shm_size: 16m, ulimits: {nofile: {soft: 512, hard: 1024}}}
services:
  db: {image: postgres:16}
"""

SCENARIO = """\
environment: app
{extra}
steps:
  - {{name: import, run: "python3 import.py"}}
  - {{name: after, run: "echo after"}}
oracle: {{any: [{{step: import, oom_killed: true}}]}}
"""


def make_plan(project, extra: str = "", env: str = ENV):
    project.environment("app", env)
    project.scenario("T-1", SCENARIO.format(extra=extra))
    return plan_scenario(Path("T-1"))


def test_every_container_gets_the_zone_and_the_steps_one_the_machine(project):
    backend = FakeBackend()
    record, error = runner.run(make_plan(project), lambda _: None, backend=backend)
    assert error is None
    (spec,) = backend.specs
    assert dict(spec.main.env) == {"TZ": "Europe/Berlin", "MODE": "fast"}
    assert (spec.main.hostname, dict(spec.main.tmpfs)) == ("erp-prod-01",
                                                           {"/var/lib/app": 20 * 1024**2})
    assert (spec.main.limits.shm_size, dict(spec.main.limits.ulimits)) == (
        16 * 1024**2, {"nofile": (512, 1024)})
    (db,) = spec.services
    assert dict(db.env) == {"TZ": "Europe/Berlin"} and db.hostname is None and not db.tmpfs
    # Neither image had the zone's file: both got repro's, where every C library looks.
    for container in (backend.sandboxes[0].main, backend.sandboxes[0].services["db"]):
        assert container.files["/usr/share/zoneinfo/Europe/Berlin"] == b"TZif-berlin"
    written = json.loads(record.path.read_text())["sandbox"]["conditions"]
    assert written["zone_file"] == {"sandbox": "repro", "db": "repro"}
    assert written["timezone"] == "Europe/Berlin" and written["hostname"] == "erp-prod-01"


def test_an_image_with_its_own_zone_file_keeps_it(project):
    main = FakeContainer("main", "sandbox")
    main.files["/usr/share/zoneinfo/Europe/Berlin"] = b"TZif-customer-2019"
    backend = FakeBackend({"sandbox": main})
    record, error = runner.run(make_plan(project), lambda _: None, backend=backend)
    assert error is None
    assert main.files["/usr/share/zoneinfo/Europe/Berlin"] == b"TZif-customer-2019"
    assert record.conditions["zone_file"] == {"sandbox": "image", "db": "repro"}


def test_a_zone_repro_does_not_know_stops_the_run_before_any_start(project):
    backend = FakeBackend()  # its tz database has Europe/Berlin and UTC only
    plan = make_plan(project, "timezone: Asia/Tokyo")
    record, error = runner.run(plan, lambda _: None, backend=backend)
    assert isinstance(error, ConfigError)
    assert str(error) == ("scenarios/T-1/scenario.yaml:2: timezone: unknown timezone "
                          "'Asia/Tokyo': repro's tz database has no such zone")
    assert backend.sandboxes[0].main.execs == [] and record.steps == []


def test_a_step_sigkilled_while_the_oom_count_rose_is_oom_killed(project):
    main = FakeContainer("main", "sandbox")

    def oom(container: FakeContainer) -> None:
        container.oom_kills = 1

    main.answer("import.py", Answer(137, "", "Killed\n", effect=oom))
    record, error = runner.run(make_plan(project), lambda _: None,
                               backend=FakeBackend({"sandbox": main}))
    assert error is None
    assert [(s.name, s.status) for s in record.steps] == [("import", "oom_killed"),
                                                          ("after", "skipped")]
    assert record.reproduced is True
    assert record.oracle[0].detail == "oom killed (exit code 137)"
    stored = reader.read(record.path)  # what diff, runs and baselines read back
    assert stored.steps[0].status is StepStatus.OOM_KILLED
    shown = io.StringIO()
    terminal.summary(record, None, shown)
    assert "OOM     import" in shown.getvalue()
    assert "killed by the kernel: out of memory within limits.memory (64 MiB)" in \
        shown.getvalue()


def test_a_step_killed_from_outside_stays_a_plain_failure(project):
    main = FakeContainer("main", "sandbox")
    main.answer("import.py", Answer(137, "", "Killed\n"))  # the count stays at zero
    record, _ = runner.run(make_plan(project), lambda _: None,
                           backend=FakeBackend({"sandbox": main}))
    assert record.steps[0].status == "failed" and record.reproduced is False


def test_when_the_engine_cannot_count_a_137_stays_a_plain_failure(project):
    main = FakeContainer("main", "sandbox")
    main.oom_kills = None
    main.answer("import.py", Answer(137, "", "Killed\n"))
    record, _ = runner.run(make_plan(project), lambda _: None,
                           backend=FakeBackend({"sandbox": main}))
    assert record.steps[0].status == "failed"


def test_the_steps_start_from_an_image_with_the_locale_compiled_in(project):
    backend = FakeBackend()
    backend.change_exits["id-of-busybox"] = (10, "")  # compiled; postgres had it already
    said: list[str] = []
    record, error = runner.run(make_plan(project, "locale: de_DE.UTF-8"), said.append,
                               backend=backend)
    assert error is None
    assert [base for base, _ in backend.changes] == ["id-of-busybox", "id-of-postgres:16"]
    change = backend.changes[0][1]
    assert change.args == ("de_DE.UTF-8", "de_DE.utf8", "de_DE", "UTF-8")
    assert "localedef" in change.script and change.changed == 10
    (spec,) = backend.specs
    assert spec.main.image == "id-of-busybox+locale de_DE.UTF-8"
    assert spec.services[0].image == "id-of-postgres:16"  # the image's own locale is kept
    assert record.conditions["locale_prepared"] == "generated"
    assert record.conditions["locale_prepared_services"] == {"db": "image"}
    assert not any("warning" in line for line in said)
    assert "localedef" not in str(backend.sandboxes[0].main.execs)  # nothing left to do


def test_a_service_whose_image_cannot_have_the_locale_runs_without_it_and_says_so(project):
    backend = FakeBackend()
    backend.change_exits["id-of-postgres:16"] = (3, "")  # musl
    said: list[str] = []
    record, error = runner.run(make_plan(project, "locale: de_DE.UTF-8"), said.append,
                               backend=backend)
    assert error is None and record.conditions["locale_prepared"] == "image"
    reason = "its C library is musl (Alpine), which cannot compile locales"
    assert record.conditions["locale_prepared_services"]["db"].startswith(
        f"unavailable: {reason}")
    assert [line for line in said if line.startswith("warning:")] == [
        "warning: service 'db' runs without the locale de_DE.UTF-8 (in C): its image cannot "
        f"provide it: {reason}; replay it on a glibc-based image (Debian, Ubuntu)"]


def test_an_image_that_cannot_compile_the_locale_stops_the_run_in_one_line(project):
    backend = FakeBackend()
    backend.change_exits["id-of-busybox"] = (5, "")
    record, error = runner.run(make_plan(project, "locale: de_DE.UTF-8"), lambda _: None,
                               backend=backend)
    assert isinstance(error, ConfigError) and error.exit_code == 2
    assert str(error) == (
        "scenarios/T-1/scenario.yaml:2: locale: the image cannot provide the locale "
        "de_DE.UTF-8: it has no locale sources in /usr/share/i18n (Debian/Ubuntu: install "
        "the package `locales` in the image)")
    assert backend.specs == []  # no sandbox was made
    assert record.steps == [] and record.status == "error"


def test_an_engine_that_cannot_change_a_services_image_leaves_it_in_c_with_a_warning(
        project):
    class Refusing(FakeBackend):
        def change_image(self, base, change, say):
            if base == "id-of-postgres:16":
                raise SandboxError("preparing the locale de_DE.UTF-8 in image pg failed: "
                                   "no space left on device")
            return super().change_image(base, change, say)

    backend = Refusing()
    said: list[str] = []
    record, error = runner.run(make_plan(project, "locale: de_DE.UTF-8"), said.append,
                               backend=backend)
    assert error is None and backend.specs[0].services[0].image == "id-of-postgres:16"
    assert record.conditions["locale_prepared_services"]["db"].endswith(
        "no space left on device")
    assert [line for line in said if line.startswith("warning:")] == [
        "warning: service 'db' runs without the locale de_DE.UTF-8 (in C): its image cannot "
        "provide it: preparing the locale de_DE.UTF-8 in image pg failed: no space left on "
        "device"]

"""Planning: (scenario, environment, parameters) -> every action of a run, without Docker."""

from __future__ import annotations

import zipfile
from pathlib import Path
from textwrap import dedent

import pytest

from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.values import CapturePlan, DataCopy

from ..conftest import APP_ENV, APP_SCENARIO, line_of

FULL_SCENARIO = dedent("""\
    environment: app
    id: CASE-42
    title: import fails on large dump
    ticket: SUP-42
    step_timeout: 2m
    parameters:
      mode: slow
    data:
      - {from: data/logs.zip, to: /var/log/app}
      - {from: data/logs.zip, to: /srv/raw/logs.zip, extract: false}
      - {from: data/conf.d, to: /etc/app/conf.d}
      - {from: data/notes.txt, to: /srv/notes.txt}
    capture:
      - /var/log/app/import.log
      - {path: /var/lib/app/, name: state}
    steps:
      - name: import
        run: app import --mode {{ mode }}
        timeout: 500ms
        stdin_file: data/answers.txt
        env: {PORT: "{{ port }}"}
        workdir: /srv
        user: app
      - run: [app, check, "--port={{ port }}"]
        stdin: "y\\n"
        stop_on_failure: false
    oracle:
      all:
        - step: import
          stderr: "out of memory"
        - file: import.log
          contains: "ERROR"
        - file: /var/log/app/crash.dump
          exists: true
    """)


def write_full(project) -> None:
    project.app(FULL_SCENARIO)
    with zipfile.ZipFile(project.write("scenarios/T-1/data/logs.zip", b""), "w") as z:
        z.writestr("import.log", "ok\n")
    project.write("scenarios/T-1/data/conf.d/a.conf", "a=1\n")
    project.write("scenarios/T-1/data/notes.txt", "notes\n")
    project.write("scenarios/T-1/data/answers.txt", b"yes\nno\n")


def test_plan_resolves_every_action(project):
    write_full(project)
    plan = plan_scenario(Path("scenarios/T-1"), {"port": "9090"})
    base = project.root / "scenarios/T-1/data"
    assert (plan.scenario_id, plan.title, plan.ticket, plan.expect) == \
        ("CASE-42", "import fails on large dump", "SUP-42", "reproduces")
    assert plan.environment == "app" and plan.image.ref == "busybox:1.36"
    assert plan.env == {"APP_PORT": "9090"}
    assert [(f.path, f.mode) for f in plan.files] == \
        [("/etc/app/app.conf", 0o644), ("/etc/app/flags.conf", 0o600)]
    assert b"mode = slow" in plan.files[0].content
    assert plan.data == (
        DataCopy(base / "logs.zip", "/var/log/app", "archive"),
        DataCopy(base / "logs.zip", "/srv/raw/logs.zip", "file"),
        DataCopy(base / "conf.d", "/etc/app/conf.d", "dir"),
        DataCopy(base / "notes.txt", "/srv/notes.txt", "file"),
    )
    first, second = plan.steps
    assert (first.name, first.argv, first.timeout, first.stdin, first.env) == \
        ("import", ("sh", "-c", "app import --mode slow"), 0.5, b"yes\nno\n", {"PORT": "9090"})
    assert (first.workdir, first.user, first.stop_on_failure) == ("/srv", "app", True)
    assert (second.name, second.argv, second.timeout, second.stdin) == \
        ("step-2", ("app", "check", "--port=9090"), 120.0, b"y\n")
    assert second.stop_on_failure is False
    # What the oracle looks at is captured, even when not listed under `capture:`.
    assert plan.captures == (
        CapturePlan("import.log", "/var/log/app/import.log"),
        CapturePlan("state", "/var/lib/app/"),
        CapturePlan("/var/log/app/crash.dump", "/var/log/app/crash.dump"),
    )
    assert (plan.workdir, plan.user, plan.egress) == ("/srv", None, False)


def test_scenario_id_defaults_to_its_folder_and_can_be_named_three_ways(project):
    path = project.app(sid="SUP-7")
    for target in ("SUP-7", "scenarios/SUP-7", "scenarios/SUP-7/scenario.yaml", str(path)):
        assert plan_scenario(Path(target)).scenario_id == "SUP-7"


def test_unknown_scenario_suggests_existing_ones(project):
    project.app(sid="SUP-7")
    project.scenario("license-expiry", APP_SCENARIO)
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("SUP-77"))
    assert info.value.lines() == ["SUP-77: no scenario.yaml found (did you mean 'SUP-7'?)"]
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("zzz"))
    assert info.value.lines() == [
        "zzz: no scenario.yaml found (scenarios here: SUP-7, license-expiry)"]


def test_unknown_environment_is_reported_at_the_scenario_line(project):
    text = APP_SCENARIO.replace("environment: app", "environment: ap")
    project.app(text)
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("T-1"))
    assert info.value.lines() == [
        f"scenarios/T-1/scenario.yaml:{line_of(text, 'environment:')}: environment: "
        "environment 'ap' not found (did you mean 'app'?)"]


def test_environment_can_be_given_as_a_relative_path(project):
    project.app(APP_SCENARIO.replace("environment: app", "environment: ../../environments/app"
                                                         ".yaml"))
    assert plan_scenario(Path("T-1")).environment_path == project.root / "environments/app.yaml"


def test_missing_inputs_are_all_reported_with_their_lines(project):
    text = dedent("""\
        environment: app
        data:
          - {from: dump/missing.tar.gz, to: /srv/data}
          - {from: notes.txt, to: /srv/notes.txt, extract: true}
        steps:
          - run: app
            stdin_file: answers.txt
        oracle: {any: [{step: step-1, failed: true}]}
        """)
    project.app(text)
    project.write("scenarios/T-1/notes.txt", "n\n")
    (project.root / "environments/templates/app.conf.j2").unlink()
    f = "scenarios/T-1/scenario.yaml"
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("T-1"))
    assert sorted(info.value.lines()) == sorted([
        f"environments/app.yaml:{line_of(APP_ENV, 'template:')}: files[0].template: "
        "environments/templates/app.conf.j2 not found",
        f"{f}:{line_of(text, 'missing')}: data[0].from: scenarios/T-1/dump/missing.tar.gz "
        "not found",
        f"{f}:{line_of(text, 'extract')}: data[1].extract: only .tar, .tar.gz, .tgz, .tar.bz2, "
        ".tar.xz and .zip can be extracted",
        f"{f}:{line_of(text, 'stdin_file')}: steps[0].stdin_file: scenarios/T-1/answers.txt "
        "not found",
    ])


def test_image_build_context_is_checked_and_args_rendered(project):
    env = dedent("""\
        image:
          build:
            context: ctx
            dockerfile: Dockerfile.app
            args: {VERSION: "{{ version }}"}
        parameters:
          version: "1.2"
        """)
    project.environment("app", env)
    project.scenario("T-1", "environment: app\nsteps: [{run: x}]\n"
                            "oracle: {any: [{step: step-1, failed: true}]}\n")
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("T-1"))
    assert info.value.lines() == [
        f"environments/app.yaml:{line_of(env, 'context:')}: image.build.context: build "
        "context environments/ctx is not a directory"]
    project.write("environments/ctx/Dockerfile", "FROM busybox\n")
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("T-1"))
    assert info.value.lines() == [
        f"environments/app.yaml:{line_of(env, 'dockerfile:')}: image.build.dockerfile: "
        "Dockerfile.app not found in environments/ctx"]
    project.write("environments/ctx/Dockerfile.app", "FROM busybox\n")
    image = plan_scenario(Path("T-1"), {"version": "2.0"}).image
    assert (image.ref, image.context, image.dockerfile, image.build_args) == \
        (None, project.root / "environments/ctx", "Dockerfile.app", {"VERSION": "2.0"})

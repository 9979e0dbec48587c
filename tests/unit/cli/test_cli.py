"""The Docker-free commands: `repro validate`, `repro plan`, `repro schema`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from repro.plan.build import plan_scenario

from ..conftest import APP_ENV, APP_SCENARIO, line_of


def test_validate_a_clean_project(project, cli):
    project.app()
    project.scenario("T-2", APP_SCENARIO.replace("crash on start", "second case"))
    result = cli("validate")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "3 of 3 files valid\n")


def test_validate_prints_every_problem_of_every_file(project, cli):
    project.app()
    broken_env = "imagee: busybox\nparameters:\n  port: {defualt: 1}\n"
    project.environment("broken", broken_env)
    scen = APP_SCENARIO.replace("stderr:", "stdeer:")
    project.scenario("T-2", scen)
    result = cli("validate")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == "2 of 4 files valid"
    assert sorted(lines[:-1]) == sorted([
        "environments/broken.yaml:1: imagee: unknown key (did you mean 'image'?)",
        "environments/broken.yaml:3: parameters.port.defualt: unknown key "
        "(did you mean 'default'?)",
        "environments/broken.yaml:1: 'image' is required",
        f"scenarios/T-2/scenario.yaml:{line_of(scen, 'stdeer')}: oracle.any[0].stdeer: "
        "unknown key (did you mean 'stderr'?)",
        f"scenarios/T-2/scenario.yaml:{line_of(scen, '- step: start')}: oracle.any[0]: a step "
        "condition needs 'exit_code' or 'failed' or 'timed_out' or 'stdout' or 'stderr' or "
        "'oom_killed'",
    ])


def test_validate_checks_template_syntax_and_named_paths(project, cli):
    project.app()
    template = "# app.conf\nlisten = {{ port }}\n{% if debug %}\n"
    project.write("environments/templates/app.conf.j2", template)
    result = cli("validate", "environments/app.yaml", "scenarios/missing/scenario.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "environments/templates/app.conf.j2:3: template syntax error: Unexpected end of "
        "template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. "
        "The innermost block that needs to be closed is 'if'.",
        "scenarios/missing/scenario.yaml: file not found",
        "0 of 2 files valid",
    ]


def test_validate_prints_an_environment_problem_once(project, cli):
    """A scenario's environment is checked with it; its problems must not repeat."""
    project.app()
    project.environment("app", APP_ENV.replace("workdir:", "workdri:"))
    result = cli("validate")
    problem = f"environments/app.yaml:{line_of(APP_ENV, 'workdir:')}: workdri: unknown key " \
              "(did you mean 'workdir'?)"
    assert result.exit_code == 2
    assert result.stderr.splitlines().count(problem) == 1


def test_malformed_yaml_exits_2_with_one_line_and_no_traceback(project):
    text = "environment: app\n  steps: []\n"
    project.app(text)
    proc = subprocess.run([sys.executable, "-m", "repro", "plan", "T-1"], capture_output=True,
                          text=True, cwd=project.root, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"repro: error: scenarios/T-1/scenario.yaml:{line_of(text, 'steps')}: invalid "
        "YAML: mapping values are not allowed in this context (check indentation and quoting)\n")


@pytest.mark.parametrize("args, expected", [
    (("plan", "T-1", "--param", "port"), "repro: error: --param: expected KEY=VALUE, got 'port'"),
    (("plan", "T-1", "-p", "debug=maybe"), "repro: error: --param: debug: expected true or "
                                           "false, got 'maybe'"),
    (("plan", "T-2"), "repro: error: T-2: no scenario.yaml found (did you mean 'T-1'?)"),
    (("schema", "scenarios"), "repro: error: schema: unknown kind 'scenarios'; use "
                              "environment, scenario or all"),
])
def test_bad_command_input_exits_2_with_one_line(project, cli, args, expected):
    project.app()
    result = cli(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", expected + "\n")


def test_plan_prints_the_same_plan_as_yaml_and_json(project, cli):
    project.app()
    as_yaml = cli("plan", "T-1", "-p", "port=9090", "--param", "mode=slow")
    as_json = cli("plan", "scenarios/T-1", "-p", "port=9090", "-p", "mode=slow", "--json")
    assert (as_yaml.exit_code, as_json.exit_code) == (0, 0)
    data = json.loads(as_json.stdout)
    assert yaml.safe_load(as_yaml.stdout) == data
    assert data["scenario"] == {"id": "T-1", "title": "crash on start", "ticket": "SUP-1",
                                "expect": "reproduces", "path": "scenarios/T-1/scenario.yaml"}
    assert data["parameters"] == {"db_password": "***", "debug": False, "mode": "slow",
                                  "port": 9090, "ratio": 0.5}
    assert data["env"] == {"APP_PORT": "9090"}
    conf = data["files"][0]
    assert int(conf.pop("mode"), 8) == 0o644  # octal text, "0644" or "0o644"
    assert conf == {"path": "/etc/app/app.conf", "from": "environments/templates/app.conf.j2",
                    "content": "# app.conf for T-1\nlisten = 9090\n\nmode = slow\n"}
    assert data["steps"][0]["run"] == "app --port 9090"
    assert data["sandbox"]["network_egress"] is False
    # Where each value came from: the question at 2 a.m.
    assert data["parameters_from"] == {"db_password": "default", "debug": "default",
                                       "mode": "--param", "port": "--param",
                                       "ratio": "default"}


SECRET = "Pa55-w0rd!xyz"
SECRET_ENV = dedent("""\
    image:
      build:
        context: ctx
        args: {PORT: "{{ port }}"}
    parameters:
      port: 8080
      api_token: {secret: true}
      db_password: {default: "Pa55-w0rd!xyz", secret: true}
    env:
      DB_URL: "postgres://app:{{ db_password }}@db:5432/app"
    files:
      - path: /etc/app/db.conf
        template: db.conf.j2
      - path: /etc/app/inline.conf
        content: |
          password = {{ db_password }}
    """)
SECRET_SCENARIO = dedent("""\
    environment: app
    steps:
      - name: login
        run: "app login --password '{{ db_password }}' --token {{ api_token }}"
        env: {PGPASSWORD: "{{ params.db_password }}"}
      - run: [app, "--password={{ db_password }}"]
    oracle: {any: [{step: login, failed: true}]}
    """)


def test_a_secret_in_build_args_is_refused(project, cli):
    # Build args stay readable in `docker history` of the cached image.
    project.environment("app", SECRET_ENV.replace('PORT: "{{ port }}"',
                                                  'TOKEN: "{{ api_token }}"'))
    project.write("environments/ctx/Dockerfile", "FROM busybox\n")
    project.write("environments/db.conf.j2", "[db]\npassword={{ db_password }}\n")
    project.scenario("T-1", SECRET_SCENARIO)
    result = cli("plan", "T-1", "-p", "api_token=tok-7Q2x9")
    assert result.exit_code == 2
    assert "tok-7Q2x9" not in result.stdout + result.stderr
    assert "environments/app.yaml:4: image.build.args.TOKEN: uses the secret parameter " \
        "'api_token': build args are kept in the image history" in result.stderr


@pytest.mark.parametrize("fmt", [(), ("--json",)])
def test_secret_parameters_never_appear_in_plan_output(project, cli, fmt):
    project.environment("app", SECRET_ENV)
    project.write("environments/ctx/Dockerfile", "FROM busybox\n")
    project.write("environments/db.conf.j2", "[db]\npassword={{ db_password }}\n")
    project.scenario("T-1", SECRET_SCENARIO)
    token = "tok-7Q2x9"
    plan = plan_scenario(Path("T-1"), {"api_token": token})
    # the secrets are really used: in env, both files and both steps
    assert SECRET in plan.env["DB_URL"] and SECRET in plan.steps[0].env["PGPASSWORD"]
    assert all(SECRET.encode() in f.content for f in plan.files)
    assert all(SECRET in s.command for s in plan.steps) and token in plan.steps[0].command

    result = cli("plan", "T-1", "-p", f"api_token={token}", *fmt)
    assert result.exit_code == 0
    assert SECRET not in result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    data = json.loads(result.stdout) if fmt else yaml.safe_load(result.stdout)
    assert data["parameters"] == {"api_token": "***", "db_password": "***", "port": 8080}
    assert data["env"]["DB_URL"] == "postgres://app:***@db:5432/app"
    assert data["steps"][1]["run"] == "app --password=***"


def test_secret_used_in_the_image_reference_is_masked(project, cli):
    project.environment("app", "image: 'registry.example.com/{{ tenant_key }}/app:1'\n"
                               "parameters:\n  tenant_key: {default: k-93xyz, secret: true}\n")
    project.scenario("T-1", "environment: app\nsteps: [{run: x}]\n"
                            "oracle: {any: [{step: step-1, failed: true}]}\n")
    result = cli("plan", "T-1", "--json")
    assert result.exit_code == 0
    assert "k-93xyz" not in result.stdout
    assert json.loads(result.stdout)["image"]["ref"] == "registry.example.com/***/app:1"


def test_refused_secret_value_is_not_echoed_in_the_error(project, cli):
    project.environment("app", "image: busybox\nparameters:\n"
                               "  pin: {default: 1234, secret: true}\n")
    project.scenario("T-1", "environment: app\nsteps: [{run: x}]\n"
                            "oracle: {any: [{step: step-1, failed: true}]}\n")
    result = cli("plan", "T-1", "-p", "pin=Hunter2-typo")
    assert result.exit_code == 2
    assert result.stderr.startswith("repro: error: --param: pin: ")
    assert "Hunter2-typo" not in result.stderr


def test_schema_describes_both_formats(project, cli):
    everything = cli("schema")
    assert everything.exit_code == 0
    schemas = json.loads(everything.stdout)
    assert set(schemas) == {"environment", "scenario"}
    for kind in ("environment", "scenario"):
        single = cli("schema", kind)
        assert single.exit_code == 0 and json.loads(single.stdout) == schemas[kind]
    assert schemas["scenario"]["required"] == ["environment", "steps", "oracle"]
    assert schemas["environment"]["required"] == ["image"]
    assert schemas["scenario"]["additionalProperties"] is False


def test_schema_accepts_what_repro_accepts_and_rejects_typos(cli):
    jsonschema = pytest.importorskip("jsonschema")
    schemas = json.loads(cli("schema").stdout)
    documents = {"environment": yaml.safe_load(APP_ENV),
                 "scenario": yaml.safe_load(dedent("""\
                     environment: app
                     parameters_from: [customer.ini, {path: x.txt, format: env}]
                     data: [{from: dump.tgz, to: /srv}]
                     capture: [/var/log/app.log, {path: /srv/state, name: state}]
                     step_timeout: 2m
                     steps:
                       - {run: [ls, -l], timeout: 30}
                     oracle: {all: [{file: app.log, contains: ERROR}]}
                     """))}
    for kind, doc in documents.items():
        validator = jsonschema.Draft202012Validator(schemas[kind])
        assert [e.message for e in validator.iter_errors(doc)] == []
        assert [e.message for e in validator.iter_errors({**doc, "wokdir": "/x"})] == [
            "Additional properties are not allowed ('wokdir' was unexpected)"]


def _record(project, run_id, scenario, started, reproduced, baseline="none"):
    project.write(f".repro/runs/{run_id}/record.json", json.dumps({
        "run_id": run_id, "scenario": {"id": scenario}, "status": "complete",
        "reproduced": reproduced, "ok": reproduced, "started_at": started,
        "baseline": {"verdict": baseline}}))


def test_runs_lists_newest_first_and_prunes_old_records(project, cli):
    project.app()
    _record(project, "T-1-a", "T-1", "2020-01-01T10:00:00+00:00", True)
    _record(project, "T-1-b", "T-1", "2099-01-02T10:00:00+00:00", False, "diverged")
    _record(project, "X-9-c", "X-9", "2099-01-01T10:00:00+00:00", True)
    project.write(".repro/runs/killed/record.json", "{ half written")
    listed = cli("runs", "--scenario", "T-1")
    assert listed.exit_code == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert [(r[1], r[2]) for r in rows] == [("T-1-b", "NOT"), ("T-1-a", "REPRODUCED")]
    assert "diverged" in listed.stdout.splitlines()[0]
    everything = cli("runs", "-n", "2")
    assert everything.stdout.splitlines()[-1] == "... 2 older (--limit)"
    assert "killed" in cli("runs").stdout  # a record that cannot be read still shows
    pruned = cli("runs", "--prune", "30d")
    assert pruned.stdout.startswith("deleted 1 run record(s) older than 30d")
    assert sorted(p.name for p in (project.root / ".repro/runs").iterdir()) == [
        "T-1-b", "X-9-c", "killed"]  # the unreadable one is new: its folder's age counts

"""Loading environment and scenario files into typed records, with file:line problems."""

from __future__ import annotations

from textwrap import dedent

import pytest

from repro.config import units
from repro.config.project import load_environment, load_scenario
from repro.config.schema import Invalid
from repro.errors import ConfigError

from ..conftest import line_of


def problems_of(load, path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.lines()


def test_unknown_keys_are_located_with_did_you_mean(project):
    text = dedent("""\
        environment: app
        step_timout: 30s
        steps:
          - name: start
            run: app
            tiemout: 5s
        oracle:
          any:
            - step: start
              exit_cod: 1
        """)
    path = project.scenario("T-1", text)
    f = "scenarios/T-1/scenario.yaml"
    assert sorted(problems_of(load_scenario, path)) == sorted([
        f"{f}:{line_of(text, 'step_timout')}: step_timout: unknown key "
        "(did you mean 'step_timeout'?)",
        f"{f}:{line_of(text, 'tiemout')}: steps[0].tiemout: unknown key "
        "(did you mean 'timeout'?)",
        f"{f}:{line_of(text, 'exit_cod')}: oracle.any[0].exit_cod: unknown key "
        "(did you mean 'exit_code'?)",
        # ...and with its test misspelt, the condition tests nothing:
        f"{f}:{line_of(text, '- step: start')}: oracle.any[0]: a step condition needs "
        "'exit_code' or 'failed' or 'timed_out' or 'stdout' or 'stderr' or 'oom_killed'",
    ])


def test_every_field_problem_of_a_file_is_reported_at_once(project):
    text = dedent("""\
        environment: app
        expect: reproduce
        step_timeout: soon
        steps:
          - run: ""
          - run: [ls, -l]
            stop_on_failure: maybe
        capture:
          - var/log/app.log
        data:
          - from: dump.sql
            to: srv/dump.sql
        oracle:
          any:
            - step: step-1
              stdout: "([unclosed"
        """)
    path = project.scenario("T-1", text)
    f = "scenarios/T-1/scenario.yaml"
    empty_run = line_of(text, 'run: ""')
    assert sorted(problems_of(load_scenario, path)) == sorted([
        f"{f}:{line_of(text, 'expect')}: expect: must be one of reproduces, fixed, "
        "got 'reproduce' (did you mean 'reproduces'?)",
        f"{f}:{line_of(text, 'step_timeout')}: step_timeout: expected a duration like 30s, "
        "2m or 500ms, got 'soon'",
        f"{f}:{empty_run}: steps[0].run: the command is empty",
        f"{f}:{line_of(text, 'stop_on_failure')}: steps[1].stop_on_failure: expected true or "
        "false, got 'maybe'",
        f"{f}:{line_of(text, 'var/log')}: capture[0].path: must be an absolute path, "
        "got 'var/log/app.log'",
        f"{f}:{line_of(text, 'to: srv')}: data[0].to: must be an absolute path, "
        "got 'srv/dump.sql'",
        f"{f}:{line_of(text, 'stdout:')}: oracle.any[0].stdout: invalid regular expression "
        "'([unclosed': unterminated character set at position 1",
    ])


@pytest.mark.parametrize("kind, text, expected", [
    pytest.param("scenario", """\
        environment: app
        expect: reproduce
        steps: []
        oracle: {any: [{file: /var/log/app.log, exists: true}]}
        """, ["expect: must be one of reproduces, fixed, got 'reproduce' "
              "(did you mean 'reproduces'?)",
              "steps: a scenario needs at least one step"], id="field-and-record-check"),
    pytest.param("environment", """\
        image: busybox
        workdir: srv
        files:
          - path: etc/app.conf
            content: x
        """, ["workdir: must be an absolute path, got 'srv'",
              "files[0].path: must be an absolute path, got 'etc/app.conf'"],
        id="child-and-parent-check"),
])
def test_independent_problems_are_not_hidden_by_others(project, kind, text, expected):
    """A problem in one part of a file must not hide a problem in an unrelated part."""
    if kind == "scenario":
        path, load = project.scenario("T-1", text), load_scenario
    else:
        path, load = project.environment("app", text), load_environment
    reported = [line.split(": ", 1)[1] for line in problems_of(load, path)]
    assert sorted(reported) == sorted(expected)


def test_duplicate_keys_are_each_reported_with_their_line(project):
    text = dedent("""\
        image: busybox
        env:
          A: "1"
          A: "2"
        image: alpine
        """)
    path = project.environment("app", text)
    assert problems_of(load_environment, path) == [
        f"environments/app.yaml:{line_of(text, 'A:', 2)}: env.A: duplicate key "
        "(an earlier value would be silently lost)",
        f"environments/app.yaml:{line_of(text, 'image:', 2)}: image: duplicate key "
        "(an earlier value would be silently lost)",
    ]


@pytest.mark.parametrize("text, expected", [
    ("image: busybox\nenv:\n  A: 1\n   B: 2\n",
     "environments/app.yaml:4: invalid YAML: mapping values are not allowed in this context "
     "(check indentation and quoting)"),
    ("- image: busybox\n",
     "environments/app.yaml:1: an environment must be a mapping (image, parameters, env, "
     "files, ...)"),
    ("", "environments/app.yaml: the file is empty; write an environment: at least its image "
         "(`repro schema` lists every key)"),
    ("image: [busybox]\n",
     "environments/app.yaml:1: image: expected an image reference or a mapping with "
     "'ref' or 'build'"),
    ("image: {ref: a, build: {context: .}}\n",
     "environments/app.yaml:1: image.build: image takes only one of 'ref' or 'build'"),
    ("image: a\nparameters:\n  bad-name: 1\n",
     "environments/app.yaml:3: parameters.bad-name: parameter names must be identifiers "
     "(letters, digits, _)"),
    ("image: a\nparameters:\n  mode: {default: turbo, choices: [fast, slow]}\n",
     "environments/app.yaml:3: parameters.mode.default: 'turbo' is not among the choices "
     "(fast, slow)"),
    ("image: a\nenv:\n  EMPTY: null\n",
     "environments/app.yaml:3: env.EMPTY: expected a string, got nothing (null)"),
    ("image: a\nlimits: {cpus: 0}\n",
     "environments/app.yaml:2: limits.cpus: must be greater than zero"),
    ("image: a\nfiles:\n  - path: /etc/x\n",
     "environments/app.yaml:3: files[0]: a file needs 'template' or 'content'"),
])
def test_malformed_environment_is_one_precise_problem(project, text, expected):
    path = project.environment("app", text)
    assert problems_of(load_environment, path) == [expected]


@pytest.mark.parametrize("snippet, expected", [
    ("oracle: {any: [{step: start, contains: x}]}",
     "oracle.any[0].contains: 'contains' does not apply to a step; use one of exit_code, "
     "failed, timed_out, stdout, stderr, oom_killed"),
    ("oracle: {any: [{step: start, file: /x, exists: true}]}",
     "oracle.any[0].file: a condition takes only one of 'step', 'file', 'not', 'any' or "
     "'all'"),
    ("oracle: {any: [{step: start}]}",
     "oracle.any[0]: a step condition needs 'exit_code' or 'failed' or 'timed_out' or "
     "'stdout' or 'stderr' or 'oom_killed'"),
    ("oracle: {any: [{step: boot, failed: true}]}",
     "oracle.any[0].step: no step named 'boot' (steps: start, step-2)"),
    ("oracle: {all: [{file: app.log, exists: true}]}",
     "oracle.all[0].file: 'app.log' is neither a capture name nor an absolute path"),
    ("oracle: {any: [], all: [{step: start, failed: true}]}",
     "oracle.all: the oracle takes only one of 'any' or 'all'"),
    ("oracle: {any: []}", "oracle: the oracle needs at least one condition"),
])
def test_oracle_conditions_are_checked(project, snippet, expected):
    text = "environment: app\nsteps:\n  - {name: start, run: a}\n  - run: b\n" + snippet + "\n"
    path = project.scenario("T-1", text)
    assert problems_of(load_scenario, path) == [f"scenarios/T-1/scenario.yaml:5: {expected}"]


def test_duplicate_step_names_are_refused(project):
    text = "environment: app\nsteps:\n  - {name: a, run: x}\n  - name: a\n    run: y\n" \
           "oracle: {any: [{step: a, failed: true}]}\n"
    path = project.scenario("T-1", text)
    assert problems_of(load_scenario, path) == [
        "scenarios/T-1/scenario.yaml:4: steps[1].name: duplicate step name 'a': give "
        "each step a name of its own (the oracle and baselines use them)"]


def test_shorthands_aliases_and_units_build_typed_records(project):
    env_path = project.environment("app", """\
        image: busybox:1.36
        parameters:
          port: 8080
          token: {secret: true, description: API token}
        env:
          PORT: 8080
          DEBUG: true
        files:
          - path: /etc/x
            content: x
            mode: "0600"
        limits: {memory: 512m, cpus: 1.5, pids: 64}
        """)
    env = load_environment(env_path).record
    assert env.image.ref == "busybox:1.36" and env.image.build is None
    assert env.parameters["port"].default == 8080
    assert env.parameters["token"].default is None and env.parameters["token"].secret
    assert env.env == {"PORT": "8080", "DEBUG": "true"}  # strings, as the user typed them
    assert env.files[0].mode == 0o600
    assert (env.limits.memory, env.limits.cpus, env.limits.pids) == (512 * 1024**2, 1.5, 64)
    assert env.network.egress is False

    scen_path = project.scenario("T-1", """\
        environment: app
        parameters_from: [customer.ini]
        data:
          - from: dump.tar.gz
            to: /srv/data
        capture: [/var/log/app.log]
        step_timeout: 2m
        steps:
          - run: [ls, -l]
            timeout: 500ms
        oracle:
          any:
            - file: app.log
              contains: ERROR
        """)
    scen = load_scenario(scen_path).record
    assert scen.parameters_from[0].path == "customer.ini"
    assert scen.parameters_from[0].format == "auto"
    assert (scen.data[0].source, scen.data[0].to) == ("dump.tar.gz", "/srv/data")
    assert scen.capture[0].path == "/var/log/app.log"
    assert scen.step_timeout == 120.0
    assert scen.steps[0].run == ("ls", "-l") and scen.steps[0].timeout == 0.5
    assert scen.expect == "reproduces"


@pytest.mark.parametrize("parse, raw, expected", [
    (units.duration, 30, 30.0),
    (units.duration, "30s", 30.0),
    (units.duration, "500ms", 0.5),
    (units.duration, "1.5m", 90.0),
    (units.duration, "2h", 7200.0),
    (units.memory, "512m", 512 * 1024**2),
    (units.memory, "1GiB", 1024**3),
    (units.memory, 8 * 1024**2, 8 * 1024**2),
    (units.file_mode, "0644", 0o644),
    (units.file_mode, "0o755", 0o755),
])
def test_units_parse_human_values(parse, raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize("parse, raw, message", [
    (units.duration, "0s", "must be longer than zero, got '0s'"),
    (units.duration, "-5s", "expected a duration like 30s, 2m or 500ms, got '-5s'"),
    (units.duration, True, "expected a duration like 30s, 2m or 500ms, got True"),
    (units.memory, "5m", "Docker needs at least 6m of memory"),
    (units.memory, "lots", "expected a size like 512m or 2g, got 'lots'"),
    (units.file_mode, "rw-r--r--", "expected an octal file mode like \"0644\", got 'rw-r--r--'"),
    (units.file_mode, "0999", "expected an octal file mode like \"0644\", got '0999'"),
])
def test_units_refuse_bad_values(parse, raw, message):
    with pytest.raises(Invalid) as info:
        parse(raw)
    assert str(info.value) == message


@pytest.mark.parametrize("written", ["0644", '"0644"', "644", "0o644"])
def test_file_mode_written_any_documented_way_means_rw_r_r(project, written):
    """units.file_mode documents `"0644"`, `0o644` and `644` as 0o644 (-rw-r--r--)."""
    path = project.environment("app", f"image: a\nfiles:\n  - path: /x\n    content: x\n"
                                      f"    mode: {written}\n")
    assert oct(load_environment(path).record.files[0].mode) == oct(0o644)


def test_two_captures_with_one_name_are_refused(project):
    text = "environment: app\nsteps: [{name: a, run: x}]\ncapture:\n  - /etc/app.conf\n" \
           "  - /tmp/app.conf\noracle: {any: [{file: app.conf, exists: true}]}\n"
    path = project.scenario("T-1", text)
    assert problems_of(load_scenario, path) == [
        "scenarios/T-1/scenario.yaml:5: capture[1]: two captures are named 'app.conf': give "
        "this one a `name:` of its own"]


@pytest.mark.parametrize("text, expected", [
    ("environment: !custom app\n", "scenarios/T-1/scenario.yaml:1: unsupported YAML: could "
     "not determine a constructor for the tag '!custom'; "
     "remove the tag (repro reads plain YAML)"),
])
def test_yaml_tags_are_config_errors(project, text, expected):
    assert problems_of(load_scenario, project.scenario("T-1", text)) == [expected]


def test_a_files_problems_come_in_reading_order(project):
    text = ("environment: app\nsteps:\n  - {name: a, run: x, timout: 3}\n"
            "oracle: {any: [{step: a, failed: true}]}\nexpect: fixd\ntitel: t\n")
    lines = problems_of(load_scenario, project.scenario("T-1", text))
    assert [int(line.split(":")[1]) for line in lines] == [3, 5, 6]

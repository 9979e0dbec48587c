"""An environment's `services:` as `repro validate` checks them: names, depends_on
(unknown, circular), misspelt keys, and the `ready:` check."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from ..conftest import line_of


def validate_env(cli, project, text: str, name: str = "e") -> list[str]:
    project.environment(name, text)
    result = cli("validate", f"environments/{name}.yaml")
    return result.stderr.splitlines()

# ---- service validation ---------------------------------------------------------------


def test_service_names_are_lower_case_identifiers_and_not_sandbox(project, cli):
    text = dedent("""\
        image: busybox
        services:
          DB: {image: busybox}
          sandbox: {image: busybox}
          1cache: {image: busybox}
          my.db: {image: busybox}
          db-1: {image: busybox}
          cache_2: {image: busybox}
        """)
    message = ("service names are lower-case letters, digits, - and _ (and not 'sandbox', "
               "the steps' container)")
    assert validate_env(cli, project, text) == [
        f"environments/e.yaml:{line_of(text, 'DB:')}: services.DB: {message}",
        f"environments/e.yaml:{line_of(text, 'sandbox:')}: services.sandbox: {message}",
        f"environments/e.yaml:{line_of(text, '1cache:')}: services.1cache: {message}",
        f"environments/e.yaml:{line_of(text, 'my.db:')}: services.my.db: {message}",
        "0 of 1 files valid",
    ]


def test_unknown_depends_on_is_named_with_a_suggestion(project, cli):
    text = dedent("""\
        image: busybox
        services:
          cache: {image: busybox}
          web:
            image: busybox
            depends_on: [cache, cahce, queue]
        """)
    at = f"environments/e.yaml:{line_of(text, 'depends_on')}: services.web.depends_on"
    assert validate_env(cli, project, text) == [
        f"{at}: no service 'cahce' (did you mean 'cache'?)",
        f"{at}: no service 'queue' (services: cache, web)",
        "0 of 1 files valid",
    ]


def test_a_misspelt_service_key_is_suggested(project, cli):
    text = "image: busybox\nservices:\n  db:\n    image: busybox\n    dependson: [x]\n"
    assert validate_env(cli, project, text) == [
        "environments/e.yaml:5: services.db.dependson: unknown key (did you mean "
        "'depends_on'?)", "0 of 1 files valid"]


@pytest.mark.parametrize("graph, cycle", [
    ({"a": ["b"], "b": ["c"], "c": ["a"]}, "a -> b -> c -> a"),
    ({"solo": ["solo"]}, "solo -> solo"),
    # reached from a service outside the circle: only the circle is named
    ({"x": ["a"], "a": ["b"], "b": ["a"]}, "a -> b -> a"),
    ({"ok": [], "p": ["ok", "q"], "q": ["p"]}, "p -> q -> p"),
])
def test_dependency_cycles_are_refused_and_named(project, cli, graph, cycle):
    text = "image: busybox\nservices:\n" + "".join(
        f"  {name}:\n    image: busybox\n    depends_on: {json.dumps(deps)}\n"
        for name, deps in graph.items())
    assert validate_env(cli, project, text) == [
        f"environments/e.yaml:2: services: services depend on each other in a circle: {cycle}",
        "0 of 1 files valid"]


def test_a_dependency_chain_without_a_circle_is_valid(project, cli):
    text = dedent("""\
        image: busybox
        services:
          a: {image: busybox, depends_on: [b, c]}
          b: {image: busybox, depends_on: [c]}
          c: {image: busybox}
        """)
    assert validate_env(cli, project, text) == ["1 of 1 files valid"]


NEEDS_ONE = "`ready` needs exactly one of command, tcp, log, healthcheck"


@pytest.mark.parametrize("ready, message", [
    ("{timeout: 5s}", NEEDS_ONE),
    ("{tcp: 80, log: up}", NEEDS_ONE),
    ("{command: 'true', healthcheck: true}", NEEDS_ONE),
    ("{healthcheck: false}", NEEDS_ONE),
])
def test_ready_needs_exactly_one_check(project, cli, ready, message):
    text = f"image: busybox\nservices:\n  db:\n    image: busybox\n    ready: {ready}\n"
    assert validate_env(cli, project, text) == [
        f"environments/e.yaml:5: services.db.ready: {message}", "0 of 1 files valid"]


@pytest.mark.parametrize("port", [-1, 65536, 70000, 0])
def test_ready_tcp_must_be_a_port_number(project, cli, port):
    # tcp: 0 is a (wrong) port, not a missing check: 0 == False must not hide it.
    text = f"image: busybox\nservices:\n  db:\n    image: busybox\n    ready: {{tcp: {port}}}\n"
    assert validate_env(cli, project, text) == [
        "environments/e.yaml:5: services.db.ready.tcp: must be a port number",
        "0 of 1 files valid"]


@pytest.mark.parametrize("ready", ["{tcp: 1}", "{tcp: 65535}", "{log: '^up$'}",
                                   "{healthcheck: true}", "{command: [pg_isready, -q]}",
                                   "{command: 'true', healthcheck: false}"])
def test_ready_accepts_each_kind_of_check(project, cli, ready):
    text = f"image: busybox\nservices:\n  db:\n    image: busybox\n    ready: {ready}\n"
    assert validate_env(cli, project, text) == ["1 of 1 files valid"]


def test_ready_durations_and_regex_are_checked(project, cli):
    text = dedent("""\
        image: busybox
        services:
          db:
            image: busybox
            ready: {log: "(unclosed", timeout: 0s, interval: soon}
        """)
    lines = validate_env(cli, project, text)
    assert lines[-1] == "0 of 1 files valid"
    assert sorted(lines[:-1]) == sorted([
        "environments/e.yaml:5: services.db.ready.log: invalid regular expression "
        "'(unclosed': missing ), unterminated subpattern at position 0",
        "environments/e.yaml:5: services.db.ready.timeout: must be longer than zero, got '0s'",
        "environments/e.yaml:5: services.db.ready.interval: expected a duration like 30s, 2m "
        "or 500ms, got 'soon'",
    ])


def test_environment_validation_checks_the_services_parts(project, cli):
    # A freshly imported environment has no scenario yet: `repro validate` of the file is
    # the only check, and must look at the services' templates and build contexts too.
    text = dedent("""\
        image: busybox
        services:
          db:
            image: {build: {context: nowhere}}
            files: [{path: /etc/db.conf, template: missing.j2}]
        """)
    lines = validate_env(cli, project, text)
    assert lines[-1] == "0 of 1 files valid"
    assert any("services.db.files[0].template" in line and "not found" in line
               for line in lines), lines
    assert any("services.db.image.build.context" in line for line in lines), lines

"""Multi-container environments without Docker: services (validation, start order, plan),
database loads and queries, compose import, and the pure parts of the psql/readiness code."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from repro.config import compose_import as compose
from repro.config.model import Ready
from repro.config.project import load_environment
from repro.errors import ConfigError, SandboxError
from repro.execute import postgres, readiness
from repro.plan.build import LoadPlan, QueryPlan, describe_ready, plan_scenario
from repro.plan.services import start_order
from repro.results.observations import CaptureObservation
from repro.results.record import RunRecord
from repro.sandbox.api import Status

from .conftest import line_of
from .fake_backend import Answer, FakeContainer

SCENARIO_TAIL = """\
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
"""

# An environment with services, a secret, templated service parts and both command forms.
SVC_ENV = """\
image: busybox
parameters:
  pg_version: "15"
  db_password: {default: pw-Zq81xK, secret: true}
services:
  web:
    image: busybox
    command: httpd -f -p 8080 -h /www
    depends_on: [db]
    ready: {tcp: 8080, timeout: 20s}
    files:
      - {path: /www/index.html, content: "pg {{ pg_version }}\\n"}
  db:
    image: "postgres:{{ pg_version }}"
    env:
      POSTGRES_PASSWORD: "{{ db_password }}"
      DATABASE_URL: "postgres://app:{{ db_password }}@db/app"
      PGPORT: "5432"
    ready: {command: pg_isready -q, timeout: 60s}
  cache:
    image: busybox
    command: [sleep, "3600"]
    ready: {log: "^ready$"}
"""

LOAD_SCENARIO = """\
environment: svc
load:
  - {service: db, sql: customer/billing.dump, database: billing, user: billing}
  - {service: db, sql: customer/schema.sql}
  - {service: db, csv: customer/customers.csv, table: customers, delimiter: ";",
     encoding: LATIN1, header: false, database: billing, user: billing}
queries:
  - {name: totals, service: db, database: billing, sql: SELECT 1 AS one, key: [one]}
steps: [{name: s, run: "true"}]
oracle: {any: [{file: totals, contains: "^1$"}]}
"""


def errors_of(excinfo: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


def validate_env(cli, project, text: str, name: str = "e") -> list[str]:
    project.environment(name, text)
    result = cli("validate", f"environments/{name}.yaml")
    return result.stderr.splitlines()


def svc_project(project, scenario: str = LOAD_SCENARIO, env: str = SVC_ENV) -> None:
    project.environment("svc", env)
    project.scenario("S", scenario)
    project.write("scenarios/S/customer/billing.dump", b"PGDMP\x01\x0e\x00rest-of-dump")
    project.write("scenarios/S/customer/schema.sql", "CREATE TABLE t (a int);\n")
    project.write("scenarios/S/customer/customers.csv", b"1;Caf\xe9\n")


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
        f"{at}: no service 'queue'",
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


# ---- start order and the services' plan --------------------------------------------------


def order_of(project, services: str) -> list[str]:
    body = "".join(f"  {line}\n" for line in dedent(services).splitlines())
    path = project.environment("o", "image: busybox\nservices:\n" + body)
    return start_order(load_environment(path).record)


def test_start_order_puts_dependencies_first_and_keeps_declaration_order(project):
    assert order_of(project, """\
          web: {image: busybox, depends_on: [db, cache]}
          worker: {image: busybox, depends_on: [web]}
          db: {image: busybox}
          cache: {image: busybox}
          lone: {image: busybox}
        """) == ["db", "cache", "web", "worker", "lone"]
    # the order of depends_on counts, and nothing is started twice
    assert order_of(project, """\
          a: {image: busybox, depends_on: [c, b]}
          b: {image: busybox, depends_on: [c]}
          c: {image: busybox}
        """) == ["c", "b", "a"]
    assert order_of(project, """\
          z: {image: busybox}
          y: {image: busybox}
          x: {image: busybox}
        """) == ["z", "y", "x"]


def test_start_order_is_stable(project):
    services = """\
          d: {image: busybox, depends_on: [b]}
          c: {image: busybox, depends_on: [a, b]}
          b: {image: busybox, depends_on: [a]}
          a: {image: busybox}
        """
    first = order_of(project, services)
    assert first == ["a", "b", "d", "c"]
    assert all(order_of(project, services) == first for _ in range(5))


def test_services_are_planned_in_start_order_and_rendered(project):
    svc_project(project)
    plan = plan_scenario(Path("S"), {"pg_version": "16"})
    assert [s.name for s in plan.services] == ["db", "web", "cache"]
    db, web, cache = plan.services
    assert db.image.ref == "postgres:16"
    assert db.env == {"POSTGRES_PASSWORD": "pw-Zq81xK",
                      "DATABASE_URL": "postgres://app:pw-Zq81xK@db/app", "PGPORT": "5432"}
    assert (db.command, db.depends_on) == (None, ())
    assert (db.ready.command, db.ready.timeout) == ("pg_isready -q", 60.0)
    assert web.command == ("sh", "-c", "httpd -f -p 8080 -h /www")
    assert web.depends_on == ("db",)
    assert [(f.path, f.content, f.mode) for f in web.files] == \
        [("/www/index.html", b"pg 16\n", 0o644)]
    assert (web.ready.tcp, web.ready.timeout) == (8080, 20.0)
    assert cache.command == ("sleep", "3600")
    assert cache.ready.log == "^ready$"


def test_a_service_template_error_names_the_service_key(project):
    env = SVC_ENV.replace('PGPORT: "5432"', 'PGPORT: "{{ pg_port }}"')
    svc_project(project, env=env)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [f"environments/svc.yaml:{line_of(env, 'PGPORT')}: "
                              "services.db.env.PGPORT: 'pg_port' is undefined; known parameters: "
                              "db_password, pg_version (declare it under `parameters:` in the "
                              "environment)"]


# ---- `repro plan` ---------------------------------------------------------------------


def test_plan_shows_services_loads_and_queries_with_secrets_masked(project, cli):
    svc_project(project)
    as_yaml = cli("plan", "S")
    as_json = cli("plan", "S", "--json")
    assert (as_yaml.exit_code, as_json.exit_code) == (0, 0)
    assert "pw-Zq81xK" not in as_yaml.stdout + as_json.stdout
    data = yaml.safe_load(as_yaml.stdout)
    assert json.loads(as_json.stdout) == data
    assert data["parameters"] == {"db_password": "***", "pg_version": "15"}
    assert data["services"] == [
        {"name": "db", "image": "postgres:15",
         "env": {"POSTGRES_PASSWORD": "***", "DATABASE_URL": "postgres://app:***@db/app",
                 "PGPORT": "5432"},
         "files": [], "depends_on": [], "ready": "command pg_isready -q"},
        {"name": "web", "image": "busybox", "env": {}, "files": ["/www/index.html"],
         "depends_on": ["db"], "ready": "port 8080 listening"},
        {"name": "cache", "image": "busybox", "env": {}, "files": [], "depends_on": [],
         "ready": "log line /^ready$/"},
    ]
    assert [{k: v for k, v in load.items() if k != "user"} for load in data["load"]] == [
        {"service": "db", "kind": "dump", "from": "scenarios/S/customer/billing.dump",
         "database": "billing", "table": None},
        {"service": "db", "kind": "sql", "from": "scenarios/S/customer/schema.sql",
         "database": "postgres", "table": None},
        {"service": "db", "kind": "csv", "from": "scenarios/S/customer/customers.csv",
         "database": "billing", "table": "customers", "delimiter": ";", "header": False,
         "encoding": "LATIN1"},
    ]
    assert [(q["name"], q["service"], q["sql"]) for q in data["queries"]] == [
        ("totals", "db", "SELECT 1 AS one")]
    assert data["capture"] == []  # the oracle's `file: totals` is the query, not a file


def test_plan_shows_which_container_a_data_copy_goes_into(project, cli):
    scenario = ("environment: svc\ndata:\n  - {from: page.txt, to: /www/page.txt, "
                "service: web}\n  - {from: page.txt, to: /srv/page.txt}\n" + SCENARIO_TAIL)
    svc_project(project, scenario=scenario)
    project.write("scenarios/S/page.txt", "hello\n")
    plan = plan_scenario(Path("S"))
    assert [(d.to, d.service) for d in plan.data] == [("/www/page.txt", "web"),
                                                     ("/srv/page.txt", None)]
    result = cli("plan", "S", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)["data"]
    # a copy into the web service must not read like a copy into the steps' container
    assert [d["into"] for d in shown] == ["web", "sandbox"], shown


def test_plan_of_a_service_build_shows_its_context(project, cli):
    project.environment("svc", "image: busybox\nservices:\n"
                               "  api: {image: {build: {context: api}}}\n")
    project.write("environments/api/Dockerfile", "FROM busybox\n")
    project.scenario("S", "environment: svc\n" + SCENARIO_TAIL)
    result = cli("plan", "S", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["services"] == [
        {"name": "api", "image": "environments/api", "env": {}, "files": [],
         "depends_on": [], "ready": None}]


def test_a_secret_in_a_service_image_reference_is_masked(project, cli):
    # As for the environment's own image (test_cli): the plan never shows a secret.
    project.environment("svc", "image: busybox\nparameters:\n"
                               "  tenant_key: {default: k-93XyZ, secret: true}\n"
                               "services:\n"
                               "  db: {image: 'registry.example.com/{{ tenant_key }}/db:1'}\n")
    project.scenario("S", "environment: svc\n" + SCENARIO_TAIL)
    result = cli("plan", "S", "--json")
    assert result.exit_code == 0
    assert "k-93XyZ" not in result.stdout
    assert json.loads(result.stdout)["services"][0]["image"] == "registry.example.com/***/db:1"


def test_a_secret_in_a_service_build_arg_is_refused(project, cli):
    # Build args are kept in the image history: a service's build is no exception.
    env = dedent("""\
        image: busybox
        parameters:
          api_token: {default: tok-7Q2x9, secret: true}
        services:
          api:
            image:
              build:
                context: api
                args: {TOKEN: "{{ api_token }}"}
        """)
    project.environment("svc", env)
    project.write("environments/api/Dockerfile", "FROM busybox\n")
    project.scenario("S", "environment: svc\n" + SCENARIO_TAIL)
    result = cli("plan", "S")
    assert result.exit_code == 2, result.stdout
    assert "tok-7Q2x9" not in result.stdout + result.stderr
    assert f"environments/svc.yaml:{line_of(env, 'TOKEN')}: services.api.image.build.args." \
           "TOKEN: uses the secret parameter 'api_token'" in result.stderr


# ---- load planning ----------------------------------------------------------------------


def test_loads_are_planned_with_their_kind_and_options(project):
    svc_project(project)
    plan = plan_scenario(Path("S"))
    customer = project.root / "scenarios/S/customer"
    assert plan.loads == (
        LoadPlan("db", "dump", customer / "billing.dump", "billing", "billing"),
        LoadPlan("db", "sql", customer / "schema.sql", "postgres", "postgres"),
        LoadPlan("db", "csv", customer / "customers.csv", "billing", "billing", "customers",
                 ";", False, "LATIN1"),
    )
    assert plan.queries == (QueryPlan("totals", "db", "SELECT 1 AS one", "billing",
                                      "postgres", ("one",)),)


@pytest.mark.parametrize("name, head, kind", [
    ("export.sql", b"PGDMP\x01\x0e\x00", "dump"),    # the magic decides, not the name
    ("export.dump", b"-- plain SQL\n", "sql"),
    ("export.dump", b"PGDM", "sql"),                 # shorter than the magic
    ("export.sql", b"", "sql"),
    ("export.sql", b"pgdmp", "sql"),
])
def test_a_dump_is_recognised_by_its_pgdmp_magic(project, name, head, kind):
    svc_project(project, scenario=f"environment: svc\nload: [{{service: db, sql: {name}}}]\n"
                + SCENARIO_TAIL)
    project.write(f"scenarios/S/{name}", head)
    assert [ld.kind for ld in plan_scenario(Path("S")).loads] == [kind]


def test_a_missing_export_is_a_file_line_error(project):
    scenario = dedent("""\
        environment: svc
        load:
          - service: db
            sql: customer/billing.dump
          - service: db
            csv: customer/nope.csv
            table: t
          - service: db
            sql: customer/gone.sql
        """) + SCENARIO_TAIL
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [
        f"scenarios/S/scenario.yaml:{line_of(scenario, 'nope.csv')}: load[1].csv: "
        "scenarios/S/customer/nope.csv not found",
        f"scenarios/S/scenario.yaml:{line_of(scenario, 'gone.sql')}: load[2].sql: "
        "scenarios/S/customer/gone.sql not found",
    ]


def test_a_load_into_an_unknown_service_is_named_with_suggestions(project):
    scenario = dedent("""\
        environment: svc
        load:
          - {service: dbb, sql: customer/schema.sql}
          - {service: search, sql: customer/schema.sql}
        queries:
          - {name: q, service: webb, sql: SELECT 1}
        """) + SCENARIO_TAIL
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [
        f"scenarios/S/scenario.yaml:{line_of(scenario, 'dbb')}: load[0].service: no service "
        "'dbb' (did you mean 'db'?)",
        f"scenarios/S/scenario.yaml:{line_of(scenario, 'search')}: load[1].service: no "
        "service 'search' (services: web, db, cache)",
        f"scenarios/S/scenario.yaml:{line_of(scenario, 'webb')}: queries[0].service: no "
        "service 'webb' (did you mean 'web'?)",
    ]


def test_a_load_in_an_environment_without_services_says_so(project):
    project.environment("plain", "image: busybox\n")
    project.scenario("S", "environment: plain\nload: [{service: db, sql: x.sql}]\n"
                     + SCENARIO_TAIL)
    project.write("scenarios/S/x.sql", "SELECT 1;\n")
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == ["scenarios/S/scenario.yaml:2: load[0].service: no service 'db' "
                              "(services: none in this environment)"]


@pytest.mark.parametrize("entry, where, message", [
    ("{service: db, csv: customer/customers.csv}", "load[0].table",
     "a CSV load needs its `table`"),
    ("{service: db, csv: customer/customers.csv, table: ''}", "load[0].table",
     "a CSV load needs its `table`"),
    ("{service: db}", "load[0]", "a load needs `sql` or `csv`"),
    ("{service: db, sql: customer/schema.sql, csv: customer/customers.csv, table: t}",
     "load[0]", "a load needs `sql` or `csv`"),
    ("{service: db, csv: customer/customers.csv, table: t, delimiter: ';;'}",
     "load[0].delimiter", "must be one character"),
])
def test_malformed_loads_are_refused(project, entry, where, message):
    scenario = f"environment: svc\nload:\n  - {entry}\n" + SCENARIO_TAIL
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [f"scenarios/S/scenario.yaml:3: {where}: {message}"]


# ---- queries, captures and the oracle --------------------------------------------------------


def test_a_query_named_like_a_capture_is_refused(project):
    scenario = dedent("""\
        environment: svc
        capture:
          - /var/lib/app/totals
          - {path: /srv/out.csv, name: rows}
        queries:
          - {name: totals, service: db, sql: SELECT 1}
          - {name: rows, service: db, sql: SELECT 2}
          - {name: fine, service: db, sql: SELECT 3}
        """) + SCENARIO_TAIL
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [
        f"scenarios/S/scenario.yaml:{line_of(scenario, 'queries:')}: queries: rows, totals: a "
        "query and a capture share the name; the oracle could not tell them apart"]


def test_two_queries_with_one_name_are_refused(project):
    scenario = dedent("""\
        environment: svc
        queries:
          - {name: q, service: db, sql: SELECT 1}
          - {name: q, service: db, sql: SELECT 2}
        """) + SCENARIO_TAIL
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [f"scenarios/S/scenario.yaml:{line_of(scenario, 'SELECT 2')}: "
                              "queries[1].name: two queries are named 'q'"]


@pytest.mark.parametrize("name", ["../../../../ESCAPED", "a/b", "/etc/passwd"])
def test_a_query_name_cannot_be_a_path(project, name):
    # The name becomes `queries/NAME.csv` in the run folder: `..` would write anywhere.
    scenario = ("environment: svc\nqueries:\n"
                f"  - {{name: {json.dumps(name)}, service: db, sql: SELECT 1}}\n" + SCENARIO_TAIL)
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert any(":3: queries[0].name: " in line for line in errors_of(exc)), errors_of(exc)


def test_the_oracle_file_condition_accepts_a_query_name(project):
    scenario = dedent("""\
        environment: svc
        queries:
          - {name: totals, service: db, sql: SELECT 1}
        steps: [{name: s, run: "true"}]
        oracle:
          all:
            - {file: totals, contains: "^1$"}
            - {file: totals, exists: true}
            - {file: /var/log/app.log, exists: false}
        """)
    svc_project(project, scenario=scenario)
    plan = plan_scenario(Path("S"))
    # the query is not mistaken for a file to capture; the absolute path is captured
    assert [(c.name, c.path) for c in plan.captures] == \
        [("/var/log/app.log", "/var/log/app.log")]
    assert [c.file for c in plan.oracle.conditions] == ["totals", "totals", "/var/log/app.log"]


def test_the_oracle_file_condition_refuses_an_unknown_name(project):
    scenario = dedent("""\
        environment: svc
        queries:
          - {name: totals, service: db, sql: SELECT 1}
        steps: [{name: s, run: "true"}]
        oracle: {any: [{file: total, contains: x}]}
        """)
    svc_project(project, scenario=scenario)
    with pytest.raises(ConfigError) as exc:
        plan_scenario(Path("S"))
    assert errors_of(exc) == [f"scenarios/S/scenario.yaml:{line_of(scenario, 'oracle')}: "
                              "oracle.any[0].file: 'total' is neither a capture name nor an "
                              "absolute path"]


def test_a_failed_query_error_is_masked_in_the_record(project, tmp_path):
    # psql echoes offending values (`invalid input syntax ...: "<value>"`): a secret the
    # product stored in its database must not reach record.json through it.
    svc_project(project)
    plan = plan_scenario(Path("S"))
    record = RunRecord(plan, "S-1", tmp_path / "run")
    record.captures.append(CaptureObservation(
        "totals", "query:totals", None, None, query=True,
        error='ERROR: invalid input syntax for type integer: "pw-Zq81xK"'))
    shown = json.dumps(record.to_dict())
    assert "pw-Zq81xK" not in shown
    assert record.to_dict()["captures"][0]["error"] == \
        'ERROR: invalid input syntax for type integer: "***"'


# ---- repro.config.compose_import.convert ----------------------------------------------


def convert(project, text: str, main: str | None = None, folder: str = "shop"):
    path = project.write(f"{folder}/docker-compose.yml", text)
    return compose.convert(path, project.root / "environments", main)


@pytest.mark.parametrize("check, ready", [
    ({"test": ["CMD", "pg_isready", "-U", "app"], "interval": "1s", "retries": 10},
     {"command": ["pg_isready", "-U", "app"], "interval": 1.0, "timeout": 30}),
    ({"test": ["CMD-SHELL", "wget -qO- http://127.0.0.1/ || exit 1"], "interval": "10s",
      "retries": 5},
     {"command": "wget -qO- http://127.0.0.1/ || exit 1", "interval": 10.0, "timeout": 60}),
    ({"test": "curl -f http://localhost/health", "interval": "1m30s", "retries": 2},
     {"command": "curl -f http://localhost/health", "interval": 90.0, "timeout": 270}),
    ({"test": ["CMD", "true"]},  # compose defaults: every 5s, 3 retries -> at least 30s
     {"command": ["true"], "interval": 5.0, "timeout": 30}),
    ({"test": ["CMD", "true"], "interval": "500ms", "retries": 3},
     {"command": ["true"], "interval": 0.5, "timeout": 30}),
])
def test_healthchecks_become_readiness_checks(project, check, ready):
    text = yaml.safe_dump({"services": {"app": {"build": "."},
                                        "db": {"image": "postgres", "healthcheck": check}}})
    doc, notes = convert(project, text)
    assert doc["services"]["db"]["ready"] == ready
    assert notes == []


def test_healthchecks_that_cannot_be_converted(project):
    text = yaml.safe_dump({"services": {
        "app": {"build": "."},
        "off": {"image": "x", "healthcheck": {"test": ["CMD", "true"], "disable": True}},
        "none": {"image": "x", "healthcheck": {"test": ["NONE"]}},
    }})
    doc, notes = convert(project, text)
    assert "ready" not in doc["services"]["off"] and "ready" not in doc["services"]["none"]
    assert notes == ["none: healthcheck ['NONE'] not understood; add `ready:` by hand"]


def test_environment_as_list_and_as_mapping(project):
    doc, _ = convert(project, dedent("""\
        services:
          app:
            build: .
            environment: ["A=1", "URL=postgres://db/x?a=b", "EMPTY="]
          db:
            image: postgres
            environment: {POSTGRES_DB: app, PORT: 5432, EMPTY: ""}
        """))
    assert doc["env"] == {"A": "1", "URL": "postgres://db/x?a=b", "EMPTY": ""}
    assert doc["services"]["db"]["env"] == {"POSTGRES_DB": "app", "PORT": "5432",
                                            "EMPTY": ""}


def test_a_boolean_environment_value_keeps_compose_spelling(project):
    # Compose passes `DEBUG: true` as the string "true" (as repro itself reads `true`).
    doc, _ = convert(project, "services:\n  app:\n    build: .\n"
                              "    environment: {DEBUG: true, TRACE: false}\n")
    assert doc["env"] == {"DEBUG": "true", "TRACE": "false"}


def test_build_as_string_and_as_mapping_with_args(project):
    doc, notes = convert(project, dedent("""\
        services:
          app:
            build: ./app
            working_dir: /srv
            user: "1000"
          api:
            build:
              context: ./api
              dockerfile: Dockerfile.prod
              args: ["VERSION=1.2", "FLAVOUR=slim"]
          worker:
            build:
              context: ../shared/worker
              args: {RELEASE: 3}
          db:
            image: postgres:15
        """))
    assert doc["description"] == "imported from shop/docker-compose.yml"
    assert doc["image"] == {"build": {"context": "../shop/app"}}
    assert (doc["workdir"], doc["user"]) == ("/srv", "1000")
    assert doc["services"] == {
        "api": {"image": {"build": {"context": "../shop/api", "dockerfile": "Dockerfile.prod",
                                    "args": {"VERSION": "1.2", "FLAVOUR": "slim"}}}},
        "worker": {"image": {"build": {"context": "../shared/worker",
                                       "args": {"RELEASE": "3"}}}},
        "db": {"image": "postgres:15"},
    }
    assert notes == []


def test_single_file_bind_mounts_become_files_relative_to_the_environments(project):
    project.write("shop/conf/app.ini", "[app]\n")
    project.write("shop/conf/products.json", "[]\n")
    project.write("shop/conf/data/a.csv", "a\n")
    doc, notes = convert(project, dedent("""\
        services:
          app:
            build: .
            volumes:
              - ./conf/app.ini:/etc/app/app.ini:ro
          web:
            image: nginx
            volumes:
              - type: bind
                source: ./conf/products.json
                target: /www/products.json
              - ./conf/data:/srv/data
              - cache:/var/cache/nginx
              - ./conf/missing.txt:/etc/missing.txt
        volumes:
          cache: {}
        """))
    assert doc["files"] == [{"path": "/etc/app/app.ini", "template": "../shop/conf/app.ini"}]
    assert doc["services"]["web"]["files"] == [
        {"path": "/www/products.json", "template": "../shop/conf/products.json"}]
    tail = ("not converted (only single files become `files:`; load data with the "
            "scenario's `data:` or `load:`)")
    assert notes == [f"web: volume './conf/data:/srv/data' {tail}",
                     f"web: volume 'cache:/var/cache/nginx' {tail}",
                     f"web: volume './conf/missing.txt:/etc/missing.txt' {tail}"]


def test_ports_networks_and_entrypoint_are_listed_as_not_converted(project):
    doc, notes = convert(project, dedent("""\
        services:
          app:
            build: .
            command: ["serve", "--port", "80"]
            ports: ["80:80"]
          db:
            image: postgres
            command: postgres -c fsync=off
            entrypoint: /custom-entrypoint.sh
            networks: [back]
            restart: always
        networks:
          back: {}
        """))
    assert "command" not in doc
    by_name = " (services reach each other by name on the run's network)"
    assert notes == [
        "app: command not used: the scenario's steps run in this container",
        f"app: `ports` not converted{by_name}",
        "db: `entrypoint` not converted",
        f"db: `networks` not converted{by_name}",
        "db: `restart` not converted",
    ]


def test_a_command_keeps_compose_semantics(project):
    # Compose splits a string command like a shell would and runs it without a shell (an
    # image's ENTRYPOINT gets `postgres -c fsync=off`); a repro string runs with `sh -c`.
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          db:
            image: postgres
            command: postgres -c 'shared_buffers=64MB' -c fsync=off
          web:
            image: busybox
            command: ["httpd", "-f", "-p", "8080"]
        """))
    assert doc["services"]["db"]["command"] == ["postgres", "-c", "shared_buffers=64MB", "-c",
                                                "fsync=off"]
    assert doc["services"]["web"]["command"] == ["httpd", "-f", "-p", "8080"]


def test_depends_on_as_list_and_as_mapping(project):
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          db: {image: postgres}
          cache: {image: redis}
          api:
            image: api
            depends_on: [db, cache]
          worker:
            image: worker
            depends_on:
              db: {condition: service_healthy}
        """))
    assert doc["services"]["api"]["depends_on"] == ["db", "cache"]
    assert doc["services"]["worker"]["depends_on"] == ["db"]


def test_main_defaults_to_the_first_service_with_a_build(project):
    text = dedent("""\
        services:
          db: {image: postgres}
          shop: {build: ./shop}
          admin: {build: ./admin}
        """)
    doc, _ = convert(project, text)
    assert doc["image"] == {"build": {"context": "../shop/shop"}}
    assert list(doc["services"]) == ["db", "admin"]
    doc, _ = convert(project, text, main="admin")
    assert doc["image"] == {"build": {"context": "../shop/admin"}}
    assert list(doc["services"]) == ["db", "shop"]
    doc, _ = convert(project, text, main="db")
    assert doc["image"] == "postgres"
    assert list(doc["services"]) == ["shop", "admin"]


def test_main_defaults_to_the_first_service_without_any_build(project):
    doc, _ = convert(project, "services:\n  web: {image: nginx}\n  db: {image: postgres}\n")
    assert doc["image"] == "nginx" and list(doc["services"]) == ["db"]


def test_an_unknown_main_or_no_services_is_an_error(project):
    with pytest.raises(ConfigError) as exc:
        convert(project, "services:\n  web: {image: nginx}\n  db: {image: pg}\n", main="api")
    assert errors_of(exc) == ["shop/docker-compose.yml: --main api: no such service "
                              "(services: web, db)"]
    with pytest.raises(ConfigError) as exc:
        convert(project, "version: '3'\nservices: {}\n")
    assert errors_of(exc) == ["shop/docker-compose.yml:2: services: no services to import"]


def test_a_dependency_on_the_main_service_converts_to_a_valid_environment(project):
    # The main service is the steps' container, which starts with the services anyway.
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          db: {image: postgres}
          proxy:
            image: nginx
            depends_on: [app, db]
        """))
    deps = doc["services"]["proxy"].get("depends_on", [])
    assert "app" not in deps and "db" in deps


def test_renamed_services_keep_their_dependencies(project):
    # `my.db` is not a valid service name and becomes `my-db`: so must the references.
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          my.db: {image: postgres}
          api:
            image: api
            depends_on: [my.db]
        """))
    assert list(doc["services"]) == ["my-db", "api"]
    assert doc["services"]["api"]["depends_on"] == ["my-db"]


def test_service_keys_with_no_equivalent_are_listed_not_dropped(project):
    _, notes = convert(project, dedent("""\
        services:
          app: {build: .}
          db:
            image: postgres
            user: postgres
            working_dir: /var/lib/postgresql
            mem_limit: 512m
            tmpfs: [/run]
        """))
    for key in ("user", "working_dir", "mem_limit", "tmpfs"):
        assert any(note.startswith("db: ") and key in note for note in notes), (key, notes)


# ---- `repro env import` ----------------------------------------------------------------------

SHOP_COMPOSE = """\
services:
  shop:
    build: ./shop
    environment: {SHOP_API: "http://catalog:8080"}
    ports: ["80:80"]
  catalog:
    image: busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    volumes:
      - ./conf/products.json:/www/products.json:ro
      - cache:/var/cache/catalog
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/ >/dev/null"]
      interval: 1s
      retries: 10
    depends_on: [db]
  db:
    image: postgres:15
volumes:
  cache: {}
"""


def shop(project) -> None:
    project.write("environments/.keep", "")
    project.write("webshop/docker-compose.yml", SHOP_COMPOSE)
    project.write("webshop/conf/products.json", '[{"sku": "A-100"}]\n')
    project.write("webshop/shop/Dockerfile", "FROM busybox\n")


def test_env_import_writes_a_valid_environment_and_lists_what_it_left_out(project, cli):
    shop(project)
    result = cli("env", "import", "webshop/docker-compose.yml")
    assert result.exit_code == 0, result.stderr
    notes = ["catalog: volume 'cache:/var/cache/catalog' not converted (only single files "
             "become `files:`; load data with the scenario's `data:` or `load:`)",
             "shop: `ports` not converted (services reach each other by name on the run's "
             "network)"]
    assert result.stdout.splitlines() == [
        "wrote environments/webshop.yaml: the steps' container and 2 service(s)",
        *(f"  not converted: {note}" for note in notes)]
    text = (project.root / "environments/webshop.yaml").read_text()
    assert text.splitlines()[:3] == [
        "# Imported from webshop/docker-compose.yml by `repro env import`.",
        *(f"# not converted: {note}" for note in notes)]
    assert yaml.safe_load(text) == {
        "description": "imported from webshop/docker-compose.yml",
        "image": {"build": {"context": "../webshop/shop"}},
        "env": {"SHOP_API": "http://catalog:8080"},
        "services": {
            "catalog": {"image": "busybox", "command": ["httpd", "-f", "-p", "8080", "-h",
                                                        "/www"],
                        "files": [{"path": "/www/products.json",
                                   "template": "../webshop/conf/products.json"}],
                        "ready": {"command": "wget -qO- http://127.0.0.1:8080/ >/dev/null",
                                  "interval": 1.0, "timeout": 30},
                        "depends_on": ["db"]},
            "db": {"image": "postgres:15"}}}
    check = cli("validate", "environments/webshop.yaml")
    assert (check.exit_code, check.stderr) == (0, "1 of 1 files valid\n")
    env = load_environment(project.root / "environments/webshop.yaml").record
    assert start_order(env) == ["db", "catalog"]


def test_env_import_refuses_to_overwrite_without_force(project, cli):
    shop(project)
    assert cli("env", "import", "webshop/docker-compose.yml").exit_code == 0
    target = project.root / "environments/webshop.yaml"
    target.write_text("# mine\n")
    again = cli("env", "import", "webshop/docker-compose.yml")
    assert (again.exit_code, again.stdout) == (2, "")
    assert again.stderr == ("repro: error: environments/webshop.yaml exists; pass --force to "
                            "overwrite it or --name to choose another\n")
    assert target.read_text() == "# mine\n"
    other = cli("env", "import", "webshop/docker-compose.yml", "--name", "shop2",
                "--main", "catalog")
    assert other.exit_code == 0, other.stderr
    assert other.stdout.startswith("wrote environments/shop2.yaml: the steps' container and "
                                   "2 service(s)\n")
    assert yaml.safe_load((project.root / "environments/shop2.yaml").read_text())["image"] \
        == "busybox"
    forced = cli("env", "import", "webshop/docker-compose.yml", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert target.read_text().startswith("# Imported from webshop/docker-compose.yml")


def test_env_import_of_an_unconvertible_file_writes_nothing(project, cli):
    # A service without image or build converts to an invalid environment: refused, and
    # not left behind (a second attempt must not need --force).
    project.write("environments/.keep", "")
    project.write("odd/docker-compose.yml", "services:\n  app: {build: .}\n"
                                            "  base: {extends: {file: x.yml, service: y}}\n")
    result = cli("env", "import", "odd/docker-compose.yml")
    assert result.exit_code == 2
    assert "services.base.image" in result.stderr
    assert not (project.root / "environments/odd.yaml").exists()


def test_env_import_of_a_missing_compose_file(project, cli):
    project.write("environments/.keep", "")
    result = cli("env", "import", "nope/docker-compose.yml")
    assert (result.exit_code, result.stderr) == (
        2, "repro: error: nope/docker-compose.yml: file not found\n")


# ---- repro.execute.postgres, with a stand-in for the service container ------------------------


class FakeService(FakeContainer):
    """A service container answering each exec (psql) with a canned result."""

    def __init__(self, *answers: tuple[int, str, str]):
        super().__init__("repro-run-db", "db", status=Status.RUNNING)
        if answers:
            self.answer("", *(Answer(code, out, err) for code, out, err in answers))

    @property
    def copied(self) -> dict[str, bytes]:
        return self.files

    @property
    def runs(self) -> list[tuple[list[str], str | None]]:
        return [(list(request.argv), request.user) for request in self.execs]


def load_plan(project, name: str, body: bytes, kind: str, **options) -> LoadPlan:
    path = project.write(f"scenarios/S/customer/{name}", body)
    return LoadPlan("db", kind, path, options.pop("database", "billing"),
                    options.pop("user", "billing"), **options)


def test_a_sql_dump_is_copied_in_and_run_with_psql(project):
    body = b"CREATE TABLE t (a int);\n"
    plan = load_plan(project, "billing.sql", body, "sql")
    service = FakeService()
    postgres.load(service, plan, 3)
    assert service.copied == {"/tmp/repro-load/03.sql": body}
    assert service.runs == [(["psql", "-v", "ON_ERROR_STOP=1", "-X", "-q", "-U", "billing",
                              "-d", "billing", "-f", "/tmp/repro-load/03.sql"],
                             "postgres")]
    assert plan.source.read_bytes() == body  # the customer's file is only read


def test_a_custom_format_dump_is_restored_with_pg_restore(project):
    plan = load_plan(project, "billing.dump", b"PGDMP\x01", "dump")
    service = FakeService()
    postgres.load(service, plan, 0)
    assert service.runs == [(["pg_restore", "--exit-on-error", "--no-owner", "-U", "billing",
                              "-d", "billing", "/tmp/repro-load/00.dump"], "postgres")]


def test_a_csv_is_loaded_with_copy_and_its_options(project):
    plan = load_plan(project, "customers.csv", b"1;a\n", "csv", table="public.customers",
                     delimiter=";", header=False, encoding="LATIN1")
    service = FakeService()
    postgres.load(service, plan, 1)
    assert service.runs == [(["psql", "-v", "ON_ERROR_STOP=1", "-X", "-q", "-U", "billing",
                              "-d", "billing", "-c",
                              "\\copy public.customers FROM '/tmp/repro-load/01.csv' "
                              "WITH (FORMAT csv, HEADER false, DELIMITER ';', ENCODING "
                              "'LATIN1')"], "postgres")]


def test_a_csv_whose_name_has_a_quote_is_still_found(project):
    plan = load_plan(project, "O'Brien.csv", b"1;a\n", "csv", table="t", delimiter=";")
    service = FakeService()
    postgres.load(service, plan, 1)
    (copied,) = service.copied
    command = service.runs[0][0][-1]
    literal = re.search(r"FROM '((?:[^']|'')*)'", command)
    assert literal is not None and literal.group(1).replace("''", "'") == copied, command


SQL_ERROR = ('psql:/tmp/repro-load/00-x.sql:5: ERROR:  invalid input syntax for type integer: '
             '"oops"\nLINE 1: INSERT INTO t VALUES (\'oops\');\n'
             '                              ^\n')


def test_a_failing_sql_line_is_named(project):
    plan = load_plan(project, "x.sql", b"-- x\n" * 5, "sql")
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((3, "", SQL_ERROR)), plan, 0)
    assert errors_of(exc) == ['scenarios/S/customer/x.sql:5: ERROR: invalid input syntax for '
                              'type integer: "oops" (loading into service db, database '
                              'billing; nothing ran)']


def test_a_notice_before_the_error_does_not_hide_it(project):
    # `DROP TABLE IF EXISTS` (line 2) prints a NOTICE: the error is the line that stopped.
    plan = load_plan(project, "x.sql", b"-- x\n" * 5, "sql")
    err = 'psql:/tmp/repro-load/00-x.sql:2: NOTICE:  table "t" does not exist, skipping\n' \
        + SQL_ERROR
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((3, "", err)), plan, 0)
    assert errors_of(exc) == ['scenarios/S/customer/x.sql:5: ERROR: invalid input syntax for '
                              'type integer: "oops" (loading into service db, database '
                              'billing; nothing ran)']


def test_a_bad_row_of_a_copy_block_is_named_by_its_own_line(project):
    dump = b"CREATE TABLE t2 (a int);\nCOPY t2 (a) FROM stdin;\n1\n2\nzz\n4\n\\.\nSELECT 1;\n"
    plan = load_plan(project, "c.sql", dump, "sql")
    err = ('psql:/tmp/repro-load/00-c.sql:7: ERROR:  invalid input syntax for type integer: '
           '"zz"\nCONTEXT:  COPY t2, line 3, column a: "zz"\n')
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((3, "", err)), plan, 0)
    assert errors_of(exc) == ['scenarios/S/customer/c.sql:5: ERROR: invalid input syntax for '
                              'type integer: "zz" (loading into service db, database billing; '
                              'nothing ran)']


def test_a_bad_csv_row_is_named_by_its_line(project):
    plan = load_plan(project, "c.csv", b"id;name\n1;a\n2;b;c\n", "csv", table="c",
                     delimiter=";")
    err = 'ERROR:  extra data after last expected column\nCONTEXT:  COPY c, line 3: "2;b;c"\n'
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((1, "", err)), plan, 0)
    assert errors_of(exc) == ["scenarios/S/customer/c.csv:3: ERROR: extra data after last "
                              "expected column (loading into service db, database billing; "
                              "nothing ran)"]


def test_a_pg_restore_failure_says_what_failed(project):
    plan = load_plan(project, "b.dump", b"PGDMP\x01", "dump")
    err = ('pg_restore: error: could not execute query: ERROR:  relation "c" already exists\n'
           'Command was: CREATE TABLE public.c (\n    id integer,\n    name text\n);\n\n\n')
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((1, "", err)), plan, 0)
    (message,) = errors_of(exc)
    assert message.startswith("scenarios/S/customer/b.dump: ")
    assert 'relation "c" already exists' in message, message


def test_a_service_without_psql_is_a_sandbox_error(project):
    plan = load_plan(project, "x.sql", b"SELECT 1;\n", "sql")
    with pytest.raises(SandboxError) as exc:
        postgres.load(FakeService((127, "", "sh: psql: not found\n")), plan, 0)
    assert str(exc.value) == ("service db has no psql: loading scenarios/S/customer/x.sql "
                              "needs a PostgreSQL image")


def test_a_query_returns_csv_or_the_error_as_an_observation():
    plan = QueryPlan("totals", "db", "SELECT a FROM t", "billing", "reader")
    service = FakeService((0, "a\n1\n", ""))
    assert postgres.query(service, plan) == ("a\n1\n", None)
    assert service.runs == [(["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-U",
                              "reader", "-d", "billing", "-c", "SELECT a FROM t"], "postgres")]
    err = 'ERROR:  column "nope" does not exist\nLINE 1: select nope from t\n        ^\n'
    assert postgres.query(FakeService((1, "", err)), plan) == (
        "", 'ERROR: column "nope" does not exist LINE 1: select nope from t ^')
    assert postgres.query(FakeService((2, "", "")), plan) == ("", "psql exited 2")


@pytest.mark.parametrize("reported, row, expected", [
    (7, 3, 5),    # the third data row of the block that ends on line 7
    (7, 1, 3),
    (12, 2, 11),  # the second COPY block
    (1, 1, 1),    # no COPY above the reported line: keep what psql said
])
def test_copy_row_line(tmp_path, reported, row, expected):
    dump = tmp_path / "d.sql"
    dump.write_bytes(b"SET x = 1;\nCOPY a (x) FROM stdin;\n1\n2\nzz\n4\n\\.\n"
                     b"-- next\nCOPY b (y) FROM stdin;\nq\nbad\n\\.\n")
    assert postgres._copy_row_line(dump, reported, row) == expected


# ---- readiness, with a stand-in container -----------------------------------------------------

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:0050 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1
  sl  local_address                         remote_address                        st tx_queue
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 0 0 0
"""


def db(probes=(), log: str = "", status: Status = Status.RUNNING,
       health: str | None = None) -> FakeContainer:
    """A service whose readiness command answers `probes` in turn, then fails (exit 1)."""
    service = FakeContainer("repro-run-db", "db", log=log, status=status, health=health,
                            exit_code=4 if status is Status.EXITED else None,
                            default=Answer(1))
    service.answer("cat /proc/net/tcp", Answer(0, PROC_NET_TCP))
    if probes:
        service.answer("sh -c", *(Answer(code) for code in probes))
    return service


@pytest.mark.parametrize("port, listening", [(8080, True), (5432, True), (80, False),
                                             (1, False)])
def test_a_listening_port_is_read_from_proc_net_tcp(port, listening):
    # 8080 listens on IPv4, 5432 on IPv6; 80 is only an established connection
    assert readiness._listening(db(), port) is listening


def test_ready_checks_describe_themselves():
    assert [describe_ready(r) for r in (
        Ready(command="pg_isready"), Ready(tcp=5432), Ready(log="^up$"),
        Ready(healthcheck=True))] == ["command pg_isready", "port 5432 listening",
                                      "log line /^up$/", "its HEALTHCHECK"]


def test_waiting_for_readiness():
    assert readiness.wait_ready("db", db(), None) == 0.0
    fast = {"timeout": 5.0, "interval": 0.01}
    assert readiness.wait_ready("db", db([1, 1, 0]), Ready(command="x", **fast)) < 1
    assert readiness.wait_ready("db", db(), Ready(tcp=8080, **fast)) < 1
    assert readiness.wait_ready("db", db(log="boot\nup\n"),
                                Ready(log="^up$", **fast)) < 1
    assert readiness.wait_ready("db", db(health="healthy"),
                                Ready(healthcheck=True, **fast)) < 1


def test_a_service_never_ready_or_stopped_is_named_with_its_log():
    quick = {"timeout": 0.05, "interval": 0.01}
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", db(log="a\n\nFATAL: no config\n"),
                             Ready(tcp=80, **quick))
    assert str(exc.value) == ("service db not ready after 0.05s (waiting for port 80 "
                              "listening); its log ends: a | FATAL: no config")
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", db(log="bad option\n", status=Status.EXITED),
                             Ready(log="^up$", **quick))
    assert str(exc.value) == ("service db stopped (exit 4) before it was ready; its log "
                              "ends: bad option")
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", db(), Ready(healthcheck=True, **quick))
    assert str(exc.value) == ("repro-run-db: `ready: {healthcheck: true}` but its image has "
                              "no HEALTHCHECK; use command, tcp or log instead")


def test_the_ready_timeout_is_not_overshot_by_a_long_interval():
    # A compose healthcheck `interval: 30s` becomes the polling interval: the deadline
    # must still hold (sleep no longer than what is left of it).
    started = time.monotonic()
    with pytest.raises(SandboxError):
        readiness.wait_ready("db", db(), Ready(tcp=81, timeout=0.1, interval=1.5))
    assert time.monotonic() - started < 1.0


def test_a_hanging_readiness_command_is_not_ready_and_is_bounded_by_the_deadline():
    service = db()
    service.answer("sh -c", Answer(None, timed_out=True), Answer(0))
    assert readiness.wait_ready("db", service, Ready(command="x", timeout=5.0,
                                                     interval=0.01)) < 1
    first, second = service.execs
    assert first.argv == ("sh", "-c", "x") and 0.05 <= first.timeout <= 5.0
    assert second.timeout <= first.timeout  # what is left of the deadline


def test_a_readiness_command_the_image_lacks_fails_at_once():
    service = db()
    service.answer("sh -c", Answer(127, "", "sh: pg_isready: not found\n"))
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", service, Ready(command="pg_isready", timeout=5.0))
    assert str(exc.value) == ("service db: its readiness command pg_isready cannot run in "
                              "its image (exit 127: sh: pg_isready: not found)")


def test_a_probe_failing_because_the_service_stopped_says_it_stopped():
    def stop(container: FakeContainer) -> None:
        container.status = Status.EXITED
        raise SandboxError("starting the readiness check failed: container is not running")

    service = db(log="FATAL: bad config\n")
    service.answer("sh -c", Answer(effect=stop))
    service.exit_code = 1
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", service, Ready(command="x", timeout=5.0))
    assert str(exc.value) == ("service db stopped (exit 1) before it was ready; its log "
                              "ends: FATAL: bad config")

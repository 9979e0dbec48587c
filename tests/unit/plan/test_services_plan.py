"""Planning multi-container environments without Docker: start order, rendered services,
database loads and queries, and how a readiness check is described."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from repro.config.model import Ready
from repro.config.project import load_environment
from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.services import start_order
from repro.plan.show import describe_ready
from repro.plan.values import LoadPlan, QueryPlan

from ..conftest import SCENARIO_TAIL, SVC_ENV, errors_of, line_of, svc_project

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
    ("export.sql", b"PGDMP\x01\x0e\x00\x04\x08\x01", "dump"),    # the magic decides, not the name
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

# ---- readiness checks, as the plan shows them ----------------------------------------

def test_ready_checks_describe_themselves():
    assert [describe_ready(r) for r in (
        Ready(command="pg_isready"), Ready(tcp=5432), Ready(log="^up$"),
        Ready(healthcheck=True))] == ["command pg_isready", "port 5432 listening",
                                      "log line /^up$/", "its HEALTHCHECK"]

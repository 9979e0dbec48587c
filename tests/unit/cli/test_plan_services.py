"""`repro plan` of an environment with services: what it shows, with secrets masked."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import yaml

from repro.plan.build import plan_scenario

from ..conftest import SCENARIO_TAIL, line_of, svc_project

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
                               "  tenant_key: {default: k-93xyz, secret: true}\n"
                               "services:\n"
                               "  db: {image: 'registry.example.com/{{ tenant_key }}/db:1'}\n")
    project.scenario("S", "environment: svc\n" + SCENARIO_TAIL)
    result = cli("plan", "S", "--json")
    assert result.exit_code == 0
    assert "k-93xyz" not in result.stdout
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

"""Multi-container environments on a real engine: services, readiness, isolation, databases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from conftest import REPO, Project

WEB_ENV = """\
    image: repro-base/busybox
    parameters: {greeting: hello}
    services:
      web:
        image: repro-base/busybox
        command: httpd -f -p 8080 -h /www
        files:
          - {path: /www/index.html, content: "{{ greeting }} from web\\n"}
        ready: {tcp: 8080, timeout: 20s}
      worker:
        image: repro-base/busybox
        command: "echo warming up; sleep 1; echo worker up; exec sleep 3600"
        depends_on: [web]
        ready: {log: "^worker up$", timeout: 20s}
"""


def test_services_answer_by_name_after_readiness_on_a_closed_network(project: Project) -> None:
    project.env("web", WEB_ENV)
    sid = project.scenario("web", """\
        environment: web
        data: [{from: page.txt, to: /www/page.txt, service: web}]
        steps:
          - {name: fetch, run: "wget -qO- http://web:8080/ http://web:8080/page.txt"}
        oracle: {any: [{step: fetch, stdout: "^hello from web$"}]}
        """, files={"page.txt": "customer page\n"})
    code, result, _ = project.run_json(sid, "--param", "greeting=bonjour", "--keep")
    try:
        network = json.loads(subprocess.run(["docker", "network", "inspect", result["sandbox"]],
                                            capture_output=True, text=True, check=True).stdout)
        assert network[0]["Internal"] is True  # no route out of the run's network
        attached = sorted(c["Name"] for c in network[0]["Containers"].values())
        assert attached == sorted([result["sandbox"], f"{result['sandbox']}-web",
                                   f"{result['sandbox']}-worker"])
    finally:
        project.repro("gc", "--run", result["run_id"])
    record = project.record(result)
    steps = {s["name"]: s for s in record["steps"]}
    assert steps["fetch"]["stdout"] == "bonjour from web\ncustomer page\n"
    assert code == 1 and result["reproduced"] is False  # the oracle wanted "hello"
    assert record["services"]["worker"]["ready_s"] >= 0.9  # waited for its log line
    assert set(record["services"]) == {"web", "worker"}


SILENT_STEP = """\
    environment: broken
    steps: [{name: s, run: "true"}]
    oracle: {any: [{step: s, failed: true}]}
    """


@pytest.mark.parametrize(("command", "ready", "error"), [
    ("echo 'FATAL: could not open /etc/db.conf'; exec sleep 3600", "{tcp: 5432, timeout: 2s}",
     "service db not ready after 2s (waiting for port 5432 listening); its log ends: FATAL: "
     "could not open /etc/db.conf"),
    ("echo 'bad option --maxmemory'; exit 4", "{tcp: 6379, timeout: 60s}",  # not 60 s: exits
     "service db stopped (exit 4) before it was ready; its log ends: bad option --maxmemory"),
], ids=["never-ready", "exits"])
def test_a_failing_service_fails_the_run_in_bounded_time_with_its_log(
        project: Project, command: str, ready: str, error: str) -> None:
    project.env("broken", f"""\
        image: repro-base/busybox
        services:
          db:
            image: repro-base/busybox
            command: "{command}"
            ready: {ready}
        """)
    sid = project.scenario("broken", SILENT_STEP)
    started = time.monotonic()
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 3 and time.monotonic() - started < 30
    assert done.stderr.splitlines()[-1] == f"repro: error: {error}"


def test_simultaneous_runs_do_not_see_each_other(project: Project) -> None:
    project.env("web", WEB_ENV)
    sid = project.scenario("twins", """\
        environment: web
        steps:
          - {name: fetch, run: "sleep 1; wget -qO- http://web:8080/"}
        oracle: {any: [{step: fetch, failed: true}]}
        """)
    procs = {word: subprocess.Popen(
        [sys.executable, "-m", "repro", "run", f"scenarios/{sid}", "--json", "-p",
         f"greeting={word}"], cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "NO_COLOR": "1"}) for word in ("alpha", "beta")}
    for word, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        record = project.record(json.loads(out))
        assert record["steps"][0]["stdout"] == f"{word} from web\n", err


# ---- PostgreSQL (the billing demo's image, built offline once) --------------------------


def _billing_project(project: Project) -> None:
    shutil.copytree(REPO / "environments", project.root / "environments", dirs_exist_ok=True)
    shutil.copytree(REPO / "scenarios" / "NORD-88", project.root / "scenarios" / "NORD-88")


def test_database_demo_reproduces_and_its_state_shows_the_damage() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    ticket = subprocess.run([sys.executable, "-m", "repro", "run", "scenarios/NORD-88",
                             "--json"], cwd=REPO, capture_output=True, text=True, env=env,
                            timeout=900)
    fixed = subprocess.run([sys.executable, "-m", "repro", "run", "scenarios/NORD-88-fixed",
                            "--json"], cwd=REPO, capture_output=True, text=True, env=env,
                           timeout=900)
    assert ticket.returncode == 0, ticket.stderr
    result = json.loads(ticket.stdout)
    assert (result["reproduced"], result["ok"], result["baseline"]) == (True, True, "diverged")
    assert "queries.totals" in result["diverged"]
    record = json.loads((REPO / result["record"]).read_text())
    rows = next(c for c in record["baseline"]["channels"] if c["channel"] == "queries.totals")
    assert rows["diff"] == ["~ row customer_id=3: total: '907.88' -> '574.88'"]
    report = next(s for s in record["steps"] if s["name"] == "report")["stdout"]
    assert "Café Möbel & Co. KG | 659.80 | EUR" in report  # the Latin-1 CSV, decoded
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["baseline"] == "match"


def test_a_broken_dump_and_a_broken_csv_name_their_lines(project: Project) -> None:
    _billing_project(project)
    customer = project.root / "scenarios" / "NORD-88" / "customer"
    dump = customer / "billing-2024-03.sql"
    lines = dump.read_text().splitlines(keepends=True)
    bad = next(i for i, line in enumerate(lines) if line.startswith("4\t2\t2024-03-19"))
    lines[bad] = lines[bad].replace("2024-03-19", "2024-13-19")
    dump.write_text("".join(lines))
    done = project.repro("run", "scenarios/NORD-88")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"repro: error: scenarios/NORD-88/customer/billing-2024-03.sql:{bad + 1}: ERROR: "
        "date/time field value out of range: \"2024-13-19\" (loading into service db, "
        "database billing; nothing ran)")
    (project.root / "scenarios" / "NORD-88" / "customer" / "customers.csv").write_bytes(
        (REPO / "scenarios/NORD-88/customer/customers.csv").read_bytes() + b"4;Extra;GmbH\n")
    dump.write_bytes((REPO / "scenarios/NORD-88/customer/billing-2024-03.sql").read_bytes())
    done = project.repro("run", "scenarios/NORD-88")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "repro: error: scenarios/NORD-88/customer/customers.csv:5: ERROR: extra data after "
        "last expected column: 3 fields where line 1 has 2 (loading into service db, "
        "database billing; nothing ran)")  # found before any engine (plan.load_check)
    assert project.leftovers() == []


def test_a_query_with_broken_sql_is_a_setup_error_not_an_observation(
        project: Project) -> None:
    # An `expect: fixed` scenario must not pass because its query never ran.
    _billing_project(project)
    scenario = project.root / "scenarios" / "NORD-88" / "scenario.yaml"
    text = scenario.read_text()
    assert "FROM monthly_totals" in text
    scenario.write_text(text.replace("FROM monthly_totals", "FROM invoicez", 1))
    done = project.repro("run", "scenarios/NORD-88")
    assert done.returncode == 2, done.stdout
    last = done.stderr.splitlines()[-1]
    assert last.startswith("repro: error: scenarios/NORD-88/scenario.yaml: queries[0]: query ")
    assert 'relation "invoicez" does not exist' in last and "fix its SQL" in last
    assert "REPRODUCED" not in done.stdout
    assert project.leftovers() == []


def test_a_compose_file_imports_and_runs(project: Project) -> None:
    shutil.copytree(REPO / "environments" / "webshop", project.root / "environments" / "webshop")
    done = project.repro("env", "import", "environments/webshop/docker-compose.yml")
    assert done.returncode == 0, done.stderr
    assert "wrote environments/webshop.yaml: the steps' container and 1 service(s)" in done.stdout
    assert "catalog: `ports` not converted" in done.stdout
    assert "catalog: volume 'catalog-cache:/var/cache/catalog' not converted" in done.stdout
    again = project.repro("env", "import", "environments/webshop/docker-compose.yml")
    assert again.returncode == 2 and "pass --force" in again.stderr
    sid = project.scenario("shop", """\
        environment: webshop
        steps:
          - {name: checkout, run: "checkout A-100 3"}
        oracle: {any: [{step: checkout, stdout: "^total 37.50$"}]}
        """)
    code, result, _ = project.run_json(sid)
    assert code == 0, project.record(result)["steps"]
    images = [s["image"] for s in project.record(result)["services"].values()]
    subprocess.run(["docker", "rmi", "-f", project.record(result)["image"]["ref"], *images],
                   capture_output=True)


def test_healthcheck_readiness_waits_for_healthy(project: Project) -> None:
    project.env("health", """\
        image: repro-base/busybox
        services:
          api:
            image: {build: {context: api}}
            ready: {healthcheck: true, timeout: 30s}
        """, files={"api/Dockerfile": (
            "FROM repro-base/busybox\n"
            "HEALTHCHECK --interval=1s --timeout=1s CMD test -f /tmp/ready\n"
            f"CMD [\"sh\", \"-c\", \"sleep 2; touch /tmp/ready; echo {project.tag}; "
            "exec sleep 3600\"]\n")})
    sid = project.scenario("health", """\
        environment: health
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    code, result, stderr = project.run_json(sid)
    record = project.record(result)
    assert code == 1, stderr
    assert record["services"]["api"]["ready_s"] >= 2
    subprocess.run(["docker", "rmi", "-f", record["services"]["api"]["image"]],
                   capture_output=True)


def test_readiness_probes_that_hang_or_cannot_run_do_not_stall_the_run(project: Project) -> None:
    # The budget only has to stay well under the 60 s a hanging probe would take: a loaded
    # host (15 s seen for a 1 s run) must not fail it.
    for probe, budget in (('"sleep 60"', 40), ("[pg_isready, -q]", 40)):
        project.env("probe", f"""\
            image: repro-base/busybox
            services:
              db:
                image: repro-base/busybox
                command: "exec sleep 3600"
                ready: {{command: {probe}, timeout: 2s}}
            """)
        sid = project.scenario("probe", """\
            environment: probe
            steps: [{name: s, run: "true"}]
            oracle: {any: [{step: s, failed: true}]}
            """)
        started = time.monotonic()
        done = project.repro("run", f"scenarios/{sid}")
        assert done.returncode == 3 and time.monotonic() - started < budget, done.stderr
        last = done.stderr.splitlines()[-1]
        if "sleep" in probe:
            assert last.startswith("repro: error: service db not ready after 2s (waiting for "
                                   "command sleep 60)")
        else:
            assert last.startswith("repro: error: service db: its readiness command "
                                   "pg_isready -q cannot run in its image (exit 12")
            assert "pg_isready" in last and "not found" in last


def test_shell_can_enter_a_service(project: Project) -> None:
    project.env("web", WEB_ENV)
    sid = project.scenario("webshell", """\
        environment: web
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "repro", "shell", sid, "--no-steps",
                           "--service", "web"], cwd=project.root, input="cat /www/index.html\n",
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello from web\n"
    wrong = project.repro("shell", sid, "--service", "wbe")
    assert wrong.returncode == 2 and "did you mean 'web'" in wrong.stderr


def test_a_load_into_a_missing_database_creates_it_unless_told_not_to(
        project: Project) -> None:
    # The customer's plain dump has no CREATE DATABASE: the load creates `march`, owned by
    # the load's user (who may not create databases himself).
    _billing_project(project)
    scenario = project.root / "scenarios" / "NORD-88" / "scenario.yaml"
    (scenario.parent / "baseline.yaml").unlink()  # recorded for the ticket's own steps
    scenario.write_text("""\
environment: billing
expect: reproduces
load:
  - {service: db, sql: customer/billing-2024-03.sql, database: march, user: billing}
steps:
  - run: "true"
queries:
  - name: owner
    service: db
    database: march
    user: billing
    sql: >-
      SELECT pg_get_userbyid(datdba) AS owner, (SELECT count(*) FROM invoice_lines) AS lines
      FROM pg_database WHERE datname = current_database()
oracle: {all: [{file: owner, contains: "^billing,[1-9]"}]}
""")
    done = project.repro("run", "scenarios/NORD-88", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["reproduced"] is True
    scenario.write_text(scenario.read_text().replace("user: billing}",
                                                     "user: billing, create_database: false}"))
    done = project.repro("run", "scenarios/NORD-88")
    assert done.returncode == 2, done.stdout
    last = done.stderr.splitlines()[-1]
    assert last.startswith("repro: error: scenarios/NORD-88/customer/billing-2024-03.sql: ")
    assert 'database "march" does not exist' in last and "nothing ran" in last
    assert project.leftovers() == []

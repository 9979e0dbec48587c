"""Shared fixtures: small repro projects built in tmp_path, and a Docker-free CLI runner."""

from __future__ import annotations

import signal
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import app
from repro.plan.build import plan_scenario
from repro.results.observations import StepObservation


@pytest.fixture(autouse=True)
def _inbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`repro new --from` keeps the customer's originals in the inbox: never the home's."""
    monkeypatch.setenv("REPRO_INBOX", str(tmp_path_factory.mktemp("inbox")))


# A representative environment: every kind of parameter, a template file, inline content.
APP_ENV = """\
description: demo app
image: busybox:1.36
parameters:
  port: 8080
  debug: false
  ratio: 0.5
  mode:
    default: fast
    choices: [fast, slow]
  db_password:
    default: hunter2-Secret
    secret: true
env:
  APP_PORT: "{{ port }}"
files:
  - path: /etc/app/app.conf
    template: templates/app.conf.j2
  - path: /etc/app/flags.conf
    mode: "0600"
    content: |
      debug={{ debug }}
      ratio={{ ratio }}
workdir: /srv
"""

APP_TEMPLATE = """\
# app.conf for {{ scenario.id }}
listen = {{ port }}

mode = {{ mode }}
"""

APP_SCENARIO = """\
environment: app
title: crash on start
ticket: SUP-1
steps:
  - name: start
    run: app --port {{ port }}
oracle:
  any:
    - step: start
      stderr: "address in use"
"""


# ---- multi-container environments (services, loads, queries) ---------------------------

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


def svc_project(project, scenario: str = LOAD_SCENARIO, env: str = SVC_ENV) -> None:
    project.environment("svc", env)
    project.scenario("S", scenario)
    project.write("scenarios/S/customer/billing.dump", b"PGDMP\x01\x0e\x00\x04\x08\x01rest-of-dump")
    project.write("scenarios/S/customer/schema.sql", "CREATE TABLE t (a int);\n")
    project.write("scenarios/S/customer/customers.csv", b"1;Caf\xe9\n")

def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the line holding the nth occurrence of `needle` (independent oracle)."""
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not found")


class Project:
    """A repro project folder (environments/, scenarios/) under tmp_path, which is the cwd."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    def environment(self, name: str, text: str) -> Path:
        return self.write(f"environments/{name}.yaml", text)

    def scenario(self, sid: str, text: str) -> Path:
        return self.write(f"scenarios/{sid}/scenario.yaml", text)

    def app(self, scenario: str = APP_SCENARIO, sid: str = "T-1") -> Path:
        """The demo environment plus one scenario; returns the scenario file."""
        self.environment("app", APP_ENV)
        self.write("environments/templates/app.conf.j2", APP_TEMPLATE)
        return self.scenario(sid, scenario)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(project: Project):
    """Invoke `repro ARGS...` in-process (the project folder is the cwd)."""
    runner = CliRunner()

    def invoke(*args: str) -> CliResult:
        result = runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # an escaped exception is itself a failure
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files opened through Path.open from now on, in order (how often
    a file is read)."""
    names: list[str] = []
    real_open = Path.open

    def counting(self: Path, *args, **kwargs):
        names.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting)
    return names


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    # The CLI installs SIGINT/SIGTERM handlers in the main thread; give pytest its own back.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


# ---- a run's observations, without running anything (record.json and the terminal report) ---

RUN_SECRET = "tok-Zk42-secret"

RUN_ENV = """\
image: busybox
parameters:
  token: {default: tok-Zk42-secret, secret: true}
limits: {memory: 64m}
"""

RUN_SCENARIO = """\
environment: tiny
title: import crashes
ticket: SUP-7
expect: EXPECT
steps:
  - {name: import, run: "app import --token {{ token }}"}
  - {name: check, run: "true"}
capture:
  - /var/log/app.log
  - {path: /srv/state, name: state}
oracle: {any: [{step: import, stderr: boom}]}
"""


def run_plan(project: Project, expect: str = "reproduces"):
    """The Plan of a one-environment, two-step scenario `R` with a secret parameter."""
    project.environment("tiny", RUN_ENV)
    project.scenario("R", RUN_SCENARIO.replace("EXPECT", expect))
    return plan_scenario(Path("R"))


def step_run(run_dir: Path, name: str, status: str = "ok", exit_code: int | None = 0,
             stdout: str | bytes | None = "", stderr: str | bytes | None = "",
             started: float | None = 1_700_000_000.0, seconds: float = 0.25):
    """A StepObservation whose outputs are written under run_dir/steps/ (None: no file)."""
    paths = []
    for stream, body in (("stdout", stdout), ("stderr", stderr)):
        if body is None:
            paths.append(None)
            continue
        path = run_dir / "steps" / f"{name}.{stream}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body.encode() if isinstance(body, str) else body)
        paths.append(path)
    ended = None if started is None else started + seconds
    return StepObservation(name, f"run {name}", status, exit_code, started, ended, *paths)


def attach(record, comparison):
    """What the pipeline does with a run's comparison: the record keeps its verdict and
    its data; reports get the comparison itself."""
    from repro.results.outcome import BaselineVerdict

    record.baseline_verdict = BaselineVerdict(comparison.verdict.value)
    record.baseline = comparison.to_dict()
    return comparison

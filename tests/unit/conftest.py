"""Shared fixtures: small repro projects built in tmp_path, and a Docker-free CLI runner."""

from __future__ import annotations

import signal
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import app

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


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    # The CLI installs SIGINT/SIGTERM handlers in the main thread; give pytest its own back.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)

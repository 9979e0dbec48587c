"""Integration tests drive the real `repro` CLI against a real Docker engine.

Locally they skip when no engine answers; in CI (CI=true) that is a failure instead,
so the suite can never go green without having exercised Docker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session", autouse=True)
def docker_engine() -> None:
    if _engine_answers():
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the integration tests, but `docker info` fails: .ci/run "
                    "should have started the engine")
    pytest.skip("no Docker engine answers `docker info`")


def engine_names(kind: str, label: str) -> list[str]:
    """Names of containers/networks/volumes carrying `label` (key=value)."""
    cmd = {"container": ["docker", "ps", "-a", "--format", "{{.Names}}"],
           "network": ["docker", "network", "ls", "--format", "{{.Name}}"],
           "volume": ["docker", "volume", "ls", "--format", "{{.Name}}"]}[kind]
    out = subprocess.run([*cmd, "--filter", f"label={label}"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


@dataclass
class Project:
    """A throw-away repro project in tmp_path; scenario ids are unique per test."""

    root: Path
    tag: str

    def env(self, name: str, body: str, files: dict[str, str] | None = None) -> Path:
        path = self.root / "environments" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
        for rel, text in (files or {}).items():
            target = self.root / "environments" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return path

    def scenario(self, name: str, body: str, files: dict[str, str | bytes] | None = None) -> str:
        """Write scenarios/<name>-<tag>/scenario.yaml; returns the scenario id."""
        sid = f"{name}-{self.tag}"
        folder = self.root / "scenarios" / sid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.yaml").write_text(textwrap.dedent(body))
        for rel, content in (files or {}).items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        return sid

    def repro(self, *args: str, timeout: float = 300, env: dict | None = None
              ) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "repro", *args], cwd=self.root,
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "NO_COLOR": "1", "REPRO_INBOX": str(
                                  self.root.with_name(f"{self.root.name}-inbox")),
                                  **(env or {})})

    def run_json(self, sid: str, *extra: str) -> tuple[int, dict, str]:
        done = self.repro("run", f"scenarios/{sid}", "--json", *extra)
        assert done.stdout.strip(), f"no JSON on stdout; stderr: {done.stderr}"
        return done.returncode, json.loads(done.stdout), done.stderr

    def record(self, result: dict) -> dict:
        return json.loads((self.root / result["record"]).read_text())

    def leftovers(self) -> list[str]:
        """Engine resources of this test's runs (there must be none after a run). By run
        id, not scenario id: tests running at the same time may share a scenario id (a
        copy of a demo scenario), never a run."""
        found = []
        for run_dir in (self.root / ".repro" / "runs").glob("*"):
            for kind in ("container", "network", "volume"):
                found += engine_names(kind, f"io.repro.run={run_dir.name}")
        return found


# A step that times out with a child in the background, then one counting what is left:
# on an engine whose processes this host cannot see (tcp, Podman), the kill comes from
# inside the container through the pid wrapper (docs/engines.md).
HANG_ON_AN_ENGINE_ELSEWHERE = """\
    environment: bb
    steps:
      - name: hang
        run: "sleep 300 & echo started; echo said >&2; sleep 300"
        timeout: 1s
        stop_on_failure: false
      - name: after
        run: "ps -o comm | grep -c sleep || true"
    oracle:
      any: [{step: hang, timed_out: true}]
    """

BUSYBOX_ENV = """\
    image: repro-base/busybox
    parameters:
      greeting: hello
      retries: 3
      api_token: {default: "", secret: true}
    env:
      GREETING: "{{ greeting }}"
    files:
      - path: /etc/app/app.conf
        content: |
          greeting = {{ greeting }}
          retries = {{ retries }}
          token = {{ api_token }}
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    proj = Project(tmp_path, uuid.uuid4().hex[:8])
    proj.env("bb", BUSYBOX_ENV)
    yield proj
    left = proj.leftovers()
    if left:  # clean up for the next tests, then fail this one: a leak is a bug
        for kind in ("container", "network", "volume"):
            for name in left:
                subprocess.run(["docker", kind, "rm", "-f", name], capture_output=True)
        pytest.fail(f"repro left resources on the engine: {left}")


_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test in this folder drives Docker: mark it so `pytest -m "not docker"` runs the
    # unit tests only. Marking here (not per module) also covers modules added later. The
    # hook sees the whole session's items, so only those under this folder are marked.
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.docker)

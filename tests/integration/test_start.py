"""A new user's first minutes, on the real engine: `repro init` then validate and run,
and `repro doctor` against the engine and against an address where none answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import engine_names


def repro(cwd: Path, *args: str, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})


def test_init_then_validate_and_run_reproduces_the_example(tmp_path: Path) -> None:
    made = repro(tmp_path, "init", "support")
    assert made.returncode == 0, made.stderr
    project = tmp_path / "support"
    checked = repro(project, "validate")
    assert (checked.returncode, checked.stderr) == (0, "2 of 2 files valid\n")
    ran = repro(project, "run", "scenarios/EXAMPLE-1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert "      err| HTTP 413: upload of 2 KiB over the limit of 1 KiB" in lines
    assert "REPRODUCED  (expected: reproduces) -> as expected" in lines
    run_id = json.loads(next((project / ".repro/runs").glob("*/record.json")).read_text())[
        "run_id"]
    assert engine_names("container", f"io.repro.run={run_id}") == []
    # the customer's limit raised: the upload goes through, and the example says so
    fixed = repro(project, "run", "scenarios/EXAMPLE-1", "-p", "max_upload_kb=1024")
    assert fixed.returncode == 1 and "HTTP 200: stored 2 KiB" in fixed.stdout
    listed = repro(project, "runs").stdout.splitlines()
    assert len(listed) == 2 and "NOT REPRODUCED  NOT ok" in listed[0], listed


def test_doctor_on_the_engine(tmp_path: Path) -> None:
    assert repro(tmp_path, "init").returncode == 0
    done = repro(tmp_path, "doctor", "--json")
    assert done.stderr == ""
    report = json.loads(done.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert list(checks) == ["engine", "storage", "bridge", "memory limit", "offline bases",
                            "tools image", "leftovers", "unused images", "debian mirror",
                            "project", ".repro folder", "run records"]
    engine = checks["engine"]
    assert engine["ok"] is True and " at unix:///var/run/docker.sock" in engine["detail"]
    version = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                             capture_output=True, text=True).stdout.strip()
    assert version in engine["detail"]
    driver = subprocess.run(["docker", "info", "--format", "{{.Driver}}"], capture_output=True,
                            text=True).stdout.strip()
    assert checks["storage"]["detail"].startswith(f"driver {driver}")
    # the memory probe ran a container with a 64 MiB limit and read it back; it is gone
    assert checks["memory limit"] == {
        "name": "memory limit", "ok": True, "fix": None,
        "detail": "enforced (a 64.0 MiB limit reads back from the container's cgroup)"}
    assert engine_names("container", "io.repro.scenario=doctor") == []
    assert checks["project"] == {"name": "project", "ok": True, "fix": None,
                                 "detail": "2 files valid in ."}
    # the exit code follows the checks: 0 when none failed, 1 otherwise, each with a fix
    failed = [c for c in report["checks"] if c["ok"] is False]
    assert done.returncode == (1 if failed else 0) and report["ok"] is not failed
    assert all(c["fix"] for c in failed)
    human = repro(tmp_path, "doctor")
    assert human.returncode == done.returncode
    assert human.stdout.splitlines()[0].startswith("ok    engine         ")


def test_doctor_against_an_unreachable_engine_fails_the_engine_check_with_its_fix(
        tmp_path: Path) -> None:
    assert repro(tmp_path, "init").returncode == 0
    done = repro(tmp_path, "doctor", env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert done.returncode == 1 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        "FAIL  engine         no engine answers at tcp://127.0.0.1:9 (connection refused)",
        "                     fix: start it (`sudo systemctl start docker`, or `dockerd &`) or "
        "point DOCKER_HOST at one; `docker -H tcp://127.0.0.1:9 info` should work first"]
    assert "skip  memory limit   not checked: the engine does not answer" in lines
    assert "ok    project        2 files valid in ." in lines  # the rest is still checked
    assert "Traceback" not in done.stdout + done.stderr
    data = json.loads(repro(tmp_path, "doctor", "--json",
                            env={"DOCKER_HOST": "tcp://127.0.0.1:9"}).stdout)
    assert data["ok"] is False and data["checks"][0]["ok"] is False

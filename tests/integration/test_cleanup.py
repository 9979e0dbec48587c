"""Nothing leaks: Ctrl-C, SIGTERM and SIGKILL of a run, then `repro gc`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import Project, engine_names

LONG = """\
    environment: bb
    steps:
      - {name: long, run: "echo begun; sleep 120"}
    oracle:
      any: [{step: long, exit_code: 0}]
    """


def _start(project: Project, sid: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}"],
                            cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + 60
    while not engine_names("container", f"io.repro.scenario={sid}"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sandbox never appeared"
        time.sleep(0.1)
    time.sleep(0.5)  # let the step start
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_removes_its_sandbox_and_exits_130(project: Project, sig: int) -> None:
    sid = project.scenario("interrupted", LONG)
    proc = _start(project, sid)
    started = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 15  # the sandbox goes at once, no 120 s wait
    assert err.splitlines()[-1] == (f"repro: error: interrupted by {signal.Signals(sig).name}; "
                                    "the sandbox was removed")
    assert project.leftovers() == []
    records = list((project.root / ".repro" / "runs").glob(f"{sid}-*/record.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["status"] == "interrupted"


# Both run a global `repro gc`: on one xdist worker, so neither sweeps the other's case.
@pytest.mark.xdist_group("global-gc")
def test_gc_removes_what_a_killed_run_left_and_nothing_else(project: Project) -> None:
    sid = project.scenario("killed", LONG)
    foreign = f"not-repro-{project.tag}"
    subprocess.run(["docker", "create", "--name", foreign, "--label", "app=other",
                    "repro-base/busybox", "true"], check=True, capture_output=True)
    try:
        proc = _start(project, sid)
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait(timeout=30)
        assert engine_names("container", f"io.repro.scenario={sid}") != []
        dry = project.repro("gc", "--dry-run")
        assert dry.returncode == 0 and f"would remove container repro-{sid}" in dry.stdout
        assert engine_names("container", f"io.repro.scenario={sid}") != []
        done = project.repro("gc")
        assert done.returncode == 0, done.stderr
        assert f"removed container repro-{sid}" in done.stdout
        assert project.leftovers() == []
        # Anything repro did not create is never touched.
        assert foreign in engine_names("container", "app=other")
    finally:
        subprocess.run(["docker", "rm", "-f", foreign], capture_output=True)


@pytest.mark.xdist_group("global-gc")
def test_gc_spares_a_run_in_progress(project: Project) -> None:
    sid = project.scenario("busy", LONG)
    proc = _start(project, sid)
    try:
        done = project.repro("gc")
        assert done.returncode == 0
        assert f"left container repro-{sid}" in done.stdout and "still going" in done.stdout
        assert engine_names("container", f"io.repro.scenario={sid}") != []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert project.leftovers() == []

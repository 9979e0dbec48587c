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


def test_an_interrupt_at_any_moment_of_creation_leaves_nothing_and_says_so(
        project: Project) -> None:
    # SIGTERM while the engine creates the sandbox (the request may be cut off mid-flight)
    # and at every other early moment: whatever the claim, nothing is left behind.
    project.env("svc", """\
        image: repro-base/busybox
        services:
          web: {image: repro-base/busybox, command: "sleep 3600"}
        """)
    sid = project.scenario("early", LONG.replace("environment: bb", "environment: svc"))
    outcomes = []
    runs = project.root / ".repro" / "runs"
    # Delays count from the moment the run's record exists (repro is past its imports
    # and planning): anchored on repro's progress, not on a loaded machine's clock. The
    # last one is late enough for the sandbox to exist.
    for delay, second in ((0.0, None), (0.05, None), (0.1, None), (0.15, None),
                          (0.2, None), (0.3, None), (0.0, signal.SIGINT),
                          (0.1, signal.SIGINT), (0.2, signal.SIGTERM), (None, None)):
        before = set(runs.glob("*")) if runs.is_dir() else set()
        proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}"],
                                cwd=project.root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "NO_COLOR": "1"})
        deadline = time.monotonic() + 60
        while not (set(runs.glob("*")) if runs.is_dir() else set()) - before:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        if delay is None:  # once the sandbox exists
            while not engine_names("container", f"io.repro.scenario={sid}"):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        if second is not None:  # an impatient user presses again
            time.sleep(0.3)
            if proc.poll() is None:
                proc.send_signal(second)
        _, err = proc.communicate(timeout=60)
        outcomes.append((delay, proc.returncode, err.strip().splitlines()[-1:]))
        assert proc.returncode == 130, (delay, err)
        assert project.leftovers() == [], (delay, err)
        assert "could not" not in err, (delay, err)
    # Interrupts landed before, during and after the sandbox's creation.
    assert any(last == ["repro: error: interrupted by SIGTERM; the sandbox was removed"]
               for _, _, last in outcomes), outcomes


def test_gc_removes_only_what_dead_runs_left(project: Project) -> None:
    """One test on purpose: a global `repro gc` in a parallel test would sweep the
    killed run's leftovers before this one looks."""
    env = f"gc-{project.tag}"  # its images are this test's alone to remove
    project.env(env, "image:\n  build: {context: app}\n",
                files={"app/Dockerfile": f"FROM repro-base/busybox\nRUN echo {project.tag}\n"})
    built = project.scenario("built", f"""\
        environment: {env}
        steps: [{{name: s, run: "true"}}]
        oracle: {{any: [{{step: s, failed: true}}]}}
        """)
    image = project.record(project.run_json(built)[1])["image"]["ref"]
    killed, busy = project.scenario("killed", LONG), project.scenario("busy", LONG)
    foreign, mine, remote = (f"{what}-{project.tag}" for what in ("not-repro", "users-own",
                                                                   "repro-remote"))
    running = _start(project, busy)
    try:
        subprocess.run(["docker", "create", "--name", foreign, "--label", "app=other",
                        "repro-base/busybox", "true"], check=True, capture_output=True)
        # A user's own container from a cached environment image inherits its labels.
        subprocess.run(["docker", "create", "--name", mine, image, "true"], check=True,
                       capture_output=True)
        # A sandbox of a run on another host sharing this engine: its liveness is unknown.
        subprocess.run(["docker", "create", "--name", remote, "--label", "io.repro.managed=1",
                        "--label", f"io.repro.run=remote-{project.tag}", "--label",
                        "io.repro.owner=ci-runner-7:4242:123", "repro-base/busybox", "true"],
                       check=True, capture_output=True)
        victim = _start(project, killed)
        victim.kill()  # SIGKILL: no chance to clean up
        victim.communicate(timeout=30)  # reaps it and closes its pipes
        assert engine_names("container", f"io.repro.scenario={killed}") != []

        # Its record said `running` forever; `repro runs` tells it was killed, and the
        # live run is still running.
        listed = project.repro("runs").stdout.splitlines()
        assert any(killed in line and "KILLED" in line and "killed" in line
                   for line in listed), listed
        assert any(busy in line and "running" in line for line in listed), listed
        record = next((project.root / ".repro" / "runs").glob(f"{killed}-*/record.json"))
        assert json.loads(record.read_text())["status"] == "killed"

        dry = project.repro("gc", "--dry-run")
        assert dry.returncode == 0 and f"would remove container repro-{killed}" in dry.stdout
        # A live run's sandbox is not left behind: it is in use, and spared.
        assert f"in use, spared container repro-{busy}" in dry.stdout, dry.stdout
        assert f"left container repro-{busy}" not in dry.stdout
        assert engine_names("container", f"io.repro.scenario={killed}") != []
        done = project.repro("gc")
        assert done.returncode == 0, done.stderr
        assert f"removed container repro-{killed}" in done.stdout
        assert engine_names("container", f"io.repro.scenario={killed}") == []
        assert f"in use, spared container repro-{busy}" in done.stdout and \
            "still going" in done.stdout
        assert f"left container {remote}" in done.stdout and "ci-runner-7" in done.stdout
        assert mine not in done.stdout and foreign not in done.stdout
        names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"],
                               capture_output=True, text=True).stdout.split()
        assert {foreign, mine, remote} <= set(names)
        assert engine_names("container", f"io.repro.scenario={busy}") != []

        # Cached builds go with --images, but not while a container uses them.
        dry = project.repro("gc", "--images", "--env", env, "--dry-run")
        assert f"would remove image {image}" not in dry.stdout
        assert f"left image {image}: used by 1 container(s)" in dry.stdout
        subprocess.run(["docker", "rm", "-f", mine], capture_output=True)
        gone = project.repro("gc", "--images", "--env", env)
        assert f"removed image {image}" in gone.stdout
        listed = subprocess.run(["docker", "images", "-q", image], capture_output=True,
                                text=True)
        assert listed.stdout.strip() == ""
    finally:
        running.send_signal(signal.SIGINT)
        running.communicate(timeout=60)
        subprocess.run(["docker", "rm", "-f", foreign, mine, remote], capture_output=True)
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


def test_gc_run_spares_a_live_run_unless_forced_and_the_run_then_says_so(
        project: Project) -> None:
    sid = project.scenario("victim", LONG)
    proc = _start(project, sid)
    run_id = engine_names("container", f"io.repro.scenario={sid}")[0].removeprefix("repro-")
    spared = project.repro("gc", "--run", run_id)
    assert f"in use, spared container repro-{run_id}" in spared.stdout and \
        "its run is still going" in spared.stdout and "--force" in spared.stdout
    forced = project.repro("gc", "--run", run_id, "--force")
    assert f"removed container repro-{run_id}" in forced.stdout
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    assert "was stopped or removed from outside during the run" in err
    assert "REPRODUCED" not in out

"""Interrupts at each phase of a run, with SIGINT, SIGTERM and SIGKILL: nothing of the run
is left on the engine (after `repro gc` for SIGKILL, which gives no chance to clean up)
and its record says how it ended (`interrupted`, or `killed` once `repro runs` looked).

Each phase is held open long enough to be hit on purpose: a build that sleeps, a service
that is never ready, a large (sparse) data file, a step that sleeps, a large capture.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from conftest import Project, engine_names

ORACLE = "oracle: {any: [{step: s, exit_code: 0}]}\n"
PHASES = ["image build", "sandbox creation", "service readiness", "data copy",
          "running step", "capture"]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
# What the reliability suite counts (README, "Guarantees"): one case per pair.
INTERRUPT_CASES = [(phase, sig) for phase in PHASES for sig in SIGNALS]


def _scenario(project: Project, phase: str, sig: signal.Signals) -> str:
    name = f"{phase.replace(' ', '-')}-{sig.name.lower()}"
    if phase == "image build":  # built anew: the RUN line names this case alone
        env = f"b-{project.tag}-{sig.name.lower()}"
        project.env(env, "image: {build: {context: app}}\n", files={
            "app/Dockerfile": f"FROM repro-base/busybox\nRUN echo {env} && sleep 20\n"})
        return project.scenario(name, f"environment: {env}\n"
                                "steps: [{name: s, run: 'true'}]\n" + ORACLE)
    if phase in ("sandbox creation", "service readiness"):
        project.env("svc", """\
            image: repro-base/busybox
            services:
              web: {image: repro-base/busybox, command: "sleep 3600",
                    ready: {command: "false", timeout: 60s}}
            """)
        return project.scenario(name, "environment: svc\nsteps: [{name: s, run: 'true'}]\n"
                                + ORACLE)
    if phase == "data copy":
        sid = project.scenario(name, "environment: bb\nsteps: [{name: s, run: 'true'}]\n"
                               "data: [{from: customer/big.bin, to: /in/big.bin}]\n" + ORACLE)
        big = project.root / "scenarios" / sid / "customer" / "big.bin"
        big.parent.mkdir(parents=True, exist_ok=True)
        with big.open("wb") as out:  # sparse: no disk, a long stream all the same
            out.truncate(1024 ** 3)
        return sid
    if phase == "running step":
        return project.scenario(name, "environment: bb\n"
                                "steps: [{name: s, run: 'echo begun; sleep 120'}]\n" + ORACLE)
    return project.scenario(name, "environment: bb\nsteps: [{name: s, run: "  # capture
                            "'dd if=/dev/zero of=/out.bin bs=1M count=384 2>/dev/null'}]\n"
                            "capture: [{path: /out.bin, type: binary}]\n" + ORACLE)


def _until(what: str, holds: Callable[[], bool], proc: subprocess.Popen,
           seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not holds():
        assert proc.poll() is None, f"the run ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"never reached {what}"
        time.sleep(0.05)


def _reach(phase: str, sid: str, project: Project, proc: subprocess.Popen,
           err: list[str]) -> None:
    """Wait until the run is in `phase`."""
    containers = lambda: engine_names("container", f"io.repro.scenario={sid}")  # noqa: E731
    if phase == "image build":
        _until("the build", lambda: any("building image" in line for line in err), proc)
        time.sleep(1.0)  # inside the RUN step
    elif phase == "sandbox creation":
        _until("the first container", lambda: bool(containers()), proc)
    elif phase == "service readiness":
        _until("the first container", lambda: bool(containers()), proc)
        time.sleep(1.0)  # every container made; `web` is never ready
    elif phase == "data copy":
        _until("the container", lambda: bool(containers()), proc)
        time.sleep(0.3)  # the copy of 1 GiB is under way
    elif phase == "running step":
        step_out = project.root / ".repro" / "runs"
        _until("the step", lambda: any(b"begun" in p.read_bytes() for p in
                                       step_out.glob(f"{sid}-*/steps/*.stdout")), proc)
    else:
        _until("the end of the step", lambda: any(line.startswith("repro: step s:")
                                                  for line in err), proc)
        time.sleep(0.2)  # reading 384 MiB back


@pytest.mark.parametrize(("phase", "sig"), INTERRUPT_CASES,
                         ids=[f"{p}-{s.name}" for p, s in INTERRUPT_CASES])
def test_an_interrupt_at_any_phase_leaves_nothing_and_a_true_record(
        project: Project, phase: str, sig: signal.Signals) -> None:
    sid = _scenario(project, phase, sig)
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}"],
                            cwd=project.root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_COLOR": "1"})
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        _reach(phase, sid, project, proc, err)
        proc.send_signal(sig)
        proc.wait(30)  # an interrupt is obeyed at once (a capture of 384 MiB took minutes)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        reader.join(10)
        proc.stderr.close()  # even when it failed: a pipe left open warns in later tests
    (run_dir,) = (project.root / ".repro" / "runs").glob(f"{sid}-*")
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        gc = project.repro("gc", "--run", run_dir.name)  # only this run's: tests share
        assert gc.returncode == 0, gc.stderr              # the engine
        expected = "killed"
    else:
        assert proc.returncode == 130, "".join(err)
        assert err[-1].startswith(f"repro: error: interrupted by {sig.name}"), err
        expected = "interrupted"
    assert project.leftovers() == [], (phase, sig.name, "".join(err))
    listed = project.repro("runs").stdout
    assert run_dir.name in listed
    record = json.loads((run_dir / "record.json").read_text())
    assert record["status"] == expected, (phase, sig.name, record["status"])
    if phase in ("image build", "sandbox creation", "service readiness", "data copy"):
        assert record["steps"] == [] or all(s.get("status") != "ok" for s in record["steps"])

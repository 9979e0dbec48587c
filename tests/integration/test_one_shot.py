"""A one-step run's step as the container's own process: the same record as by exec.

Each scenario runs twice on the real engine, once as it would by default (the step as
the steps' container's own process) and once with REPRO_ONE_SHOT=0 (idle container plus
exec); the step sees the same environment, files, identity, limits and signals, and the
records say the same: status, exit code, stdout, stderr, oracle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import Project, engine_names

# What a step can see of where it runs (nothing that names the container or a time).
LOOK_AROUND = """\
    env | grep -v '^HOSTNAME=' | sort
    echo "host=$(hostname) user=$(id) dir=$(pwd) umask=$(umask)"
    grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status
    ulimit -a
    stat -c '%a %u:%g %s %n' /etc/app/app.conf /data/orders.csv
    cat /data/orders.csv /etc/app/app.conf
    echo "stdin: $(cat)"
    (sh -c 'kill -TERM $$'; echo "a process killing itself: $?")
    echo to stderr >&2
    exit 3
"""


def _both(project: Project, sid: str) -> tuple[dict, dict]:
    records = []
    for switch in ("1", "0"):
        done = project.repro("run", f"scenarios/{sid}", "--json",
                             env={"REPRO_ONE_SHOT": switch})
        result = json.loads(done.stdout)
        assert result["record"], (result, done.stderr)
        records.append(project.record(result))
    return records[0], records[1]


def _seen(record: dict) -> list[tuple]:
    return [(s["name"], s["status"], s["exit_code"], s["stdout"], s["stderr"])
            for s in record["steps"]]


def test_the_step_sees_and_records_the_same_as_by_exec(project: Project) -> None:
    sid = project.scenario("look", f"""\
        environment: bb
        parameters: {{greeting: bonjour}}
        data:
          - {{from: orders.csv, to: /data/orders.csv}}
        steps:
          - name: look
            stdin: "typed by the customer"
            run: |
{_indent(LOOK_AROUND, 14)}
        oracle:
          all:
            - {{step: look, exit_code: 3}}
            - {{step: look, stdout: "a process killing itself: 143"}}
        """, files={"orders.csv": "customer,amount\nACME,42\n"})
    fast, slow = _both(project, sid)
    assert fast["sandbox"]["one_shot"] is True and slow["sandbox"]["one_shot"] is False
    assert fast["status"] == slow["status"] == "complete"
    assert fast["reproduced"] is slow["reproduced"] is True, fast["oracle"]
    assert _seen(fast) == _seen(slow)
    stdout = fast["steps"][0]["stdout"]
    assert "GREETING=bonjour" in stdout and "stdin: typed by the customer" in stdout
    assert project.leftovers() == []


@pytest.mark.parametrize("run, timeout, status", [
    ("sleep 30", "1s", "timed_out"),
    ("kill -KILL $$", "30s", "failed"),
    ("dd if=/dev/zero of=/dev/null bs=200M count=1", "30s", "oom_killed"),
])
def test_a_killed_step_is_recorded_the_same(project: Project, run: str, timeout: str,
                                            status: str) -> None:
    """A timeout (everything killed, `timed_out`), a step killed by SIGKILL from inside
    (exit 137, not mistaken for the sandbox removed from outside) and one the kernel
    killed for lack of memory."""
    sid = project.scenario("killed", f"""\
        environment: bb
        limits: {{memory: 64m}}
        steps:
          - {{name: slow, run: "echo begun; {run}", timeout: {timeout}}}
        oracle:
          any: [{{step: slow, stdout: begun}}]
        """)
    fast, slow = _both(project, sid)
    assert fast["sandbox"]["one_shot"] is True and slow["sandbox"]["one_shot"] is False
    assert fast["status"] == slow["status"] == "complete", (fast["error"], slow["error"])
    assert _seen(fast) == _seen(slow)
    assert (fast["steps"][0]["status"], fast["steps"][0]["exit_code"]) == (status, 137)
    assert project.leftovers() == []


def test_a_sandbox_killed_from_outside_is_no_verdict(project: Project) -> None:
    sid = project.scenario("victim", """\
        environment: bb
        steps:
          - {name: long, run: "echo begun; sleep 120"}
        oracle:
          any: [{step: long, exit_code: 0}]
        """)
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}"],
                            cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + 60
    while not _running(f"io.repro.scenario={sid}"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sandbox never started"
        time.sleep(0.1)
    time.sleep(0.5)  # the step runs
    (name,) = engine_names("container", f"io.repro.scenario={sid}")
    subprocess.run(["docker", "kill", name], capture_output=True, check=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    assert "was stopped or removed from outside during the run" in err
    assert project.leftovers() == []


def test_a_run_with_more_than_one_step_keeps_the_idle_container(project: Project) -> None:
    sid = project.scenario("two", """\
        environment: bb
        steps:
          - {name: a, run: "echo one > /tmp/x"}
          - {name: b, run: "cat /tmp/x"}
        oracle:
          any: [{step: b, stdout: one}]
        """)
    fast, slow = _both(project, sid)
    assert fast["sandbox"]["one_shot"] is False and fast["reproduced"] is True
    assert _seen(fast) == _seen(slow)


def _running(label: str) -> list[str]:
    return subprocess.run(["docker", "ps", "--filter", f"label={label}", "--filter",
                           "status=running", "--format", "{{.Names}}"], capture_output=True,
                          text=True, check=True).stdout.split()


def _indent(text: str, width: int) -> str:
    return "\n".join(" " * width + line for line in text.splitlines())

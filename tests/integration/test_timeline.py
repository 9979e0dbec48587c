"""The timeline on a real engine: offsets, background steps and waits, simultaneous users
(really at once, and nothing left when interrupted), and the race demo TIX-2041."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import REPO, Project, engine_names

SERVER_ENV = """\
    image: repro-base/busybox
    services:
      api:
        image: repro-base/busybox
        command: [sh, -c, "sleep 1; echo api listening; exec httpd -f -p 8080 -h /"]
    """


def _events(record: dict, kind: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for event in record["events"]:
        if event["kind"] == kind:
            out.setdefault(event["entry"], []).append(event)
    return out


def test_at_offsets_are_honoured_while_earlier_steps_still_run(project: Project) -> None:
    sid = project.scenario("at", """\
        environment: bb
        steps:
          - {name: long, run: "sleep 2.5; echo long"}
          - {name: at-1s, run: "echo one", at: 1s}
          - {name: at-2s, run: "echo two", at: 2s}
          - {name: after, run: "echo after"}
        oracle: {any: [{step: after, stdout: after}]}
        """)
    code, result, err = project.run_json(sid)
    assert code == 0, err
    record = project.record(result)
    starts = {k: v[0]["offset_s"] for k, v in _events(record, "start").items()}
    ends = {k: v[0]["offset_s"] for k, v in _events(record, "end").items()}
    assert starts["long"] < 0.3
    assert 1.0 <= starts["at-1s"] < 1.4  # within 0.4 s of its offset, while `long` runs
    assert 2.0 <= starts["at-2s"] < 2.4
    assert starts["after"] >= ends["at-2s"]  # after the previous entry, as always
    # ... which is `at-2s`, not `long`: it does not wait for the step still running.
    assert starts["after"] < ends["long"]


def test_background_server_and_waits_on_its_log_a_port_and_a_command(project: Project) -> None:
    project.env("srv", SERVER_ENV)
    sid = project.scenario("bg", """\
        environment: srv
        steps:
          - name: worker
            run: "sleep 0.5; echo worker ready; touch /tmp/ready; httpd -f -p 9090 -h /"
            background: true
          - wait_for: {log: "worker ready", step: worker, timeout: 20s}
          - wait_for: {log: "api listening", service: api, timeout: 20s}
          - wait_for: {port: 8080, service: api, timeout: 20s}
          - wait_for: {port: 9090, timeout: 20s}
          - wait_for: {command: "test -f /tmp/ready", timeout: 20s}
          - {name: client, run: "wget -q -O - http://api:8080/ >/dev/null; echo fetched"}
        oracle: {any: [{step: client, stdout: fetched}]}
        """)
    code, result, err = project.run_json(sid)
    assert code == 0, err
    record = project.record(result)
    worker = next(s for s in record["steps"] if s["name"] == "worker")
    assert (worker["status"], worker["background"]) == ("stopped", True)
    assert "worker ready" in worker["stdout"]
    waited = [e["entry"] for e in record["events"] if e["kind"] == "waited"]
    assert waited == ["wait_for log /worker ready/ of step worker",
                      "wait_for log /api listening/ of service api",
                      "wait_for port 8080 of service api",
                      "wait_for port 9090 of the steps' container",
                      "wait_for command `test -f /tmp/ready`"]
    offsets = [e["offset_s"] for e in record["events"] if e["kind"] == "waited"]
    assert offsets == sorted(offsets) and offsets[1] >= 0.5  # the api logs after 1 s
    stopped = _events(record, "stopped")["worker"][0]
    client_end = _events(record, "end")["client"][0]
    assert stopped["offset_s"] >= client_end["offset_s"]  # stopped when the steps ended
    assert result["when"]["step"] == "client" and result["when"]["line"] == "fetched"

    shown = project.repro("run", f"scenarios/{sid}")
    assert shown.returncode == 0, shown.stderr
    assert "background, stopped by repro at" in shown.stdout
    assert "the oracle first held at +" in shown.stdout


def test_a_wait_that_never_holds_is_a_setup_error_with_the_last_lines(project: Project) -> None:
    project.env("srv", SERVER_ENV)
    sid = project.scenario("never", """\
        environment: srv
        steps:
          - wait_for: {log: "database is up", service: api, timeout: 3s}
          - {name: client, run: "true"}
        oracle: {any: [{step: client, failed: true}]}
        """)
    started = time.monotonic()
    code, result, _ = project.run_json(sid)
    assert code == 3 and time.monotonic() - started < 60
    assert result["status"] == "error"
    assert "wait_for log /database is up/ of service api: not satisfied after 3s" in \
        result["error"]
    assert "api listening" in result["error"]  # what it did see


def test_simultaneous_users_run_at_once_at_most_concurrency(project: Project) -> None:
    sid = project.scenario("users", """\
        environment: bb
        steps:
          - name: user
            run: "sleep 1; echo user {{ instance }} of $REPRO_INSTANCES"
            repeat: {count: 9, concurrency: 3}
        oracle: {any: [{step: user, stdout: "user 9 of 9"}]}
        """)
    code, result, err = project.run_json(sid)
    assert code == 0, err
    record = project.record(result)
    step = record["steps"][0]
    instances = step["instances"]
    assert [i["stdout"] for i in instances] == [f"user {n} of 9\n" for n in range(1, 10)]
    assert step["exit_codes"] == {"exit 0": 9}
    folder = project.root / result["record"].rsplit("/", 1)[0]
    assert sorted(p.name for p in (folder / "steps").glob("*.stdout")) == [
        f"01-user.{n:03d}.stdout" for n in range(1, 10)]
    # Overlap measured from the instances' own start and end times: 3 at once, never more.
    spans = [(_epoch(i["started_at"]), _epoch(i["ended_at"])) for i in instances]
    peak = max(sum(1 for a, b in spans if a <= moment < b) for moment, _ in spans)
    assert peak == 3
    assert step["duration_s"] < 9 * 1.0 * 0.6  # far from one after the other (9 s)


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def _start_repeat(project: Project, sid: str, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}", *extra],
                            cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "NO_COLOR": "1"})
    runs = project.root / ".repro" / "runs"
    deadline = time.monotonic() + 90
    while len(list(runs.glob(f"{sid}-*/steps/*.stdout"))) < 4:  # four users are running
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the users never started"
        time.sleep(0.1)
    time.sleep(0.3)
    return proc


REPEAT_LONG = """\
    environment: bb
    steps:
      - {name: user, run: "echo begun; sleep 120", repeat: {count: 12, concurrency: 4}}
    oracle: {any: [{step: user, exit_code: 0}]}
    """


def test_ctrl_c_during_a_repeat_leaves_no_instance_and_no_container(project: Project) -> None:
    sid = project.scenario("ctrl-c", REPEAT_LONG)
    proc = _start_repeat(project, sid)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 20
    assert project.leftovers() == []
    record = json.loads(next((project.root / ".repro" / "runs").glob(
        f"{sid}-*/record.json")).read_text())
    assert record["status"] == "interrupted"
    instances = record["steps"][0]["instances"]
    assert len(instances) == 4  # the running four; no new one started after Ctrl-C
    assert {i["status"] for i in instances} == {"interrupted"}


def test_ctrl_c_with_keep_stops_every_instance_inside_the_kept_sandbox(project: Project) -> None:
    sid = project.scenario("ctrl-c-keep", REPEAT_LONG)
    proc = _start_repeat(project, sid, "--keep")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    try:
        assert proc.returncode == 130, err
        kept = engine_names("container", f"io.repro.scenario={sid}")
        assert len(kept) == 1
        ps = subprocess.run(["docker", "exec", kept[0], "ps", "-o", "args"],
                            capture_output=True, text=True, timeout=30)
        assert ps.returncode == 0, ps.stderr
        assert "sleep 120" not in ps.stdout  # every user's process was stopped
    finally:
        run_id = next((project.root / ".repro" / "runs").glob(f"{sid}-*")).name
        project.repro("gc", "--run", run_id)
    assert project.leftovers() == []


def test_race_demo_double_books_at_20_users_and_its_fix_does_not() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    results = {}
    for sid in ("TIX-2041", "TIX-2041-fixed"):
        done = subprocess.run([sys.executable, "-m", "repro", "run", f"scenarios/{sid}",
                               "--json"], cwd=REPO, capture_output=True, text=True, env=env,
                              timeout=900)
        assert done.returncode == 0, done.stderr
        results[sid] = json.loads(done.stdout)
    ticket, fixed = results["TIX-2041"], results["TIX-2041-fixed"]
    assert (ticket["reproduced"], ticket["ok"], ticket["baseline"]) == (True, True, "match")
    assert (fixed["reproduced"], fixed["ok"], fixed["baseline"]) == (False, True, "match")
    record = json.loads((REPO / ticket["record"]).read_text())
    booked = record["steps"][0]["exit_codes"]["exit 0"]
    assert booked >= 2
    assert ticket["when"]["step"] == "presale" and ticket["when"]["line"] == "booked"
    assert ticket["when"]["instance"] in range(1, 41)
    fixed_record = json.loads((REPO / fixed["record"]).read_text())
    assert fixed_record["steps"][0]["exit_codes"] == {"exit 0": 1, "exit 3": 39}


def test_race_demo_with_one_user_at_a_time_books_the_seat_once(project: Project) -> None:
    shutil.copytree(REPO / "environments", project.root / "environments", dirs_exist_ok=True)
    shutil.copytree(REPO / "scenarios" / "TIX-2041", project.root / "scenarios" / "TIX-2041")
    scenario = project.root / "scenarios" / "TIX-2041" / "scenario.yaml"
    text = scenario.read_text()
    assert "concurrency: 20" in text
    scenario.write_text(text.replace("concurrency: 20", "concurrency: 1"))
    code, result, err = project.run_json("TIX-2041")
    assert code == 1, err  # expect: reproduces, and one user at a time does not
    assert result["reproduced"] is False
    record = project.record(result)
    assert record["steps"][0]["exit_codes"] == {"exit 0": 1, "exit 3": 39}

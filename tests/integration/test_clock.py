"""The sandbox clock on a real engine: at, frozen and rate in the steps, PostgreSQL's now()
in a service, from the customer's log, and the images libfaketime cannot reach."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime

from conftest import REPO, Project

AT = 1711844990  # 2024-03-31T00:29:50Z
DEBIAN = "image: repro-base/debian:bookworm\n"
ORACLE = "oracle: {any: [{step: a, failed: true}]}\n"
# The fake clock and the real one (the host's uptime, which libfaketime does not touch).
BOTH = "date -u +%s.%N; cut -d' ' -f1 /proc/uptime"


def _outputs(project: Project, sid: str) -> tuple[dict, list[list[float]]]:
    code, result, stderr = project.run_json(sid)
    assert result["status"] == "complete", stderr
    record = project.record(result)
    return record, [[float(x) for x in s["stdout"].split()] for s in record["steps"]]


def _volumes() -> set[str]:
    return set(subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True,
                              text=True, check=True).stdout.split())


def test_a_running_clock_starts_at_the_instant_at_the_first_step(project: Project) -> None:
    project.env("deb", DEBIAN)
    volumes = _volumes()
    sid = project.scenario("at", f"""\
        environment: deb
        clock: {{at: "2024-03-31T02:29:50+02:00"}}
        steps:
          - {{name: a, run: "{BOTH}"}}
          - {{name: b, run: "sleep 1; {BOTH}"}}
        {ORACLE}""")
    record, ((fake_a, real_a), (fake_b, real_b)) = _outputs(project, sid)
    assert AT <= fake_a < AT + 2  # the instant, at the first step
    assert _volumes() <= volumes  # the library is mounted from the host: nothing stays
    assert abs((fake_b - fake_a) - (real_b - real_a)) < 0.1  # then it ticks like time
    clock = record["clock"]
    assert clock["mode"] == "running" and clock["at_first_step"].startswith("2024-03-31T00:29:5")
    assert clock["reach"]["sandbox"]["reached"] is True


def test_a_frozen_clock_stands_still_and_a_fast_one_runs_fast(project: Project) -> None:
    project.env("deb", DEBIAN)
    frozen = project.scenario("frozen", f"""\
        environment: deb
        clock: {{at: "2024-03-31T00:29:50Z", frozen: true}}
        steps:
          - {{name: a, run: "date -u +%s.%N"}}
          - {{name: b, run: "sleep 1; date -u +%s.%N"}}
        {ORACLE}""")
    _, readings = _outputs(project, frozen)
    assert readings == [[AT], [AT]]
    fast = project.scenario("fast", f"""\
        environment: deb
        clock: {{at: "2024-03-31T00:29:50Z", rate: 60}}
        steps:
          - {{name: a, run: "{BOTH}"}}
          - {{name: b, run: "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; {BOTH}"}}
          - {{name: c, run: "sleep 120; {BOTH}"}}
        {ORACLE}""")
    record, ((fake_a, real_a), (fake_b, real_b), (fake_c, real_c)) = _outputs(project, fast)
    assert AT <= fake_a < AT + 120  # within 2 real seconds of the clock's start
    # Two processes started apart read one clock: 60 s of it per real second. Each exec's
    # setting is computed as it is asked for: the delay until the process really starts
    # (up to 0.2 s on a loaded 2-core machine) shows 60-fold, as does the uptime's 10 ms.
    assert abs((fake_b - fake_a) - 60 * (real_b - real_a)) < 12
    assert fake_c - fake_b >= 120 and real_c - real_b < 10  # `sleep 120` took 2 s
    assert record["clock"]["rate"] == 60


def test_postgres_now_in_a_service_reads_the_clock_of_the_steps(project: Project) -> None:
    # Inside the project, as every path an environment names must be (the same content:
    # the cached build is reused).
    image = project.root / "environments" / "billing-image"
    shutil.copytree(REPO / "environments" / "billing" / "image", image)
    project.env("pg", f"""\
        image: {{build: {{context: {image}}}}}
        env: {{PGHOST: db, PGUSER: postgres}}
        services:
          db:
            image: {{build: {{context: {image}}}}}
            ready: {{command: pg_isready -q -h 127.0.0.1 -U postgres, timeout: 60s}}
        """)
    sql = "select extract(epoch from now())"
    sid = project.scenario("pg", f"""\
        environment: pg
        clock: {{at: "2024-01-31T00:29:30Z"}}
        steps:
          - {{name: a, run: "sleep 1.2; date -u +%s.%N; psql -XAtc '{sql}'"}}
        {ORACLE}""")
    record, ((steps, database),) = _outputs(project, sid)
    at = 1706660970
    assert at + 1 <= steps < at + 3 and abs(database - steps) < 0.5
    assert set(record["clock"]["reach"]) == {"sandbox", "db"}


def test_a_static_busybox_image_is_refused_in_one_line(project: Project) -> None:
    sid = project.scenario("static", f"""\
        environment: bb
        clock: {{at: "2024-03-31T00:29:50Z"}}
        steps: [{{name: a, run: date}}]
        {ORACLE}""")
    plan = project.repro("plan", f"scenarios/{sid}")
    assert "libfaketime" in plan.stdout and "not static binaries (busybox)" in plan.stdout
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 3, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("repro: error:")]
    assert errors == ["repro: error: clock: the steps' container: its image has no GNU C "
                      "library (its programs are static or built on musl, like busybox or "
                      "Alpine), so libfaketime cannot reach them; use an image based on glibc "
                      "2.34+ (e.g. Debian 12, Ubuntu 22.04) or remove `clock:`"]


def _repro(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"})


def test_bill_131_reproduces_from_the_customer_log_and_its_twin_is_fixed() -> None:
    log = REPO / "scenarios" / "BILL-131" / "customer" / "billing.log"
    before = log.read_bytes()
    plan = _repro("plan", "scenarios/BILL-131")
    assert "line: scenarios/BILL-131/customer/billing.log:6" in plan.stdout
    assert "at_first_step: '2024-01-31T00:29:30.087Z'" in plan.stdout
    ticket, fixed = _repro("run", "scenarios/BILL-131", "--json"), \
        _repro("run", "scenarios/BILL-131-fixed", "--json")
    for done, expected in ((ticket, (True, "reproduces")), (fixed, (False, "fixed"))):
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert (result["reproduced"], result["expected"], result["ok"]) == (*expected, True)
        assert result["baseline"] == "match"
        assert result["clock"]["at_first_step"].startswith("2024-01-31T00:29:3")
    record = json.loads((REPO / json.loads(fixed.stdout)["record"]).read_text())
    assert record["steps"][0]["stdout"] == "renewed 2 subscription(s) on 2024-01-31\n"
    assert log.read_bytes() == before
    timeline = _repro("timeline", str(log.relative_to(REPO)), "--match", "ERROR")
    assert timeline.stdout.splitlines()[:2] == [
        "scenarios/BILL-131/customer/billing.log: 1 event(s); offsets from line 1 "
        "(2024-01-29 00:30:00,004)",
        "+48h00m00.083s  6| 2024-01-31 00:30:00,087 ERROR [renewals] renewal failed: "
        "psql:/opt/billing/releases/2.3.0/renew.sql:11: ERROR:  date field value out of "
        "range: 2024-02-31"]


def test_events_and_the_oracles_moment_carry_the_sandbox_clocks_time(
        project: Project) -> None:
    project.env("deb", DEBIAN)
    sid = project.scenario("events", """\
        environment: deb
        clock: {at: "2024-03-31T00:29:50Z", rate: 60}
        steps:
          - {name: a, run: "sleep 1; echo ERROR payment"}
        oracle: {any: [{step: a, stdout: "ERROR payment"}]}
        """)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = project.record(result)
    events = {(e["kind"], e["entry"]): e for e in record["events"]}
    start, end = events[("start", "a")], events[("end", "a")]
    assert start["sandbox_time"].startswith("2024-03-31T00:29:5")

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    # Between two events the sandbox clock moved 60 times the real time.
    real = end["offset_s"] - start["offset_s"]
    fake = epoch(end["sandbox_time"]) - epoch(start["sandbox_time"])
    assert abs(fake - 60 * real) < 0.5, (fake, real)
    assert record["when"]["step"] == "a"
    # The line that made it hold came between the start and the end, on the same clock.
    assert start["sandbox_time"] <= record["when"]["sandbox_time"] <= end["sandbox_time"]

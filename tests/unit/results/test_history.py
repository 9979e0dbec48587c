"""`repro runs`: reading past run records (newest first) and pruning old run folders."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from repro.results.history import prune, read, settle_dead


def iso_ago(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds, UTC).isoformat(timespec="milliseconds")


def run(runs: Path, run_id: str, record: dict | str | None) -> Path:
    folder = runs / run_id
    folder.mkdir(parents=True)
    (folder / "artifact.log").write_text("customer data\n")
    if record is not None:
        text = record if isinstance(record, str) else json.dumps({"run_id": run_id, **record})
        (folder / "record.json").write_text(text)
    return folder


def record(started: str, reproduced: bool | None = True, status: str = "complete",
           ok: bool | None = True, baseline: str = "match", scenario: str = "S") -> dict:
    return {"scenario": {"id": scenario}, "status": status, "reproduced": reproduced, "ok": ok,
            "baseline": {"verdict": baseline}, "started_at": started}


def test_no_runs_folder_is_no_runs(tmp_path):
    assert read(tmp_path / ".repro/runs") == []


def test_runs_are_listed_newest_first_with_their_verdict(tmp_path):
    runs = tmp_path / "runs"
    run(runs, "a", record("2024-05-01T10:00:00.000+00:00", True, scenario="A"))
    run(runs, "c", record("2024-05-03T10:00:00.000+00:00", None, status="error", ok=None,
                          baseline="none", scenario="C"))
    run(runs, "b", record("2024-05-02T10:00:00.000+00:00", False, ok=False,
                          baseline="diverged", scenario="B"))
    listed = read(runs)
    assert [(r.run_id, r.scenario, r.status, r.verdict, r.ok, r.baseline) for r in listed] == [
        ("c", "C", "error", "ERROR", None, "none"),
        ("b", "B", "complete", "NOT REPRODUCED", False, "diverged"),
        ("a", "A", "complete", "REPRODUCED", True, "match"),
    ]
    assert [r.folder for r in listed] == [runs / "c", runs / "b", runs / "a"]


def test_a_folder_without_a_readable_record_is_listed_as_unreadable(tmp_path):
    runs = tmp_path / "runs"
    run(runs, "ok-run", record("2024-05-01T10:00:00.000+00:00"))
    run(runs, "no-record", None)
    run(runs, "half-written", '{"run_id": "half-wri')
    (runs / "stray-file.txt").write_text("not a run\n")  # only folders are runs
    listed = {r.run_id: r for r in read(runs)}
    assert sorted(listed) == ["half-written", "no-record", "ok-run"]
    for name in ("no-record", "half-written"):
        gone = listed[name]
        assert (gone.scenario, gone.status, gone.verdict, gone.ok, gone.baseline,
                gone.started_at) == ("?", "unreadable", "UNREADABLE", None, "-", "")
    # without a start time they sort after every dated run
    assert [r.run_id for r in read(runs)][0] == "ok-run"


def test_prune_deletes_only_runs_older_than_the_age(tmp_path):
    runs = tmp_path / "runs"
    old = run(runs, "old", record(iso_ago(3 * 86400)))
    fresh = run(runs, "fresh", record(iso_ago(3600)))
    gone = prune(read(runs), older_than_s=86400)
    assert [r.run_id for r in gone] == ["old"]
    assert not old.exists()  # its artifacts (customer data) too
    assert (fresh / "artifact.log").exists() and [r.run_id for r in read(runs)] == ["fresh"]


def test_prune_judges_a_run_without_a_start_time_by_its_folder_age(tmp_path):
    runs = tmp_path / "runs"
    stale, recent = run(runs, "stale", None), run(runs, "recent", None)
    week_ago = time.time() - 7 * 86400
    os.utime(stale, (week_ago, week_ago))
    gone = prune(read(runs), older_than_s=86400)
    assert [r.run_id for r in gone] == ["stale"]
    assert not stale.exists() and recent.exists()


def test_running_records_of_dead_processes_on_this_host_are_marked_killed(tmp_path):
    import socket
    import subprocess
    import sys

    from repro import owner

    gone = subprocess.run([sys.executable, "-c", "from repro import owner; "
                           "print(owner.current())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    host = socket.gethostname()
    cases = {"dead": gone, "alive": owner.current(), "other-host": "ci-7:4242:99",
             "old-format": None}
    for run_id, who in cases.items():
        data = record(iso_ago(60), reproduced=None, status="running", ok=None)
        if who is not None:
            data["owner"] = who
        run(tmp_path, run_id, data)
    run(tmp_path, "finished", {**record(iso_ago(60)), "owner": gone})
    assert gone.startswith(f"{host}:")

    assert settle_dead(tmp_path) == ["dead"]
    statuses = {r.run_id: (r.status, r.verdict) for r in read(tmp_path)}
    assert statuses["dead"] == ("killed", "KILLED")
    assert statuses["alive"] == statuses["other-host"] == statuses["old-format"] == (
        "running", "RUNNING")
    assert statuses["finished"][0] == "complete"
    stored = json.loads((tmp_path / "dead" / "record.json").read_text())
    assert "was killed" in stored["error"]
    assert settle_dead(tmp_path) == []  # once


def test_retention_prunes_only_that_scenarios_finished_records(tmp_path):
    from repro.results.history import apply_retention

    runs = tmp_path / "runs"
    day = 86400
    old = run(runs, "s-old", record(iso_ago(40 * day), scenario="S"))
    young = run(runs, "s-young", record(iso_ago(10 * day), scenario="S"))
    running = run(runs, "s-running", record(iso_ago(40 * day), status="running", scenario="S"))
    other = run(runs, "t-old", record(iso_ago(400 * day), scenario="T"))
    gone = apply_retention(runs, "S", 30 * day)
    assert [g.run_id for g in gone] == ["s-old"] and not old.exists()
    assert young.exists() and running.exists() and other.exists()

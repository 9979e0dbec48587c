"""`.repro/access.log`: one whole JSON line per run, whatever runs end at the same moment;
a log under its former name, `.repro/audit.log`, carried over."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

from repro.plan.build import plan_scenario
from repro.results import access_log
from repro.results.record import RunRecord

SCENARIO = """\
environment: tiny
parameters_from: [customer/settings.yaml]
data:
  - {from: customer/export, to: /srv/export}
  - {from: customer/one.csv, to: /srv/one.csv}
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
"""


def _record(project, tmp_path) -> RunRecord:
    project.environment("tiny", "image: busybox\nparameters: {token: {default: t0k-Secret-9, "
                        "secret: true}}\n")
    project.scenario("R", SCENARIO)
    project.write("scenarios/R/customer/settings.yaml", "token: s3cr3t-Value-77\n")
    project.write("scenarios/R/customer/export/a.txt", "a\n")
    project.write("scenarios/R/customer/export/sub/b.txt", "bb\n")
    project.write("scenarios/R/customer/one.csv", "1,2\n")
    record = RunRecord(plan_scenario(Path("R")), "R-run-1", tmp_path / "runs" / "R-run-1")
    record.reproduced = True
    return record


def test_a_line_names_who_what_and_each_customer_file_with_its_sha256(project, tmp_path):
    record = _record(project, tmp_path)
    path = access_log.append(project.root, record)
    [line] = path.read_text().splitlines()
    entry = json.loads(line)
    assert (entry["scenario"], entry["run_id"], entry["verdict"], entry["user"]) == \
        ("R", "R-run-1", "REPRODUCED", access_log.who())
    customer = project.root / "scenarios/R/customer"
    assert [(f["kind"], f["path"], f["sha256"], f["size"]) for f in entry["files"]] == [
        (kind, f"scenarios/R/customer/{rel}",
         hashlib.sha256((customer / rel).read_bytes()).hexdigest(),
         (customer / rel).stat().st_size)
        for kind, rel in [("parameters_from", "settings.yaml"), ("data", "export/a.txt"),
                          ("data", "export/sub/b.txt"), ("data", "one.csv")]]
    assert "s3cr3t-Value-77" not in line and "t0k-Secret-9" not in line  # names, not values
    assert path.stat().st_mode & 0o777 == 0o600


def _writer(args: tuple[str, int]) -> None:
    root, count = args
    import os

    os.chdir(root)
    record = RunRecord(plan_scenario(Path("R")), f"R-{os.getpid()}", Path(root) / "runs" / "x")
    for _ in range(count):
        access_log.append(Path(root), record)


def test_parallel_writers_never_interleave_or_lose_a_line(project, tmp_path):
    _record(project, tmp_path)
    for i in range(300):  # a big data folder: lines of ~40 KB, written in several pages
        project.write(f"scenarios/R/customer/export/many/f{i:03}.txt", f"{i}\n")
    writers, each = 6, 15
    context = multiprocessing.get_context("spawn")
    with context.Pool(writers) as pool:
        pool.map(_writer, [(str(project.root), each)] * writers)
    lines = access_log.log_path(project.root).read_bytes().split(b"\n")
    assert lines[-1] == b""
    entries = [json.loads(line) for line in lines[:-1]]  # each one whole
    assert len(entries) == writers * each
    assert all(len(e["files"]) == 304 for e in entries)
    assert len(lines[0]) > 32 * 1024


def test_a_file_is_hashed_once_until_it_changes(project, tmp_path, opened):
    record = _record(project, tmp_path)
    opened.clear()
    first = access_log.customer_files(record)
    again = access_log.customer_files(record)  # a replay's next run of the same data
    assert again == first and opened.count("one.csv") == 1
    (project.root / "scenarios/R/customer/one.csv").write_text("1,2,3\n")  # changed
    opened.clear()
    changed = {f["path"]: f for f in access_log.customer_files(record)}
    assert opened == ["one.csv"]  # only the changed file is read again
    assert changed["scenarios/R/customer/one.csv"]["sha256"] == \
        hashlib.sha256(b"1,2,3\n").hexdigest()


def test_the_log_under_its_former_name_is_carried_over_at_the_first_write(project, tmp_path):
    record = _record(project, tmp_path)
    former = project.root / ".repro" / "audit.log"
    former.parent.mkdir()
    former.write_text('{"run_id": "old-1"}\n{"run_id": "old-2"}\n')
    path = access_log.append(project.root, record)
    assert path == project.root / ".repro" / "access.log" and not former.exists()
    lines = path.read_text().splitlines()
    assert lines[:2] == ['{"run_id": "old-1"}', '{"run_id": "old-2"}']
    assert [json.loads(line)["run_id"] for line in lines[2:]] == ["R-run-1"]
    # A log of that name written afterwards (by an older repro) is not mixed in.
    former.write_text('{"run_id": "older-repro"}\n')
    access_log.append(project.root, record)
    assert former.read_text() == '{"run_id": "older-repro"}\n'
    assert [json.loads(line)["run_id"] for line in path.read_text().splitlines()] == \
        ["old-1", "old-2", "R-run-1", "R-run-1"]

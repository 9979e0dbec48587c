"""The run record (record.json): what a run leaves behind, with secrets masked."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from repro.compare.diff import ChannelDiff, Comparison
from repro.plan.build import plan_scenario
from repro.results.observations import INLINE_LIMIT, CaptureObservation
from repro.results.oracle import ConditionResult
from repro.results.record import RunRecord

from ..conftest import RUN_SECRET, attach, run_plan, step_run, svc_project


def test_a_failed_query_error_is_masked_in_the_record(project, tmp_path):
    # psql echoes offending values (`invalid input syntax ...: "<value>"`): a secret the
    # product stored in its database must not reach record.json through it.
    svc_project(project)
    plan = plan_scenario(Path("S"))
    record = RunRecord(plan, "S-1", tmp_path / "run")
    record.captures.append(CaptureObservation(
        "totals", "query:totals", None, None, query=True,
        error='ERROR: invalid input syntax for type integer: "pw-Zq81xK"'))
    shown = json.dumps(record.to_dict())
    assert "pw-Zq81xK" not in shown
    assert record.to_dict()["captures"][0]["error"] == \
        'ERROR: invalid input syntax for type integer: "***"'


def record_of(project, tmp_path, expect: str = "reproduces") -> RunRecord:
    return RunRecord(run_plan(project, expect), "R-1", tmp_path / ".repro/runs/R-1")


def test_secrets_are_masked_in_the_error_commands_and_oracle_details(project, tmp_path):
    record = record_of(project, tmp_path)
    run = record.directory
    step = step_run(run, "import", "failed", 1, stderr="boom\n")
    step.command = f"app import --token {RUN_SECRET}"
    record.steps.append(step)
    record.oracle.append(ConditionResult("step 'import' stderr matches /boom/", True,
                                         f"stderr: boom (token {RUN_SECRET})"))
    record.error = f"the engine refused: env TOKEN={RUN_SECRET}"
    data = record.to_dict()
    assert RUN_SECRET not in json.dumps(data)
    assert data["error"] == "the engine refused: env TOKEN=***"
    assert data["steps"][0]["command"] == "app import --token ***"
    assert data["oracle"]["conditions"] == [{"condition": "step 'import' stderr matches /boom/",
                                             "fired": True,
                                             "observed": "stderr: boom (token ***)"}]
    assert data["parameters"] == {"token": "***"}
    assert (data["scenario"], data["environment"]) == (
        {"id": "R", "title": "import crashes", "ticket": "SUP-7",
         "path": "scenarios/R/scenario.yaml"},
        {"name": "tiny", "path": "environments/tiny.yaml"})


def test_step_outputs_are_inline_up_to_the_limit_and_named_by_file_beyond(project, tmp_path):
    record = record_of(project, tmp_path)
    run = record.directory
    at_limit = "x" * (INLINE_LIMIT - 1) + "\n"
    record.steps += [step_run(run, "small", stdout="hello\n", stderr=""),
                     step_run(run, "edge", stdout=at_limit, stderr="e\n"),
                     step_run(run, "big", stdout=at_limit + "y", stderr=b"\xff\xfe oops\n"),
                     step_run(run, "never", "skipped", None, stdout=None, stderr=None,
                              started=None)]
    small, edge, big, never = record.to_dict()["steps"]
    assert small == {"name": "small", "command": "run small", "status": "ok", "exit_code": 0,
                     "started_at": "2023-11-14T22:13:20.000+00:00",
                     "ended_at": "2023-11-14T22:13:20.250+00:00", "duration_s": 0.25,
                     "stdout": "hello\n", "stdout_bytes": 6, "stdout_file": "steps/small.stdout",
                     "stderr": "", "stderr_bytes": 0, "stderr_file": "steps/small.stderr"}
    assert (edge["stdout"], edge["stdout_bytes"]) == (at_limit, INLINE_LIMIT)
    # one byte over: only the size and the artifact, never a megabyte in record.json
    assert (big["stdout"], big["stdout_bytes"], big["stdout_file"]) == (
        None, INLINE_LIMIT + 1, "steps/big.stdout")
    assert big["stderr"] == "\ufffd\ufffd oops\n"  # undecodable bytes do not break the record
    assert never == {"name": "never", "command": "run never", "status": "skipped",
                     "exit_code": None, "started_at": None, "ended_at": None,
                     "duration_s": None, "stdout": "", "stdout_bytes": 0, "stdout_file": None,
                     "stderr": "", "stderr_bytes": 0, "stderr_file": None}


def diverged() -> Comparison:
    return Comparison([ChannelDiff("steps.import.stdout", "text", "match"),
                       ChannelDiff("files.state", "text", "diverged", "1 line changed",
                                   ["-a", "+b"])])


@pytest.mark.parametrize("expect, reproduced, comparison, ok", [
    ("reproduces", True, None, True),
    ("reproduces", False, None, False),
    ("reproduces", True, "diverged", True),   # the baseline does not judge `reproduces`
    ("fixed", False, None, True),
    ("fixed", True, None, False),
    ("fixed", False, "match", True),
    ("fixed", False, "diverged", False),      # fixed, but not the same behaviour as before
    ("fixed", None, None, None),              # no verdict: the run did not get that far
    ("reproduces", None, "diverged", None),
])
def test_ok_is_the_oracle_as_expected_and_for_fixed_the_baseline(
        project, tmp_path, expect, reproduced, comparison, ok):
    record = record_of(project, tmp_path, expect)
    record.reproduced = reproduced
    if comparison == "diverged":
        attach(record, diverged())
    elif comparison == "match":
        attach(record, Comparison([ChannelDiff("steps.import.stdout", "text", "match")]))
    data = record.to_dict()
    assert (data["expected"], data["reproduced"], data["ok"]) == (expect, reproduced, ok)
    assert data["oracle"]["fired"] == reproduced


def test_the_baseline_comparison_is_in_the_record(project, tmp_path):
    record = record_of(project, tmp_path, "fixed")
    assert record.to_dict()["baseline"] == {"verdict": "none"}
    attach(record, diverged())
    assert record.to_dict()["baseline"] == {
        "verdict": "diverged", "diverged": ["files.state"],
        "channels": [{"channel": "steps.import.stdout", "kind": "text", "verdict": "match"},
                     {"channel": "files.state", "kind": "text", "verdict": "diverged",
                      "summary": "1 line changed", "diff": ["-a", "+b"], "changes": []}]}


def test_captures_carry_size_and_sha256_of_what_was_read_back(project, tmp_path):
    record = record_of(project, tmp_path)
    files = record.directory / "files"
    (files / "state").mkdir(parents=True)
    log = files / "app.log"
    log.write_bytes(b"started\nboom\n")
    record.captures += [
        CaptureObservation("/var/log/app.log", "/var/log/app.log", "file", log),
        CaptureObservation("state", "/srv/state", "dir", files / "state"),
        CaptureObservation("gone", "/srv/gone", None, None),
        CaptureObservation("rows", "query:rows", "file", files / "rows.csv", query=True),
    ]
    (files / "rows.csv").write_text("a\n1\n")
    log_, state, gone, rows = record.to_dict()["captures"]
    assert log_ == {"name": "/var/log/app.log", "path": "/var/log/app.log", "exists": True,
                    "kind": "file", "artifact": "files/app.log", "size": 13,
                    "sha256": hashlib.sha256(b"started\nboom\n").hexdigest()}
    assert state == {"name": "state", "path": "/srv/state", "exists": True, "kind": "dir",
                     "artifact": "files/state"}  # a folder has no single size or hash
    assert gone == {"name": "gone", "path": "/srv/gone", "exists": False, "kind": None,
                    "artifact": None}
    assert rows == {"name": "rows", "path": "query:rows", "exists": True, "kind": "file",
                    "artifact": "files/rows.csv", "query": True, "error": None, "size": 4,
                    "sha256": hashlib.sha256(b"a\n1\n").hexdigest()}


def test_a_failed_query_is_recorded_with_the_database_error(project, tmp_path):
    record = record_of(project, tmp_path)
    record.captures.append(CaptureObservation("rows", "query:rows", None, None, query=True,
                                              error='ERROR: relation "t" does not exist'))
    (rows,) = record.to_dict()["captures"]
    assert rows == {"name": "rows", "path": "query:rows", "exists": False, "kind": None,
                    "artifact": None, "query": True,
                    "error": 'ERROR: relation "t" does not exist'}


def test_write_leaves_a_complete_json_record_and_no_temporary_file(project, tmp_path):
    record = record_of(project, tmp_path)
    record.status, record.reproduced = "complete", True
    path = record.write()
    assert path == record.directory / "record.json"
    assert json.loads(path.read_text())["status"] == "complete"
    assert [p.name for p in record.directory.iterdir()] == ["record.json"]


def test_host_os_says_what_platform_says_without_starting_a_process() -> None:
    import platform
    import subprocess
    from unittest import mock

    from repro.results import record

    expected = platform.platform()  # starts `uname -p` on Linux (first call only)
    record._HOST_OS.clear()
    with mock.patch.object(subprocess, "Popen", side_effect=AssertionError("a process")):
        assert record.host_os() == expected

"""The run record (record.json): what a run leaves behind, with secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

from repro.plan.build import plan_scenario
from repro.results.observations import CaptureObservation
from repro.results.record import RunRecord

from ..conftest import svc_project


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

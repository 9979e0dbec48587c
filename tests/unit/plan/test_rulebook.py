"""A run record keeps how its channels are compared (a case's temporary project is gone
after the run): what it writes reads back as the plan had it; a hand-edited one is an
error naming the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.plan import rulebook
from repro.plan.build import plan_scenario

from ..conftest import Project

SCENARIO = """\
environment: app
steps:
  - name: start
    run: app
capture:
  - {path: /srv/out.csv, key: [id], tolerance: 0.5}
  - {path: /srv/report.txt, type: json, ordered: false}
normalize:
  - mask: uuid
  - {replace: 'took [0-9]+ms', with: 'took Nms', channels: [steps.start.stdout]}
  - {ignore_fields: [meta.at], channels: [files.report.txt]}
  - {ignore_columns: [created]}
  - {sort_lines: true, channels: ['steps.*.stderr']}
oracle:
  any:
    - {step: start, failed: true}
"""


def test_the_rules_and_capture_plans_read_back_as_planned(project: Project) -> None:
    project.app(SCENARIO)
    plan = plan_scenario(Path("T-1"))
    stored = json.loads(json.dumps(rulebook.to_dict(plan)))  # as record.json holds it
    rules, captures = rulebook.from_dict(stored, "record.json")
    assert rules == plan.rules and len(rules) == 5
    assert captures == rulebook.capture_plans(plan)
    assert captures["report.txt"].type == "json" and captures["out.csv"].tolerance == 0.5


def test_a_hand_edited_rulebook_is_an_error_naming_the_record(project: Project) -> None:
    project.app(SCENARIO)
    stored = rulebook.to_dict(plan_scenario(Path("T-1")))
    stored["normalize"][1]["replace"] = "took ([0-9]+ms"
    with pytest.raises(ConfigError, match=r"record.json.*invalid regular expression"):
        rulebook.from_dict(stored, "record.json")
    with pytest.raises(ConfigError, match="record.json: compare: not a rulebook"):
        rulebook.from_dict({"normalize": []}, "record.json")

"""`retention:` on a scenario, or for the whole project in repro.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.plan.build import plan_scenario

ENV = "image: busybox\n"
BODY = "environment: e\nsteps: [{name: s, run: 'true'}]\noracle: {any: [{step: s, failed: true}]}\n"


def test_the_scenario_wins_over_the_project_and_none_means_kept(project):
    project.environment("e", ENV)
    project.scenario("A", BODY + "retention: 2w\n")
    project.scenario("B", BODY)
    assert plan_scenario(Path("A")).retention == 14 * 86400
    assert plan_scenario(Path("B")).retention is None
    project.write("repro.yaml", "# the project's settings\nretention: 30d\n")
    assert plan_scenario(Path("A")).retention == 14 * 86400
    assert plan_scenario(Path("B")).retention == 30 * 86400


@pytest.mark.parametrize(("file", "text", "expected"), [
    ("repro.yaml", "retention: 30 days\n", "repro.yaml:1: retention: expected a duration"),
    ("repro.yaml", "retension: 30d\n", "repro.yaml:1: retension: unknown key"),
    ("scenarios/B/scenario.yaml", BODY + "retention: 0\n",
     "scenarios/B/scenario.yaml:4: retention: must be longer than zero"),
])
def test_a_bad_retention_is_one_line_at_its_place(project, file, text, expected):
    project.environment("e", ENV)
    project.scenario("B", BODY)
    project.write(file, text)
    with pytest.raises(ConfigError) as caught:
        plan_scenario(Path("B"))
    [line] = caught.value.lines()
    assert line.startswith(expected), line

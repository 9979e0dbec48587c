"""`extends:`: a twin inherits a scenario and states only what differs."""

from __future__ import annotations

import pytest

from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.show import plan_dict
from tests.unit.conftest import line_of

ENV = """\
image: busybox
parameters:
  version: {default: "1.4.3", choices: ["1.4.2", "1.4.3"]}
  separator: "."
  company: Example
"""

BASE = """\
id: T-1
title: import crashes
ticket: T-1
environment: app
parameters_from: [customer/settings.ini]
parameters:
  version: "1.4.2"
  company: ACME
data:
  - {from: customer/lines.csv, to: /srv/lines.csv}
steps:
  - {name: import, run: app import /srv/lines.csv, stdin_file: customer/lines.csv}
oracle:
  any: [{step: import, stderr: ValueError}]
"""

TWIN = """\
# the fix
extends: ../T-1
title: T-1 on 1.4.3
expect: fixed
parameters:
  version: "1.4.3"
"""


@pytest.fixture
def twin(project):
    project.environment("app", ENV)
    project.scenario("T-1", BASE)
    project.write("scenarios/T-1/customer/settings.ini", "separator = ,\n")
    project.write("scenarios/T-1/customer/lines.csv", "a;1.234,50\n")
    return project.scenario("T-1-fixed", TWIN)


def test_a_twin_inherits_all_but_the_id_and_merges_parameters_key_by_key(twin, project):
    plan = plan_scenario(twin)
    assert (plan.scenario_id, plan.title, plan.ticket, plan.expect) == (
        "T-1-fixed", "T-1 on 1.4.3", "T-1", "fixed")
    assert plan.parameters == {"version": "1.4.3", "separator": ",", "company": "ACME"}
    assert [s.name for s in plan.steps] == ["import"]
    # The customer's files are the base scenario's own files, not copies.
    assert plan.data[0].source == project.root / "scenarios/T-1/customer/lines.csv"
    assert plan.steps[0].stdin == b"a;1.234,50\n"
    assert plan.baseline_path == project.root / "scenarios/T-1-fixed/baseline.yaml"


def test_the_plan_says_which_file_and_line_wrote_each_value(twin):
    shown = plan_dict(plan_scenario(twin))
    base = "scenarios/T-1/scenario.yaml"
    own = "scenarios/T-1-fixed/scenario.yaml"
    assert shown["scenario"]["extends"] == [base]
    sources = shown["sources"]
    assert sources["title"] == f"{own}:{line_of(TWIN, 'title:')}"
    assert sources["steps"] == f"{base}:{line_of(BASE, 'steps:')}"
    assert sources["parameters.version"] == f"{own}:{line_of(TWIN, 'version:')}"
    assert sources["parameters.company"] == f"{base}:{line_of(BASE, 'company:')}"
    assert shown["parameters_from"]["version"] == f"{own}:{line_of(TWIN, 'version:')}"
    assert shown["parameters_from"]["separator"] == "scenarios/T-1/customer/settings.ini:1"


def test_an_error_in_an_inherited_key_names_the_file_that_wrote_it(twin, project):
    project.scenario("T-1", BASE.replace("stderr: ValueError", "stderr: '[unclosed'"))
    with pytest.raises(ConfigError) as caught:
        plan_scenario(twin)
    assert str(caught.value).startswith(
        f"scenarios/T-1/scenario.yaml:{line_of(BASE, 'oracle:') + 1}: oracle.any[0].stderr")


def test_a_twin_of_a_twin_and_replaced_steps(twin, project):
    third = project.scenario("T-1-other", """\
        extends: ../T-1-fixed
        steps: [{name: other, run: "true"}]
        oracle: {any: [{step: other, failed: true}]}
        """)
    plan = plan_scenario(third)
    assert (plan.expect, plan.parameters["version"]) == ("fixed", "1.4.3")
    assert [s.name for s in plan.steps] == ["other"]
    assert list(plan.extends) == ["scenarios/T-1-fixed/scenario.yaml",
                                  "scenarios/T-1/scenario.yaml"]


def test_cycles_and_missing_targets_are_one_line_errors(twin, project):
    project.scenario("T-1", "extends: ../T-1-fixed\n" + BASE)
    with pytest.raises(ConfigError) as caught:
        plan_scenario(twin)
    assert caught.value.lines() == [
        "scenarios/T-1/scenario.yaml:1: extends: '../T-1-fixed' extends back to this "
        "scenario (scenarios/T-1-fixed -> scenarios/T-1 -> scenarios/T-1-fixed); a scenario "
        "cannot inherit from itself: remove one `extends`"]

    project.scenario("T-1-fixed", TWIN.replace("../T-1", "../T-2"))
    with pytest.raises(ConfigError) as caught:
        plan_scenario(twin)
    assert caught.value.lines() == [
        f"scenarios/T-1-fixed/scenario.yaml:{line_of(TWIN, 'extends')}: extends: '../T-2': "
        "no scenario.yaml at scenarios/T-2 (did you mean 'T-1'?)"]

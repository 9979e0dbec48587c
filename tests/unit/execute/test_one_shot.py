"""Which runs may have their one step run as the steps' container's own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.execute import one_shot
from repro.plan.build import plan_scenario

ENV = """\
image: busybox:1.36
workdir: /srv
"""
SERVICES_ENV = ENV + """\
services:
  db: {image: postgres:16}
"""


def _plan(project, steps: str, env: str = ENV, extra: str = ""):
    project.environment("e", env)
    project.scenario("S-1", f"environment: e\nsteps:\n{steps}{extra}"
                            "oracle: {any: [{step: a, exit_code: 0}]}\n")
    return plan_scenario(Path("S-1"))


def _eligible(plan, **options) -> bool:
    chosen = {"replay": True, "keep": False, "session": False, **options}
    return one_shot.step_for(plan, **chosen) is not None


def test_one_plain_step_runs_as_the_containers_process(project) -> None:
    plan = _plan(project, '  - {name: a, run: "cat /etc/x >&2 2>&1 && echo ok"}\n')
    assert one_shot.step_for(plan, replay=True, keep=False, session=False) is plan.steps[0]


@pytest.mark.parametrize("steps", [
    '  - {name: a, run: "echo one"}\n  - {name: b, run: "echo two"}\n',  # two steps
    '  - {name: a, run: "sleep 5 & echo started"}\n',  # may outlive the step
    '  - {name: a, run: "echo x", background: true}\n',
    '  - {name: a, run: "echo x", at: 1s}\n',
    '  - {name: a, run: "echo x", repeat: {count: 2}}\n',
    '  - {name: a, run: [echo, x]}\n',  # not the keep-alive's shell
    '  - {name: a, run: "pwd", workdir: /elsewhere}\n',  # an exec refuses a missing one
    '  - {name: a, run: "id", user: nobody}\n',
])
def test_anything_beyond_one_plain_step_keeps_the_idle_container(project, steps) -> None:
    assert not _eligible(_plan(project, steps))


def test_services_keep_a_session_or_the_switch_keep_the_idle_container(project, monkeypatch
                                                                         ) -> None:
    step = '  - {name: a, run: "echo x"}\n'
    assert not _eligible(_plan(project, step, env=SERVICES_ENV))
    plan = _plan(project, step)
    assert _eligible(plan)
    assert not _eligible(plan, keep=True)
    assert not _eligible(plan, session=True)
    assert not _eligible(plan, replay=False)
    monkeypatch.setenv(one_shot.SWITCH, "0")
    assert not _eligible(plan)

"""Bad timeline input: one line naming file:line, the key and the fix; `repro run` exits 2."""

from __future__ import annotations

import pytest

from ..conftest import line_of

ENV = """\
image: busybox
services:
  api: {image: busybox}
"""

CASES = [
    # (a step entry, the key it is reported at, words of the message)
    ('{name: s, run: "true", at: -5s}', "steps[0].at", "a negative offset ('-5s')"),
    ('{name: s, run: "true", repeat: {count: 5, concurrency: 10}}',
     "steps[0].repeat.concurrency", "10 is above the count (5)"),
    ('{name: s, run: "true", repeat: {count: 0}}', "steps[0].repeat.count",
     "must be at least 1, got 0"),
    ('{wait_for: {port: 80, service: apii}}', "steps[0].wait_for.service",
     "no service 'apii' in the environment (did you mean 'api'?)"),
    ('{wait_for: {log: "up", step: nope}}', "steps[0].wait_for.step", "no step named 'nope'"),
    ('{wait_for: {timeout: 5s}}', "steps[0].wait_for", "`wait_for` needs one of log, port, "
     "command"),
    ('{name: s, run: "srv", background: true, repeat: 3}', "steps[0].background",
     "a repeated step cannot run in the background"),
    ('{name: s, run: "echo {{ instance }}"}', "steps[0].run",
     "`{{ instance }}` exists in a repeated step only"),
    ('{wait_for: {log: "up"}}', "steps[0].wait_for", "needs `service` (its log) or `step`"),
    ('{name: s}', "steps[0]", "a step needs one of 'run', 'wait_for', 'parallel'"),
]


@pytest.mark.parametrize(("entry", "key", "words"), CASES, ids=[c[1] + "-" + c[2][:12]
                                                                 for c in CASES])
def test_bad_timeline_input_is_one_located_line_and_exit_2(project, cli, entry, key, words):
    project.environment("tl", ENV)
    text = f"environment: tl\nsteps:\n  - {entry}\noracle: {{any: [{{file: /x, exists: true}}]}}\n"
    project.scenario("T", text)
    result = cli("run", "scenarios/T")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("repro: error")]
    assert len(lines) == 1, result.stderr
    assert f"scenarios/T/scenario.yaml:{line_of(text, entry[:12])}: {key}: " in lines[0]
    assert words in lines[0]
    assert "Traceback" not in result.stderr


def test_instances_applies_to_a_repeated_step_only(project, cli):
    project.environment("tl", ENV)
    text = ("environment: tl\nsteps:\n  - {name: s, run: 'true'}\n"
            "oracle: {any: [{step: s, failed: true, instances: '>= 2'}]}\n")
    project.scenario("T", text)
    result = cli("validate")
    assert result.exit_code == 2
    assert (f"scenarios/T/scenario.yaml:{line_of(text, 'instances')}: oracle.any[0].instances: "
            "applies to a condition on a repeated step") in result.stderr


def test_a_valid_timeline_plans_every_instance_and_shows_the_timeline(project, cli):
    project.environment("tl", ENV)
    project.scenario("T", """\
environment: tl
steps:
  - {name: api-log, run: "tail -f /x", background: true}
  - wait_for: {log: "ready", step: api-log}
  - {name: book, run: "book {{ instance }}", repeat: {count: 3, concurrency: 2}, at: 2s}
  - parallel:
      - {name: a, run: "true"}
      - wait_for: {port: 80, service: api}
oracle: {any: [{step: book, stdout: booked, instances: 2}]}
""")
    result = cli("plan", "scenarios/T")
    assert result.exit_code == 0, result.stderr
    assert "then: api-log (background, stopped by repro at the end)" in result.stdout
    assert "at +2s: book x3, at most 2 at once" in result.stdout
    assert "then: wait for port 80 of service api (at most 30s)" in result.stdout
    assert "step 'book' (>= 2 instances) stdout matches /booked/" in result.stdout
    from pathlib import Path

    from repro.plan.build import plan_scenario

    plan = plan_scenario(Path("scenarios/T"))
    book = next(s for s in plan.steps if s.name == "book")
    assert [i.command for i in book.instances] == ["book 1", "book 2", "book 3"]
    assert [s.name for s in plan.steps] == ["api-log", "book", "a"]

"""A repeated step's channels through a baseline: recorded, read back, compared."""

from __future__ import annotations

from pathlib import Path

from repro.compare import baseline
from repro.execute import runner
from repro.plan.build import plan_scenario

from ..fake_backend import Answer, FakeBackend, FakeContainer

SCENARIO = """\
environment: tl
steps:
  - name: book
    run: "book 12A"
    repeat: {count: 4, concurrency: 2, compare: COMPARE}
    stop_on_failure: false
oracle: {any: [{step: book, stdout: "^booked", instances: ">= 2"}]}
normalize:
  - replace: " at [0-9:]+"
    with: " at <time>"
    channels: [steps.book.stdout, "steps.book.*.stdout"]
"""


def replay(plan, *answers: Answer):
    main = FakeContainer("m")
    main.answer("book", *answers)
    record, error = runner.run(plan, lambda _: None, backend=FakeBackend({"sandbox": main}))
    assert error is None
    return record


def plan_for(project, compare: str):
    project.environment("tl", "image: busybox\n")
    project.scenario("R", SCENARIO.replace("COMPARE", compare))
    return plan_scenario(Path("R"))


BOOKED_TWICE = (Answer(0, "booked at 10:00:01\n"), Answer(0, "booked at 10:00:02\n"),
                Answer(3, "sold out\n"), Answer(3, "sold out\n"))
BOOKED_ONCE = (Answer(0, "booked at 10:00:05\n"), Answer(3, "sold out\n"),
               Answer(3, "sold out\n"), Answer(3, "sold out\n"))


def test_an_aggregate_baseline_matches_whoever_wins_and_diverges_on_the_counts(project):
    plan = plan_for(project, "aggregate")
    first = replay(plan, *BOOKED_TWICE)
    baseline.write(plan, baseline.observe(plan, first.stored()), first.stored())
    text = plan.baseline_path.read_text()
    assert "steps.book.exit_codes" in text and "exit 0: 2\n" in text
    assert "booked at <time>\n      sold out\n" in text  # the distinct outputs, normalised
    assert "steps.book.1." not in text  # compare: aggregate

    expected = baseline.load(plan)
    # Other instances win this time (the answers come in another order): still a match.
    again = replay(plan, *reversed(BOOKED_TWICE))
    assert baseline.check(plan, expected, again.stored()).diverged == []
    fixed = replay(plan, *BOOKED_ONCE)
    comparison = baseline.check(plan, expected, fixed.stored())
    assert comparison.diverged == ["steps.book.exit_codes"]
    diff = next(c for c in comparison.channels if c.name == "steps.book.exit_codes")
    assert "-exit 0: 2" in diff.lines and "+exit 0: 1" in diff.lines


def test_per_instance_channels_are_recorded_and_name_the_instance_that_changed(project):
    plan = plan_for(project, "all")
    answers = [Answer(0, f"booked by user {n}\n") for n in range(1, 5)]
    main = FakeContainer("m")
    for n in range(1, 5):  # each instance answers by its own index, whatever the order
        main.answer(f"book 12A user-{n}", answers[n - 1])
    project.scenario("R", SCENARIO.replace("COMPARE", "all").replace(
        '"book 12A"', '"book 12A user-{{ instance }}"'))
    plan = plan_scenario(Path("R"))
    record, _ = runner.run(plan, lambda _: None, backend=FakeBackend({"sandbox": main}))
    baseline.write(plan, baseline.observe(plan, record.stored()), record.stored())
    expected = baseline.load(plan)
    assert {n.name for n in expected} >= {f"steps.book.{n}.stdout" for n in range(1, 5)}

    main.answer("book 12A user-3", Answer(1, "", "timeout talking to the bank\n"))
    record, _ = runner.run(plan, lambda _: None, backend=FakeBackend({"sandbox": main}))
    diverged = baseline.check(plan, expected, record.stored()).diverged
    assert diverged == ["steps.book.exit_codes", "steps.book.stdout", "steps.book.stderr",
                        "steps.book.3.exit_code", "steps.book.3.stdout", "steps.book.3.stderr"]

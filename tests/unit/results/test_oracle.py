"""The oracle: did the customer's error show, judged from observations alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.config.model import Oracle
from repro.config.schema import build
from repro.config.yaml_source import parse_yaml
from repro.results.observations import CaptureObservation, StepObservation
from repro.results.oracle import evaluate


def oracle(text: str) -> Oracle:
    return build(Oracle, parse_yaml(text, "oracle.yaml"))


class Run:
    """Observations of a finished run, with stdout/stderr/capture files in a folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.steps: list[StepObservation] = []
        self.captures: list[CaptureObservation] = []

    def step(self, name: str, status: str, exit_code: int | None, stdout: str = "",
             stderr: str = "") -> Run:
        out, err = self.folder / f"{name}.out", self.folder / f"{name}.err"
        out.write_text(stdout)
        err.write_text(stderr)
        self.steps.append(StepObservation(name, "cmd", status, exit_code, 1.0, 2.0, out, err))
        return self

    def capture(self, name: str, path: str, content: str | None) -> Run:
        artifact = None
        if content is not None:
            artifact = self.folder / f"capture-{name}"
            artifact.write_text(content)
        kind = None if content is None else "file"
        self.captures.append(CaptureObservation(name, path, kind, artifact))
        return self

    def judge(self, text: str) -> tuple[bool, list[tuple[str, bool, str]]]:
        fired, results = evaluate(oracle(text), self.steps, self.captures)
        return fired, [(r.description, r.fired, r.detail) for r in results]


@pytest.fixture
def run(tmp_path) -> Run:
    return (Run(tmp_path)
            .step("migrate", "failed", 3, stdout="applying 0042\n",
                  stderr="warning: slow\nERROR: relation users already exists\ndone\n")
            .step("start", "timed_out", None)
            .step("check", "skipped", None)
            .capture("app.log", "/var/log/app.log", "boot\nFATAL pool exhausted after 30s\n")
            .capture("core", "/var/crash/core", None))


def test_step_conditions_describe_what_was_seen(run):
    fired, results = run.judge("""
any:
  - {step: migrate, exit_code: 3}
  - {step: migrate, exit_code: 0}
  - {step: migrate, failed: true}
  - {step: start, failed: true}
  - {step: start, timed_out: true}
  - {step: migrate, timed_out: false}
  - {step: migrate, stderr: 'relation \\w+ already exists'}
  - {step: migrate, stdout: '^ERROR'}
""")
    assert fired is True
    assert results == [
        ("step 'migrate' exits with 3", True, "exit code 3"),
        ("step 'migrate' exits with 0", False, "exit code 3"),
        ("step 'migrate' fails", True, "failed"),
        ("step 'start' fails", True, "timed out"),
        ("step 'start' times out", True, "timed out"),
        ("step 'migrate' finishes in time", True, "failed"),
        ("step 'migrate' stderr matches /relation \\w+ already exists/", True,
         "stderr: ERROR: relation users already exists"),
        ("step 'migrate' stdout matches /^ERROR/", False, "no match in stdout"),
    ]


def test_a_step_that_did_not_run_never_satisfies_a_condition(run):
    fired, results = run.judge("""
any:
  - {step: check, failed: false}
  - {step: check, failed: true}
  - {step: check, exit_code: 0}
""")
    assert fired is False
    assert {detail for _, _, detail in results} == {"the step did not run (an earlier step "
                                                    "failed)"}


def test_file_conditions_find_captures_by_name_or_path(run):
    fired, results = run.judge("""
all:
  - {file: app.log, contains: 'pool exhausted after \\d+s'}
  - {file: /var/log/app.log, exists: true}
  - {file: core, exists: false}
  - {file: /var/crash/core, contains: '.'}
""")
    assert fired is False  # `all`: the last condition does not hold
    assert results == [
        ("file 'app.log' matches /pool exhausted after \\d+s/", True,
         "FATAL pool exhausted after 30s"),
        ("file '/var/log/app.log' exists", True, "exists"),
        ("file 'core' is absent", True, "absent"),
        ("file '/var/crash/core' matches /./", False, "the file is absent"),
    ]


@pytest.mark.parametrize("mode, expected", [("any", True), ("all", False)])
def test_any_needs_one_condition_all_needs_every_one(run, mode, expected):
    fired, results = run.judge(f"""
{mode}:
  - {{step: migrate, exit_code: 3}}
  - {{file: app.log, contains: 'never printed'}}
""")
    assert fired is expected
    assert [r[1] for r in results] == [True, False]


def test_regex_matches_any_line_and_reports_the_matching_line(tmp_path):
    long_line = "x" * 300 + " OOM killer invoked"
    run = Run(tmp_path).step("load", "ok", 0, stdout="a\nb\n" + long_line + "\nc\n")
    fired, [(_, ok, detail)] = run.judge("any: [{step: load, stdout: 'OOM killer'}]")
    assert fired and ok
    assert detail == "stdout: " + long_line[:200]


def _repeated(folder: Path, outputs: list[str]) -> StepObservation:
    instances = []
    for index, text in enumerate(outputs, 1):
        out = folder / f"book.{index}.out"
        out.write_text(text)
        instances.append(StepObservation("book", "book", "ok", 0, 10.0 + index, 10.5 + index,
                                         out, None, instance=index))
    return StepObservation("book", "book", "ok", None, 11.0, 10.5 + len(outputs), None, None,
                           instances=instances)


@pytest.mark.parametrize(("instances", "fired", "when"), [
    ("", True, 12.5),  # any instance: the first that showed it (its end: no line times)
    ("instances: '>= 2'", True, 13.5),  # the instance that made the count
    ("instances: '> 2'", False, None),
    ("instances: all", False, None),
    ("instances: '== 2'", True, 14.5),  # not monotone: known when the last one ended
    ("instances: '< 1'", False, None),
])
def test_a_condition_on_a_repeated_step_counts_its_instances(tmp_path, instances, fired, when):
    from repro.results.oracle import first_held

    step = _repeated(tmp_path, ["sold out\n", "booked\n", "booked\n", "sold out\n"])
    rules = oracle(f"any: [{{step: book, stdout: booked{', ' + instances if instances else ''}}}]")
    held, results = evaluate(rules, [step], [])
    assert held is fired
    assert results[0].detail.startswith("2 of 4 instances (first: instance 2, stdout: booked")
    moment = first_held(rules, results)
    assert (moment.time if moment else None) == when

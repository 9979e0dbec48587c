"""What a replay reports, from runs on the fake backend: the JUnit file (checked against
the JUnit XML schema CI systems read), the summary table, --json."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from repro import pipeline
from repro.report import junit
from repro.report.replay import Case, CaseRun, case_json, table, totals

from ..fake_backend import Answer, FakeBackend, FakeContainer

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA = SCHEMAS / "junit-10.xsd"


def _checker():
    import importlib.util

    spec = importlib.util.spec_from_file_location("xsd_check", SCHEMAS / "xsd_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Schema


Schema = _checker()


def case(project, sid: str, stdout: str, *, runs: int = 1, error: bool = False) -> Case:
    project.scenario(sid, "environment: e\ntitle: t <&> \"q\"\nsteps: [{name: s, run: 'x'}]\n"
                     "oracle: {any: [{step: s, stdout: boom}]}\n")
    plan, expected = pipeline.prepare(Path(sid), [])
    out = Case(sid, plan.title, plan.expect, plan.environment, plan.scenario_path)
    for _ in range(runs):
        main = FakeContainer("m", default=Answer(stdout=stdout))
        backend = FakeBackend({"sandbox": main})
        if error:
            main.answer("x", Answer(exit_code=None, stdout="\x01 control"))
            from repro.errors import SandboxError

            def refuse(*_a, **_k):
                raise SandboxError("image build failed at step 3")
            backend.prepare_image = refuse  # type: ignore[method-assign]
        outcome = pipeline.run(plan, lambda _: None, expected, backend=backend)
        out.runs.append(CaseRun(outcome.record, outcome.comparison, outcome.error, 0.5))
    return out


@pytest.fixture
def cases(project) -> list[Case]:
    project.environment("e", "image: busybox\n")
    passed = case(project, "PASS-1", "boom \x07 here")
    failed = case(project, "FAIL-2", "all fine")
    errored = case(project, "ERR-3", "", error=True)
    unrun = Case("LATER-4", "", "reproduces", "e", project.root / "x", not_run="interrupted "
                 "by SIGINT")
    flaky = case(project, "FLAKY-5", "boom", runs=1)
    flaky.runs += case(project, "FLAKY-5", "calm", runs=1).runs
    flaky.flaky = True
    return [passed, failed, errored, unrun, flaky]


def test_the_junit_report_validates_and_says_what_each_scenario_came_to(cases, tmp_path) -> None:
    path = tmp_path / "out" / "junit.xml"
    junit.write(path, cases, 1_764_600_000.0, 12.5, {"shard": "2/3"})
    root = ET.parse(path).getroot()
    assert Schema(SCHEMA).check(root) == []
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("5", "2", "1", "1")
    by_name = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(by_name) == ["PASS-1", "FAIL-2", "ERR-3", "LATER-4", "FLAKY-5"]
    assert [child.tag for child in by_name["PASS-1"]] == ["system-out"]
    failure = by_name["FAIL-2"].find("failure")
    assert failure is not None
    assert failure.get("message") == "NOT REPRODUCED (expected: reproduces); baseline none"
    assert "quiet step 's' stdout matches /boom/" in (failure.text or "")
    error = by_name["ERR-3"].find("error")
    assert error is not None and error.get("message") == "image build failed at step 3"
    skipped = by_name["LATER-4"].find("skipped")
    assert skipped is not None and skipped.get("message") == \
        "did not run: interrupted by SIGINT"
    flaky = by_name["FLAKY-5"].find("failure")
    assert flaky is not None and flaky.get("message", "").startswith(
        "FLAKY: REPRODUCED x1, NOT REPRODUCED x1")
    out = by_name["FAIL-2"].findtext("system-out") or ""
    record = out.splitlines()[-1].removeprefix("record: ")
    assert json.loads(Path(record).read_text())["scenario"]["id"] == "FAIL-2"


def test_the_schema_check_is_not_a_rubber_stamp(cases, tmp_path) -> None:
    schema = Schema(SCHEMA)
    good = junit.document(cases, 0.0, 1.0).getroot()
    suite = good.find("testsuite")
    assert suite is not None
    del suite.attrib["tests"]
    assert schema.check(good) == ["testsuites/testsuite[0]: required attribute 'tests' missing"]
    good = junit.document(cases, 0.0, 1.0).getroot()
    testcase = good.find("testsuite/testcase")
    assert testcase is not None
    testcase.set("time", "soon")
    ET.SubElement(good.find("testsuite"), "bogus")  # type: ignore[arg-type]
    problems = schema.check(good)
    assert any("'soon' is not a valid SUREFIRE_TIME" in p for p in problems)
    assert any("do not follow the schema's order" in p for p in problems)


def test_the_table_and_the_totals(cases) -> None:
    out = io.StringIO()
    table(cases, out)
    text = out.getvalue()
    rows = {line.split()[0]: line.split() for line in text.splitlines()[1:6]}
    assert rows["PASS-1"][1:3] == ["ok", "REPRODUCED"]
    assert rows["FAIL-2"][1:4] == ["FAILED", "NOT", "REPRODUCED"]
    assert rows["LATER-4"][1:3] == ["not", "run"]
    assert "FAIL-2: FAILED" in text and "quiet step 's' stdout matches /boom/" in text
    assert totals(cases) == ("5 scenarios: 1 as expected, 2 not, 1 flaky, 1 did not run "
                             "(LATER-4)")


def test_json_has_one_object_per_scenario(cases) -> None:
    data = [case_json(c) for c in cases]
    assert [d["scenario"] for d in data] == ["PASS-1", "FAIL-2", "ERR-3", "LATER-4", "FLAKY-5"]
    assert [d["as_expected"] for d in data] == [True, False, False, False, False]
    assert data[3]["status"] == "not run" and data[3]["not_run"] == "interrupted by SIGINT"
    assert [r["verdict"] for r in data[4]["runs"]] == ["REPRODUCED", "NOT REPRODUCED"]
    json.dumps(data)

"""`repro replay --junit FILE`: the replay as JUnit XML, the format CI systems read
(Jenkins, GitLab, GitHub Actions reporters, Azure). One testcase per scenario: a failure
whose message is the verdict and whose text is the oracle and the baseline's diff; an error
when the run itself failed; skipped when it did not run; the record's path in system-out.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from repro.config.yaml_source import display_path
from repro.report.replay import Case, failure_text
from repro.results.outcome import RunStatus

SUITE = "repro replay"
# XML 1.0 cannot hold most control characters, even escaped: shown as \xNN instead.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def document(cases: list[Case], started: float, seconds: float,
             properties: dict[str, str] | None = None) -> ET.ElementTree:
    failures = sum(c.result in ("FAILED", "FLAKY") for c in cases)
    errors = sum(c.result == "ERROR" for c in cases)
    skipped = sum(c.result in ("not run", "INTERRUPTED") for c in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", {"name": SUITE, **counts, "time": _seconds(seconds)})
    suite = ET.SubElement(root, "testsuite", {
        "name": SUITE, **counts, "skipped": str(skipped), "time": _seconds(seconds),
        "timestamp": datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "hostname": socket.gethostname() or "localhost"})
    if properties:
        props = ET.SubElement(suite, "properties")
        for name, value in properties.items():
            ET.SubElement(props, "property", {"name": name, "value": _text(value)})
    for case in cases:
        suite.append(_testcase(case))
    ET.indent(root)
    return ET.ElementTree(root)


def _testcase(case: Case) -> ET.Element:
    element = ET.Element("testcase", {"name": case.scenario_id, "classname": case.environment,
                                      "time": _seconds(case.seconds)})
    result = case.result
    if result in ("not run", "INTERRUPTED"):
        reason = case.not_run or (case.last.error.lines()[0] if case.last and
                                  case.last.error else "did not run")
        ET.SubElement(element, "skipped", {"message": _text(f"did not run: {reason}")})
    elif result == "ERROR":
        last = next(r for r in case.runs if r.error is not None)
        assert last.error is not None
        error = ET.SubElement(element, "error", {"message": _text(last.error.lines()[0]),
                                                 "type": "error"})
        error.text = _text(failure_text(case))
    elif result in ("FAILED", "FLAKY"):
        failure = ET.SubElement(element, "failure", {"message": _text(_message(case)),
                                                     "type": result.lower()})
        failure.text = _text(failure_text(case))
    records = [display_path(r.record.path) for r in case.runs
               if r.record.status != RunStatus.RUNNING]
    out = [f"scenario: {display_path(case.path)}"] + [f"record: {p}" for p in records]
    ET.SubElement(element, "system-out").text = _text("\n".join(out))
    return element


def _message(case: Case) -> str:
    if case.flaky:
        return f"FLAKY: {case.verdicts()}; baseline {case.baselines()}"
    return f"{case.verdicts()} (expected: {case.expect}); baseline {case.baselines()}"


def write(path: Path, cases: list[Case], started: float, seconds: float,
          properties: dict[str, str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    document(cases, started, seconds, properties).write(tmp, encoding="UTF-8",
                                                        xml_declaration=True)
    tmp.replace(path)

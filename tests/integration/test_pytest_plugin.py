"""The pytest plugin on a real engine: `pytest scenarios/` in a project of its own, run in
a subprocess with the plugin registered by the entry point pyproject.toml declares."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import REPO, Project

PASSING = """\
    environment: bb
    tags: [smoke]
    steps:
      - {name: import, run: "echo 'ValueError: invalid amount' >&2; exit 1"}
    oracle:
      any: [{step: import, stderr: "ValueError"}]
"""

# expect: fixed, but the error is back and the output drifted from the baseline.
FAILING = """\
    environment: bb
    expect: fixed
    data: [{from: report.txt, to: /srv/report.txt}]
    steps:
      - {name: totals, run: "cat /srv/report.txt >&2"}
    oracle:
      any: [{step: totals, stderr: "ValueError"}]
"""

OWN_TESTS = '''\
def test_the_projects_own_test():
    assert 1 + 1 == 2


def test_a_scenario_through_the_fixture(repro_run):
    run = repro_run("{sid}")
    assert run.reproduced and run.ok and run.verdict == "REPRODUCED"
    assert run.step("import")["exit_code"] == 1
    assert run.record["scenario"]["id"] == "{sid}"
    assert run.record_path.is_file()
'''


def _entry_point_site(folder: Path) -> Path:
    """A folder declaring, as an installed distribution, the pytest11 entry points of
    pyproject.toml (an editable install writes the same file), so that pytest loads the
    plugin the way it will for users, without touching the shared environment."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    points = declared["entry-points"]["pytest11"]
    dist = folder / "repro_entry_points-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: repro-entry-points\n"
                                   "Version: 0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{name} = {target}\n" for name, target in points.items()))
    return folder


def _pytest(project: Project, site: Path, *args: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(site), str(REPO)])
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=project.root, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": path, "NO_COLOR": "1"})


def test_scenarios_as_pytest_items_with_xdist_markers_k_and_junit(project: Project,
                                                                  tmp_path: Path) -> None:
    site = _entry_point_site(tmp_path / "site")
    good = project.scenario("good", PASSING)
    bad = project.scenario("bad", FAILING, files={"report.txt": "total 5949.40\n"})
    recorded = project.repro("baseline", f"scenarios/{bad}", "--yes")
    assert recorded.returncode == 0, recorded.stderr
    (project.root / "scenarios" / bad / "report.txt").write_text(
        "total 5949.40\nValueError: invalid amount\n")
    (project.root / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        addopts = "--strict-markers"
        filterwarnings = ["error"]
        """))
    (project.root / "tests").mkdir()
    (project.root / "tests" / "test_own.py").write_text(OWN_TESTS.format(sid=good))

    done = _pytest(project, site, "scenarios", "-n", "2", "--junitxml=junit.xml")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "created: 2/2 workers" in done.stdout
    failure = done.stdout.split(f"_ {bad} _", 1)[1]
    assert "oracle (any of):" in failure
    assert "fired step 'totals' stderr matches /ValueError/" in failure
    assert "baseline: DIVERGED in steps.totals.stderr" in failure
    assert "+ValueError: invalid amount" in failure
    assert "NOT REPRODUCED" not in failure and "REPRODUCED  (expected: fixed)" in failure
    assert "Traceback" not in done.stdout and "repro/pipeline.py" not in done.stdout

    suite = ET.parse(project.root / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {good, bad}
    message = cases[bad].find("failure")
    assert message is not None and "oracle (any of):" in (message.text or "")
    props = {p.get("name"): p.get("value") for p in cases[good].iter("property")}
    assert props["verdict"] == "REPRODUCED" and props["run_id"].startswith(good)

    selected = _pytest(project, site, "scenarios", "-k", "good")
    assert selected.returncode == 0 and "1 passed, 1 deselected" in selected.stdout
    tagged = _pytest(project, site, "scenarios", "-m", "smoke")
    assert tagged.returncode == 0 and "1 passed, 1 deselected" in tagged.stdout

    # The project's own suite (testpaths: tests) collects no scenario.yaml; the fixture
    # runs one on request.
    own = _pytest(project, site, "-v")
    assert own.returncode == 0, own.stdout + own.stderr
    assert "2 passed" in own.stdout
    assert "scenario.yaml" not in own.stdout

"""verify-fix and bisect on a real engine: a product whose releases 6 and later crash on
the customer's data (release 4 cannot even be installed: its image is nowhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import Project

# Release 4's image reference points at a registry that refuses connections: its run
# errors (no verdict), as a release whose package was withdrawn would.
RELEASES_ENV = """\
    image: "{{ 'localhost:1/absent:' ~ release if release == '4' else 'repro-base/busybox' }}"
    parameters:
      release: {default: "1", choices: ["1", "2", "3", "4", "5", "6", "7", "8"]}
    files:
      - path: /etc/app/release
        content: "{{ release }}"
"""

IMPORT_SCENARIO = """\
    environment: rel
    steps:
      - name: import
        run: |
          r=$(cat /etc/app/release)
          if [ "$r" -ge 6 ] && [ "$r" -lt {fixed_in} ]; then
            echo "ValueError: invalid amount" >&2; exit 1
          fi
          echo "imported 18 lines, total 5949.40"
    oracle:
      any:
        - {{step: import, stderr: "ValueError"}}
"""


def _scenario(project: Project, fixed_in: int = 8) -> str:
    project.env("rel", RELEASES_ENV)
    return project.scenario("imp", IMPORT_SCENARIO.format(fixed_in=fixed_in))


def test_verify_fix_holds_and_prints_a_summary_for_the_pull_request(project: Project) -> None:
    sid = _scenario(project)
    recorded = project.repro("baseline", f"scenarios/{sid}", "-p", "release=8", "--yes")
    assert recorded.returncode == 0, recorded.stderr

    done = project.repro("verify-fix", sid, "--before", "release=7", "--after", "release=8")

    assert done.returncode == 0, done.stdout + done.stderr
    md = done.stdout
    assert md.startswith(f"### repro verify-fix {sid}: holds")
    runs = sorted(p.name for p in (project.root / ".repro" / "runs").iterdir())
    before = next(r for r in runs if f"`{r}` | REPRODUCED" in md)
    after = next(r for r in runs if f"`{r}` | NOT REPRODUCED" in md)
    assert f"| before | release=7 | `{before}` | REPRODUCED |" in md
    assert f"| after | release=8 | `{after}` | NOT REPRODUCED | match (" in md
    assert md.count("- [x]") == 3 and "- [ ]" not in md
    assert "Before: step 'import' stderr matches /ValueError/." in md
    # The diff the fix made, before -> after, through the scenario's rules.
    assert "-ValueError: invalid amount" in md
    assert "+imported 18 lines, total 5949.40" in md
    assert "# steps.import.exit_code (exit_code): exit code 1 -> exit code 0" in md


def test_verify_fix_fails_when_the_fix_does_not_fix(project: Project) -> None:
    sid = _scenario(project)
    recorded = project.repro("baseline", f"scenarios/{sid}", "-p", "release=8", "--yes")
    assert recorded.returncode == 0, recorded.stderr

    done = project.repro("verify-fix", sid, "--before", "release=6", "--after", "release=7",
                         "--json")

    assert done.returncode == 1, done.stderr
    proof = json.loads(done.stdout)
    assert proof["holds"] is False
    assert [c["holds"] for c in proof["checks"]] == [True, False, False]
    assert (proof["before"]["verdict"], proof["after"]["verdict"]) == ("REPRODUCED",
                                                                       "REPRODUCED")
    assert proof["after"]["baseline"] == "diverged"
    assert proof["change"]["verdict"] == "match"  # the "fix" changed nothing at all


def test_verify_fix_without_a_baseline_does_not_hold_and_says_how_to_record_one(
        project: Project) -> None:
    sid = _scenario(project)

    done = project.repro("verify-fix", sid, "--before", "release=7", "--after", "release=8")

    assert done.returncode == 1, done.stderr
    assert "- [x] the error reproduces before" in done.stdout
    assert "- [x] the error does not reproduce after" in done.stdout
    assert "- [ ] the after run matches the baseline" in done.stdout
    assert f"`repro baseline scenarios/{sid} -p release=8`" in done.stdout


def test_bisect_finds_the_first_release_with_the_error_skipping_one_that_errors(
        project: Project) -> None:
    sid = _scenario(project, fixed_in=99)

    done = project.repro("bisect", sid, "--param", "release", "--values", "1,2,3,4,5,6,7,8",
                         "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    boundary = result["boundary"]
    assert (boundary["last"]["value"], boundary["last"]["verdict"]) == ("5", "NOT REPRODUCED")
    assert (boundary["first"]["value"], boundary["first"]["verdict"]) == ("6", "REPRODUCED")
    assert boundary["untested_between"] == []
    runs = {r["value"]: r for r in result["runs"]}
    # Both ends, then halves: 1 and 8, 4 (errors: skipped), 5, 6. Not 2, 3 or 7.
    assert sorted(runs) == ["1", "4", "5", "6", "8"]
    assert runs["4"]["verdict"] == "ERROR" and "localhost:1/absent:4" in runs["4"]["error"]
    for value in ("1", "5", "6", "8"):  # each run's record is there to read
        record = json.loads((project.root / runs[value]["record"]).read_text())
        assert record["parameters"]["release"] == value
        assert record["run_id"] == runs[value]["run_id"]


def test_bisect_text_names_the_boundary_pair_with_their_runs(project: Project) -> None:
    sid = _scenario(project, fixed_in=99)
    (project.root / "values.txt").write_text("# releases, oldest first\n5\n6\n7\n")

    done = project.repro("bisect", sid, "--param", "release", "--values-from", "values.txt")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"bisect {sid} over release: 3 values, 3 runs"
    assert any(line.startswith("first release with REPRODUCED: 6  (run imp-") for line in lines)
    assert any(line.startswith("last release with NOT REPRODUCED: 5  (run imp-")
               for line in lines)


def test_bisect_bad_input_is_one_line_and_exit_2(project: Project) -> None:
    sid = _scenario(project)
    cases = {
        ("--param", "release", "--values", "3"): "bisect needs at least two values, got 1",
        ("--param", "relase", "--values", "1,2"): "has no such parameter (did you mean "
                                                  "'release'?)",
        ("--param", "release", "--values", "1,9"): "'9' is not one of release's choices",
        ("--param", "release", "--values", "1,2,1"): "1 given more than once",
    }
    for args, message in cases.items():
        done = project.repro("bisect", sid, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (project.root / ".repro" / "runs").exists()  # nothing ran


def test_a_twin_that_extends_the_ticket_runs_with_the_tickets_files(project: Project) -> None:
    project.env("rel", RELEASES_ENV)
    ticket = project.scenario("ticket", """\
        environment: rel
        parameters: {release: "6"}
        data: [{from: customer/lines.csv, to: /srv/lines.csv}]
        steps:
          - name: import
            run: |
              cat /srv/lines.csv
              [ "$(cat /etc/app/release)" -lt 7 ] && echo "ValueError: invalid amount" >&2
              true
        oracle:
          any: [{step: import, stderr: "ValueError"}]
        """, files={"customer/lines.csv": "A-1;1.234,50\n"})
    twin = project.scenario("twin", f"""\
        extends: ../{ticket}
        expect: fixed
        parameters: {{release: "7"}}
        """)

    code, result, stderr = project.run_json(twin)
    plan = project.repro("plan", f"scenarios/{twin}", "--json")

    assert code == 0, stderr
    assert (result["reproduced"], result["expected"], result["ok"]) == (False, "fixed", True)
    record = project.record(result)
    assert record["steps"][0]["stdout"] == "A-1;1.234,50\n"  # the ticket's customer file
    assert record["parameters"]["release"] == "7"
    shown = json.loads(plan.stdout)
    assert shown["sources"]["data"] == f"scenarios/{ticket}/scenario.yaml:3"
    assert shown["sources"]["expect"] == f"scenarios/{twin}/scenario.yaml:2"


def test_verify_fix_and_bisect_take_a_case_and_record_its_runs_as_the_cases(
        project: Project, tmp_path_factory) -> None:
    """A case handed over by a colleague is proved and bisected where it lands, with no
    project around it: the runs are recorded beside the case, named as its runs."""
    sid = _scenario(project, fixed_in=8)
    recorded = project.repro("baseline", f"scenarios/{sid}", "-p", "release=8", "--yes")
    assert recorded.returncode == 0, recorded.stderr
    landed = tmp_path_factory.mktemp("landed")  # outside the project
    case = landed / "imp.tar.gz"
    assert project.repro("pack", f"scenarios/{sid}", "-o", str(case)).returncode == 0

    def repro(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "repro", *args], cwd=landed,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "NO_COLOR": "1"})

    done = repro("verify-fix", case.name, "--before", "release=7", "--after", "release=8",
                 "--json")
    assert done.returncode == 0, done.stderr
    proof = json.loads(done.stdout)
    assert proof["holds"] is True and proof["after"]["baseline"].startswith("match")
    done = repro("bisect", case.name, "--param", "release", "--values", "5,6,7", "--json")
    assert done.returncode == 0, done.stderr
    boundary = json.loads(done.stdout)["boundary"]
    assert (boundary["last"]["value"], boundary["first"]["value"]) == ("5", "6")
    records = sorted((landed / ".repro" / "runs").glob("*/record.json"))
    assert len(records) == 2 + 3  # both sides, then both ends and the middle
    for path in records:
        assert json.loads(path.read_text())["case"]["file"] == str(case)
    assert sorted(p.name for p in landed.iterdir()) == [".repro", "imp.tar.gz"]
    done = repro("bisect", case.name, "--param", "relase", "--values", "5,6")
    assert done.returncode == 2 and "did you mean 'release'" in done.stderr

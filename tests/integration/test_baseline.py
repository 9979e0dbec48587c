"""Baselines and behaviour diffs on a real engine: every content type, every rule kind."""

from __future__ import annotations

import json
import re

import yaml
from conftest import Project

# A small "product" in shell: it writes the customer's amount into text, JSON, YAML, CSV
# and binary outputs, plus the volatile bits real programs print (time, ids, timings).
REPORT = """\
    environment: bb
    expect: fixed
    parameters_from: [customer/settings.env]
    data: [{from: customer/rows.csv, to: /data/rows.csv}]
    steps:
      - name: report
        run: |
          now="$(date -u +%Y-%m-%dT%H:%M:%S).$RANDOM$RANDOM"
          echo "report for $(cat /data/rows.csv | wc -l) rows at $now"
          echo "request $(cat /proc/sys/kernel/random/uuid) took $$ms"
          amount=$(sed -n 2p /data/rows.csv | cut -d, -f2)
          printf '{"total": %s, "generated_at": "%s", "items": [{"id": "%s", "n": 1}]}\\n' \\
            "$amount" "$RANDOM$RANDOM" "$(cat /proc/sys/kernel/random/uuid)" > /tmp/out.json
          printf 'total: %s\\nrun: %s\\n' "$amount" "$RANDOM$RANDOM" > /tmp/out.yaml
          { echo "id,amount,stamp"; echo "2,20,$RANDOM"; echo "1,$amount,$RANDOM"; } > /tmp/out.csv
          printf 'ab\\000%s' "$amount" > /tmp/out.bin
          echo c; echo a; echo b
    capture:
      - /tmp/out.json
      - /tmp/out.yaml
      - {path: /tmp/out.csv, key: [id]}
      - /tmp/out.bin
    oracle:
      any: [{step: report, failed: true}]
    normalize:
      - mask: iso8601
      - mask: uuid
      - replace: "took \\\\d+ms"
        with: "took <ms>"
      - {ignore_fields: [generated_at], channels: [files.out.json]}
      - {ignore_fields: [run], channels: [files.out.yaml]}
      - {ignore_columns: [stamp], channels: [files.out.csv]}
{extra}"""
CUSTOMER = {"customer/settings.env": "greeting=hi\n", "customer/rows.csv": "id,amount\n1,10.5\n"}


def _scenario(project: Project, extra: str = "") -> str:
    return project.scenario("base", REPORT.replace("{extra}", extra), files=dict(CUSTOMER))


def _set_amount(project: Project, sid: str, amount: str) -> None:
    (project.root / "scenarios" / sid / "customer" / "rows.csv").write_text(
        f"id,amount\n1,{amount}\n")


def test_recorded_baseline_matches_a_rerun_and_points_at_a_changed_value(
        project: Project) -> None:
    sid = _scenario(project)
    first = project.repro("run", f"scenarios/{sid}")
    assert first.returncode == 0, first.stderr
    assert f"baseline: none (record one with `repro baseline scenarios/{sid}`)" in first.stdout

    recorded = project.repro("baseline", f"scenarios/{sid}", "--repeat", "2")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    # `repro runs` tells the two recordings from the run (not "NOT REPRODUCED NOT ok")
    listed = project.repro("runs").stdout.splitlines()
    assert [" NOT REPRODUCED " in row and "baseline recording" in row
            for row in listed] == [True, True, False], listed
    assert "ok      baseline none" in listed[2], listed
    stored = yaml.safe_load((project.root / "scenarios" / sid / "baseline.yaml").read_text())
    text = stored["channels"]["steps.report.stdout"]["text"]
    assert text.startswith("report for 2 rows at <timestamp>\nrequest <uuid> took <ms>\n")
    assert json.loads(stored["channels"]["files.out.json"]["text"])["generated_at"] == \
        "<ignored>"
    assert stored["channels"]["files.out.bin"]["kind"] == "binary"

    code, result, _ = project.run_json(sid)
    assert (code, result["baseline"], result["diverged"], result["ok"]) == \
        (0, "match", [], True)

    _set_amount(project, sid, "12.5")
    code, result, _ = project.run_json(sid)
    assert code == 1 and result["ok"] is False  # `fixed` requires the baseline to match
    assert result["baseline"] == "diverged"
    assert result["diverged"] == ["files.out.json", "files.out.yaml", "files.out.csv",
                                  "files.out.bin"]
    record = project.record(result)
    diffs = {c["channel"]: c for c in record["baseline"]["channels"]}
    assert diffs["files.out.json"]["diff"] == ["~ total: 10.5 -> 12.5"]
    assert diffs["files.out.yaml"]["diff"] == ["~ total: 10.5 -> 12.5"]
    assert diffs["files.out.csv"]["diff"] == ["~ row id=1: amount: '10.5' -> '12.5'"]
    assert re.fullmatch(r"7 bytes, sha256 [0-9a-f]{12} -> 7 bytes, sha256 [0-9a-f]{12}",
                        diffs["files.out.bin"]["summary"])
    human = project.repro("run", f"scenarios/{sid}")
    assert "baseline: DIVERGED in files.out.json, files.out.yaml" in human.stdout
    assert "    ~ row id=1: amount: '10.5' -> '12.5'" in human.stdout


def test_tolerance_and_sorted_lines_absorb_noise(project: Project) -> None:
    sid = _scenario(project, extra="""\
      - {sort_lines: true, channels: [steps.report.stdout]}
""")
    body = (project.root / "scenarios" / sid / "scenario.yaml").read_text()
    body = body.replace("- /tmp/out.json", "- {path: /tmp/out.json, tolerance: 0.01}")
    (project.root / "scenarios" / sid / "scenario.yaml").write_text(body)
    assert project.repro("baseline", f"scenarios/{sid}").returncode == 0
    _set_amount(project, sid, "10.505")
    code, result, _ = project.run_json(sid)
    # JSON within tolerance; YAML, CSV and binary have none and diverge.
    assert result["diverged"] == ["files.out.yaml", "files.out.csv", "files.out.bin"]
    stored = yaml.safe_load((project.root / "scenarios" / sid / "baseline.yaml").read_text())
    assert stored["channels"]["steps.report.stdout"]["text"].splitlines()[:3] == \
        ["a", "b", "c"]


def test_determinism_gate_names_the_varying_field_and_proposes_a_mask(
        project: Project) -> None:
    sid = project.scenario("clock", """\
        environment: bb
        steps:
          - name: now
            run: "echo started; echo $(date -u +%Y-%m-%dT%H:%M:%S).$RANDOM$RANDOM; echo done"
        oracle: {any: [{step: now, failed: true}]}
        """)
    done = project.repro("baseline", f"scenarios/{sid}", "--repeat", "3")
    assert done.returncode == 1
    assert "not deterministic" in done.stdout and "nothing recorded" in done.stdout
    assert "steps.now.stdout line 2:" in done.stdout
    assert "- mask: iso8601" in done.stdout
    assert not (project.root / "scenarios" / sid / "baseline.yaml").exists()
    # Following the proposal makes it deterministic.
    path = project.root / "scenarios" / sid / "scenario.yaml"
    path.write_text(path.read_text() + "normalize: [{mask: iso8601}]\n")
    again = project.repro("baseline", f"scenarios/{sid}", "--repeat", "3")
    assert again.returncode == 0, again.stdout
    assert "baseline recorded" in again.stdout


def test_rerecording_shows_the_change_and_needs_yes(project: Project) -> None:
    sid = _scenario(project)
    assert project.repro("baseline", f"scenarios/{sid}").returncode == 0
    same = project.repro("baseline", f"scenarios/{sid}")
    assert same.returncode == 0 and "baseline unchanged" in same.stdout
    _set_amount(project, sid, "99")
    baseline = project.root / "scenarios" / sid / "baseline.yaml"
    before = baseline.read_text()
    refused = project.repro("baseline", f"scenarios/{sid}")  # no terminal to ask on
    assert refused.returncode == 1
    assert "re-recording changes 4 channel(s)" in refused.stdout
    assert "~ total: 10.5 -> 99" in refused.stdout
    assert refused.stdout.splitlines()[-1].endswith("kept as it was; re-run with --yes to "
                                                    "replace it")
    assert baseline.read_text() == before
    accepted = project.repro("baseline", f"scenarios/{sid}", "--yes")
    assert accepted.returncode == 0 and baseline.read_text() != before
    code, result, _ = project.run_json(sid)
    assert result["baseline"] == "match"


def test_bad_rules_and_broken_baselines_are_one_line_errors(project: Project) -> None:
    sid = _scenario(project, extra="""\
      - replace: "([unclosed"
""")
    bad_rule = project.repro("run", f"scenarios/{sid}")
    assert bad_rule.returncode == 2
    assert bad_rule.stderr.strip() == (
        f"repro: error: scenarios/{sid}/scenario.yaml:33: normalize[6].replace: invalid "
        "regular expression '([unclosed': unterminated character set at position 1")
    assert "Traceback" not in bad_rule.stderr

    sid = _scenario(project)
    assert project.repro("baseline", f"scenarios/{sid}").returncode == 0
    path = project.root / "scenarios" / sid / "scenario.yaml"
    baseline = project.root / "scenarios" / sid / "baseline.yaml"
    good = baseline.read_text()
    baseline.write_text(good.replace("kind: exit_code", "kind: exitcode", 1))
    nonsense = project.repro("run", f"scenarios/{sid}")
    assert nonsense.returncode == 2
    assert f"scenarios/{sid}/baseline.yaml:" in nonsense.stderr
    assert "kind: must be one of exit_code" in nonsense.stderr

    baseline.write_text(good)
    path.write_text(path.read_text().replace("echo c; echo a; echo b", "echo changed"))
    changed = project.repro("run", f"scenarios/{sid}")
    assert changed.returncode == 2
    assert "steps: recorded for other steps (command of report changed): re-record it with " \
        f"`repro baseline scenarios/{sid}`" in changed.stderr


def test_missing_key_column_names_the_capture(project: Project) -> None:
    sid = _scenario(project)
    path = project.root / "scenarios" / sid / "scenario.yaml"
    path.write_text(path.read_text().replace("key: [id]", "key: [invoice]"))
    assert project.repro("run", f"scenarios/{sid}").returncode == 0  # no baseline: no diff
    done = project.repro("baseline", f"scenarios/{sid}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"repro: error: scenarios/{sid}/scenario.yaml: capture out.csv: key column 'invoice' "
        "is not in the header (id, amount, stamp); fix `key:`")


def test_diff_of_two_runs(project: Project) -> None:
    sid = _scenario(project)
    _, first, _ = project.run_json(sid)
    _, second, _ = project.run_json(sid)
    _set_amount(project, sid, "11")
    _, third, _ = project.run_json(sid)
    same = project.repro("diff", first["run_id"], second["run_id"])
    assert same.returncode == 0 and same.stdout.startswith("match: ")
    other = project.repro("diff", first["run_id"], third["record"], "--json")
    assert other.returncode == 1
    data = json.loads(other.stdout)
    assert data["diverged"] == ["files.out.json", "files.out.yaml", "files.out.csv",
                                "files.out.bin"]
    json_diff = next(c for c in data["channels"] if c["channel"] == "files.out.json")
    assert json_diff["changes"] == [{"change": "changed", "path": "total", "old": 10.5,
                                     "new": 11}]


def test_a_failed_sandbox_run_never_becomes_a_baseline(project: Project) -> None:
    project.env("gone", "image: registry.invalid/nothing:1\n")
    sid = project.scenario("gone", """\
        environment: gone
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    done = project.repro("baseline", f"scenarios/{sid}")
    assert done.returncode == 3
    assert not (project.root / "scenarios" / sid / "baseline.yaml").exists()

"""The oracle in support's words, on a real engine: "no traceback, and the report's amount
for invoice A-1 is not the customer's 1.234,50" (not, nested groups, differs_from)."""

from __future__ import annotations

import json

from conftest import Project

SCENARIO = """\
    environment: bb
    parameters: {greeting: "%s"}
    data: [{from: customer/export.csv, to: /srv/export.csv}]
    steps:
      - name: import
        run: |
          mkdir -p /srv/out
          if [ "$GREETING" = broken ]; then amount=1.23450; else amount=1.234,50; fi
          printf 'invoice;amount\\nA-1;%%s\\nA-2;89,90\\n' "$amount" > /srv/out/report.csv
    capture: [{path: /srv/out/report.csv, name: report}]
    oracle:
      all:
        - not: {step: import, stderr: "Traceback"}
        - any:
            - file: report
              column: amount
              row: {invoice: A-1}
              differs_from: {data: customer/export.csv, column: amount, row: 1}
              compare: number
              decimal: ","
            - {step: import, exit_code: 3}
"""

EXPORT = "invoice;amount\nA-1;1.234,50\nA-2;89,90\n"


def test_not_nested_groups_and_a_value_that_differs_from_the_customers(
        project: Project) -> None:
    broken = project.scenario("broken", SCENARIO % "broken", {"customer/export.csv": EXPORT})
    right = project.scenario("right", SCENARIO % "hello", {"customer/export.csv": EXPORT})

    code, result, stderr = project.run_json(broken)
    text = project.repro("run", f"scenarios/{right}")
    plan = json.loads(project.repro("plan", f"scenarios/{broken}", "--json").stdout)

    assert code == 0 and result["reproduced"] is True, stderr
    conditions = project.record(result)["oracle"]["conditions"]
    assert [(c["condition"], c["fired"]) for c in conditions] == [
        ("not (step 'import' stderr matches /Traceback/)", True),
        ("any of (file 'report' column amount, row invoice=A-1 differs as numbers from "
         "'1.234,50' (customer/export.csv, column amount, row 1); step 'import' exits with 3)",
         True)]
    assert conditions[0]["conditions"][0]["fired"] is False
    value, exit3 = conditions[1]["conditions"]
    assert (value["fired"], value["observed"]) == (True, "'1.23450', the customer's '1.234,50'")
    assert (exit3["fired"], exit3["observed"]) == (False, "exit code 0")
    assert result["when"] is not None  # the moment the last of `all` came true

    # 1.234,50 in the report: the same number, the oracle stays quiet.
    assert text.returncode == 1, text.stderr
    assert "  quiet any of (file 'report'" in text.stdout
    assert "    no    file 'report' column amount, row invoice=A-1 differs as numbers" \
        in text.stdout
    assert "'1.234,50', the customer's '1.234,50'" in text.stdout
    assert plan["oracle"]["conditions"][1].startswith("any of (file 'report' column amount")

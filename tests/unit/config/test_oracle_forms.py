"""The oracle's `not`, nested groups and `differs_from`: their bad input, the customer's
value read when the plan is made, and values compared as text or numbers."""

from __future__ import annotations

import pytest

from repro.config.oracle_values import NoValue, differ, pick
from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.show import plan_dict

ENV = "image: busybox\n"
HEAD = """\
environment: app
steps: [{name: s, run: "true"}]
capture: [{path: /srv/report.csv, name: report}]
oracle:
  any:
"""


def _plan(project, conditions: str):
    project.environment("app", ENV)
    project.write("scenarios/T/customer/export.csv", "invoice;amount\nA-1;1.234,50\n")
    return plan_scenario(project.scenario("T", HEAD + conditions))


def test_the_customers_value_is_read_into_the_plan(project) -> None:
    plan = _plan(project, """\
    - all:
        - not: {step: s, failed: true}
        - {file: report, field: totals.0, differs_from: {data: customer/export.csv,
           column: amount, row: {invoice: A-1}}}
""")
    assert plan_dict(plan)["oracle"]["conditions"] == [
        "all of (not (step 's' fails); file 'report' field totals.0 differs from '1.234,50' "
        "(customer/export.csv, column amount, row invoice=A-1))"]


@pytest.mark.parametrize("condition, message", [
    ("- {any: []}", "oracle.any[0].any: a group needs at least one condition"),
    ("- {not: {step: s, failed: true}, stdout: x}",
     "oracle.any[0].stdout: 'stdout' goes inside the conditions of 'not'"),
    ("- {file: report, column: amount, differs_from: {value: '3'}}",
     "oracle.any[0]: the file's value names its value with `field: a.b` (JSON/YAML) or "
     "`column:` and `row:` (CSV)"),
    ("- {file: report, column: amount, row: 1}",
     "oracle.any[0].column: 'column' goes with 'differs_from'"),
    ("- {not: {step: nope, failed: true}}",
     "oracle.any[0].not.step: no step named 'nope' (steps: s)"),
    ("- {file: report, field: total, differs_from: {data: customer/export.csv, "
     "column: amount, row: 7}}",
     "oracle.any[0].differs_from.data: scenarios/T/customer/export.csv: no row 7 (1 rows) "
     "(looking for column amount, row 7)"),
    ("- {file: report, field: total, differs_from: {data: customer/export.csv, "
     "column: total, row: 1}}",
     "oracle.any[0].differs_from.data: scenarios/T/customer/export.csv: no column 'total' "
     "(columns: invoice, amount) (looking for column total, row 1)"),
])
def test_bad_conditions_are_one_line_each(project, condition: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _plan(project, "    " + condition + "\n")
    assert [line.split(": ", 1)[1] for line in caught.value.lines()] == [message]


def test_values_are_picked_from_csv_rows_and_json_fields_and_compared() -> None:
    report = "invoice,amount\nA-1,\"1,234.50\"\nA-2,89.90\n"
    assert pick(report, "amount", {"invoice": "A-2"}, None) == "89.90"
    assert pick(report, "amount", 1, None) == "1,234.50"
    assert pick('{"totals": [{"sum": 5949.4}]}', None, None, "totals.0.sum") == "5949.4"
    with pytest.raises(NoValue, match="no field totals.3"):
        pick('{"totals": []}', None, None, "totals.3")
    assert differ("1,234.50", "1234.5", "number", ".") is False
    assert differ("1.234,50", "1234,5", "number", ",") is False
    assert differ("1.234,50", "1234.50", "number", ",") is True  # 1234.50 is 123450 here
    assert differ("1.23450", "1.234,50", "number", ",") is True
    assert differ("1.234,50", "1234,50", "text", ",") is True
    assert differ(" ACME ", "ACME", "text", ".") is False
    assert differ("n/a", "3", "number", ".") is None

"""The README's demo, exactly as a new user runs it: ticket ACME-4521 and its fix."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from conftest import REPO


def _repro(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"})


def _customer_digest() -> dict[str, str]:
    folder = REPO / "scenarios" / "ACME-4521" / "customer"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_demo_reproduces_on_1_4_2_and_is_fixed_on_1_4_3() -> None:
    before = _customer_digest()
    ticket = _repro("run", "scenarios/ACME-4521", "--json")
    fixed = _repro("run", "scenarios/ACME-4521-fixed", "--json")
    again = _repro("run", "scenarios/ACME-4521")

    assert ticket.returncode == 0, ticket.stderr
    result = json.loads(ticket.stdout)
    assert (result["reproduced"], result["expected"], result["ok"]) == (True, "reproduces", True)
    record = json.loads((REPO / result["record"]).read_text())
    steps = {s["name"]: s for s in record["steps"]}
    assert "ValueError: invalid amount: '1.234.50'" in steps["import"]["stderr"]
    assert steps["totals"]["status"] == "skipped"
    assert record["parameters"]["decimal_separator"] == ","  # from the customer's INI export

    assert fixed.returncode == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert (result["reproduced"], result["expected"], result["ok"]) == (False, "fixed", True)

    # A second run rebuilds nothing, and the customer's files are byte-identical.
    assert again.returncode == 0 and "building image" not in again.stderr
    assert "(cached)" in again.stdout and "REPRODUCED  (expected: reproduces)" in again.stdout
    assert _customer_digest() == before


def test_demo_files_validate() -> None:
    done = _repro("validate")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("10 of 10 files valid")


def test_demo_patch_proofs_verify_fix_and_bisect() -> None:
    fix = _repro("verify-fix", "ACME-4521", "--before", "version=1.4.2", "--after",
                 "version=1.4.3", "--json")
    found = _repro("bisect", "ACME-4521", "--param", "version", "--values",
                   "1.3.0,1.3.1,1.3.2,1.4.0,1.4.1,1.4.2", "--json")

    assert fix.returncode == 0, fix.stderr
    assert json.loads(fix.stdout)["holds"] is True
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert (result["boundary"]["last"]["value"], result["boundary"]["first"]["value"]) == (
        "1.3.2", "1.4.0")
    assert len(result["runs"]) == 4  # 6 releases: both ends, then two halvings

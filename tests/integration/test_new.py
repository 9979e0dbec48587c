"""`repro new` from the demo ticket's support bundle, then validate and run on the real
engine: the draft validates, its placeholder does not pass for a reproduction, and with the
customer's command in place the proposed oracle fires."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile

from conftest import REPO

BUNDLE = REPO / "tests/fixtures/bundles/ACME-4521/acme-support-2024-04-02"


def test_a_bundle_becomes_a_scenario_that_reproduces_the_ticket(project, tmp_path_factory):
    shutil.copy(REPO / "environments/invoicer.yaml", project.root / "environments")
    shutil.copytree(REPO / "environments/invoicer", project.root / "environments/invoicer")
    bundle = tmp_path_factory.mktemp("mail") / "ACME-4521-support.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(BUNDLE.rglob("*")):
            zf.write(file, f"{BUNDLE.name}/{file.relative_to(BUNDLE)}")
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    sid = f"ACME-NEW-{project.tag}"

    ambiguous = project.repro("new", sid, "--from", str(bundle))
    assert (ambiguous.returncode, ambiguous.stderr) == (
        2, "repro: error: --env: the project has several environments: pick one with --env "
        "NAME (bb, invoicer)\n")
    assert not (project.root / "scenarios").exists()

    made = project.repro("new", sid, "--from", str(bundle), "--env", "invoicer")
    assert made.returncode == 0, made.stderr
    assert "oracle           step reproduce: 'ValueError: invalid amount'" in made.stdout
    kept = project.root.with_name(f"{project.root.name}-inbox") / sid  # outside the project
    assert f"originals kept outside the project in {kept}" in made.stderr
    assert (kept / "settings.ini").read_bytes() == (BUNDLE / "settings.ini").read_bytes()
    valid = project.repro("validate", f"scenarios/{sid}")
    assert valid.returncode == 0, valid.stderr

    # The draft as written: its placeholder step fails, and that is no reproduction.
    code, draft, _ = project.run_json(sid)
    assert (code, draft["reproduced"], draft["ok"]) == (1, False, False)

    # The engineer writes the customer's command where the placeholder was.
    path = project.root / "scenarios" / sid / "scenario.yaml"
    text = path.read_text()
    placeholder = next(line for line in text.splitlines() if line.startswith("    run: "))
    path.write_text(text.replace(placeholder, "    run: invoicer import "
                                 "/srv/customer/exports/invoice-lines-2024-03.csv"))
    code, result, stderr = project.run_json(sid)

    assert code == 0, stderr
    assert (result["reproduced"], result["expected"], result["ok"]) == (True, "reproduces",
                                                                       True)
    record = project.record(result)
    assert record["parameters"]["decimal_separator"] == ","  # from the bundle's settings.ini
    assert record["clock"]["at_first_step"].startswith("2024-04-02T07:30:42")  # 30 s before
    assert json.dumps(record).count("ACME-7Q2F") == 0  # the license key stays masked
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == digest
    assert project.leftovers() == []

"""Pseudonymised customer data still reproduces the customer's error, on the real engine:
the demo ticket ACME-4521 with a contact name, e-mail and IBAN per invoice line, a CRM
dump and an import log, redacted, run and baselined; no original value survives."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

from conftest import REPO

CONTACTS = {  # customer -> (contact person, e-mail, IBAN)
    "Bäckerei Sonnenschein KG": ("Hannelore Sonnenschein", "h.sonnenschein@baeckerei-sonne.de",
                                 "DE89 3704 0044 0532 0130 00"),
    "Kanzlei Berger & Partner": ("Dr. Felix Berger", "felix.berger@kanzlei-berger.de",
                                 "DE02120300000000202051"),
    "Stadtwerke Talheim GmbH": ("Petra Kowalski", "p.kowalski@stadtwerke-talheim.de",
                                "AT611904300234573201"),
    "Gasthof Zum Anker": ("Jürgen Ankermann", "juergen@gasthof-anker.at",
                          "GB29 NWBK 6016 1331 9268 19"),
}
PHONE = "+49 7131 9561-230"
CLIENT_IP = "93.184.216.34"

PRIVACY_RULES = """
privacy:
  - files: customer/invoice-lines-*.csv
    columns: {customer: name, contact: name, email: email, iban: iban}
  - files: customer/crm.sql
    sql: {crm.contacts.name: name, crm.contacts.email: email, crm.contacts.iban: iban,
          crm.calls.email: email, crm.calls.phone: phone}
  - files: customer/*.log
    text: [email, phone, ip, iban]
    patterns: {'contact="([^"]+)"': name}
"""


def _originals(inbox: Path) -> None:
    demo = REPO / "scenarios" / "ACME-4521" / "customer"
    shutil.copy(demo / "settings.ini", inbox / "settings.ini")
    text = (demo / "invoice-lines-2024-03.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow([*rows[0], "contact", "email", "iban"])
    for row in rows[1:]:
        writer.writerow([*row, *CONTACTS[row[2]]])
    (inbox / "invoice-lines-2024-03.csv").write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    name, email, iban = CONTACTS["Stadtwerke Talheim GmbH"]
    (inbox / "crm.sql").write_text(
        "CREATE TABLE crm.contacts (\n    id integer NOT NULL,\n    name text,\n"
        "    email text,\n    iban text\n);\n"
        f"INSERT INTO crm.contacts VALUES (1, '{name}', '{email.upper()}', '{iban}');\n"
        "COPY crm.calls (id, email, phone, note) FROM stdin;\n"
        f"1\t{email}\t{PHONE}\tasked about the report\n\\.\n", encoding="utf-8")
    (inbox / "import.log").write_text(
        f"2024-04-02 09:14:07 import by contact=\"{name}\" <{email}> from {CLIENT_IP}\n"
        f"2024-04-02 09:14:09 callback requested at {PHONE}\n", encoding="utf-8")


def _scenario_body() -> str:
    body = (REPO / "scenarios" / "ACME-4521" / "scenario.yaml").read_text()
    return re.sub(r"(?m)^id: .*\n", "", body) + PRIVACY_RULES


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_a_pseudonymised_case_still_reproduces_and_keeps_no_original(project, tmp_path_factory
                                                                    ) -> None:
    shutil.copy(REPO / "environments" / "invoicer.yaml", project.root / "environments")
    shutil.copytree(REPO / "environments" / "invoicer", project.root / "environments" / "invoicer")
    inbox = tmp_path_factory.mktemp("inbox")  # the originals: outside the project
    _originals(inbox)
    before = _digests(inbox)
    sid = project.scenario("ACME-4521", _scenario_body())
    plain = project.scenario("PLAIN", _scenario_body())  # the same case on the originals
    shutil.copytree(inbox, project.root / "scenarios" / plain / "customer")
    key_env = {"XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("config"))}

    done = project.repro("redact", f"scenarios/{sid}", "--from", str(inbox), env=key_env)
    assert done.returncode == 0, done.stderr
    assert "pseudonymised by columns: 72 value(s)" in done.stdout  # 18 lines x 4 columns
    assert _digests(inbox) == before  # the originals are only read

    code, redacted, err = project.run_json(sid)
    code_plain, original, _ = project.run_json(plain)
    assert code == 0 and code_plain == 0, err
    assert (redacted["reproduced"], original["reproduced"]) == (True, True)
    steps = {s["name"]: s for s in project.record(redacted)["steps"]}
    plain_steps = {s["name"]: s for s in project.record(original)["steps"]}
    assert steps["import"]["stderr"] == plain_steps["import"]["stderr"]
    assert "ValueError: invalid amount: '1.234.50'" in steps["import"]["stderr"]
    baseline = project.repro("baseline", f"scenarios/{sid}", "--yes")
    assert baseline.returncode == 0, baseline.stderr

    # One value, one token: the contact's e-mail in the CSV, the SQL dump and the log.
    folder = project.root / "scenarios" / sid / "customer"
    rows = list(csv.DictReader(io.StringIO(
        (folder / "invoice-lines-2024-03.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    token = next(r["email"] for r in rows if r["invoice"] == "RE-2024-0313")
    assert re.fullmatch(r"[0-9a-f]{12}@example\.invalid", token)
    assert len({r["email"] for r in rows}) == len(CONTACTS)  # four customers, four tokens
    dump, log = (folder / "crm.sql").read_text(), (folder / "import.log").read_text()
    assert dump.count(token) == 2 and log.count(token) == 1
    name_token = next(r["contact"] for r in rows if r["invoice"] == "RE-2024-0313")
    assert f"'{name_token}'" in dump and f'contact="{name_token}"' in log

    # No original value anywhere: scenario folder, its run records, its baseline.
    runs = [p for p in (project.root / ".repro" / "runs").iterdir()
            if p.name.startswith(f"{sid}-2")]
    assert len(runs) == 2  # the run and the baseline's run
    originals = [v for person in CONTACTS.values() for v in person] + [
        PHONE, CLIENT_IP, *CONTACTS]
    forms = {o for v in originals for o in (v, v.lower(), v.upper(), v.replace(" ", ""))}
    forms |= {w for name, *_ in CONTACTS.values() for w in name.split() if len(w) > 4}
    files = [p for top in [project.root / "scenarios" / sid, *runs] for p in top.rglob("*")
             if p.is_file()]
    assert any(p.name == "baseline.yaml" for p in files)
    for path in files:
        data = path.read_bytes()
        leaked = [v for v in forms if v.encode() in data]
        assert not leaked, f"{path.relative_to(project.root)} holds {leaked}"

    # The audit passes the redacted case and its records, and names what the originals hold.
    clean = project.repro("audit", f"scenarios/{sid}", *[str(r) for r in runs])
    assert clean.returncode == 0, clean.stdout + clean.stderr
    dirty = project.repro("audit", str(inbox))
    assert dirty.returncode == 1
    assert re.search(r"invoice-lines-2024-03\.csv:2: email h\*\*\*@b\*\*\*\.de", dirty.stdout)
    assert re.search(r"import\.log:1: ip 93\.184\.\*+\.\*+", dirty.stdout)
    assert not [v for v in forms if v in dirty.stdout + dirty.stderr]
    assert json.loads((runs[0] / "record.json").read_text())["scenario"]["id"] == sid

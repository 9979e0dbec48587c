"""`privacy:` validation, `repro redact` and `repro audit` through the command line."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest

from repro.privacy import text_file
from repro.privacy.key import key_path

ENV = "image: busybox\n"
SCENARIO = """\
environment: e
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
privacy:
  - files: customer/*.csv
    columns: {email: email, name: name}
"""
ORIGINAL = "id;name;email\n1;Max Müller;max.mueller@firma.de\n"


@pytest.fixture
def inbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("REPRO_PRIVACY_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    folder = tmp_path_factory.mktemp("inbox")
    (folder / "people.csv").write_text(ORIGINAL, encoding="utf-8")
    return folder


def test_privacy_rules_are_validated_with_their_position(project, cli):
    project.environment("e", ENV + "privacy:\n  - files: a.log\n    text: [email, nmae]\n")
    project.scenario("S", SCENARIO + "  - files: /etc/x.sql\n    sql: {email: email}\n"
                     "    colums: {a: email}\n")
    result = cli("validate")
    assert result.exit_code == 2
    assert sorted(result.stderr.splitlines()[:-1]) == [
        "environments/e.yaml:4: privacy[0].text[1]: must be one of email, phone, iban, ip, "
        "name, got 'nmae' (did you mean 'name'?)",
        "scenarios/S/scenario.yaml:7: privacy[1].files: a glob inside the scenario folder, "
        "e.g. customer/*.csv",
        "scenarios/S/scenario.yaml:8: privacy[1].sql.email: expected table.column "
        "(schema.table.column also works), e.g. customers.email",
        "scenarios/S/scenario.yaml:9: privacy[1].colums: unknown key (did you mean 'columns'?)",
    ]


def test_redact_writes_copies_into_the_scenario_and_keeps_the_originals(project, cli, inbox):
    project.environment("e", ENV)
    project.scenario("S", SCENARIO)
    (inbox / "notes.txt").write_text("nothing personal\n")
    result = cli("redact", "S", "--from", str(inbox))
    assert result.exit_code == 0, result.stderr
    copy = (project.root / "scenarios/S/customer/people.csv").read_text()
    assert "max.mueller" not in copy and "Müller" not in copy and "@example.invalid" in copy
    assert (project.root / "scenarios/S/customer/notes.txt").read_text() == "nothing personal\n"
    assert (inbox / "people.csv").read_text() == ORIGINAL
    assert "scenarios/S/customer/notes.txt  copied as it is (no rule names it)" in result.stdout
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600
    assert not list((project.root / "scenarios/S/customer").glob(".*.tmp"))

    again = cli("redact", "S", "--from", str(inbox))  # never over a copy unless asked
    assert again.exit_code == 2 and again.stderr.startswith(
        "repro: error: scenarios/S/customer/notes.txt: exists already; `--force` replaces it")
    forced = cli("redact", "S", "--from", str(inbox), "--force", "--delete-originals")
    assert forced.exit_code == 0
    assert (project.root / "scenarios/S/customer/people.csv").read_text() == copy  # one key
    assert list(inbox.iterdir()) == []


def test_redact_refuses_originals_inside_the_project_and_keeps_them_when_the_audit_fails(
        project, cli, inbox):
    project.environment("e", ENV)
    project.scenario("S", SCENARIO)
    project.write("incoming/people.csv", ORIGINAL)
    inside = cli("redact", "S", "--from", "incoming")
    assert inside.exit_code == 2 and "keep them in a folder outside it" in inside.stderr
    (inbox / "call.log").write_text("callback for max.mueller@firma.de\n")
    missed = cli("redact", "S", "--from", str(inbox), "--delete-originals")
    assert missed.exit_code == 1
    assert "audit: scenarios/S/customer/call.log:1: email m***@f***.de" in missed.stderr
    assert "max.mueller" not in missed.stdout + missed.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["call.log", "people.csv"]
    both = cli("redact", "S", "--from", str(inbox), "--force", "--no-audit",
               "--delete-originals")
    assert both.exit_code == 2 and "--delete-originals needs the audit" in both.stderr
    unchecked = cli("redact", "S", "--from", str(inbox), "--force", "--no-audit")
    assert unchecked.exit_code == 0 and "audit:" not in unchecked.stderr


def test_redact_without_rules_says_what_to_add(project, cli, inbox):
    project.environment("e", ENV)
    project.scenario("S", SCENARIO.split("privacy:")[0])
    result = cli("redact", "S", "--from", str(inbox))
    assert result.exit_code == 2
    assert "no `privacy:` rules in the scenario or its environment" in result.stderr


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_audit_names_file_and_line_with_values_masked(project, cli, monkeypatch, chunk):
    monkeypatch.setattr(text_file, "CHUNK", chunk)  # lines counted across chunks too
    project.environment("e", ENV + "parameters:\n  token: {default: s3cr3t-Tok-991, "
                        "secret: true}\n")
    project.scenario("S", SCENARIO)
    project.write("scenarios/S/baseline.yaml", "text: |\n  ok\n  mail anna.berg@gmx.net\n")
    project.write(".repro/runs/S-1/record.json", '{"stdout": "token s3cr3t-Tok-991"}\n')
    project.write("scenarios/S/customer/ok.log", "a@example.com 10.0.0.1 192.0.2.7 "
                  "x@example.invalid DE07000008405991181240\n")
    pack = io.BytesIO()
    with tarfile.open(fileobj=pack, mode="w:gz") as tar:
        data = b"line one\niban DE89 3704 0044 0532 0130 00\n"
        info = tarfile.TarInfo("S/customer/x.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    project.write("cases/S.tar.gz", pack.getvalue())
    result = cli("audit")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "scenarios/S/baseline.yaml:3: email a***@g***.net",
        ".repro/runs/S-1/record.json:1: secret parameter value ***",
        "cases/S.tar.gz!S/customer/x.csv:2: iban DE** **** **** **** **** 00",
    ]
    project.write(".privacy-allow", "# known test data\nanna.berg@gmx.net\nre:DE89.*\n")
    (project.root / ".repro/runs/S-1/record.json").write_text("{}\n")
    clean = cli("audit")
    assert (clean.exit_code, clean.stdout) == (0, "")
    missing = cli("audit", "nowhere")
    assert missing.exit_code == 2 and "nowhere: no such file or folder" in missing.stderr


@pytest.mark.parametrize("quote", [False, True])
def test_a_big_csv_split_among_processes_reads_as_one(project, cli, monkeypatch, quote,
                                                      tmp_path_factory):
    from repro.privacy import csv_file, csv_parallel
    from repro.privacy.tokens import Tokens

    key = "parallel-test-key-0123456789"
    monkeypatch.setenv("REPRO_PRIVACY_KEY", key)
    monkeypatch.setattr(csv_parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(csv_parallel, "workers", lambda: 3)
    project.environment("e", ENV)
    project.scenario("S", SCENARIO)
    inbox = tmp_path_factory.mktemp("inbox")
    lines = [f"{i};Kunde {i % 17};k{i % 23}@firma.de" for i in range(3000)]
    if quote:
        lines[1500] = '1500;"Kunde; mit Semikolon";q@firma.de'
    original = ("id;name;email\n" + "\n".join(lines) + "\n").encode()
    (inbox / "big.csv").write_bytes(original)
    assert csv_parallel.usable(inbox / "big.csv")
    returned = []  # what the split among processes gave: None when it gave up (a quote)
    split = csv_parallel.rewrite
    monkeypatch.setattr(csv_parallel, "rewrite",
                        lambda *a, **k: returned.append(split(*a, **k)) or returned[-1])

    result = cli("redact", "S", "--from", str(inbox))
    assert result.exit_code == 0, result.stderr
    assert (returned == [None]) if quote else (len(returned) == 1 and returned[0] > 0)
    import io
    expected = io.BytesIO()
    csv_file.rewrite(io.BytesIO(original), expected, {"email": "email", "name": "name"}, None,
                     "big.csv", Tokens(key.encode()).token_bytes)
    written = (project.root / "scenarios/S/customer/big.csv").read_bytes()
    assert written == expected.getvalue() and written.count(b"\n") == 3001
    assert not list((project.root / "scenarios/S/customer").glob(".*"))  # no part left


def test_a_custom_format_dump_is_refused_before_anything_is_written(project, cli, inbox):
    project.environment("e", ENV)
    project.scenario("S", SCENARIO + "  - files: customer/crm.dump\n    sql: {c.email: email}\n")
    (inbox / "crm.dump").write_bytes(b"PGDMP\x01\x0e\x00\x04binary")
    result = cli("redact", "S", "--from", str(inbox))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"repro: error: {inbox / 'crm.dump'}: a PostgreSQL custom-format dump cannot be "
        "pseudonymised; ask for a plain one (pg_dump --format=plain) or restore it and dump "
        "it plain"]
    assert not (project.root / "scenarios/S/customer").exists()


def test_originals_stay_when_a_copy_is_out_of_the_audits_reach(project, cli, inbox):
    # A zipped export no rule names is copied as it is, and a line scan cannot read it: a
    # clean audit says nothing about it, so the originals are not deleted.
    project.environment("e", ENV)
    project.scenario("S", SCENARIO)
    (inbox / "more.zip").write_bytes(b"PK\x03\x04\x00\x00" + b"max.mueller@firma.de")
    result = cli("redact", "S", "--from", str(inbox), "--delete-originals")
    assert result.exit_code == 0, result.stderr
    assert "cannot be scanned for personal data (binary), e.g. scenarios/S/customer/more.zip" \
        in result.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["more.zip", "people.csv"]


def test_audit_bad_input_is_one_line_and_names_are_shown_not_sent(project, cli, monkeypatch):
    project.write("scenarios/S/notes\x1b[2J.txt", "call max.mueller@firma.de\n")
    result = cli("audit", "scenarios")
    assert result.exit_code == 1
    assert "scenarios/S/notes\\x1b[2J.txt:1: email m***@f***.de" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
    locked = project.write("scenarios/S/locked.txt", "x\n")
    opened = Path.open

    def refused(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == locked.name:  # as for a file of another user (root reads anything)
            raise PermissionError(13, "Permission denied")
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refused)
    unreadable = cli("audit", "scenarios")
    assert unreadable.exit_code == 1
    assert "scenarios/S/locked.txt:0: unreadable file Permission denied" in unreadable.stdout
    monkeypatch.setattr(Path, "open", opened)
    project.write(".privacy-allow", "re:([a-z]\n")
    bad = cli("audit", "scenarios")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("repro: error: .privacy-allow:1: not a regular expression"), \
        bad.stderr
    assert len(bad.stderr.splitlines()) == 1

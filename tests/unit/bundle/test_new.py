"""`repro new`: what a bundle's files become in the draft scenario, and the draft itself."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from repro.bundle.propose import last_error
from repro.config.project import load_scenario

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "tests/fixtures/bundles/ACME-4521/acme-support-2024-04-02"
INVOICER = (REPO / "environments/invoicer.yaml").read_text()

SVC_ENV = """\
image: busybox
parameters:
  version: "2.3.1"
  api_token: {default: tok-Secret-93, secret: true}
services:
  db: {image: busybox}
"""


def demo_zip(folder: Path) -> Path:
    path = folder / "bundle.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(DEMO.rglob("*")):
            zf.write(file, f"{DEMO.name}/{file.relative_to(DEMO)}")
    return path


def invoicer(project) -> None:
    project.environment("invoicer", INVOICER)
    shutil.copytree(REPO / "environments/invoicer", project.root / "environments/invoicer")


def scenario_of(project, ticket: str) -> tuple[str, dict]:
    text = (project.root / f"scenarios/{ticket}/scenario.yaml").read_text()
    return text, yaml.safe_load(text)


def test_the_demo_bundle_becomes_a_draft_that_validates(project, cli, tmp_path_factory):
    invoicer(project)
    bundle = demo_zip(tmp_path_factory.mktemp("in"))
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()

    result = cli("new", "ACME-NEW", "--from", str(bundle))

    assert result.exit_code == 0, result.stderr
    text, data = scenario_of(project, "ACME-NEW")
    assert data["environment"] == "invoicer" and data["id"] == "ACME-NEW"
    assert data["parameters_from"] == ["customer/settings.ini"]
    assert data["data"] == [{"from": "customer/exports/invoice-lines-2024-03.csv",
                             "to": "/srv/customer/exports/invoice-lines-2024-03.csv"}]
    # The error is the log's last one (the ValueError), not the earlier [mail] ERROR line.
    log = (DEMO / "logs/app.log").read_text().splitlines()
    number = next(i for i, line in enumerate(log, 1) if line.startswith("ValueError"))
    assert data["oracle"] == {"any": [{"step": "reproduce",
                                       "stderr": "ValueError: invalid amount"}]}
    assert f"# proposed from customer/logs/app.log line {number}:" in text
    assert data["clock"] == {"from_log": "customer/logs/app.log",
                             "match": "ValueError: invalid amount", "before": "30s",
                             "zone": "Europe/Berlin"}  # the customer's timezone setting
    # The files, byte for byte; the bundle untouched; the secret value never in the draft.
    for file in DEMO.rglob("*"):
        if file.is_file():
            copied = project.root / "scenarios/ACME-NEW/customer" / file.relative_to(DEMO)
            assert copied.read_bytes() == file.read_bytes()
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == digest
    assert "ACME-7Q2F" not in text
    assert cli("validate", "scenarios/ACME-NEW").exit_code == 0
    assert "  not used         customer/system-info.txt (no timestamped lines)" in \
        result.stdout.splitlines()


def test_the_placeholder_step_fails_without_firing_the_oracle(project, cli, tmp_path_factory):
    invoicer(project)
    assert cli("new", "ACME-NEW", "--from", str(demo_zip(tmp_path_factory.mktemp("in")))
               ).exit_code == 0
    _, data = scenario_of(project, "ACME-NEW")
    step = data["steps"][0]
    import subprocess

    done = subprocess.run(["sh", "-c", step["run"]], capture_output=True, text=True)
    assert done.returncode == 1 and "ACME-NEW is a draft" in done.stderr
    assert not re.search(data["oracle"]["any"][0]["stderr"], done.stderr)


def test_several_environments_need_env_and_the_line_lists_them(project, cli):
    invoicer(project)
    project.environment("svc", SVC_ENV)
    missing = cli("new", "T-1")
    unknown = cli("new", "T-1", "--env", "nope")
    assert (missing.exit_code, missing.stderr) == (2, "repro: error: --env: the project has "
                                                   "several environments: pick one with "
                                                   "--env NAME (invoicer, svc)\n")
    assert unknown.stderr == ("repro: error: --env: no environment 'nope' in environments "
                              "(environments: invoicer, svc)\n")
    assert not (project.root / "scenarios").exists()


def test_without_a_bundle_the_scaffold_lists_parameters_and_validates(project, cli):
    project.environment("svc", SVC_ENV)
    result = cli("new", "T-2")
    assert result.exit_code == 0, result.stderr
    text, data = scenario_of(project, "T-2")
    assert '#  version: 2.3.1' in text.splitlines()  # commented, with its default
    assert "#  api_token: (secret)" in text.splitlines()
    assert "tok-Secret-93" not in text
    assert data["oracle"]["any"][0]["stderr"] == "TODO: the error message the customer saw"
    assert sorted(p.name for p in (project.root / "scenarios/T-2").iterdir()) == [
        "scenario.yaml"]
    assert cli("validate").exit_code == 0


def test_an_existing_scenario_is_refused_unless_forced(project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV)
    project.write("scenarios/T-3/notes.md", "the engineer's notes\n")
    refused = cli("new", "T-3")
    assert (refused.exit_code, refused.stderr) == (2, "repro: error: scenarios/T-3: the "
                                                   "scenario already exists; pass --force "
                                                   "to replace it\n")
    assert (project.root / "scenarios/T-3/notes.md").is_file()
    forced = cli("new", "T-3", "--force")
    assert forced.exit_code == 0
    assert sorted(p.name for p in (project.root / "scenarios").iterdir()) == ["T-3"]
    assert not (project.root / "scenarios/T-3/notes.md").exists()


@pytest.mark.parametrize("args, message", [
    (["../evil"], "TICKET: '../evil' is not a ticket name"),
    (["T-4", "--from", "missing.zip"], "missing.zip: bundle not found"),
    (["T-4", "--from", "notes.docx"], "notes.docx: not a bundle: expected a .zip, .tar"),
    (["T-4", "--from", "broken.tar.gz"], "broken.tar.gz: cannot read the archive"),
    (["T-4", "--limit", "ratio=0"], "--limit: 'ratio=0': expected size=20g"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(project, cli, args, message):
    project.environment("svc", SVC_ENV)
    project.write("notes.docx", b"PK\x03\x04")
    project.write("broken.tar.gz", b"\x1f\x8b\x08\x00garbage")
    result = cli("new", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"repro: error: {message}") and \
        result.stderr.count("\n") == 1, result.stderr
    assert not (project.root / "scenarios").exists()


def _tar(path: Path, files: dict[str, bytes], links: dict[str, tuple[bytes, str]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mode = 0o4755  # setuid: never kept
            tar.addfile(info, io.BytesIO(body))
        for name, (kind, target) in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
    return path


def test_links_inside_are_skipped_or_copied_and_said(project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV)
    bundle = _tar(tmp_path_factory.mktemp("in") / "b.tgz",
                  {"logs/app.log": b"2024-01-31 00:30:00 INFO ok\n", "logs/x.csv": b"a\n1\n"},
                  {"logs/latest.log": (tarfile.SYMTYPE, "app.log"),
                   "logs/y.csv": (tarfile.LNKTYPE, "logs/x.csv")})
    result = cli("new", "T-5", "--from", str(bundle))
    assert result.exit_code == 0, result.stderr
    customer = project.root / "scenarios/T-5/customer"
    assert not any(p.is_symlink() for p in customer.rglob("*"))
    assert (customer / "y.csv").read_bytes() == b"a\n1\n"
    assert (customer / "app.log").stat().st_mode & 0o7777 == 0o644
    # Named as in the bundle (its one top folder, logs/, is dropped in the scenario).
    assert "  link             skipped symlink logs/latest.log -> app.log (links are not " \
        "copied)" in result.stdout.splitlines()
    assert "  link             copied hard link logs/y.csv as a file (a copy of logs/x.csv)" \
        in result.stdout.splitlines()


def test_a_dump_goes_to_the_only_database_service_and_other_files_are_sorted(
        project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV)
    folder = tmp_path_factory.mktemp("in") / "bundle"
    files = {
        "db/billing.sql": "--\nCREATE TABLE t (a int);\nALTER TABLE t OWNER TO billing;\n",
        "db/shop.sql": "-- MySQL dump 10.13  Distrib 8.0.36\nCREATE TABLE t (a int);\n",
        "conf/app.json": '{"version": "2.3.0", "color": "blue"}',
        "conf/.env": "API_TOKEN=tok-from-the-customer\n",
        "orders.json": '[{"id": 1}]',
        "notes.yaml": "owner: ops\n",
        "app.log": "Jan 31 00:30:00 host billing[12]: renewal failed: ERROR:  date field "
                   "value out of range: 2024-02-31\n",
    }
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    result = cli("new", "T-6", "--from", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    text, data = scenario_of(project, "T-6")
    assert data["load"] == [{"service": "db", "sql": "customer/db/billing.sql",
                             "database": "billing", "user": "billing"}]
    assert {d["from"] for d in data["data"]} == {"customer/db/shop.sql",
                                                 "customer/orders.json"}
    assert data["parameters_from"] == [
        "customer/conf/.env", {"path": "customer/conf/app.json", "ignore_unknown": True}]
    assert "#   customer/notes.yaml: none of its keys is a parameter of the environment" in text
    assert "tok-from-the-customer" not in text  # a secret set by an export: never shown
    assert data["clock"]["year"] >= 2024 and "match" in data["clock"]  # syslog: no year
    assert data["oracle"]["any"] == [
        {"step": "reproduce", "stderr": "date field value out of range"},
        {"step": "reproduce", "stdout": "date field value out of range"}]
    assert cli("validate", "scenarios/T-6").exit_code == 0


def test_a_draft_that_does_not_validate_is_kept_with_what_to_fix(project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV.replace('version: "2.3.1"', 'version: {default: '
                                               '"2.3.1", choices: ["2.3.0", "2.3.1"]}'))
    folder = tmp_path_factory.mktemp("in") / "bundle"
    folder.mkdir()
    (folder / "settings.ini").write_text("[app]\nversion = 2.2.9\n")
    result = cli("new", "T-7", "--from", str(folder))
    assert result.exit_code == 1
    assert "  - fix: scenarios/T-7/customer/settings.ini:2: version: '2.2.9' is not one of " \
        "2.3.0, 2.3.1" in result.stdout.splitlines()


def _log(tmp_path: Path, text: str) -> Path:
    (tmp_path / "app.log").write_text(text)
    return tmp_path


def test_the_last_error_is_read_from_each_kind_of_log(tmp_path):
    bill = (REPO / "scenarios/BILL-131/customer/billing.log").read_text()
    error = last_error(_log(tmp_path, bill), ["app.log"])
    # The scenario written by hand for that log uses the same oracle.
    assert error is not None and error.pattern == "date field value out of range"
    assert error.number == 6 and error.unique and not error.traceback

    java = ("2024-03-01T10:00:00Z ERROR [main] c.a.Pool - checkout failed\n"
            "java.lang.IllegalStateException: pool exhausted (max 20)\n"
            "\tat com.acme.Pool.get(Pool.java:41)\n")
    error = last_error(_log(tmp_path, java), ["app.log"])
    assert error is not None and error.number == 2
    assert error.pattern == "java\\.lang\\.IllegalStateException: pool exhausted"
    assert error.stamp is not None and error.stamp.text == "2024-03-01T10:00:00Z"

    twice = ("2024-03-01 10:00:00,001 ERROR disk full on /var\n"
             "2024-03-01 11:00:00,002 ERROR disk full on /var\n")
    error = last_error(_log(tmp_path, twice), ["app.log"])
    assert error is not None and error.number == 2 and not error.unique
    assert last_error(_log(tmp_path, "2024-03-01 10:00:00 INFO fine\n"), ["app.log"]) is None


def test_a_repeated_error_sets_the_clock_by_its_own_timestamp(project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV)
    folder = tmp_path_factory.mktemp("in") / "bundle"
    folder.mkdir()
    (folder / "app.log").write_text("2024-03-01 10:00:00,001 ERROR disk full on /var\n"
                                    "2024-03-01 11:00:00,002 ERROR disk full on /var\n")
    assert cli("new", "T-8", "--from", str(folder)).exit_code == 0
    _, data = scenario_of(project, "T-8")
    assert data["clock"]["match"] == "2024-03-01 11:00:00,002"
    assert data["clock"]["zone"] == "UTC"
    scenario = load_scenario(project.root / "scenarios/T-8/scenario.yaml").record
    assert scenario.clock is not None and scenario.clock.before == 30


def test_a_file_name_cannot_write_yaml_into_the_draft(project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV)
    evil = "x\nsteps: []\noracle: {any: [{step: reproduce, failed: true}]}\n#.csv"
    bundle = _tar(tmp_path_factory.mktemp("in") / "b.tgz",
                  {evil: b"a\n1\n", "notes\n- injected.bin": b"\0"}, {})
    result = cli("new", "T-9", "--from", str(bundle))
    assert result.exit_code == 0, result.stderr
    assert all(line.isprintable() for line in result.stdout.splitlines())
    _, data = scenario_of(project, "T-9")
    assert data["data"] == [{"from": f"customer/{evil}", "to": f"/srv/customer/{evil}"}]
    assert data["steps"][0]["name"] == "reproduce" and data["oracle"]["any"][0]["stderr"]
    assert cli("validate", "scenarios/T-9").exit_code == 0


def test_an_earlier_match_is_found_across_search_blocks(tmp_path, monkeypatch):
    from repro.bundle import propose

    monkeypatch.setattr(propose, "_BLOCK", 16)  # lines longer than a block, and shorter
    lines = [f"2024-03-01 10:00:{i:02d},000 INFO step {i} of a long long run" for i in range(9)]
    lines[3] = "2024-03-01 10:00:03,000 ERROR disk full on /var"
    lines[7] = "2024-03-01 10:00:07,000 ERROR disk full on /var"
    error = last_error(_log(tmp_path, "\r\n".join(lines) + "\r\n"), ["app.log"])
    assert error is not None and (error.number, error.unique) == (8, False)
    assert propose._first_match(tmp_path / "app.log", error.pattern) == 4
    assert propose._first_match(tmp_path / "app.log", "step 8 of") == 9
    assert propose._first_match(tmp_path / "app.log", "nowhere") is None


def test_a_bundle_inside_what_it_would_replace_or_around_the_project_is_refused(project, cli):
    project.environment("svc", SVC_ENV)
    inside = project.write("scenarios/T-10/customer/bundle/settings.ini", "[a]\nversion=2.3.0\n")
    forced = cli("new", "T-10", "--from", str(inside.parent), "--force")
    around = cli("new", "T-11", "--from", ".")
    assert (forced.exit_code, around.exit_code) == (2, 2)
    assert forced.stderr == ("repro: error: scenarios/T-10/customer/bundle: the bundle lies "
                             "inside scenarios/T-10, which would be replaced; move it out "
                             "first\n")
    assert around.stderr.endswith(": the bundle folder holds the project's scenarios/; point "
                                  "--from at the bundle itself\n")
    assert inside.is_file() and sorted(p.name for p in (project.root / "scenarios").iterdir()
                                       ) == ["T-10"]


@pytest.mark.parametrize("kind", ["bundle.tar", "bundle.tgz", "bundle.tar.gz", "bundle.tar.xz",
                                  "bundle.tar.bz2", "folder"])
def test_every_bundle_kind_gives_the_zips_scenario(kind, project, cli, tmp_path_factory):
    invoicer(project)
    folder = tmp_path_factory.mktemp("in")
    bundle = DEMO
    if kind != "folder":
        bundle = folder / kind
        mode = {"tar": "w", "tgz": "w:gz", "gz": "w:gz", "xz": "w:xz", "bz2": "w:bz2"}
        with tarfile.open(bundle, mode[kind.rsplit(".", 1)[1]]) as tar:
            tar.add(DEMO, DEMO.name)

    other = cli("new", "OTHER", "--from", str(bundle))
    zipped = cli("new", "ZIPPED", "--from", str(demo_zip(folder)))

    assert (other.exit_code, zipped.exit_code) == (0, 0), other.stderr + zipped.stderr

    def body(ticket: str) -> str:  # all but the first line, which names the bundle
        return scenario_of(project, ticket)[0].split("\n", 1)[1].replace(ticket, "T")

    assert body("OTHER") == body("ZIPPED")
    assert "parameters_from:" in body("OTHER") and "clock:" in body("OTHER")


def test_a_scenario_made_meanwhile_is_not_overwritten(project, cli, monkeypatch):
    from repro.bundle import new

    project.environment("svc", SVC_ENV)
    real = new._fill

    def racing(work, *args):  # another `repro new T-12` finishes while this one works
        project.write("scenarios/T-12/scenario.yaml", "theirs\n")
        return real(work, *args)

    monkeypatch.setattr(new, "_fill", racing)
    result = cli("new", "T-12")
    assert (result.exit_code, result.stderr) == (2, "repro: error: scenarios/T-12: the "
                                                 "scenario was created meanwhile by someone "
                                                 "else; pass --force to replace it\n")
    assert (project.root / "scenarios/T-12/scenario.yaml").read_text() == "theirs\n"
    assert sorted(p.name for p in (project.root / "scenarios").iterdir()) == ["T-12"]


def test_a_my_cnf_with_a_key_in_two_sections_is_read_by_its_best_section(
        project, cli, tmp_path_factory):
    project.environment("svc", SVC_ENV.replace("parameters:\n", "parameters:\n  port: 3306\n"
                                               "  max_connections: 151\n"))
    folder = tmp_path_factory.mktemp("in") / "bundle"
    folder.mkdir()
    (folder / "my.cnf").write_text("[client]\nport = 3307\n\n[mysqld]\nport = 3306\n"
                                   "max_connections = 20\n")
    (folder / "broken.ini").write_text("[app\nversion = 1\n")
    result = cli("new", "T-13", "--from", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    text, data = scenario_of(project, "T-13")
    assert data["parameters_from"] == [{"path": "customer/my.cnf", "section": "mysqld"}]
    assert "#   customer/broken.ini: not read as settings: line 1: invalid INI: expected a " \
        "[section] header, e.g. [app], before the first key" in text.splitlines()
    assert cli("validate", "scenarios/T-13").exit_code == 0


def test_the_originals_wait_outside_the_project_and_personal_data_is_pointed_out(
        project, cli, tmp_path_factory, monkeypatch):
    invoicer(project)
    inbox = tmp_path_factory.mktemp("inbox")
    monkeypatch.setenv("REPRO_INBOX", str(inbox))
    bundle = tmp_path_factory.mktemp("in") / "bundle"
    shutil.copytree(DEMO, bundle)
    (bundle / "contacts.csv").write_text("name;email;iban\nJane Roe;jane.roe@acme-gmbh.de;"
                                         "DE89370400440532013000\n")

    result = cli("new", "ACME-PD", "--from", str(bundle))

    assert result.exit_code == 0, result.stderr
    customer = project.root / "scenarios/ACME-PD/customer"
    kept = inbox / "ACME-PD"
    assert sorted(p.relative_to(kept) for p in kept.rglob("*")) == \
        sorted(p.relative_to(customer) for p in customer.rglob("*"))
    assert (kept / "contacts.csv").read_bytes() == (bundle / "contacts.csv").read_bytes()
    warning = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warning) == 1 and "2 finding(s) of personal data" in warning[0], result.stderr
    assert "repro redact ACME-PD --force" in warning[0]
    # Made again (--force), the originals already kept are left as they are.
    (kept / "contacts.csv").write_text("changed\n")
    again = cli("new", "ACME-PD", "--from", str(bundle), "--force")
    assert again.exit_code == 0 and (kept / "contacts.csv").read_text() == "changed\n"
    assert "exists already: left as it is" in again.stderr

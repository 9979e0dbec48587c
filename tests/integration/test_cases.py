"""Portable cases on the real engine: `repro pack`, then `repro run CASE.tar.gz` somewhere
else behaves as the project did; a case changed after packing is refused in one line."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
import zipfile
from pathlib import Path

from conftest import REPO, Project, engine_names


def _repro(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)})


def _run_json(cwd: Path, *args: str) -> dict:
    done = _repro(cwd, "run", *args, "--json")
    assert done.stdout.strip(), done.stderr
    return {"rc": done.returncode, "stderr": done.stderr, **json.loads(done.stdout)}


def _access_log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / ".repro" / "access.log").read_text()
            .splitlines()]


def _no_leftovers(folder: Path) -> None:
    for run in (folder / ".repro" / "runs").glob("*"):
        for kind in ("container", "network", "volume"):
            assert engine_names(kind, f"io.repro.run={run.name}") == []


def test_demo_case_runs_elsewhere_as_in_the_project(tmp_path: Path) -> None:
    """ACME-4521 (an image built from a Dockerfile on an offline base) with a baseline
    recorded here: the case, run in a fresh folder, gives the same verdict and matches it."""
    origin = tmp_path / "origin"
    shutil.copytree(REPO / "scenarios" / "ACME-4521", origin / "scenarios" / "ACME-4521")
    shutil.copytree(REPO / "environments" / "invoicer", origin / "environments" / "invoicer")
    shutil.copy(REPO / "environments" / "invoicer.yaml", origin / "environments")
    recorded = _repro(origin, "baseline", "scenarios/ACME-4521", "--yes")
    assert recorded.returncode == 0, recorded.stderr
    here = _run_json(origin, "scenarios/ACME-4521")
    assert (here["rc"], here["reproduced"], here["baseline"]) == (0, True, "match")

    packed = _repro(origin, "pack", "scenarios/ACME-4521", "-o", str(tmp_path / "acme.tar.gz"))
    assert packed.returncode == 0, packed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(tmp_path / "acme.tar.gz", elsewhere / "acme.tar.gz")

    there = _run_json(elsewhere, "acme.tar.gz")
    assert there["rc"] == 0, there["stderr"]
    assert (there["reproduced"], there["ok"], there["baseline"]) == \
        (here["reproduced"], here["ok"], "match")
    # No project here: the record is kept beside the case, and the run is in its access log
    # with the same customer files (same paths in the project, same sha256).
    record = json.loads((elsewhere / there["record"]).read_text())
    assert (elsewhere / ".repro" / "runs" / record["run_id"]).is_dir()
    assert record["image"]["built"] is False  # the image of the original: same cache key
    case_sha = hashlib.sha256((elsewhere / "acme.tar.gz").read_bytes()).hexdigest()
    assert record["case"]["sha256"] == case_sha
    [line] = _access_log(elsewhere)
    original = [e for e in _access_log(origin) if e["run_id"] == here["run_id"]][0]
    assert (line["run_id"], line["verdict"], line["baseline"]) == \
        (record["run_id"], "REPRODUCED", "match")
    assert line["files"] == original["files"] and line["case"]["sha256"] == case_sha
    assert "case" not in original
    assert {f["path"] for f in line["files"]} == {
        "scenarios/ACME-4521/customer/settings.ini",
        "scenarios/ACME-4521/customer/invoice-lines-2024-03.csv"}
    # Paths as in the case's project (its temporary folder is gone), as the audit log has
    assert record["scenario"]["path"] == "scenarios/ACME-4521/scenario.yaml"
    assert {d["from"] for d in record["data"]} == {
        "scenarios/ACME-4521/customer/invoice-lines-2024-03.csv"}
    assert record["parameters_from"] and all(
        o.startswith("scenarios/ACME-4521/customer/settings.ini:")
        for o in record["parameters_from"].values())
    _no_leftovers(elsewhere)
    _no_leftovers(origin)


def _tiny_env(project: Project, name: str) -> None:
    """An environment built FROM repro-base/busybox whose context is unique to this test:
    its image (repro-env/NAME:KEY) belongs to this test alone and may be removed."""
    project.env(name, f"""\
        image:
          build:
            context: {name}
        """, files={f"{name}/Dockerfile": "FROM repro-base/busybox\nCOPY marker /marker\n",
                    f"{name}/marker": f"{uuid.uuid4()}\n"})


def test_case_with_images_loads_the_image_instead_of_building(project: Project) -> None:
    env = f"tiny{project.tag}"
    _tiny_env(project, env)
    sid = project.scenario("imaged", f"""\
        environment: {env}
        steps:
          - name: marker
            run: cat /marker
        oracle:
          any:
            - step: marker
              exit_code: 0
        """)
    first = project.run_json(sid)[1]
    built_ref = project.record(first)["image"]["ref"]
    assert built_ref.startswith(f"repro-env/{env}:")
    case = project.root / "imaged.tar.gz"
    packed = project.repro("pack", f"scenarios/{sid}", "-o", str(case), "--with-images")
    assert packed.returncode == 0, packed.stderr
    with tarfile.open(case) as tar:
        manifest = json.load(tar.extractfile("repro-case.json"))  # type: ignore[arg-type]
    assert [i["ref"] for i in manifest["images"]] == [built_ref, "repro-base/tools:bookworm"]

    subprocess.run(["docker", "rmi", built_ref], check=True, capture_output=True)
    try:
        elsewhere = project.root / "elsewhere"
        elsewhere.mkdir()
        there = _run_json(elsewhere, str(case))
        assert there["rc"] == 0, there["stderr"]
        assert f"loading image {built_ref} from the case" in there["stderr"]
        assert "images from the case: 1 loaded, 1 already here" in there["stderr"]
        assert "building" not in there["stderr"]
        # Started inside a project (elsewhere/ is in it): the run is recorded there.
        record_path = (elsewhere / there["record"]).resolve()
        assert record_path.parent.parent == (project.root / ".repro" / "runs").resolve()
        record = json.loads(record_path.read_text())
        assert (record["image"]["ref"], record["image"]["built"]) == (built_ref, False)
        assert record["steps"][0]["stdout"] == project.record(first)["steps"][0]["stdout"]
        inspected = subprocess.run(["docker", "image", "inspect", built_ref],
                                   capture_output=True)
        assert inspected.returncode == 0  # it is back, under its cache tag

        # Where the tag names another image, the run still gets the case's own.
        subprocess.run(["docker", "tag", "repro-base/busybox", built_ref], check=True,
                       capture_output=True)
        again = _run_json(elsewhere, str(case))
        assert again["rc"] == 0, again["stderr"]
        assert f"image {built_ref} here is another image" in again["stderr"]
        tagged = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", built_ref],
                                capture_output=True, text=True, check=True).stdout.strip()
        assert tagged == manifest["images"][0]["id"]

        # A replay loads a case's images as a run does, before its runs start.
        subprocess.run(["docker", "rmi", built_ref], check=True, capture_output=True)
        replayed = _repro(elsewhere, "replay", str(case), "--json")
        assert replayed.returncode == 0, replayed.stderr
        assert f"loading image {built_ref} from the case" in replayed.stderr
        [result] = json.loads(replayed.stdout)
        assert (result["scenario"], result["verdict"]) == (sid, "REPRODUCED")
    finally:
        subprocess.run(["docker", "rmi", built_ref], capture_output=True)


def _retar(case: Path, out: Path, change: dict[str, bytes | None],
           extra: list[tarfile.TarInfo] | None = None) -> Path:
    """A copy of `case` with members replaced (bytes), removed (None) or added."""
    with tarfile.open(case) as src, tarfile.open(out, "w:gz") as dst:
        for info in src.getmembers():
            body = src.extractfile(info).read() if info.isfile() else b""  # type: ignore[union-attr]
            if info.name in change:
                if change[info.name] is None:
                    continue
                body = change[info.name]  # type: ignore[assignment]
                info.size = len(body)
            dst.addfile(info, io.BytesIO(body))
        for info in extra or []:
            dst.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return out


# A customer's export copied in and counted: what a case carries, small.
ORDERS = """\
    environment: bb
    data:
      - from: customer/orders.csv
        to: /srv/orders.csv
    steps:
      - name: count
        run: wc -l /srv/orders.csv
    oracle:
      any:
        - {step: count, stdout: "3 /srv/orders.csv"}
    """
ORDERS_FILES = {"customer/orders.csv": "id,amount\n1,10\n2,20\n"}


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 1 if kind == tarfile.REGTYPE else 0
    return info


def test_a_changed_case_is_refused_in_one_line(project: Project) -> None:
    sid = project.scenario("tamper", ORDERS, files=ORDERS_FILES)
    case = project.root / "tamper.tar.gz"
    assert project.repro("pack", f"scenarios/{sid}", "-o", str(case)).returncode == 0
    data = f"project/scenarios/{sid}/customer/orders.csv"
    cases = {
        "a byte changed": (_retar(case, project.root / "byte.tar.gz",
                                  {data: b"id,amount\n1,10\n2,21\n"}),
                           f"{data}: its sha256 differs from the manifest's"),
        "a file added": (_retar(case, project.root / "added.tar.gz", {},
                                [_member("project/scenarios/extra.sh")]),
                         "project/scenarios/extra.sh is not in its manifest"),
        "a file removed": (_retar(case, project.root / "removed.tar.gz", {data: None}),
                           f"{data} is in its manifest but not in the case"),
        "a traversal": (_retar(case, project.root / "up.tar.gz", {},
                               [_member("project/../../evil")]),
                        "points outside its folder"),
        "an absolute path": (_retar(case, project.root / "abs.tar.gz", {},
                                    [_member("/tmp/evil")]),
                             "points outside its folder"),
        "a symlink": (_retar(case, project.root / "link.tar.gz", {},
                             [_member("project/link", tarfile.SYMTYPE, "scenarios")]),
                      "'project/link' is a symlink"),
        "a device": (_retar(case, project.root / "dev.tar.gz", {},
                            [_member("project/null", tarfile.CHRTYPE)]),
                     "project/null (character device) is not a regular file"),
    }
    for what, (bad, reason) in cases.items():
        # Every refusal through `run`; `unpack` shares the check (two of them, for time).
        unpack = what in ("a byte changed", "a traversal")
        for command in (["run", bad.name], *([["unpack", bad.name, "-o", f"out-{bad.stem}"]]
                                             if unpack else [])):
            done = project.repro(*command)
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 2, (what, command, done.stderr)
            assert len(lines) == 1 and reason in lines[0] and bad.name in lines[0], \
                (what, lines)
            assert not (project.root / f"out-{bad.stem}").exists()
    assert not (project.root / ".repro" / "runs").exists()  # nothing ran

    good = project.repro("unpack", case.name, "-o", "unpacked")
    assert good.returncode == 0, good.stderr
    unpacked = project.root / "unpacked" / "project" / "scenarios" / sid
    assert (unpacked / "customer" / "orders.csv").read_text() == "id,amount\n1,10\n2,20\n"
    assert (project.root / "unpacked" / "repro-case.json").is_file()
    _, result, stderr = project.run_json(sid)
    assert result["reproduced"] is True, stderr


def test_access_log_has_one_whole_line_per_parallel_run(project: Project) -> None:
    """... and a project's log under its former name, audit.log, is carried over whole by
    the first of the runs, however many end at once."""
    sids = [project.scenario(f"logged{i}", """\
        environment: bb
        parameters_from:
          - customer/settings.yaml
        data:
          - from: customer/in.txt
            to: /srv/in.txt
        steps:
          - name: read
            run: cat /srv/in.txt
        oracle:
          any:
            - step: read
              stdout: "line"
        """, files={"customer/settings.yaml": f"greeting: hi{i}\n",
                    "customer/in.txt": f"line {i}\n"}) for i in range(4)]
    former = project.root / ".repro" / "audit.log"
    former.parent.mkdir()
    history = json.dumps({"at": "2026-11-30T09:00:00.000+00:00", "run_id": "old-run"}) + "\n"
    former.write_text(history * 3)
    former.chmod(0o600)
    done = project.repro("replay", "--jobs", "4", "scenarios")
    assert done.returncode == 0, done.stderr
    assert not former.exists()
    lines = (project.root / ".repro" / "access.log").read_text().splitlines(keepends=True)
    assert lines[:3] == [history] * 3  # kept, before the new lines
    entries = [json.loads(line) for line in lines[3:]]  # every line whole JSON
    assert sorted(e["scenario"] for e in entries) == sorted(sids)
    runs = {p.name for p in (project.root / ".repro" / "runs").iterdir()}
    assert {e["run_id"] for e in entries} == runs
    for entry in entries:
        assert entry["user"] and entry["verdict"] == "REPRODUCED" and entry["at"].endswith(
            "+00:00")
        folder = project.root / "scenarios" / entry["scenario"] / "customer"
        assert {(f["kind"], f["sha256"]) for f in entry["files"]} == {
            ("parameters_from", hashlib.sha256((folder / "settings.yaml").read_bytes())
             .hexdigest()),
            ("data", hashlib.sha256((folder / "in.txt").read_bytes()).hexdigest())}
    assert oct((project.root / ".repro" / "access.log").stat().st_mode & 0o777) == "0o600"


def test_access_log_holds_the_sha256_of_each_data_file_copied_into_the_sandbox(
        project: Project) -> None:
    """The digests come from the copy into the sandbox (a file, a folder's files, archives
    whose readers skip and go back): the same as the files' own, and as the sandbox's."""
    zipped, tarred = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner.txt", "from the zip\n" * 5000)
        archive.writestr("more/other.bin", os.urandom(2 * 1024 * 1024))
    with tarfile.open(fileobj=tarred, mode="w") as archive:
        for name, body in (("a.txt", b"from the tar\n"), ("b.bin", os.urandom(300_000))):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    sid = project.scenario("hashed", """\
        environment: bb
        data:
          - {from: customer/big.bin, to: /srv/big.bin}
          - {from: customer/export, to: /srv/export}
          - {from: customer/bundle.zip, to: /srv/bundle}
          - {from: customer/logs.tar, to: /srv/logs}
        steps:
          - name: sums
            run: sha256sum /srv/big.bin /srv/export/a.csv /srv/export/sub/b.csv
        oracle:
          any:
            - step: sums
              exit_code: 0
        """, files={"customer/big.bin": os.urandom(3 * 1024 * 1024 + 5),
                    "customer/export/a.csv": "id\n1\n", "customer/export/sub/b.csv": "",
                    "customer/bundle.zip": zipped.getvalue(),
                    "customer/logs.tar": tarred.getvalue()})
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    customer = project.root / "scenarios" / sid / "customer"
    files = ["big.bin", "export/a.csv", "export/sub/b.csv", "bundle.zip", "logs.tar"]
    digests = {rel: hashlib.sha256((customer / rel).read_bytes()).hexdigest() for rel in files}
    [entry] = _access_log(project.root)
    assert entry["run_id"] == result["run_id"]
    assert [(f["kind"], f["path"], f["sha256"], f["size"]) for f in entry["files"]] == [
        ("data", f"scenarios/{sid}/customer/{rel}", digests[rel],
         (customer / rel).stat().st_size) for rel in files]
    [step] = project.record(result)["steps"]
    assert step["stdout"].split() == [
        digests["big.bin"], "/srv/big.bin", digests["export/a.csv"], "/srv/export/a.csv",
        digests["export/sub/b.csv"], "/srv/export/sub/b.csv"]


def _old_record(runs: Path, sid: str, days: float, status: str = "complete",
                case: str | None = None) -> Path:
    """A run record of `sid` started `days` ago (from the case file `case`, if given)."""
    folder = runs / f"{sid}-old-{days}-{status}-{case or 'project'}"
    folder.mkdir(parents=True)
    started = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
    (folder / "record.json").write_text(json.dumps({
        "format": 1, "run_id": folder.name, "status": status,
        "scenario": {"id": sid, "path": f"scenarios/{sid}"}, "started_at":
        started.isoformat(), "reproduced": True, "ok": True,
        "baseline": {"verdict": "none"}, "steps": [], "captures": [],
        **({"case": {"file": f"/elsewhere/{case}", "sha256": "0" * 64}} if case else {})}))
    return folder


def test_retention_prunes_the_scenarios_old_records_after_a_run(project: Project) -> None:
    kept_by_scenario = project.scenario("keep", _HI + "retention: 30d\n")
    by_project = project.scenario("proj", _HI)
    other = project.scenario("other", _HI)
    (project.root / "repro.yaml").write_text("retention: 10d\n")
    runs = project.root / ".repro" / "runs"

    def old(sid: str, days: float, status: str = "complete") -> Path:
        return _old_record(runs, sid, days, status)

    gone = [old(kept_by_scenario, 40), old(by_project, 11)]
    stays = [old(kept_by_scenario, 20), old(by_project, 5), old(other, 400),
             old(by_project, 50, "running")]
    for sid in (kept_by_scenario, by_project):
        rc, result, stderr = project.run_json(sid)
        assert rc == 0, stderr
        assert "retention: deleted 1 run record(s)" in stderr
        assert (project.root / result["record"]).is_file()
    assert [f for f in gone if f.exists()] == []
    assert [f for f in stays if not f.exists()] == []

    (project.root / "repro.yaml").write_text("retention: 10 days\n")
    rc, _, stderr = project.run_json(by_project)
    assert rc == 2 and "repro.yaml:1: retention: expected a duration" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1


_HI = """\
    environment: bb
    steps:
      - name: hi
        run: echo hi
    oracle:
      any:
        - step: hi
          stdout: hi
    """


def test_a_case_run_prunes_only_records_of_runs_from_cases(project: Project) -> None:
    """A case's scenario is not the project's, whatever its id: each run's retention
    reaches the records of its own kind only."""
    sid = project.scenario("ret", _HI + "retention: 10d\n")
    case = project.root / "ret.tar.gz"
    assert project.repro("pack", f"scenarios/{sid}", "-o", str(case)).returncode == 0
    runs = project.root / ".repro" / "runs"
    own = _old_record(runs, sid, 40)  # the project's own run of the same scenario
    gone = [_old_record(runs, sid, 40, case="ret.tar.gz"),
            _old_record(runs, sid, 40, case="ret-packed-before.tar.gz")]
    recent = _old_record(runs, sid, 5, case="ret.tar.gz")

    there = _run_json(project.root, case.name)
    assert there["rc"] == 0, there["stderr"]
    assert f"retention: deleted 2 run record(s) of {sid} (from cases) older than 10d" in \
        there["stderr"]
    assert [f for f in gone if f.exists()] == []
    assert own.exists() and recent.exists()
    assert json.loads((project.root / there["record"]).read_text())["case"]["file"] == \
        str(case)

    # and a run of the project's scenario leaves the records of runs from cases alone
    later = _old_record(runs, sid, 41, case="ret.tar.gz")
    rc, _, stderr = project.run_json(sid)
    assert rc == 0 and f"retention: deleted 1 run record(s) of {sid} older than 10d" in stderr
    assert not own.exists() and later.exists() and recent.exists()


def test_a_case_runs_record_is_compared_and_shown_once_its_folder_is_gone(
        project: Project) -> None:
    """Two runs of a case differ only where its rules say (a uuid on stdout, a field of
    a JSON capture): `repro diff` finds them equal with the rules the records keep, though
    the project's scenario of the same id has none; `report` and `runs` name the case."""
    sid = project.scenario("cmp", """\
        environment: bb
        steps:
          - name: ids
            run: >-
              cat /proc/sys/kernel/random/uuid;
              printf '{"at": "%s", "n": 1}' "$(cat /proc/sys/kernel/random/uuid)"
              > /tmp/out.txt
        capture:
          - {path: /tmp/out.txt, type: json}
        normalize:
          - {mask: uuid, channels: [steps.ids.stdout]}
          - {ignore_fields: [at], channels: [files.out.txt]}
        oracle:
          any:
            - {step: ids, exit_code: 0}
        """)
    case = project.root / "cmp.tar.gz"
    assert project.repro("pack", f"scenarios/{sid}", "-o", str(case)).returncode == 0
    yaml = project.root / "scenarios" / sid / "scenario.yaml"  # the project's: no rules now
    yaml.write_text(yaml.read_text().split("normalize:")[0] + "oracle:\n  any:\n"
                    "    - {step: ids, exit_code: 0}\n")
    first, second = (_run_json(project.root, case.name) for _ in range(2))
    assert first["rc"] == 0 and second["rc"] == 0, first["stderr"] + second["stderr"]

    diff = project.repro("diff", first["run_id"], second["run_id"])
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout.startswith("match: 4 channels equal") and diff.stderr == ""
    # the project's scenario, without rules, sees them differ: the rules came from the case
    own = [project.run_json(sid)[1]["run_id"] for _ in range(2)]
    assert project.repro("diff", *own).returncode == 1

    text = (project.root / first["record"]).read_text()
    record = json.loads(text)
    assert "repro-case-" not in text  # nothing names the temporary project
    assert (record["scenario"]["path"], record["environment"]["path"]) == \
        (f"scenarios/{sid}/scenario.yaml", "environments/bb.yaml")

    page = project.repro("report", first["run_id"])
    assert page.returncode == 0, page.stderr
    html = (project.root / page.stdout.strip()).read_text()
    assert f"<code>scenarios/{sid}/scenario.yaml</code> in the case" in html
    assert f"<code>{case}</code>" in html and record["case"]["sha256"] in html
    listed = project.repro("runs").stdout.splitlines()
    assert sum(f"(case {case.name})" in row for row in listed) == 2, listed
    assert sum(row.startswith("20") and "(case" not in row for row in listed) == 2, listed


def test_shell_and_replay_take_a_case_and_refuse_a_changed_one(project: Project) -> None:
    sid = project.scenario("both", ORDERS, files=ORDERS_FILES)
    other = project.scenario("folder", _HI)
    case = project.root / "both.tar.gz"
    assert project.repro("pack", f"scenarios/{sid}", "-o", str(case)).returncode == 0
    shutil.rmtree(project.root / "scenarios" / sid)  # the case alone holds it now
    data = f"project/scenarios/{sid}/customer/orders.csv"
    bad = _retar(case, project.root / "changed.tar.gz", {data: b"id,amount\n1,10\n2,21\n"})
    scratch = project.root / "scratch"  # where the cases are unpacked (TMPDIR)
    scratch.mkdir()
    env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(scratch)}

    def repro(*args: str, script: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "repro", *args], cwd=project.root,
                              input=script, capture_output=True, text=True, timeout=300,
                              env=env)

    for command in (["shell", bad.name], ["replay", bad.name, f"scenarios/{other}"]):
        done = repro(*command)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, (command, done.stderr)
        assert f"{bad.name}: {data}: its sha256 differs from the manifest's" in lines[0]
    assert not (project.root / ".repro" / "runs").exists()  # nothing ran
    assert list(scratch.iterdir()) == []

    shell = repro("shell", case.name, script="cat /srv/orders.csv; exit 7\n")
    assert shell.returncode == 7, shell.stderr  # the shell's own exit status
    assert "REPRODUCED  (expected: reproduces) -> as expected" in shell.stdout
    assert shell.stdout.rstrip().endswith("id,amount\n1,10\n2,20")
    assert list(scratch.iterdir()) == []

    replayed = repro("replay", case.name, f"scenarios/{other}", "--json")
    assert replayed.returncode == 0, replayed.stderr
    results = {r["scenario"]: r for r in json.loads(replayed.stdout)}
    assert {s: r["verdict"] for s, r in results.items()} == \
        {sid: "REPRODUCED", other: "REPRODUCED"}
    assert list(scratch.iterdir()) == []
    from_case = json.loads((project.root / results[sid]["record"]).read_text())
    assert from_case["case"]["file"] == str(case)
    assert "case" not in json.loads((project.root / results[other]["record"]).read_text())
    shelled = [e for e in _access_log(project.root) if e["purpose"] == "shell"]
    assert [e["case"]["file"] for e in shelled] == [str(case)]

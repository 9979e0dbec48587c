"""Hostile customer archives on a real engine: refused with one line and nothing left, or
copied with what was skipped said and recorded (docs/data-limits.md)."""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile

from conftest import Project

MIB = 1024 * 1024
SCENARIO = """\
    environment: bb
    data:
      - {{from: customer/{name}, to: /srv/in}}
    steps:
      - {{name: look, run: "ls /srv/in; cat /srv/in/logs/app.log"}}
    oracle: {{any: [{{step: look, stdout: "disk full"}}]}}
    """


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _lying_zip() -> bytes:
    """24 MiB of zeros whose local and central headers declare 1000 bytes."""
    blob = bytearray(_zip({"logs/app.log": bytes(24 * MIB)}))
    struct.pack_into("<I", blob, blob.index(b"PK\x03\x04") + 22, 1000)
    struct.pack_into("<I", blob, blob.index(b"PK\x01\x02") + 24, 1000)
    return bytes(blob)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("repro: error:")]


def test_a_zip_bomb_is_refused_before_the_engine_with_one_line(project: Project) -> None:
    sid = project.scenario("BOMB", SCENARIO.format(name="bundle.zip"),
                           files={"customer/bundle.zip": _zip({"logs/app.log": bytes(24 * MIB)})})
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 2, done.stderr
    (line,) = _errors(done.stderr)
    assert line.startswith(f"repro: error: scenarios/{sid}/customer/bundle.zip: entry "
                           "'logs/app.log' expands ")
    assert "over the ratio limit of 200; raise it with `limits: {ratio: " in line
    assert "Traceback" not in done.stderr
    assert not (project.root / ".repro" / "runs").exists()  # no run began: nothing to leave


def test_a_lying_zip_met_while_packing_leaves_no_sandbox(project: Project) -> None:
    # Its headers look harmless (the plan passes); the packing reads the bodies and stops
    # before anything is copied; the sandbox it was packed for is removed.
    sid = project.scenario("LIAR", SCENARIO.format(name="bundle.zip"),
                           files={"customer/bundle.zip": _lying_zip()})
    done = project.repro("run", f"scenarios/{sid}", "--json")
    assert done.returncode == 2, done.stderr
    (line,) = _errors(done.stderr)
    assert line == (f"repro: error: scenarios/{sid}/customer/bundle.zip: cannot read the "
                    "archive: Bad CRC-32 for file 'logs/app.log' (the entry is damaged, or "
                    "its header lies about its size)")
    record = project.record(json.loads(done.stdout))
    assert record["status"] == "error" and record["steps"] == []
    assert project.leftovers() == []
    validated = project.repro("validate", f"scenarios/{sid}")
    assert validated.returncode == 2
    assert line.removeprefix("repro: error: ") in validated.stderr  # the same line, offline


def test_a_bundle_with_a_device_and_a_fifo_runs_and_says_what_was_skipped(
        project: Project) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        body = b"2024-05-17 ERROR disk full\n"
        info = tarfile.TarInfo("logs/app.log")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
        for name, kind in (("dev/sda", tarfile.BLKTYPE), ("run/queue", tarfile.FIFOTYPE)):
            special = tarfile.TarInfo(name)
            special.type = kind
            tar.addfile(special)
    sid = project.scenario("DEV", SCENARIO.format(name="bundle.tgz"),
                           files={"customer/bundle.tgz": buf.getvalue()})
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    assert (f"not copied from scenarios/{sid}/customer/bundle.tgz (devices, fifos and sockets "
            "have no place in a sandbox; the record lists them): dev/sda (block device), "
            "run/queue (fifo)") in stderr
    record = project.record(result)
    assert record["data"] == [{"from": f"scenarios/{sid}/customer/bundle.tgz", "to": "/srv/in",
                               "kind": "archive",
                               "skipped": ["dev/sda (block device)", "run/queue (fifo)"]}]
    look = record["steps"][0]["stdout"]
    assert look == "logs\n2024-05-17 ERROR disk full\n"  # neither dev/ nor run/ was made
    assert project.leftovers() == []

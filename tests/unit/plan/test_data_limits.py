"""Hostile data archives and folders: refused by `repro validate`, `repro plan` and the
run's packing with the same one line, or copied with what was skipped named."""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.execute.archive import pack
from repro.plan.build import plan_scenario

MIB = 1024 * 1024
ORIGIN = "data[0] in scenarios/S/scenario.yaml:3"


def scenario(project, source: str, limits: str = "") -> None:
    project.environment("e", "image: busybox\n")
    project.scenario("S", f"""\
        environment: e
        data:
          - {{from: {source}, to: /srv/in{limits}}}
        steps: [{{name: s, run: "true"}}]
        oracle: {{any: [{{step: s, failed: true}}]}}
        """)


def tar_of(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]], mode="w:gz") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return path


def special(name: str, kind: bytes, **attrs) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def zip_of(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return path


def lying_zip(path: Path, real: bytes, declared: int) -> Path:
    """A zip whose headers (local and central) say `declared` bytes for `real` ones."""
    zip_of(path, [("zeros.bin", real)])
    blob = bytearray(path.read_bytes())
    local = blob.index(b"PK\x03\x04")
    struct.pack_into("<I", blob, local + 22, declared)
    central = blob.index(b"PK\x01\x02")
    struct.pack_into("<I", blob, central + 24, declared)
    path.write_bytes(bytes(blob))
    return path


def validate_lines(cli) -> tuple[int, list[str]]:
    result = cli("validate", "scenarios/S")
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, [x for x in result.stderr.splitlines()
                              if x.startswith("scenarios/S/customer/")]


def packed_line(project, path: Path, hostile: bytes) -> str:
    """Plan with a harmless archive, then swap the hostile one in: what the run's packing
    says when it meets it (the same walk checks while packing)."""
    original = path.read_bytes()
    path.write_bytes(zip_of(project.root / "tmp.zip", [("a.txt", b"fine")]).read_bytes()
                     if path.suffix == ".zip" else
                     tar_of(project.root / "tmp.tgz", [("a.txt", b"fine")]).read_bytes())
    plan = plan_scenario(project.root / "scenarios/S")
    path.write_bytes(hostile if hostile else original)
    with pytest.raises(ConfigError) as info:
        pack([], list(plan.data)).close()
    (line,) = info.value.lines()
    return line


OUT = "points outside its folder; refusing to extract it"
CORPUS = [
    ("zip bomb", "bomb.zip", lambda p: zip_of(p, [("zeros.bin", bytes(24 * MIB))]),
     "entry 'zeros.bin' expands {ratio}x (24m from {packed}k), over the ratio limit of 200; "
     f"raise it with `limits: {{{{ratio: {{next}}}}}}` on {ORIGIN} (docs/data-limits.md)"),
    ("tgz bomb", "bomb.tgz", lambda p: tar_of(p, [("zeros.bin", bytes(24 * MIB))]),
     "the archive expands "),
    ("traversal", "evil.tgz", lambda p: tar_of(p, [("ok", b""), ("../../etc/cron.d/x", b"")]),
     f"archive entry '../../etc/cron.d/x' {OUT}"),
    ("absolute path", "evil.zip", lambda p: zip_of(p, [("/etc/passwd", b"root::0:0")]),
     f"archive entry '/etc/passwd' {OUT}"),
    ("symlink out", "evil.tgz", lambda p: tar_of(p, [special(
        "logs", tarfile.SYMTYPE, linkname="../../../root")]), f"archive entry 'logs' {OUT}"),
    ("through a symlink", "evil.tgz", lambda p: tar_of(p, [
        special("d", tarfile.SYMTYPE, linkname="."), ("d/x", b"")]), f"archive entry 'd/x' {OUT}"),
    ("hard link out", "evil.tgz", lambda p: tar_of(p, [special(
        "shadow", tarfile.LNKTYPE, linkname="../etc/shadow")]),
     "hard link 'shadow' points outside"),
    ("hard link to nothing", "evil.tgz", lambda p: tar_of(p, [special(
        "copy", tarfile.LNKTYPE, linkname="gone")]),
     "hard link 'copy' points to 'gone', which is no earlier file of the archive"),
    ("not an archive", "dump.tar.gz", lambda p: p.write_bytes(b"just text") and p,
     "cannot read the archive: not a tar archive, nor a gzip, bzip2 or xz compressed one"),
    ("truncated tgz", "cut.tgz", lambda p: p.write_bytes(
        tar_of(p, [("a", os.urandom(200_000))]).read_bytes()[:50_000]) and p,
     "cannot read the archive: "),
]


@pytest.mark.parametrize("what,name,build,expected", CORPUS, ids=[c[0] for c in CORPUS])
def test_a_hostile_archive_is_one_line_from_validate_plan_and_the_packing(
        project, cli, what, name, build, expected):
    scenario(project, f"customer/{name}")
    (project.root / "scenarios/S/customer").mkdir(parents=True, exist_ok=True)
    path = build(project.root / "scenarios/S/customer" / name)
    if name.endswith(".zip"):  # the figures, read back from the zip's own directory
        packed = zipfile.ZipFile(path).infolist()[0].compress_size
        ratio = 24 * MIB // packed
        expected = expected.format(ratio=ratio, next=ratio + 1, packed=-(-packed // 1024))
    code, lines = validate_lines(cli)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"scenarios/S/customer/{name}: {expected}")
    plan = cli("plan", "scenarios/S")
    assert plan.exit_code == 2 and lines[0] in plan.stderr
    assert packed_line(project, path, path.read_bytes()) == lines[0]


def test_a_lying_zip_header_is_caught_where_bodies_are_read(project, cli):
    # The headers declare 1000 bytes; the deflate stream holds 24 MiB of zeros.
    scenario(project, "customer/liar.zip")
    lying_zip(project.root / "scenarios/S/customer/liar.zip", bytes(24 * MIB), 1000)
    assert cli("plan", "scenarios/S").exit_code == 0  # headers alone look harmless
    code, lines = validate_lines(cli)  # validate reads every body
    assert code == 2
    assert lines == ["scenarios/S/customer/liar.zip: cannot read the archive: Bad CRC-32 for "
                     "file 'zeros.bin' (the entry is damaged, or its header lies about its "
                     "size)"]
    plan = plan_scenario(project.root / "scenarios/S")
    with pytest.raises(ConfigError) as info:
        pack([], list(plan.data)).close()
    assert info.value.lines() == lines  # the run's packing: the same line, nothing copied


def test_entries_and_size_bounds_name_the_bound_and_how_to_raise_it(project, cli):
    path = zip_of(project.root / "scenarios/S/customer/many.zip",
                  [(f"f{i}.log", b"x") for i in range(5)])
    scenario(project, "customer/many.zip", ", limits: {entries: 3}")
    assert validate_lines(cli) == (2, [
        "scenarios/S/customer/many.zip: more than 3 entries (reached at 'f3.log'), over the "
        f"entry limit; raise it with `limits: {{entries: 6}}` on {ORIGIN} "
        "(docs/data-limits.md)"])
    zip_of(path, [("random.bin", os.urandom(2 * MIB))])
    scenario(project, "customer/many.zip", ", limits: {size: 1m}")
    assert validate_lines(cli) == (2, [
        "scenarios/S/customer/many.zip: entry 'random.bin' takes the expanded size past 1m "
        f"(2m so far), over the size limit; raise it with `limits: {{size: 4m}}` on {ORIGIN} "
        "(docs/data-limits.md)"])
    scenario(project, "customer/many.zip", ", limits: {size: 4m}")
    assert validate_lines(cli) == (0, [])


def test_raising_the_ratio_lets_a_repetitive_archive_through(project, cli):
    zip_of(project.root / "scenarios/S/customer/bomb.zip", [("zeros.bin", bytes(24 * MIB))])
    scenario(project, "customer/bomb.zip", ", limits: {ratio: 1100}")
    assert validate_lines(cli) == (0, [])
    plan = plan_scenario(project.root / "scenarios/S")
    stream = pack([], list(plan.data))
    with stream, tarfile.open(fileobj=stream) as tar:
        assert tar.getmember("srv/in/zeros.bin").size == 24 * MIB


def test_the_default_entry_bound_refuses_100k_entries_plus_one(project, cli):
    path = project.root / "scenarios/S/customer/many.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(100_001):
            z.writestr(f"{i}", b"")
    scenario(project, "customer/many.zip")
    code, lines = validate_lines(cli)
    assert code == 2 and lines == [
        "scenarios/S/customer/many.zip: more than 100000 entries (reached at '100000'), over "
        f"the entry limit; raise it with `limits: {{entries: 200000}}` on {ORIGIN} "
        "(docs/data-limits.md)"]


def test_devices_fifos_and_sockets_are_skipped_and_named(project, cli):
    tar_of(project.root / "scenarios/S/customer/bundle.tgz", [
        ("logs/app.log", b"ERROR disk full\n"),
        special("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3),
        special("run/pipe", tarfile.FIFOTYPE),
        special("dev/again", tarfile.LNKTYPE, linkname="dev/null"),
    ])
    scenario(project, "customer/bundle.tgz")
    assert validate_lines(cli) == (0, [])
    plan = plan_scenario(project.root / "scenarios/S")
    assert plan.data[0].skipped == ("dev/null (character device)", "run/pipe (fifo)",
                                    "dev/again (hard link to the skipped 'dev/null')")
    assert "skipped:\n  - dev/null (character device)" in cli("plan", "scenarios/S").stdout
    stream = pack([], list(plan.data))
    with stream, tarfile.open(fileobj=stream) as tar:
        assert tar.getnames() == ["srv/in/logs/app.log"]


def test_a_data_folder_is_bounded_and_its_fifo_skipped(project, cli):
    folder = project.root / "scenarios/S/customer/state"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub/a.txt").write_text("a")
    os.mkfifo(folder / "queue")
    scenario(project, "customer/state")
    plan = plan_scenario(project.root / "scenarios/S")
    assert plan.data[0].skipped == ("queue (fifo)",)
    stream = pack([], list(plan.data))
    with stream, tarfile.open(fileobj=stream) as tar:
        assert sorted(tar.getnames()) == ["srv/in", "srv/in/sub", "srv/in/sub/a.txt"]
    scenario(project, "customer/state", ", limits: {entries: 1}")
    code, lines = validate_lines(cli)
    assert code == 2 and lines == [
        "scenarios/S/customer/state: more than 1 entries (reached at 'sub'), over the "
        f"entry limit; raise it with `limits: {{entries: 2}}` on {ORIGIN} "
        "(docs/data-limits.md)"]


def test_a_bad_limit_is_a_located_config_error(project, cli):
    zip_of(project.root / "scenarios/S/customer/a.zip", [("a", b"")])
    scenario(project, "customer/a.zip", ", limits: {size: lots}")
    result = cli("validate", "scenarios/S")
    assert result.exit_code == 2
    assert "scenarios/S/scenario.yaml:3: data[0].limits.size: expected a size like 64m" in \
        result.stderr


def test_a_real_sized_log_bundle_passes_every_bound(project, cli):
    # 20 MiB of log lines (compressed ~15x): past the ratio floor, far from every bound.
    line = b"2024-05-17T12:00:00.123 INFO worker-%d request id=%d took %d ms path=/api/orders\n"
    logs = b"".join(line % (i % 17, i, i % 997) for i in range(260_000))
    assert len(logs) > 20 * MIB
    tar_of(project.root / "scenarios/S/customer/bundle.tgz", [("app.log", logs)])
    scenario(project, "customer/bundle.tgz")
    assert validate_lines(cli) == (0, [])
    stream = pack([], list(plan_scenario(project.root / "scenarios/S").data))
    with stream, tarfile.open(fileobj=stream) as tar:
        assert tar.extractfile("srv/in/app.log").read() == logs

"""Packing config files and customer data into the tar stream loaded into the sandbox."""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.execute import archive
from repro.execute.archive import pack, read_member
from repro.plan.values import DataCopy, FileWrite


def add(tar: tarfile.TarFile, name: str, data: bytes | None = None, **attrs) -> None:
    info = tarfile.TarInfo(name)
    for key, value in attrs.items():
        setattr(info, key, value)
    if data is not None:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def make_tgz(path: Path, entries: list[tuple[str, bytes | None, dict]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data, attrs in entries:
            add(tar, name, data, **attrs)
    return path


def make_zip(path: Path, entries: list[tuple[str, bytes, int | None]]) -> Path:
    """Entries with mode None look made on Windows: MS-DOS attributes, no Unix mode."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 17, 12, 30, 0))
            if mode is None:
                info.create_system, info.external_attr = 0, 0x20  # FILE_ATTRIBUTE_ARCHIVE
            else:
                info.external_attr = mode << 16
            z.writestr(info, data)
    return path


def packed(files=(), data=()) -> bytes:
    stream = pack(list(files), list(data))
    try:
        return stream.read()
    finally:
        stream.close()


def members(blob: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        return {posixpath.normpath(m.name): m for m in tar.getmembers()}


def unpack(blob: bytes, dest: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest, filter="tar")
    return dest


def test_zip_and_tgz_land_under_their_destinations(project, tmp_path):
    customer = tmp_path / "customer"
    customer.mkdir()
    zip_path = make_zip(customer / "logs.zip", [
        ("logs/", b"", 0o40750),
        ("logs/app.log", b"2024-05-17 ERROR disk full\n", 0o100640),
        ("README.txt", b"made on Windows\n", None),
    ])
    owner = {"uid": 1000, "gid": 1000, "uname": "alice", "gname": "staff"}
    tgz_path = make_tgz(customer / "db.tgz", [  # shaped like `tar -C dump -czf db.tgz .`
        ("./", None, {"type": tarfile.DIRTYPE, "mode": 0o755, **owner}),
        ("./db/", None, {"type": tarfile.DIRTYPE, "mode": 0o700, **owner}),
        ("./db/dump.sql", b"CREATE TABLE t (id int);\n", {"mode": 0o600, **owner}),
        ("./db/latest.sql", None, {"type": tarfile.SYMTYPE, "linkname": "dump.sql"}),
        ("./db/copy.sql", None, {"type": tarfile.LNKTYPE, "linkname": "./db/dump.sql"}),
        ("./db/pipe", None, {"type": tarfile.FIFOTYPE}),
    ])
    blob = packed(
        files=[FileWrite("/etc/app/app.conf", b"listen = 8080\n", 0o600, "t")],
        data=[DataCopy(zip_path, "/var/log/app", "archive"),
              DataCopy(tgz_path, "/srv/restore/", "archive")])

    found = members(blob)
    assert set(found) == {
        "var/log/app/logs", "var/log/app/logs/app.log", "var/log/app/README.txt",
        "srv/restore", "srv/restore/db", "srv/restore/db/dump.sql",
        "srv/restore/db/latest.sql", "srv/restore/db/copy.sql",  # the fifo is dropped
        "etc/app/app.conf",
    }
    modes = {name: m.mode for name, m in found.items()}
    assert (modes["var/log/app/logs"], modes["var/log/app/logs/app.log"]) == (0o750, 0o640)
    assert modes["var/log/app/README.txt"] == 0o644
    assert (modes["srv/restore/db"], modes["srv/restore/db/dump.sql"]) == (0o700, 0o600)
    assert modes["etc/app/app.conf"] == 0o600
    assert found["srv/restore/db/latest.sql"].issym()
    assert found["srv/restore/db/latest.sql"].linkname == "dump.sql"
    copy = found["srv/restore/db/copy.sql"]
    assert copy.islnk() and posixpath.normpath(copy.linkname) == "srv/restore/db/dump.sql"
    # the customer's uids mean nothing in the sandbox
    assert {(m.uid, m.gid) for m in found.values()} == {(0, 0)}

    root = unpack(blob, tmp_path / "sandbox")
    assert (root / "var/log/app/logs/app.log").read_bytes() == b"2024-05-17 ERROR disk full\n"
    assert (root / "var/log/app/README.txt").read_bytes() == b"made on Windows\n"
    assert (root / "srv/restore/db/copy.sql").read_bytes() == b"CREATE TABLE t (id int);\n"
    assert (root / "etc/app/app.conf").read_bytes() == b"listen = 8080\n"


def test_files_and_folders_are_copied_and_rendered_config_wins(tmp_path):
    src = tmp_path / "customer"
    (src / "conf.d/nested").mkdir(parents=True)
    (src / "conf.d/nested/db.conf").write_text("pool = 5\n")
    (src / "conf.d/app.conf").write_text("from the customer\n")
    (src / "notes.txt").write_bytes(b"\x00\x01binary\xff")
    blob = packed(
        files=[FileWrite("/etc/app/conf.d/app.conf", b"rendered\n", 0o644, "t")],
        data=[DataCopy(src / "conf.d", "/etc/app/conf.d", "dir"),
              DataCopy(src / "notes.txt", "/srv/notes.bin", "file")])
    root = unpack(blob, tmp_path / "sandbox")
    assert (root / "etc/app/conf.d/nested/db.conf").read_text() == "pool = 5\n"
    assert (root / "etc/app/conf.d/app.conf").read_text() == "rendered\n"
    assert (root / "srv/notes.bin").read_bytes() == b"\x00\x01binary\xff"
    assert {(m.uid, m.gid) for m in members(blob).values()} == {(0, 0)}


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest()
                                         if p.is_file() else "dir",
                                         p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(folder.rglob("*"))}


def test_customer_sources_are_byte_identical_after_packing(tmp_path):
    src = tmp_path / "customer"
    (src / "tree/sub").mkdir(parents=True)
    (src / "tree/sub/data.csv").write_text("a,b\n1,2\n")
    (src / "single.log").write_text("log\n")
    make_zip(src / "logs.zip", [("a.log", b"A", 0o100644)])
    make_tgz(src / "dump.tar.gz", [("dump.sql", b"SQL", {})])
    before = snapshot(src)
    packed(files=[FileWrite("/etc/x", b"x", 0o644, "t")],
           data=[DataCopy(src / "tree", "/srv/tree", "dir"),
                 DataCopy(src / "single.log", "/srv/single.log", "file"),
                 DataCopy(src / "logs.zip", "/srv/logs", "archive"),
                 DataCopy(src / "dump.tar.gz", "/srv/db", "archive")])
    assert snapshot(src) == before


def _tar_with(tmp: Path, name: str, **attrs) -> Path:
    path = tmp / "evil.tar"
    with tarfile.open(path, "w") as tar:
        add(tar, "ok.txt", b"fine")
        add(tar, name, b"" if not attrs else None, **attrs)
    return path


OUTSIDE = "points outside its folder; refusing to extract it"


@pytest.mark.parametrize("build, expected", [
    (lambda t: _tar_with(t, "../escape.sh"), f"archive entry '../escape.sh' {OUTSIDE}"),
    (lambda t: _tar_with(t, "data/../../escape.sh"),
     f"archive entry 'data/../../escape.sh' {OUTSIDE}"),
    (lambda t: _tar_with(t, "/etc/cron.d/evil"), f"archive entry '/etc/cron.d/evil' {OUTSIDE}"),
    (lambda t: _tar_with(t, "passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
     f"archive entry 'passwd' {OUTSIDE}"),
    (lambda t: _tar_with(t, "data/up", type=tarfile.SYMTYPE, linkname="../../root"),
     f"archive entry 'data/up' {OUTSIDE}"),
    (lambda t: _tar_with(t, "shadow", type=tarfile.LNKTYPE, linkname="../shadow"),
     "hard link 'shadow' points outside"),
    (lambda t: make_zip(t / "evil.zip", [("ok.txt", b"", None), ("../../escape.sh", b"", None)]),
     f"archive entry '../../escape.sh' {OUTSIDE}"),
    (lambda t: make_zip(t / "evil.zip", [("/etc/evil", b"", None)]),
     f"archive entry '/etc/evil' {OUTSIDE}"),
])
def test_archive_entries_escaping_the_destination_are_refused(project, build, expected):
    path = build(project.root)
    with pytest.raises(ConfigError) as info:
        packed(data=[DataCopy(path, "/srv/data", "archive")])
    assert info.value.lines() == [f"{path.name}: {expected}"]


@pytest.mark.parametrize("name, content", [
    ("dump.tar.gz", b"this is not gzip data"),
    ("dump.tar.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 6),  # a gzip header, then nothing
    ("logs.zip", b"PK\x03\x04 truncated"),
])
def test_unreadable_archive_is_a_one_line_config_error(project, name, content):
    path = project.write(name, content)
    with pytest.raises(ConfigError) as info:
        packed(data=[DataCopy(path, "/srv/data", "archive")])
    (line,) = info.value.lines()
    assert line.startswith(f"{name}: cannot read the archive: ")
    assert "\n" not in line


def _tar_stream(entries: list[tuple[str, bytes | None]]) -> list[bytes]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries:
            add(tar, name, data, **({} if data is not None else {"type": tarfile.DIRTYPE}))
    blob = buf.getvalue()
    return [blob[:700], blob[700:]]  # arrives in chunks, like Docker's get_archive


def test_read_member_unpacks_a_captured_file_or_folder(tmp_path):
    assert read_member(_tar_stream([("app.log", b"line 1\n")]), tmp_path / "app.log") == "file"
    assert (tmp_path / "app.log").read_bytes() == b"line 1\n"

    kind = read_member(_tar_stream([("state", None), ("state/a.db", b"A"),
                                    ("state/sub", None), ("state/sub/b.db", b"B"),
                                    ("state/../../escape", b"E")]), tmp_path / "out/state")
    assert kind == "dir"
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "app.log", "out", "out/state", "out/state/a.db", "out/state/sub", "out/state/sub/b.db"]
    assert (tmp_path / "out/state/sub/b.db").read_bytes() == b"B"


def test_a_chain_of_symlinks_cannot_carry_an_entry_out(tmp_path):
    # Each link alone stays inside; written through them, etc/pwned would land in /etc.
    chain = make_tgz(tmp_path / "chain.tar.gz", [
        ("d/l", None, {"type": tarfile.SYMTYPE, "linkname": ".."}),
        ("d/l/x", None, {"type": tarfile.SYMTYPE, "linkname": ".."}),
        ("d/l/x/etc/pwned", b"boom", {}),
    ])
    with pytest.raises(ConfigError, match="'d/l/x' points outside its folder"):
        packed(data=[DataCopy(chain, "/data", "archive")])


def test_a_file_copied_to_a_folder_path_keeps_its_name(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text("id\n")
    assert "srv/import/orders.csv" in members(packed(data=[DataCopy(source, "/srv/import/",
                                                                    "file")]))


def test_a_refused_archive_leaves_no_open_spool(project, monkeypatch):
    # The tar stream is spooled (in memory up to 64 MiB, then on disk): an archive refused
    # half-way must not leave it open for the garbage collector to find.
    spools: list[tempfile.SpooledTemporaryFile] = []

    class Recorded(tempfile.SpooledTemporaryFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            spools.append(self)

    monkeypatch.setattr(archive.tempfile, "SpooledTemporaryFile", Recorded)
    path = project.write("dump.tar.gz", b"this is not gzip data")
    with pytest.raises(ConfigError):
        pack([], [DataCopy(path, "/srv/data", "archive")])
    assert len(spools) == 1
    closed = spools[0].closed
    spools[0].close()  # not left for the collector either way
    assert closed

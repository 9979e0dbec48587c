"""sha256 of files as they are read: the digest a run's copy computes is the file's,
whatever the copy skipped or read twice, and it is remembered only for the whole,
unchanged file."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from repro import hashing
from repro.execute.archive import pack
from repro.plan.values import DataCopy


def _sha(path: Path) -> str:
    with open(path, "rb") as src:  # not through Path.open: not counted
        return hashlib.sha256(src.read()).hexdigest()


def test_sha256_hashes_what_is_left_and_copies_it_when_asked():
    source, sink = io.BytesIO(b"head" + b"x" * (hashing.CHUNK + 7)), io.BytesIO()
    source.read(4)
    digest, size = hashing.sha256(source, into=sink)
    assert (digest, size) == (hashlib.sha256(b"x" * (hashing.CHUNK + 7)).hexdigest(),
                              hashing.CHUNK + 7)
    assert sink.getvalue() == b"x" * (hashing.CHUNK + 7)


def _tar(path: Path, mode: str) -> Path:
    with tarfile.open(path, mode) as tar:
        for name, size in (("a.txt", 100), ("dir/b.bin", 3 * 512 + 1), ("c", 0)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(os.urandom(size)))
    return path


class _Unseekable(io.RawIOBase):
    """A pipe: zipfile then writes data descriptors after the bodies (gaps to a reader)."""

    def __init__(self, sink: io.BufferedWriter):
        self._sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        return self._sink.write(data)


def _zip(path: Path, streamed: bool) -> Path:
    with path.open("wb") as raw:
        target = _Unseekable(raw) if streamed else raw
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:  # type: ignore[arg-type]
            for i in range(3):
                z.writestr(f"f{i}.txt", os.urandom(700) * 3)
    return path


@pytest.mark.parametrize("make", [
    lambda d: _tar(d / "plain.tar", "w"),
    lambda d: _tar(d / "gz.tar.gz", "w:gz"),
    lambda d: _tar(d / "bz.tar.bz2", "w:bz2"),
    lambda d: _tar(d / "xz.tar.xz", "w:xz"),
    lambda d: _zip(d / "stored.zip", streamed=False),
    lambda d: _zip(d / "streamed.zip", streamed=True),
], ids=["tar", "tar.gz", "tar.bz2", "tar.xz", "zip", "zip-with-data-descriptors"])
def test_packing_an_archive_leaves_its_digest_for_the_access_log(tmp_path, opened, make):
    archive = make(tmp_path)
    with pack([], [DataCopy(archive, "/srv/in", "archive")]):
        pass
    opened.clear()
    assert hashing.file_sha256(archive) == (_sha(archive), archive.stat().st_size)
    assert opened == []  # the packing's read served the digest


def test_packing_a_file_or_a_folder_leaves_each_files_digest(tmp_path, opened):
    single = tmp_path / "big.bin"
    single.write_bytes(os.urandom(2 * hashing.CHUNK + 3))
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_bytes(b"a,b\n")
    (folder / "sub" / "empty").write_bytes(b"")
    copies = [DataCopy(single, "/srv/big.bin", "file"), DataCopy(folder, "/srv/export", "dir")]
    with pack([], copies) as stream, tarfile.open(fileobj=stream) as tar:
        copied = tar.extractfile("srv/big.bin")
        assert copied is not None and copied.read() == single.read_bytes()
    opened.clear()
    for path in (single, folder / "a.csv", folder / "sub" / "empty"):
        assert hashing.file_sha256(path) == (_sha(path), path.stat().st_size)
    assert opened == []


def test_a_long_skip_is_hashed_by_finish(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(os.urandom(4 * hashing.CHUNK))
    with hashing.Reading(path) as body:
        body.read(10)
        body.seek(3 * hashing.CHUNK)  # further than a gap that is read again at once
        body.read()
        body.seek(5)
        with open(path, "rb") as src:
            assert body.read(10) == src.read(15)[5:]  # a reader going back
        body.finish()
        assert body.tell() == 15  # where the reader left it
    assert hashing.file_sha256(path)[0] == _sha(path)


def test_a_partial_read_or_a_file_changed_while_read_is_not_remembered(tmp_path, opened):
    partial, changed = tmp_path / "partial", tmp_path / "changed"
    partial.write_bytes(b"x" * 1000)
    changed.write_bytes(b"y" * 1000)
    with hashing.Reading(partial) as body:
        body.read(999)
    with hashing.Reading(changed) as body:
        body.read()
        with changed.open("ab") as more:
            more.write(b"z")
    opened.clear()
    assert hashing.file_sha256(partial)[0] == _sha(partial)
    assert hashing.file_sha256(changed) == (_sha(changed), 1001)
    assert opened == ["partial", "changed"]  # each read again: nothing was remembered

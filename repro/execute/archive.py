"""Pack config files and customer data into one tar stream for the sandbox (read-only on disk)."""

from __future__ import annotations

import posixpath
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem, SandboxError
from repro.plan.values import DataCopy, FileWrite
from repro.sandbox.api import Container
from repro.tarball import add_bytes, add_tree, neutral_owner, writer

_SPOOL_BYTES = 64 * 1024 * 1024  # beyond this the tar stream spills to a temp file


class _Owned:
    """A tar writer whose every entry belongs to `owner` (uid, gid)."""

    def __init__(self, tar: tarfile.TarFile, owner: tuple[int, int]):
        self._tar, self._owner = tar, owner

    def _own(self, info: tarfile.TarInfo | None) -> tarfile.TarInfo | None:
        if info is not None:
            info.uid, info.gid = self._owner
            info.uname = info.gname = ""  # numbers only: names differ between systems
        return info

    def addfile(self, info: tarfile.TarInfo, fileobj: IO[bytes] | None = None) -> None:
        self._tar.addfile(self._own(info) or info, fileobj)

    def add(self, name: str, arcname: str, recursive: bool = True, filter: Any = None
            ) -> None:
        self._tar.add(name, arcname=arcname, recursive=recursive,
                      filter=lambda info: self._own(filter(info) if filter else info))


def pack(files: Iterable[FileWrite], data: Iterable[DataCopy],
         owner: tuple[int, int] | None = None) -> IO[bytes]:
    """A tar stream to extract at `/` in the sandbox; the caller closes it. The data (and
    user-owned files: secret files) belong to `owner` (uid, gid) when given, else to
    root; config files to root."""
    now = time.time()
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned
    with writer(spool) as raw:
        tar: Any = _Owned(raw, owner) if owner is not None else raw
        for copy in data:
            if copy.kind == "archive":
                _add_archive(tar, copy)
            else:
                # `to: /srv/import/` puts a file into that folder, under its own name
                to = copy.to + copy.source.name if copy.to.endswith("/") and \
                    copy.kind == "file" else copy.to
                add_tree(tar, copy.source, _member(to))
        for f in files:  # last, so rendered config wins over data at the same path
            add_bytes(tar if f.user_owned else raw, _member(f.path), f.content, f.mode,
                      int(now))
    spool.seek(0)
    return spool


def _member(path: str) -> str:
    return posixpath.normpath(path).lstrip("/")


def _unsafe(name: str) -> bool:
    norm = posixpath.normpath(name)
    return name.startswith("/") or norm == ".." or norm.startswith("../")


def _bad_archive(copy: DataCopy, message: str) -> ConfigError:
    return ConfigError(Problem(display_path(copy.source), None, "", message))


def _add_archive(tar: tarfile.TarFile, copy: DataCopy) -> None:
    base = _member(copy.to)
    if copy.source.name.lower().endswith(".zip"):
        _add_zip(tar, copy, base)
        return
    links: set[str] = set()  # symlinks already written: nothing may be placed through one
    try:
        with tarfile.open(copy.source, mode="r:*") as src:
            for info in src:
                name = posixpath.normpath(info.name)
                parents = name.split("/")[:-1]
                through = any("/".join(parents[:k]) in links for k in range(1, len(parents) + 1))
                if _unsafe(info.name) or through or (info.issym() and _unsafe(
                        posixpath.join(posixpath.dirname(info.name), info.linkname))):
                    raise _bad_archive(copy, f"archive entry {info.name!r} points outside "
                                       "its folder; refusing to extract it")
                if info.issym():
                    links.add(name)
                if info.islnk() and _unsafe(info.linkname):
                    raise _bad_archive(copy, f"hard link {info.name!r} points outside")
                if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
                    continue  # devices and fifos have no place in customer data
                body = src.extractfile(info) if info.isfile() else None
                info = neutral_owner(info)
                info.name = posixpath.join(base, info.name)
                if info.islnk():
                    info.linkname = posixpath.join(base, info.linkname)
                tar.addfile(info, body)
    except (tarfile.TarError, EOFError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad_archive(copy, f"cannot read the archive: {reason}") from None


def _add_zip(tar: tarfile.TarFile, copy: DataCopy, base: str) -> None:
    try:
        with zipfile.ZipFile(copy.source) as src:
            for item in src.infolist():
                if _unsafe(item.filename):
                    raise _bad_archive(copy, f"archive entry {item.filename!r} points outside "
                                       "its folder; refusing to extract it")
                info = tarfile.TarInfo(posixpath.join(base, item.filename.rstrip("/")))
                try:
                    info.mtime = int(datetime(*item.date_time).timestamp())
                except ValueError:  # zeroed DOS dates, seen in generated zips
                    info.mtime = 0
                mode = (item.external_attr >> 16) & 0o7777
                if item.is_dir():
                    info.type, info.mode = tarfile.DIRTYPE, mode or 0o755
                    tar.addfile(info)
                    continue
                info.size, info.mode = item.file_size, mode or 0o644
                with src.open(item) as body:
                    tar.addfile(info, body)
    except (zipfile.BadZipFile, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad_archive(copy, f"cannot read the archive: {reason}") from None


def fetch(container: Container, path: str, dest: Path) -> str | None:
    """Copy `path` out of the container to `dest`: 'file', 'dir', or None if absent.
    Symbolic links are followed (a few levels), as a reader of the path would."""
    for _ in range(8):
        stream = container.copy_out(path)
        if stream is None:
            return None
        kind = read_member(stream, dest)
        if not kind.startswith("link:"):
            return kind
        path = posixpath.join(posixpath.dirname(path), kind.removeprefix("link:"))
    raise SandboxError(f"capturing {path} failed: too many levels of symbolic links")


def read_member(stream: Iterable[bytes], dest: Path) -> str:
    """Unpack the tar stream of one captured path into `dest`; returns 'file' or 'dir'."""
    with tempfile.TemporaryFile() as tmp:
        for chunk in stream:
            tmp.write(chunk)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp, mode="r:") as tar:
            members = tar.getmembers()
            if len(members) == 1 and members[0].issym():
                return "link:" + members[0].linkname  # the caller fetches the target
            if len(members) == 1 and members[0].isfile():
                body = tar.extractfile(members[0])
                assert body is not None
                dest.write_bytes(body.read())
                return "file"
            dest.mkdir(parents=True, exist_ok=True)
            root = members[0].name if members else ""
            for info in members:
                rel = posixpath.relpath(info.name, root)
                if _unsafe(rel) or not (info.isfile() or info.isdir()):
                    continue
                target = dest / rel
                if info.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    body = tar.extractfile(info)
                    assert body is not None
                    target.write_bytes(body.read())
            return "dir"

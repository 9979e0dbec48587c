"""Pack config files and customer data into one tar stream for the sandbox (read-only on disk)."""

from __future__ import annotations

import posixpath
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from repro.config.yaml_source import display_path
from repro.errors import SandboxError
from repro.hashing import Reading
from repro.plan import archives
from repro.plan.values import DataCopy, FileWrite
from repro.sandbox.api import Container
from repro.tarball import add_bytes, neutral_owner, writer

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
    root; config files to root.
    Archives and folders are walked and checked as they are packed (plan.archives): a
    refusal comes before anything is copied, and the spool is closed with it."""
    now = time.time()
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned
    try:
        with writer(spool) as raw:
            # Bodies read in the checker's chunks: a bound is met at the same byte, with
            # the same figures, as `repro validate` meets it.
            raw.copybufsize = archives.CHUNK  # type: ignore[attr-defined]  # set in __init__, not in the stubs
            tar: Any = _Owned(raw, owner) if owner is not None else raw
            for copy in data:
                if copy.kind in ("archive", "dir"):
                    _add_walked(tar, copy)
                else:
                    # `to: /srv/import/` puts a file into that folder, under its own name
                    to = copy.to + copy.source.name if copy.to.endswith("/") else copy.to
                    _add_file(tar, raw, copy.source, _member(to))
            for f in files:  # last, so rendered config wins over data at the same path
                add_bytes(tar if f.user_owned else raw, _member(f.path), f.content, f.mode,
                          int(now))
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def say_skipped(data: Iterable[DataCopy], say: Callable[[str], None]) -> None:
    """One line per archive or folder whose devices, fifos or sockets are not copied."""
    for copy in data:
        if copy.skipped:
            more = len(copy.skipped) - 5
            named = ", ".join(copy.skipped[:5]) + (f" and {more} more" if more > 0 else "")
            say(f"not copied from {display_path(copy.source)} (devices, fifos and sockets "
                f"have no place in a sandbox; the record lists them): {named}")


def _member(path: str) -> str:
    return posixpath.normpath(path).lstrip("/")


def _unsafe(name: str) -> bool:
    norm = posixpath.normpath(name)
    return name.startswith("/") or norm == ".." or norm.startswith("../")


def _add_file(tar: tarfile.TarFile, raw: tarfile.TarFile, source: Path, name: str) -> None:
    """The file `source` as `name`, owned by root (or `owner`); its header as `tar.add`
    writes it (mode, mtime, a hard link to a file already added)."""
    with Reading(source) as body:
        # By descriptor: the header describes the file read. Reading is no IO[bytes] to
        # the stubs, but has all gettarinfo asks of one: name and fileno().
        info = raw.gettarinfo(arcname=name, fileobj=body)  # type: ignore[arg-type]
        tar.addfile(neutral_owner(info), body if info.isreg() else None)


def _add_walked(tar: tarfile.TarFile, copy: DataCopy) -> None:
    """Each entry of an archive or folder under `copy.to`, owned by root (or `owner`)."""
    base = _member(copy.to)
    for entry in archives.walk(copy, archives.Tally(copy), hashed=True):
        info = neutral_owner(tarfile.TarInfo(
            base if entry.name == "." else posixpath.join(base, entry.name)))
        info.mode, info.mtime = entry.mode, entry.mtime
        if entry.kind == "dir":
            info.type = tarfile.DIRTYPE
        elif entry.kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, entry.link
        elif entry.kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, posixpath.join(base, entry.link)
        elif entry.open is not None:
            info.size = entry.size
            with entry.open() as body:
                tar.addfile(info, body)
            continue
        tar.addfile(info)


def fetch(container: Container, path: str, dest: Path) -> str | None:
    """Copy `path` out of the container to `dest`: 'file', 'dir', or None if absent.
    Symbolic links are followed (a few levels), as a reader of the path would."""
    for _ in range(8):
        stream = container.copy_out(path)
        if stream is None:
            return None
        try:
            kind = read_member(stream, dest)
        finally:  # at once, not when collected: an interrupted read must free the engine
            close = getattr(stream, "close", None)
            if close is not None:
                close()
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

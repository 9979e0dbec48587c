"""Writing tar streams, the one format files travel in to and from a sandbox.

Bottom of the package: imports nothing of repro, so both the pipeline (packing a run's
data) and a sandbox backend (making an image's root file system) use the same primitives.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import IO, Protocol


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def writer(fileobj: IO[bytes]) -> tarfile.TarFile:
    """A tar writer on `fileobj` (PAX: long names, exact sizes); the caller closes it."""
    return tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT)


def neutral_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The customer's uids mean nothing in the sandbox; files belong to root (or are
    # chowned to the environment's user after loading).
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def add_bytes(tar: tarfile.TarFile, name: str, body: bytes, mode: int = 0o644,
              mtime: int = 0) -> None:
    """A regular file `name` (relative, no leading slash) holding `body`."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(body), mode, mtime
    tar.addfile(info, io.BytesIO(body))


def add_stream(tar: tarfile.TarFile, name: str, body: Readable, size: int,
               mode: int = 0o644) -> None:
    """A regular file `name` holding the first `size` bytes read from `body` (a file
    open for reading: the original is only read)."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, mode
    tar.addfile(info, body)


def add_tree(tar: tarfile.TarFile, source: Path, name: str) -> None:
    """`source` (a file or a folder, recursively) as `name`, owned by root."""
    tar.add(str(source), arcname=name, recursive=True, filter=neutral_owner)


def add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    tar.addfile(info)


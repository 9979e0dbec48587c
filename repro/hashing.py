"""sha256 of files, computed as they are read: one helper for every place that hashes a
file (a case's manifest and its unpacking, the access log), and a reader that hashes what
another reader takes from it, so customer data copied into a sandbox is read once for the
copy and its digest.

A file's digest is remembered for the process by its identity on disk (device, inode,
size, mtime): a replay hashes a file its runs share, or one repeated N times, once; the
access log finds the digest the run's copy computed. Only a digest of the whole file,
unchanged while it was read, is remembered.

Bottom of the package: imports nothing of repro.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

CHUNK = 1024 * 1024
_GAP = CHUNK  # a skip this small is read again (positionally) to keep the digest going

_Identity = tuple[int, int, int, int, int]
_KNOWN: dict[_Identity, str] = {}


def sha256(stream: IO[bytes], into: IO[bytes] | None = None) -> tuple[str, int]:
    """The sha256 and size of what is left to read in `stream`; each chunk is written to
    `into` too when given (a copy hashed as it is made)."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        if into is not None:
            into.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _identity(st: os.stat_result) -> _Identity:
    # ctime too: `cp -p` or `rsync -t` can give new content the old size and mtime (and a
    # freed inode number); no user tool sets the ctime.
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 and size of the file at `path`, remembered for the process; OSError
    when it cannot be read."""
    st = path.stat()
    known = _KNOWN.get(_identity(st))
    if known is not None:
        return known, st.st_size
    with path.open("rb") as src:
        before = os.fstat(src.fileno())
        digest, size = sha256(src)
        if size == before.st_size and _identity(os.fstat(src.fileno())) == _identity(before):
            _KNOWN[_identity(before)] = digest
    return digest, size


class Reading:
    """A file open for reading whose bytes are hashed as a reader (a tar writer, an
    archive reader) takes them. Readers may skip and come back (a zip's directory first,
    a tar's padding): the digest covers the bytes from the start up to `hashed`; a short
    skip is read again by position, a longer one waits for `finish`. The digest is
    remembered when every byte of the unchanged file was hashed (`close`, `finish`)."""

    def __init__(self, path: Path):
        self._raw = path.open("rb")
        self.name = self._raw.name
        self.stat = os.fstat(self._raw.fileno())
        self._digest = hashlib.sha256()
        self._hashed = self._pos = 0

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        if start > self._hashed and start - self._hashed <= _GAP:
            self._take(os.pread(self._raw.fileno(), start - self._hashed, self._hashed),
                       self._hashed)
        data = self._raw.read(size)
        self._pos = start + len(data)
        self._take(data, start)
        return data

    def _take(self, data: bytes, start: int) -> None:
        """`data` read at `start`: its part just past `hashed`, if any, goes in."""
        end = start + len(data)
        if start <= self._hashed < end:
            self._digest.update(memoryview(data)[self._hashed - start:])
            self._hashed = end

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._pos = self._raw.seek(offset, whence)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def finish(self) -> None:
        """Hash what no reader asked for (an archive's trailer, a skipped stretch)."""
        self._raw.seek(self._hashed)
        while chunk := self._raw.read(CHUNK):
            self._digest.update(chunk)
            self._hashed += len(chunk)
        self._pos = self._raw.seek(self._pos)
        self._remember()

    def _remember(self) -> None:
        if self._hashed == self.stat.st_size and \
                _identity(os.fstat(self._raw.fileno())) == _identity(self.stat):
            _KNOWN[_identity(self.stat)] = self._digest.hexdigest()

    def close(self) -> None:
        if not self._raw.closed:
            self._remember()
            self._raw.close()

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

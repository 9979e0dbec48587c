"""What a `data:` archive or folder holds, entry by entry, checked on the way.

One walk serves `repro validate` and `repro plan` (a check: nothing is kept) and the run's
packing (`execute.archive.pack` writes each entry to the tar stream copied into the
sandbox), so both refuse the same things with the same line:

- an entry that would land outside its destination: an absolute path, `..`, a symlink or a
  hard link pointing out, an entry placed through a symlink;
- an archive that cannot be read: not an archive, truncated, a checksum that does not match;
- more entries, more expanded bytes or a higher compression ratio than the entry's bounds
  (docs/data-limits.md). Sizes are checked as headers declare them, before anything is
  read, and bodies are counted as they are read: a header cannot lie its way past a bound.

Devices, fifos and sockets are skipped and named (`Tally.skipped`): they have no place in
customer data, and a run says so instead of dropping them without a word.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO

from repro.config.data_limits import RATIO_FLOOR, shown_size
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.hashing import Reading
from repro.plan.values import DataCopy

CHUNK = 1024 * 1024
_READ_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
                zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError, ValueError)
_SPECIAL = {stat.S_IFCHR: "character device", stat.S_IFBLK: "block device",
            stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket"}
_TAR_SPECIAL = {tarfile.CHRTYPE: "character device", tarfile.BLKTYPE: "block device",
                tarfile.FIFOTYPE: "fifo"}


@dataclass
class Entry:
    """One entry to place under the destination: `name` is relative and normalised
    ("." is the destination itself); `link` is a symlink's target as written, or the
    name of the entry a hard link repeats."""

    name: str
    kind: str  # file | dir | symlink | hardlink
    mode: int
    mtime: int
    size: int = 0
    link: str = ""
    open: Callable[[], IO[bytes]] | None = None  # a file's body, counted as it is read


@dataclass
class Tally:
    """What a walk has seen so far, held against the data entry's bounds."""

    copy: DataCopy
    entries: int = 0
    size: int = 0  # expanded bytes, as declared
    read: int = 0  # bytes actually read from bodies
    skipped: list[str] = field(default_factory=list)
    # A compressed tar: bodies are decompressed to reach the next header anyway, so they
    # are read (and their ratio held as they are) by every walk; None for other sources.
    consumed: Callable[[], int] | None = None

    def count(self, name: str) -> None:
        self.entries += 1
        if self.entries > self.copy.bounds.entries:
            raise _over(self.copy, f"more than {self.copy.bounds.entries} entries (reached "
                        f"at {name!r}), over the entry limit", "entries",
                        str(self.copy.bounds.entries * 2))

    def declare(self, name: str, size: int, packed: int | None, consumed: int | None) -> None:
        """A body of `size` bytes, stored in `packed` bytes (zip), after `consumed` bytes
        of the archive (compressed tars: as they are decompressed)."""
        bounds = self.copy.bounds
        self.size += size
        if self.size > bounds.size:
            raise _over(self.copy, f"entry {name!r} takes the expanded size past "
                        f"{shown_size(bounds.size)} ({shown_size(self.size)} so far), over "
                        "the size limit", "size", shown_size(max(self.size * 2, bounds.size)))
        if packed is not None and size > RATIO_FLOOR and size > bounds.ratio * max(packed, 1):
            ratio = size // max(packed, 1)
            raise _over(self.copy, f"entry {name!r} expands {ratio}x ({shown_size(size)} "
                        f"from {shown_size(packed)}), over the ratio limit of {bounds.ratio}",
                        "ratio", str(ratio + 1))
        if consumed is not None:
            self.held(name, self.size, consumed)

    def held(self, name: str, expanded: int, consumed: int) -> None:
        """The whole archive's ratio: `expanded` bytes out of its first `consumed`."""
        bounds = self.copy.bounds
        if expanded > RATIO_FLOOR and expanded > bounds.ratio * max(consumed, 1):
            ratio = expanded // max(consumed, 1)
            raise _over(self.copy, f"the archive expands {ratio}x ({shown_size(expanded)} "
                        f"from {shown_size(consumed)}) by entry {name!r}, over the ratio "
                        f"limit of {bounds.ratio}", "ratio", str(ratio + 1))

    def skip(self, name: str, why: str) -> None:
        self.skipped.append(f"{name} ({why})")


def walk(copy: DataCopy, tally: Tally, hashed: bool = False) -> Iterator[Entry]:
    """The entries of an archive or folder (`copy.kind`), each checked before it is
    yielded; a file's body is read, if at all, before the next entry is asked for.
    `hashed`: the files read on disk (the archive, each file of a folder whose body is
    read) are hashed as they are read, their digests remembered (repro.hashing) once the
    walk is done: the run's copy serves the access log too."""
    if copy.kind == "dir":
        yield from _folder(copy, tally, hashed)
    elif copy.source.name.lower().endswith(".zip"):
        yield from _zip(copy, tally, hashed)
    else:
        yield from _tar(copy, tally, hashed)


def _source(path: Path, hashed: bool) -> IO[bytes]:
    # Reading is no IO[bytes] to the stubs, but has all tarfile and zipfile ask of one.
    return Reading(path) if hashed else path.open("rb")  # type: ignore[return-value]


def check(copy: DataCopy, deep: bool = False) -> Tally:
    """Walk without keeping anything; `deep` reads every body too (a zip entry's true size
    and checksum show only then), else headers alone (but a compressed tar's bodies are
    read all the same: they are decompressed to reach the next header)."""
    tally = Tally(copy)
    for entry in walk(copy, tally):
        if (deep or tally.consumed is not None) and entry.open is not None:
            with entry.open() as body:
                while body.read(CHUNK):
                    pass
    return tally


def refusal(copy: DataCopy, message: str) -> ConfigError:
    return ConfigError(Problem(display_path(copy.source), None, "", message))


def _over(copy: DataCopy, what: str, key: str, suggested: str) -> ConfigError:
    if copy.option:
        return refusal(copy, f"{what}; raise it with `{copy.option} {key}={suggested}` "
                       "(docs/data-limits.md)")
    where = f" on {copy.origin}" if copy.origin else " on its data entry"
    return refusal(copy, f"{what}; raise it with `limits: {{{key}: {suggested}}}`{where} "
                   "(docs/data-limits.md)")


def _unreadable(copy: DataCopy, exc: BaseException) -> ConfigError:
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, tarfile.ReadError) and reason.endswith(":"):  # one line per method
        reason = "not a tar archive, nor a gzip, bzip2 or xz compressed one"
    if "CRC" in reason:
        reason += " (the entry is damaged, or its header lies about its size)"
    return refusal(copy, f"cannot read the archive: {reason}")


def _unsafe(name: str) -> bool:
    norm = posixpath.normpath(name)
    return name.startswith("/") or norm == ".." or norm.startswith("../")


def _outside(copy: DataCopy, name: str) -> ConfigError:
    return refusal(copy, f"archive entry {name!r} points outside its folder; refusing to "
                   "extract it")


class _Counted:
    """A body that counts what is read against what its header declared."""

    def __init__(self, raw: IO[bytes], name: str, declared: int, tally: Tally):
        self._raw, self._name, self._left, self._tally = raw, name, declared, tally

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._raw.read(size)
        except _READ_ERRORS as exc:
            raise _unreadable(self._tally.copy, exc) from None
        self._left -= len(data)
        self._tally.read += len(data)
        if self._tally.consumed is not None:
            self._tally.held(self._name, self._tally.read, self._tally.consumed())
        if self._left < 0:
            raise refusal(self._tally.copy, f"entry {self._name!r} holds more than the "
                          f"{shown_size(self._left + len(data))} its header declares; "
                          "refusing an archive that lies about its sizes")
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Placed:
    """Names already placed: a later entry may not go through a symlink, and a hard link
    must repeat an earlier file."""

    def __init__(self, copy: DataCopy):
        self.copy = copy
        self.links: set[str] = set()
        self.files: set[str] = set()
        self.skipped: set[str] = set()

    def through_link(self, name: str) -> bool:
        parts = name.split("/")[:-1]
        return any("/".join(parts[:k]) in self.links for k in range(1, len(parts) + 1))

    def place(self, raw: str, kind: str, link: str = "") -> str:
        """The normalised name of an entry that stays inside, or a refusal."""
        name = posixpath.normpath(raw)
        if _unsafe(raw) or self.through_link(name):
            raise _outside(self.copy, raw)
        if kind == "symlink" and _unsafe(posixpath.join(posixpath.dirname(name), link)):
            raise _outside(self.copy, raw)
        if kind == "symlink":
            self.links.add(name)
        if kind == "file":
            self.files.add(name)
        return name


def _tar(copy: DataCopy, tally: Tally, hashed: bool) -> Iterator[Entry]:
    placed = _Placed(copy)
    try:
        with _source(copy.source, hashed) as raw, tarfile.open(fileobj=raw, mode="r:*") as src:
            if src.fileobj is not raw:  # compressed: held as it is decompressed
                tally.consumed = raw.tell
            for info in src:
                tally.count(info.name)
                if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
                    placed.place(info.name, "special")
                    tally.skip(info.name, _TAR_SPECIAL.get(info.type, "special entry"))
                    placed.skipped.add(posixpath.normpath(info.name))
                    continue
                kind = "file" if info.isfile() else "dir" if info.isdir() else \
                    "symlink" if info.issym() else "hardlink"
                name = placed.place(info.name, kind, info.linkname)
                entry = Entry(name, kind, info.mode & 0o7777, int(info.mtime))
                if info.islnk():
                    target = posixpath.normpath(info.linkname)
                    if _unsafe(info.linkname) or placed.through_link(target):
                        raise refusal(copy, f"hard link {info.name!r} points outside")
                    if target in placed.skipped:
                        tally.skip(info.name, f"hard link to the skipped {target!r}")
                        continue
                    if target not in placed.files:
                        raise refusal(copy, f"hard link {info.name!r} points to {target!r}, "
                                      "which is no earlier file of the archive")
                    entry.link = target
                elif info.issym():
                    entry.link = info.linkname
                elif info.isfile():
                    tally.declare(info.name, info.size, None, None)
                    entry.size = info.size
                    entry.open = _opener(src, info, tally)
                yield entry
            if isinstance(raw, Reading):
                raw.finish()  # the end-of-archive blocks and padding no reader asked for
    except ConfigError:
        raise
    except _READ_ERRORS as exc:
        raise _unreadable(copy, exc) from None


def _opener(src: tarfile.TarFile, info: tarfile.TarInfo, tally: Tally
            ) -> Callable[[], IO[bytes]]:
    def open_body() -> IO[bytes]:
        body = src.extractfile(info)
        assert body is not None  # a regular file always has one
        return _Counted(body, info.name, info.size, tally)  # type: ignore[return-value]
    return open_body


def _zip_kind(item: zipfile.ZipInfo) -> tuple[str, int]:
    """(kind, permission bits): Unix zips carry a file type in their attributes."""
    unix = item.external_attr >> 16
    mode = unix & 0o7777
    if item.is_dir():
        return "dir", mode or 0o755
    file_type = stat.S_IFMT(unix) if item.create_system == 3 else 0
    if file_type == stat.S_IFLNK:
        return "symlink", mode or 0o777
    if file_type in _SPECIAL:
        return _SPECIAL[file_type], mode
    return "file", mode or 0o644


def _zip(copy: DataCopy, tally: Tally, hashed: bool) -> Iterator[Entry]:
    placed = _Placed(copy)
    try:
        archive_size = copy.source.stat().st_size
        with _source(copy.source, hashed) as raw, zipfile.ZipFile(raw) as src:
            items = src.infolist()
            for item in items:  # everything the central directory declares, first
                tally.count(item.filename)
                kind, _ = _zip_kind(item)
                if kind == "file":
                    tally.declare(item.filename, item.file_size, item.compress_size,
                                  archive_size)
            tally.entries, tally.size = 0, 0  # counted again as they are placed
            for item in items:
                tally.count(item.filename)
                kind, mode = _zip_kind(item)
                try:
                    mtime = int(datetime(*item.date_time).timestamp())
                except ValueError:  # zeroed DOS dates, seen in generated zips
                    mtime = 0
                if kind not in ("file", "dir", "symlink"):
                    placed.place(item.filename, "special")
                    tally.skip(item.filename.rstrip("/"), kind)
                    continue
                link = ""
                if kind == "symlink":
                    link = src.read(item)[:4096].decode("utf-8", "replace")
                name = placed.place(item.filename.rstrip("/") or ".", kind, link)
                entry = Entry(name, kind, mode, mtime, link=link)
                if kind == "file":
                    tally.declare(item.filename, item.file_size, item.compress_size,
                                  archive_size)
                    entry.size = item.file_size
                    entry.open = _zip_opener(src, item, tally)
                yield entry
            if isinstance(raw, Reading):
                raw.finish()  # the central directory, read before the bodies, and gaps
    except ConfigError:
        raise
    except _READ_ERRORS as exc:
        raise _unreadable(copy, exc) from None


def _zip_opener(src: zipfile.ZipFile, item: zipfile.ZipInfo, tally: Tally
                ) -> Callable[[], IO[bytes]]:
    def open_body() -> IO[bytes]:
        try:
            body = src.open(item)
        except _READ_ERRORS as exc:
            raise _unreadable(tally.copy, exc) from None
        return _Counted(body, item.filename, item.file_size, tally)  # type: ignore[return-value]
    return open_body


def _folder(copy: DataCopy, tally: Tally, hashed: bool) -> Iterator[Entry]:
    root = copy.source
    try:
        for here, dirs, files in os.walk(root, onerror=_raise):
            dirs.sort()  # os.walk goes into them after this folder's entries: in order
            rel_dir = Path(here).relative_to(root).as_posix()
            names = [(".", here)] if rel_dir == "." else []
            names += [(posixpath.normpath(posixpath.join(rel_dir, n)), os.path.join(here, n))
                      for n in sorted(files + dirs)]
            for rel, path in names:
                entry = _folder_entry(tally, Path(path), rel, hashed)
                if entry is not None:
                    yield entry
    except ConfigError:
        raise
    except OSError as exc:
        raise refusal(copy, f"cannot read the folder: {exc.strerror or exc} "
                      f"({exc.filename})") from None


def _raise(exc: OSError) -> None:
    raise exc


def _folder_entry(tally: Tally, path: Path, rel: str, hashed: bool) -> Entry | None:
    st = path.lstat()
    if rel != ".":
        tally.count(rel)
    mode, mtime = stat.S_IMODE(st.st_mode), int(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        return Entry(rel, "dir", mode, mtime)
    if stat.S_ISLNK(st.st_mode):  # copied as a link: in the sandbox it points there
        return Entry(rel, "symlink", mode, mtime, link=os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        tally.declare(rel, st.st_size, None, None)

        def open_body() -> IO[bytes]:
            return _Counted(_source(path, hashed), rel, st.st_size, tally)  # type: ignore[return-value]
        return Entry(rel, "file", mode, mtime, st.st_size, open=open_body)
    tally.skip(rel, _SPECIAL.get(stat.S_IFMT(st.st_mode), "special file"))
    return None



def planned(copy: DataCopy, problems: list[Problem | str], deep: bool = False) -> DataCopy:
    """`copy` checked (archives and folders), naming the entries its walk skipped; a
    refusal joins `problems`, as every other problem of the plan."""
    if copy.kind not in ("archive", "dir"):
        return copy
    try:
        tally = check(copy, deep)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return copy
    return replace(copy, skipped=tuple(tally.skipped))

"""Unpack a support bundle into a folder, refusing what a bundle has no business holding.

The walk is the data archives' (`repro.plan.archives`): the same bounds on size, entry
count and compression ratio, the same refusal of entries that would land outside (absolute
paths, `..`, links pointing out, entries placed through a link), the same counting of
bodies as they are read. On top of it, for a bundle:

- devices, fifos and sockets are refused (a data archive skips them and says so; a
  bundle that holds one was not made by a support export);
- no link is created: a symlink inside the bundle is skipped with a note (its target, if
  it is in the bundle, is copied anyway), a hard link is copied as the file it repeats.
  With no link in the folder, no later entry can be written through one;
- the bounds, the links and the devices are checked by a first walk over the headers,
  before anything is written;
- files are written 0644 and folders 0755 whatever the archive says (no setuid, no
  unreadable customer files).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from repro.config.data_limits import DataBounds
from repro.plan.archives import CHUNK, Tally, refusal, walk
from repro.plan.values import DataCopy

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2")
LIMIT_OPTION = "--limit"


@dataclass
class Extracted:
    """What landed: regular files (relative POSIX paths, in bundle order) and notes on
    what did not, one line each."""

    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def bundle_copy(source: Path, bounds: DataBounds) -> DataCopy:
    """The bundle as a data source for the walk; a refusal when it is neither an archive
    of a known kind nor a folder."""
    probe = DataCopy(source, "/", "file", option=LIMIT_OPTION)
    if source.is_dir():
        return DataCopy(source, "/", "dir", bounds=bounds, option=LIMIT_OPTION)
    if not source.exists():
        raise refusal(probe, "bundle not found")
    if not source.is_file() or not source.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise refusal(probe, "not a bundle: expected a .zip, .tar, .tar.gz/.tgz, .tar.xz or "
                      ".tar.bz2 archive, or a folder")
    return DataCopy(source, "/", "archive", bounds=bounds, option=LIMIT_OPTION)


def extract(source: Path, into: Path, bounds: DataBounds) -> Extracted:
    """Unpack `source` (archive or folder) into the existing, empty folder `into`.

    A ConfigError (one line naming the bundle and the entry) on the first thing refused;
    what was written by then is the caller's to remove."""
    copy = bundle_copy(source, bounds)
    # A first walk over the headers alone (a compressed tar is decompressed, under the
    # same bounds): a bundle over a bound, or holding a device, is refused before anything
    # is written, not after 8 GB or 100,000 files.
    _precheck(copy)
    tally = Tally(copy)
    out = Extracted()
    seen_skips = 0
    for entry in walk(copy, tally):
        seen_skips = _refuse_special(copy, tally, seen_skips)
        if entry.name == ".":
            continue
        target = into / entry.name
        if entry.kind == "symlink":
            _check_link(copy, entry.name, entry.link)
            out.notes.append(f"skipped symlink {entry.name} -> {entry.link} (links are not "
                             "copied)")
            continue
        try:
            if entry.kind == "dir":
                target.mkdir(mode=0o755, parents=True, exist_ok=True)
                continue
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if entry.kind == "hardlink":
                original = into / entry.link
                tally.declare(entry.name, original.stat().st_size, None, None)
                shutil.copyfile(original, target)
                out.notes.append(f"copied hard link {entry.name} as a file (a copy of "
                                 f"{entry.link})")
            else:
                assert entry.open is not None  # a regular file has a body
                with entry.open() as body, target.open("wb") as sink:
                    while chunk := body.read(CHUNK):
                        sink.write(chunk)
            target.chmod(0o644)
            with contextlib.suppress(OverflowError, OSError):  # a date out of range
                os.utime(target, (entry.mtime, entry.mtime))
        except (FileExistsError, IsADirectoryError, NotADirectoryError):
            raise refusal(copy, f"entry {entry.name!r} is a file and a folder at once in "
                          "the bundle (or lies under a file); refusing it") from None
        if entry.name not in out.files:
            out.files.append(entry.name)
    _refuse_special(copy, tally, seen_skips)
    return out


def _precheck(copy: DataCopy) -> None:
    """Every refusal that headers can tell, before anything is written: bounds, entries
    outside, links pointing out (a folder's too), devices."""
    tally = Tally(copy)
    for entry in walk(copy, tally):
        if entry.kind == "symlink":
            _check_link(copy, entry.name, entry.link)
        if tally.consumed is not None and entry.open is not None:
            with entry.open() as body:  # a compressed tar: read on to the next header
                while body.read(CHUNK):
                    pass
    _refuse_special(copy, tally, 0)


def _refuse_special(copy: DataCopy, tally: Tally, seen: int) -> int:
    """The walk skips devices, fifos and sockets; a bundle refuses them."""
    if len(tally.skipped) > seen:
        name, _, why = tally.skipped[seen].rpartition(" (")
        raise refusal(copy, f"entry {name!r} is a {why.rstrip(')')}: a support bundle holds "
                      "files and folders only; refusing it")
    return seen


def _check_link(copy: DataCopy, name: str, link: str) -> None:
    """A folder's symlinks come unchecked from the walk (archives check their own)."""
    target = posixpath.normpath(posixpath.join(posixpath.dirname(name), link))
    if link.startswith("/") or target == ".." or target.startswith("../"):
        raise refusal(copy, f"symlink {name!r} points outside the bundle (-> {link}); "
                      "refusing it")


def unwrap(into: Path, out: Extracted) -> str | None:
    """A bundle whose files all sit in one top folder (`acme-support-2024-04-02/...`, as
    most export tools write them) loses that folder: the scenario's paths stay short.
    Returns the folder's name, None when there is nothing to unwrap."""
    children = list(into.iterdir())
    if len(children) != 1 or not children[0].is_dir() or not out.files:
        return None
    top = children[0]
    hidden = top.rename(into / f".{top.name}.unwrap")  # a child may share its name
    for child in list(hidden.iterdir()):
        child.rename(into / child.name)
    hidden.rmdir()
    out.files = [f.split("/", 1)[1] for f in out.files]
    return top.name

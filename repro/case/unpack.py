"""The checked way back from a case: every entry walked with the bounds of customer data
archives (plan.archives: no absolute path, no `..`, no link, sizes and ratios held), every
file hashed as it is written and held against the manifest. A case that fails any check
is refused whole, and nothing of it is left behind."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from repro.case import manifest as mf
from repro.config.data_limits import DataBounds
from repro.config.yaml_source import display_path
from repro.errors import ConfigError
from repro.hashing import file_sha256, sha256
from repro.plan import archives
from repro.plan.values import DataCopy
from repro.sandbox.api import Backend

Say = Callable[[str], None]
SUFFIXES = (".tar.gz", ".tgz")


def is_case(target: Path) -> bool:
    """A case file is named *.tar.gz or *.tgz (a scenario folder never is)."""
    return target.name.endswith(SUFFIXES) and not target.is_dir()


@dataclass(frozen=True)
class Unpacked:
    folder: Path  # holds project/ (and images/)
    manifest: mf.Manifest

    @property
    def project(self) -> Path:
        return self.folder / mf.PROJECT

    @property
    def scenario(self) -> Path:
        return self.project / self.manifest.scenario

    def named(self, case: Path) -> dict[str, str]:
        """The case as a record and the access log name it (its digest remembered from
        its unpacking: read once)."""
        digest, _ = file_sha256(case)
        return {"file": str(case.resolve()), "sha256": digest,
                "packed": self.manifest.created, "packed_by": self.manifest.repro_version}


def unpack(case: Path, dest: Path) -> Unpacked:
    """Unpack `case` into `dest` (created; refused when it exists and is not empty)."""
    if not case.is_file():
        raise ConfigError(f"{display_path(case)}: no such case file (write one with "
                          "`repro pack SCENARIO -o CASE.tar.gz`)")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"{display_path(dest)} exists and is not empty: unpack into a new "
                          "folder (-o DIR)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpacking-", dir=dest.parent))
    try:
        found, raw = _extract(case, staging)
        if raw is None:
            raise mf.refused(case, f"it has no {mf.MANIFEST}: not a repro case")
        manifest = mf.read(case, raw)
        mf.verify(case, manifest, found)
        (staging / mf.MANIFEST).write_bytes(raw)  # what was checked, for people to read
        if dest.exists():
            dest.rmdir()
        staging.replace(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Unpacked(dest, manifest)


@contextmanager
def opened(case: Path) -> Iterator[Unpacked]:
    """The case unpacked into a temporary folder, removed afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="repro-case-"))
    try:
        yield unpack(case, scratch / "case")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _extract(case: Path, into: Path) -> tuple[dict[str, tuple[str, int]], bytes | None]:
    copy = DataCopy(case.resolve(), "/", "archive", bounds=DataBounds(), origin="")
    tally = archives.Tally(copy)
    found: dict[str, tuple[str, int]] = {}
    manifest: bytes | None = None
    for entry in archives.walk(copy, tally, hashed=True):
        if tally.skipped:  # a device, fifo or socket: no place in a case
            raise mf.refused(case, f"entry {tally.skipped[0]} is not a regular file")
        if entry.kind in ("symlink", "hardlink"):
            kind = "hard link" if entry.kind == "hardlink" else "symlink"
            raise mf.refused(case, f"entry {entry.name!r} is a {kind}; a case holds regular "
                             "files only")
        target = into / entry.name
        if entry.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
            continue
        assert entry.open is not None
        if entry.name in found or entry.name == mf.MANIFEST and manifest is not None:
            raise mf.refused(case, f"entry {entry.name!r} appears twice")
        target.parent.mkdir(parents=True, exist_ok=True)
        with entry.open() as body:
            if entry.name == mf.MANIFEST:
                manifest = body.read(16 * 1024 * 1024)
                continue
            found[entry.name] = _write(body, target)
        os.chmod(target, entry.mode & 0o777)  # as packed (a context's modes are in its key)
    if tally.skipped:
        raise mf.refused(case, f"entry {tally.skipped[0]} is not a regular file")
    return found, manifest


def _write(body: IO[bytes], target: Path) -> tuple[str, int]:
    with target.open("xb") as sink:
        return sha256(body, into=sink)


def load_images(unpacked: Unpacked, backend: Backend, say: Say) -> list[str]:
    """The case's images onto the engine, those it lacks only; the refs loaded."""
    loaded = []
    for image in unpacked.manifest.images:
        if backend.load_image(image.ref, image.id,
                              functools.partial(_open, unpacked.folder / image.file), say):
            loaded.append(image.ref)
    return loaded


def _open(path: Path) -> IO[bytes]:
    return path.open("rb")

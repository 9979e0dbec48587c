"""Zone files (TZif) from repro's offline tools image, for images without tzdata.

glibc falls back to UTC without a word when TZ names a zone the image has no file for;
repro brings the file instead. The tools image's /usr/share/zoneinfo is copied once into
a cache on this host (one tar per tools image), and runs read from there.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import tarfile
from pathlib import Path

from repro.sandbox.api import Say
from repro.sandbox.docker import bases, labels
from repro.sandbox.docker.cache import cache_dir
from repro.sandbox.docker.engine import Engine, translated

ZONEINFO = "/usr/share/zoneinfo"


def zone_file(engine: Engine, zone: str, say: Say) -> bytes | None:
    """The TZif bytes of `zone` (links followed), None if the tools' tzdata lacks it."""
    image_id = bases.ensure(engine, bases.TOOLS, say)
    name = posixpath.normpath("zoneinfo/" + zone)
    if not name.startswith("zoneinfo/"):
        return None
    cached = cache_dir() / f"zoneinfo-{image_id.removeprefix('sha256:')[:16]}.tar"
    one = cached.with_suffix("") / name  # each zone once read out of the tar: no scan
    if one.is_file():
        return one.read_bytes()
    if not cached.is_file():
        _fill(engine, cached, image_id)
    with tarfile.open(cached) as tar:
        body = _read(tar, name)
    if body is not None:
        one.parent.mkdir(parents=True, exist_ok=True)
        partial = one.with_name(f"{one.name}.{os.getpid()}.part")
        partial.write_bytes(body)
        partial.replace(one)
    return body


def _read(tar: tarfile.TarFile, name: str) -> bytes | None:
    for _ in range(8):  # links to links (backward names) are short chains
        if not name.startswith("zoneinfo/"):
            return None
        try:
            member = tar.getmember(name)
        except KeyError:
            return None
        if member.issym():
            name = posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                                     member.linkname))
            continue
        if member.islnk():
            name = member.linkname
            continue
        body = tar.extractfile(member) if member.isfile() else None
        return None if body is None else body.read()
    return None


def _fill(engine: Engine, cached: Path, image_id: str) -> None:
    """Copy the tools image's zoneinfo folder out through a container never started."""
    client = engine.client()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.part")
    container = None
    try:
        with translated(f"reading the tz database of {bases.TOOLS}"):
            container = client.containers.create(
                image_id, command=["true"], network_mode="none",
                labels=labels.for_run(f"tools-{secrets.token_hex(4)}", "repro-tools", False))
            stream, _ = container.get_archive(ZONEINFO)
            with partial.open("wb") as out:
                for chunk in stream:
                    out.write(chunk)
        partial.replace(cached)  # concurrent runs: each writes its own, the last one wins
    finally:
        partial.unlink(missing_ok=True)
        if container is not None:
            with translated("removing the tz database reader"):
                container.remove(force=True)

"""Provide a scenario's image: local, pulled, built (cached by content hash) or an offline base."""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import time
from collections.abc import Callable
from pathlib import Path

from repro.errors import SandboxError
from repro.globs import glob_regex
from repro.sandbox.api import ImageInfo, ImageSpec, Say
from repro.sandbox.docker import bases, dockerfile, labels, transfer
from repro.sandbox.docker.engine import Engine, translated


def ensure(engine: Engine, image: ImageSpec, environment: str, say: Say,
           on_output: Say | None = None) -> ImageInfo:
    started = time.monotonic()
    if image.ref is not None:
        image_id = _local_or_pull(engine, image.ref, say)
        return ImageInfo(image.ref, image_id, False, time.monotonic() - started)
    assert image.context is not None
    key = cache_key(image)
    tag = f"{repository(environment)}:{key[:16]}"
    found = find(engine, tag) or _by_key(engine, key, tag)
    if found:
        return ImageInfo(tag, found, False, time.monotonic() - started)
    dockerfile_path = image.context / image.dockerfile
    for parent in dockerfile.parents(dockerfile_path, image.build_args):
        if bases.is_base(parent):
            bases.ensure(engine, parent, say)
    image_id = _build(engine, image, tag, key, say, on_output)
    return ImageInfo(tag, image_id, True, time.monotonic() - started)


def repository(environment: str) -> str:
    """Where an environment's cached builds are tagged (services: ENV-SERVICE)."""
    return f"repro-env/{_slug(environment)}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-.") or "env"


def find(engine: Engine, ref: str) -> str | None:
    """The id of image `ref` on the engine; None when it has none."""
    import docker

    with translated(f"looking up image {ref}"):
        try:
            return engine.client().images.get(ref).id
        except docker.errors.ImageNotFound:
            return None


def _by_key(engine: Engine, key: str, tag: str) -> str | None:
    """The same build under another name (a service sharing the sandbox's image):
    tag it and reuse it rather than build it twice."""
    with translated("looking up cached images"):
        same = engine.client().images.list(filters={"label": f"{labels.CACHE_KEY}={key}"})
        if not same:
            return None
        same[0].tag(*tag.split(":", 1))
        return same[0].id


def _local_or_pull(engine: Engine, ref: str, say: Say) -> str:
    """Found on the engine; else copied from another engine of the replay that has it;
    else made (an offline base) or pulled."""
    import docker

    found = find(engine, ref) or transfer.from_peers(engine, ref, say)
    if found:
        return found
    if bases.is_base(ref):
        bases.ensure(engine, ref, say)
        return find(engine, ref) or ""
    say(f"image {ref} is not here; trying to pull it ...")
    try:
        return engine.client().images.pull(ref).id
    except docker.errors.DockerException as exc:
        reason = str(getattr(exc, "explanation", "") or exc).splitlines()[0][:160]
        raise SandboxError(
            f"image {ref!r} is not on the engine ({engine.where}) and could not be pulled "
            f"({reason}): load it "
            f"(`docker load -i FILE.tar` from a machine that has it), or build it offline with "
            f"`image: {{build: {{context: DIR}}}}` and a Dockerfile `FROM {bases.PREFIX}debian:"
            f"bookworm` or `FROM {bases.PREFIX}busybox` (see `repro base --help`)") from None


def ignore_matcher(context: Path) -> Callable[[str], bool]:
    """Docker's .dockerignore semantics: last matching pattern wins, `!` re-includes, a
    pattern matching a folder covers everything below it."""
    ignore = context / ".dockerignore"
    rules: list[tuple[bool, re.Pattern[str]]] = []
    if ignore.is_file():
        for raw in ignore.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = posixpath.normpath(line.lstrip("!").strip()).lstrip("/")
            rules.append((negate, glob_regex(pattern)))

    def ignored(rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
        verdict = False
        for negate, regex in rules:
            if any(regex.match(prefix) for prefix in prefixes):
                verdict = not negate
        return verdict

    return ignored


def cache_key(image: ImageSpec) -> str:
    """sha256 over every file of the context (path, mode, bytes), the Dockerfile and args."""
    assert image.context is not None
    digest = hashlib.sha256()
    digest.update(f"dockerfile={image.dockerfile}\n".encode())
    for key, value in sorted(image.build_args.items()):
        digest.update(f"arg {key}={value}\n".encode())
    ignored = ignore_matcher(image.context)
    for folder, dirs, files in os.walk(image.context):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(image.context).as_posix()
            if ignored(rel):
                continue
            digest.update(f"file {rel} {oct(path.stat().st_mode & 0o777)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


BRIDGE_HINT = ("; the engine has no default bridge network (docker0), which image builds "
               "with RUN lines need: start dockerd without `--bridge=none` (`repro doctor` "
               "checks it)")


def bridge_hint(error: str) -> str:
    """What to do about a build that failed for want of the engine's default bridge."""
    return BRIDGE_HINT if re.search(r"could not find bridge|bridge .*not found", error) else ""


def _build(engine: Engine, image: ImageSpec, tag: str, key: str, say: Say,
           on_output: Say | None) -> str:
    try:
        return _stream_build(engine, image, tag, key, say, on_output)
    except SandboxError as exc:  # refused before or during the build
        hint = bridge_hint(str(exc))
        if not hint:
            raise
        raise SandboxError(f"{exc}{hint}") from None


def _stream_build(engine: Engine, image: ImageSpec, tag: str, key: str, say: Say,
                  on_output: Say | None) -> str:
    say(f"building image {tag} from {image.context} ...")
    log: list[str] = []
    with translated(f"building {tag}"):
        stream = engine.client().api.build(
            path=str(image.context), dockerfile=image.dockerfile, tag=tag,
            buildargs=dict(image.build_args), rm=True, forcerm=True, decode=True,
            # Not MANAGED: containers inherit image labels, and gc must never take a
            # user's own container started from a cached image for a sandbox.
            labels={labels.CACHE_KEY: key})
        image_id = ""
        for chunk in stream:
            if "stream" in chunk:
                lines = [line for line in chunk["stream"].splitlines() if line.strip()]
                log.extend(lines)
                if on_output is not None:
                    for line in lines:
                        on_output(line)
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if "error" in chunk:
                step = next((line for line in reversed(log) if line.startswith("Step ")), "")
                tail = " | ".join(line.strip() for line in log[-4:])
                error = chunk["error"].strip()
                hint = ""
                if re.search(r"registry|no such host|pull access denied|manifest unknown",
                             error) and step.split(":", 1)[-1].strip().upper().startswith(
                                 "FROM"):
                    hint = (f"; no registry is reachable: use `FROM {bases.PREFIX}debian:"
                            f"bookworm` or `FROM {bases.PREFIX}busybox` (made offline), or "
                            "`docker load` the base image")
                raise SandboxError(f"building {tag} failed at {step or 'the start'}: "
                                   f"{error}{hint} (last output: {tail})")
    return image_id or (find(engine, tag) or "")

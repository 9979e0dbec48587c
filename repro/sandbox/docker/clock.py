"""The sandbox clock on Docker: libfaketime from repro's tools image, preloaded into every
container of a run, with one clock for all of them.

How the one clock is kept (libfaketime reads its setting per process):

- The library (60 KB) is read once per tools image from repro's tools image and kept in
  ~/.cache/repro. An engine on this host mounts that file read-only into each container
  (no copy, no cost); a remote one gets it copied in before the container starts.
  Either way nothing of it stays on the engine after the run.
- Until the clock starts, every container stands at `at` (an absolute, frozen setting):
  services starting, readiness checks and database loads all see `at`.
- The steps' container gets its setting in the environment (FAKETIME); each process
  started after the clock starts gets one computed for its own start, so processes
  started at different moments read the same clock, at any rate.
- A service's processes started before the clock did (its PID 1 and what it forks, e.g.
  PostgreSQL's backends) read /.repro/clock, which libfaketime re-reads once a second
  (FAKETIME_CACHE_DURATION=0): it is rewritten when the clock starts, so they move from
  `at` to the running clock within a second of the first step.
- Monotonic clocks stay real (FAKETIME_DONT_FAKE_MONOTONIC): they carry no date, and
  timeouts measured with them keep working.

libfaketime reaches programs dynamically linked with the GNU C library only; an image
without one (static busybox, musl) or with an older one than the library needs is refused
before anything starts, and each container is probed with `date +%s` once it runs.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from repro import tarball
from repro.errors import SandboxError
from repro.sandbox.api import Clock, ClockReach, Say
from repro.sandbox.docker import bases
from repro.sandbox.docker.cache import Facts, cache_dir
from repro.sandbox.docker.engine import Engine, translated

LIBRARY_DIR = "/.repro/faketime"
LIBRARY = f"{LIBRARY_DIR}/libfaketimeMT.so.1"  # the thread-safe build
SETTING_FILE = "/.repro/clock"
MIN_GLIBC = (2, 34)  # what the library from Debian 12 needs
_LOADERS = {"amd64": "/lib64/ld-linux-x86-64.so.2", "x86_64": "/lib64/ld-linux-x86-64.so.2",
            "arm64": "/lib/ld-linux-aarch64.so.1", "aarch64": "/lib/ld-linux-aarch64.so.1"}
_GLIBC = re.compile(rb"release version (\d+)\.(\d+)")
_NOT_LOADED = "cannot be preloaded"  # what ld.so says when the library is not there


# ---- the library, once per tools image ------------------------------------------------


@dataclass(frozen=True)
class Library:
    data: bytes
    path: Path | None  # the host's cached copy (None: it could not be kept)


_libraries: dict[str, Library] = {}  # by tools image id


def ensure_library(engine: Engine, say: Say) -> Library:
    """libfaketime, read from repro's tools image on first use, then from the host's
    cache: the engine keeps nothing for it."""
    tools = bases.ensure(engine, bases.TOOLS, say)
    client = engine.client()
    if tools in _libraries:
        return _libraries[tools]
    cached: Path | None = cache_dir() / f"libfaketimeMT-{tools.split(':')[-1][:16]}.so"
    assert cached is not None
    try:
        data = cached.read_bytes()
    except OSError:
        data = _read_library(client, tools)
        try:  # a cache: read again next time if it cannot be kept
            cached.parent.mkdir(parents=True, exist_ok=True)
            part = cached.with_suffix(".part")
            part.write_bytes(data)
            part.replace(cached)
        except OSError:
            cached = None
    _libraries[tools] = Library(data, cached.resolve() if cached else None)
    return _libraries[tools]


# ---- what an image allows -------------------------------------------------------------


def _read_library(client: Any, tools: str) -> bytes:
    """The library out of the tools image: put where a copy can find it without knowing
    the architecture's folder, then read as an archive (logs would mangle the bytes)."""
    with translated(f"reading libfaketime from {bases.TOOLS}"):
        helper = client.containers.create(
            tools, ["sh", "-c", f"cp /usr/lib/*/faketime/{Path(LIBRARY).name} /libfaketime"],
            network_mode="none")
        try:
            helper.start()
            code = helper.wait(timeout=60).get("StatusCode")
            stream, _ = helper.get_archive("/libfaketime") if code == 0 else (None, None)
            raw = b"".join(stream) if stream is not None else b""
        finally:
            helper.remove(force=True)
    data = b""
    if raw:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            member = tar.extractfile("libfaketime")
            data = member.read() if member is not None else b""
    if not data.startswith(b"\x7fELF"):
        raise SandboxError(f"{bases.TOOLS} holds no libfaketime: re-make it with "
                           f"`repro base {bases.TOOLS.removeprefix(bases.PREFIX)} --force`")
    return data


_facts = Facts("clock-images.json")  # image id -> {"glibc": [major, minor] or None}


def _read(engine: Engine, container_id: str, path: str, limit: int = 8) -> bytes | None:
    """A file of a (created) container, following symbolic links; None if absent."""
    import docker

    api = engine.client().api
    for _ in range(limit):
        try:
            stream, _stat = api.get_archive(container_id, path)
        except docker.errors.NotFound:
            return None
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.next()
            if member is None:
                return None
            if member.issym():
                target = member.linkname
                path = target if target.startswith("/") else os.path.normpath(
                    os.path.join(os.path.dirname(path), target))
                continue
            body = tar.extractfile(member)
            return body.read() if body is not None else None
    return None


def glibc_of(engine: Engine, container_id: str, image_id: str) -> tuple[int, int] | None:
    """The GNU C library version of an image, read from its dynamic loader in a created
    container (cached by image id); None when it has none."""
    known = _facts.get(image_id)
    if known is None:
        arch = engine.facts().get("engine_os", "/amd64").split("/")[-1]
        loader = _read(engine, container_id, _LOADERS.get(arch, _LOADERS["amd64"]))
        found = _GLIBC.search(loader) if loader else None
        known = {"glibc": [int(found.group(1)), int(found.group(2))] if found else None}
        _facts.put(image_id, known)
    version = known.get("glibc")
    return (version[0], version[1]) if version else None


def refusal(engine: Engine, container_id: str, image_id: str, what: str) -> str | None:
    """Why the clock cannot reach the programs of this container's image, or None."""
    version = glibc_of(engine, container_id, image_id)
    if version is None:
        return (f"{what}: its image has no GNU C library (its programs are static or built "
                "on musl, like busybox or Alpine), so libfaketime cannot reach them")
    if version < MIN_GLIBC:
        return (f"{what}: its image has glibc {version[0]}.{version[1]}; the libfaketime "
                f"repro brings needs {MIN_GLIBC[0]}.{MIN_GLIBC[1]} or later")
    return None


@lru_cache(maxsize=64)
def image_preload(engine: Engine, image_id: str) -> str | None:
    """The image's own LD_PRELOAD, kept behind libfaketime's."""
    with translated("inspecting an image"):
        env = engine.client().api.inspect_image(image_id).get("Config", {}).get("Env") or []
    for entry in env:
        if entry.startswith("LD_PRELOAD="):
            return entry.split("=", 1)[1] or None
    return None


# ---- one run's clock ------------------------------------------------------------------


def _frozen(at: float) -> str:
    return f"{at:.6f}"  # read with FAKETIME_FMT=%s: epoch seconds, frozen


class RunClock:
    """One sandbox's clock: the settings each container and process gets."""

    def __init__(self, clock: Clock, library: Library, engine: Engine):
        self.clock = clock
        self.library = library
        # An engine on this host mounts the host's copy (no per-container copy).
        self.mounted = library.path is not None and engine.local()
        self.engine = engine
        self.started: float | None = None  # real time it read `at`
        self._lock = threading.Lock()

    def setting(self, process_start: float) -> str:
        """libfaketime's setting for a process whose library starts at `process_start`:
        it computes `start + offset + rate x (now - start)`; the offset makes that the
        run's clock."""
        clock = self.clock
        if clock.frozen or self.started is None:
            return _frozen(clock.at)
        offset = clock.at - process_start + clock.rate * (process_start - self.started)
        return f"{offset:+.6f}" if clock.rate == 1 else f"{offset:+.6f} x{clock.rate:g}"

    def binds(self) -> list[str] | None:
        """The library mounted read-only from the host's cache, when the engine is here."""
        return [f"{self.library.path}:{LIBRARY}:ro"] if self.mounted else None

    def files(self, setting: str | None = None) -> bytes | None:
        """A tar stream for a container before it starts: the library (read-only) unless
        it is mounted, and for a service its setting file; None when there is nothing."""
        if self.mounted and setting is None:
            return None
        return self._tar(not self.mounted, setting)

    def _tar(self, library: bool, setting: str | None) -> bytes:
        buf = io.BytesIO()
        with tarball.writer(buf) as tar:
            if library:
                tarball.add_bytes(tar, LIBRARY.lstrip("/"), self.library.data, 0o444)
            if setting is not None:
                tarball.add_bytes(tar, SETTING_FILE.lstrip("/"), f"{setting}\n".encode())
        return buf.getvalue()

    def environment(self, env: dict[str, str], image_id: str, service: bool
                    ) -> dict[str, str]:
        """A container's environment with the clock's settings (its own LD_PRELOAD kept)."""
        own = env.get("LD_PRELOAD") or image_preload(self.engine, image_id)
        settings = {"LD_PRELOAD": LIBRARY + (f":{own}" if own else ""), "FAKETIME_FMT": "%s",
                    "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        if service:
            settings.update(FAKETIME_TIMESTAMP_FILE=SETTING_FILE, FAKETIME_CACHE_DURATION="0")
        else:
            settings["FAKETIME"] = _frozen(self.clock.at)
        return {**env, **settings}

    def exec_environment(self) -> dict[str, str]:
        """For a process about to start: its setting once the clock runs."""
        if self.started is None:
            return {}
        return {"FAKETIME": self.setting(time.time())}


    def start(self, services: list[Any]) -> float:
        """Start it now; rewrite the services' setting file, each for its PID 1's start."""
        with self._lock:
            self.started = time.time()
        if not self.clock.frozen and services:
            failures: list[BaseException] = []

            def rewrite(container: Any) -> None:
                try:
                    began = container.started_at()
                    container.copy_in(self._tar(False, self.setting(began)))
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    failures.append(exc)

            threads = [threading.Thread(target=rewrite, args=(c,)) for c in services]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise failures[0]
        return self.started

    def reading(self, real: float) -> float:
        started = self.started
        if self.clock.frozen or started is None or real <= started:
            return self.clock.at
        return self.clock.at + self.clock.rate * (real - started)


def judge(output: str, clock: RunClock, at_real: float) -> ClockReach:
    """What `date +%s` printed in a container, against what the clock should read."""
    if _NOT_LOADED in output:
        line = next(x for x in output.splitlines() if _NOT_LOADED in x)
        return ClockReach(False, f"the C library could not load libfaketime "
                          f"({line.strip()[:160]}); if the copy in ~/.cache/repro is "
                          "damaged, remove it and run again")
    numbers = re.findall(r"^\s*(-?\d+)\s*$", output, re.M)
    if not numbers:
        said = output.strip().splitlines()[-1:] or ["nothing"]
        return ClockReach(None, f"could not check: `date +%s` printed {said[0][:80]!r}")
    seen = int(numbers[-1])
    expected = clock.reading(at_real)
    slack = 2 + (0 if clock.clock.frozen else clock.clock.rate * 2)
    if abs(seen - expected) <= slack:
        return ClockReach(True, f"`date` reads {seen}")
    if abs(seen - at_real) <= 5:
        return ClockReach(False, "`date` reads the real time: its programs are statically "
                          "linked or do not use the GNU C library (busybox, Go, musl), which "
                          "libfaketime cannot reach")
    return ClockReach(False, f"`date` reads {seen}, not {int(expected)}")


def require_supported(refusals: list[str]) -> None:
    if refusals:
        raise SandboxError(f"clock: {refusals[0]}; use an image based on glibc "
                           "2.34+ (e.g. Debian 12, Ubuntu 22.04) or remove `clock:`")

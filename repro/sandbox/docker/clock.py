"""The sandbox clock on Docker: libfaketime from repro's tools image, preloaded into every
container of a run, with one clock for all of them.

How the one clock is kept (libfaketime reads its setting per process):

- The library sits in a named volume made once per tools image (`repro-clock-<id>`),
  mounted read-only at /.repro/faketime: nothing is copied per run.
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

import contextlib
import io
import json
import os
import re
import tarfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from repro import tarball
from repro.errors import SandboxError
from repro.sandbox.api import Clock, ClockReach, Say
from repro.sandbox.docker import bases
from repro.sandbox.docker.engine import Engine, translated

LIBRARY_DIR = "/.repro/faketime"
LIBRARY = f"{LIBRARY_DIR}/libfaketimeMT.so.1"  # the thread-safe build
SETTING_FILE = "/.repro/clock"
VOLUME_LABEL = "io.repro.clock"  # on the library volume: the tools image it came from
MIN_GLIBC = (2, 34)  # what the library from Debian 12 needs
_LOADERS = {"amd64": "/lib64/ld-linux-x86-64.so.2", "x86_64": "/lib64/ld-linux-x86-64.so.2",
            "arm64": "/lib/ld-linux-aarch64.so.1", "aarch64": "/lib/ld-linux-aarch64.so.1"}
_GLIBC = re.compile(rb"release version (\d+)\.(\d+)")
_NOT_LOADED = "cannot be preloaded"  # what ld.so says when the library is not there


# ---- the library, once per tools image ------------------------------------------------


_volume_name: dict[int, str] = {}  # per engine (by identity), once known


def ensure_library(engine: Engine, say: Say) -> str:
    """The volume holding libfaketime on the engine (made from repro's tools image on first
    use)."""
    if id(engine) in _volume_name:
        return _volume_name[id(engine)]
    import docker

    bases.ensure(engine, bases.TOOLS, say)
    client = engine.client()
    with translated(f"looking up {bases.TOOLS}"):
        tools = client.images.get(bases.TOOLS).id
    name = f"repro-clock-{tools.split(':')[-1][:12]}"
    with translated("looking up the clock's library volume"):
        try:
            client.volumes.get(name)
            _volume_name[id(engine)] = name
            return name
        except docker.errors.NotFound:
            pass
    say(f"copying libfaketime from {bases.TOOLS} into volume {name} (once) ...")
    with translated("creating the clock's library volume"):
        client.volumes.create(name, labels={VOLUME_LABEL: tools})
    try:
        with translated("copying libfaketime"):
            client.containers.run(
                tools, ["sh", "-c", "cp /usr/lib/*/faketime/libfaketimeMT.so.1 /out/.part && "
                        f"mv /out/.part /out/{Path(LIBRARY).name}"],
                volumes={name: {"bind": "/out", "mode": "rw"}}, network_mode="none",
                remove=True, stdout=True, stderr=True)
    except BaseException:
        with translated("removing a half-made volume"):
            client.volumes.get(name).remove(force=True)
        raise
    _volume_name[id(engine)] = name
    return name


# ---- what an image allows -------------------------------------------------------------


def _cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "repro" / "clock-images.json"


_facts: dict[str, dict[str, Any]] = {}


def _load_facts() -> None:
    if _facts:
        return
    with contextlib.suppress(OSError, ValueError):  # a cache: absent or broken is empty
        _facts.update(json.loads(_cache_file().read_text()))


def _save_facts() -> None:
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_facts, indent=1))
        tmp.replace(path)
    except OSError:
        pass  # a cache: the next run looks again


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
    _load_facts()
    known = _facts.get(image_id)
    if known is None:
        arch = engine.facts().get("engine_os", "/amd64").split("/")[-1]
        loader = _read(engine, container_id, _LOADERS.get(arch, _LOADERS["amd64"]))
        found = _GLIBC.search(loader) if loader else None
        known = {"glibc": [int(found.group(1)), int(found.group(2))] if found else None}
        _facts[image_id] = known
        _save_facts()
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

    def __init__(self, clock: Clock, volume: str, engine: Engine):
        self.clock = clock
        self.volume = volume
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

    def binds(self) -> dict[str, dict[str, str]]:
        return {self.volume: {"bind": LIBRARY_DIR, "mode": "ro"}}

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

    def setting_file(self, setting: str) -> bytes:
        buf = io.BytesIO()
        with tarball.writer(buf) as tar:
            tarball.add_bytes(tar, SETTING_FILE.lstrip("/"), f"{setting}\n".encode())
        return buf.getvalue()

    def start(self, services: list[Any]) -> float:
        """Start it now; rewrite the services' setting file, each for its PID 1's start."""
        with self._lock:
            self.started = time.time()
        if not self.clock.frozen and services:
            failures: list[BaseException] = []

            def rewrite(container: Any) -> None:
                try:
                    began = container.started_at()
                    container.copy_in(self.setting_file(self.setting(began)))
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
        return ClockReach(False, f"the C library could not load libfaketime ({line.strip()[:160]})"
                          f"; if the volume {clock.volume} is damaged, remove it "
                          f"(`docker volume rm {clock.volume}`) and run again")
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

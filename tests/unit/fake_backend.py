"""An in-memory sandbox backend implementing repro.sandbox.api, for unit tests.

Containers keep their files in a dict (path -> bytes) and answer execs from a script, so
the pipeline's use of the port can be tested without an engine.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from repro import tarball
from repro.errors import SandboxError
from repro.sandbox.api import (
    ChangedImage,
    Check,
    ClockReach,
    ContainerSpec,
    ContainerState,
    ExecRequest,
    ExecResult,
    ImageChange,
    ImageInfo,
    ImageSpec,
    Leftover,
    NetworkShape,
    SandboxSpec,
    Say,
    Status,
)


@dataclass
class Answer:
    """What a scripted exec does: output, exit code, and an optional side effect."""

    exit_code: int | None = 0
    stdout: bytes | str = b""
    stderr: bytes | str = b""
    timed_out: bool = False
    effect: Callable[[FakeContainer], None] | None = None
    seconds: float = 0.0  # how long it runs (a set ExecRequest.stop ends it sooner)


def _bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


class FakeContainer:
    def __init__(self, name: str, address: str = "", *, log: str = "",
                 status: Status = Status.CREATED, exit_code: int | None = None,
                 health: str | None = None, default: Answer | None = None):
        self._name, self._address = name, address or name
        self.log, self.status, self.exit_code, self.health = log, status, exit_code, health
        self.files: dict[str, bytes] = {}  # absolute path -> content
        self.owners: dict[str, tuple[int, int]] = {}  # absolute path -> (uid, gid) copied in
        self.links: dict[str, str] = {}  # absolute path -> link target
        self.execs: list[ExecRequest] = []
        self.default = default or Answer()
        self.oom_kills: int | None = 0  # what memory_kills() says (None: cannot tell)
        self._script: list[tuple[str, list[Answer]]] = []
        self.done: list[str] = []  # faults done to it, in order: "kill SIGKILL", "pause"
        self.refuse: dict[str, str] = {}  # fault -> the engine's refusal (SandboxError)
        self.clocked = False  # its sandbox has a clock
        self.reach = ClockReach(True, "fake: reads the clock")  # what clock_reach says
        self._lock = threading.Lock()

    # -- scripting ---------------------------------------------------------------------
    def answer(self, needle: str, *answers: Answer) -> None:
        """Execs whose argv (joined by spaces) contains `needle` get these answers in
        turn; the last one repeats. A later script for the same exec wins."""
        self._script.append((needle, list(answers)))

    def _answer_for(self, request: ExecRequest) -> Answer:
        command = " ".join(request.argv)
        for needle, answers in reversed(self._script):
            if needle in command:
                return answers.pop(0) if len(answers) > 1 else answers[0]
        return self.default

    # -- the port ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def address(self) -> str:
        return self._address

    def start(self) -> None:
        self.status = Status.RUNNING

    def copy_in(self, tar: IO[bytes] | bytes) -> None:
        data = tar if isinstance(tar, bytes) else tar.read()
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive:
                path = "/" + member.name.lstrip("/")
                self.owners[path] = (member.uid, member.gid)
                if member.issym():
                    self.links[path] = member.linkname
                elif member.isfile():
                    body = archive.extractfile(member)
                    assert body is not None
                    self.files[path] = body.read()

    def copy_out(self, path: str) -> Iterator[bytes] | None:
        path = posixpath.normpath(path)
        buf = io.BytesIO()
        with tarball.writer(buf) as tar:
            base = posixpath.basename(path)
            if path in self.links:
                tarball.add_symlink(tar, base, self.links[path])
            elif path in self.files:
                tarball.add_bytes(tar, base, self.files[path])
            else:
                inside = {p: b for p, b in self.files.items() if p.startswith(path + "/")}
                if not inside:
                    return None
                tarball.add_dir(tar, base)
                for name, body in sorted(inside.items()):
                    tarball.add_bytes(tar, base + name[len(path):], body)
        return iter([buf.getvalue()])

    def fault(self, action: str, status: Status | None = None) -> None:
        """Do a fault (or refuse it like an engine would); the tests read `done`."""
        kind = action.split()[0]
        if kind in self.refuse:
            raise SandboxError(f"{kind} of {self.name} failed: {self.refuse[kind]}")
        self.done.append(action)
        if status is not None:
            self.status = status

    def stop(self) -> None:
        self.fault("stop", Status.EXITED)
        self.exit_code = 0

    def kill(self, signal: str) -> None:
        self.fault(f"kill {signal}", Status.EXITED)
        self.exit_code = 137

    def restart(self) -> None:
        self.fault("restart", Status.RUNNING)

    def pause(self) -> None:
        self.fault("pause", Status.PAUSED)

    def unpause(self) -> None:
        self.fault("unpause", Status.RUNNING)

    def exec(self, request: ExecRequest, stdout: IO[bytes], stderr: IO[bytes]) -> ExecResult:
        if self.status is Status.PAUSED:
            raise SandboxError(f"starting {request.label or 'a process'} failed: Container "
                               f"{self.name} is paused, unpause the container before exec")
        if self.status is Status.REMOVED:
            raise SandboxError(f"starting {request.label or 'a process'} failed: "
                               f"no such container: {self.name}")
        with self._lock:  # execs may come from several threads (simultaneous users)
            self.execs.append(request)
            answer = self._answer_for(request)
        started = time.time()
        stdout.write(_bytes(answer.stdout))
        stderr.write(_bytes(answer.stderr))
        if answer.effect is not None:
            answer.effect(self)
        stopped = False
        if answer.seconds:
            stop = request.stop or threading.Event()
            limit = answer.seconds if request.timeout is None else \
                min(answer.seconds, request.timeout)
            stopped = stop.wait(limit)
            if not stopped and request.timeout is not None and request.timeout < answer.seconds:
                return ExecResult(None, True, started, time.time())
        if stopped:
            return ExecResult(143, False, started, time.time(), stopped=True)
        return ExecResult(answer.exit_code, answer.timed_out, started, time.time())

    def state(self) -> ContainerState:
        return ContainerState(self.status, self.exit_code, self.health)

    def logs(self, tail: int | None = None) -> str:
        lines = self.log.splitlines(keepends=True)
        return "".join(lines if tail is None else lines[-tail:])

    def memory_kills(self) -> int | None:
        return self.oom_kills

    def clock_reach(self) -> ClockReach | None:
        return self.reach if self.clocked else None


class FakeSandbox:
    def __init__(self, spec: SandboxSpec, main: FakeContainer,
                 services: dict[str, FakeContainer]):
        self.spec = spec
        self._main, self._services = main, services
        self.sessions: list[tuple[str | None, list[str]]] = []
        self.session_exit = 0
        self.clock_started: float | None = None

    @property
    def name(self) -> str:
        return f"fake-{self.spec.run_id}"

    @property
    def main(self) -> FakeContainer:
        return self._main

    @property
    def services(self) -> dict[str, FakeContainer]:
        return self._services

    def enter_hint(self, container: str | None = None) -> str:
        target = self._services[container].name if container else self.name
        return f"fake-enter {target}"

    def session(self, container: str | None, argv: list[str]) -> int:
        self.sessions.append((container, argv))
        return self.session_exit

    def disconnect(self, service: str) -> None:
        self._services[service].fault("disconnect")

    def reconnect(self, service: str) -> None:
        self._services[service].fault("reconnect")

    def shape_network(self, service: str, shape: NetworkShape | None) -> None:
        self._services[service].fault("network " + ("clear" if shape is None else repr(shape)))

    def start_clock(self) -> float:
        if self.spec.clock is None:
            raise SandboxError("this sandbox has no clock to start")
        self.clock_started = time.time()
        return self.clock_started


class FakeBackend:
    """Hands out sandboxes whose containers come from `containers` (by role) or are
    made fresh; records what it was asked for and what it removed."""

    def __init__(self, containers: dict[str, FakeContainer] | None = None):
        self.containers = containers or {}
        self.saved: dict[str, bytes] = {}  # by ref: what save_image writes, load_image puts
        self.images: list[tuple[ImageSpec, str]] = []
        self.specs: list[SandboxSpec] = []
        self.sandboxes: list[FakeSandbox] = []
        self.removed: list[str] = []
        self.leftovers: list[Leftover] = []
        self.session_exit = 0  # what a session in its sandboxes exits with
        self.shaping_checked = 0
        self.shaping_refused: str | None = None  # check_network_shaping's SandboxError
        self.clocks_prepared = 0
        # change_image: the script's exit code by image id (default: nothing to change),
        # and each change asked for, as (image, change).
        self.change_exits: dict[str, tuple[int, str]] = {}
        self.changes: list[tuple[str, ImageChange]] = []
        # What diagnose() reports: a healthy engine unless a test says otherwise.
        self.checks = [Check("engine", True, "fake engine 1.0"),
                       Check("storage", True, "fake driver, 100.0 GiB free")]

    def prepare_image(self, image: ImageSpec, environment: str, say: Say,
                      on_output: Say | None = None) -> ImageInfo:
        self.images.append((image, environment))
        if image.ref is None and on_output is not None:  # what a build prints
            on_output("Step 1/1 : FROM fake")
        ref = image.ref or f"fake/{environment}:built"
        return ImageInfo(ref, f"id-of-{ref}", image.ref is None, 0.0)

    def change_image(self, base: str, change: ImageChange, say: Say) -> ChangedImage:
        self.changes.append((base, change))
        code, output = self.change_exits.get(base, (0, ""))
        made = f"{base}+{change.key}" if code == change.changed else base
        return ChangedImage(made, code, output, cached=False)

    def _container(self, spec: ContainerSpec, name: str) -> FakeContainer:
        return self.containers.get(spec.name) or FakeContainer(name, spec.name)

    @contextmanager
    def open(self, spec: SandboxSpec) -> Iterator[FakeSandbox]:
        self.specs.append(spec)
        main = self._container(spec.main, f"fake-{spec.run_id}")
        services = {s.name: self._container(s, f"fake-{spec.run_id}-{s.name}")
                    for s in spec.services}
        for container in (main, *services.values()):
            container.clocked = spec.clock is not None
        sandbox = FakeSandbox(spec, main, services)
        sandbox.session_exit = self.session_exit
        self.sandboxes.append(sandbox)
        try:
            yield sandbox
        finally:
            if not spec.keep:
                for container in (main, *services.values()):
                    container.status = Status.REMOVED
                self.removed.append(sandbox.name)

    def facts(self) -> dict[str, str]:
        return {"engine_version": "fake-1.0"}

    def check_session(self) -> None:
        return None

    def check_network_shaping(self, say: Say) -> None:
        self.shaping_checked += 1
        if self.shaping_refused:
            raise SandboxError(self.shaping_refused)

    def collect(self, run_id: str | None, include_kept: bool, dry_run: bool,
                force: bool) -> list[Leftover]:
        return [x for x in self.leftovers if run_id is None or x.run_id == run_id]

    def collect_images(self, environment: str | None, dry_run: bool) -> list[Leftover]:
        return []

    def make_base(self, name: str, force: bool, say: Say) -> str:
        return f"fake-base/{name}"

    zones = {"Europe/Berlin": b"TZif-berlin", "UTC": b"TZif-utc"}

    def zone_file(self, zone: str, say: Say) -> bytes | None:
        return self.zones.get(zone)

    def prepare_clock(self, say: Say) -> None:
        self.clocks_prepared += 1

    def support_images(self) -> list[str]:
        return ["fake-base/tools"]

    def save_image(self, ref: str, out: IO[bytes]) -> str:
        out.write(self.saved.get(ref, ref.encode()))
        return f"sha256:{ref}"

    def load_image(self, ref: str, image_id: str, source: Callable[[], IO[bytes]],
                   say: Say) -> bool:
        if ref in self.saved:
            return False
        with source() as tar:
            self.saved[ref] = tar.read()
        return True

    def diagnose(self) -> list[Check]:
        return list(self.checks)

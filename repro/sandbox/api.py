"""The sandbox port: what a run needs from a container engine, in plain values.

The pipeline programs against these Protocols only; a backend (Docker today; a remote
engine or Kubernetes later) implements them. Nothing here imports the rest of repro, so a
backend never sees a plan, a record or a scenario: it gets specs, returns results, and
raises `repro.errors.SandboxError` (the one exception every backend speaks) on failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Protocol

Say = Callable[[str], None]
STOP_GRACE = 2.0  # seconds between SIGTERM and SIGKILL when a process is stopped


@dataclass(frozen=True)
class Limits:
    """Resource limits of one container (None: the engine's default)."""

    cpus: float | None = None
    memory: int | None = None  # bytes
    pids: int | None = None
    shm_size: int | None = None  # bytes of /dev/shm
    ulimits: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # name -> soft, hard


@dataclass(frozen=True)
class ImageSpec:
    """An image by reference, or built from a context directory."""

    ref: str | None
    context: Path | None = None
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageInfo:
    ref: str  # what people see (a tag)
    id: str  # what the backend starts containers from
    built: bool  # built (or made) for this run, not found ready
    seconds: float  # time spent providing it


@dataclass(frozen=True)
class ImageChange:
    """A shell script run once as root in an image; when it exits `changed`, what it
    changed is kept as an image of its own (cached by the base image and `key`), which
    the run's containers start from instead. Any other exit keeps the base image."""

    what: str  # for people: "the locale de_DE.UTF-8"
    key: str  # the change, for the cache: same base and key, same result
    script: str  # run by `sh -c`, as root
    args: tuple[str, ...]  # its $1, $2, ...
    changed: int  # the exit code saying the script changed the image


@dataclass(frozen=True)
class ChangedImage:
    id: str  # the image to start containers from (the base's id when nothing changed)
    exit_code: int  # the script's (`changed`, or why nothing was kept)
    output: str  # the script's last lines, for a failure's message
    cached: bool  # found made by an earlier run


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a run: the steps' container or a service."""

    name: str  # role: "sandbox" for the steps' container, else the service's name
    image: str  # an ImageInfo.id from the same backend
    env: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None  # None: the image's own (services)
    workdir: str | None = None
    user: str | None = None
    limits: Limits = Limits()
    hostname: str | None = None  # None: the backend's choice (the role for services)
    tmpfs: Mapping[str, int] = field(default_factory=dict)  # path -> size in bytes, empty
    no_new_privileges: bool = True  # no process gains privileges (setuid, file caps)
    cap_drop: tuple[str, ...] = ()  # Linux capabilities taken away (NET_RAW, ...)
    cap_add: tuple[str, ...] = ()  # and given beyond the engine's default set


@dataclass(frozen=True)
class Clock:
    """A fake wall clock for every process of a sandbox, applied through the C library.
    Until `Sandbox.start_clock` it stands at `at`; from then on it reads `at` plus `rate`
    times the real time since, or stays at `at` when frozen."""

    at: float  # epoch seconds
    rate: float = 1.0
    frozen: bool = False


@dataclass(frozen=True)
class ClockReach:
    """Whether a container's programs see the sandbox's clock: True, False (`detail` says
    why not) or None (it could not be checked)."""

    reached: bool | None
    detail: str


@dataclass(frozen=True)
class SandboxSpec:
    """Everything a backend needs to create one run's sandbox; nothing is started."""

    run_id: str
    scenario_id: str
    main: ContainerSpec  # the steps run here; it idles until removed
    services: tuple[ContainerSpec, ...] = ()  # in start order
    egress: bool = False  # False: no route out of the sandbox
    keep: bool = False  # leave everything in place after the run (for inspection)
    clock: Clock | None = None  # every container's wall clock; None: the real one
    # The run's only process, when it has nothing else to run in the steps' container:
    # the backend may run it as that container's own process (no idle PID 1, no exec).
    # `main.start()` then waits for it, and `main.exec` with an equal request (its
    # `stop` and `label` aside) is the one process it runs; see docs/performance.md.
    one_shot: ExecRequest | None = None


@dataclass(frozen=True)
class ExecRequest:
    """A process to run inside a container; the container's env/workdir/user apply
    unless overridden. `timeout` kills the process and all it started."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    stdin: bytes | None = None
    timeout: float | None = None
    label: str = ""  # what it is, for error messages ("step 'import'")
    # Set by the caller to end the process (and all it started) before it ends by itself:
    # SIGTERM, then SIGKILL after `STOP_GRACE` seconds. A background step is stopped so.
    stop: threading.Event | None = None


@dataclass(frozen=True)
class ExecResult:
    exit_code: int | None
    timed_out: bool
    started: float  # epoch seconds
    ended: float
    stopped: bool = False  # ended by `ExecRequest.stop`
    # It was the container's own process (SandboxSpec.one_shot): the container ended with
    # it, and the backend has already told a kill from outside the run (SandboxError).
    own_container: bool = False


class Status(Enum):
    RUNNING = "running"
    CREATED = "created"  # not started yet
    EXITED = "exited"
    REMOVED = "removed"  # gone (removed from outside the run)
    PAUSED = "paused"  # frozen by a fault: alive, but runs nothing until unpaused


@dataclass(frozen=True)
class ContainerState:
    status: Status
    exit_code: int | None = None
    health: str | None = None  # the image's HEALTHCHECK verdict; None when it has none


@dataclass(frozen=True)
class NetworkShape:
    """Conditions put on a service's network traffic (what it sends), like a slow link."""

    latency: float = 0.0  # seconds added to every packet
    jitter: float = 0.0  # seconds of random variation of the latency
    loss: float = 0.0  # percent of packets dropped
    rate: str | None = None  # bandwidth cap, e.g. "1mbit"


class Container(Protocol):
    """The steps' container or one service of a live sandbox."""

    @property
    def name(self) -> str:
        """The engine's name for it (shown to people)."""

    @property
    def address(self) -> str:
        """How the other containers of the run reach it (a host name)."""

    def start(self) -> None: ...

    def copy_in(self, tar: IO[bytes] | bytes) -> None:
        """Extract a tar stream at `/` in the container."""

    def copy_out(self, path: str) -> Iterator[bytes] | None:
        """A tar stream of `path` (a symbolic link is not followed); None if absent."""

    def exec(self, request: ExecRequest, stdout: IO[bytes], stderr: IO[bytes]) -> ExecResult:
        """Run a process, streaming its output into the two files."""

    def state(self) -> ContainerState: ...

    def logs(self, tail: int | None = None) -> str:
        """The container's own output (PID 1), stdout and stderr together."""

    def memory_kills(self) -> int | None:
        """How many processes the kernel has killed in this container for lack of memory
        since it was created; None when the engine cannot tell."""

    # Faults: what a scenario may do to a service while the steps run.
    def stop(self) -> None:
        """Its stop signal, then SIGKILL after the engine's grace period."""

    def kill(self, signal: str) -> None:
        """Send PID 1 a signal (`SIGKILL`, `SIGTERM`, ...)."""

    def restart(self) -> None: ...

    def pause(self) -> None:
        """Freeze every process (it keeps its memory and connections)."""

    def unpause(self) -> None: ...

    def clock_reach(self) -> ClockReach | None:
        """Whether this container's programs see the sandbox's clock, checked once it
        runs and before the clock starts; None when the sandbox has no clock."""


class Sandbox(Protocol):
    """One run's live resources, created by Backend.open."""

    @property
    def name(self) -> str: ...

    @property
    def main(self) -> Container: ...

    @property
    def services(self) -> Mapping[str, Container]: ...

    def enter_hint(self, container: str | None = None) -> str:
        """A command a person can type to get a shell in it (kept sandboxes)."""

    def session(self, container: str | None, argv: list[str]) -> int:
        """Attach the terminal to `argv` in the container (None: the steps' one); its exit
        status. Used by `repro shell`."""

    # Faults on a service's network (the steps' container is never a target).
    def disconnect(self, service: str) -> None:
        """Cut the service off the run's network: nothing reaches it, its name no longer
        resolves."""

    def reconnect(self, service: str) -> None:
        """Put it back, reachable by the same name (with a fresh interface)."""

    def shape_network(self, service: str, shape: NetworkShape | None) -> None:
        """Delay, jitter, drop or cap what the service sends; None removes the shape.
        Needs nothing in the service's image."""

    def start_clock(self) -> float:
        """Set the clock going (right before the first step): from now on every container
        reads `at` plus `rate` times the real time since. The real epoch time it read `at`."""


@dataclass(frozen=True)
class Leftover:
    """A resource found by `gc`, removed or left (with the reason)."""

    kind: str  # container | network | volume | image
    name: str
    run_id: str
    reason_kept: str | None
    in_use: bool = False  # spared because its run is still going (not left behind)


@dataclass(frozen=True)
class Check:
    """One fact `repro doctor` checked about the engine: whether it holds (None: it could
    not be checked, `detail` says why), what was found, and a one-line fix when it fails."""

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None


class Backend(Protocol):
    """A container engine able to host sandboxes."""

    def prepare_image(self, image: ImageSpec, environment: str, say: Say,
                      on_output: Say | None = None) -> ImageInfo:
        """Find, pull, build (cached) or make offline the image; SandboxError if not.
        `on_output` gets each line of a build's output as it comes (progress)."""

    def change_image(self, base: str, change: ImageChange, say: Say) -> ChangedImage:
        """Run `change` in image `base` (an ImageInfo.id) and keep what it changed, once:
        the same base and key later answer from the cache, including "nothing to
        change" (an exit of 0). SandboxError when the engine cannot run it at all."""

    def open(self, spec: SandboxSpec) -> AbstractContextManager[Sandbox]:
        """Create the sandbox; on leaving, remove everything it made (unless kept), even
        after an error or an interrupt."""

    def facts(self) -> dict[str, str]:
        """Engine version and platform, for the run record."""

    def check_session(self) -> None:
        """SandboxError when Sandbox.session cannot work here; asked before a run that
        ends in one, so the user learns it before waiting for the run."""

    def check_network_shaping(self, say: Say) -> None:
        """Make ready what Sandbox.shape_network needs; SandboxError saying why it cannot
        work on this engine (asked before a run that shapes a network)."""

    def collect(self, run_id: str | None, include_kept: bool, dry_run: bool,
                force: bool) -> list[Leftover]:
        """Remove what dead (or the given) runs left behind, by label."""

    def collect_images(self, environment: str | None, dry_run: bool) -> list[Leftover]:
        """Remove cached environment images no container uses."""

    def make_base(self, name: str, force: bool, say: Say) -> str:
        """Create an offline base image (`busybox`, `debian:SUITE`); its reference."""

    def zone_file(self, zone: str, say: Say) -> bytes | None:
        """The compiled tz database file (TZif) of an IANA zone, from repro's own offline
        copy, for images that lack it; None when the zone is unknown there."""

    def prepare_clock(self, say: Say) -> None:
        """Make what a sandbox clock needs available (made once, then cached);
        SandboxError if it cannot be."""

    def support_images(self) -> list[str]:
        """The images the backend itself runs beside a sandbox (repro's tools image): a
        portable case carries them so it runs where none can be made."""

    def save_image(self, ref: str, out: IO[bytes]) -> str:
        """Write image `ref` (as `docker save` would, named) to `out`; its id. SandboxError
        when the engine has no such image."""

    def load_image(self, ref: str, image_id: str, source: Callable[[], IO[bytes]],
                   say: Say) -> bool:
        """Make image `ref` (id `image_id`) available from a tar `save_image` wrote, read
        from `source()` only when the engine lacks it; whether it was loaded."""

    def diagnose(self) -> list[Check]:
        """The engine's health for `repro doctor`, in order: it answers, its storage and
        free disk, its default bridge, memory limits enforced, the offline bases and
        repro's tools image, leftovers and unused images. Never raises: an engine that
        does not answer is a failed check (the checks needing it are not run)."""

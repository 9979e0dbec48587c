"""A run's one step as the steps' container's own process (SandboxSpec.one_shot).

The container was created with the step as its command, under the engine's small init
(`docker run --init`: it starts the step as its child, passes signals on, reaps orphans,
and exits with the step's status), so the step is not PID 1 and signals reach it as they
reach an exec. Here: attach (before the start, so no output is missed), start, read the
output as an exec's is read, wait for the exit status. A timeout kills the container: with
its init gone, the kernel kills every process the step started.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import IO, TYPE_CHECKING, Any

from repro.errors import SandboxError
from repro.sandbox.api import STOP_GRACE, ExecRequest, ExecResult
from repro.sandbox.docker import hijack
from repro.sandbox.docker.container import KILL_GRACE_S, _close, _feed, _pump
from repro.sandbox.docker.engine import translated

if TYPE_CHECKING:
    from repro.sandbox.docker.container import DockerContainer

# How far ahead of now Podman's event stream is asked to end (it reads its event log
# from the start meanwhile).
PODMAN_EVENTS_AHEAD_S = 1.0
# What the engine's init says when it cannot start the command at all, and its exit
# status then: Docker's tini, Podman's catatonit.
_INIT_FAILED = ((b"[FATAL tini", (126, 127)), (b"ERROR (catatonit:", (1,)))


def same(planned: ExecRequest, request: ExecRequest) -> bool:
    """Is `request` the process the container was created for? (stop and label aside)"""
    return (planned.argv, dict(planned.env), planned.workdir, planned.user, planned.stdin,
            planned.timeout) == (request.argv, dict(request.env), request.workdir,
                                 request.user, request.stdin, request.timeout)


def run(container: DockerContainer, request: ExecRequest, stdout: IO[bytes],
        stderr: IO[bytes]) -> ExecResult:
    api = container.engine.client().api
    cid = container.model.id
    label = request.label or "a process"
    err = _Watched(stderr)
    with translated(f"starting {label}"):
        attached = hijack.attach(api, cid, stdin=request.stdin is not None)
        try:
            api.start(cid)
        except BaseException:
            attached.close()
            raise
    sock = attached.sock
    raw = getattr(sock, "_sock", sock)
    raw.settimeout(None)  # a step may be silent for longer than the client timeout
    started = time.time()
    reader = threading.Thread(target=_pump, args=(attached.output, stdout, err), daemon=True)
    reader.start()
    if request.stdin is not None:
        threading.Thread(target=_feed, args=(raw, request.stdin), daemon=True).start()
    stopped: list[bool] = []
    if request.stop is not None:
        threading.Thread(target=_stop_when, args=(api, cid, request.stop, reader, stopped),
                         daemon=True).start()
    killed = False
    try:
        reader.join(request.timeout)
        timed_out = reader.is_alive() and not stopped
        if reader.is_alive():
            killed = _kill(api, cid, "KILL")
            reader.join(KILL_GRACE_S)
    finally:
        _close(raw)
        if sock is not raw:
            with contextlib.suppress(OSError):
                sock.close()
        attached.close()
    ended = time.time()
    exit_code = _exit_code(container, label)
    if any(err.first.startswith(said) and exit_code in codes for said, codes in _INIT_FAILED):
        # The container's shell is missing: the idle container would not start either.
        raise SandboxError(f"starting {container.what} failed: "
                           f"{err.first.decode('utf-8', 'replace').strip()[:200]}")
    # Ended by a signal nobody here sent: was it the engine's (`docker stop`, `kill`, `rm`)?
    if (exit_code or 0) > 128 and not (timed_out or stopped or killed) and \
            _events(container, "kill", started):
        raise SandboxError(f"the sandbox {container.name} was stopped or removed from outside "
                           "during the run (`repro gc --run`, `docker rm`?); no verdict")
    return ExecResult(exit_code, timed_out, started, ended, bool(stopped), own_container=True)


def memory_kills(container: DockerContainer) -> int | None:
    """The kernel's OOM kills in the container, as the engine's `oom` events count them
    (no exec can read its cgroup: it stopped with its step)."""
    try:
        # Podman (4.3) sends no `oom` event: its state is its only word on it. Where it
        # does not see the kill either (cgroup v1 in a container), this says 0.
        if container.engine.podman():
            with translated(f"inspecting {container.what}"):
                state = container.engine.client().api.inspect_container(container.model.id)
            return int(bool(state["State"].get("OOMKilled")))
        return len(_events(container, "oom", None))
    except SandboxError:
        return None


class _Watched:
    """The step's stderr file, keeping its first bytes (the init's complaint, if any)."""

    def __init__(self, target: IO[bytes]):
        self.target = target
        self.first = b""

    def write(self, data: bytes) -> int:
        if len(self.first) < 200:
            self.first += data[:200 - len(self.first)]
        return self.target.write(data)


def _exit_code(container: DockerContainer, label: str) -> int | None:
    import docker

    with translated(f"reading the exit code of {label}"):
        try:
            return container.engine.client().api.wait(container.model.id,
                                                      timeout=60).get("StatusCode")
        except docker.errors.NotFound:
            raise SandboxError(f"the sandbox {container.name} was removed from outside "
                               "during the run (`repro gc --run`, `docker rm`?); no verdict"
                               ) from None


def _events(container: DockerContainer, kind: str, since: float | None) -> list[Any]:
    """The engine's events of this kind for the container, since `since` (or its start)."""
    api = container.engine.client().api
    with translated(f"reading the events of {container.what}"):
        if since is None:
            since = container.started_at()
        # Up to now, to the nanosecond: a whole second ahead, the engine streams until then
        # (a crashed step's run waited up to 2 s for nothing). Podman stops at once at an
        # `until` already past, having sent nothing: a moment ahead there.
        until = time.time() + (PODMAN_EVENTS_AHEAD_S if container.engine.podman() else 0)
        return list(api.events(since=int(since) - 1, until=f"{until:.9f}",
                               filters={"container": container.model.id, "event": kind},
                               decode=True))


def _kill(api: Any, cid: str, signal: str) -> bool:
    import docker

    try:
        api.kill(cid, signal=signal)
    except docker.errors.APIError:
        return False  # it ended meanwhile
    return True


def _stop_when(api: Any, cid: str, stop: threading.Event, reader: threading.Thread,
               stopped: list[bool]) -> None:
    """Once `stop` is set: TERM to the step (the init passes it on), KILL after the grace."""
    while reader.is_alive():
        if stop.wait(0.1):
            if not reader.is_alive():
                return
            stopped.append(True)
            with contextlib.suppress(Exception):
                _kill(api, cid, "TERM")
                reader.join(STOP_GRACE)
                if reader.is_alive():
                    _kill(api, cid, "KILL")
            return

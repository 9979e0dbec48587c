"""Wait until a service is ready: a command, a listening port, a log line, or its HEALTHCHECK."""

from __future__ import annotations

import io
import re
import time

from repro.config.model import Ready
from repro.errors import SandboxError
from repro.plan.show import describe_ready
from repro.results import progress
from repro.sandbox.api import Container, ExecRequest, Status

LOG_TAIL = 12  # lines of a failing service's log shown in the error


def log_tail(container: Container, lines: int = LOG_TAIL) -> str:
    try:
        text = container.logs(tail=lines)
    except Exception:  # noqa: BLE001 - the log is a courtesy in an error message
        return "(no log)"
    rows = [row for row in text.strip().splitlines() if row.strip()]
    return " | ".join(rows[-lines:]) or "(empty log)"


def _exec(container: Container, request: ExecRequest) -> tuple[int | None, bool, str, str]:
    out, err = io.BytesIO(), io.BytesIO()
    result = container.exec(request, out, err)
    return (result.exit_code, result.timed_out, out.getvalue().decode("utf-8", "replace"),
            err.getvalue().decode("utf-8", "replace"))


def _listening(container: Container, port: int) -> bool:
    """Port in LISTEN state, read from the service's own /proc: no packet is sent, and it
    works on a network the host cannot reach."""
    _, _, out, _ = _exec(container, ExecRequest(
        ("cat", "/proc/net/tcp", "/proc/net/tcp6"), user="0", label="a readiness check"))
    for row in out.splitlines()[1:]:
        fields = row.split()
        if len(fields) > 3 and fields[3] == "0A" and ":" in fields[1] and \
                int(fields[1].rsplit(":", 1)[1], 16) == port:
            return True
    return False


def _command(service: str, container: Container, ready: Ready, limit: float) -> bool:
    """Run the readiness command, for at most `limit` seconds: a probe that hangs counts
    as not ready (it is killed), and the deadline still holds."""
    argv = ("sh", "-c", ready.command) if isinstance(ready.command, str) else \
        tuple(ready.command or ())
    code, timed_out, out, err = _exec(container, ExecRequest(
        argv, timeout=max(limit, 0.05), label=f"the readiness check of service {service}"))
    if timed_out:
        return False
    if code in (126, 127):  # no such program in the image: waiting cannot help
        said = (out + err).strip().splitlines()[-1:] or [""]
        raise SandboxError(f"service {service}: its readiness {describe_ready(ready)} cannot "
                           f"run in its image (exit {code}: {said[0][:160]})")
    return code == 0


def _probe(service: str, container: Container, ready: Ready, limit: float) -> bool:
    if ready.command is not None:
        return _command(service, container, ready, limit)
    if ready.tcp is not None:
        return _listening(container, ready.tcp)
    if ready.log is not None:
        return re.search(ready.log, container.logs(), re.MULTILINE) is not None
    health = container.state().health
    if health is None:
        raise SandboxError(f"{container.name}: `ready: {{healthcheck: true}}` but its image "
                           "has no HEALTHCHECK; use command, tcp or log instead")
    return health == "healthy"


def _still_running(service: str, container: Container) -> None:
    state = container.state()
    if state.status in (Status.EXITED, Status.REMOVED):
        raise SandboxError(f"service {service} stopped (exit {state.exit_code}) before "
                           f"it was ready; its log ends: {log_tail(container)}")


def wait_ready(service: str, container: Container, ready: Ready | None,
               emit: progress.Emit | None = None) -> float:
    """Seconds it took; SandboxError naming the service, with its log tail, otherwise.
    `emit` hears what is awaited, each "not yet" and the end (progress)."""
    started = time.monotonic()
    if ready is None:
        return 0.0
    say = emit or (lambda _: None)
    say(progress.Waiting(service, describe_ready(ready), ready.timeout, started))
    deadline = started + ready.timeout
    attempt = 0
    # An exec on a stopped container fails, which tells us; a log or health probe would
    # not, so those look at the container's state on every round.
    stateful = ready.log is not None or bool(ready.healthcheck)
    while True:
        if stateful:
            _still_running(service, container)
        try:
            if _probe(service, container, ready, deadline - time.monotonic()):
                took = time.monotonic() - started
                say(progress.Ready(service, took))
                return took
        except SandboxError:
            _still_running(service, container)  # it stopped while being probed
            raise
        if time.monotonic() >= deadline:
            _still_running(service, container)
            raise SandboxError(f"service {service} not ready after {ready.timeout:g}s "
                               f"(waiting for {describe_ready(ready)}); its log ends: "
                               f"{log_tail(container)}")
        attempt += 1
        say(progress.Poll(service, attempt, time.monotonic() - started))
        time.sleep(max(0.0, min(ready.interval, deadline - time.monotonic())))

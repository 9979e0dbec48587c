"""Wait until a service is ready: a command, a listening port, a log line, or its HEALTHCHECK."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from repro.config.model import Ready
from repro.errors import SandboxError
from repro.plan.show import describe_ready
from repro.sandbox.docker.engine import translated

LOG_TAIL = 12  # lines of a failing service's log shown in the error


def log_tail(container: Any, lines: int = LOG_TAIL) -> str:
    try:
        text = container.logs(stdout=True, stderr=True, tail=lines).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the log is a courtesy in an error message
        return "(no log)"
    rows = [row for row in text.strip().splitlines() if row.strip()]
    return " | ".join(rows[-lines:]) or "(empty log)"


def _listening(container: Any, port: int) -> bool:
    """Port in LISTEN state, read from the service's own /proc: no packet is sent, and it
    works on a network the host cannot reach."""
    code, out = container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"], user="0")
    for row in out.decode(errors="replace").splitlines()[1:]:
        fields = row.split()
        if len(fields) > 3 and fields[3] == "0A" and ":" in fields[1] and \
                int(fields[1].rsplit(":", 1)[1], 16) == port:
            return True
    return False


def _command(service: str, container: Any, ready: Ready, limit: float) -> bool:
    """Run the readiness command, for at most `limit` seconds: a probe that hangs counts
    as not ready, and the deadline still holds."""
    argv = ["sh", "-c", ready.command] if isinstance(ready.command, str) else \
        list(ready.command or ())
    outcome: list[Any] = []

    def probe() -> None:
        try:
            outcome.append(container.exec_run(argv))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(max(limit, 0.05))
    if not outcome:
        return False
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    code, output = outcome[0]
    if code in (126, 127):  # no such program in the image: waiting cannot help
        said = output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise SandboxError(f"service {service}: its readiness {describe_ready(ready)} cannot "
                           f"run in its image (exit {code}: {said[0][:160]})")
    return code == 0


def _probe(service: str, container: Any, ready: Ready, limit: float) -> bool:
    if ready.command is not None:
        return _command(service, container, ready, limit)
    if ready.tcp is not None:
        return _listening(container, ready.tcp)
    if ready.log is not None:
        text = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return re.search(ready.log, text, re.MULTILINE) is not None
    health = (container.attrs.get("State") or {}).get("Health")
    if health is None:
        raise SandboxError(f"{container.name}: `ready: {{healthcheck: true}}` but its image "
                           "has no HEALTHCHECK; use command, tcp or log instead")
    return health.get("Status") == "healthy"


def _still_running(service: str, container: Any) -> None:
    container.reload()
    state = container.attrs.get("State") or {}
    if state.get("Status") in ("exited", "dead"):
        raise SandboxError(f"service {service} stopped (exit {state.get('ExitCode')}) before "
                           f"it was ready; its log ends: {log_tail(container)}")


def wait_ready(service: str, container: Any, ready: Ready | None) -> float:
    """Seconds it took; SandboxError naming the service, with its log tail, otherwise."""
    started = time.monotonic()
    if ready is None:
        return 0.0
    deadline = started + ready.timeout
    import docker

    # An exec on a stopped container fails, which tells us; a log or health probe would
    # not, so those look at the container's state on every round.
    stateful = ready.log is not None or bool(ready.healthcheck)
    with translated(f"waiting for service {service}"):
        while True:
            if stateful:
                _still_running(service, container)
            try:
                if _probe(service, container, ready, deadline - time.monotonic()):
                    return time.monotonic() - started
            except docker.errors.APIError:
                _still_running(service, container)  # it stopped while being probed
                raise
            if time.monotonic() >= deadline:
                _still_running(service, container)
                raise SandboxError(f"service {service} not ready after {ready.timeout:g}s "
                                   f"(waiting for {describe_ready(ready)}); its log ends: "
                                   f"{log_tail(container)}")
            time.sleep(max(0.0, min(ready.interval, deadline - time.monotonic())))

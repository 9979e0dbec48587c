"""`wait_for` entries of the timeline: a log line, a port that accepts connections, a
command that exits 0; polled until they hold or their timeout (a setup error)."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from repro.errors import SandboxError
from repro.plan.values import WaitPlan
from repro.sandbox.api import Container, ExecRequest, Sandbox

TAIL = 5  # lines of what was last seen, in the error of a wait that timed out

# Connect from the steps' container with whatever the image has: bash's /dev/tcp,
# Python, Perl or nc (BusyBox's too). 125: none of them, then the target's own table of
# listening sockets answers instead.
PORT_PROBE = r"""h=$1 p=$2
if command -v bash >/dev/null 2>&1; then exec bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p"
elif command -v python3 >/dev/null 2>&1; then exec python3 -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)' "$h" "$p"
elif command -v perl >/dev/null 2>&1; then exec perl -MIO::Socket::INET -e \
  'exit !IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Timeout => 2)' "$h" "$p"
elif command -v nc >/dev/null 2>&1; then exec nc -w 2 "$h" "$p" </dev/null
else exit 125; fi"""
NO_TOOL = 125


@dataclass
class StepOutput:
    """What a step printed so far, for a log wait on it, and whether it ended."""

    text: Callable[[], str]
    ending: str | None = None  # how it ended; None while it runs


def wait(plan: WaitPlan, sandbox: Sandbox, output_of: Callable[[str], StepOutput | None],
         aborted: threading.Event) -> tuple[float, str]:
    """Poll until the condition holds: (the moment it held, what showed it). SandboxError
    with what was last seen when it does not within its timeout."""
    deadline = time.monotonic() + plan.timeout
    seen = ""
    while not aborted.is_set():
        held, seen = _probe(plan, sandbox, output_of, deadline)
        if held:
            return time.time(), seen
        if time.monotonic() >= deadline:
            break
        aborted.wait(max(0.0, min(plan.interval, deadline - time.monotonic())))
    if aborted.is_set():
        return time.time(), "abandoned (the run was stopped)"
    raise SandboxError(f"wait_for {plan.description}: not satisfied after {plan.timeout:g}s; "
                       f"last seen: {_tail(seen) or '(nothing)'}")


def _probe(plan: WaitPlan, sandbox: Sandbox,
           output_of: Callable[[str], StepOutput | None], deadline: float) -> tuple[bool, str]:
    if plan.kind == "log":
        assert plan.pattern is not None
        if plan.step is not None:
            output = output_of(plan.step)
            if output is None:
                return False, f"step {plan.step} has not started yet"
            ended = output.ending  # before reading: its last lines are in the files then
            text = output.text()
            line = _line(plan.pattern, text)
            if line is None and ended is not None:
                raise SandboxError(f"wait_for {plan.description}: step {plan.step} ended "
                                   f"({ended}) without it; its output ends: "
                                   f"{_tail(text) or '(nothing)'}")
            return (line is not None), line or text
        text = sandbox.services[plan.service or ""].logs()
        line = _line(plan.pattern, text)
        return (line is not None), line or text
    if plan.kind == "port":
        return _port(plan, sandbox, deadline)
    target = _container(plan, sandbox)
    code, out = _exec(target, plan.argv, deadline, f"the wait_for command {plan.description}")
    if code in (126, 127):
        raise SandboxError(f"wait_for {plan.description} cannot run (exit {code}): "
                           f"{_tail(out) or 'no such program'}")
    return code == 0, out or f"exit {code}"


def _port(plan: WaitPlan, sandbox: Sandbox, deadline: float) -> tuple[bool, str]:
    host = sandbox.services[plan.service].address if plan.service else "127.0.0.1"
    assert plan.port is not None
    code, out = _exec(sandbox.main, ("sh", "-c", PORT_PROBE, "probe", host, str(plan.port)),
                      deadline, f"the wait_for {plan.description}")
    if code == NO_TOOL:  # no client in the image: is anything listening there?
        listening = _listening(_container(plan, sandbox), plan.port)
        return listening, f"port {plan.port} {'listening' if listening else 'not listening'}"
    return code == 0, f"connected to {host}:{plan.port}" if code == 0 else (
        out or f"no connection to {host}:{plan.port}")


def _container(plan: WaitPlan, sandbox: Sandbox) -> Container:
    return sandbox.services[plan.service] if plan.service else sandbox.main


def _exec(container: Container, argv: tuple[str, ...], deadline: float, label: str
          ) -> tuple[int | None, str]:
    out = io.BytesIO()
    limit = max(0.5, min(10.0, deadline - time.monotonic()))
    result = container.exec(ExecRequest(argv, timeout=limit, label=label), out, out)
    return (None if result.timed_out else result.exit_code), out.getvalue().decode(
        "utf-8", "replace")


def _listening(container: Container, port: int) -> bool:
    """A socket in LISTEN state on `port`, from the container's own /proc."""
    _, text = _exec(container, ("cat", "/proc/net/tcp", "/proc/net/tcp6"),
                    time.monotonic() + 5, "a port check")
    for row in text.splitlines()[1:]:
        fields = row.split()
        if len(fields) > 3 and fields[3] == "0A" and ":" in fields[1] and \
                int(fields[1].rsplit(":", 1)[1], 16) == port:
            return True
    return False


def _line(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        return None
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    return text[start: end if end != -1 else len(text)].strip()[:300]


def _tail(text: str) -> str:
    rows = [r.strip() for r in text.strip().splitlines() if r.strip()]
    return " | ".join(rows[-TAIL:])[-600:]

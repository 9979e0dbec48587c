"""Which repro process owns a run, and whether it still lives: `host:pid:start-time`.

Written on a run's engine resources (labels) and in its record, so `repro gc` and `repro
runs` can tell a live run from one whose process was killed (the start time guards
against a reused pid).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks: with the pid, it survives pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rpartition(")")[2].split()[19]


def current() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def here(value: str | None) -> bool:
    """Was it created by a repro process on this host (so we can tell if it lives)?"""
    return (value or "").split(":")[0] == socket.gethostname()


def alive(value: str | None) -> bool:
    """True when the owner is a live process on this host."""
    parts = (value or "").split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _start_time(pid) in (parts[2], "?")


def pid(value: str | None) -> str:
    parts = (value or "").split(":")
    return parts[1] if len(parts) > 1 else "?"

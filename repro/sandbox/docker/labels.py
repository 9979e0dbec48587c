"""Labels put on everything a run creates, so `repro gc` can find it after a crash."""

from __future__ import annotations

import os
import socket

MANAGED = "io.repro.managed"
RUN = "io.repro.run"
SCENARIO = "io.repro.scenario"
OWNER = "io.repro.owner"  # host:pid of the repro process that created it
SERVICE = "io.repro.service"  # which service of the run a container is
HELPER = "io.repro.helper"  # a short-lived helper of a run (tc for network faults)
KEEP = "io.repro.keep"  # left running on purpose (`repro run --keep`)
CACHE_KEY = "io.repro.cache-key"  # on cached environment images
BASE = "io.repro.base"  # on offline base images


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks: with the pid, it survives pid reuse."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - tiny read
    except OSError:
        return "?"
    return stat.rpartition(")")[2].split()[19]


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def for_run(run_id: str, scenario_id: str, keep: bool) -> dict[str, str]:
    labels = {MANAGED: "1", RUN: run_id, SCENARIO: scenario_id, OWNER: owner()}
    if keep:
        labels[KEEP] = "1"
    return labels


def owner_here(value: str | None) -> bool:
    """Was it created by a repro process on this host (so we can tell if it lives)?"""
    return (value or "").split(":")[0] == socket.gethostname()


def owner_alive(value: str | None) -> bool:
    """True when the labelled owner is a live process on this host."""
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

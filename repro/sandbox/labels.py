"""Labels put on everything a run creates, so `repro gc` can find it after a crash."""

from __future__ import annotations

import os
import socket

MANAGED = "io.repro.managed"
RUN = "io.repro.run"
SCENARIO = "io.repro.scenario"
OWNER = "io.repro.owner"  # host:pid of the repro process that created it
KEEP = "io.repro.keep"  # left running on purpose (`repro run --keep`)
CACHE_KEY = "io.repro.cache-key"  # on cached environment images
BASE = "io.repro.base"  # on offline base images


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def for_run(run_id: str, scenario_id: str, keep: bool) -> dict[str, str]:
    labels = {MANAGED: "1", RUN: run_id, SCENARIO: scenario_id, OWNER: owner()}
    if keep:
        labels[KEEP] = "1"
    return labels


def owner_alive(value: str | None) -> bool:
    """True when the labelled owner is a live process on this host."""
    if not value or ":" not in value:
        return False
    host, _, pid = value.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

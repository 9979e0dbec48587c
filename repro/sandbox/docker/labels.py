"""Labels put on everything a run creates, so `repro gc` can find it after a crash."""

from __future__ import annotations

from repro import owner as owner_mod

MANAGED = "io.repro.managed"
RUN = "io.repro.run"
SCENARIO = "io.repro.scenario"
OWNER = "io.repro.owner"  # host:pid of the repro process that created it
SERVICE = "io.repro.service"  # which service of the run a container is
HELPER = "io.repro.helper"  # a short-lived helper of a run (tc for network faults)
KEEP = "io.repro.keep"  # left running on purpose (`repro run --keep`)
CACHE_KEY = "io.repro.cache-key"  # on cached environment images
BASE = "io.repro.base"  # on offline base images


def for_run(run_id: str, scenario_id: str, keep: bool) -> dict[str, str]:
    labels = {MANAGED: "1", RUN: run_id, SCENARIO: scenario_id, OWNER: owner_mod.current()}
    if keep:
        labels[KEEP] = "1"
    return labels


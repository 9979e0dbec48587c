"""Bring a run's services up (data, start, readiness, database loads) and read their state."""

from __future__ import annotations

import time
from collections.abc import Callable

from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.execute import archive, faults, postgres, readiness
from repro.plan.values import Plan
from repro.results.observations import CaptureObservation
from repro.results.progress import Emit
from repro.results.record import RunRecord
from repro.sandbox.api import Sandbox


def bring_up(plan: Plan, sandbox: Sandbox, record: RunRecord,
             say: Callable[[str], None], emit: Emit | None = None) -> None:
    """In dependency order: copy its files and data in, start it, wait until ready; then
    the loads."""
    for svc in plan.services:
        container = sandbox.services[svc.name]
        copies = [d for d in plan.data if d.service == svc.name]
        for files, data in ((svc.files, ()), ((), copies)):  # its data lands over its files
            if files or data:
                with archive.pack(files, data) as stream:
                    container.copy_in(stream)
        started = time.monotonic()
        container.start()
        readiness.wait_ready(svc.name, container, svc.ready, emit)
        # From the start request: what the start itself took (isolation) counts too.
        record.services[svc.name]["ready_s"] = round(time.monotonic() - started, 3)
    for index, load in enumerate(plan.loads):
        say(f"loading {load.source.name} into service {load.service} ({load.kind})")
        postgres.load(sandbox.services[load.service], load, index)


def read_state(plan: Plan, sandbox: Sandbox, record: RunRecord) -> None:
    """Each query's rows as CSV, an observation like a captured file (queries.NAME)."""
    if not plan.queries:
        return
    folder = record.directory / "queries"
    folder.mkdir(exist_ok=True)
    for index, query in enumerate(plan.queries):
        container = sandbox.services[query.service]
        gone = faults.unavailable(query.service, container, record.faults)
        if gone is not None:
            # A fault left it down: the scenario asks the impossible (no verdict either).
            raise ConfigError(Problem(display_path(plan.scenario_path), None,
                                      f"queries[{index}]", f"query {query.name!r} cannot "
                                      f"run: {gone}; bring the service back before the "
                                      "steps end (start, unpause) or drop the query"))
        rows, error = postgres.query(container, query)
        if error is not None:
            # Never an observation: an `expect: fixed` scenario would pass on a typo.
            raise ConfigError(Problem(display_path(plan.scenario_path), None,
                                      f"queries[{index}]", f"query {query.name!r} failed in "
                                      f"service {query.service}: {error[:300]}; fix its SQL "
                                      "(the run has no verdict)"))
        artifact = folder / f"{query.name}.csv"
        artifact.write_text(rows)
        record.captures.append(CaptureObservation(query.name, f"query:{query.name}", "file",
                                                  artifact, query=True))

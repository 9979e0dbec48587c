"""Bring a run's services up (data, start, readiness, database loads) and read their state."""

from __future__ import annotations

from collections.abc import Callable

from repro.execute import archive, faults, postgres, readiness
from repro.plan.values import Plan
from repro.results.observations import CaptureObservation
from repro.results.record import RunRecord
from repro.sandbox.api import Sandbox


def bring_up(plan: Plan, sandbox: Sandbox, record: RunRecord,
             say: Callable[[str], None]) -> None:
    """In dependency order: copy its files and data in, start it, wait until ready; then
    the loads."""
    for svc in plan.services:
        container = sandbox.services[svc.name]
        copies = [d for d in plan.data if d.service == svc.name]
        for files, data in ((svc.files, ()), ((), copies)):  # its data lands over its files
            if files or data:
                with archive.pack(files, data) as stream:
                    container.copy_in(stream)
        container.start()
        took = readiness.wait_ready(svc.name, container, svc.ready)
        record.services[svc.name]["ready_s"] = round(took, 3)
    for index, load in enumerate(plan.loads):
        say(f"loading {load.source.name} into service {load.service} ({load.kind})")
        postgres.load(sandbox.services[load.service], load, index)


def read_state(plan: Plan, sandbox: Sandbox, record: RunRecord) -> None:
    """Each query's rows as CSV, an observation like a captured file (queries.NAME)."""
    if not plan.queries:
        return
    folder = record.directory / "queries"
    folder.mkdir(exist_ok=True)
    for query in plan.queries:
        container = sandbox.services[query.service]
        gone = faults.unavailable(query.service, container, record.faults)
        rows, error = ("", f"{gone}; the query did not run") if gone else \
            postgres.query(container, query)
        artifact = folder / f"{query.name}.csv"
        artifact.write_text(rows)
        record.captures.append(CaptureObservation(query.name, f"query:{query.name}",
                                                  "file" if error is None else None,
                                                  artifact if error is None else None,
                                                  query=True, error=error))

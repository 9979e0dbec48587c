"""Show a run to machines: the one JSON object `repro run --json` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from repro.config.yaml_source import display_path
from repro.results.outcome import RunStatus
from repro.results.record import RunRecord
from repro.results.timeline_record import timeline_dict

if TYPE_CHECKING:
    from repro.compare.diff import Comparison


def run_json(record: RunRecord, comparison: Comparison | None) -> dict[str, Any]:
    return {"scenario": record.plan.scenario_id, "run_id": record.run_id,
            "status": str(record.status), "reproduced": record.reproduced,
            "expected": record.plan.expect, "ok": record.ok,
            "verdict": record.verdict.value, "record": display_path(record.path),
            "error": None if record.error is None else record.plan.redactor(record.error),
            "baseline": record.baseline_verdict.value if record.status == RunStatus.COMPLETE
            else "not compared",
            "diverged": comparison.diverged if comparison else [],
            "sandbox": record.sandbox if record.kept else None,
            **({"clock": record.clock} if record.clock is not None else {}),
            **_timeline(record)}


def _timeline(record: RunRecord) -> dict[str, Any]:
    """The moment the oracle first held and the run's events, as in the record."""
    data = timeline_dict(record.timeline, record.when, record.plan.redactor)
    return {"when": data["when"], "events": data["events"]}


def error_json(scenario: str, lines: list[str]) -> dict[str, Any]:
    """What `--json` prints when there is no run at all (a configuration error)."""
    return {"scenario": scenario, "run_id": None, "status": "error", "reproduced": None,
            "ok": False, "record": None, "error": lines[0], "errors": lines}

"""`repro doctor`'s checks for people (one line each, the fix below a failure) and as JSON."""

from __future__ import annotations

from typing import Any

from repro.sandbox.api import Check

MARKS = {True: "ok  ", False: "FAIL", None: "skip"}


def lines(checks: list[Check]) -> list[str]:
    width = max((len(c.name) for c in checks), default=0)
    out = []
    for check in checks:
        out.append(f"{MARKS[check.ok]}  {check.name:<{width}}  {check.detail}")
        if check.ok is False and check.fix:
            out.append(f"      {'':<{width}}  fix: {check.fix}")
    held, failed = (sum(c.ok is value for c in checks) for value in (True, False))
    skipped = len(checks) - held - failed
    out.append(f"\n{held} of {len(checks)} checks hold" + (f", {failed} failed" if failed
                                                           else "") +
               (f", {skipped} not checked" if skipped else ""))
    return out


def as_json(checks: list[Check], healthy: bool) -> dict[str, Any]:
    return {"ok": healthy,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}
                       for c in checks]}

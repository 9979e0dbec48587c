"""`--shard K/N`: N stable parts of a selection, one per CI job.

Every job computes the same partition from the same inputs: the selected ids and the last
recorded duration of each (from `.repro/runs`). Longest first, each goes to the part with
the least work so far (the lowest numbered on a tie); a scenario never run counts as the
mean of the known ones (1 s when none is known), which balances by count, in id order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from repro.errors import ConfigError, Problem
from repro.results.outcome import RunStatus
from repro.results.reader import RECORD_FILE

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ConfigError(Problem("--shard", None, "", f"{text!r} is not K/N: write the part "
                                  "and the number of parts, e.g. --shard 2/4"))
    part, parts = int(match.group(1)), int(match.group(2))
    if parts < 1 or not 1 <= part <= parts:
        raise ConfigError(Problem("--shard", None, "", f"{text}: the part must be between 1 "
                                  f"and the number of parts ({max(parts, 1)}), e.g. "
                                  f"--shard 1/{max(parts, 1)}"))
    return part, parts


def last_durations(runs_dir: Path) -> dict[str, float]:
    """Each scenario's duration in its most recent complete run recorded here."""
    newest: dict[str, tuple[str, float]] = {}
    for path in runs_dir.glob(f"*/{RECORD_FILE}") if runs_dir.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            if data.get("status") != RunStatus.COMPLETE:
                continue
            sid, started = data["scenario"]["id"], str(data["started_at"])
            took = float(data["duration_s"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if sid not in newest or started > newest[sid][0]:
            newest[sid] = (started, took)
    return {sid: took for sid, (_, took) in newest.items()}


def partition(ids: Sequence[str], parts: int, durations: Mapping[str, float]
              ) -> list[list[str]]:
    """Greedy longest-first; deterministic for the same ids and durations."""
    known = [durations[i] for i in ids if i in durations]
    default = sum(known) / len(known) if known else 1.0
    weight = {i: durations.get(i, default) for i in ids}
    loads = [0.0] * parts
    out: list[list[str]] = [[] for _ in range(parts)]
    for sid in sorted(set(ids), key=lambda i: (-weight[i], i)):
        target = min(range(parts), key=lambda k: (loads[k], k))
        out[target].append(sid)
        loads[target] += weight[sid]
    return [sorted(part) for part in out]

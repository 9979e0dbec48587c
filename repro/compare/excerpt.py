"""Both sides of a diverged text channel, around its changes, as data a report can lay out
side by side (`repro report`): bounded however long the texts are.

Each change comes with a few lines of context shown and more held back to expand; a long
unchanged stretch keeps only its ends; past `MAX_LINES` lines (or `MAX_TOTAL`
characters) kept, the remaining changes are counted, not kept. Stored in the run record
with the comparison, so a report shows what the run was compared with even after the
baseline is re-recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from repro.compare.textdiff import Opcode

CONTEXT = 3  # unchanged lines shown on each side of a change
EXPAND = 20  # more unchanged lines on each side, held back until expanded
MAX_CHANGE = 200  # lines of one side of one change kept
MAX_LINES = 3000  # lines kept in all, per channel
MAX_CHARS = 2000  # characters of a line kept
MAX_TOTAL = 256 * 1024  # characters kept in all, per channel (the record stays small)


def _cut(lines: Sequence[str]) -> list[str]:
    return [line if len(line) <= MAX_CHARS else line[:MAX_CHARS] + "…" for line in lines]


def excerpt(ops: list[Opcode], a: Sequence[str], b: Sequence[str]) -> dict[str, Any]:
    """`{"old_lines", "new_lines", "blocks": [...], "left_out": {...}}`. A block is
    `same` (lines shown), `fold` (an unchanged stretch: `head` and `tail` kept to expand,
    `skipped` lines between them not kept), or `change` (`old` and `new`, with counts of
    lines cut); `a` and `b` are 0-based line numbers on each side."""
    blocks: list[dict[str, Any]] = []
    kept = chars = 0
    left_changes = left_lines = 0
    last = len(ops) - 1
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if kept >= MAX_LINES or chars >= MAX_TOTAL:
            if tag != "equal":
                left_changes += 1
                left_lines += (i2 - i1) + (j2 - j1)
            continue
        if tag != "equal":
            old = _cut(a[i1:min(i2, i1 + MAX_CHANGE)])
            new = _cut(b[j1:min(j2, j1 + MAX_CHANGE)])
            blocks.append({"t": "change", "a": i1, "b": j1, "old": old, "new": new,
                           "old_cut": i2 - i1 - len(old), "new_cut": j2 - j1 - len(new)})
            kept += len(old) + len(new)
            chars += sum(map(len, old)) + sum(map(len, new))
            continue
        n = i2 - i1
        lead = CONTEXT if k > 0 else 0  # context after the change before
        trail = CONTEXT if k < last else 0  # context before the change after
        if n <= lead + trail + 1:  # folding would hide a line or none: shown whole
            blocks.append(_same(a, i1, i2, j1))
            kept += n
            chars += sum(map(len, blocks[-1]["lines"]))
            continue
        if lead:
            blocks.append(_same(a, i1, i1 + lead, j1))
        start, end = i1 + lead, i2 - trail
        head = min(EXPAND, end - start) if k > 0 else 0
        tail = min(EXPAND, end - start - head) if k < last else 0
        blocks.append({"t": "fold", "a": start, "b": j1 + lead, "n": end - start,
                       "head": _cut(a[start:start + head]), "tail": _cut(a[end - tail:end]),
                       "skipped": end - start - head - tail})
        kept += head + tail + lead + trail
        chars += sum(map(len, blocks[-1]["head"])) + sum(map(len, blocks[-1]["tail"]))
        if trail:
            blocks.append(_same(a, end, i2, j2 - trail))
    return {"old_lines": len(a), "new_lines": len(b), "blocks": blocks,
            "left_out": {"changes": left_changes, "lines": left_lines}}


def _same(a: Sequence[str], i1: int, i2: int, j1: int) -> dict[str, Any]:
    return {"t": "same", "a": i1, "b": j1, "lines": _cut(a[i1:i2])}

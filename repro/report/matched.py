"""The lines of a step's output that an oracle condition matched, for the summary to show
beside the output's tail (the tail alone can hide the line that matters)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from repro.config.model import Condition, Oracle
from repro.report.oneline import one_line

MAX_SHOWN = 3  # matched lines per stream; the record has the whole output


def _conditions(conditions: tuple[Condition, ...]) -> Iterator[Condition]:
    for cond in conditions:
        yield cond
        for inner in (cond.any or ()) + (cond.all or ()) + ((cond.not_,) if cond.not_ else ()):
            yield from _conditions((inner,))


def patterns(oracle: Oracle, step: str, stream: str) -> list[str]:
    """The regexes the oracle looks for in this step's stream (nested conditions too)."""
    return [getattr(c, stream) for c in _conditions(oracle.conditions)
            if c.step == step and getattr(c, stream) is not None]


def matched_lines(text: str, regexes: list[str], tail: int) -> list[str]:
    """`line N: TEXT` for each line a regex matched that the last `tail` lines do not
    show, in order, at most MAX_SHOWN."""
    if not regexes or not text:
        return []
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    total = len(text.rstrip("\n").splitlines())
    hidden_before = total - tail  # lines numbered below this are not in the tail
    found: dict[int, str] = {}
    for regex in regexes:
        for match in re.finditer(regex, text, re.MULTILINE):
            first = _line_of(starts, match.start())
            last = _line_of(starts, max(match.end() - 1, match.start()))
            if first < hidden_before and first not in found:
                end = starts[last + 1] - 1 if last + 1 < len(starts) else len(text)
                found[first] = text[starts[first]:end]
            if len(found) >= MAX_SHOWN:
                break
    return [f"line {n + 1}: {one_line(found[n])}" for n in sorted(found)[:MAX_SHOWN]]


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:  # the last line start at or before the offset
        mid = (low + high + 1) // 2
        if starts[mid] <= offset:
            low = mid
        else:
            high = mid - 1
    return low

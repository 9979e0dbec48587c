"""A channel's diff as side-by-side rows, with the changed words within a line marked.

Text channels come with both sides around their changes (`sides` in the record, see
repro.compare.excerpt); records without them, and structured channels, are laid out
from the unified lines and the changes the comparison stored.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

Segment = tuple[bool, str]  # (changed, text)
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
MAX_TOKENS = 400  # a longer line is marked whole: word matching grows with its square
MAX_ROWS = 400  # rows laid out from unified lines (records without `sides`)


@dataclass
class Row:
    kind: str  # same | change | label
    a: int | None = None  # 1-based line numbers (None: nothing on that side)
    b: int | None = None
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)
    label: str = ""  # a structured change: its path or row


@dataclass
class Fold:
    """An unchanged stretch: its ends to expand, the middle counted."""

    count: int
    head: list[Row]
    tail: list[Row]
    skipped: int
    kind: str = "fold"


@dataclass
class Note:
    text: str
    kind: str = "note"


Block = Row | Fold | Note


def marked(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """Both lines as segments, the words that differ marked."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) > MAX_TOKENS or len(b) > MAX_TOKENS:
        return [(True, old)], [(True, new)]
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False
                                                       ).get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            _append(left, changed, "".join(a[i1:i2]))
        if j2 > j1:
            _append(right, changed, "".join(b[j1:j2]))
    return left, right


def _append(segments: list[Segment], changed: bool, text: str) -> None:
    if segments and segments[-1][0] == changed:
        segments[-1] = (changed, segments[-1][1] + text)
    else:
        segments.append((changed, text))


def _pairs(old: list[str], new: list[str], a: int | None, b: int | None) -> list[Row]:
    """A change's lines: the n-th removed beside the n-th added, the rest alone."""
    rows = []
    for k in range(max(len(old), len(new))):
        x = old[k] if k < len(old) else None
        y = new[k] if k < len(new) else None
        if x is not None and y is not None:
            left, right = marked(x, y)
        else:
            left = [(True, x)] if x is not None else []
            right = [(True, y)] if y is not None else []
        rows.append(Row("change", None if x is None or a is None else a + k,
                        None if y is None or b is None else b + k, left, right))
    return rows


def _same(lines: list[str], a: int, b: int) -> list[Row]:
    return [Row("same", a + k, b + k, [(False, t)], [(False, t)])
            for k, t in enumerate(lines)]


def from_sides(sides: dict[str, Any]) -> list[Block]:
    """Rows from a text channel's stored sides (compare.excerpt)."""
    out: list[Block] = []
    for block in sides.get("blocks", []):
        a, b = block["a"] + 1, block["b"] + 1
        if block["t"] == "same":
            out += _same(block["lines"], a, b)
        elif block["t"] == "fold":
            head, tail, n = block["head"], block["tail"], block["n"]
            out.append(Fold(n, _same(head, a, b),
                            _same(tail, a + n - len(tail), b + n - len(tail)),
                            block["skipped"]))
        else:
            out += _pairs(block["old"], block["new"], a, b)
            cut = [f"{block[k]} more line(s) {w}" for k, w in
                   (("old_cut", "removed"), ("new_cut", "added")) if block.get(k)]
            if cut:
                out.append(Note(f"{' and '.join(cut)} in this change, not embedded"))
    left = sides.get("left_out") or {}
    if left.get("changes"):
        out.append(Note(f"{left['changes']} more change(s) ({left['lines']} lines) not "
                        "embedded: the page keeps the first ones"))
    return out


_HUNK = re.compile(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def from_unified(lines: list[str]) -> list[Block]:
    """Rows from a unified diff (a record written before sides were kept)."""
    out: list[Block] = []
    a = b = 1
    old: list[str] = []
    new: list[str] = []

    def flush() -> None:
        nonlocal a, b
        if old or new:
            out.extend(_pairs(old, new, a, b))
            a, b = a + len(old), b + len(new)
            old.clear()
            new.clear()

    for line in lines[:MAX_ROWS]:
        if line.startswith(("--- ", "+++ ")):
            continue
        hunk = _HUNK.match(line)
        if hunk:
            flush()
            a, b = int(hunk.group(1)) or 1, int(hunk.group(2)) or 1
            if out:
                out.append(Note("unchanged lines between the changes"))
            continue
        if line.startswith("-"):
            old.append(line[1:])
        elif line.startswith("+"):
            new.append(line[1:])
        elif line.startswith(" "):
            flush()
            out += _same([line[1:]], a, b)
            a, b = a + 1, b + 1
        else:
            flush()
            out.append(Note(line))
    flush()
    if len(lines) > MAX_ROWS:
        out.append(Note(f"{len(lines) - MAX_ROWS} more diff line(s) in the run record"))
    return out


def _value(value: Any) -> str:
    import json

    return "" if value is None else value if isinstance(value, str) else json.dumps(
        value, ensure_ascii=False, default=str)


def from_changes(channel: dict[str, Any]) -> list[Block]:
    """Rows of a structured channel (JSON/YAML paths, CSV rows, values)."""
    changes = channel.get("changes") or []
    out: list[Block] = []
    for change in changes[:MAX_ROWS]:
        what = change.get("change")
        if "columns" in change and isinstance(change["columns"], dict):  # a keyed row
            key = ", ".join(f"{k}={v}" for k, v in (change.get("key") or {}).items())
            for column, pair in change["columns"].items():
                left, right = marked(_value(pair.get("old")), _value(pair.get("new")))
                out.append(Row("label", old=left, new=right, label=f"row {key}: {column}"))
            continue
        label = str(change.get("path") or ("row" if "row" in change else what or ""))
        if "row" in change:
            row = _value(change["row"])
            old, new = (row, None) if what == "removed" else (None, row)
        else:
            old = None if what == "added" else _value(change.get("old"))
            new = None if what == "removed" else _value(change.get("new"))
        if old is not None and new is not None:
            left, right = marked(old, new)
        else:
            left = [] if old is None else [(True, old)]
            right = [] if new is None else [(True, new)]
        out.append(Row("label", old=left, new=right, label=label))
    if len(changes) > MAX_ROWS:
        out.append(Note(f"{len(changes) - MAX_ROWS} more change(s) in the run record"))
    return out or from_unified(channel.get("diff") or [])


def blocks(channel: dict[str, Any]) -> list[Block]:
    """The side-by-side rows of one diverged channel, from what its record holds."""
    if channel.get("sides"):
        return from_sides(channel["sides"])
    if channel.get("kind") in ("json", "yaml", "csv", "tsv") and channel.get("changes"):
        return from_changes(channel)
    return from_unified(channel.get("diff") or [])  # text, and values (exit codes ...)

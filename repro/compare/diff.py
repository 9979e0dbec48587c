"""Compare normalised channels: per channel `match` or `diverged`, with a readable diff."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.compare import excerpt, textdiff
from repro.compare.channels import Channel
from repro.compare.normalise import Normal, Rulebook
from repro.results.outcome import ChannelVerdict, StepStatus

MAX_VALUE = 120  # characters of a value shown in a structural diff line


@dataclass
class ChannelDiff:
    name: str
    kind: str
    verdict: ChannelVerdict
    summary: str = ""
    lines: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    sides: dict[str, Any] | None = None  # a text channel's both sides (compare.excerpt)

    def __post_init__(self) -> None:
        self.verdict = ChannelVerdict(self.verdict)  # "match" given as text is the enum

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"channel": self.name, "kind": self.kind,
                               "verdict": self.verdict.value}
        if self.verdict == ChannelVerdict.DIVERGED:
            out.update(summary=self.summary, diff=self.lines, changes=self.changes)
            if self.sides is not None:
                out["sides"] = self.sides
        return out


@dataclass
class Comparison:
    channels: list[ChannelDiff]

    @property
    def verdict(self) -> ChannelVerdict:
        return ChannelVerdict.DIVERGED if self.diverged else ChannelVerdict.MATCH

    @property
    def diverged(self) -> list[str]:
        return [c.name for c in self.channels if c.verdict == ChannelVerdict.DIVERGED]

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "diverged": self.diverged,
                "channels": [c.to_dict() for c in self.channels]}


Side = Normal | Channel


def compare(expected: Sequence[Side], actual: Sequence[Side], book: Rulebook | None = None,
            labels: tuple[str, str] = ("baseline", "this run")) -> Comparison:
    """Channel by channel, in the order the channels were observed.

    Raw channels are normalised (with `book`) only when their raw bytes differ from the
    other side's: two identical 100 MB outputs cost two streamed hashes, nothing more.
    """
    left = {n.name: n for n in expected}
    right = {n.name: n for n in actual}
    # A step skipped on one side diverges in its exit_code channel; its absent outputs
    # would only repeat that.
    skipped = {n.name.removesuffix(".exit_code") for n in [*expected, *actual]
               if n.kind == "exit_code" and n.value == StepStatus.SKIPPED}
    names = [name for name in dict.fromkeys([*left, *right])
             if name.rsplit(".", 1)[0] not in skipped or name.endswith(".exit_code")]
    out = []
    for name in names:
        a, b = left.get(name), right.get(name)
        raw_a, raw_b = _raw_sha(a), _raw_sha(b)
        if raw_a is not None and raw_a == raw_b:
            out.append(ChannelDiff(name, b.kind, ChannelVerdict.MATCH))  # type: ignore[union-attr]
            continue
        out.append(diff_channel(_normal(a, book), _normal(b, book), labels))
    return Comparison(out)


def _raw_sha(side: Side | None) -> str | None:
    if side is None:
        return None
    return side.raw_sha256 if isinstance(side, Normal) else side.raw_sha256()


def _normal(side: Side | None, book: Rulebook | None) -> Normal | None:
    if side is None or isinstance(side, Normal):
        return side
    return (book or Rulebook([])).normalise(side)


def diff_channel(a: Normal | None, b: Normal | None,
                 labels: tuple[str, str] = ("baseline", "this run")) -> ChannelDiff:
    """The current run's capture options (key columns, tolerance) apply to both sides."""
    if a is None or b is None:
        present = b if a is None else a
        assert present is not None
        where = labels[0] if a is None else labels[1]
        return ChannelDiff(present.name, present.kind, ChannelVerdict.DIVERGED,
                           f"missing from {where}",
                           [f"only in {labels[1] if a is None else labels[0]}"])
    name, kind = a.name, b.kind
    if a.sha256 == b.sha256 or (a.raw_sha256 is not None and a.raw_sha256 == b.raw_sha256):
        return ChannelDiff(name, kind, ChannelVerdict.MATCH)  # the fast path: one hash comparison
    if a.kind != b.kind or a.text is None or b.text is None:
        return _value_diff(a, b)
    if kind in ("json", "yaml"):
        result = _structured_diff(a, b, b.tolerance)
    elif kind in ("csv", "tsv"):
        result = _table_diff(a, b, b.tolerance)
    else:
        result = _text_diff(a, b, labels)
    if b.note:
        result.summary = f"{result.summary}; {b.note}"
    return result


def _text_diff(a: Normal, b: Normal, labels: tuple[str, str]) -> ChannelDiff:
    old, new = a.text or "", b.text or ""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    ops = textdiff.opcodes(old_lines, new_lines)
    lines, removed, added = textdiff.unified_of(ops, old_lines, new_lines, labels[0],
                                                labels[1])
    if removed or added:
        return ChannelDiff(a.name, b.kind, ChannelVerdict.DIVERGED, f"{removed} line(s) removed, "
                           f"{added} added", lines,
                           sides=excerpt.excerpt(ops, old_lines, new_lines))
    # Same lines, different text: only line endings or the final newline differ.
    what = "line endings differ (\\r\\n vs \\n)" if ("\r\n" in old) != ("\r\n" in new) else \
        "the final newline differs"
    return ChannelDiff(a.name, b.kind, ChannelVerdict.DIVERGED, what, [f"~ {what}"])


def _show(value: Any) -> str:
    if value is None:
        text = "null"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def _value_diff(a: Normal, b: Normal) -> ChannelDiff:
    def describe(n: Normal) -> str:
        if n.kind == "exit_code":
            return f"exit code {n.value}" if isinstance(n.value, int) else str(n.value)
        if n.kind == "absent":
            return str(n.value)
        if n.kind == "binary":
            return f"{n.size} bytes, sha256 {n.sha256[:12]}"
        return f"{n.kind}, {n.size} bytes"

    before, after = describe(a), describe(b)
    return ChannelDiff(a.name, b.kind, ChannelVerdict.DIVERGED, f"{before} -> {after}",
                       [f"- {before}", f"+ {after}"],
                       [{"change": "changed", "old": _plain(a), "new": _plain(b)}])


def _plain(n: Normal) -> Any:
    return n.value if n.kind in ("exit_code", "absent") else {"sha256": n.sha256, "size": n.size}


def _structured_diff(a: Normal, b: Normal, tolerance: float | None) -> ChannelDiff:
    from deepdiff import DeepDiff  # imported only when two documents really differ

    old, new = json.loads(a.text or "null"), json.loads(b.text or "null")
    options: dict[str, Any] = {"view": "tree", "verbose_level": 2,
                               "ignore_numeric_type_changes": True}  # 10 vs 10.0
    if tolerance:
        options["math_epsilon"] = tolerance
    found = DeepDiff(old, new, **options)
    lines, changes = [], []
    for report, items in sorted(found.items()):
        for item in sorted(items, key=lambda i: str(i.path())):
            path = _path(item.path(output_format="list"))
            t1 = None if "added" in report else item.t1
            t2 = None if "removed" in report else item.t2
            if "added" in report:
                lines.append(f"+ {path}: {_show(t2)}")
                change = "added"
            elif "removed" in report:
                lines.append(f"- {path}: {_show(t1)}")
                change = "removed"
            else:
                lines.append(f"~ {path}: {_show(t1)} -> {_show(t2)}")
                change = "changed"
            changes.append({"change": change, "path": path, "old": t1, "new": t2})
    verdict = ChannelVerdict.DIVERGED if changes else ChannelVerdict.MATCH
    return ChannelDiff(a.name, b.kind, verdict, f"{len(changes)} value(s) differ", lines,
                       changes)


def _path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _close(x: str, y: str, tolerance: float | None) -> bool:
    if x == y:
        return True
    if not tolerance:
        return False
    try:
        return abs(float(x) - float(y)) <= tolerance
    except ValueError:
        return False


def _table_diff(a: Normal, b: Normal, tolerance: float | None) -> ChannelDiff:
    delimiter = "\t" if b.kind == "tsv" else ","
    old = list(csv.reader(io.StringIO(a.text or ""), delimiter=delimiter))
    new = list(csv.reader(io.StringIO(b.text or ""), delimiter=delimiter))
    head_a, head_b = (old[0] if old else []), (new[0] if new else [])
    lines: list[str] = []
    changes: list[dict[str, Any]] = []
    if head_a != head_b:
        lines.append(f"~ columns: {', '.join(head_a)} -> {', '.join(head_b)}")
        changes.append({"change": "columns", "old": head_a, "new": head_b})
    # Keyed rows: the canonical form sorted them by key, so match rows by key value;
    # without a key, a row is identified by its whole content.
    key_columns = list(b.key)
    index = [head_b.index(c) for c in key_columns if c in head_b]

    def keyed(rows: list[list[str]]) -> dict[tuple, list[str]]:
        out: dict[tuple, list[str]] = {}
        for row in rows:
            key = tuple(row[i] for i in index)
            while key in out:  # a repeated key: the n-th occurrence pairs with the n-th
                key = (*key, "#")
            out[key] = row
        return out

    if index:
        rows_a, rows_b = keyed(old[1:]), keyed(new[1:])
        for key in sorted(set(rows_a) | set(rows_b), key=str):
            label = ", ".join(f"{c}={v}" for c, v in zip(key_columns, key, strict=False))
            if key not in rows_b:
                lines.append(f"- row {label}: {delimiter.join(rows_a[key])}")
                changes.append({"change": "removed", "row": dict(zip(head_a, rows_a[key],
                                                                      strict=False))})
            elif key not in rows_a:
                lines.append(f"+ row {label}: {delimiter.join(rows_b[key])}")
                changes.append({"change": "added", "row": dict(zip(head_b, rows_b[key],
                                                                    strict=False))})
            else:
                diffs = {col: (x, y) for col, x, y in zip(head_b, rows_a[key], rows_b[key],
                                                          strict=False)
                         if not _close(x, y, tolerance)}
                if diffs:
                    text = "; ".join(f"{c}: {x!r} -> {y!r}" for c, (x, y) in diffs.items())
                    lines.append(f"~ row {label}: {text}")
                    changes.append({"change": "changed", "key": dict(zip(key_columns, key,
                                                                          strict=False)),
                                    "columns": {c: {"old": x, "new": y}
                                                for c, (x, y) in diffs.items()}})
    else:
        body = textdiff.unified([delimiter.join(r) for r in old[1:]],
                                [delimiter.join(r) for r in new[1:]], "baseline", "this run")
        for line in body[2:]:
            if line[:1] in "+-":
                lines.append(f"{line[0]} row: {line[1:]}")
                changes.append({"change": "added" if line[0] == "+" else "removed",
                                "row": line[1:]})
    verdict = ChannelVerdict.DIVERGED if changes else ChannelVerdict.MATCH
    return ChannelDiff(a.name, b.kind, verdict, f"{len(changes)} row change(s)", lines, changes)


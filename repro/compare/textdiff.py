"""Line diffs that stay fast on million-line outputs (patience anchors, difflib in the gaps)."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Sequence

Opcode = tuple[str, int, int, int, int]  # like difflib: tag, a from, a to, b from, b to
_SMALL = 250_000  # gaps up to this many line pairs go to difflib directly


def opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """Equal/replace/delete/insert spans turning `a` into `b`."""
    if len(a) == len(b):
        # The common case of a regression: same length, a few lines changed in place.
        # One pass in C finds them; no alignment search is needed.
        changed = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(changed) <= max(10, len(a) // 1000) and _isolated(changed, a, b):
            return _in_place(changed, len(a))
    matches: list[tuple[int, int, int]] = []  # (i, j, size) equal runs, in order
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        # Common prefix and suffix cost one comparison per line.
        start = 0
        while alo + start < ahi and blo + start < bhi and a[alo + start] == b[blo + start]:
            start += 1
        if start:
            matches.append((alo, blo, start))
            alo, blo = alo + start, blo + start
        end = 0
        while alo < ahi - end and blo < bhi - end and a[ahi - end - 1] == b[bhi - end - 1]:
            end += 1
        if end:
            matches.append((ahi - end, bhi - end, end))
            ahi, bhi = ahi - end, bhi - end
        if alo == ahi or blo == bhi:
            continue
        anchors = _unique_anchors(a, b, alo, ahi, blo, bhi)
        if not anchors:
            matches += _repeated(a, b, alo, ahi, blo, bhi)
            continue
        # Recurse into the gaps between anchors (each anchor is an equal line).
        prev_a, prev_b = alo, blo
        for i, j in anchors:
            stack.append((prev_a, i, prev_b, j))
            matches.append((i, j, 1))
            prev_a, prev_b = i + 1, j + 1
        stack.append((prev_a, ahi, prev_b, bhi))
    return _to_opcodes(sorted(matches), len(a), len(b))


def _runs(seq: Sequence[str], lo: int, hi: int) -> list[tuple[str, int, int]]:
    """Consecutive equal lines folded: (line, first index, count)."""
    out: list[tuple[str, int, int]] = []
    for i in range(lo, hi):
        if out and out[-1][0] == seq[i]:
            out[-1] = (seq[i], out[-1][1], out[-1][2] + 1)
        else:
            out.append((seq[i], i, 1))
    return out


def _repeated(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int,
              bhi: int) -> list[tuple[int, int, int]]:
    """No line is unique on both sides (heartbeats, blank lines...): difflib over runs of
    equal lines, so a thousand heartbeats are one token and the search stays small."""
    runs_a, runs_b = _runs(a, alo, ahi), _runs(b, blo, bhi)
    small = len(runs_a) * len(runs_b) <= _SMALL
    matcher = difflib.SequenceMatcher(None, [r[0] for r in runs_a], [r[0] for r in runs_b],
                                      autojunk=not small)
    out = []
    for i, j, n in matcher.get_matching_blocks():
        for k in range(n):
            (_, start_a, count_a), (_, start_b, count_b) = runs_a[i + k], runs_b[j + k]
            out.append((start_a, start_b, min(count_a, count_b)))
    return out


def _isolated(changed: list[int], a: Sequence[str], b: Sequence[str]) -> bool:
    """Changes that are edits in place, not a shift (a line inserted here, one deleted
    there, everything between moved by one): only then is the shortcut the right diff."""
    for k, i in enumerate(changed):
        if k >= 2 and changed[k - 2] == i - 2:
            return False  # three consecutive changed lines: let the aligner decide
        for d in (-1, 1):
            if 0 <= i + d < len(b) and a[i] == b[i + d]:
                return False
    return True


def _in_place(changed: list[int], n: int) -> list[Opcode]:
    ops: list[Opcode] = []
    pos = 0
    for i in changed:
        if ops and ops[-1][0] == "replace" and ops[-1][2] == i:
            ops[-1] = ("replace", ops[-1][1], i + 1, ops[-1][3], i + 1)
            pos = i + 1
            continue
        if i > pos:
            ops.append(("equal", pos, i, pos, i))
        ops.append(("replace", i, i + 1, i, i + 1))
        pos = i + 1
    if pos < n:
        ops.append(("equal", pos, n, pos, n))
    return ops


def _unique_anchors(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int,
                    bhi: int) -> list[tuple[int, int]]:
    """Lines occurring exactly once on each side, longest increasing run (patience diff)."""
    count_a: dict[str, int] = {}
    for i in range(alo, ahi):
        line = a[i]
        count_a[line] = -1 if line in count_a else i
    count_b: dict[str, int] = {}
    for j in range(blo, bhi):
        line = b[j]
        if count_a.get(line, -1) >= 0:
            count_b[line] = -1 if line in count_b else j
    pairs = [(count_a[line], j) for line, j in count_b.items() if j >= 0]
    pairs.sort()
    # Longest increasing subsequence on j, keeping back-pointers.
    tails: list[int] = []
    tail_idx: list[int] = []
    back = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[pos], tail_idx[pos] = j, k
        back[k] = tail_idx[pos - 1] if pos else -1
    out: list[tuple[int, int]] = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    return out[::-1]


def _to_opcodes(matches: list[tuple[int, int, int]], na: int, nb: int) -> list[Opcode]:
    ops: list[Opcode] = []
    i = j = 0
    for mi, mj, size in [*matches, (na, nb, 0)]:
        if i < mi or j < mj:
            tag = "replace" if i < mi and j < mj else ("delete" if i < mi else "insert")
            ops.append((tag, i, mi, j, mj))
        if size:
            if ops and ops[-1][0] == "equal" and ops[-1][2] == mi and ops[-1][4] == mj:
                ops[-1] = ("equal", ops[-1][1], mi + size, ops[-1][3], mj + size)
            else:
                ops.append(("equal", mi, mi + size, mj, mj + size))
        i, j = mi + size, mj + size
    return ops


def unified(a: Sequence[str], b: Sequence[str], label_a: str, label_b: str,
            context: int = 3, max_lines: int = 200) -> list[str]:
    """A unified diff (lines without newlines), cut after `max_lines` with a note."""
    return unified_counted(a, b, label_a, label_b, context, max_lines)[0]


def unified_counted(a: Sequence[str], b: Sequence[str], label_a: str, label_b: str,
                    context: int = 3, max_lines: int = 200) -> tuple[list[str], int, int]:
    """The unified diff, and how many lines were removed and added in all (not just shown)."""
    return unified_of(opcodes(a, b), a, b, label_a, label_b, context, max_lines)


def unified_of(ops: list[Opcode], a: Sequence[str], b: Sequence[str], label_a: str,
               label_b: str, context: int = 3, max_lines: int = 200
               ) -> tuple[list[str], int, int]:
    """`unified_counted` from opcodes already found (a caller that also needs them)."""
    removed = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag != "equal")
    added = sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag != "equal")
    out = [f"--- {label_a}", f"+++ {label_b}"]
    hunks = _group(ops, context)
    for hunk in hunks:
        i1, i2, j1, j2 = hunk[0][1], hunk[-1][2], hunk[0][3], hunk[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@")
        for tag, x1, x2, y1, y2 in hunk:
            if tag == "equal":
                out += [" " + line.rstrip("\n") for line in a[x1:x2]]
                continue
            out += ["-" + line.rstrip("\n") for line in a[x1:x2]]
            out += ["+" + line.rstrip("\n") for line in b[y1:y2]]
        if len(out) > max_lines:
            out = out[:max_lines]
            out.append(f"... diff cut at {max_lines} lines")
            break
    return out, removed, added


def _range(lo: int, hi: int) -> str:
    length = hi - lo
    start = lo + 1 if length else lo
    return f"{start}" if length == 1 else f"{start},{length}"


def _group(ops: list[Opcode], n: int) -> list[list[Opcode]]:
    """Hunks of changes with `n` lines of context, long equal stretches elided."""
    changes = [k for k, op in enumerate(ops) if op[0] != "equal"]
    if not changes:
        return []
    groups: list[list[Opcode]] = []
    current: list[Opcode] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag != "equal":
            current.append((tag, i1, i2, j1, j2))
            continue
        first, last = k == 0, k == len(ops) - 1
        if not current:  # leading context
            if not first or i2 - i1 > 0:
                start = max(i1, i2 - n)
                current.append(("equal", start, i2, j2 - (i2 - start), j2))
            continue
        if last or i2 - i1 > 2 * n:
            current.append(("equal", i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(current)
            current = []
            if not last:
                start = max(i1, i2 - n)
                current.append(("equal", start, i2, j2 - (i2 - start), j2))
        else:
            current.append((tag, i1, i2, j1, j2))
    if current and any(op[0] != "equal" for op in current):
        groups.append(current)
    return [[op for op in g if op[1] != op[2] or op[3] != op[4]] for g in groups]

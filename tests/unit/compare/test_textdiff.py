"""Line diffs: opcodes that rebuild the new side, unified output difflib would print."""

from __future__ import annotations

import difflib
import random
import re
from collections import Counter

import pytest

from repro.compare import textdiff


def apply_opcodes(a: list[str], b: list[str], ops: list[textdiff.Opcode]) -> list[str]:
    """Rebuild `b` from `a` and the opcodes, checking that they are well formed."""
    out: list[str] = []
    i = j = 0
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        assert (i1, j1) == (i, j), f"op {k} does not continue where the last one ended: {ops}"
        if tag == "equal":
            assert i2 - i1 == j2 - j1 and a[i1:i2] == b[j1:j2], ops
            assert k == 0 or ops[k - 1][0] != "equal", f"unmerged equal ops: {ops}"
            out += a[i1:i2]
        else:
            assert {"replace": i1 < i2 and j1 < j2, "delete": i1 < i2 and j1 == j2,
                    "insert": i1 == i2 and j1 < j2}[tag], ops[k]
            out += b[j1:j2]
        i, j = i2, j2
    assert (i, j) == (len(a), len(b)), ops
    return out


_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified(a: list[str], diff: list[str]) -> list[str]:
    """Rebuild the new side from `a` and a unified diff, checking every hunk header."""
    assert diff[:2] == ["--- a", "+++ b"]
    out: list[str] = []
    pos = 0  # next line of `a` not yet copied
    k = 2
    while k < len(diff):
        m = _HUNK.fullmatch(diff[k])
        assert m, diff[k]
        a_start, a_len = int(m[1]), int(m[2] or 1)
        b_start, b_len = int(m[3]), int(m[4] or 1)
        first = a_start - 1 if a_len else a_start
        assert first >= pos, "hunks overlap or go backwards"
        out += a[pos:first]
        assert len(out) == (b_start - 1 if b_len else b_start), diff[k]
        pos, seen_a, seen_b = first, 0, 0
        k += 1
        while k < len(diff) and not diff[k].startswith("@@"):
            mark, text = diff[k][0], diff[k][1:]
            if mark in " -":
                assert a[pos] == text, f"line {k} of the diff does not match the old side"
                pos, seen_a = pos + 1, seen_a + 1
            if mark in " +":
                out.append(text)
                seen_b += 1
            k += 1
        assert (seen_a, seen_b) == (a_len, b_len), f"hunk {m[0]} has other line counts"
    return out + a[pos:]


def edited(rng: random.Random, a: list[str], fresh: bool) -> list[str]:
    """`a` with a few random inserts, deletes and replacements."""
    b = list(a)
    for n in range(rng.randint(0, 6)):
        k = rng.randint(0, len(b))
        new = f"new {n}" if fresh else rng.choice(["x", "y", "z"])
        op = rng.choice("idr")
        if op == "i":
            b.insert(k, new)
        elif k < len(b):
            if op == "d":
                del b[k]
            else:
                b[k] = new
    return b


def test_random_edits_rebuild_and_match_difflib() -> None:
    rng = random.Random(20240305)
    for _ in range(400):
        # Distinct lines and fresh edits: the smallest diff is unique, difflib finds it.
        a = [f"line {i}" for i in range(rng.randint(0, 40))]
        b = edited(rng, a, fresh=True)
        ops = textdiff.opcodes(a, b)
        assert apply_opcodes(a, b, ops) == b
        for context in (0, 1, 3):
            got = textdiff.unified(a, b, "a", "b", context=context)
            want = list(difflib.unified_diff(a, b, "a", "b", n=context, lineterm=""))
            assert got == (want or ["--- a", "+++ b"]), (a, b, context)
    for _ in range(400):
        # Few distinct lines: many equally small diffs; any of them must be a valid patch.
        a = [rng.choice(["x", "y", "z"]) for _ in range(rng.randint(0, 30))]
        b = edited(rng, a, fresh=False)
        assert apply_opcodes(a, b, textdiff.opcodes(a, b)) == b
        for context in (0, 2):
            assert apply_unified(a, textdiff.unified(a, b, "a", "b", context=context)) == b


def test_a_large_output_with_a_few_changes_shows_exactly_those() -> None:
    a = [f"worker {i % 7} processed item {i}" for i in range(100_000)]
    b = list(a)
    b[5] = "worker 5 FAILED item 5"
    del b[40_000]
    b.insert(40_050, "worker 0 retried item 39999")  # same length as before: lines shifted
    changes = [op for op in textdiff.opcodes(a, b) if op[0] != "equal"]
    assert changes == [("replace", 5, 6, 5, 6), ("delete", 40_000, 40_001, 40_000, 40_000),
                       ("insert", 40_051, 40_051, 40_050, 40_051)]
    diff = textdiff.unified(a, b, "a", "b")
    assert [line for line in diff[2:] if line[0] in "+-"] == [
        "-worker 5 processed item 5", "+worker 5 FAILED item 5",
        "-worker 2 processed item 40000", "+worker 0 retried item 39999"]
    assert apply_unified(a, diff) == b


def test_a_few_changes_among_repeated_lines_show_exactly_those() -> None:
    # A log of heartbeats: no line is unique to anchor on, the gap is large.
    a = ["heartbeat ok"] * 1000
    a[10], a[990] = "start A", "end A"
    b = ["heartbeat ok"] * 1001
    b[10], b[991] = "start B", "end B"
    diff = textdiff.unified(a, b, "a", "b", max_lines=10_000)
    assert apply_unified(a, diff) == b
    assert Counter(line[1:] for line in diff[2:] if line[0] == "-") == \
        Counter({"start A": 1, "end A": 1})
    assert Counter(line[1:] for line in diff[2:] if line[0] == "+") == \
        Counter({"start B": 1, "end B": 1, "heartbeat ok": 1})


@pytest.mark.parametrize(("a", "b", "ops"), [
    ([], [], None),
    ([], ["x", "y"], [("insert", 0, 0, 0, 2)]),
    (["x", "y"], [], [("delete", 0, 2, 0, 0)]),
    (["a", "b", "c"], ["d", "e"], [("replace", 0, 3, 0, 2)]),
    (["x"] * 5, ["x"] * 6, [("equal", 0, 5, 0, 5), ("insert", 5, 5, 5, 6)]),
    (["x", "y", "x", "y"], ["y", "x", "y"], [("delete", 0, 1, 0, 0), ("equal", 1, 4, 0, 3)]),
])
def test_edge_cases_agree_with_difflib(a: list[str], b: list[str], ops: list | None) -> None:
    if ops is not None:
        assert textdiff.opcodes(a, b) == ops
    want = list(difflib.unified_diff(a, b, "a", "b", lineterm=""))
    assert textdiff.unified(a, b, "a", "b") == (want or ["--- a", "+++ b"])


def test_a_missing_final_newline_is_a_changed_line() -> None:
    ops = textdiff.opcodes(["a\n", "b\n"], ["a\n", "b"])
    assert ops == [("equal", 0, 1, 0, 1), ("replace", 1, 2, 1, 2)]


def test_long_diffs_are_cut_after_max_lines_with_a_note() -> None:
    a = [f"a{i}" for i in range(40)]
    b = list(a)
    b[5], b[30] = "changed 5", "changed 30"
    full = textdiff.unified(a, b, "a", "b")
    assert len(full) == 2 + 2 * 9  # two hunks: header, 3 + 3 context lines, - and +
    assert textdiff.unified(a, b, "a", "b", max_lines=len(full)) == full
    cut = len(full) - 1
    assert textdiff.unified(a, b, "a", "b", max_lines=cut) == \
        [*full[:cut], f"... diff cut at {cut} lines"]
    assert textdiff.unified(a, b, "a", "b", max_lines=4) == [*full[:4], "... diff cut at 4 lines"]
    huge = textdiff.unified(a, [f"b{i}" for i in range(300)], "a", "b")
    assert len(huge) == 201 and huge[-1] == "... diff cut at 200 lines"
    assert huge[:4] == ["--- a", "+++ b", "@@ -1,40 +1,300 @@", "-a0"]

"""The determinism gate: what varies between repeated runs, and the rule that would fix it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from repro.compare import textdiff
from repro.compare.diff import compare
from repro.compare.normalise import BUILTIN, SPECIFICITY, Normal
from repro.results.outcome import ChannelVerdict

# Most specific first: a UUID is also hex, an ISO timestamp also contains a time.
_ORDER = SPECIFICITY
_TOKEN = re.compile(r"[\w.:/+-]+")


@dataclass(frozen=True)
class Variation:
    channel: str
    where: str  # line N / JSON path / column
    first: str
    second: str
    rule: dict  # a normalisation rule that would remove the variation
    fixable: bool = True


def variations(runs: list[list[Normal]]) -> list[Variation]:
    """Compare the first run with each other one; one Variation per distinct finding."""
    found: dict[tuple[str, str], Variation] = {}
    for other in runs[1:]:
        for diff in compare(runs[0], other, labels=("run 1", "run N")).channels:
            if diff.verdict != ChannelVerdict.DIVERGED:
                continue
            a = next((n for n in runs[0] if n.name == diff.name), None)
            b = next((n for n in other if n.name == diff.name), None)
            for v in _explain(diff.name, a, b, diff.changes):
                found.setdefault((v.channel, json.dumps(v.rule, sort_keys=True)), v)
    return list(found.values())


def proposed_rules(varied: list[Variation]) -> list[dict]:
    """The normalisation rules that would remove the variations: one per action, its
    channels gathered (the proposal stays short)."""
    merged: dict[str, dict] = {}
    for rule in (v.rule for v in varied if v.fixable):
        action = {k: v for k, v in rule.items() if k != "channels"}
        key = json.dumps(action, sort_keys=True)
        entry = merged.setdefault(key, {**action, "channels": []})
        for channel in rule["channels"]:
            if channel not in entry["channels"]:
                entry["channels"].append(channel)
    return list(merged.values())


def _explain(name: str, a: Normal | None, b: Normal | None, changes: list) -> list[Variation]:
    if a is None or b is None or a.text is None or b.text is None or a.kind != b.kind:
        first = "absent" if a is None else str(a.value if a.text is None else a.kind)
        second = "absent" if b is None else str(b.value if b.text is None else b.kind)
        return [Variation(name, "value", first, second, {}, fixable=False)]
    if a.kind in ("json", "yaml"):
        return [Variation(name, c["path"], json.dumps(c.get("old")), json.dumps(c.get("new")),
                          {"ignore_fields": [_wild(c["path"])], "channels": [name]})
                for c in changes if c.get("path")]
    if a.kind in ("csv", "tsv") and changes and "columns" in changes[0]:
        out = []
        for change in changes:
            for column, values in change.get("columns", {}).items():
                out.append(Variation(name, f"column {column}", values["old"], values["new"],
                                     {"ignore_columns": [column], "channels": [name]}))
        return out
    return _text_variations(name, a.text.splitlines(), b.text.splitlines())


def _wild(path: str) -> str:
    return re.sub(r"\[\d+\]", ".*", path).lstrip(".")


def _text_variations(name: str, old: list[str], new: list[str]) -> list[Variation]:
    if sorted(old) == sorted(new):  # the same lines in another order
        return [Variation(name, "line order", old[0] if old else "", new[0] if new else "",
                          {"sort_lines": True, "channels": [name]})]
    out = []
    for tag, i1, i2, j1, j2 in textdiff.opcodes(old, new):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                out += _line_variations(name, i1 + k + 1, old[i1 + k], new[j1 + k])
            continue
        for k in range(max(i2 - i1, j2 - j1)):  # lines one run printed and another did not
            x = old[i1 + k] if i1 + k < i2 else "(no such line)"
            y = new[j1 + k] if j1 + k < j2 else "(no such line)"
            out.append(Variation(name, f"line {i1 + k + 1}", x, y, {}, fixable=False))
    return out


def _line_variations(name: str, line: int, x: str, y: str) -> list[Variation]:
    """One finding per varying token; a built-in mask where one covers it."""
    tokens_x, tokens_y = _TOKEN.findall(x), _TOKEN.findall(y)
    if len(tokens_x) != len(tokens_y):
        return [Variation(name, f"line {line}", x, y, {}, fixable=False)]
    out = []
    pos_x = pos_y = 0
    for p, q in zip(tokens_x, tokens_y, strict=True):
        start_x, start_y = x.find(p, pos_x), y.find(q, pos_y)
        pos_x, pos_y = start_x + len(p), start_y + len(q)
        if p == q:
            continue
        rule = next(({"mask": mask} for mask in _ORDER
                     if any(_covered(re.compile(pattern), x, p) and
                            _covered(re.compile(pattern), y, q)
                            for pattern, _ in BUILTIN[mask])), None)
        if rule is None:
            rule = {"replace": _context(x, start_x, y, start_y) + _generalise(p, q),
                    "with": "<varies>"}
        out.append(Variation(name, f"line {line}", x, y, {**rule, "channels": [name]}))
    return out


def _context(x: str, start_x: int, y: str, start_y: int) -> str:
    """A fixed-width look-behind on the text both lines share before the token, so the
    proposed replacement touches this value and not every word of the output."""
    size = 0
    while size < min(12, start_x, start_y) and x[start_x - size - 1] == y[start_y - size - 1]:
        size += 1
    return f"(?<={re.escape(x[start_x - size:start_x])})" if size else ""


def _generalise(p: str, q: str) -> str:
    """A regex matching both tokens: digits become \\d+, the rest stays literal if it can."""
    pattern = "".join(r"\d+" if part.isdigit() else re.escape(part)
                      for part in re.findall(r"\d+|\D", p))
    return pattern if re.fullmatch(pattern, q) else r"\S+"


def _covered(regex: re.Pattern[str], line: str, token: str) -> bool:
    """Does some match of `regex` in `line` cover (part of) `token`'s variable part?"""
    start = line.find(token)
    if start < 0:
        return False
    end = start + len(token)
    return any(m.start() < end and m.end() > start for m in regex.finditer(line))

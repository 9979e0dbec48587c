"""One rulebook for every channel: masks, replacements, ignored fields/columns, sorted lines.

Each channel is reduced to a canonical text (what a baseline stores and diffs compare):
text as is, JSON/YAML as sorted-key JSON, CSV/TSV re-serialised, exit codes as values.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from repro.compare.channels import Channel
from repro.config.model import Rule
from repro.errors import ConfigError, Problem

IGNORED = "<ignored>"
NO_OUTPUT = "(no output)\n"  # among a repeated step's distinct outputs: some printed nothing

# Built-in masks: name -> [(regex, replacement)], applied in order. Placeholders are plain
# (`<timestamp>`, not numbered): one inserted line must not renumber every later one and
# turn a one-line change into a thousand-line diff. [0-9] over \d: ASCII is what logs
# print, and Python's re scans it markedly faster.
_D = "[0-9]"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
BUILTIN: dict[str, list[tuple[str, str]]] = {
    "iso8601": [(rf"(?<!{_D}){_D}{{4}}-{_D}{{2}}-{_D}{{2}}[T ]{_D}{{2}}:{_D}{{2}}"
                 rf"(?::{_D}{{2}}(?:[.,]{_D}+)?)?(?:Z|[+-]{_D}{{2}}(?::?{_D}{{2}})?)?(?![0-9:])",
                 "<timestamp>")],
    "log-timestamp": [
        # Apache access [05/Mar/2024:14:22:01 +0000], Apache error [Tue Mar 05 14:22:01.1 2024]
        (rf"\b{_D}{{2}}/{_MONTH}/{_D}{{4}}:{_D}{{2}}:{_D}{{2}}:{_D}{{2}}(?: [+-]{_D}{{4}})?",
         "<timestamp>"),
        (rf"\b{_DAY} {_MONTH} [ 0-9]{_D} {_D}{{2}}:{_D}{{2}}:{_D}{{2}}(?:\.{_D}+)? {_D}{{4}}\b",
         "<timestamp>"),
        # Go/nginx 2024/03/05 14:22:01, syslog Mar  5 14:22:01
        (rf"(?<!{_D}){_D}{{4}}/{_D}{{2}}/{_D}{{2}} {_D}{{2}}:{_D}{{2}}:{_D}{{2}}(?:\.{_D}+)?",
         "<timestamp>"),
        (rf"\b{_MONTH} [ 0-9]{_D} {_D}{{2}}:{_D}{{2}}:{_D}{{2}}\b", "<timestamp>"),
        # a bare time, unless an ISO date leads it (that is iso8601's)
        (rf"(?<![0-9:])(?<!{_D}{{4}}-{_D}{{2}}-{_D}{{2}}[T ])"
         rf"{_D}{{2}}:{_D}{{2}}:{_D}{{2}}(?:[.,]{_D}{{1,9}})?(?![0-9:])", "<time>")],
    "uuid": [(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
              "<uuid>")],
    # 12 hex digits with at least one letter: a plain 12-digit number is not an id
    "container-id": [(r"\b[0-9a-f]{64}\b|\b(?=[0-9]{0,11}[a-f])[0-9a-f]{12}\b", "<container>")],
    "hex-id": [(r"\b0x[0-9a-fA-F]+\b", "<hex>"),
               (r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,}\b", "<hex>")],
    # no bare `d` (days): it would eat hex ids like 3040d0e2 or commit 5d7d
    "duration": [(rf"\b(?:{_D}+(?:\.{_D}+)?(?:ns|us|µs|ms|s|m|h)){{1,4}}\b", "<duration>"),
                 (rf"\b{_D}+(?:\.{_D}+)?\s?(?:ns|us|µs|ms|s|sec|secs|seconds?|mins?|minutes?"
                  r"|hours?|days?)\b", "<duration>")],
    "tmp-path": [(r"(?<![\w/])/(?:var/)?tmp/[\w.-]*[\w-](?:/[\w.-]*[\w-])*", "<tmp>")],
    "pid": [(rf"(?i)(\bpid[ =:#]*){_D}+", r"\1<pid>"), (rf"(?<=[A-Za-z_-])\[{_D}+\](?=:)",
                                                       "[<pid>]")],
    # The sandbox's own hostname is fixed ("sandbox"); other containers are named
    # repro-<run id>[-service].
    "hostname": [(r"\brepro-[\w.-]+-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}(?:-[\w.-]+)?\b", "<host>")],
}


# Which masks to try first: a longer, more specific shape before the shorter ones it holds.
SPECIFICITY = ["uuid", "iso8601", "log-timestamp", "container-id", "hex-id", "tmp-path",
               "hostname", "pid", "duration"]


@dataclass(frozen=True)
class Normal:
    """A channel after the rulebook: canonical text (or value) and its hash."""

    name: str
    kind: str
    value: Any  # exit code/status, or None
    text: str | None  # canonical text, None for binary and value channels
    sha256: str
    raw_sha256: str | None
    size: int | None = None
    note: str | None = None  # e.g. "not valid JSON: compared as text"
    key: tuple[str, ...] = ()  # CSV/TSV key columns (from the capture)
    tolerance: float | None = None  # numeric tolerance (from the capture)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _specificity(item: tuple[int, Rule]) -> int:
    mask = item[1].mask
    assert mask is not None  # only masking rules are sorted by it
    return SPECIFICITY.index(mask)


class Rulebook:
    """The environment's rules then the scenario's, each scoped to channel globs."""

    def __init__(self, rules: tuple[Rule, ...] | list[Rule]):
        self.rules = list(rules)
        self._compiled: dict[int, list[tuple[re.Pattern[str], str]]] = {}
        for i, rule in enumerate(self.rules):
            if rule.mask:
                self._compiled[i] = [(re.compile(p, re.MULTILINE), r) for p, r in
                                     BUILTIN[rule.mask]]
            elif rule.replace is not None:
                self._compiled[i] = [(re.compile(rule.replace, re.MULTILINE), rule.with_)]

    def applying(self, channel: str) -> list[tuple[int, Rule]]:
        """Masks first, most specific first (a uuid before the durations inside it could
        be seen), then the other rules in the order written."""
        chosen = [(i, r) for i, r in enumerate(self.rules)
                  if any(fnmatch.fnmatchcase(channel, glob) for glob in r.channels)]
        masks = sorted((x for x in chosen if x[1].mask), key=_specificity)
        return masks + [x for x in chosen if not x[1].mask]

    def text_rules(self, channel: str, text: str) -> str:
        for i, rule in self.applying(channel):
            if i in self._compiled:
                for regex, replacement in self._compiled[i]:
                    try:
                        text = regex.sub(replacement, text)
                    except re.error as exc:  # a bad `with:` template shows only at a match
                        raise ConfigError(Problem("normalize", None, f"[{i}].with",
                                                  f"invalid replacement {replacement!r}: "
                                                  f"{exc}")) from None
            elif rule.sort_lines:
                ending = "\n" if text.endswith("\n") else ""
                text = "\n".join(sorted(text.splitlines())) + ending
        return text

    def fields(self, channel: str) -> list[str]:
        return [f for _, r in self.applying(channel) for f in (r.ignore_fields or [])]

    def columns(self, channel: str) -> list[str]:
        return [c for _, r in self.applying(channel) for c in (r.ignore_columns or [])]

    def normalise(self, channel: Channel) -> Normal:
        if channel.kind in ("exit_code", "absent"):
            return Normal(channel.name, channel.kind, channel.value, None,
                          _sha(repr(channel.value)), None)
        if channel.parts:
            return self._distinct(channel)
        raw = channel.raw()
        raw_sha = channel.__dict__.get("_sha") or hashlib.sha256(raw).hexdigest()
        if channel.kind == "binary":
            return Normal(channel.name, "binary", None, None, raw_sha, raw_sha, len(raw))
        text = self.text_rules(channel.name, raw.decode("utf-8", "replace"))
        kind, note = channel.kind, None
        if kind in ("json", "yaml"):
            try:
                text = self._structured(channel.name, kind, text)
            except ValueError as exc:
                kind, note = "text", f"not valid {channel.kind.upper()} ({exc}): compared as text"
        elif kind in ("csv", "tsv"):
            try:
                text = self._table(channel, text)
            except MissingKey as exc:  # the product changed its columns: a divergence
                kind, note = "text", f"{exc}: compared as text"
        capture = channel.capture
        return Normal(channel.name, kind, None, text, _sha(text), raw_sha, len(raw), note,
                      tuple(capture.key) if capture else (),
                      capture.tolerance if capture else None)

    def _distinct(self, channel: Channel) -> Normal:
        """A repeated step's outputs: each instance's normalised, the distinct texts
        sorted, one after the other (which instance printed what is in `steps.NAME.N`)."""
        texts, size = set(), 0
        for part in channel.parts:
            raw = part.read_bytes()
            size += len(raw)
            texts.add(self.text_rules(channel.name, raw.decode("utf-8", "replace")))
        if "" in texts and len(texts) > 1:
            texts.discard("")
            texts.add(NO_OUTPUT)
        text = "".join(t if t.endswith("\n") else t + "\n" for t in sorted(texts) if t)
        return Normal(channel.name, "text", None, text, _sha(text), channel.raw_sha256(), size)

    def _structured(self, name: str, kind: str, text: str) -> str:
        if kind == "json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {exc.lineno}: {exc.msg}") from None
        else:
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ValueError(str(exc).splitlines()[0]) from None
        for path in self.fields(name):
            data = _ignore_path(data, path.split("."))
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"

    def _table(self, channel: Channel, text: str) -> str:
        delimiter = "\t" if channel.kind == "tsv" else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        header = rows[0] if rows else []
        capture = channel.capture
        key = list(capture.key) if capture else []
        where = f"capture {channel.name.removeprefix('files.')!r}"
        for column in key:
            if column not in header:
                raise MissingKey(f"key column {column!r} is not in the header "
                                 f"({', '.join(header) or 'empty'})")
        ignored = self.columns(channel.name)
        for column in key:
            if column in ignored:
                raise ConfigError(Problem(where, None, "key", f"key column {column!r} is also "
                                          "in ignore_columns; a row needs its key"))
        dropped = {i for i, name in enumerate(header) if name in ignored}
        keep = [i for i in range(len(header)) if i not in dropped]
        body = [[row[i] if i < len(row) else "" for i in keep] for row in rows[1:]]
        header = [header[i] for i in keep]
        if key:
            positions = [header.index(c) for c in key]
            body.sort(key=lambda row: [row[p] for p in positions])
        elif capture is not None and not capture.ordered:
            body.sort()
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body)
        return out.getvalue()


class MissingKey(ValueError):
    """A declared key column is absent from a table's header."""


def _ignore_path(data: Any, parts: list[str]) -> Any:
    """Replace the value at a dotted path (`*` = every key or item) with <ignored>."""
    if not parts:
        return IGNORED
    head, rest = parts[0], parts[1:]
    if isinstance(data, dict):
        keys = list(data) if head == "*" else [head] if head in data else []
        return {k: (_ignore_path(v, rest) if k in keys else v) for k, v in data.items()}
    if isinstance(data, list):
        if head == "*":
            return [_ignore_path(v, rest) for v in data]
        if head.isdigit() and int(head) < len(data):
            return [(_ignore_path(v, rest) if i == int(head) else v) for i, v in enumerate(data)]
    return data

"""Pseudonymise columns of a CSV/TSV file as a stream of bytes, in bounded memory.

The fast path splits a line on the delimiter and rewrites only the declared columns; a
line holding a quote (a quoted field, perhaps over several lines) takes the careful path,
which keeps every other field byte for byte. Tokens of recent values are remembered per
column, so a customer's thousand orders cost one HMAC."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from operator import methodcaller
from typing import BinaryIO

from repro.config.schema import did_you_mean
from repro.errors import ConfigError, Problem

CHUNK = 1 << 20
CACHE_LIMIT = 1 << 16  # distinct values per column before the cache starts over
_BOM = b"\xef\xbb\xbf"
_CANDIDATES = (";", ",", "\t", "|")
Token = Callable[[str, bytes], bytes]


def sniff_delimiter(header: bytes, name: str) -> str:
    if name.lower().endswith((".tsv", ".tab")):
        return "\t"
    counts = {d: header.count(d.encode()) for d in _CANDIDATES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_columns(header: bytes, delimiter: str) -> list[str]:
    text = header.removeprefix(_BOM).decode("utf-8", "replace").rstrip("\r\n")
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def rewrite(src: BinaryIO, out: BinaryIO, columns: dict[str, str], delimiter: str | None,
            shown: str, token: Token) -> int:
    """Copy `src` to `out` with the values of `columns` (name -> kind) replaced by
    their tokens; returns the number of values replaced."""
    header = src.readline()
    out.write(header)
    delim, targets = plan_columns(header, columns, delimiter, shown)
    return body(src, out, delim, targets, token)


def plan_columns(header: bytes, columns: dict[str, str], delimiter: str | None, shown: str
                 ) -> tuple[bytes, list[tuple[int, str]]]:
    """The delimiter and (index, kind) of each column named by the rule."""
    delim = delimiter or sniff_delimiter(header, shown)
    names = header_columns(header, delim)
    targets: list[tuple[int, str]] = []
    for column, kind in columns.items():
        index = _index(names, column)
        if index is None:
            hint = did_you_mean(column, names) or f" (columns: {', '.join(names)[:200]})"
            raise ConfigError(Problem(shown, 1, "", f"no column {column!r} in the header"
                                      f"{hint}; check the rule's `columns:` or `delimiter:`"))
        targets.append((index, kind))
    return delim.encode(), targets


def _index(names: list[str], column: str) -> int | None:
    for exact in (True, False):
        for i, name in enumerate(names):
            if (name.strip() == column) if exact else (name.strip().lower() == column.lower()):
                return i
    return None


class _Cache(dict[bytes, bytes]):
    """Tokens of one column's recent values; a miss computes and keeps the token (the
    whole cache starts over past CACHE_LIMIT values: bounded memory on any input)."""

    def __init__(self, kind: str, token: Token):
        super().__init__()
        self._kind, self._token = kind, token

    def __missing__(self, value: bytes) -> bytes:
        if len(self) >= CACHE_LIMIT:
            self.clear()
        made = self[value] = self._token(self._kind, value)
        return made


Plan = list[tuple[int, _Cache]]


def body(src: BinaryIO, out: BinaryIO, delim: bytes, targets: list[tuple[int, str]],
          token: Token) -> int:
    plan: Plan = [(i, _Cache(kind, token)) for i, kind in targets]
    last = max(i for i, _ in targets)
    replaced = 0
    carry = b""
    while True:
        chunk = src.read(CHUNK)
        data = carry + chunk
        if not chunk:  # the end: a last line without a newline, if any
            if data:
                done, _, count = _lines(data.split(b"\n"), delim, plan, last, True)
                out.write(b"\n".join(done))
                replaced += count
            return replaced
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        if b'"' not in data[:cut]:
            count = _plain(data[:cut], out, delim, plan, last)
            if count >= 0:
                replaced += count
                carry = data[cut + 1:]
                continue
        done, rest, count = _lines(data[:cut].split(b"\n"), delim, plan, last, False)
        if done:
            out.write(b"\n".join(done) + b"\n")
        replaced += count
        carry = rest + data[cut + 1:]


def _plain(data: bytes, out: BinaryIO, delim: bytes, plan: Plan, last: int) -> int:
    """The fast path, for lines without a quote that all have the same number of fields:
    the chunk is split into one flat list of fields, each column is a slice of it mapped
    through its cache, and lines are joined back; no Python code runs per line, only per
    cache miss. -1 when the lines differ in length (the careful path then)."""
    lines = data.split(b"\n")
    seps = set(map(methodcaller("count", delim), lines))
    if len(seps) != 1:
        return -1
    width = seps.pop() + 1
    if width <= last:
        return -1
    fields = data.replace(b"\n", delim).split(delim)
    for index, cache in plan:
        fields[index::width] = list(map(cache.__getitem__, fields[index::width]))
    rows = zip(*[iter(fields)] * width, strict=True)  # back into lines of `width` fields
    out.write(b"\n".join(map(delim.join, rows)) + b"\n")
    return len(lines) * len(plan)


def _lines(lines: list[bytes], delim: bytes, plan: Plan, last: int, final: bool
           ) -> tuple[list[bytes], bytes, int]:
    """Rewrite whole lines; returns them, what must wait for the next chunk (a record
    whose quoted field is still open at the chunk's end) and the values replaced."""
    out: list[bytes] = []
    replaced = 0
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if b'"' in line:
            record = line
            while record.count(b'"') % 2 and i < n:  # a quoted field goes on below
                record += b"\n" + lines[i]
                i += 1
            if record.count(b'"') % 2 and not final:
                return out, record + b"\n", replaced
            new, count = _quoted(record, delim, plan)
            out.append(new)
            replaced += count
            continue
        fields = line.split(delim)
        if len(fields) <= last:
            out.append(line)  # a short or blank line: nothing of ours in it
            continue
        for index, cache in plan:
            fields[index] = cache[fields[index]]
        replaced += len(plan)
        out.append(delim.join(fields))
    return out, b"", replaced


def split_quoted(record: bytes, delim: bytes) -> list[bytes]:
    """Fields as written, quotes included (`a;"b;c";d` -> a, "b;c", d)."""
    fields: list[bytes] = []
    pos, size = 0, len(record)
    while True:
        if record[pos:pos + 1] == b'"':
            end = pos + 1
            while True:
                end = record.find(b'"', end)
                if end < 0:
                    end = size
                    break
                if record[end + 1:end + 2] == b'"':
                    end += 2
                    continue
                end += 1
                break
            stop = record.find(delim, end)
        else:
            stop = record.find(delim, pos)
        if stop < 0:
            fields.append(record[pos:])
            return fields
        fields.append(record[pos:stop])
        pos = stop + len(delim)


def _quoted(record: bytes, delim: bytes, plan: Plan) -> tuple[bytes, int]:
    fields = split_quoted(record, delim)
    count = 0
    for index, cache in plan:
        if index >= len(fields):
            continue
        raw = fields[index]
        stripped = raw.rstrip(b"\r")
        tail = raw[len(stripped):]
        if stripped.startswith(b'"') and stripped.endswith(b'"') and len(stripped) > 1:
            inner = stripped[1:-1].replace(b'""', b'"')
            fields[index] = b'"' + cache[inner].replace(b'"', b'""') + b'"' + tail
        else:
            fields[index] = cache[raw]
        count += 1
    return delim.join(fields), count

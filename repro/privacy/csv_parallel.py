"""A large CSV without quotes, pseudonymised by several processes at once.

The body is cut into byte ranges at line ends; each worker rewrites its range into a
part file next to the target (the same key gives the same tokens in every process), and
the parts are appended in order. A quote anywhere means a field may span lines, and a
cut could fall inside it: a worker meeting one stops, and the file takes the one-process
path instead. Workers are spawned, not forked: a fork of a process with threads (a test
runner's, say) can hang on a lock another thread held."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from repro.privacy import csv_file
from repro.privacy.processes import FileRange, pool, workers
from repro.privacy.tokens import Tokens

MIN_SIZE = 64 << 20  # below this, starting processes costs more than it saves
_key = b""  # the worker's key, set by `_start` in each worker


class _Quoted(Exception):
    """The range holds a quote."""


class _Range(FileRange):
    """Reads a file from `start` up to `end` only; a quote stops it."""

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        if b'"' in data:
            raise _Quoted
        return data


def usable(path: Path) -> bool:
    """Big enough to be worth it, with more than one CPU."""
    return path.stat().st_size >= MIN_SIZE and workers() >= 2


def rewrite(path: Path, out: BinaryIO, columns: dict[str, str], delimiter: str | None,
            shown: str, key: bytes, parts_dir: Path) -> int | None:
    """The number of values replaced; None (and nothing written) when the file holds a
    quote."""
    with path.open("rb") as src:
        header = src.readline()
        body_start = src.tell()
        delim, targets = csv_file.plan_columns(header, columns, delimiter, shown)
        size = path.stat().st_size
        count = workers()
        cuts = [body_start]
        for n in range(1, count):  # each cut just after a line end
            src.seek(max(cuts[-1], body_start + (size - body_start) * n // count))
            src.readline()
            cuts.append(src.tell())
        cuts.append(size)
    ranges = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    parts = [parts_dir / f".{path.name}.part{n}.tmp" for n in range(len(ranges))]
    try:
        with pool(len(ranges), _start, (key,), f"rewriting {path.name}") as workers_:
            counts = list(workers_.map(_work, *zip(*[
                (str(path), a, b, delim, targets, str(part))
                for (a, b), part in zip(ranges, parts, strict=True)], strict=True)))
        if min(counts) < 0:
            return None
        out.write(header)
        for part in parts:
            with part.open("rb") as handle:
                while chunk := handle.read(1 << 22):
                    out.write(chunk)
        return sum(counts)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


def _start(key: bytes) -> None:
    global _key
    _key = key


def _work(path: str, start: int, end: int, delim: bytes, targets: list[tuple[int, str]],
          part: str) -> int:
    tokens = Tokens(_key)
    with open(path, "rb") as src, open(part, "wb", buffering=1 << 20) as out:
        try:
            return csv_file.body(_Range(src, start, end), out, delim,  # type: ignore[arg-type]
                                 targets, tokens.token_bytes)
        except _Quoted:
            return -1

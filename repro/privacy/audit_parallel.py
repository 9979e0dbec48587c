"""A large file scanned by `repro audit` in several processes at once.

The file is cut at line ends into pieces; a pool of workers scans them (each with a copy
of the scanner), and the findings come back piece by piece, in order, with the number of
lines of each piece so that line numbers run on. Two pieces a worker are under way at
most, so memory stays bounded whatever the file's size and however slowly the findings
are read. The workers: repro.privacy.processes (spawned; one dying ends the scan in one
line)."""

from __future__ import annotations

import itertools
import signal
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from repro.privacy.processes import FileRange, pool, workers
from repro.privacy.text_file import line_blocks

MIN_SIZE = 64 << 20  # below this, starting processes costs more than it saves
PIECE = 16 << 20

Found = tuple[int, str, str]  # (line, kind, masked value)
Lines = Callable[[Iterable[bytes], Collection[str]], Iterator[Found]]
_scan: tuple[Lines, Collection[str]] | None = None  # the worker's scanner, set by `_start`


def usable(size: int) -> bool:
    """Big enough to be worth it, with more than one CPU."""
    return size >= MIN_SIZE and workers() >= 2


def scan(lines: Lines, path: Path, allowed_secrets: Collection[str]) -> Iterator[Found]:
    """`lines` (a bound method of the scanner: pickled into each worker) over the pieces
    of `path`, its findings numbered from the file's first line."""
    cuts = cut(path)
    pieces, count = iter(cuts), min(workers(), len(cuts))
    with pool(count, _start, (lines, allowed_secrets), f"scanning {path.name}") as workers_:
        # two pieces a worker under way at most: a reader slower than the workers (a pipe)
        # holds them back instead of their findings piling up
        pending = deque(workers_.submit(_work, piece)
                        for piece in itertools.islice(pieces, 2 * count))
        first = 1
        while pending:
            found, lines_in_piece = pending.popleft().result()
            for piece in itertools.islice(pieces, 1):
                pending.append(workers_.submit(_work, piece))
            for line, kind, masked in found:
                yield first + line - 1, kind, masked
            first += lines_in_piece


def cut(path: Path) -> list[tuple[str, int, int]]:
    """(path, start, end) of each piece: about PIECE bytes, ending just after a line end."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as src:
        while cuts[-1] + PIECE < size:
            src.seek(cuts[-1] + PIECE)
            src.readline()
            cuts.append(src.tell())
    if cuts[-1] < size:
        cuts.append(size)
    return [(str(path), a, b) for a, b in zip(cuts, cuts[1:], strict=False)]


def _start(lines: Lines, allowed_secrets: Collection[str]) -> None:
    global _scan
    _scan = (lines, allowed_secrets)
    # Ctrl-C reaches the whole process group: the parent says it in one line and stops
    # the pool; a worker says nothing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(piece: tuple[str, int, int]) -> tuple[list[Found], int]:
    assert _scan is not None
    path, start, end = piece
    lines, allowed_secrets = _scan
    count = 0

    def blocks(src: Any) -> Iterator[bytes]:
        nonlocal count
        for block in line_blocks(src):
            count += block.count(b"\n")
            yield block

    with open(path, "rb") as handle:
        found = list(lines(blocks(FileRange(handle, start, end)), allowed_secrets))
    return found, count

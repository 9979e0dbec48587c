"""Worker processes for the big files of `repro redact` and `repro audit`: how many, a
pool that cannot hang, and a reader of one byte range of a file.

Spawned, not forked: a fork of a threaded process can hang. A worker that dies (the
kernel's out-of-memory killer, a `kill -9`) breaks the whole pool, which is said in one
line, where a `multiprocessing.Pool` would wait for its result for ever."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, BinaryIO

from repro.errors import ReproError


def workers() -> int:
    """The CPUs this process may run on (not the host's: a CI job may get two of many),
    eight at most."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, 8))


@contextmanager
def pool(count: int, initializer: Callable[..., None], initargs: tuple[Any, ...],
         what: str) -> Iterator[ProcessPoolExecutor]:
    """`count` spawned workers; a worker's death ends the work in one line (`what`: the
    work, for that line), and nothing is left running on the way out."""
    executor = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=initializer, initargs=initargs)
    try:
        yield executor
    except BrokenProcessPool:
        raise ReproError(f"{what}: a worker process died (killed, or out of memory?); "
                         "try again with more memory free") from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


class FileRange:
    """Reads a file from `start` up to `end` only."""

    def __init__(self, handle: BinaryIO, start: int, end: int):
        self._handle, self._left = handle, end - start
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

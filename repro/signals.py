"""Turn SIGTERM into an exception (like Ctrl-C) and keep clean-up from being interrupted."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from repro.errors import Interrupted


def _raise(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def install() -> None:
    """SIGTERM (CI cancelling a job, `docker stop`, `kill`) unwinds like Ctrl-C does."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)
        signal.signal(signal.SIGINT, _raise)


def settle() -> None:
    """The command is over and only the exit remains: a late signal changes nothing."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def shielded() -> Iterator[None]:
    """Defer SIGINT/SIGTERM while resources are being removed; re-deliver afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _f: pending.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if pending:
        raise Interrupted(signal.Signals(pending[0]).name)

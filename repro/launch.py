"""The `repro` executable: guard its first instants, then hand over to the command line.

Importing the command line takes a moment; a Ctrl-C or SIGTERM landing in it would
otherwise end the process with a traceback, or by the signal itself (exit -2). Nothing
has been created yet at that point, so the guard simply says so and exits 130.
"""

from __future__ import annotations

import os
import signal


def _early(signum: int, _frame: object) -> None:
    name = signal.Signals(signum).name
    os.write(2, f"repro: error: interrupted by {name} before anything started\n".encode())
    os._exit(130)  # nothing to clean up, and no handler of the half-imported CLI to run


def main() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _early)
    from repro.cli import main as cli_main  # replaces the guard once a command begins

    cli_main()

"""The `repro` command line: parse, call the pipeline, print, map outcomes to exit codes.

One module per group of commands; each registers on the shared typer app. Decisions
live in the stages (repro.pipeline and below), never here.
"""

from __future__ import annotations

from repro.cli.app import app

# isort: off
# Imported for their commands, in the order `repro --help` lists them.
from repro.cli import run  # noqa: F401, E402
from repro.cli import baseline  # noqa: F401, E402
from repro.cli import replay  # noqa: F401, E402
from repro.cli import report  # noqa: F401, E402
from repro.cli import case  # noqa: F401, E402
from repro.cli import project  # noqa: F401, E402
from repro.cli import new  # noqa: F401, E402
from repro.cli import engine  # noqa: F401, E402
from repro.cli import clock  # noqa: F401, E402
from repro.cli import patches  # noqa: F401, E402
from repro.cli import start  # noqa: F401, E402
from repro.cli import privacy  # noqa: F401, E402
# isort: on


def main() -> None:
    # Named `repro` however it was started (`python -m repro` too): shell completion
    # scripts call it by that name (_REPRO_COMPLETE).
    app(prog_name="repro")

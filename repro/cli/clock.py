"""`repro timeline`: a customer log's events as offsets, to help write a scenario's steps."""

from __future__ import annotations

from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import handled
from repro.errors import EXIT_OK


@app.command()
@handled
def timeline(log: Path = typer.Argument(..., help="A log file (the customer's)"),
             match: str | None = typer.Option(None, "--match", help="Only lines matching "
                                              "this regular expression"),
             zone: str | None = typer.Option(None, "--zone", help="Zone of timestamps "
                                             "written without one (default UTC)"),
             year: int | None = typer.Option(None, "--year", help="Year of the first line, "
                                             "for timestamps without one (syslog)")) -> int:
    """Print a log's timestamped lines as offsets from its first one."""
    from repro.config.yaml_source import display_path
    from repro.plan.clock import log_timeline
    from repro.report.clock import log_events

    events, origin, total = log_timeline(log, match, zone, year)
    for line in log_events(display_path(log), events, origin, total):
        print(line)
    return EXIT_OK

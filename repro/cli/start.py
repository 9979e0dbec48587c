"""Getting started: `repro init` (a new project) and `repro doctor` (is this machine ready)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import handled, shown
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK


@app.command()
@handled
def init(folder: Path = typer.Argument(Path("."), help="Where (default: here); made if "
                                       "missing."),
         force: bool = typer.Option(False, "--force", help="Overwrite the starter files if "
                                    "they exist.")) -> int:
    """Create a new project: an example environment and a scenario that run at once."""
    from repro.config import starter

    for path in starter.create(folder, force):
        print(f"wrote {shown(path)}")
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {shown(folder)} && "
    print(f"next: {where}repro validate && repro run scenarios/EXAMPLE-1")
    return EXIT_OK


@app.command()
@handled
def doctor(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
           ) -> int:
    """Check the engine, the offline bases and this project; a fix for each failure.
    Exit 0 when every check holds, 1 otherwise."""
    from repro import doctor as checker
    from repro.config.project import project_root
    from repro.report import doctor as shown_checks
    from repro.sandbox import backends

    found = checker.checks(backends.default(), project_root(Path.cwd()))
    healthy = checker.healthy(found)
    if as_json:
        print(json.dumps(shown_checks.as_json(found, healthy), indent=2))
    else:
        print("\n".join(shown_checks.lines(found)))
    return EXIT_OK if healthy else EXIT_NOT_AS_EXPECTED

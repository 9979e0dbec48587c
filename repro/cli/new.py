"""`repro new`: a draft scenario, from a customer's support bundle or from scratch."""

from __future__ import annotations

from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import handled
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK


@app.command()
@handled
def new(ticket: str = typer.Argument(..., help="Ticket id: the folder scenarios/TICKET"),
        bundle: Path | None = typer.Option(
            None, "--from", help="The customer's support bundle: .zip, .tar, .tar.gz/.tgz, "
            ".tar.xz, .tar.bz2 or a folder (only read)"),
        env: str | None = typer.Option(None, "--env", help="Environment name (default: the "
                                       "project's only one)"),
        force: bool = typer.Option(False, "--force", help="Replace an existing scenario "
                                   "folder."),
        limit: list[str] = typer.Option([], "--limit", metavar="KEY=VALUE", help="Raise a "
                                        "bound on the bundle: size=20g, entries=N, ratio=N "
                                        "(repeatable)")) -> int:
    """Write scenarios/TICKET/scenario.yaml, from a support bundle when given, and say
    what is left to fill in."""
    from repro.bundle.new import bounds_from, create
    from repro.config.project import project_root

    created = create(project_root(Path.cwd()), ticket, bundle, env, force, bounds_from(limit))
    for line in created.summary():
        print(line)
    return EXIT_NOT_AS_EXPECTED if created.problems else EXIT_OK

"""`repro new`: a draft scenario, from a customer's support bundle or from scratch."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import handled, say
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK

SCAN_LIMIT = 64 * 1024 * 1024  # bytes of copies scanned for personal data at once


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
    from repro.bundle.new import CUSTOMER, bounds_from, create
    from repro.config.project import project_root

    root = project_root(Path.cwd())
    created = create(root, ticket, bundle, env, force, bounds_from(limit))
    for line in created.summary():
        print(line)
    if bundle is not None:
        _as_sent(root, created.folder / CUSTOMER, ticket)
    return EXIT_NOT_AS_EXPECTED if created.problems else EXIT_OK


def _as_sent(root: Path, customer: Path, ticket: str) -> None:
    """The copies are the bundle as the customer sent it: keep the originals outside the
    project, where `repro redact` reads them, and say what personal data the copies hold
    before anyone commits them."""
    from repro.config.yaml_source import display_path
    from repro.privacy import audit
    from repro.privacy.pseudonymise import default_inbox

    inbox = default_inbox(ticket).expanduser()
    if inbox.exists():
        say(f"{inbox} exists already: left as it is")
    else:
        inbox.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copytree(customer, inbox)
        say(f"originals kept outside the project in {inbox} (read by `repro redact`)")
    shown = display_path(customer)
    size = sum(f.stat().st_size for f in customer.rglob("*") if f.is_file())
    if size > SCAN_LIMIT:  # its scan takes minutes: not now
        found = None
    else:
        scanner = audit.Scanner.of_project(root)
        found = sum(1 for _ in scanner.paths([customer]))
    if found == 0:
        say(f"{shown}/ holds the bundle as sent; `repro audit` finds no personal data or "
            "secrets in it")
        return
    count = "" if found is None else f"{found} finding(s) of personal data or secrets; "
    say(f"warning: {shown}/ holds the bundle as sent ({count}`repro audit {shown}` lists "
        f"them): declare `privacy:` rules and run `repro redact {ticket} --force` before "
        "committing it (docs/privacy.md)")

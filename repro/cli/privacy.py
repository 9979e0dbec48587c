"""`repro redact` and `repro audit`: customer files pseudonymised once as they come in,
and a scan for personal data and secrets the rules missed (docs/privacy.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import ScenarioArg, handled, say, shown
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK, ConfigError, Problem


@app.command()
@handled
def redact(scenario: Path = ScenarioArg,
           source: Path | None = typer.Option(  # noqa: UP007 - typer needs it
               None, "--from", help="Folder of the customer's original files, outside the "
               "project (default: $REPRO_INBOX/ID or ~/repro-inbox/ID)"),
           to: str = typer.Option("customer", "--to", help="Folder of the scenario the "
                                  "pseudonymised copies go to"),
           force: bool = typer.Option(False, "--force", help="Replace copies made before."),
           delete_originals: bool = typer.Option(
               False, "--delete-originals", help="Delete the originals once every copy is "
               "written and the audit of the copies is clean."),
           no_audit: bool = typer.Option(
               False, "--no-audit", help="Do not scan the copies (`repro audit` them "
               "later); the originals are then never deleted.")) -> int:
    """Pseudonymise the customer's files into the scenario by its `privacy:` rules."""
    from repro.config.project import project_root
    from repro.privacy import audit, pseudonymise

    findings: list[audit.Finding] = []

    def check(paths: list[Path]) -> list[str]:
        scanner = audit.Scanner(audit.Allowed.of_project(project_root(Path.cwd())), {})
        findings.extend(scanner.paths(paths))
        return [str(f) for f in findings]

    if no_audit and delete_originals:
        raise ConfigError("--delete-originals needs the audit of the copies: drop --no-audit")
    done = pseudonymise.redact(scenario, source, to, force, delete_originals,
                               None if no_audit else check)
    say(f"key: {done.key_source}")
    for item in done.files:
        what = ("copied as it is (no rule names it)" if item.how == "copied" else
                f"pseudonymised by {item.how}: {item.values} value(s)")
        print(f"{shown(item.target)}  {what}")
    for finding in findings:
        print(f"audit: {finding}", file=sys.stderr)
    if findings:
        say(f"{len(findings)} finding(s) in the copies: add `privacy:` rules for them and "
            f"run again with --force; the originals in {shown(done.inbox)} are kept")
        return EXIT_NOT_AS_EXPECTED
    if delete_originals and done.unscanned:
        say(f"originals kept in {shown(done.inbox)}: {len(done.unscanned)} file(s) copied as "
            f"they are cannot be scanned for personal data (binary), e.g. "
            f"{shown(done.unscanned[0])}; check them, then delete the originals yourself")
    if done.deleted:
        say(f"originals deleted from {shown(done.inbox)}")
    return EXIT_OK


@app.command("audit")
@handled
def audit_cmd(paths: list[Path] | None = typer.Argument(  # noqa: UP007 - typer needs it
        None, help="Files, folders or packed cases (default: the project's scenarios, "
        "run records and .tar.gz files)")) -> int:
    """Find personal data and secrets left in scenarios, baselines, records and packed
    cases; exit 1 with one line per finding (values masked), 0 when clean."""
    from repro.config.project import project_root
    from repro.privacy import audit

    root = project_root(Path.cwd())
    targets = list(paths or []) or audit.default_targets(root)
    for target in targets:
        if not target.exists():
            raise ConfigError(Problem(str(target), None, "", "no such file or folder"))
    scanner = audit.Scanner.of_project(root)
    count = 0
    for finding in scanner.paths(targets):
        print(finding)
        count += 1
    if count:
        say(f"{count} finding(s): pseudonymise them (`repro redact`), remove them, or list "
            f"known-synthetic values in {audit.ALLOW_FILE}")
        return EXIT_NOT_AS_EXPECTED
    say(f"clean: {len(targets)} location(s) scanned")
    return EXIT_OK

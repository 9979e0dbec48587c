"""Commands on the engine and the run records: gc, base, runs."""

from __future__ import annotations

from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import handled, say
from repro.errors import EXIT_OK, ConfigError


@app.command()
@handled
def gc(run_id: str | None = typer.Option(None, "--run", help="Remove this run's "
                                            "resources (kept or not)."),
       everything: bool = typer.Option(False, "--all", help="Also remove sandboxes kept "
                                       "with --keep."),
       dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would go."),
       images: bool = typer.Option(False, "--images", help="Also remove cached environment "
                                   "images no container uses (rebuilt when next needed)."),
       env: str | None = typer.Option(None, "--env", help="With --images: only this "
                                      "environment's images."),
       force: bool = typer.Option(False, "--force", help="With --run: remove it even if "
                                  "its run is still going.")) -> int:
    """Remove containers, networks and volumes left by killed or kept runs (by label)."""
    from repro.config.project import project_root
    from repro.results import history
    from repro.results.reader import runs_dir
    from repro.sandbox import backends

    if env is not None and not images:  # before anything is removed
        raise ConfigError("--env goes with --images: `repro gc --images --env NAME`")
    collector = backends.default()
    leftovers = collector.collect(run_id, include_kept=everything or run_id is not None,
                                  dry_run=dry_run, force=force)
    if not dry_run:
        for dead in history.settle_dead(runs_dir(project_root(Path.cwd()))):
            print(f"marked run {dead} killed (its repro process is gone)")
    if images:
        leftovers += collector.collect_images(env, dry_run)
    removed = [x for x in leftovers if x.reason_kept is None]
    spared = [x for x in leftovers if x.in_use]
    for item in leftovers:
        verb = "would remove" if dry_run else "removed"
        what = f"{item.kind} {item.name}" + (f" (run {item.run_id})" if item.run_id != "-"
                                             else "")
        if item.reason_kept is None:
            print(f"{verb} {what}")
        elif item.in_use:  # a live run's: not left behind, and never removed
            print(f"in use, spared {what}: {item.reason_kept}")
        else:
            print(f"left {what}: {item.reason_kept}")
    if not leftovers:
        print("nothing to clean: no repro resources on this engine"
              if run_id is None else f"nothing left of run {run_id}")
    elif not dry_run:
        in_use = f", {len(spared)} in use (spared)" if spared else ""
        print(f"{len(removed)} removed{in_use}, "
              f"{len(leftovers) - len(removed) - len(spared)} left")
    return EXIT_OK


@app.command()
@handled
def base(name: str = typer.Argument(..., help="busybox, debian:SUITE "
                                    "(e.g. debian:bookworm) or tools:SUITE"),
         force: bool = typer.Option(False, "--force", help="Re-create it even if present.")
         ) -> int:
    """Create an offline base image: repro-base/busybox, repro-base/debian:SUITE, or
    repro-base/tools:SUITE (repro's own helpers: libfaketime for the clock, iproute2).

    Environments use them as `image: repro-base/busybox` or in a Dockerfile as
    `FROM repro-base/debian:bookworm`; repro creates them on first use anyway.
    """
    from repro.sandbox import backends

    print(backends.default().make_base(name, force, say))
    return EXIT_OK


@app.command("runs")
@handled
def runs_cmd(scenario: str | None = typer.Option(None, "--scenario", help="Only this "
                                                 "scenario's runs."),
             limit: int = typer.Option(20, "--limit", "-n", help="How many (newest first)."),
             prune: str | None = typer.Option(None, "--prune", help="Delete records older "
                                              "than this, e.g. 30d or 12h (they hold "
                                              "customer data).")) -> int:
    """List recent runs of this project from their records: verdict, baseline, status."""
    from repro.config.project import project_root
    from repro.config.schema import Invalid
    from repro.config.units import duration
    from repro.config.yaml_source import display_path
    from repro.results import history
    from repro.results.reader import runs_dir

    folder = runs_dir(project_root(Path.cwd()))
    history.settle_dead(folder)
    found = [r for r in history.read(folder) if scenario is None or r.scenario == scenario]
    if prune is not None:
        try:
            age = duration(prune)
        except Invalid:
            raise ConfigError(f"--prune {prune!r}: give an age like 30d, 2w or 12h") from None
        gone = history.prune(found, age)
        print(f"deleted {len(gone)} run record(s) older than {prune} from "
              f"{display_path(folder)}")
        return EXIT_OK
    if not found:
        print(f"no runs recorded in {display_path(folder)}")
        return EXIT_OK
    for run in found[:limit]:
        print(f"{run.started_at[:19]:19}  {run.run_id:44}  {run.verdict:15} "
              f"{run.judged:25} {run.status}" + (f"  (case {run.case})" if run.case else ""))
    if len(found) > limit:
        print(f"... {len(found) - limit} older (--limit)")
    return EXIT_OK

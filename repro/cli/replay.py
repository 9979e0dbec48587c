"""`repro replay`: every scenario (or a selection, or a shard of it) as regression cases."""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from repro.cli.app import app
from repro.cli.common import Color, ColorOpt, QuietOpt, colours, handled
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK, ConfigError, Problem

if TYPE_CHECKING:
    from repro.replay.jobs import Options, Outcome
    from repro.replay.select import Selected


@app.command()
@handled
def replay(
        paths: list[Path] | None = typer.Argument(  # noqa: UP007 - typer needs it
            None, help="Scenario folders, folders of scenarios, or case files (default: the "
            "project's)"),
        jobs: int = typer.Option(os.cpu_count() or 1, "--jobs", "-j",
                                 help="Sandboxes at a time (default: the number of cores)."),
        keyword: str | None = typer.Option(None, "-k", metavar="EXPR",
                                           help="Only ids/titles matching: words with "
                                           "and/or/not, as in pytest."),
        tag: list[str] = typer.Option([], "--tag", metavar="NAME",
                                      help="Only scenarios with this tag (repeatable: any)."),
        changed_since: str | None = typer.Option(
            None, "--changed-since", metavar="GIT_REF",
            help="Only scenarios whose files, environment or build context changed."),
        shard: str | None = typer.Option(None, "--shard", metavar="K/N",
                                         help="Run part K of N stable parts (a CI matrix)."),
        junit: Path | None = typer.Option(None, "--junit", metavar="FILE",
                                          help="Write a JUnit XML report."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list of results."),
        fail_fast: bool = typer.Option(False, "--fail-fast",
                                       help="Start nothing more after a scenario that is "
                                       "not as expected."),
        repeat: int = typer.Option(1, "--repeat", metavar="N",
                                   help="Run each N times; list the flaky ones."),
        engine: list[str] = typer.Option(
            [], "--engine", metavar="URL",
            help="A Docker engine to run on (unix://, tcp://, ssh://; repeatable: the "
            "scenarios are spread over them). Default: DOCKER_HOST, else the local one."),
        quiet: bool = QuietOpt, color: Color = ColorOpt) -> int:
    """Replay many scenarios as regression cases, several at a time; exit 0 only when every
    one is as expected."""
    from repro.replay import jobs as runner
    from repro.replay import select, shards
    from repro.report import replay as report
    from repro.sandbox import backends

    for name, value in (("--jobs", jobs), ("--repeat", repeat)):
        if value < 1:
            raise ConfigError(Problem(name, None, "", f"{value} is not a count: give 1 or "
                                      "more"))
    for url in engine:  # before anything runs: a typo is bad input (exit 2)
        backends.check_engine_url(url)
    part = shards.parse(shard) if shard is not None else None
    cwd = Path.cwd()
    began = time.time()
    with ExitStack() as cases:  # the cases among the paths, unpacked until their runs end
        selection = select.select(list(paths or []), select.Criteria(keyword, tuple(tag),
                                                                     changed_since), cwd,
                                  cases)
        outcome = _run(selection, part, cwd, engine, runner.Options(jobs, repeat, fail_fast),
                       quiet, color)
    if junit is not None:
        from repro.report import junit as junit_report

        properties = {"shard": f"{part[0]}/{part[1]}"} if part else {}
        junit_report.write(junit, outcome.cases, began, outcome.seconds, properties)
    if as_json:
        print(json.dumps([report.case_json(c) for c in outcome.cases], indent=2))
    elif outcome.cases:
        report.table(outcome.cases)
        if repeat > 1:
            flaky = report.flaky_lines(outcome.cases)
            print("\nflaky:" if flaky else f"\nno flaky scenario in {repeat} runs each",
                  file=sys.stdout)
            for line in flaky:
                print(f"  {line}")
    if outcome.interrupted is not None:
        raise outcome.interrupted.__class__(outcome.interrupted.signal_name,
                                            report.totals(outcome.cases))
    return EXIT_OK if all(c.ok for c in outcome.cases) else EXIT_NOT_AS_EXPECTED


def _run(selection: list[Selected], part: tuple[int, int] | None, cwd: Path,
         engine: list[str], options: Options, quiet: bool, color: Color) -> Outcome:
    """The selection (or this shard of it) run on the engines, its progress shown."""
    from repro import pipeline
    from repro.config.project import project_root
    from repro.replay import jobs as runner
    from repro.replay import shards
    from repro.report import replay as report
    from repro.results.reader import runs_dir
    from repro.sandbox import backends
    from repro.sandbox.shared import Cancel, SharedBackend

    repeat, jobs = options.repeat, options.jobs
    if part is not None:
        durations = shards.last_durations(runs_dir(project_root(cwd)))
        mine = set(shards.partition([s.id for s in selection], part[1], durations)[part[0] - 1])
        selection = [s for s in selection if s.id in mine]
    colours(color)
    progress = report.Progress(len(selection), quiet=quiet)
    engines = []
    if not selection:
        progress.note("no scenario selected: nothing to replay")
    else:
        engines = backends.engines(engine) if engine else [backends.default()]
        for backend in engines:  # one that does not answer stops us here (exit 3), not later
            backend.facts()
            for chosen in selection:  # a case's images, on every engine that lacks them
                if chosen.case is not None:
                    pipeline.load_case_images(chosen.case, backend, progress.note)
        how = f"{min(jobs, len(selection) * repeat)} at a time" + (
            f" on {len(engines)} engines" if len(engines) > 1 else "")
        progress.note(f"replaying {len(selection)} scenarios"
                      f"{f' x{repeat}' if repeat > 1 else ''}, {how}"
                      f"{f' (shard {part[0]}/{part[1]})' if part else ''}")
    cancel = Cancel()
    outcome = runner.Replay(selection, [SharedBackend(b, cancel) for b in engines]
                            if selection else [], options, cancel, progress.note,
                            progress.ended, progress.running).run() \
        if selection else runner.Outcome([], None, 0.0)
    progress.close()
    return outcome

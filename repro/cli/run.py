"""`repro run` and `repro shell`: replay a scenario in a fresh sandbox."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from repro.cli.app import app
from repro.cli.common import (
    Color,
    ColorOpt,
    ParamOpt,
    QuietOpt,
    ScenarioArg,
    VerboseOpt,
    handled,
    presenter,
    say,
    shown,
    step_progress,
)
from repro.errors import EXIT_OK, ConfigError, ReproError

if TYPE_CHECKING:
    from repro.compare.diff import Comparison
    from repro.pipeline import RunOutcome
    from repro.plan.values import Plan
    from repro.results.record import RunRecord
    from repro.sandbox.api import Backend, Sandbox


@app.command()
@handled
def run(scenario: Path = ScenarioArg,
        param: list[str] = ParamOpt,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
        keep: bool = typer.Option(False, "--keep", help="Leave the sandbox running to "
                                  "inspect it."),
        html: bool = typer.Option(False, "--report", help="Also write the run's HTML page "
                                  "beside its record (see `repro report`)."),
        quiet: bool = QuietOpt, verbose: bool = VerboseOpt, color: Color = ColorOpt) -> int:
    """Replay a scenario (or a case packed by `repro pack`) in a fresh sandbox and say
    whether the error reproduced."""
    from repro import pipeline
    from repro.case.unpack import is_case
    from repro.report import machine

    shows = _Shows(as_json, quiet, verbose, color)
    outcome = None
    try:
        if is_case(scenario):  # checked, unpacked into a temporary project, run there
            with pipeline.open_case(scenario, param, say) as (case, backend):
                outcome = shows.run(case.plan, case.expected, keep,
                                    f"from the case {shown(scenario)} ", backend=backend,
                                    **case.where)
        else:
            plan, expected = pipeline.prepare(scenario, param)
    except ReproError as exc:  # --json callers (CI) get an object to read in every case
        if as_json:
            print(json.dumps(machine.error_json(str(scenario), exc.lines()), indent=2))
        raise
    if outcome is None:
        outcome = shows.run(plan, expected, keep, "")
    if as_json:  # --json still says what happened, on stdout
        print(json.dumps(machine.run_json(outcome.record, outcome.comparison), indent=2))
    elif outcome.error is None:
        from repro.report import terminal

        terminal.summary(outcome.record, outcome.comparison)
    if html and outcome.record.path.is_file():
        try:
            _write_page(outcome.record, as_json)
        except (OSError, ReproError) as exc:  # the run's verdict and exit code still stand
            say(f"warning: no report page: {exc}")
    if outcome.error is not None:
        raise outcome.error
    return outcome.exit_code


class _Shows:
    """How a run shows its progress: nothing with --json (the object says it all), else
    the presenter the options ask for."""

    def __init__(self, as_json: bool, quiet: bool, verbose: bool, color: Color) -> None:
        self.as_json, self.options = as_json, (quiet, verbose, color)

    def run(self, plan: Plan, expected: list | None, keep: bool, source: str,
            **where: Any) -> RunOutcome:
        from repro import pipeline

        if self.as_json:
            return pipeline.run(plan, say, expected, keep=keep, **where)
        with presenter(*self.options) as view:
            view.say(f"running {plan.scenario_id} {source}in a fresh sandbox ...")
            return pipeline.run(plan, view.say, expected, keep=keep, progress=view.emit,
                                **where)


def _write_page(record: RunRecord, as_json: bool) -> None:
    """`--report`: the page beside the record; its path on stdout (stderr with --json,
    whose stdout is one JSON object)."""
    from repro.report.html import write_run

    line = f"report: {shown(write_run(record.directory))}"
    if as_json:
        say(line)
    else:
        print(line)


@app.command()
@handled
def shell(scenario: Path = ScenarioArg,
          param: list[str] = ParamOpt,
          no_steps: bool = typer.Option(False, "--no-steps", help="Enter right after loading "
                                        "data and config, before any step."),
          command: str = typer.Option("sh", "--command", "-c", help="What to start inside: "
                                      "a program, or a command line run by sh like a step's "
                                      "(-c \"cat /etc/x.conf\")."),
          service: str | None = typer.Option(None, "--service", help="Enter this service's "
                                             "container instead of the steps' one.")
          ) -> int:
    """Replay a scenario (or a case packed by `repro pack`), then open a shell in its
    sandbox; leaving the shell removes it."""
    from repro import pipeline
    from repro.case.unpack import is_case
    from repro.sandbox import backends

    backend = backends.default()
    backend.check_session()  # before the run, not after it
    if not is_case(scenario):
        plan, expected = pipeline.prepare(scenario, param)
        return _shell(plan, expected, backend, no_steps, command, service, {})
    with pipeline.open_case(scenario, param, say, backend) as (case, backend):
        say(f"the scenario {case.plan.scenario_id} from the case {shown(scenario)}; its "
            "temporary project is removed when the shell ends")
        return _shell(case.plan, case.expected, backend, no_steps, command, service,
                      case.where)


def _shell(plan: Plan, expected: list | None, backend: Backend, no_steps: bool,
           command: str, service: str | None, where: dict[str, Any]) -> int:
    from repro import pipeline
    from repro.report import terminal

    names = [s.name for s in plan.services]
    if service is not None and service not in names:
        from repro.config.schema import did_you_mean

        raise ConfigError(f"--service {service}: no such service in environment "
                          f"{plan.environment}" + (did_you_mean(service, names) or
                                                   f" (services: {', '.join(names) or 'none'})"))
    exit_status = [EXIT_OK]

    def enter(sandbox: Sandbox, record: RunRecord, comparison: Comparison | None) -> None:
        if record.reproduced is not None:
            terminal.summary(record, comparison)
        target = sandbox.services[service].name if service else sandbox.name
        say(f"entering {target}; leave the shell to remove the sandbox")
        exit_status[0] = sandbox.session(service, _session_argv(command))
        if exit_status[0] in (126, 127):
            say(f"could not start {command!r} in the sandbox (exit {exit_status[0]}): "
                "does the image have it? try --command sh")

    outcome = pipeline.run(plan, say, None if no_steps else expected, on_step=step_progress,
                           replay=not no_steps, pause=enter, backend=backend,
                           purpose="shell", **where)
    if outcome.error is not None:
        raise outcome.error
    return exit_status[0]  # the shell's, as `docker exec` would


def _session_argv(command: str) -> list[str]:
    """A bare program name is started as is (an interactive shell keeps its terminal);
    anything else is a command line, run by sh as a step's `run:` is."""
    return [command] if re.fullmatch(r"[\w./+-]+", command) else ["sh", "-c", command]


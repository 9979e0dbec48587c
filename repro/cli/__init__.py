"""The `repro` command line: parse, call the pipeline, map outcomes to exit codes."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from repro import __version__
from repro.errors import (
    EXIT_NOT_AS_EXPECTED,
    EXIT_OK,
    EXIT_SANDBOX,
    EXIT_USAGE,
    ConfigError,
    Interrupted,
    ReproError,
    scrub,
)

app = typer.Typer(
    name="repro", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Reproduce a customer's issue in a declarative Docker sandbox, then keep it as a "
         "regression case.")

ParamOpt = typer.Option([], "--param", "-p", metavar="KEY=VALUE",
                        help="Override a parameter (repeatable); wins over the scenario.")


EXIT_BROKEN_PIPE = 141  # what a shell reports for a writer killed by SIGPIPE


def say(message: str) -> None:
    print(f"repro: {message}", file=sys.stderr, flush=True)


def handled(command: Callable[..., int | None]) -> Callable[..., None]:
    """Errors a user can fix: one line each, no traceback; crashes: a log file."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from repro import signals
        signals.install()
        try:
            code = command(*args, **kwargs) or EXIT_OK
        except ReproError as exc:
            for line in exc.lines():
                print(f"repro: error: {scrub(line)}", file=sys.stderr)
            code = exc.exit_code
        except BrokenPipeError:  # `repro schema | head`: the reader has what it wanted
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
            code = EXIT_BROKEN_PIPE
        except KeyboardInterrupt:
            exc = Interrupted()
            print(f"repro: error: {exc}", file=sys.stderr)
            code = exc.exit_code
        except Exception:  # noqa: BLE001 - the last line of defence
            log = _crash_log()
            print(f"repro: internal error (a bug in repro): {sys.exc_info()[1]!r}; "
                  f"traceback in {log}", file=sys.stderr)
            code = EXIT_SANDBOX
        raise typer.Exit(code)

    return wrapper


def _crash_log() -> Path:
    folder = Path(".repro") / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path("/tmp")
    log = folder / f"crash-{datetime.now():%Y%m%dT%H%M%S}.log"
    log.write_text(traceback.format_exc())
    return log


def _version(value: bool) -> None:
    if value:
        print(f"repro {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """Reproduce a customer's issue in a declarative Docker sandbox."""


@app.command()
@handled
def run(scenario: Path = typer.Argument(..., help="Scenario directory, its scenario.yaml, "
                                        "or its id"),
        param: list[str] = ParamOpt,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
        keep: bool = typer.Option(False, "--keep", help="Leave the sandbox running to "
                                  "inspect it.")) -> int:
    """Replay a scenario in a fresh sandbox and say whether the error reproduced."""
    from repro.config.parameters import parse_cli_params
    from repro.execute import runner
    from repro.plan.build import plan_scenario
    from repro.report import terminal as report
    from repro.sandbox import backends

    try:
        plan = plan_scenario(scenario, parse_cli_params(param))
        expected = None
        if plan.baseline_path.is_file():  # comparing costs imports only when there is one
            from repro.compare.baseline import load as load_baseline

            expected = load_baseline(plan)  # a broken baseline fails now, not after the run
    except ReproError as exc:  # --json callers (CI) get an object to read in every case
        if as_json:
            print(json.dumps({"scenario": str(scenario), "run_id": None, "status": "error",
                              "reproduced": None, "ok": False, "record": None,
                              "error": scrub(exc.lines()[0]), "errors": [
                                  scrub(line) for line in exc.lines()]}, indent=2))
        raise
    show = None if as_json else _step_progress
    if not as_json:
        say(f"running {plan.scenario_id} in a fresh sandbox ...")
    try:
        record = runner.run(plan, say, backend=backends.default(), keep=keep, on_step=show,
                            expected=expected)
    except ReproError as exc:  # --json still says what happened, on stdout
        if as_json and getattr(exc, "record", None) is not None:
            print(json.dumps(report.run_json(exc.record), indent=2))
        raise
    if as_json:
        print(json.dumps(report.run_json(record), indent=2))
    else:
        report.summary(record)
    return EXIT_OK if record.ok else EXIT_NOT_AS_EXPECTED


@app.command()
@handled
def shell(scenario: Path = typer.Argument(..., help="Scenario directory, its scenario.yaml, "
                                          "or its id"),
          param: list[str] = ParamOpt,
          no_steps: bool = typer.Option(False, "--no-steps", help="Enter right after loading "
                                        "data and config, before any step."),
          command: str = typer.Option("sh", "--command", "-c", help="Program to start inside."),
          service: str | None = typer.Option(None, "--service", help="Enter this service's "
                                             "container instead of the steps' one.")
          ) -> int:
    """Replay a scenario, then open a shell in its sandbox; leaving the shell removes it."""
    from repro.config.parameters import parse_cli_params
    from repro.execute import runner
    from repro.plan.build import plan_scenario
    from repro.report import terminal as report
    from repro.sandbox import backends

    backend = backends.default()
    backend.check_session()
    plan = plan_scenario(scenario, parse_cli_params(param))
    names = [s.name for s in plan.services]
    if service is not None and service not in names:
        from repro.config.schema import did_you_mean

        raise ConfigError(f"--service {service}: no such service in environment "
                          f"{plan.environment}" + (did_you_mean(service, names) or
                                                   f" (services: {', '.join(names) or 'none'})"))
    exit_status = [EXIT_OK]

    def enter(sandbox: Any, record: Any) -> None:
        if record.reproduced is not None:
            report.summary(record)
        target = sandbox.services[service].name if service else sandbox.name
        say(f"entering {target}; leave the shell to remove the sandbox")
        exit_status[0] = sandbox.session(service, [command])
        if exit_status[0] in (126, 127):
            say(f"could not start {command!r} in the sandbox (exit {exit_status[0]}): "
                "does the image have it? try --command sh")

    expected = None
    if plan.baseline_path.is_file() and not no_steps:
        from repro.compare.baseline import load as load_baseline

        expected = load_baseline(plan)
    runner.run(plan, say, backend=backend, on_step=_step_progress, replay=not no_steps,
               pause=enter, expected=expected)
    return exit_status[0]  # the shell's, as `docker exec` would


@app.command("baseline")
@handled
def baseline_cmd(scenario: Path = typer.Argument(..., help="Scenario directory, its "
                                                 "scenario.yaml, or its id"),
                 param: list[str] = ParamOpt,
                 repeat: int = typer.Option(1, "--repeat", "-n", help="Replay N times and "
                                            "refuse if the observations differ."),
                 yes: bool = typer.Option(False, "--yes", "-y", help="Replace an existing "
                                          "baseline without asking.")) -> int:
    """Replay a scenario and store its normalised behaviour as the baseline next to it."""
    from repro import pipeline as approve
    from repro.compare import baseline
    from repro.config.parameters import parse_cli_params
    from repro.config.yaml_dump import dump
    from repro.plan.build import plan_scenario
    from repro.report import terminal as report

    plan = plan_scenario(scenario, parse_cli_params(param))
    recording = approve.replay(plan, say, repeat, on_step=_step_progress)
    style = report.Style(sys.stdout)
    if recording.varied:
        print(style.bad(f"not deterministic: {len(recording.varied)} difference(s) between "
                        f"{repeat} runs; nothing recorded"))
        for v in recording.varied:
            print(f"  {style.bold(v.channel)} {v.where}:\n    run 1: {v.first[:160]}\n"
                  f"    later: {v.second[:160]}")
        rules = [v.rule for v in recording.varied if v.fixable]
        if rules:
            print("\nadd to `normalize:` in the scenario (or the environment) and re-run:")
            print("    " + dump({"normalize": _merge_rules(rules)}).replace("\n", "\n    "))
        if any(not v.fixable for v in recording.varied):
            print("some differences no rule can remove (a line or file only one run has, "
                  "an exit code, a different number of fields): the behaviour itself "
                  "varies; make the steps deterministic first")
        return EXIT_NOT_AS_EXPECTED
    new = recording.observations[0]
    change, unreadable = approve.against_current(plan, new)
    target = baseline.path_for(plan)
    if unreadable:
        say(f"replacing an unreadable baseline ({unreadable})")
    if change is not None and change.verdict == "match":
        print(f"baseline unchanged: {_shown(target)} already holds this behaviour")
        return EXIT_OK
    if change is not None:
        print(f"re-recording changes {len(change.diverged)} channel(s):")
        for line in report.comparison_lines(change, style):
            print(line)
        if not yes and not _confirm("replace the baseline?"):
            print(f"{_shown(target)} kept as it was; re-run with --yes to replace it")
            return EXIT_NOT_AS_EXPECTED
    written = baseline.write(plan, new, recording.runs[0].to_dict())
    print(f"baseline recorded: {_shown(written)} ({len(new)} channels, run "
          f"{recording.runs[0].run_id})")
    return EXIT_OK


def _merge_rules(rules: list[dict]) -> list[dict]:
    """One rule per action, its channels gathered (the proposal stays short)."""
    merged: dict[str, dict] = {}
    for rule in rules:
        action = {k: v for k, v in rule.items() if k != "channels"}
        key = json.dumps(action, sort_keys=True)
        entry = merged.setdefault(key, {**action, "channels": []})
        for channel in rule["channels"]:
            if channel not in entry["channels"]:
                entry["channels"].append(channel)
    return list(merged.values())


def _shown(path: Path) -> str:
    from repro.config.yaml_source import display_path

    return display_path(path)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


@app.command()
@handled
def diff(first: str = typer.Argument(..., help="Run id, run folder or record.json"),
         second: str = typer.Argument(..., help="Run id, run folder or record.json"),
         as_json: bool = typer.Option(False, "--json", help="The structured diff as JSON.")
         ) -> int:
    """Compare two runs channel by channel with the scenario's rulebook (exit 1 if different)."""
    from repro import pipeline as approve
    from repro.report import terminal as report
    comparison, notes = approve.diff_runs(first, second)
    for note in notes:
        say(note)
    if as_json:
        print(json.dumps(comparison.to_dict(), indent=2, default=str))
    else:
        style = report.Style(sys.stdout)
        if comparison.verdict == "match":
            print(f"{style.good('match')}: {len(comparison.channels)} channels equal")
        else:
            print(f"{style.bad('diverged')} in {', '.join(comparison.diverged)}")
            for line in report.comparison_lines(comparison, style):
                print(line)
    return EXIT_OK if comparison.verdict == "match" else EXIT_NOT_AS_EXPECTED


def _step_progress(step: Any) -> None:
    took = f"{step.duration:.2f}s" if step.duration is not None else ""
    say(f"step {step.name}: {step.status.replace('_', ' ')} (exit {step.exit_code}) {took}")


@app.command()
@handled
def plan(scenario: Path = typer.Argument(..., help="Scenario directory or scenario.yaml"),
         param: list[str] = ParamOpt,
         as_json: bool = typer.Option(False, "--json", help="JSON instead of YAML.")) -> int:
    """Print the fully resolved plan of a scenario without touching Docker."""
    from repro.config.parameters import parse_cli_params
    from repro.config.yaml_dump import dump
    from repro.plan.build import plan_scenario

    data = plan_scenario(scenario, parse_cli_params(param)).to_dict()
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        print(dump(data), end="")
    return EXIT_OK


@app.command()
@handled
def validate(paths: list[Path] | None = typer.Argument(  # noqa: UP007 - typer needs it
        None, help="Files or folders (default: the project's environments and scenarios)")
) -> int:
    """Check environments and scenarios; print every problem as file:line: key: message."""
    from repro.config.project import project_root
    from repro.plan import validate as checker

    files = checker.targets(list(paths or []), project_root(Path.cwd()))
    failed = 0
    shown: set[str] = set()
    for path in files:
        _, problems = checker.validate(path)
        for line in ConfigError(problems).lines() if problems else []:
            if line not in shown:  # one template error reached from many scenarios
                print(line, file=sys.stderr)
                shown.add(line)
        failed += bool(problems)
    print(f"{len(files) - failed} of {len(files)} files valid", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK


@app.command()
@handled
def schema(kind: str = typer.Argument("all", help="environment, scenario or all")) -> int:
    """Print JSON Schema for the environment and scenario formats (for editors)."""
    from repro.config.model import Environment, Scenario
    from repro.config.schema import json_schema
    from repro.errors import ConfigError

    schemas = {"environment": lambda: json_schema(Environment, "repro environment"),
               "scenario": lambda: json_schema(Scenario, "repro scenario")}
    if kind == "all":
        print(json.dumps({k: make() for k, make in schemas.items()}, indent=2))
    elif kind in schemas:
        print(json.dumps(schemas[kind](), indent=2))
    else:
        raise ConfigError(f"schema: unknown kind {kind!r}; use environment, scenario or all")
    return EXIT_OK


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
    from repro.sandbox import backends
    collector = backends.default()
    leftovers = collector.collect(run_id, include_kept=everything or run_id is not None,
                                  dry_run=dry_run, force=force)
    if images:
        leftovers += collector.collect_images(env, dry_run)
    elif env is not None:
        raise ConfigError("--env goes with --images")
    removed = [x for x in leftovers if x.reason_kept is None]
    for item in leftovers:
        verb = "would remove" if dry_run else "removed"
        what = f"{item.kind} {item.name}" + (f" (run {item.run_id})" if item.run_id != "-"
                                             else "")
        print(f"{verb} {what}" if item.reason_kept is None else f"left {what}: "
              f"{item.reason_kept}")
    if not leftovers:
        print("nothing to clean: no repro resources on this engine"
              if run_id is None else f"nothing left of run {run_id}")
    elif not dry_run:
        print(f"{len(removed)} removed, {len(leftovers) - len(removed)} left")
    return EXIT_OK


@app.command()
@handled
def base(name: str = typer.Argument(..., help="busybox, or debian:SUITE "
                                    "(e.g. debian:bookworm)"),
         force: bool = typer.Option(False, "--force", help="Re-create it even if present.")
         ) -> int:
    """Create an offline base image: repro-base/busybox or repro-base/debian:SUITE.

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
    from repro.results import history as runs_mod

    folder = project_root(Path.cwd()) / ".repro" / "runs"
    found = [r for r in runs_mod.read(folder) if scenario is None or r.scenario == scenario]
    if prune is not None:
        text = prune.strip()
        seconds_per = {"d": 86400.0, "w": 604800.0}
        try:
            age = float(text[:-1]) * seconds_per[text[-1]] if text[-1:] in seconds_per \
                else duration(text)
        except (Invalid, ValueError):
            raise ConfigError(f"--prune {prune!r}: give an age like 30d, 2w or 12h") from None
        gone = runs_mod.prune(found, age)
        print(f"deleted {len(gone)} run record(s) older than {prune} from "
              f"{display_path(folder)}")
        return EXIT_OK
    if not found:
        print(f"no runs recorded in {display_path(folder)}")
        return EXIT_OK
    for run in found[:limit]:
        ok = {True: "ok", False: "NOT ok", None: "-"}[run.ok]
        print(f"{run.started_at[:19]:19}  {run.run_id:44}  {run.verdict:15} {ok:7} "
              f"baseline {run.baseline:9} {run.status}")
    if len(found) > limit:
        print(f"... {len(found) - limit} older (--limit)")
    return EXIT_OK


env_app = typer.Typer(help="Work with environment files.", no_args_is_help=True)
app.add_typer(env_app, name="env")


@env_app.command("import")
@handled
def env_import(compose: Path = typer.Argument(..., help="A docker-compose file"),
               name: str | None = typer.Option(None, "--name", help="Environment name "
                                                  "(default: the compose file's folder)"),
               main_service: str | None = typer.Option(
                   None, "--main", help="The service the steps run in (default: the first "
                   "one with `build:`)"),
               force: bool = typer.Option(False, "--force", help="Overwrite an existing "
                                          "environment file.")) -> int:
    """Convert a compose file's services into environments/NAME.yaml and say what was left out."""
    from repro.config import compose_import as converter
    from repro.config.project import load_environment, project_root
    from repro.config.yaml_dump import dump
    from repro.config.yaml_source import display_path

    env_dir = project_root(Path.cwd()) / "environments"
    chosen = name or compose.resolve().parent.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", chosen):
        raise ConfigError(f"--name {chosen!r}: use letters, digits, '.', '-' and '_' (it "
                          "names environments/NAME.yaml)")
    target = env_dir / f"{chosen}.yaml"
    if target.exists() and not force:
        raise ConfigError(f"{display_path(target)} exists; pass --force to overwrite it or "
                          "--name to choose another")
    doc, notes = converter.convert(compose, env_dir, main_service)
    header = "".join(f"# not converted: {note}\n" for note in notes)
    env_dir.mkdir(parents=True, exist_ok=True)
    previous = target.read_bytes() if target.exists() else None
    target.write_text(f"# Imported from {display_path(compose)} by `repro env import`.\n"
                      + header + dump(doc))
    try:
        load_environment(target)  # what we wrote must be a valid environment
    except ConfigError:
        if previous is None:  # leave nothing half-made behind
            target.unlink()
        else:
            target.write_bytes(previous)
        raise
    count = len(doc.get("services", {}))
    print(f"wrote {display_path(target)}: the steps' container and {count} service(s)")
    for note in notes:
        print(f"  not converted: {note}")
    return EXIT_OK


def main() -> None:
    app()

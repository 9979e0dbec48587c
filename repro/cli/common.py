"""What every command shares: one-line errors and exit codes, progress lines, options."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from repro.errors import EXIT_OK, EXIT_SANDBOX, Interrupted, ReproError

ParamOpt = typer.Option([], "--param", "-p", metavar="KEY=VALUE",
                        help="Override a parameter (repeatable); wins over the scenario.")
ScenarioArg = typer.Argument(..., help="Scenario directory, its scenario.yaml, or its id")

EXIT_BROKEN_PIPE = 141  # what a shell reports for a writer killed by SIGPIPE


def say(message: str) -> None:
    print(f"repro: {message}", file=sys.stderr, flush=True)


def handled(command: Callable[..., int | None]) -> Callable[..., None]:
    """Errors a user can fix: one line each, no traceback; crashes: a log file.

    Messages arrive already masked: the stages that know a plan's secrets mask what
    they raise (see repro.errors.masked)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from repro import signals

        signals.install()
        try:
            code = command(*args, **kwargs) or EXIT_OK
        except ReproError as exc:
            for line in exc.lines():
                print(f"repro: error: {line}", file=sys.stderr)
            code = exc.exit_code
        except BrokenPipeError:  # `repro schema | head`: the reader has what it wanted
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
            code = EXIT_BROKEN_PIPE
        except KeyboardInterrupt:
            interrupted = Interrupted()
            print(f"repro: error: {interrupted}", file=sys.stderr)
            code = interrupted.exit_code
        except Exception:  # noqa: BLE001 - the last line of defence
            log = _crash_log()
            print(f"repro: internal error (a bug in repro): {sys.exc_info()[1]!r}; "
                  f"traceback in {log}", file=sys.stderr)
            code = EXIT_SANDBOX
        signals.settle()
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


def step_progress(step: Any) -> None:
    took = f"{step.duration:.2f}s" if step.duration is not None else ""
    if step.instances is not None:  # a repeated step: how its instances ended
        from repro.results.observations import exit_counts

        counts = ", ".join(f"{k} x{n}" for k, n in exit_counts(step.instances).items())
        say(f"step {step.name}: {len(step.instances)} instances: {counts} {took}")
        return
    say(f"step {step.name}: {step.status.replace('_', ' ')} (exit {step.exit_code}) {took}")


def shown(path: Path) -> str:
    from repro.config.yaml_source import display_path

    return display_path(path)


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

"""What every command shares: one-line errors and exit codes, progress lines, options."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from repro.errors import EXIT_OK, EXIT_SANDBOX, ConfigError, Interrupted, Problem, ReproError

if TYPE_CHECKING:
    from repro.report.progress import ColorChoice, Presenter

ParamOpt = typer.Option([], "--param", "-p", metavar="KEY=VALUE",
                        help="Override a parameter (repeatable); wins over the scenario.")
ScenarioArg = typer.Argument(..., help="Scenario directory, its scenario.yaml, or its id")



class Color(StrEnum):  # the same values as repro.report.progress.ColorChoice (not imported
    AUTO = "auto"      # here: `repro --help` stays light)
    ALWAYS = "always"
    NEVER = "never"


QuietOpt = typer.Option(False, "--quiet", "-q", help="Show only the verdict, the summary "
                        "and errors (no progress).")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Also show every line of image "
                          "builds, readiness checks and step starts.")
ColorOpt = typer.Option(Color.AUTO, "--color", case_sensitive=False,
                        help="Colours: auto (on a terminal, unless NO_COLOR is set), "
                        "always or never.")

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
        shown_colours = sys.modules.get("repro.report.terminal")
        if shown_colours is not None:  # `--color` holds for this command only
            shown_colours.force_colour(None)
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
    from repro.report.progress import step_text
    from repro.results.progress import StepFinished

    say(step_text(StepFinished.of(step)))


def colours(color: Color) -> ColorChoice:
    """`--color` for everything this command prints (until it returns)."""
    from repro.report import progress, terminal

    choice = progress.ColorChoice(color.value)
    if choice is not progress.ColorChoice.AUTO:
        terminal.force_colour(choice is progress.ColorChoice.ALWAYS)
    return choice


def presenter(quiet: bool, verbose: bool, color: Color) -> Presenter:
    """How this command shows its progress on stderr (repro.report.progress); `--color`
    holds for everything it prints."""
    from repro.report import progress

    if quiet and verbose:
        raise ConfigError(Problem("--quiet", None, "", "cannot go with --verbose: give one"))
    choice = colours(color)
    level = progress.Verbosity.QUIET if quiet else \
        progress.Verbosity.VERBOSE if verbose else progress.Verbosity.NORMAL
    return progress.presenter(level, choice)


def shown(path: Path) -> str:
    from repro.config.yaml_source import display_path

    return display_path(path)


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

"""The typer application every command module registers on."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from repro import __version__


class _OneLineUsageError(UsageError):
    """A command-line mistake shown like every other bad input: one line, exit 2.

    (typer 0.28 ships its own copy of click as `typer._click`: pinned in pyproject.)"""

    def show(self, file: Any = None) -> None:
        message = self.format_message().rstrip(".")
        help_hint = f"; see `{self.ctx.command_path} --help`" if self.ctx else ""
        print(f"repro: error: {message[:1].lower()}{message[1:]}{help_hint}",
              file=file or sys.stderr)


class _Commands(TyperGroup):
    """The command group: an unknown command or option, a missing or ill-typed argument
    is one line (click's default is a usage block, a help hint and the message)."""

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        with _one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Context) -> Any:
        with _one_line():
            return super().invoke(ctx)


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except (_OneLineUsageError, NoArgsIsHelpError):
        raise
    except UsageError as exc:
        raise _OneLineUsageError(exc.format_message(), exc.ctx) from None


app = typer.Typer(
    name="repro", cls=_Commands, no_args_is_help=True, add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Reproduce a customer's issue in a declarative Docker sandbox, then keep it as a "
         "regression case.")

env_app = typer.Typer(help="Work with environment files.", no_args_is_help=True)
app.add_typer(env_app, name="env")


def _version(value: bool) -> None:
    if value:
        print(f"repro {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """Reproduce a customer's issue in a declarative Docker sandbox."""

"""The typer application every command module registers on."""

from __future__ import annotations

import typer

from repro import __version__

app = typer.Typer(
    name="repro", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
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

"""Commands on the project's files, no engine needed: plan, validate, schema, env import."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from repro.cli.app import app, env_app
from repro.cli.common import ParamOpt, handled
from repro.errors import EXIT_OK, EXIT_USAGE, ConfigError


@app.command()
@handled
def plan(scenario: Path = typer.Argument(..., help="Scenario directory or scenario.yaml"),
         param: list[str] = ParamOpt,
         as_json: bool = typer.Option(False, "--json", help="JSON instead of YAML.")) -> int:
    """Print the fully resolved plan of a scenario without touching Docker."""
    from repro.config.parameters import parse_cli_params
    from repro.config.yaml_dump import dump
    from repro.plan.build import plan_scenario
    from repro.plan.show import plan_dict

    data = plan_dict(plan_scenario(scenario, parse_cli_params(param)))
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

    schemas = {"environment": lambda: json_schema(Environment, "repro environment"),
               "scenario": lambda: json_schema(Scenario, "repro scenario")}
    if kind == "all":
        print(json.dumps({k: make() for k, make in schemas.items()}, indent=2))
    elif kind in schemas:
        print(json.dumps(schemas[kind](), indent=2))
    else:
        raise ConfigError(f"schema: unknown kind {kind!r}; use environment, scenario or all")
    return EXIT_OK


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
    from repro.config import compose_import
    from repro.config.project import project_root
    from repro.config.yaml_source import display_path

    env_dir = project_root(Path.cwd()) / "environments"
    written = compose_import.write_environment(compose, env_dir, name, main_service, force)
    print(f"wrote {display_path(written.path)}: the steps' container and "
          f"{written.services} service(s)")
    for note in written.notes:
        print(f"  not converted: {note}")
    return EXIT_OK

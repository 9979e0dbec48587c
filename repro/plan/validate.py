"""`repro validate`: check environments and scenarios without Docker, every problem at once."""

from __future__ import annotations

from pathlib import Path

from repro.config.model import Environment
from repro.config.paths import outside
from repro.config.project import (
    SCENARIO_FILE,
    Loaded,
    discover,
    environment_file,
    load_environment,
    load_scenario,
    project_root,
)
from repro.config.yaml_source import display_path, not_text
from repro.errors import ConfigError, Problem
from repro.plan.build import build_plan
from repro.plan.conditions import plan_conditions
from repro.plan.render import render_environment, renderer, template_context
from repro.plan.services import plan_services


def targets(paths: list[Path], root: Path) -> list[Path]:
    if not paths:
        found = discover(root)
        if not found:
            raise ConfigError(Problem(display_path(root), None, "", "no environments/*.yaml or "
                                      f"scenarios/*/{SCENARIO_FILE} here; pass paths to check"))
        return found
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            inner = discover(path) or sorted(path.glob(f"*/{SCENARIO_FILE}")) or (
                [path / SCENARIO_FILE] if (path / SCENARIO_FILE).is_file() else
                sorted(path.glob("*.yaml")))
            if not inner:
                raise ConfigError(Problem(display_path(path), None, "", "nothing to validate "
                                          "in this folder"))
            out += inner
        else:
            out.append(path)
    return out


def _is_scenario(path: Path) -> bool:
    return path.name == SCENARIO_FILE


def check_environment(env: Loaded[Environment]) -> list[Problem | str]:
    """Structure plus template files: present, UTF-8, valid Jinja syntax."""
    from repro.config.templating import _jinja

    record = env.record
    problems: list[Problem | str] = []
    jinja2, jenv = _jinja()
    for i, spec in enumerate(record.files):
        if spec.template is None:
            continue
        path = env.base / spec.template
        refused = outside(path, project_root(env.base))
        if refused:
            problems.append(env.source.problem(("files", i, "template"), refused))
            continue
        try:
            raw = path.read_bytes()
            jenv.parse(raw.decode("utf-8"))
        except OSError:
            problems.append(env.source.problem(("files", i, "template"),
                                               f"{display_path(path)} not found"))
        except UnicodeDecodeError as exc:
            problems.append(not_text(display_path(path), raw, exc))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(display_path(path), exc.lineno, "",
                                    f"template syntax error: {exc.message}"))
    if problems:
        return problems
    defaults = {k: p.default for k, p in record.parameters.items()}
    if all(value is not None for value in defaults.values()):
        # Every parameter has a default: render everything as a scenario would.
        context = template_context(defaults)
        render_environment(env, context, problems)
        plan_services(env, context, problems)  # services render like the environment
        plan_conditions(None, env, renderer(context, problems), problems)
    return problems


def validate(path: Path) -> tuple[str, list[Problem | str]]:
    """('scenario'|'environment', problems) for one file."""
    kind = "scenario" if _is_scenario(path) else "environment"
    try:
        if kind == "scenario":
            scenario = load_scenario(path)
            build_plan(scenario, load_environment(environment_file(scenario)), {}, deep=True)
            return kind, []
        return kind, check_environment(load_environment(path))
    except ConfigError as exc:
        return kind, exc.problems

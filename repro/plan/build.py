"""(scenario, environment, parameters) -> Plan: every action of a run, fully resolved, no Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repro.config import parameters as params_mod
from repro.config.data_limits import DataBounds
from repro.config.model import Environment, Scenario, capture_names, leaf_conditions
from repro.config.paths import outside
from repro.config.project import (
    Loaded,
    environment_file,
    load_environment,
    load_scenario,
    project_root,
)
from repro.config.settings import project_settings
from repro.config.yaml_source import Loc, display_path
from repro.errors import ConfigError, Problem
from repro.plan import archives
from repro.plan.clock import plan_clock
from repro.plan.conditions import merged_limits, plan_conditions, refuse_hidden_writes
from repro.plan.inheritance import inheritance
from repro.plan.oracle import plan_oracle
from repro.plan.render import render_environment, renderer, template_context
from repro.plan.services import plan_loads, plan_queries, plan_services
from repro.plan.timeline import plan_timeline
from repro.plan.values import CapturePlan, DataCopy, FileWrite, ImagePlan, Plan
from repro.redact import Redactor

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip")


def plan_scenario(target: Path, cli_params: dict[str, str] | None = None, *,
                  loaded: Loaded[Scenario] | None = None,
                  environments: dict[Path, Loaded[Environment]] | None = None) -> Plan:
    """`loaded`: the scenario already read (a replay selects on it); `environments`: those
    read for earlier plans of the same process, by path (a replay's scenarios share a few)."""
    from repro.config.project import scenario_file

    scenario = loaded or load_scenario(scenario_file(target))
    path = environment_file(scenario).resolve()
    environment = environments.get(path) if environments is not None else None
    if environment is None:
        environment = load_environment(path)
        if environments is not None:
            environments[path] = environment
    return build_plan(scenario, environment, cli_params or {})


def build_plan(scen: Loaded[Scenario], envl: Loaded[Environment], cli_params: dict[str, str],
               deep: bool = False) -> Plan:
    """`deep` reads every body of the data archives too (`repro validate`): a zip entry's
    true size and checksum show only then; a run checks them as it packs."""
    scenario = scen.record
    env = envl.record
    values, skipped, origins = params_mod.resolve(env, envl.source, scenario, scen.source,
                                                  scen.base, cli_params)
    scenario_id = scenario.id or scen.base.name
    context = template_context(values, scenario_id, scenario.ticket, scenario.title)
    # A template error may quote a value: no message leaves here with a secret in it.
    redactor = Redactor(str(values[k]) for k, p in env.parameters.items()
                        if p.secret and str(values.get(k, "")))
    problems: list[Problem | str] = []
    text = renderer(context, problems)
    image, env_vars, files = render_environment(envl, context, problems)
    files += _parameter_files(env, values)
    services = plan_services(envl, context, problems)
    data = tuple(_checked_data(scen, env, problems, deep))
    loads, queries = plan_loads(scen, env, problems), plan_queries(scen, env, problems)
    steps, timeline = plan_timeline(scen, env, context, problems)
    conditions = plan_conditions(scen, envl, text, problems)
    refuse_hidden_writes(conditions, files, services, data, envl, scen, problems)
    clock = plan_clock(scen, envl, text, problems)
    oracle = plan_oracle(scen, problems)
    if problems:
        raise ConfigError(problems).redacted(redactor)
    _refuse_secret_build_args(env, envl, [((), image)] + [
        (("services", s.name), s.image) for s in services], values)
    return Plan(
        scenario_id=scenario_id, title=scenario.title, ticket=scenario.ticket,
        expect=scenario.expect, scenario_path=scen.path, environment=envl.path.stem,
        environment_path=envl.path, image=image, parameters=values,
        secret_parameters=frozenset(k for k, p in env.parameters.items() if p.secret),
        env=env_vars, files=files, data=data, steps=tuple(steps),
        captures=_captures(scenario), oracle=oracle, workdir=env.workdir,
        user=env.user, egress=env.network.egress,
        limits=merged_limits(env.limits, scenario.limits),
        rules=(*env.normalize, *scenario.normalize), skipped_parameters=tuple(skipped),
        services=services, loads=loads, queries=queries, parameter_origins=origins,
        conditions=conditions, clock=clock, security=env.security, timeline=timeline,
        parameter_files=tuple((scen.base / p.path).resolve() for p in scenario.parameters_from),
        retention=scenario.retention if scenario.retention is not None else
        project_settings(project_root(scen.base)).retention,
        **inheritance(scen.source))


def _parameter_files(env: Environment, values: dict[str, Any]) -> tuple[FileWrite, ...]:
    """Parameters delivered as files (`file:`): readable by the steps' user only."""
    return tuple(FileWrite(p.file, str(values.get(name, "")).encode(), 0o400,
                           f"parameter {name} (file)", user_owned=True)
                 for name, p in env.parameters.items() if p.file is not None)


def _refuse_secret_build_args(env: Environment, envl: Loaded[Environment],
                              images: list[tuple[Loc, ImagePlan]],
                              values: dict[str, Any]) -> None:
    """Build args end up in the image history (`docker history`): no secrets there."""
    secrets = {k: str(values[k]) for k, p in env.parameters.items()
               if p.secret and str(values.get(k, ""))}
    for at, image in images:
        for arg, value in image.build_args.items():
            for name, secret in secrets.items():
                if secret in value:
                    raise ConfigError(envl.source.problem(
                        (*at, "image", "build", "args", arg), f"uses the secret parameter "
                        f"{name!r}: build args are kept in the image history; pass it with "
                        "`env:` or a config file (`files:`) instead"))


def _checked_data(scen: Loaded[Scenario], env: Environment, problems: list[Problem | str],
                  deep: bool) -> list[DataCopy]:
    out = []
    for i, spec in enumerate(scen.record.data):
        before = len(problems)
        copy = _data_copy(spec, i, scen, env, problems)
        # An archive or folder is walked and checked like the run will (plan.archives).
        out.append(archives.planned(copy, problems, deep) if len(problems) == before else copy)
    return out


def _data_copy(spec: Any, i: int, scen: Loaded[Scenario], env: Environment,
               problems: list[Problem | str]) -> DataCopy:
    source = (scen.base / spec.source).resolve()
    refused = outside(scen.base / spec.source, project_root(scen.base))
    if refused:
        problems.append(scen.source.problem(("data", i, "from"), refused))
        return DataCopy(source, spec.to, "file", spec.service)
    at = scen.source.problem(("data", i), "")
    origin = f"{at.path} in {at.file}:{at.line}" if at.line else f"{at.path} in {at.file}"
    if source.is_dir():
        kind = "dir"
    elif source.is_file():
        is_archive = source.name.lower().endswith(ARCHIVE_SUFFIXES)
        kind = "archive" if (spec.extract if spec.extract is not None else is_archive) else "file"
        if spec.extract and not is_archive:
            problems.append(scen.source.problem(("data", i, "extract"), "only .tar, .tar.gz, "
                                                ".tgz, .tar.bz2, .tar.xz and .zip can be "
                                                "extracted"))
    else:
        problems.append(scen.source.problem(("data", i, "from"),
                                            f"{display_path(source)} not found"))
        kind = "file"
    if spec.service is not None and spec.service not in env.services:
        problems.append(scen.source.problem(("data", i, "service"), f"no service "
                                            f"{spec.service!r} in the environment"))
    return DataCopy(source, spec.to, kind, spec.service, DataBounds.of(spec.limits), origin)


def _captures(scenario: Scenario) -> tuple[CapturePlan, ...]:
    captures = [CapturePlan(n, c.path, c.type, tuple(c.key), c.ordered, c.tolerance)
                for n, c in zip(capture_names(scenario), scenario.capture, strict=True)]
    known = {c.path for c in captures} | {c.name for c in captures} | {
        q.name for q in scenario.queries}
    for _, cond in leaf_conditions(scenario.oracle.conditions, ()):
        # The oracle can only look at what was captured: capture what it names.
        if cond.file and cond.file not in known:
            captures.append(CapturePlan(cond.file, cond.file))
            known.add(cond.file)
    return tuple(captures)

"""(scenario, environment, parameters) -> Plan: every action of a run, fully resolved, no Docker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config import parameters as params_mod
from repro.config.model import (
    Environment,
    Limits,
    Oracle,
    Rule,
    Scenario,
    capture_names,
    step_names,
)
from repro.config.project import Loaded, environment_file, load_environment, load_scenario
from repro.config.yaml_source import Loc, display_path
from repro.errors import ConfigError, Problem, register_secrets
from repro.plan.render import read_bytes, render_environment, renderer
from repro.plan.services import plan_loads, plan_queries, plan_services
from repro.plan.values import (  # noqa: F401 - re-exported: the plan's vocabulary
    CapturePlan,
    DataCopy,
    FileWrite,
    ImagePlan,
    LoadPlan,
    QueryPlan,
    ServicePlan,
    StepPlan,
)
from repro.results.oracle import describe

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip")
MASK = "***"


@dataclass(frozen=True)
class Plan:
    scenario_id: str
    title: str
    ticket: str
    expect: str
    scenario_path: Path
    environment: str
    environment_path: Path
    image: ImagePlan
    parameters: dict[str, Any]
    secret_parameters: frozenset[str]
    env: dict[str, str]
    files: tuple[FileWrite, ...]
    data: tuple[DataCopy, ...]
    steps: tuple[StepPlan, ...]
    captures: tuple[CapturePlan, ...]
    oracle: Oracle
    workdir: str | None
    user: str | None
    egress: bool
    limits: Limits
    rules: tuple[Rule, ...] = ()
    skipped_parameters: tuple[str, ...] = ()
    services: tuple[ServicePlan, ...] = ()  # in start order
    loads: tuple[LoadPlan, ...] = ()
    queries: tuple[QueryPlan, ...] = ()
    parameter_origins: dict[str, str] = field(default_factory=dict)  # key -> file:line

    @property
    def baseline_path(self) -> Path:
        return self.scenario_path.parent / "baseline.yaml"

    @property
    def project_root(self) -> Path:
        return self.environment_path.parent.parent

    def secrets(self) -> list[str]:
        """Secret values to scrub from anything written or shown (longest first)."""
        values = {str(self.parameters[k]) for k in self.secret_parameters
                  if str(self.parameters.get(k, ""))}
        return sorted(values, key=len, reverse=True)

    def to_dict(self) -> dict[str, Any]:
        """The plan as shown to people: secrets masked, file contents as text."""
        mask = redactor(self.secrets())
        return {
            "scenario": {"id": self.scenario_id, "title": self.title, "ticket": self.ticket,
                         "expect": self.expect, "path": display_path(self.scenario_path)},
            "environment": {"name": self.environment,
                            "path": display_path(self.environment_path)},
            "image": {"ref": None if self.image.ref is None else mask(self.image.ref),
                      "build": None if self.image.context is None else {
                          "context": display_path(self.image.context),
                          "dockerfile": self.image.dockerfile,
                          "args": {k: mask(v) for k, v in self.image.build_args.items()}}},
            "parameters": {k: MASK if k in self.secret_parameters and v != "" else v
                           for k, v in sorted(self.parameters.items())},
            "parameters_from": dict(sorted(self.parameter_origins.items())),
            "skipped_parameters": list(self.skipped_parameters),
            "env": {k: mask(v) for k, v in self.env.items()},
            "files": [{"path": f.path, "mode": f"{f.mode:04o}", "from": f.origin,
                       "content": mask(f.content.decode("utf-8", "replace"))}
                      for f in self.files],
            "data": [{"from": display_path(d.source), "to": d.to, "kind": d.kind,
                      "into": d.service or "sandbox"} for d in self.data],
            "steps": [{"name": s.name, "run": mask(s.command), "timeout_s": s.timeout,
                       "env": {k: mask(v) for k, v in s.env.items()}, "workdir": s.workdir,
                       "user": s.user, "stdin_bytes": None if s.stdin is None else len(s.stdin),
                       "stop_on_failure": s.stop_on_failure} for s in self.steps],
            "capture": [{"name": c.name, "path": c.path} for c in self.captures],
            "oracle": {"mode": "all" if self.oracle.all is not None else "any",
                       "conditions": [describe(c) for c in self.oracle.conditions]},
            "normalize": [_rule_dict(r) for r in self.rules],
            "services": [{"name": s.name, "image": mask(s.image.ref) if s.image.ref else
                          display_path(s.image.context),
                          "env": {k: mask(v) for k, v in s.env.items()},
                          "files": [f.path for f in s.files], "depends_on": list(s.depends_on),
                          "ready": None if s.ready is None else describe_ready(s.ready)}
                         for s in self.services],
            "load": [{"service": ld.service, "kind": ld.kind, "from": display_path(ld.source),
                      "database": ld.database, "user": ld.user, "table": ld.table,
                      **({"delimiter": ld.delimiter, "header": ld.header,
                          "encoding": ld.encoding} if ld.kind == "csv" else {})}
                     for ld in self.loads],
            "queries": [{"name": q.name, "service": q.service, "database": q.database,
                         "user": q.user, "sql": q.sql, "key": list(q.key)}
                        for q in self.queries],
            "sandbox": {"workdir": self.workdir, "user": self.user,
                        "network_egress": self.egress,
                        "limits": {"cpus": self.limits.cpus, "memory_bytes": self.limits.memory,
                                   "pids": self.limits.pids}},
        }


def _rule_dict(rule: Rule) -> dict[str, Any]:
    """A rule as it is written in YAML (`with`, not `with_`; defaults left out)."""
    out = {("with" if k == "with_" else k): v for k, v in vars(rule).items()
           if v is not None and (k != "channels" or list(v) != ["*"])}
    if rule.replace is None:
        out.pop("with", None)
    return out


def describe_ready(ready: Any) -> str:
    """`command: pg_isready -q`, `tcp: 5432`, ... as people write them."""
    import shlex

    if ready.command is not None:
        command = ready.command if isinstance(ready.command, str) else \
            shlex.join(ready.command)
        return f"command {command}"
    if ready.tcp is not None:
        return f"port {ready.tcp} listening"
    if ready.log is not None:
        return f"log line /{ready.log}/"
    return "its HEALTHCHECK"


def redactor(secrets: list[str]) -> Any:
    def mask(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
    return mask


def plan_scenario(target: Path, cli_params: dict[str, str] | None = None) -> Plan:
    from repro.config.project import scenario_file

    scenario = load_scenario(scenario_file(target))
    environment = load_environment(environment_file(scenario))
    return build_plan(scenario, environment, cli_params or {})


def build_plan(scen: Loaded, envl: Loaded, cli_params: dict[str, str]) -> Plan:
    scenario: Scenario = scen.record  # type: ignore[assignment]
    env: Environment = envl.record  # type: ignore[assignment]
    values, skipped, origins = params_mod.resolve(env, envl.source, scenario, scen.source,
                                                  scen.base, cli_params)
    scenario_id = scenario.id or scen.base.name
    context = {**values, "params": values,
               "scenario": {"id": scenario_id, "ticket": scenario.ticket, "title": scenario.title}}
    problems: list[Problem] = []
    text = renderer(context, problems)
    image, env_vars, files = render_environment(envl, context, problems)
    services = plan_services(envl, context, problems)
    data = tuple(_data_copy(d, i, scen, env, problems) for i, d in enumerate(scenario.data))
    loads, queries = plan_loads(scen, env, problems), plan_queries(scen, env, problems)
    steps = []
    for i, (step, name) in enumerate(zip(scenario.steps, step_names(scenario), strict=True)):
        loc: Loc = ("steps", i)
        if isinstance(step.run, str):
            command = text(step.run, scen.source, (*loc, "run"))
            argv: tuple[str, ...] = ("sh", "-c", command)
        else:
            argv = tuple(text(a, scen.source, (*loc, "run", j)) for j, a in enumerate(step.run))
            command = " ".join(argv)
        stdin = step.stdin.encode() if step.stdin is not None else None
        if step.stdin_file is not None:
            stdin = read_bytes(scen.base / step.stdin_file, scen.source, (*loc, "stdin_file"),
                                problems)
        steps.append(StepPlan(
            name=name, argv=argv, command=command,
            timeout=step.timeout or scenario.step_timeout,
            env={k: text(v, scen.source, (*loc, "env", k)) for k, v in step.env.items()},
            workdir=step.workdir, user=step.user, stdin=stdin,
            stop_on_failure=step.stop_on_failure,
            source=step.run if isinstance(step.run, str) else " ".join(step.run)))
    if problems:
        raise ConfigError(problems)
    _refuse_secret_build_args(env, envl, [((), image)] + [
        (("services", s.name), s.image) for s in services], values)
    return Plan(
        scenario_id=scenario_id, title=scenario.title, ticket=scenario.ticket,
        expect=scenario.expect, scenario_path=scen.path, environment=envl.path.stem,
        environment_path=envl.path, image=image, parameters=values,
        secret_parameters=frozenset(k for k, p in env.parameters.items() if p.secret),
        env=env_vars, files=files, data=data, steps=tuple(steps),
        captures=_captures(scenario), oracle=scenario.oracle, workdir=env.workdir,
        user=env.user, egress=env.network.egress, limits=env.limits,
        rules=(*env.normalize, *scenario.normalize), skipped_parameters=tuple(skipped),
        services=services, loads=loads, queries=queries, parameter_origins=origins)


def _refuse_secret_build_args(env: Environment, envl: Loaded,
                              images: list[tuple[tuple, ImagePlan]],
                              values: dict[str, Any]) -> None:
    """Build args end up in the image history (`docker history`): no secrets there."""
    secrets = {k: str(values[k]) for k, p in env.parameters.items()
               if p.secret and str(values.get(k, ""))}
    register_secrets(list(secrets.values()))
    for at, image in images:
        for arg, value in image.build_args.items():
            for name, secret in secrets.items():
                if secret in value:
                    raise ConfigError(envl.source.problem(
                        (*at, "image", "build", "args", arg), f"uses the secret parameter "
                        f"{name!r}: build args are kept in the image history; pass it with "
                        "`env:` or a config file (`files:`) instead"))


def _data_copy(spec: Any, i: int, scen: Loaded, env: Environment,
               problems: list) -> DataCopy:
    source = (scen.base / spec.source).resolve()
    root = scen.base.parent.parent.resolve()
    if not Path(spec.source).is_absolute() and not source.is_relative_to(root):
        problems.append(scen.source.problem(("data", i, "from"), f"{spec.source!r} leads "
                                            "outside the project (through `..` or a symlink); "
                                            "write an absolute path if that is intended"))
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
    return DataCopy(source, spec.to, kind, spec.service)


def _captures(scenario: Scenario) -> tuple[CapturePlan, ...]:
    captures = [CapturePlan(n, c.path, c.type, tuple(c.key), c.ordered, c.tolerance)
                for n, c in zip(capture_names(scenario), scenario.capture, strict=True)]
    known = {c.path for c in captures} | {c.name for c in captures} | {
        q.name for q in scenario.queries}
    for cond in scenario.oracle.conditions:
        # The oracle can only look at what was captured: capture what it names.
        if cond.file and cond.file not in known:
            captures.append(CapturePlan(cond.file, cond.file))
            known.add(cond.file)
    return tuple(captures)

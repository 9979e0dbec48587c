"""Plan the multi-container parts: services in start order, database loads, state queries."""

from __future__ import annotations

from typing import Any

from repro.config.conditions import tmpfs_sizes
from repro.config.model import Environment, Scenario
from repro.config.paths import outside
from repro.config.project import Loaded, project_root
from repro.config.schema import did_you_mean
from repro.config.yaml_source import Loc
from repro.errors import Problem
from repro.plan import load_check
from repro.plan.conditions import with_defaults
from repro.plan.load_check import PGDUMP_MAGIC, file_problem
from repro.plan.render import render_parts
from repro.plan.values import LoadPlan, QueryPlan, ServicePlan


def start_order(env: Environment) -> list[str]:
    """Dependencies first (the model already refused cycles)."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for dep in env.services[name].depends_on:
            visit(dep)
        order.append(name)

    for name in env.services:
        visit(name)
    return order


def plan_services(envl: Loaded[Environment], context: dict[str, Any], problems: list[Problem | str]
                  ) -> tuple[ServicePlan, ...]:
    env = envl.record
    out = []
    for name in start_order(env):
        svc = env.services[name]
        image, env_vars, files = render_parts(envl, ("services", name), svc.image, svc.env,
                                              svc.files, context, problems)
        command = None
        if svc.command is not None:
            command = ("sh", "-c", svc.command) if isinstance(svc.command, str) else \
                tuple(svc.command)
        out.append(ServicePlan(name, image, env_vars, files, command, svc.ready,
                               tuple(svc.depends_on), with_defaults(svc.limits),
                               tmpfs_sizes(svc.tmpfs)))
    return tuple(out)


def _known(service: str, env: Environment, scen: Loaded[Scenario], loc: Loc,
           problems: list[Problem | str]) -> None:
    if service not in env.services:
        hint = did_you_mean(service, env.services) or (
            f" (services: {', '.join(env.services) or 'none in this environment'})")
        problems.append(scen.source.problem(loc, f"no service {service!r}{hint}"))


def plan_loads(scen: Loaded[Scenario], env: Environment, problems: list[Problem | str]
               ) -> tuple[LoadPlan, ...]:
    scenario = scen.record
    out = []
    for i, load in enumerate(scenario.load):
        _known(load.service, env, scen, ("load", i, "service"), problems)
        rel = load.sql if load.sql is not None else load.csv
        assert rel is not None
        source = (scen.base / rel).resolve()
        key = "sql" if load.sql is not None else "csv"
        refused = outside(scen.base / rel, project_root(scen.base))
        if refused:
            problems.append(scen.source.problem(("load", i, key), refused))
            continue
        if not source.is_file():
            problems.append(scen.source.problem(("load", i, key), file_problem(source)))
            continue
        kind = "csv"
        if load.sql is not None:
            with source.open("rb") as head:
                kind = "dump" if head.read(5) == PGDUMP_MAGIC else "sql"
        planned = LoadPlan(load.service, kind, source, load.database, load.user, load.table,
                           load.delimiter, load.header, load.encoding,
                           create_database=load.create_database)
        shape = load_check.check(planned)  # what fails without a server fails here
        if shape is not None:
            problems.append(shape)
        out.append(planned)
    return tuple(out)


def plan_queries(scen: Loaded[Scenario], env: Environment, problems: list[Problem | str]
                 ) -> tuple[QueryPlan, ...]:
    scenario = scen.record
    out, seen = [], set()
    for i, query in enumerate(scenario.queries):
        _known(query.service, env, scen, ("queries", i, "service"), problems)
        if query.name in seen:
            problems.append(scen.source.problem(("queries", i, "name"),
                                                f"two queries are named {query.name!r}"))
        seen.add(query.name)
        out.append(QueryPlan(query.name, query.service, query.sql, query.database, query.user,
                             tuple(query.key)))
    return tuple(out)

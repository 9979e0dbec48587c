"""A plan as people read it (`repro plan`, the run record): secrets masked, conditions
and readiness in words."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from repro.config.model import DROPPED_CAPABILITIES, Condition, Ready, Rule, Security
from repro.config.yaml_source import display_path
from repro.plan.conditions import shown as conditions_shown
from repro.plan.faults import timeline_faults
from repro.plan.values import ImagePlan, Plan, StepPlan
from repro.redact import MASK


def _image_text(image: ImagePlan, mask: Callable[[str], str]) -> str:
    if image.ref:
        return mask(image.ref)
    assert image.context is not None  # an image is a reference or a build
    return display_path(image.context)


def plan_dict(plan: Plan) -> dict[str, Any]:
    """The plan as shown to people: secrets masked (in every field, as a whole), file
    contents as text."""
    return dict(plan.redactor.deep(_fields(plan)))


def security_shown(security: Security) -> dict[str, Any]:
    return {"no_new_privileges": security.no_new_privileges,
            "capabilities_dropped": [c for c in DROPPED_CAPABILITIES
                                     if c not in security.capabilities],
            "capabilities_added": [c for c in security.capabilities
                                   if c not in DROPPED_CAPABILITIES]}


def _fields(plan: Plan) -> dict[str, Any]:
    mask = plan.redactor
    shown = {
        "scenario": {"id": plan.scenario_id, "title": plan.title, "ticket": plan.ticket,
                     "expect": plan.expect, "path": display_path(plan.scenario_path)},
        "environment": {"name": plan.environment,
                        "path": display_path(plan.environment_path)},
        "image": {"ref": None if plan.image.ref is None else mask(plan.image.ref),
                  "build": None if plan.image.context is None else {
                      "context": display_path(plan.image.context),
                      "dockerfile": plan.image.dockerfile,
                      "args": {k: mask(v) for k, v in plan.image.build_args.items()}}},
        "parameters": {k: MASK if k in plan.secret_parameters and v != "" else v
                       for k, v in sorted(plan.parameters.items())},
        "parameters_from": dict(sorted(plan.parameter_origins.items())),
        "skipped_parameters": list(plan.skipped_parameters),
        "env": {k: mask(v) for k, v in plan.env.items()},
        "files": [{"path": f.path, "mode": f"{f.mode:04o}", "from": f.origin,
                   "content": mask(f.content.decode("utf-8", "replace"))}
                  for f in plan.files],
        "data": [{"from": display_path(d.source), "to": d.to, "kind": d.kind,
                  "into": d.service or "sandbox",
                  **({"skipped": list(d.skipped)} if d.skipped else {})} for d in plan.data],
        "steps": [{"name": s.name, "run": mask(s.command), "timeout_s": s.timeout,
                   "env": {k: mask(v) for k, v in s.env.items()}, "workdir": s.workdir,
                   "user": s.user, "stdin_bytes": None if s.stdin is None else len(s.stdin),
                   "stop_on_failure": s.stop_on_failure, **_timing(s)} for s in plan.steps],
        **_timeline(plan),
        "faults": [{"name": name, "fault": fault.describe(), **fault.as_dict()}
                   for name, fault in timeline_faults(plan.timeline)],
        "capture": [{"name": c.name, "path": c.path} for c in plan.captures],
        "oracle": {"mode": "all" if plan.oracle.all is not None else "any",
                   "conditions": [describe_condition(c) for c in plan.oracle.conditions]},
        "normalize": [_rule_dict(r) for r in plan.rules],
        "services": [{"name": s.name, "image": _image_text(s.image, mask),
                      "env": {k: mask(v) for k, v in s.env.items()},
                      "files": [f.path for f in s.files], "depends_on": list(s.depends_on),
                      "ready": None if s.ready is None else describe_ready(s.ready),
                      **({"tmpfs": dict(s.tmpfs)} if s.tmpfs else {})}
                     for s in plan.services],
        "load": [{"service": ld.service, "kind": ld.kind, "from": display_path(ld.source),
                  "database": ld.database, "user": ld.user, "table": ld.table,
                  **({} if ld.create_database else {"create_database": False}),
                  **({"delimiter": ld.delimiter, "header": ld.header,
                      "encoding": ld.encoding} if ld.kind == "csv" else {})}
                 for ld in plan.loads],
        "queries": [{"name": q.name, "service": q.service, "database": q.database,
                     "user": q.user, "sql": q.sql, "key": list(q.key)}
                    for q in plan.queries],
        "sandbox": {"workdir": plan.workdir, "user": plan.user,
                    "network_egress": plan.egress,
                    "limits": {"cpus": plan.limits.cpus, "memory_bytes": plan.limits.memory,
                               "pids": plan.limits.pids},
                    "conditions": conditions_shown(plan.conditions, plan.limits),
                    "security": security_shown(plan.security)},
    }
    if plan.extends:  # a scenario that inherits: which file wrote each key
        shown["scenario"]["extends"] = list(plan.extends)
        shown["sources"] = dict(plan.sources)
    if plan.clock is not None:
        from repro.plan.clock import clock_dict

        shown["clock"] = clock_dict(plan.clock, mask)
    return shown


def _timing(step: StepPlan) -> dict[str, Any]:
    """A step's place on the timeline, when it has one (docs/timeline.md)."""
    out: dict[str, Any] = {}
    if step.at is not None:
        out["at_s"] = step.at
    if step.background:
        out["background"] = True
    if step.repeat is not None:
        out["repeat"] = step.repeat.shown()
    return out


def _timeline(plan: Plan) -> dict[str, Any]:
    from repro.plan.timeline import timeline_shown

    shown = timeline_shown(plan.timeline)
    return {} if shown is None else {"timeline": shown}


def parameters_shown(plan: Plan) -> dict[str, Any]:
    """The parameters, a secret one as *** (an empty secret stays visibly empty)."""
    return {k: MASK if k in plan.secret_parameters and v != "" else v
            for k, v in sorted(plan.parameters.items())}


def _rule_dict(rule: Rule) -> dict[str, Any]:
    """A rule as it is written in YAML (`with`, not `with_`; defaults left out)."""
    out = {("with" if k == "with_" else k): v for k, v in vars(rule).items()
           if v is not None and (k != "channels" or list(v) != ["*"])}
    if rule.replace is None:
        out.pop("with", None)
    return out


def describe_ready(ready: Ready) -> str:
    """`command: pg_isready -q`, `tcp: 5432`, ... as people write them."""
    if ready.command is not None:
        command = ready.command if isinstance(ready.command, str) else \
            shlex.join(ready.command)
        return f"command {command}"
    if ready.tcp is not None:
        return f"port {ready.tcp} listening"
    if ready.log is not None:
        return f"log line /{ready.log}/"
    return "its HEALTHCHECK"


def describe_condition(cond: Condition) -> str:
    """An oracle condition in words: `step 'import' exits with 1`."""
    if cond.not_ is not None:
        return f"not ({describe_condition(cond.not_)})"
    if cond.any is not None or cond.all is not None:
        key = "any" if cond.any is not None else "all"
        inner = "; ".join(describe_condition(c) for c in getattr(cond, key))
        return f"{key} of ({inner})"
    if cond.differs_from is not None:
        from repro.config.oracle_values import describe_where

        how = " as numbers" if cond.compare == "number" else ""
        return (f"file {cond.file!r} {describe_where(cond.column, cond.row, cond.field)} "
                f"differs{how} from {cond.differs_from.describe()}")
    if cond.step is not None:
        subject = f"step {cond.step!r}"
        if cond.instances is not None:  # a repeated step: how many of its instances
            subject += f" ({cond.instances} instances)" if cond.instances != "all" else \
                " (every instance)"
        if cond.exit_code is not None:
            return f"{subject} exits with {cond.exit_code}"
        if cond.failed is not None:
            return f"{subject} {'fails' if cond.failed else 'succeeds'}"
        if cond.timed_out is not None:
            return f"{subject} {'times out' if cond.timed_out else 'finishes in time'}"
        if cond.oom_killed is not None:
            return f"{subject} {'is' if cond.oom_killed else 'is not'} killed for lack of memory"
        stream = "stdout" if cond.stdout is not None else "stderr"
        return f"{subject} {stream} matches /{cond.stdout or cond.stderr}/"
    if cond.exists is not None:
        return f"file {cond.file!r} {'exists' if cond.exists else 'is absent'}"
    return f"file {cond.file!r} matches /{cond.contains}/"

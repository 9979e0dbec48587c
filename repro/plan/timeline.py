"""The scenario's `steps:` -> the timeline's entries and the flat list of command steps."""

from __future__ import annotations

import shlex
from typing import Any

from repro.config.model import Environment, Scenario, Step, command_steps, fault_entries
from repro.config.project import Loaded, project_root
from repro.config.schema import did_you_mean
from repro.config.timeline import WaitFor
from repro.config.yaml_source import Loc
from repro.errors import Problem
from repro.plan.faults import plan_fault
from repro.plan.render import read_bytes, renderer
from repro.plan.values import EntryPlan, InstancePlan, StepPlan, WaitPlan

INSTANCE_ENV = "REPRO_INSTANCE"  # an instance's index (1-based) in its environment
INSTANCES_ENV = "REPRO_INSTANCES"  # how many instances its step has


def plan_timeline(scen: Loaded[Scenario], env: Environment, context: dict[str, Any],
                  problems: list[Problem | str]
                  ) -> tuple[tuple[StepPlan, ...], tuple[EntryPlan, ...]]:
    """Every command step rendered (per instance when a repeated one uses
    `{{ instance }}`), and the entries as written, each pointing at its plans."""
    scenario = scen.record
    names = {id(step): (number, at, name) for number, (at, step, name)
             in enumerate(command_steps(scenario), 1)}
    fault_names = {id(step): name for _, step, name in fault_entries(scenario)}
    steps: list[StepPlan] = []

    def entry(step: Step, loc: Loc) -> EntryPlan:
        if step.parallel is not None:
            group = tuple(entry(s, (*loc, "parallel", j)) for j, s in enumerate(step.parallel))
            return EntryPlan("parallel", step.at, group=group,
                             label=step.name or f"parallel ({len(group)} entries)")
        if step.wait_for is not None:
            wait = _wait(step.wait_for, scen, env, (*loc, "wait_for"), problems)
            return EntryPlan("wait_for", step.at, wait=wait,
                             label=step.name or f"wait_for {wait.description}")
        if step.fault is not None:
            fault = plan_fault(step.fault, (*loc, "fault"), scen.source, env, problems)
            return EntryPlan("fault", step.at, detail=fault, label=fault_names[id(step)])
        number, at, name = names[id(step)]
        plan = _step(step, number, name, at, scen, context, problems)
        steps.append(plan)
        return EntryPlan("run", step.at, step=plan, label=name)

    entries = tuple(entry(step, ("steps", i)) for i, step in enumerate(scenario.steps))
    steps.sort(key=lambda s: s.number)
    return tuple(steps), entries


def _command(step: Step, scen: Loaded[Scenario], loc: Loc, text: Any
             ) -> tuple[tuple[str, ...], str]:
    if isinstance(step.run, str):
        command = text(step.run, scen.source, (*loc, "run"))
        return ("sh", "-c", command), command
    argv = tuple(text(a, scen.source, (*loc, "run", j)) for j, a in enumerate(step.run or ()))
    return argv, " ".join(argv)


def _step(step: Step, number: int, name: str, loc: Loc, scen: Loaded[Scenario],
          context: dict[str, Any], problems: list[Problem | str]) -> StepPlan:
    scenario = scen.record
    count = step.repeat.count if step.repeat is not None else 0
    first = len(problems)
    text = renderer({**context, "instance": 1, "instances": count} if count else context,
                    problems)
    argv, command = _command(step, scen, loc, text)
    env = {k: text(v, scen.source, (*loc, "env", k)) for k, v in step.env.items()}
    if not count:
        _explain_instance(problems, first)
    instances: list[InstancePlan] = []
    templated = [step.run] if isinstance(step.run, str) else list(step.run or ())
    if count > 1 and len(problems) == first and any(
            "{" in part for part in [*templated, *step.env.values()]):
        for index in range(1, count + 1):
            each = renderer({**context, "instance": index, "instances": count}, problems)
            i_argv, i_command = _command(step, scen, loc, each)
            instances.append(InstancePlan(index, i_argv, i_command, {
                k: each(v, scen.source, (*loc, "env", k)) for k, v in step.env.items()}))
    stdin = step.stdin.encode() if step.stdin is not None else None
    if step.stdin_file is not None:
        stdin = read_bytes(scen.base / step.stdin_file, scen.source, (*loc, "stdin_file"),
                           problems, project_root(scen.base))
    source = step.run if isinstance(step.run, str) else " ".join(step.run or ())
    return StepPlan(name=name, argv=argv, command=command,
                    timeout=step.timeout or scenario.step_timeout, env=env,
                    workdir=step.workdir, user=step.user, stdin=stdin,
                    stop_on_failure=step.stop_on_failure, source=source, number=number,
                    at=step.at, background=step.background, repeat=step.repeat,
                    instances=tuple(instances))


def _explain_instance(problems: list[Problem | str], first: int) -> None:
    """`{{ instance }}` in a step that is not repeated: say where it exists."""
    for i in range(first, len(problems)):
        problem = problems[i]
        if isinstance(problem, Problem) and problem.message.startswith(
                "'instance' is undefined"):
            problems[i] = Problem(problem.file, problem.line, problem.path,
                                  "`{{ instance }}` exists in a repeated step only: add "
                                  "`repeat: {count: N}` to the step, or remove it")


def _wait(wait: WaitFor, scen: Loaded[Scenario], env: Environment, loc: Loc,
          problems: list[Problem | str]) -> WaitPlan:
    if wait.service is not None and wait.service not in env.services:
        known = ", ".join(env.services) or "none"
        problems.append(scen.source.problem(
            (*loc, "service"), f"no service {wait.service!r} in the environment"
            + (did_you_mean(wait.service, env.services) or f" (services: {known})")))
    argv: tuple[str, ...] = ()
    if wait.command is not None:
        argv = ("sh", "-c", wait.command) if isinstance(wait.command, str) else \
            tuple(wait.command)
    return WaitPlan(wait.kind, describe_wait(wait), wait.service, wait.step, wait.log,
                    wait.port, argv, wait.timeout, wait.interval)


def describe_wait(wait: WaitFor) -> str:
    """`log /listening on/ of service api`, `port 8080 of service api`, `command test -f x`."""
    where = f"service {wait.service}" if wait.service else \
        f"step {wait.step}" if wait.step else "the steps' container"
    if wait.log is not None:
        return f"log /{wait.log}/ of {where}"
    if wait.port is not None:
        return f"port {wait.port} of {where}"
    command = wait.command if isinstance(wait.command, str) else shlex.join(wait.command or ())
    return f"command `{command}`" + (f" in service {wait.service}" if wait.service else "")


def timeline_shown(entries: tuple[EntryPlan, ...]) -> list[str] | None:
    """The timeline in words for `repro plan`; None when it is plain steps in order."""
    if all(e.kind == "run" and e.at is None and e.step is not None and
           not e.step.background and e.step.repeat is None for e in entries):
        return None
    out: list[str] = []

    def show(entry: EntryPlan, indent: str) -> None:
        when = f"at +{entry.at:g}s" if entry.at is not None else "then"
        if entry.kind == "parallel":
            out.append(f"{indent}{when}: at once:")
            for inner in entry.group:
                show(inner, indent + "  ")
            return
        what = entry.label
        if entry.kind == "fault":
            what += f": {entry.detail.describe()}"
        step = entry.step
        if step is not None:
            if step.background:
                what += " (background, stopped by repro at the end)"
            if step.repeat is not None:
                what += f" x{step.repeat.count}, at most {step.repeat.at_once} at once"
        elif entry.wait is not None:
            what = f"wait for {entry.wait.description} (at most {entry.wait.timeout:g}s)"
        out.append(f"{indent}{when}: {what}")

    for entry in entries:
        show(entry, "")
    return out

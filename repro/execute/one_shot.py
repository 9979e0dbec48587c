"""When a run's one step may be the steps' container's own process (SandboxSpec.one_shot).

A sandbox normally idles under a keep-alive PID 1 and runs each step by exec. A run that
has nothing but one plain step to run there can have the engine start the step as the
container's process instead: no exec round trips, and the removal finds a stopped
container rather than one to kill. Taken only where the step cannot tell the difference
(docs/performance.md): anything that runs a second process in the container (services,
a clock, a locale to compile, faults, waits, users, background or timed steps), keeps the
sandbox alive for a person (--keep, `repro shell`), or where the engine treats a
container's process differently from an exec's keeps the idle container.
"""

from __future__ import annotations

import os
import re

from repro.plan.values import Plan, StepPlan

# Set to 0 to always use the idle container (to compare the two, or to rule this out).
SWITCH = "REPRO_ONE_SHOT"
# A `&` that puts a command in the background (not `&&`, `>&2`, `2>&1`, `&>`): such a
# process may outlive the step. Under exec the engine still reads its output for a moment
# after the step ends; as the container's process it ends with the step.
_BACKGROUND = re.compile(r"(?<![&<>])&(?![&>])")


def step_for(plan: Plan, *, replay: bool, keep: bool, session: bool) -> StepPlan | None:
    """The step to run as the container's own process, or None for the idle container."""
    if os.environ.get(SWITCH, "1") == "0" or not replay or keep or session:
        return None
    if plan.services or plan.loads or plan.queries or plan.clock is not None:
        return None
    if len(plan.timeline) != 1 or len(plan.steps) != 1:
        return None
    entry, step = plan.timeline[0], plan.steps[0]
    if entry.kind != "run" or entry.step != step or entry.at is not None:
        return None
    if step.at is not None or step.background or step.repeat is not None or step.instances:
        return None
    # The keep-alive's own shell: an image without it fails to start either way.
    if not step.argv or step.argv[0] != "sh" or _BACKGROUND.search(step.command):
        return None
    # The engine makes a missing working directory for a container but refuses it for an
    # exec, and reports an unknown user differently: only the container's own ones.
    if step.workdir not in (None, plan.workdir) or step.user not in (None, plan.user):
        return None
    return step

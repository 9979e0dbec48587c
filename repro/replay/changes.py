"""`--changed-since REF`: the files git says changed, and the scenarios they touch."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repro.errors import ConfigError, Problem
from repro.plan.values import Plan


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(Problem("--changed-since", None, "", f"cannot run git: {exc}")) \
            from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[0]
        raise ConfigError(Problem("--changed-since", None, "", f"{reason} (give a commit, "
                                  "branch or tag git knows, e.g. origin/main)"))
    return done.stdout


def changed_files(ref: str, cwd: Path) -> set[Path]:
    """Files changed between REF and the working tree, and new files git does not ignore."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except ConfigError:
        raise ConfigError(Problem("--changed-since", None, "", f"no commit {ref!r} in this "
                                  "repository (give a commit, branch or tag, e.g. "
                                  "origin/main; in CI fetch enough history)")) from None
    listed = _git(["diff", "--name-only", ref, "--"], cwd).splitlines() + \
        _git(["ls-files", "--others", "--exclude-standard", "--full-name"], cwd).splitlines()
    return {(top / name).resolve() for name in listed if name}


def inputs(plan: Plan) -> list[Path]:
    """What a scenario's run depends on: its folder, its environment file, the build
    contexts of its images, its data and database loads."""
    paths = [plan.scenario_path.parent, plan.environment_path]
    for image in (plan.image, *(s.image for s in plan.services)):
        if image.context is not None:
            paths.append(image.context)
    paths += [d.source for d in plan.data] + [load.source for load in plan.loads]
    return [p.resolve() for p in paths]


def affected(plan: Plan, changed: set[Path], case: Path | None = None) -> bool:
    """Whether a changed file is one the scenario runs on; for a scenario from a case
    (whose files are in a temporary project), whether the case file changed."""
    roots = inputs(plan) if case is None else [case.resolve()]
    return any(path == root or path.is_relative_to(root) for path in changed for root in roots)

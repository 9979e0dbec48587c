"""Which files of the project a scenario runs on: what a case must carry."""

from __future__ import annotations

import os
from pathlib import Path

from repro.config.project import load_environment
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.plan.values import Plan


def project_files(plan: Plan) -> list[Path]:
    """Every file (resolved, inside the project root) the scenario, its environment and
    their build contexts, templates, data, loads and parameter exports consist of."""
    root = plan.project_root.resolve()
    wanted: list[Path] = [plan.scenario_path.parent]
    wanted += [Path(f).resolve().parent for f in plan.extends]  # whole scenario folders
    wanted.append(plan.environment_path)
    env = load_environment(plan.environment_path)
    base = env.base
    for spec in [*env.record.files, *(f for s in env.record.services.values() for f in s.files)]:
        if spec.template is not None:
            wanted.append(base / spec.template)
    wanted += [i.context for i in [plan.image, *(s.image for s in plan.services)]
               if i.context is not None]
    wanted += list(plan.parameter_files)
    wanted += [d.source for d in plan.data] + [ld.source for ld in plan.loads]
    if plan.clock is not None and plan.clock.origin.get("log"):
        wanted.append(Path(plan.clock.origin["log"]))
    found: dict[Path, None] = {}
    for path in wanted:
        for file in _files(path):
            # Kept by the name the scenario uses (a link is carried as the file it names).
            name = Path(os.path.normpath(file.absolute()))
            if not (name.is_relative_to(root) and file.resolve().is_relative_to(root)):
                raise ConfigError(Problem(display_path(file), None, "", "is outside the project "
                                          f"({display_path(root)}): a case carries the "
                                          "project's files only; move it into the project"))
            found[name] = None
    return sorted(found)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.is_file() else []

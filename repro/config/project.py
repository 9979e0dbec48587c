"""Find a project's environments and scenarios on disk and load them as typed records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from repro.config import extends
from repro.config.model import Environment, Scenario
from repro.config.schema import build, did_you_mean
from repro.config.yaml_source import Source, display_path, load_yaml
from repro.errors import ConfigError, Problem

SCENARIO_FILE = "scenario.yaml"

RecordT = TypeVar("RecordT", Environment, Scenario)


@dataclass(frozen=True)
class Loaded(Generic[RecordT]):
    """A validated record with the source it came from (for error lines) and its folder."""

    record: RecordT
    source: Source
    path: Path

    @property
    def base(self) -> Path:
        return self.path.parent


def scenario_file(target: Path) -> Path:
    """Accept `scenarios/X`, `scenarios/X/scenario.yaml`, or a bare id from the cwd."""
    candidates = [target / SCENARIO_FILE, target]
    if not target.is_absolute() and len(target.parts) == 1:
        candidates.append(Path("scenarios") / target / SCENARIO_FILE)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    hint = ""
    known = [p.parent.name for p in Path("scenarios").glob(f"*/{SCENARIO_FILE}")]
    if known:
        hint = did_you_mean(target.name, known) or f" (scenarios here: {', '.join(sorted(known))})"
    raise ConfigError(Problem(str(target), None, "", f"no {SCENARIO_FILE} found{hint}"))


def project_root(start: Path) -> Path:
    """The nearest folder upwards holding `environments/` (or `scenarios/`)."""
    return find_project(start) or Path.cwd().resolve()


def find_project(start: Path) -> Path | None:
    """As project_root, but None when no folder upwards is a project."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        if (folder / "environments").is_dir():
            return folder
    for folder in [start, *start.parents]:
        if (folder / "scenarios").is_dir():
            return folder
    return None


def load_scenario(path: Path) -> Loaded[Scenario]:
    src = load_yaml(path)
    _refuse_empty(src, "a scenario: environment, steps and oracle")
    if not isinstance(src.data, dict):
        raise ConfigError(src.problem((), "a scenario must be a mapping (id, environment, "
                                      "steps, oracle, ...)"))
    src = extends.resolve(path, src)  # `extends: ../OTHER`: its keys merged in
    return Loaded(build(Scenario, src), src, path.resolve())


def environment_file(scenario: Loaded[Scenario]) -> Path:
    name = scenario.record.environment
    if name.endswith((".yaml", ".yml")) or "/" in name:
        path = (scenario.base / name)
    else:
        path = project_root(scenario.base) / "environments" / f"{name}.yaml"
    if path.is_file():
        return path
    folder = path.parent
    known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    hint = did_you_mean(Path(name).stem, known) or (
        f"; environments in {display_path(folder)}: {', '.join(known)}" if known else
        f"; create {display_path(path)}")
    raise ConfigError(scenario.source.problem(("environment",),
                                              f"environment {name!r} not found{hint}"))


def load_environment(path: Path) -> Loaded[Environment]:
    src = load_yaml(path)
    _refuse_empty(src, "an environment: at least its image")
    if not isinstance(src.data, dict):
        raise ConfigError(src.problem((), "an environment must be a mapping (image, "
                                      "parameters, env, files, ...)"))
    return Loaded(build(Environment, src), src, path.resolve())


def _refuse_empty(src: Source, what: str) -> None:
    if src.empty:
        raise ConfigError(Problem(src.file, None, "", f"the file is empty; write {what} "
                                  "(`repro schema` lists every key)"))


def discover(root: Path) -> list[Path]:
    """Every environment and scenario file of a project, environments first."""
    return sorted((root / "environments").glob("*.yaml")) + sorted(
        (root / "scenarios").glob(f"*/{SCENARIO_FILE}"))

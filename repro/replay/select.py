"""Which scenarios a replay runs: those under the given paths, narrowed by `-k`, `--tag`
and `--changed-since`; each planned (and its baseline read) before anything starts, so a
broken scenario is reported at once rather than after the others ran."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from repro import pipeline
from repro.case.unpack import is_case
from repro.config.model import Scenario
from repro.config.project import SCENARIO_FILE, load_scenario, project_root
from repro.config.schema import did_you_mean
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.plan.values import Plan
from repro.replay import changes, keywords


@dataclass(frozen=True)
class Selected:
    """A scenario chosen for the replay, planned."""

    path: Path  # its scenario.yaml, or the case file it came from
    scenario: Scenario
    plan: Plan
    expected: list | None  # the baseline's observations (None: no baseline)
    case: pipeline.OpenCase | None = None  # a case, unpacked for the replay

    @property
    def id(self) -> str:
        return self.plan.scenario_id


@dataclass(frozen=True)
class Criteria:
    keyword: str | None = None
    tags: tuple[str, ...] = ()
    changed_since: str | None = None


def scenario_files(paths: list[Path], cwd: Path) -> list[Path]:
    """Every scenario.yaml under the paths (default: the project's scenarios folder), each
    once, in path order; a path holding none is an error."""
    if not paths:
        root = project_root(cwd)
        default = root / "scenarios"
        found = sorted(default.glob(f"**/{SCENARIO_FILE}")) if default.is_dir() else []
        if not found:
            raise ConfigError(Problem(display_path(default), None, "", "no scenario here: "
                                      "give the folders to replay (`repro replay DIR ...`)"))
        return found
    out: dict[Path, None] = {}
    for path in paths:
        if path.is_file():
            found = [path] if path.name == SCENARIO_FILE or path.suffix in (".yaml", ".yml") \
                else []
        elif path.is_dir():
            found = sorted(path.glob(f"**/{SCENARIO_FILE}"))
        else:
            raise ConfigError(Problem(str(path), None, "", "no such file or folder"))
        if not found:
            raise ConfigError(Problem(str(path), None, "", f"no {SCENARIO_FILE} in it: give a "
                                      "scenario folder or a folder of scenarios"))
        for file in found:
            out.setdefault(file.resolve(), None)
    return list(out)


def select(paths: list[Path], criteria: Criteria, cwd: Path,
           cases: ExitStack | None = None) -> list[Selected]:
    """The scenarios to replay, in id order; every problem of every chosen one at once.
    Case files among the paths are checked and unpacked as `repro run` does, each into a
    temporary project that `cases` removes when it closes."""
    files = [p for p in paths if is_case(p)]
    folders = [p for p in paths if not is_case(p)]
    loaded = [load_scenario(file) for file in scenario_files(folders, cwd)] \
        if folders or not files else []
    opened: dict[Path, pipeline.OpenCase] = {}
    for file in dict.fromkeys(files):  # a tampered case refuses the replay, before any run
        if cases is None:
            raise ConfigError(Problem(display_path(file), None, "", "cases are not "
                                      "accepted here: give scenario folders"))
        case = cases.enter_context(pipeline.case_opened(file, []))
        scenario = load_scenario(case.plan.scenario_path)
        opened[scenario.path] = case
        loaded.append(scenario)
    chosen = loaded
    if criteria.keyword is not None:
        matches = keywords.parse(criteria.keyword)
        chosen = [s for s in chosen
                  if matches(f"{s.record.id or s.base.name} {s.record.title}")]
    if criteria.tags:
        known = sorted({tag for s in loaded for tag in s.record.tags})
        for tag in criteria.tags:
            if tag not in known:
                hint = did_you_mean(tag, known) or (
                    f" (tags: {', '.join(known)})" if known else
                    " (no scenario has `tags:` yet)")
                raise ConfigError(Problem("--tag", None, "", f"no scenario is tagged "
                                          f"{tag!r}{hint}"))
        chosen = [s for s in chosen if set(s.record.tags) & set(criteria.tags)]
    problems: list[Problem | str] = []
    selected = []
    environments: dict = {}  # each environment read once for all the scenarios using it
    for scenario in chosen:
        if scenario.path in opened:  # planned as it was opened
            case = opened[scenario.path]
            selected.append(Selected(case.file, scenario.record, case.plan, case.expected,
                                     case))
            continue
        try:
            plan, expected = pipeline.prepare(scenario.path, [], loaded=scenario,
                                              environments=environments)
        except ConfigError as exc:
            problems += exc.problems
            continue
        selected.append(Selected(scenario.path, scenario.record, plan, expected))
    if problems:
        raise ConfigError(problems)
    if criteria.changed_since is not None:
        touched = changes.changed_files(criteria.changed_since, cwd)
        selected = [s for s in selected if changes.affected(
            s.plan, touched, None if s.case is None else s.case.file)]
    ids: dict[str, Path] = {}
    for s in selected:
        if s.id in ids:
            raise ConfigError(Problem(display_path(s.path), None, "id", f"{s.id!r} is also the "
                                      f"id of {display_path(ids[s.id])}: ids name run records "
                                      "and shards, give each scenario its own"))
        ids[s.id] = s.path
    return sorted(selected, key=lambda s: s.id)

"""`extends: ../ACME-4521`: a scenario that inherits another one and states only what
differs.

Inherited: every key of the other scenario but its `id` (a twin is a scenario of its own)
and its `extends` (followed, to any depth). The extending file's keys replace the
inherited ones whole, except `parameters`, merged key by key. Files the other scenario
names (data, parameter exports, stdin files, loads, its clock's log, an environment given
as a path) stay the same files: their paths are rewritten relative to the extending
scenario. The merged document remembers, for every key, the file and line it came from:
errors and `repro plan` name the file that wrote the value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config.paths import outside
from repro.config.schema import did_you_mean
from repro.config.yaml_source import Loc, Source, display_path, load_yaml
from repro.errors import ConfigError, Problem

SCENARIO_FILE = "scenario.yaml"
NOT_INHERITED = ("id", "extends")
MERGED_BY_KEY = ("parameters",)


@dataclass
class MergedSource(Source):
    """A scenario document put together from two files: each location answers with the
    line, and the file, of the one that wrote it."""

    own: Source | None = None
    inherited: Source | None = None
    from_inherited: set[Loc] = field(default_factory=set)  # top keys, ("parameters", k)

    def origin(self, loc: Loc) -> Source:
        assert self.own is not None and self.inherited is not None
        taken = loc[:2] in self.from_inherited or loc[:1] in self.from_inherited
        return self.inherited if taken else self.own

    def line(self, loc: Loc) -> int | None:
        return self.origin(loc).line(loc) if loc else self.lines.get(())

    def value_line(self, loc: Loc) -> int | None:
        return self.origin(loc).value_line(loc)

    def problem(self, loc: Loc, message: str) -> Problem:
        return self.origin(loc).problem(loc, message) if loc else super().problem(loc, message)

    def file_of(self, loc: Loc) -> str:
        return self.origin(loc).file_of(loc) if loc else self.file

    def chain(self) -> list[str]:
        """The files extended, nearest first."""
        assert self.inherited is not None
        deeper = self.inherited.chain() if isinstance(self.inherited, MergedSource) else []
        return [self.inherited.file, *deeper]


def where(src: Source, loc: Loc) -> str:
    """`file:line` of the key at `loc`, in whichever file wrote it."""
    line = src.line(loc)
    return f"{src.file_of(loc)}:{line}" if line else src.file_of(loc)


def resolve(path: Path, src: Source, chain: tuple[Path, ...] = ()) -> Source:
    """The scenario document with what it `extends` merged in (unchanged without)."""
    if not isinstance(src.data, dict) or "extends" not in src.data:
        return src
    target = src.data["extends"]
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(src.problem(("extends",), "expected the path of another "
                                      "scenario's folder, e.g. ../ACME-4521"))
    here = path.resolve()
    other = _target_file(path, target, src)
    seen = (*chain, here)
    if other.resolve() in seen:
        loop = [display_path(p.parent) for p in seen[seen.index(other.resolve()):]]
        raise ConfigError(src.problem(("extends",), f"{target!r} extends back to this "
                                      f"scenario ({' -> '.join([*loop, loop[0]])}); a "
                                      "scenario cannot inherit from itself: remove one "
                                      "`extends`"))
    base = resolve(other, load_yaml(other), seen)
    if not isinstance(base.data, dict):
        raise ConfigError(src.problem(("extends",), f"{display_path(other)} is not a "
                                      "scenario (a mapping of keys)"))
    return _merge(src, base, other.parent.resolve(), here.parent)


def _target_file(path: Path, target: str, src: Source) -> Path:
    candidate = path.parent / target
    if candidate.is_dir():
        candidate = candidate / SCENARIO_FILE
    from repro.config.project import project_root

    refused = outside(candidate, project_root(path.parent))
    if candidate.is_file() and refused is None:
        return candidate
    if refused is not None and candidate.exists():
        raise ConfigError(src.problem(("extends",), refused))
    folder = candidate.parent.parent if candidate.name == SCENARIO_FILE else candidate.parent
    known = [p.name for p in folder.iterdir() if (p / SCENARIO_FILE).is_file()] \
        if folder.is_dir() else []
    hint = did_you_mean(Path(target).name, known)
    raise ConfigError(src.problem(("extends",), f"{target!r}: no {SCENARIO_FILE} at "
                                  f"{display_path(candidate)}{hint}"))


def _merge(own: Source, base: Source, base_dir: Path, own_dir: Path) -> MergedSource:
    data: dict[str, Any] = {}
    taken: set[Loc] = set()
    for key, value in base.data.items():
        if key not in NOT_INHERITED:
            data[key] = _rebase(key, value, base_dir, own_dir)
            taken.add((key,))
    for key, value in own.data.items():
        inherited = data.get(key)
        if key in MERGED_BY_KEY and isinstance(value, dict) and isinstance(inherited, dict):
            taken.discard((key,))
            taken.update((key, k) for k in inherited if k not in value)
            data[key] = {**inherited, **value}
        else:
            data[key] = value
            taken.discard((key,))
    merged = MergedSource(own.file, data, own=own, inherited=base, from_inherited=taken)
    merged.lines[()] = own.lines.get((), 1)
    for origin in (base, own):  # scalars as written, for parsers that want the text
        merged.texts.update({loc: text for loc, text in origin.texts.items()
                             if merged.origin(loc) is origin})
    return merged


def _rebase(key: str, value: Any, base_dir: Path, own_dir: Path) -> Any:
    """An inherited value whose paths are relative to the other scenario's folder, made
    relative to the extending one's (absolute paths stay as they are)."""

    def moved(rel: Any) -> Any:
        if not isinstance(rel, str) or os.path.isabs(rel):
            return rel
        return Path(os.path.relpath(base_dir / rel, own_dir)).as_posix()

    def entries(items: Any, keys: tuple[str, ...]) -> Any:
        if not isinstance(items, list):
            return items
        out = []
        for item in items:
            if isinstance(item, dict):
                item = {k: moved(v) if k in keys else v for k, v in item.items()}
                if isinstance(item.get("parallel"), list):
                    item["parallel"] = entries(item["parallel"], keys)
            elif key == "parameters_from":
                item = moved(item)
            out.append(item)
        return out

    if key == "parameters_from":
        return entries(value, ("path",))
    if key == "data":
        return entries(value, ("from",))
    if key == "load":
        return entries(value, ("sql", "csv"))
    if key == "steps":
        return entries(value, ("stdin_file",))
    if key == "clock" and isinstance(value, dict):
        return {k: moved(v) if k == "from_log" else v for k, v in value.items()}
    if key == "environment" and isinstance(value, str) and (
            "/" in value or value.endswith((".yaml", ".yml"))):
        return moved(value)
    return value

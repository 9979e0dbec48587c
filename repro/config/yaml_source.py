"""Read YAML while remembering the line of every key, so errors can say `file:line`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from repro.errors import ConfigError, Problem

try:  # libyaml is several times faster when present
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

Loc = tuple[str | int, ...]


def loc_text(loc: Loc) -> str:
    """`('steps', 2, 'run')` -> `steps[2].run`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Source:
    """A parsed YAML document plus the line of each value, keyed by its location."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    value_lines: dict[Loc, int] = field(default_factory=dict)  # where a value's text starts
    texts: dict[Loc, str] = field(default_factory=dict)  # scalars as written (`0644`)

    def value_line(self, loc: Loc) -> int | None:
        return self.value_lines.get(loc) or self.line(loc)

    def line(self, loc: Loc) -> int | None:
        # Fall back to the nearest enclosing key that we know the line of.
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.file, self.line(loc), loc_text(loc), message)


def display_path(path: Path) -> str:
    """Paths in messages are relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_input(path: Path, missing: str = "file not found", encoding: str = "utf-8") -> str:
    """A user's input file as text; a missing or unreadable one is a one-line error."""
    shown = display_path(path)
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise ConfigError(Problem(shown, None, "", missing)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(shown, None, "", f"cannot read: {exc}")) from None


def load_yaml(path: Path) -> Source:
    return parse_yaml(read_input(path), display_path(path))


def parse_yaml(text: str, shown: str) -> Source:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            Problem(shown, line, "", f"invalid YAML: {what} (check indentation and quoting)")
        ) from None
    src = Source(shown, None)
    if node is None:
        src.data = {}
        return src
    problems: list[Problem] = []
    try:
        src.data = _build(node, (), src, problems, yaml.constructor.SafeConstructor())
    except yaml.MarkedYAMLError as exc:  # e.g. an unknown `!tag`
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(Problem(shown, mark.line + 1 if mark else None, "",
                                  f"unsupported YAML: {exc.problem or exc.context}")) from None
    except RecursionError:
        raise ConfigError(Problem(shown, None, "", "a YAML alias refers to itself")) from None
    if problems:
        raise ConfigError(problems)
    return src


def _build(node: yaml.Node, loc: Loc, src: Source, problems: list[Problem], ctor: Any) -> Any:
    src.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)  # honour `<<: *anchor` merge keys
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                problems.append(src.problem(loc, "mapping keys must be plain scalars"))
                continue
            key = str(key)
            child = (*loc, key)
            if key in out:
                problems.append(
                    Problem(src.file, key_node.start_mark.line + 1, loc_text(child),
                            "duplicate key (an earlier value would be silently lost)")
                )
            src.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, src, problems, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), src, problems, ctor) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)  # the third and last kind of YAML node
    # A block scalar (`key: |`) starts on the line after its indicator.
    src.value_lines[loc] = node.start_mark.line + 1 + (1 if node.style in ("|", ">") else 0)
    src.texts[loc] = node.value
    return ctor.construct_object(node, deep=True)

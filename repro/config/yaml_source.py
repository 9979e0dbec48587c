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

# Values a document may gain through aliases (`*anchor`) beyond the ones it spells out: a
# 600-byte "billion laughs" would otherwise expand to gigabytes in memory.
MAX_ALIAS_EXPANSION = 100_000


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
    empty: bool = False  # no document at all (an empty or comment-only file)

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

    def file_of(self, loc: Loc) -> str:
        """The file that wrote the value at `loc` (another one for an inherited key)."""
        return self.file


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
    except UnicodeDecodeError as exc:
        raise ConfigError(not_text(shown, path.read_bytes(), exc)) from None
    except OSError as exc:
        raise ConfigError(Problem(shown, None, "", f"cannot read: {exc.strerror or exc}")) \
            from None


def not_text(shown: str, raw: bytes, exc: UnicodeDecodeError) -> Problem:
    """Where the first undecodable byte of a file is, and what to do about it."""
    before = raw[:exc.start]
    line = before.count(b"\n") + 1
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    byte = exc.object[exc.start:exc.start + 1].hex()
    return Problem(shown, line, "", f"not {exc.encoding.upper()} text: byte 0x{byte} at "
                   f"column {column}; save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)")


def load_yaml(path: Path) -> Source:
    return parse_yaml(read_input(path), display_path(path))


def parse_yaml(text: str, shown: str) -> Source:
    text = text.removeprefix("\ufeff")  # a byte-order mark (Windows editors) is no content
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.composer.ComposerError as exc:
        if exc.problem == "but found another document":
            mark = exc.problem_mark
            raise ConfigError(Problem(shown, mark.line + 1 if mark else None, "", "a second "
                                      "YAML document (`---`): a file holds one document; "
                                      "remove the `---` line or split the file")) from None
        raise ConfigError(_invalid(shown, exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_invalid(shown, exc)) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow in a file
        raise ConfigError(_not_allowed(shown, text, exc.position)) from None
    src = Source(shown, None)
    if node is None:
        src.data, src.empty = {}, True
        return src
    problems: list[Problem] = []
    budget = _Budget()
    try:
        src.data = _build(node, (), src, problems, yaml.constructor.SafeConstructor(), budget)
    except yaml.MarkedYAMLError as exc:  # e.g. an unknown `!tag`
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(Problem(shown, mark.line + 1 if mark else None, "",
                                  f"unsupported YAML: {exc.problem or exc.context}; "
                                  "remove the tag (repro reads plain YAML)")) from None
    except RecursionError:
        raise ConfigError(Problem(shown, None, "", "a YAML alias refers to itself")) from None
    except _TooLarge as exc:
        raise ConfigError(Problem(shown, exc.line, "", f"YAML aliases expand this document "
                                  f"beyond {MAX_ALIAS_EXPANSION} values (an alias bomb?); "
                                  "write the values out instead")) from None
    if problems:
        raise ConfigError(problems)
    return src


def _not_allowed(shown: str, text: str, position: int) -> Problem:
    # libyaml counts UTF-8 bytes, the pure-Python reader characters.
    before = (text.encode()[:position].decode(errors="ignore")
              if _Loader is not yaml.SafeLoader else text[:position])
    bad = text[len(before):len(before) + 1] or "?"
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return Problem(shown, line, "", f"character {ord(bad):#04x} at column {column} is not "
                   "allowed in YAML: remove it, or write it as an escape (\\x..) inside "
                   "double quotes")


def _invalid(shown: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "invalid YAML"
    return Problem(shown, mark.line + 1 if mark else None, "",
                   f"invalid YAML: {what} (check indentation and quoting)")


class _TooLarge(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


@dataclass
class _Budget:
    """Counts values built against the distinct nodes written: the excess is aliasing."""

    built: int = 0
    nodes: set[int] = field(default_factory=set)

    def spend(self, node: yaml.Node) -> bool:
        """False once the aliases have expanded past the bound."""
        self.built += 1
        self.nodes.add(id(node))
        return self.built - len(self.nodes) <= MAX_ALIAS_EXPANSION


def _build(node: yaml.Node, loc: Loc, src: Source, problems: list[Problem], ctor: Any,
           budget: _Budget) -> Any:
    if not budget.spend(node):
        raise _TooLarge(src.line(loc[:1]) or node.start_mark.line + 1)  # the top-level key
    src.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)  # honour `<<: *anchor` merge keys
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (_scalar(key_node, loc, src, problems, ctor)
                   if isinstance(key_node, yaml.ScalarNode) else None)
            if not isinstance(key, (str, int, float, bool)):
                problems.append(Problem(src.file, key_node.start_mark.line + 1, loc_text(loc),
                                        "mapping keys must be plain scalars (a name, not a "
                                        "list or a mapping)"))
                continue
            key = str(key)
            child = (*loc, key)
            if key in out:
                problems.append(
                    Problem(src.file, key_node.start_mark.line + 1, loc_text(child),
                            "duplicate key (an earlier value would be silently lost)")
                )
            src.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, src, problems, ctor, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), src, problems, ctor, budget)
                for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)  # the third and last kind of YAML node
    # A block scalar (`key: |`) starts on the line after its indicator.
    src.value_lines[loc] = node.start_mark.line + 1 + (1 if node.style in ("|", ">") else 0)
    src.texts[loc] = node.value
    return _scalar(node, loc, src, problems, ctor)


_KINDS = {"int": "a whole number", "float": "a number", "timestamp": "a date"}
_MAX_INT_BITS = 63  # beyond: no count, size or port, and the text of it may not even print


def _scalar(node: yaml.Node, loc: Loc, src: Source, problems: list[Problem], ctor: Any) -> Any:
    """A scalar's value; one the YAML resolver misreads (`2023-02-29` as a date, 5000
    digits as a number) is a problem at its line, never a crash."""
    kind = _KINDS.get(node.tag.rsplit(":", 1)[-1], node.tag)
    try:
        value = ctor.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:  # `2023-02-29`, `!!int x`, 5000 digits
        reason = (" (too large)" if "Exceeds the limit" in str(exc) else
                  f" ({str(exc).split(';')[0][:80]})")
    else:
        if not isinstance(value, int) or value.bit_length() <= _MAX_INT_BITS:
            return value
        reason = " (too large)"
    problems.append(Problem(src.file, node.start_mark.line + 1, loc_text(loc),
                            f"{node.value[:40]!r} reads as {kind} but is not a valid one"
                            f"{reason}; put it in quotes to mean the text"))
    return node.value

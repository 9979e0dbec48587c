"""The images a Dockerfile builds FROM, with build arguments resolved as `docker build` does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from repro.errors import ConfigError, Problem
from repro.sandbox import reference

_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.I)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", re.I)
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def parents(path: Path, build_args: Mapping[str, str]) -> list[str]:
    """The external images `path` starts from (stage names excluded), in order.

    Only ARGs declared before the first FROM apply to FROM lines (Docker's rule); the
    environment's build args override their defaults. A reference that still names an
    undefined argument is a ConfigError at its line, not the engine's "invalid reference
    format" after a build has started.
    """
    try:
        shown = str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    declared: dict[str, str | None] = {}
    stages: set[str] = set()
    found: list[str] = []
    seen_from = False
    for number, line in _logical_lines(path.read_text(errors="replace")):
        arg = _ARG.match(line)
        if arg and not seen_from:
            declared[arg.group(1)] = arg.group(2)
            continue
        match = _FROM.match(line)
        if not match:
            continue
        seen_from = True
        ref = _substitute(match.group(1), declared, build_args, shown, number)
        if ref.lower() not in stages and ref != "scratch":
            found.append(ref)
        if match.group(2):
            stages.add(match.group(2).lower())
    return found


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, instruction) with continued lines (`\\` at the end) joined."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if pending is not None:
            pending = (pending[0], pending[1] + " " + line.strip())
        else:
            pending = (number, line)
        if pending[1].rstrip().endswith("\\"):
            pending = (pending[0], pending[1].rstrip()[:-1])
        else:
            out.append(pending)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def _substitute(ref: str, declared: Mapping[str, str | None], given: Mapping[str, str],
                shown: str, line: int) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        # Only declared ARGs exist for FROM; a given value overrides the default.
        current = given.get(name, declared.get(name)) if name in declared else None
        if match.group(2) == "-":
            return current or match.group(3)
        if match.group(2) == "+":
            return match.group(3) if current else ""
        if name not in declared:
            raise ConfigError(Problem(shown, line, "FROM", f"`FROM` names ${name}, which no "
                                      "`ARG` before the first FROM declares: declare it there "
                                      "(`ARG NAME=default`) or pass it in the environment's "
                                      "`build.args`"))
        if current is None or current == "":
            raise ConfigError(Problem(shown, line, "FROM", f"`FROM` names ${name}, which has "
                                      "no value: give its `ARG` a default or set it in the "
                                      "environment's `build.args`"))
        return current

    resolved = _VAR.sub(value, ref)
    if not reference.is_valid(resolved):
        raise ConfigError(Problem(shown, line, "FROM", f"{resolved!r} is not an image "
                                  f"reference: {reference.RULES}"))
    return resolved

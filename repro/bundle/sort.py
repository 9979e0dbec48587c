"""What each file of an unpacked bundle is: a parameter export, data, a database dump, a
log, or something the scenario does not use (still copied, and listed).

A settings file is an export only when its keys set parameters of the environment (read
by the same readers as `parameters_from`); a JSON file that sets none is data. A log is a
.log or .txt file with timestamps that `clock.from_log` recognises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from repro.config import logtime, param_names
from repro.config.model import Environment, ParameterFile
from repro.config.parameters import Scalar, read_parameter_file
from repro.errors import ConfigError, Problem

_EXPORT_SUFFIXES = (".ini", ".cfg", ".env", ".yaml", ".yml", ".json", ".properties", ".conf",
                    ".cnf")
_DATA_SUFFIXES = (".csv", ".tsv", ".json")
_DUMP_SUFFIXES = (".sql", ".dump", ".pgdump")
_LOG_NAME = re.compile(r"\.(log|txt|out)(\.\d+)?$", re.I)
_EXPORT_MAX = 1024 * 1024  # a settings export is small; a bigger file is data or other
_SNIFF_LINES = 200  # a log shows a timestamp within its first lines ...
_SNIFF_BYTES = 256 * 1024  # ... and bytes
_SNIFF_LINE = 1024  # a timestamp is near the start of its line


@dataclass(frozen=True)
class Export:
    path: str  # relative to the customer folder
    sets: tuple[str, ...]  # declared parameters it sets
    unknown: tuple[str, ...]  # its keys the environment does not declare
    values: dict[str, str] = field(default_factory=dict)  # what it sets, secrets left out
    section: str | None = None  # read only this section (the file sets keys differently
    # in several)


@dataclass(frozen=True)
class Dump:
    path: str
    postgres: bool  # plain SQL or pg_dump custom format, as `load:` takes
    owner: str | None = None  # `OWNER TO x` in the dump
    database: str | None = None  # `CREATE DATABASE x` or `\connect x`


@dataclass
class Sorted:
    exports: list[Export] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    dumps: list[Dump] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)  # (path, why unused)


def sort_files(root: Path, files: list[str], env: Environment) -> Sorted:
    """Each of `files` (relative to `root`) in its place."""
    out = Sorted()
    for rel in files:
        name = rel.rsplit("/", 1)[-1].lower()
        path = root / rel
        if name.endswith(_DUMP_SUFFIXES):
            out.dumps.append(_dump(rel, path))
        elif name.endswith((".csv", ".tsv")):
            out.data.append(rel)
        elif name.endswith(_EXPORT_SUFFIXES) or name in (".env", "my.cnf"):
            export, why = _export(root, rel, env)
            if export is not None:
                out.exports.append(export)
            elif name.endswith(_DATA_SUFFIXES):
                out.data.append(rel)
            else:
                out.other.append((rel, why))
        elif _LOG_NAME.search(name):
            if _has_timestamps(path):
                out.logs.append(rel)
            else:
                out.other.append((rel, "no timestamped lines"))
        else:
            out.other.append((rel, "not a kind repro reads"))
    return out


def _export(root: Path, rel: str, env: Environment) -> tuple[Export | None, str]:
    if (root / rel).stat().st_size > _EXPORT_MAX:
        return None, "too large for a settings export"
    try:
        values, _, _ = read_parameter_file(ParameterFile(path=rel), root)
        section = None
    except ConfigError as exc:
        # A my.cnf sets `port` in [client] and [mysqld] alike: the whole file is refused,
        # one section may be read (the one setting the most parameters).
        found = _best_section(root, rel, env)
        if found is None:
            return None, f"not read as settings: {_why(exc)}"
        section, values = found
    sets: list[str] = []
    unknown: list[str] = []
    shown: dict[str, str] = {}
    for key, value in values.items():
        name = param_names.declared_name(key, env.parameters)
        if isinstance(name, str):
            sets.append(name)
            if not env.parameters[name].secret:
                shown[name] = str(value)
        else:
            unknown.append(key)
    if not sets:
        return None, "none of its keys is a parameter of the environment"
    return Export(rel, tuple(dict.fromkeys(sets)), tuple(unknown), shown, section), ""


def _why(exc: ConfigError) -> str:
    """The reader's message without the file's path (it names the folder being made)."""
    problem = exc.problems[0]
    if isinstance(problem, Problem):
        return (f"line {problem.line}: " if problem.line else "") + problem.message
    return str(problem)


_SECTION = re.compile(r"^\s*\[([^\]\n]+)\]\s*$", re.M)


def _best_section(root: Path, rel: str, env: Environment
                  ) -> tuple[str, dict[str, Scalar]] | None:
    text = (root / rel).read_text(encoding="utf-8-sig", errors="replace")
    best: tuple[int, str, dict[str, Scalar]] | None = None
    for name in dict.fromkeys(_SECTION.findall(text)):
        try:
            values, _, _ = read_parameter_file(ParameterFile(path=rel, section=name), root)
        except ConfigError:
            continue
        score = sum(isinstance(param_names.declared_name(k, env.parameters), str)
                    for k in values)
        if score and (best is None or score > best[0]):
            best = (score, name, values)
    return (best[1], best[2]) if best else None


def _has_timestamps(path: Path) -> bool:
    with path.open("rb") as raw:
        head = raw.read(_SNIFF_BYTES).decode("utf-8", "replace")
    return any(logtime.find(line[:_SNIFF_LINE]) is not None
               for line in head.splitlines()[:_SNIFF_LINES])


_OWNER = re.compile(r"OWNER TO \"?(\w+)", re.I)
_DATABASE = re.compile(r"^(?:CREATE DATABASE \"?(\w+)|\\c(?:onnect)? \"?(\w+))", re.I | re.M)


def _dump(rel: str, path: Path) -> Dump:
    with path.open("rb") as raw:
        head = raw.read(256 * 1024)
    if head.startswith(b"PGDMP"):  # pg_dump's custom format: binary, no text to read
        return Dump(rel, True)
    text = head.decode("utf-8", "replace")
    if re.search(r"MySQL dump|MariaDB dump", text[:2000]):
        return Dump(rel, False)
    owner = _OWNER.search(text)
    database = _DATABASE.search(text)
    return Dump(rel, True, owner.group(1) if owner else None,
                next((g for g in database.groups() if g), None) if database else None)

"""Resolve a scenario's parameters: environment defaults < customer files < inline < --param."""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from repro.config import exports, param_names
from repro.config.model import Environment, ParameterFile, Scenario
from repro.config.paths import outside
from repro.config.project import project_root
from repro.config.schema import did_you_mean
from repro.config.yaml_source import Source, display_path, parse_yaml, read_input
from repro.errors import ConfigError, Problem

Scalar = str | int | float | bool
_SUFFIX_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ini": "ini",
                   ".cfg": "ini", ".conf": "conf", ".env": "env", ".properties": "properties",
                   ".cnf": "cnf"}
_SECTION_HEADER = re.compile(r"^\s*\[[^\]]*\]\s*$", re.M)
LineOf = Callable[[str], int | None]


def parse_cli_params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(Problem("--param", None, "", f"expected KEY=VALUE, got {pair!r}"))
        out[key.strip()] = value
    return out


def read_parameter_file(spec: ParameterFile, base: Path
                        ) -> tuple[dict[str, Scalar], str, LineOf]:
    """Read one customer export: its values, the name to show in errors, and where each
    key is set."""
    path = base / spec.path
    shown = display_path(path)
    fmt: str = spec.format
    if fmt == "auto":
        fmt = _SUFFIX_FORMATS.get(path.suffix.lower()) or ("env" if path.name == ".env" else "")
        if not fmt:
            raise ConfigError(Problem(shown, None, "", "cannot tell the format from the file "
                                      "name; add `format: yaml|json|ini|env|conf|"
                                      "properties|cnf`"))
    text = read_input(path, "parameter file not found", "utf-8-sig")
    if fmt == "conf" and spec.format == "auto" and _SECTION_HEADER.search(text):
        fmt = "cnf"  # a .conf with [sections] is INI-like (my.cnf, php-fpm...), not PostgreSQL's
    if fmt in ("conf", "properties", "cnf", "env"):
        values, lines = (exports.read_mycnf(text, shown, spec.section) if fmt == "cnf" else
                         {"conf": exports.read_pgconf, "properties": exports.read_properties,
                          "env": exports.read_env}[fmt](text, shown))
        return dict(values), shown, lines.get
    reader = {"yaml": _read_yaml, "json": _read_json, "ini": _read_ini}[fmt]
    return reader(text, shown, spec.section), shown, lambda key: _line_of(key, text)


def _flat(data: Any, shown: str, line_of: Callable[[str], int | None], top: int | None
          ) -> dict[str, Scalar]:
    """The export's values; `line_of(key)` and `top` (the document's line) locate errors."""
    if not isinstance(data, dict):
        raise ConfigError(Problem(shown, top, "", "expected a mapping of parameter names "
                                  "to values (name: value)"))
    bad = [k for k, v in data.items() if not isinstance(v, (str, int, float, bool))]
    if bad:
        raise ConfigError(Problem(shown, line_of(str(bad[0])), str(bad[0]), "parameter values "
                                  "must be strings, numbers or booleans (not a list, a mapping "
                                  "or null)"))
    return {str(k): v for k, v in data.items()}


def _read_yaml(text: str, shown: str, section: str | None) -> dict[str, Scalar]:
    src = parse_yaml(text, shown)
    data: Any = src.data
    at: tuple[str, ...] = ()
    if section and isinstance(data, dict):
        data, at = data.get(section, {}), (section,)
    return _flat(data, shown, lambda key: src.lines.get((*at, key)), src.line(at))


def _read_json(text: str, shown: str, section: str | None) -> dict[str, Scalar]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(Problem(shown, exc.lineno, "", f"invalid JSON: {exc.msg}")) from None
    except RecursionError:
        raise ConfigError(Problem(shown, None, "", "invalid JSON: nested too deeply")) from None
    start = text.count("\n", 0, len(text) - len(text.lstrip())) + 1
    return _flat(data.get(section, {}) if section and isinstance(data, dict) else data, shown,
                 lambda key: _line_of(key, text), start)


class _CaseKeepingParser(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr  # keep the customer's key case


def _read_ini(text: str, shown: str, section: str | None) -> dict[str, Scalar]:
    parser = _CaseKeepingParser(interpolation=None, default_section="\x00")
    first = next((line.strip() for line in text.splitlines()
                  if line.strip() and line.strip()[0] not in "#;"), "[")
    bare = not first.startswith("[")  # a key=value file without any section header
    try:
        parser.read_string("[\x01]\n" + text if bare else text, source=shown)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        if isinstance(exc, configparser.MissingSectionHeaderError):  # `[app` unclosed
            what = "expected a [section] header, e.g. [app], before the first key"
        elif isinstance(exc, configparser.ParsingError) and getattr(exc, "errors", None):
            line = exc.errors[0][0]
            what = "expected `key = value` or a [section] header"  # no echo: may be secret
        else:
            what = re.sub(r"^While reading from .*?\]: ", "", exc.message.splitlines()[0]
                          ).replace("'\\x01'", "the top")
        if line is not None and bare:
            line -= 1
        raise ConfigError(Problem(shown, line, "", f"invalid INI: {what}")) from None
    sections = [section] if section else parser.sections()
    if section and not parser.has_section(section):
        found = ", ".join(parser.sections()) or "none"
        raise ConfigError(Problem(shown, None, "", f"no section [{section}] (sections: {found})"))
    out: dict[str, Scalar] = {}
    origin: dict[str, str] = {}
    for name in sections:
        for key, value in parser.items(name):
            if key in out and out[key] != value:
                raise ConfigError(Problem(shown, _ini_line(text, name, key), key,
                                          f"set differently in [{origin[key]}] and [{name}]; "
                                          "pick one with `section:`"))
            out[key], origin[key] = value, name
    return out


def _ini_line(text: str, section: str, key: str) -> int | None:
    """The line setting `key` in [section] (configparser keeps no lines)."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped == f"[{section}]"
        elif inside and re.match(rf"{re.escape(key)}\s*[=:]", stripped):
            return number
    return None


def coerce(value: Scalar, like: Any) -> Scalar:
    """Give a value the type of the parameter's default (files and --param give text)."""
    if like is None:
        return value
    if isinstance(like, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower() if isinstance(value, str) else ""
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ValueError("expected true or false")
    wanted = "a whole number" if isinstance(like, int) else "a number"
    if isinstance(value, bool):
        raise ValueError(f"expected {wanted}")
    if isinstance(value, str):
        try:
            return int(value.strip()) if isinstance(like, int) else float(value.strip())
        except ValueError:
            raise ValueError(f"expected {wanted}") from None
    if isinstance(like, int):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected {wanted}")
        return int(value)
    return float(value)


def resolve(env: Environment, env_src: Source, scenario: Scenario, scen_src: Source,
            scenario_dir: Path, cli: dict[str, str]
            ) -> tuple[dict[str, Scalar], list[str], dict[str, str]]:
    """Merge every layer, then check each value against the environment's declaration.

    Returns the values, the export keys skipped by `ignore_unknown` (for the record), and
    where each value came from (`default`, `customer/settings.ini:3`, `--param`...).
    """
    declared = env.parameters
    layers: list[tuple[dict[str, Scalar], Any]] = []
    skipped: list[str] = []
    for i, pfile in enumerate(scenario.parameters_from):
        refused = outside(scenario_dir / pfile.path, project_root(scenario_dir))
        if refused:
            raise ConfigError(scen_src.problem(("parameters_from", i), refused))
        if not (scenario_dir / pfile.path).is_file():
            folder = (scenario_dir / pfile.path).parent
            near = [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
            hint = did_you_mean(Path(pfile.path).name, near)
            raise ConfigError(scen_src.problem(("parameters_from", i), f"{pfile.path} not "
                                               f"found{hint}"))
        found, shown, line_of = read_parameter_file(pfile, scenario_dir)
        found, line_of = _as_declared(found, line_of, declared, shown)
        if pfile.ignore_unknown:
            skipped += [f"{shown}: {k}" for k in found if k not in declared]
            found = {k: v for k, v in found.items() if k in declared}
        layers.append((found, lambda key, shown=shown, line_of=line_of:
                       Problem(shown, line_of(key), key, "")))
    layers.append((dict(scenario.parameters),
                   lambda key: scen_src.problem(("parameters", key), "")))
    layers.append((dict(cli), lambda key: Problem("--param", None, key, "")))

    origins = {k: "default" for k, p in declared.items() if p.default is not None}
    values: dict[str, Scalar] = {k: p.default for k, p in declared.items()
                                 if p.default is not None}
    problems: list[Problem] = []
    for layer, where in layers:
        for key, value in layer.items():
            if key not in declared:
                from_file = layer is not layers[-1][0] and layer is not layers[-2][0]
                hint = did_you_mean(key, declared) or (
                    f"; declare it under `parameters:` in {env_src.file}" + (
                        ", or set `ignore_unknown: true` on this export to skip such keys"
                        if from_file else ""))
                problems.append(_with(where(key), f"unknown parameter{hint}"))
                continue
            spec = declared[key]
            shown = "a secret value" if spec.secret else repr(value)  # never echo secrets
            try:
                value = coerce(value, spec.default)
            except ValueError as exc:
                problems.append(_with(where(key), f"{exc}, got {shown}"))
                continue
            if spec.choices and str(value) not in spec.choices:
                problems.append(_with(where(key), f"{shown} is not one of "
                                      f"{', '.join(spec.choices)}"))
                continue
            values[key] = value
            place = where(key)
            origins[key] = place.file if place.line is None else f"{place.file}:{place.line}"
    for key in declared:
        if key not in values:
            problems.append(scen_src.problem(("parameters",), f"parameter {key!r} is required "
                                             f"by {env_src.file}; set it here or with "
                                             f"--param {key}=VALUE"))
    if problems:
        raise ConfigError(problems)
    return values, skipped, origins


def _as_declared(found: dict[str, Scalar], line_of: LineOf, declared: dict[str, Any],
                 shown: str) -> tuple[dict[str, Scalar], LineOf]:
    """The export's keys under the names the environment declares (case, `aliases:`)."""
    out: dict[str, Scalar] = {}
    lines: dict[str, int | None] = {}
    for key, value in found.items():
        name = param_names.declared_name(key, declared)
        if isinstance(name, list):
            raise ConfigError(Problem(shown, line_of(key), key, "could be parameter "
                                      f"{' or '.join(name)}; add it to the `aliases:` of "
                                      "the one it sets"))
        name = name or key
        out[name], lines[name] = value, line_of(key)
    return out, lines.get


def _line_of(key: str, text: str) -> int | None:
    """Where a key is set in an export (INI, .env, YAML or JSON), for the error line."""
    # At a line's start (`key = v`, `export KEY=v`, `key: v`), or quoted anywhere (JSON
    # written on one line).
    name = re.escape(key)
    pattern = re.compile(rf"^[ \t]*(?:export\s+)?[\"']?{name}[\"']?[ \t]*[=:]"
                         rf"|[\"']{name}[\"']\s*:", re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _with(problem: Problem, message: str) -> Problem:
    return Problem(problem.file, problem.line, problem.path, message)

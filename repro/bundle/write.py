"""The draft scenario.yaml: what was found in the bundle, each proposal commented with
where it came from, and a placeholder step that fails saying what is left to write.

Why a placeholder rather than no steps: a draft that validates can be checked at once
(`repro validate`, `repro plan` resolve the customer's parameters, data, database loads and
clock against the environment), and its placeholder can never pass for a reproduction: it
prints what to do on stderr and exits 1, which the proposed oracle does not match
(docs/bundles.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from repro.bundle.propose import ErrorLine, escape
from repro.bundle.sort import Dump, Sorted
from repro.config.model import Environment

STEP = "reproduce"  # the placeholder step, named in the proposed oracle
DATA_ROOT = "/srv/customer"  # where data goes in the sandbox until the engineer says
CLOCK_BEFORE = "30s"
ORACLE_TODO = "TODO: the error message the customer saw"
_TEMPLATE_NAME = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_ZONE_NAMES = ("timezone", "time_zone", "tz", "timezone_id")
_SHOWN = 100  # characters of a log line quoted in a comment


@dataclass(frozen=True)
class Draft:
    """What the scenario file says, for the summary printed after writing it."""

    text: str
    data: list[tuple[str, str]]  # (customer file, destination or service)
    zone: tuple[str, str] | None  # (zone, where it came from) when the log writes none


def scalar(value: Any) -> str:
    """One YAML scalar on one line, quoted as YAML needs (a regex, a version, `true` stay
    text). Text with a line break or a control character (a file name in a tar may hold
    one) is written JSON-escaped: a YAML double-quoted scalar, on one printable line."""
    if isinstance(value, str) and not value.isprintable():
        return json.dumps(value)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _replaced(text: str, by: str) -> str:
    """Every character `str.isprintable` refuses, replaced. Wider than the reports' rule
    (repro.report.controls, C0 and DEL shown as `\\x1b`) on purpose: YAML also breaks a
    line at NEL and the Unicode line and paragraph separators, and a draft is read as YAML."""
    return "".join(c if c.isprintable() else by for c in text)


def printable(line: str) -> str:
    """A line of the draft or of the summary, whatever the bundle's names hold: one line,
    no control characters (no YAML written by a file name, no terminal escapes)."""
    return _replaced(line, "?")


def shown_line(text: str) -> str:
    """A log line as a comment may quote it: printable, one line, not too long."""
    clean = _replaced(text, " ").strip()
    return clean if len(clean) <= _SHOWN else clean[:_SHOWN - 3] + "..."


def placeholder(ticket: str, pattern: str | None) -> str:
    """The placeholder step's command: its output never matches the oracle."""
    for words in ("is a draft: write its steps in", "has no steps yet: edit"):
        message = f"{ticket} {words} scenarios/{ticket}/scenario.yaml"
        if pattern is None or not re.search(pattern, message):
            break
    return f'echo "{message}" >&2; exit 1'


def draft(ticket: str, env_name: str, env: Environment, found: Sorted | None,
          error: ErrorLine | None, source: str | None, customer: Path | None) -> Draft:
    """The text of scenarios/TICKET/scenario.yaml (`found` is None without a bundle)."""
    out: list[str] = []
    add = out.append
    where = f"from {source}" if source else "without a bundle"
    add(f"# {ticket}: a draft scenario made by `repro new` {where}.")
    if found is not None:
        add("# The customer's files are in customer/, as they were in the bundle (only read).")
    add("# Each `# proposed from` comment says where a value was read: confirm or correct it.")
    add("# Left to do: the steps (the placeholder below fails and says so), then `repro run`.")
    add("")
    add(f"id: {scalar(ticket)}")
    if error is not None:
        add(f"title: {scalar(error.message[:120])}"
            f"  # proposed from {_at(error)}")
    else:
        add('title: ""                       # TODO: one line: what the customer sees')
    add(f"ticket: {scalar(ticket)}")
    add(f"environment: {scalar(env_name)}  # environments/{env_name}.yaml")
    add("expect: reproduces")
    add("")
    exports = found.exports if found is not None else []
    _parameters(add, env, exports)
    data = _data(add, env, found) if found is not None else []
    zone = None
    if error is not None and error.stamp is not None and customer is not None:
        zone = _clock(add, env, found, error, customer)
    _steps(add, ticket, error.pattern if error is not None else None)
    _oracle(add, error)
    if found is not None and (found.other or found.logs):
        add("")
        add("# Also in the bundle, not named above (still in customer/):")
        used = {error.log} if error is not None else set()
        for rel in found.logs:
            if rel not in used:
                add(f"#   customer/{rel}: a log")
        for rel, why in found.other:
            add(f"#   customer/{rel}: {why}")
    return Draft("\n".join(printable(line) for line in out) + "\n", data, zone)


def _at(error: ErrorLine) -> str:
    return f"customer/{error.log} line {error.number}"


def _parameters(add: Any, env: Environment, exports: list[Any]) -> None:
    set_by: dict[str, str] = {}
    values: dict[str, str] = {}
    if exports:
        add("# The customer's settings exports (later files win over earlier ones).")
        add("parameters_from:")
        for export in exports:
            for name in export.sets:
                set_by[name] = f"customer/{export.path}"
            values.update(export.values)
            sets = ", ".join(export.sets)
            if export.unknown or export.section:
                add(f"  - path: {scalar('customer/' + export.path)}")
                if export.section:
                    add(f"    section: {scalar(export.section)}  # proposed: the section "
                        "setting the most parameters (the file sets some keys differently "
                        "in several)")
                if export.unknown:
                    add("    ignore_unknown: true   # keys that are no parameter of the "
                        f"environment: {', '.join(export.unknown)}")
                add(f"    # sets {sets}")
            else:
                add(f"  - {scalar('customer/' + export.path)}  # sets {sets}")
        add("")
    if not env.parameters:
        return
    add("# Inline parameters win over the exports. The environment's parameters and their")
    add("# defaults: to set one, replace {} by a mapping of the lines you uncomment.")
    add("parameters: {}")
    for name, spec in env.parameters.items():
        value = "(secret)" if spec.secret else scalar(values[name]) if name in values else (
            "(required)" if spec.default is None else scalar(spec.default))
        note = f"  # set by {set_by[name]}" if name in set_by else (
            f"  # {shown_line(spec.description)}" if spec.description else "")
        add(f"#  {name}: {value}{note}")
    add("")


def _data(add: Any, env: Environment, found: Sorted) -> list[tuple[str, str]]:
    placed: list[tuple[str, str]] = []
    loads = [d for d in found.dumps if d.postgres and len(env.services) == 1]
    copies = [*found.data, *(d.path for d in found.dumps if d not in loads)]
    if copies:
        add("# The customer's data, copied into the sandbox. Proposed: `to` is under "
            f"{DATA_ROOT}/;")
        add("# change it to the path the product reads (and use that path in the steps).")
        add("data:")
        for rel in copies:
            dump = next((d for d in found.dumps if d.path == rel), None)
            if dump is not None:
                add(f"  # {_why_copied(dump, env)}")
            add(f"  - from: {scalar('customer/' + rel)}")
            add(f"    to: {scalar(f'{DATA_ROOT}/{rel}')}")
            placed.append((f"customer/{rel}", f"{DATA_ROOT}/{rel}"))
        add("")
    if loads:
        service = next(iter(env.services))
        add(f"# Database dumps, loaded into the service `{service}` before the steps.")
        add("load:")
        for dump in loads:
            database = dump.database or dump.owner
            add(f"  - service: {scalar(service)}")
            add(f"    sql: {scalar('customer/' + dump.path)}")
            if database:
                origin = "CREATE DATABASE / \\connect" if dump.database else "OWNER TO"
                add(f"    database: {scalar(database)}  # proposed from the dump's {origin}; "
                    "confirm")
            if dump.owner:
                add(f"    user: {scalar(dump.owner)}  # proposed from the dump's OWNER TO")
            placed.append((f"customer/{dump.path}", f"service {service}"))
        add("")
    return placed


def _why_copied(dump: Dump, env: Environment) -> str:
    if not dump.postgres:
        return "not a PostgreSQL dump (`load:` reads those): copied as data"
    services = ", ".join(env.services)
    if not services:
        return "a database dump, but the environment has no database service: copied as data"
    return (f"a database dump; the environment has several services ({services}): to load "
            "it, move it to `load:` with the right `service:`")


def _clock(add: Any, env: Environment, found: Sorted | None, error: ErrorLine,
           customer: Path) -> tuple[str, str] | None:
    stamp = error.stamp
    assert stamp is not None
    match = error.pattern if error.unique else escape(stamp.text)
    add(f"# When it happened: proposed from {_at(error)}:")
    add(f"#   {shown_line(error.text)}")
    add("clock:")
    add(f"  from_log: {scalar('customer/' + error.log)}")
    add(f"  match: {scalar(match)}")
    add(f"  before: {CLOCK_BEFORE}")
    zone = None
    if stamp.offset is None and stamp.epoch is None:
        zone = _zone(env, found, customer)
        add(f"  zone: {scalar(zone[0])}  # the log writes no zone; proposed from {zone[1]}")
    if stamp.year is None:
        year = _log_year(customer / error.log)
        add(f"  year: {year}  # the log writes no year; proposed from the log's file date")
    add("")
    return zone


def _zone(env: Environment, found: Sorted | None, customer: Path) -> tuple[str, str]:
    """The zone of a log without one: the customer's own time zone setting, when the
    bundle has it."""
    names = _TEMPLATE_NAME.findall(env.timezone or "")
    if env.timezone and not names:
        return env.timezone, "the environment's `timezone`"
    for export in (found.exports if found is not None else []):
        for name in [*names, *_ZONE_NAMES]:
            if name in export.values:
                return export.values[name], f"customer/{export.path} ({name})"
    return "UTC", "nothing: the bundle does not say; UTC assumed"


def _log_year(path: Path) -> int:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).year


def _steps(add: Any, ticket: str, pattern: str | None) -> None:
    add("steps:")
    add("  # TODO: the customer's commands, in order. Replace this placeholder's `run:` (keep")
    add(f"  # the name `{STEP}`, or change the oracle's `step:`); add steps as needed.")
    add(f"  - name: {STEP}")
    add(f"    run: {scalar(placeholder(ticket, pattern))}")
    add("")


def _oracle(add: Any, error: ErrorLine | None) -> None:
    add("# The customer's error: the run reproduces the ticket when it shows.")
    add("oracle:")
    add("  any:")
    if error is None:
        add("    # TODO: no error line found in the bundle's logs: write the error the "
            "customer saw")
        add(f"    - step: {STEP}")
        add(f"      stderr: {scalar(ORACLE_TODO)}")
        return
    add(f"    # proposed from {_at(error)}:")
    add(f"    #   {shown_line(error.text)}")
    streams = ["stderr"] if error.traceback else ["stderr", "stdout"]
    for stream in streams:
        add(f"    - step: {STEP}")
        add(f"      {stream}: {scalar(error.pattern)}")

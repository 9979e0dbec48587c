"""The records of a scenario's inputs and steps: parameter exports, data, the steps
(commands, waits, parallel groups, faults) and the files captured after them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from repro.config import units
from repro.config.checks import (
    DURATION_SCHEMA,
    Issues,
    absolute,
)
from repro.config.data_limits import DataLimits
from repro.config.faults import Fault
from repro.config.schema import Invalid, spec
from repro.config.timeline import Repeat, WaitFor, offset


@dataclass(frozen=True)
class ParameterFile:
    """The customer's own parameter export: YAML, JSON, INI, .env, postgresql.conf-style
    .conf, Java .properties or my.cnf."""

    path: str = spec(doc="File, relative to the scenario directory")
    format: Literal["auto", "yaml", "json", "ini", "env", "conf", "properties", "cnf"] = spec(
        "auto", doc="File format (conf: postgresql.conf style; cnf: my.cnf)")
    section: str | None = spec(None, doc="INI: read only this section")
    ignore_unknown: bool = spec(False, doc="Skip keys the environment does not declare "
                                "(listed in the plan and record) instead of failing")

    shorthand_schema = {"type": "string", "description": "File path"}

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):
            return {"path": raw}
        raise Invalid("expected a file path or a mapping with 'path'")


@dataclass(frozen=True)
class DataLoad:
    """Customer data copied into the sandbox (the originals are only read)."""

    source: str = spec(alias="from", doc="File, directory or tar/zip archive, relative "
                       "to the scenario directory")
    to: str = spec(doc="Absolute destination path in the sandbox")
    extract: bool | None = spec(None, doc="Unpack an archive into `to` (default: yes for "
                                ".tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip)")
    service: str | None = spec(None, doc="Copy into this service's filesystem instead")
    limits: DataLimits | None = spec(None, doc="Raise the bounds on an archive or folder: "
                                     "size, entries, ratio (docs/data-limits.md)")

    def check(self) -> Issues:
        return absolute(self.to, "to")


@dataclass(frozen=True)
class Step:
    """One entry of the steps' timeline: a command replayed inside the sandbox (`run`), a
    wait (`wait_for`) or a group of entries run at once (`parallel`)."""

    run: str | tuple[str, ...] | None = spec(None, doc="Shell command (string) or argv "
                                             "(list); or give `fault`, `wait_for` or "
                                             "`parallel`")
    name: str | None = spec(None, doc="Name used in reports and the oracle")
    timeout: float | None = spec(None, parse=units.duration, doc="e.g. 30s; default: "
                                 "the scenario's step_timeout", schema=DURATION_SCHEMA)
    env: dict[str, str] = spec(factory=dict, doc="Extra environment variables")
    workdir: str | None = spec(None, doc="Working directory")
    user: str | None = spec(None, doc="Run as this user")
    stdin: str | None = spec(None, doc="Text fed to the command's standard input")
    stdin_file: str | None = spec(None, doc="File fed to standard input, relative to the "
                                  "scenario directory")
    stop_on_failure: bool = spec(True, doc="Skip the remaining steps if this one fails")
    fault: Fault | None = spec(None, doc="Instead of a command: stop, kill, pause, "
                               "disconnect or slow down a service (docs/faults.md)")
    # -- the timeline (docs/timeline.md) --
    at: float | None = spec(None, parse=offset, doc="Start at this offset from the start "
                            "of the steps (e.g. 5s), not after the previous entry",
                            schema={"type": ["number", "string"], "examples": [0, "5s"]})
    background: bool = spec(False, doc="Leave it running (a server, a worker): its output "
                            "is kept until the steps end, then repro stops it")
    repeat: Repeat | None = spec(None, doc="Run it as simultaneous users: {count: 50, "
                                 "concurrency: 10}; `{{ instance }}` is 1, 2, ...")
    wait_for: WaitFor | None = spec(None, doc="Wait until a log line, a port or a command "
                                    "says ready (an entry of its own)")
    parallel: tuple[Step, ...] | None = spec(None, doc="Entries started at once; the next "
                                             "entry waits for all of them")

    @property
    def kind(self) -> str:
        """What the entry does: run, wait_for or parallel (the key it is written with)."""
        return next((k for k in ENTRY_KINDS if getattr(self, k) is not None), "run")

    def check(self) -> Issues:
        given = [k for k in ENTRY_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            keys = ", ".join(f"'{k}'" for k in ENTRY_KINDS)
            return [((given[1],) if given else (), f"a step takes one of {keys}" if given
                     else f"a step needs one of {keys}")]
        if self.kind != "run":
            return _not_a_command(self)
        issues: Issues = []
        if self.background and self.repeat is not None:
            issues.append((("background",), "a repeated step cannot run in the background; "
                           "start several background steps instead"))
        if self.stdin is not None and self.stdin_file is not None:
            issues.append((("stdin_file",), "give 'stdin' or 'stdin_file', not both"))
        if isinstance(self.run, tuple) and not self.run:
            issues.append((("run",), "the command is empty"))
        if isinstance(self.run, str) and not self.run.strip():
            issues.append((("run",), "the command is empty"))
        return issues


ENTRY_KINDS = ("run", "wait_for", "parallel", "fault")  # the key that makes an entry
_COMMAND_ONLY = ("timeout", "env", "workdir", "user", "stdin", "stdin_file", "repeat",
                 "background")


def _not_a_command(step: Step) -> Issues:
    """Keys of a command on a wait or a group: say so rather than ignore them."""
    for key in _COMMAND_ONLY:
        value = getattr(step, key)
        if value not in (None, False, {}):
            return [((key,), f"'{key}' applies to a `run` step, not to `{step.kind}`")]
    if step.parallel == ():
        return [(("parallel",), "a parallel group needs at least one entry")]
    return []


@dataclass(frozen=True)
class Capture:
    """A file or directory read back from the sandbox after the steps."""

    path: str = spec(doc="Absolute path in the sandbox")
    name: str | None = spec(None, doc="Name in the record (default: the file name)")
    type: Literal["auto", "text", "json", "yaml", "csv", "tsv", "binary"] = spec(
        "auto", doc="How to compare it with the baseline (auto: by file extension)")
    key: tuple[str, ...] = spec(factory=tuple, doc="CSV/TSV: columns identifying a row")
    ordered: bool = spec(True, doc="CSV/TSV without key: row order matters")
    tolerance: float | None = spec(None, doc="JSON/YAML/CSV: numbers this close are equal")

    shorthand_schema = {"type": "string", "description": "Absolute path in the sandbox"}

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):
            return {"path": raw}
        raise Invalid("expected a path or a mapping with 'path'")

    def check(self) -> Issues:
        issues = absolute(self.path, "path")
        if self.key and self.type not in ("csv", "tsv", "auto"):
            issues.append((("key",), "key columns apply to csv and tsv captures"))
        if self.tolerance is not None and self.tolerance < 0:
            issues.append((("tolerance",), "must be zero or more"))
        return issues



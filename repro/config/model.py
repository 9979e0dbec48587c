"""The typed, frozen records an environment and a scenario file validate into."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from repro.config import units
from repro.config.conditions import Ulimit, condition_issues, ulimit_issues
from repro.config.data_limits import DataLimits
from repro.config.faults import Fault
from repro.config.oracle_values import ValueRef, where_issues
from repro.config.privacy import PrivacyRule
from repro.config.schema import Invalid, did_you_mean, spec
from repro.config.services import SERVICE_NAME, DbLoad, Query
from repro.config.services import Ready as Ready  # re-exported: part of the records' API
from repro.config.templating import needs_rendering
from repro.config.timeline import Repeat, WaitFor, instances_test, offset
from repro.config.yaml_source import Loc
from repro.sandbox import reference

Issues = list[tuple[Loc, str]]  # (location below the record, message) from check()

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCALAR_SCHEMA = {"type": ["string", "number", "boolean"]}
_DURATION_SCHEMA = {"type": ["number", "string"], "examples": [30, "30s", "2m", "500ms"]}


def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """A dependency cycle, if any, as the names around it."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                return [*path[path.index(dep):], dep] if dep in path else [node, dep]
            if dep in graph and not state.get(dep):
                found = visit(dep, [*path, dep])
                if found:
                    return found
        state[node] = 2
        return []

    for node in graph:
        if not state.get(node):
            found = visit(node, [node])
            if found:
                return found
    return []


def _one_of(record: Any, names: list[str], what: str) -> Issues:
    given = [n for n in names if getattr(record, n) is not None]
    if len(given) == 1:
        return []
    keys = " or ".join(f"'{n}'" for n in names)
    if not given:
        return [((), f"{what} needs {keys}")]
    return [((given[1],), f"{what} takes only one of {keys}")]


def _absolute(path: str, key: str) -> Issues:
    return [] if path.startswith("/") else [((key,), f"must be an absolute path, got {path!r}")]


# ---- the clock -----------------------------------------------------------------------


def _instant_text(raw: Any, text: str | None = None) -> str:
    """`at:` as the user wrote it: YAML would turn an unquoted timestamp into a datetime."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)) and text is None:
        raise Invalid("expected an instant like 2024-03-31T00:29:50Z")
    return text if text is not None else str(raw)


_instant_text.wants_text = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Clock:
    """The wall clock of every container of a run, from the first step on."""

    at: str | None = spec(None, parse=_instant_text, schema={"type": "string"},
                          doc="Instant the clock reads at the first step: ISO 8601 with Z or "
                          "an offset, e.g. 2024-03-31T00:29:50Z (a template)")
    from_log: str | None = spec(None, doc="Customer log (relative to this file, only read): "
                                "start from the timestamp of its first line matching `match`")
    match: str | None = spec(None, parse=units.regex, schema={"type": "string"},
                             doc="from_log: regex of that line (default: the first line "
                             "with a timestamp)")
    before: float | None = spec(None, parse=units.duration, schema=_DURATION_SCHEMA,
                                doc="from_log: start this long before that line, e.g. 30s")
    zone: str | None = spec(None, doc="Zone of timestamps written without one (in `at` or "
                            "the log): UTC, Europe/Berlin or +02:00")
    year: int | None = spec(None, doc="from_log: year of the log's first line when its "
                            "timestamps have none (syslog)")
    frozen: bool = spec(False, doc="Stand still at the instant")
    rate: float | None = spec(None, doc="Fake seconds per real second once started, e.g. 60 "
                              "(default 1)")

    def check(self) -> Issues:
        from repro.config.logtime import StampError, zone

        issues = _one_of(self, ["at", "from_log"], "the clock")
        if self.at is not None:
            issues += [((key,), f"'{key}' goes with 'from_log', not with 'at'")
                       for key in ("match", "before", "year") if getattr(self, key) is not None]
        if self.rate is not None and self.rate <= 0:
            issues.append((("rate",), f"must be greater than zero (60: a minute per second), "
                           f"got {self.rate:g}"))
        elif self.frozen and self.rate is not None:
            issues.append((("rate",), "a frozen clock has no rate: drop `rate` or `frozen`"))
        if self.zone is not None:
            try:
                zone(self.zone)
            except StampError as exc:
                issues.append((("zone",), str(exc)))
        if self.year is not None and not 1970 <= self.year <= 9999:
            issues.append((("year",), f"expected a year like 2024, got {self.year}"))
        return issues


# ---- environment ---------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """Build the image from a Dockerfile context (cached by a hash of context and args)."""

    context: str = spec(doc="Build context directory, relative to the environment file")
    dockerfile: str = spec("Dockerfile", doc="Dockerfile path inside the context")
    args: dict[str, str] = spec(factory=dict, doc="Build args; values are Jinja templates")


@dataclass(frozen=True)
class Image:
    """Where the sandbox image comes from: an existing reference or a build."""

    ref: str | None = spec(None, doc="Image reference; `repro-base/...` names are built offline")
    build: Build | None = spec(None, doc="Build from a Dockerfile context")

    shorthand_schema = {"type": "string", "description": "An image reference"}

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):
            return {"ref": raw}
        raise Invalid("expected an image reference or a mapping with 'ref' or 'build'")

    def check(self) -> Issues:
        issues = _one_of(self, ["ref", "build"], "image")
        if self.ref is not None and not issues and not needs_rendering(self.ref) and \
                not reference.is_valid(self.ref):
            issues.append((("ref",), f"{self.ref!r} is not an image reference: "
                           f"{reference.RULES}"))
        return issues


@dataclass(frozen=True)
class Parameter:
    """A customer parameter the environment accepts; without a default it is required."""

    default: Any = spec(None, doc="Default value", schema=_SCALAR_SCHEMA)
    description: str = spec("", doc="What the parameter means")
    choices: tuple[str, ...] | None = spec(None, doc="Allowed values")
    secret: bool = spec(False, doc="Mask the value in plans, records and reports")
    file: str | None = spec(None, doc="Also write the value to this absolute path in the "
                            "steps' container (mode 0400, owned by the steps' user): unlike an "
                            "`env:` variable, not shown by `docker inspect`")
    aliases: tuple[str, ...] = spec((), doc="Other names an export may use for it "
                                    "(e.g. DateStyle, date_style); names also match "
                                    "ignoring case when only one parameter fits")

    shorthand_schema = {**_SCALAR_SCHEMA, "description": "The default value"}

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        if isinstance(raw, (str, int, float, bool)):
            return {"default": raw}
        raise Invalid("expected a default value or a mapping with 'default'")

    def check(self) -> Issues:
        if self.default is not None and not isinstance(self.default, (str, int, float, bool)):
            return [(("default",), "must be a string, number or boolean")]
        if self.choices and self.default is not None and str(self.default) not in self.choices:
            return [(("default",), f"{self.default!r} is not among the choices "
                     f"({', '.join(self.choices)})")]
        if self.file is not None:
            return _absolute(self.file, "file")
        return []


@dataclass(frozen=True)
class ConfigFile:
    """A file written into the sandbox, rendered with Jinja2 from the parameters."""

    path: str = spec(doc="Absolute path in the sandbox")
    template: str | None = spec(None, doc="Template file, relative to the environment file")
    content: str | None = spec(None, doc="Inline template text")
    mode: int = spec(0o644, parse=units.file_mode, doc="File mode, e.g. \"0644\"",
                     schema={"type": ["string", "integer"]})

    def check(self) -> Issues:
        return _one_of(self, ["template", "content"], "a file") + _absolute(self.path, "path")


# What a sandbox process may do, by default: the capabilities most products never need
# go (raw packets, device files, file capabilities, audit), and no process can gain
# privileges (setuid binaries, file capabilities). An environment gives back what its
# product needs (docs/conditions.md, "Safe defaults").
DROPPED_CAPABILITIES = ("NET_RAW", "MKNOD", "AUDIT_WRITE", "SETFCAP", "SETPCAP")
# Linux's capabilities (capabilities(7)); an unknown name would pass here and fail at
# the engine, without a position.
KNOWN_CAPABILITIES = frozenset((
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE",
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER",
    "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
    "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP",
    "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE",
    "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG",
    "WAKE_ALARM", "ALL",
))


@dataclass(frozen=True)
class Security:
    """Privileges of every container of a run; safe unless the environment relaxes them."""

    no_new_privileges: bool = spec(True, doc="Processes cannot gain privileges (setuid, "
                                   "file capabilities); false for a product that needs su")
    capabilities: tuple[str, ...] = spec(factory=tuple, doc="Linux capabilities to give "
                                         "back, e.g. [NET_RAW] (dropped by default: "
                                         + ", ".join(DROPPED_CAPABILITIES) + ")")

    def check(self) -> Issues:
        return [(("capabilities", i), f"{cap!r} is not a capability name (e.g. NET_RAW, "
                 "without CAP_)" + did_you_mean(cap.removeprefix("CAP_"), KNOWN_CAPABILITIES))
                for i, cap in enumerate(self.capabilities) if cap not in KNOWN_CAPABILITIES]


@dataclass(frozen=True)
class Network:
    """Network policy: sandboxes get no network egress unless asked."""

    egress: bool = spec(False, doc="Allow connections leaving the sandbox")


@dataclass(frozen=True)
class Limits:
    """Resource limits that mimic the customer's hardware."""

    cpus: float | None = spec(None, doc="CPU cores, e.g. 1.5")
    memory: int | None = spec(None, parse=units.memory, doc="Memory, e.g. 512m or 2g",
                              schema={"type": ["string", "integer"]})
    pids: int | None = spec(None, doc="Maximum number of processes")
    shm_size: int | None = spec(None, parse=units.size, doc="Size of /dev/shm, e.g. 64m",
                                schema={"type": ["string", "integer"]})
    ulimits: dict[str, Ulimit] = spec(factory=dict, doc="Process limits by ulimit name, e.g. "
                                      "nofile: 1024 or nproc: {soft: 100, hard: 200}")

    def check(self) -> Issues:
        issues: Issues = []
        if self.cpus is not None and self.cpus <= 0:
            issues.append((("cpus",), "must be greater than zero"))
        if self.pids is not None and self.pids < 8:
            issues.append((("pids",), "must be at least 8 (the shell and step need a few)"))
        issues += ulimit_issues(self.ulimits)
        return issues


@dataclass(frozen=True)
class Service:
    """A sidecar container (database, cache, mock API) on the run's private network."""

    image: Image = spec(doc="Image reference or {build: ...}, as for the environment")
    env: dict[str, str] = spec(factory=dict, doc="Environment variables (Jinja templates)")
    files: tuple[ConfigFile, ...] = spec(factory=tuple, doc="Config files rendered from parameters")
    command: str | tuple[str, ...] | None = spec(None, doc="Replace the image's command")
    ready: Ready | None = spec(None, doc="Readiness check (default: started is ready)")
    depends_on: tuple[str, ...] = spec(factory=tuple, doc="Services that must be ready first")
    limits: Limits = spec(factory=Limits, doc="Resource limits")


@dataclass(frozen=True)
class Environment:
    """A declaratively described installation of the vendor's product."""

    image: Image = spec(doc="The sandbox image")
    description: str = spec("", doc="What this environment stands for")
    parameters: dict[str, Parameter] = spec(factory=dict, doc="Parameters, with defaults")
    env: dict[str, str] = spec(factory=dict, doc="Environment variables (Jinja templates)")
    files: tuple[ConfigFile, ...] = spec(factory=tuple, doc="Config files rendered from parameters")
    workdir: str | None = spec(None, doc="Working directory of the steps")
    user: str | None = spec(None, doc="User the steps run as (name or uid[:gid])")
    network: Network = spec(factory=Network, doc="Network policy")
    limits: Limits = spec(factory=Limits, doc="Resource limits (default: 2g of memory, 1024 "
                          "processes)")
    normalize: tuple[Rule, ...] = spec(factory=tuple, doc="Normalisation rules shared by scenarios")
    services: dict[str, Service] = spec(factory=dict, doc="Sidecar containers (database, "
                                        "cache, ...) reachable by name")
    # Conditions of the customer's machine (docs/conditions.md); a scenario's win.
    timezone: str | None = spec(None, doc="Time zone of every container, an IANA name such "
                                "as Europe/Berlin (a Jinja template); sets TZ")
    locale: str | None = spec(None, doc="Locale of every container, e.g. de_DE.UTF-8 (a "
                              "Jinja template); sets LANG and LC_ALL, generated if missing")
    hostname: str | None = spec(None, doc="Host name of the steps' container (a Jinja "
                                "template; default: sandbox)")
    tmpfs: dict[str, str] = spec(factory=dict, doc="Small disks: absolute path -> size, "
                                 "e.g. /var/lib/app: 20m (starts empty)")
    clock: Clock | None = spec(None, doc="Default clock of its scenarios (a scenario's "
                               "`clock` replaces it)")
    security: Security = spec(factory=Security, doc="Privileges of the run's containers "
                              "(safe by default)")
    privacy: tuple[PrivacyRule, ...] = spec(factory=tuple, doc="Personal data in its "
                                            "scenarios' customer files, pseudonymised by "
                                            "`repro redact` (before a scenario's own rules; "
                                            "docs/privacy.md)")

    def check(self) -> Issues:
        issues: Issues = [(("parameters", name), "parameter names must be identifiers "
                           "(letters, digits, _)") for name in self.parameters
                          if not _NAME.match(name)]
        issues += condition_issues(self)
        if self.workdir is not None:
            issues += _absolute(self.workdir, "workdir")
        for name, service in self.services.items():
            if not SERVICE_NAME.match(name) or name == "sandbox":
                issues.append((("services", name), "service names are lower-case letters, "
                               "digits, - and _ (and not 'sandbox', the steps' container)"))
            for dep in service.depends_on:
                if dep not in self.services:
                    issues.append((("services", name, "depends_on"), f"no service {dep!r}"
                                   + (did_you_mean(dep, self.services) or
                                      f" (services: {', '.join(self.services)})")))
        cycle = _cycle({n: list(s.depends_on) for n, s in self.services.items()})
        if cycle:
            issues.append((("services",), "services depend on each other in a circle: "
                           + " -> ".join(cycle)))
        return issues


# ---- scenario ------------------------------------------------------------------------


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
        return _absolute(self.to, "to")


@dataclass(frozen=True)
class Step:
    """One entry of the steps' timeline: a command replayed inside the sandbox (`run`), a
    wait (`wait_for`) or a group of entries run at once (`parallel`)."""

    run: str | tuple[str, ...] | None = spec(None, doc="Shell command (string) or argv "
                                             "(list); or give `fault`, `wait_for` or "
                                             "`parallel`")
    name: str | None = spec(None, doc="Name used in reports and the oracle")
    timeout: float | None = spec(None, parse=units.duration, doc="e.g. 30s; default: "
                                 "the scenario's step_timeout", schema=_DURATION_SCHEMA)
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
        issues = _absolute(self.path, "path")
        if self.key and self.type not in ("csv", "tsv", "auto"):
            issues.append((("key",), "key columns apply to csv and tsv captures"))
        if self.tolerance is not None and self.tolerance < 0:
            issues.append((("tolerance",), "must be zero or more"))
        return issues


MASKS = ("iso8601", "log-timestamp", "uuid", "hex-id", "duration", "tmp-path", "pid",
         "container-id", "hostname")
_ACTIONS = ["mask", "replace", "ignore_fields", "ignore_columns", "sort_lines"]


@dataclass(frozen=True)
class Rule:
    """One normalisation rule, applied to every channel it names before diffing and recording."""

    mask: Literal[MASKS] | None = spec(  # type: ignore[valid-type]
        None, doc="Built-in mask: " + ", ".join(MASKS))
    replace: str | None = spec(None, parse=units.regex, doc="Regex to replace",
                               schema={"type": "string"})
    with_: str = spec("<masked>", alias="with", doc="Replacement for `replace` (\\1 works)")
    ignore_fields: tuple[str, ...] | None = spec(None, doc="JSON/YAML paths to ignore, e.g. "
                                           "meta.generated_at or items.*.id")
    ignore_columns: tuple[str, ...] | None = spec(None, doc="CSV/TSV columns to ignore")
    sort_lines: bool | None = spec(None, doc="Sort the lines of text channels")
    channels: tuple[str, ...] = spec(factory=lambda: ("*",), doc="Channels it applies to (globs: "
                               "steps.NAME.stdout, steps.*.stderr, files.NAME)")

    def check(self) -> Issues:
        issues = _one_of(self, _ACTIONS, "a rule")
        if self.replace is not None and not issues:
            try:  # a bad template (`\\2` with one group, `C:\\path`) fails only at a match
                re.compile(self.replace).sub(self.with_, "")
                _check_template(self.replace, self.with_)
            except (re.error, IndexError) as exc:
                issues.append((("with",), f"invalid replacement {self.with_!r}: {exc}"))
        return issues


def _check_template(pattern: str, template: str) -> None:
    """Raise re.error for a replacement template the pattern cannot fill."""
    compiled = re.compile(pattern)
    dummy = re.compile("".join(f"(?P<{n}>)" if n else "()" for n in _group_names(compiled)))
    match = dummy.match("")
    assert match is not None  # a pattern of empty groups matches the empty string
    match.expand(template)


def _group_names(compiled: re.Pattern[str]) -> list[str | None]:
    names: list[str | None] = [None] * compiled.groups
    for name, index in compiled.groupindex.items():
        names[index - 1] = name
    return names


_STEP_TESTS = ["exit_code", "failed", "timed_out", "stdout", "stderr", "oom_killed"]
_FILE_TESTS = ["exists", "contains"]


@dataclass(frozen=True)
class Condition:
    """One observation that means the customer's error showed."""

    step: str | None = spec(None, doc="Name of the step observed")
    file: str | None = spec(None, doc="Captured file or query observed (its name, or a path)")
    exit_code: int | None = spec(None, doc="The step exited with this code")
    failed: bool | None = spec(None, doc="The step exited non-zero or timed out")
    timed_out: bool | None = spec(None, doc="The step hit its timeout")
    stdout: str | None = spec(None, parse=units.regex, doc="Regex found in stdout",
                              schema={"type": "string"})
    stderr: str | None = spec(None, parse=units.regex, doc="Regex found in stderr",
                              schema={"type": "string"})
    exists: bool | None = spec(None, doc="The file exists (true) or not (false)")
    contains: str | None = spec(None, parse=units.regex, doc="Regex found in the file",
                                schema={"type": "string"})
    oom_killed: bool | None = spec(None, doc="The kernel killed the step for lack of memory")
    instances: str | None = spec(None, parse=instances_test, doc="A repeated step: how many "
                                 "instances must show it: `all`, N (at least N) or \">= 2\"; "
                                 "default: any one", schema={"type": ["string", "integer"]})
    # What support engineers say (docs/patches.md): "not ...", nested groups, and "the
    # report's total differs from the total in the customer's export".
    not_: Condition | None = spec(None, alias="not", doc="Holds when this condition does not")
    any: tuple[Condition, ...] | None = spec(None, doc="A group: holds when one of these "
                                             "conditions holds")
    all: tuple[Condition, ...] | None = spec(None, doc="A group: holds when every one of "
                                             "these conditions holds")
    differs_from: ValueRef | None = spec(None, doc="The file's value (at `column` and `row`, "
                                         "or `field`) differs from this one, e.g. {data: "
                                         "customer/export.csv, column: amount, row: 3}")
    column: str | None = spec(None, doc="differs_from: the CSV/TSV column of the file's value")
    row: int | dict[str, str] | None = spec(
        None, doc="differs_from: the file's data row (1 = first after the header), or the "
        "row whose columns hold these values, e.g. {customer: ACME}",
        schema={"type": ["integer", "object"]})
    field: str | None = spec(None, doc="differs_from: the JSON/YAML field of the file's "
                             "value, e.g. totals.0.amount")
    compare: Literal["text", "number"] = spec("text", doc="differs_from: compare as text "
                                              "(spaces around ignored) or as numbers")
    decimal: Literal[".", ","] = spec(".", doc="compare: number: the decimal separator of "
                                      "both values (the other one groups thousands)")

    @property
    def kind(self) -> str:
        """step, file, not, any or all: what the condition looks at."""
        return next((k.rstrip("_") for k in _KINDS if getattr(self, k) is not None), "")

    def check(self) -> Issues:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            names = [f"'{k.rstrip('_')}'" for k in _KINDS]
            keys = ", ".join(names[:-1]) + " or " + names[-1]
            return [((given[1].rstrip("_"),) if given else (),
                     f"a condition takes only one of {keys}" if given else
                     f"a condition needs {keys}")]
        if self.kind in ("not", "any", "all"):
            inner = [n for n in [*_STEP_TESTS, *_FILE_TESTS, *_VALUE_KEYS, "instances"]
                     if getattr(self, n) is not None]
            if inner:
                return [((inner[0],), f"'{inner[0]}' goes inside the conditions of "
                         f"'{self.kind}'")]
            if self.kind != "not" and not getattr(self, self.kind):
                return [((self.kind,), "a group needs at least one condition")]
            return []
        tests, other = (_STEP_TESTS, [*_FILE_TESTS, *_VALUE_KEYS]) if self.step else (
            [*_FILE_TESTS, "differs_from"], _STEP_TESTS)
        wrong = [n for n in other if getattr(self, n) is not None]
        if wrong:
            kind = "step" if self.step else "file"
            return [((wrong[0],), f"'{wrong[0]}' does not apply to a {kind}; use one of "
                     + ", ".join(tests))]
        stray = [n for n in ("column", "row", "field") if getattr(self, n) is not None]
        if self.file is not None and self.differs_from is None and stray:
            return [((stray[0],), f"'{stray[0]}' goes with 'differs_from'")]
        issues = _one_of(self, tests, f"a {'step' if self.step else 'file'} condition")
        if self.differs_from is not None:
            issues += where_issues(self.column, self.row, self.field, "the file's value")
        return issues


_KINDS = ("step", "file", "not_", "any", "all")
_VALUE_KEYS = ["differs_from", "column", "row", "field"]


def leaf_conditions(conditions: tuple[Condition, ...], at: Loc
                    ) -> list[tuple[Loc, Condition]]:
    """The conditions on a step or a file, those inside `not`, `any` and `all` too, each
    with its location (for errors)."""
    out: list[tuple[Loc, Condition]] = []

    def walk(cond: Condition, loc: Loc) -> None:
        if cond.not_ is not None:
            walk(cond.not_, (*loc, "not"))
        elif cond.any is not None or cond.all is not None:
            key = "any" if cond.any is not None else "all"
            for j, inner in enumerate(getattr(cond, key)):
                walk(inner, (*loc, key, j))
        else:
            out.append((loc, cond))

    for i, cond in enumerate(conditions):
        walk(cond, (*at, i))
    return out


@dataclass(frozen=True)
class Oracle:
    """When the customer's error showed: any (or all) of the conditions hold."""

    any: tuple[Condition, ...] | None = spec(None, doc="Fires when at least one condition holds")
    all: tuple[Condition, ...] | None = spec(None, doc="Fires when every condition holds")

    def check(self) -> Issues:
        issues = _one_of(self, ["any", "all"], "the oracle")
        conditions = self.any if self.any is not None else self.all
        if not issues and not conditions:
            issues.append(((), "the oracle needs at least one condition"))
        return issues

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(self.any if self.any is not None else self.all or ())


@dataclass(frozen=True)
class Scenario:
    """A customer's case: parameters, data, the steps that triggered it, the oracle."""

    environment: str = spec(doc="Environment name (environments/<name>.yaml) or path")
    steps: tuple[Step, ...] = spec(doc="Commands replayed in order")
    oracle: Oracle = spec(doc="Conditions that mean the customer's error showed")
    id: str | None = spec(None, doc="Scenario id (default: the directory name)")
    title: str = spec("", doc="One-line summary")
    ticket: str = spec("", doc="Support ticket reference")
    expect: Literal["reproduces", "fixed"] = spec(
        "reproduces", doc="`reproduces`: the oracle must fire; `fixed`: it must not")
    parameters_from: tuple[ParameterFile, ...] = spec(factory=tuple,
                                                      doc="Customer parameter exports")
    parameters: dict[str, Any] = spec(factory=dict, doc="Parameters (override the files)")
    data: tuple[DataLoad, ...] = spec(factory=tuple, doc="Customer data to load")
    capture: tuple[Capture, ...] = spec(factory=tuple, doc="Files read back after the steps")
    load: tuple[DbLoad, ...] = spec(factory=tuple, doc="Customer exports loaded into database "
                              "services (SQL dumps, CSV into tables)")
    queries: tuple[Query, ...] = spec(factory=tuple, doc="Database state read after the steps")
    normalize: tuple[Rule, ...] = spec(factory=tuple, doc="Normalisation rules of this scenario "
                                 "(after the environment's)")
    step_timeout: float = spec(300.0, parse=units.duration, doc="Default step timeout",
                               schema=_DURATION_SCHEMA)
    # Conditions of the customer's machine (docs/conditions.md); a scenario's win.
    timezone: str | None = spec(None, doc="Time zone of every container, an IANA name such "
                                "as Europe/Berlin (a Jinja template); sets TZ")
    locale: str | None = spec(None, doc="Locale of every container, e.g. de_DE.UTF-8 (a "
                              "Jinja template); sets LANG and LC_ALL, generated if missing")
    hostname: str | None = spec(None, doc="Host name of the steps' container (a Jinja "
                                "template; default: sandbox)")
    tmpfs: dict[str, str] = spec(factory=dict, doc="Small disks: absolute path -> size, "
                                 "e.g. /var/lib/app: 20m (starts empty)")
    limits: Limits | None = spec(None, doc="Resource limits over the environment's (per key)")
    clock: Clock | None = spec(None, doc="The wall clock of every container, from the first "
                               "step on: {at: INSTANT} or {from_log: FILE, match: REGEX}")
    # Regression cases (docs/replay.md): `repro replay --tag NAME` and pytest markers.
    tags: tuple[str, ...] = spec(factory=tuple, doc="Labels to select the scenario by "
                                 "(`repro replay --tag NAME`; pytest markers: `pytest "
                                 "scenarios/ -m NAME`)")
    extends: str | None = spec(None, doc="Another scenario's folder (e.g. ../ACME-4521): "
                               "inherit all of it but its id, and state only what differs "
                               "(parameters merge key by key; other keys replace)")
    # Run records hold customer data: kept this long, then pruned after each run of the
    # scenario (docs/cases.md). Wins over the project's `retention:` (repro.yaml).
    retention: float | None = spec(None, parse=units.duration, schema=_DURATION_SCHEMA,
                                   doc="Keep this scenario's run records this long, e.g. "
                                   "30d; older ones are deleted after each of its runs")
    privacy: tuple[PrivacyRule, ...] = spec(factory=tuple, doc="Personal data in the "
                                            "customer's files (by CSV column, JSON/YAML field, "
                                            "SQL table.column or pattern), pseudonymised by "
                                            "`repro redact` (docs/privacy.md)")

    def check(self) -> Issues:
        issues: Issues = condition_issues(self)
        issues += [(("tags", i), f"{tag!r}: a tag is a word (letters, digits, _)")
                   for i, tag in enumerate(self.tags) if not _NAME.match(tag)]
        clash = set(capture_names(self)) & {q.name for q in self.queries}
        if clash:
            issues.append((("queries",), f"{', '.join(sorted(clash))}: a query and a capture "
                           "share the name; the oracle could not tell them apart"))
        if not self.steps:
            issues.append((("steps",), "a scenario needs at least one step"))
        names: dict[str, Step] = {}
        for at, step, name in command_steps(self):
            if name in names:
                issues.append(((*at, "name"), f"duplicate step name {name!r}: give each "
                               "step a name of its own (the oracle and baselines use them)"))
            names[name] = step
        issues += _wait_targets(self, names)
        seen: dict[str, int] = {}
        for i, name in enumerate(capture_names(self)):
            if name in seen:
                issues.append((("capture", i), f"two captures are named {name!r}: give this "
                               "one a `name:` of its own"))
            seen[name] = i
        captured = {c.path for c in self.capture} | set(capture_names(self)) | {
            q.name for q in self.queries}
        key = "any" if self.oracle.any is not None else "all"
        faulted = {name for _, _, name in fault_entries(self)}
        for at, cond in leaf_conditions(self.oracle.conditions, ("oracle", key)):
            if cond.step is not None and cond.step in faulted:
                issues.append(((*at, "step"), f"{cond.step!r} is a fault, not a "
                               "command: the oracle looks at the steps that run commands"))
            elif cond.step is not None and cond.step not in names:
                hint = ", ".join(names) or "none"
                issues.append(((*at, "step"),
                               f"no step named {cond.step!r} (steps: {hint})"))
            elif cond.instances is not None and (cond.step is None or
                                                 names[cond.step].repeat is None):
                issues.append(((*at, "instances"), "applies to a condition on "
                               "a repeated step (`repeat:`)"))
            if cond.file is not None and cond.file not in captured and \
                    not cond.file.startswith("/"):
                issues.append(((*at, "file"), f"{cond.file!r} is neither a "
                               "capture name nor an absolute path"))
        for key, value in self.parameters.items():
            if not isinstance(value, (str, int, float, bool)):
                issues.append((("parameters", key), "must be a string, number or boolean"))
        return issues


def step_names(scenario: Scenario) -> list[str]:
    """The names of the command steps (nested ones too), in file order."""
    return [name for _, _, name in command_steps(scenario)]


def command_steps(scenario: Scenario) -> list[tuple[Loc, Step, str]]:
    """Every `run` step, those inside `parallel` groups too, in file order: (location,
    step, name). Unnamed ones are step-N by position (step-N.M inside a group)."""
    out: list[tuple[Loc, Step, str]] = []

    def walk(entries: tuple[Step, ...], at: Loc, prefix: str) -> None:
        for i, step in enumerate(entries):
            where, default = (*at, i), f"{prefix}{i + 1}"
            if step.parallel is not None:
                walk(step.parallel, (*where, "parallel"), f"{default}.")
            elif step.kind == "run":
                out.append((where, step, step.name or f"step-{default}"))

    walk(scenario.steps, ("steps",), "")
    return out


def fault_entries(scenario: Scenario) -> list[tuple[Loc, Step, str]]:
    """Every `fault` entry, those inside groups too: (location, entry, name). Unnamed ones
    are step-N by position, as command steps are."""
    out: list[tuple[Loc, Step, str]] = []

    def walk(entries: tuple[Step, ...], at: Loc, prefix: str) -> None:
        for i, step in enumerate(entries):
            where, default = (*at, i), f"{prefix}{i + 1}"
            if step.parallel is not None:
                walk(step.parallel, (*where, "parallel"), f"{default}.")
            elif step.fault is not None:
                out.append((where, step, step.name or f"step-{default}"))

    walk(scenario.steps, ("steps",), "")
    return out


def wait_entries(scenario: Scenario) -> list[tuple[Loc, WaitFor]]:
    """Every `wait_for` entry, those inside groups too, with its location."""
    out: list[tuple[Loc, WaitFor]] = []

    def walk(entries: tuple[Step, ...], at: Loc) -> None:
        for i, step in enumerate(entries):
            if step.parallel is not None:
                walk(step.parallel, (*at, i, "parallel"))
            elif step.wait_for is not None:
                out.append(((*at, i, "wait_for"), step.wait_for))

    walk(scenario.steps, ("steps",))
    return out


def _wait_targets(scenario: Scenario, names: dict[str, Step]) -> Issues:
    """A log wait reads a step's output: that step must exist and be a single process."""
    issues: Issues = []
    for at, wait in wait_entries(scenario):
        if wait.step is None:
            continue
        step = names.get(wait.step)
        if step is None:
            issues.append(((*at, "step"), f"no step named {wait.step!r}"
                           + (did_you_mean(wait.step, names) or
                              f" (steps: {', '.join(names) or 'none'})")))
        elif step.repeat is not None:
            issues.append(((*at, "step"), f"step {wait.step!r} is repeated; wait for a "
                           "single step's output (a background server, say)"))
    return issues


def capture_names(scenario: Scenario) -> list[str]:
    return [c.name or c.path.rstrip("/").rsplit("/", 1)[-1] for c in scenario.capture]

"""The records an environment file validates into: the image, its parameters and
config files, security, network, limits, services and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repro.config import units
from repro.config.checks import (
    DURATION_SCHEMA,
    NAME,
    SCALAR_SCHEMA,
    Issues,
    absolute,
    one_of,
)
from repro.config.conditions import Ulimit, condition_issues, tmpfs_issues, ulimit_issues
from repro.config.privacy import PrivacyRule
from repro.config.rules import Rule
from repro.config.schema import Invalid, did_you_mean, spec
from repro.config.services import SERVICE_NAME, Ready
from repro.config.templating import needs_rendering
from repro.sandbox import reference


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
    before: float | None = spec(None, parse=units.duration, schema=DURATION_SCHEMA,
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

        issues = one_of(self, ["at", "from_log"], "the clock")
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
        issues = one_of(self, ["ref", "build"], "image")
        if self.ref is not None and not issues and not needs_rendering(self.ref) and \
                not reference.is_valid(self.ref):
            issues.append((("ref",), f"{self.ref!r} is not an image reference: "
                           f"{reference.RULES}"))
        return issues


@dataclass(frozen=True)
class Parameter:
    """A customer parameter the environment accepts; without a default it is required."""

    default: Any = spec(None, doc="Default value", schema=SCALAR_SCHEMA)
    description: str = spec("", doc="What the parameter means")
    choices: tuple[str, ...] | None = spec(None, doc="Allowed values")
    secret: bool = spec(False, doc="Mask the value in plans, records and reports")
    file: str | None = spec(None, doc="Also write the value to this absolute path in the "
                            "steps' container (mode 0400, owned by the steps' user): unlike an "
                            "`env:` variable, not shown by `docker inspect`")
    aliases: tuple[str, ...] = spec((), doc="Other names an export may use for it "
                                    "(e.g. DateStyle, date_style); names also match "
                                    "ignoring case when only one parameter fits")

    shorthand_schema = {**SCALAR_SCHEMA, "description": "The default value"}

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
            return absolute(self.file, "file")
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
        return one_of(self, ["template", "content"], "a file") + absolute(self.path, "path")


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
    tmpfs: dict[str, str] = spec(factory=dict, doc="Small disks of this service: absolute "
                                 "path -> size, e.g. /var/lib/postgresql/data: 64m (starts "
                                 "empty)")

    def check(self) -> Issues:
        return tmpfs_issues(self.tmpfs)


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
                          if not NAME.match(name)]
        issues += condition_issues(self)
        if self.workdir is not None:
            issues += absolute(self.workdir, "workdir")
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



"""The customer's machine as a plan value: timezone, locale, hostname, small disks and the
limits, each from the scenario over the environment, rendered and checked (no Docker)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from repro.config.conditions import hostname_problem, locale_problem, tmpfs_sizes
from repro.config.model import Environment, Limits, Scenario
from repro.config.project import Loaded
from repro.config.schema import did_you_mean
from repro.config.yaml_source import Loc, Source
from repro.errors import Problem

# A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`, `EST5EDT`, `UTC0`): needs no zone file.
_POSIX_TZ = re.compile(r"^<?[A-Za-z+\-0-9]{3,}>?[+-]?\d{1,2}(:\d{2}){0,2}(<?[A-Za-z+\-0-9]{3,}>?"
                       r"([+-]?\d{1,2}(:\d{2}){0,2})?(,[^,]+,[^,]+)?)?$")
_NEEDS_NOTHING = ("C", "POSIX")


@dataclass(frozen=True)
class Where:
    """The file:line a condition was set at, for messages at run time."""

    file: str = ""
    line: int | None = None

    def problem(self, key: str, message: str) -> Problem:
        return Problem(self.file, self.line, key, message)


@dataclass(frozen=True)
class Conditions:
    """Resolved conditions of one run (None: the image's own)."""

    timezone: str | None = None
    locale: str | None = None
    hostname: str | None = None  # of the steps' container
    tmpfs: dict[str, int] = field(default_factory=dict)  # path -> bytes (steps' container)
    origins: dict[str, Where] = field(default_factory=dict)  # key -> where it was set

    @property
    def zone_file(self) -> str | None:
        """The zone a container needs a file for (a POSIX rule needs none)."""
        if self.timezone is None or _POSIX_TZ.match(self.timezone):
            return None
        return self.timezone

    @property
    def locale_to_prepare(self) -> str | None:
        """A locale the image may have to compile (C and POSIX need nothing)."""
        if self.locale is None or self.locale.split(".")[0] in _NEEDS_NOTHING:
            return None
        return self.locale

    def env(self) -> dict[str, str]:
        """The variables every container gets; they win over an environment's `env:`
        (a step's own `env:` still wins over them)."""
        out = {}
        if self.timezone is not None:
            out["TZ"] = self.timezone
        if self.locale is not None:
            out["LANG"] = out["LC_ALL"] = self.locale
        return out

    def where(self, key: str) -> Where:
        return self.origins.get(key, Where())


# Without limits a runaway step (a fork loop, a leak) takes the whole host down; a
# scenario or environment raises them when the customer's machine is bigger.
DEFAULT_MEMORY = 2 * 1024**3
DEFAULT_PIDS = 1024


def with_defaults(limits: Limits) -> Limits:
    return replace(limits, memory=limits.memory or DEFAULT_MEMORY,
                   pids=limits.pids or DEFAULT_PIDS)


def merged_limits(env: Limits, scenario: Limits | None) -> Limits:
    """The environment's limits with the scenario's keys over them (ulimits by name), and
    the defaults where neither sets one."""
    if scenario is None:
        return with_defaults(env)
    changes: dict[str, Any] = {k: v for k, v in vars(scenario).items()
                               if v is not None and k != "ulimits"}
    return with_defaults(replace(env, **changes, ulimits={**env.ulimits, **scenario.ulimits}))


def plan_conditions(scen: Loaded[Scenario] | None, envl: Loaded[Environment], text: Any,
                    problems: list[Problem | str]) -> Conditions:
    """Render and check the conditions: the scenario's (if any) over the environment's."""
    values: dict[str, str] = {}
    origins: dict[str, Where] = {}
    layers: list[tuple[Any, Source]] = [(envl.record, envl.source)]
    if scen is not None:
        layers.append((scen.record, scen.source))
    for key in ("timezone", "locale", "hostname"):
        for record, source in reversed(layers):
            raw = getattr(record, key)
            if raw is None:
                continue
            values[key] = text(raw, source, (key,)).strip()
            origins[key] = Where(source.file_of((key,)), source.value_line((key,)))
            message = _problem(key, values[key])
            if message:
                problems.append(source.problem((key,), message))
            break
    tmpfs: dict[str, int] = {}
    for record, source in layers:
        tmpfs.update(tmpfs_sizes(record.tmpfs))
        for path in record.tmpfs:
            at = ("tmpfs", path)
            origins[f"tmpfs {path}"] = Where(source.file_of(at), source.line(at))
    return Conditions(values.get("timezone"), values.get("locale"), values.get("hostname"),
                      tmpfs, origins)


def hidden_by(tmpfs: dict[str, int], path: str) -> str | None:
    """The tmpfs path that would hide a file copied to `path` before the start."""
    for mount in tmpfs:
        root = mount.rstrip("/")
        if path == root or path.startswith(root + "/"):
            return mount
    return None


def refuse_hidden_writes(conditions: Conditions, files: tuple[Any, ...],
                         services: tuple[Any, ...], data: tuple[Any, ...],
                         envl: Loaded[Environment], scen: Loaded[Scenario],
                         problems: list[Problem | str]) -> None:
    """Files and data land before the start; a tmpfs mounted at the start hides them (the
    steps' container's, or the service's they go to)."""
    disks = {None: conditions.tmpfs, **{svc.name: svc.tmpfs for svc in services}}
    written: list[tuple[Loc, str, str | None]] = [
        (("files", i, "path"), f.path, None) for i, f in enumerate(files)]
    written += [(("services", svc.name, "files", i, "path"), f.path, svc.name)
                for svc in services for i, f in enumerate(svc.files)]
    for at, path, service in written:
        mount = hidden_by(disks.get(service, {}), path)
        if mount:
            problems.append(envl.source.problem(at, f"{path} is inside {_whose(service)} "
                            f"tmpfs {mount}, which starts empty: write it elsewhere"))
    for i, d in enumerate(data):
        mount = hidden_by(disks.get(d.service, {}), d.to)
        if mount:
            problems.append(scen.source.problem(("data", i, "to"), f"{d.to} is inside "
                            f"{_whose(d.service)} tmpfs {mount}, which starts empty: load "
                            "the data elsewhere and copy it there in a step"))


def _whose(service: str | None) -> str:
    return "the" if service is None else f"service {service}'s"


def _problem(key: str, value: str) -> str | None:
    if key == "locale":
        return locale_problem(value)
    if key == "hostname":
        return hostname_problem(value)
    return timezone_problem(value)


def timezone_problem(name: str) -> str | None:
    """Unknown IANA zone names, with the nearest known one (from this machine's tz
    database; where it has none, the run checks against repro's own before starting)."""
    if _POSIX_TZ.match(name):
        return None
    zones = known_zones()
    if not zones or name in zones:
        return None
    return f"unknown timezone {name!r}{did_you_mean(name, zones)}; use an IANA name such " \
           "as Europe/Berlin or America/New_York"


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    import zoneinfo

    try:
        return frozenset(zoneinfo.available_timezones())
    except Exception:  # noqa: BLE001 - no readable tz database here: the run checks
        return frozenset()


def shown(conditions: Conditions, limits: Limits) -> dict[str, Any]:
    """The conditions as people read them (`repro plan`, the run record)."""
    return {
        "timezone": conditions.timezone, "locale": conditions.locale,
        "hostname": conditions.hostname,
        "tmpfs": {path: size for path, size in conditions.tmpfs.items()},
        "shm_size_bytes": limits.shm_size,
        "ulimits": {name: {"soft": u.soft, "hard": u.ceiling}
                    for name, u in sorted(limits.ulimits.items())},
        "set_in": {key: f"{w.file}:{w.line}" if w.line else w.file
                   for key, w in sorted(conditions.origins.items())},
    }

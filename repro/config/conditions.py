"""The conditions of the customer's machine a scenario can set: open-file and other
ulimits, and the checks of its timezone, locale, hostname and small disks (tmpfs) that
need no rendering. Records and keys live in `model`; the rules live here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from repro.config import units
from repro.config.schema import Invalid, did_you_mean, spec
from repro.config.yaml_source import Loc

Issues = list[tuple[Loc, str]]

# What Docker accepts as `--ulimit NAME=...` (setrlimit resources, by their ulimit names).
ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
           "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
# `de_DE`, `de_DE.UTF-8`, `sr_RS@latin`, `C.UTF-8`, `POSIX`: a glibc locale name.
LOCALE = re.compile(r"^(?:[a-z]{2,3}(?:_[A-Z]{2})?(?:\.[A-Za-z0-9-]+)?(?:@[A-Za-z0-9]+)?"
                    r"|C(?:\.[A-Za-z0-9-]+)?|POSIX)$")
# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


@dataclass(frozen=True)
class Ulimit:
    """A process limit (setrlimit): `1024` sets soft and hard; -1 is unlimited."""

    soft: int = spec(doc="Soft limit (what `ulimit -n` shows)")
    hard: int | None = spec(None, doc="Hard limit (default: the soft one)")

    shorthand_schema = {"type": "integer", "description": "Soft and hard limit"}

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return {"soft": raw}
        raise Invalid("expected a number (soft and hard) or a mapping with 'soft' and 'hard'")

    @property
    def ceiling(self) -> int:
        return self.soft if self.hard is None else self.hard

    def check(self) -> Issues:
        issues: Issues = []
        for key in ("soft", "hard"):
            value = getattr(self, key)
            if value is not None and value < -1:
                issues.append(((key,), "must be zero or more (-1: unlimited)"))
        if not issues and self.hard is not None and self.hard != -1 and \
                (self.soft == -1 or self.soft > self.hard):
            issues.append((("soft",), f"the soft limit {self.soft} is above the hard limit "
                           f"{self.hard}"))
        return issues


def ulimit_issues(ulimits: dict[str, Ulimit]) -> Issues:
    return [(("ulimits", name), f"unknown ulimit{did_you_mean(name, ULIMITS)}; Docker "
             f"knows {', '.join(ULIMITS)}") for name in ulimits if name not in ULIMITS]


def tmpfs_sizes(tmpfs: dict[str, str]) -> dict[str, int]:
    """path -> bytes; a size Docker would not take is left out (tmpfs_issues says it)."""
    sizes = {}
    for path, raw in tmpfs.items():
        try:
            sizes[path] = units.size(raw)
        except Invalid:
            continue
    return sizes


def tmpfs_issues(tmpfs: dict[str, str]) -> Issues:
    """Small disks (of the steps' container or a service): absolute paths, no system
    folder, sizes Docker takes."""
    issues: Issues = []
    for path, raw in tmpfs.items():
        if not path.startswith("/"):
            issues.append((("tmpfs", path), f"must be an absolute path, got {path!r}"))
        elif path.rstrip("/") in ("", "/proc", "/sys", "/dev"):
            issues.append((("tmpfs", path), "cannot replace a system folder with a tmpfs"))
        try:
            units.size(raw)
        except Invalid as exc:
            issues.append((("tmpfs", path), str(exc)))
    return issues


def condition_issues(record: Any) -> Issues:
    """The checks an environment or scenario's conditions need before any rendering:
    tmpfs paths and sizes, and the literal (untemplated) locale and hostname."""
    issues = tmpfs_issues(record.tmpfs)
    for key, problem in (("locale", locale_problem), ("hostname", hostname_problem)):
        value = getattr(record, key)
        if value is not None and "{" not in value:
            message = problem(value)
            if message:
                issues.append(((key,), message))
    return issues


def locale_problem(name: str) -> str | None:
    if LOCALE.match(name):
        return None
    return (f"{name!r} is not a locale name: write language_TERRITORY.CODESET, e.g. "
            "de_DE.UTF-8, or C.UTF-8")


def hostname_problem(name: str) -> str | None:
    if HOSTNAME.match(name):
        return None
    return (f"{name!r} is not a host name: letters, digits and inner hyphens, labels "
            "separated by dots (e.g. erp-prod-01)")

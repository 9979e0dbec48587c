"""Records of the steps' timeline: start offsets, repeats (simultaneous users), waits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from repro.config import units
from repro.config.schema import Invalid, spec
from repro.config.yaml_source import Loc

Issues = list[tuple[Loc, str]]
_DURATION = {"type": ["number", "string"], "examples": [30, "30s", "500ms"]}
_OFFSET = {"type": ["number", "string"], "examples": [0, "5s", "1m30s", "250ms"]}
_COUNT = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*(\d+)\s*$")


def offset(raw: Any) -> float:
    """`at:`: like a duration, but 0 is fine (the start of the steps) and a negative
    offset gets its own message."""
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    if text.startswith("-"):
        raise Invalid(f"a negative offset ({raw!r}): offsets count from the start of the "
                      "steps; write 0 or more, e.g. `at: 5s`")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == 0 or \
            text in ("0", "0s", "0ms"):
        return 0.0
    return units.duration(raw)


def instances_test(raw: Any) -> str:
    """`instances:` of an oracle condition: `all`, a count N (at least N), or `OP N`."""
    if isinstance(raw, bool):
        raise Invalid(f"expected `all`, a number or a comparison like \">= 2\", got {raw!r}")
    if isinstance(raw, int):
        raw = f">= {raw}"
    text = str(raw).strip()
    if text == "all":
        return text
    match = _COUNT.match(text)
    if not match:
        raise Invalid(f"expected `all`, a number or a comparison like \">= 2\", got {raw!r}")
    return f"{match.group(1) or '>='} {int(match.group(2))}"


def count_holds(test: str | None, satisfied: int, total: int) -> bool:
    """Does a count of satisfying instances pass `instances:`? None: at least one."""
    if test is None:
        return satisfied >= 1
    if test == "all":
        return total > 0 and satisfied == total
    op, number = test.split()
    n = int(number)
    return {">=": satisfied >= n, "<=": satisfied <= n, "==": satisfied == n,
            "!=": satisfied != n, ">": satisfied > n, "<": satisfied < n}[op]


def monotone(test: str | None) -> bool:
    """True when the test, once passed, stays passed as more instances satisfy it: its
    moment is the instance that made the count; otherwise it is the last instance's end."""
    return test is None or test.split()[0] in (">=", ">")


@dataclass(frozen=True)
class Repeat:
    """Run a step as several simultaneous users: `count` instances, `concurrency` at once."""

    count: int = spec(doc="How many instances (at least 1)")
    concurrency: int | None = spec(None, doc="At most this many at once (default: all of "
                                   "them)")
    compare: Literal["all", "aggregate"] = spec(
        "all", doc="Channels compared with the baseline: `all` (each instance and the "
        "aggregate) or `aggregate` (exit-code counts and distinct outputs only, for races "
        "where which instance wins varies)")

    shorthand_schema = {"type": "integer", "description": "How many instances, all at once"}

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return {"count": raw}
        raise Invalid("expected a count or a mapping with 'count' and 'concurrency'")

    @property
    def at_once(self) -> int:
        return self.concurrency or self.count

    def shown(self) -> dict[str, Any]:
        """As plans and records show it."""
        return {"count": self.count, "concurrency": self.at_once, "compare": self.compare}

    def check(self) -> Issues:
        if self.count < 1:
            return [(("count",), f"must be at least 1, got {self.count}")]
        if self.concurrency is not None and self.concurrency < 1:
            return [(("concurrency",), f"must be at least 1, got {self.concurrency}")]
        if self.concurrency is not None and self.concurrency > self.count:
            return [(("concurrency",), f"{self.concurrency} is above the count "
                     f"({self.count}): at most {self.count} instances can run at once")]
        return []


_WAIT_TESTS = ("log", "port", "command")


@dataclass(frozen=True)
class WaitFor:
    """A point of the timeline that waits until a condition holds: a log line, a port
    that accepts connections, or a command that exits 0."""

    log: str | None = spec(None, parse=units.regex, doc="Regex over a service's log or a "
                           "step's output", schema={"type": "string"})
    port: int | None = spec(None, doc="A TCP port that accepts connections (from the steps' "
                            "container)")
    command: str | tuple[str, ...] | None = spec(None, doc="Exits 0 (in the steps' "
                                                 "container, or in `service`)")
    service: str | None = spec(None, doc="The service whose log, port or container it is")
    step: str | None = spec(None, doc="log: the (background) step whose output it reads")
    timeout: float = spec(30.0, parse=units.duration, doc="Give up after (a setup error)",
                          schema=_DURATION)
    interval: float = spec(0.2, parse=units.duration, doc="Look again every",
                           schema=_DURATION)

    def check(self) -> Issues:
        given = [n for n in _WAIT_TESTS if getattr(self, n) is not None]
        if len(given) != 1:
            what = "takes only one" if given else "needs one"
            return [((), f"`wait_for` {what} of log, port, command")]
        if self.port is not None and not 0 < self.port < 65536:
            return [(("port",), "must be a port number")]
        if self.step is not None and self.log is None:
            return [(("step",), "`step` goes with `log` (a step's output); for a port or a "
                     "command in the steps' container leave `service` out")]
        if self.log is not None and (self.step is None) == (self.service is None):
            return [((), "a `log` wait needs `service` (its log) or `step` (a background "
                     "step's output), one of them")]
        return []

    @property
    def kind(self) -> str:
        return next(n for n in _WAIT_TESTS if getattr(self, n) is not None)

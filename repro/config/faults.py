"""A fault: something done to a service at a point of the steps (stop, kill, pause, cut
off its network, slow it down)."""

from __future__ import annotations

import re
import signal as signals
from dataclasses import dataclass
from typing import Any

from repro.config import units
from repro.config.schema import Invalid, did_you_mean, spec
from repro.config.yaml_source import Loc

Issues = list[tuple[Loc, str]]
_DURATION = {"type": ["number", "string"], "examples": ["200ms", "30s"]}

# The kinds, each naming the service it acts on: `{kill: db}`.
KINDS = ("stop", "start", "kill", "restart", "pause", "unpause", "disconnect", "reconnect",
         "network")
# What `duration:` undoes after its time: the reverse of each timed kind.
UNDO = {"stop": "start", "kill": "start", "pause": "unpause", "disconnect": "reconnect",
        "network": "clear"}
SHAPES = ("latency", "jitter", "loss", "rate")
SIGNALS = sorted(s.name for s in signals.Signals if not s.name.startswith("SIGRT"))
_RATE = re.compile(r"^\d+(?:\.\d+)?(?:bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$")


def percent(raw: Any) -> float:
    """`10%`, `0.5%` or a bare number: a share of packets, 0 to 100."""
    if isinstance(raw, bool):
        raise Invalid(f"expected a percentage like 10%, got {raw!r}")
    text = str(raw).strip().removesuffix("%").strip()
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"expected a percentage like 10%, got {raw!r}") from None
    if not 0 <= value <= 100:
        raise Invalid(f"must be between 0% and 100%, got {raw!r}")
    return value


def bandwidth(raw: Any) -> str:
    """A bandwidth as tc writes it: `1mbit`, `500kbit`, `2mbps` (bytes per second)."""
    text = str(raw).strip().lower().replace(" ", "")
    if isinstance(raw, bool) or not _RATE.match(text):
        raise Invalid(f"expected a rate like 1mbit, 500kbit or 2mbps, got {raw!r}")
    return text


def signal_name(raw: Any) -> str:
    """`SIGTERM`, `TERM` or `15` -> `SIGTERM`."""
    text = str(raw).strip().upper()
    if text.isdigit():
        try:
            return signals.Signals(int(text)).name
        except ValueError:
            raise Invalid(f"no signal number {raw!r}") from None
    name = text if text.startswith("SIG") else "SIG" + text
    if name not in SIGNALS:
        raise Invalid(f"unknown signal {raw!r}{did_you_mean(name, SIGNALS)}")
    return name


@dataclass(frozen=True)
class Fault:
    """What to do to a service: exactly one kind, naming the service."""

    stop: str | None = spec(None, doc="Stop the service (SIGTERM, SIGKILL after 10 s)")
    start: str | None = spec(None, doc="Start a stopped or killed service again; waits "
                             "until it is ready")
    kill: str | None = spec(None, doc="Send the service a signal (SIGKILL unless `signal`)")
    restart: str | None = spec(None, doc="Restart the service; waits until it is ready")
    pause: str | None = spec(None, doc="Freeze every process of the service")
    unpause: str | None = spec(None, doc="Let a paused service run again")
    disconnect: str | None = spec(None, doc="Cut the service off the run's network")
    reconnect: str | None = spec(None, doc="Put a disconnected service back (same name)")
    network: str | None = spec(None, doc="Slow the service's network down: latency, "
                               "jitter, loss, rate (or `clear: true`)")
    signal: str | None = spec(None, parse=signal_name, doc="kill: the signal, e.g. SIGTERM",
                              schema={"type": ["string", "integer"]})
    latency: float | None = spec(None, parse=units.duration, doc="network: added delay, "
                                 "e.g. 200ms", schema=_DURATION)
    jitter: float | None = spec(None, parse=units.duration, doc="network: random variation "
                                "of the delay, e.g. 20ms", schema=_DURATION)
    loss: float | None = spec(None, parse=percent, doc="network: share of packets dropped, "
                              "e.g. 10%", schema={"type": ["string", "number"]})
    rate: str | None = spec(None, parse=bandwidth, doc="network: bandwidth cap, e.g. 1mbit")
    clear: bool | None = spec(None, doc="network: remove the conditions set before")
    duration: float | None = spec(None, parse=units.duration, doc="Undo it after this long "
                                  "(start, unpause, reconnect, clear); the steps go on "
                                  "meanwhile", schema=_DURATION)

    @property
    def kind(self) -> str:
        return next((k for k in KINDS if getattr(self, k) is not None), "")

    @property
    def service(self) -> str:
        return getattr(self, self.kind, None) or ""

    def check(self) -> Issues:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if not given:
            return [((), "a fault needs one of " + ", ".join(KINDS))]
        if len(given) > 1:
            return [((given[1],), f"a fault does one thing: give '{given[0]}' or "
                     f"'{given[1]}', in two entries if you want both")]
        kind = given[0]
        if self.service == "sandbox":
            return [((kind,), "the steps run in the sandbox container: faults act on "
                     "services only")]
        issues: Issues = []
        options = {"signal": kind == "kill", "duration": kind in UNDO,
                   "clear": kind == "network", **{s: kind == "network" for s in SHAPES}}
        for option, applies in options.items():
            if getattr(self, option) is not None and not applies:
                issues.append(((option,), f"'{option}' does not apply to a {kind} fault"))
        if kind == "network" and not issues:
            shaped = [s for s in SHAPES if getattr(self, s) is not None]
            if self.clear and (shaped or self.duration is not None):
                issues.append((("clear",), "`clear: true` removes the conditions: give it "
                               "alone"))
            elif not self.clear and not shaped:
                # At the fault itself: not repeated when a condition failed to parse.
                issues.append(((), "a network fault needs latency, jitter, loss or rate "
                               "(or `clear: true` to remove them)"))
            elif self.jitter is not None and self.latency is None:
                issues.append((("jitter",), "jitter varies the latency: give `latency` too"))
        return issues


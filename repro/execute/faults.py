"""Do a scenario's faults to its services through the port, and record each as an event.

`Faults.apply(name, fault)` is what runs a `fault:` entry of the steps, wherever the
entry's turn comes from (today the steps in order). A timed fault (`duration:`) is undone
by a timer when its time runs out, or when the steps end, whichever comes first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from repro.errors import Interrupted, SandboxError
from repro.execute import readiness
from repro.plan.faults import FaultPlan, timeline_faults
from repro.plan.values import Plan
from repro.results.faults import FaultObservation, FaultStatus
from repro.sandbox.api import Backend, Container, NetworkShape, Sandbox, Status

Say = Callable[[str], None]


def prepare(plan: Plan, backend: Backend, say: Say) -> None:
    """Before any container exists: can this engine shape a network, if a fault will?"""
    if any(f.kind == "network" and not f.clear for _, f in timeline_faults(plan.timeline)):
        backend.check_network_shaping(say)


def _shape(fault: FaultPlan) -> NetworkShape | None:
    if fault.clear:
        return None
    return NetworkShape(fault.latency, fault.jitter, fault.loss, fault.rate)


class _Timed:
    """A fault in force until its duration runs out; undone exactly once."""

    def __init__(self, observation: FaultObservation, fault: FaultPlan):
        self.observation, self.fault = observation, fault
        self.lock = threading.Lock()
        self.undone = False
        self.timer: threading.Timer | None = None


class Faults:
    """The faults of one run. Use as a context manager around the steps: leaving it
    normally undoes the timed faults still in force (SandboxError if an undo failed);
    leaving on an error only stops their timers (the sandbox goes away anyway)."""

    def __init__(self, sandbox: Sandbox, into: list[FaultObservation],
                 say: Say | None = None):
        self.sandbox = sandbox
        self.into = into  # the run record's list: an event is there before it happens
        self.say = say or (lambda _: None)
        self._timed: list[_Timed] = []
        self._lock = threading.Lock()  # a scheduler may apply faults from several threads

    def __enter__(self) -> Faults:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.settle()
        else:
            self.cancel()

    def apply(self, name: str, fault: FaultPlan) -> FaultObservation:
        """Do `fault` now; after `start` and `restart`, wait until the service is ready
        again. The observation is in the record from the start; SandboxError (the
        engine's reason) when the engine refuses: no verdict then."""
        observation = FaultObservation(name, fault.kind, fault.service, fault.describe(),
                                       started_at=time.time(), undo=fault.undo)
        self.into.append(observation)
        self._supersede(name, fault)
        try:
            self._do(fault.kind, fault)
        except Interrupted:
            observation.status, observation.ended_at = FaultStatus.INTERRUPTED, time.time()
            raise
        except SandboxError as exc:
            observation.status, observation.ended_at = FaultStatus.FAILED, time.time()
            observation.error = str(exc)
            raise SandboxError(f"fault {name!r} ({fault.describe()}): {exc}") from None
        observation.ended_at = time.time()
        self.say(f"fault {name}: {fault.describe()} ({observation.duration or 0:.2f}s)")
        if fault.undo is not None and fault.duration is not None:
            timed = _Timed(observation, fault)
            timed.timer = threading.Timer(fault.duration, self._undo, (timed, False))
            timed.timer.daemon = True
            with self._lock:
                self._timed.append(timed)
            timed.timer.start()
        return observation

    def _supersede(self, name: str, fault: FaultPlan) -> None:
        """An explicit undo (`reconnect` after a timed `disconnect`), or new conditions on
        a shaped network, ends the timed fault: its timer must not act any more."""
        with self._lock:
            pending = list(self._timed)
        for timed in pending:
            if timed.fault.service != fault.service or fault.kind not in (
                    timed.fault.undo, timed.fault.kind if fault.kind == "network" else None):
                continue
            if timed.timer is not None:
                timed.timer.cancel()
            with timed.lock:
                if not timed.undone:
                    timed.undone = True
                    timed.observation.undone_at = time.time()
                    timed.observation.undone_by = name

    def skip(self, name: str, fault: FaultPlan) -> FaultObservation:
        """Recorded as skipped: an earlier step failed with stop_on_failure."""
        observation = FaultObservation(name, fault.kind, fault.service, fault.describe(),
                                       status=FaultStatus.SKIPPED)
        self.into.append(observation)
        return observation

    def settle(self) -> None:
        """The steps are over: undo now what a timer would undo later."""
        with self._lock:
            pending, self._timed = self._timed, []
        for timed in pending:
            if timed.timer is not None:
                timed.timer.cancel()
            self._undo(timed, True)
        failed = [t.observation for t in pending if t.observation.undo_error]
        if failed:
            first = failed[0]
            raise SandboxError(f"fault {first.name!r} ({first.description}): undoing it "
                               f"({first.undo}) failed: {first.undo_error}")

    def cancel(self) -> None:
        with self._lock:
            pending, self._timed = self._timed, []
        for timed in pending:
            if timed.timer is not None:
                timed.timer.cancel()
            with timed.lock:
                timed.undone = True  # a timer already running finds nothing to do

    def _undo(self, timed: _Timed, early: bool) -> None:
        with timed.lock:
            if timed.undone:
                return
            timed.undone = True
            observation, fault = timed.observation, timed.fault
            assert fault.undo is not None
            try:
                # The timer's side: no readiness wait, nothing waits for it.
                self._do(fault.undo, fault, wait=False)
            except SandboxError as exc:
                observation.undo_error = str(exc)
            observation.undone_at, observation.undone_early = time.time(), early

    def _do(self, kind: str, fault: FaultPlan, wait: bool = True) -> None:
        service = fault.service
        container: Container = self.sandbox.services[service]
        if kind == "stop":
            container.stop()
        elif kind == "kill":
            container.kill(fault.signal)
        elif kind in ("start", "restart"):
            if kind == "start":
                container.start()
            else:
                container.restart()
            if wait:
                readiness.wait_ready(service, container, fault.ready)
        elif kind == "pause":
            container.pause()
        elif kind == "unpause":
            container.unpause()
        elif kind == "disconnect":
            self.sandbox.disconnect(service)
        elif kind == "reconnect":
            self.sandbox.reconnect(service)
        elif kind == "network":
            self.sandbox.shape_network(service, _shape(fault))
        elif kind == "clear":
            self.sandbox.shape_network(service, None)
        else:  # the config admits no other kind
            raise AssertionError(f"unknown fault kind {kind!r}")


def unavailable(service: str, container: Container, done: list[FaultObservation]
                ) -> str | None:
    """Why nothing can run in the service now (stopped, killed, paused), naming the last
    fault done to it; None when it runs. Asked before a query, so it fails at once with
    that reason instead of an engine error or a wait."""
    state = container.state()
    if state.status is Status.RUNNING:
        return None
    last = next((f for f in reversed(done) if f.service == service and
                 f.status is FaultStatus.DONE), None)
    cause = f" (fault {last.name!r}: {last.description})" if last else ""
    if state.status is Status.PAUSED:
        return f"service {service} is paused{cause}: nothing runs in it until it is unpaused"
    code = "" if state.exit_code is None else f", exit {state.exit_code}"
    return f"service {service} is not running ({state.status.value}{code}){cause}"

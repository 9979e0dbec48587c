"""Run the selected scenarios, `jobs` at a time, each in its own sandbox.

Threads of one process: the runs wait on the engine far more than they compute, and one
process pays for its start and imports once. The backend is shared (sandbox.shared): an
image several runs need at once is prepared once. Signals reach the main thread only: it
cancels, every run raises Interrupted in its own thread at its next engine call (processes
in flight are stopped), their sandboxes' teardown removes what they made, and the main
thread waits for that before it returns.

`backends` holds one backend per engine (`--engine URL`, repeated); run number i goes to
backends[i % len].
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from repro import pipeline, signals
from repro.errors import Interrupted
from repro.replay import flaky
from repro.replay.select import Selected
from repro.report.replay import Case, CaseRun
from repro.sandbox.shared import Cancel, SharedBackend

Say = Callable[[str], None]
POLL = 0.25  # seconds between looks at the runs in flight (and the live line)


@dataclass
class Options:
    jobs: int = 1
    repeat: int = 1
    fail_fast: bool = False


@dataclass
class Outcome:
    cases: list[Case]
    interrupted: Interrupted | None  # the signal that cut the replay short
    seconds: float


class Replay:
    """One replay: its cases (filled in as runs end) and the runs in flight."""

    def __init__(self, selection: Sequence[Selected], backends: Sequence[SharedBackend],
                 options: Options, cancel: Cancel, say: Say,
                 on_done: Callable[[Case], None] | None = None,
                 on_tick: Callable[[list[str]], None] | None = None):
        self.selection = list(selection)
        self.backends = list(backends)
        self.options = options
        self.cancel = cancel
        self.say = say
        self.on_done = on_done or (lambda case: None)
        self.on_tick = on_tick or (lambda running: None)
        self.cases = {s.id: Case(s.id, s.plan.title, s.plan.expect, s.plan.environment,
                                 s.path) for s in self.selection}
        self._pending = [(s, n) for s in self.selection for n in range(options.repeat)]
        self._left = {s.id: options.repeat for s in self.selection}
        self._started = 0
        self._stopping: str | None = None  # why no new run starts (fail-fast)

    def run(self) -> Outcome:
        started = time.monotonic()
        interrupted = None
        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs),
                                thread_name_prefix="replay") as pool:
            running: dict[Future[CaseRun], Selected] = {}
            try:
                self._loop(pool, running)
            except BaseException as exc:  # a signal, or a bug: no run goes on without us
                self.cancel.set(exc.signal_name if isinstance(exc, Interrupted) else "SIGINT")
                self._drain(running)
                if not isinstance(exc, Interrupted):
                    raise
                interrupted = exc
        for sid, left in self._left.items():  # what never started, and why
            case = self.cases[sid]
            if left:
                reason = (f"interrupted by {interrupted.signal_name}" if interrupted else
                          self._stopping or "not started")
                case.not_run = reason if not case.runs else \
                    f"{left} of {self.options.repeat} runs not started: {reason}"
                self.on_done(case)
        return Outcome([self.cases[s.id] for s in self.selection], interrupted,
                       time.monotonic() - started)

    def _loop(self, pool: ThreadPoolExecutor, running: dict[Future[CaseRun], Selected]
              ) -> None:
        while self._pending or running:
            while self._pending and len(running) < self.options.jobs and \
                    self._stopping is None:
                selected, _ = self._pending.pop(0)
                backend = self.backends[self._started % len(self.backends)]
                self._started += 1
                running[pool.submit(self._one, selected, backend)] = selected
            if self._stopping is not None:
                self._pending.clear()
            if not running:
                break
            self.on_tick(sorted({s.id for s in running.values()}))
            done, _ = wait(list(running), timeout=POLL, return_when=FIRST_COMPLETED)
            for future in done:
                self._finished(running.pop(future), future.result())

    def _drain(self, running: dict[Future[CaseRun], Selected]) -> None:
        """After a signal: the runs in flight stop and remove their sandboxes; wait for
        them, whatever other signal comes (it cannot make the clean-up faster)."""
        self._pending.clear()
        while running:
            try:
                with signals.shielded():
                    done, _ = wait(list(running), timeout=POLL, return_when=FIRST_COMPLETED)
                    for future in done:
                        self._finished(running.pop(future), future.result())
            except Interrupted:
                continue

    def _one(self, selected: Selected, backend: SharedBackend) -> CaseRun:
        began = time.monotonic()

        def say(message: str) -> None:
            if not message.startswith("record: "):  # the summary names every record
                self.say(f"{selected.id}: {message}")

        where = selected.case.where if selected.case is not None else {}
        outcome = pipeline.run(selected.plan, say, selected.expected, backend=backend,
                               **where)
        return CaseRun(outcome.record, outcome.comparison, outcome.error,
                       time.monotonic() - began)

    def _finished(self, selected: Selected, run: CaseRun) -> None:
        case = self.cases[selected.id]
        case.runs.append(run)
        self._left[selected.id] -= 1
        if self._left[selected.id]:
            return
        case.flaky, case.varied = flaky.judge(selected.plan, case.runs)
        if self.options.fail_fast and not case.ok and self._stopping is None and \
                not self.cancel.is_set:
            self._stopping = f"--fail-fast: {case.scenario_id} was not as expected"
        self.on_done(case)

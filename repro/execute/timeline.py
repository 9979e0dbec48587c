"""Run the steps as a timeline: entries start after the previous one settles, or at an
offset (`at:`) from the timeline start; background steps run until the steps end;
`wait_for` entries hold the timeline until a condition holds; `repeat:` runs a step as
simultaneous users and `parallel:` a group of entries at once.

Every entry runs in a thread of its own; the calling thread only coordinates, so Ctrl-C
(delivered to it) stops every process in flight and starts nothing new. Each entry kind
has its executor in `EXECUTORS` (run, wait_for, parallel, fault).
"""

from __future__ import annotations

import dataclasses
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Interrupted, Problem, SandboxError
from repro.execute import faults, oom, waits
from repro.plan.timeline import INSTANCE_ENV, INSTANCES_ENV
from repro.plan.values import EntryPlan, Plan, StepPlan
from repro.redact import MaskingWriter
from repro.results import progress
from repro.results import timeline as ev
from repro.results.observations import StepObservation, aggregate_status, exit_counts
from repro.results.outcome import StepStatus
from repro.results.record import RunRecord
from repro.sandbox import api
from repro.sandbox.api import ExecRequest, Sandbox

RequestFor = Callable[[StepPlan], ExecRequest]
Executor = Callable[["Scheduler", EntryPlan], None]
POLL = 0.1  # how often the coordinating thread looks up (it must stay interruptible)
DRAIN = api.STOP_GRACE + 8.0  # seconds to let stopped processes report back


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "step"


class Scheduler:
    """One run's timeline: starts entries, keeps their observations and events."""

    def __init__(self, plan: Plan, sandbox: Sandbox, record: RunRecord,
                 request_for: RequestFor, on_step: Callable | None = None,
                 injector: faults.Faults | None = None, emit: progress.Emit | None = None):
        self.plan, self.sandbox, self.record = plan, sandbox, record
        self.request_for, self.on_step = request_for, on_step
        self.emit = emit  # progress: steps started (and where they write), finished
        self.injector = injector  # does the `fault:` entries
        self.memory = oom.MemoryWatch(sandbox.main)  # tells a kill for memory
        self.events = record.timeline
        self.steps_dir = record.directory / "steps"
        self.halted = threading.Event()  # a step failed (stop_on_failure): start no more
        self.aborted = threading.Event()  # interrupted or a setup error: stop everything
        self.failures: list[BaseException] = []
        self.observed: dict[int, StepObservation] = {}  # by step number
        self.outputs: dict[str, waits.StepOutput] = {}  # live outputs, for log waits
        self._stops: set[threading.Event] = set()  # of every process in flight
        self._background: list[tuple[threading.Event, threading.Thread]] = []
        self._lock = threading.Lock()

    # -- coordination (the calling thread) -------------------------------------------
    def run(self) -> None:
        """Run every entry; raise the first setup error, or Interrupted, after stopping
        what runs. The record gets every step, skipped and interrupted ones too."""
        self.steps_dir.mkdir(exist_ok=True)
        self.events.begin()
        interrupted = False
        try:
            self._join(self.chain(self.plan.timeline))
            self._stop_background()
        except BaseException:  # Interrupted (Ctrl-C, SIGTERM) or a bug
            interrupted = True
            self._stop_everything()
            raise
        finally:
            self._record(interrupted or any(isinstance(f, Interrupted) for f in self.failures))
        if self.failures:
            raise self.failures[0]

    def _join(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            while thread.is_alive() and not self.aborted.is_set():
                thread.join(POLL)
        if self.aborted.is_set():
            self._stop_everything()

    def _stop_everything(self) -> None:
        """No new process; stop those in flight (their steps end interrupted); let them
        report back for a bounded time."""
        self.aborted.set()
        self.halted.set()
        with self._lock:
            stops = list(self._stops)
        for stop in stops:
            stop.set()
        deadline = time.monotonic() + DRAIN
        while time.monotonic() < deadline:
            with self._lock:
                if not self._stops:
                    break
            time.sleep(0.05)

    def _stop_background(self) -> None:
        """The foreground is done: stop the background steps (TERM, then KILL)."""
        for stop, _ in self._background:
            stop.set()
        for _, thread in self._background:
            while thread.is_alive():
                thread.join(POLL)

    def _record(self, interrupted: bool) -> None:
        """Every step in order; one that never started is skipped (left out after an
        interrupt: the run did not get there)."""
        for step in self.plan.steps:
            seen = self.observed.get(step.number)
            if seen is None and interrupted:
                continue
            self.record.steps.append(seen or StepObservation(
                step.name, step.command, StepStatus.SKIPPED, None, None, None, None, None,
                repeat=step.repeat, background=step.background))

    # -- entries (worker threads) ----------------------------------------------------
    def chain(self, entries: tuple[EntryPlan, ...], together: bool = False
              ) -> list[threading.Thread]:
        """Start a thread per entry; each waits for its turn: the previous entry settled
        (unless `together`, a parallel group) or its `at` offset reached."""
        threads = []
        previous: threading.Event | None = None
        for entry in entries:
            settled = threading.Event()
            after = None if together or entry.at is not None else previous
            thread = threading.Thread(target=self._entry, args=(entry, after, settled),
                                      name=f"timeline {entry.label}", daemon=True)
            thread.start()
            threads.append(thread)
            previous = settled
        return threads

    def _entry(self, entry: EntryPlan, after: threading.Event | None,
               settled: threading.Event) -> None:
        try:
            if after is not None:
                while not after.wait(POLL) and not self.aborted.is_set():
                    pass
            elif entry.at is not None:
                start = self.events.start or time.time()
                self.halted.wait(max(0.0, start + entry.at - time.time()))
            if self.halted.is_set() or self.aborted.is_set():
                if entry.kind == "fault" and self.injector is not None:
                    self.injector.skip(entry.label, entry.detail)  # in the record, skipped
                return  # its steps are recorded as skipped
            EXECUTORS[entry.kind](self, entry)
        except BaseException as exc:  # noqa: BLE001 - handed to the coordinating thread
            self.fail(exc)
        finally:
            settled.set()

    def fail(self, exc: BaseException) -> None:
        """A worker's error ends the run: the coordinating thread raises the first."""
        with self._lock:
            self.failures.append(exc)
        self.halted.set()
        self.aborted.set()

    def wait_group(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            while thread.is_alive():
                thread.join(POLL)

    # -- processes -------------------------------------------------------------------
    def exec_step(self, step: StepPlan, instance: int | None = None,
                  stop: threading.Event | None = None) -> StepObservation:
        """Run one process of a step (one instance of a repeated one), output in its
        files, start and end as events."""
        base = self.steps_dir / (f"{step.number:02d}-{slug(step.name)}" +
                                 (f".{instance:03d}" if instance is not None else ""))
        out_path, err_path = Path(f"{base}.stdout"), Path(f"{base}.stderr")
        request, command = self._request(step, instance)
        if self.aborted.is_set():  # stopping: start nothing new
            return StepObservation(step.name, command, StepStatus.INTERRUPTED, None, None,
                                   None, None, None, instance=instance)
        stop = stop or threading.Event()
        on_line = self._line_events(step.name) if step.background else None
        with self._lock:
            self._stops.add(stop)
        if self.aborted.is_set():
            stop.set()
        self.events.add(ev.START, step.name, instance=instance,
                        detail="background" if step.background else "")
        if self.emit is not None:
            self.emit(progress.StepStarted(step.name, instance, step.background,
                                           (out_path, err_path)))
        started = time.time()
        result: api.ExecResult | None = None
        try:
            with masked_output(out_path, self.plan) as out, \
                    masked_output(err_path, self.plan) as err:
                tout, terr = ev.TimedLines(out, on_line), ev.TimedLines(err, on_line)
                if instance is None:  # a log wait may read it while it runs
                    self.outputs[step.name] = self._live(out_path, err_path, tout, terr)
                try:
                    # TimedLines writes through to the files: all exec uses of IO[bytes]
                    result = self.sandbox.main.exec(dataclasses.replace(request, stop=stop),
                                                    cast(IO[bytes], tout),
                                                    cast(IO[bytes], terr))
                except Interrupted:  # the record still shows the step and its output so far
                    if instance is None:
                        self.observe(step, StepObservation(
                            step.name, command, StepStatus.INTERRUPTED, None, started,
                            time.time(), out_path, err_path, background=step.background))
                    raise
                finally:
                    tout.finish()
                    terr.finish()
        except SandboxError:
            if not self.aborted.is_set():
                raise  # removed under us on an interrupt: that is the interrupt's story
        finally:
            with self._lock:
                self._stops.discard(stop)
        ended = time.time() if result is None else result.ended
        status = self._status(step, result)
        if result is not None and status is StepStatus.FAILED:
            with self._lock:  # the count is the container's: one reading at a time
                if self.memory.killed(result):
                    status = StepStatus.OOM_KILLED
        code = None if result is None else result.exit_code
        live = self.outputs.get(step.name) if instance is None else None
        if live is not None:
            live.ending = _ending(status, code)
        self.events.add(ev.STOPPED if status is StepStatus.STOPPED else ev.END, step.name,
                        at=ended, instance=instance, detail=_ending(status, code))
        if result is not None and status not in (StepStatus.STOPPED, StepStatus.INTERRUPTED):
            _refuse_unstarted(self.plan, step.name, code, out_path, err_path)
            if code == oom.SIGKILLED and not result.timed_out and not result.own_container:
                check_alive(self.sandbox)  # killed because someone removed the sandbox?
        return StepObservation(step.name, command, status, code,
                               started if result is None else result.started, ended,
                               out_path, err_path, instance=instance,
                               background=step.background,
                               line_times={"stdout": tout.times, "stderr": terr.times})

    def _request(self, step: StepPlan, instance: int | None) -> tuple[ExecRequest, str]:
        request = self.request_for(step)
        if instance is None:
            return request, step.command
        count = step.repeat.count if step.repeat is not None else 1
        env = {**request.env, INSTANCE_ENV: str(instance), INSTANCES_ENV: str(count)}
        argv, command = request.argv, step.command
        if step.instances:
            each = step.instances[instance - 1]
            argv, command = each.argv, each.command
            env.update(each.env)
        label = f"step {step.name!r} instance {instance}"
        return dataclasses.replace(request, argv=argv, env=env, label=label), command

    def _status(self, step: StepPlan, result: api.ExecResult | None) -> StepStatus:
        if result is None or (result.stopped and not step.background) or (
                result.stopped and self.aborted.is_set()):
            return StepStatus.INTERRUPTED
        if result.stopped:
            return StepStatus.STOPPED
        if result.timed_out:
            return StepStatus.TIMED_OUT
        return StepStatus.OK if result.exit_code == 0 else StepStatus.FAILED

    def _line_events(self, name: str) -> Callable[[float, str], None]:
        """A background step's lines become events (the first MAX_OUTPUT_EVENTS)."""
        count = [0]

        def on_line(moment: float, line: str) -> None:
            count[0] += 1
            if count[0] <= ev.MAX_OUTPUT_EVENTS:
                self.events.add(ev.OUTPUT, name, at=moment, detail=line)

        return on_line

    def _live(self, out_path: Path, err_path: Path, *streams: ev.TimedLines
              ) -> waits.StepOutput:
        def text() -> str:
            for stream in streams:
                stream.flush()
            return out_path.read_text(errors="replace") + err_path.read_text(errors="replace")

        return waits.StepOutput(text)

    def observe(self, step: StepPlan, observation: StepObservation) -> None:
        with self._lock:
            self.observed[step.number] = observation
        if self.on_step is not None:
            self.on_step(observation)
        if self.emit is not None:
            self.emit(progress.StepFinished.of(observation))
        if observation.failed and step.stop_on_failure and not step.background:
            self.halted.set()


# -- executors: one per entry kind ---------------------------------------------------


def run_entry(scheduler: Scheduler, entry: EntryPlan) -> None:
    step = entry.step
    assert step is not None
    if step.background:
        _background(scheduler, step)
    elif step.repeat is not None:
        _repeat(scheduler, step)
    else:
        scheduler.observe(step, scheduler.exec_step(step))


def _background(scheduler: Scheduler, step: StepPlan) -> None:
    """Start it and return at once: it runs until the foreground ends."""
    stop = threading.Event()

    def work() -> None:
        try:
            observation = scheduler.exec_step(step, stop=stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the coordinating thread
            scheduler.fail(exc)
            return
        scheduler.observe(step, observation)

    thread = threading.Thread(target=work, name=f"background {step.name}", daemon=True)
    scheduler._background.append((stop, thread))
    thread.start()


def _repeat(scheduler: Scheduler, step: StepPlan) -> None:
    """`count` instances, at most `concurrency` at once, each with its index."""
    assert step.repeat is not None
    count, at_once = step.repeat.count, step.repeat.at_once
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(1, count + 1):
        todo.put(index)
    done: dict[int, StepObservation] = {}
    failures: list[BaseException] = []

    def worker() -> None:
        while not scheduler.aborted.is_set():
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done[index] = scheduler.exec_step(step, index)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                failures.append(exc)
                return

    workers = [threading.Thread(target=worker, name=f"{step.name} user {n + 1}", daemon=True)
               for n in range(at_once)]
    for thread in workers:
        thread.start()
    scheduler.wait_group(workers)
    instances = [done[i] for i in sorted(done)]
    first = min((i.started_at for i in instances if i.started_at), default=None)
    last = max((i.ended_at for i in instances if i.ended_at), default=None)
    status = aggregate_status(instances) if instances else StepStatus.INTERRUPTED
    summary = ", ".join(f"{k} x{n}" for k, n in exit_counts(instances).items())
    scheduler.observe(step, StepObservation(
        step.name, step.command, status, None, first, last, None, None,
        instances=instances, repeat=step.repeat))
    if failures:
        raise failures[0]
    scheduler.events.add(ev.END, step.name, detail=f"{len(instances)} instances: {summary}",
                         at=last)


def wait_entry(scheduler: Scheduler, entry: EntryPlan) -> None:
    plan = entry.wait
    assert plan is not None
    try:
        held_at, seen = waits.wait(plan, scheduler.sandbox, scheduler.outputs.get,
                                   scheduler.aborted)
    except SandboxError as exc:
        scheduler.events.add(ev.WAIT_FAILED, entry.label, detail=str(exc))
        raise
    if not scheduler.aborted.is_set():
        scheduler.events.add(ev.WAITED, entry.label, at=held_at, detail=seen)


def parallel_entry(scheduler: Scheduler, entry: EntryPlan) -> None:
    scheduler.wait_group(scheduler.chain(entry.group, together=True))


def fault_entry(scheduler: Scheduler, entry: EntryPlan) -> None:
    """Something done to a service (execute.faults): recorded there and as events."""
    assert scheduler.injector is not None, "a plan with faults runs with an injector"
    scheduler.events.add(ev.START, entry.label, detail=entry.detail.describe())
    observation = scheduler.injector.apply(entry.label, entry.detail)
    scheduler.events.add(ev.END, entry.label, at=observation.ended_at or None,
                         detail=str(observation.status))


# Entry kind -> what runs it. A new kind registers here: its plan value rides in
# EntryPlan.detail, and it records its own events (`scheduler.events.add(...)`).
EXECUTORS: dict[str, Executor] = {"run": run_entry, "wait_for": wait_entry,
                                  "parallel": parallel_entry, "fault": fault_entry}


@contextmanager
def masked_output(path: Path, plan: Plan) -> Iterator[IO[bytes]]:
    """A step's output file, secrets masked as they are written (no kill can leave one)."""
    with path.open("wb") as raw, MaskingWriter(raw, plan.redactor) as writer:
        yield cast(IO[bytes], writer)


def _ending(status: StepStatus, code: int | None) -> str:
    if status is StepStatus.STOPPED:
        return "stopped by repro"
    if status in (StepStatus.OK, StepStatus.FAILED):
        return f"exit {code}"
    return str(status).replace("_", " ")


# What the engine prints when it cannot even start a step's process (as opposed to the
# step's own command failing): a setup mistake, never a verdict about the customer's bug.
_UNSTARTED = re.compile(r"^(OCI runtime exec failed|unable to find user|.*unable to start "
                        r"container process)")


def _refuse_unstarted(plan: Plan, name: str, code: int | None, *paths: Path) -> None:
    if code not in (126, 127):
        return
    texts = [path.read_bytes()[:2000].decode("utf-8", "replace").strip() for path in paths]
    reason = next((re.sub(r"^OCI runtime exec failed: (exec failed: )?", "", text)
                   for text in texts if _UNSTARTED.match(text)), None)
    if reason is None and not any(texts):
        # A shell that cannot run a command says so; silence with 126/127 is the engine
        # failing to start the process (its message does not always reach the stream).
        reason = f"the engine could not start it (exit {code})"
    if reason is not None:
        raise ConfigError(Problem(display_path(plan.scenario_path), None, f"steps.{name}",
                                  f"could not start: {reason[:200]}; check its run, user "
                                  "and workdir"))


def check_alive(sandbox: Sandbox) -> None:
    """SandboxError if the sandbox was stopped or removed from outside the run."""
    # A SIGKILL from outside reaches the step a moment before the engine marks the
    # container: look a few times before concluding it was the step's own fate.
    for _ in range(6):
        status = sandbox.main.state().status
        if status is not api.Status.RUNNING:
            break
        time.sleep(0.1)
    if status is not api.Status.RUNNING:
        raise SandboxError(f"the sandbox {sandbox.name} was stopped or removed from outside "
                           "during the run (`repro gc --run`, `docker rm`?); no verdict")

"""A backend shared by concurrent runs (`repro replay --jobs N`): each image is prepared
once however many runs ask for it at the same moment, and a cancellation reaches every
run's thread.

A signal arrives only in the main thread; the runs go on in worker threads. Cancelling
sets one flag that every engine call of every run checks, and stops the processes in
flight (the exec's own stop: TERM, then KILL), so each run raises `Interrupted` in its own
thread and its sandbox's own teardown removes what it made, as after a Ctrl-C of
`repro run`. This wraps any backend of the port, so it knows nothing of Docker.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, TypeVar

from repro.errors import Interrupted
from repro.sandbox.api import (
    Backend,
    ChangedImage,
    Check,
    ClockReach,
    Container,
    ContainerState,
    ExecRequest,
    ExecResult,
    ImageChange,
    ImageInfo,
    ImageSpec,
    Leftover,
    NetworkShape,
    Sandbox,
    SandboxSpec,
    Say,
)

T = TypeVar("T")


class Cancel:
    """One flag for every run of a replay, and the processes to stop when it is set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._stops: set[threading.Event] = set()
        self.signal_name = "SIGINT"

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self, signal_name: str = "SIGINT") -> None:
        with self._lock:
            if not self._event.is_set():
                self.signal_name = signal_name
            self._event.set()
            stops = list(self._stops)
        for stop in stops:
            stop.set()

    def check(self) -> None:
        """Raise Interrupted in the calling (worker) thread once cancelled."""
        if self._event.is_set():
            raise Interrupted(self.signal_name)

    @contextmanager
    def stopping(self, stop: threading.Event) -> Iterator[None]:
        """While the block runs, cancelling sets `stop` too."""
        with self._lock:
            self._stops.add(stop)
            if self._event.is_set():
                stop.set()
        try:
            yield
        finally:
            with self._lock:
                self._stops.discard(stop)


def _image_key(spec: ImageSpec) -> tuple[object, ...]:
    return (spec.ref, spec.context, spec.dockerfile, tuple(sorted(spec.build_args.items())))


class SharedBackend:
    """The port's Backend over another one, for runs in several threads at once."""

    def __init__(self, inner: Backend, cancel: Cancel):
        self.inner = inner
        self.cancel = cancel
        self._lock = threading.Lock()
        self._answers: dict[tuple[object, ...], Future[Any]] = {}
        self._once: dict[str, Future[None]] = {}

    def prepare_image(self, image: ImageSpec, environment: str, say: Say,
                      on_output: Say | None = None) -> ImageInfo:
        """The first caller prepares it; the others wait for the same answer (found ready
        for them: only the first one built it)."""
        info, first = self._first(("image", *_image_key(image)), lambda: self.inner.prepare_image(
            image, environment, say, on_output))
        return info if first else dataclasses.replace(info, built=False, seconds=0.0)

    def change_image(self, base: str, change: ImageChange, say: Say) -> ChangedImage:
        """Made once for every job that needs it at the same moment, like an image."""
        made, first = self._first(("change", base, change.key), lambda: self.inner.change_image(
            base, change, say))
        return made if first else dataclasses.replace(made, cached=True)

    def _first(self, key: tuple[object, ...], compute: Callable[[], T]) -> tuple[T, bool]:
        """compute()'s answer, computed by the first caller only (the others wait for it),
        and whether this caller was the first; a failure is not remembered."""
        self.cancel.check()
        with self._lock:
            future = self._answers.get(key)
            first = future is None
            if future is None:
                future = self._answers[key] = Future()
        if first:
            try:
                future.set_result(compute())
            except BaseException as exc:
                with self._lock:  # the next run tries again
                    del self._answers[key]
                future.set_exception(exc)
                raise
            return future.result(), True
        answer = future.result()
        self.cancel.check()
        return answer, False

    def _one_at_a_time(self, what: str, action: Callable[[], None]) -> None:
        """Done once for the whole replay when it succeeds; a failure is retried."""
        self.cancel.check()
        with self._lock:
            future = self._once.get(what)
            first = future is None
            if future is None:
                future = self._once[what] = Future()
        if not first:
            future.result()
            return
        try:
            action()
        except BaseException as exc:
            with self._lock:
                del self._once[what]
            future.set_exception(exc)
            raise
        future.set_result(None)

    def prepare_clock(self, say: Say) -> None:
        self._one_at_a_time("clock", lambda: self.inner.prepare_clock(say))

    def check_network_shaping(self, say: Say) -> None:
        self._one_at_a_time("shaping", lambda: self.inner.check_network_shaping(say))

    @contextmanager
    def _open(self, spec: SandboxSpec) -> Iterator[Sandbox]:
        self.cancel.check()
        with self.inner.open(spec) as sandbox:
            yield SharedSandbox(sandbox, self.cancel)

    def open(self, spec: SandboxSpec) -> AbstractContextManager[Sandbox]:
        return self._open(spec)

    def facts(self) -> dict[str, str]:
        return self.inner.facts()

    def check_session(self) -> None:
        self.inner.check_session()

    def collect(self, run_id: str | None, include_kept: bool, dry_run: bool,
                force: bool) -> list[Leftover]:
        return self.inner.collect(run_id, include_kept, dry_run, force)

    def collect_images(self, environment: str | None, dry_run: bool) -> list[Leftover]:
        return self.inner.collect_images(environment, dry_run)

    def make_base(self, name: str, force: bool, say: Say) -> str:
        return self.inner.make_base(name, force, say)

    def zone_file(self, zone: str, say: Say) -> bytes | None:
        return self.inner.zone_file(zone, say)

    def support_images(self) -> list[str]:
        return self.inner.support_images()

    def save_image(self, ref: str, out: IO[bytes]) -> str:
        return self.inner.save_image(ref, out)

    def load_image(self, ref: str, image_id: str, source: Callable[[], IO[bytes]],
                   say: Say) -> bool:
        return self.inner.load_image(ref, image_id, source, say)

    def diagnose(self) -> list[Check]:
        return self.inner.diagnose()


class SharedSandbox:
    """A live sandbox whose containers answer a cancellation."""

    def __init__(self, inner: Sandbox, cancel: Cancel):
        self.inner = inner
        self.cancel = cancel
        self._main = SharedContainer(inner.main, cancel)
        self._services = {name: SharedContainer(c, cancel) for name, c in inner.services.items()}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def main(self) -> Container:
        return self._main

    @property
    def services(self) -> Mapping[str, Container]:
        return self._services

    def enter_hint(self, container: str | None = None) -> str:
        return self.inner.enter_hint(container)

    def session(self, container: str | None, argv: list[str]) -> int:
        return self.inner.session(container, argv)

    def disconnect(self, service: str) -> None:
        self.cancel.check()
        self.inner.disconnect(service)

    def reconnect(self, service: str) -> None:
        self.cancel.check()
        self.inner.reconnect(service)

    def shape_network(self, service: str, shape: NetworkShape | None) -> None:
        self.cancel.check()
        self.inner.shape_network(service, shape)

    def start_clock(self) -> float:
        self.cancel.check()
        return self.inner.start_clock()


class SharedContainer:
    """Every call first checks the cancellation; an exec is stopped by it."""

    def __init__(self, inner: Container, cancel: Cancel):
        self.inner = inner
        self.cancel = cancel

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def address(self) -> str:
        return self.inner.address

    def start(self) -> None:
        self.cancel.check()
        self.inner.start()

    def copy_in(self, tar: IO[bytes] | bytes) -> None:
        self.cancel.check()
        self.inner.copy_in(tar)

    def copy_out(self, path: str) -> Iterator[bytes] | None:
        self.cancel.check()
        return self.inner.copy_out(path)

    def exec(self, request: ExecRequest, stdout: IO[bytes], stderr: IO[bytes]) -> ExecResult:
        self.cancel.check()
        if request.stop is None:
            request = dataclasses.replace(request, stop=threading.Event())
        assert request.stop is not None
        with self.cancel.stopping(request.stop):
            result = self.inner.exec(request, stdout, stderr)
        self.cancel.check()  # stopped by the cancellation: the run ends interrupted
        return result

    def state(self) -> ContainerState:
        self.cancel.check()
        return self.inner.state()

    def logs(self, tail: int | None = None) -> str:
        self.cancel.check()
        return self.inner.logs(tail)

    def memory_kills(self) -> int | None:
        return self.inner.memory_kills()

    def stop(self) -> None:
        self.cancel.check()
        self.inner.stop()

    def kill(self, signal: str) -> None:
        self.cancel.check()
        self.inner.kill(signal)

    def restart(self) -> None:
        self.cancel.check()
        self.inner.restart()

    def pause(self) -> None:
        self.cancel.check()
        self.inner.pause()

    def unpause(self) -> None:
        self.cancel.check()
        self.inner.unpause()

    def clock_reach(self) -> ClockReach | None:
        self.cancel.check()
        return self.inner.clock_reach()

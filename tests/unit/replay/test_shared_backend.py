"""The backend a replay shares between its runs, on the fake backend: an image asked for
by many runs at once is prepared once, and a cancellation from another thread ends every
run interrupted with its sandbox removed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from repro import pipeline
from repro.errors import Interrupted, SandboxError
from repro.results.outcome import RunStatus, StepStatus
from repro.sandbox.api import ChangedImage, ImageChange, ImageInfo, ImageSpec
from repro.sandbox.shared import Cancel, SharedBackend

from ..fake_backend import Answer, FakeBackend, FakeContainer


class SlowImages(FakeBackend):
    """Building takes a while: long enough for every thread to ask at the same moment."""

    def prepare_image(self, image: ImageSpec, environment: str, say,
                      on_output=None) -> ImageInfo:
        time.sleep(0.2)
        return super().prepare_image(image, environment, say, on_output)


def test_an_image_many_runs_need_at_once_is_prepared_once() -> None:
    inner = SlowImages()
    shared = SharedBackend(inner, Cancel())
    spec = ImageSpec(None, Path("/ctx"), build_args={"v": "1"})
    infos: list[ImageInfo] = []
    threads = [threading.Thread(target=lambda: infos.append(
        shared.prepare_image(spec, "env", lambda _: None))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inner.images) == 1
    assert {i.id for i in infos} == {"id-of-fake/env:built"}
    assert sum(i.built for i in infos) == 1  # only the run that built it says so
    shared.prepare_image(ImageSpec(None, Path("/ctx"), build_args={"v": "2"}), "env",
                         lambda _: None)
    assert len(inner.images) == 2  # another build argument is another image


def test_an_image_change_many_runs_need_at_once_is_made_once() -> None:
    class SlowChanges(FakeBackend):
        def change_image(self, base, change, say):
            time.sleep(0.2)
            return super().change_image(base, change, say)

    inner = SlowChanges()
    inner.change_exits["img"] = (10, "")
    shared = SharedBackend(inner, Cancel())
    change = ImageChange("the locale de_DE", "locale de_DE", "exit 10", (), changed=10)
    made: list[ChangedImage] = []
    threads = [threading.Thread(target=lambda: made.append(
        shared.change_image("img", change, lambda _: None))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inner.changes) == 1 and {m.id for m in made} == {"img+locale de_DE"}
    assert sum(not m.cached for m in made) == 1  # the others found it made


def test_a_failed_preparation_is_tried_again_by_the_next_run() -> None:
    class Flaky(FakeBackend):
        calls = 0

        def prepare_image(self, image, environment, say, on_output=None):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise SandboxError("registry hiccup")
            return super().prepare_image(image, environment, say, on_output)

    shared = SharedBackend(Flaky(), Cancel())
    spec = ImageSpec("busybox")
    with pytest.raises(SandboxError, match="registry hiccup"):
        shared.prepare_image(spec, "e", lambda _: None)
    assert shared.prepare_image(spec, "e", lambda _: None).ref == "busybox"


def test_cancelling_from_another_thread_interrupts_runs_and_removes_their_sandboxes(
        project) -> None:
    project.environment("e", "image: busybox\n")
    project.scenario("LONG", "environment: e\nsteps: [{name: wait, run: 'sleep 60'}]\n"
                     "oracle: {any: [{step: wait, exit_code: 0}]}\n")
    plan, _ = pipeline.prepare(Path("LONG"), [])
    mains = [FakeContainer(f"m{n}", default=Answer(seconds=60)) for n in range(3)]
    inners = [FakeBackend({"sandbox": main}) for main in mains]
    cancel = Cancel()
    outcomes: list[pipeline.RunOutcome] = []
    threads = [threading.Thread(target=lambda b=b: outcomes.append(pipeline.run(
        plan, lambda _: None, backend=SharedBackend(b, cancel)))) for b in inners]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while not all(main.execs for main in mains):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    began = time.monotonic()
    cancel.set("SIGTERM")
    for thread in threads:
        thread.join(10)
    assert time.monotonic() - began < 5  # not the step's 60 s
    assert len(outcomes) == 3
    for outcome in outcomes:
        assert isinstance(outcome.error, Interrupted)
        assert str(outcome.error).startswith("interrupted by SIGTERM")
        assert outcome.record.status == RunStatus.INTERRUPTED
        assert [s.status for s in outcome.record.steps] == [StepStatus.INTERRUPTED]
    assert all(len(b.removed) == 1 for b in inners)


def test_after_a_cancellation_no_run_starts() -> None:
    cancel = Cancel()
    cancel.set()
    shared = SharedBackend(FakeBackend(), cancel)
    with pytest.raises(Interrupted):
        shared.prepare_image(ImageSpec("busybox"), "e", lambda _: None)
    assert shared.inner.images == []  # type: ignore[attr-defined]

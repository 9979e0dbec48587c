"""Run a plan in a sandbox: image, data, steps, captures, oracle -> a written RunRecord."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from repro.config import model
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Interrupted, Problem, ReproError, SandboxError
from repro.execute import archive, clock, conditions, faults, oom, owner, services
from repro.plan.values import ImagePlan, Plan, StepPlan
from repro.redact import MaskingWriter
from repro.results import oracle
from repro.results.observations import CaptureObservation, StepObservation
from repro.results.outcome import RunStatus, StepStatus
from repro.results.reader import runs_dir
from repro.results.record import RunRecord, new_run_id
from repro.sandbox import api
from repro.sandbox.api import Backend, Sandbox

Say = Callable[[str], None]
Pause = Callable[[Sandbox, RunRecord], None]


def run(plan: Plan, say: Say, *, backend: Backend, keep: bool = False,
        on_step: Callable | None = None, replay: bool = True, pause: Pause | None = None
        ) -> tuple[RunRecord, ReproError | None]:
    """Execute the plan in a sandbox of `backend`; the record is written whatever happens.

    Returns the record and the handled error that ended the run early (None when it
    completed). `pause` is called with the live sandbox after the verdict and before
    teardown (`repro shell`); `replay=False` loads data and config but runs no step.
    Only a bug (an unexpected exception) propagates, after the record is written.
    """
    run_id = new_run_id(plan.scenario_id)
    record = RunRecord(plan, run_id, runs_dir(plan.project_root) / run_id)
    record.directory.mkdir(parents=True)
    record.write()  # status running: even a `kill -9` leaves a record saying so
    try:
        info = backend.prepare_image(_image_spec(plan.image), plan.environment, say)
        record.image = {"ref": info.ref, "id": info.id, "built": info.built,
                        "prepare_s": round(info.seconds, 3)}
        record.facts = backend.facts()
        service_images = {}
        for svc in plan.services:
            svc_info = backend.prepare_image(_image_spec(svc.image),
                                             f"{plan.environment}-{svc.name}", say)
            service_images[svc.name] = svc_info.id
            record.services[svc.name] = {"image": svc_info.ref, "image_id": svc_info.id,
                                         "built": svc_info.built}
        faults.prepare(plan, backend, say)
        clock.prepare(plan, backend, record, say)
        own_data = [d for d in plan.data if d.service is None]
        spec = _sandbox_spec(plan, run_id, keep, info.id, service_images)
        with backend.open(spec) as sandbox:
            record.sandbox, record.kept = sandbox.name, keep
            record.enter_hint = sandbox.enter_hint()
            conditions.before_start(plan, backend, sandbox, record, say)
            if plan.files or own_data:
                # The data goes to the environment's user (it may need to write there).
                data_owner = owner.ids(plan, sandbox.main, plan.user) \
                    if plan.user and own_data else None
                with archive.pack(plan.files, own_data, data_owner) as stream:
                    sandbox.main.copy_in(stream)
            # The steps' container starts while the services get ready: its own start
            # then costs nothing on the way to the first step.
            starting = _in_background(sandbox.main.start)
            if plan.services:
                services.bring_up(plan, sandbox, record, say)
            starting()
            conditions.prepare_locale(plan, sandbox, record)
            clock.check(plan, sandbox, record, say)
            started = clock.start(plan, sandbox, record)  # a shell without steps: now
            if replay:
                try:
                    with faults.Faults(sandbox, record.faults, say) as injector:
                        _run_steps(plan, sandbox, record, on_step, injector)
                finally:
                    clock.finish(plan, record, started)
                _capture(plan, sandbox, record)
                services.read_state(plan, sandbox, record)
                record.reproduced, record.oracle = oracle.evaluate(
                    plan.oracle, record.steps, record.captures)
                record.scrub_artifacts()  # secrets never reach a comparison or baseline
            record.status = RunStatus.COMPLETE if replay else RunStatus.NOT_REPLAYED
            if pause is not None:
                pause(sandbox, record)
    except Interrupted as exc:
        record.status = RunStatus.INTERRUPTED
        outcome = _kept(record) if keep and record.sandbox else _removal(backend, run_id)
        failure: ReproError | None = Interrupted(exc.signal_name, outcome)
        record.error = str(failure)
    except ReproError as exc:
        record.status, record.error, failure = RunStatus.ERROR, str(exc), exc
        if keep and record.sandbox:
            say(_kept(record))
    except BaseException as exc:
        record.status, record.error = RunStatus.ERROR, f"internal error: {exc!r}"
        raise
    else:
        failure = None
    finally:
        record.scrub_artifacts()
        record.write()
    if failure is not None:
        say(f"record: {display_path(record.path)}")
    return record, failure


@contextmanager
def masked_output(path: Path, plan: Plan) -> Iterator[IO[bytes]]:
    """A step's output file, secrets masked as they are written (no kill can leave one)."""
    with path.open("wb") as raw, MaskingWriter(raw, plan.redactor) as writer:
        yield writer  # type: ignore[misc]


def _in_background(action: Callable, *args: object) -> Callable[[], None]:
    """Run `action` in a thread; the returned function waits and re-raises its error."""
    import threading

    failure: list[BaseException] = []

    def work() -> None:
        try:
            action(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failure.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if failure:
            raise failure[0]

    return wait


def _removal(backend: Backend, run_id: str) -> str:
    """What became of an interrupted run's sandbox, as the engine says (never assumed)."""
    try:
        left = backend.collect(run_id, include_kept=True, dry_run=True, force=True)
    except SandboxError:
        return (f"could not check that the sandbox was removed: run `repro gc --run "
                f"{run_id}` when the engine answers")
    if not left:
        return "the sandbox was removed"
    names = ", ".join(f"{x.kind} {x.name}" for x in left)
    return f"could not remove {names}: `repro gc --run {run_id}` removes it"


def _kept(record: RunRecord) -> str:
    return (f"the sandbox {record.sandbox} was kept (--keep): enter it with "
            f"`{record.enter_hint}`, remove it with `repro gc --run {record.run_id}`")


def _image_spec(image: ImagePlan) -> api.ImageSpec:
    return api.ImageSpec(image.ref, image.context, image.dockerfile, dict(image.build_args))


def _limits(limits: model.Limits) -> api.Limits:
    return conditions.limits(limits)


def _sandbox_spec(plan: Plan, run_id: str, keep: bool, image_id: str,
                  service_images: dict[str, str]) -> api.SandboxSpec:
    main = api.ContainerSpec("sandbox", image_id, dict(plan.env), workdir=plan.workdir,
                             user=plan.user, limits=_limits(plan.limits))
    return api.SandboxSpec(run_id, plan.scenario_id, conditions.applied(plan, main, True), tuple(
        conditions.applied(plan, api.ContainerSpec(
            svc.name, service_images[svc.name], dict(svc.env), command=svc.command,
            limits=_limits(svc.limits)), False)
        for svc in plan.services), egress=plan.egress, keep=keep, clock=clock.spec(plan))


def _exec_request(step: StepPlan) -> api.ExecRequest:
    return api.ExecRequest(step.argv, dict(step.env), step.workdir, step.user, step.stdin,
                           step.timeout, label=f"step {step.name!r}")


def _check_alive(sandbox: Sandbox) -> None:
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


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "step"


def _run_steps(plan: Plan, sandbox: Sandbox, record: RunRecord,
               on_step: Callable | None, injector: faults.Faults) -> None:
    steps_dir = record.directory / "steps"
    steps_dir.mkdir()
    stopped = False
    memory = oom.MemoryWatch(sandbox.main)
    for number, step in enumerate(plan.steps, 1):
        if step.fault is not None:  # done to a service: an event, not a command
            (injector.skip if stopped else injector.apply)(step.name, step.fault)
            continue
        if stopped:
            record.steps.append(StepObservation(step.name, step.command, StepStatus.SKIPPED, None,
                                                None, None, None, None))
            continue
        base = steps_dir / f"{number:02d}-{_slug(step.name)}"
        out_path, err_path = base.with_suffix(".stdout"), base.with_suffix(".stderr")
        started = time.time()
        try:
            with masked_output(out_path, plan) as out, masked_output(err_path, plan) as err:
                result = sandbox.main.exec(_exec_request(step), out, err)
        except Interrupted:  # the record still shows the step and its output so far
            record.steps.append(StepObservation(step.name, step.command,
                                                StepStatus.INTERRUPTED, None,
                                                started, time.time(), out_path, err_path))
            raise
        _refuse_unstarted(plan, step.name, result.exit_code, out_path, err_path)
        if result.exit_code == 137 and not result.timed_out:
            _check_alive(sandbox)  # killed because someone removed the sandbox?
        status = StepStatus.TIMED_OUT if result.timed_out else (
            StepStatus.OK if result.exit_code == 0 else StepStatus.FAILED)
        if memory.killed(result):
            status = StepStatus.OOM_KILLED
        observation = StepObservation(step.name, step.command, status, result.exit_code,
                                      result.started, result.ended, out_path, err_path)
        record.steps.append(observation)
        if on_step is not None:
            on_step(observation)
        stopped = observation.failed and step.stop_on_failure


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


def _capture(plan: Plan, sandbox: Sandbox, record: RunRecord) -> None:
    files_dir = record.directory / "files"
    for capture in plan.captures:
        files_dir.mkdir(exist_ok=True)
        dest = files_dir / _slug(capture.name)
        kind = archive.fetch(sandbox.main, capture.path, dest)
        record.captures.append(CaptureObservation(capture.name, capture.path, kind,
                                                  dest if kind else None))

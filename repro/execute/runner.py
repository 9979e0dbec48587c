"""Run a plan in a sandbox: image, data, steps, captures, oracle -> a written RunRecord."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from repro.config.yaml_source import display_path
from repro.errors import Interrupted, ReproError, SandboxError
from repro.execute import archive, clock, conditions, faults, one_shot, owner, services, timeline
from repro.plan.values import ImagePlan, Plan, StepPlan
from repro.results import oracle
from repro.results import progress as shown
from repro.results import timeline as events
from repro.results.observations import CaptureObservation
from repro.results.outcome import RunStatus
from repro.results.reader import runs_dir
from repro.results.record import RunRecord, new_run_id
from repro.sandbox import api
from repro.sandbox.api import Backend, Sandbox

Say = Callable[[str], None]
Pause = Callable[[Sandbox, RunRecord], None]


def run(plan: Plan, say: Say, *, backend: Backend, keep: bool = False,
        on_step: Callable | None = None, replay: bool = True, pause: Pause | None = None,
        purpose: str = "run", runs: Path | None = None, case: dict | None = None,
        progress: shown.Emit | None = None
        ) -> tuple[RunRecord, ReproError | None]:
    """Execute the plan in a sandbox of `backend`; the record is written whatever happens.

    Returns the record and the handled error that ended the run early (None when it
    completed). `pause` is called with the live sandbox after the verdict and before
    teardown (`repro shell`); `replay=False` loads data and config but runs no step.
    Only a bug (an unexpected exception) propagates, after the record is written. The
    record goes to `runs` (default: the plan's project's `.repro/runs`). `progress` hears
    what happens as it happens (repro.results.progress), masked.
    """
    emit = shown.masked(progress, plan.redactor) if progress is not None else None
    run_id = new_run_id(plan.scenario_id)
    record = RunRecord(plan, run_id, (runs or runs_dir(plan.project_root)) / run_id,
                       purpose=purpose, case=case)
    record.directory.mkdir(parents=True)
    record.write()  # status running: even a `kill -9` leaves a record saying so
    try:
        info = _prepare(backend, plan.image, plan.environment, say, emit)
        record.image = {"ref": info.ref, "id": info.id, "built": info.built,
                        "prepare_s": round(info.seconds, 3)}
        record.facts = backend.facts()
        service_images = {}
        for svc in plan.services:
            svc_info = _prepare(backend, svc.image, f"{plan.environment}-{svc.name}", say,
                                emit)
            service_images[svc.name] = svc_info.id
            record.services[svc.name] = {"image": svc_info.ref, "image_id": svc_info.id,
                                         "built": svc_info.built}
        images = conditions.with_locale(plan, backend, {"sandbox": info.id, **service_images},
                                        record, say)
        archive.say_skipped(plan.data, say)
        faults.prepare(plan, backend, say)
        clock.prepare(plan, backend, record, say)
        own_data = [d for d in plan.data if d.service is None]
        only = one_shot.step_for(plan, replay=replay, keep=keep, session=pause is not None)
        spec = _sandbox_spec(plan, run_id, keep, images, _exec_request(only) if only else None)
        with backend.open(spec) as sandbox:
            record.sandbox, record.kept = sandbox.name, keep
            record.one_shot = only is not None
            record.enter_hint = sandbox.enter_hint()
            conditions.before_start(plan, backend, sandbox, record, say)
            if plan.files or own_data:
                # The data goes to the environment's user (it may need to write there).
                data_owner = owner.ids(plan, sandbox.main, plan.user) if plan.user and (
                    own_data or any(f.user_owned for f in plan.files)) else None
                with archive.pack(plan.files, own_data, data_owner) as stream:
                    sandbox.main.copy_in(stream)
            # The steps' container starts while the services get ready: its own start
            # then costs nothing on the way to the first step.
            starting = _in_background(sandbox.main.start)
            if plan.services:
                services.bring_up(plan, sandbox, record, say, emit)
                record.timeline.add(events.READY, "services",
                                    detail=", ".join(s.name for s in plan.services))
            starting()
            clock.check(plan, sandbox, record, say)
            started = clock.start(plan, sandbox, record)  # a shell without steps: now
            if replay:
                clock.on_events(plan, record, started)  # events carry the sandbox's time
                try:
                    with faults.Faults(sandbox, record.faults, say) as injector:
                        _run_steps(plan, sandbox, record, on_step, injector, emit)
                finally:
                    clock.finish(plan, record, started)
                captured_at = time.time()
                _capture(plan, sandbox, record)
                services.read_state(plan, sandbox, record)
                record.reproduced, record.oracle = oracle.evaluate(
                    plan.oracle, record.steps, record.captures, captured_at)
                _when(plan, record)
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


def _when(plan: Plan, record: RunRecord) -> None:
    """The moment the oracle first held, in the record and among the events."""
    record.when = oracle.first_held(plan.oracle, record.oracle)
    if record.when is not None:
        where = record.when.step or "captures"
        record.timeline.add(events.ORACLE, where, at=record.when.time,
                            instance=record.when.instance,
                            detail=record.when.line or record.when.condition)


def _kept(record: RunRecord) -> str:
    return (f"the sandbox {record.sandbox} was kept (--keep): enter it with "
            f"`{record.enter_hint}`, remove it with `repro gc --run {record.run_id}`")


def _prepare(backend: Backend, image: ImagePlan, name: str, say: Say,
             emit: shown.Emit | None) -> api.ImageInfo:
    """The image, its build's output lines and its readiness as progress."""
    on_output = None if emit is None else (
        lambda line: emit(shown.BuildLine(name, line)))
    info = backend.prepare_image(_image_spec(image), name, say, on_output)
    if emit is not None:
        emit(shown.ImageReady(name, info.ref, info.built, info.seconds))
    return info


def _image_spec(image: ImagePlan) -> api.ImageSpec:
    return api.ImageSpec(image.ref, image.context, image.dockerfile, dict(image.build_args))



def _sandbox_spec(plan: Plan, run_id: str, keep: bool, images: dict[str, str],
                  only: api.ExecRequest | None = None) -> api.SandboxSpec:
    """`images`: the image id of each container, by role ("sandbox" for the steps')."""
    main = api.ContainerSpec("sandbox", images["sandbox"], dict(plan.env), workdir=plan.workdir,
                             user=plan.user, limits=conditions.limits(plan.limits))
    return api.SandboxSpec(run_id, plan.scenario_id, conditions.applied(plan, main, True), tuple(
        conditions.applied(plan, api.ContainerSpec(
            svc.name, images[svc.name], dict(svc.env), command=svc.command,
            limits=conditions.limits(svc.limits), tmpfs=dict(svc.tmpfs)), False)
        for svc in plan.services), egress=plan.egress, keep=keep, clock=clock.spec(plan),
        one_shot=only)


def _exec_request(step: StepPlan) -> api.ExecRequest:
    return api.ExecRequest(step.argv, dict(step.env), step.workdir, step.user, step.stdin,
                           step.timeout, label=f"step {step.name!r}")


def _run_steps(plan: Plan, sandbox: Sandbox, record: RunRecord,
               on_step: Callable | None, injector: faults.Faults,
               emit: shown.Emit | None) -> None:
    """The steps as a timeline (execute.timeline): offsets, background, waits, users,
    faults."""
    timeline.Scheduler(plan, sandbox, record, _exec_request, on_step, injector, emit).run()


def _capture(plan: Plan, sandbox: Sandbox, record: RunRecord) -> None:
    files_dir = record.directory / "files"
    for capture in plan.captures:
        files_dir.mkdir(exist_ok=True)
        dest = files_dir / timeline.slug(capture.name)
        kind = archive.fetch(sandbox.main, capture.path, dest)
        record.captures.append(CaptureObservation(capture.name, capture.path, kind,
                                                  dest if kind else None))

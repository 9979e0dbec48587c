"""One run's live Docker resources: a container (and a network when egress is allowed)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from repro.errors import SandboxError
from repro.execute import archive
from repro.plan.values import Plan, StepPlan
from repro.sandbox.docker import labels
from repro.sandbox.docker.engine import client, translated
from repro.signals import shielded

# PID 1 of the sandbox: idles until removed and reaps what steps leave behind.
KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
# Run as root in the sandbox when a step times out: every process but PID 1 and this one.
KILL_ALL = ["sh", "-c", "kill -KILL -1 2>/dev/null; exit 0"]
HOSTNAME = "sandbox"  # fixed, so outputs do not differ from run to run
MAX_OUTPUT = int(os.environ.get("REPRO_MAX_OUTPUT", 512 * 1024 * 1024))  # per stream


@dataclass
class ExecResult:
    exit_code: int | None
    timed_out: bool
    started: float
    ended: float


class DockerSandbox:
    """Created by `open_sandbox`; every method raises SandboxError on engine failure."""

    def __init__(self, container: Any, network: Any | None,
                 services: dict[str, Any] | None = None):
        self.container = container
        self.network = network
        self.services = services or {}

    @property
    def name(self) -> str:
        return self.container.name

    def load(self, stream: IO[bytes]) -> None:
        with translated("copying data into the sandbox"):
            if not self.container.put_archive("/", stream):
                raise SandboxError("the engine refused the data copy into the sandbox")

    def chown(self, user: str, paths: list[str]) -> None:
        """Give loaded data to the environment's user (it may need to write there)."""
        if not paths:
            return
        owner = user if ":" in user else f"{user}:"
        if owner.endswith(":") and user.isdigit():
            owner = f"{user}:{user}"
        with translated("handing the loaded data to the sandbox user"):
            code, out = self.container.exec_run(["chown", "-R", owner, *paths], user="0")
        if code != 0:
            raise SandboxError(f"chown {owner} of the loaded data failed: "
                               f"{out.decode(errors='replace').strip()[:200]}")

    def exec(self, step: StepPlan, stdout: IO[bytes], stderr: IO[bytes]) -> ExecResult:
        """Run one step; the container's env, workdir and user apply unless it overrides."""
        api = client().api
        with translated(f"starting step {step.name!r}"):
            exec_id = api.exec_create(
                self.container.id, list(step.argv), stdout=True, stderr=True,
                stdin=step.stdin is not None, environment=dict(step.env) or None,
                workdir=step.workdir, user=step.user or "")["Id"]
            sock = api.exec_start(exec_id, socket=True)
        raw = getattr(sock, "_sock", sock)
        raw.settimeout(None)  # a step may be silent for longer than the client timeout
        started = time.time()
        reader = threading.Thread(target=_pump, args=(sock, stdout, stderr), daemon=True)
        reader.start()
        if step.stdin is not None:
            # Fed from its own thread: a step that never reads its input must still
            # meet its timeout.
            threading.Thread(target=_feed, args=(raw, step.stdin), daemon=True).start()
        try:
            reader.join(step.timeout)
            timed_out = reader.is_alive()
            if timed_out:
                self._kill_step(exec_id)
                reader.join(10)
        finally:
            if reader.is_alive():
                _close(raw)
        ended = time.time()
        with translated(f"reading the exit code of step {step.name!r}"):
            exit_code = api.exec_inspect(exec_id).get("ExitCode")
        return ExecResult(exit_code, timed_out, started, ended)

    def check_alive(self) -> None:
        """SandboxError if the sandbox was stopped or removed from outside the run."""
        import docker

        # A SIGKILL from outside reaches the step a moment before the engine marks the
        # container: look a few times before concluding it was the step's own fate.
        for _ in range(6):
            try:
                state = client().api.inspect_container(self.container.id)["State"]
            except docker.errors.NotFound:
                state = {"Status": "removed"}
            if state.get("Status") != "running":
                break
            time.sleep(0.1)
        if state.get("Status") != "running":
            raise SandboxError(f"the sandbox {self.name} was stopped or removed from outside "
                               "during the run (`repro gc --run`, `docker rm`?); no verdict")

    def _kill_step(self, exec_id: str) -> None:
        """Kill the timed-out step and everything it started: each exec is its own process
        group in the sandbox. Without its in-sandbox pid (a remote engine), every
        process but PID 1 goes."""
        with translated("stopping a timed-out step"):
            inner = _pid_in_sandbox(client().api.exec_inspect(exec_id).get("Pid"))
            command = KILL_ALL if inner is None else [
                "sh", "-c", f"kill -KILL -{inner} 2>/dev/null || kill -KILL {inner}; exit 0"]
            self.container.exec_run(command, user="0")

    def fetch(self, path: str, dest: Path) -> str | None:
        """Copy `path` out of the sandbox to `dest`: 'file', 'dir', or None if absent.
        Symbolic links are followed (a few levels), as a reader of the path would."""
        import posixpath

        import docker

        for _ in range(8):
            try:
                stream, _ = self.container.get_archive(path)
            except docker.errors.NotFound:
                return None
            except docker.errors.APIError as exc:
                raise SandboxError(f"capturing {path} failed: {exc.explanation}") from None
            kind = archive.read_member(stream, dest)
            if not kind.startswith("link:"):
                return kind
            path = posixpath.join(posixpath.dirname(path), kind.removeprefix("link:"))
        raise SandboxError(f"capturing {path} failed: too many levels of symbolic links")


def _pid_in_sandbox(host_pid: int | None) -> int | None:
    """The sandbox's own number for a process the engine reports by host pid, read from
    /proc when repro runs on the engine's host."""
    if not host_pid:
        return None
    try:
        status = open(f"/proc/{host_pid}/status").read()  # noqa: SIM115 - tiny read
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("NSpid:") and len(line.split()) > 2:
            return int(line.split()[-1])
    return None


def _pump(sock: Any, stdout: IO[bytes], stderr: IO[bytes]) -> None:
    """Copy the step's output to its files, each cut at MAX_OUTPUT (a step printing in a
    loop must not fill the disk before its timeout)."""
    from docker.utils.socket import frames_iter

    written = {1: 0, 2: 0}
    try:
        for stream, data in frames_iter(sock, tty=False):
            key = 2 if stream == 2 else 1
            target = stderr if key == 2 else stdout
            room = MAX_OUTPUT - written[key]
            if room > 0:
                target.write(data[:room])
                if len(data) >= room:
                    target.write(f"\n[repro: output cut at {MAX_OUTPUT} bytes]\n".encode())
            written[key] += len(data)
    except (OSError, ValueError):
        pass  # the socket was closed under us after a timeout


def _feed(raw: socket.socket, data: bytes) -> None:
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)  # end of input for the step
    except OSError:
        pass  # the step exited without reading all of its input


def _close(raw: socket.socket) -> None:
    try:
        raw.shutdown(socket.SHUT_RDWR)
        raw.close()
    except OSError:
        pass


def container_name(run_id: str) -> str:
    return f"repro-{run_id}"


def _host_config(api: Any, network: str | None, limits: Any) -> Any:
    return api.create_host_config(
        network_mode=network or "none",
        nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
        mem_limit=limits.memory, pids_limit=limits.pids)


def _model(engine: Any, created: dict, name: str) -> Any:
    # A model without the inspect round trip the high-level create() makes.
    return engine.containers.prepare_model({"Id": created["Id"], "Name": "/" + name})


@contextmanager
def open_sandbox(plan: Plan, image_id: str, run_id: str, keep: bool,
                 service_images: dict[str, str] | None = None) -> Iterator[DockerSandbox]:
    """Create the run's network, service containers and sandbox; remove them all on
    leaving, whatever happens, unless `keep`. Nothing is started here."""
    engine = client()
    api = engine.api
    run_labels = labels.for_run(run_id, plan.scenario_id, keep)
    name = container_name(run_id)
    # A private network when there are services to reach (internal: no egress) or when
    # egress is allowed; otherwise no network at all.
    wants_network = bool(plan.services) or plan.egress
    network = container = None
    services: dict[str, Any] = {}
    ready = False  # --keep keeps a complete sandbox only, never half of one
    try:
        with translated("creating the sandbox"):
            if wants_network:
                network = engine.networks.create(name, driver="bridge",
                                                  internal=not plan.egress, labels=run_labels)
            for svc in plan.services:
                svc_name = f"{name}-{svc.name}"
                created = api.create_container(
                    (service_images or {})[svc.name], command=list(svc.command)
                    if svc.command else None, name=svc_name, hostname=svc.name,
                    labels={**run_labels, labels.SERVICE: svc.name}, environment=svc.env,
                    host_config=_host_config(api, name, svc.limits),
                    networking_config=api.create_networking_config(
                        {name: api.create_endpoint_config(aliases=[svc.name])}))
                services[svc.name] = _model(engine, created, svc_name)
                if svc.files:
                    with archive.pack(svc.files, ()) as stream:
                        services[svc.name].put_archive("/", stream)  # in `translated`
            created = api.create_container(
                image_id, entrypoint=KEEPALIVE, command=[], name=name, hostname=HOSTNAME,
                labels=run_labels, environment=plan.env, working_dir=plan.workdir or None,
                user=plan.user or None,
                host_config=_host_config(api, name if network else None, plan.limits),
                networking_config=api.create_networking_config(
                    {name: api.create_endpoint_config(aliases=[HOSTNAME])}) if network else None)
            container = _model(engine, created, name)
        ready = True
        yield DockerSandbox(container, network, services)
    finally:
        if not (keep and ready):
            with shielded():
                # Interrupted while a create call was in flight, a handle is None but the
                # engine may have made it: remove by name then.
                for svc in plan.services:
                    remove(services.get(svc.name) or
                           _by_name(engine.containers, f"{name}-{svc.name}", run_id), None)
                remove(container or _by_name(engine.containers, name, run_id),
                       network or (_by_name(engine.networks, name, run_id)
                                   if wants_network else None))


def _by_name(collection: Any, name: str, run_id: str) -> Any:
    """A resource of this run found by name (only if its run label says so)."""
    import docker

    try:
        found = collection.get(name)
    except docker.errors.DockerException:
        return None
    tags = getattr(found, "labels", None) or found.attrs.get("Labels") or {}
    return found if tags.get(labels.RUN) == run_id else None


def start(sandbox: DockerSandbox) -> None:
    with translated("starting the sandbox"):
        sandbox.container.start()


def start_service(sandbox: DockerSandbox, service: str) -> None:
    with translated(f"starting service {service}"):
        sandbox.services[service].start()


def remove(container: Any, network: Any) -> None:
    """Best effort, and never masking the error that brought us here."""
    import docker
    import requests

    for resource, how in ((container, {"force": True, "v": True}), (network, {})):
        if resource is None:
            continue
        try:
            resource.remove(**how)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):  # someone (gc) is removing it
                _warn_left(resource, exc)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            _warn_left(resource, exc)


def _warn_left(resource: Any, exc: BaseException) -> None:
    import sys

    reason = getattr(exc, "explanation", None) or str(exc).splitlines()[0]
    print(f"repro: warning: could not remove {resource.name}: {reason}; `repro gc` will "
          "retry", file=sys.stderr)

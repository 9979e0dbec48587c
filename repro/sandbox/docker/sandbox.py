"""One run's live Docker resources: its containers (and a network when it needs one)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from repro.errors import Interrupted, SandboxError
from repro.sandbox.api import ContainerSpec, ExecRequest, Limits, NetworkShape, SandboxSpec
from repro.sandbox.docker import clock as clocks
from repro.sandbox.docker import isolation, labels
from repro.sandbox.docker.container import DockerContainer
from repro.sandbox.docker.engine import Engine, translated
from repro.sandbox.docker.network_faults import NetworkFaults
from repro.signals import shielded

# PID 1 of the sandbox: idles until removed and reaps what steps leave behind.
KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
# With a clock, PID 1 first says what `date` reads: the probe of the steps' container,
# read back from its log at no extra cost.
KEEPALIVE_PROBING = ["sh", "-c", "date +%s 2>&1; " + KEEPALIVE[2]]
HOSTNAME = "sandbox"  # fixed, so outputs do not differ from run to run
# A Podman internal network keeps the host at its gateway address, where Podman's DNS
# server (service names) answers: the sandbox would not be cut off from the host.
PODMAN_PRIVATE = ("services without egress do not run on Podman: its internal network "
                  "leaves the host reachable at the network's gateway (its DNS server for "
                  "service names); run this scenario on a Docker engine, or give its "
                  "environment `network: {egress: true}` if it may reach out")


class DockerSandbox:
    """Created by `open_sandbox`: the steps' container and the services' ones."""

    def __init__(self, engine: Engine, main: DockerContainer, network: Any | None,
                 services: dict[str, DockerContainer] | None = None,
                 tags: dict[str, str] | None = None,
                 clock: clocks.RunClock | None = None):
        self.engine = engine
        self._main = main
        self.network = network
        self._services = services or {}
        self.faults = NetworkFaults(engine, network, tags or {})
        self.clock = clock

    @property
    def name(self) -> str:
        return self._main.name

    @property
    def main(self) -> DockerContainer:
        return self._main

    @property
    def services(self) -> Mapping[str, DockerContainer]:
        return self._services

    def _target(self, container: str | None) -> str:
        return self._services[container].name if container else self.name

    def enter_hint(self, container: str | None = None) -> str:
        # The engine named, unless it is the one the user's own docker reaches anyway.
        host = f"-H {self.engine.url} " if self.engine.url else ""
        return f"docker {host}exec -it {self._target(container)} sh"

    def session(self, container: str | None, argv: list[str]) -> int:
        """`docker exec` with the terminal attached: the one place the docker CLI runs."""
        check_session()
        flags = ["-it"] if sys.stdin.isatty() else ["-i"]
        if self.clock is not None:  # the shell reads the running clock too
            for key, value in self.clock.exec_environment().items():
                flags += ["-e", f"{key}={value}"]
        return subprocess.run(["docker", "exec", *flags, self._target(container), *argv],
                              check=False, env=self.engine.cli_environment()).returncode

    def start_clock(self) -> float:
        if self.clock is None:
            raise SandboxError("this sandbox has no clock to start")
        return self.clock.start(list(self._services.values()))

    def disconnect(self, service: str) -> None:
        self.faults.disconnect(service, self._services[service].model)

    def reconnect(self, service: str) -> None:
        container = self._services[service]
        container.prepare_reconnect()
        self.faults.reconnect(service, container.model)
        container.isolate()  # connecting adds the default route back

    def shape_network(self, service: str, shape: NetworkShape | None) -> None:
        self.faults.shape(service, self._services[service].model, shape)


def check_session() -> None:
    import shutil

    if shutil.which("docker") is None:
        raise SandboxError("`repro shell` needs the docker command-line client on PATH")


def container_name(run_id: str) -> str:
    return f"repro-{run_id}"


def _entrypoint(own: ExecRequest | None, clock: clocks.RunClock | None) -> list[str]:
    if own is not None:
        return list(own.argv)
    return KEEPALIVE_PROBING if clock else KEEPALIVE


def _host_config(api: Any, network: str | None, spec: ContainerSpec,
                 clock: clocks.RunClock | None = None, init: bool = False) -> Any:
    import docker

    limits: Limits = spec.limits
    return api.create_host_config(
        init=init or None,
        binds=clock.binds() if clock else None, network_mode=network or "none",
        security_opt=["no-new-privileges"] if spec.no_new_privileges else None,
        cap_drop=list(spec.cap_drop) or None, cap_add=list(spec.cap_add) or None,
        nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
        mem_limit=limits.memory, shm_size=limits.shm_size,
        # As written: the step reads back the limit the environment set (the keep-alive's
        # second process is no part of the customer's system to make room for).
        pids_limit=limits.pids,
        ulimits=[docker.types.Ulimit(name=name, soft=soft, hard=hard)
                 for name, (soft, hard) in limits.ulimits.items()] or None,
        # A small disk: empty, writable by every user (like /tmp), programs may run there.
        tmpfs={path: f"size={size},mode=1777,exec" for path, size in spec.tmpfs.items()}
        or None)


def _model(sdk: Any, created: dict, name: str) -> Any:
    # A model without the inspect round trip the high-level create() makes.
    return sdk.containers.prepare_model({"Id": created["Id"], "Name": "/" + name})


def _isolation(engine: Engine, run_labels: dict[str, str], what: str, private: bool
               ) -> dict[str, Any]:
    """A container's hooks on the run's internal network: no route out once it runs (and
    after each restart or reconnect), the gateway forgotten before a reconnect."""
    if not private:
        return {}
    return {"isolate": lambda model: isolation.cut_routes(engine, model, run_labels, what),
            "before_reconnect": lambda model: isolation.forget_gateway(engine, model,
                                                                       run_labels, what)}


def _create_service(engine: Engine, svc: ContainerSpec, name: str, run_labels: dict[str, str],
                    private: bool, clock: clocks.RunClock | None) -> DockerContainer:
    api = engine.client().api
    svc_name = f"{name}-{svc.name}"
    env = clock.environment(dict(svc.env), svc.image, service=True) if clock else dict(svc.env)
    created = api.create_container(
        svc.image, command=list(svc.command) if svc.command else None, name=svc_name,
        hostname=svc.hostname or svc.name, labels={**run_labels, labels.SERVICE: svc.name},
        environment=env, working_dir=svc.workdir or None, user=svc.user or None,
        host_config=_host_config(api, name, svc, clock),
        networking_config=api.create_networking_config(
            {name: api.create_endpoint_config(aliases=[svc.name])}))
    what = f"service {svc.name}"
    return DockerContainer(engine, _model(engine.client(), created, svc_name), svc.name, what,
                           **_isolation(engine, run_labels, what, private), clock=clock,
                           probe_in_log=False)


def _clock_refusal(container: DockerContainer, image: str) -> str | None:
    """Why the clock cannot reach this container; its setting file goes in otherwise."""
    clock = container.clock
    assert clock is not None
    with translated(f"checking {container.what} for the clock"):
        refused = clocks.refusal(container.engine, container.model.id, image,
                                 "the steps' container" if container.probe_in_log
                                 else container.what)
    if refused is None:  # the library (unless mounted), a service's setting file
        files = clock.files(None if container.probe_in_log else clock.setting(0.0))
        if files is not None:
            container.copy_in(files)
    return refused


@contextmanager
def open_sandbox(engine: Engine, spec: SandboxSpec) -> Iterator[DockerSandbox]:
    """Create the run's network, service containers and sandbox; remove them all on
    leaving, whatever happens, unless `spec.keep`. Nothing is started here."""
    sdk = engine.client()
    api = sdk.api
    run_labels = labels.for_run(spec.run_id, spec.scenario_id, spec.keep)
    name = container_name(spec.run_id)
    main = spec.main
    # A private network when there are services to reach (internal: no egress) or when
    # egress is allowed; otherwise no network at all.
    wants_network = bool(spec.services) or spec.egress
    if wants_network and not spec.egress and engine.podman():
        raise SandboxError(PODMAN_PRIVATE)
    network = container = box = None
    services: dict[str, DockerContainer] = {}
    clock = clocks.RunClock(spec.clock, clocks.ensure_library(engine, lambda _: None),
                            engine) if spec.clock else None
    ready = False  # keep keeps a complete sandbox only, never half of one
    cut_short = False
    whole = False  # left normally: every resource it made is in hand
    try:
        with translated("creating the sandbox"):  # (interrupted here: see _sweep)
            if wants_network:
                network = sdk.networks.create(
                    name, driver="bridge", internal=not spec.egress, labels=run_labels,
                    options=None if spec.egress else isolation.NETWORK_OPTIONS)
            private = wants_network and not spec.egress
            for svc in spec.services:
                services[svc.name] = _create_service(engine, svc, name, run_labels, private,
                                                     clock)
            # Its own process instead of the keep-alive only where nothing else must run
            # in it before or beside that process (own_process.py).
            own = spec.one_shot if not (clock or spec.services or private) else None
            created = api.create_container(
                main.image, entrypoint=_entrypoint(own, clock), command=[],
                name=name, hostname=main.hostname or HOSTNAME, labels=run_labels,
                environment=clock.environment(dict(main.env), main.image, service=False)
                if clock else {**main.env, **(own.env if own else {})},
                working_dir=(own and own.workdir) or main.workdir or None,
                user=(own and own.user) or main.user or None,
                stdin_open=bool(own and own.stdin is not None),
                host_config=_host_config(api, name if network else None, main, clock,
                                         init=own is not None),
                networking_config=api.create_networking_config(
                    {name: api.create_endpoint_config(aliases=[HOSTNAME])}) if network else None)
            container = DockerContainer(engine, _model(sdk, created, name), HOSTNAME,
                                        "the sandbox",
                                        **_isolation(engine, run_labels, "the sandbox", private),
                                        clock=clock, probe_in_log=True, one_shot=own)
        if clock is not None:  # before anything starts: never run an image it would break
            clocks.require_supported([refused for refused in (
                _clock_refusal(c, image) for c, image in
                [(container, main.image), *((services[s.name], s.image)
                                            for s in spec.services)]) if refused])
        ready = True
        box = DockerSandbox(engine, container, network, services, run_labels, clock)
        yield box
        whole = True
    except (Interrupted, KeyboardInterrupt):
        cut_short = not ready  # a create request may have been cut off mid-flight
        raise
    finally:
        if box is not None:
            with shielded():
                box.faults.remove_helpers()  # a fault's helper caught mid-way
        if not (spec.keep and ready):
            with shielded():
                # Interrupted while a create call was in flight, a handle is None but the
                # engine may have made it: remove by name then.
                for svc in spec.services:
                    made = services.get(svc.name)
                    remove(made.model if made else
                           _by_name(sdk.containers, f"{name}-{svc.name}", spec.run_id), None)
                remove(container.model if container else
                       _by_name(sdk.containers, name, spec.run_id),
                       network or (_by_name(sdk.networks, name, spec.run_id)
                                   if wants_network else None))
                # And whatever else carries the run's label: a create cut off mid-flight,
                # a helper (isolation, faults) an interrupt caught half-way. A run that
                # ended normally removed its helpers itself: two listings saved.
                if not whole:
                    _sweep(sdk, spec.run_id, IN_FLIGHT_S if cut_short else 0.0)


# How long an engine may still be working on a create whose request an interrupt cut
# short: the container appears after we looked for it by name.
IN_FLIGHT_S = 3.0


def _sweep(sdk: Any, run_id: str, wait_s: float) -> None:
    """After a creation that did not finish: remove whatever carries the run's label,
    looking again until nothing has appeared for `wait_s` (a create in flight)."""
    import time

    deadline = time.monotonic() + wait_s
    while True:
        found = _labelled(sdk, run_id)
        for kind, resource in found:
            remove(resource if kind == "container" else None,
                   resource if kind == "network" else None)
        if not found and time.monotonic() >= deadline:
            return
        time.sleep(0.2)


def _labelled(sdk: Any, run_id: str) -> list[tuple[str, Any]]:
    import docker
    import requests

    selector = {"label": f"{labels.RUN}={run_id}"}
    try:
        containers = [("container", c) for c in sdk.containers.list(all=True,
                                                                       filters=selector)]
        return containers + [("network", n) for n in sdk.networks.list(filters=selector)]
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return []  # the engine went away: `repro gc` finds them later


def _by_name(collection: Any, name: str, run_id: str) -> Any:
    """A resource of this run found by name (only if its run label says so)."""
    import docker

    try:
        found = collection.get(name)
    except docker.errors.DockerException:
        return None
    tags = getattr(found, "labels", None) or found.attrs.get("Labels") or {}
    return found if tags.get(labels.RUN) == run_id else None


def remove(container: Any, network: Any) -> None:
    """Best effort, and never masking the error that brought us here."""
    import docker
    import requests

    for resource, how in ((container, {"force": True, "v": True}), (network, {})):
        if resource is None:
            continue
        try:
            _remove(resource, how)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):  # someone (gc) is removing it
                _warn_left(resource, exc)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            _warn_left(resource, exc)


def _remove(resource: Any, how: dict[str, bool]) -> None:
    """Some engines refuse to remove a paused container (a fault left it so), even forced:
    unpause it first then."""
    import docker

    try:
        resource.remove(**how)
    except docker.errors.APIError as exc:
        if "paused" not in str(exc.explanation or exc).lower():
            raise
        resource.unpause()
        resource.remove(**how)


def _warn_left(resource: Any, exc: BaseException) -> None:
    reason = getattr(exc, "explanation", None) or str(exc).splitlines()[0]
    print(f"repro: warning: could not remove {resource.name}: {reason}; `repro gc` will "
          "retry", file=sys.stderr)

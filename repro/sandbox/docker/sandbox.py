"""One run's live Docker resources: its containers (and a network when it needs one)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from repro.errors import SandboxError
from repro.sandbox.api import ContainerSpec, Limits, SandboxSpec
from repro.sandbox.docker import clock as clocks
from repro.sandbox.docker import labels
from repro.sandbox.docker.container import DockerContainer
from repro.sandbox.docker.engine import client, translated
from repro.signals import shielded

# PID 1 of the sandbox: idles until removed and reaps what steps leave behind.
KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
# With a clock, PID 1 first says what `date` reads: the probe of the steps' container,
# read back from its log at no extra cost.
KEEPALIVE_PROBING = ["sh", "-c", "date +%s 2>&1; " + KEEPALIVE[2]]
HOSTNAME = "sandbox"  # fixed, so outputs do not differ from run to run


class DockerSandbox:
    """Created by `open_sandbox`: the steps' container and the services' ones."""

    def __init__(self, main: DockerContainer, network: Any | None,
                 services: dict[str, DockerContainer] | None = None,
                 clock: clocks.RunClock | None = None):
        self._main = main
        self.network = network
        self._services = services or {}
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
        return f"docker exec -it {self._target(container)} sh"

    def session(self, container: str | None, argv: list[str]) -> int:
        """`docker exec` with the terminal attached: the one place the docker CLI runs."""
        check_session()
        flags = ["-it"] if sys.stdin.isatty() else ["-i"]
        if self.clock is not None:  # the shell reads the running clock too
            for key, value in self.clock.exec_environment().items():
                flags += ["-e", f"{key}={value}"]
        return subprocess.run(["docker", "exec", *flags, self._target(container), *argv],
                              check=False).returncode

    def start_clock(self) -> float:
        if self.clock is None:
            raise SandboxError("this sandbox has no clock to start")
        return self.clock.start(list(self._services.values()))


def check_session() -> None:
    import shutil

    if shutil.which("docker") is None:
        raise SandboxError("`repro shell` needs the docker command-line client on PATH")


def container_name(run_id: str) -> str:
    return f"repro-{run_id}"


def _host_config(api: Any, network: str | None, limits: Limits,
                 clock: clocks.RunClock | None = None) -> Any:
    return api.create_host_config(
        binds=clock.binds() if clock else None, network_mode=network or "none",
        nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
        mem_limit=limits.memory, pids_limit=limits.pids)


def _model(engine: Any, created: dict, name: str) -> Any:
    # A model without the inspect round trip the high-level create() makes.
    return engine.containers.prepare_model({"Id": created["Id"], "Name": "/" + name})


def _create_service(engine: Any, svc: ContainerSpec, name: str,
                    run_labels: dict[str, str], clock: clocks.RunClock | None
                    ) -> DockerContainer:
    api = engine.api
    svc_name = f"{name}-{svc.name}"
    env = clock.environment(dict(svc.env), svc.image, service=True) if clock else dict(svc.env)
    created = api.create_container(
        svc.image, command=list(svc.command) if svc.command else None, name=svc_name,
        hostname=svc.name, labels={**run_labels, labels.SERVICE: svc.name},
        environment=env, working_dir=svc.workdir or None, user=svc.user or None,
        host_config=_host_config(api, name, svc.limits, clock),
        networking_config=api.create_networking_config(
            {name: api.create_endpoint_config(aliases=[svc.name])}))
    return DockerContainer(_model(engine, created, svc_name), svc.name, f"service {svc.name}",
                           clock, probe_in_log=False)


def _clock_refusal(container: DockerContainer, image: str) -> str | None:
    """Why the clock cannot reach this container; its setting file goes in otherwise."""
    clock = container.clock
    assert clock is not None
    with translated(f"checking {container.what} for the clock"):
        refused = clocks.refusal(container.model.id, image, "the steps' container" if
                                 container.probe_in_log else container.what)
    if refused is None and not container.probe_in_log:  # a service: reads its setting file
        container.copy_in(clock.setting_file(clock.setting(0.0)))
    return refused


@contextmanager
def open_sandbox(spec: SandboxSpec) -> Iterator[DockerSandbox]:
    """Create the run's network, service containers and sandbox; remove them all on
    leaving, whatever happens, unless `spec.keep`. Nothing is started here."""
    engine = client()
    api = engine.api
    run_labels = labels.for_run(spec.run_id, spec.scenario_id, spec.keep)
    name = container_name(spec.run_id)
    main = spec.main
    # A private network when there are services to reach (internal: no egress) or when
    # egress is allowed; otherwise no network at all.
    wants_network = bool(spec.services) or spec.egress
    network = container = None
    services: dict[str, DockerContainer] = {}
    clock = clocks.RunClock(spec.clock, clocks.ensure_library(lambda _: None)) \
        if spec.clock else None
    ready = False  # keep keeps a complete sandbox only, never half of one
    try:
        with translated("creating the sandbox"):
            if wants_network:
                network = engine.networks.create(name, driver="bridge",
                                                  internal=not spec.egress, labels=run_labels)
            for svc in spec.services:
                services[svc.name] = _create_service(engine, svc, name, run_labels, clock)
            created = api.create_container(
                main.image, entrypoint=KEEPALIVE_PROBING if clock else KEEPALIVE, command=[],
                name=name, hostname=HOSTNAME, labels=run_labels,
                environment=clock.environment(dict(main.env), main.image, service=False)
                if clock else dict(main.env),
                working_dir=main.workdir or None, user=main.user or None,
                host_config=_host_config(api, name if network else None, main.limits, clock),
                networking_config=api.create_networking_config(
                    {name: api.create_endpoint_config(aliases=[HOSTNAME])}) if network else None)
            container = DockerContainer(_model(engine, created, name), HOSTNAME, "the sandbox",
                                        clock, probe_in_log=True)
        if clock is not None:  # before anything starts: never run an image it would break
            clocks.require_supported([refused for refused in (
                _clock_refusal(c, image) for c, image in
                [(container, main.image), *((services[s.name], s.image)
                                            for s in spec.services)]) if refused])
        ready = True
        yield DockerSandbox(container, network, services, clock)
    finally:
        if not (spec.keep and ready):
            with shielded():
                # Interrupted while a create call was in flight, a handle is None but the
                # engine may have made it: remove by name then.
                for svc in spec.services:
                    made = services.get(svc.name)
                    remove(made.model if made else
                           _by_name(engine.containers, f"{name}-{svc.name}", spec.run_id), None)
                remove(container.model if container else
                       _by_name(engine.containers, name, spec.run_id),
                       network or (_by_name(engine.networks, name, spec.run_id)
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
    reason = getattr(exc, "explanation", None) or str(exc).splitlines()[0]
    print(f"repro: warning: could not remove {resource.name}: {reason}; `repro gc` will "
          "retry", file=sys.stderr)

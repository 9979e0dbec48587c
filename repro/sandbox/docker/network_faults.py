"""Faults on a service's network: cut it off the run's network and back, and shape its
traffic with netem from a short-lived helper container that joins its network namespace
(`network_mode=container:ID`, NET_ADMIN on the helper only), so the service's own image
needs no tools."""

from __future__ import annotations

import secrets
from typing import Any

from repro.errors import SandboxError
from repro.sandbox.api import NetworkShape, Say
from repro.sandbox.docker import bases, labels
from repro.sandbox.docker.engine import Engine, translated
from repro.signals import shielded

HELPER_TIMEOUT = 60  # seconds a tc helper may take (it takes well under one)
# Every interface but loopback: after a reconnect the service's interface is a new one.
_EACH_INTERFACE = ('for dev in $(ls /sys/class/net); do [ "$dev" = lo ] && continue; '
                   '{command}; done')
_NO_NETEM = "Specified qdisc kind is unknown"


def netem_args(shape: NetworkShape) -> str:
    """`delay 200ms 20ms loss 10% rate 1mbit` for `tc qdisc ... netem`."""
    args = []
    if shape.latency or shape.jitter:
        args.append(f"delay {shape.latency * 1000:g}ms" +
                    (f" {shape.jitter * 1000:g}ms" if shape.jitter else ""))
    if shape.loss:
        args.append(f"loss {shape.loss:g}%")
    if shape.rate:
        args.append(f"rate {shape.rate}")
    return " ".join(args)


def shape_script(shape: NetworkShape | None) -> str:
    if shape is None:
        return _EACH_INTERFACE.format(command='tc qdisc del dev "$dev" root 2>/dev/null || true')
    return "set -e; " + _EACH_INTERFACE.format(
        command=f'tc qdisc replace dev "$dev" root netem {netem_args(shape)}')


def run_helper(engine: Engine, network_mode: str, script: str, tags: dict[str, str], what: str,
               helpers: set[str] | None = None) -> str:
    """Run `script` in a helper from the tools image; its output; SandboxError when it
    fails. The helper is labelled like the run (gc finds it) and always removed."""
    import docker

    api = engine.client().api
    name = f"repro-helper-{secrets.token_hex(4)}"
    with translated(what):
        try:
            created = api.create_container(
                bases.TOOLS, command=["sh", "-c", script], name=name,
                labels={**tags, labels.HELPER: "network"},
                host_config=api.create_host_config(network_mode=network_mode,
                                                   cap_add=["NET_ADMIN"]))
        except docker.errors.ImageNotFound:
            raise SandboxError(f"{what} needs the image {bases.TOOLS}: make it with "
                               f"`repro base {bases.TOOLS.removeprefix(bases.PREFIX)}`") from None
    helper = created["Id"]
    if helpers is not None:
        helpers.add(helper)
    try:
        with translated(what):
            api.start(helper)
            code = api.wait(helper, timeout=HELPER_TIMEOUT).get("StatusCode")
            output = api.logs(helper).decode("utf-8", "replace").strip()
    finally:
        with shielded():
            remove_helper(engine, helper)
            if helpers is not None:
                helpers.discard(helper)
    if _NO_NETEM in output:
        raise SandboxError(f"{what} failed: the engine's kernel has no netem (the sch_netem "
                           "module), so latency, jitter, loss and rate cannot be shaped on "
                           "this host; load it there with `modprobe sch_netem`")
    if code != 0:
        raise SandboxError(f"{what} failed (exit {code}): {output[-300:] or 'no output'}")
    return output


def remove_helper(engine: Engine, helper: str) -> None:
    import docker
    import requests

    try:
        engine.client().api.remove_container(helper, force=True)
    except docker.errors.NotFound:
        pass
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        pass  # labelled like the run: `repro gc` removes it


_shaping_works: set[int] = set()  # once per engine (by identity): a baseline runs many times


def check_shaping(engine: Engine, say: Say) -> None:
    """The tools image exists (made offline once) and the kernel knows netem: tried on a
    helper's own loopback, before any container of the run exists."""
    if id(engine) in _shaping_works:
        return
    bases.ensure(engine, bases.TOOLS, say)
    tags = labels.for_run("network-check", "-", keep=False)
    run_helper(engine, "none", "tc qdisc add dev lo root netem delay 1ms", tags,
               "checking that the engine can shape a network (netem)")
    _shaping_works.add(id(engine))


class NetworkFaults:
    """A sandbox's network faults: the network, its services' containers, their helpers."""

    def __init__(self, engine: Engine, network: Any | None, tags: dict[str, str]):
        self.engine = engine
        self.network = network
        self.tags = tags
        self.helpers: set[str] = set()  # in flight: removed with the sandbox if interrupted

    def _network_id(self, service: str) -> str:
        if self.network is None:
            raise SandboxError(f"service {service} has no network to cut")
        return str(self.network.id)

    def disconnect(self, service: str, container: Any) -> None:
        with translated(f"disconnecting service {service}"):
            self.engine.client().api.disconnect_container_from_network(
                container.id, self._network_id(service))

    def reconnect(self, service: str, container: Any) -> None:
        with translated(f"reconnecting service {service}"):
            self.engine.client().api.connect_container_to_network(
                container.id, self._network_id(service), aliases=[service])

    def shape(self, service: str, container: Any, shape: NetworkShape | None) -> None:
        what = (f"shaping the network of service {service} ({netem_args(shape)})" if shape
                else f"clearing the network conditions of service {service}")
        run_helper(self.engine, f"container:{container.id}", shape_script(shape), self.tags, what,
                   self.helpers)

    def remove_helpers(self) -> None:
        for helper in list(self.helpers):
            remove_helper(self.engine, helper)

"""No egress means no host either: a sandbox on its private network cannot reach the
engine's host, nor anything beyond it.

Docker's `internal` networks drop routed traffic, but the host keeps an address on the
bridge (the containers' gateway) and answers there, and each container keeps a default
route to it. Two layers close that: the bridge is created without a host address
(`inhibit_ipv4`), and once a container runs, a short-lived helper sharing its network
namespace (repro's tools image, NET_ADMIN on the helper only) replaces its default route
by nothing and throws out any route to the gateway: connecting out fails at once with "Network
is unreachable", and the customer's image needs no tools and no capability for it.
"""

from __future__ import annotations

from typing import Any

from repro.errors import SandboxError
from repro.sandbox.docker import bases
from repro.sandbox.docker.engine import Engine, translated

# An internal bridge without an address on the host side.
NETWORK_OPTIONS = {"com.docker.network.bridge.inhibit_ipv4": "true"}
CUT_ROUTES = ["sh", "-c", "gw=$(ip -4 route show default | awk '{print $3; exit}'); "
              "ip -4 route flush default || exit 1; "
              "[ -z \"$gw\" ] || ip -4 route add throw \"$gw\"/32"]


# Before a network is connected again: the gateway's throw route would clash with the
# address the engine gives the new interface.
FORGET_GATEWAY = ["sh", "-c", "ip -4 route flush type throw; exit 0"]


def cut_routes(engine: Engine, container: Any, labels: dict[str, str], what: str) -> None:
    """Leave `container` (running) no route out of its private network."""
    _in_netns(engine, container, labels, what, CUT_ROUTES)


def forget_gateway(engine: Engine, container: Any, labels: dict[str, str], what: str
                   ) -> None:
    _in_netns(engine, container, labels, what, FORGET_GATEWAY)


def _in_netns(engine: Engine, container: Any, labels: dict[str, str], what: str,
              script: list[str]) -> None:
    import docker

    bases.ensure(engine, bases.TOOLS, lambda message: None)
    with translated(f"isolating {what}"):
        helper = engine.client().containers.create(
            bases.TOOLS, script, network_mode=f"container:{container.id}",
            cap_add=["NET_ADMIN"], cap_drop=["ALL"], labels=labels)
        try:
            try:
                helper.start()
            except docker.errors.APIError as exc:
                if "non running container" in str(exc):
                    return  # it stopped already: nothing left to reach out (readiness says why)
                raise
            code = helper.wait(timeout=30).get("StatusCode")
            if code != 0:
                log = helper.logs().decode("utf-8", "replace").strip()[-200:]
                raise SandboxError(f"could not isolate {what} from the host's network "
                                   f"(exit {code}: {log}); the run stops rather than "
                                   "run with a route out")
        finally:
            helper.remove(force=True)

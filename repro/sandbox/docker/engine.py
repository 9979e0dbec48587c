"""Connect to a Docker engine and turn its failures into one-line SandboxErrors.

An `Engine` is one engine, reached as the Docker CLI would reach it: an explicit URL
(`repro replay --engine URL`) or DOCKER_HOST, with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
for tcp and the `ssh` command for ssh://, else the local socket. Each backend owns one;
its client is made on first use (docker is imported only when a command needs it).
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from repro.errors import ConfigError, SandboxError

MIN_API = "1.24"  # what the SDK supports at the least
# Connections the client keeps to the engine. Simultaneous users (`repeat:`) call it
# from many threads at once; with the SDK's default of 10, every call beyond the tenth
# opens a connection and throws it away ("Connection pool is full").
POOL_SIZE = 64
DEFAULT_HOST = "unix:///var/run/docker.sock"
SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://")
# The processes that serve the Docker API themselves on a local socket: only then are the
# pids the engine reports pids of this host (see Engine.local).
_ENGINE_PROCESSES = ("dockerd",)


def check_url(url: str) -> str:
    """A URL the Docker CLI would take for -H, or a ConfigError saying which it takes."""
    if not url.startswith(SCHEMES) or not url.partition("://")[2].strip("/"):
        raise ConfigError(f"--engine {url!r}: not an engine address: give unix:///PATH, "
                          "tcp://HOST:PORT (TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH) "
                          "or ssh://USER@HOST, as for `docker -H`")
    return url


class Engine:
    """One Docker engine: where it is, its client (made once, on first use), its facts."""

    def __init__(self, url: str | None = None):
        self.url = url  # None: DOCKER_HOST, else the local socket
        self._lock = threading.Lock()
        self._connected: tuple[Any, dict] | None = None
        self._local: bool | None = None
        # Other engines of the same replay: an image missing here but found there is copied
        # over rather than made again or pulled.
        self.peers: list[Engine] = []
        self.base_ids: dict[str, str] = {}  # offline bases found or made: ref -> image id

    @property
    def where(self) -> str:
        return self.url or os.environ.get("DOCKER_HOST") or DEFAULT_HOST

    def client(self) -> Any:
        return self._connect()[0]

    def _connect(self) -> tuple[Any, dict]:
        if self._connected is None:
            with self._lock:
                if self._connected is None:
                    self._connected = _connect(self.where)
        return self._connected

    def version(self) -> dict:
        """The engine's /version answer (Unreachable when it does not answer)."""
        return self._connect()[1]

    def podman(self) -> bool:
        """Is it Podman's Docker-compatible API (`podman system service`)? From the /version
        answer already in hand. The few places its answers differ from Docker's ask this
        (docs/engines.md, "Podman")."""
        components = self._connect()[1].get("Components") or []
        return any(c.get("Name") == "Podman Engine" for c in components if isinstance(c, dict))

    def facts(self) -> dict[str, str]:
        version = self._connect()[1]
        return {"engine_version": version.get("Version", "?"),
                "engine_api": version.get("ApiVersion", "?"),
                "engine_os": f"{version.get('Os', '?')}/{version.get('Arch', '?')}",
                "engine": self.where}

    def cli_environment(self) -> dict[str, str]:
        """The environment under which the docker CLI reaches this same engine."""
        return {**os.environ, "DOCKER_HOST": self.where}

    def local(self) -> bool:
        """Are the engine's processes this host's (the pids it reports are ours)? Only for
        a unix socket whose other end is the engine itself, seen in our own process table:
        not for tcp or ssh, not through a socket proxy or forwarded socket, not when repro
        runs in a container of its own with the host's socket mounted (the peer's pid is 0
        there). Asked once per engine; a connection costs well under a millisecond."""
        if self._local is None:
            self._local = _peer_is_engine(self.where)
        return self._local


def _peer_is_engine(where: str) -> bool:
    if not where.startswith("unix://") or not hasattr(socket, "SO_PEERCRED"):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(where.removeprefix("unix://"))
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize("3i"))
        pid = struct.unpack("3i", creds)[0]
        if pid <= 0:
            return False
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip() in _ENGINE_PROCESSES
    except OSError:
        return False


@lru_cache(maxsize=1)
def default() -> Engine:
    """The engine of DOCKER_HOST (or the local socket): one per process."""
    return Engine()


def _api_version(server: dict) -> str:
    from docker.constants import DEFAULT_DOCKER_API_VERSION as newest
    from docker.utils import version_lt

    offered = server.get("ApiVersion", newest)
    return offered if version_lt(offered, newest) else newest


def _connect(where: str) -> tuple[Any, dict]:
    import docker
    import requests

    # DOCKER_HOST as the CLI reads it, with the TLS settings beside it.
    environment = {**os.environ, "DOCKER_HOST": where}
    # ssh:// through the `ssh` command, as the CLI does (its config, keys and agent).
    ssh = where.startswith("ssh://")
    try:
        # One unversioned /version call proves the engine answers, gives the facts for
        # the record, and picks the API version: the engine's own, capped at what the
        # SDK speaks (engines refuse clients older than their minimum, e.g. 1.44 for
        # Engine 29). from_env(version="auto") would ask again.
        probe = _keeping_ca(docker.from_env(timeout=120, version=MIN_API,
                                            environment=environment, use_ssh_client=ssh))
        try:
            version = probe.api.version(api_version=False)
        finally:  # its socket would otherwise be left to the garbage collector (a warning)
            probe.close()
        engine = _keeping_ca(docker.from_env(timeout=120, version=_api_version(version),
                                             max_pool_size=POOL_SIZE,
                                             environment=environment, use_ssh_client=ssh))
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise Unreachable.at(where, _reason(exc)) from None
    return engine, version


def unreachable_fix(where: str) -> str:
    return ("start it (`sudo systemctl start docker`, or `dockerd &`) or point DOCKER_HOST "
            f"at one; `docker -H {where} info` should work first")


class Unreachable(SandboxError):
    """No engine answers at `host` (the reason is the transport's, in a few words)."""

    host = reason = ""

    @classmethod
    def at(cls, host: str, reason: str) -> Unreachable:
        # Built from its message alone, like every ReproError: copies (`redacted`) remake
        # an error from its args.
        error = cls(f"cannot reach the Docker engine at {host} ({reason}): "
                    f"{unreachable_fix(host)}")
        error.host, error.reason = host, reason
        return error


def _keeping_ca(client: Any) -> Any:
    """With DOCKER_CERT_PATH's CA, verify against that CA alone. requests lets
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (set system-wide on many machines) replace a
    session's own CA file on every request, and the engine's certificate then fails to
    verify where the Docker CLI accepts it."""
    session = client.api
    if isinstance(session.verify, str):
        merge = session.merge_environment_settings

        def merged(*args: Any, **kwargs: Any) -> Any:
            settings = merge(*args, **kwargs)
            settings["verify"] = session.verify
            return settings

        session.merge_environment_settings = merged
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for marker in ("No such file or directory", "Connection refused", "Permission denied"):
        if marker in text:
            return marker.lower()
    return text[:160]


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Re-raise Docker SDK and transport errors as SandboxError naming the action."""
    import docker
    import requests

    try:
        yield
    except docker.errors.APIError as exc:
        detail = exc.explanation or str(exc)
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise SandboxError(f"{action} failed: {detail}") from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise SandboxError(f"{action} failed: {_reason(exc)}; is the Docker engine still "
                           "running? (`docker info`)") from None

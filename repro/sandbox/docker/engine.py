"""Connect to the Docker engine and turn its failures into one-line SandboxErrors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from repro.errors import SandboxError

MIN_API = "1.24"  # what the SDK supports at the least
# Connections the shared client keeps to the engine. Simultaneous users (`repeat:`) call it
# from many threads at once; with the SDK's default of 10, every call beyond the tenth
# opens a connection and throws it away ("Connection pool is full").
POOL_SIZE = 64


def _api_version(server: dict) -> str:
    from docker.constants import DEFAULT_DOCKER_API_VERSION as newest
    from docker.utils import version_lt

    offered = server.get("ApiVersion", newest)
    return offered if version_lt(offered, newest) else newest


def client() -> Any:
    """The shared Docker client (docker is imported only when a command needs it)."""
    return _connect()[0]


@lru_cache(maxsize=1)
def _connect() -> tuple[Any, dict]:
    import docker
    import requests

    try:
        # One unversioned /version call proves the engine answers, gives the facts for
        # the record, and picks the API version: the engine's own, capped at what the
        # SDK speaks (engines refuse clients older than their minimum, e.g. 1.44 for
        # Engine 29). from_env(version="auto") would ask again.
        probe = docker.from_env(timeout=120, version=MIN_API)
        try:
            version = probe.api.version(api_version=False)
        finally:  # its socket would otherwise be left to the garbage collector (a warning)
            probe.close()
        engine = docker.from_env(timeout=120, version=_api_version(version),
                                 max_pool_size=POOL_SIZE)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise Unreachable.at(where(), _reason(exc)) from None
    return engine, version


DEFAULT_HOST = "unix:///var/run/docker.sock"
UNREACHABLE_FIX = ("start it (`sudo systemctl start docker`, or `dockerd &`) or point "
                   "DOCKER_HOST at one; `docker info` should work first")


def where() -> str:
    """The engine repro talks to: DOCKER_HOST, or the local socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


class Unreachable(SandboxError):
    """No engine answers at `host` (the reason is the transport's, in a few words)."""

    host = reason = ""

    @classmethod
    def at(cls, host: str, reason: str) -> Unreachable:
        # Built from its message alone, like every ReproError: copies (`redacted`) remake
        # an error from its args.
        error = cls(f"cannot reach the Docker engine at {host} ({reason}): {UNREACHABLE_FIX}")
        error.host, error.reason = host, reason
        return error


def engine_version() -> dict:
    """The engine's /version answer (Unreachable when it does not answer)."""
    return _connect()[1]


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


def engine_facts() -> dict[str, str]:
    version = _connect()[1]
    return {"engine_version": version.get("Version", "?"),
            "engine_api": version.get("ApiVersion", "?"),
            "engine_os": f"{version.get('Os', '?')}/{version.get('Arch', '?')}"}

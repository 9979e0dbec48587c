"""Which backend hosts the sandboxes. Only the composition root (repro.pipeline, repro.cli)
asks; everything below receives the backend it is given."""

from __future__ import annotations

from repro.sandbox.api import Backend


def default() -> Backend:
    """The Docker engine DOCKER_HOST names, else the local one (imported here, lazily:
    `repro --help` never loads the SDK)."""
    from repro.sandbox.docker.backend import DockerBackend

    return DockerBackend()


def check_engine_url(url: str) -> str:
    """`url` if it is an engine address (unix://, tcp://, ssh://), else a ConfigError."""
    from repro.sandbox.docker.engine import check_url

    return check_url(url)


def engines(urls: list[str]) -> list[Backend]:
    """One backend per engine URL (`repro replay --engine URL ...`); an image one of them
    lacks is copied from another that has it."""
    from repro.sandbox.docker.backend import DockerBackend

    made = [DockerBackend(check_engine_url(url)) for url in urls]
    for backend in made:
        backend.lend_images_from(made)
    return list(made)

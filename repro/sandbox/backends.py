"""Which backend hosts the sandboxes. Only the composition root (repro.pipeline, repro.cli)
asks; everything below receives the backend it is given."""

from __future__ import annotations

from repro.sandbox.api import Backend


def default() -> Backend:
    """The Docker engine (imported here, lazily: `repro --help` never loads the SDK)."""
    from repro.sandbox.docker.backend import DockerBackend

    return DockerBackend()

"""An image one engine lacks, copied from another engine that has it: `docker save |
docker load`, streamed from one engine's API to the other's through this process (no
file, no registry). Used when a replay spreads runs over several engines and an image
cannot be built where it is missing (a plain image reference, an offline base)."""

from __future__ import annotations

from typing import Any

from repro.errors import SandboxError
from repro.sandbox.api import Say
from repro.sandbox.docker.engine import Engine, translated


def full_ref(ref: str) -> str:
    """`name` means `name:latest`, as `docker save` names it."""
    return ref if ":" in ref.rsplit("/", 1)[-1] or "@" in ref else f"{ref}:latest"


def from_peers(engine: Engine, ref: str, say: Say) -> str | None:
    """Copy image `ref` onto `engine` from the first of its peers that has it; its id
    there, or None when no peer has it (an unreachable peer is passed over)."""
    import docker

    for peer in engine.peers:
        try:
            image = peer.client().images.get(ref)
        except (docker.errors.DockerException, SandboxError):
            continue
        return copy(image, ref, peer, engine, say)
    return None


def copy(image: Any, ref: str, source: Engine, target: Engine, say: Say) -> str:
    say(f"image {ref} is not on {target.where}: copying it from {source.where} "
        "(docker save | docker load) ...")
    name = full_ref(ref)
    tags = getattr(image, "tags", [])
    with translated(f"copying image {ref} from {source.where} to {target.where}"):
        # Saved under its name when it has it, so the load tags it; by id otherwise (then
        # tagged here). The chunks go on to the target as they arrive.
        stream = image.save(named=name if name in tags else None)
        target.client().images.load(stream)
        copied = target.client().images.get(image.id)
        if name not in copied.tags and "@" not in name:
            copied.tag(*name.rsplit(":", 1))
    return str(copied.id)

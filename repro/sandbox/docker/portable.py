"""Images written to and read from a portable case (`repro pack --with-images`): `docker
save` of one named image into a stream, `docker load` of it back where it is missing, so
a case runs on an engine that can reach no registry and no Debian mirror."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from repro.errors import SandboxError
from repro.sandbox.api import Say
from repro.sandbox.docker.engine import Engine, translated
from repro.sandbox.docker.transfer import full_ref

_CHUNK = 2 * 1024 * 1024


def save(engine: Engine, ref: str, out: IO[bytes]) -> str:
    import docker

    name = full_ref(ref)
    with translated(f"saving image {ref}"):
        try:
            image = engine.client().images.get(ref)
        except docker.errors.ImageNotFound:
            raise SandboxError(f"image {ref!r} is not on the engine ({engine.where}): "
                               "nothing to save") from None
        # Named: the load tags it again (a cached build is found by its tag).
        for chunk in image.save(chunk_size=_CHUNK, named=name if name in image.tags else None):
            out.write(chunk)
    return str(image.id)


def load(engine: Engine, ref: str, image_id: str, source: Callable[[], IO[bytes]],
         say: Say) -> bool:
    import docker

    client = engine.client()
    with translated(f"looking up image {ref}"):
        try:
            here: str | None = client.images.get(ref).id
        except docker.errors.ImageNotFound:
            here = None
    if here == image_id:
        return False
    # The run uses the image the case was packed with, even where the tag names another.
    say(f"loading image {ref} from the case ..." if here is None else
        f"image {ref} here is another image ({here[:19]}) than the case's ({image_id[:19]}): "
        "loading the case's; the tag now names it")
    with translated(f"loading image {ref}"), source() as tar:
        client.images.load(tar)
        loaded = client.images.get(image_id)
        name = full_ref(ref)
        if name not in loaded.tags:
            loaded.tag(*name.rsplit(":", 1))
    return True

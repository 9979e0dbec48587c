"""The Docker engine as a sandbox backend: the port's Backend, over the modules beside it
(those a run does not need, imported when asked: gc, diagnose, bases, zone files)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import IO

from repro.sandbox.api import (
    ChangedImage,
    Check,
    ImageChange,
    ImageInfo,
    ImageSpec,
    Leftover,
    SandboxSpec,
    Say,
)
from repro.sandbox.docker import engine as engines
from repro.sandbox.docker import images, sandbox
from repro.signals import shielded


class DockerBackend:
    """Talks to one engine: `url` (unix://, tcp:// or ssh://), else the one DOCKER_HOST
    names (the local socket by default). It owns that engine's client."""

    def __init__(self, url: str | None = None) -> None:
        # The SDK is imported whole before any work, with Ctrl-C and SIGTERM held back: an
        # interrupt landing inside the import would leave half-made modules behind, and
        # the clean-up that follows (which needs the SDK) would then crash.
        with shielded():
            import docker  # noqa: F401
        self.engine = engines.default() if url is None else engines.Engine(url)

    def lend_images_from(self, others: list[DockerBackend]) -> None:
        """An image missing on this engine is copied from the first of `others` that has it."""
        self.engine.peers = [other.engine for other in others if other is not self]

    def prepare_image(self, image: ImageSpec, environment: str, say: Say,
                      on_output: Say | None = None) -> ImageInfo:
        return images.ensure(self.engine, image, environment, say, on_output)

    def change_image(self, base: str, change: ImageChange, say: Say) -> ChangedImage:
        from repro.sandbox.docker import changes

        return changes.change(self.engine, base, change, say)

    def open(self, spec: SandboxSpec) -> AbstractContextManager[sandbox.DockerSandbox]:
        return sandbox.open_sandbox(self.engine, spec)

    def facts(self) -> dict[str, str]:
        return self.engine.facts()

    def check_session(self) -> None:
        sandbox.check_session()

    def check_network_shaping(self, say: Say) -> None:
        from repro.sandbox.docker import network_faults

        network_faults.check_shaping(self.engine, say)

    def collect(self, run_id: str | None, include_kept: bool, dry_run: bool,
                force: bool) -> list[Leftover]:
        from repro.sandbox.docker import gc

        return gc.collect(self.engine, run_id, include_kept=include_kept, dry_run=dry_run,
                          force=force)

    def collect_images(self, environment: str | None, dry_run: bool) -> list[Leftover]:
        from repro.sandbox.docker import gc

        return gc.collect_images(self.engine, environment, dry_run)

    def prepare_clock(self, say: Say) -> None:
        from repro.sandbox.docker.clock import ensure_library

        ensure_library(self.engine, say)

    def make_base(self, name: str, force: bool, say: Say) -> str:
        from repro.sandbox.docker import bases

        ref = name if bases.is_base(name) else bases.PREFIX + name
        if force:
            return bases.create(self.engine, ref, say)
        bases.ensure(self.engine, ref, say)
        return ref

    def zone_file(self, zone: str, say: Say) -> bytes | None:
        from repro.sandbox.docker import zoneinfo

        return zoneinfo.zone_file(self.engine, zone, say)

    def support_images(self) -> list[str]:
        from repro.sandbox.docker import bases

        return [bases.TOOLS]

    def save_image(self, ref: str, out: IO[bytes]) -> str:
        from repro.sandbox.docker import portable

        return portable.save(self.engine, ref, out)

    def load_image(self, ref: str, image_id: str, source: Callable[[], IO[bytes]],
                   say: Say) -> bool:
        from repro.sandbox.docker import portable

        loaded = portable.load(self.engine, ref, image_id, source, say)
        if loaded:
            self.engine.base_ids.pop(ref, None)  # looked up again, now it is there
        return loaded

    def diagnose(self) -> list[Check]:
        from repro.sandbox.docker import diagnose

        return diagnose.diagnose(self.engine)

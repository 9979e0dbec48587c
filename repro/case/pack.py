"""`repro pack`: a scenario and everything it runs on, as one .tar.gz (docs/cases.md)."""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from repro.case import manifest as mf
from repro.case.contents import project_files
from repro.config.yaml_source import display_path
from repro.errors import ConfigError
from repro.hashing import sha256
from repro.plan.values import ImagePlan, Plan
from repro.sandbox.api import Backend, ImageSpec

Say = Callable[[str], None]


@dataclass(frozen=True)
class Packed:
    path: Path
    files: int
    images: tuple[str, ...]
    size: int


def pack(plan: Plan, out: Path, say: Say, backend: Backend | None = None) -> Packed:
    """Write the case to `out` (whole or not at all). With a backend, the images a run
    needs go in too: the environment's (built now if need be), its services', and what
    the backend runs beside a sandbox."""
    root = plan.project_root.resolve()
    files = {f"{mf.PROJECT}/{path.relative_to(root).as_posix()}": path
             for path in project_files(plan)}
    target = Path(os.path.normpath(out.absolute()))
    if target in files.values() or target.is_relative_to(plan.scenario_path.parent):
        raise ConfigError(f"-o {display_path(out)}: the case would pack itself (it is in "
                          "a folder it carries); write it outside the scenario's folder")
    with tempfile.TemporaryDirectory(prefix="repro-pack-") as scratch:
        images: list[mf.CaseImage] = []
        if backend is not None:
            for number, ref in enumerate(_image_refs(plan, backend, say), start=1):
                name = f"{mf.IMAGES}/{number:02d}.tar"
                saved = Path(scratch) / f"{number:02d}.tar"
                say(f"saving image {ref} ...")
                with saved.open("wb") as sink:
                    image_id = backend.save_image(ref, sink)
                images.append(mf.CaseImage(ref, image_id, name))
                files[name] = saved
        digests = {}
        for name, path in files.items():
            with path.open("rb") as src:
                digests[name] = sha256(src)
        manifest = mf.Manifest(plan.scenario_id,
                               plan.scenario_path.parent.relative_to(root).as_posix(),
                               digests, tuple(images))
        # Images are most of a case with them, and compress little better at level 6
        # than at 1, in half the time (the tools image: 55 vs 60 MB, 30 vs 13 s).
        _write(out, manifest, files, level=1 if images else 6)
    return Packed(out, len(files) - len(images), tuple(i.ref for i in images),
                  out.stat().st_size)


def _image_refs(plan: Plan, backend: Backend, say: Say) -> list[str]:
    """Each image once: the sandbox's (a cached build keeps its cache tag, so the case
    finds it and builds nothing), the services', the backend's own."""
    refs: dict[str, None] = {}
    for environment, image in [(plan.environment, plan.image), *(
            (f"{plan.environment}-{s.name}", s.image) for s in plan.services)]:
        refs[backend.prepare_image(_spec(image), environment, say).ref] = None
    for ref in backend.support_images():
        backend.make_base(ref, False, say)
        refs[ref] = None
    return list(refs)


def _spec(image: ImagePlan) -> ImageSpec:
    return ImageSpec(image.ref, image.context, image.dockerfile, dict(image.build_args))


def _write(out: Path, manifest: mf.Manifest, files: dict[str, Path], level: int) -> None:
    import io
    import json

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        with tarfile.open(partial, "w:gz", compresslevel=level) as tar:
            body = (json.dumps(manifest.to_dict(), indent=2) + "\n").encode()
            info = tarfile.TarInfo(mf.MANIFEST)
            info.size, info.mode = len(body), 0o644
            tar.addfile(info, io.BytesIO(body))
            for name, path in sorted(files.items()):
                st = path.stat()
                info = tarfile.TarInfo(name)
                # Modes kept: a build context's modes are part of its image's cache key.
                info.size, info.mode, info.mtime = st.st_size, st.st_mode & 0o777, int(st.st_mtime)
                with path.open("rb") as src:
                    tar.addfile(info, src)
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def shown(packed: Packed) -> str:
    images = f", {len(packed.images)} image(s)" if packed.images else ""
    return (f"wrote {display_path(packed.path)}: {packed.files} file(s){images}, "
            f"{packed.size / 1024 / 1024:.1f} MiB")

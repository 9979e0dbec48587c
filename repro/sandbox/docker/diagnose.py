"""`repro doctor`'s questions to the Docker engine, each answered as a Check with its fix."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from repro.errors import SandboxError
from repro.sandbox.api import Check
from repro.sandbox.docker import bases, gc, labels
from repro.sandbox.docker.engine import Engine, Unreachable, translated, unreachable_fix

LOW_DISK = 2 * 1024**3  # below this, an image build or a database load may run out
PROBE_MEMORY = 64 * 1024**2  # the limit the memory probe sets and reads back
MIRROR_TIMEOUT = 3.0  # seconds: a mirror that answers does so at once
# cgroup v2, then v1: where a container reads its own memory limit.
READ_LIMIT = ("cat /sys/fs/cgroup/memory.max 2>/dev/null || "
              "cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
ENGINE_CHECKS = ("storage", "bridge", "memory limit", "offline bases", "tools image",
                 "leftovers", "unused images")


def diagnose(engine: Engine) -> list[Check]:
    try:
        version = engine.version()
    except Unreachable as exc:
        skipped = [Check(name, None, "not checked: the engine does not answer")
                   for name in ENGINE_CHECKS]
        return [Check("engine", False, f"no engine answers at {exc.host} ({exc.reason})",
                      unreachable_fix(exc.host)), *skipped, _mirror()]
    product = (version.get("Platform") or {}).get("Name") or "Docker Engine"
    answers = Check("engine", True, f"{product} {version.get('Version', '?')} (API "
                    f"{version.get('ApiVersion', '?')}, {version.get('Os', '?')}/"
                    f"{version.get('Arch', '?')}) at {engine.where}")
    try:
        with translated("reading the engine's info"):
            info = engine.client().info()
    except SandboxError as exc:
        return [answers, Check("storage", False, str(exc), "`docker info` should work")]
    checks: list[Callable[[Engine], Check]] = [
        lambda e: _storage(e, info), _bridge, _memory_limit, _bases, _tools, _leftovers,
        _unused_images]
    return [answers, *(_guarded(name, lambda c=check: c(engine))  # type: ignore[misc]
                       for name, check in zip(ENGINE_CHECKS, checks, strict=True)),
            _mirror()]


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check the engine failed midway is a failed check, not a crash of the doctor."""
    try:
        return check()
    except SandboxError as exc:
        return Check(name, False, str(exc), "`docker info` and `docker ps` should work")


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return ""


def _storage(engine: Engine, info: dict[str, Any]) -> Check:
    driver = info.get("Driver", "?")
    root = info.get("DockerRootDir", "")
    if not engine.local() or not root or not Path(root).exists():
        return Check("storage", True, f"driver {driver}; free disk not known (the engine's "
                     f"{root or 'data folder'} is not on this host)")
    free = shutil.disk_usage(root).free
    detail = f"driver {driver}, {_size(free)} free in {root}"
    if free < LOW_DISK:
        return Check("storage", False, detail, "free space: `repro gc --images`, `repro runs "
                     "--prune 30d`, `docker image prune` (images no container uses)")
    return Check("storage", True, detail)


def _bridge(engine: Engine) -> Check:
    fix = ("start the engine with its default bridge (drop `--bridge=none` / `\"bridge\": "
           "\"none\"` from dockerd's options and restart it): image builds with RUN lines "
           "need it")
    # Podman lists its default network as bridge, but a filter on that name finds nothing
    # (it filters by its own name for it, podman): all of them there.
    podman = engine.podman()
    with translated("listing networks"):
        found = [n for n in engine.client().networks.list(names=None if podman else ["bridge"])
                 if n.name == "bridge"]
    if not found:
        return Check("bridge", False, "the engine has no default bridge network", fix)
    if podman:
        return Check("bridge", True, "network bridge (Podman's default network)")
    options = found[0].attrs.get("Options") or {}
    interface = options.get("com.docker.network.bridge.name", "docker0")
    if engine.local() and Path("/sys/class/net").is_dir() and \
            not Path("/sys/class/net", interface).exists():
        return Check("bridge", False, f"network bridge exists but its interface {interface} "
                     "does not", fix)
    return Check("bridge", True, f"network bridge on interface {interface}")


def _memory_limit(engine: Engine) -> Check:
    """A tiny container with a memory limit reads its own limit back from its cgroup."""
    import docker

    image = f"{bases.PREFIX}busybox:latest"
    if not _image_exists(engine, image):
        return Check("memory limit", None, f"not checked: needs {image} (`repro base busybox` "
                     "makes it offline)")
    name = f"repro-doctor-{os.getpid()}"
    try:
        with translated("running a container with a memory limit"):
            output = engine.client().containers.run(
                image, ["sh", "-c", READ_LIMIT], name=name, remove=True, network_mode="none",
                mem_limit=PROBE_MEMORY, labels=labels.for_run(name, "doctor", False))
    except SandboxError as exc:
        return Check("memory limit", False, str(exc), "enable the memory cgroup controller "
                     "(cgroup v2, or `cgroup_enable=memory` on the kernel command line)")
    except docker.errors.ContainerError as exc:
        return Check("memory limit", False, f"the probe container failed: {exc}",
                     "`docker run --rm --memory 64m repro-base/busybox true` should work")
    seen = output.decode(errors="replace").strip()
    if seen == str(PROBE_MEMORY):
        return Check("memory limit", True, f"enforced (a {_size(PROBE_MEMORY)} limit reads "
                     "back from the container's cgroup)")
    return Check("memory limit", False, f"a {_size(PROBE_MEMORY)} limit reads back as "
                 f"{seen or 'nothing'}: limits: in environments would not hold",
                 "enable the memory cgroup controller (cgroup v2 with memory delegated, or "
                 "`cgroup_enable=memory` on the kernel command line) and restart the engine")


def _image_exists(engine: Engine, ref: str) -> bool:
    import docker

    with translated(f"looking up image {ref}"):
        try:
            engine.client().images.get(ref)
            return True
        except docker.errors.ImageNotFound:
            return False


def _bases(engine: Engine) -> Check:
    busybox, debian = f"{bases.PREFIX}busybox", f"{bases.PREFIX}debian:bookworm"
    present = [ref for ref in (busybox, debian) if _image_exists(engine, ref)]
    notes, fixes = [], []
    if busybox not in present:
        if os.path.isfile(bases.BUSYBOX):
            notes.append(f"{busybox} made on first use from {bases.BUSYBOX}")
        else:
            fixes.append("`apt-get install busybox-static`, then `repro base busybox`")
    if debian not in present:
        if shutil.which("debootstrap") is None:
            fixes.append("`apt-get install debootstrap`, then `sudo repro base debian:bookworm`")
        else:
            notes.append(f"{debian} can be made: `sudo repro base debian:bookworm` "
                         "(debootstrap, about a minute)")
    elif shutil.which("debootstrap") is None:
        notes.append("debootstrap not installed (needed only to make the Debian base again)")
    detail = "present: " + (", ".join(present) or "none") + "".join(f"; {n}" for n in notes)
    if fixes:
        return Check("offline bases", False, detail + "; missing and cannot be made here",
                     "; ".join(fixes))
    return Check("offline bases", True, detail)


def _tools(engine: Engine) -> Check:
    if _image_exists(engine, bases.TOOLS):
        return Check("tools image", True, f"{bases.TOOLS} present (clock, isolation, faults)")
    return Check("tools image", False, f"{bases.TOOLS} is missing: scenarios with clock:, "
                 "network isolation or faults cannot run",
                 f"`repro base {bases.TOOLS.removeprefix(bases.PREFIX)}` (needs the Debian "
                 "base and the mirror; once)")


def _leftovers(engine: Engine) -> Check:
    found = gc.collect(engine, dry_run=True)
    dead = [x for x in found if x.reason_kept is None]
    live = [x for x in found if x.in_use]
    kept = len(found) - len(dead) - len(live)
    detail = (f"{len(dead)} resource(s) of dead runs, {len(live)} of runs going on, "
              f"{kept} kept or of other hosts")
    if dead:
        detail += ": `repro gc` removes the dead runs' ones"
    return Check("leftovers", True, detail)


def _unused_images(engine: Engine) -> Check:
    client = engine.client()
    total, count = 0, 0
    with translated("listing cached images"):
        for image in client.images.list(filters={"label": labels.CACHE_KEY}):
            if not client.api.containers(all=True, filters={"ancestor": image.id}):
                count += 1
                total += int(image.attrs.get("Size") or 0)
    detail = f"{count} cached environment image(s) no container uses"
    if count:
        detail += f", up to {_size(total)}: `repro gc --images` frees them (rebuilt when needed)"
    return Check("unused images", True, detail)


def _mirror() -> Check:
    """apt inside builds and the Debian base need it; a HEAD request, a short timeout."""
    try:
        mirror = bases.debian_mirror()
    except SandboxError as exc:
        return Check("debian mirror", False, str(exc).split(":")[0],
                     "set REPRO_DEBIAN_MIRROR to your Debian mirror's URL")
    request = urllib.request.Request(mirror, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=MIRROR_TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:  # an answer all the same (e.g. 403 on the root)
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check("debian mirror", False, f"{mirror} does not answer ({reason})",
                     "apt in image builds and the Debian base need it: fix the network or "
                     "set REPRO_DEBIAN_MIRROR to a mirror you can reach")
    return Check("debian mirror", True, f"{mirror} answers (HTTP {status})")

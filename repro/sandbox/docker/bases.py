"""Offline base images made without a registry: repro-base/busybox, repro-base/debian:SUITE."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from repro import tarball
from repro.errors import ConfigError, SandboxError
from repro.sandbox.docker import labels, transfer
from repro.sandbox.docker.engine import Engine, translated

PREFIX = "repro-base/"
BUSYBOX = "/bin/busybox"
# What repro itself brings into a sandbox, whatever the customer's image holds: the clock
# (libfaketime, preloaded) and network faults (tc/netem, from a helper container). Made
# once from the Debian base, like the bases; runs then only copy from it.
TOOLS = f"{PREFIX}tools:bookworm"
TOOL_PACKAGES = ("libfaketime", "iproute2")
_SUITE = re.compile(r"^[a-z][a-z0-9-]*$")


def is_base(ref: str) -> bool:
    return ref.startswith(PREFIX)


def split(ref: str) -> tuple[str, str]:
    name, _, tag = ref.removeprefix(PREFIX).partition(":")
    return name, tag or ("latest" if name == "busybox" else "")


def ensure(engine: Engine, ref: str, say: Callable[[str], None]) -> str:
    """The id of the offline base `ref` on the engine, made unless it has it: copied from
    another engine of the run that has it (seconds), else created. Looked up once per
    engine: every container start on a private network asks for the tools image."""
    import docker

    known = engine.base_ids.get(ref)
    if known is not None:
        return known
    with translated(f"looking up image {ref}"):
        try:
            found = engine.client().images.get(ref).id
        except docker.errors.ImageNotFound:
            found = None
    if found is None:
        if transfer.from_peers(engine, ref, say) is None:
            create(engine, ref, say)
        with translated(f"looking up image {ref}"):
            found = engine.client().images.get(ref).id
    engine.base_ids[ref] = found
    return found


def create(engine: Engine, ref: str, say: Callable[[str], None]) -> str:
    name, tag = split(ref)
    if name == "busybox" and tag == "latest":
        say(f"creating offline base image {PREFIX}busybox from {BUSYBOX} ...")
        _import(engine, _busybox_rootfs(), f"{PREFIX}busybox", "latest", "busybox")
        return f"{PREFIX}busybox:latest"
    if name == "debian" and _SUITE.match(tag or ""):
        say(f"creating offline base image {PREFIX}debian:{tag} with debootstrap "
            "(about a minute, once) ...")
        with tempfile.TemporaryDirectory(prefix="repro-debootstrap-") as root:
            _debootstrap(tag, Path(root))
            with tempfile.TemporaryFile() as tar:
                subprocess.run(["tar", "-C", root, "--numeric-owner", "-c", "."], stdout=tar,
                               check=True)
                tar.seek(0)
                _import(engine, tar, f"{PREFIX}debian", tag, f"debian:{tag}")
        return f"{PREFIX}debian:{tag}"
    if name == "tools" and _SUITE.match(tag or ""):
        _tools(engine, tag, say)
        return f"{PREFIX}tools:{tag}"
    raise ConfigError(f"unknown offline base {ref!r}: repro can make "
                       f"{PREFIX}busybox, {PREFIX}debian:SUITE (e.g. {PREFIX}debian:bookworm) "
                       f"and {PREFIX}tools:SUITE")


def _tools(engine: Engine, suite: str, say: Callable[[str], None]) -> None:
    """repro's own helpers (libfaketime, iproute2) on the Debian base of `suite`."""
    parent = f"{PREFIX}debian:{suite}"
    ensure(engine, parent, say)
    say(f"creating {PREFIX}tools:{suite} ({', '.join(TOOL_PACKAGES)}) from {parent} "
        "(once) ...")
    dockerfile = (f"FROM {parent}\n"
                  "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                  f"--no-install-recommends {' '.join(TOOL_PACKAGES)} "
                  "&& rm -rf /var/lib/apt/lists/*\n"
                  f"LABEL {labels.BASE}=tools:{suite}\n")
    import docker

    with translated(f"building {PREFIX}tools:{suite}"):
        try:
            engine.client().images.build(fileobj=io.BytesIO(dockerfile.encode()),
                                         tag=f"{PREFIX}tools:{suite}", rm=True, forcerm=True)
        except docker.errors.BuildError as exc:  # its log says why
            log = " | ".join(str(chunk.get("stream", "")).strip()
                             for chunk in getattr(exc, "build_log", [])
                             if str(chunk.get("stream", "")).strip())[-300:]
            from repro.sandbox.docker.images import bridge_hint

            raise SandboxError(f"could not make {PREFIX}tools:{suite}: {exc}"
                               f"{bridge_hint(str(exc))} (apt needs the Debian mirror; last "
                               f"output: {log})") from None


def _import(engine: Engine, tar: Any, repository: str, tag: str, base: str) -> None:
    data = tar.getvalue() if isinstance(tar, io.BytesIO) else tar.read()
    with translated(f"importing {repository}:{tag}"):
        # The tag inside `repo`, as the API allows: Podman ignores a separate `tag` (the
        # image came out as :latest), Docker takes either.
        engine.client().api.import_image_from_data(
            data, repository=f"{repository}:{tag}",
            changes=[f"LABEL {labels.BASE}={base}", 'CMD ["sh"]',
                     "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])


def _busybox_rootfs() -> io.BytesIO:
    if not os.path.isfile(BUSYBOX):
        raise SandboxError(f"{BUSYBOX} not found: install a static busybox "
                           "(Debian/Ubuntu: `apt-get install busybox-static`) to create "
                           f"{PREFIX}busybox offline")
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    buf = io.BytesIO()
    with tarball.writer(buf) as tar:
        for folder, mode in [("bin", 0o755), ("sbin", 0o755), ("usr", 0o755),
                             ("usr/bin", 0o755), ("usr/sbin", 0o755), ("etc", 0o755),
                             ("root", 0o700), ("tmp", 0o1777), ("var", 0o755),
                             ("var/tmp", 0o1777), ("proc", 0o755), ("sys", 0o755),
                             ("dev", 0o755), ("home", 0o755)]:
            tarball.add_dir(tar, folder, mode)
        tarball.add_tree(tar, Path(BUSYBOX), "bin/busybox")
        for applet in applets:
            if applet != "bin/busybox":
                tarball.add_symlink(tar, applet, "/bin/busybox")
        for path, text in [
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                           "app:x:1000:1000:app:/home:/bin/sh\n"
                           "nobody:x:65534:65534:nobody:/:/bin/false\n"),
            ("etc/group", "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"),
        ]:
            tarball.add_bytes(tar, path, text.encode())
    buf.seek(0)
    return buf


def debian_mirror() -> str:
    """The Debian mirror apt uses on this host (or REPRO_DEBIAN_MIRROR)."""
    configured = os.environ.get("REPRO_DEBIAN_MIRROR")
    if configured:
        return configured
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for match in re.finditer(r"^URIs:\s*(\S+)", path.read_text(errors="replace"), re.M):
            if "security" not in match.group(1):
                return match.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        for match in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", legacy.read_text(), re.M):
            if "security" not in match.group(1):
                return match.group(1)
    raise SandboxError("no Debian mirror found in /etc/apt: set REPRO_DEBIAN_MIRROR to your "
                       "mirror's URL")


def _debootstrap(suite: str, root: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap not found: install it (`apt-get install debootstrap`) "
                           f"to create {PREFIX}debian offline")
    if os.geteuid() != 0:
        raise SandboxError(f"creating {PREFIX}debian needs root (debootstrap): run "
                           f"`sudo repro base {PREFIX}debian:{suite}` once")
    mirror = debian_mirror()
    done = subprocess.run(["debootstrap", "--variant=minbase", suite, str(root), mirror],
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise SandboxError(f"debootstrap {suite} from {mirror} failed: {' / '.join(tail)}")
    for leftover in ["var/cache/apt/archives", "var/lib/apt/lists"]:
        for item in (root / leftover).glob("*"):
            if item.is_file():
                item.unlink()
    # Like the usual Debian container images: apt keeps no downloaded packages around,
    # so `apt-get install` in a Dockerfile does not bloat every layer.
    (root / "etc/apt/apt.conf.d/docker-clean").write_text(
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n')

"""Images with a change made once: a script run as root in a base image (a locale compiled
in), kept as an image of its own and cached by the base image and the change's key.

A build, not a commit, makes it: the result keeps every setting of the base image (entry
point, command, environment, working directory, labels) but its user, which the script
needs to be root and which is set back afterwards when the base named one. The build's RUN
succeeds only when the script says it changed something, so "nothing to change" leaves no
image behind: the base image gets a second tag instead, which answers the next run.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile

from repro.errors import SandboxError
from repro.sandbox.api import ChangedImage, ImageChange, Say
from repro.sandbox.docker import labels
from repro.sandbox.docker.engine import Engine, translated

REPOSITORY = "repro-changed"
MARK = "repro-change-exit="  # the script's exit code, printed by the build's RUN


def change(engine: Engine, base: str, wanted: ImageChange, say: Say) -> ChangedImage:
    tag = f"{REPOSITORY}:{_short(base)}-{hashlib.sha256(wanted.key.encode()).hexdigest()[:16]}"
    same = f"{tag}-same"
    found = _find(engine, tag)
    if found:
        return ChangedImage(found, wanted.changed, "", cached=True)
    if _find(engine, same):
        return ChangedImage(base, 0, "", cached=True)
    say(f"preparing {wanted.what} in image {_short(base)} (once: later runs reuse it) ...")
    code, image_id, output = _build(engine, base, wanted, tag)
    if code == wanted.changed and image_id:
        return ChangedImage(image_id, code, output, cached=False)
    if code == 0:  # nothing to change: the base image answers the next run too
        with translated(f"tagging image {_short(base)}"):
            engine.client().api.tag(base, *same.split(":", 1))
    return ChangedImage(base, code, output, cached=False)


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _find(engine: Engine, ref: str) -> str | None:
    import docker

    with translated(f"looking up image {ref}"):
        try:
            return str(engine.client().api.inspect_image(ref)["Id"])
        except docker.errors.ImageNotFound:
            return None


def dockerfile(base: str, user: str, wanted: ImageChange) -> str:
    """The build: root for the script, whose exit code is printed and must be `changed`
    for the RUN to succeed; then the base's own user again."""
    script = f"({wanted.script}\n); c=$?; echo \"{MARK}$c\"; [ \"$c\" -eq {wanted.changed} ]"
    run = json.dumps(["sh", "-c", script, "change", *wanted.args])
    lines = [f"FROM {base}", "USER 0", f"RUN {run}"]
    if user not in ("", "0", "root"):
        lines.append(f"USER {user}")
    return "\n".join(lines) + "\n"


def _build(engine: Engine, base: str, wanted: ImageChange, tag: str
           ) -> tuple[int, str, str]:
    """The script's exit code (127: no shell to run it), the image made, its last lines."""
    from repro.sandbox.docker.images import bridge_hint

    client = engine.client().api
    with translated(f"inspecting image {_short(base)}"):
        user = client.inspect_image(base)["Config"].get("User") or ""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        text = dockerfile(base, user, wanted).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    log: list[str] = []
    code: int | None = None
    image_id = error = ""
    with translated(f"preparing {wanted.what}"):
        stream = client.build(fileobj=io.BytesIO(context.getvalue()), custom_context=True,
                              tag=tag, rm=True, forcerm=True, decode=True,
                              # Not MANAGED: containers inherit image labels, and gc must
                              # never take a user's container started from this image.
                              labels={labels.CACHE_KEY: f"change:{wanted.key}"})
        for chunk in stream:
            for line in chunk.get("stream", "").splitlines():
                found = re.fullmatch(rf"{MARK}(\d+)", line.strip())
                if found:
                    code = int(found.group(1))
                elif line.strip():
                    log.append(line.strip())
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if "error" in chunk:
                error = chunk["error"].strip()
    said = [line for line in log if not re.match(r"(Step \d|---> |Removing interm|Success)",
                                                  line)]
    if code is None:
        if re.search(r"executable file not found|no such file or directory", error):
            return 127, "", "\n".join(said[-3:])  # no shell in the image
        raise SandboxError(f"preparing {wanted.what} in image {_short(base)} failed: "
                           f"{error or 'the build ended early'}{bridge_hint(error)}")
    return code, image_id if code == wanted.changed else "", "\n".join(said[-3:])

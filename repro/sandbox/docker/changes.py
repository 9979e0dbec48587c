"""Images with a change made once: a script run as root in a base image (a locale compiled
in), kept as an image of its own and cached by the base image and the change.

A build, not a commit, makes it, with no network: the result keeps the base image's entry
point, command, environment, working directory and labels, and its user (the script runs
as root; the base's user is set back after it, root written as `0` where the base named
none). The build's RUN succeeds only when the script says it changed something. Any other
answer (nothing to change, or the image cannot) leaves no image and no name on the base:
it is kept in repro's cache by the base's id, so the next run does not ask again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterable
from typing import Any

from repro.errors import SandboxError
from repro.sandbox.api import ChangedImage, ImageChange, Say
from repro.sandbox.docker import labels
from repro.sandbox.docker.cache import Facts
from repro.sandbox.docker.engine import Engine, translated
from repro.sandbox.docker.images import bridge_hint, find

REPOSITORY = "repro-changed"
MARK = "repro-change-exit="  # the script's exit code, printed by the build's RUN
FORMAT = 1  # of the build below: a new one makes every cached answer stale
_answers = Facts("image-changes.json")  # "base id change-hash" -> {"exit": N, "output": S}
_NO_SHELL = re.compile(r"executable file .*not found|no such file or directory", re.I)


def change(engine: Engine, base: str, wanted: ImageChange, say: Say) -> ChangedImage:
    digest = hashlib.sha256(json.dumps(
        [FORMAT, wanted.key, wanted.script, list(wanted.args), wanted.changed]).encode())
    tag = f"{REPOSITORY}:{_short(base)}-{digest.hexdigest()[:16]}"
    found = find(engine, tag)
    if found:
        return ChangedImage(found, wanted.changed, "", cached=True)
    answer = _answers.get(f"{base} {digest.hexdigest()}")
    if isinstance(answer, dict) and isinstance(answer.get("exit"), int):
        return ChangedImage(base, answer["exit"], str(answer.get("output", "")), cached=True)
    say(f"preparing {wanted.what} in image {_short(base)} (once: later runs reuse it) ...")
    code, output = _build(engine, base, wanted, tag)
    if code == wanted.changed:
        made = find(engine, tag)
        if not made:
            raise SandboxError(f"preparing {wanted.what} in image {_short(base)}: the build "
                               f"said it was done but {tag} is not on the engine")
        return ChangedImage(made, code, output, cached=False)
    _answers.put(f"{base} {digest.hexdigest()}", {"exit": code, "output": output})
    return ChangedImage(base, code, output, cached=False)


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def dockerfile(base: str, user: str, wanted: ImageChange) -> str:
    """The build: root for the script, whose exit code is printed and must be `changed`
    for the RUN to succeed; then the base's own user again."""
    script = f"({wanted.script}\n); c=$?; echo \"{MARK}$c\"; [ \"$c\" -eq {wanted.changed} ]"
    run = json.dumps(["sh", "-c", script, "change", *wanted.args])
    lines = [f"FROM {base}", "USER 0", f"RUN {run}"]
    if user not in ("", "0", "root"):
        lines.append(f"USER {json.dumps(user)[1:-1]}")
    return "\n".join(lines) + "\n"


def read_build(stream: Iterable[dict[str, Any]]) -> tuple[int | None, str, str]:
    """From a build's JSON stream: the script's exit code (None when it never printed
    one), its last lines, and the engine's error."""
    log: list[str] = []
    code: int | None = None
    error = ""
    for chunk in stream:
        for line in chunk.get("stream", "").splitlines():
            found = re.fullmatch(rf"{MARK}(\d+)", line.strip())
            if found:
                code = int(found.group(1))
            elif line.strip() and not re.match(r"(Step \d|---> |Removing interm|Success)",
                                               line.strip()):
                log.append(line.strip())
        if "error" in chunk:
            error = chunk["error"].strip()
    return code, "\n".join(log[-3:]), error


def _build(engine: Engine, base: str, wanted: ImageChange, tag: str) -> tuple[int, str]:
    """The script's exit code (127: no shell to run it) and its last lines."""
    client = engine.client().api
    with translated(f"inspecting image {_short(base)}"):
        user = client.inspect_image(base)["Config"].get("User") or ""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        text = dockerfile(base, user, wanted).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    with translated(f"preparing {wanted.what}"):
        stream = client.build(fileobj=io.BytesIO(context.getvalue()), custom_context=True,
                              tag=tag, rm=True, forcerm=True, decode=True,
                              network_mode="none",  # the image's own programs, as root
                              # Not MANAGED: containers inherit image labels, and gc must
                              # never take a user's container started from this image. Not
                              # an offline base either, whatever the base was.
                              labels={labels.CACHE_KEY: f"change:{wanted.key}",
                                      labels.BASE: ""})
        code, output, error = read_build(stream)
    if code is None:
        if _NO_SHELL.search(error):
            return 127, output
        raise SandboxError(f"preparing {wanted.what} in image {_short(base)} failed: "
                           f"{error or 'the build ended early'}{bridge_hint(error)}")
    return code, output

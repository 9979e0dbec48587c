"""Who owns the customer data in the sandbox: the environment's `user`, as numbers.

Data is handed to that user in the tar stream itself (the owner of each entry), so no
privileged `chown` runs inside the sandbox: its processes cannot gain privileges
(no-new-privileges), which also takes a root exec's capabilities away when the image's
user is not root.
"""

from __future__ import annotations

import io
import tarfile

from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.plan.values import Plan
from repro.sandbox.api import Container


def ids(plan: Plan, container: Container, user: str) -> tuple[int, int]:
    """(uid, gid) of `user` (`name`, `uid`, `name:group`, `uid:gid`) in the image."""
    name, _, group = user.partition(":")
    passwd = _table(container, "/etc/passwd")
    if name.isdigit():
        uid = int(name)
        gid = next((int(row[3]) for row in passwd if row[2] == name and row[3].isdigit()), uid)
    else:
        row = next((r for r in passwd if r[0] == name and r[2].isdigit() and r[3].isdigit()),
                   None)
        if row is None:
            raise _unknown(plan, user, f"user {name!r} is not in the image's /etc/passwd")
        uid, gid = int(row[2]), int(row[3])
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            found = next((r for r in _table(container, "/etc/group")
                          if r[0] == group and r[2].isdigit()), None)
            if found is None:
                raise _unknown(plan, user, f"group {group!r} is not in the image's /etc/group")
            gid = int(found[2])
    return uid, gid


def _unknown(plan: Plan, user: str, why: str) -> ConfigError:
    return ConfigError(Problem(display_path(plan.environment_path), None, "user",
                               f"{why}: write a number (user: \"1000\" or \"1000:1000\"), or "
                               f"create {user!r} in the image"))


def _table(container: Container, path: str) -> list[list[str]]:
    """The colon-separated rows of a file of the (created, maybe not started) container."""
    stream = container.copy_out(path)
    if stream is None:
        return []
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream)), mode="r:") as tar:
        member = next((m for m in tar if m.isfile()), None)
        body = tar.extractfile(member) if member is not None else None
        text = body.read().decode("utf-8", "replace") if body is not None else ""
    return [line.split(":") for line in text.splitlines() if line.count(":") >= 3]

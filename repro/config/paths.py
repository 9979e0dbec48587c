"""The one rule for every file a scenario or environment names: it stays inside the project.

`data: {from: /etc/shadow}`, `template: ../../../etc/passwd` or a symlink out of the
project would copy host files into a sandbox, a record or a baseline. A path is accepted
when, with `..` and symlinks resolved, it lies in the project folder or in a folder the
user allowed explicitly (REPRO_ALLOW_PATHS, e.g. where customer bundles are unpacked).
"""

from __future__ import annotations

import os
from pathlib import Path

ALLOW_ENV = "REPRO_ALLOW_PATHS"


def allowed_roots(project: Path) -> list[Path]:
    extra = [Path(p).expanduser().resolve() for p in
             os.environ.get(ALLOW_ENV, "").split(os.pathsep) if p.strip()]
    return [project.resolve(), *extra]


def outside(path: Path, project: Path) -> str | None:
    """Why `path` may not be used (None when it may): one message for every key."""
    resolved = path.resolve()
    if any(resolved.is_relative_to(root) for root in allowed_roots(project)):
        return None
    return (f"{str(path)!r} is outside the project (paths are resolved through `..` and "
            "symlinks): put the file inside the project, e.g. under the scenario's "
            f"customer/ folder, or allow its folder with {ALLOW_ENV}=DIR")

"""What the configuration's records share: the shape of their problems and the checks
and schema pieces more than one of them uses."""

from __future__ import annotations

import re
from typing import Any

from repro.config.yaml_source import Loc

Issues = list[tuple[Loc, str]]  # (location below the record, message) from check()

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCALAR_SCHEMA = {"type": ["string", "number", "boolean"]}
DURATION_SCHEMA = {"type": ["number", "string"], "examples": [30, "30s", "2m", "500ms"]}


def one_of(record: Any, names: list[str], what: str) -> Issues:
    given = [n for n in names if getattr(record, n) is not None]
    if len(given) == 1:
        return []
    keys = " or ".join(f"'{n}'" for n in names)
    if not given:
        return [((), f"{what} needs {keys}")]
    return [((given[1],), f"{what} takes only one of {keys}")]


def absolute(path: str, key: str) -> Issues:
    return [] if path.startswith("/") else [((key,), f"must be an absolute path, got {path!r}")]


"""Parsers for the human units used in YAML: durations, sizes, file modes, regexes."""

from __future__ import annotations

import re
from typing import Any

from repro.config.schema import Invalid

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)


def duration(raw: Any) -> float:
    """`30`, `30s`, `1.5m`, `500ms`, `2h` -> seconds."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        seconds = float(raw)
    else:
        match = _DURATION.match(str(raw))
        if not match:
            raise Invalid(f"expected a duration like 30s, 2m or 500ms, got {raw!r}")
        seconds = float(match.group(1)) * _SCALE[match.group(2)]
    if seconds <= 0:
        raise Invalid(f"must be longer than zero, got {raw!r}")
    return seconds


def memory(raw: Any) -> int:
    """`512m`, `1g`, `1GiB`, `1048576` -> bytes."""
    match = _SIZE.match(str(raw))
    if not match or isinstance(raw, bool):
        raise Invalid(f"expected a size like 512m or 2g, got {raw!r}")
    unit = (match.group(2) or "b")[0].lower()
    value = int(match.group(1)) * {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
    if value < 6 * 1024**2:
        raise Invalid("Docker needs at least 6m of memory")
    return value


def file_mode(raw: Any, text: str | None = None) -> int:
    """`"0644"`, `0644`, `644` or `0o644` -> 0o644: the digits as written are octal."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise Invalid(f"expected an octal file mode like \"0644\", got {raw!r}")
    text = (text if text is not None else str(raw)).strip().removeprefix("0o")
    if not re.fullmatch(r"[0-7]{3,4}", text):
        raise Invalid(f"expected an octal file mode like \"0644\", got {raw!r}")
    return int(text, 8)


file_mode.wants_text = True  # type: ignore[attr-defined]


def regex(raw: Any) -> str:
    if not isinstance(raw, str):
        raise Invalid(f"expected a regular expression (a string), got {raw!r}")
    try:
        re.compile(raw)
    except re.error as exc:
        raise Invalid(f"invalid regular expression {raw!r}: {exc}") from None
    return raw

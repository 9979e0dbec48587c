"""Parsers for the human units used in YAML: durations, sizes, file modes, regexes."""

from __future__ import annotations

import re
from typing import Any

from repro.config.schema import Invalid

# One or more number+unit parts: `30s`, `1.5m`, `1m30s` (compose), `2d`, `1w2d`.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
# Longer than any step, wait or retention anyone means; beyond it a typo (`9999999h`)
# would overflow the engine's and the OS's timers instead of failing here.
MAX_DURATION = 366 * 86400.0
# Up to 18 digits: more is no size a machine has, and would only slow int() down (or
# exceed Python's 4300-digit conversion limit).
_SIZE = re.compile(r"^\s*(\d{1,18})\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)


def duration(raw: Any) -> float:
    """`30`, `30s`, `1.5m`, `500ms`, `2h`, `1m30s`, `30d`, `2w` -> seconds (a bare number
    is seconds)."""
    if isinstance(raw, bool):
        raise Invalid(f"expected a duration like 30s, 2m or 500ms, got {raw!r}")
    if isinstance(raw, (int, float)):
        seconds = float(raw)
    else:
        text = str(raw).strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif _DURATION.match(text):
            seconds = sum(float(n) * _SCALE[u] for n, u in _DURATION_PART.findall(text))
        else:
            raise Invalid(f"expected a duration like 30s, 2m or 500ms, got {raw!r}")
    if seconds != seconds:  # NaN (`.nan` in YAML) compares false with every bound
        raise Invalid(f"expected a duration like 30s, 2m or 500ms, got {raw!r}")
    if seconds <= 0:
        raise Invalid(f"must be longer than zero, got {raw!r}")
    if seconds > MAX_DURATION:
        raise Invalid(f"must be at most 366d, got {raw!r}")
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


def size(raw: Any) -> int:
    """`64m`, `20m`, `1g`, `512k`, `1048576` -> bytes (any size above zero)."""
    match = _SIZE.match(str(raw))
    if not match or isinstance(raw, (bool, float)):
        raise Invalid(f"expected a size like 64m, 512k or 1g, got {raw!r}")
    unit = (match.group(2) or "b")[0].lower()
    value = int(match.group(1)) * {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
    if value <= 0:
        raise Invalid(f"must be larger than zero, got {raw!r}")
    return value

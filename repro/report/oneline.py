"""Text shown on one terminal line: line breaks, tabs and control characters as escapes."""

from __future__ import annotations

import re

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str, limit: int = 200) -> str:
    """`a\\nb` for a two-line pattern or observation: the layout holds, nothing is hidden
    and no escape sequence reaches the terminal."""
    shown = _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"),
                         text)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."

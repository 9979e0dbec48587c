"""Text shown on one terminal line: line breaks, tabs and control characters as escapes."""

from __future__ import annotations

from repro.report.controls import escaped


def one_line(text: str, limit: int = 200) -> str:
    """`a\\nb` for a two-line pattern or observation: the layout holds, nothing is hidden
    and no escape sequence reaches the terminal."""
    shown = escaped(text, named=True)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."

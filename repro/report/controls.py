"""Control characters from outside (a step's output, a file name, a log line) shown as
escapes, `\\x1b`, never passed on to a terminal or a page: one rule for every report,
each saying which characters it keeps as they are (`keep`).

XML (repro.report.junit) and the YAML of a draft scenario (repro.bundle.write) have rules
of their own: what the format cannot hold, not what a reader should see.
"""

from __future__ import annotations

import re
from functools import cache

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


# C1 controls (U+009B starts an escape sequence on some terminals, as ESC [ does) and the
# bidirectional overrides and isolates (U+202E shows `exe.txt` for `txt.exe`).
_ALSO = "\\x80-\\x9f\\u202a-\\u202e\\u2066-\\u2069"


@cache
def _controls(keep: str) -> re.Pattern[str]:
    """C0 and C1 control characters, DEL and the bidirectional controls, but those in
    `keep`."""
    return re.compile("[" + "".join(f"\\x{c:02x}" for c in (*range(0x20), 0x7f)
                                    if chr(c) not in keep) + _ALSO + "]")


def escaped(text: str, keep: str = "", named: bool = False) -> str:
    """`text` with each control character but those in `keep` as `\\xNN` (`\\uNNNN`
    beyond U+00FF); with `named`, a line break or tab as `\\n`, `\\r`, `\\t` (text kept
    on one line)."""
    names = _NAMED if named else {}
    return _controls(keep).sub(lambda m: names.get(m.group()) or _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

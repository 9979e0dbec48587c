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


@cache
def _controls(keep: str) -> re.Pattern[str]:
    """C0 control characters and DEL, but those in `keep`."""
    return re.compile("[" + "".join(f"\\x{c:02x}" for c in (*range(0x20), 0x7f)
                                    if chr(c) not in keep) + "]")


def escaped(text: str, keep: str = "", named: bool = False) -> str:
    """`text` with each control character but those in `keep` as `\\xNN`; with `named`,
    a line break or tab as `\\n`, `\\r`, `\\t` (text kept on one line)."""
    names = _NAMED if named else {}
    return _controls(keep).sub(
        lambda m: names.get(m.group()) or f"\\x{ord(m.group()):02x}", text)

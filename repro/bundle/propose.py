"""From the customer's logs: the error to look for (the oracle) and when it happened (the
clock), each with the line it was read from so the engineer can confirm it.

The error is the last error line of the logs: a line at level ERROR, FATAL, CRITICAL or
SEVERE (or `[error]`, `[crit]`...), an exception line (`ValueError: ...`,
`java.lang.IllegalStateException: ...`) or a `Traceback` header. Its message is cut
before the first value that would differ between two occurrences of the same error (a
quoted value, a number, a date, a path with a version in it, a parenthesis), so the oracle
matches the error, not the customer's particular amount.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from repro.config import logtime

_LEVEL = re.compile(r"\b(?:ERROR|FATAL|CRITICAL|SEVERE|PANIC)\b:?|\[(?:\w+:)?(?i:error|crit|"
                    r"alert|emerg|fatal)\]")  # `[error]`, Apache 2.4's `[core:error]`

_EXCEPTION = re.compile(r"^(?:Caused by: )?(?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*"
                        r"(?:Error|Exception|Exit|Interrupt)(?::\s.*)?$")
_CLOSING = re.compile(r"^[A-Za-z_][\w.]*(?::\s.*)?$")  # `ValueError: ...`, `KeyError`
_TRACEBACK = "Traceback (most recent call last)"
_VOLATILE = re.compile(r"['\"`]|^[(\[{<]|\d+(?:[.,:/-]\d+)+|^[-+]?\d+\W*$|^[0-9a-f]{8,}\W*$|"
                       r"^[0-9a-f-]{36}\W*$", re.I)
_BRACKETED = re.compile(r"^(?:\[[^\]]*\]\s*|\([^)]*\)\s*)+")
_ABOVE = 200  # lines kept above an error line to find its entry's timestamp (a long
# Java stack trace runs to a hundred lines)
_BLOCK = 4 * 1024 * 1024
MIN_STEM = 8  # shorter than this, a stem matches too much: keep the whole message


@dataclass(frozen=True)
class ErrorLine:
    """The last error line of a log, and what the scenario can make of it."""

    log: str  # relative to the customer folder
    number: int  # 1-based line number
    text: str  # the line, as written (stripped)
    message: str  # the error itself, without timestamp, level and logger
    pattern: str  # a regex for the error, for the oracle and the clock's `match`
    traceback: bool  # a Python exception: it goes to stderr
    stamp: logtime.Stamp | None  # the timestamp of the entry it belongs to
    unique: bool  # no earlier line of the log matches `pattern`


def last_error(root: Path, logs: list[str]) -> ErrorLine | None:
    """The latest error line over `logs` (by the timestamp of its entry; the later log
    when they tie or have none)."""
    found = [e for e in (_scan(root, rel) for rel in logs) if e is not None]
    if not found:
        return None

    def when(error: ErrorLine) -> tuple[int, ...]:
        s = error.stamp
        return (0,) if s is None or s.year is None else (
            1, s.year, s.month, s.day, s.hour, s.minute, s.second, s.microsecond)

    return max(reversed(found), key=when) if any(e.stamp for e in found) else found[-1]


def _scan(root: Path, rel: str) -> ErrorLine | None:
    # One pass, cheap tests per line; timestamps are parsed only for the chosen line and
    # the lines just above it (the entry it belongs to).
    last: tuple[int, str, tuple[str, ...], bool] | None = None  # number, line, above, tb
    above: deque[str] = deque(maxlen=_ABOVE)  # the latest lines, this one included
    in_traceback = False
    with (root / rel).open(encoding="utf-8", errors="replace", newline="") as lines:
        for number, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            above.append(line)
            if line.startswith(_TRACEBACK):
                in_traceback = True
                last = (number, line, tuple(above), True)
            elif in_traceback and line and not line[0].isspace():
                in_traceback = False  # the exception line that closes a traceback
                if _CLOSING.match(line):
                    last = (number, line, tuple(above), True)
            elif _EXCEPTION.match(line) or _is_level(line):
                last = (number, line, tuple(above), False)
    if last is None:
        return None
    number, line, lines_above, traceback = last
    stamp = next((s for s in map(logtime.find, reversed(lines_above)) if s is not None), None)
    message = _message(line)
    pattern = escape(stem(message))
    return ErrorLine(rel, number, line.strip(), message, pattern, traceback, stamp,
                     _first_match(root / rel, pattern) == number)


def _is_level(line: str) -> bool:
    # Plain substring tests first, the regex only on a hit: the regex alone on every line
    # cost most of a scan (written out: a loop over the words costs twice as much).
    return ("ERROR" in line or "FATAL" in line or "CRITICAL" in line or "SEVERE" in line
            or "PANIC" in line or "rror]" in line or "RROR]" in line or "rit]" in line
            or "lert]" in line or "merg]" in line or "atal]" in line
            ) and _LEVEL.search(line) is not None


def _message(line: str) -> str:
    """The error without what precedes it: after the last level word, else after the
    timestamp; leading `[logger]` and `(thread)` groups dropped."""
    text = line.strip()
    levels = list(_LEVEL.finditer(text))
    if levels:
        text = text[levels[-1].end():]
    else:
        stamp = logtime.find(text)
        if stamp is not None and not _EXCEPTION.match(text):
            text = text[text.find(stamp.text) + len(stamp.text):]
    text = _BRACKETED.sub("", text.strip(" :-|]\t"))
    return text.strip() or line.strip()


def escape(text: str) -> str:
    """`text` as a regex matching itself, readable: only the metacharacters escaped
    (re.escape escapes spaces too)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def stem(message: str) -> str:
    """The message up to its first volatile word (quoted value, number, date, id)."""
    kept: list[str] = []
    for word in message.split():
        if _VOLATILE.search(word):
            break
        kept.append(word)
    text = " ".join(kept).rstrip(" :;,.-=(")
    return text if len(text) >= MIN_STEM else message


def _first_match(path: Path, pattern: str) -> int | None:
    """The line number of the first line matching `pattern` (a literal from `escape`: it
    never spans lines), searched block by block rather than line by line."""
    compiled = re.compile(pattern)
    before, carry = 0, ""  # lines in the blocks already searched; a last partial line
    with path.open(encoding="utf-8", errors="replace", newline="") as text:
        while True:
            block = text.read(_BLOCK)
            data = carry + block
            cut = data.rfind("\n") + 1 if block else len(data)
            whole, carry = data[:cut], data[cut:]
            found = compiled.search(whole)
            if found:
                return before + whole.count("\n", 0, found.start()) + 1
            if not block:
                return None
            before += whole.count("\n")

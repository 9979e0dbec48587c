"""The lines of a text where `repro audit` could find personal data: every other line is
skipped without running the detectors (repro.privacy.detect) on it.

A line is a suspect when it holds a *hint*: a short pattern every finding of a kind
contains, and that a token of `repro redact` (repro.privacy.tokens) lacks. So a line of
tokens only, the common line of a redacted export, costs a few regex scans at C speed,
however many tokens it holds. A hint may name a line that holds nothing (a look-alike):
the detectors then run on it and decide, so a hint only ever saves work.

Why no finding can hide in a line without a hint (each detector's match never crosses a
line end, and its look-arounds see a line end as they see the edge of the text, so the
lines of a text are scanned independently):

- e-mail: a match starts at an `@`. After `@`, the labels of a reserved example domain
  (`x.example.com`, `*.test`, `example.invalid`...) that end where a domain may not go on
  are the whole domain the detector can match there: allowed.
- IBAN: a match starts with two capitals and two digits; a token's next four characters
  (single spaces apart) are `0` or `X`. The starts are found as `AA99` in a copy of the
  text mapped to character classes (a literal: no attempt at every capital letter).
- phone: the detector's own pattern, one regex for each way it may start (`+`, `(`: a
  literal the regex engine skips to), its look-behind after that first character, its
  look-ahead left out; a number with a leading `0` is looked for where the class copy
  (above) shows a digit, a separator and a digit, as its area code's end must be.
- IPv4: three dots between digits; the second look confirms with the detector's own
  pattern, a token's `10.` left out.
- IPv6: a valid address holds `::` or all eight groups; the second look confirms with the
  detector's own pattern, a token's `2001:db8:` left out.

Unit tests compare this path with the detectors run on every line
(tests/unit/privacy/test_audit_scan.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_H = "[0-9A-Fa-f]"
_PHONE_LEFT = r"[\w+\-./:,]"  # what may not come before a phone number (detect's)
_PHONE_TAIL = r"\d[\d .\-/]{4,16}\d"
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?!(?: ?[0X]){4})")
_PHONE_0 = re.compile(rf"0(?<!{_PHONE_LEFT}0)\d{{1,5}}[ /\-]{_PHONE_TAIL}")
# The text as classes, a byte a character: capitals A, digits 9, a phone number's
# separators after its area code s, the rest `.`. A character beyond ASCII (`?` once
# encoded, as `?` itself) counts as a digit: `\d` is any script's digit.
_CLASSES = bytes(ord("A") if chr(c).isupper() and c < 128 else ord("9") if 48 <= c <= 57
                 or c == 63 else ord("s") if chr(c) in " /-" else ord(".") for c in range(256))
# (hint, confirmation on the hinted line or None); each hint starts with a literal, or a
# class, that the regex engine skips to.
HINTS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (re.compile(r"@(?!(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net|invalid)|"
                r"[A-Za-z0-9-]+\.(?:example|test|invalid|localhost))(?![\w.-]))"), None),
    (re.compile(rf"\+(?<!{_PHONE_LEFT}\+)\d{{1,3}}[ .\-/]?(?:\(0?\d{{1,5}}\)[ .\-/]?)?"
                rf"{_PHONE_TAIL}"), None),
    (re.compile(rf"\((?<!{_PHONE_LEFT}\()0?\d{{1,5}}\) ?{_PHONE_TAIL}"), None),
    (re.compile(r"\.\d{1,3}\.\d{1,3}\.\d"),
     re.compile(r"(?<![\w.:])(?!10\.)(?:\d{1,3}\.){3}\d{1,3}(?![\w.:])")),
    (re.compile(rf"::|:{_H}{{1,4}}:{_H}{{1,4}}:{_H}{{1,4}}:{_H}{{1,4}}:{_H}{{1,4}}:{_H}{{1,4}}:"),
     re.compile(rf"(?<![\w.:])(?!2001:db8:)(?={_H.replace(']', ':]')}*::?{_H})"
                rf"{_H}{{0,4}}(?::{_H}{{0,4}}){{2,7}}(?![\w.:])")),
)


def spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the runs of suspect lines in `text`, in order; each run is whole
    lines (the last may end without a newline). When suspect lines make up more than half
    of the text (an export still full of personal data), the whole text: the detectors
    then run once, the hints' search stops early."""
    lines: set[tuple[int, int]] = set()
    size = len(text)
    covered = 0

    def line(pos: int) -> tuple[int, int]:
        return text.rfind("\n", 0, pos) + 1, text.find("\n", pos) + 1 or size

    def suspect(start: int, end: int, confirm: re.Pattern[str] | None) -> bool:
        """Adds the line; whether the suspect lines now make up most of the text."""
        nonlocal covered
        if (start, end) not in lines and (confirm is None or confirm.search(text, start, end)):
            lines.add((start, end))
            covered += end - start
        return covered * 2 > size

    for hint, confirm in HINTS:
        pos = 0
        while (m := hint.search(text, pos)) is not None:
            start, end = line(m.start())
            if suspect(start, end, confirm):
                return [(0, size)]
            pos = end
    classes = text.encode("ascii", "replace").translate(_CLASSES)
    for found in (_ibans(text, classes), _area_codes(text, classes)):
        for pos in found:
            if suspect(*line(pos), None):
                return [(0, size)]
    out: list[tuple[int, int]] = []
    for start, end in sorted(lines):
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _ibans(text: str, classes: bytes) -> Iterator[int]:
    """Where an IBAN that is no token may start: found by its characters' classes (a
    literal found fast, where the IBAN regex would try every capital letter)."""
    pos = classes.find(b"AA99")
    while pos >= 0:
        if _IBAN.match(text, pos):
            yield pos
        pos = classes.find(b"AA99", pos + 1)


def _area_codes(text: str, classes: bytes) -> Iterator[int]:
    """Where a phone number written with a leading 0 may be: its area code ends with a
    digit, a separator and a digit (rarer than the 0s the regex would try one by one)."""
    pos = classes.find(b"9s9")
    while pos >= 0:  # the 0 is at most 5 digits before; the number within 20 after
        if _PHONE_0.search(text, max(pos - 5, 0), pos + 25):
            yield pos
        pos = classes.find(b"9s9", pos + 1)


def lines(text: str, hints: Iterable[re.Pattern[str]]) -> list[tuple[int, int]]:
    """(start, end) of each line of `text` holding one of `hints`, in order."""
    found: set[tuple[int, int]] = set()
    for hint in hints:
        pos = 0
        while (m := hint.search(text, pos)) is not None:
            start = text.rfind("\n", 0, m.start()) + 1
            pos = text.find("\n", m.start()) + 1 or len(text)
            found.add((start, pos))
    return sorted(found)

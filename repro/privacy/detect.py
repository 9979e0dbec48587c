"""Personal data found by its shape in free text: e-mail addresses, IBANs (with a valid
checksum), phone numbers (8 to 15 digits, international or with an area code) and IP
addresses (those a real host could have: not private, loopback, documentation...).

The same detectors serve `text:` rules of `repro redact` and the scan of `repro audit`."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from repro.privacy.tokens import EMAIL, iban_valid

# repro.privacy.suspects derives `repro audit`'s hints from these patterns (and from the
# tokens' marks): a change here needs one there, or the audit may skip a line.
_PATTERNS = {
    "email": EMAIL.pattern,
    "iban": r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
    "ip": r"(?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}|(?=[0-9A-Fa-f:]*::?[0-9A-Fa-f])"
          r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w.:])",
    "phone": r"(?<![\w+\-./:,])(?:\+\d{1,3}[ .\-/]?(?:\(0?\d{1,5}\)[ .\-/]?)?|0\d{1,5}[ /\-]|"
             r"\(0?\d{1,5}\) ?)\d[\d .\-/]{4,16}\d(?![\w+])",
}


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    value: str


def finder(kinds: Iterable[str]) -> re.Pattern[str]:
    """One regex for the kinds, in a fixed order: an e-mail's digits are no phone."""
    wanted = [k for k in ("email", "iban", "ip", "phone") if k in set(kinds)]
    return re.compile("|".join(f"(?P<{k}>{_PATTERNS[k]})" for k in wanted))


def genuine(kind: str, value: str) -> bool:
    """Whether a match is the real thing, not a look-alike (a version number, a date...)."""
    if kind == "iban":
        return iban_valid(value.replace(" ", ""))
    if kind == "ip":
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return bool(address.is_global) and not address.is_multicast
    if kind == "phone":
        digits = [c for c in value if c.isdigit()]
        return 8 <= len(digits) <= 15 and len(set(digits[3:])) > 1 and \
            not _looks_like_a_date(value)
    return True


_NOT_A_PHONE = re.compile(r"[ .\-/]{2}|\d{4}-\d\d-\d\d|\d\d?\.\d\d?\.\d{2,4}|"
                          r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _looks_like_a_date(value: str) -> bool:
    """Dates and ranges of them, numbers with two separators in a row: not phones."""
    return bool(_NOT_A_PHONE.search(value))


def trimmed(kind: str, value: str) -> str:
    """The genuine part of a match, "" if none: an IBAN written in groups may run on into
    the next word ("DE89 3704 0044 0532 0130 00 EUR"), so shorter ends are tried too."""
    if genuine(kind, value):
        return value
    if kind == "iban":
        cut = value.rfind(" ")
        while cut >= 15:
            value = value[:cut]
            if genuine(kind, value):
                return value
            cut = value.rfind(" ")
    return ""


def find(pattern: re.Pattern[str], text: str) -> Iterator[Match]:
    for m in pattern.finditer(text):
        kind = m.lastgroup or ""
        value = trimmed(kind, m.group())
        if value:
            yield Match(kind, m.start(), m.start() + len(value), value)


# E-mails found from their `@` (a literal the regex engine finds fast), the local part
# then read backwards: many times faster than a pattern starting with a character class.
_DOMAIN = re.compile(r"@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])")
_LOCAL = re.compile(r"[A-Za-z0-9._%+-]+\Z")
_NOT_EMAIL = finder(("iban", "ip", "phone"))


def find_all(text: str) -> list[Match]:
    """Every kind in `text`, in order; what lies inside an e-mail is part of it."""
    emails = []
    for m in _DOMAIN.finditer(text):
        local = _LOCAL.search(text, max(0, m.start() - 64), m.start())
        if local is not None:
            emails.append(Match("email", local.start(), m.end(), text[local.start():m.end()]))
    out, i = list(emails), 0
    for other in find(_NOT_EMAIL, text):  # both in order: one pass drops the overlaps
        while i < len(emails) and emails[i].end <= other.start:
            i += 1
        if i == len(emails) or emails[i].start >= other.end:
            out.append(other)
    return sorted(out, key=lambda m: m.start)

"""Timestamps in customer logs and instants in scenarios: find, parse, place in a zone.

Recognised, anywhere in a line (the leftmost wins):

- ISO 8601 / RFC 3339 and its log variants: `2024-03-31T00:29:50Z`, `2024-03-31 00:29:50`,
  `2024-03-31 00:29:50,123` (Java/log4j, Python logging), `2024/03/31 00:29:50` (nginx
  error log), with or without a fraction and an offset (`Z`, `+02:00`, `+0200`);
- Apache/nginx access logs: `[31/Mar/2024:00:29:50 +0000]`;
- ctime, as Apache's error log writes it: `Sun Mar 31 00:29:50.123456 2024`;
- Tomcat/catalina: `31-Mar-2024 00:29:50.123`;
- at the start of a line only: syslog `Mar 31 00:29:50` (no year) and epoch seconds
  (`1711844990`, `1711844990.123`, ten digits).

A timestamp without an offset is read in the zone the caller gives; one without a year
(syslog) takes the year the caller gives, plus one each time the month goes backwards
(December -> January) further down the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_MON = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_OFFSET = r"(?P<off>Z|[+-]\d{2}:?\d{2})"
_FRACTION = r"(?:[.,](?P<frac>\d{1,9}))?"
_TIME = r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})" + _FRACTION

_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<sep>[-/])(?P<m>\d{2})(?P=sep)(?P<d>\d{2})[T ]"
                  + _TIME + r"(?:\s?" + _OFFSET + r")?(?![\d:])")
_APACHE = re.compile(r"\[(?P<d>\d{2})/(?P<mon>" + _MON + r")/(?P<y>\d{4}):" + _TIME
                     + r"(?:\s(?P<off>[+-]\d{4}))?\]")
_CTIME = re.compile(r"(?i:mon|tue|wed|thu|fri|sat|sun) (?P<mon>" + _MON
                    + r") {1,2}(?P<d>\d{1,2}) " + _TIME + r" (?P<y>\d{4})(?!\d)")
_TOMCAT = re.compile(r"(?<!\d)(?P<d>\d{2})-(?P<mon>" + _MON + r")-(?P<y>\d{4}) " + _TIME)
_SYSLOG = re.compile(r"^(?P<mon>" + _MON + r") {1,2}(?P<d>\d{1,2}) " + _TIME + r"(?!\d)")
_EPOCH = re.compile(r"^\[?(?P<epoch>\d{10})(?:\.(?P<frac>\d{1,9}))?(?![\d:])")
_FORMATS = (_ISO, _APACHE, _CTIME, _TOMCAT, _SYSLOG, _EPOCH)

_DATE_ONLY = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$")


class StampError(ValueError):
    """A timestamp that cannot be placed in time; the message says what is missing."""


@dataclass(frozen=True)
class Stamp:
    """A timestamp as written in a line: its text and fields, not yet placed in time."""

    text: str
    year: int | None  # None: the format has no year (syslog)
    month: int
    day: int
    hour: int
    minute: int
    second: int
    microsecond: int
    offset: timedelta | None  # None: no zone written
    epoch: float | None = None  # epoch seconds: already an instant


def _offset(text: str | None) -> timedelta | None:
    if text is None:
        return None
    if text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def _micro(frac: str | None) -> int:
    return int((frac or "0").ljust(6, "0")[:6])


def find(line: str) -> Stamp | None:
    """The leftmost timestamp in `line`, or None."""
    found = [m for m in (f.search(line) for f in _FORMATS) if m is not None]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    groups = match.groupdict()
    if groups.get("epoch"):
        seconds = int(groups["epoch"]) + _micro(groups.get("frac")) / 1e6
        moment = datetime.fromtimestamp(seconds, UTC)
        return Stamp(match.group(0).lstrip("["), moment.year, moment.month, moment.day,
                     moment.hour, moment.minute, moment.second, moment.microsecond,
                     timedelta(0), seconds)
    month = int(groups["m"]) if groups.get("m") else _MONTHS[groups["mon"].lower()]
    return Stamp(match.group(0).strip("[]"), int(groups["y"]) if groups.get("y") else None,
                 month, int(groups["d"]), int(groups["H"]), int(groups["M"]), int(groups["S"]),
                 _micro(groups.get("frac")), _offset(groups.get("off")))


def zone(text: str) -> tzinfo:
    """`UTC`, `Z`, `+02:00`, `-0500` or an IANA name (`Europe/Berlin`); StampError if not."""
    text = text.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    if re.fullmatch(r"[+-]\d{2}:?\d{2}", text):
        delta = _offset(text)
        assert delta is not None
        return timezone(delta)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise StampError(f"unknown zone {text!r}: use UTC, an offset like +02:00 or a zone "
                         "name like Europe/Berlin") from None


def place(stamp: Stamp, where: tzinfo | None, year: int | None) -> datetime:
    """The instant `stamp` stands for; naive ones are read in `where`, year-less ones in
    `year`. StampError says which of the two is missing."""
    if stamp.epoch is not None:
        return datetime.fromtimestamp(stamp.epoch, UTC)
    if stamp.year is None and year is None:
        raise StampError(f"{stamp.text!r} has no year")
    if stamp.offset is None and where is None:
        raise StampError(f"{stamp.text!r} has no zone")
    try:
        local = datetime(stamp.year if stamp.year is not None else year or 0, stamp.month,
                         stamp.day, stamp.hour, stamp.minute, stamp.second, stamp.microsecond)
    except ValueError as exc:  # 2023-02-29, month 13 ...
        raise StampError(f"{stamp.text!r} is not a date ({exc})") from None
    if stamp.offset is not None:
        return local.replace(tzinfo=timezone(stamp.offset))
    return local.replace(tzinfo=where)


def parse_instant(text: str, where: tzinfo | None) -> datetime:
    """An instant written by a person: ISO 8601 with `Z` or an offset, or without one
    (then read in `where`); a bare date is midnight. StampError if it is none of those."""
    text = text.strip()
    day = _DATE_ONLY.match(text)
    if day:
        stamp: Stamp | None = Stamp(text, int(day["y"]), int(day["m"]), int(day["d"]),
                                    0, 0, 0, 0, None)
    else:
        match = _ISO.fullmatch(text)
        stamp = find(text) if match else None
    if stamp is None:
        raise StampError(f"{text!r} is not an ISO 8601 instant; write it like "
                         "2024-03-31T00:29:50Z or 2024-03-31T02:29:50+02:00")
    return place(stamp, where, None)


@dataclass(frozen=True)
class Event:
    """A line of a log that carries a timestamp (or that matched, for from_log)."""

    number: int  # 1-based line number
    text: str
    stamp: Stamp | None


def events(text: str) -> list[Event]:
    """Every line with a timestamp, in order."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        stamp = find(line)
        if stamp is not None:
            out.append(Event(number, line, stamp))
    return out


def years(found: list[Event], first_year: int | None) -> dict[int, int]:
    """Line number -> year for year-less timestamps: `first_year` for the first, one more
    each time the month goes backwards (a log running over New Year)."""
    out: dict[int, int] = {}
    if first_year is None:
        return out
    year, last_month = first_year, None
    for event in found:
        stamp = event.stamp
        if stamp is None or stamp.year is not None:
            continue
        if last_month is not None and stamp.month < last_month:
            year += 1
        last_month = stamp.month
        out[event.number] = year
    return out

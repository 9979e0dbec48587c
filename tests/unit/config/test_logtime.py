"""Customer log timestamps: the common formats found in a line, placed in time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from repro.config import logtime


def at(line: str, zone: str | None = None, year: int | None = None) -> str:
    stamp = logtime.find(line)
    assert stamp is not None, line
    moment = logtime.place(stamp, logtime.zone(zone) if zone else None, year)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@pytest.mark.parametrize(("line", "zone", "year", "expected"), [
    ("2024-03-31T00:29:50Z INFO up", None, None, "2024-03-31T00:29:50.000+00:00"),
    ("2024-03-31T02:29:50.25+02:00 up", None, None, "2024-03-31T00:29:50.250+00:00"),
    ("2024-03-31 00:29:50,123 ERROR [main] Payment failed", "UTC", None,
     "2024-03-31T00:29:50.123+00:00"),  # log4j / Python logging
    ("2024-03-31 01:29:50.5 +0100 x", None, None, "2024-03-31T00:29:50.500+00:00"),
    ("2024/03/31 00:29:50 [error] 12#0: upstream timed out", "UTC", None,
     "2024-03-31T00:29:50.000+00:00"),  # nginx error log
    ('10.0.0.1 - - [31/Mar/2024:02:29:50 +0200] "GET / HTTP/1.1" 500', None, None,
     "2024-03-31T00:29:50.000+00:00"),  # Apache/nginx access log
    ("[Sun Mar 31 00:29:50.123456 2024] [core:error] x", "UTC", None,
     "2024-03-31T00:29:50.123+00:00"),  # Apache error log
    ("31-Mar-2024 00:29:50.123 SEVERE [main] x", "UTC", None,
     "2024-03-31T00:29:50.123+00:00"),  # Tomcat
    ("Mar 31 00:29:50 host app[42]: failed", "UTC", 2024, "2024-03-31T00:29:50.000+00:00"),
    ("1711844990.5 worker died", None, None, "2024-03-31T00:29:50.500+00:00"),
    ("2024-03-31 01:59:59 tick", "Europe/Berlin", None, "2024-03-31T00:59:59.000+00:00"),
    ("2024-03-31 03:00:00 tick", "Europe/Berlin", None, "2024-03-31T01:00:00.000+00:00"),
])
def test_common_log_timestamps_are_found_and_placed(line, zone, year, expected):
    assert at(line, zone, year) == expected


def test_the_leftmost_timestamp_of_a_line_wins():
    stamp = logtime.find("2024-01-31 00:30:00 ERROR invoice of 2023-12-31 23:59:59 failed")
    assert stamp is not None and stamp.text == "2024-01-31 00:30:00"


@pytest.mark.parametrize("line", ["no time here", "version 2024.03.31", "id 12345678901234",
                                  "took 00:29:50", "  Mar 31 00:29:50 indented syslog"])
def test_lines_without_a_timestamp_have_none(line):
    assert logtime.find(line) is None


def test_a_naive_or_year_less_timestamp_says_what_it_lacks():
    with pytest.raises(logtime.StampError, match="has no zone"):
        logtime.place(logtime.find("2024-03-31 00:29:50 x"), None, None)
    with pytest.raises(logtime.StampError, match="has no year"):
        logtime.place(logtime.find("Mar 31 00:29:50 host x"), logtime.zone("UTC"), None)
    with pytest.raises(logtime.StampError, match="not a date"):
        logtime.place(logtime.find("Feb 29 00:00:00 host x"), logtime.zone("UTC"), 2023)


def test_syslog_years_follow_the_log_over_new_year():
    events = logtime.events("Dec 31 23:59:59 h a\nJan  1 00:00:01 h b\n  trace\nJan  1 00:01 h\n")
    assert [e.number for e in events] == [1, 2]
    assert logtime.years(events, 2023) == {1: 2023, 2: 2024}


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2024-03-31T00:29:50Z", None, 1711844990.0),
    ("2024-03-31T02:29:50+02:00", None, 1711844990.0),
    ("2024-03-31 00:29:50.5Z", None, 1711844990.5),
    ("2024-03-31T01:29:50", "+01:00", 1711844990.0),
    ("2024-02-29", "UTC", datetime(2024, 2, 29, tzinfo=UTC).timestamp()),
])
def test_instants_written_by_people(text, zone, expected):
    where = logtime.zone(zone) if zone else None
    assert logtime.parse_instant(text, where).timestamp() == expected


@pytest.mark.parametrize(("text", "message"), [
    ("31.03.2024 00:29", "not an ISO 8601 instant"),
    ("2024-03-31T00:29:50", "has no zone"),
    ("2023-02-29T00:00:00Z", "not a date"),
    ("2024-03-31T00:29:50Z and more", "not an ISO 8601 instant"),
])
def test_instants_that_do_not_parse_say_why(text, message):
    with pytest.raises(logtime.StampError, match=message):
        logtime.parse_instant(text, None)


def test_zones_by_name_or_offset_and_unknown_ones_refused():
    assert logtime.zone("+02:00").utcoffset(None).total_seconds() == 7200
    assert logtime.zone("Z") is UTC
    with pytest.raises(logtime.StampError, match="unknown zone 'Mars/Base'"):
        logtime.zone("Mars/Base")

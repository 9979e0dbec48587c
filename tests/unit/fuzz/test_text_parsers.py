"""The log timestamp parser and template rendering: any text gives a value or the
parser's own refusal (StampError; ConfigError naming the template), never a crash or a
hang (each example has a deadline, see conftest.py)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from repro.config import logtime
from repro.config.templating import render
from repro.errors import ConfigError, Problem

STAMPS = st.sampled_from([
    "2024-03-31T00:29:50Z", "2024-03-31 00:29:50,123", "2024/03/31 00:29:50 +0200",
    "[31/Mar/2024:00:29:50 +0000]", "Sun Mar 31 00:29:50.123456 2024",
    "31-Mar-2024 00:29:50.123", "Mar 31 00:29:50", "1711844990.123", "2023-02-29T00:00:00",
    "9999-12-31T23:59:59-23:59", "0000-00-00 99:99:99", "Feb 30 25:61:61", "9999999999",
    "2024-13-45T00:00:00+99:99"])
LINES = st.one_of(st.text(max_size=80),
                  st.builds(lambda a, s, b: a + s + b, st.text(max_size=10), STAMPS,
                            st.text(max_size=10)))


@given(line=LINES, year=st.none() | st.integers(1, 9999),
       zone=st.sampled_from(["UTC", "+02:00", "-0530", "Europe/Berlin", None]))
def test_a_log_line_gives_an_instant_none_or_a_stamp_error(line, year, zone):
    stamp = logtime.find(line)
    if stamp is None:
        return
    try:
        moment = logtime.place(stamp, logtime.zone(zone) if zone else None, year)
    except logtime.StampError:
        return
    assert isinstance(moment, datetime) and moment.tzinfo is not None


@given(text=st.one_of(st.text(max_size=40), STAMPS, st.dates().map(str)),
       zone=st.text(max_size=20))
def test_an_instant_or_a_zone_parses_or_is_a_stamp_error(text, zone):
    for parse in (lambda: logtime.parse_instant(text, UTC), lambda: logtime.zone(zone)):
        with contextlib.suppress(logtime.StampError):
            parse()


@given(text=st.text(max_size=400), first_year=st.none() | st.integers(1, 9999))
def test_a_whole_log_gives_its_events(text, first_year):
    events = logtime.events(text)
    years = logtime.years(events, first_year)
    assert all(1 <= e.number <= len(text.splitlines()) for e in events)
    assert set(years) <= {e.number for e in events}


TOKENS = st.sampled_from([
    "{{", "}}", "{%", "%}", "{#", "#}", " ", "x", "port", "name", "|", "upper", "tojson",
    "default(", ")", "(", "'", '"', "1", "0", "/", "*", "**", "+", "-", "~", "[", "]", ".",
    "__class__", "if", "else", "endif", "for", "in", "endfor", "range(", "set", "=",
    "include", "import", "extends", "macro", "endmacro", "call", "raw", "endraw", "\n",
    "loop.index", "lipsum", "cycler", "namespace", "self", "9" * 30, "10**64", "'a'*99"])
TEMPLATES = st.one_of(st.text(max_size=60),
                      st.lists(TOKENS, max_size=25).map("".join))


@given(text=TEMPLATES)
def test_a_template_renders_or_is_refused_naming_its_file(text):
    context = {"port": 8080, "name": "Zoë", "x": [1, 2], "params": {}, "scenario": {}}
    try:
        out = render(text, context, Problem("templates/app.conf.j2", None, "", ""))
    except ConfigError as exc:
        assert exc.lines() and all(line.startswith("templates/app.conf.j2")
                                   for line in exc.lines()), exc.lines()
        return
    assert isinstance(out, str)

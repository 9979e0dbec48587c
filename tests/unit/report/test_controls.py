"""One rule for control characters in reports, each report keeping what it says it keeps:
a terminal tabs and line breaks, a page carriage returns too, one line nothing."""

from __future__ import annotations

from repro.report.controls import escaped
from repro.report.html.render import _visible
from repro.report.oneline import one_line
from repro.report.terminal import printable

SAMPLE = "a\tb\r\nc\x1b[31m\x00\x0b\x7f\x85\u2028é"


def test_every_c0_and_c1_control_del_and_bidi_control_is_shown_unless_kept():
    assert escaped(SAMPLE) == "a\\x09b\\x0d\\x0ac\\x1b[31m\\x00\\x0b\\x7f\\x85\u2028é"
    assert escaped(SAMPLE, keep="\n") == "a\\x09b\\x0d\nc\\x1b[31m\\x00\\x0b\\x7f\\x85\u2028é"
    assert escaped(SAMPLE, named=True) == "a\\tb\\r\\nc\\x1b[31m\\x00\\x0b\\x7f\\x85\u2028é"
    assert all(escaped(chr(c)) == f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0)))
    # U+009B opens an escape sequence on some terminals; U+202E shows txt.exe as exe.txt.
    assert escaped("a\u009b31m\u202etxt.exe\u2066") == "a\\x9b31m\\u202etxt.exe\\u2066"
    assert escaped("ünïcödé — \u2028 😀") == "ünïcödé — \u2028 😀"  # the rest as it is


def test_the_reports_differ_only_in_what_they_keep():
    assert printable(SAMPLE) == escaped(SAMPLE, keep="\t\n")  # a CR would overwrite a line
    assert _visible(SAMPLE) == escaped(SAMPLE, keep="\t\n\r")  # a browser shows it as space
    assert one_line(SAMPLE) == escaped(SAMPLE, named=True)
    assert "\r" not in printable(SAMPLE) and "\r" in _visible(SAMPLE)

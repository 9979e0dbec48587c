"""`repro audit`'s scan takes short cuts: only the lines holding a hint go through the
detectors, and a big file goes through several processes. Its findings must stay those
of the detectors run on the whole text, in one process."""

from __future__ import annotations

import os
import random
import time

import pytest

from repro.errors import ReproError
from repro.privacy import audit, audit_parallel, detect, suspects
from repro.privacy.tokens import Tokens, _mod97

T = Tokens(b"unit-test-key-0123456789abcdef")
PERSONAL = ("email", "iban", "ip", "phone")
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x660 + d) for d in range(10)))


def _iban(country: str, bban: str) -> str:
    return f"{country}{98 - _mod97(bban + country + '00'):02d}{bban}"


def _spaced(value: str) -> str:
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def _everywhere(scanner: audit.Scanner, text: str) -> list[tuple[int, str, str]]:
    """The detectors on the whole text, every line of it: what the scan must find."""
    return [(m.start, m.kind, audit.mask(m.kind, m.value)) for m in detect.find_all(text)
            if not scanner.allowed(m.kind, m.value)]


def _personal(found: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    return [f for f in found if f[1] in PERSONAL]


def _tricky_lines(count: int, seed: int) -> list[str]:
    """Personal data, tokens of it and look-alikes, run together in every way."""
    rng = random.Random(seed)

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def iban() -> str:
        value = _iban(rng.choice(["DE", "AT", "FR"]), rng.choice(["0", "00", "000", "X", ""])
                      + digits(rng.randrange(12, 19)))
        value = value if value[4].isdigit() else _iban("GB", "XBAN" + digits(14))
        return rng.choice([value, _spaced(value), value.lower(), T.iban(value),
                           T.iban(_spaced(value)), value[:-1] + "7",
                           value[:2] + value[2:4].translate(ARABIC_INDIC) + value[4:]])

    def email() -> str:
        local = rng.choice(["max.mueller", "a", "x_y+z", "0001", "DE89370400440532013000"])
        domain = rng.choice(["firma.de", "GMX.NET", "example.com", "example.com.evil.de",
                             "x.example", "mail.test", "a.test.de", "example.invalid",
                             "example.invalidx.de", "Example.INVALID", "b.testé", "localhost"])
        return rng.choice([f"{local}@{domain}", T.email(f"{local}@{domain}")])

    def phone() -> str:
        value = rng.choice([f"+49 30 {digits(7)}", f"030/{digits(8)}", f"(030) {digits(7)}",
                            f"+1-202-555-{digits(4)}", f"0171 {digits(7)}", f"+43{digits(10)}",
                            f"0049 30 {digits(7)}", f"+49 00 {digits(7)}", f"000 {digits(7)}",
                            f"0{digits(5)} {digits(6)}",  # the longest area code
                            f"0{digits(rng.randrange(1, 6)).translate(ARABIC_INDIC)}-{digits(7)}",
                            f"0{digits(3)}/{digits(7).translate(ARABIC_INDIC)}"])
        return rng.choice([value, T.phone(value)])

    def ip() -> str:
        v4 = ".".join(str(rng.randrange(256)) for _ in range(4))
        v6 = ":".join(f"{rng.randrange(65536):x}" for _ in range(8))
        return rng.choice([v4, T.ip(v4), "10." + v4, v4 + ".7", v6, v6.replace(":0:", "::"),
                           T.ip(v6), "2001:db80::1", "2001:DB8::1", "2a00:1450:4001:81d::200e",
                           "::1", "fe80::1", "12:34:56", ":".join(v6.split(":")[:7]) + ":"])

    def other() -> str:
        return rng.choice(["2024-03-01 - 2024-03-28", "01.03.2024", "15.3.24 - 1.4.24",
                           "v1.4.2", digits(10), "RE-" + digits(9), "Grüße ✓", "std::string",
                           "(50 Stk.)", "8485.95", "AKIA" + "B" * 16, ""])

    kinds = [iban, email, phone, ip, other]
    seps = [" ", ";", ",", "\t", ":", "=", "<", "(", ")", "/", "-", ".", "", "\r"]
    return ["".join(rng.choice(kinds)() + rng.choice(seps) for _ in range(rng.randrange(6)))
            for _ in range(count)]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ascii", [False, True])  # ASCII text takes a faster way to IBANs
def test_the_scan_finds_what_the_detectors_find_on_every_line(seed, ascii):
    scanner = audit.Scanner(audit.Allowed(["anna@firma.de", "re:DE89.*"]), {})
    # between lines of tokens (a redacted export's): most of the text is no suspect, so the
    # hints decide (when most of it is, the detectors run on all of it)
    lines = [f"RE-{n:09d};{n % 28 + 1:02d}.03.2024;{T.email(f'k{n % 97}@firma.de')};"
             f"{T.iban(_iban('DE', f'{n % 89:018d}'))};Toner (5 Stk.);{n * 7 % 9999}.95"
             for n in range(16000)]
    lines[::4] = _tricky_lines(4000, seed)
    text = "\n".join(lines) + "\n"
    text = text.encode("ascii", "ignore").decode() if ascii else text
    assert text.isascii() == ascii
    assert sum(b - a for a, b in suspects.spans(text)) < len(text) / 2
    expected = _everywhere(scanner, text)
    assert len(expected) > 500 and {k for _, k, _ in expected} == set(PERSONAL)
    assert _personal(scanner.chunk(text)) == expected


def test_tricky_neighbours_tokens_and_look_alikes():
    scanner = audit.Scanner(audit.Allowed(), {"s3cr3t-Tok-991": set()})
    real, token_like = _iban("DE", "000112345678901234"), _iban("DE", "000012345678901234")

    def found(line: str) -> list[tuple[str, str]]:
        return [(kind, masked) for _, kind, masked in scanner.chunk(line)]

    # an e-mail next to an IBAN: both, or the IBAN as the e-mail's local part
    assert found("max@firma.de;DE89370400440532013000;x") == [
        ("email", "m***@f***.de"), ("iban", "DE******************00")]
    assert found("DE89370400440532013000max@firma.de") == [("email", "D***@f***.de")]
    assert found("kontakt:max.mueller@firma.de,DE89 3704 0044 0532 0130 00 EUR") == [
        ("email", "m***@f***.de"), ("iban", "DE** **** **** **** **** 00")]
    # tokens pass; a value that only starts like one does not
    assert found(f"{T.email('a@firma.de')};{T.iban(real)};{T.iban(_spaced(real))};"
                 f"{T.phone('+49 30 1234567')};{T.ip('8.8.8.8')};{T.ip('2a00::1')}") == []
    assert found(f"{real} {token_like}") == [("iban", "DE******************34")]
    assert found("x@example.invalid.de y@Example.INVALID z@mail.test w@a.b.test.de") == [
        ("email", "x***@e***.de"), ("email", "w***@a***.de")]
    assert found("w@ab.cd.testé") == [("email", "w***@a***.cd")]
    # phones, not dates, times, versions or plain numbers
    assert found("+49 30 1234567;+49 00 3374508") == [("phone", "+49 ** *****67")]
    assert found("(030) 1234567;+1-202-555-0143") == [
        ("phone", "(03*) *****67"), ("phone", "+1-2**-***-**43")]
    arabic = "0" + "301234567".translate(ARABIC_INDIC)  # `\d` is any script's digit
    assert found(f"tel {arabic[:3]} {arabic[3:]};") == [
        ("phone", f"0{arabic[1]}* *****{arabic[-2:]}")]
    assert found("01.03.2024 2024-03-01 - 2024-03-28 15.3.24 - 1.4.24 12:30:45 v1.4.2 "
                 "1234567890") == []
    # IPv6 and IPv4: public ones only, not tokens, times or C++
    assert found("2a00:1450:4001:81d::200e 2001:db8::1 ::1 fe80::1 12:34:56 std::string "
                 "2001:4860:4860:0:0:0:0:8888 2001:db80::1") == [
        ("ip", "2a00:1450:****:***::****"), ("ip", "2001:4860:****:*:*:*:*:****"),
        ("ip", "2001:db80::*")]
    assert found("8.8.8.8 10.1.2.3 100.1.2.3 192.168.1.1 1.2.3.4.5 010.1.2.3") == [
        ("ip", "8.8.*.*"), ("ip", "100.1.*.*")]
    assert found("DE\u0668\u0669370400440532013000") == [("iban", "DE******************00")]
    assert found("GB29 NWBK 6016 1331 9268 19 GB82WEST12345698765432") == [
        ("iban", "GB** **** **** **** **** 19"), ("iban", "GB******************32")]
    assert found('AKIAABCDEFGHIJKLMNOP s3cr3t-Tok-991 "s3cr3t-Tok-991"') == [
        ("AWS access key", "***"), ("secret parameter value", "***")]
    for kind, alone in [("private key", "-----BEGIN RSA PRIVATE KEY-----"),
                        ("Slack token", "xoxb-1234567890-abc"),
                        ("GitHub token", "ghp_" + "a1" * 18),
                        ("GitHub token", "github_pat_" + "B_" * 11),
                        ("Google API key", "AIza" + "c" * 35),
                        ("AWS access key", "ASIA" + "D" * 16)]:
        assert found(f"key={alone};") == [(kind, "***")], alone


def test_a_big_file_scanned_by_several_processes_gives_the_same_lines(tmp_path, monkeypatch):
    scanner = audit.Scanner(audit.Allowed(), {"s3cr3t-Tok-991": set()})
    lines = _tricky_lines(3000, 4)
    lines[1234] = "token s3cr3t-Tok-991"
    lines[-1] = "last max@firma.de"  # and no newline at the end
    piece = len("\n".join(lines).encode()) // 7
    across = next(i for i in range(len(lines))  # the line a piece's first cut falls in
                  if len("\n".join(lines[:i + 1]).encode()) >= piece)
    lines[across] = "x" * 300 + " s3cr3t-Tok-991 " + "y" * 300 + " max@firma.de"
    path = tmp_path / "big.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    alone = list(scanner.paths([path]))
    assert any(f.kind == "secret parameter value" and f.line == 1235 for f in alone)
    assert alone[-1].line == 3000 and alone[-1].kind == "email"
    assert [f.kind for f in alone if f.line == across + 1] == ["secret parameter value",
                                                              "email"]

    monkeypatch.setattr(audit_parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(audit_parallel, "PIECE", piece)
    monkeypatch.setattr(audit_parallel, "workers", lambda: 2)
    pieces: list[int] = []
    cut = audit_parallel.cut
    monkeypatch.setattr(audit_parallel, "cut", lambda p: pieces.append(len(cut(p))) or cut(p))
    assert list(scanner.paths([path])) == alone
    assert pieces and pieces[0] >= 4, "the file was not cut into pieces"


def _dies(blocks, allowed_secrets):
    """A worker killed in the middle of its piece, as by the kernel's OOM killer."""
    for _ in blocks:
        pass
    os._exit(137)
    yield  # a generator, like a scanner's lines


def test_a_worker_that_dies_ends_the_scan_in_one_line_rather_than_hanging(tmp_path,
                                                                          monkeypatch):
    big = tmp_path / "big.log"
    big.write_bytes(b"a line with nothing to find\n" * 40_000)
    monkeypatch.setattr(audit_parallel, "PIECE", 1 << 16)
    monkeypatch.setattr(audit_parallel, "workers", lambda: 2)
    began = time.monotonic()
    with pytest.raises(ReproError) as exc:
        list(audit_parallel.scan(_dies, big, ()))
    assert str(exc.value) == ("scanning big.log: a worker process died (killed, or out of "
                              "memory?); try again with more memory free")
    assert time.monotonic() - began < 60

"""Tokens: keyed, consistent, and valid data of the same kind."""

from __future__ import annotations

import ipaddress
import re

import pytest

from repro.privacy import detect
from repro.privacy.tokens import Tokens, iban_valid, is_token

KEY = b"unit-test-key-0123456789abcdef"


@pytest.fixture
def tokens() -> Tokens:
    return Tokens(KEY)


def test_an_email_stays_a_valid_email_at_the_reserved_domain(tokens):
    token = tokens.token("email", "Max.Mustermann@Firma.de")
    assert re.fullmatch(r"[0-9a-f]{12}@example\.invalid", token)
    assert tokens.token("email", "max.mustermann@firma.de") == token  # case is no identity
    assert tokens.token("email", "anna@firma.de") != token
    assert tokens.token("email", " Max <max@firma.de> ") == (
        f" Max <{tokens.token('email', 'max@firma.de')}> ")


@pytest.mark.parametrize("iban", ["DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819",
                                  "AT611904300234573201", "FR1420041010050500013M02606"])
def test_an_iban_keeps_country_length_spacing_and_a_valid_checksum(tokens, iban):
    token = tokens.token("iban", iban)
    compact = token.replace(" ", "")
    assert iban_valid(compact) and compact != iban.replace(" ", "")
    assert token[:2] == iban[:2] and len(token) == len(iban)
    assert [i for i, c in enumerate(token) if c == " "] == [
        i for i, c in enumerate(iban) if c == " "]
    assert [c.isdigit() for c in compact[4:]] == [c.isdigit() for c in iban.replace(" ", "")[4:]]
    assert is_token("iban", token) and not is_token("iban", iban)


@pytest.mark.parametrize("phone", ["+49 30 1234567", "+49-30-1234567", "(030) 123-4567",
                                   "+1 (212) 555-0142", "0171/2345678"])
def test_a_phone_number_keeps_length_and_separators(tokens, phone):
    token = tokens.token("phone", phone)
    assert token != phone and len(token) == len(phone)
    assert re.sub(r"\d", "9", token) == re.sub(r"\d", "9", phone)
    assert is_token("phone", token) and not is_token("phone", phone)


def test_a_phone_number_gets_one_token_whatever_its_separators(tokens):
    a, b = tokens.token("phone", "+49 30 1234567"), tokens.token("phone", "+49-30-1234567")
    assert a.replace(" ", "") == b.replace("-", "")


@pytest.mark.parametrize("address", ["8.8.4.4", "203.0.113.9", "2a00:1450:4001:81d::200e"])
def test_an_ip_stays_an_ip_of_its_family(tokens, address):
    token = tokens.token("ip", address)
    parsed = ipaddress.ip_address(token)
    assert parsed.version == ipaddress.ip_address(address).version and token != address
    assert is_token("ip", token) and not detect.genuine("ip", token)


def test_a_name_is_name_like_words_and_each_word_keeps_its_token(tokens):
    full = tokens.token("name", "Max Müller")
    reversed_ = tokens.token("name", "MÜLLER, Max")
    first, last = full.split()
    assert re.fullmatch(r"[A-Z][a-z]{3,}", first) and re.fullmatch(r"[A-Z][a-z]{5,}", last)
    assert reversed_ == f"{last.upper()}, {first}"
    assert "Müller" not in full and "Max" not in full


def test_tokens_depend_on_the_key(tokens):
    other = Tokens(b"another-key-0123456789abcdef")
    for kind, value in [("email", "a@b.de"), ("iban", "DE89370400440532013000"),
                        ("name", "Anna"), ("ip", "8.8.8.8"), ("phone", "+49 30 1234567")]:
        assert tokens.token(kind, value) != other.token(kind, value)
        assert tokens.token(kind, value) == Tokens(KEY).token(kind, value)


def test_a_value_not_of_its_kind_keeps_its_shape(tokens):
    assert tokens.token("iban", "n/a") != "n/a" and len(tokens.token("iban", "n/a")) == 3
    assert tokens.token("ip", "unknown").isalpha()
    assert tokens.token("email", "") == "" and tokens.token("name", "  ") == "  "


def test_detectors_find_the_real_thing_not_look_alikes():
    finder = detect.finder(["email", "iban", "ip", "phone"])
    text = ("max@firma.de 8.8.4.4 +49 30 1234567 DE89370400440532013000 "
            "DE89370400440532013001 01.03.2024 2024-03-01 .. 2024-03-28 10.1.2.3 12:30:45 "
            "v1.4.2 0171 2345678 GB29 NWBK 6016 1331 9268 19 EUR")
    found = [(m.kind, m.value) for m in detect.find(finder, text)]
    assert found == [("email", "max@firma.de"), ("ip", "8.8.4.4"), ("phone", "+49 30 1234567"),
                     ("iban", "DE89370400440532013000"), ("phone", "0171 2345678"),
                     ("iban", "GB29 NWBK 6016 1331 9268 19")]

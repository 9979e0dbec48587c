"""Pseudonyms: keyed (HMAC-SHA256), consistent (one value, one token, in every file) and
format-preserving (an e-mail stays an e-mail, an IBAN a valid IBAN of its country...).

Each token also carries a mark `repro audit` recognises without the key, so redacted
output passes the audit: e-mails at example.invalid, IBANs whose account part starts with
0000 (XXXX where the country's format has letters), phone numbers whose digits after the
country code (or the leading 0) begin with 00, IPv4 in 10.0.0.0/8 and IPv6 in
2001:db8::/32 (documentation). Names are words that look like names."""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache

TOKEN_DOMAIN = "example.invalid"
IBAN_MARK_DIGITS = "0000"
PHONE_MARK = "00"
CACHE_SIZE = 1 << 16  # distinct values remembered per kind: bounded memory on any input

EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])")
IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
# Country calling codes of one and two digits (ITU E.164); every other one has three.
_CC1 = {"1", "7"}
_CC2 = {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
        "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
        "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
        "95", "98"}
_CONSONANTS = "bdfghklmnprstvwz"
_VOWELS = "aeiou"
# Byte -> letter or digit tables: bytes.translate turns keyed bytes into text at C speed.
_CONSONANT_OF = bytes(ord(_CONSONANTS[i % len(_CONSONANTS)]) for i in range(256))
_VOWEL_OF = bytes(ord(_VOWELS[i % len(_VOWELS)]) for i in range(256))
_DIGITS = bytes(48 + i % 10 for i in range(256))


def _refill(value: str, new: str, keeps: Callable[[str], bool]) -> str:
    """`new`'s characters in the places of `value`'s characters that `keeps` accepts."""
    if len(new) == len(value):
        return new
    it = iter(new)
    return "".join(next(it) if keeps(c) else c for c in value)


def iban_valid(compact: str) -> bool:
    """The mod-97 check of ISO 13616 on an IBAN without spaces."""
    if not IBAN_SHAPE.match(compact):
        return False
    return _mod97(compact[4:] + compact[:4]) == 1


_AS_NUMBER = {ord(c): str(10 + i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def _mod97(text: str) -> int:
    return int(text.translate(_AS_NUMBER)) % 97


def country_code_length(digits: str) -> int:
    if digits[:1] in _CC1:
        return 1
    return 2 if digits[:2] in _CC2 else 3


def is_token(kind: str, value: str) -> bool:
    """Whether a value carries the mark of a token (see the module's docstring)."""
    if kind == "email":
        return value.lower().endswith("@" + TOKEN_DOMAIN)
    if kind == "iban":
        compact = "".join(filter(str.isalnum, value)).upper()
        return bool(_IBAN_MARK.fullmatch(compact, 4, 8))
    if kind == "phone":
        digits = "".join(filter(str.isdigit, value))
        if value.lstrip().startswith("+"):
            return digits[country_code_length(digits):].startswith(PHONE_MARK)
        return digits.startswith("0" + PHONE_MARK)
    if kind == "ip":
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        if address.version == 4:
            return address in _TOKEN_V4
        return address in _TOKEN_V6
    return False


_IBAN_MARK = re.compile(r"[0X]{4}")
_TOKEN_V4 = ipaddress.ip_network("10.0.0.0/8")
_TOKEN_V6 = ipaddress.ip_network("2001:db8::/32")


class Tokens:
    """Turns values into pseudonyms with one key; remembers recent ones (LRU)."""

    def __init__(self, key: bytes):
        self._key = key
        self._by_kind: dict[str, Callable[[str], str]] = {
            "email": self.email, "phone": self.phone, "iban": self.iban, "ip": self.ip,
            "name": self.name}
        self.token = lru_cache(maxsize=CACHE_SIZE)(self._token)

    def _token(self, kind: str, value: str) -> str:
        """The token of `value` as data of `kind`; blank stays blank, spaces around stay."""
        core = value.strip()
        if not core:
            return value
        start = value.index(core[0])
        return value[:start] + self._by_kind[kind](core) + value[start + len(core):]

    def token_bytes(self, kind: str, value: bytes) -> bytes:
        """`token` on bytes (a CSV column caches these itself)."""
        return self._token(kind, value.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape")

    def _digest(self, kind: str, value: str) -> bytes:
        message = f"{kind}\0{value}".encode("utf-8", "surrogateescape")
        return hmac.digest(self._key, message, "sha256")

    def _stream(self, kind: str, value: str, size: int) -> bytes:
        """`size` keyed bytes (more than one digest when a value needs them)."""
        out, n = b"", 0
        while len(out) < size:
            out += self._digest(f"{kind}{n}" if n else kind, value)
            n += 1
        return out[:size]

    # ---- kinds ---------------------------------------------------------------------

    def email(self, value: str) -> str:
        if not EMAIL.fullmatch(value):  # "Max <max@x.de>", or no address at all
            found = EMAIL.search(value)
            if found:
                return EMAIL.sub(lambda m: self.email(m.group()), value)
        return self._digest("email", value.lower()).hex()[:12] + "@" + TOKEN_DOMAIN

    def _digits(self, kind: str, value: str, size: int) -> str:
        return self._stream(kind, value, size).translate(_DIGITS).decode()

    def phone(self, value: str) -> str:
        digits = "".join(filter(str.isdigit, value))
        if len(digits) < 4:
            return self.other(value)
        keep = digits[:country_code_length(digits)] if value.lstrip().startswith("+") else ""
        new = ((keep or "0") + PHONE_MARK + self._digits("phone", digits, len(digits)))
        return _refill(value, new[:len(digits)], str.isdigit)

    def iban(self, value: str) -> str:
        compact = "".join(filter(str.isalnum, value)).upper()
        if not IBAN_SHAPE.match(compact):
            return self.other(value)
        bban = compact[4:]
        if bban.isdigit():  # most countries: the fast way
            body = "0000" + self._digits("iban", compact, len(bban))[4:]
        else:  # letters where the country's format has them (GB, NL, FR...)
            stream = self._stream("iban", compact, len(bban))
            body = "".join("0" if c.isdigit() else "X" for c in bban[:4]) + "".join(
                chr(48 + b % 10) if c.isdigit() else chr(65 + b % 26)
                for c, b in zip(bban[4:], stream[4:], strict=True))
        check = 98 - _mod97(body + compact[:2] + "00")
        # back into the value's own spacing (groups of four, say)
        return _refill(value, compact[:2] + f"{check:02d}" + body, str.isalnum)

    def ip(self, value: str) -> str:
        try:
            address = ipaddress.ip_address(value.split("%")[0])
        except ValueError:
            return self.other(value)
        raw = self._digest("ip", address.compressed)
        if address.version == 4:
            return str(ipaddress.IPv4Address(b"\x0a" + raw[:3]))
        return str(ipaddress.IPv6Address(b"\x20\x01\x0d\xb8" + raw[:12]))

    def name(self, value: str) -> str:
        """Each word its own name-like word (a surname is the same token in "Max Müller"
        and "Müller, Anna"), its length and case kept (at least four letters)."""
        return re.sub(r"\w+", lambda m: self._word(m.group()), value)

    def _word(self, word: str) -> str:
        if word.isdigit():
            return word
        size = max(len(word), 4)
        stream = self._stream("name", word.lower(), size)
        made = bytearray(size)  # consonants and vowels by turns, from the keyed bytes
        first, second = (_CONSONANT_OF, _VOWEL_OF) if stream[0] & 1 else (_VOWEL_OF,
                                                                         _CONSONANT_OF)
        made[0::2] = stream[0::2].translate(first)
        made[1::2] = stream[1::2].translate(second)
        text = made.decode()
        if word.isupper() and len(word) > 1:
            return text.upper()
        if word[:1].isupper():
            return text.capitalize()
        return text

    def other(self, value: str) -> str:
        """A value not of its declared shape: each letter and digit replaced by one of the
        same class, the rest kept."""
        stream = self._stream("other", value, len(value))
        out = []
        for c, b in zip(value, stream, strict=True):
            if c.isdigit():
                out.append(str(b % 10))
            elif c.isalpha():
                letter = chr(97 + b % 26)
                out.append(letter.upper() if c.isupper() else letter)
            else:
                out.append(c)
        return "".join(out)

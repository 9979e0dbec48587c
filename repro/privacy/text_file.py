"""Pseudonymise personal data found in the lines of a log or a config file: by its shape
(`text: [email, ip, ...]`) and by the rule's own regexes (`patterns:`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, BinaryIO

from repro.privacy import detect
from repro.privacy.tokens import is_token

Token = Callable[[str, str], str]
CHUNK = 1 << 20


def rewrite(src: BinaryIO, out: BinaryIO, kinds: tuple[str, ...],
            patterns: dict[str, str], token: Token) -> int:
    """Whole lines at a time (a chunk of them), so no value is cut in two."""
    finder = detect.finder(kinds) if kinds else None
    compiled = [(re.compile(p), kind) for p, kind in patterns.items()]
    count = 0

    def shaped(m: re.Match[str]) -> str:
        nonlocal count
        kind, whole = m.lastgroup or "", m.group()
        value = detect.trimmed(kind, whole)
        if not value or is_token(kind, value):
            return whole
        count += 1
        return token(kind, value) + whole[len(value):]

    def by_pattern(kind: str) -> Callable[[re.Match[str]], str]:
        def replace(m: re.Match[str]) -> str:
            nonlocal count
            count += 1
            if m.re.groups and m.group(1) is not None:
                whole, a, b = m.group(), m.start(1) - m.start(), m.end(1) - m.start()
                return whole[:a] + token(kind, m.group(1)) + whole[b:]
            return token(kind, m.group())
        return replace

    for block in line_blocks(src):
        text = block.decode("utf-8", "surrogateescape")
        for pattern, kind in compiled:  # the rule's own patterns first: they know more
            text = pattern.sub(by_pattern(kind), text)
        if finder is not None:
            text = finder.sub(shaped, text)
        out.write(text.encode("utf-8", "surrogateescape"))
    return count


def line_blocks(src: IO[bytes], first: bytes = b"") -> Iterator[bytes]:
    """The stream in blocks of whole lines (about CHUNK bytes; the last may end without a
    newline), `first` being what was already read of it."""
    carry = first
    while True:
        chunk = src.read(CHUNK)
        data = carry + chunk
        if not chunk:
            if data:
                yield data
            return
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        carry = data[cut:]

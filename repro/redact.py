"""One redactor: the secret parameter values of a plan, masked wherever text is shown or kept.

Passed explicitly to whatever writes or prints (the plan owns one); there is no global
registry, so two plans in one process never mask each other's secrets or miss their own.
"""

from __future__ import annotations

import base64
import io
import json
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter secrets are masked as written only: the encoded forms of "abc" (hex 616263,
# base64 YWJj) are too likely to be something else.
MIN_ENCODED = 6


def forms(secret: str) -> set[str]:
    """The ways a secret commonly reaches output: as written, escaped for JSON (`tojson`,
    ASCII or not), a Python/shell string, a URL; in base64 (standard and URL-safe, padded
    or not, and its middle when embedded at any offset of a longer blob); in hex; reversed.
    A secret split across lines or otherwise transformed is not recognised."""
    found = {secret}
    if len(secret) < MIN_ENCODED:
        return found
    raw = secret.encode()
    found |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
              repr(secret)[1:-1], shlex.quote(secret), quote(secret, safe=""),
              quote(secret), quote_plus(secret), secret[::-1],
              raw.hex(), raw.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        found |= {whole, whole.rstrip("=")}
        for offset in range(3):  # the characters that depend on the secret alone
            part = raw[offset:]
            full = part[:len(part) // 3 * 3]
            if len(full) >= MIN_ENCODED:
                found.add(encode(full).decode())
    found.discard("")
    return found


class Redactor:
    """Masks each secret value and its common encodings (see `forms`), longest first (a
    secret containing another stays whole)."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets: tuple[str, ...] = tuple(sorted({s for s in secrets if s}, key=len,
                                                     reverse=True))
        self._forms = tuple(sorted({f for s in self.secrets for f in forms(s)}, key=len,
                                   reverse=True))
        self._encoded = tuple(f.encode() for f in self._forms)
        self._first_bytes = frozenset(f[0] for f in self._encoded)

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    __call__ = text

    def data(self, data: bytes) -> bytes:
        """Bytes: binary content stays intact apart from the secrets."""
        for secret in self._encoded:
            data = data.replace(secret, MASK.encode())
        return data

    def partial_end(self, data: bytes) -> int:
        """The length of the longest end of `data` that begins some secret form (0: none)."""
        longest = min(len(data), max((len(f) for f in self._encoded), default=1) - 1)
        for size in range(longest, 0, -1):
            if data[-size] not in self._first_bytes:  # the cheap test first
                continue
            tail = data[-size:]
            if any(form.startswith(tail) for form in self._encoded):
                return size
        return 0

    def file(self, path: Path) -> bool:
        """Mask a file in place (a run's own artifact, never customer input); True if
        it held a secret."""
        data = path.read_bytes()
        if not any(s in data for s in self._encoded):
            return False
        path.write_bytes(self.data(data))
        return True

    def lines(self, lines: Iterable[str]) -> list[str]:
        return [self.text(line) for line in lines]

    def deep(self, value: Any) -> Any:
        """Every string of a JSON-like value masked, keys included: what a record or a plan
        shows, masked as a whole rather than field by field (no field can be forgotten)."""
        if not self._forms:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.deep(k): self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value


NOTHING = Redactor()


class MaskingWriter(io.RawIOBase):
    """A binary stream that masks secrets as it writes, so no kill of repro can leave one
    on disk. It holds back only an end of output that could be the start of a secret
    (until more output or `close` shows what it is): ordinary output reaches the file at
    once, as the step writes it."""

    def __init__(self, target: IO[bytes], redactor: Redactor):
        super().__init__()
        self._target, self._redactor = target, redactor
        self._pending = b""

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = bytes(data)
        if not self._redactor:
            self._target.write(chunk)
        else:
            buffer = self._redactor.data(self._pending + chunk)
            keep = self._redactor.partial_end(buffer)
            self._target.write(buffer[:len(buffer) - keep])
            self._pending = buffer[len(buffer) - keep:]
        self._target.flush()  # on disk as the step writes it: a killed run keeps it too
        return len(chunk)

    def flush(self) -> None:
        self._target.flush()

    def close(self) -> None:
        if not self.closed:
            if self._pending:
                self._target.write(self._pending)
                self._pending = b""
            self._target.flush()
        super().close()

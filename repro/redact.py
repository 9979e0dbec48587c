"""One redactor: the secret parameter values of a plan, masked wherever text is shown or kept.

Passed explicitly to whatever writes or prints (the plan owns one); there is no global
registry, so two plans in one process never mask each other's secrets or miss their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

MASK = "***"


class Redactor:
    """Masks each secret value, longest first (a secret containing another stays whole)."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets: tuple[str, ...] = tuple(sorted({s for s in secrets if s}, key=len,
                                                     reverse=True))
        self._encoded = tuple(s.encode() for s in self.secrets)

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    __call__ = text

    def data(self, data: bytes) -> bytes:
        """Bytes: binary content stays intact apart from the secrets."""
        for secret in self._encoded:
            data = data.replace(secret, MASK.encode())
        return data

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


NOTHING = Redactor()

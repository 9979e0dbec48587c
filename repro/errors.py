"""Handled errors: each prints as one line for the user, with a distinct exit code."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Self

EXIT_OK = 0
EXIT_NOT_AS_EXPECTED = 1
EXIT_USAGE = 2
EXIT_SANDBOX = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class ReproError(Exception):
    """Root of the errors a user can act on; never shown with a traceback."""

    exit_code = EXIT_SANDBOX

    def lines(self) -> list[str]:
        return [str(self)]

    def redacted(self, mask: Callable[[str], str]) -> Self:
        """The same error with every message passed through `mask` (secrets out)."""
        twin = copy.copy(self)
        twin.args = tuple(mask(a) if isinstance(a, str) else a for a in self.args)
        return twin


class ConfigError(ReproError):
    """Invalid environment, scenario, parameter or data input: every problem at once."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: Sequence[Problem | str] | Problem | str):
        self.problems: list[Problem | str] = (
            [problems] if isinstance(problems, (Problem, str)) else list(problems))
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        """Each file's problems in reading order (by line); files as they came."""
        first: dict[str, int] = {}
        for index, problem in enumerate(self.problems):
            first.setdefault(getattr(problem, "file", ""), index)

        def key(problem: Problem | str) -> tuple[int, int]:
            file = getattr(problem, "file", "")
            return first[file], getattr(problem, "line", None) or 0

        return [str(p) for p in sorted(self.problems, key=key)]

    def redacted(self, mask: Callable[[str], str]) -> Self:
        twin = super().redacted(mask)
        twin.problems = [mask(p) if isinstance(p, str) else
                         replace(p, path=mask(p.path), message=mask(p.message))
                         for p in self.problems]
        return twin


class SandboxError(ReproError):
    """The Docker side failed: engine unreachable, image missing, build failed..."""

    exit_code = EXIT_SANDBOX


class Interrupted(ReproError):
    """Ctrl-C or SIGTERM; raised so every context manager gets to clean up."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, signal_name: str = "SIGINT", outcome: str = ""):
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}" + (f"; {outcome}" if outcome else ""))


@contextmanager
def masked(mask: Callable[[str], str]) -> Iterator[None]:
    """Errors leaving the block carry no secret: `mask` is applied to their messages."""
    try:
        yield
    except ReproError as exc:
        raise exc.redacted(mask) from None

"""Normalisation rules: what a comparison with the baseline masks, replaces or ignores."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from repro.config import units
from repro.config.checks import (
    Issues,
    one_of,
)
from repro.config.schema import spec

MASKS = ("iso8601", "log-timestamp", "uuid", "hex-id", "duration", "tmp-path", "pid",
         "container-id", "hostname")
_ACTIONS = ["mask", "replace", "ignore_fields", "ignore_columns", "sort_lines"]


@dataclass(frozen=True)
class Rule:
    """One normalisation rule, applied to every channel it names before diffing and recording."""

    mask: Literal[MASKS] | None = spec(  # type: ignore[valid-type]
        None, doc="Built-in mask: " + ", ".join(MASKS))
    replace: str | None = spec(None, parse=units.regex, doc="Regex to replace",
                               schema={"type": "string"})
    with_: str = spec("<masked>", alias="with", doc="Replacement for `replace` (\\1 works)")
    ignore_fields: tuple[str, ...] | None = spec(None, doc="JSON/YAML paths to ignore, e.g. "
                                           "meta.generated_at or items.*.id")
    ignore_columns: tuple[str, ...] | None = spec(None, doc="CSV/TSV columns to ignore")
    sort_lines: bool | None = spec(None, doc="Sort the lines of text channels")
    channels: tuple[str, ...] = spec(factory=lambda: ("*",), doc="Channels it applies to (globs: "
                               "steps.NAME.stdout, steps.*.stderr, files.NAME)")

    def check(self) -> Issues:
        issues = one_of(self, _ACTIONS, "a rule")
        if self.replace is not None and not issues:
            try:  # a bad template (`\\2` with one group, `C:\\path`) fails only at a match
                re.compile(self.replace).sub(self.with_, "")
                _check_template(self.replace, self.with_)
            except (re.error, IndexError) as exc:
                issues.append((("with",), f"invalid replacement {self.with_!r}: {exc}"))
        return issues


def _check_template(pattern: str, template: str) -> None:
    """Raise re.error for a replacement template the pattern cannot fill."""
    compiled = re.compile(pattern)
    dummy = re.compile("".join(f"(?P<{n}>)" if n else "()" for n in _group_names(compiled)))
    match = dummy.match("")
    assert match is not None  # a pattern of empty groups matches the empty string
    match.expand(template)


def _group_names(compiled: re.Pattern[str]) -> list[str | None]:
    names: list[str | None] = [None] * compiled.groups
    for name, index in compiled.groupindex.items():
        names[index - 1] = name
    return names


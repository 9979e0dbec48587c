"""Bounds on what one `data:` entry may unpack into a sandbox: a zip bomb or an archive of
a million empty files is refused before anything is copied (docs/data-limits.md)."""

from __future__ import annotations

from dataclasses import dataclass

from repro.config import units
from repro.config.schema import spec
from repro.config.yaml_source import Loc

Issues = list[tuple[Loc, str]]

# Defaults that fit real support bundles: a few GB of logs and database dumps, tens of
# thousands of files, compressed 5-20x (very repetitive logs reach ~100x). A deflate bomb
# reaches ~1000x; 200x is twice the most repetitive real log we know of.
DEFAULT_SIZE = 8 * 1024**3
DEFAULT_ENTRIES = 100_000
DEFAULT_RATIO = 200
# Below this, an entry or an archive is never refused for its ratio: a bomb needs volume
# to hurt, and a small file of zeros compresses 1000x quite innocently.
RATIO_FLOOR = 16 * 1024**2


@dataclass(frozen=True)
class DataLimits:
    """Bounds on one data entry, raised when a real bundle needs more."""

    size: int | None = spec(None, parse=units.size, doc="Expanded bytes of an archive or "
                            f"folder, e.g. 20g (default {DEFAULT_SIZE // 1024**3}g)",
                            schema={"type": ["string", "integer"]})
    entries: int | None = spec(None, doc="Files, folders and links in it (default "
                               f"{DEFAULT_ENTRIES})")
    ratio: int | None = spec(None, doc="Expanded size over compressed size, per entry and "
                             f"for the whole archive (default {DEFAULT_RATIO})")

    def check(self) -> Issues:
        issues: Issues = []
        for key in ("entries", "ratio"):
            value = getattr(self, key)
            if value is not None and value < 1:
                issues.append(((key,), "must be at least 1"))
        return issues


@dataclass(frozen=True)
class DataBounds:
    """The bounds in force for one data entry: its `limits:` over the defaults."""

    size: int = DEFAULT_SIZE
    entries: int = DEFAULT_ENTRIES
    ratio: int = DEFAULT_RATIO

    @classmethod
    def of(cls, limits: DataLimits | None) -> DataBounds:
        if limits is None:
            return cls()
        return cls(limits.size or DEFAULT_SIZE, limits.entries or DEFAULT_ENTRIES,
                   limits.ratio or DEFAULT_RATIO)


def shown_size(size: int) -> str:
    """Bytes as the `size` key accepts them, rounded up: 8g, 300m, 12k, 17."""
    for unit, scale in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size >= scale:
            return f"{-(-size // scale)}{unit}"
    return str(size)

"""Where each key of an inheriting scenario (`extends:`) came from, for the plan."""

from __future__ import annotations

from typing import Any

from repro.config.extends import MergedSource, where
from repro.config.yaml_source import Source


def inheritance(source: Source) -> dict[str, Any]:
    """The Plan's `extends` (files inherited from, nearest first) and `sources` (each
    top-level key, and each parameter, with the file:line that wrote it); empty for a
    scenario that extends nothing."""
    if not isinstance(source, MergedSource):
        return {}
    sources: list[tuple[str, str]] = []
    for key, value in source.data.items():
        if key == "extends":
            continue
        sources.append((key, where(source, (key,))))
        if key == "parameters" and isinstance(value, dict):
            sources += [(f"parameters.{name}", where(source, (key, name))) for name in value]
    return {"extends": tuple(source.chain()), "sources": tuple(sources)}

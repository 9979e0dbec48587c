"""Which declared parameter an export's key sets: products spell names their own way
(`DateStyle` for `datestyle`, `date_style`), so a key matches a parameter's name or one of
its `aliases:` exactly, else case-insensitively when only one parameter fits."""

from __future__ import annotations

from collections.abc import Mapping

from repro.config.model import Parameter


def declared_name(key: str, declared: Mapping[str, Parameter]) -> str | list[str] | None:
    """The parameter `key` sets; the candidates when several fit; None when none does."""
    if key in declared:
        return key
    exact = [name for name, spec in declared.items() if key in spec.aliases]
    if exact:
        return exact[0] if len(exact) == 1 else exact
    folded = key.casefold()
    loose = [name for name, spec in declared.items()
             if folded in (n.casefold() for n in (name, *spec.aliases))]
    if len(loose) == 1:
        return loose[0]
    return loose or None

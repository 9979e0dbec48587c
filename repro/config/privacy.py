"""The `privacy:` rules of a scenario or an environment: which personal data the
customer's files hold, and where, so `repro redact` can pseudonymise them (docs/privacy.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from repro.config.schema import spec
from repro.config.yaml_source import Loc

Kind = Literal["email", "phone", "iban", "ip", "name"]
KINDS: tuple[str, ...] = ("email", "phone", "iban", "ip", "name")
# What `text:` finds without being told where (a name has no shape a regex could find).
DETECTABLE: tuple[str, ...] = ("email", "phone", "iban", "ip")
_SQL_COLUMN = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)*\.[A-Za-z_][\w$]*$")
_WHERE = ("columns", "fields", "sql", "text", "patterns")


@dataclass(frozen=True)
class PrivacyRule:
    """Where one kind of customer file holds personal data, and which kind it is."""

    files: str = spec(doc="Glob of the customer's files it applies to, relative to the "
                      "scenario folder, e.g. customer/*.csv (** for any depth)")
    columns: dict[str, Kind] = spec(factory=dict, doc="CSV/TSV: header column -> kind "
                                    "(email, phone, iban, ip, name)")
    delimiter: str | None = spec(None, doc="CSV: the field separator (default: tab for "
                                 ".tsv, else the most frequent of ; , tab | in the header)")
    fields: dict[str, Kind] = spec(factory=dict, doc="JSON, JSON Lines or YAML: field path "
                                   "-> kind, e.g. customers.*.email (* any key or index)")
    sql: dict[str, Kind] = spec(factory=dict, doc="SQL dump (INSERT statements and COPY "
                                "blocks): table.column -> kind, e.g. customers.email")
    text: tuple[Kind, ...] = spec(factory=tuple, doc="Logs and config: find these kinds "
                                  "anywhere in a line (email, phone, iban, ip)")
    patterns: dict[str, Kind] = spec(factory=dict, doc="Logs and config: regex "
                                     "-> kind; its first group (or the whole match) is "
                                     "replaced, e.g. 'customer=(\\w+)': name")

    def check(self) -> list[tuple[Loc, str]]:
        given = [k for k in _WHERE if getattr(self, k)]
        issues: list[tuple[Loc, str]] = []
        if not given:
            issues.append(((), "a privacy rule needs one of 'columns', 'fields', 'sql', "
                           "'text' or 'patterns'"))
        kinds = {"columns", "fields", "sql"} & set(given)
        if len(kinds) > 1 or kinds and {"text", "patterns"} & set(given):
            second = [k for k in _WHERE if k in given][1]
            issues.append(((second,), "a rule reads a file one way: 'columns' (CSV), "
                           "'fields' (JSON/YAML), 'sql' or 'text'/'patterns' (lines); "
                           "write one rule per way"))
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in "\"\n"):
            issues.append((("delimiter",), f"one character, not a quote, got {self.delimiter!r}"))
        if self.delimiter is not None and not self.columns:
            issues.append((("delimiter",), "goes with 'columns'"))
        for i, kind in enumerate(self.text):
            if kind not in DETECTABLE:
                issues.append((("text", i), f"{kind!r} cannot be found by its shape; "
                               "name its column, field or SQL column, or give a pattern"))
        for key in self.sql:
            if not _SQL_COLUMN.match(key):
                issues.append((("sql", key), "expected table.column (schema.table.column "
                               "also works), e.g. customers.email"))
        for key in self.patterns:
            try:
                compiled = re.compile(key)
            except re.error as exc:
                issues.append((("patterns", key), f"not a regular expression: {exc}"))
                continue
            if compiled.groups > 1:
                issues.append((("patterns", key), "at most one group: the part replaced"))
        if self.files.startswith("/") or ".." in self.files.split("/"):
            issues.append((("files",), "a glob inside the scenario folder, e.g. customer/*.csv"))
        return issues

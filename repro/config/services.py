"""Records for multi-container environments: services, readiness, database loads, queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from repro.config import units
from repro.config.schema import Invalid, spec
from repro.config.yaml_source import Loc

Issues = list[tuple[Loc, str]]
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
QUERY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_DURATION = {"type": ["number", "string"], "examples": [30, "30s", "500ms"]}


@dataclass(frozen=True)
class Ready:
    """How to know a service is ready: exactly one of command, tcp, log, healthcheck."""

    command: str | tuple[str, ...] | None = spec(None, doc="Exits 0 inside the service when ready")
    tcp: int | None = spec(None, doc="A port the service listens on (checked inside it)")
    log: str | None = spec(None, parse=units.regex, doc="Regex in the service's log",
                           schema={"type": "string"})
    healthcheck: bool | None = spec(None, doc="Wait for the image's HEALTHCHECK")
    timeout: float = spec(60.0, parse=units.duration, doc="Give up after", schema=_DURATION)
    interval: float = spec(0.25, parse=units.duration, doc="Poll every", schema=_DURATION)

    def check(self) -> Issues:
        given = [n for n in ("command", "tcp", "log") if getattr(self, n) is not None]
        given += ["healthcheck"] if self.healthcheck is True else []
        if len(given) != 1:
            return [((), "`ready` needs exactly one of command, tcp, log, healthcheck")]
        if self.tcp is not None and not 0 < self.tcp < 65536:
            return [(("tcp",), "must be a port number")]
        return []


@dataclass(frozen=True)
class DbLoad:
    """A customer export loaded into a database service before the steps."""

    service: str = spec(doc="The PostgreSQL service")
    sql: str | None = spec(None, doc="SQL dump (plain or pg_dump custom format), relative "
                           "to the scenario directory")
    csv: str | None = spec(None, doc="CSV file loaded into `table`")
    table: str | None = spec(None, doc="Target table of a CSV load")
    delimiter: str = spec(",", doc="CSV delimiter")
    header: bool = spec(True, doc="The CSV's first row names the columns")
    encoding: str = spec("UTF8", doc="The CSV's encoding (PostgreSQL name: UTF8, LATIN1...)")
    database: str = spec("postgres", doc="Database to load into")
    user: str = spec("postgres", doc="Database user")
    create_database: bool = spec(True, doc="Create `database` (owned by `user`) when it "
                                 "does not exist: a plain SQL dump rarely creates it")

    def check(self) -> Issues:
        if (self.sql is None) == (self.csv is None):
            return [((), "a load needs `sql` or `csv`")]
        if self.csv is not None and not self.table:
            return [(("table",), "a CSV load needs its `table`")]
        if len(self.delimiter) != 1:
            return [(("delimiter",), "must be one character")]
        return []


@dataclass(frozen=True)
class Query:
    """Database state read after the steps: rows join the record and the baseline."""

    name: str = spec(doc="Channel name (queries.NAME)")
    service: str = spec(doc="The PostgreSQL service")
    sql: str = spec(doc="A SELECT; ORDER BY makes it stable")
    database: str = spec("postgres", doc="Database")
    user: str = spec("postgres", doc="Database user")
    key: tuple[str, ...] = spec(factory=tuple, doc="Columns identifying a row, for keyed diffs")

    @classmethod
    def shorthand(cls, raw: Any) -> dict[str, Any]:
        raise Invalid("expected a mapping with name, service and sql")

    def check(self) -> Issues:
        if not QUERY_NAME.match(self.name):  # it names a file in the run record, too
            return [(("name",), "query names are letters, digits, '.', '-' and '_'")]
        return []

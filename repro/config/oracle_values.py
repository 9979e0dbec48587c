"""One value out of a file, as support engineers point at it: a CSV cell (`column` and
`row`: a 1-based data row, or the row whose columns have the given values) or a JSON/YAML
field (`items.0.total`); compared as text or as a number.

Pure: used to read the customer's input when a plan is made, and a captured output when
the oracle looks at a run.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from repro.config.schema import spec


class NoValue(Exception):
    """The value is not in the text; the message says what is missing."""


@dataclass(frozen=True)
class ValueRef:
    """Where the customer's value is: a field or a cell of a data file, or the value."""

    data: str | None = spec(None, doc="The customer's file, relative to the scenario folder "
                            "(e.g. customer/export.csv)")
    value: str | None = spec(None, doc="Or the value itself")
    column: str | None = spec(None, doc="CSV/TSV: the column")
    row: int | dict[str, str] | None = spec(
        None, doc="CSV/TSV: the data row, 1 = the first after the header, or the row whose "
        "columns hold these values, e.g. {invoice: A-17}",
        schema={"type": ["integer", "object"]})
    field: str | None = spec(None, doc="JSON/YAML: the path of the field, e.g. totals.0.amount")

    def check(self) -> list[tuple[tuple[str | int, ...], str]]:
        given = [k for k in ("data", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            return [((), "differs_from needs 'data' (a file with the value) or 'value'")]
        if self.data is not None:
            return where_issues(self.column, self.row, self.field, "differs_from")
        if any(getattr(self, k) is not None for k in ("column", "row", "field")):
            return [((), "'column', 'row' and 'field' go with 'data', not with 'value'")]
        return []

    def describe(self) -> str:
        if self.data is None:
            return repr(self.value)
        place = describe_where(self.column, self.row, self.field)
        shown = "" if self.value is None else f"{self.value!r} "
        return f"{shown}({self.data}, {place})"


def where_issues(column: str | None, row: Any, field: str | None, what: str
                 ) -> list[tuple[tuple[str | int, ...], str]]:
    if field is not None and (column is not None or row is not None):
        return [(("field",), f"{what}: a field (JSON/YAML) or a column and row (CSV), not both")]
    if field is None and (column is None or row is None):
        return [((), f"{what} names its value with `field: a.b` (JSON/YAML) or `column:` "
                 "and `row:` (CSV)")]
    if isinstance(row, int) and row < 1:
        return [(("row",), "rows count from 1 (the first row after the header)")]
    return []


def describe_where(column: str | None, row: Any, field: str | None) -> str:
    if field is not None:
        return f"field {field}"
    if isinstance(row, dict):
        chosen = ", ".join(f"{k}={v}" for k, v in row.items())
        return f"column {column}, row {chosen}"
    return f"column {column}, row {row}"


def pick(text: str, column: str | None, row: Any, field: str | None) -> str:
    """The value at the place, as text; NoValue when it is not there."""
    if field is not None:
        return _field(text, field)
    assert column is not None and row is not None
    return _cell(text, column, row)


def _field(text: str, path: str) -> str:
    try:
        data: Any = json.loads(text)
    except ValueError:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise NoValue("neither JSON nor YAML") from None
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise NoValue(f"no field {path}")
    return data if isinstance(data, str) else json.dumps(data)


def _cell(text: str, column: str, row: int | dict[str, str]) -> str:
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(";,\t|", key=first.count)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    header = next(csv.reader([first], delimiter=delimiter), [])
    if column not in header:
        raise NoValue(f"no column {column!r} (columns: {', '.join(header) or 'none'})")
    if isinstance(row, int):
        if row > len(rows):
            raise NoValue(f"no row {row} ({len(rows)} rows)")
        return rows[row - 1][column] or ""
    for found in rows:
        if all((found.get(k) or "").strip() == str(v) for k, v in row.items()):
            return found[column] or ""
    raise NoValue("no row with " + ", ".join(f"{k}={v}" for k, v in row.items()))


def number(text: str, decimal: str) -> Decimal | None:
    """`1.234,50` with decimal "," and `1,234.50` with "." are 1234.50; None if not one."""
    grouping = "." if decimal == "," else ","
    cleaned = re.sub(r"[\s\u00a0']", "", text).replace(grouping, "").replace(decimal, ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def differ(a: str, b: str, compare: Literal["text", "number"], decimal: str) -> bool | None:
    """Whether the two values differ; None when `number` cannot read one of them."""
    if compare == "text":
        return a.strip() != b.strip()
    x, y = number(a, decimal), number(b, decimal)
    if x is None or y is None:
        return None
    return x != y

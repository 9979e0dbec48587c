"""The ledger: invoice lines imported so far, stored in a normalised CSV file."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from invoicer.amounts import parse_amount
from invoicer.config import InvoicerError, Settings

COLUMNS = ["invoice", "date", "customer", "description", "amount"]


@dataclass(frozen=True)
class Line:
    invoice: str
    day: date
    customer: str
    description: str
    amount: Decimal


def ledger_path(settings: Settings) -> Path:
    return settings.data_dir / "ledger.csv"


def _parse_date(text: str, settings: Settings) -> date:
    for fmt in (settings.date_format, "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise InvoicerError(f"invalid date {text!r} (expected {settings.date_format} "
                        "or YYYY-MM-DD)")


def read_export(path: Path, settings: Settings) -> list[Line]:
    """Read a customer's export: COLUMNS, in the customer's number and date formats."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")  # Excel adds a BOM
    except OSError as exc:
        raise InvoicerError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle, delimiter=settings.csv_delimiter)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InvoicerError(f"{path}: missing column(s) {', '.join(missing)} (expected "
                                f"{settings.csv_delimiter!r}-separated: {', '.join(COLUMNS)})")
        return [Line(invoice=row["invoice"].strip(),
                     day=_parse_date(row["date"], settings),
                     customer=row["customer"].strip(),
                     description=row["description"].strip(),
                     amount=parse_amount(row["amount"], settings.decimal_separator))
                for row in reader]


def append(lines: list[Line], settings: Settings) -> None:
    path = ledger_path(settings)
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(COLUMNS)
        for line in lines:
            writer.writerow([line.invoice, line.day.isoformat(), line.customer,
                             line.description, str(line.amount)])


def load(settings: Settings) -> list[Line]:
    path = ledger_path(settings)
    if not path.exists():
        raise InvoicerError("the ledger is empty: run `invoicer import FILE` first")
    with path.open(encoding="utf-8", newline="") as handle:
        return [Line(row["invoice"], date.fromisoformat(row["date"]), row["customer"],
                     row["description"], Decimal(row["amount"]))
                for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class CustomerTotal:
    customer: str
    invoices: int
    lines: int
    total: Decimal


def totals(lines: list[Line]) -> list[CustomerTotal]:
    by_customer: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_customer[line.customer].append(line)
    return [CustomerTotal(name, len({x.invoice for x in rows}), len(rows),
                          sum((x.amount for x in rows), Decimal(0)))
            for name, rows in sorted(by_customer.items())]

"""invoicer's command line: info, import, totals."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

from invoicer import __version__, config, ledger
from invoicer.formats import format_amount


def cmd_info(settings: config.Settings, args: argparse.Namespace) -> int:
    """Print the effective configuration (support asks for it in every ticket)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")  # e.g. 2024-03-31T14:05:09+0200
    print(f"invoicer {__version__}")
    print(f"config            {settings.path}")
    print(f"company           {settings.company}")
    print(f"locale            {settings.locale} (dates {settings.date_format})")
    print(f"decimal separator {settings.decimal_separator!r} "
          f"(CSV delimiter {settings.csv_delimiter!r})")
    print(f"currency          {settings.currency}")
    print(f"timezone          {os.environ.get('TZ', 'UTC')} (now {now})")
    print(f"license key       {settings.license_key or '(none: evaluation mode)'}")
    print(f"data directory    {settings.data_dir}")
    return 0


def cmd_import(settings: config.Settings, args: argparse.Namespace) -> int:
    """Add a customer's invoice-line export to the ledger."""
    lines = ledger.read_export(Path(args.file), settings)
    ledger.append(lines, settings)
    days = sorted(line.day for line in lines)
    period = f", {days[0]} .. {days[-1]}" if days else ""
    print(f"imported {len(lines)} lines of {len({x.invoice for x in lines})} invoices "
          f"from {args.file}{period}")
    return 0


def cmd_totals(settings: config.Settings, args: argparse.Namespace) -> int:
    """Total the ledger per customer; print a table, and write a CSV report if asked."""
    rows = ledger.totals(ledger.load(settings))
    grand = sum((r.total for r in rows), Decimal(0))
    sep, cur = settings.decimal_separator, settings.currency
    width = max([len(r.customer) for r in rows] + [len("TOTAL")])
    for r in rows:
        print(f"{r.customer:<{width}}  {r.invoices:>3} inv  "
              f"{format_amount(r.total, sep):>12} {cur}")
    print(f"{'TOTAL':<{width}}  {sum(r.invoices for r in rows):>3} inv  "
          f"{format_amount(grand, sep):>12} {cur}")
    if args.report:
        with open(args.report, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=settings.csv_delimiter, lineterminator="\n")
            writer.writerow(["customer", "invoices", "lines", "total", "currency"])
            for r in rows:
                writer.writerow([r.customer, r.invoices, r.lines, format_amount(r.total, sep),
                                 cur])
            writer.writerow(["TOTAL", sum(r.invoices for r in rows),
                             sum(r.lines for r in rows), format_amount(grand, sep), cur])
        print(f"report written to {args.report}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="invoicer", description=__doc__)
    parser.add_argument("--version", action="version", version=f"invoicer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help=cmd_info.__doc__).set_defaults(func=cmd_info)
    imp = sub.add_parser("import", help=cmd_import.__doc__)
    imp.add_argument("file", help="CSV export of invoice lines")
    imp.set_defaults(func=cmd_import)
    tot = sub.add_parser("totals", help=cmd_totals.__doc__)
    tot.add_argument("--report", metavar="FILE", help="also write the totals as CSV")
    tot.set_defaults(func=cmd_totals)
    args = parser.parse_args(argv)
    try:
        return args.func(config.load(), args)
    except config.InvoicerError as exc:  # anything else is a bug: let it show its traceback
        print(f"invoicer: error: {exc}", file=sys.stderr)
        return 2

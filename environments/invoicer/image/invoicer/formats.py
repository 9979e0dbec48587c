"""Write amounts and dates the way the customer's locale expects."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def format_amount(value: Decimal, decimal_separator: str) -> str:
    """1234.5 -> '1,234.50' or '1.234,50'."""
    grouping = "." if decimal_separator == "," else ","
    text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"  # 1,234.50
    return text.translate({ord(","): grouping, ord("."): decimal_separator})

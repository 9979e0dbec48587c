"""Amounts as customers write them. Release 1.4.1."""

from decimal import Decimal, InvalidOperation


def parse_amount(text: str, decimal_separator: str = ".") -> Decimal:
    """'1,234.50' -> 1234.50; with decimal_separator ',' also '89,90' -> 89.90.

    1.4.0 rewrote this in one line (changelog: "faster amount parsing"): with decimal
    commas it turns the thousands dots into more decimal points (ticket ACME-4521).
    """
    # Decimal point: drop the thousands commas. Decimal comma: make it a point.
    cleaned = text.strip().replace(",", "." if decimal_separator == "," else "")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"invalid amount: {cleaned!r}") from None

"""Amounts as customers write them. Release 1.4.3."""

from decimal import Decimal, InvalidOperation


def parse_amount(text: str, decimal_separator: str = ".") -> Decimal:
    """'1,234.50' -> 1234.50; with decimal_separator ',' '1.234,50' -> 1234.50.

    1.4.3 fixes ticket ACME-4521: with decimal commas, 1.4.2 turned '1.234,50' into
    '1.234.50' (ValueError) and '1.250' into 1.25. Grouping characters are now removed
    before the decimal separator is read.
    """
    grouping = "." if decimal_separator == "," else ","
    cleaned = text.strip()
    for char in (grouping, " ", "\u00a0", "'"):  # 1.234,50  1 234,50  1'234.50
        cleaned = cleaned.replace(char, "")
    cleaned = cleaned.replace(decimal_separator, ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"invalid amount: {text.strip()!r}") from None

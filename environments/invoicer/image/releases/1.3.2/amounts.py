"""Amounts as customers write them. Release 1.3.2."""

from decimal import Decimal, InvalidOperation


def parse_amount(text: str, decimal_separator: str = ".") -> Decimal:
    """'1,234.50' -> 1234.50; with decimal_separator ',' '1.234,50' -> 1234.50.

    Decimal commas since 1.3.0: the grouping character is removed, then the decimal
    separator becomes a point.
    """
    grouping = "." if decimal_separator == "," else ","
    cleaned = text.strip().replace(grouping, "").replace(decimal_separator, ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"invalid amount: {text.strip()!r}") from None

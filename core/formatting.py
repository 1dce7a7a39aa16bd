"""Numbers and cells as people write them: the one place every app formats them from."""

from decimal import Decimal

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@")


def quantity_format(value: Decimal | int | str | None) -> str:
    """A quantity, a measured value or a percentage as people write it: 100, 2.5, 49.9,
    7.5 — no trailing zeros, no exponent (80.0000 → "80", 1E+2 → "100", -0 → "0");
    "" for None."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text == "-0" else text


def csv_text(value) -> str:
    """A text cell of a CSV export; a leading =, +, - or @ is quoted so that a spreadsheet
    shows it instead of running it as a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value

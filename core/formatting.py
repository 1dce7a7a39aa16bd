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


def number_text(value: float | None, places: int = 2) -> str:
    """A float as people write it, rounded to at most `places` decimals, no trailing zeros:
    12, 12.5, 12.25; "" for None. For floats on hot paths (the order board prints thousands
    on each refresh); `quantity_format` is for Decimals, which it never rounds."""
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

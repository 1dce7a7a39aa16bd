"""Numbers and cells as people write them: the one place every app formats them from."""

import re
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


# Han ideographs (with their extensions and compatibility forms), kana and hangul: a name
# written in these is written family name first, without a space (张三, 山田太郎).
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)


def full_name(first: str | None, last: str | None) -> str:
    """A person's name as it is written: family name first and no space for a Chinese (or
    other CJK) name — 张三 —, "First Last" otherwise — Plant Administrator; "" for none."""
    first, last = (first or "").strip(), (last or "").strip()
    if _CJK.search(first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


def person_name(user) -> str:
    """The name a page shows for a person (a user): their full name, or their login when
    the account has no name; "" for nobody. Every page and message naming a person uses it
    (the template filter `person`, core/templatetags/people.py)."""
    if user is None:
        return ""
    name = full_name(getattr(user, "first_name", ""), getattr(user, "last_name", ""))
    return name or getattr(user, "username", "") or str(user)

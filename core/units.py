"""Quantities with their unit as a person reads them, in their language: "50 pcs", "50 件",
"1,234.5 kg" — no trailing zeros, thousands grouped in the reader's language.

Apart from core.formatting, which stays free of Django (pure engines import it): the unit
symbols are translated and the grouping follows the active language."""

from decimal import Decimal

from django.utils import formats
from django.utils.translation import pgettext_lazy

from .formatting import quantity_format

# Units of measure as a person writes them after a number, in the reader's language; the
# stored codes are resources.Item.Uom's. An unknown unit is written as stored.
UNIT_SYMBOLS = {
    "pcs": pgettext_lazy("unit of measure", "pcs"),
    "kg": pgettext_lazy("unit of measure", "kg"),
    "g": pgettext_lazy("unit of measure", "g"),
    "m": pgettext_lazy("unit of measure", "m"),
    "l": pgettext_lazy("unit of measure", "l"),
    "set": pgettext_lazy("unit of measure", "sets"),
}


def unit_label(uom: str | None) -> str:
    """A unit of measure as written after a number ("pcs", "件"); "" for none."""
    return str(UNIT_SYMBOLS.get(uom, uom)) if uom else ""


def quantity_number(value, places: int = 4) -> str:
    """The number alone: at most `places` decimals, no trailing zeros, thousands grouped in
    the reader's language (1,234.5); "" for None."""
    if value is None or value == "":
        return ""
    text = quantity_format(round(Decimal(str(value)), places))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return formats.number_format(Decimal(text), decimals, use_l10n=True, force_grouping=True)


def quantity_unit(value: Decimal | int | str | None, uom: str | None = None) -> str:
    """A quantity with its unit: "50 pcs" (English), "50 件" (Chinese), "1,234.5 kg"; the
    number alone without a unit; "" for None."""
    text = quantity_number(value)
    if not text or not uom:
        return text
    return f"{text} {unit_label(uom)}"


def minutes_text(value) -> str:
    """Minutes as a person reads them: whole minutes from 10 on, one decimal below 10 and
    two below 1 (0.25, 2.5, 45), no trailing zeros; "" for None."""
    if value is None or value == "":
        return ""
    value = Decimal(str(value))
    places = 0 if abs(value) >= 10 else 1 if abs(value) >= 1 else 2
    return quantity_number(value, places)

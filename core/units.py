"""Quantities with their unit as a person reads them, in their language: "50 pcs", "50 件".

Apart from core.formatting, which stays free of Django (pure engines import it): the unit
symbols are translated."""

from decimal import Decimal

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


def quantity_unit(value: Decimal | int | str | None, uom: str | None = None) -> str:
    """A quantity with its unit, no trailing zeros: "50 pcs" (English), "50 件" (Chinese),
    "2.5 kg"; "" for None."""
    text = quantity_format(value)
    if not text or not uom:
        return text
    return f"{text} {UNIT_SYMBOLS.get(uom, uom)}"

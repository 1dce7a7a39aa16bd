"""Quantities as a person reads them on planning and costing pages: the number without
trailing zeros, grouped by thousands in the reader's language, and the item's unit in words
("50 pcs", "50 件"), never 50.0000."""

from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from core.formatting import quantity_format

# The item's unit of measure (resources.Item.Uom's codes) as a page writes it after a number.
UNITS = {
    "pcs": _("pcs"),
    "kg": _("kg"),
    "g": _("g"),
    "m": _("m"),
    "l": _("L"),
    "set": _("sets"),
}


def unit_label(uom: str | None) -> str:
    return str(UNITS.get(uom or "pcs", uom or ""))


def quantity_number(value, places: int = 4) -> str:
    """The number alone: at most `places` decimals, no trailing zeros, thousands grouped in
    the reader's language (1,234.5); "" for None."""
    if value is None or value == "":
        return ""
    value = Decimal(str(value))
    text = quantity_format(round(value, places))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return formats.number_format(Decimal(text), decimals, use_l10n=True, force_grouping=True)


def quantity_text(value, uom: str | None = "pcs") -> str:
    """A quantity with its unit: "50 pcs", "12.5 kg" ("50 件", "12.5 千克" in Chinese)."""
    if value is None or value == "":
        return ""
    return f"{quantity_number(value)} {unit_label(uom)}"


def minutes_text(value) -> str:
    """Minutes as a person reads them: whole minutes from 10 on, one decimal below 10 and
    two below 1 (0.25, 2.5, 45), no trailing zeros; "" for None."""
    if value is None or value == "":
        return ""
    value = Decimal(str(value))
    places = 0 if abs(value) >= 10 else 1 if abs(value) >= 1 else 2
    return quantity_number(value, places)

"""`{{ value|qty:item.uom }}`: a quantity with its unit and no trailing zeros, "50 pcs" or
"50 件" (core.units.quantity_unit); `{{ value|qty }}` without a unit."""

from django import template

from core.units import quantity_unit

register = template.Library()


@register.filter
def qty(value, uom: str = "") -> str:
    try:
        return quantity_unit(value, uom or None)
    except (ArithmeticError, ValueError, TypeError):
        return "" if value is None else str(value)

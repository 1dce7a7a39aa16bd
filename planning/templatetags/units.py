"""`{% load units %}`: `{{ order.quantity|qty:order.item.uom }}` → "50 pcs" / "50 件";
`{{ value|num }}` → "1,234.5"; `{{ op.run_minutes_per_unit|minutes }}` → "2.5"
(core/units.py)."""

from django import template

from core.units import minutes_text, quantity_number, quantity_unit, unit_label

from .. import words

register = template.Library()


@register.filter
def qty(value, uom="pcs") -> str:
    return quantity_unit(value, uom or "pcs")


@register.filter
def num(value) -> str:
    return quantity_number(value)


@register.filter
def minutes(value) -> str:
    return minutes_text(value)


@register.filter
def unit(uom) -> str:
    return unit_label(uom or "pcs")


@register.filter
def demand(ref) -> str:
    """An MRP demand id as a person reads it (planning/words.py)."""
    return words.demand_label(ref)


@register.filter
def message_kind(code) -> str:
    return words.code_label(words.MESSAGE_KINDS, code)


@register.filter
def peg_kind(code) -> str:
    return words.code_label(words.PEG_KINDS, code)


@register.filter
def supply_kind(code) -> str:
    return words.code_label(words.SUPPLY_KINDS, code)


@register.filter
def message_text(message) -> str:
    return words.action_message_text(message)


@register.filter
def solver_status(code) -> str:
    return words.code_label(words.SOLVER_STATUSES, code)

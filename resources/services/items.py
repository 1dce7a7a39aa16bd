"""Writes on items that other apps make: planning's low-level codes."""

from ..models import Item


def items_low_level_code_set(*, items: list[Item]) -> None:
    """Store the `low_level_code` each item carries (planning computes them from the BOMs,
    with the items locked); one statement."""
    Item.objects.bulk_update(items, ["low_level_code"])

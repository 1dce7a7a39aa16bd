"""Writes on planning master data: BOM structure checks and low-level codes."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from resources.models import Item
from resources.services.items import items_low_level_code_set

from ..engines.bomgraph import bom_find_cycle, bom_low_level_codes
from ..models import BomLine
from ..selectors.masterdata import bom_edges


def bom_cycle_check(extra_edges: list[tuple[int, int]] | None = None) -> None:
    """Raise ValidationError naming the item codes of a cycle in the product structure."""
    cycle = bom_find_cycle(bom_edges() + list(extra_edges or []))
    if cycle:
        codes = dict(Item.objects.filter(pk__in=set(cycle)).values_list("pk", "code"))
        path = " → ".join(codes[pk] for pk in cycle)
        raise ValidationError({"component": _("BOM cycle: %(path)s.") % {"path": path}})


def bom_low_level_codes_update() -> int:
    """Recompute every item's low-level code from the BOMs; return how many changed."""
    with transaction.atomic():
        bom_cycle_check()
        items = list(Item.objects.select_for_update().order_by("pk").only("pk", "low_level_code"))
        levels = bom_low_level_codes(bom_edges(), [i.pk for i in items])
        changed = []
        for item in items:
            new = levels.get(item.pk, 0)
            if item.low_level_code != new:
                item.low_level_code = new
                changed.append(item)
        items_low_level_code_set(items=changed)
    return len(changed)


def bom_line_save(*, line: BomLine) -> BomLine:
    """Validate and save one BOM line, refusing a line that closes a cycle."""
    with transaction.atomic():
        line.full_clean()
        line.save()
        bom_cycle_check()
        bom_low_level_codes_update()
    return line

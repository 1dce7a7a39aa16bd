"""Master data: the routing and the BOM in effect for an item on a day, and the product
structure as (parent item, component) edges."""

from datetime import date

from django.db.models import Q

from resources.models import Item

from ..models import Bom, BomLine, Routing


def _effective(qs, on: date):
    return (
        qs.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=on))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-version")
        .first()
    )


def routing_effective(item: Item, on: date) -> Routing | None:
    return _effective(Routing.objects.filter(item=item), on)


def bom_effective(item: Item, on: date) -> Bom | None:
    return _effective(Bom.objects.filter(item=item), on)


def bom_edges() -> list[tuple[int, int]]:
    """Every (parent item id, component item id) pair of every BOM, once."""
    return list(BomLine.objects.values_list("bom__item_id", "component_id").distinct())

"""Master data as of a day: the routing and the BOM in effect for an item."""

from datetime import date

from django.db.models import Q

from resources.models import Item

from ..models import Bom, Routing


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

"""Stock reads."""

from decimal import Decimal

from django.db.models import Sum

from ..models import Item, StockBalance, StockLocation


def stock_on_hand(*, item: Item, location: StockLocation | None = None) -> Decimal:
    qs = StockBalance.objects.filter(item=item)
    if location is not None:
        qs = qs.filter(location=location)
    return qs.aggregate(total=Sum("on_hand"))["total"] or Decimal("0")

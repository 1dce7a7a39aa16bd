"""The plant manager's planning figures (core/homes.py KPI tiles, registered in apps.py):
on-time delivery over the last 30 days and the work in progress."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.homes import KpiValue
from core.lists import list_text
from core.units import quantity_number, quantity_unit
from resources.selectors.calendar import plant_time_zone

from ..models import ProductionOrder

ON_TIME_WINDOW_DAYS = 30
# The tile's colour: on-time share at or above GOOD is good, at or above WARN a warning.
ON_TIME_GOOD = Decimal("95")
ON_TIME_WARN = Decimal("80")


def on_time_delivery(today: date) -> KpiValue:
    """The share of the orders completed in the last 30 days (today and the 29 before, in
    the plant's time zone) that were completed by the end of their due date. Cancelled
    orders do not count; an order completed and then closed does."""
    tz = plant_time_zone()
    first = today - timedelta(days=ON_TIME_WINDOW_DAYS - 1)
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    rows = ProductionOrder.objects.filter(
        status__in=(ProductionOrder.Status.COMPLETED, ProductionOrder.Status.CLOSED),
        completed_at__gte=start,
        completed_at__lt=end,
    ).values_list("completed_at", "due_date")
    total = on_time = 0
    for completed_at, due_date in rows:
        total += 1
        if completed_at.astimezone(tz).date() <= due_date:
            on_time += 1
    if not total:
        return KpiValue(
            None, "", empty=_("No order completed in the last %(days)d days.") % {"days": 30}
        )
    share = (Decimal(on_time) * 100 / total).quantize(Decimal("0.1"))
    status = "good" if share >= ON_TIME_GOOD else "warn" if share >= ON_TIME_WARN else "bad"
    detail = ngettext(
        "%(on_time)d of %(total)d order completed on time in the last 30 days",
        "%(on_time)d of %(total)d orders completed on time in the last 30 days",
        total,
    ) % {"on_time": on_time, "total": total}
    return KpiValue(share, f"{quantity_number(share, 1)} %", status=status, detail=detail)


def work_in_progress(today: date) -> KpiValue:
    """The orders in progress on the floor and the quantity they still have to make (ordered
    less made, per unit of measure). `today` is the tile's day; WIP is as of now."""
    rows = ProductionOrder.objects.filter(status=ProductionOrder.Status.IN_PROGRESS).values_list(
        "quantity", "quantity_done", "item__uom"
    )
    count = 0
    remaining: dict[str, Decimal] = defaultdict(Decimal)
    for quantity, done, uom in rows:
        count += 1
        remaining[uom] += max(quantity - done, Decimal("0"))
    if not count:
        return KpiValue(0, "0", detail=_("No order in progress."))
    text = ngettext("%(count)d order", "%(count)d orders", count) % {"count": count}
    still = list_text(quantity_unit(q, uom or "pcs") for uom, q in sorted(remaining.items()))
    return KpiValue(count, text, detail=_("%(quantity)s still to make") % {"quantity": still})

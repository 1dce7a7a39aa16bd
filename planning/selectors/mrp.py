"""MRP: the plant's data as the engine's input, and runs' results for the MRP page.

Demand: open sales orders; MPS entries; forecasts of item-weeks without an MPS entry,
consumed by the sales orders due in the same week (only the excess over booked orders is
added). Supply: on hand, open production orders (remaining quantity) and open purchase
order lines. Allocations: the component needs of production orders that have not started
(draft, planned, released) — started orders are taken to have drawn their material.
The work calendar: the weekdays any work center has a shift on, less the site's holidays.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Sum
from django.utils import timezone

from resources.models import (
    Holiday,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    ShiftPattern,
    StockBalance,
)
from resources.selectors.calendar import plant_time_zone

from ..engines import mrp as engine
from ..models import (
    ActionMessage,
    Bom,
    Forecast,
    MpsEntry,
    MrpRun,
    PlannedOrder,
    ProductionOrder,
    SalesOrder,
)
from .masterdata import bom_effective

NOT_STARTED = (
    ProductionOrder.Status.DRAFT,
    ProductionOrder.Status.PLANNED,
    ProductionOrder.Status.RELEASED,
)


def mrp_runs_recent(count: int = 10) -> list[MrpRun]:
    return list(MrpRun.objects.select_related("created_by")[:count])


def mrp_run_results(run) -> dict:
    """Planned orders (with peg counts) and messages of one run, in a few queries."""
    planned = (
        PlannedOrder.objects.filter(run=run)
        .select_related("item", "production_order", "requisition")
        .annotate(peg_count=Count("pegs"))
        .order_by("item__low_level_code", "item__code", "due_date")
    )
    messages = (
        ActionMessage.objects.filter(run=run).select_related("item").order_by("kind", "item__code")
    )
    return {
        "planned": planned,
        "messages": messages,
        "demands": (run.summary or {}).get("demands", []),
    }


def work_calendar() -> "engine.WorkCalendar":
    """MRP's working days: the weekdays any work center has a shift on (Monday to Friday
    when none is set up), less the site's holidays."""
    weekdays: set[int] = set()
    for days in ShiftPattern.objects.values_list("weekdays", flat=True):
        weekdays.update(int(d) for d in days.split(",") if d.strip())
    holidays = Holiday.objects.values_list("date", flat=True)
    return engine.WorkCalendar(weekdays=weekdays or {1, 2, 3, 4, 5}, holidays=list(holidays))


def _bom_edges(items: list[Item], on: date) -> list:
    boms = {}
    for item in items:
        if item.source == Item.Source.MAKE:
            bom = bom_effective(item, on)
            if bom is not None:
                boms[bom.pk] = bom
    edges = []
    lines = (
        Bom.objects.filter(pk__in=boms)
        .values_list(
            "item__code",
            "base_quantity",
            "lines__component__code",
            "lines__quantity",
            "lines__scrap_pct",
        )
        .exclude(lines__isnull=True)
    )
    for parent, base, component, quantity, scrap in lines:
        edges.append(
            engine.BomEdge(
                parent=parent,
                component=component,
                quantity=quantity,
                base_quantity=base,
                scrap_pct=scrap,
            )
        )
    return edges


def _demands(start: date) -> list:
    demands = [
        engine.Demand(
            id=f"SO:{so.number}",
            item=so.item.code,
            quantity=so.quantity,
            due=so.due_date,
            priority=so.priority,
            kind="sales_order",
        )
        for so in SalesOrder.objects.filter(status=SalesOrder.Status.OPEN).select_related("item")
    ]
    booked: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for d in demands:
        week = d.due - timedelta(days=d.due.weekday())
        booked[(d.item, week)] += d.quantity
    mps_keys = set()
    for entry in MpsEntry.objects.select_related("item").filter(quantity__gt=0):
        mps_keys.add((entry.item.code, entry.period_start))
        demands.append(
            engine.Demand(
                id=f"MPS:{entry.item.code}:{entry.period_start}",
                item=entry.item.code,
                quantity=entry.quantity,
                due=entry.period_start,
                priority=5,
                kind="mps",
            )
        )
    for fc in Forecast.objects.select_related("item").filter(quantity__gt=0):
        if (fc.item.code, fc.period_start) in mps_keys:
            continue
        week = fc.period_start - timedelta(days=fc.period_start.weekday())
        excess = fc.quantity - booked.get((fc.item.code, week), Decimal(0))
        if excess > 0:
            demands.append(
                engine.Demand(
                    id=f"FC:{fc.item.code}:{fc.period_start}",
                    item=fc.item.code,
                    quantity=excess,
                    due=fc.period_start,
                    priority=9,
                    kind="forecast",
                )
            )
    return demands


def _receipt_day(order: ProductionOrder, tz: ZoneInfo):
    """When an open production order's output arrives: its due date, or the day the shop
    floor predicts it ends when that is later (delay feedback, services/feedback.py). MRP
    keeps the order as a receipt (it does not plan a second one for the same need), so a
    later day shows in its action messages: an expedite, or a past-due for what needs it."""
    if order.prediction_open and order.predicted_delay_hours is not None and order.predicted_end:
        predicted = timezone.localtime(order.predicted_end, tz).date()
        return max(order.due_date, predicted)
    return order.due_date


def _receipts() -> list:
    tz = plant_time_zone()
    receipts = []
    for order in ProductionOrder.objects.filter(
        status__in=ProductionOrder.OPEN_STATUSES
    ).select_related("item"):
        remaining = order.quantity - order.quantity_done - order.quantity_scrap
        if remaining > 0:
            receipts.append(
                engine.ScheduledReceipt(
                    id=f"MO:{order.number}",
                    item=order.item.code,
                    quantity=remaining,
                    due=_receipt_day(order, tz),
                    kind="production_order",
                )
            )
    lines = PurchaseOrderLine.objects.filter(
        order__status=PurchaseOrder.Status.OPEN, quantity__gt=F("received_quantity")
    ).select_related("order", "item")
    for line in lines:
        receipts.append(
            engine.ScheduledReceipt(
                id=f"PO:{line.order.number}/{line.line_no}",
                item=line.item.code,
                quantity=line.open_quantity,
                due=line.expected_date,
                kind="purchase_order",
            )
        )
    return receipts


def _allocations() -> dict[str, Decimal]:
    allocations: dict[str, Decimal] = defaultdict(Decimal)
    orders = ProductionOrder.objects.filter(
        status__in=NOT_STARTED, bom__isnull=False
    ).prefetch_related("bom__lines__component")  # a fixed number of queries, not one per order
    for order in orders:
        for line in order.bom.lines.all():
            allocations[line.component.code] += order.quantity * line.quantity_per_unit
    return {k: v.quantize(Decimal("0.0001")) for k, v in allocations.items()}


def mrp_input_load(*, start: date) -> "engine.MrpInput":
    """The engine's input for a run planning from `start`: items, the BOMs in effect, demand,
    supply, allocations and the work calendar (see the module docstring)."""
    items = list(Item.objects.all())
    on_hand = {
        code: total
        for code, total in StockBalance.objects.values("item__code")
        .annotate(total=Sum("on_hand"))
        .values_list("item__code", "total")
    }
    return engine.MrpInput(
        items=[
            engine.MrpItem(
                code=i.code,
                source=i.source,
                lead_time_days=i.lead_time_days,
                lot_policy=i.lot_policy,
                lot_size=i.lot_size,
                lot_multiple=i.lot_multiple,
                safety_stock=i.safety_stock,
                low_level_code=i.low_level_code,
            )
            for i in items
        ],
        bom=_bom_edges(items, start),
        demands=_demands(start),
        calendar=work_calendar(),
        start=start,
        receipts=_receipts(),
        on_hand=on_hand,
        allocations=_allocations(),
        # A receipt due a day or two before it is needed is not worth a defer message.
        defer_tolerance_days=2,
    )

"""MRP runs: load the plant's data, run the pure engine, save planned orders and messages.

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

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.audit import audit_record
from core.events import emit
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
    Peg,
    PlannedOrder,
    ProductionOrder,
    SalesOrder,
)
from ..selectors.masterdata import bom_effective
from .orders import production_order_create
from .purchasing import requisition_create

NOT_STARTED = (
    ProductionOrder.Status.DRAFT,
    ProductionOrder.Status.PLANNED,
    ProductionOrder.Status.RELEASED,
)


def _progress(run: MrpRun, value: int, status: str | None = None) -> None:
    fields = {"progress": value}
    if status:
        fields["status"] = status
    MrpRun.objects.filter(pk=run.pk).update(**fields)


def work_calendar() -> "engine.WorkCalendar":
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


def mrp_run_start(*, by=None, planning_date: date | None = None) -> MrpRun:
    """Queue an MRP run; the worker executes it (progress is visible on the run)."""
    # Cycle: planning.tasks imports this module (mrp_run_task calls mrp_run_execute).
    from ..tasks import mrp_run_task

    with transaction.atomic():
        run = MrpRun.objects.create(
            planning_date=planning_date or timezone.localdate(), created_by=by
        )
        audit_record(actor=by, action="mrp.run.start", obj=run)
        transaction.on_commit(lambda: mrp_run_task.delay(run.pk))
    return run


def mrp_run_execute(*, run_id: int) -> MrpRun:
    """Execute a queued run: load, plan, save. Running it again changes nothing."""
    with transaction.atomic():
        run = MrpRun.objects.select_for_update().get(pk=run_id)
        if run.status != MrpRun.Status.QUEUED:
            return run
        run.status = MrpRun.Status.RUNNING
        run.started_at = timezone.now()
        run.progress = 5
        run.save(update_fields=["status", "started_at", "progress"])
    try:
        data = mrp_input_load(start=run.planning_date)
        _progress(run, 30)
        result = engine.mrp_run(data)
        _progress(run, 70)
        with transaction.atomic():
            _save(run, data, result)
    except Exception as exc:  # the run records the failure; the page shows it
        MrpRun.objects.filter(pk=run.pk).update(
            status=MrpRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        raise
    run.refresh_from_db()
    return run


def _save(run: MrpRun, data, result) -> None:
    item_ids = dict(Item.objects.values_list("code", "pk"))
    planned = PlannedOrder.objects.bulk_create(
        [
            PlannedOrder(
                run=run,
                item_id=item_ids[o.item],
                kind=o.kind.value if hasattr(o.kind, "value") else o.kind,
                quantity=o.quantity,
                start_date=o.start_date,
                due_date=o.due_date,
                ref=o.id,
            )
            for o in result.planned_orders
        ],
        batch_size=1000,
    )
    Peg.objects.bulk_create(
        [
            Peg(
                planned_order=row,
                demand_kind=str(p.kind),
                demand_ref=p.reference,
                top_demand_ref=p.top_demand or "",
                quantity=p.quantity,
            )
            for row, order in zip(planned, result.planned_orders, strict=True)
            for p in order.pegs
        ],
        batch_size=2000,
    )
    ActionMessage.objects.bulk_create(
        [
            ActionMessage(
                run=run,
                kind=str(m.kind),
                item_id=item_ids[m.item],
                reference=m.reference,
                text=m.text[:300],
                date=m.date,
                suggested_date=m.suggested_date,
            )
            for m in result.messages
        ],
        batch_size=1000,
    )
    demand_supply = {
        demand_id: [
            {
                "item": s.item,
                "kind": str(s.kind),
                "reference": s.reference,
                "quantity": str(s.quantity),
                "date": s.date.isoformat(),
                "via": list(s.via),
            }
            for s in supplies
        ]
        for demand_id, supplies in result.demand_supply.items()
    }
    demands = [
        {
            "id": d.id,
            "item": d.item,
            "quantity": str(d.quantity),
            "due": d.due.isoformat(),
            "kind": d.kind,
        }
        for d in sorted(data.demands, key=lambda d: (d.due, d.id))
    ]
    projections = {
        code: {
            "low_level_code": p.low_level_code,
            "on_hand": str(p.on_hand),
            "allocated": str(p.allocated),
            "safety_stock": str(p.safety_stock),
            "rows": [
                [
                    r.date.isoformat(),
                    str(r.gross_requirements),
                    str(r.scheduled_receipts),
                    str(r.planned_receipts),
                    str(r.projected_on_hand),
                    str(r.net_requirements),
                    str(r.planned_releases),
                ]
                for r in p.rows
            ],
        }
        for code, p in result.projections.items()
        if p.rows
    }
    run.summary = {
        "items": len(data.items),
        "projections": projections,
        "demands": demands,
        "planned_orders": len(planned),
        "messages": len(result.messages),
        "demand_supply": demand_supply,
    }
    run.status = MrpRun.Status.DONE
    run.progress = 100
    run.finished_at = timezone.now()
    run.save(update_fields=["summary", "status", "progress", "finished_at"])
    emit("planning.mrp_run.done", {"run_id": run.pk, "planned_orders": len(planned)})


def planned_order_firm(*, planned_order: PlannedOrder, by=None):
    """Turn a planned order into a production order (make) or a purchase requisition (buy).

    Firming twice returns what the first firming created.
    """
    with transaction.atomic():
        po = (
            PlannedOrder.objects.select_for_update()
            .select_related("item", "run")
            .get(pk=planned_order.pk)
        )
        if po.status == PlannedOrder.Status.FIRMED:
            return po.production_order or po.requisition
        if po.kind == PlannedOrder.Kind.PRODUCTION:
            created = production_order_create(
                item=po.item,
                quantity=po.quantity,
                due_date=po.due_date,
                status=ProductionOrder.Status.PLANNED,
                note=f"Firmed from MRP run {po.run_id} ({po.ref})",
                by=by,
            )
            po.production_order = created
        else:
            created = requisition_create(
                item=po.item,
                quantity=po.quantity,
                need_date=po.due_date,
                reason=f"MRP run {po.run_id} ({po.ref})",
            )
            po.requisition = created
        po.status = PlannedOrder.Status.FIRMED
        po.save(update_fields=["status", "production_order", "requisition"])
        audit_record(
            actor=by, action="mrp.planned_order.firm", obj=po, data={"created": str(created)}
        )
    return created

"""MRP runs: load the plant's data (`planning.selectors.mrp.mrp_input_load`), run the pure
engine, save planned orders and messages; firm a planned order.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.audit import audit_record
from core.events import emit
from core.texts import Text
from resources.models import Item

from ..engines import mrp as engine
from ..models import (
    ActionMessage,
    MrpRun,
    Peg,
    PlannedOrder,
    ProductionOrder,
)
from ..selectors.mrp import mrp_input_load
from .orders import production_order_create
from .purchasing import requisition_create

# A firmed purchase's requisition says where it came from (in the reader's language).
FIRMED_FROM_RUN = gettext_noop("MRP run %(run)s (%(ref)s)")


def _progress(run: MrpRun, value: int, status: str | None = None) -> None:
    fields = {"progress": value}
    if status:
        fields["status"] = status
    MrpRun.objects.filter(pk=run.pk).update(**fields)


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
                by=by,
            )
            po.production_order = created
        else:
            created = requisition_create(
                item=po.item,
                quantity=po.quantity,
                need_date=po.due_date,
                reason=Text(FIRMED_FROM_RUN, run=po.run_id, ref=po.ref),
            )
            po.requisition = created
        po.status = PlannedOrder.Status.FIRMED
        po.save(update_fields=["status", "production_order", "requisition"])
        audit_record(
            actor=by, action="mrp.planned_order.firm", obj=po, data={"created": str(created)}
        )
    return created

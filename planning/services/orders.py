"""Production orders: creation from the routing, and the status transitions.

draft → planned → released → in progress → completed → closed; draft, planned and released
orders can be cancelled. Every transition is a function here; an illegal one raises
`StateConflict` naming the order, its status and what was asked.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.formatting import quantity_format
from core.lists import list_text
from core.numbering import number_next
from resources.models import Item

from ..models import MpsEntry, OrderOperation, ProductionOrder, Routing, SalesOrder
from ..selectors.masterdata import bom_effective, routing_effective

Status = ProductionOrder.Status

TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.PLANNED, Status.CANCELLED},
    Status.PLANNED: {Status.DRAFT, Status.RELEASED, Status.CANCELLED},
    Status.RELEASED: {Status.IN_PROGRESS, Status.CANCELLED},
    Status.IN_PROGRESS: {Status.COMPLETED},
    Status.COMPLETED: {Status.CLOSED},
    Status.CLOSED: set(),
    Status.CANCELLED: set(),
}


def production_order_number_next() -> str:
    return number_next(ProductionOrder, "MO")


def production_order_create(
    *,
    item: Item,
    quantity: Decimal,
    due_date: date,
    priority: int = 5,
    sales_order: SalesOrder | None = None,
    number: str | None = None,
    status: str = Status.DRAFT,
    note: str = "",
    external_ref: str | None = None,
    routing: Routing | None = None,
    by=None,
) -> ProductionOrder:
    """Create an order with its operations copied from the item's effective routing (or
    from `routing`, a routing of the item that the caller chose)."""
    if item.source != Item.Source.MAKE:
        raise ValidationError(
            {"item": _("%(item)s is a bought item; it has no production.") % {"item": item.code}}
        )
    if status not in (Status.DRAFT, Status.PLANNED):
        raise ValidationError({"status": _("A new order starts as draft or planned.")})
    today = timezone.localdate()
    if routing is not None and routing.item_id != item.pk:
        raise ValidationError(
            {
                "routing": _("%(routing)s is not a routing of %(item)s.")
                % {"routing": routing, "item": item.code}
            }
        )
    routing = routing or routing_effective(item, today)
    if routing is None:
        raise ValidationError(
            {
                "item": _("%(item)s has no routing effective on %(day)s.")
                % {"item": item.code, "day": today}
            }
        )
    with transaction.atomic():
        order = ProductionOrder(
            number=number or production_order_number_next(),
            item=item,
            quantity=Decimal(quantity),
            due_date=due_date,
            priority=priority,
            sales_order=sales_order,
            routing=routing,
            bom=bom_effective(item, today),
            status=status,
            note=note,
            external_ref=external_ref or None,
        )
        order.full_clean()
        order.save()
        steps = list(
            routing.steps.select_related("work_center", "required_skill").prefetch_related(
                "eligible_equipment"
            )
        )
        if not steps:
            raise ValidationError(
                {"item": _("The routing of %(item)s has no steps.") % {"item": item.code}}
            )
        operations = OrderOperation.objects.bulk_create(
            [
                OrderOperation(
                    order=order,
                    sequence=step.step_no,
                    name=step.name,
                    work_center=step.work_center,
                    setup_minutes=step.setup_minutes,
                    setup_family=step.setup_family,
                    run_minutes_per_unit=step.run_minutes_per_unit,
                    required_skill=step.required_skill,
                    min_skill_level=step.min_skill_level,
                    inspection_plan_ref=step.inspection_plan_ref,
                    over_delivery_pct=step.over_delivery_pct,
                    counted_by_machine=step.counted_by_machine,
                )
                for step in steps
            ]
        )
        through = OrderOperation.eligible_equipment.through
        through.objects.bulk_create(
            [
                through(orderoperation_id=op.pk, equipment_id=eq.pk)
                for op, step in zip(operations, steps, strict=True)
                for eq in step.eligible_equipment.all()
            ]
        )
        audit_record(actor=by, action="production_order.create", obj=order)
        emit("planning.production_order.created", {"order_id": order.pk})
    return order


# What an order's sender may still change, and in which statuses: before release the floor
# has nothing of it yet; after, the quantity and dates belong to the floor's work.
UPDATABLE_STATUSES = (Status.DRAFT, Status.PLANNED)


def production_order_update(
    *,
    order: ProductionOrder,
    quantity: Decimal | None = None,
    due_date: date | None = None,
    priority: int | None = None,
    by=None,
) -> tuple[ProductionOrder, list[str]]:
    """Change an order's quantity, due date or priority; returns the order and the names of
    the fields that changed. Values equal to the order's change nothing (a repeated update is
    a no-op, also after release); a real change after release is a state conflict."""
    with transaction.atomic():
        locked = ProductionOrder.objects.select_for_update().get(pk=order.pk)
        wanted = {"quantity": quantity, "due_date": due_date, "priority": priority}
        changed = {
            name: value
            for name, value in wanted.items()
            if value is not None and getattr(locked, name) != value
        }
        if not changed:
            return locked, []
        if locked.status not in UPDATABLE_STATUSES:
            names = list_text(sorted(changed))
            raise StateConflict(
                _(
                    "Order %(number)s is %(status)s; its %(names)s can change only while it "
                    "is draft or planned."
                )
                % {
                    "number": locked.number,
                    "status": locked.get_status_display().lower(),
                    "names": names,
                }
            )
        before = {name: str(getattr(locked, name)) for name in changed}
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save(update_fields=list(changed))
        audit_record(
            actor=by,
            action="production_order.update",
            obj=locked,
            data={"before": before, "after": {k: str(v) for k, v in changed.items()}},
        )
        emit(
            "planning.production_order.updated", {"order_id": locked.pk, "fields": sorted(changed)}
        )
    return locked, sorted(changed)


# --- transition hooks: downstream apps act inside a transition's transaction ---------------
# Planning cannot import execution or quality. Where a transition must have downstream work
# done atomically with it (releasing an order creates its shop-floor tasks and material
# requirements in the same transaction), the downstream app registers a function here in its
# AppConfig.ready(). Reactions that may happen later go through domain events.

# status → functions(order, by) run inside the transition's transaction, after the change.
_transition_hooks: dict[str, list[Callable]] = defaultdict(list)


def on_transition(status: str) -> Callable[[Callable], Callable]:
    """Register `fn(order, by)` to run inside every transition to `status`."""

    def register(fn: Callable) -> Callable:
        if fn not in _transition_hooks[status]:
            _transition_hooks[status].append(fn)
        return fn

    return register


def transition_hooks(status: str) -> list[Callable]:
    return list(_transition_hooks.get(status, ()))


def production_order_transition(*, order: ProductionOrder, to: str, by=None) -> ProductionOrder:
    """Move an order to another status, if the transition is legal."""
    if to not in Status.values:
        raise ValidationError({"status": _("Unknown status %(status)s.") % {"status": repr(to)}})
    with transaction.atomic():
        locked = ProductionOrder.objects.select_for_update().get(pk=order.pk)
        if to not in TRANSITIONS[locked.status]:
            allowed = list_text(
                str(Status(name).label).lower() for name in sorted(TRANSITIONS[locked.status])
            ) or _("none")
            raise StateConflict(
                _(
                    "Order %(number)s is %(status)s; it cannot become %(to)s (allowed next: %(allowed)s)."
                )
                % {
                    "number": locked.number,
                    "status": locked.get_status_display().lower(),
                    "to": str(Status(to).label).lower(),
                    "allowed": allowed,
                }
            )
        previous = locked.status
        locked.status = to
        now = timezone.now()
        fields = ["status"]
        if to == Status.RELEASED:
            locked.released_at = now
            fields.append("released_at")
        if to == Status.COMPLETED:
            locked.completed_at = now
            fields.append("completed_at")
        locked.save(update_fields=fields)
        if to == Status.CANCELLED:
            locked.operations.exclude(status=OrderOperation.Status.DONE).update(
                status=OrderOperation.Status.CANCELLED
            )
        for hook in transition_hooks(to):
            hook(locked, by)
        audit_record(actor=by, action=f"production_order.{to}", obj=locked, data={"from": previous})
        emit(
            f"planning.production_order.{to}",
            {"order_id": locked.pk, "from": previous, "to": to},
        )
    order.refresh_from_db()
    return order


def production_order_plan(*, order, by=None):
    return production_order_transition(order=order, to=Status.PLANNED, by=by)


def production_order_release(*, order, by=None):
    return production_order_transition(order=order, to=Status.RELEASED, by=by)


def production_order_start(*, order, by=None):
    return production_order_transition(order=order, to=Status.IN_PROGRESS, by=by)


def production_order_complete(*, order, by=None):
    """Complete an order whose work is done (the shop floor calls this after the last task)."""
    return production_order_transition(order=order, to=Status.COMPLETED, by=by)


def production_order_complete_manual(*, order, by=None, reason: str = "") -> ProductionOrder:
    """A person completes an order by hand (page or API).

    Refused (409) while an operation runs: its operator is still clocked on. An order short
    of its quantity, or with operations not done, completes only with a reason (400 naming
    `reason` otherwise), which is kept on the order; its open operations are then cancelled
    and the shop floor cancels their tasks (a transition hook), so no operation stays
    "Ready" under a completed order."""
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = ProductionOrder.objects.select_for_update().get(pk=order.pk)
        if Status.COMPLETED not in TRANSITIONS[locked.status]:
            # The transition refuses with the usual message.
            return production_order_transition(order=order, to=Status.COMPLETED, by=by)
        operations = list(locked.operations.order_by("sequence"))
        running = [op for op in operations if op.status == OrderOperation.Status.IN_PROGRESS]
        if running:
            seqs = list_text(op.sequence for op in running)
            raise StateConflict(
                _(
                    "Order %(number)s: operation %(steps)s is running; pause or complete it on "
                    "the floor before completing the order."
                )
                % {"number": locked.number, "steps": seqs}
            )
        unfinished = [
            op
            for op in operations
            if op.status not in (OrderOperation.Status.DONE, OrderOperation.Status.CANCELLED)
        ]
        short = locked.quantity_done < locked.quantity
        if (short or unfinished) and not reason:
            values = {
                "number": locked.number,
                "done": quantity_format(locked.quantity_done),
                "total": quantity_format(locked.quantity),
                "open": len(unfinished),
            }
            if unfinished:
                message = _(
                    "Order %(number)s: it has %(done)s of %(total)s made and %(open)s "
                    "operation(s) not done; give a reason to complete it."
                )
            else:
                message = _(
                    "Order %(number)s: it has %(done)s of %(total)s made; give a reason to "
                    "complete it."
                )
            raise ValidationError({"reason": message % values})
        if reason:
            locked.completion_reason = reason[:300]
            locked.save(update_fields=["completion_reason"])
        if unfinished:
            OrderOperation.objects.filter(pk__in=[op.pk for op in unfinished]).update(
                status=OrderOperation.Status.CANCELLED
            )
        done = production_order_transition(order=locked, to=Status.COMPLETED, by=by)
        if reason:
            audit_record(
                actor=by,
                action="production_order.completed_short",
                obj=done,
                data={"reason": reason, "operations_cancelled": [op.sequence for op in unfinished]},
            )
    return done


def production_order_close(*, order, by=None):
    return production_order_transition(order=order, to=Status.CLOSED, by=by)


def production_order_cancel(*, order, by=None):
    return production_order_transition(order=order, to=Status.CANCELLED, by=by)


def operation_freeze(*, operation: OrderOperation, frozen: bool = True, by=None) -> OrderOperation:
    """Pin an operation's machine and start so rescheduling keeps it in place."""
    if frozen and (operation.planned_start is None or operation.equipment_id is None):
        raise StateConflict(
            _("Operation %(operation)s has no scheduled machine and start yet; schedule it first.")
            % {"operation": operation}
        )
    with transaction.atomic():
        OrderOperation.objects.filter(pk=operation.pk).update(frozen=frozen)
        audit_record(
            actor=by, action="operation.freeze" if frozen else "operation.unfreeze", obj=operation
        )
    operation.refresh_from_db()
    return operation


def mps_entry_set(
    *, item: Item, period_start: date, quantity: Decimal, bucket: str = "week", by=None
):
    """Set the MPS quantity of an item for a period; zero removes the entry."""
    quantity = Decimal(quantity)
    if quantity < 0:
        raise ValidationError({"quantity": _("quantity must not be negative.")})
    if item.source != Item.Source.MAKE:
        raise ValidationError(
            {"item": _("%(item)s is bought; the MPS plans made items.") % {"item": item.code}}
        )
    with transaction.atomic():
        if quantity == 0:
            MpsEntry.objects.filter(item=item, period_start=period_start).delete()
            audit_record(actor=by, action="mps.clear", obj=item, data={"period": str(period_start)})
            return None
        entry, _created = MpsEntry.objects.update_or_create(
            item=item, period_start=period_start, defaults={"quantity": quantity, "bucket": bucket}
        )
        entry.full_clean()
        audit_record(
            actor=by,
            action="mps.set",
            obj=entry,
            data={"quantity": str(quantity), "bucket": bucket},
        )
    return entry

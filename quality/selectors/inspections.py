"""Reads of inspections: the active plan of an operation, the operation and the unit or lot
an inspection names, the standing of a unit or lot at an operation (its current records,
those nobody corrected), and the gated plans of the operations before a task."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from execution.models import ProductionEvent, Task
from planning.models import OrderOperation, ProductionOrder, RoutingStep
from resources.models import Item, MaterialLot, SerialUnit

from ..models import Disposition, InspectionPlan, InspectionRecord, TraceCode


def plan_for_operation(operation: OrderOperation) -> InspectionPlan | None:
    """The active plan of the operation's routing step (or, for an order made without a
    routing, the active plan its inspection_plan_ref names)."""
    order = operation.order
    if order.routing_id:
        plan = (
            InspectionPlan.objects.filter(
                active=True,
                routing_step__routing_id=order.routing_id,
                routing_step__step_no=operation.sequence,
            )
            .prefetch_related("characteristics")
            .first()
        )
        if plan is not None:
            return plan
    if operation.inspection_plan_ref:
        return (
            InspectionPlan.objects.filter(code=operation.inspection_plan_ref, active=True)
            .prefetch_related("characteristics")
            .first()
        )
    return None


def routing_step_of(operation: OrderOperation) -> RoutingStep | None:
    routing_id = operation.order.routing_id
    if not routing_id:
        return None
    return RoutingStep.objects.filter(routing_id=routing_id, step_no=operation.sequence).first()


def operation_find(*, order: str, sequence) -> OrderOperation:
    """An order's operation by order number and sequence, for API and page input."""
    order_obj = ProductionOrder.objects.filter(number=str(order or "").strip()).first()
    if order_obj is None:
        raise ValidationError({"order": _("No order %(order)s.") % {"order": repr(order)}})
    try:
        number = int(str(sequence).strip())
    except (TypeError, ValueError):
        raise ValidationError(
            {
                "sequence": _("%(sequence)s is not an operation number.")
                % {"sequence": repr(sequence)}
            }
        ) from None
    operation = (
        OrderOperation.objects.select_related("order__item", "work_center")
        .filter(order=order_obj, sequence=number)
        .first()
    )
    if operation is None:
        raise ValidationError(
            {
                "sequence": _("%(order)s has no operation %(number)s.")
                % {"order": order_obj.number, "number": number}
            }
        )
    return operation


def target_find(
    *, operation: OrderOperation, trace_code: str = "", serial: str = "", lot: str = ""
) -> tuple[SerialUnit | None, MaterialLot | None]:
    """The unit or lot an inspection names: by its trace code (label), serial or lot code.
    It must be of the order's item and have been made in the order."""
    order = operation.order
    item: Item = order.item
    trace_code, serial, lot = (str(v or "").strip() for v in (trace_code, serial, lot))
    field = "trace_code" if trace_code else ("unit" if serial else "lot")
    code = trace_code or serial or lot
    if item.tracking == Item.Tracking.NONE:
        raise ValidationError(
            {
                field: _("%(item)s is not tracked: there is no unit or lot to inspect.")
                % {"item": item.code}
            }
        )
    if not code:
        message = (
            _("%(item)s is serial-tracked: name the unit inspected.")
            if item.tracking == Item.Tracking.SERIAL
            else _("%(item)s is lot-tracked: name the lot inspected.")
        )
        raise ValidationError({"trace_code": message % {"item": item.code}})
    found_unit = found_lot = None
    if trace_code:
        label = TraceCode.objects.filter(code=trace_code).select_related("unit", "lot").first()
        if label is not None:
            if label.item_id != item.pk:
                raise ValidationError(
                    {
                        "trace_code": _("%(code)s is a %(other)s, not a %(item)s.")
                        % {"code": trace_code, "other": label.item.code, "item": item.code}
                    }
                )
            found_unit, found_lot = label.unit, label.lot
    serial_item = item.tracking == Item.Tracking.SERIAL
    if found_unit is None and found_lot is None:
        if serial_item and not lot:
            found_unit = SerialUnit.objects.filter(item=item, serial=code).first()
        elif not serial_item and not serial:
            found_lot = MaterialLot.objects.filter(item=item, code=code).first()
        else:
            message = (
                _("%(item)s is inspected by unit.")
                if serial_item
                else _("%(item)s is inspected by lot.")
            )
            raise ValidationError({field: message % {"item": item.code}})
    if found_unit is None and found_lot is None:
        message = (
            _("No unit %(code)s of %(item)s.") if serial_item else _("No lot %(code)s of %(item)s.")
        )
        raise ValidationError({field: message % {"code": code, "item": item.code}})
    if serial_item and found_unit is None:
        raise ValidationError(
            {
                field: _("%(code)s is a lot; %(item)s is inspected by unit.")
                % {"code": code, "item": item.code}
            }
        )
    if not serial_item and found_lot is None:
        raise ValidationError(
            {
                field: _("%(code)s is a unit; %(item)s is inspected by lot.")
                % {"code": code, "item": item.code}
            }
        )
    made_here = ProductionEvent.objects.filter(
        order=order, **({"unit": found_unit} if found_unit else {"lot": found_lot})
    ).exists()
    if not made_here:
        raise ValidationError(
            {
                field: _("%(code)s has no production event in %(order)s: is it the right order?")
                % {"code": code, "order": order.number}
            }
        )
    return found_unit, found_lot


@dataclass(frozen=True)
class StepNotReached:
    """Why a unit or lot cannot be inspected at an operation yet: the first earlier step it
    has not been through, and the last step it has been through (None: none yet)."""

    missing: OrderOperation
    last_through: int | None


def step_not_reached(
    *, operation: OrderOperation, unit: SerialUnit | None = None, lot: MaterialLot | None = None
) -> StepNotReached | None:
    """Whether the unit or lot has reached the operation, from its production events: it has
    been reported (report or complete naming it) at the operation or a later one, or at every
    earlier operation of the order. Steps counted by machine are taken on trust: a machine's
    count names no unit or lot, so their path through such a step is not recorded.
    Returns None when reached, else the first step missing. Two queries."""
    target = {"unit": unit} if unit is not None else {"lot": lot}
    through = set(
        ProductionEvent.objects.filter(
            order_id=operation.order_id,
            kind__in=(ProductionEvent.Kind.REPORT, ProductionEvent.Kind.COMPLETE),
            **target,
        )
        .order_by()
        .values_list("operation__sequence", flat=True)
        .distinct()
    )
    if any(sequence >= operation.sequence for sequence in through):
        return None
    earlier = OrderOperation.objects.filter(
        order_id=operation.order_id, sequence__lt=operation.sequence, counted_by_machine=False
    ).order_by("sequence")
    for step in earlier:
        if step.sequence not in through:
            return StepNotReached(missing=step, last_through=max(through, default=None))
    return None


def target_code(record_or_unit=None, lot=None) -> str:
    unit = record_or_unit
    if isinstance(record_or_unit, InspectionRecord):
        unit, lot = record_or_unit.unit, record_or_unit.lot
    if unit is not None:
        return unit.serial
    return lot.code if lot is not None else ""


class Status:
    PASSED = "passed"
    USE_AS_IS = "use_as_is"
    FAILED = "failed"
    REWORK = "rework"
    SCRAPPED = "scrapped"
    MISSING = "missing"

    GOES_ON = (PASSED, USE_AS_IS)


def current_records(**filters):
    """Records nobody corrected (the latest of each chain), newest first."""
    return (
        InspectionRecord.objects.filter(corrected_by__isnull=True, **filters)
        .select_related("disposition")
        .order_by("-inspected_at", "-id")
    )


def status_of(records: list[InspectionRecord]) -> tuple[str, InspectionRecord | None]:
    """A unit's or lot's standing at one operation from its current records, newest first."""
    if not records:
        return Status.MISSING, None
    for record in records:
        disposition = getattr(record, "disposition", None)
        if disposition is not None and disposition.decision == Disposition.Decision.SCRAP:
            return Status.SCRAPPED, record
    latest = records[0]
    if latest.result == InspectionRecord.Result.PASS:
        return Status.PASSED, latest
    disposition = getattr(latest, "disposition", None)
    if disposition is None:
        return Status.FAILED, latest
    if disposition.decision == Disposition.Decision.USE_AS_IS:
        return Status.USE_AS_IS, latest
    return Status.REWORK, latest


def inspection_status(
    *, operation: OrderOperation, unit=None, lot=None
) -> tuple[str, InspectionRecord | None]:
    filters = (
        {"operation": operation, "unit": unit} if unit else {"operation": operation, "lot": lot}
    )
    return status_of(list(current_records(**filters)))


def gated_plans_before(task: Task) -> list[tuple[OrderOperation, InspectionPlan]]:
    """The order's earlier operations that have a gated inspection plan, with the plan.

    Kept on the task object: a batch asks for the same task many times."""
    cached = getattr(task, "_quality_gated_before", None)
    if cached is not None:
        return cached
    order = task.order
    sequence = task.operation.sequence
    pairs: list[tuple[OrderOperation, InspectionPlan]] = []
    plans: dict[int, InspectionPlan] = {}
    if order.routing_id:
        for plan in InspectionPlan.objects.filter(
            active=True,
            gate=True,
            routing_step__routing_id=order.routing_id,
            routing_step__step_no__lt=sequence,
        ).select_related("routing_step"):
            plans[plan.routing_step.step_no] = plan
    else:
        refs = dict(
            OrderOperation.objects.filter(order_id=order.pk, sequence__lt=sequence)
            .exclude(inspection_plan_ref="")
            .values_list("sequence", "inspection_plan_ref")
        )
        if refs:
            by_code = {
                p.code: p
                for p in InspectionPlan.objects.filter(
                    active=True, gate=True, code__in=set(refs.values())
                )
            }
            plans = {seq: by_code[code] for seq, code in refs.items() if code in by_code}
    if plans:
        for operation in OrderOperation.objects.filter(
            order_id=order.pk, sequence__in=list(plans)
        ).order_by("sequence"):
            operation.order = order
            pairs.append((operation, plans[operation.sequence]))
    task._quality_gated_before = pairs
    return pairs

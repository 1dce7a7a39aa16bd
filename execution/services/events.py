"""Production events from terminals, external MES and machines.

Every event carries the sender's `event_id`; a repeated id is accepted and changes nothing.
Each event is validated on its own (task exists, order released, legal transition,
quantities ≥ 0, not in the future beyond a tolerance, trace code for tracked items) and
appended to the immutable log; the task, operation and order counters move in the same
transaction, with the task row locked and counters updated with F() so concurrent reports
never lose or double a count.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.events import emit
from core.exceptions import StateConflict
from core.roles import Role, user_has_role
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_complete, production_order_start
from resources.models import Equipment, Item, MaterialLot, Operator, SerialUnit

from ..models import LabourBooking, ProductionEvent, Task

T = Task.Status
K = ProductionEvent.Kind
FUTURE_TOLERANCE = timedelta(minutes=5)

# kind → (statuses it may come from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    K.START: ((T.READY, T.QUEUED), T.RUNNING),
    K.PAUSE: ((T.RUNNING,), T.PAUSED),
    K.RESUME: ((T.PAUSED,), T.RUNNING),
    K.REPORT: ((T.RUNNING, T.PAUSED), None),
    K.COMPLETE: ((T.RUNNING, T.PAUSED), T.DONE),
}


@dataclass
class EventResult:
    event_id: str
    status: str  # accepted | duplicate | rejected
    code: int  # HTTP status for this event: 201, 200, 400, 403, 404, 409
    errors: dict = field(default_factory=dict)
    event: ProductionEvent | None = None

    def as_dict(self) -> dict:
        out = {"event_id": self.event_id, "status": self.status, "code": self.code}
        if self.errors:
            out["errors"] = self.errors
        if self.event is not None:
            out["id"] = self.event.pk
        return out


def _decimal(data: dict, name: str) -> Decimal:
    raw = data.get(name, 0)
    try:
        value = Decimal(str(raw if raw not in (None, "") else 0))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: f"{raw!r} is not a number."}) from None
    if not value.is_finite() or value < 0:
        raise ValidationError({name: "must be a number ≥ 0."})
    return value


def _occurred_at(data: dict, now: datetime) -> datetime:
    raw = data.get("occurred_at")
    if raw in (None, ""):
        return now
    value = raw if isinstance(raw, datetime) else parse_datetime(str(raw))
    if value is None:
        raise ValidationError({"occurred_at": f"{raw!r} is not an ISO 8601 date-time."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": f"{value.isoformat()} is in the future."})
    return value


def _task_for(data: dict) -> Task:
    qs = Task.objects.select_for_update(of=("self",)).select_related(
        "order__item", "operation", "operator"
    )
    if data.get("task"):
        task = qs.filter(pk=data["task"]).first() if str(data["task"]).isdigit() else None
        if task is None:
            raise Task.DoesNotExist(f"No task {data['task']}.")
        return task
    order, sequence = data.get("order"), data.get("sequence")
    if not order or sequence in (None, ""):
        raise ValidationError({"task": "Name the task, or the order and the operation sequence."})
    task = qs.filter(order__number=order, operation__sequence=sequence).first()
    if task is None:
        if not ProductionOrder.objects.filter(number=order).exists():
            raise Task.DoesNotExist(f"No order {order}.")
        raise Task.DoesNotExist(f"Order {order} has no released operation {sequence}.")
    return task


def _trace(task: Task, code: str, kind: str, quantity: Decimal):
    """The unit or lot an event concerns; created at the first operation, known after."""
    item: Item = task.order.item
    if item.tracking == Item.Tracking.NONE:
        return None, None
    if not code:
        if kind in (K.REPORT, K.COMPLETE) and quantity > 0:
            raise ValidationError(
                {"trace_code": f"{item.code} is {item.tracking}-tracked: name the unit or lot."}
            )
        return None, None
    first_op = task.operation.sequence == min(
        task.order.operations.values_list("sequence", flat=True)
    )
    if item.tracking == Item.Tracking.SERIAL:
        if quantity > 1:
            raise ValidationError(
                {"quantity_good": "A serial-tracked unit is reported one at a time (quantity ≤ 1)."}
            )
        unit = SerialUnit.objects.filter(item=item, serial=code).first()
        if unit is None:
            if not first_op:
                raise ValidationError(
                    {"trace_code": f"Unknown unit {code}: it has no earlier operation."}
                )
            unit = SerialUnit.objects.create(item=item, serial=code)
        return unit, None
    lot = MaterialLot.objects.filter(item=item, code=code).first()
    if lot is None:
        if not first_op:
            raise ValidationError(
                {"trace_code": f"Unknown lot {code}: it has no earlier operation."}
            )
        lot = MaterialLot.objects.create(item=item, code=code)
    return None, lot


def _check_actor(task: Task, by, operator: Operator | None) -> None:
    """Operators act on their own tasks only; supervisors and systems on any."""
    if by is None or not getattr(by, "is_authenticated", False):
        return
    if user_has_role(by, Role.SUPERVISOR, Role.PLANNER):
        return
    if user_has_role(by, Role.OPERATOR) or hasattr(by, "operator"):
        mine = getattr(by, "operator", None)
        if mine is None or task.operator_id != mine.pk:
            raise PermissionDenied(f"{task} is not assigned to you.")


def _labour_close(task: Task, operator: Operator | None, at: datetime) -> None:
    """Book the time since the task last started or resumed, with what came out of it."""
    who = operator or task.operator
    if who is None:
        return
    last = (
        ProductionEvent.objects.filter(task=task, kind__in=(K.START, K.RESUME))
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if last is None or at < last:
        return
    booked = LabourBooking.objects.filter(task=task).aggregate(
        good=Sum("quantity_good"), scrap=Sum("quantity_scrap")
    )
    task.refresh_from_db(fields=["quantity_good", "quantity_scrap"])
    LabourBooking.objects.create(
        operator=who,
        task=task,
        started_at=last,
        ended_at=at,
        quantity_good=task.quantity_good - (booked["good"] or 0),
        quantity_scrap=task.quantity_scrap - (booked["scrap"] or 0),
    )


def event_record(*, data: dict, by=None, source: str = ProductionEvent.Source.API) -> EventResult:
    """Validate and record one production event; never raises for bad input."""
    event_id = str(data.get("event_id") or "").strip()
    if not event_id:
        return EventResult("", "rejected", 400, {"event_id": "Every event needs an event_id."})
    if len(event_id) > 100:
        return EventResult(event_id[:100], "rejected", 400, {"event_id": "At most 100 characters."})
    existing = ProductionEvent.objects.filter(event_id=event_id).first()
    if existing is not None:
        return EventResult(event_id, "duplicate", 200, event=existing)
    kind = data.get("kind")
    if kind not in TRANSITIONS:
        return EventResult(
            event_id,
            "rejected",
            400,
            {"kind": f"Unknown kind {kind!r}; use {', '.join(TRANSITIONS)}."},
        )
    try:
        with transaction.atomic():
            return _record(event_id, kind, data, by, source)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return EventResult(
            event_id,
            "rejected",
            400,
            {k: " ".join(v) if isinstance(v, list) else v for k, v in errors.items()},
        )
    except Task.DoesNotExist as exc:
        return EventResult(event_id, "rejected", 404, {"task": str(exc) or "No such task."})
    except PermissionDenied as exc:
        return EventResult(event_id, "rejected", 403, {"detail": str(exc)})
    except StateConflict as exc:
        return EventResult(event_id, "rejected", 409, {"detail": str(exc)})
    except IntegrityError:
        # Another request recorded the same event_id between our check and insert.
        existing = ProductionEvent.objects.filter(event_id=event_id).first()
        if existing is not None:
            return EventResult(event_id, "duplicate", 200, event=existing)
        raise


def _record(event_id: str, kind: str, data: dict, by, source: str) -> EventResult:
    now = timezone.now()
    good = _decimal(data, "quantity_good")
    scrap = _decimal(data, "quantity_scrap")
    occurred = _occurred_at(data, now)
    task = _task_for(data)
    order = task.order
    if order.status not in (ProductionOrder.Status.RELEASED, ProductionOrder.Status.IN_PROGRESS):
        raise StateConflict(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            "only released orders take production events."
        )
    operator = None
    if data.get("operator"):
        operator = Operator.objects.filter(badge=data["operator"]).first()
        if operator is None:
            raise ValidationError({"operator": f"No operator with badge {data['operator']!r}."})
    elif by is not None and hasattr(by, "operator"):
        operator = by.operator
    _check_actor(task, by, operator)
    equipment = None
    if data.get("equipment"):
        equipment = Equipment.objects.filter(code=data["equipment"]).first()
        if equipment is None:
            raise ValidationError({"equipment": f"No equipment {data['equipment']!r}."})
    allowed, target = TRANSITIONS[kind]
    if task.status not in allowed:
        hint = {K.START: "", K.PAUSE: " (start it first)", K.RESUME: " (it is not paused)"}.get(
            kind, ""
        )
        raise StateConflict(
            f"{task} is {task.get_status_display().lower()}; it cannot take a {kind} event{hint}."
        )
    if task.status == T.QUEUED and kind == K.START:
        previous = (
            Task.objects.filter(order=order, operation__sequence__lt=task.operation.sequence)
            .order_by("-operation__sequence")
            .first()
        )
        if (
            previous is not None
            and previous.status not in (T.DONE,)
            and previous.quantity_good <= 0
        ):
            raise StateConflict(
                f"{task} waits for operation {previous.operation.sequence}, which has made nothing yet."
            )
    if kind in (K.START, K.PAUSE, K.RESUME) and (good or scrap):
        raise ValidationError(
            {"quantity_good": f"A {kind} event carries no quantities; send a report."}
        )
    if kind == K.PAUSE and not (data.get("reason") or "").strip():
        raise ValidationError({"reason": "Say why the work is paused."})
    unit, lot = _trace(task, (data.get("trace_code") or "").strip(), kind, good + scrap)
    for check in gate_checks():
        check(task=task, kind=kind, unit=unit, lot=lot)

    event = ProductionEvent.objects.create(
        event_id=event_id,
        kind=kind,
        task=task,
        order=order,
        operation=task.operation,
        operator=operator,
        equipment=equipment or task.equipment,
        quantity_good=good,
        quantity_scrap=scrap,
        reason=(data.get("reason") or "")[:200],
        trace_code=(data.get("trace_code") or "")[:100],
        unit=unit,
        lot=lot,
        occurred_at=occurred,
        source=source,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    task_fields = {}
    if target:
        task_fields["status"] = target
    if kind == K.START:
        task_fields["started_at"] = task.started_at or occurred
        if operator and task.operator_id is None:
            task_fields["operator"] = operator
        if equipment:
            task_fields["equipment"] = equipment
    if kind == K.PAUSE:
        task_fields["pause_reason"] = data["reason"][:200]
    if kind == K.RESUME:
        task_fields["pause_reason"] = ""
    if kind == K.COMPLETE:
        task_fields["ended_at"] = occurred
    if good or scrap:
        task_fields["quantity_good"] = F("quantity_good") + good
        task_fields["quantity_scrap"] = F("quantity_scrap") + scrap
    if task_fields:
        Task.objects.filter(pk=task.pk).update(**task_fields)

    op_fields: dict = {}
    if kind == K.START and task.operation.status not in (OrderOperation.Status.IN_PROGRESS,):
        op_fields["status"] = OrderOperation.Status.IN_PROGRESS
        op_fields["actual_start"] = task.operation.actual_start or occurred
        if equipment:
            op_fields["equipment"] = equipment
    if kind == K.PAUSE:
        op_fields["status"] = OrderOperation.Status.PAUSED
    if kind == K.RESUME:
        op_fields["status"] = OrderOperation.Status.IN_PROGRESS
    if kind == K.COMPLETE:
        op_fields["status"] = OrderOperation.Status.DONE
        op_fields["actual_end"] = occurred
    if good or scrap:
        op_fields["quantity_done"] = F("quantity_done") + good
        op_fields["quantity_scrap"] = F("quantity_scrap") + scrap
    if op_fields:
        OrderOperation.objects.filter(pk=task.operation_id).update(**op_fields)

    last_sequence = max(order.operations.values_list("sequence", flat=True))
    if (good or scrap) and task.operation.sequence == last_sequence:
        ProductionOrder.objects.filter(pk=order.pk).update(
            quantity_done=F("quantity_done") + good, quantity_scrap=F("quantity_scrap") + scrap
        )
    if kind == K.START and order.status == ProductionOrder.Status.RELEASED:
        production_order_start(order=order, by=by)
    if good > 0 or kind == K.COMPLETE:
        # The next operation can begin on what this one has made (a transfer batch).
        _ready_next(task)
    if kind in (K.PAUSE, K.COMPLETE):
        _labour_close(task, operator, occurred)
    if kind == K.COMPLETE and not Task.objects.filter(order=order, status__in=Task.OPEN).exists():
        production_order_complete(order=ProductionOrder.objects.get(pk=order.pk), by=by)
    emit(
        "execution.event.recorded",
        {
            "event_id": event_id,
            "kind": kind,
            "order_id": order.pk,
            "operation_id": task.operation_id,
            "good": str(good),
            "scrap": str(scrap),
            "trace_code": event.trace_code,
        },
        dispatch_on_commit=False,
    )
    return EventResult(event_id, "accepted", 201, event=event)


def _ready_next(task: Task) -> None:
    nxt = (
        Task.objects.filter(order_id=task.order_id, operation__sequence__gt=task.operation.sequence)
        .order_by("operation__sequence")
        .first()
    )
    if nxt is not None and nxt.status == T.QUEUED:
        Task.objects.filter(pk=nxt.pk, status=T.QUEUED).update(status=T.READY)
        OrderOperation.objects.filter(
            pk=nxt.operation_id, status=OrderOperation.Status.PENDING
        ).update(status=OrderOperation.Status.READY)


def events_record(
    *, items: list[dict], by=None, source: str = ProductionEvent.Source.API
) -> list[EventResult]:
    """A batch: each event on its own, in order; one bad event does not stop the others."""
    return [
        event_record(data=item if isinstance(item, dict) else {}, by=by, source=source)
        for item in items
    ]


# --- gates: downstream apps may refuse an event (the quality gate registers here) --------

_gate_checks: list = []


def gate_register(fn):
    """Register `fn(*, task, kind, unit, lot)` that raises StateConflict to refuse an event."""
    if fn not in _gate_checks:
        _gate_checks.append(fn)
    return fn


def gate_checks() -> list:
    return list(_gate_checks)

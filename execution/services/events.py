"""Production events from terminals, external MES and machines.

Every event carries the sender's `event_id`; a repeated id is accepted and changes nothing
(the log's unique constraint decides a race between two requests with the same id). Each
event is validated on its own (task exists, order released, legal transition, quantities
≥ 0, not in the future beyond a tolerance, trace code for tracked items) and appended to
the immutable log — unless it is backdated or over-delivers, when it is held for a
supervisor's signed approval instead (`plausibility.py`, `approvals.py`); the task, operation and order counters move in the same transaction,
with the task row locked and counters updated with F() so concurrent reports never lose or
double a count.

One event goes through `event_record`: a savepoint and a few queries. A list goes through
`events_record`, which hands the common case (quantity reports on running tasks) to the
set-based path in `ingest.py`. Both paths validate with the same `event_validate`, so an event
gets the same answer, with the same message, whichever way it came.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.counters import counter_add_statement, counters_add
from core.events import emit, emit_along
from core.exceptions import StateConflict
from core.lists import list_text
from core.parsing import instant_parse
from core.policy import may
from core.rawsql import row_insert
from core.texts import text_columns
from planning.models import OrderOperation, ProductionOrder
from planning.services.operations import operation_status_post, operations_ready
from planning.services.orders import production_order_complete, production_order_start
from planning.services.quantities import quantities_post, quantities_post_statements
from resources.models import Equipment, Item, MaterialLot, Operator, SerialUnit
from resources.selectors.calendar import work_center_booking_end
from resources.selectors.operators import user_operator
from resources.services.tracking import material_lot_obtain, serial_unit_obtain

from ..models import EventApproval, LabourBooking, ProductionEvent, Task
from ..selectors.ownership import event_operator_allowed
from .event_rows import TaskRow, event_id_found, event_id_seen, task_row_lock
from .plausibility import (
    HeldForApproval,
    backdate_cutoff,
    backdate_possible,
    event_plausibility_check,
)

# Quantities are stored as numeric(18, 4): more places would be rounded by the database
# one event at a time, so they are rounded here the same way (half away from zero, as
# PostgreSQL does) and a batch that adds them up first arrives at the same totals.
_QTY_FIELD = ProductionEvent._meta.get_field("quantity_good")
QTY_STEP = Decimal(1).scaleb(-_QTY_FIELD.decimal_places)
QTY_EXPONENT = -_QTY_FIELD.decimal_places
QTY_LIMIT = Decimal(10) ** (_QTY_FIELD.max_digits - _QTY_FIELD.decimal_places)
TRACE_CODE_MAX = SerialUnit._meta.get_field("serial").max_length

# kind → (statuses it may come from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    ProductionEvent.Kind.START: ((Task.Status.READY, Task.Status.QUEUED), Task.Status.RUNNING),
    ProductionEvent.Kind.PAUSE: ((Task.Status.RUNNING,), Task.Status.PAUSED),
    ProductionEvent.Kind.RESUME: ((Task.Status.PAUSED,), Task.Status.RUNNING),
    ProductionEvent.Kind.REPORT: ((Task.Status.RUNNING, Task.Status.PAUSED), None),
    ProductionEvent.Kind.COMPLETE: ((Task.Status.RUNNING, Task.Status.PAUSED), Task.Status.DONE),
}
_HINTS = {
    ProductionEvent.Kind.START: "",
    ProductionEvent.Kind.PAUSE: gettext_noop(" (start it first)"),
    ProductionEvent.Kind.RESUME: gettext_noop(" (it is not paused)"),
}
# The kinds as a refusal names them (in the reader's language).
_KIND_WORDS = {
    ProductionEvent.Kind.START: gettext_noop("start"),
    ProductionEvent.Kind.PAUSE: gettext_noop("pause"),
    ProductionEvent.Kind.RESUME: gettext_noop("resume"),
    ProductionEvent.Kind.REPORT: gettext_noop("report"),
    ProductionEvent.Kind.COMPLETE: gettext_noop("complete"),
}


def _task_name(task: Task) -> str:
    return _("Task %(order)s/%(sequence)s") % {
        "order": task.order.number,
        "sequence": task.operation.sequence,
    }


_ORDER_TAKES_EVENTS = (ProductionOrder.Status.RELEASED, ProductionOrder.Status.IN_PROGRESS)


@dataclass
class EventResult:
    event_id: str
    status: str  # accepted | duplicate | held | rejected
    code: int  # HTTP status for this event: 201, 200, 202, 400, 403, 404, 409
    errors: dict = field(default_factory=dict)
    event: ProductionEvent | None = None
    approval: EventApproval | None = None  # held: waiting for a supervisor

    def as_dict(self) -> dict:
        out = {"event_id": self.event_id, "status": self.status, "code": self.code}
        if self.errors:
            out["errors"] = self.errors
        if self.event is not None:
            out["id"] = self.event.pk
        if self.approval is not None:
            out["approval"] = self.approval.pk
            out["approval_status"] = self.approval.status
            out["detail"] = self.approval.message_shown
        return out


# --- reading one event's fields (shared by both paths) ----------------------------------
# Private to recording events: this module and its batch path, ingest.py, read an event's
# own input and shape its answer with these; nothing else does.


def _read_event_id(data: dict) -> tuple[str, EventResult | None]:
    """The event id, or the rejection of an event without a usable one."""
    event_id = str(data.get("event_id") or "").strip()
    if not event_id:
        return "", EventResult("", "rejected", 400, {"event_id": "Every event needs an event_id."})
    if len(event_id) > 100:
        return event_id, EventResult(
            event_id[:100], "rejected", 400, {"event_id": _("At most 100 characters.")}
        )
    return event_id, None


def _kind_refused(event_id: str, kind) -> EventResult | None:
    if isinstance(kind, str) and kind in TRANSITIONS:
        return None
    return EventResult(
        event_id,
        "rejected",
        400,
        {
            "kind": _("Unknown kind %(kind)r; use %(kinds)s.")
            % {"kind": kind, "kinds": list_text(TRANSITIONS)}
        },
    )


def _decimal(data: dict, name: str) -> Decimal:
    raw = data.get(name, 0)
    if type(raw) is int and 0 <= raw < QTY_LIMIT:  # what devices send: no parsing to do
        return Decimal(raw)
    try:
        value = Decimal(str(raw if raw not in (None, "") else 0))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: _("%(value)r is not a number.") % {"value": raw}}) from None
    if not value.is_finite() or value < 0:
        raise ValidationError({name: _("must be a number ≥ 0.")})
    if value >= QTY_LIMIT:
        raise ValidationError(
            {name: _("must be below %(limit)s.") % {"limit": f"{QTY_LIMIT:,.0f}"}}
        )
    if value.as_tuple().exponent < QTY_EXPONENT:
        value = value.quantize(QTY_STEP, rounding=ROUND_HALF_UP)
    return value


def _read_text(data: dict, name: str) -> str:
    """A free-text field; a number (a device's numeric trace code) is taken as its digits."""
    raw = data.get(name)
    if not raw:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return str(raw)
    raise ValidationError({name: _("must be text.")})


@dataclass(frozen=True, slots=True)
class TaskRef:
    """How an event names its task: by id, or by order number and operation sequence."""

    raw: object  # the `task` value, or the `order` value
    pk: int | None = None  # by id: None when the value cannot be an id
    number: str | None = None  # by order: the order number as the database compares it
    sequence: int | None = None
    raw_sequence: object = None

    @property
    def by_pk(self) -> bool:
        return self.number is None

    def missing(self, order_exists: bool) -> Task.DoesNotExist:
        if self.by_pk:
            return Task.DoesNotExist(_("No task %(task)s.") % {"task": self.raw})
        if not order_exists:
            return Task.DoesNotExist(_("No order %(order)s.") % {"order": self.raw})
        return Task.DoesNotExist(
            _("Order %(order)s has no released operation %(sequence)s.")
            % {"order": self.raw, "sequence": self.raw_sequence}
        )


def _task_ref(data: dict) -> TaskRef:
    if data.get("task"):
        text = str(data["task"])
        pk = int(text) if text.isascii() and text.isdigit() else None
        return TaskRef(raw=data["task"], pk=pk)
    order, sequence = data.get("order"), data.get("sequence")
    if not order or sequence in (None, ""):
        raise ValidationError(
            {"task": _("Name the task, or the order and the operation sequence.")}
        )
    try:
        number = int(sequence)  # as the database lookup converts it (10.0 → 10)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(
            {"sequence": _("%(value)r is not an operation sequence number.") % {"value": sequence}}
        ) from None
    return TaskRef(
        raw=order,
        number=order if isinstance(order, str) else str(order),
        sequence=number,
        raw_sequence=sequence,
    )


def _lookup_key(value) -> str:
    """A code or badge as a CharField lookup compares it."""
    return value if isinstance(value, str) else str(value)


# --- validation (shared by both paths) ----------------------------------------------------


class Lookup:
    """Where `event_validate` finds tasks, operators, machines, units and lots, and asks the gates.

    `DbLookup` asks the database, one event at a time, locking the task; the batch path in
    `ingest.py` answers from rows it loaded (and locked) for the whole batch."""

    def task(self, data: dict) -> Task:
        """The task the event names (see `_task_ref`), locked."""
        raise NotImplementedError

    def operator(self, badge) -> Operator | None:
        raise NotImplementedError

    def equipment(self, code) -> Equipment | None:
        raise NotImplementedError

    def first_sequence(self, task: Task) -> int:
        raise NotImplementedError

    def previous_task(self, task: Task) -> Task | None:
        raise NotImplementedError

    def unit(self, item: Item, code: str, *, create: bool) -> SerialUnit | None:
        raise NotImplementedError

    def lot(self, item: Item, code: str, *, create: bool) -> MaterialLot | None:
        raise NotImplementedError

    def gates(self, *, task: Task, kind: str, unit, lot) -> None:
        raise NotImplementedError

    def backdate_cutoff(self, task: Task, now: datetime) -> datetime:
        """The earliest occurred_at booked without approval (see `plausibility`)."""
        raise NotImplementedError

    def reported(self, task: Task) -> Decimal:
        """Good + scrap on the task before this event."""
        raise NotImplementedError


@dataclass(slots=True)
class Checked:
    """An event that passed validation: what the writes need."""

    kind: str
    task: Task
    good: Decimal
    scrap: Decimal
    occurred: datetime
    operator: Operator | None
    equipment: Equipment | None
    unit: SerialUnit | None
    lot: MaterialLot | None
    reason: str
    trace_code: str


def _check_actor(task: Task, by, operator: Operator | None) -> None:
    """The permission policy's object rule (execution/selectors/ownership.py): events on a
    task come from its operator, its work center's supervisor or a service account linked
    to its work center; only those two name another operator's badge."""
    if by is None or not getattr(by, "is_authenticated", False):
        return  # the system itself (a device gateway's own ingest, a data load)
    if not may(by, "execution.task", "record", task):
        raise PermissionDenied(_("%(task)s is not assigned to you.") % {"task": _task_name(task)})
    if not event_operator_allowed(by, task, operator):
        raise PermissionDenied(
            _("operator: you may report only under your own badge, not %(badge)s.")
            % {"badge": operator.badge}
        )


def _trace(task: Task, code: str, kind: str, quantity: Decimal, look: Lookup, *, counted=False):
    """The unit or lot an event concerns; created at the first operation, known after.

    `counted`: a machine's count on a counted step names no unit (see `counted_step_check`)."""
    item: Item = task.order.item
    if item.tracking == Item.Tracking.NONE:
        return None, None
    if not code:
        if (
            kind in (ProductionEvent.Kind.REPORT, ProductionEvent.Kind.COMPLETE)
            and quantity > 0
            and not counted
        ):
            raise ValidationError(
                {
                    "trace_code": _("%(item)s is %(tracking)s: name the unit or lot.")
                    % {"item": item.code, "tracking": item.get_tracking_display().lower()}
                }
            )
        return None, None
    first_op = task.operation.sequence == look.first_sequence(task)
    serial = item.tracking == Item.Tracking.SERIAL
    if serial and quantity > 1:
        raise ValidationError(
            {"quantity_good": _("A serial-tracked unit is reported one at a time (quantity ≤ 1).")}
        )
    found = look.unit(item, code, create=False) if serial else look.lot(item, code, create=False)
    if found is not None:
        return (found, None) if serial else (None, found)
    if not first_op:
        message = (
            _("Unknown unit %(code)s: it has no earlier operation.")
            if serial
            else _("Unknown lot %(code)s: it has no earlier operation.")
        )
        raise ValidationError({"trace_code": message % {"code": code}})
    if len(code) > TRACE_CODE_MAX:
        raise ValidationError(
            {
                "trace_code": _("A new unit or lot code has at most %(max)s characters.")
                % {"max": TRACE_CODE_MAX}
            }
        )
    if serial:
        return look.unit(item, code, create=True), None
    return None, look.lot(item, code, create=True)


def event_validate(
    event_id: str,
    kind: str,
    data: dict,
    by,
    look: Lookup,
    now: datetime,
    *,
    approved: bool = False,
    source: str | None = None,
) -> Checked:
    """Every rule an event must pass, in order; raises what decides its answer: one of
    REFUSALS, or HeldForApproval for a plausible-only-with-approval event (not when a
    supervisor has `approved` it, nor for a machine's count: see `counted_step_check`)."""
    good = _decimal(data, "quantity_good")
    scrap = _decimal(data, "quantity_scrap")
    occurred = instant_parse(data.get("occurred_at"), now=now, field="occurred_at")
    reason = _read_text(data, "reason")
    trace_code = _read_text(data, "trace_code")
    task = look.task(data)
    order = task.order
    if order.status not in _ORDER_TAKES_EVENTS:
        raise StateConflict(
            _("Order %(order)s is %(status)s; only released orders take production events.")
            % {"order": order.number, "status": order.get_status_display().lower()}
        )
    operator = None
    if data.get("operator"):
        operator = look.operator(data["operator"])
        if operator is None:
            raise ValidationError(
                {"operator": _("No operator with badge %(badge)r.") % {"badge": data["operator"]}}
            )
    elif by is not None:
        operator = user_operator(by)
    _check_actor(task, by, operator)
    equipment = None
    if data.get("equipment"):
        equipment = look.equipment(data["equipment"])
        if equipment is None:
            raise ValidationError(
                {"equipment": _("No equipment %(code)r.") % {"code": data["equipment"]}}
            )
    allowed, _target = TRANSITIONS[kind]
    if task.status not in allowed:
        hint = _HINTS.get(kind, "")
        raise StateConflict(
            _("%(task)s is %(status)s; it cannot take a %(kind)s event%(hint)s.")
            % {
                "task": _task_name(task),
                "status": task.get_status_display().lower(),
                "kind": _(_KIND_WORDS.get(kind, kind)),
                "hint": _(hint) if hint else "",
            }
        )
    if task.status == Task.Status.QUEUED and kind == ProductionEvent.Kind.START:
        previous = look.previous_task(task)
        if (
            previous is not None
            and previous.status not in (Task.Status.DONE,)
            and previous.quantity_good <= 0
        ):
            raise StateConflict(
                _("%(task)s waits for operation %(sequence)s, which has made nothing yet.")
                % {"task": _task_name(task), "sequence": previous.operation.sequence}
            )
    if kind in (
        ProductionEvent.Kind.START,
        ProductionEvent.Kind.PAUSE,
        ProductionEvent.Kind.RESUME,
    ) and (good or scrap):
        raise ValidationError(
            {
                "quantity_good": _("A %(kind)s event carries no quantities; send a report.")
                % {"kind": _(_KIND_WORDS[kind])}
            }
        )
    if kind == ProductionEvent.Kind.PAUSE and not reason.strip():
        raise ValidationError({"reason": _("Say why the work is paused.")})
    device_count = counted_step_check(task=task, kind=kind, good=good, scrap=scrap, source=source)
    unit, lot = _trace(task, trace_code.strip(), kind, good + scrap, look, counted=device_count)
    look.gates(task=task, kind=kind, unit=unit, lot=lot)
    if not approved and not device_count:
        event_plausibility_check(
            kind=kind,
            task=task,
            good=good,
            scrap=scrap,
            occurred=occurred,
            # The cutoff is never after `now`: an event that occurred now or later is not
            # backdated whatever the shift calendar says, and needs no look at it.
            cutoff=look.backdate_cutoff(task, now) if backdate_possible(occurred, now) else now,
            reported=look.reported(task),
        )
    return Checked(
        kind=kind,
        task=task,
        good=good,
        scrap=scrap,
        occurred=occurred,
        operator=operator,
        equipment=equipment,
        unit=unit,
        lot=lot,
        reason=reason,
        trace_code=trace_code,
    )


REFUSALS = (ValidationError, Task.DoesNotExist, PermissionDenied, StateConflict)


def counted_step_check(*, task: Task, kind: str, good: Decimal, scrap: Decimal, source) -> bool:
    """The rule of a step "counted by machine" (RoutingStep.counted_by_machine, copied to the
    operation): its quantities come from the machine's part counter only, so the two never
    double-count.

    - A quantity from a person (terminal, API) on such a step is refused (409) with a message
      naming the step; start, pause, resume and a complete without quantities still work.
    - A machine's count (source "device") on it is a fact, not a claim: it is booked at once,
      never held for approval (a spooled count replayed after an outage is late by design,
      and parts the machine made past the order's tolerance were made; the over-delivery
      shows on the operation and the board). The machine reads no serial or lot code, so
      the count names no unit: the units' path through the step is not recorded one by one.

    Returns True for a machine's count with quantities (what the caller exempts)."""
    quantity = good or scrap
    if not task.operation.counted_by_machine:
        return False
    if source == ProductionEvent.Source.DEVICE:
        return bool(quantity)
    if quantity and kind in (ProductionEvent.Kind.REPORT, ProductionEvent.Kind.COMPLETE):
        op = task.operation
        raise StateConflict(
            _(
                "Operation %(sequence)s %(name)s of %(order)s is counted by machine: its "
                "quantities come from the machine's part counter, not from reports (start, "
                "pause and complete it without quantities)."
            )
            % {"sequence": op.sequence, "name": op.name, "order": task.order.number}
        )
    return False


def _rejection(event_id: str, exc: Exception) -> EventResult:
    """The answer for an event `event_validate` refused (one of REFUSALS)."""
    if isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return EventResult(
            event_id,
            "rejected",
            400,
            {k: " ".join(v) if isinstance(v, list) else v for k, v in errors.items()},
        )
    if isinstance(exc, Task.DoesNotExist):
        return EventResult(event_id, "rejected", 404, {"task": str(exc) or _("No such task.")})
    if isinstance(exc, PermissionDenied):
        return EventResult(event_id, "rejected", 403, {"detail": str(exc)})
    return EventResult(event_id, "rejected", 409, {"detail": str(exc)})


EVENTS_RECORDED = "execution.events.recorded"


def _event_payload(event_id: str, kind: str, c: Checked, trace_code: str) -> dict:
    """One event in the `execution.events.recorded` domain event, which lists the events a
    transaction recorded: `{"events": [one of these, ...]}` — one for a single event, up to
    a batch run's thousand for the batch path, so that handlers keep up with the log."""
    return {
        "event_id": event_id,
        "kind": kind,
        "order_id": c.task.order_id,
        "operation_id": c.task.operation_id,
        "good": str(c.good),
        "scrap": str(c.scrap),
        "trace_code": trace_code,
    }


# --- one event at a time ------------------------------------------------------------------


class DbLookup(Lookup):
    """Answers from the database; the task row is locked until the transaction ends.

    The task comes with its order's first and last operation sequence and the next
    operation's task (`event_rows.task_row_lock`), which the writes of `_record` ask too."""

    def __init__(self, *, event_id: str | None = None, user=None, now: datetime | None = None):
        self.rows: dict[int, TaskRow] = {}
        # With an event id and an instant, the task's statement also tells whether the id was
        # seen (AlreadySeen is raised), the user's operator and the work center's calendar.
        self.event_id, self.user, self.now = event_id, user, now

    def task(self, data: dict) -> Task:
        ref = _task_ref(data)
        extras = {"event_id": self.event_id, "user": self.user, "at": self.now}
        # NO KEY UPDATE: excludes the other writers of the row, not the inserts that merely
        # reference it (each event's foreign-key check takes KEY SHARE on its task).
        if ref.by_pk:
            row = task_row_lock(pk=ref.pk, **extras) if ref.pk is not None else None
            if row is None:
                raise ref.missing(False)
        else:
            row = task_row_lock(number=ref.number, sequence=ref.sequence, **extras)
            if row is None:
                raise ref.missing(ProductionOrder.objects.filter(number=ref.number).exists())
        if row.seen:
            raise AlreadySeen(event_id_found(self.event_id, row.seen))
        self.rows[row.task.pk] = row
        return row.task

    def last_sequence(self, task: Task) -> int:
        return self.rows[task.pk].last_sequence

    def operator(self, badge) -> Operator | None:
        return Operator.objects.filter(badge=_lookup_key(badge)).first()

    def equipment(self, code) -> Equipment | None:
        return Equipment.objects.filter(code=_lookup_key(code)).first()

    def first_sequence(self, task: Task) -> int:
        return self.rows[task.pk].first_sequence

    def previous_task(self, task: Task) -> Task | None:
        return (
            Task.objects.filter(order=task.order, operation__sequence__lt=task.operation.sequence)
            .select_related("operation")
            .order_by("-operation__sequence")
            .first()
        )

    def unit(self, item: Item, code: str, *, create: bool) -> SerialUnit | None:
        if create:
            return serial_unit_obtain(item=item, serial=code)
        return SerialUnit.objects.filter(item=item, serial=code).first()

    def lot(self, item: Item, code: str, *, create: bool) -> MaterialLot | None:
        if create:
            return material_lot_obtain(item=item, code=code)
        return MaterialLot.objects.filter(item=item, code=code).first()

    def gates(self, *, task: Task, kind: str, unit, lot) -> None:
        for check in gate_checks():
            check(task=task, kind=kind, unit=unit, lot=lot)

    def backdate_cutoff(self, task: Task, now: datetime) -> datetime:
        row = self.rows.get(task.pk)
        calendar = row.calendar if row is not None and now == self.now else None
        return backdate_cutoff(task.operation.work_center, now, calendar=calendar)

    def reported(self, task: Task) -> Decimal:
        return task.quantity_good + task.quantity_scrap


def _labour_close(task: Task, operator: Operator | None, at: datetime) -> None:
    """Book the time since the task last started or resumed, with what was reported in it:
    the quantities of the task's events recorded since that start or resume (this event
    included). Not the counters' difference: a scrap disposition moves good to scrap on the
    counters later, and that is not this span's work."""
    who = operator or task.operator
    if who is None:
        return
    last = (
        ProductionEvent.objects.filter(
            task=task, kind__in=(ProductionEvent.Kind.START, ProductionEvent.Kind.RESUME)
        )
        .order_by("-occurred_at", "-id")
        .values_list("id", "occurred_at")
        .first()
    )
    if last is None or at < last[1]:
        return
    made = ProductionEvent.objects.filter(task=task, pk__gt=last[0]).aggregate(
        good=Sum("quantity_good"), scrap=Sum("quantity_scrap")
    )
    # Capped at the shift: time past its end is recorded as excess and flagged, not booked.
    booked_end = work_center_booking_end(task.operation.work_center, last[1], at) or at
    excess = Decimal(str((at - booked_end).total_seconds() / 60)).quantize(Decimal("0.1"))
    LabourBooking.objects.create(
        operator=who,
        task=task,
        started_at=last[1],
        ended_at=booked_end,
        excess_minutes=excess,
        quantity_good=made["good"] or 0,
        quantity_scrap=made["scrap"] or 0,
    )


def event_record(*, data: dict, by=None, source: str = ProductionEvent.Source.API) -> EventResult:
    """Validate and record one production event; never raises for bad input."""
    event_id, refused = _read_event_id(data)
    if refused is not None:
        return refused
    kind = data.get("kind")
    refused = _kind_refused(event_id, kind)
    if refused is not None:
        return _seen_answer(event_id, event_id_seen(event_id)) or refused
    # Whether the id was seen is read with the task, in the transaction (`DbLookup`); an
    # event refused before or without its task is looked up then, so a retry of a recorded
    # or held event always gets the answer of the first, whatever it carries now.
    try:
        with transaction.atomic():
            try:
                return _record(event_id, kind, data, by, source, seen_check=True)
            except AlreadySeen as exc:  # raised before anything is written: ends as a commit
                return _seen_answer(event_id, exc.found)
    except REFUSALS as exc:
        return _seen_answer(event_id, event_id_seen(event_id)) or _rejection(event_id, exc)
    except HeldForApproval as exc:
        # Rolled back: nothing of the event is booked; it waits as an approval.
        return _hold(event_id, kind, data, by, source, exc)
    except IntegrityError:
        # Another request recorded the same event_id between our check and insert.
        existing = ProductionEvent.objects.filter(event_id=event_id).first()
        if existing is not None:
            return EventResult(event_id, "duplicate", 200, event=existing)
        raise


class AlreadySeen(Exception):
    """The event's id is in the log or held for approval (found with its task)."""

    def __init__(self, found):
        super().__init__(found)
        self.found = found


def _seen_answer(event_id: str, seen) -> EventResult | None:
    """The answer to a retry of a recorded (200) or held (202) event; None if not seen."""
    if isinstance(seen, ProductionEvent):
        return EventResult(event_id, "duplicate", 200, event=seen)
    if seen is not None:
        return EventResult(event_id, "held", 202, approval=seen)
    return None


def _json_safe(data: dict) -> dict:
    """The event as sent, for the approval's payload (JSON keeps numbers and text)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, str | int | float | bool) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _hold(event_id: str, kind: str, data: dict, by, source: str, exc: HeldForApproval):
    """Keep the event as a pending approval; a retry with the same id finds it."""
    ref_task = exc.task
    try:
        with transaction.atomic():
            approval = EventApproval.objects.create(
                event_id=event_id,
                kind=kind,
                task=ref_task,
                payload=_json_safe(data),
                source=source,
                reasons=exc.reasons,
                **text_columns("message", exc.text, 500),
                requested_by=by if getattr(by, "is_authenticated", False) else None,
            )
            emit(
                "execution.event.held",
                {"approval_id": approval.pk, "task_id": ref_task.pk, "reasons": exc.reasons},
            )
    except IntegrityError:
        approval = EventApproval.objects.get(event_id=event_id)
    return EventResult(event_id, "held", 202, approval=approval)


def _record(
    event_id: str,
    kind: str,
    data: dict,
    by,
    source: str,
    *,
    approved: bool = False,
    seen_check: bool = False,
) -> EventResult:
    now = timezone.now()
    look = DbLookup(event_id=event_id, user=by, now=now) if seen_check else DbLookup()
    c = event_validate(event_id, kind, data, by, look, now, approved=approved, source=source)
    task, order, occurred, operator, equipment = (
        c.task,
        c.task.order,
        c.occurred,
        c.operator,
        c.equipment,
    )
    good, scrap = c.good, c.scrap
    _allowed, target = TRANSITIONS[kind]
    event = ProductionEvent(
        event_id=event_id,
        kind=kind,
        task=task,
        order=order,
        operation=task.operation,
        operator=operator,
        # The task's machine by id: not loaded with the task, and not needed as an object.
        equipment_id=equipment.pk if equipment is not None else task.equipment_id,
        quantity_good=good,
        quantity_scrap=scrap,
        reason=c.reason[:200],
        trace_code=c.trace_code[:100],
        unit=c.unit,
        lot=c.lot,
        occurred_at=occurred,
        source=source,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    task_fields = {}
    if target:
        task_fields["status"] = target
    if kind == ProductionEvent.Kind.START:
        task_fields["started_at"] = task.started_at or occurred
        if operator and task.operator_id is None:
            task_fields["operator"] = operator
        if equipment:
            task_fields["equipment"] = equipment
    if kind == ProductionEvent.Kind.PAUSE:
        # An operator's reason, kept as given (no message id: core/texts.py).
        task_fields.update(pause_reason=c.reason[:200], pause_reason_id="", pause_reason_params={})
    if kind == ProductionEvent.Kind.RESUME:
        task_fields.update(pause_reason="", pause_reason_id="", pause_reason_params={})
    if kind == ProductionEvent.Kind.COMPLETE:
        task_fields["ended_at"] = occurred
    if good or scrap:
        task_fields["quantity_good"] = F("quantity_good") + good
        task_fields["quantity_scrap"] = F("quantity_scrap") + scrap
    # The log is append-only: nothing in ProductionEvent.save to run. A report changes only
    # the task's counters: added in the event's own statement where the database can.
    # A plain report (the bulk of the log) writes everything in the event's own statement:
    # the task's counters, its operation's and (on the last operation) its order's, in the
    # lock order (task, operation, order), and the outbox row.
    reported_along = (
        set(task_fields) == {"quantity_good", "quantity_scrap"} and good >= 0 and scrap >= 0
    )
    if reported_along:
        on_order = task.operation.sequence == look.last_sequence(task)
        row_insert(
            event,
            along=[
                counter_add_statement(Task, task.pk, good, scrap, good_field="quantity_good"),
                *quantities_post_statements(
                    operation_id=task.operation_id,
                    order_id=order.pk if on_order else None,
                    good=good,
                    scrap=scrap,
                ),
                *emit_along(
                    EVENTS_RECORDED,
                    {"events": [_event_payload(event_id, kind, c, event.trace_code)]},
                ),
            ],
        )
    else:
        row_insert(event)
        if set(task_fields) == {"quantity_good", "quantity_scrap"}:
            counters_add(Task, {task.pk: (good, scrap)}, good_field="quantity_good", lock=False)
        elif task_fields:
            Task.objects.filter(pk=task.pk).update(**task_fields)

    op_status: dict = {}
    if kind == ProductionEvent.Kind.START and task.operation.status not in (
        OrderOperation.Status.IN_PROGRESS,
    ):
        op_status["status"] = OrderOperation.Status.IN_PROGRESS
        op_status["actual_start"] = task.operation.actual_start or occurred
        op_status["equipment"] = equipment
    if kind == ProductionEvent.Kind.PAUSE:
        op_status["status"] = OrderOperation.Status.PAUSED
    if kind == ProductionEvent.Kind.RESUME:
        op_status["status"] = OrderOperation.Status.IN_PROGRESS
    if kind == ProductionEvent.Kind.COMPLETE:
        op_status["status"] = OrderOperation.Status.DONE
        op_status["actual_end"] = occurred
    if op_status:
        operation_status_post(operation_id=task.operation_id, event_id=event_id, **op_status)

    # The task's row is locked (event_validate); planning locks the operation, then the order.
    if (good or scrap) and not reported_along:
        on_order = task.operation.sequence == look.last_sequence(task)
        quantities_post(
            operations={task.operation_id: (good, scrap)},
            orders={order.pk: (good, scrap)} if on_order else None,
        )
    if kind == ProductionEvent.Kind.START and order.status == ProductionOrder.Status.RELEASED:
        # Lock the order and look again: two tasks of one order starting at the same time
        # both read "released", and the second start would be refused as a conflict.
        current = ProductionOrder.objects.select_for_update().only("status").get(pk=order.pk)
        if current.status == ProductionOrder.Status.RELEASED:
            production_order_start(order=order, by=by)
    if good > 0 or kind == ProductionEvent.Kind.COMPLETE:
        # The next operation can begin on what this one has made (a transfer batch).
        _ready_next(look.rows[task.pk])
    if kind in (ProductionEvent.Kind.PAUSE, ProductionEvent.Kind.COMPLETE):
        _labour_close(task, operator, occurred)
    if kind == ProductionEvent.Kind.COMPLETE:
        # Lock the order before looking for open tasks: the last two tasks completing at
        # the same time would each still see the other open, and neither would complete it.
        locked = ProductionOrder.objects.select_for_update(no_key=True).get(pk=order.pk)
        if not Task.objects.filter(order=order, status__in=Task.OPEN).exists():
            production_order_complete(order=locked, by=by)
    if not reported_along:
        emit(
            EVENTS_RECORDED,
            {"events": [_event_payload(event_id, kind, c, event.trace_code)]},
            dispatch_on_commit=False,
        )
    return EventResult(event_id, "accepted", 201, event=event)


def _ready_next(row: TaskRow) -> None:
    """The task of the next operation (read with the task's row) becomes ready if queued."""
    if row.next_task_id is not None and row.next_status == Task.Status.QUEUED:
        Task.objects.filter(pk=row.next_task_id, status=Task.Status.QUEUED).update(
            status=Task.Status.READY
        )
        operations_ready(operation_ids=[row.next_operation_id])


def events_record(
    *, items: list[dict], by=None, source: str = ProductionEvent.Source.API
) -> list[EventResult]:
    """A batch: each event on its own, in order; one bad event does not stop the others.

    The answers are those `event_record` would give one after the other; reports on running
    tasks take the set-based path (see `ingest.py`)."""
    # Cycle: execution.services.ingest imports this module (it builds on event_record).
    from .ingest import events_ingest

    return events_ingest(items=items, by=by, source=source)


# --- gates: downstream apps may refuse an event (the quality gate registers here) --------

_gate_checks: list = []
_batch_safe_gates: set = set()


def gate_register(fn=None, *, batch_safe: bool = False):
    """Register `fn(*, task, kind, unit, lot)` that raises StateConflict to refuse an event.

    Usable as `@gate_register` or `gate_register(fn, batch_safe=True)`. A batch takes its
    reports through the set-based path, where the log and the counters change only at the
    end of each run of reports. A gate may say `batch_safe=True` (and is then asked there
    too, event by event) if it reads neither, or if what it reads of them can only make it
    stricter while the run's own events are missing: a refusal of an event whose unit or lot
    appeared earlier in the run is then asked again alone, after the run is written. While
    any gate that is not batch-safe is registered, every event goes one at a time."""

    def register(check):
        if check not in _gate_checks:
            _gate_checks.append(check)
        if batch_safe:
            _batch_safe_gates.add(check)
        else:
            _batch_safe_gates.discard(check)
        return check

    return register if fn is None else register(fn)


def gate_checks() -> list:
    return list(_gate_checks)


def gates_batch_safe() -> bool:
    """Whether every registered gate may be asked inside a batch."""
    return all(check in _batch_safe_gates for check in _gate_checks)

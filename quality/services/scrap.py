"""What a scrap disposition moves on the counters, and what a correction of a scrapped record
moves back.

- A scrap disposition moves what it scraps from good to scrap on the counters of the
  inspected operation: its task (quantity_good → quantity_scrap), the order operation
  (quantity_done → quantity_scrap) and, when that operation is the order's last, the order
  (quantity_done → quantity_scrap). What it scraps is 1 for a unit; for a lot, the lot's
  quantity in the order: the good reported for the lot at the inspected operation, else at
  the latest earlier operation that reported it (what came to the inspection). What moves is
  capped at what was reported good for that unit or lot at the inspected operation (the
  counters hold what was reported, nothing else; a unit reported as scrap by the operator,
  or not reported there yet, moves nothing) and at each counter, so none goes negative; a
  unit or lot already scrapped at that operation by an earlier record moves nothing again.
  The disposition keeps what moved and on which task and order (``quantity_moved``,
  ``moved_task``, ``moved_order``), written with the counters; its audit entry says what
  was scrapped, what moved and why any less. Rework and use as is change no counters (their
  ``quantity_moved`` stays blank).
- A correction of a scrapped record (whatever the correction says) ends that scrap: the
  scrapped record is no longer current, so the gate no longer holds the unit or lot as
  scrapped, and the counters follow — what the scrap moved goes back from scrap to good, on
  the same counters, as the disposition keeps it (recomputing it from today's events could
  give another figure) and capped at each counter's scrap. It happens once per scrap (the
  disposition's ``moved_back_at`` and ``quantity_moved_back``, written with the counters,
  mark it moved back; an ``inspection.scrap_reverse`` audit entry records it) and only when
  no other current record of the unit or lot at that operation is still scrapped: while one
  is, the counters keep it as scrap and the scraps moved back later, when the last of them
  is corrected. A correction that fails takes its own disposition; a scrap then posts
  again. (A scrap posted before dispositions kept these took them from its audit entries;
  where those could not be read, what it moved is not known and nothing moves back for it.)
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone

from core.audit import audit_record
from core.events import emit
from core.formatting import quantity_format
from execution.models import ProductionEvent, Task
from execution.services.counters import task_lock, task_quantities_post
from planning.models import OrderOperation
from planning.services.quantities import operation_lock, order_lock, quantities_post

from ..models import Disposition, InspectionRecord
from ..selectors.inspections import target_code

SCRAP_REVERSED = "inspection.scrap_reverse"
SCRAP_KEPT = "inspection.scrap_kept"


@dataclass
class ScrapPosting:
    """What one scrap disposition of a unit or lot at an operation moved on the counters,
    as the disposition keeps it."""

    disposition: Disposition
    current: bool  # its record is not corrected: the scrap stands

    @property
    def record_id(self) -> int:
        return self.disposition.record_id

    @property
    def moved(self) -> Decimal | None:
        """None: not known (a scrap posted before dispositions kept it, whose audit entry
        could not be read)."""
        return self.disposition.quantity_moved

    @property
    def task_id(self) -> int | None:
        return self.disposition.moved_task_id

    @property
    def order_id(self) -> int | None:
        return self.disposition.moved_order_id

    @property
    def reversed(self) -> bool:
        """Moved back by a correction."""
        return self.disposition.moved_back_at is not None

    @property
    def on_counters(self) -> bool:
        """What it moved may still be on the counters (unknown counts as may)."""
        return not self.reversed and (self.moved is None or self.moved > 0)


def _scrap_postings(record: InspectionRecord) -> list[ScrapPosting]:
    """Every scrap disposition of the record's unit or lot at its operation (this record's
    own included), oldest record first. One query. Read it under the counter locks: a
    disposition or correction of another record of the same unit commits before or after."""
    target = (
        {"record__unit_id": record.unit_id} if record.unit_id else {"record__lot_id": record.lot_id}
    )
    dispositions = (
        Disposition.objects.filter(
            decision=Disposition.Decision.SCRAP, record__operation_id=record.operation_id, **target
        )
        .annotate(correction_id=F("record__corrected_by__id"))
        .order_by("record_id")
    )
    return [ScrapPosting(d, current=d.correction_id is None) for d in dispositions]


def _counters_lock(record: InspectionRecord) -> tuple[Task | None, OrderOperation, bool]:
    """Lock the inspected operation's task and operation; also says whether the operation
    is the order's last (whose counters the order's follow)."""
    # Lock in the order the production events take them: task → operation → order.
    task = task_lock(operation_id=record.operation_id)
    operation = operation_lock(operation_id=record.operation_id)
    last_sequence = max(
        OrderOperation.objects.filter(order_id=record.order_id).values_list("sequence", flat=True)
    )
    return task, operation, operation.sequence == last_sequence


def scrap_post(*, record: InspectionRecord, disposition: Disposition) -> dict:
    """Move a scrapped unit or lot from good to scrap on the inspected operation's task and
    operation, and on the order when that operation is its last (see the module docstring),
    and keep on the `disposition` what moved and where. Returns what was scrapped and moved,
    for the audit trail."""
    task, operation, last = _counters_lock(record)
    order = order_lock(order_id=record.order_id) if last else None
    target = {"unit_id": record.unit_id} if record.unit_id else {"lot_id": record.lot_id}
    code = target_code(record)
    events = ProductionEvent.objects.filter(order_id=record.order_id, **target)
    reported_here = events.filter(operation_id=record.operation_id).aggregate(
        good=Sum("quantity_good")
    )["good"] or Decimal(0)
    if record.unit_id:
        quantity = Decimal(1)
    else:
        quantity = reported_here
        if not quantity:
            earlier = (
                events.filter(operation__sequence__lt=operation.sequence)
                .values("operation__sequence")
                .annotate(good=Sum("quantity_good"))
                .filter(good__gt=0)
                .order_by("-operation__sequence")
                .first()
            )
            quantity = earlier["good"] if earlier else Decimal(0)
    # Already scrapped here: by a scrap that stands, or by one whose record was corrected
    # but whose move is still on the counters (another scrap stood when it was corrected —
    # it goes back when the last standing one is corrected). A corrected scrap that was
    # moved back no longer counts: the unit was good again, and this scrap posts anew.
    already = next(
        (
            p
            for p in _scrap_postings(record)
            if p.record_id != record.pk and (p.current or p.on_counters)
        ),
        None,
    )
    where = f"operation {operation.sequence}"
    if already is not None:
        moved = Decimal(0)
        if already.current:
            note = (
                f"{code} was already scrapped at {where} (record {already.record_id}); "
                "nothing moved again."
            )
        else:
            note = (
                f"{code} is still counted as scrap at {where} from record "
                f"{already.record_id}; nothing moved again."
            )
    else:
        caps = [quantity, reported_here, operation.quantity_done]
        if task is not None:
            caps.append(task.quantity_good)
        if order is not None:
            caps.append(order.quantity_done)
        moved = max(min(caps), Decimal(0))
        if quantity <= 0:
            # A lot with no good reported in the order: nothing is known to move.
            note = f"{code}: no good quantity of it is reported in the order; nothing moved."
        elif moved == quantity:
            note = f"{code}: {quantity_format(moved)} moved from good to scrap at {where}."
        elif reported_here < quantity:
            note = (
                f"{code}: {quantity_format(quantity)} scrapped, but only {quantity_format(reported_here)} "
                f"was reported good at {where}; {quantity_format(moved)} moved from good to scrap."
            )
        else:
            note = (
                f"{code}: {quantity_format(quantity)} scrapped, but the counters of {where} held "
                f"only {quantity_format(moved)} good; {quantity_format(moved)} moved from good to scrap."
            )
    if moved > 0:
        if task is not None:
            task_quantities_post(tasks={task.pk: (-moved, moved)})
        quantities_post(
            operations={operation.pk: (-moved, moved)},
            orders={order.pk: (-moved, moved)} if order is not None else None,
        )
    # Under the counter locks, with the counters: what a correction moves back.
    disposition.quantity_moved = moved
    disposition.moved_task = task
    disposition.moved_order = order
    disposition.save(update_fields=["quantity_moved", "moved_task", "moved_order"])
    return {
        # As people write them: the database gives the column's scale (50.0000).
        "quantity": quantity_format(quantity),
        "reported_good": quantity_format(reported_here),
        "moved": quantity_format(moved),
        "task_id": task.pk if task is not None else None,
        "operation_id": operation.pk,
        "order_id": order.pk if order is not None else None,
        "note": note,
    }


def scrap_reverse(*, record: InspectionRecord, correction: InspectionRecord, by) -> Decimal:
    """The scrapped `record` was corrected by `correction`: move what its scrap moved back
    from scrap to good (see the module docstring), unless another current record of the unit
    or lot at the operation is still scrapped. Audited on each disposition concerned;
    returns what moved back."""
    task, operation, _last = _counters_lock(record)
    postings = _scrap_postings(record)
    own = next(p for p in postings if p.record_id == record.pk)
    code = target_code(record)
    where = f"operation {operation.sequence}"
    standing = next((p for p in postings if p.current and p.record_id != record.pk), None)
    event = {
        "record_id": record.pk,
        "correction_id": correction.pk,
        "unit_id": record.unit_id,
        "lot_id": record.lot_id,
        "operation_id": operation.pk,
    }
    if standing is not None:
        # The gate still holds it as scrapped (status_of): so do the counters.
        audit_record(
            actor=by,
            action=SCRAP_KEPT,
            obj=own.disposition,
            data={
                "record_id": record.pk,
                "correction_id": correction.pk,
                "standing_record_id": standing.record_id,
                "note": (
                    f"{code}: record {record.pk} was corrected by record {correction.pk}, but "
                    f"record {standing.record_id} still scraps it at {where}; the counters "
                    "keep it as scrap."
                ),
            },
        )
        emit(
            "quality.scrap.reversed",
            {**event, "quantity_returned": "0", "standing_record_id": standing.record_id},
            dispatch_on_commit=False,
        )
        return Decimal(0)
    to_reverse = [p for p in postings if not p.reversed]
    order = None
    if any(p.order_id == record.order_id for p in to_reverse):
        order = order_lock(order_id=record.order_id)
    # What each counter holds as scrap: no move back takes it below zero.
    room = {
        "task": task.quantity_scrap if task is not None else Decimal(0),
        "operation": operation.quantity_scrap,
        "order": order.quantity_scrap if order is not None else Decimal(0),
    }
    back_on = {"task": Decimal(0), "operation": Decimal(0), "order": Decimal(0)}
    now = timezone.now()
    for p in to_reverse:
        on = ["operation"]
        if task is not None and p.task_id == task.pk:
            on.append("task")
        if order is not None and p.order_id == order.pk:
            on.append("order")
        moved = p.moved if p.moved is not None else Decimal(0)
        back = max(min([moved] + [room[c] for c in on]), Decimal(0))
        for counter in on:
            room[counter] -= back
            back_on[counter] += back
        why = (
            f"record {record.pk} was corrected by record {correction.pk}"
            if p.record_id == record.pk
            else (
                f"record {p.record_id} was corrected earlier, but its scrap stayed on the "
                f"counters while record {record.pk} still scrapped it; record {record.pk} was "
                f"corrected by record {correction.pk}"
            )
        )
        if p.moved is None:
            note = (
                f"{code}: {why}; what the scrap of record {p.record_id} moved is not known (it "
                "was not in the audit trail when dispositions began to keep it), so nothing "
                f"moved back: check the counters of {where}."
            )
        elif moved == 0:
            note = f"{code}: {why}; its scrap moved nothing at {where}, so nothing moved back."
        elif back == moved:
            note = (
                f"{code}: {why}; {quantity_format(back)} moved back from scrap to good at {where}."
            )
        else:
            note = (
                f"{code}: {why}; its scrap moved {quantity_format(moved)}, but the counters of "
                f"{where} held only {quantity_format(back)} scrap; {quantity_format(back)} moved back "
                "from scrap to good."
            )
        audit_record(
            actor=by,
            action=SCRAP_REVERSED,
            obj=p.disposition,
            data={
                "record_id": p.record_id,
                "correction_id": correction.pk,
                "moved": None if p.moved is None else quantity_format(p.moved),
                "moved_back": quantity_format(back),
                "task_id": task.pk if "task" in on else None,
                "operation_id": operation.pk,
                "order_id": order.pk if "order" in on else None,
                "note": note,
            },
        )
        # Under the counter locks, with the counters: marks it moved back for good.
        p.disposition.moved_back_at = now
        p.disposition.quantity_moved_back = back
        p.disposition.save(update_fields=["moved_back_at", "quantity_moved_back"])
    if back_on["task"] > 0:
        task_quantities_post(tasks={task.pk: (back_on["task"], -back_on["task"])})
    quantities_post(
        operations={operation.pk: (back_on["operation"], -back_on["operation"])},
        orders={order.pk: (back_on["order"], -back_on["order"])} if order is not None else None,
    )
    emit(
        "quality.scrap.reversed",
        {
            **event,
            "quantity_returned": quantity_format(back_on["operation"]),
            "standing_record_id": None,
        },
        dispatch_on_commit=False,
    )
    return back_on["operation"]

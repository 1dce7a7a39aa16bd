"""An order operation's state as the shop floor moves it: ready when work may begin, in
progress, paused, done, blocked by an exception and released again, the machine it runs
on. Execution reports these through here (planning owns the table); the counters of what
was made are in `quantities.py`.

Each function is one UPDATE (the row's lock), inside the caller's transaction; a caller
that also holds the operation's task locks the task first (see `quantities.py`).
"""

from collections.abc import Iterable
from datetime import datetime

from core.events import emit
from resources.models import Equipment

from ..models import OrderOperation


def operations_ready(*, operation_ids: Iterable[int]) -> int:
    """Pending operations become ready (their task may start: the previous operation has
    made something, or the order was released). Others are left as they are; returns how
    many changed."""
    return OrderOperation.objects.filter(
        pk__in=list(operation_ids), status=OrderOperation.Status.PENDING
    ).update(status=OrderOperation.Status.READY)


def operation_status_post(
    *,
    operation_id: int,
    status: str,
    actual_start: datetime | None = None,
    actual_end: datetime | None = None,
    equipment: Equipment | None = None,
    event_id: str = "",
) -> None:
    """Record what the shop floor did to an operation: its new status and, where given, when
    it actually started or ended and on which machine (`event_id`: the shop floor's event
    that did it, named in the domain event).

    The operation's first start and its completion are domain events
    (`planning.operation.started`, `planning.operation.completed`), recorded once: the
    UPDATE that makes the change finds the row not yet started (not yet done); a later
    resume, or a repeat, finds it changed already and announces nothing."""
    fields: dict = {"status": status}
    if actual_start is not None:
        fields["actual_start"] = actual_start
    if actual_end is not None:
        fields["actual_end"] = actual_end
    if equipment is not None:
        fields["equipment"] = equipment
    rows = OrderOperation.objects.filter(pk=operation_id)
    starts = status == OrderOperation.Status.IN_PROGRESS and actual_start is not None
    if starts and rows.filter(actual_start__isnull=True).update(**fields):
        topic = "planning.operation.started"
    elif status == OrderOperation.Status.DONE and rows.exclude(status=status).update(**fields):
        topic = "planning.operation.completed"
    else:
        rows.update(**fields)
        return
    operation = rows.values(
        "order_id",
        "sequence",
        "name",
        "work_center__code",
        "equipment__code",
        "actual_start",
        "actual_end",
    ).get()
    payload = {
        "operation_id": operation_id,
        "order_id": operation["order_id"],
        "sequence": operation["sequence"],
        "name": operation["name"],
        "work_center": operation["work_center__code"],
        "equipment": operation["equipment__code"],
        "event_id": event_id or None,
    }
    if topic == "planning.operation.started":
        payload["started_at"] = operation["actual_start"].isoformat()
    else:
        ended = operation["actual_end"]
        payload["ended_at"] = ended.isoformat() if ended else None
    emit(topic, payload)


def operations_block(*, operation_ids: Iterable[int], until: datetime) -> None:
    """An exception stops these operations (those not done): blocked, and the scheduler keeps
    them after `until`."""
    OrderOperation.objects.filter(pk__in=list(operation_ids)).exclude(
        status=OrderOperation.Status.DONE
    ).update(status=OrderOperation.Status.BLOCKED, blocked_until=until)


def operation_unblock(*, operation_id: int, status: str) -> None:
    """The exception that blocked the operation is over: it takes `status` again (ready,
    pending or paused, as its task does) and no longer waits."""
    OrderOperation.objects.filter(pk=operation_id).update(status=status, blocked_until=None)


def operation_equipment_set(
    *, operation: OrderOperation, equipment: Equipment, eligible: bool = False
) -> None:
    """Run the operation on `equipment` (a dispatch decision, or a move to a backup machine);
    with `eligible`, the machine is also added to those the operation may run on."""
    if eligible:
        operation.eligible_equipment.add(equipment)
    OrderOperation.objects.filter(pk=operation.pk).update(equipment=equipment)

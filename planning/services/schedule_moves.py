"""A planner's move on the Gantt: an operation dragged to another machine or time is pinned
there (frozen), after the scheduler's own checks, and the rest of the plan is rescheduled
around it.

The checks are those the engine applies to a fixed operation (planning/engines/scheduling):
the machine may run the operation (one of its eligible machines, or of its work center when
none is named); every part lies inside one working interval of the machine's work center
(the engine never splits work across a break), outside the machine's maintenance windows,
not in the past, and not over another pinned or running operation on that machine; it starts
no earlier than a pinned or running operation before it in the routing ends, and ends no
later than a pinned operation after it starts. Anything else (unpinned work in the way, the
operations before and after it) the rescheduling moves.

The move rewrites the latest schedule's rows of that operation: they are what a frozen
operation keeps on the next run (planning/selectors/schedule.py) and what the Gantt draws.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.exceptions import StateConflict
from resources.engines.calendar import intervals_merge
from resources.models import Equipment, MaintenanceWindow
from resources.selectors.calendar import plant_time_zone, work_center_working_intervals

from ..models import OrderOperation, ProductionOrder, ScheduleAssignment, ScheduleRun
from .schedule import schedule_run_start

MOVABLE_OPERATIONS = (OrderOperation.Status.PENDING, OrderOperation.Status.READY)
MOVABLE_ORDERS = (
    ProductionOrder.Status.PLANNED,
    ProductionOrder.Status.RELEASED,
    ProductionOrder.Status.IN_PROGRESS,
)
RUNNING = (OrderOperation.Status.IN_PROGRESS, OrderOperation.Status.PAUSED)


class MoveRefused(StateConflict):
    """A move the scheduler's checks refuse; `field` names what is wrong (machine or start)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _local(at: datetime) -> str:
    return timezone.localtime(at, plant_time_zone()).strftime("%m-%d %H:%M")


def _eligible(operation: OrderOperation) -> list[Equipment]:
    named = list(operation.eligible_equipment.all())
    return named or list(Equipment.objects.filter(work_center_id=operation.work_center_id))


def _pinned_or_running(machine: Equipment, run: ScheduleRun, exclude_op: int):
    """(label, start, end) of what the rescheduling may not move on `machine`."""
    rows = (
        ScheduleAssignment.objects.filter(run=run, equipment=machine)
        .exclude(operation_id=exclude_op)
        .filter(operation__frozen=True)
        .select_related("operation__order")
    )
    held = [(f"{a.operation.order.number}/{a.operation.sequence}", a.start, a.end) for a in rows]
    running = (
        ScheduleAssignment.objects.filter(run=run, equipment=machine, operation__status__in=RUNNING)
        .exclude(operation_id=exclude_op)
        .select_related("operation__order")
    )
    held += [
        (f"{a.operation.order.number}/{a.operation.sequence}", a.start, a.end) for a in running
    ]
    return held


def operation_move(
    *, operation: OrderOperation, machine: Equipment, start: datetime, by=None, reschedule=True
) -> tuple[OrderOperation, ScheduleRun | None]:
    """Pin `operation` on `machine` from `start` (its parts keep their lengths and gaps) and
    queue a rescheduling of the rest. Refused (MoveRefused naming the field, nothing written)
    when the scheduler's checks fail. Returns the operation and the queued run."""
    with transaction.atomic():
        operation = (
            OrderOperation.objects.select_for_update()
            .select_related("order", "work_center")
            .get(pk=operation.pk)
        )
        if operation.status not in MOVABLE_OPERATIONS:
            raise MoveRefused(
                "operation",
                f"{operation.order.number}/{operation.sequence} is {operation.get_status_display().lower()}; "
                "only work not yet started can be moved.",
            )
        if operation.order.status not in MOVABLE_ORDERS:
            raise MoveRefused(
                "operation",
                f"Order {operation.order.number} is {operation.order.get_status_display().lower()}; "
                "only open orders can be moved.",
            )
        latest = ScheduleRun.objects.filter(status=ScheduleRun.Status.DONE).order_by("-pk").first()
        parts = (
            list(
                ScheduleAssignment.objects.filter(run=latest, operation=operation).order_by("part")
            )
            if latest
            else []
        )
        if not parts:
            raise MoveRefused(
                "operation",
                f"{operation.order.number}/{operation.sequence} is not in the latest schedule; "
                "run the schedule first.",
            )
        if machine.pk not in {m.pk for m in _eligible(operation)}:
            raise MoveRefused(
                "machine",
                f"{machine.code} cannot run {operation.order.number}/{operation.sequence} "
                f"({operation.name}); choose one of: "
                + ", ".join(m.code for m in _eligible(operation))
                + ".",
            )
        start = start.replace(second=0, microsecond=0)
        now = timezone.now()
        if start < now:
            raise MoveRefused("start", f"{_local(start)} is in the past; move it to a later time.")
        shift = start - parts[0].start
        from_machine = parts[0].equipment_id
        moved = [
            (
                a,
                machine.pk if a.equipment_id == from_machine else a.equipment_id,
                a.start + shift,
                a.end + shift,
            )
            for a in parts
        ]
        _check_calendar(operation, machine, moved)
        _check_pinned(operation, latest, moved)
        _check_routing(operation, latest, moved)
        for a, machine_id, s, e in moved:
            a.equipment_id, a.start, a.end = machine_id, s, e
        ScheduleAssignment.objects.bulk_update(parts, ["equipment", "start", "end"])
        before = {
            "machine": operation.equipment.code if operation.equipment_id else None,
            "start": operation.planned_start.isoformat() if operation.planned_start else None,
        }
        operation.equipment_id = moved[0][1]
        operation.planned_start = min(s for _a, _m, s, _e in moved)
        operation.planned_end = max(e for _a, _m, _s, e in moved)
        operation.frozen = True
        operation.save(update_fields=["equipment", "planned_start", "planned_end", "frozen"])
        audit_record(
            actor=by,
            action="operation.move",
            obj=operation,
            data={
                "before": before,
                "after": {"machine": machine.code, "start": operation.planned_start.isoformat()},
            },
        )
        run = schedule_run_start(by=by) if reschedule else None
    return operation, run


def _check_calendar(operation, machine: Equipment, moved) -> None:
    first = min(s for _a, _m, s, _e in moved)
    last = max(e for _a, _m, _s, e in moved)
    machines = {m.pk: m for m in Equipment.objects.filter(pk__in={m for _a, m, _s, _e in moved})}
    intervals = {}
    for _a, machine_id, s, e in moved:
        m = machines[machine_id]
        if m.work_center_id not in intervals:
            intervals[m.work_center_id] = intervals_merge(
                work_center_working_intervals(
                    m.work_center, first - timedelta(days=1), last + timedelta(days=1)
                )
            )
        if not any(ws <= s and e <= we for ws, we in intervals[m.work_center_id]):
            raise MoveRefused(
                "start",
                f"{_local(s)}–{_local(e)} is not inside one shift of {m.code}; "
                "the work may not cross a break or run outside the shifts.",
            )
        window = MaintenanceWindow.objects.filter(equipment_id=machine_id, start__lt=e, end__gt=s)
        for w in window[:1]:
            raise MoveRefused(
                "start",
                f"{m.code} is in maintenance {_local(w.start)}–{_local(w.end)}.",
            )


def _span(latest: ScheduleRun, other: OrderOperation) -> tuple[datetime | None, datetime | None]:
    """Where the latest schedule has `other` (its parts' first start and last end), else its
    planned interval."""
    parts = list(ScheduleAssignment.objects.filter(run=latest, operation=other))
    if parts:
        return min(a.start for a in parts), max(a.end for a in parts)
    return other.planned_start, other.planned_end


def _check_pinned(operation, latest: ScheduleRun, moved) -> None:
    by_machine: dict[int, list] = {}
    for _a, machine_id, s, e in moved:
        if machine_id not in by_machine:
            machine = Equipment.objects.get(pk=machine_id)
            by_machine[machine_id] = (machine, _pinned_or_running(machine, latest, operation.pk))
        machine, held = by_machine[machine_id]
        for label, hs, he in held:
            if hs < e and s < he:
                raise MoveRefused(
                    "start",
                    f"{machine.code} is held {_local(hs)}–{_local(he)} by {label} "
                    "(pinned or running); choose another time or machine.",
                )


def _check_routing(operation, latest: ScheduleRun, moved) -> None:
    first = min(s for _a, _m, s, _e in moved)
    last = max(e for _a, _m, _s, e in moved)
    siblings = OrderOperation.objects.filter(order_id=operation.order_id).exclude(pk=operation.pk)
    for other in siblings.filter(sequence__lt=operation.sequence):
        if other.status in RUNNING or other.frozen:
            _s, end = _span(latest, other)
            if end and end > first:
                raise MoveRefused(
                    "start",
                    f"Operation {other.sequence} ({other.name}) before it ends at "
                    f"{_local(end)}; start after that.",
                )
    for other in siblings.filter(sequence__gt=operation.sequence, frozen=True):
        begin, _e = _span(latest, other)
        if begin and begin < last:
            raise MoveRefused(
                "start",
                f"Operation {other.sequence} ({other.name}) after it is pinned at "
                f"{_local(begin)}; this move would end after that.",
            )

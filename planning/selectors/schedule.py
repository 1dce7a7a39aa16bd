"""Schedule runs and what they placed: the Schedule page and the machine Gantt."""

from datetime import datetime

from django.db.models import QuerySet

from resources.models import Equipment

from ..models import OrderOperation, ScheduleAssignment, ScheduleRun


def schedule_runs_recent(count: int = 10) -> list[ScheduleRun]:
    return list(ScheduleRun.objects.select_related("created_by")[:count])


def schedule_run_latest_done() -> ScheduleRun | None:
    return ScheduleRun.objects.filter(status=ScheduleRun.Status.DONE).order_by("-pk").first()


def gantt_machines() -> QuerySet[Equipment]:
    return Equipment.objects.select_related("work_center").order_by("code")


def gantt_bars(
    *, start: datetime, end: datetime, latest: ScheduleRun | None
) -> list[tuple[OrderOperation, int, datetime, datetime]]:
    """(operation, machine id, start, end) of what runs between `start` and `end`: the
    latest schedule's parts, or the operations' planned intervals when nothing is scheduled."""
    if latest is not None:
        # The latest schedule, part by part (an operation longer than a shift has several).
        return [
            (a.operation, a.equipment_id, a.start, a.end)
            for a in ScheduleAssignment.objects.filter(run=latest, start__lt=end, end__gt=start)
            .exclude(operation__status=OrderOperation.Status.CANCELLED)
            .select_related("operation__order")
            .order_by("start")
        ]
    return [
        (op, op.equipment_id, op.planned_start, op.planned_end)
        for op in OrderOperation.objects.filter(
            equipment__isnull=False, planned_start__lt=end, planned_end__gt=start
        )
        .exclude(status=OrderOperation.Status.CANCELLED)
        .select_related("order")
        .order_by("planned_start")
    ]

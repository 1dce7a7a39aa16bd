"""Reads of exceptions: the backup machines that may take a faulty machine's work, and the
open exceptions behind each order (lag reasons for the board and the roll-up)."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from core.homes import KpiValue
from planning.models import OrderOperation
from resources.models import Equipment
from resources.selectors.calendar import equipment_available_minutes

from ..models import Severity, Task, WorkAlert


def _remaining_minutes(task: Task) -> float:
    op = task.operation
    remaining = max(task.order.quantity - task.quantity_good - task.quantity_scrap, Decimal(0))
    setup = op.setup_minutes if task.quantity_good + task.quantity_scrap == 0 else Decimal(0)
    return float(setup + op.run_minutes_per_unit * remaining)


def backup_options(
    *, equipment: Equipment, tasks: list[Task], days: int = 7, order_id: int | None = None
) -> list[dict]:
    """Machines that may take the work of a faulty one, with their free capacity.

    Eligible: the operations' other eligible machines and the machine's named backup, not
    themselves in fault, maintenance or disconnected. Free capacity: available minutes over
    the next `days` days less the planned work on them. The wait is what is running on the
    backup now (the moved work goes next, ahead of work not started).
    """
    candidates: dict[int, Equipment] = {}
    for task in tasks:
        for m in task.operation.eligible_equipment.all():
            if m.pk != equipment.pk:
                candidates[m.pk] = m
    if equipment.backup_equipment_id:
        candidates[equipment.backup_equipment_id] = equipment.backup_equipment
    unavailable = (
        Equipment.Status.FAULT,
        Equipment.Status.MAINTENANCE,
        Equipment.Status.DISCONNECTED,
    )
    # The work that must move now: the order the fault was raised on, else all blocked work.
    urgent = [t for t in tasks if t.order_id == order_id] or tasks
    needed = sum(_remaining_minutes(t) for t in urgent)
    today = timezone.localdate()
    window_end = timezone.now() + timedelta(days=days)
    options = []
    for m in sorted(candidates.values(), key=lambda e: e.code):
        if m.status in unavailable:
            continue
        available = sum(
            equipment_available_minutes(m, today, today + timedelta(days=days - 1)).values()
        )
        planned = 0.0
        for op in (
            OrderOperation.objects.filter(
                equipment=m, planned_start__lt=window_end, planned_end__gt=timezone.now()
            )
            .exclude(status__in=(OrderOperation.Status.DONE, OrderOperation.Status.CANCELLED))
            .select_related("order")
        ):
            planned += float(op.duration_minutes())
        running = Task.objects.filter(equipment=m, status=Task.Status.RUNNING).select_related(
            "operation", "order"
        )
        wait = sum(_remaining_minutes(t) for t in running)
        options.append(
            {
                "equipment": m.code,
                "available_minutes": available,
                "planned_minutes": round(planned),
                "free_minutes": round(available - planned),
                "needed_minutes": round(needed),
                "wait_minutes": round(wait),
                "enough": available - planned >= needed,
            }
        )
    options.sort(key=lambda o: (not o["enough"], o["wait_minutes"], -o["free_minutes"]))
    return options


def alert_lag_reasons(*, order_ids: list[int]) -> dict[int, list[dict]]:
    """Open exceptions behind each order (for lag reasons on the board and in snapshots):
    those raised on the order and those blocking one of its tasks. Two queries."""
    open_ = (WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED)
    found: dict[int, dict[int, WorkAlert]] = {}
    for alert in WorkAlert.objects.filter(order_id__in=order_ids, status__in=open_):
        found.setdefault(alert.order_id, {})[alert.pk] = alert
    through = WorkAlert.blocked_tasks.through
    for alert_id, order_id in through.objects.filter(
        task__order_id__in=order_ids, workalert__status__in=open_
    ).values_list("workalert_id", "task__order_id"):
        found.setdefault(order_id, {}).setdefault(alert_id, None)
    missing = {a for rows in found.values() for a, v in rows.items() if v is None}
    loaded = WorkAlert.objects.in_bulk(missing) if missing else {}
    reasons: dict[int, list[dict]] = {}
    for order_id, rows in found.items():
        reasons[order_id] = [
            {
                "type": "exception",
                "text": f"{a.number} {a.get_severity_display().lower()} {a.get_alert_type_display().lower()}: {a.description_shown}"[
                    :200
                ],
                "ref": f"execution.workalert:{a.pk}",
            }
            for a in sorted((v or loaded[k] for k, v in rows.items()), key=lambda a: a.pk)
        ]
    return reasons


def open_alerts_by_severity() -> dict[str, int]:
    """How many exceptions are still open (open or acknowledged, not yet resolved), per
    severity: every severity present, 0 where none is open. One query."""
    counts = dict.fromkeys(Severity.values, 0)
    rows = (
        WorkAlert.objects.filter(status__in=(WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED))
        .order_by()
        .values_list("severity")
        .annotate(n=Count("id"))
    )
    for severity, n in rows:
        counts[severity] = n
    return counts


def open_alerts_kpi(today):
    """The plant manager's tile (core.homes): open exceptions by severity, severe first; red
    while a severe one is open, amber while an urgent one is, green when none is."""
    counts = open_alerts_by_severity()
    total = sum(counts.values())
    parts = [
        gettext("%(count)s %(severity)s")
        % {"count": counts[s], "severity": str(Severity(s).label).lower()}
        for s in reversed(Severity.values)
    ]
    status = "bad" if counts[Severity.SEVERE] else "warn" if counts[Severity.URGENT] else "good"
    return KpiValue(value=total, text=str(total), status=status, detail=" · ".join(parts))

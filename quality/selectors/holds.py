"""Reads of quality holds: the defect-rate rule and rate of an operation at a work center,
the active hold that stops a task and what it says, the tasks a hold stops (for the operator
terminal's notices and the hold's exception). What a hold stops is described in
quality/services/holds.py, which places and releases them."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from execution.models import Task
from planning.models import RoutingStep
from resources.models import WorkCenter

from ..models import DefectRateRule, InspectionRecord, QualityHold


def rule_for(*, routing_step: RoutingStep, work_center: WorkCenter) -> DefectRateRule | None:
    """The rule for this operation at this work center, else the work center's general one."""
    rules = list(
        DefectRateRule.objects.filter(work_center=work_center).filter(
            Q(routing_step=routing_step) | Q(routing_step__isnull=True)
        )
    )
    specific = [r for r in rules if r.routing_step_id == routing_step.pk]
    return (specific or rules or [None])[0]


def defect_rate(
    *, routing_step: RoutingStep, work_center: WorkCenter, window: int
) -> tuple[int, int]:
    """(failed, inspected) over the last `window` units or lots of the operation at the
    work center since its last hold was released (see quality/services/holds.py)."""
    records = InspectionRecord.objects.filter(
        work_center=work_center, plan__routing_step=routing_step, corrected_by__isnull=True
    )
    last_release = (
        QualityHold.objects.filter(
            routing_step=routing_step,
            work_center=work_center,
            status=QualityHold.Status.RELEASED,
        )
        .order_by("-released_at")
        .values_list("released_at", flat=True)
        .first()
    )
    if last_release is not None:
        records = records.filter(recorded_at__gt=last_release)
    # The last `window` distinct units or lots, newest first …
    recent: list[tuple] = []
    seen: set[tuple] = set()
    for unit_id, lot_id in records.order_by("-inspected_at", "-id").values_list(
        "unit_id", "lot_id"
    ):
        key = (unit_id, lot_id)
        if key not in seen:
            seen.add(key)
            recent.append(key)
            if len(recent) >= window:
                break
    if not recent:
        return 0, 0
    # … each with its first current result there (first pass).
    unit_ids = [u for u, _lot in recent if u is not None]
    lot_ids = [lot for u, lot in recent if u is None and lot is not None]
    first: dict[tuple, str] = {}
    for unit_id, lot_id, result in (
        records.filter(Q(unit_id__in=unit_ids) | Q(lot_id__in=lot_ids, unit__isnull=True))
        .order_by("inspected_at", "id")
        .values_list("unit_id", "lot_id", "result")
    ):
        first.setdefault((unit_id, lot_id), result)
    failed = sum(1 for key in recent if first.get(key) == InspectionRecord.Result.FAIL)
    return failed, len(recent)


def hold_message(hold: QualityHold) -> str:
    since = timezone.localtime(hold.placed_at)
    return _(
        "On quality hold since %(since)s: %(reason)s. A quality supervisor must release it "
        "(hold %(pk)s)."
    ) % {"since": f"{since:%Y-%m-%d %H:%M}", "reason": hold.reason_shown, "pk": hold.pk}


def _stopping(holds, task: Task) -> QualityHold | None:
    """Of active `holds` (ordered by step, newest first), the one that stops `task`: one on
    its own operation at its work center, or one on a later operation of the same routing
    at the same work center, unless that hold names another machine than the task's (see
    quality/services/holds.py)."""
    operation = task.operation
    routing_id = task.order.routing_id
    if not routing_id:
        return None
    machine = task.equipment_id or operation.equipment_id
    for hold in holds:
        step = hold.routing_step
        if (
            hold.work_center_id != operation.work_center_id
            or step.routing_id != routing_id
            or step.step_no < operation.sequence
        ):
            continue
        if step.step_no == operation.sequence:
            return hold
        if hold.equipment_id is None or machine is None or machine == hold.equipment_id:
            return hold
    return None


def _active_holds(**filters):
    return (
        QualityHold.objects.filter(status=QualityHold.Status.ACTIVE, **filters)
        .select_related("routing_step")
        .order_by("routing_step__step_no", "-placed_at")
    )


def active_hold_for(task: Task) -> QualityHold | None:
    """The active hold that stops `task`, if any."""
    if not task.order.routing_id:
        return None
    holds = _active_holds(
        work_center_id=task.operation.work_center_id,
        routing_step__routing_id=task.order.routing_id,
        routing_step__step_no__gte=task.operation.sequence,
    )
    return _stopping(holds, task)


def hold_stop_message(hold: QualityHold, task: Task) -> str:
    if hold.routing_step.step_no == task.operation.sequence:
        return hold_message(hold)
    return _(
        "%(hold)s Operation %(sequence)s made what operation %(step)s inspects, so it is held too."
    ) % {
        "hold": hold_message(hold),
        "sequence": task.operation.sequence,
        "step": hold.routing_step.step_no,
    }


def hold_task_notices(*, tasks: list[Task]) -> dict[int, list[str]]:
    """For the operator terminal: the tasks a quality hold stops, and why (one query for
    all the active holds). A running one is told to stop: its reports still count, but it
    may not resume once paused."""
    holds = list(_active_holds())
    if not holds:
        return {}
    notices = {}
    for task in tasks:
        hold = _stopping(holds, task)
        if hold is None:
            continue
        text = hold_stop_message(hold, task)
        if task.status == Task.Status.RUNNING:
            text += " Stop the work: once paused, it may not resume until the hold is released."
        notices[task.pk] = [text]
    return notices


def held_running_tasks(hold: QualityHold) -> list[Task]:
    """Tasks running when the hold was placed that it would not have let start: the
    supervisor is told to stop them (production events of running work are accepted)."""
    running = (
        Task.objects.filter(
            status=Task.Status.RUNNING,
            order__routing_id=hold.routing_step.routing_id,
            operation__work_center_id=hold.work_center_id,
            operation__sequence__lte=hold.routing_step.step_no,
        )
        .select_related("order", "operation", "equipment", "operator")
        .order_by("order__number", "operation__sequence")
    )
    return [task for task in running if _stopping((hold,), task) is not None]

"""Reads about shop-floor tasks: who may take an operation on which working day, and what an
operator should know about a task before acting on it (notices other apps register)."""

from datetime import date

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from planning.models import OrderOperation
from resources.models import Operator, OperatorSkill, ShiftAssignment, StockBalance
from resources.selectors.calendar import work_center_shift_day

from ..models import Task


def _on_shift(operator_ids: list[int], day: date) -> set[int]:
    on_shift = set()
    assignments = ShiftAssignment.objects.filter(
        operator_id__in=operator_ids, valid_from__lte=day
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
    for a in assignments.select_related("shift"):
        if day.isoweekday() in a.shift.weekday_set:
            on_shift.add(a.operator_id)
    return on_shift


def operation_crew_day(operation: OrderOperation) -> date:
    """The working day whose crew takes an operation: that of the shift at its planned start,
    or (not planned, or planned in the past) of the shift running now or next at its work
    center — so work released on a Sunday, a holiday or after the last shift goes to the next
    working day's crew rather than to nobody."""
    now = timezone.now()
    at = max(operation.planned_start, now) if operation.planned_start else now
    return work_center_shift_day(operation.work_center, at) or timezone.localtime(at).date()


def operator_candidates(*, operation: OrderOperation, day: date | None = None) -> list[dict]:
    """Operators who may do an operation on a day, best first.

    Only operators on shift that day qualify. With a required skill, only those holding it
    at the minimum level or above, experts first; without one, those whose home is the work
    center. Ties go to whoever has fewer open tasks.
    """
    if day is None:
        day = operation_crew_day(operation)
    operators = Operator.objects.filter(active=True)
    levels: dict[int, int] = {}
    if operation.required_skill_id:
        rows = OperatorSkill.objects.filter(
            skill_id=operation.required_skill_id,
            level__gte=operation.min_skill_level,
            operator__active=True,
        ).values_list("operator_id", "level")
        levels = dict(rows)
        operators = operators.filter(pk__in=levels)
    else:
        operators = operators.filter(home_work_center_id=operation.work_center_id)
    operators = list(
        operators.annotate(open_tasks=Count("tasks", filter=Q(tasks__status__in=Task.OPEN)))
    )
    on_shift = _on_shift([o.pk for o in operators], day)
    ranked = [
        {"operator": o, "level": levels.get(o.pk), "open_tasks": o.open_tasks}
        for o in operators
        if o.pk in on_shift
    ]
    ranked.sort(key=lambda c: (-(c["level"] or 0), c["open_tasks"], c["operator"].badge))
    return ranked


# --- notices on a task from other apps (a quality hold, …) ------------------------------

_notice_providers: list = []


def task_notice_register(fn):
    """Register `fn(*, tasks: list[Task]) -> {task_id: [text, …]}`: what an operator should
    know about a task before acting on it (quality registers its holds). Called for the
    tasks a terminal shows, so it must answer in a fixed number of queries."""
    if fn not in _notice_providers:
        _notice_providers.append(fn)
    return fn


def task_notices(tasks: list[Task]) -> dict[int, list[str]]:
    notices: dict[int, list[str]] = {}
    if not tasks:
        return notices
    for provider in _notice_providers:
        for task_id, texts in (provider(tasks=tasks) or {}).items():
            notices.setdefault(task_id, []).extend(str(t) for t in texts)
    return notices


LOTS_SHOWN = 5  # per material line on the terminal; the scan takes any lot


def lots_available(item_ids) -> dict[int, list[dict]]:
    """The lots of these items with stock on hand, per item, in the order to use them:
    first expiring first (FEFO), then oldest received first (FIFO); lots that never expire
    after those that do. Each: code, on hand (all locations), expiry date. One query."""
    rows = (
        StockBalance.objects.filter(item_id__in=set(item_ids), lot__isnull=False, on_hand__gt=0)
        .values("item_id", "lot__code", "lot__expires_on", "lot__created_at")
        .annotate(on_hand_total=Sum("on_hand"))
        .order_by(
            "item_id",
            F("lot__expires_on").asc(nulls_last=True),
            "lot__created_at",
            "lot__code",
        )
    )
    found: dict[int, list[dict]] = {}
    for row in rows:
        found.setdefault(row["item_id"], []).append(
            {
                "code": row["lot__code"],
                "on_hand": row["on_hand_total"],
                "expires_on": row["lot__expires_on"],
            }
        )
    return found

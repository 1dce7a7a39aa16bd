"""Shop-floor tasks: created on release, assigned to operators, dispatched to machines."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.texts import Text, choice, text_columns
from planning.models import OrderOperation, ProductionOrder
from planning.services.operations import operation_equipment_set, operations_ready
from planning.services.orders import on_transition
from resources.models import Equipment, Operator, OperatorSkill
from resources.selectors.calendar import equipment_available_minutes, work_center_shift_day

from ..models import DispatchDecision, Task
from ..selectors.tasks import operator_candidates
from .material import requirements_create

# Why the dispatcher chose (DispatchDecision.reason), kept as message ids and read in the
# reader's language (core/texts.py).
NO_READY_TASK = gettext_noop("No ready task.")
ONLY_HERE = gettext_noop("Task %(order)s/%(sequence)s can only run here")
LOADED_ELSEWHERE = gettext_noop(
    "Task %(order)s/%(sequence)s: its other machines are %(load)s%% loaded"
)
# Why a task has its operator (Task.assignment_note), read the same way.
NO_OPERATOR = gettext_noop("No qualified operator on shift: waiting for a supervisor.")
WHY_SKILL = gettext_noop("%(skill)s %(level)s")
WHY_HOME = gettext_noop("home work center %(work_center)s")
AUTO_ONE = gettext_noop("Auto: %(why)s, on shift, %(count)s open task")
AUTO_MANY = gettext_noop("Auto: %(why)s, on shift, %(count)s open tasks")
BY_SUPERVISOR = gettext_noop("Assigned by a supervisor")
SUPERVISOR_NOTE = gettext_noop("Supervisor: %(note)s")


def _assignment_note(text: Text) -> dict:
    """The fields that store an assignment note (English column, message id, parameters)."""
    return text_columns("assignment_note", text, 200)


@on_transition(ProductionOrder.Status.RELEASED)
def tasks_create_for_order(order: ProductionOrder, by=None) -> list[Task]:
    """Release hook: one task per open operation, operators assigned, material required."""
    operations = list(
        order.operations.exclude(
            status__in=(OrderOperation.Status.DONE, OrderOperation.Status.CANCELLED)
        )
        .select_related("required_skill", "work_center")
        .order_by("sequence")
    )
    existing = set(Task.objects.filter(order=order).values_list("operation_id", flat=True))
    tasks = Task.objects.bulk_create(
        [
            Task(
                operation=op,
                order=order,
                status=Task.Status.READY if index == 0 else Task.Status.QUEUED,
                equipment_id=op.equipment_id,
            )
            for index, op in enumerate(operations)
            if op.pk not in existing
        ]
    )
    if operations:
        operations_ready(operation_ids=[operations[0].pk])
    for task in tasks:
        task_auto_assign(task=task)
    requirements_create(order=order, by=by)
    emit("execution.tasks.created", {"order_id": order.pk, "tasks": [t.pk for t in tasks]})
    return tasks


@on_transition(ProductionOrder.Status.CANCELLED)
def tasks_cancel_for_order(order: ProductionOrder, by=None) -> None:
    Task.objects.filter(order=order, status__in=Task.OPEN).update(status=Task.Status.CANCELLED)


@on_transition(ProductionOrder.Status.COMPLETED)
def tasks_settle_for_completed_order(order: ProductionOrder, by=None) -> None:
    """An order completed by hand with work not done (with a reason, see planning's
    `production_order_complete_manual`): its open tasks are cancelled with it. When the last
    task completes the order, none is open and nothing changes."""
    Task.objects.filter(order=order, status__in=Task.OPEN).update(status=Task.Status.CANCELLED)


def task_auto_assign(*, task: Task) -> Task:
    candidates = operator_candidates(operation=task.operation)
    if not candidates:
        note = _assignment_note(Text(NO_OPERATOR))
        for field, value in note.items():
            setattr(task, field, value)
        task.save(update_fields=list(note))
        return task
    best = candidates[0]
    operation = task.operation
    # Say why this operator qualified: the skill and level held, or (no skill required) the
    # operation's work center being their home.
    if operation.required_skill_id:
        why = Text(
            WHY_SKILL,
            skill=operation.required_skill.code,
            level=choice(OperatorSkill, "level", best["level"], lower=True),
        )
    else:
        why = Text(WHY_HOME, work_center=operation.work_center.code)
    count = best["open_tasks"]
    task.operator = best["operator"]
    note = _assignment_note(Text(AUTO_ONE if count == 1 else AUTO_MANY, why=why, count=count))
    for field, value in note.items():
        setattr(task, field, value)
    task.save(update_fields=["operator", *note])
    return task


def task_assign(*, task: Task, operator: Operator, by=None, note: str = "") -> Task:
    """A supervisor's choice of operator; the operator must hold the required skill level."""
    operation = task.operation
    if task.status in (Task.Status.DONE, Task.Status.CANCELLED):
        raise StateConflict(
            _("Task %(order)s/%(sequence)s is %(status)s; it cannot be reassigned.")
            % {
                "order": task.order.number,
                "sequence": task.operation.sequence,
                "status": task.get_status_display().lower(),
            }
        )
    if operation.required_skill_id:
        held = (
            OperatorSkill.objects.filter(operator=operator, skill_id=operation.required_skill_id)
            .values_list("level", flat=True)
            .first()
        )
        if held is None or held < operation.min_skill_level:
            raise ValidationError(
                {
                    "operator": _(
                        "%(operator)s does not hold %(skill)s at %(level)s level or above."
                    )
                    % {
                        "operator": operator.name,
                        "skill": operation.required_skill.code,
                        "level": operation.get_min_skill_level_display().lower(),
                    }
                }
            )
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        previous = locked.operator_id
        locked.operator = operator
        locked.assigned_by = by if getattr(by, "is_authenticated", False) else None
        # The supervisor's own words are a parameter, shown as typed.
        written = _assignment_note(
            Text(SUPERVISOR_NOTE, note=note) if note else Text(BY_SUPERVISOR)
        )
        for field, value in written.items():
            setattr(locked, field, value)
        locked.save(update_fields=["operator", "assigned_by", *written])
        audit_record(
            actor=by, action="task.assign", obj=locked, data={"from": previous, "to": operator.pk}
        )
    return locked


def _machine_load_ratio(machines: list[Equipment]) -> dict[int, float]:
    """Open work queued on each machine, as a share of its available minutes on its working
    day (today's, or on a Sunday or a holiday the next one's: a machine is not "infinitely
    loaded" just because its crew is off tonight)."""
    now = timezone.now()
    ratios = {}
    for m in machines:
        today = work_center_shift_day(m.work_center, now) or timezone.localdate()
        minutes = 0.0
        for t in Task.objects.filter(equipment=m, status__in=Task.OPEN).select_related(
            "operation", "order"
        ):
            remaining = max(t.order.quantity - t.quantity_good - t.quantity_scrap, Decimal(0))
            minutes += float(
                t.operation.setup_minutes + t.operation.run_minutes_per_unit * remaining
            )
        available = equipment_available_minutes(m, today, today).get(today, 0)
        ratios[m.pk] = minutes / available if available else float("inf")
    return ratios


def dispatch_next(*, equipment: Equipment, by=None) -> Task | None:
    """Choose the next ready task for a machine and record why.

    Among ready tasks this machine may run, prefer the one whose other eligible machines are
    the most loaded (it has nowhere better to go): when machine A is full and B half loaded,
    B takes the next operations of other orders first. Ties: priority, then due date.
    """
    candidates = list(
        Task.objects.filter(status=Task.Status.READY)
        .filter(Q(equipment__isnull=True) | Q(equipment=equipment))
        .filter(
            Q(operation__eligible_equipment=equipment)
            | Q(
                operation__eligible_equipment__isnull=True,
                operation__work_center_id=equipment.work_center_id,
            )
        )
        .select_related("order", "operation")
        .prefetch_related("operation__eligible_equipment")
        .distinct()
    )
    if not candidates:
        text = Text(NO_READY_TASK)
        DispatchDecision.objects.create(
            equipment=equipment,
            task=None,
            **text_columns("reason", text, 300),
        )
        return None
    others = {
        m for t in candidates for m in t.operation.eligible_equipment.all() if m.pk != equipment.pk
    }
    load = _machine_load_ratio(sorted(others, key=lambda m: m.pk))
    scored = []
    for t in candidates:
        alternatives = [
            load[m.pk] for m in t.operation.eligible_equipment.all() if m.pk != equipment.pk
        ]
        best_elsewhere = min(alternatives) if alternatives else float("inf")
        scored.append((t, best_elsewhere))
    scored.sort(key=lambda p: (-p[1], p[0].order.priority, p[0].order.due_date, p[0].pk))
    chosen, elsewhere = scored[0]
    task = {"order": chosen.order.number, "sequence": chosen.operation.sequence}
    if elsewhere == float("inf"):
        reason = Text(ONLY_HERE, **task)
    else:
        reason = Text(LOADED_ELSEWHERE, **task, load=f"{elsewhere * 100:.0f}")
    with transaction.atomic():
        Task.objects.filter(pk=chosen.pk).update(equipment=equipment)
        operation_equipment_set(operation=chosen.operation, equipment=equipment)
        DispatchDecision.objects.create(
            equipment=equipment,
            task=chosen,
            **text_columns("reason", reason, 300),
            candidates=[
                {
                    "task": t.pk,
                    "order": t.order.number,
                    "sequence": t.operation.sequence,
                    "load_elsewhere": None if e == float("inf") else round(e, 3),
                }
                for t, e in scored
            ],
        )
        emit("execution.dispatch.decided", {"equipment": equipment.code, "task": chosen.pk})
    chosen.refresh_from_db()
    return chosen

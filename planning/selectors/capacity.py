"""Capacity check: load against available minutes, and daily rate caps for a plan."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from resources.models import Equipment, Item, WorkCenter
from resources.selectors.calendar import (
    equipment_available_minutes,
    plant_time_zone,
    work_center_available_minutes,
)

from ..engines.capacity_arithmetic import LoadCell, RatePlan, rate_plan, spread_minutes_by_day
from ..models import OrderOperation, ProductionOrder, ScheduleAssignment
from .masterdata import routing_effective
from .schedule import schedule_run_latest_done

CLOSED_OPS = (OrderOperation.Status.DONE, OrderOperation.Status.CANCELLED)


def capacity_load(
    *,
    first_day: date,
    last_day: date,
    work_centers: list[WorkCenter] | None = None,
    extra_minutes: dict[tuple[str, date], float] | None = None,
) -> list[LoadCell]:
    """Load vs available minutes per work center and day.

    Load is the scheduled operations of open orders (setup + run for the order quantity,
    shared across the days their planned interval touches) plus `extra_minutes` (a plan
    being checked). Cost: one query for the operations, one per work center for calendars.
    """
    tz = plant_time_zone()
    if work_centers is None:
        work_centers = list(WorkCenter.objects.select_related("area__site").order_by("code"))
    codes = {wc.code for wc in work_centers}
    window_start = datetime.combine(first_day, time.min, tzinfo=tz)
    window_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    load: dict[tuple[str, date], float] = defaultdict(float)
    operations = (
        OrderOperation.objects.filter(
            order__status__in=ProductionOrder.OPEN_STATUSES,
            work_center__code__in=codes,
            planned_start__lt=window_end,
            planned_end__gt=window_start,
        )
        .exclude(status__in=CLOSED_OPS)
        .select_related("order", "work_center")
    )
    # Where the latest schedule run placed an operation part by part (inside shifts), each
    # part's minutes count on its own day; otherwise the operation's minutes are shared over
    # its planned interval.
    latest = schedule_run_latest_done()
    parts: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    if latest is not None:
        for op_id, start, end in ScheduleAssignment.objects.filter(
            run=latest, start__lt=window_end, end__gt=window_start
        ).values_list("operation_id", "start", "end"):
            parts[op_id].append((start, end))
    for op in operations:
        spans = parts.get(op.pk)
        if not spans:
            spans = [(op.planned_start, op.planned_end, float(op.duration_minutes()))]
        else:
            spans = [(s, e, (e - s).total_seconds() / 60) for s, e in spans]
        for start, end, minutes in spans:
            for day, share in spread_minutes_by_day(start, end, minutes, tz).items():
                if first_day <= day <= last_day:
                    load[(op.work_center.code, day)] += share
    for key, minutes in (extra_minutes or {}).items():
        load[key] += minutes
    cells = []
    for wc in work_centers:
        available = work_center_available_minutes(wc, first_day, last_day)
        for day, minutes in available.items():
            cells.append(LoadCell(wc.code, day, float(minutes), load.get((wc.code, day), 0.0)))
    return cells


def capacity_load_machines(*, first_day: date, last_day: date) -> list[LoadCell]:
    """Load vs available minutes per machine and day (the cell's first field is the machine's
    code): the latest schedule's parts on each machine, or an operation's planned interval on
    its machine when the schedule has no parts for it; available minutes are the machine's
    work center's shifts less holidays and its own maintenance windows."""
    tz = plant_time_zone()
    window_start = datetime.combine(first_day, time.min, tzinfo=tz)
    window_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    machines = list(Equipment.objects.select_related("work_center__area__site").order_by("code"))
    code = {m.pk: m.code for m in machines}
    load: dict[tuple[str, date], float] = defaultdict(float)
    latest = schedule_run_latest_done()
    placed: set[int] = set()
    if latest is not None:
        for op_id, machine_id, start, end in (
            ScheduleAssignment.objects.filter(
                run=latest, start__lt=window_end, end__gt=window_start
            )
            .filter(operation__order__status__in=ProductionOrder.OPEN_STATUSES)
            .exclude(operation__status__in=CLOSED_OPS)
            .values_list("operation_id", "equipment_id", "start", "end")
        ):
            placed.add(op_id)
            minutes = (end - start).total_seconds() / 60
            for day, share in spread_minutes_by_day(start, end, minutes, tz).items():
                if first_day <= day <= last_day:
                    load[(code[machine_id], day)] += share
    for op in (
        OrderOperation.objects.filter(
            order__status__in=ProductionOrder.OPEN_STATUSES,
            equipment__isnull=False,
            planned_start__lt=window_end,
            planned_end__gt=window_start,
        )
        .exclude(status__in=CLOSED_OPS)
        .exclude(pk__in=placed)
        .select_related("order")
    ):
        minutes = float(op.duration_minutes())
        for day, share in spread_minutes_by_day(
            op.planned_start, op.planned_end, minutes, tz
        ).items():
            if first_day <= day <= last_day:
                load[(code[op.equipment_id], day)] += share
    cells = []
    for machine in machines:
        available = equipment_available_minutes(machine, first_day, last_day)
        for day, minutes in available.items():
            cells.append(
                LoadCell(machine.code, day, float(minutes), load.get((machine.code, day), 0.0))
            )
    return cells


@dataclass
class StepCapacity:
    step_no: int
    name: str
    work_center: str
    equipment: str | None
    capacity_by_day: dict[date, Decimal]


@dataclass
class PlanCheck:
    item: str
    plan: RatePlan
    bottleneck: StepCapacity
    steps: list[StepCapacity]
    cells: list[LoadCell] = field(default_factory=list)

    @property
    def overloads(self) -> list[LoadCell]:
        return [c for c in self.cells if c.overload > 0.5]


def _step_capacity(step, first_day: date, last_day: date) -> StepCapacity:
    machines = sorted(step.eligible_equipment.all(), key=lambda e: e.code)
    machine: Equipment | None = machines[0] if machines else None
    if machine is not None and machine.rated_rate > 0:
        minutes = equipment_available_minutes(machine, first_day, last_day)
        capacity = {d: Decimal(m) / 60 * machine.rated_rate for d, m in minutes.items()}
    else:
        minutes = work_center_available_minutes(step.work_center, first_day, last_day)
        per_unit = step.run_minutes_per_unit
        capacity = {
            d: (Decimal(m) / per_unit if per_unit > 0 else Decimal(10**9))
            for d, m in minutes.items()
        }
    return StepCapacity(
        step.step_no, step.name, step.work_center.code, machine.code if machine else None, capacity
    )


def capacity_plan_check(
    *,
    item: Item,
    quantity: Decimal,
    requested_per_day: Decimal,
    start_day: date | None = None,
    horizon_days: int = 90,
) -> PlanCheck:
    """Check a plan to make `quantity` of `item` at `requested_per_day` from `start_day`.

    Caps the daily rate at the bottleneck machine's capacity (the later finish date is in
    the result), then adds the plan's minutes to the existing load and reports the days and
    work centers that go over their available minutes, and by how much.
    """
    if Decimal(quantity) <= 0:
        raise ValidationError({"quantity": _("quantity must be above zero.")})
    if Decimal(requested_per_day) <= 0:
        raise ValidationError({"requested_per_day": _("requested_per_day must be above zero.")})
    start_day = start_day or timezone.localdate()
    last_day = start_day + timedelta(days=horizon_days)
    routing = routing_effective(item, start_day)
    if routing is None:
        raise ValidationError(
            {
                "item": _("%(item)s has no routing effective on %(day)s.")
                % {"item": item.code, "day": start_day}
            }
        )
    steps = [
        _step_capacity(step, start_day, last_day)
        for step in routing.steps.select_related("work_center__area__site").prefetch_related(
            "eligible_equipment"
        )
    ]
    if not steps:
        raise ValidationError(
            {"item": _("The routing of %(item)s has no steps.") % {"item": item.code}}
        )
    bottleneck_by_day = {
        day: min(s.capacity_by_day.get(day, Decimal(0)) for s in steps)
        for day in steps[0].capacity_by_day
    }
    plan = rate_plan(
        quantity=quantity, requested_per_day=requested_per_day, capacity_by_day=bottleneck_by_day
    )
    if plan.capped_finish is None:
        raise ValidationError(
            {
                "quantity": _("%(quantity)s cannot be made within %(days)s days on this routing.")
                % {"quantity": quantity, "days": horizon_days}
            }
        )
    bottleneck = min(steps, key=lambda s: sum(s.capacity_by_day.values()))
    run_minutes = {s.step_no: st for s, st in zip(steps, routing.steps.all(), strict=True)}
    extra: dict[tuple[str, date], float] = defaultdict(float)
    for index, rate_day in enumerate(plan.days):
        for step in steps:
            routing_step = run_minutes[step.step_no]
            minutes = float(rate_day.planned * routing_step.run_minutes_per_unit)
            if index == 0:
                minutes += float(routing_step.setup_minutes)
            extra[(step.work_center, rate_day.day)] += minutes
    work_centers = list(
        WorkCenter.objects.filter(code__in={s.work_center for s in steps})
        .select_related("area__site")
        .order_by("code")
    )
    cells = capacity_load(
        first_day=start_day,
        last_day=plan.capped_finish,
        work_centers=work_centers,
        extra_minutes=extra,
    )
    return PlanCheck(item=item.code, plan=plan, bottleneck=bottleneck, steps=steps, cells=cells)

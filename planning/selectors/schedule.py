"""Scheduling: the engine's problem built from the open orders (for the runs of
planning/services/schedule.py), and the runs and what they placed for the Schedule page and
the machine Gantt.

Time origin: the run's start, rounded down to the minute; the engine works in minutes.
Jobs are open orders (planned, released, in progress). Operations done or cancelled are left
out. The operation running on a machine is fixed where it runs (its machine and actual
start) and holds that machine until the rest of its quantity is made — from now, in the
machine's working time at the planned rate, or until the shop floor's predicted end at the
actual rate when that is later (delay feedback, planning/services/feedback.py; believed up
to three times the planned rest), cut short where a pinned operation on that machine
starts. A paused operation (or an older start on a machine that now runs another task) has
its rest scheduled on its machine whenever that is free. Started operations no longer wait
for the operation before them. A frozen one stays where it was planned. Each remaining operation may run on any of its
eligible machines (all machines of its work center when none is named) for setup + run
minutes of the quantity still to make. Machines work in their work center's shifts, less
holidays and their maintenance windows. Tardiness weight: 10 − priority (priority 1 → 9).
Each operation carries its setup family and each machine its changeover minutes and the
pairs that differ (resources.EquipmentChangeover): the engine puts the changeover before an
operation whose family differs from the one before it on the machine.
An operation blocked by an exception (its machine in repair, its material on the way) does
not start before `blocked_until`, so orders whose material is complete go ahead of it.

The engine never splits an operation across a break. An operation longer than the longest
working interval of its machines (500 blocks of assembly take several shifts) is cut into
shift-sized parts — transfer batches, each of which may go to any eligible machine. Parts
flow on like a lot-streamed batch: part i of an operation follows part i − 1 of the same
operation and the part of the previous operation that has made as large a share of the
quantity. The operation's planned start and end span its parts.
"""

import math
from dataclasses import replace
from datetime import datetime, time, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.lists import list_text
from resources.models import Equipment, MaintenanceWindow
from resources.selectors.calendar import plant_time_zone, work_center_working_intervals

from ..engines import scheduling as engine
from ..models import OrderOperation, ProductionOrder, ScheduleAssignment, ScheduleRun

SCHEDULED_ORDER_STATUSES = (
    ProductionOrder.Status.PLANNED,
    ProductionOrder.Status.RELEASED,
    ProductionOrder.Status.IN_PROGRESS,
)
RUNNING_OPS = (OrderOperation.Status.IN_PROGRESS, OrderOperation.Status.PAUSED)
# A running operation's predicted end is believed up to this many times its planned rest: an
# actual rate from the first few units can put it months out.
PREDICTION_TRUST = 3


def _minutes(origin: datetime, at: datetime) -> int:
    return math.floor((at - origin).total_seconds() / 60)


def _minutes_not_before(origin: datetime, at: datetime) -> int:
    """The first whole minute at or after `at`: a release (material arriving, a repair done)
    rounded down would let work start up to 59 seconds before it."""
    return math.ceil((at - origin).total_seconds() / 60)


def _holds_cut(jobs: list, holds: set[str]) -> list:
    """A running operation's hold ends where an operation a planner pinned on the same
    machine starts: fixed operations may not overlap, and the pin is the planner's word."""
    fixed = [
        (op.fixed.machine, op.fixed.start, op.id)
        for job in jobs
        for op in job.operations
        if op.fixed is not None
    ]
    cut: dict[str, int] = {}
    for job in jobs:
        for op in job.operations:
            if op.id not in holds:
                continue
            start, end = op.fixed.start, op.fixed.start + op.modes[0].run
            later = [s for m, s, key in fixed if m == op.fixed.machine and start < s < end]
            if later:
                cut[op.id] = min(later) - start
    if not cut:
        return jobs
    return [
        replace(
            job,
            operations=tuple(
                replace(op, modes=(replace(op.modes[0], run=cut[op.id]),)) if op.id in cut else op
                for op in job.operations
            ),
        )
        for job in jobs
    ]


def _working_end(intervals: tuple, minutes: int) -> int:
    """The minute (from the origin) when `minutes` of working time from the origin are
    done in `intervals` (sorted (start, end) minutes); past the last one, wall time."""
    left = minutes
    at = 0
    for start, end in intervals:
        if end <= at:
            continue
        start = max(start, at)
        if left <= end - start:
            return start + left
        left -= end - start
        at = end
    return at + left


def schedule_problem_build(*, origin: datetime, horizon_days: int = 60):
    """The engine's problem for all open orders, plus lookups to map the answer back."""
    tz = plant_time_zone()
    horizon_end = origin + timedelta(days=horizon_days)
    orders = list(
        ProductionOrder.objects.filter(status__in=SCHEDULED_ORDER_STATUSES)
        .prefetch_related("operations__eligible_equipment")
        .order_by("pk")
    )
    wc_machines: dict[int, list[Equipment]] = {}
    by_pk: dict[int, Equipment] = {}  # with their changeover pairs prefetched
    # What each machine is set up for now: the family of the operation that started on it
    # last (running or done). Done operations are not in the problem, so without it the
    # first operation planned there would skip the changeover it needs.
    set_up_for = _last_started_family()
    for machine in (
        Equipment.objects.select_related("work_center__area__site")
        .prefetch_related("changeovers")
        .annotate(set_up_for=Subquery(set_up_for))
        .order_by("code")
    ):
        wc_machines.setdefault(machine.work_center_id, []).append(machine)
        by_pk[machine.pk] = machine
    windows: dict[int, list] = {}
    for w in MaintenanceWindow.objects.filter(end__gt=origin, start__lt=horizon_end):
        windows.setdefault(w.equipment_id, []).append(
            (_minutes(origin, w.start), _minutes(origin, w.end))
        )
    intervals: dict[int, tuple] = {}  # per work center

    def working(machine: Equipment) -> tuple:
        wc = machine.work_center
        if wc.pk not in intervals:
            intervals[wc.pk] = tuple(
                (_minutes(origin, s), _minutes(origin, e))
                for s, e in work_center_working_intervals(
                    wc, origin - timedelta(days=1), horizon_end
                )
            )
        return intervals[wc.pk]

    def longest(machine: Equipment) -> int:
        return max((e - s for s, e in working(machine)), default=0)

    frozen_parts: dict[int, list] = {}
    latest = ScheduleRun.objects.filter(status=ScheduleRun.Status.DONE).order_by("-pk").first()
    if latest is not None:
        for a in (
            ScheduleAssignment.objects.filter(
                run=latest, operation__frozen=True, operation__order__in=orders
            )
            .select_related("equipment__work_center__area__site")
            .order_by("operation_id", "part")
        ):
            frozen_parts.setdefault(a.operation_id, []).append((a.equipment, a.start, a.end))
    # The task running on each machine now (the latest start, if the records show more than
    # one): it holds the machine; other started operations there wait for it.
    holding: dict[int, int] = {}
    latest_start: dict[int, datetime] = {}
    for order in orders:
        for op in order.operations.all():
            at = op.actual_start or op.planned_start
            if op.status != OrderOperation.Status.IN_PROGRESS or not op.equipment_id or not at:
                continue
            if op.equipment_id not in latest_start or at > latest_start[op.equipment_id]:
                latest_start[op.equipment_id] = at
                holding[op.equipment_id] = op.pk
    used: dict[int, Equipment] = {}
    holds: set[str] = set()  # running operations held until their rest is made
    jobs = []
    op_lookup: dict[str, OrderOperation] = {}
    for order in orders:
        ops = []
        previous_keys: list[str] = []
        remaining_qty = max(order.quantity - order.quantity_done, 0)
        for op in sorted(order.operations.all(), key=lambda o: o.sequence):
            if op.status in (OrderOperation.Status.DONE, OrderOperation.Status.CANCELLED):
                continue
            machines = sorted(op.eligible_equipment.all(), key=lambda e: e.code) or wc_machines.get(
                op.work_center_id, []
            )
            qty = (
                max(remaining_qty - op.quantity_done, 0)
                if op.status in RUNNING_OPS
                else remaining_qty
            )
            minutes = max(1, math.ceil(op.setup_minutes + op.run_minutes_per_unit * qty))
            if op.frozen and op.status not in RUNNING_OPS and frozen_parts.get(op.pk):
                # Pinned by a planner: every part stays on its machine at its start, behind
                # the part of the previous operation that made its share of the batch (as
                # it was scheduled: the whole previous operation may still be running).
                pinned = frozen_parts[op.pk]
                for index, (machine, start, end) in enumerate(pinned):
                    key = f"{op.pk}:{index}"
                    used[machine.pk] = machine
                    preds = ()
                    if previous_keys:
                        share = math.ceil((index + 1) * len(previous_keys) / len(pinned)) - 1
                        preds = (previous_keys[share],)
                    ops.append(
                        engine.Operation(
                            id=key,
                            modes=(engine.Mode(machine.pk, max(1, _minutes(start, end))),),
                            fixed=engine.Placement(machine.pk, _minutes(origin, start)),
                            predecessors=preds,
                            family=op.setup_family,
                        )
                    )
                    op_lookup[key] = op
                previous_keys = [f"{op.pk}:{i}" for i in range(len(frozen_parts[op.pk]))]
                continue
            started = op.status in RUNNING_OPS
            fixed = None
            if started and holding.get(op.equipment_id) == op.pk:
                fixed = engine.Placement(
                    op.equipment_id, _minutes(origin, op.actual_start or op.planned_start)
                )
            elif op.frozen and not started and op.equipment_id and op.planned_start:
                fixed = engine.Placement(op.equipment_id, _minutes(origin, op.planned_start))
            if fixed is not None:
                machine = next((m for m in machines if m.pk == op.equipment_id), op.equipment)
                used[machine.pk] = machine
                if started:
                    # Running: it holds its machine until the rest is made (its setup is
                    # behind it) — from now, in the machine's working time at the planned
                    # rate, or until the shop floor's predicted end at the actual rate when
                    # that is later, believed up to PREDICTION_TRUST times the planned rest.
                    rest = math.ceil(op.run_minutes_per_unit * qty)
                    end = _working_end(working(machine), rest)
                    if op.predicted_end is not None and op.predicted_end > origin:
                        trusted = _working_end(working(machine), PREDICTION_TRUST * max(rest, 60))
                        end = max(end, min(_minutes(origin, op.predicted_end), trusted))
                    minutes = max(1, end - fixed.start)
                    holds.add(f"{op.pk}:0")
                ops.append(
                    engine.Operation(
                        id=f"{op.pk}:0",
                        modes=(engine.Mode(machine.pk, minutes),),
                        fixed=fixed,
                        # A started operation no longer waits for the one before it (which
                        # may be blocked); a pinned one keeps its place after it.
                        predecessors=() if started else tuple(previous_keys[-1:]),
                        family=op.setup_family,
                    )
                )
                op_lookup[f"{op.pk}:0"] = op
                previous_keys = [f"{op.pk}:0"]
                continue
            if started:
                # Paused, or an older start on a machine another task runs on now: the rest
                # is scheduled on its machine (setup behind it) whenever that machine is free,
                # not behind the operation before it.
                minutes = max(1, math.ceil(op.run_minutes_per_unit * qty))
                if op.equipment_id:
                    machines = [m for m in machines if m.pk == op.equipment_id] or [op.equipment]
                previous_keys = []
            machines = [m for m in machines if longest(m) > 0]
            if not machines:
                continue  # no machine with working time: not finite-capacity scheduled
            # Blocked by an exception (machine repair, material on its way): not before then.
            blocked_release = (
                max(_minutes_not_before(origin, op.blocked_until), 0)
                if op.blocked_until and op.blocked_until > origin
                else None
            )
            cap = min(longest(m) for m in machines)
            parts = [cap] * (minutes // cap) + ([minutes % cap] if minutes % cap else [])
            for m in machines:
                used[m.pk] = m
            for index, part_minutes in enumerate(parts):
                key = f"{op.pk}:{index}"
                preds = [f"{op.pk}:{index - 1}"] if index else []
                if previous_keys:
                    # The previous operation's part that covers the same share of the batch.
                    share = math.ceil((index + 1) * len(previous_keys) / len(parts)) - 1
                    preds.append(previous_keys[share])
                ops.append(
                    engine.Operation(
                        id=key,
                        modes=tuple(engine.Mode(machine=m.pk, run=part_minutes) for m in machines),
                        predecessors=tuple(preds),
                        release=blocked_release,
                        family=op.setup_family,
                    )
                )
                op_lookup[key] = op
            previous_keys = [f"{op.pk}:{i}" for i in range(len(parts))]
        if not ops:
            continue
        due_at = datetime.combine(order.due_date, time(23, 59), tzinfo=tz)
        jobs.append(
            engine.Job(
                id=order.pk,
                operations=tuple(ops),
                sequential=False,
                release=(
                    _minutes_not_before(origin, order.earliest_start)
                    if order.earliest_start
                    else None
                ),
                due=_minutes(origin, due_at),
                weight=max(1, 10 - order.priority),
            )
        )
    machines = [
        engine.Machine(
            id=pk,
            working=working(m),
            downtime=tuple(windows.get(pk, ())),
            changeover=by_pk[pk].changeover_minutes,
            changeovers=tuple(
                (c.from_family, c.to_family, c.minutes) for c in by_pk[pk].changeovers.all()
            ),
            initial_family=by_pk[pk].set_up_for or "",
        )
        for pk, m in sorted(used.items())
    ]
    problem = engine.Problem(jobs=tuple(_holds_cut(jobs, holds)), machines=tuple(machines), now=0)
    return problem, op_lookup


def _last_started_family():
    """The family of the operation that started last on a machine (OuterRef: the machine)."""
    return (
        OrderOperation.objects.filter(equipment=OuterRef("pk"), actual_start__isnull=False)
        .order_by("-actual_start", "-pk")
        .values("setup_family")[:1]
    )


def planned_changeovers(operations) -> dict[int, int]:
    """Minutes of changeover the plan puts before each of `operations` that is planned on a
    machine and has not started: from the family of the operation planned just before it
    there, or, for the machine's first, of what the machine ran last — the engine's rule
    (engine.machine_changeover, checker.schedule_changeover_minutes). Three queries."""
    planned = [
        op for op in operations if op.equipment_id and op.planned_start and not op.actual_start
    ]
    if not planned:
        return {}
    machine_ids = {op.equipment_id for op in planned}
    machines = {
        m.pk: engine.Machine(
            id=m.pk,
            changeover=m.changeover_minutes,
            changeovers=tuple((c.from_family, c.to_family, c.minutes) for c in m.changeovers.all()),
            initial_family=m.set_up_for or "",
        )
        for m in Equipment.objects.filter(pk__in=machine_ids)
        .prefetch_related("changeovers")
        .annotate(set_up_for=Subquery(_last_started_family()))
    }
    sequence: dict[int, list[tuple]] = {}
    for pk, machine_id, family in (
        OrderOperation.objects.filter(
            equipment_id__in=machine_ids, planned_start__isnull=False, actual_start__isnull=True
        )
        .exclude(status__in=(OrderOperation.Status.DONE, OrderOperation.Status.CANCELLED))
        .order_by("planned_start", "pk")
        .values_list("pk", "equipment_id", "setup_family")
    ):
        sequence.setdefault(machine_id, []).append((pk, family))
    minutes: dict[int, int] = {}
    for machine_id, ops in sequence.items():
        machine = machines[machine_id]
        before = machine.initial_family
        for pk, family in ops:
            minutes[pk] = engine.machine_changeover(machine, before, family)
            before = family
    return {op.pk: minutes.get(op.pk, 0) for op in planned}


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
            .select_related("operation__order__item")
            .order_by("start")
        ]
    return [
        (op, op.equipment_id, op.planned_start, op.planned_end)
        for op in OrderOperation.objects.filter(
            equipment__isnull=False, planned_start__lt=end, planned_end__gt=start
        )
        .exclude(status=OrderOperation.Status.CANCELLED)
        .select_related("order__item")
        .order_by("planned_start")
    ]


def schedule_run_words(run: ScheduleRun) -> list[str]:
    """A finished run in sentences a planner reads: how good the plan is, which orders will be
    late, how much the solver gained over the dispatching rule, when the work ends and how far
    that may be from the best possible. The raw figures stay in the run's table."""
    if run.status != ScheduleRun.Status.DONE:
        return []
    summary = run.summary or {}
    limit = run.time_limit_seconds
    words = []
    if run.solver_status == "OPTIMAL":
        words.append(_("The best possible plan: no other plan has less lateness."))
    elif run.solver_status == "HEURISTIC":
        words.append(
            _(
                "A first plan by the dispatching rule; the solver found nothing better "
                "within %(limit)s s."
            )
            % {"limit": limit}
        )
    else:
        words.append(
            _("The best plan found within %(limit)s s; a better one may exist.") % {"limit": limit}
        )
    late = summary.get("late_orders") or []
    if late:
        words.append(
            ngettext(
                "%(count)d order will finish after its due date: %(orders)s.",
                "%(count)d orders will finish after their due dates: %(orders)s.",
                len(late),
            )
            % {"count": len(late), "orders": list_text(late)}
        )
    else:
        words.append(_("Every order is planned to finish by its due date."))
    tardy, first = run.weighted_tardiness, run.heuristic_weighted_tardiness
    if tardy and first and first > tardy:
        words.append(
            _(
                "Lateness weighted by priority: %(hours)s h, %(pct)s %% less than the "
                "dispatching rule alone (%(first)s h)."
            )
            % {
                "hours": _hours(tardy),
                "pct": round(100 * (first - tardy) / first),
                "first": _hours(first),
            }
        )
    elif tardy:
        words.append(_("Lateness weighted by priority: %(hours)s h.") % {"hours": _hours(tardy)})
    if run.makespan_minutes is not None and run.horizon_start:
        end = run.horizon_start + timedelta(minutes=run.makespan_minutes)
        words.append(
            _("All scheduled work ends %(end)s.")
            % {"end": end.astimezone(plant_time_zone()).strftime("%Y-%m-%d %H:%M")}
        )
        lower = summary.get("makespan_bound")
        if lower and run.makespan_minutes > 0 and lower <= run.makespan_minutes:
            gap = 100 * (run.makespan_minutes - lower) / run.makespan_minutes
            words.append(
                _("No plan could end more than %(gap)s %% sooner.") % {"gap": f"{gap:.0f}"}
                if gap >= 0.5
                else _("No plan could end sooner.")
            )
    changeover = summary.get("changeover_minutes")
    if changeover:
        words.append(
            _("%(hours)s h of machine time go to changeovers between setup families.")
            % {"hours": f"{changeover / 60:,.1f}"}
        )
    words.append(
        ngettext(
            "%(count)d operation placed on the machines' calendars.",
            "%(count)d operations placed on the machines' calendars.",
            run.operation_count,
        )
        % {"count": run.operation_count}
    )
    return words


def _hours(minutes: int) -> str:
    return f"{minutes / 60:,.0f}"

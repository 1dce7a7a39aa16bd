"""Finite-capacity scheduling runs: build the engine's problem from open orders
(`planning.selectors.schedule.schedule_problem_build`, which says what is scheduled and
how), solve, check independently, and write the schedule back to the operations.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.events import emit
from resources.selectors.calendar import plant_time_zone

from ..engines import scheduling as engine
from ..models import OrderOperation, ProductionOrder, ScheduleAssignment, ScheduleRun
from ..selectors.schedule import RUNNING_OPS, schedule_problem_build


def _at(origin: datetime, minutes: int) -> datetime:
    return origin + timedelta(minutes=minutes)


def schedule_run_start(*, by=None, time_limit_seconds: int = 10) -> ScheduleRun:
    """Queue a rescheduling of all open orders; the worker runs it."""
    # Cycle: planning.tasks imports this module (schedule_run_task calls schedule_run_execute).
    from ..tasks import schedule_run_task

    with transaction.atomic():
        run = ScheduleRun.objects.create(created_by=by, time_limit_seconds=time_limit_seconds)
        audit_record(actor=by, action="schedule.run.start", obj=run)
        transaction.on_commit(lambda: schedule_run_task.delay(run.pk))
    return run


def schedule_run_execute(*, run_id: int, workers: int = 0) -> ScheduleRun:
    """Solve and apply a queued run. Running it again changes nothing."""
    with transaction.atomic():
        run = ScheduleRun.objects.select_for_update().get(pk=run_id)
        if run.status != ScheduleRun.Status.QUEUED:
            return run
        origin = timezone.now().replace(second=0, microsecond=0)
        run.status = ScheduleRun.Status.RUNNING
        run.started_at = timezone.now()
        run.horizon_start = origin
        run.progress = 5
        run.save(update_fields=["status", "started_at", "horizon_start", "progress"])
    try:
        problem, ops = schedule_problem_build(origin=origin)
        ScheduleRun.objects.filter(pk=run.pk).update(
            progress=20, operation_count=len({op.pk for op in ops.values()})
        )
        options = engine.SolveOptions(time_limit=float(run.time_limit_seconds), workers=workers)
        try:
            result = engine.schedule_solve(problem, options)
        except engine.NoScheduleError:
            problem, ops = schedule_problem_build(origin=origin, horizon_days=240)
            result = engine.schedule_solve(problem, options)
        ScheduleRun.objects.filter(pk=run.pk).update(progress=85)
        problems = engine.schedule_check(problem, result.assignments)
        if problems:
            raise engine.NoScheduleError("; ".join(problems[:5]))
        changeover = engine.schedule_changeover_minutes(problem, result.assignments)
        with transaction.atomic():
            _apply(run, origin, result, ops, changeover_minutes=changeover)
    except Exception as exc:  # recorded on the run for the page and API
        ScheduleRun.objects.filter(pk=run.pk).update(
            status=ScheduleRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )
        raise
    run.refresh_from_db()
    return run


def _apply(
    run: ScheduleRun,
    origin: datetime,
    result,
    ops: dict[str, OrderOperation],
    *,
    changeover_minutes: int = 0,
) -> None:
    rows = []
    order_span: dict[int, list[datetime]] = {}
    op_span: dict[int, list] = {}
    for a in result.assignments:
        op = ops[a.op_id]
        part = int(str(a.op_id).split(":")[1])
        start, end = _at(origin, a.start), _at(origin, a.end)
        rows.append(
            ScheduleAssignment(
                run=run, operation_id=op.pk, part=part, equipment_id=a.machine, start=start, end=end
            )
        )
        span = op_span.setdefault(op.pk, [start, end, None])
        span[0], span[1] = min(span[0], start), max(span[1], end)
        if part == 0:
            span[2] = a.machine  # the machine shown for the operation: where it begins
        span = order_span.setdefault(op.order_id, [start, end])
        span[0], span[1] = min(span[0], start), max(span[1], end)
    for op in set(ops.values()):
        if op.status not in RUNNING_OPS and op.pk in op_span:
            op.planned_start, op.planned_end, op.equipment_id = op_span[op.pk]
    ScheduleAssignment.objects.bulk_create(rows, batch_size=2000)
    OrderOperation.objects.bulk_update(
        list(set(ops.values())), ["equipment", "planned_start", "planned_end"], batch_size=2000
    )
    orders = list(ProductionOrder.objects.filter(pk__in=order_span))
    for order in orders:
        order.planned_start, order.planned_end = order_span[order.pk]
    ProductionOrder.objects.bulk_update(orders, ["planned_start", "planned_end"], batch_size=2000)
    run.operation_count = len({op.pk for op in ops.values()})
    run.status = ScheduleRun.Status.DONE
    run.progress = 100
    run.finished_at = timezone.now()
    run.solver_status = result.status
    run.weighted_tardiness = result.weighted_tardiness
    run.makespan_minutes = result.makespan
    run.bound = result.bound
    run.heuristic_weighted_tardiness = result.heuristic_weighted_tardiness
    run.heuristic_makespan_minutes = result.heuristic_makespan
    tz = plant_time_zone()
    late = [
        o.number
        for o in orders
        if o.planned_end and o.planned_end.astimezone(tz).date() > o.due_date
    ]
    run.summary = {
        "objective": result.objective,
        "tardiness_bound": result.tardiness_bound,
        "makespan_bound": result.makespan_bound,
        "heuristic_rule": result.heuristic_rule,
        "wall_time": round(result.wall_time, 2),
        "notes": list(result.notes),
        "late_orders": sorted(late),
        "orders": len(orders),
        # Machine time spent changing between setup families (fixtures, materials).
        "changeover_minutes": changeover_minutes,
    }
    run.save()
    emit("planning.schedule_run.done", {"run_id": run.pk, "late_orders": sorted(late)})

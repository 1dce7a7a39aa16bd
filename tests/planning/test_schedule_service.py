"""Scheduling the demo plant's open orders: feasible, frozen and running work kept, API, page."""

import math
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.roles import Role
from planning.engines import scheduling as engine
from planning.models import OrderOperation, ProductionOrder, ScheduleAssignment, ScheduleRun
from planning.selectors.capacity import capacity_load
from planning.selectors.schedule import PREDICTION_TRUST, _working_end, schedule_problem_build
from planning.services.orders import operation_freeze
from planning.services.schedule import schedule_run_execute
from resources.models import Equipment
from tests.errors import error_fields
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run_now(limit: int = 2) -> ScheduleRun:
    run = ScheduleRun.objects.create(time_limit_seconds=limit)
    return schedule_run_execute(run_id=run.pk, workers=2)


def planner():
    user = UserFactory(username="sched-planner")
    user.groups.add(Group.objects.get_or_create(name=Role.PLANNER)[0])
    return user


def test_schedule_is_feasible_and_written_back(demo_plant):
    run = run_now()
    assert run.status == "done", run.error
    assert run.solver_status in {"OPTIMAL", "FEASIBLE", "HEURISTIC"}
    assert run.bound is not None and run.weighted_tardiness >= run.bound
    assert (
        run.operation_count
        == OrderOperation.objects.exclude(status__in=["done", "cancelled"])
        .filter(order__status__in=["planned", "released", "in_progress"])
        .count()
    )
    # The independent checker accepts what was saved, rebuilt from the database rows.
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    ops = list(order.operations.order_by("sequence"))
    assert all(op.planned_start and op.equipment_id for op in ops)
    for earlier, later in zip(ops, ops[1:], strict=False):
        assert later.planned_start >= earlier.planned_start
    by_machine: dict[int, list] = {}
    for a in ScheduleAssignment.objects.filter(run=run):
        by_machine.setdefault(a.equipment_id, []).append((a.start, a.end))
    for intervals in by_machine.values():
        intervals.sort()
        for (_s1, e1), (s2, _e2) in zip(intervals, intervals[1:], strict=False):
            assert e1 <= s2, "two operations overlap on one machine"
    assert order.planned_end == max(op.planned_end for op in ops)


def test_frozen_and_running_operations_stay_put(demo_plant):
    run_now()
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    casting = order.operations.get(sequence=10)
    machining = order.operations.get(sequence=20)
    operation_freeze(operation=machining)
    before = (machining.equipment_id, machining.planned_start, machining.planned_end)
    started = timezone.now() - timedelta(hours=1)
    OrderOperation.objects.filter(pk=casting.pk).update(
        status=OrderOperation.Status.IN_PROGRESS, actual_start=started
    )
    casting.refresh_from_db()
    problem, lookup = schedule_problem_build(origin=timezone.now().replace(second=0, microsecond=0))
    fixed = {lookup[op.id].sequence for job in problem.jobs for op in job.operations if op.fixed}
    assert {10, 20} <= {s for s in fixed if s in (10, 20)}

    again = run_now()
    assert again.status == "done", again.error
    machining.refresh_from_db()
    assert (machining.equipment_id, machining.planned_start, machining.planned_end) == before
    part = ScheduleAssignment.objects.get(run=again, operation=casting)
    assert abs((part.start - started).total_seconds()) < 60  # kept where it is running


def test_problem_passes_the_engine_checker(demo_plant):
    problem, _ = schedule_problem_build(origin=timezone.now().replace(second=0, microsecond=0))
    result = engine.schedule_solve(problem, engine.SolveOptions(time_limit=1, workers=2))
    assert engine.schedule_check(problem, result.assignments) == []


def test_api_and_page(demo_plant, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(planner())
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/schedule-runs/", {"time_limit_seconds": 2}, format="json")
    assert created.status_code == 201, created.content
    run_id = created.json()["id"]
    body = client.get(f"/api/v1/schedule-runs/{run_id}/").json()
    assert body["status"] == "done" and body["solver_status"]
    parts = client.get(f"/api/v1/schedule-runs/{run_id}/assignments/").json()["results"]
    assert any(p["order"] == "MO-2026-00001" for p in parts)
    bad = client.post("/api/v1/schedule-runs/", {"time_limit_seconds": 0}, format="json")
    assert bad.status_code == 400 and "time_limit_seconds" in error_fields(bad)

    page = Client()
    page.force_login(planner())
    html = page.get("/planning/schedule/").content
    assert b"Reschedule" in html and b"weighted tardiness" in html
    gantt = page.get("/planning/gantt/").content
    assert b"MO-2026-00001/20" in gantt
    progress = page.get(f"/planning/schedule/{run_id}/progress/")
    assert b"Solver" in progress.content
    operator = Client()
    operator.force_login(UserFactory(username="sched-op"))
    assert operator.post("/planning/schedule/run/").status_code == 403


def test_capacity_load_follows_the_scheduled_parts(demo_plant):
    run_now()
    today = timezone.localdate()
    cells = capacity_load(first_day=today, last_day=today + timedelta(days=13))
    assert any(c.load > 0 for c in cells)
    # Parts lie inside shifts: nothing is loaded on a day without shifts (Sundays).
    assert all(c.load == 0 for c in cells if c.available == 0)


def test_working_end_counts_only_working_minutes():
    shifts = ((-120, 60), (600, 900), (1200, 1300))
    assert _working_end(shifts, 30) == 30  # inside the current shift
    assert _working_end(shifts, 60) == 60
    assert _working_end(shifts, 100) == 640  # 60 today, 40 in the next shift
    assert _working_end(shifts, 400) == 1240
    assert _working_end(shifts, 500) == 1300 + 40  # 460 in the calendar, then wall time
    assert _working_end((), 45) == 45


def _running_long_since(origin):
    """MO-2026-00001's casting started on CAST-01 two days ago with 40 of 50 blocks to go."""
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    casting = order.operations.get(sequence=10)
    OrderOperation.objects.filter(pk=casting.pk).update(
        status=OrderOperation.Status.IN_PROGRESS,
        actual_start=origin - timedelta(days=2),
        equipment=casting.eligible_equipment.first() or casting.work_center.equipment.first(),
        quantity_done=10,
    )
    casting.refresh_from_db()
    return casting


def _fixed_op(problem, lookup, operation):
    return next(
        op for job in problem.jobs for op in job.operations if lookup[op.id].pk == operation.pk
    )


def test_a_running_operation_holds_its_machine_until_the_rest_is_made(demo_plant):
    origin = timezone.now().replace(second=0, microsecond=0)
    casting = _running_long_since(origin)
    problem, lookup = schedule_problem_build(origin=origin)
    op = _fixed_op(problem, lookup, casting)
    assert op.fixed is not None and op.fixed.start == -2 * 24 * 60
    machine = next(m for m in problem.machines if m.id == op.fixed.machine)
    rest = math.ceil(casting.run_minutes_per_unit * 40)  # its setup is behind it
    end = op.fixed.start + op.modes[0].run
    assert end == _working_end(machine.working, rest) > 0  # from now, in working time

    # The shop floor predicts a later end at the actual rate: the machine is held till then,
    # believed up to three times the planned rest (a rate from a few units can be far off).
    trusted = _working_end(machine.working, PREDICTION_TRUST * max(rest, 60))
    assert trusted > end + 10
    for predicted, held_until in (
        (end + 10, end + 10),
        (end + 300 * 24 * 60, trusted),  # three hundred days out: not believed
    ):
        OrderOperation.objects.filter(pk=casting.pk).update(
            predicted_end=origin + timedelta(minutes=predicted)
        )
        problem, lookup = schedule_problem_build(origin=origin)
        op = _fixed_op(problem, lookup, casting)
        assert op.fixed.start + op.modes[0].run == held_until

    # An earlier prediction does not shorten the planned rest.
    OrderOperation.objects.filter(pk=casting.pk).update(predicted_end=origin + timedelta(hours=1))
    problem, lookup = schedule_problem_build(origin=origin)
    op = _fixed_op(problem, lookup, casting)
    assert op.fixed.start + op.modes[0].run == end


def test_nothing_else_is_scheduled_on_a_machine_still_running_old_work(demo_plant):
    origin = timezone.now().replace(second=0, microsecond=0)
    casting = _running_long_since(origin)
    run = run_now()
    assert run.status == "done", run.error
    held = ScheduleAssignment.objects.get(run=run, operation=casting)
    assert held.end > timezone.now()  # still running: it ends after now, not two days ago
    others = ScheduleAssignment.objects.filter(run=run, equipment=held.equipment).exclude(
        operation=casting
    )
    assert all(a.start >= held.end or a.end <= held.start for a in others)


def _machining_ops(n: int) -> list:
    """Machining (20) of the demo's open orders, their casting marked done."""
    ops = list(
        OrderOperation.objects.filter(
            sequence=20, order__status__in=["planned", "released", "in_progress"]
        ).order_by("order__number")[:n]
    )
    assert len(ops) == n
    OrderOperation.objects.filter(order__in=[o.order_id for o in ops], sequence=10).update(
        status=OrderOperation.Status.DONE
    )
    return ops


def test_a_paused_and_a_running_operation_on_one_machine_still_schedule(demo_plant):
    """Paused for material on CNC-01, and the next task started there meanwhile: the running
    one holds the machine, the paused one's rest waits for it on CNC-01."""
    now = timezone.now()
    cnc = Equipment.objects.get(code="CNC-01")
    paused, running = _machining_ops(2)
    OrderOperation.objects.filter(pk=paused.pk).update(
        status="paused", actual_start=now - timedelta(days=2), equipment=cnc
    )
    OrderOperation.objects.filter(pk=running.pk).update(
        status="in_progress", actual_start=now - timedelta(hours=1), equipment=cnc
    )
    run = run_now()
    assert run.status == "done", run.error
    held = ScheduleAssignment.objects.get(run=run, operation=running)
    rest = ScheduleAssignment.objects.filter(run=run, operation=paused)
    assert (
        held.equipment == cnc
        and abs((held.start - (now - timedelta(hours=1))).total_seconds()) < 120
    )
    assert {a.equipment_id for a in rest} == {cnc.pk}
    assert all(a.start >= held.end for a in rest)


def test_two_started_on_one_machine_the_latest_holds_it(demo_plant):
    now = timezone.now()
    cnc = Equipment.objects.get(code="CNC-02")
    older, newer = _machining_ops(2)
    for op, hours in ((older, 30), (newer, 2)):
        OrderOperation.objects.filter(pk=op.pk).update(
            status="in_progress", actual_start=now - timedelta(hours=hours), equipment=cnc
        )
    run = run_now()
    assert run.status == "done", run.error
    held = ScheduleAssignment.objects.get(run=run, operation=newer)
    assert all(
        a.start >= held.end for a in ScheduleAssignment.objects.filter(run=run, operation=older)
    )


def test_a_running_operation_behind_a_blocked_one_still_schedules(demo_plant):
    """Machining runs on the first castings while casting waits for material: the started
    machining does not wait for the blocked casting."""
    now = timezone.now()
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    casting = order.operations.get(sequence=10)
    machining = order.operations.get(sequence=20)
    OrderOperation.objects.filter(pk=casting.pk).update(
        status="blocked", blocked_until=now + timedelta(days=3)
    )
    OrderOperation.objects.filter(pk=machining.pk).update(
        status="in_progress",
        actual_start=now - timedelta(hours=1),
        equipment=Equipment.objects.get(code="CNC-01"),
    )
    run = run_now()
    assert run.status == "done", run.error


def test_a_hold_ends_where_a_pinned_operation_starts(demo_plant):
    order = ProductionOrder.objects.get(number="MO-2026-00002")
    order.operations.filter(sequence=10).update(status=OrderOperation.Status.DONE)
    run_now()
    origin = timezone.now().replace(second=0, microsecond=0)
    pinned = order.operations.get(sequence=20)
    operation_freeze(operation=pinned)
    pinned.refresh_from_db()
    assert pinned.frozen and pinned.equipment_id and pinned.planned_start > origin
    other = ProductionOrder.objects.get(number="MO-2026-00001").operations.get(sequence=20)
    OrderOperation.objects.filter(pk=other.pk).update(
        status="in_progress",
        actual_start=origin - timedelta(hours=1),
        equipment_id=pinned.equipment_id,
        predicted_end=pinned.planned_start + timedelta(hours=5),
    )
    problem, lookup = schedule_problem_build(origin=origin)
    hold = _fixed_op(problem, lookup, other)
    pinned_at = (pinned.planned_start - origin).total_seconds() // 60
    assert hold.fixed.start + hold.modes[0].run <= pinned_at
    assert run_now().status == "done"


def test_a_pinned_lot_streamed_operation_keeps_its_place_behind_its_predecessor(demo_plant):
    """Machining of 450 blocks runs in shift-sized parts, each behind the casting part that
    made its share: pinned, its parts keep following those casting parts (not the last one)."""
    first = run_now()
    order = ProductionOrder.objects.get(number="MO-2026-00002")
    machining = order.operations.get(sequence=20)
    parts = ScheduleAssignment.objects.filter(run=first, operation=machining).count()
    assert parts > 1
    operation_freeze(operation=machining)
    problem, _ = schedule_problem_build(origin=first.horizon_start)
    result = engine.schedule_solve(problem, engine.SolveOptions(time_limit=2, workers=2))
    assert engine.schedule_check(problem, result.assignments) == []

"""Progress: plan vs actual, lag, delay prediction (hand-worked), roll-up and its API."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import Resolver404, include, path, resolve
from django.utils import timezone

from core.models import OutboxEvent
from execution.engines.progress import (
    GREEN,
    RED,
    YELLOW,
    OperationInput,
    OrderInput,
    WorkingCalendar,
    attainment_pct,
    is_lagging,
    minutes_per_unit,
    operation_progress,
    order_progress,
    order_reasons,
    planned_fraction,
    progress_colour,
)
from execution.models import LabourBooking, ProgressSnapshot, Task
from execution.selectors.progress import lag_reason_register, progress_compute, progress_live
from execution.services.progress import DELAY_TOPIC, progress_rollup_run
from execution.tasks import progress_rollup
from planning.models import OrderOperation, ProductionOrder

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=TZ)  # a Monday, start of the early shift


def _progress_urls() -> list:
    """The progress API routes, unless execution/api/urls.py already has them."""
    try:
        resolve("/api/v1/execution/progress/")
        return []
    except Resolver404:
        from execution import api_progress

        return [
            path("api/v1/execution/progress/", api_progress.ProgressView.as_view()),
            path("api/v1/execution/progress/rollup/", api_progress.ProgressRollupView.as_view()),
        ]


urlpatterns = [*_progress_urls(), path("", include("config.urls"))]


def two_shifts(first: datetime, days: int) -> WorkingCalendar:
    """Early + late shift (06:00–22:00) Monday to Saturday, like the demo plant."""
    spans = []
    for n in range(days):
        day = (first + timedelta(days=n)).date()
        if day.isoweekday() <= 6:
            spans.append((datetime.combine(day, time(6), TZ), datetime.combine(day, time(22), TZ)))
    return WorkingCalendar(spans, span=(first, first + timedelta(days=days)))


# --- colours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, colour",
    [
        (100, GREEN),
        (90, GREEN),
        (90.0, GREEN),
        (89.99, YELLOW),
        (89, YELLOW),
        (50, YELLOW),
        (49.99, RED),
        (49, RED),
        (0, RED),
        (250, GREEN),
    ],
)
def test_colour_thresholds(value, colour):
    assert progress_colour(value) == colour


def test_attainment_is_actual_over_planned_to_date():
    assert attainment_pct(45, 50) == 90.0 and progress_colour(attainment_pct(45, 50)) == GREEN
    assert progress_colour(attainment_pct(44.995, 50)) == YELLOW  # 89.99 %
    assert attainment_pct(25, 50) == 50.0 and progress_colour(attainment_pct(25, 50)) == YELLOW
    assert progress_colour(attainment_pct(24.995, 50)) == RED  # 49.99 %
    assert attainment_pct(0, 0) == 100.0  # nothing planned yet: on plan, green


# --- lag: planned 40 % by day 3, 25 % done -------------------------------------------------


def test_lag_planned_40_pct_by_day_3_actual_25_pct_wall_time():
    # Instants go into the arithmetic as epoch seconds.
    start = MONDAY.timestamp()
    end = (MONDAY + timedelta(days=7.5)).timestamp()  # 40 % of 7.5 days is 3 days
    now = (MONDAY + timedelta(days=3)).timestamp()
    assert planned_fraction(start, end, now) == pytest.approx(0.40)
    order = order_progress(OrderInput(1, "MO-1", 100.0, 25.0, 0.0, start, end), [], now)
    assert order.planned_pct == 40.0 and order.quantity_planned_to_date == 40.0
    assert order.completion_pct == 25.0
    assert order.attainment_pct == 62.5 and order.colour == YELLOW
    assert order.lagging and is_lagging(25, 40)
    assert not is_lagging(36, 40)  # 90 % of plan is on plan


def test_lag_in_working_time_ignores_nights():
    # Monday 06:00 → Friday 22:00 on two shifts is 5 × 16 = 80 working hours. By Wednesday
    # 05:00 two days (32 h) are worked: 40 % planned, although 47 of 112 wall hours passed.
    calendar = two_shifts(MONDAY - timedelta(days=1), 14)
    start, end = MONDAY, MONDAY + timedelta(days=4, hours=16)
    assert calendar.working_minutes(start, end) == 80 * 60
    start, end = start.timestamp(), end.timestamp()
    wednesday_5am = (MONDAY + timedelta(days=2) - timedelta(hours=1)).timestamp()
    assert planned_fraction(start, end, wednesday_5am, calendar) == pytest.approx(0.40)
    order = order_progress(
        OrderInput(1, "MO-1", 100.0, 25.0, 0.0, start, end), [], wednesday_5am, calendar
    )
    assert order.planned_pct == 40.0 and order.attainment_pct == 62.5 and order.lagging


def test_nothing_planned_is_green_and_not_lagging():
    order = order_progress(
        OrderInput(1, "MO-1", 100.0, 0.0, 0.0, None, None), [], MONDAY.timestamp()
    )
    assert order.quantity_planned_to_date == 0 and order.colour == GREEN and not order.lagging


# --- delay: 1.2 h per unit against 1.0 h planned ------------------------------------------


def _op(**extra) -> OperationInput:
    values = dict(
        id=7,
        sequence=20,
        name="Machining",
        order_quantity=50.0,
        quantity_done=10.0,
        quantity_scrap=0.0,
        status="in_progress",
        planned_start_ts=MONDAY.timestamp(),
        planned_end_ts=(MONDAY + timedelta(hours=50)).timestamp(),  # 50 units × 1.0 h
        setup_minutes=0.0,
        run_minutes_per_unit=60.0,
        booked_minutes=720.0,  # 10 units took 12 h: 1.2 h each
    )
    values.update(extra)
    return OperationInput(**values)


def at(hours: float) -> float:
    """Monday 06:00 + hours, in epoch seconds."""
    return (MONDAY + timedelta(hours=hours)).timestamp()


def test_delay_predicted_from_the_actual_rate_wall_time():
    now = at(12)
    op = operation_progress(_op(), now)
    assert op.actual_minutes_per_unit == 72.0 and op.planned_minutes_per_unit == 60.0
    # 40 units left × 1.2 h = 48 h from now (hour 12) → hour 60, planned end hour 50.
    assert op.remaining_hours == 48.0
    assert op.predicted_end == MONDAY + timedelta(hours=60)
    assert op.delay_hours == 10.0 and op.delayed
    order = order_progress(OrderInput(3, "MO-3", 50.0, 0.0, 0.0, at(0), at(50)), [op], now)
    assert order.predicted_end == MONDAY + timedelta(hours=60)
    assert order.delay_hours == 10.0 and order.delayed
    reasons = order_reasons(order)
    assert any(r.type == "operation_delayed" and "72 min/unit" in r.text for r in reasons)


def test_running_span_counts_towards_the_rate():
    assert minutes_per_unit(600.0, 120.0, 10.0) == 72.0
    assert minutes_per_unit(600.0, 0.0, 0.0) is None  # nothing made yet: no rate
    op = operation_progress(_op(booked_minutes=600.0, running_minutes=120.0), at(12))
    assert op.delay_hours == 10.0


def test_predicted_end_in_working_time():
    # Friday 20:00, 10 units left at 72 min = 12 working hours: 2 h on Friday's late shift,
    # then Saturday 06:00 + 10 h = Saturday 16:00.
    calendar = two_shifts(MONDAY - timedelta(days=1), 14)
    friday_8pm = at(4 * 24 + 14)
    op = operation_progress(
        _op(quantity_done=40.0, booked_minutes=40 * 72.0, planned_end_ts=at(4 * 24 + 16)),
        friday_8pm,
        calendar,
    )
    assert op.predicted_end == MONDAY + timedelta(days=5, hours=10)
    assert op.delay_hours == 18.0  # Friday 22:00 → Saturday 16:00


def test_on_plan_rate_is_not_delayed_and_unstarted_work_is_assumed_on_plan():
    now = at(10)
    op = operation_progress(_op(booked_minutes=600.0), now)  # 1.0 h per unit
    assert op.predicted_end == MONDAY + timedelta(hours=50) and op.delay_hours == 0
    later = operation_progress(
        _op(
            quantity_done=0.0,
            booked_minutes=0.0,
            status="pending",
            planned_start_ts=at(60),
            planned_end_ts=at(110),
        ),
        now,
    )
    assert later.predicted_end == MONDAY + timedelta(hours=110) and later.delay_hours == 0
    missed = operation_progress(
        _op(quantity_done=0.0, booked_minutes=0.0, status="ready", setup_minutes=30.0),
        at(40),
    )
    # Not started 40 h into a 50 h window: 30 min setup + 50 h from now.
    assert missed.delay_hours == 40.5


# --- live progress and the roll-up on the demo plant ----------------------------------------


def _scheduled(order: ProductionOrder, start: datetime, hours: float) -> None:
    ProductionOrder.objects.filter(pk=order.pk).update(
        planned_start=start, planned_end=start + timedelta(hours=hours)
    )
    OrderOperation.objects.filter(order=order).update(
        planned_start=start, planned_end=start + timedelta(hours=hours)
    )


@pytest.mark.django_db
def test_live_progress_of_a_lagging_order_names_its_reasons(released):
    now = timezone.now()
    _scheduled(released, now - timedelta(days=2), 24 * 4)
    casting = Task.objects.get(order=released, operation__sequence=10)
    Task.objects.filter(pk=casting.pk).update(status=Task.Status.PAUSED, pause_reason="Die change")
    (order,) = progress_live(now=now, order_ids=[released.pk])
    p = order.progress
    assert p.quantity_planned_to_date > 0 and p.quantity_done == 0
    assert p.colour == RED and p.lagging
    types = {r.type for r in p.reasons}
    assert {"material_shortage", "task_paused", "operation_lagging"} <= types
    paused = next(r for r in p.reasons if r.type == "task_paused")
    assert "Die change" in paused.text and paused.ref == f"execution.task:{casting.pk}"
    shortage = next(r for r in p.reasons if r.type == "material_shortage")
    assert "BRG-6205" in shortage.text and shortage.ref.startswith("execution.materialshortage:")


@pytest.mark.django_db
def test_other_apps_add_reasons_through_the_registry(released):
    from execution.selectors import progress as selector

    def downtime(*, order_ids):
        return {released.pk: [{"type": "downtime", "text": "CNC-01 down", "ref": "x:1"}]}

    lag_reason_register(downtime)
    try:
        (order,) = progress_live(order_ids=[released.pk])
    finally:
        selector._reason_providers.remove(downtime)
    assert any(r.type == "downtime" and r.ref == "x:1" for r in order.progress.reasons)


# Casting of the 50 blocks, planned at 1.0 h per unit from Monday 06:00: 50 working hours on
# two shifts end Thursday 08:00. By Monday 18:00 10 blocks took 12 h (1.2 h each) and the
# task is paused. 40 left × 1.2 h = 48 working hours: Monday 18–22, Tuesday, Wednesday,
# Thursday 06–18 → predicted Thursday 18:00, 10 h late.
NOW = MONDAY + timedelta(hours=12)
PLANNED_END = MONDAY + timedelta(days=3, hours=2)
PREDICTED_END = MONDAY + timedelta(days=3, hours=12)


def _delayed_casting(order: ProductionOrder) -> None:
    ProductionOrder.objects.filter(pk=order.pk).update(
        planned_start=MONDAY, planned_end=PLANNED_END
    )
    OrderOperation.objects.filter(order=order, sequence=10).update(
        planned_start=MONDAY,
        planned_end=PLANNED_END,
        run_minutes_per_unit=Decimal(60),
        quantity_done=Decimal(10),
        status=OrderOperation.Status.PAUSED,
    )
    task = Task.objects.get(order=order, operation__sequence=10)
    Task.objects.filter(pk=task.pk).update(
        status=Task.Status.PAUSED, pause_reason="Waiting for a crane", quantity_good=10
    )
    LabourBooking.objects.create(
        operator=task.operator, task=task, started_at=MONDAY, ended_at=NOW, quantity_good=10
    )


@pytest.mark.django_db
def test_rollup_through_celery_is_idempotent_within_the_hour(released):
    _delayed_casting(released)
    first = progress_rollup.delay(at=NOW.isoformat()).get()
    snapshots = ProgressSnapshot.objects.count()
    operations = released.operations.count()
    assert first["created"] == snapshots and snapshots >= 1 + operations
    order_snap = ProgressSnapshot.objects.get(order=released, operation__isnull=True)
    assert order_snap.taken_at == NOW.replace(minute=0)
    casting = ProgressSnapshot.objects.get(order=released, operation__sequence=10)
    assert casting.quantity_done == 10
    assert casting.quantity_planned_to_date == 12  # 12 of 50 working hours
    assert casting.completion_pct == 20 and casting.planned_pct == 24
    assert casting.actual_minutes_per_unit == Decimal("72.0000")
    assert casting.planned_minutes_per_unit == Decimal("60.0000")
    assert casting.remaining_hours == Decimal("48.00")
    assert casting.predicted_end == PREDICTED_END and casting.delay_hours == Decimal("10.00")
    assert casting.lagging  # 10 made of 12 planned: 83 %
    assert order_snap.delay_hours == Decimal("10.00") and order_snap.lagging
    assert order_snap.predicted_end == PREDICTED_END
    assert any(r["type"] == "task_paused" for r in order_snap.reasons)
    delays = OutboxEvent.objects.filter(topic=DELAY_TOPIC)
    assert delays.count() == 1
    payload = delays.get().payload
    assert payload["order_id"] == released.pk and payload["delay_hours"] == "10.00"
    assert datetime.fromisoformat(payload["predicted_end"]) == PREDICTED_END

    again = progress_rollup.delay(at=(NOW + timedelta(seconds=30)).isoformat()).get()
    assert again["created"] == 0 and again["updated"] == first["created"]
    assert ProgressSnapshot.objects.count() == snapshots
    assert delays.count() == 1  # nothing new to announce


@pytest.mark.django_db
def test_rollup_next_hour_adds_snapshots_and_reannounces_only_a_grown_delay(released):
    _delayed_casting(released)
    progress_rollup_run(now=NOW)
    count = ProgressSnapshot.objects.count()
    progress_rollup_run(now=NOW + timedelta(hours=1))  # an idle hour: 10 → 11 h late
    assert ProgressSnapshot.objects.count() == 2 * count
    assert OutboxEvent.objects.filter(topic=DELAY_TOPIC).count() == 1
    progress_rollup_run(now=NOW + timedelta(hours=3))  # 13 h: past the next 4 h step
    assert OutboxEvent.objects.filter(topic=DELAY_TOPIC).count() == 2


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_progress_api(released, api_as):
    _delayed_casting(released)
    assert api_as("zhangsan").post("/api/v1/execution/progress/rollup/").status_code == 403
    ran = api_as("sunqi").post("/api/v1/execution/progress/rollup/")
    assert ran.status_code == 202 and ran.json()["status"] == "done"
    assert ran.json()["result"]["created"] > 0
    rows = api_as("zhangsan").get("/api/v1/execution/progress/?order=MO-2026-00001").json()
    assert rows[0]["operation"] is None and rows[0]["order"] == "MO-2026-00001"
    assert [r["sequence"] for r in rows[1:]] == [10, 20, 30, 40]
    assert rows[1]["actual_minutes_per_unit"] == "72.0000" and rows[0]["lagging"] is True
    assert api_as("zhouba").get("/api/v1/execution/progress/").status_code == 400
    assert api_as("zhouba").get("/api/v1/execution/progress/?order=NOPE").status_code == 404


def test_board_figures_equal_the_rollup_of_the_operation_forecasts(released):
    """`progress_compute` sums the order figures as it goes (no object per operation);
    they must equal `order_progress` over each operation's `operation_forecast`, for
    orders in every state: closed, cancelled, running with booked labour and a start,
    not started, with and without their own planned windows."""
    import random

    from resources.models import Operator
    from tests.execution.test_board import bulk_orders

    rng = random.Random(7)
    orders = bulk_orders(60, "MO-EQ")
    now = timezone.now()
    operator = Operator.objects.first()
    OperationStatus = OrderOperation.Status
    for order in orders:
        if rng.random() < 0.3:  # no window of its own: the operations' span counts
            ProductionOrder.objects.filter(pk=order.pk).update(planned_start=None)
        ProductionOrder.objects.filter(pk=order.pk).update(
            quantity_done=Decimal(rng.randint(0, 100))
        )
        for op in order.operations.all():
            status = rng.choice(
                [
                    OperationStatus.PENDING,
                    OperationStatus.READY,
                    OperationStatus.IN_PROGRESS,
                    OperationStatus.PAUSED,
                    OperationStatus.DONE,
                    OperationStatus.CANCELLED,
                ]
            )
            start = now - timedelta(hours=rng.uniform(-20, 100))
            fields = {
                "status": status,
                "quantity_done": Decimal(rng.randint(0, 120)),
                "quantity_scrap": Decimal(rng.randint(0, 5)),
                "planned_start": None if rng.random() < 0.2 else start,
                "planned_end": None
                if rng.random() < 0.2
                else start + timedelta(hours=rng.uniform(1, 80)),
                "actual_end": now - timedelta(hours=1) if status == OperationStatus.DONE else None,
            }
            OrderOperation.objects.filter(pk=op.pk).update(**fields)
            task = op.task
            if status == OperationStatus.IN_PROGRESS:
                Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING)
                ended = now - timedelta(hours=rng.uniform(1, 30))
                LabourBooking.objects.create(
                    operator=operator,
                    task=task,
                    started_at=ended - timedelta(minutes=rng.uniform(10, 900)),
                    ended_at=ended,
                )
                if rng.random() < 0.7:
                    from execution.models import ProductionEvent

                    ProductionEvent.objects.create(
                        event_id=f"eq-start-{task.pk}",
                        kind=ProductionEvent.Kind.RESUME,
                        task=task,
                        order_id=order.pk,
                        operation_id=op.pk,
                        occurred_at=now - timedelta(minutes=rng.uniform(1, 300)),
                    )

    live = progress_compute(now=now)
    assert len(live) >= 60
    for order in live:
        fused = order.progress
        # The order's own row as the database gave it (its window as epoch seconds).
        number_etc = order._source[0]
        own = OrderInput(*(number_etc[i] for i in (0, 1, 3, 4, 5, 9, 10)))
        ops = order.operations  # made now, each with `operation_forecast`
        calendar = ops[-1].calendar if ops else WorkingCalendar()
        reference = order_progress(own, [op.progress for op in ops], now.timestamp(), calendar)
        for name in reference.__slots__:
            if name not in ("operations", "reasons"):
                assert getattr(fused, name) == getattr(reference, name), (fused.number, name)


def test_board_calendars_leave_out_holidays_in_three_queries(demo_plant, django_assert_num_queries):
    from execution.selectors.progress import work_center_calendars
    from resources.models import Holiday, WorkCenter
    from resources.selectors.calendar import work_center_working_intervals

    centers = list(WorkCenter.objects.select_related("area__site"))
    site = centers[0].area.site
    start = datetime(2026, 3, 2, 0, 0, tzinfo=TZ)  # Monday
    end = start + timedelta(days=7)
    Holiday.objects.create(site=site, date=datetime(2026, 3, 4).date(), name="Plant day")
    with django_assert_num_queries(3):
        calendars = work_center_calendars({wc.pk for wc in centers}, start, end)
    assert set(calendars) == {wc.pk for wc in centers}
    for wc in centers:
        # The same as the one-work-center function, which loads the holidays itself.
        assert calendars[wc.pk] == work_center_working_intervals(wc, start, end)
        days = {s.astimezone(TZ).date() for s, _e in calendars[wc.pk]}
        if calendars[wc.pk]:
            assert datetime(2026, 3, 4).date() not in days
            assert datetime(2026, 3, 3).date() in days


def test_one_snapshot_per_order_operation_and_hour(released):
    from django.db import IntegrityError, transaction

    now = timezone.now()
    hour = datetime.fromisoformat(progress_rollup_run(now=now)["taken_at"])
    order_row = ProgressSnapshot.objects.get(order=released, operation=None, taken_at=hour)
    op_row = ProgressSnapshot.objects.filter(order=released, taken_at=hour).exclude(operation=None)[
        0
    ]
    for row in (order_row, op_row):
        row.pk = None
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save(force_insert=True)
    progress_rollup_run(now=now)  # the same hour again: rewritten, not doubled
    assert (
        ProgressSnapshot.objects.filter(order=released, operation=None, taken_at=hour).count() == 1
    )

"""OEE read from the database: shifts, holidays, maintenance, intervals and counts."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from devices.engines.oee import BREAKDOWN
from devices.models import DowntimeReason, ProductionCount, StateInterval
from devices.selectors.oee import OUTSIDE, equipment_timeline, oee_report
from devices.services.count_hours import count_rows_write
from resources.models import Holiday, MaintenanceWindow
from tests.factories import EquipmentFactory, ShiftFactory, WorkCenterFactory

# The figures are those of Tuesday 2026-12-08, read on the Wednesday morning after.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
TZ = ZoneInfo("Asia/Shanghai")
TUE = date(2026, 12, 8)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


def machine(wc=None, code=None, rated=60):
    """A machine on two shifts (06–14, 14–22, Mon–Fri, 30 min break on the early one)."""
    if wc is None:
        wc = WorkCenterFactory()
        ShiftFactory(
            work_center=wc, name="early", start_time=time(6), end_time=time(14), break_minutes=30
        )
        ShiftFactory(work_center=wc, name="late", start_time=time(14), end_time=time(22))
    kwargs = {"code": code} if code else {}
    return EquipmentFactory(work_center=wc, rated_rate=rated, **kwargs)


def day_of(eq, day: date, *, fault_reason=None):
    """Running 06–22 with a 40-minute fault at 09:00 and a 30-minute idle at 12:00 (the
    break); 60 parts an hour at the rated 60/h, 2 rejects an hour in the early shift."""
    rows = [
        ("running", at(day, 6), at(day, 9)),
        ("fault", at(day, 9), at(day, 9, 40)),
        ("running", at(day, 9, 40), at(day, 12)),
        ("idle", at(day, 12), at(day, 12, 30)),
        ("running", at(day, 12, 30), at(day, 22)),
        ("stopped", at(day, 22), at(day + timedelta(days=1), 6)),
    ]
    for state, s, e in rows:
        StateInterval.objects.create(
            equipment=eq,
            state=state,
            start=s,
            end=e,
            reason=fault_reason if state == "fault" else None,
        )
    for h in range(7, 23):
        count_rows_write(
            [ProductionCount(equipment=eq, at=at(day, h), total=40, good=38 if h <= 14 else 40)]
        )


def test_day_and_shift_figures_with_counts_outside_shifts():
    eq = machine()
    reason = DowntimeReason.objects.create(
        code="SPINDLE", name="Spindle overload", loss="breakdown"
    )
    day_of(eq, TUE, fault_reason=reason)
    count_rows_write([ProductionCount(equipment=eq, at=at(TUE, 23), total=15, good=15)])

    report = oee_report(first_day=TUE, last_day=TUE, by="shift")
    (m,) = report.machines
    early, late, outside = m.rows
    assert (early.shift, late.shift, outside.shift) == ("early", "late", OUTSIDE)
    # Early: planned 480 − 30 = 450, run 410; 8 reads (07..14) of 40 = 320 parts, 304 good.
    assert early.figures.planned_busy_minutes == pytest.approx(450)
    assert early.figures.run_minutes == pytest.approx(410)
    assert (early.figures.total, early.figures.good) == (320, 304)
    assert early.figures.losses[BREAKDOWN] == pytest.approx(40)
    assert round(early.figures.oee, 4) == round(304 / 450, 4)
    # Late: 480 planned, all running; 8 reads (15..22) of 40 at 60 s ideal → P = 320/480.
    assert late.figures.availability == 1
    assert late.figures.performance == pytest.approx(320 / 480)
    assert outside.figures.outside_total == 15 and outside.figures.total == 0
    assert m.figures.outside_total == 15
    assert early.figures.reasons[(BREAKDOWN, "Spindle overload")].minutes == pytest.approx(40)
    # 304/450 = 68 %: reduced speed (410 − 320 = 90 min) dominates the breakdowns (40).
    assert early.figures.diagnosis().loss == "speed"

    by_day = oee_report(first_day=TUE, last_day=TUE, by="day")
    (row,) = by_day.machines[0].rows
    assert row.figures.planned_busy_minutes == pytest.approx(930)
    assert row.figures.outside_total == 15
    assert by_day.plant.oee == pytest.approx(m.figures.oee)


def test_holidays_and_maintenance_windows_are_not_planned():
    eq = machine()
    day_of(eq, TUE)
    Holiday.objects.create(site=eq.work_center.area.site, date=TUE, name="Plant day")
    report = oee_report(first_day=TUE, last_day=TUE)
    fig = report.machines[0].figures
    assert fig.planned_busy_minutes == 0 and fig.oee is None
    assert fig.outside_total == 16 * 40  # every count kept, outside planned time

    Holiday.objects.all().delete()
    MaintenanceWindow.objects.create(equipment=eq, start=at(TUE, 14), end=at(TUE, 16))
    fig = oee_report(first_day=TUE, last_day=TUE).machines[0].figures
    assert fig.maintenance_minutes == pytest.approx(120)
    assert fig.planned_busy_minutes == pytest.approx(930 - 120)
    # The reads at 15:00 and 16:00 fall in the maintenance window: outside planned time.
    assert fig.outside_total == 80


def test_open_interval_runs_to_now():
    eq = machine()
    wed = TUE + timedelta(days=1)
    StateInterval.objects.create(equipment=eq, state="running", start=at(wed, 6), end=at(wed, 8))
    StateInterval.objects.create(equipment=eq, state="fault", start=at(wed, 8))
    report = oee_report(first_day=wed, last_day=wed, now=at(wed, 10))
    m = report.machines[0]
    assert m.state == "fault"
    assert m.figures.shift_minutes == pytest.approx(240)
    assert m.figures.losses[BREAKDOWN] == pytest.approx(120)
    start, end, rows = equipment_timeline(eq, wed, now=at(wed, 10))
    assert [(r[0].state, r[1], r[2]) for r in rows] == [
        ("running", at(wed, 6), at(wed, 8)),
        ("fault", at(wed, 8), at(wed, 10)),
    ]


def test_work_center_and_plant_roll_ups_sum_the_machines():
    a = machine(code="OEE-A")
    b = machine(wc=a.work_center, code="OEE-B")
    c = machine(code="OEE-C")
    day_of(a, TUE)
    day_of(c, TUE)
    report = oee_report(first_day=TUE, last_day=TUE)
    assert [g.code for g in report.work_centers] == sorted([a.work_center.code, c.work_center.code])
    wc = next(g for g in report.work_centers if g.code == a.work_center.code)
    assert [m.equipment.code for m in wc.machines] == ["OEE-A", "OEE-B"]
    # B has no intervals: all its planned time is unknown, so it neither helps nor hurts A.
    assert wc.figures.unknown_minutes == pytest.approx(930)
    assert wc.figures.availability == pytest.approx(report.machines[0].figures.availability)
    assert report.plant.planned_busy_minutes == pytest.approx(3 * 930)
    only = oee_report(first_day=TUE, last_day=TUE, work_center_code=c.work_center.code)
    assert [m.equipment.code for m in only.machines] == ["OEE-C"]
    assert b.code not in [m.equipment.code for m in only.machines]


def test_query_count_does_not_grow_with_machines_or_days(django_assert_num_queries):
    wc = WorkCenterFactory()
    ShiftFactory(work_center=wc, name="early", start_time=time(6), end_time=time(14))
    first = machine(wc=wc)
    day_of(first, TUE)
    with django_assert_num_queries(8):
        oee_report(first_day=TUE, last_day=TUE)
    for _ in range(4):
        eq = machine(wc=wc)
        for d in range(3):
            day_of(eq, TUE - timedelta(days=d))
        MaintenanceWindow.objects.create(equipment=eq, start=at(TUE, 7), end=at(TUE, 8))
    with django_assert_num_queries(8):
        report = oee_report(first_day=TUE - timedelta(days=6), last_day=TUE)
    assert len(report.machines) == 5 and len(report.days) == 7


def test_counts_summed_per_hour_give_the_figures_of_every_read():
    """A read a minute with rejects here and there, a maintenance window off the hour and
    `now` inside an hour: the hourly sums (and the hours read row by row) give exactly what
    the engine gives on the raw rows."""
    import random

    from devices.engines.oee import Count, Span, oee_compute
    from devices.selectors.oee import _windows

    eq = machine()
    rng = random.Random(7)
    wed = TUE + timedelta(days=1)
    t = at(TUE, 5)
    while t < at(wed, 9):
        state = "running" if rng.random() < 0.7 else rng.choice(["stopped", "fault", "idle"])
        length = timedelta(minutes=rng.uniform(1, 50))
        StateInterval.objects.create(equipment=eq, state=state, start=t, end=t + length)
        t += length
    StateInterval.objects.create(equipment=eq, state="running", start=t)
    rows = []
    c = at(TUE, 5, 0)
    while c < at(wed, 12):
        c += timedelta(seconds=rng.uniform(30, 90))
        total = rng.randint(0, 3)
        good = None if rng.random() < 0.1 else total - (1 if total and rng.random() < 0.1 else 0)
        cycle = None if rng.random() < 0.2 else 55.0
        rows.append(
            ProductionCount(equipment=eq, at=c, total=total, good=good, ideal_cycle_seconds=cycle)
        )
    rows.append(ProductionCount(equipment=eq, at=at(TUE, 14), total=5, good=5))  # on the edge
    count_rows_write(rows)
    MaintenanceWindow.objects.create(equipment=eq, start=at(TUE, 10, 15), end=at(TUE, 11, 45))
    now = at(wed, 10, 37)

    report = oee_report(first_day=TUE, last_day=wed, now=now)
    per_window, outside = oee_compute(
        windows=_windows(eq, TUE, wed, set()),
        spans=[Span(i.state, i.start, i.end) for i in StateInterval.objects.filter(equipment=eq)],
        counts=[
            Count(r.at, r.total, r.good, r.ideal_cycle_seconds)
            for r in ProductionCount.objects.filter(equipment=eq)
        ],
        maintenance=[(at(TUE, 10, 15), at(TUE, 11, 45))],
        now=now,
        rated_cycle_seconds=60.0,
        period=(at(TUE, 0), at(wed + timedelta(days=1), 0)),
    )
    exact = oee_combine_all([f for _, f in per_window], outside)
    got = report.machines[0].figures
    assert (got.total, got.good, got.outside_total, got.outside_good) == (
        exact.total,
        exact.good,
        exact.outside_total,
        exact.outside_good,
    )
    assert (got.startup_rejects, got.production_rejects) == (
        exact.startup_rejects,
        exact.production_rejects,
    )
    assert got.ideal_minutes == pytest.approx(exact.ideal_minutes)
    assert got.oee == pytest.approx(exact.oee)
    assert got.total > 1000


def oee_combine_all(figures, outside):
    from devices.engines.oee import oee_combine, outside_add

    return outside_add(oee_combine(figures), outside)


def test_instants_read_as_microseconds_are_exact():
    """The report reads instants as integer microseconds computed by the database (SQLite:
    from its text; PostgreSQL: from date_part's float): exact to the microsecond, with and
    without a fraction of a second, before and after the year 2038."""
    from devices.engines.oee import instant_us
    from devices.selectors.oee import EpochMicroseconds

    eq = machine()
    instants = [
        at(TUE, 6),
        at(TUE, 6) + timedelta(microseconds=1),
        at(TUE, 23, 59) + timedelta(seconds=59, microseconds=999_999),
        datetime(2026, 12, 8, 3, 7, 1, 500_000, tzinfo=TZ),
        datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=TZ),
        datetime(2040, 6, 1, 0, 0, 0, 123_457, tzinfo=ZoneInfo("UTC")),
    ]
    for t in instants:
        StateInterval.objects.create(equipment=eq, state="idle", start=t, end=t)
    got = sorted(
        StateInterval.objects.filter(equipment=eq).values_list(
            EpochMicroseconds("start"), EpochMicroseconds("end")
        )
    )
    assert got == sorted((instant_us(t), instant_us(t)) for t in instants)
    assert all(type(a) is int for a, _ in got)
    StateInterval.objects.create(equipment=eq, state="running", start=at(TUE, 7))
    assert (
        StateInterval.objects.filter(end__isnull=True)
        .values_list(EpochMicroseconds("end"), flat=True)
        .get()
        is None
    )


def test_report_leaves_the_garbage_collector_as_it_found_it(monkeypatch):
    """The report pauses the cyclic collector while it runs, and only then (also when it
    fails)."""
    import gc

    from devices.selectors import oee as selectors

    day_of(machine(), TUE)
    seen = []
    real = selectors.oee_compute_us

    def spy(**kwargs):
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(selectors, "oee_compute_us", spy)
    assert gc.isenabled()
    oee_report(first_day=TUE, last_day=TUE)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ValueError):
        oee_report(first_day=TUE, last_day=TUE, by="week")
    assert gc.isenabled()
    gc.disable()
    try:
        oee_report(first_day=TUE, last_day=TUE)
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
    assert seen == [False, False]

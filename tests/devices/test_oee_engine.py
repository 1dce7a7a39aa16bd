"""The OEE engine (ISO 22400) on cases worked by hand."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devices.engines.oee import (
    BREAKDOWN,
    IDLE_LOSS,
    PRODUCTION_REJECTS,
    SETUP,
    SMALL_STOP,
    SPEED,
    STARTUP_REJECTS,
    Count,
    OeeSettings,
    Span,
    Window,
    instant_us,
    oee_combine,
    oee_compute,
    oee_compute_us,
)

from .oee_reference import oee_compute_reference

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 9)


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=TZ)


def shift(break_minutes: float = 0, breaks=(), start=6, end=14) -> Window:
    return Window(DAY, "early", at(start), at(end), break_minutes, tuple(breaks))


def one(*, windows=None, spans=(), counts=(), maintenance=(), now=None, rated=None, **kw):
    results, outside = oee_compute(
        windows=[shift()] if windows is None else windows,
        spans=list(spans),
        counts=list(counts),
        maintenance=list(maintenance),
        now=now or at(23),
        rated_cycle_seconds=rated,
        **kw,
    )
    return oee_combine(fig for _, fig in results), outside


def test_worked_example():
    """One early shift 06:00–14:00 with a 30-minute break, ideal cycle 60 s.

    States: running 06:00–09:00 (180 min), fault 09:00–09:40 (40), running 09:40–12:00
    (140), idle 12:00–12:30 (30: the break is taken here), running 12:30–14:00 (90).
    Planned busy time = 480 − 30 = 450 min; run time = 180 + 140 + 90 = 410 min.
    Counts: 360 parts, 342 good (3 rejects at 09:45, inside the 10-minute start-up window
    after the fault; 15 later).

    A = 410 / 450 = 0.9111 → 0.91
    P = 360 × 1 min / 410 = 0.8780 → 0.88
    Q = 342 / 360 = 0.95
    OEE = 0.9111 × 0.8780 × 0.95 = 342 / 450 = 0.76
    Losses: breakdowns 40 min, reduced speed 410 − 360 = 50 min, start-up rejects 3 × 1 =
    3 min, production rejects 15 × 1 = 15 min, idle 0 (the break). A read at 15:00 after
    the shift (10 parts) is kept outside OEE.
    """
    spans = [
        Span("running", at(6), at(9)),
        Span("fault", at(9), at(9, 40), reason="Spindle overload", loss="breakdown"),
        Span("running", at(9, 40), at(12)),
        Span("idle", at(12), at(12, 30)),
        Span("running", at(12, 30), at(14)),
        Span("running", at(14), None),
    ]
    reads = [(7, 0, 60, 60), (8, 0, 60, 60), (9, 0, 60, 55), (9, 45, 5, 2), (11, 0, 75, 70)]
    reads += [(12, 0, 40, 35), (13, 0, 30, 30), (14, 0, 30, 30), (15, 0, 10, 10)]
    counts = [Count(at(h, m), t, g, 60.0) for h, m, t, g in reads]
    fig, outside = one(windows=[shift(30)], spans=spans, counts=counts, now=at(16))

    assert fig.planned_busy_minutes == pytest.approx(450)
    assert fig.run_minutes == pytest.approx(410)
    assert round(fig.availability, 2) == 0.91
    assert round(fig.performance, 2) == 0.88
    assert round(fig.quality, 2) == 0.95
    assert round(fig.oee, 2) == 0.76
    assert fig.oee == pytest.approx(342 / 450)
    assert fig.losses[BREAKDOWN] == pytest.approx(40)
    assert fig.losses[SPEED] == pytest.approx(50)
    assert fig.losses[STARTUP_REJECTS] == pytest.approx(3)
    assert fig.losses[PRODUCTION_REJECTS] == pytest.approx(15)
    assert fig.losses[IDLE_LOSS] == pytest.approx(0)
    assert fig.break_minutes == pytest.approx(30)
    assert (fig.total, fig.good) == (360, 342)
    assert [(c.at, c.total) for c in outside] == [(at(15), 10)]
    # Below 80 %: reduced speed dominates (50 min), then breakdowns.
    diagnosis = fig.diagnosis()
    assert diagnosis.loss == SPEED and diagnosis.minutes == pytest.approx(50)


def test_breakdowns_are_fault_time_and_unplanned_maintenance():
    spans = [
        Span("running", at(6), at(8)),
        Span("fault", at(8), at(8, 30)),
        Span("running", at(8, 30), at(10)),
        Span("maintenance", at(10), at(10, 15)),
        Span("running", at(10, 15), at(14)),
    ]
    fig, _ = one(spans=spans)
    assert fig.losses[BREAKDOWN] == pytest.approx(45)
    assert fig.run_minutes == pytest.approx(435)
    assert fig.availability == pytest.approx(435 / 480)


def test_setup_is_stop_time_with_a_setup_reason():
    spans = [
        Span("running", at(6), at(8)),
        Span("stopped", at(8), at(8, 20), reason="Die change", loss="setup"),
        Span("running", at(8, 20), at(14)),
    ]
    fig, _ = one(spans=spans)
    assert fig.losses[SETUP] == pytest.approx(20)
    assert fig.reasons[(SETUP, "Die change")].minutes == pytest.approx(20)


def test_small_stops_are_marked_or_shorter_than_the_threshold():
    spans = [
        Span("running", at(6), at(7)),
        Span("stopped", at(7), at(7, 5), small_stop=True),  # marked: 5 min
        Span("running", at(7, 5), at(8)),
        Span("stopped", at(8), at(8, 1, 30)),  # 90 s < 120 s threshold
        Span("running", at(8, 1, 30), at(9)),
        Span("stopped", at(9), at(9, 3)),  # 3 min, unmarked: another stop
        Span("running", at(9, 3), at(14)),
    ]
    fig, _ = one(spans=spans)
    assert fig.losses[SMALL_STOP] == pytest.approx(6.5)
    assert fig.losses["other_stop"] == pytest.approx(3)
    fig, _ = one(spans=spans, settings=OeeSettings(small_stop_seconds=240))
    assert fig.losses[SMALL_STOP] == pytest.approx(9.5)


def test_reduced_speed_is_run_time_less_ideal_time():
    spans = [Span("running", at(6), at(7)), Span("stopped", at(7), at(14))]
    counts = [Count(at(7), 30, 30, None)]
    # No routing cycle on the count: the rated rate's 60 s does.
    fig, _ = one(spans=spans, counts=counts, rated=60.0)
    assert fig.losses[SPEED] == pytest.approx(30)
    assert fig.performance == pytest.approx(0.5)


def test_startup_rejects_follow_a_stop_production_rejects_do_not():
    spans = [
        Span("running", at(6), at(7)),
        Span("stopped", at(7), at(7, 30)),
        Span("running", at(7, 30), at(14)),
    ]
    counts = [
        Count(at(6, 30), 20, 20, 30.0),
        Count(at(7, 35), 10, 6, 30.0),  # 4 rejects 5 min after the restart
        Count(at(7, 45), 10, 9, 30.0),  # 15 min after: outside the 10-minute start-up window
        Count(at(9), 50, 48, 30.0),
    ]
    fig, _ = one(spans=spans, counts=counts)
    assert fig.startup_rejects == 4
    assert fig.losses[STARTUP_REJECTS] == pytest.approx(4 * 0.5)
    assert fig.production_rejects == 3
    assert fig.losses[PRODUCTION_REJECTS] == pytest.approx(3 * 0.5)
    # A wider start-up window takes the 07:45 reject too.
    fig, _ = one(spans=spans, counts=counts, settings=OeeSettings(startup_seconds=1200))
    assert (fig.startup_rejects, fig.production_rejects) == (5, 2)


def test_no_planned_time():
    """No shift in the period: nothing to divide by, and the counts are kept outside."""
    spans = [Span("running", at(6), at(14))]
    counts = [Count(at(9), 100, 100, 60.0)]
    fig, outside = one(windows=[], spans=spans, counts=counts)
    assert fig.planned_busy_minutes == 0
    assert fig.availability is None and fig.oee is None
    assert sum(c.total for c in outside) == 100
    # A shift that has not begun yet is not planned time either.
    fig, outside = one(spans=spans, counts=counts, now=at(5))
    assert fig.oee is None and fig.planned_busy_minutes == 0


def test_no_counts():
    spans = [Span("running", at(6), at(14))]
    fig, _ = one(spans=spans)
    assert fig.availability == 1
    assert fig.performance == 0
    assert fig.quality is None
    assert fig.oee == 0
    # Never running: A is 0, P unknown, OEE 0.
    fig, _ = one(spans=[Span("idle", at(6), at(14))])
    assert fig.availability == 0 and fig.performance is None and fig.oee == 0
    assert fig.diagnosis().cause == "long idle time"


def test_open_interval_is_clipped_at_now():
    spans = [Span("running", at(6), at(8)), Span("fault", at(8), None, reason="Jam")]
    fig, _ = one(spans=spans, now=at(10))
    assert fig.shift_minutes == pytest.approx(240)
    assert fig.losses[BREAKDOWN] == pytest.approx(120)
    assert fig.availability == pytest.approx(0.5)


def test_overlap_with_breaks_and_maintenance():
    """Placed break 10:00–10:30 and maintenance 10:15–11:00: 60 min are not planned; the
    fault 09:45–10:45 counts only 09:45–10:00 (15 min)."""
    spans = [
        Span("running", at(6), at(9, 45)),
        Span("fault", at(9, 45), at(10, 45)),
        Span("running", at(10, 45), at(14)),
    ]
    window = shift(breaks=[(at(10), at(10, 30))])
    fig, _ = one(windows=[window], spans=spans, maintenance=[(at(10, 15), at(11))])
    assert fig.maintenance_minutes == pytest.approx(45)
    assert fig.break_minutes == pytest.approx(15)
    assert fig.planned_busy_minutes == pytest.approx(420)
    assert fig.losses[BREAKDOWN] == pytest.approx(15)
    assert fig.run_minutes == pytest.approx(405)


def test_unplaced_break_comes_from_idle_time_and_running_through_it_is_worked():
    idle = [
        Span("running", at(6), at(12)),
        Span("idle", at(12), at(13)),
        Span("running", at(13), at(14)),
    ]
    fig, _ = one(windows=[shift(30)], spans=idle)
    assert fig.planned_busy_minutes == pytest.approx(450)
    assert fig.losses[IDLE_LOSS] == pytest.approx(30)
    fig, _ = one(windows=[shift(30)], spans=[Span("running", at(6), at(14))])
    assert fig.planned_busy_minutes == pytest.approx(480)
    assert fig.availability == 1


def test_disconnected_is_unknown_neither_loss_nor_run():
    spans = [
        Span("running", at(6), at(10)),
        Span("disconnected", at(10), at(12)),
        Span("running", at(12), at(14)),
    ]
    fig, _ = one(spans=spans, counts=[Count(at(14), 360, 360, 60.0)])
    assert fig.unknown_minutes == pytest.approx(120)
    assert fig.planned_busy_minutes == pytest.approx(480)
    assert fig.availability == 1
    assert sum(fig.losses.values()) == pytest.approx(0)


def test_planned_stop_reason_is_not_planned_busy_time():
    spans = [
        Span("running", at(6), at(10)),
        Span("stopped", at(10), at(11), reason="Shift meeting", loss="planned"),
        Span("running", at(11), at(14)),
    ]
    fig, _ = one(spans=spans)
    assert fig.planned_busy_minutes == pytest.approx(420)
    assert fig.availability == 1


def test_diagnosis_names_dominant_loss_and_top_reasons():
    spans = [Span("running", at(6), at(8))]
    t = at(8)
    for i, (reason, minutes) in enumerate([("Jam", 30), ("Tool", 20), ("Jam", 25), ("Oil", 5)]):
        spans.append(Span("fault", t, t + timedelta(minutes=minutes), reason=reason))
        t += timedelta(minutes=minutes)
        spans.append(Span("running", t, t + timedelta(minutes=10 + i)))
        t += timedelta(minutes=10 + i)
    spans.append(Span("running", t, at(14)))
    # Run 400 min, 380 parts at 60 s: 20 min of reduced speed, 80 of faults; OEE 380/480.
    fig, _ = one(spans=spans, counts=[Count(at(14), 380, 380, 60.0)])
    d = fig.diagnosis()
    assert d.loss == BREAKDOWN and d.cause == "frequent faults"
    assert [(r.reason, r.minutes, r.stops) for r in d.reasons] == [
        ("Jam", 55, 2),
        ("Tool", 20, 1),
        ("Oil", 5, 1),
    ]
    assert fig.oee < 0.8
    # At or above the threshold there is nothing to diagnose.
    assert fig.diagnosis(OeeSettings(threshold=fig.oee)) is None


def test_combine_sums_the_figures_not_the_ratios():
    a, _ = one(spans=[Span("running", at(6), at(14))], counts=[Count(at(13), 480, 480, 60.0)])
    b, _ = one(spans=[Span("running", at(6), at(8)), Span("idle", at(8), at(14))])
    both = oee_combine([a, b])
    assert both.availability == pytest.approx(600 / 960)
    assert both.oee == pytest.approx(480 / 960)
    pareto = both.pareto()
    assert pareto[0][0] == IDLE_LOSS and pareto[-1][2] == pytest.approx(100)


def test_time_without_any_interval_is_unknown():
    """Intervals start at 10:00 (the machine was linked then): 06:00–10:00 is unknown, not
    a loss; the 30-minute break comes out of it."""
    fig, _ = one(windows=[shift(30)], spans=[Span("running", at(10), None)], now=at(14))
    assert fig.unknown_minutes == pytest.approx(210)
    assert fig.planned_busy_minutes == pytest.approx(450)
    assert fig.availability == 1


def _exact(fig):
    """Every figure of a window, for comparing to the last bit (reasons with their minutes)."""
    reasons = {k: (r.loss, r.reason, r.minutes, r.stops) for k, r in fig.reasons.items()}
    fields = {k: v for k, v in vars(fig).items() if k != "reasons"}
    return fields, reasons


def _random_machine(rng: random.Random):
    """Two days of a machine's life with every kind of interval, reason and read, shifts with
    unplaced and placed breaks, maintenance off the hour, instants to the microsecond."""
    day = date(2026, 12, 7)

    def t(d, hh, mm=0, us=0):
        return datetime(2026, 12, 7 + d, hh, mm, tzinfo=TZ) + timedelta(microseconds=us)

    windows = []
    for d in range(2):
        breaks = [(t(d, 10, 0, rng.randrange(10**6)), t(d, 10, 15))] if rng.random() < 0.5 else []
        windows.append(Window(day, "early", t(d, 6), t(d, 14), rng.choice([0, 30, 45.5]), breaks))
        windows.append(Window(day, "late", t(d, 14), t(d, 22), rng.choice([0, 20])))
    maintenance = [(t(1, 9, 7, 3), t(1, 11, 40)), (t(1, 10), t(1, 10, 30))]
    reasons = [
        ("", ""),
        ("Spindle", BREAKDOWN),
        ("Die change", SETUP),
        ("Jam", SMALL_STOP),
        ("Lunch", "planned"),
        ("Waiting", "other"),
    ]
    spans, at_ = [], t(0, 5, 0, 11)
    while at_ < t(1, 21):
        state = rng.choice(["running"] * 4 + ["idle", "stopped", "fault", "maintenance"])
        state = "disconnected" if rng.random() < 0.05 else state
        length = timedelta(seconds=rng.uniform(5, 3000), microseconds=rng.randrange(10**6))
        reason, loss = rng.choice(reasons) if state != "running" else ("", "")
        spans.append(Span(state, at_, at_ + length, rng.random() < 0.2, reason, loss))
        at_ += length
    spans.append(Span("running", at_, None))
    rng.shuffle(spans)
    counts = []
    c = t(0, 5, 30)
    while c < t(2, 1):
        c += timedelta(seconds=rng.uniform(20, 200), microseconds=rng.randrange(10**6))
        total = rng.randint(0, 4)
        good = None if rng.random() < 0.1 else max(total - rng.choice([0, 0, 0, 1, 2]), 0)
        counts.append(Count(c, total, good, rng.choice([None, 0.0, 45.5, 61.25])))
    counts.append(Count(t(0, 14), 3, 2, 50.0))  # on a window's edge
    return windows, spans, counts, maintenance, t


@pytest.mark.parametrize("seed", range(12))
def test_engine_equals_the_datetime_arithmetic_to_the_last_bit(seed):
    """The engine counts in microseconds; every figure equals the datetime arithmetic's."""
    rng = random.Random(seed)
    windows, spans, counts, maintenance, t = _random_machine(rng)
    settings = OeeSettings(small_stop_seconds=rng.choice([120.0, 90.5]), startup_seconds=600.25)
    kwargs = {
        "windows": windows,
        "spans": spans,
        "counts": counts,
        "maintenance": maintenance,
        "now": rng.choice([t(1, 23), t(1, 17, 33, 7), t(0, 9, 5)]),
        "rated_cycle_seconds": rng.choice([None, 60.0]),
        "period": rng.choice([None, (t(0, 0), t(2, 0))]),
        "settings": settings,
    }
    got, got_outside = oee_compute(**kwargs)
    want, want_outside = oee_compute_reference(**kwargs)
    assert [w for w, _ in got] == [w for w, _ in want]
    assert [_exact(f) for _, f in got] == [_exact(f) for _, f in want]
    assert [id(c) for c in got_outside] == [id(c) for c in want_outside]
    assert sum(f.total for _, f in got) > 0 and sum(len(f.reasons) for _, f in got) > 0


def test_engine_on_microseconds_matches_datetimes():
    """The selector hands the engine microseconds straight from the database (reasons and
    losses None when the interval has none)."""
    rng = random.Random(99)
    windows, spans, counts, maintenance, t = _random_machine(rng)
    now = t(1, 20, 1, 1)
    per_window, outside = oee_compute(
        windows=windows, spans=spans, counts=counts, maintenance=maintenance, now=now
    )
    us = instant_us
    figures, outside_us = oee_compute_us(
        windows=[
            (us(w.start), us(w.end), w.break_minutes, tuple((us(a), us(b)) for a, b in w.breaks))
            for w in windows
        ],
        spans=[
            (s.state, us(s.start), s.end and us(s.end), s.small_stop, s.reason or None)
            + (s.loss or None,)
            for s in spans
        ],
        counts=[(us(c.at), c.total, c.good, c.ideal_cycle_seconds) for c in counts],
        maintenance=[(us(a), us(b)) for a, b in maintenance],
        now=us(now),
    )
    assert [_exact(f) for f in figures] == [_exact(f) for _, f in per_window]
    assert [c[0] for c in outside_us] == [us(c.at) for c in outside]
    assert us(datetime(1970, 1, 1, 8, tzinfo=TZ)) == 0
    assert us(at(6, 0, 0) + timedelta(microseconds=7)) - us(at(6)) == 7

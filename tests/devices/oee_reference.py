"""The OEE engine's per-window arithmetic on aware datetimes, as it was before the engine
moved to integer microseconds: the reference the engine's figures must equal to the last bit
(test_oee_engine.py). Not used by the product."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta

from devices.engines.oee import (
    BREAKDOWN,
    DISCONNECTED,
    FAULT,
    IDLE,
    IDLE_LOSS,
    LOSSES,
    MAINTENANCE,
    NO_REASON,
    OTHER_STOP,
    PLANNED,
    PRODUCTION_REJECTS,
    RUN,
    RUNNING,
    SETUP,
    SMALL_STOP,
    SPEED,
    STARTUP_REJECTS,
    UNKNOWN,
    Count,
    OeeFigures,
    OeeSettings,
    Reason,
    Span,
    Window,
)
from resources.engines.calendar import intervals_merge


def _minutes(a: datetime, b: datetime) -> float:
    return max((b - a).total_seconds() / 60.0, 0.0)


def _subtract(
    segment: tuple[datetime, datetime], holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of `segment` outside the merged, sorted `holes`."""
    out, cursor = [], segment[0]
    for s, e in holes:
        if e <= cursor or s >= segment[1]:
            continue
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < segment[1]:
        out.append((cursor, segment[1]))
    return out


def _overlap(a: tuple[datetime, datetime], segments: list[tuple[datetime, datetime]]) -> float:
    return sum(_minutes(max(a[0], s), min(a[1], e)) for s, e in segments if e > a[0] and s < a[1])


def _category(span: Span, end: datetime, settings: OeeSettings) -> str:
    if span.state == RUNNING:
        return RUN
    if span.state == DISCONNECTED:
        return UNKNOWN
    if span.state in (FAULT, MAINTENANCE):
        return BREAKDOWN  # maintenance in a planned window is not planned time at all
    if span.loss == PLANNED:
        return PLANNED
    if span.loss in (BREAKDOWN, SETUP, SMALL_STOP):
        return span.loss
    short = (end - span.start).total_seconds() < settings.small_stop_seconds
    if span.small_stop or short:
        return SMALL_STOP
    return IDLE_LOSS if span.state == IDLE else OTHER_STOP


def _within(windows: list[tuple[datetime, datetime]], at: datetime) -> bool:
    """Whether `at` lies in (start, end] of one of the start-up windows (sorted by start, all
    of one length: the one starting last before `at` ends last)."""
    i = bisect_left(windows, (at,)) - 1
    return i >= 0 and windows[i][0] < at <= windows[i][1]


def _ideal(count: Count, rated_cycle_seconds: float | None) -> float | None:
    cycle = count.ideal_cycle_seconds or rated_cycle_seconds
    return cycle if cycle and cycle > 0 else None


def oee_compute_reference(
    *,
    windows: list[Window],
    spans: list[Span],
    counts: list[Count],
    maintenance: list[tuple[datetime, datetime]],
    now: datetime,
    rated_cycle_seconds: float | None = None,
    period: tuple[datetime, datetime] | None = None,
    settings: OeeSettings | None = None,
) -> tuple[list[tuple[Window, OeeFigures]], list[Count]]:
    """One machine's figures per planned window, and the counts read outside every window's
    planned busy time (within `period` when given, else all of them).

    `spans` may overlap windows partly and may be open (clipped at `now`); `maintenance` are
    the machine's planned maintenance windows; nothing after `now` is planned time yet."""
    settings = settings or OeeSettings()
    maintenance_merged = intervals_merge(maintenance)
    spans = sorted(spans, key=lambda s: s.start)
    ends = [s.end if s.end is not None else max(now, s.start) for s in spans]
    # Intervals do not overlap (one open interval per machine, each closed when the next
    # opens), so their ends are sorted too; bisect finds a window's first interval.
    latest_end: list[datetime] = []
    for e in ends:
        latest_end.append(max(e, latest_end[-1]) if latest_end else e)
    counts = sorted(counts, key=lambda c: c.at)
    count_ats = [c.at for c in counts]

    # Start-up windows: each run that begins after a stop (any state that is not running).
    startups: list[tuple[datetime, datetime]] = []
    for i, span in enumerate(spans):
        if span.state == RUNNING and i > 0 and spans[i - 1].state != RUNNING:
            startups.append((span.start, span.start + timedelta(seconds=settings.startup_seconds)))

    results: list[tuple[Window, OeeFigures]] = []
    taken: set[int] = set()
    for window in windows:
        fig = OeeFigures()
        end = min(window.end, now)
        if end <= window.start:
            results.append((window, fig))
            continue
        whole = (window.start, end)
        fig.shift_minutes = _minutes(*whole)
        holes = intervals_merge([*maintenance_merged, *window.breaks])
        fig.maintenance_minutes = _overlap(whole, maintenance_merged)
        placed_breaks = _overlap(whole, holes) - fig.maintenance_minutes
        busy = _subtract(whole, holes)

        minutes: dict[str, float] = {}
        reasons: dict[tuple[str, str], Reason] = {}
        for i in range(bisect_right(latest_end, window.start), len(spans)):
            span, span_end = spans[i], ends[i]
            if span.start >= end:
                break
            if span_end <= window.start:
                continue
            m = _overlap((span.start, span_end), busy)
            if m <= 0:
                continue
            cat = _category(span, span_end, settings)
            minutes[cat] = minutes.get(cat, 0.0) + m
            fig.state_minutes[span.state] = fig.state_minutes.get(span.state, 0.0) + m
            if cat in LOSSES:
                key = (cat, span.reason or NO_REASON)
                r = reasons.setdefault(key, Reason(cat, key[1]))
                r.minutes += m
                r.stops += 1

        # Planned time no interval covers (before the first one, or none at all) is unknown.
        busy_minutes = sum(_minutes(s, e) for s, e in busy)
        minutes[UNKNOWN] = minutes.get(UNKNOWN, 0.0) + max(busy_minutes - sum(minutes.values()), 0)

        # The unplaced break comes out of idle, other-stop, then unknown time.
        to_take = window.break_minutes
        taken_break = 0.0
        for cat in (IDLE_LOSS, OTHER_STOP, UNKNOWN):
            have = minutes.get(cat, 0.0)
            take = min(have, to_take - taken_break)
            if take > 0:
                scale = (have - take) / have
                minutes[cat] = have - take
                for key, r in reasons.items():
                    if key[0] == cat:
                        r.minutes *= scale
                taken_break += take
        fig.break_minutes = placed_breaks + taken_break
        fig.planned_stop_minutes = minutes.get(PLANNED, 0.0)
        fig.planned_busy_minutes = busy_minutes - taken_break - fig.planned_stop_minutes
        fig.unknown_minutes = minutes.get(UNKNOWN, 0.0)
        fig.run_minutes = minutes.get(RUN, 0.0)
        for cat in (BREAKDOWN, SETUP, SMALL_STOP, IDLE_LOSS, OTHER_STOP):
            fig.losses[cat] = minutes.get(cat, 0.0)
        fig.reasons = {k: r for k, r in reasons.items() if r.minutes > 1e-9}

        # Counts read inside this window's planned busy time (a read covers the parts made
        # just before it, so a read at the window's end is the window's).
        reject_minutes = {STARTUP_REJECTS: 0.0, PRODUCTION_REJECTS: 0.0}
        inside = [
            idx
            for s, e in busy
            for idx in range(bisect_right(count_ats, s), bisect_right(count_ats, e))
            if idx not in taken
        ]
        for idx in inside:
            count = counts[idx]
            taken.add(idx)
            good = count.total if count.good is None else min(count.good, count.total)
            ideal = _ideal(count, rated_cycle_seconds)
            fig.total += count.total
            fig.good += good
            if ideal is None:
                fig.unrated += count.total
            else:
                fig.ideal_minutes += count.total * ideal / 60.0
            rejects = count.total - good
            if rejects:
                startup = _within(startups, count.at)
                kind = STARTUP_REJECTS if startup else PRODUCTION_REJECTS
                if startup:
                    fig.startup_rejects += rejects
                else:
                    fig.production_rejects += rejects
                if ideal is not None:
                    reject_minutes[kind] += rejects * ideal / 60.0
        fig.losses.update(reject_minutes)
        if not fig.unrated:
            fig.losses[SPEED] = max(fig.run_minutes - fig.ideal_minutes, 0.0)
        results.append((window, fig))

    outside = [
        c
        for idx, c in enumerate(counts)
        if idx not in taken and (period is None or period[0] < c.at <= period[1])
    ]
    return results, outside

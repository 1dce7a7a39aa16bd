"""Working time, pure: shifts, holidays and downtime in, working intervals and minutes out.

The one working-time module: the scheduler, progress, capacity and the quality gate read
working time through it (`resources.selectors.calendar` loads a work center's calendar from
the database and calls it).

Rules: a shift counts on the day it starts (a night shift 22:00–06:00 belongs to its first
day); breaks are taken off each shift; a holiday removes the whole day; a maintenance window
removes its overlap with the shifts of the equipment it stops. A work center's capacity is
the sum over its equipment (or `parallel_units` identical stations when it has none).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

# A point in time: an aware datetime, minutes from an origin, or epoch seconds.
Instant = TypeVar("Instant", datetime, int, float)


@dataclass(frozen=True)
class ShiftSpec:
    weekdays: frozenset[int]  # ISO 1..7
    start: time
    end: time
    break_minutes: int = 0


@dataclass
class UnitSpec:
    """One unit of capacity (a machine) and its downtime intervals (aware datetimes)."""

    code: str
    downtime: list[tuple[datetime, datetime]] = field(default_factory=list)


def shift_length_minutes(start: time, end: time) -> int:
    s = start.hour * 60 + start.minute
    e = end.hour * 60 + end.minute
    return e - s if e > s else e + 24 * 60 - s


def shift_interval(day: date, shift: ShiftSpec, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, shift.start, tzinfo=tz)
    end_day = day if shift.end > shift.start else day + timedelta(days=1)
    end = datetime.combine(end_day, shift.end, tzinfo=tz)
    return start, end


def day_shifts(
    day: date, shifts: list[ShiftSpec], holidays: set[date], tz: ZoneInfo
) -> Iterator[tuple[ShiftSpec, datetime, datetime]]:
    """(shift, start, end) of each shift that starts on `day`; none on a holiday."""
    if day in holidays:
        return
    for shift in shifts:
        if day.isoweekday() in shift.weekdays:
            yield shift, *shift_interval(day, shift, tz)


def overlap_minutes(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> float:
    lo = max(a[0], b[0])
    hi = min(a[1], b[1])
    return max((hi - lo).total_seconds() / 60.0, 0.0)


def intervals_merge(
    intervals: Iterable[tuple[Instant, Instant]],
) -> list[tuple[Instant, Instant]]:
    """Sorted, disjoint, non-touching intervals covering the same time as the non-empty ones
    given: overlapping and touching ones joined (06:00–14:00 and 14:00–22:00 are one
    stretch), empty ones (end not after start) left out. The one merge of the code base, for
    instants (calendars), minutes from an origin (the scheduler) and epoch seconds (progress)."""
    out: list[tuple[Instant, Instant]] = []
    for s, e in sorted(interval for interval in intervals if interval[1] > interval[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def shift_day_compute(
    *,
    at: datetime,
    shifts: list[ShiftSpec],
    holidays: set[date],
    tz: ZoneInfo,
    look_ahead_days: int = 14,
) -> date | None:
    """The working day of the shift running at `at`, or else of the next shift to start
    (holidays skipped); None when no shift starts within `look_ahead_days`.

    A shift belongs to the day it starts, so at 02:00 inside a 22:00–06:00 night shift the
    answer is the day before. Work released on a Sunday night goes to Monday's crew, work
    released in the last minute of a shift to that shift's crew.
    """
    first = at.astimezone(tz).date() - timedelta(days=1)
    best: tuple[datetime, date] | None = None
    for offset in range(look_ahead_days + 2):
        day = first + timedelta(days=offset)
        for _, start, end in day_shifts(day, shifts, holidays, tz):
            if end <= at:
                continue  # over
            if start <= at:
                return day  # running now
            if best is None or start < best[0]:
                best = (start, day)
        if best is not None:
            return best[1]  # every later day's shifts start later
    return None


def shift_start_compute(
    *,
    at: datetime,
    shifts: list[ShiftSpec],
    holidays: set[date],
    tz: ZoneInfo,
) -> datetime | None:
    """When the shift running at `at` began (of overlapping ones, the one that began last);
    None when no shift runs at `at` — a holiday has none. A shift belongs to the day it
    starts, so at 02:00 inside a 22:00–06:00 night shift it began the evening before."""
    today = at.astimezone(tz).date()
    began: datetime | None = None
    for day in (today - timedelta(days=1), today):
        for _, start, end in day_shifts(day, shifts, holidays, tz):
            if start <= at < end and (began is None or start > began):
                began = start
    return began


def first_full_day_compute(
    *,
    at: datetime,
    shifts: list[ShiftSpec],
    holidays: set[date],
    tz: ZoneInfo,
    look_ahead_days: int = 14,
) -> date | None:
    """The first working day (on or after the day of `at`) none of whose shifts has started
    by `at`: today before the first shift, otherwise the next working day (holidays and days
    without shifts skipped). None when there is none within `look_ahead_days`."""
    today = at.astimezone(tz).date()
    for offset in range(look_ahead_days + 1):
        day = today + timedelta(days=offset)
        starts = [start for _, start, _ in day_shifts(day, shifts, holidays, tz)]
        if starts and min(starts) >= at:
            return day
    return None


def available_minutes_compute(
    *,
    first_day: date,
    last_day: date,
    shifts: list[ShiftSpec],
    holidays: set[date],
    units: list[UnitSpec],
    tz: ZoneInfo,
) -> dict[date, int]:
    """Minutes of production time per day from first_day to last_day inclusive."""
    result: dict[date, int] = {}
    day = first_day
    while day <= last_day:
        total = 0.0
        for shift, start, end in day_shifts(day, shifts, holidays, tz):
            length = (end - start).total_seconds() / 60.0
            for unit in units:
                lost = sum(overlap_minutes((start, end), w) for w in intervals_merge(unit.downtime))
                total += max(length - shift.break_minutes - lost, 0.0)
        result[day] = int(round(total))
        day += timedelta(days=1)
    return result


def working_intervals_compute(
    *,
    start: datetime,
    end: datetime,
    shifts: list[ShiftSpec],
    holidays: set[date],
    tz: ZoneInfo,
) -> list[tuple[datetime, datetime]]:
    """The shift intervals between two instants, holidays left out, merged and clipped to
    [start, end). A shift belongs to the day it starts, so the day before `start` is read
    for a night shift running into it."""
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    while day <= last_day:
        for _, s, e in day_shifts(day, shifts, holidays, tz):
            s, e = max(s, start), min(e, end)
            if e > s:
                out.append((s, e))
        day += timedelta(days=1)
    return intervals_merge(out)


def shift_booking_end_compute(
    *,
    start: datetime,
    end: datetime,
    shifts: list[ShiftSpec],
    holidays: set[date],
    tz: ZoneInfo,
) -> datetime:
    """Where time clocked from `start` to `end` stops counting: at the end of the shift
    running at `start` (of overlapping ones, the one that began last), or, when none runs
    then, at the end of the first shift that begins before `end`; at `start` itself when no
    shift touches the span. Never after `end`. Consecutive shifts are not joined: a span
    clocked through two shifts counts up to the end of the first."""
    began: tuple[datetime, datetime] | None = None
    first: tuple[datetime, datetime] | None = None
    day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    while day <= last_day:
        for _, s, e in day_shifts(day, shifts, holidays, tz):
            if s <= start < e and (began is None or s > began[0]):
                began = (s, e)
            elif start < s < end and (first is None or s < first[0]):
                first = (s, e)
        day += timedelta(days=1)
    chosen = began or first
    if chosen is None:
        return start
    return min(chosen[1], end)

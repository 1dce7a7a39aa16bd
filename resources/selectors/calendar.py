"""Working time read from the database: a work center's shifts, its site's holidays and its
machines' maintenance windows, handed to the pure `resources.engines.calendar`.

Rules: a shift counts on the day it starts (a night shift 22:00–06:00 belongs to its first
day); breaks are taken off each shift; a holiday removes the whole day; a maintenance window
removes its overlap with the shifts of the equipment it stops. A work center's capacity is
the sum over its equipment (or `parallel_units` identical stations when it has none).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core.rawsql import cursor_prepared, values_convert

from ..engines.calendar import (
    ShiftSpec,
    UnitSpec,
    available_minutes_compute,
    first_full_day_compute,
    shift_booking_end_compute,
    shift_day_compute,
    shift_start_compute,
    working_intervals_compute,
)
from ..models import Holiday, MaintenanceWindow, ShiftPattern, Site, WorkCenter


def site_time_zone(site) -> ZoneInfo:
    """A site's time zone, the one its shifts and holidays are written in."""
    return ZoneInfo(site.time_zone)


def plant_time_zone() -> ZoneInfo:
    """The plant's time zone, for what belongs to no one work center: due dates, a day's
    load, the schedule's late orders, the MRP calendar, what the planning pages show.

    A site is a plant (ISA-95), so it is the site's zone: that of the only site, or the one
    all sites share. With no site yet (a fresh install), or sites in different zones (no
    one plant zone; code that knows its work center reads `site_time_zone`), it is the
    TIME_ZONE setting — the zone Django shows times and reads "today" in, which the
    deployment sets to the plant's (docs/deployment.md)."""
    zones = list(Site.objects.order_by().values_list("time_zone", flat=True).distinct()[:2])
    return ZoneInfo(zones[0] if len(zones) == 1 else settings.TIME_ZONE)


def work_center_shift_specs(work_center: WorkCenter) -> list[ShiftSpec]:
    return [
        ShiftSpec(frozenset(s.weekday_set), s.start_time, s.end_time, s.break_minutes)
        for s in work_center.shifts.all()
    ]


def work_center_calendar(work_center: WorkCenter, first: date, last: date):
    """A work center's shifts, its site's holidays between two days, and the site's zone."""
    site = work_center.area.site
    holidays = set(
        Holiday.objects.filter(site=site, date__range=(first, last)).values_list("date", flat=True)
    )
    return work_center_shift_specs(work_center), holidays, site_time_zone(site)


def work_center_available_minutes(
    work_center, first_day: date, last_day: date, *, equipment=None
) -> dict[date, int]:
    """Available minutes per day for one work center (or one of its machines)."""
    shifts, holidays, tz = work_center_calendar(work_center, first_day, last_day)
    window_start = datetime.combine(first_day, time.min, tzinfo=tz)
    window_end = datetime.combine(last_day + timedelta(days=2), time.min, tzinfo=tz)
    equipment = [equipment] if equipment is not None else list(work_center.equipment.all())
    if equipment:
        downtime: dict[int, list[tuple[datetime, datetime]]] = {e.pk: [] for e in equipment}
        for w in MaintenanceWindow.objects.filter(
            equipment__in=equipment, start__lt=window_end, end__gt=window_start
        ):
            downtime[w.equipment_id].append((w.start, w.end))
        units = [UnitSpec(e.code, downtime[e.pk]) for e in equipment]
    else:
        units = [UnitSpec(f"{work_center.code}-{i}") for i in range(work_center.parallel_units)]
    return available_minutes_compute(
        first_day=first_day, last_day=last_day, shifts=shifts, holidays=holidays, units=units, tz=tz
    )


def work_center_shift_day(work_center, at: datetime) -> date | None:
    """The working day whose crew does work at a work center from `at` on: the day of the
    shift running at `at`, or of its next shift (see `shift_day_compute`)."""
    first = at.date() - timedelta(days=2)
    shifts, holidays, tz = work_center_calendar(work_center, first, first + timedelta(days=18))
    return shift_day_compute(at=at, shifts=shifts, holidays=holidays, tz=tz)


def work_center_shift_start(work_center, at: datetime, *, calendar=None) -> datetime | None:
    """When the work center's shift running at `at` began; None when none runs (between
    shifts, on a day without shifts, on one of the site's holidays). See
    `shift_start_compute`. `calendar`: the work center's (shifts, holidays) if the caller
    read them with its own statement (`shift_calendar_sql`), holidays at least from two days
    before `at` to the day after (UTC dates)."""
    site = work_center.area.site
    tz = site_time_zone(site)
    today = at.astimezone(tz).date()
    if calendar is not None:
        shifts, holidays = calendar
    elif "shifts" in getattr(work_center, "_prefetched_objects_cache", {}):
        shifts, holidays, tz = work_center_calendar(work_center, today - timedelta(days=1), today)
    else:  # every production event asks this: one statement instead of two
        shifts, holidays = _shifts_and_holidays(work_center, site, today - timedelta(days=1), today)
    return shift_start_compute(at=at, shifts=shifts, holidays=holidays, tz=tz)


_SHIFT_FIELDS = [
    ShiftPattern._meta.get_field(name)
    for name in ("weekdays", "start_time", "end_time", "break_minutes")
]
_HOLIDAY_DATE = Holiday._meta.get_field("date")


def _shifts_and_holidays(work_center, site, first: date, last: date):
    """`work_center_calendar`'s shifts and holidays in one statement written by hand (the
    ORM's two cost four times as much CPU to build as to run: core/rawsql.py)."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    shift_cols = ", ".join(qn(f.column) for f in _SHIFT_FIELDS)
    sql = (
        f"SELECT 0, {shift_cols}, NULL FROM {qn(ShiftPattern._meta.db_table)} "
        f"WHERE {qn(ShiftPattern._meta.get_field('work_center').column)} = %s "
        f"UNION ALL SELECT 1, NULL, NULL, NULL, NULL, {qn(_HOLIDAY_DATE.column)} "
        f"FROM {qn(Holiday._meta.db_table)} "
        f"WHERE {qn(Holiday._meta.get_field('site').column)} = %s "
        f"AND {qn(_HOLIDAY_DATE.column)} BETWEEN %s AND %s"
    )
    adapt = connection.ops.adapt_datefield_value
    with cursor_prepared() as cursor:
        cursor.execute(sql, [work_center.pk, site.pk, adapt(first), adapt(last)])
        rows = cursor.fetchall()
    shifts, holidays = [], set()
    for kind, *values in rows:
        if kind == 0:
            weekdays, start, end, break_minutes = values_convert(values[:4], _SHIFT_FIELDS)
            spec = ShiftPattern(weekdays=weekdays)  # its weekday_set reads the text
            shifts.append(ShiftSpec(frozenset(spec.weekday_set), start, end, break_minutes))
        else:
            holidays.add(values_convert(values[4:], [_HOLIDAY_DATE])[0])
    return shifts, holidays


def shift_calendar_sql(work_center_column: str, site_column: str) -> str | None:
    """Two scalar subqueries for another statement's SELECT list: the shift patterns of the
    work center whose key is `work_center_column`, and the holidays of the site whose key is
    `site_column` between two dates (the statement's parameters, in that place: first,
    last), each as one JSON array. `shift_calendar_read` turns the two values into what
    `work_center_shift_start(calendar=...)` takes. A production event reads its task's
    calendar this way, with the task (one statement instead of two: core/rawsql.py). None on
    a database without the JSON functions used here (read with `work_center_calendar`)."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        agg, array = "json_agg", "json_build_array"
    elif connection.vendor == "sqlite":
        agg, array = "json_group_array", "json_array"
    else:
        return None
    shift_cols = ", ".join(f"c.{qn(f.column)}" for f in _SHIFT_FIELDS)
    return (
        f"(SELECT {agg}({array}({shift_cols})) FROM {qn(ShiftPattern._meta.db_table)} c "
        f"WHERE c.{qn(ShiftPattern._meta.get_field('work_center').column)} = {work_center_column}), "
        f"(SELECT {agg}(h.{qn(_HOLIDAY_DATE.column)}) FROM {qn(Holiday._meta.db_table)} h "
        f"WHERE h.{qn(Holiday._meta.get_field('site').column)} = {site_column} "
        f"AND h.{qn(_HOLIDAY_DATE.column)} BETWEEN %s AND %s)"
    )


def shift_calendar_params(at: datetime) -> list:
    """The dates `shift_calendar_sql` asks for an event at `at`: two days before to the
    day after (UTC dates), which hold the site's yesterday and today in any time zone."""
    adapt = connections[DEFAULT_DB_ALIAS].ops.adapt_datefield_value
    day = at.astimezone(UTC).date()
    return [adapt(day - timedelta(days=2)), adapt(day + timedelta(days=1))]


def shift_calendar_read(shifts_json, holidays_json) -> tuple[list[ShiftSpec], set[date]]:
    """The (shifts, holidays) of `shift_calendar_sql`'s two values (JSON text, or what the
    driver already decoded; NULL when there are none)."""
    shifts, holidays = [], set()
    for weekdays, start, end, break_minutes in _json_list(shifts_json):
        spec = ShiftPattern(weekdays=weekdays)  # its weekday_set reads the text
        shifts.append(
            ShiftSpec(
                frozenset(spec.weekday_set),
                time.fromisoformat(start),
                time.fromisoformat(end),
                int(break_minutes),
            )
        )
    for day in _json_list(holidays_json):
        holidays.add(date.fromisoformat(day))
    return shifts, holidays


def _json_list(value) -> list:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str | bytes) else value


def work_center_first_full_day(work_center, at: datetime) -> date | None:
    """The first working day of a work center none of whose shifts has started by `at`
    (see `first_full_day_compute`)."""
    first = at.date() - timedelta(days=2)
    shifts, holidays, tz = work_center_calendar(work_center, first, first + timedelta(days=18))
    return first_full_day_compute(at=at, shifts=shifts, holidays=holidays, tz=tz)


def equipment_available_minutes(equipment, first_day: date, last_day: date) -> dict[date, int]:
    """Available minutes per day of one machine: its work center's shifts, less holidays and
    its own maintenance windows."""
    return work_center_available_minutes(
        equipment.work_center, first_day, last_day, equipment=equipment
    )


def work_center_working_intervals(
    work_center, start: datetime, end: datetime, *, holidays: set[date] | None = None
) -> list[tuple[datetime, datetime]]:
    """The shift intervals of a work center between two instants, holidays left out
    (maintenance windows are per machine and not removed here). `holidays`: the site's
    holidays, if the caller loaded them for several work centers at once (at least those
    from the day before `start` to `end`, in the site's time zone)."""
    site = work_center.area.site
    tz = site_time_zone(site)
    if holidays is None:
        first_day = start.astimezone(tz).date() - timedelta(days=1)
        holidays = set(
            Holiday.objects.filter(
                site=site, date__range=(first_day, end.astimezone(tz).date())
            ).values_list("date", flat=True)
        )
    return working_intervals_compute(
        start=start, end=end, shifts=work_center_shift_specs(work_center), holidays=holidays, tz=tz
    )


def work_center_booking_end(work_center, start: datetime, end: datetime) -> datetime | None:
    """Where labour clocked at a work center from `start` to `end` stops counting (see
    `shift_booking_end_compute`); None when the work center has no shifts at all (no
    calendar to hold the time against)."""
    site = work_center.area.site
    tz = site_time_zone(site)
    first_day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    shifts, holidays, tz = work_center_calendar(work_center, first_day, last_day)
    if not shifts:
        return None
    return shift_booking_end_compute(start=start, end=end, shifts=shifts, holidays=holidays, tz=tz)

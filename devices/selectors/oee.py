"""OEE read from the database: state intervals, part counts, shifts, holidays and planned
maintenance of the machines asked for, handed to the pure `devices.engines.oee`, per machine,
shift or day, work center and plant.

Periods are whole days in the plant's time zone (`plant_time_zone`); a shift belongs to the
day it starts and is read in its site's zone (resources.engines.calendar). A report costs
the same number of queries however many machines and days it covers (at most nine; tests
pin it); part counts are read from their hourly sums (`counts_load`). Instants come from
the database as integer microseconds (`EpochMicroseconds`), the engine's unit: a month of a
plant is some 300,000 of them, and parsing them as datetimes cost more than the engine.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db.models import BigIntegerField, F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext

from core.formatting import number_text
from core.gc_pause import gc_paused
from core.homes import KpiValue
from resources.engines.calendar import ShiftSpec, shift_interval
from resources.models import Equipment, Holiday, MaintenanceWindow
from resources.selectors.calendar import plant_time_zone, site_time_zone

from ..engines.oee import (
    US,
    OeeFigures,
    OeeSettings,
    Window,
    WindowUs,
    instant_us,
    oee_combine,
    oee_compute_us,
)
from ..models import CountHour, ProductionCount, StateInterval

DAY = "day"
SHIFT = "shift"
BY = (DAY, SHIFT)
MAX_DAYS = 92
OUTSIDE = "outside shifts"


def oee_settings() -> OeeSettings:
    """The plant's OEE settings (small-stop threshold, start-up window, the 80 % line)."""
    return OeeSettings(
        small_stop_seconds=float(getattr(django_settings, "DEVICES_MICRO_STOP_SECONDS", 120)),
        startup_seconds=float(getattr(django_settings, "DEVICES_OEE_STARTUP_SECONDS", 600)),
        threshold=float(getattr(django_settings, "DEVICES_OEE_THRESHOLD", 0.80)),
    )


@dataclass
class OeeRow:
    """One bucket of one machine: a day, or one shift of a day (`shift` OUTSIDE: the counts
    read on that day outside every shift)."""

    day: date
    shift: str | None
    figures: OeeFigures


@dataclass
class MachineOee:
    equipment: Equipment
    state: str
    figures: OeeFigures
    rows: list[OeeRow] = field(default_factory=list)


@dataclass
class GroupOee:
    """A work center's machines summed (or the plant's, with code "")."""

    code: str
    name: str
    figures: OeeFigures
    machines: list[MachineOee] = field(default_factory=list)


@dataclass
class OeeReport:
    first_day: date
    last_day: date
    by: str
    start: datetime
    end: datetime
    now: datetime
    settings: OeeSettings
    machines: list[MachineOee]
    work_centers: list[GroupOee]
    plant: OeeFigures
    days: list[date]

    def day_figures(
        self, machines: list[MachineOee] | None = None
    ) -> list[tuple[date, OeeFigures]]:
        """Per day, the figures of the given machines (all of them by default) summed."""
        per_day: dict[date, list[OeeFigures]] = defaultdict(list)
        for m in self.machines if machines is None else machines:
            for row in m.rows:
                per_day[row.day].append(row.figures)
        return [(d, oee_combine(per_day.get(d, []))) for d in self.days]


def _windows(equipment: Equipment, first: date, last: date, holidays: set[date]) -> list[Window]:
    tz = site_time_zone(equipment.work_center.area.site)
    out = []
    day = first
    while day <= last:
        if day not in holidays:
            for pattern in equipment.work_center.shifts.all():
                if day.isoweekday() in pattern.weekday_set:
                    spec = ShiftSpec(
                        frozenset(pattern.weekday_set),
                        pattern.start_time,
                        pattern.end_time,
                        pattern.break_minutes,
                    )
                    start, end = shift_interval(day, spec, tz)
                    out.append(Window(day, pattern.name, start, end, pattern.break_minutes))
        day += timedelta(days=1)
    return out


class EpochMicroseconds(Func):
    """A datetime column as integer microseconds since 1970 (UTC), computed by the database.

    The report reads hundreds of thousands of instants; psycopg's text parsing of
    timestamptz (Django's loader is the pure-Python one) cost more than the engine, and the
    engine counts in microseconds anyway (devices.engines.oee)."""

    output_field = BigIntegerField()

    def get_db_converters(self, connection):
        # The database answers an integer already: no int() per value.
        return self.output_field.get_db_converters(connection)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC text, 'YYYY-MM-DD HH:MM:SS' with '.ffffff' when there are
        # microseconds. The seconds come from the text without the fraction (SQLite parses
        # time to the millisecond, and .9995 would round up into the next second).
        template = (
            "(CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s, 21, 6) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        # date_part answers a float8 (EXTRACT a numeric, several times slower to compute).
        # The float is the µs count ÷ 10⁶ correctly rounded; × 10⁶ and rounded it is exact
        # through 2106 (half an ulp of the seconds plus half an ulp of the product stay
        # under half a microsecond below 2^32 s).
        template = "(date_part('epoch', %(expressions)s) * 1000000)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)


@gc_paused()  # a month of a plant: ~300,000 tuples, none in a cycle (0.07–0.26 s saved)
def oee_report(
    *,
    first_day: date,
    last_day: date,
    by: str = DAY,
    equipment_codes: list[str] | None = None,
    work_center_code: str | None = None,
    now: datetime | None = None,
    settings: OeeSettings | None = None,
) -> OeeReport:
    """OEE of the machines asked for (all by default) over whole plant days, per machine and
    bucket (`by`: day or shift), per work center and for the plant."""
    if by not in BY:
        raise ValueError(f"by: one of {', '.join(BY)}.")
    now = now or timezone.now()
    settings = settings or oee_settings()
    tz: ZoneInfo = plant_time_zone()
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)

    equipment_qs = Equipment.objects.select_related("work_center__area__site").prefetch_related(
        "work_center__shifts"
    )
    if equipment_codes is not None:
        equipment_qs = equipment_qs.filter(code__in=equipment_codes)
    if work_center_code:
        equipment_qs = equipment_qs.filter(work_center__code=work_center_code)
    machines = list(equipment_qs.order_by("work_center__code", "code"))

    # Shifts of the days asked for may begin the evening before `start` in another site's
    # zone and end the morning after `end`: read a day more on each side.
    load_start, load_end = start - timedelta(days=1), end + timedelta(days=2)
    site_ids = {m.work_center.area.site_id for m in machines}
    holidays: dict[int, set[date]] = defaultdict(set)
    for site_id, day in Holiday.objects.filter(
        site_id__in=site_ids, date__range=(first_day, last_day)
    ).values_list("site_id", "date"):
        holidays[site_id].add(day)
    ids = [m.pk for m in machines]
    # Instants from here on are microseconds since 1970 (UTC), as the engine counts.
    maintenance: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for eq, s, e in MaintenanceWindow.objects.filter(
        equipment_id__in=ids, start__lt=load_end, end__gt=load_start
    ).values_list("equipment_id", EpochMicroseconds("start"), EpochMicroseconds("end")):
        maintenance[eq].append((s, e))
    spans: dict[int, list[tuple]] = defaultdict(list)
    open_state: dict[int, str] = {}
    for row in (
        StateInterval.objects.filter(equipment_id__in=ids, start__lt=load_end)
        .filter(Q(end__isnull=True) | Q(end__gt=load_start))
        .order_by()
        .values_list(
            "equipment_id",
            "state",
            EpochMicroseconds("start"),
            EpochMicroseconds("end"),
            "small_stop",
            "reason__name",
            "reason__loss",
        )
    ):
        spans[row[0]].append(row[1:])
        if row[3] is None:
            open_state[row[0]] = row[1]
    # Machines of one work center share its shifts (and their site's holidays).
    calendars: dict[int, tuple[list[Window], list[WindowUs]]] = {}
    for m in machines:
        if m.work_center_id not in calendars:
            windows = _windows(m, first_day, last_day, holidays[m.work_center.area.site_id])
            calendars[m.work_center_id] = (
                windows,
                [
                    (instant_us(w.start), instant_us(w.end), w.break_minutes)
                    + (tuple((instant_us(s), instant_us(e)) for s, e in w.breaks),)
                    for w in windows
                ],
            )
    now_us, start_us, end_us = instant_us(now), instant_us(start), instant_us(end)
    edges = {
        m.pk: [
            start_us,
            end_us,
            now_us,
            *(t for w in calendars[m.work_center_id][1] for t in w[:2]),
            *(t for w in maintenance[m.pk] for t in w),
        ]
        for m in machines
    }
    counts = counts_load(ids, instant_us(load_start), instant_us(load_end), edges)

    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    # A read belongs to the day whose (start, end] holds it: bounds of each day in µs.
    day_bounds = [instant_us(datetime.combine(d, time.min, tzinfo=tz)) for d in days]
    day_bounds.append(end_us)
    results: list[MachineOee] = []
    for machine in machines:
        rate = float(machine.rated_rate or 0)
        windows, windows_us = calendars[machine.work_center_id]
        per_window, outside = oee_compute_us(
            windows=windows_us,
            spans=spans[machine.pk],
            counts=counts[machine.pk],
            maintenance=maintenance[machine.pk],
            now=now_us,
            rated_cycle_seconds=3600.0 / rate if rate > 0 else None,
            period=(start_us, end_us),
            settings=settings,
        )
        buckets: dict[tuple[date, str | None], list[OeeFigures]] = defaultdict(list)
        for window, fig in zip(windows, per_window, strict=True):
            buckets[(window.day, window.shift if by == SHIFT else None)].append(fig)
        outside_by_day: dict[date, OeeFigures] = {}
        for at, total, good, *_ in outside:
            # A read at midnight closes the day before (reads cover the time before them).
            day = days[bisect_left(day_bounds, at) - 1]
            fig = outside_by_day.get(day)
            if fig is None:
                fig = outside_by_day[day] = OeeFigures()
                buckets[(day, OUTSIDE if by == SHIFT else None)].append(fig)
            fig.outside_total += total
            fig.outside_good += total if good is None else min(good, total)
        rows = [
            OeeRow(day, shift, oee_combine(figs))
            for (day, shift), figs in sorted(
                buckets.items(), key=lambda kv: (kv[0][0], kv[0][1] == OUTSIDE, kv[0][1] or "")
            )
        ]
        state = open_state.get(machine.pk, machine.status)
        results.append(MachineOee(machine, state, oee_combine(r.figures for r in rows), rows))

    groups: dict[int, GroupOee] = {}
    for m in results:
        wc = m.equipment.work_center
        group = groups.setdefault(wc.pk, GroupOee(wc.code, wc.name, OeeFigures()))
        group.machines.append(m)
    for group in groups.values():
        group.figures = oee_combine(m.figures for m in group.machines)
    work_centers = sorted(groups.values(), key=lambda g: g.code)
    return OeeReport(
        first_day,
        last_day,
        by,
        start,
        end,
        now,
        settings,
        results,
        work_centers,
        oee_combine(g.figures for g in work_centers),
        days,
    )


HOUR_US = 3600 * US


def counts_load(
    ids: list[int], start: int, end: int, edges: dict[int, list[int]]
) -> dict[int, list[tuple]]:
    """The machines' part counts read in (start, end] (microseconds since 1970, UTC), as the
    engine's tuples (at, total, good, ideal cycle seconds), in two queries.

    A machine on a one-second poll writes a row per part (a 60 s cycle: 1,440 rows a day),
    and OEE over a month of a plant covers millions. The count writer keeps them summed per
    machine and hour (CountHour), which is exact wherever nothing the engine tells apart
    changes inside the hour: every edge it cuts time at (shift, maintenance window, now) is
    passed in `edges` (the period's start and end are added here), and the hours an edge
    falls strictly inside are read row by row, as are the rows with rejects (start-up or
    production rejects depend on the instant of each read; a partial index holds just
    those). Shifts on the hour leave almost every hour whole."""
    if not ids:
        return {}
    split: set[tuple[int, int]] = set()
    for eq in ids:
        for t in [start, end, *edges.get(eq, ())]:
            h = t - t % HOUR_US
            if h < t:
                split.add((eq, h))
    counts: dict[int, list[tuple]] = defaultdict(list)
    start_at, end_at = _datetime(start), _datetime(end)
    for eq, h, rated, parts, ideal, last in (
        CountHour.objects.filter(
            equipment_id__in=ids, hour__gte=start_at, hour__lt=end_at, parts__gt=0
        )
        .order_by()
        .values_list(
            "equipment_id",
            EpochMicroseconds("hour"),
            "rated",
            "parts",
            "ideal_seconds",
            EpochMicroseconds("last_at"),
        )
    ):
        if (eq, h) in split or h + HOUR_US > end:
            continue
        counts[eq].append((last, parts, parts, ideal / parts if rated and ideal else None))
    base = ProductionCount.objects.filter(
        equipment_id__in=ids, at__gt=start_at, at__lte=end_at, total__gt=0
    ).order_by()
    # Rows with rejects: good < total (and so good not null), as the partial index
    # count_eq_at_rejects is defined, so that the database reads only those.
    rows = base.filter(good__lt=F("total"))
    if split:
        hours = Q()
        for eq, h in split:
            hours |= Q(equipment_id=eq, at__gt=_datetime(h), at__lte=_datetime(h + HOUR_US))
        no_rejects = Q(good__isnull=True) | Q(good__gte=F("total"))
        rows = base.filter(Q(good__lt=F("total")) | (no_rejects & hours))
    for row in rows.values_list(
        "equipment_id", EpochMicroseconds("at"), "total", "good", "ideal_cycle_seconds"
    ):
        counts[row[0]].append(row[1:])
    return counts


def _datetime(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def equipment_timeline(equipment: Equipment, day: date, *, now: datetime | None = None):
    """A machine's state intervals on one plant day, clipped to the day (and to now), with
    their reasons: the drill-down's timeline and downtime list (one query)."""
    now = now or timezone.now()
    tz = plant_time_zone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = min(start + timedelta(days=1), max(now, start))
    rows = []
    for interval in (
        StateInterval.objects.filter(equipment=equipment, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .select_related("reason")
        .order_by("start")
    ):
        s = max(interval.start, start)
        e = min(interval.end or now, end)
        if e > s:
            rows.append((interval, s, e))
    return start, end, rows


KPI_DAYS = 7


def plant_oee(*, last_day: date, days: int = KPI_DAYS, now: datetime | None = None) -> OeeFigures:
    """The plant's OEE over the `days` whole plant days ending on `last_day` (every machine
    summed: availability × performance × quality of the totals, not a mean of machines)."""
    return oee_report(
        first_day=last_day - timedelta(days=days - 1), last_day=last_day, now=now
    ).plant


def plant_oee_kpi(today: date):
    """The plant manager's OEE tile (core.homes): the last 7 days, green at or above the
    plant's threshold (DEVICES_OEE_THRESHOLD), red below; empty while no planned time ran."""
    figures = plant_oee(last_day=today)
    if figures.oee is None:
        return KpiValue(value=None, text="", empty=gettext("No planned production time yet."))

    def pct(value: float | None) -> str:
        return "—" if value is None else number_text(value * 100, 1)

    parts = {
        "a": pct(figures.availability),
        "p": pct(figures.performance),
        "q": pct(figures.quality),
    }
    return KpiValue(
        value=Decimal(pct(figures.oee)),
        text=f"{pct(figures.oee)} %",
        status="good" if figures.oee >= oee_settings().threshold else "bad",
        detail=gettext("Last 7 days · A %(a)s %% · P %(p)s %% · Q %(q)s %%") % parts,
    )

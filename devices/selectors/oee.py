"""OEE read from the database: state intervals, part counts, shifts, holidays and planned
maintenance of the machines asked for, handed to the pure `devices.engines.oee`, per machine,
shift or day, work center and plant.

Periods are whole days in the plant's time zone (`plant_time_zone`); a shift belongs to the
day it starts and is read in its site's zone (resources.engines.calendar). A report costs
the same number of queries however many machines and days it covers (at most nine; tests
pin it); part counts are read from their hourly sums (`counts_load`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db.models import F, Q
from django.utils import timezone

from resources.engines.calendar import ShiftSpec, shift_interval
from resources.models import Equipment, Holiday, MaintenanceWindow
from resources.selectors.calendar import plant_time_zone, site_time_zone

from ..engines.oee import (
    Count,
    OeeFigures,
    OeeSettings,
    Span,
    Window,
    oee_combine,
    oee_compute,
    outside_add,
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
    maintenance: dict[int, list] = defaultdict(list)
    for eq, s, e in MaintenanceWindow.objects.filter(
        equipment_id__in=ids, start__lt=load_end, end__gt=load_start
    ).values_list("equipment_id", "start", "end"):
        maintenance[eq].append((s, e))
    spans: dict[int, list[Span]] = defaultdict(list)
    open_state: dict[int, str] = {}
    for eq, state, s, e, small, reason, loss in (
        StateInterval.objects.filter(equipment_id__in=ids, start__lt=load_end)
        .filter(Q(end__isnull=True) | Q(end__gt=load_start))
        .order_by()
        .values_list(
            "equipment_id", "state", "start", "end", "small_stop", "reason__name", "reason__loss"
        )
    ):
        spans[eq].append(Span(state, s, e, small, reason or "", loss or ""))
        if e is None:
            open_state[eq] = state
    windows_of = {
        m.pk: _windows(m, first_day, last_day, holidays[m.work_center.area.site_id])
        for m in machines
    }
    edges = {
        m.pk: [
            start,
            end,
            now,
            *(t for w in windows_of[m.pk] for t in (w.start, w.end)),
            *(t for w in maintenance[m.pk] for t in w),
        ]
        for m in machines
    }
    counts = counts_load(ids, load_start, load_end, edges)

    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    results: list[MachineOee] = []
    for machine in machines:
        rate = float(machine.rated_rate or 0)
        per_window, outside = oee_compute(
            windows=windows_of[machine.pk],
            spans=spans[machine.pk],
            counts=counts[machine.pk],
            maintenance=maintenance[machine.pk],
            now=now,
            rated_cycle_seconds=3600.0 / rate if rate > 0 else None,
            period=(start, end),
            settings=settings,
        )
        buckets: dict[tuple[date, str | None], list[OeeFigures]] = defaultdict(list)
        for window, fig in per_window:
            buckets[(window.day, window.shift if by == SHIFT else None)].append(fig)
        outside_by_day: dict[date, list[Count]] = defaultdict(list)
        for c in outside:
            # A read at midnight closes the day before (reads cover the time before them).
            outside_by_day[(c.at - timedelta(microseconds=1)).astimezone(tz).date()].append(c)
        for day, cs in outside_by_day.items():
            key = (day, OUTSIDE if by == SHIFT else None)
            buckets[key].append(outside_add(OeeFigures(), cs))
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


def counts_load(
    ids: list[int], start: datetime, end: datetime, edges: dict[int, list[datetime]]
) -> dict[int, list[Count]]:
    """The machines' part counts read in (start, end], for the engine, in two queries.

    A machine on a one-second poll writes a row per part (a 60 s cycle: 1,440 rows a day),
    and OEE over a month of a plant covers millions. The count writer keeps them summed per
    machine and hour (CountHour), which is exact wherever nothing the engine tells apart
    changes inside the hour: every edge it cuts time at (shift, maintenance window, now) is
    passed in `edges` (the period's start and end are added here), and the hours an edge
    falls strictly inside are read row by row, as are the rows with rejects (start-up or
    production rejects depend on the instant of each read). Shifts on the hour leave almost
    every hour whole."""
    if not ids:
        return {}
    hour = timedelta(hours=1)
    split: set[tuple[int, datetime]] = set()
    for eq in ids:
        for t in [start, end, *edges.get(eq, ())]:
            t = t.astimezone(UTC)
            h = t.replace(minute=0, second=0, microsecond=0)
            if h < t:
                split.add((eq, h))
    counts: dict[int, list[Count]] = defaultdict(list)
    for eq, h, rated, parts, ideal, last in (
        CountHour.objects.filter(equipment_id__in=ids, hour__gte=start, hour__lt=end, parts__gt=0)
        .order_by()
        .values_list("equipment_id", "hour", "rated", "parts", "ideal_seconds", "last_at")
    ):
        if (eq, h.astimezone(UTC)) in split or h + hour > end:
            continue
        cycle = ideal / parts if rated and ideal else None
        counts[eq].append(Count(last, parts, parts, cycle))
    base = ProductionCount.objects.filter(
        equipment_id__in=ids, at__gt=start, at__lte=end, total__gt=0
    ).order_by()
    no_rejects = Q(good__isnull=True) | Q(good__gte=F("total"))
    rows = base.filter(~no_rejects)
    if split:
        hours = Q()
        for eq, h in split:
            hours |= Q(equipment_id=eq, at__gt=h, at__lte=h + hour)
        rows = base.filter(~no_rejects | (no_rejects & hours))
    for eq, at, total, good, cycle in rows.values_list(
        "equipment_id", "at", "total", "good", "ideal_cycle_seconds"
    ):
        counts[eq].append(Count(at, total, good, cycle))
    return counts


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

"""Sampling of the inspection gate: which units must have their own record (every n-th unit
of the order; first article per shift). See quality/services/gate.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Min, Q

from execution.models import ProductionEvent
from planning.models import OrderOperation
from resources.models import WorkCenter

from ..models import Disposition, InspectionPlan, InspectionRecord
from ..selectors.inspections import current_records


def nth_sampled(plan: InspectionPlan, order_id: int, unit, lot) -> bool:
    """Every n-th unit: the 1st, n+1-th, 2n+1-th … unit (lot) of the order, counted in the
    order they first appear in the order's production events. A unit not in the log yet is
    taken as sampled (the strict answer): so is a unit first seen earlier in a batch run
    not written yet, and the batch path asks again, after writing the run, about any event
    the gate refuses for a unit or lot with events in the run (see execution's ingest.py)."""
    n = plan.sample_every
    if n <= 1:
        return True
    field = "unit" if unit is not None else "lot"
    target = unit if unit is not None else lot
    events = ProductionEvent.objects.filter(order_id=order_id, **{f"{field}__isnull": False})
    first = events.filter(**{field: target}).aggregate(m=Min("id"))["m"]
    if first is None:
        return True  # never seen in the order: be safe
    earlier = events.values(field).annotate(first=Min("id")).filter(first__lt=first).count()
    return earlier % n == 0


def shift_start(work_center: WorkCenter, at: datetime) -> datetime:
    """When the shift of the work center that `at` falls in began (plant-local shift
    patterns; a night shift belongs to the day it starts); midnight when no shift runs."""
    tz = ZoneInfo(work_center.area.site.time_zone)
    local = at.astimezone(tz)
    best = None
    for pattern in work_center.shifts.all():
        for day in (local.date(), local.date() - timedelta(days=1)):
            if day.isoweekday() not in pattern.weekday_set:
                continue
            start = datetime.combine(day, pattern.start_time, tzinfo=tz)
            end_day = day if pattern.end_time > pattern.start_time else day + timedelta(days=1)
            end = datetime.combine(end_day, pattern.end_time, tzinfo=tz)
            if start <= local < end and (best is None or start > best):
                best = start
    if best is None:
        best = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz)
    return best


def first_article_passed(operation: OrderOperation, now: datetime) -> bool:
    work_center = WorkCenter.objects.select_related("area__site").get(pk=operation.work_center_id)
    since = shift_start(work_center, now)
    return (
        current_records(operation=operation, inspected_at__gte=since)
        .filter(
            Q(result=InspectionRecord.Result.PASS)
            | Q(disposition__decision=Disposition.Decision.USE_AS_IS)
        )
        .exists()
    )

"""Sampling of the inspection gate: which units must have their own record (every n-th unit
of the order; first article per shift). The gate (quality/services/gate.py) asks these."""

from datetime import datetime, time

from django.db.models import Min, Q

from execution.models import ProductionEvent
from planning.models import OrderOperation
from resources.models import WorkCenter
from resources.selectors.calendar import site_time_zone, work_center_shift_start

from ..models import Disposition, InspectionPlan, InspectionRecord
from .inspections import current_records


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
    """When the shift of the work center that `at` falls in began, by its calendar (shift
    patterns and the site's holidays; a night shift belongs to the day it starts); the
    plant-local midnight when no shift runs — on a holiday, work done counts by the day."""
    began = work_center_shift_start(work_center, at)
    if began is None:
        tz = site_time_zone(work_center.area.site)
        began = datetime.combine(at.astimezone(tz).date(), time.min, tzinfo=tz)
    return began


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

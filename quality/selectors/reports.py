"""Quality reports, the reads: the report filter, and the loaders that run the queries
feeding the pure arithmetic in quality/engines/report_figures.py (whose docstring holds the
rules behind the figures). Every page, CSV export and API endpoint goes through these
loaders, so the page, the file and the JSON always show the same numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from core.formatting import person_name, quantity_format
from execution.models import ProductionEvent
from planning.models import ProductionOrder
from resources.models import Item, WorkCenter
from resources.selectors.calendar import plant_time_zone

from ..engines.report_figures import (
    DAY,
    FAIL,
    NO_DEFECT_CODE,
    WEEK,
    Attempt,
    EventYieldRow,
    InspectionRow,
    LineYield,
    MeasurementLine,
    OperationKey,
    OperationYield,
    OrderSummary,
    ParetoBar,
    PlantFirstPass,
    SubjectTrace,
    TraceLine,
    TrendPoint,
    attempts_resolve,
    first_pass_yield,
    line_yields,
    order_subjects,
    pareto,
    plant_first_pass,
    trend,
)
from ..models import InspectionRecord, TraceCode

MAX_DAYS = 366  # a report covers at most a year, so a page stays a page
DEFAULT_DAYS = 30


# --- Filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    """The period (plant days, both included) and the optional work center and item."""

    first_day: date
    last_day: date
    work_center: WorkCenter | None = None
    item: Item | None = None
    bucket: str = DAY
    tz: ZoneInfo = field(default_factory=plant_time_zone, compare=False)  # of the plant days

    def bounds(self) -> tuple[datetime, datetime]:
        """[first day 00:00, day after the last 00:00) in plant time."""
        return (
            datetime.combine(self.first_day, time.min, tzinfo=self.tz),
            datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.tz),
        )

    def params(self) -> dict[str, str]:
        """The query parameters that give this filter back (for links and the CSV)."""
        out = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        if self.work_center is not None:
            out["work_center"] = self.work_center.code
        if self.item is not None:
            out["item"] = self.item.code
        out["bucket"] = self.bucket
        return out


def report_filter_parse(params: Mapping[str, str], *, today: date | None = None) -> ReportFilter:
    """Read `from`, `to` (YYYY-MM-DD), `work_center`, `item` (codes) and `bucket` (day|week).

    Defaults: the last 30 days to today; daily buckets up to 31 days, weekly beyond.
    Raises ValidationError naming the parameter."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}

    def day(name: str, default: date) -> date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"{raw!r} is not a date; use YYYY-MM-DD."
            return default

    last_day = day("to", today)
    first_day = day("from", last_day - timedelta(days=DEFAULT_DAYS - 1))
    if first_day > last_day:
        errors["from"] = "Must not be after 'to'."
    elif (last_day - first_day).days + 1 > MAX_DAYS:
        errors["from"] = f"The period is at most {MAX_DAYS} days."
    work_center = item = None
    if code := (params.get("work_center") or "").strip():
        work_center = WorkCenter.objects.select_related("area").filter(code=code).first()
        if work_center is None:
            errors["work_center"] = f"No work center {code!r}."
    if code := (params.get("item") or "").strip():
        item = Item.objects.filter(code=code).first()
        if item is None:
            errors["item"] = f"No item {code!r}."
    bucket = (params.get("bucket") or "").strip()
    if bucket not in ("", DAY, WEEK):
        errors["bucket"] = "Use 'day' or 'week'."
    if not bucket or "bucket" in errors:
        bucket = DAY if (last_day - first_day).days < 31 else WEEK
    if errors:
        raise ValidationError(errors)
    return ReportFilter(first_day, last_day, work_center, item, bucket)


# --- Loaders (the queries) -----------------------------------------------------------------

_OPERATION_FIELDS = (
    "operation__order__item__code",
    "operation__sequence",
    "operation__name",
    "operation__work_center__code",
    "operation__work_center__area__code",
)


def _operation_key(row: Mapping) -> OperationKey:
    return OperationKey(*(row[f] for f in _OPERATION_FIELDS))


def _records_in_scope(f: ReportFilter):
    qs = InspectionRecord.objects.all()
    if f.work_center is not None:
        qs = qs.filter(work_center=f.work_center)
    if f.item is not None:
        qs = qs.filter(order__item=f.item)
    return qs


def _failed_attempts(f: ReportFilter):
    start, end = f.bounds()
    return _records_in_scope(f).filter(
        result=FAIL, corrected_by__isnull=True, inspected_at__gte=start, inspected_at__lt=end
    )


def defect_pareto(f: ReportFilter) -> list[ParetoBar]:
    """Failed attempts by defect code; one aggregate query."""
    rows = (
        _failed_attempts(f)
        .values("defect_code__code", "defect_code__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    return pareto(
        (
            r["defect_code__code"] or "",
            (f"{r['defect_code__code']} {r['defect_code__name']}")
            if r["defect_code__code"]
            else NO_DEFECT_CODE,
            r["n"],
        )
        for r in rows
    )


def operation_pareto(f: ReportFilter) -> list[ParetoBar]:
    """Failed attempts by operation (routing step of the item); one aggregate query."""
    rows = _failed_attempts(f).values(*_OPERATION_FIELDS).annotate(n=Count("id")).order_by()
    keys = [(_operation_key(r), r["n"]) for r in rows]
    return pareto((key.code, key.label, n) for key, n in keys)


def inspection_rows(f: ReportFilter) -> list[InspectionRow]:
    """Every record of the order operations inspected in the period, whenever recorded: a
    unit's earlier attempts decide whether its attempt in the period is its first, and a
    later correction may replace a record of the period. One query."""
    start, end = f.bounds()
    scoped = _records_in_scope(f)
    touched = scoped.filter(
        corrected_by__isnull=True, inspected_at__gte=start, inspected_at__lt=end
    ).values("operation_id")
    rows = (
        scoped.filter(operation_id__in=touched)
        .values(
            "id",
            "corrects_id",
            "corrected_by",
            "operation_id",
            "unit_id",
            "lot_id",
            "result",
            "inspected_at",
            *_OPERATION_FIELDS,
        )
        .order_by()
    )
    return [
        InspectionRow(
            id=r["id"],
            corrects_id=r["corrects_id"],
            corrected=r["corrected_by"] is not None,
            operation_id=r["operation_id"],
            operation=_operation_key(r),
            unit_id=r["unit_id"],
            lot_id=r["lot_id"],
            result=r["result"],
            inspected_at=r["inspected_at"],
        )
        for r in rows
    ]


def event_yield_rows(f: ReportFilter) -> list[EventYieldRow]:
    """Good and scrap reported per operation in the period; one aggregate query."""
    start, end = f.bounds()
    qs = ProductionEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if f.work_center is not None:
        qs = qs.filter(operation__work_center=f.work_center)
    if f.item is not None:
        qs = qs.filter(order__item=f.item)
    rows = (
        qs.filter(Q(quantity_good__gt=0) | Q(quantity_scrap__gt=0))
        .values(*_OPERATION_FIELDS)
        .annotate(good=Sum("quantity_good"), scrap=Sum("quantity_scrap"))
        .order_by()
    )
    return [EventYieldRow(_operation_key(r), r["good"], r["scrap"]) for r in rows]


@dataclass(frozen=True)
class YieldReport:
    operations: list[OperationYield]
    lines: list[LineYield]


def yield_report(f: ReportFilter, attempts: list[Attempt] | None = None) -> YieldReport:
    start, end = f.bounds()
    if attempts is None:
        attempts = attempts_resolve(inspection_rows(f))
    operations = first_pass_yield(attempts, event_yield_rows(f), start=start, end=end)
    return YieldReport(operations, line_yields(operations))


def trend_report(f: ReportFilter, attempts: list[Attempt] | None = None) -> list[TrendPoint]:
    if attempts is None:
        attempts = attempts_resolve(inspection_rows(f))
    return trend(attempts, first_day=f.first_day, last_day=f.last_day, bucket=f.bucket, tz=f.tz)


FPY_DAYS = 30  # the plant manager's first-pass yield tile: the last 30 plant days


def plant_fpy(*, today: date, days: int = FPY_DAYS) -> PlantFirstPass:
    """The plant's first-pass yield over the `days` plant days ending with `today` (both
    included), by unit (or lot): the rule is plant_first_pass's in
    quality/engines/report_figures.py. One query, like the reports'."""
    f = ReportFilter(today - timedelta(days=days - 1), today)
    start, end = f.bounds()
    return plant_first_pass(attempts_resolve(inspection_rows(f)), start=start, end=end)


@dataclass(frozen=True)
class QualityReports:
    """Everything the reports page shows, from one set of queries."""

    filter: ReportFilter
    defects: list[ParetoBar]
    operations: list[ParetoBar]
    yields: YieldReport
    trend: list[TrendPoint]


def quality_reports(f: ReportFilter) -> QualityReports:
    attempts = attempts_resolve(inspection_rows(f))
    return QualityReports(
        f,
        defect_pareto(f),
        operation_pareto(f),
        yield_report(f, attempts),
        trend_report(f, attempts),
    )


@dataclass(frozen=True)
class OrderQualityReport:
    order: ProductionOrder
    subjects: list[SubjectTrace]
    summary: OrderSummary


def _person(user) -> str:
    return person_name(user)


def _measurement_value(m) -> str:
    if m.value is not None:
        return quantity_format(m.value)
    if m.ok is None:
        return ""
    return "ok" if m.ok else "not ok"


def order_quality_report(order: ProductionOrder) -> OrderQualityReport:
    """The quality trace of one order; a fixed number of queries however many records."""
    records = (
        InspectionRecord.objects.filter(order=order)
        .select_related(
            "plan",
            "operation",
            "work_center",
            "unit",
            "lot",
            "defect_code",
            "inspector",
            "disposition__decided_by",
            "disposition__approved_by",
        )
        .prefetch_related("measurements__characteristic")
        .annotate(corrected_by_pk=F("corrected_by"))
    )
    lines = []
    for r in records:
        kind, label = ("unit", r.unit.serial) if r.unit_id else ("lot", r.lot.code)
        disposition = _disposition(r)
        lines.append(
            TraceLine(
                record_id=r.pk,
                subject_kind=kind,
                subject=label,
                sequence=r.operation.sequence,
                operation=r.operation.name,
                work_center=r.work_center.code,
                plan=str(r.plan),
                result=r.result,
                defect_code=r.defect_code.code if r.defect_code_id else "",
                defect_name=r.defect_code.name if r.defect_code_id else "",
                reason=r.reason_shown,
                measurements=tuple(
                    MeasurementLine(
                        m.characteristic.name,
                        _measurement_value(m),
                        m.characteristic.unit,
                        m.passed,
                    )
                    for m in r.measurements.all()
                ),
                inspector=_person(r.inspector),
                gauge=r.gauge,
                inspected_at=r.inspected_at,
                corrects_id=r.corrects_id,
                corrected_by_id=r.corrected_by_pk,
                disposition=disposition.decision if disposition else "",
                disposition_note=disposition.note if disposition else "",
                decided_by=_person(disposition.decided_by) if disposition else "",
                approved_by=_person(disposition.approved_by) if disposition else "",
                decided_at=disposition.decided_at if disposition else None,
                disposition_label=disposition.get_decision_display() if disposition else "",
            )
        )
    known = set()
    for row in (
        ProductionEvent.objects.filter(order=order)
        .filter(Q(unit__isnull=False) | Q(lot__isnull=False))
        .values("unit__serial", "lot__code")
        .distinct()
        .order_by()
    ):
        known.add(_known(row["unit__serial"], row["lot__code"], ""))
    for row in TraceCode.objects.filter(order=order).values("unit__serial", "lot__code", "code"):
        known.add(_known(row["unit__serial"], row["lot__code"], row["code"]))
    subjects, summary = order_subjects(lines, sorted(known))
    return OrderQualityReport(order, subjects, summary)


def _known(serial: str | None, lot: str | None, code: str) -> tuple[str, str, str]:
    return ("unit", serial, code) if serial else ("lot", lot, code)


def _disposition(record: InspectionRecord):
    try:
        return record.disposition  # select_related: no query
    except ObjectDoesNotExist:
        return None

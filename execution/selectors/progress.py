"""Reads for the order board, progress roll-up, drill-down and labour export.

The board refreshes every few seconds over thousands of open orders, so these return plain
rows (`.values()`, `.values_list()`) rather than model instances, joined and annotated in
the database: the cost is a fixed number of queries however many orders there are (tests
pin it).
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Exists,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Cast, Coalesce

from planning.models import OrderOperation, ProductionOrder
from resources.models import Holiday, WorkCenter
from resources.selectors.calendar import work_center_working_intervals

from ..models import LabourBooking, MaterialShortage, ProductionEvent, Task

ACTIVE = (ProductionOrder.Status.RELEASED, ProductionOrder.Status.IN_PROGRESS)


class _FloatFromDatabase:
    """For expressions whose value the database already answers as a float: Django would
    still call float() on every value (an expression's own converter), which on the board's
    tens of thousands of values costs more than the query."""

    def get_db_converters(self, connection):
        return self.output_field.get_db_converters(connection)


class Epoch(_FloatFromDatabase, Func):
    """Seconds since 1970 (UTC) of a datetime, as a float, computed by the database: the
    progress arithmetic works in epoch seconds, and a float needs no conversion in Python
    (aware datetimes and Decimals cost more than the arithmetic)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC text; julianday() parses it to the millisecond (2440587.5 is
        # 1970-01-01 00:00); rounding drops the float noise, so 06:00 stays 06:00:00.000.
        template = "ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        # date_part (not EXTRACT, which answers numeric since PostgreSQL 14) gives a float.
        template = "date_part('epoch', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


class _AsFloat(_FloatFromDatabase, Cast):
    """A decimal column as a float (CAST AS real / double precision)."""


class _FloatCase(_FloatFromDatabase, Case):
    pass


def _float(name: str) -> Cast:
    return _AsFloat(name, FloatField())


# What the progress arithmetic needs, for every order in view: tuples in this column order.
ORDER_COLUMNS = (
    "id",
    "number",
    "item__code",
    "quantity_f",
    "quantity_done_f",
    "quantity_scrap_f",
    "due_date",
    "priority",
    "status",
    "planned_start_ts",
    "planned_end_ts",
)
OPERATION_COLUMNS = (
    "id",
    "order_id",
    "sequence",
    "status",
    "work_center_id",
    "planned_start_ts",
    "planned_end_ts",
    "actual_end_ts",
    "quantity_done_f",
    "quantity_scrap_f",
    "setup_minutes_f",
    "run_minutes_per_unit_f",
    "task__status",
    "booked_minutes",  # labour booked on the task
    "run_since_ts",  # last start/resume of a running task
)
# What a page shows of an operation, loaded only for the orders on the page.
OPERATION_DETAIL_FIELDS = (
    "id",
    "name",
    "work_center__code",
    "equipment__code",
    "task__id",
    "task__pause_reason",
    "task__operator__badge",
    "task__operator__name",
    "task__equipment__code",
)


def board_orders(
    *,
    statuses: tuple[str, ...] | None = ACTIVE,
    work_center: str | None = None,
    order_ids: list[int] | None = None,
) -> QuerySet:
    """Orders in view, in due-date order: released and running ones (or any status when
    `statuses` is None), optionally those with an operation at a work center (by code), or
    only the given ids."""
    qs = ProductionOrder.objects.all()
    if statuses:
        qs = qs.filter(status__in=statuses)
    if order_ids is not None:
        qs = qs.filter(pk__in=order_ids)
    if work_center:
        qs = qs.filter(
            Exists(
                OrderOperation.objects.filter(order=OuterRef("pk"), work_center__code=work_center)
            )
        )
    return qs.order_by("due_date", "priority", "number")


def board_operations(orders: QuerySet) -> QuerySet:
    """The operations of `orders` with their task status, the labour minutes booked on the
    task and, when it runs now, since when (its last start or resume event)."""
    booked = (
        LabourBooking.objects.filter(task_id=OuterRef("task__id"))
        .order_by()
        .values("task_id")
        .annotate(seconds=Sum(Epoch("ended_at") - Epoch("started_at")))
        .values("seconds")
    )
    run_since = (
        ProductionEvent.objects.filter(
            task_id=OuterRef("task__id"),
            kind__in=(ProductionEvent.Kind.START, ProductionEvent.Kind.RESUME),
        )
        .order_by("-occurred_at", "-id")
        .values("occurred_at")[:1]
    )
    return (
        OrderOperation.objects.filter(order_id__in=orders.order_by().values("pk"))
        .annotate(
            planned_start_ts=Epoch("planned_start"),
            planned_end_ts=Epoch("planned_end"),
            actual_end_ts=Epoch("actual_end"),
            quantity_done_f=_float("quantity_done"),
            quantity_scrap_f=_float("quantity_scrap"),
            setup_minutes_f=_float("setup_minutes"),
            run_minutes_per_unit_f=_float("run_minutes_per_unit"),
            # Labour only counts towards a rate once something was made.
            booked_minutes=_FloatCase(
                When(
                    Q(quantity_done__gt=0) | Q(quantity_scrap__gt=0),
                    then=Coalesce(Subquery(booked, output_field=FloatField()) / 60.0, 0.0),
                ),
                default=0.0,
                output_field=FloatField(),
            ),
            # Only a running task has an open span; the CASE spares the lookup for the rest.
            run_since_ts=_FloatCase(
                When(task__status=Task.Status.RUNNING, then=Epoch(Subquery(run_since))),
                output_field=FloatField(),
            ),
        )
        .order_by("order_id", "sequence")
    )


def progress_rows(orders: QuerySet) -> tuple[list[tuple], list[tuple]]:
    """Rows for the progress arithmetic: orders (ORDER_COLUMNS) and their operations
    (OPERATION_COLUMNS) as tuples, numbers as floats and instants as epoch seconds."""
    order_rows = list(
        orders.annotate(
            quantity_f=_float("quantity"),
            quantity_done_f=_float("quantity_done"),
            quantity_scrap_f=_float("quantity_scrap"),
            planned_start_ts=Epoch("planned_start"),
            planned_end_ts=Epoch("planned_end"),
        ).values_list(*ORDER_COLUMNS)
    )
    op_rows = list(board_operations(orders).values_list(*OPERATION_COLUMNS))
    return order_rows, op_rows


def operation_details(order_ids: list[int]) -> dict[int, dict]:
    """What a page shows of the operations of some orders: names, machines, operators."""
    return {
        row["id"]: row
        for row in OrderOperation.objects.filter(order_id__in=order_ids).values(
            *OPERATION_DETAIL_FIELDS
        )
    }


def open_shortages(order_ids: list[int]) -> QuerySet:
    """Open material shortages of some orders, with the item, the operation and the cover."""
    return (
        MaterialShortage.objects.filter(
            status=MaterialShortage.Status.OPEN, requirement__order_id__in=order_ids
        )
        .order_by("requirement__order_id", "requirement__operation__sequence", "id")
        .values(
            "id",
            "quantity_short",
            "requirement__order_id",
            "requirement__operation_id",
            "requirement__operation__sequence",
            "requirement__item__code",
            "requisition__number",
            "transfer_from__code",
            "transfer_quantity",
        )
    )


def work_center_calendars(
    work_center_ids: set[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Shift intervals per work center between two instants (holidays left out): three
    queries — the work centers, their shifts, and the holidays of their sites."""
    centers = list(
        WorkCenter.objects.filter(pk__in=work_center_ids)
        .select_related("area__site")
        .prefetch_related("shifts")
    )
    # A day's margin each side covers every site's time zone (see the calendar function).
    holidays: dict[int, set] = defaultdict(set)
    for site_id, day in Holiday.objects.filter(
        site_id__in={wc.area.site_id for wc in centers},
        date__range=(start.date() - timedelta(days=2), end.date() + timedelta(days=1)),
    ).values_list("site_id", "date"):
        holidays[site_id].add(day)
    return {
        wc.pk: work_center_working_intervals(wc, start, end, holidays=holidays[wc.area.site_id])
        for wc in centers
    }


def work_center_choices() -> list[tuple[str, str]]:
    return list(WorkCenter.objects.order_by("code").values_list("code", "name"))


def order_timeline(order_id: int, *, limit: int = 200) -> list[dict]:
    """The order's production events, newest first (at most `limit`)."""
    return list(
        ProductionEvent.objects.filter(order_id=order_id)
        .order_by("-occurred_at", "-id")
        .values(
            "id",
            "event_id",
            "kind",
            "occurred_at",
            "received_at",
            "source",
            "operation__sequence",
            "operation__name",
            "operator__badge",
            "operator__name",
            "equipment__code",
            "quantity_good",
            "quantity_scrap",
            "reason",
            "trace_code",
        )[:limit]
    )


def labour_bookings(start: datetime, end: datetime) -> QuerySet:
    """Labour bookings that started in [start, end), per operator in time order."""
    return (
        LabourBooking.objects.filter(started_at__gte=start, started_at__lt=end)
        .order_by("operator__badge", "started_at", "id")
        .values(
            "id",
            "operator__badge",
            "operator__name",
            "started_at",
            "ended_at",
            "quantity_good",
            "quantity_scrap",
            "task__order__number",
            "task__operation__sequence",
            "task__operation__name",
            "task__operation__work_center__code",
        )
    )

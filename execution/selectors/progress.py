"""Progress of the open orders: live plan vs actual for the order board, its drill-down
and the hourly roll-up, and the reads behind them (also the labour export).

`progress_compute` loads open orders with their operations, labour and calendars and runs
the pure arithmetic of `execution.engines.progress` on them; `progress_details` completes
the orders a page shows (each operation's plan vs actual, names, operators, reasons). The
board calls both on every refresh, so what it shows is as fresh as the last accepted
production event; the roll-up (`execution.services.progress`) stores the same figures.

Why an order lags is a list of reasons `{type, text, ref}`: open material shortages,
paused or blocked tasks and lagging or late operations come from here; other apps (open
exceptions, machine downtime) add theirs with `lag_reason_register` in `AppConfig.ready`.

The board refreshes every few seconds over thousands of open orders, so the queries return
plain rows (`.values()`, `.values_list()`) rather than model instances, joined and
annotated in the database: the cost is a fixed number of queries however many orders there
are (tests pin it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

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
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from core.formatting import number_text
from core.gc_pause import gc_paused
from core.texts import text_render
from planning.models import OrderOperation, ProductionOrder
from resources.models import Holiday, WorkCenter
from resources.selectors.calendar import work_center_working_intervals

from ..engines.progress import (
    CLOSED,
    WALL_TIME,
    OperationForecast,
    OperationInput,
    OperationProgress,
    OrderInput,
    OrderProgress,
    Reason,
    WorkingCalendar,
    as_datetime,
    forecast_numbers,
    operation_forecast,
    operation_progress,
    order_reasons,
    order_rollup,
)
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
    "task__pause_reason_id",
    "task__pause_reason_params",
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
    """What a page shows of the operations of some orders: names, machines, operators, and
    why a paused task is paused (`pause_reason_shown`: in the reader's language when the
    system wrote it, an operator's reason as given)."""
    rows = OrderOperation.objects.filter(order_id__in=order_ids).values(*OPERATION_DETAIL_FIELDS)
    details = {}
    for row in rows:
        reason = row.get("task__pause_reason") or ""
        row["pause_reason_shown"] = (
            text_render(row["task__pause_reason_id"], row.get("task__pause_reason_params"))
            if row.get("task__pause_reason_id")
            else reason
        )
        details[row["id"]] = row
    return details


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
    """The order's production events, newest first (at most `limit`), each with its kind and
    source as a person reads them (`kind_label`, `source_label`), never the stored code."""
    kinds, sources = dict(ProductionEvent.Kind.choices), dict(ProductionEvent.Source.choices)
    rows = list(
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
    for row in rows:
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
        row["source_label"] = sources.get(row["source"], row["source"])
    return rows


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
            "excess_minutes",
            "original_minutes",
            "task__order__number",
            "task__operation__sequence",
            "task__operation__name",
            "task__operation__work_center__code",
        )
    )


# --- reasons from other apps: a registry that progress_details asks ----------------------

ReasonProvider = Callable[..., dict[int, list]]
_reason_providers: list[ReasonProvider] = []


def lag_reason_register(fn: ReasonProvider) -> ReasonProvider:
    """Register `fn(*, order_ids: list[int]) -> {order_id: [Reason or {type, text, ref}]}`.

    Called for the orders a page shows (and for all of them by the roll-up), so it must
    answer in a fixed number of queries (filter on `order_id__in`)."""
    if fn not in _reason_providers:
        _reason_providers.append(fn)
    return fn


def lag_reason_providers() -> list[ReasonProvider]:
    return list(_reason_providers)


# --- live progress ------------------------------------------------------------------------

# Calendars are loaded for the planned windows in view and this far past now; predictions
# beyond it run in wall time (see WorkingCalendar).
PREDICTION_HORIZON = timedelta(days=60)
MAX_LOOKBACK = timedelta(days=366)


@dataclass(slots=True)
class LiveOperation:
    status: str  # the operation's
    task_status: str | None  # the task's, what the floor sees
    data: OperationInput
    calendar: WorkingCalendar
    # The forecast only, until `progress_details` makes it the full OperationProgress.
    progress: OperationForecast | OperationProgress
    detail: dict | None = None  # name, work center, machine, operator … (progress_details)

    @property
    def status_label(self) -> str:
        if self.task_status:
            return Task.Status(self.task_status).label
        return OrderOperation.Status(self.status).label

    # Quantities as the board prints them: a template's floatformat costs ~30 µs a number,
    # which adds up on a page of a hundred orders refreshed every few seconds.
    @property
    def done_text(self) -> str:
        return number_text(self.data.quantity_done)


class LiveOrder:
    """An open order's progress now. Its operations' objects are made when first asked
    for (`operations`: the board asks for the hundred orders it shows, the roll-up for all);
    the order's figures are computed from the same numbers without them."""

    __slots__ = ("row", "progress", "detailed", "risk", "_operations", "_source")

    def __init__(self, row: dict, progress: OrderProgress, operations=None, source=None):
        self.row = row  # number, item, due date, priority, status
        self.progress = progress
        self.detailed = False  # operation progress, names and reasons loaded
        self.risk = None  # its delivery risk (planning/selectors/risk.py), set by the board
        self._operations: list[LiveOperation] | None = operations
        self._source = source  # (order row, operation rows, calendars, now) until built

    @property
    def operations(self) -> list[LiveOperation]:
        if self._operations is None:
            self._operations = _live_operations(*self._source)
            self._source = None
            if not self.detailed:
                self.progress.operations = [op.progress for op in self._operations]
        return self._operations

    @property
    def status_label(self) -> str:
        return ProductionOrder.Status(self.row["status"]).label

    @property
    def text(self) -> dict[str, str]:
        """The order's figures as the board prints them (see LiveOperation.done_text)."""
        p = self.progress
        return {
            "done": number_text(p.quantity_done),
            "planned": number_text(p.quantity_planned_to_date, 1),
            "quantity": number_text(p.quantity),
            "attainment": number_text(p.attainment_pct),  # as decided: 89.99 is yellow
            "bar": str(int(p.bar_width)),
        }

    # The two per-operation cells of a board row, built here: the template engine spends
    # about 10 µs on each variable it resolves, and these cells hold most of a row's (and
    # format_html_join costs as much again). Every value is escaped with html.escape.
    @property
    def operations_html(self) -> str:
        return mark_safe(
            "".join(
                f'<span class="board-op board-{op.progress.colour}" '
                f'title="{escape(op.progress.name)}">{op.progress.sequence}: '
                f"{escape(op.done_text)}</span>"
                for op in self.operations
            )
        )

    @property
    def current_html(self) -> str:
        cells = []
        for op in self.current:
            detail = op.detail or {}
            machine = detail.get("task__equipment__code") or detail.get("equipment__code") or ""
            paused = (
                f" <em>({escape(gettext('paused'))})</em>"
                if op.task_status == Task.Status.PAUSED
                else ""
            )
            cells.append(
                f"<div>{op.progress.sequence} {escape(machine)} "
                f"{escape(detail.get('task__operator__name') or '')}{paused}</div>"
            )
        return mark_safe("".join(cells))

    @property
    def current(self) -> list[LiveOperation]:
        """Operations being worked on now (running or paused)."""
        return [
            o for o in self.operations if o.task_status in (Task.Status.RUNNING, Task.Status.PAUSED)
        ]


def _calendars(operations: list[tuple], orders: list[tuple], now: float) -> dict:
    """A working calendar per work center in view, loaded for the planned windows in view
    (at most MAX_LOOKBACK back) and PREDICTION_HORIZON past the latest of them."""
    starts = [o[9] for o in orders if o[9] is not None]
    starts += [op[5] for op in operations if op[5] is not None]
    ends = [o[10] for o in orders if o[10] is not None]
    ends += [op[6] for op in operations if op[6] is not None]
    lookback = MAX_LOOKBACK.total_seconds()
    # A day's margin before: datetimes round to the microsecond, and the earliest window
    # must lie inside the calendar to be counted in working time.
    start = as_datetime(max(min([*starts, now]), now - lookback)) - timedelta(days=1)
    end = as_datetime(min(max([*ends, now]), now + lookback)) + PREDICTION_HORIZON
    centers = {op[4] for op in operations}
    intervals = work_center_calendars(centers, start, end)
    return {pk: WorkingCalendar(spans, span=(start, end)) for pk, spans in intervals.items()}


def progress_compute(
    *,
    now: datetime,
    statuses: tuple[str, ...] | None = ACTIVE,
    work_center: str | None = None,
    order_ids: list[int] | None = None,
) -> list[LiveOrder]:
    """Plan vs actual, lag and predicted delay of every open order (or the given ones),
    computed now from the current quantities: the order figures and each operation's
    forecast. `progress_details` adds the operations' own plan vs actual, names, operators
    and reasons to the orders that are shown (the board shows a page of thousands).

    Thousands of orders make tens of thousands of small objects (rows, forecasts), none
    freed until the answer is done, so the garbage collector pauses meanwhile (a tenth to a
    third of the board's time, measured); the board view holds it over rendering too."""
    with gc_paused():
        return _compute(now.timestamp(), statuses, work_center, order_ids)


def _compute(now: float, statuses, work_center, order_ids) -> list[LiveOrder]:
    orders_qs = board_orders(statuses=statuses, work_center=work_center, order_ids=order_ids)
    orders, operations = progress_rows(orders_qs)
    if not orders:
        return []
    calendars = _calendars(operations, orders, now)
    ops_by_order: dict[int, list[tuple]] = defaultdict(list)
    for op in operations:
        ops_by_order[op[1]].append(op)

    # What `order_progress(…, [operation_forecast(…) for each operation])` computes, summed
    # as it goes with the same `forecast_numbers`, without an object per operation: the
    # board does this for thousands of operations on each refresh (tests compare the two).
    get_calendar = calendars.get
    result = []
    for order in orders:
        order_id, number, item, quantity, done, scrap, due, priority, status, start, end = order
        op_rows = ops_by_order.get(order_id, ())
        calendar = WALL_TIME
        remaining = 0.0
        worst = None
        first_start = last_end = None
        for (
            _id,
            _order,
            _sequence,
            op_status,
            center,
            op_start,
            op_end,
            actual_end,
            op_done,
            op_scrap,
            setup,
            run,
            _task_status,
            booked,
            run_since,
        ) in op_rows:
            running = (now - run_since) / 60.0 if run_since is not None else 0.0
            if op_start is None:  # an operation not scheduled on its own: the order's window
                op_start = start
            if op_end is None:
                op_end = end
            calendar = get_calendar(center, WALL_TIME)
            _rate, hours, _predicted, delay = forecast_numbers(
                op_status,
                quantity,
                op_done,
                op_scrap,
                setup,
                run,
                booked,
                running if running > 0 else 0.0,
                op_end,
                actual_end,
                now,
                calendar,
            )
            remaining += hours
            if delay is not None and op_status not in CLOSED:
                worst = delay if worst is None or delay > worst else worst
            if op_start is not None and (first_start is None or op_start < first_start):
                first_start = op_start
            if op_end is not None and (last_end is None or op_end > last_end):
                last_end = op_end
        window_start, window_end = start, end
        if start is None or end is None:
            if first_start is not None and last_end is not None:
                window_start, window_end = first_start, last_end
            else:
                window_start = window_end = None
        # Finished units come out of the last operation: its work center's calendar.
        order_input = OrderInput(order_id, number, quantity, done, scrap, start, end)
        progress = order_rollup(
            order_input, window_start, window_end, remaining, worst, now, calendar, []
        )
        row = {
            "id": order_id,
            "number": number,
            "item__code": item,
            "due_date": due,
            "priority": priority,
            "status": status,
        }
        result.append(LiveOrder(row, progress, source=(order, op_rows, calendars, now)))
    return result


def _live_operations(
    order: tuple, op_rows: list[tuple], calendars: dict, now: float
) -> list[LiveOperation]:
    """The operations of one order as objects, each with its forecast."""
    quantity, start, end = order[3], order[9], order[10]
    live_ops = []
    for (
        op_id,
        _order,
        sequence,
        op_status,
        center,
        op_start,
        op_end,
        actual_end,
        op_done,
        op_scrap,
        setup,
        run,
        task_status,
        booked,
        run_since,
    ) in op_rows:
        running = (now - run_since) / 60.0 if run_since is not None else 0.0
        data = OperationInput(
            op_id,
            sequence,
            quantity,
            op_done,
            op_scrap,
            op_status,
            # An operation not scheduled on its own follows the order's window.
            start if op_start is None else op_start,
            end if op_end is None else op_end,
            setup,
            run,
            booked,
            running if running > 0 else 0.0,
            actual_end,
        )
        calendar = calendars.get(center, WALL_TIME)
        forecast = operation_forecast(data, now, calendar)
        live_ops.append(LiveOperation(op_status, task_status, data, calendar, forecast))
    return live_ops


def _shortage_reason(s: dict) -> Reason:
    # Worded when the page is made, in the reader's language (the roll-up's in English).
    values = {
        "quantity": f"{s['quantity_short']:g}",
        "item": s["requirement__item__code"],
        "sequence": s["requirement__operation__sequence"],
    }
    if s["requisition__number"]:
        text = gettext(
            "Short %(quantity)s %(item)s for operation %(sequence)s; requisition %(number)s"
        )
        values["number"] = s["requisition__number"]
    elif s["transfer_from__code"]:
        text = gettext(
            "Short %(quantity)s %(item)s for operation %(sequence)s; transfer %(transfer)s from "
            "%(location)s"
        )
        values["transfer"] = f"{s['transfer_quantity']:g}"
        values["location"] = s["transfer_from__code"]
    else:
        text = gettext("Short %(quantity)s %(item)s for operation %(sequence)s")
    return Reason("material_shortage", text % values, f"execution.materialshortage:{s['id']}")


def _task_reasons(sequence: int, status: str | None, row: dict) -> list[Reason]:
    ref = f"execution.task:{row.get('task__id')}"
    if status == Task.Status.PAUSED:
        reason = row.get("task__pause_reason")
        if row.get("task__pause_reason_id"):  # the system's words (core/texts.py)
            why = row.get("pause_reason_shown") or reason
        else:  # an operator's: one of the terminal's reasons is translated
            why = gettext(reason) if reason else gettext("no reason given")
        text = gettext("Operation %(sequence)s paused: %(why)s")
        return [Reason("task_paused", text % {"sequence": sequence, "why": why}, ref)]
    if status == Task.Status.BLOCKED:
        text = gettext("Operation %(sequence)s is blocked")
        return [Reason("task_blocked", text % {"sequence": sequence}, ref)]
    return []


def _as_reason(item) -> Reason:
    if isinstance(item, Reason):
        return item
    return Reason(str(item.get("type", "")), str(item.get("text", "")), str(item.get("ref", "")))


def progress_details(orders: list[LiveOrder], *, now: datetime) -> list[LiveOrder]:
    """Complete some orders for a page (in place): each operation's plan vs actual, names,
    machines and operators, and the reasons — open shortages, paused or blocked tasks,
    lagging or late operations, and those of registered providers. A fixed number of
    queries however many orders."""
    ids = [o.row["id"] for o in orders if not o.detailed]
    if not ids:
        return orders
    now_ts = now.timestamp()
    details = operation_details(ids)
    op_reasons: dict[int, list[Reason]] = defaultdict(list)
    for s in open_shortages(ids):
        op_reasons[s["requirement__operation_id"]].append(_shortage_reason(s))
    extra: dict[int, list[Reason]] = defaultdict(list)
    for provider in _reason_providers:
        for order_id, items in (provider(order_ids=ids) or {}).items():
            extra[order_id].extend(_as_reason(i) for i in items)
    for order in orders:
        if order.detailed:
            continue
        for op in order.operations:
            op.detail = details.get(op.data.id, {})
            op.data.name = op.detail.get("name", "")
            op.progress = operation_progress(op.data, now_ts, op.calendar, forecast=op.progress)
            op.progress.reasons = [
                *_task_reasons(op.data.sequence, op.task_status, op.detail),
                *op_reasons.get(op.data.id, ()),
            ]
        order.progress.operations = [op.progress for op in order.operations]
        order.progress.reasons = order_reasons(order.progress, extra.get(order.row["id"], ()))
        order.detailed = True
    return orders


def progress_live(
    *,
    now: datetime | None = None,
    statuses: tuple[str, ...] | None = ACTIVE,
    work_center: str | None = None,
    order_ids: list[int] | None = None,
) -> list[LiveOrder]:
    """Everything about every open order (or the given ones): the roll-up, a drill-down."""
    now = now or timezone.now()
    orders = progress_compute(
        now=now, statuses=statuses, work_center=work_center, order_ids=order_ids
    )
    return progress_details(orders, now=now)

"""Progress: live plan vs actual for the order board, and the hourly roll-up to snapshots.

`progress_compute` loads open orders with their operations, labour and calendars (a fixed
number of queries, see `execution.selectors.progress`) and runs the pure arithmetic of
`execution.engines.progress` on them; `progress_details` completes the orders a page shows (each
operation's plan vs actual, names, operators, reasons). The board calls both on every
refresh, so what it shows is as fresh as the last accepted production event.
`progress_rollup_run` stores the same figures as `ProgressSnapshot` rows keyed by the hour,
and tells planning about predicted delays through the domain events
`execution.order.delay_predicted` ({order_id, order, planned_end, predicted_end,
delay_hours, reasons, operations, predicted_at}; `operations` lists each open operation's
{operation_id, sequence, predicted_end, delay_hours}) and, once an announced order is back
within the tolerance, `execution.order.delay_cleared` ({order_id, order, predicted_end,
delay_hours, operations, predicted_at}).

Why an order lags is a list of reasons `{type, text, ref}`: open material shortages,
paused or blocked tasks and lagging or late operations come from here; other apps (open
exceptions, machine downtime) add theirs with `lag_reason_register` in `AppConfig.ready`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.events import emit
from core.gc_pause import gc_paused
from core.notifications import people_notify
from core.roles import Role
from core.tasks import outbox_dispatch
from planning.models import OrderOperation, ProductionOrder

from ..engines.progress import (
    CLOSED,
    DELAY_TOLERANCE_HOURS,
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
from ..models import ProgressSnapshot, Task
from ..selectors.progress import (
    ACTIVE,
    board_orders,
    open_shortages,
    operation_details,
    progress_rows,
    work_center_calendars,
)

# Calendars are loaded for the planned windows in view and this far past now; predictions
# beyond it run in wall time (see WorkingCalendar).
PREDICTION_HORIZON = timedelta(days=60)
MAX_LOOKBACK = timedelta(days=366)
# A still-delayed order is announced again each time its delay passes another multiple of
# this, so an idle order (whose predicted end slides with the clock) does not flood
# planning every hour.
DELAY_REANNOUNCE_HOURS = 4.0

DELAY_TOPIC = "execution.order.delay_predicted"
CLEARED_TOPIC = "execution.order.delay_cleared"

# --- reasons from other apps ----------------------------------------------------------

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


# --- live progress -----------------------------------------------------------------------


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

    __slots__ = ("row", "progress", "detailed", "_operations", "_source")

    def __init__(self, row: dict, progress: OrderProgress, operations=None, source=None):
        self.row = row  # number, item, due date, priority, status
        self.progress = progress
        self.detailed = False  # operation progress, names and reasons loaded
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
            paused = " <em>(paused)</em>" if op.task_status == Task.Status.PAUSED else ""
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


def number_text(value: float | None, places: int = 2) -> str:
    """12, 12.5, 12.25: at most `places` decimals, no trailing zeros."""
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
    cover = ""
    if s["requisition__number"]:
        cover = f"; requisition {s['requisition__number']}"
    elif s["transfer_from__code"]:
        cover = f"; transfer {s['transfer_quantity']:g} from {s['transfer_from__code']}"
    return Reason(
        "material_shortage",
        f"Short {s['quantity_short']:g} {s['requirement__item__code']} for operation "
        f"{s['requirement__operation__sequence']}{cover}",
        f"execution.materialshortage:{s['id']}",
    )


def _task_reasons(sequence: int, status: str | None, row: dict) -> list[Reason]:
    ref = f"execution.task:{row.get('task__id')}"
    if status == Task.Status.PAUSED:
        why = row.get("task__pause_reason") or "no reason given"
        return [Reason("task_paused", f"Operation {sequence} paused: {why}", ref)]
    if status == Task.Status.BLOCKED:
        return [Reason("task_blocked", f"Operation {sequence} is blocked", ref)]
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


# --- hourly roll-up ----------------------------------------------------------------------


def _dec(value: float | None, places: int, limit: float | None = None) -> Decimal | None:
    if value is None:
        return None
    if limit is not None:
        value = max(min(value, limit), -limit)
    return Decimal(str(round(value, places))).quantize(Decimal(1).scaleb(-places))


def _snapshot_values(p: OrderProgress | OperationProgress, lagging: bool) -> dict:
    actual = getattr(p, "actual_minutes_per_unit", None)
    planned = getattr(p, "planned_minutes_per_unit", None)
    return {
        "quantity_done": _dec(p.quantity_done, 4),
        "quantity_planned_to_date": _dec(p.quantity_planned_to_date, 4),
        "completion_pct": _dec(p.completion_pct, 2, 9999.99),
        "planned_pct": _dec(p.planned_pct, 2, 9999.99),
        "remaining_hours": _dec(p.remaining_hours, 2),
        "actual_minutes_per_unit": _dec(actual, 4),
        "planned_minutes_per_unit": _dec(planned, 4),
        "predicted_end": p.predicted_end,
        "delay_hours": _dec(p.delay_hours or 0.0, 2),
        "lagging": lagging,
        "reasons": [r.as_dict() for r in p.reasons],
    }


def rollup_hour(now: datetime) -> datetime:
    """The hour a roll-up at `now` is filed under (plant time, truncated)."""
    return timezone.localtime(now).replace(minute=0, second=0, microsecond=0)


ROLLUP_LOCK = "closedloop.execution.progress_rollup"


def _rollup_lock() -> None:
    """Two roll-ups in the same hour (beat and a manual run) take turns writing the hour's
    rows: on PostgreSQL a transaction-level advisory lock; SQLite runs one writing
    transaction at a time anyway. The unique constraints per order, operation and hour
    refuse anything else. The orders themselves are not locked: event recording would wait
    for the seconds the roll-up takes to write thousands of rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [ROLLUP_LOCK])


def progress_rollup_run(*, now: datetime | None = None) -> dict:
    """Store plan vs actual of every released or running order and its operations, keyed
    by the hour; a second run in the same hour rewrites those rows and adds none.

    Orders whose predicted delay exceeds the tolerance are announced to planning with
    `execution.order.delay_predicted`: when first late, when the delay crosses another
    DELAY_REANNOUNCE_HOURS step (planners are told then), and — to planning only — when it
    moved by more than the tolerance from what planning holds (the scheduler keeps a running
    operation on its machine until the predicted end, so that must stay close)."""
    now = now or timezone.now()
    hour = rollup_hour(now)
    live = progress_live(now=now)
    ids = sorted(o.row["id"] for o in live)
    announced = cleared = 0
    late: list[OrderProgress] = []
    with transaction.atomic():
        _rollup_lock()
        this_hour = ProgressSnapshot.objects.filter(taken_at=hour, order_id__in=ids)
        existing = {
            (s.order_id, s.operation_id): s
            for s in this_hour.only("order_id", "operation_id", "predicted_end", "delay_hours")
        }
        latest_before = ProgressSnapshot.objects.filter(
            order=OuterRef("order"), operation__isnull=True, taken_at__lt=hour
        ).order_by("-taken_at")
        # What planning holds of each order's prediction (delay feedback): refreshed when
        # the floor's figure moved by more than the tolerance.
        held = dict(
            ProductionOrder.objects.filter(
                pk__in=ids, predicted_delay_hours__isnull=False
            ).values_list("pk", "predicted_delay_hours")
        )
        previous = {
            s.order_id: s
            for s in ProgressSnapshot.objects.filter(
                order_id__in=ids,
                operation__isnull=True,
                pk=Subquery(latest_before.values("pk")[:1]),
            ).only("order_id", "predicted_end", "delay_hours")
        }
        rows = []
        for order in live:
            p = order.progress
            rows.append(
                ProgressSnapshot(
                    order_id=p.id, operation=None, taken_at=hour, **_snapshot_values(p, p.lagging)
                )
            )
            rows += [
                ProgressSnapshot(
                    order_id=p.id,
                    operation_id=o.progress.id,
                    taken_at=hour,
                    **_snapshot_values(o.progress, o.progress.lagging),
                )
                for o in order.operations
            ]
            before = existing.get((p.id, None)) or previous.get(p.id)
            stepped = _announce(p, before)
            if stepped or _drifted(p, held.get(p.id)):
                emit(
                    DELAY_TOPIC,
                    {
                        "order_id": p.id,
                        "order": p.number,
                        "planned_end": p.planned_end.isoformat() if p.planned_end else None,
                        "predicted_end": p.predicted_end.isoformat(),
                        "delay_hours": str(_dec(p.delay_hours, 2)),
                        "reasons": [r.as_dict() for r in p.reasons],
                        "operations": _operation_predictions(order),
                        "predicted_at": now.isoformat(),
                    },
                    dispatch_on_commit=False,  # one delivery round for all, below
                )
                announced += 1
                if stepped:
                    late.append(p)
            elif _cleared(p, before):
                emit(
                    CLEARED_TOPIC,
                    {
                        "order_id": p.id,
                        "order": p.number,
                        "predicted_end": p.predicted_end.isoformat() if p.predicted_end else None,
                        "delay_hours": str(_dec(p.delay_hours or 0.0, 2)),
                        "operations": _operation_predictions(order),
                        "predicted_at": now.isoformat(),
                    },
                    dispatch_on_commit=False,
                )
                cleared += 1
        # The hour's rows are replaced as a whole, which is update_or_create for each key
        # in one DELETE and one INSERT: a bulk UPDATE of 10,000 rows (a CASE per column)
        # took seconds on PostgreSQL.
        this_hour.delete()
        ProgressSnapshot.objects.bulk_create(rows, batch_size=2000)
        if late:
            _tell_planners(late, hour)
        if announced or cleared:
            transaction.on_commit(lambda: outbox_dispatch.delay())
    updated = sum(1 for r in rows if (r.order_id, r.operation_id) in existing)
    return {
        "taken_at": hour.isoformat(),
        "orders": len(live),
        "created": len(rows) - updated,
        "updated": updated,
        "delays_announced": announced,
        "delays_cleared": cleared,
    }


PLANNER_DIGEST_ORDERS = 5  # named in a planner's notification; the rest are counted


def _tell_planners(late: list[OrderProgress], hour: datetime) -> None:
    """One notification (and e-mail) per planner per roll-up: the orders predicted late for
    the first time or by another DELAY_REANNOUNCE_HOURS step, worst first, with a link to
    the schedule page that lists them all; a slipping order does not fill the inbox."""
    worst = sorted(late, key=lambda p: -p.delay_hours)
    named = ", ".join(f"{p.number} +{p.delay_hours:.1f} h" for p in worst[:PLANNER_DIGEST_ORDERS])
    more = len(worst) - PLANNER_DIGEST_ORDERS
    text = (
        f"Progress {timezone.localtime(hour):%H:%M}: {len(worst)} order"
        f"{'s' if len(worst) != 1 else ''} predicted late — {named}"
        f"{f' and {more} more' if more > 0 else ''}. Reschedule suggested."
    )[:300]
    planners = list(
        get_user_model().objects.filter(groups__name=Role.PLANNER, is_active=True).distinct()
    )
    people_notify(
        planners,
        text,
        subject="[ClosedLoop] Orders predicted late",
        url=reverse("planning:schedule"),
    )


def _operation_predictions(order: LiveOrder) -> list[dict]:
    """Each open operation's predicted end, for planning (a running one holds its machine
    until then when the plan is rescheduled)."""
    return [
        {
            "operation_id": o.progress.id,
            "sequence": o.progress.sequence,
            "predicted_end": o.progress.predicted_end.isoformat()
            if o.progress.predicted_end
            else None,
            "delay_hours": None
            if o.progress.delay_hours is None
            else str(_dec(o.progress.delay_hours, 2)),
        }
        for o in order.operations
        if o.status not in CLOSED
    ]


def _drifted(p: OrderProgress, held: Decimal | None) -> bool:
    """Still late, and more than the tolerance away from the delay planning holds."""
    return (
        p.delayed and held is not None and abs(p.delay_hours - float(held)) > DELAY_TOLERANCE_HOURS
    )


def _cleared(p: OrderProgress, before: ProgressSnapshot | None) -> bool:
    """The order was announced delayed at the last snapshot and is within the tolerance now
    (announced once: the next snapshot is no longer delayed)."""
    if p.delayed or before is None or before.predicted_end is None:
        return False
    return float(before.delay_hours) > DELAY_TOLERANCE_HOURS


def _announce(p: OrderProgress, before: ProgressSnapshot | None) -> bool:
    """Announce a delay when it first exceeds the tolerance, then each time it crosses a
    multiple of DELAY_REANNOUNCE_HOURS, growing or shrinking (compared with the latest
    snapshot, so a second run in the same hour announces nothing new): what planning holds
    is never a whole step off while the order stays late."""
    if not p.delayed:
        return False
    if before is None or before.predicted_end is None:
        return True
    previous = float(before.delay_hours)
    if previous <= DELAY_TOLERANCE_HOURS:
        return True
    return p.delay_hours // DELAY_REANNOUNCE_HOURS != previous // DELAY_REANNOUNCE_HOURS

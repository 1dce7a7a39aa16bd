"""Progress arithmetic, pure: plan vs actual, lag, delay prediction, board colours.

Plain data in, plain data out; no ORM. `execution.selectors.progress` loads the orders,
operations, labour and calendars and calls these functions, for the order board on every
refresh and for the hourly roll-up that saves snapshots, so the board and the snapshot agree.

Definitions (a plant engineer's reading of "where should the order be by now"):

* **Planned to date** — the order (or operation) quantity spread linearly over its planned
  window (planned start → planned end) in *working time*: the shift intervals of the work
  center's calendar (`WorkingCalendar`). Nights, Sundays and holidays earn no plan, so an
  order planned Monday 06:00 → Friday 22:00 on two shifts is 40 % planned from Tuesday 22:00
  until Wednesday 06:00. A window with no working time in it (or no calendar) falls back to
  wall time. No planned window → nothing is planned yet.
* **Attainment** — actual quantity as a share of planned to date, in %. Nothing planned yet
  → 100 % (on plan). This is the board's colour: green ≥ 90, yellow 50–89.99, red < 50.
* **Lagging** — attainment below 90 % (the board shows it yellow or red). Planned 40 % by
  day 3 with 25 % done is 62.5 % attainment: lagging.
* **Actual rate** — minutes per unit: (booked labour minutes + the running span since the
  last start/resume) / (good + scrap made). Clock minutes: that is how long a unit took.
* **Predicted end** — now + remaining quantity × rate, counted in working time of the
  operation's work center (past the end of the calendar we have, in wall time). The rate is
  the actual one once something was made; before that the planned one (plus setup if the
  operation has not started), and then never earlier than the planned end (an operation
  that has not shown a rate is assumed on plan unless it can no longer make it).
  Remaining = order quantity − good made; scrap is not extrapolated.
* **Delay** — predicted end − planned end, in hours (negative: ahead). An order's delay is
  its worst open operation's delay, carried to the order's planned end (the following
  operations are planned back to back, so a late operation pushes the end of the order).
  Above `DELAY_TOLERANCE_HOURS` the order is flagged "reschedule suggested".

Instants are epoch seconds (floats, the `_ts` fields) and quantities floats: this runs for
thousands of operations on every board refresh, and the database hands them over that way
without per-value conversion. Properties give the instants back as aware datetimes.
Percentages and hours are rounded to 2 decimals, quantities to 4; the colour is decided on
the rounded percentage so it matches what is shown (89.99 is yellow).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.formatting import number_text
from resources.engines.calendar import intervals_merge

GREEN_AT = 90.0  # attainment ≥ 90 % is on plan
YELLOW_AT = 50.0  # 50 ≤ attainment < 90 is behind; below 50 far behind
LAG_BELOW = GREEN_AT
DELAY_TOLERANCE_HOURS = 1.0  # a predicted delay up to an hour is noise, not a replan

GREEN, YELLOW, RED = "green", "yellow", "red"


def as_datetime(ts: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime (templates show it in the plant's zone)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


# --- colours and percentages ---------------------------------------------------------


def progress_colour(attainment_pct: float) -> str:
    """Board colour of an attainment: green ≥ 90, yellow 50 ≤ x < 90, red < 50."""
    if attainment_pct >= GREEN_AT:
        return GREEN
    if attainment_pct >= YELLOW_AT:
        return YELLOW
    return RED


def pct(part: float, whole: float) -> float:
    """`part` as a % of `whole`, rounded to 2 decimals; 0 when there is no whole."""
    if whole <= 0:
        return 0.0
    return round(100.0 * part / whole, 2)


def attainment_pct(done: float, planned_to_date: float) -> float:
    """Actual as a share of planned to date, in %; nothing planned yet counts as on plan."""
    if planned_to_date <= 0:
        return 100.0
    return round(100.0 * done / planned_to_date, 2)


def is_lagging(done: float, planned_to_date: float) -> bool:
    return attainment_pct(done, planned_to_date) < LAG_BELOW


# --- working time ----------------------------------------------------------------------


class WorkingCalendar:
    """Working intervals (e.g. a work center's shifts) with prefix sums, so the working
    minutes between two instants and "t plus n working minutes" cost a binary search.

    Within `span` (the window the intervals were loaded for) only the intervals count;
    after it, all time counts (wall time), so a prediction beyond the loaded calendar still
    lands somewhere. Without intervals this is wall time everywhere.
    """

    def __init__(
        self,
        intervals: Iterable[tuple[datetime, datetime]] = (),
        span: tuple[datetime, datetime] | None = None,
    ):
        spans = intervals_merge((start.timestamp(), end.timestamp()) for start, end in intervals)
        self._starts = [s for s, _ in spans]
        self._ends = [e for _, e in spans]
        self._cum: list[float] = []  # working seconds before each interval
        total = 0.0
        for s, e in spans:
            self._cum.append(total)
            total += e - s
        self._total = total
        # A calendar without a single shift (none defined) is wall time, not "never works".
        self._span: tuple[float, float] | None = None
        if spans:
            lo, hi = (span[0].timestamp(), span[1].timestamp()) if span else (spans[0][0], 0.0)
            self._span = (min(lo, spans[0][0]), max(hi, spans[-1][1]))

    @property
    def is_wall_time(self) -> bool:
        return self._span is None

    def _seconds_at(self, ts: float) -> float:
        """Working seconds from the start of the calendar to `ts`."""
        if self._span is None:
            return ts
        if ts >= self._span[1]:
            return self._total + (ts - self._span[1])
        i = bisect_right(self._starts, ts) - 1
        if i < 0:
            return 0.0
        return self._cum[i] + min(ts, self._ends[i]) - self._starts[i]

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes between two instants (0 when end is not after start)."""
        if end <= start:
            return 0.0
        return (self._seconds_at(end.timestamp()) - self._seconds_at(start.timestamp())) / 60.0

    def add_minutes(self, ts: float, minutes: float) -> float:
        """The instant (epoch seconds) `minutes` working minutes after `ts`."""
        if minutes <= 0:
            return ts
        if self._span is None:
            return ts + minutes * 60.0
        target = self._seconds_at(ts) + minutes * 60.0
        if target >= self._total:
            return self._span[1] + (target - self._total)
        i = bisect_right(self._cum, target) - 1
        return self._starts[i] + (target - self._cum[i])

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant when `minutes` working minutes after `start` have passed."""
        return datetime.fromtimestamp(self.add_minutes(start.timestamp(), minutes), start.tzinfo)

    def fraction(self, s: float, e: float, now: float) -> float:
        """Share (0..1) of the window [s, e] (epoch seconds) elapsed at `now`, in working
        time; in wall time when the window lies outside the calendar or has no working
        time in it."""
        if now <= s:
            return 0.0
        if now >= e:
            return 1.0
        span = self._span
        if span is not None and span[0] <= s and e <= span[1]:
            at_start = self._seconds_at(s)
            total = self._seconds_at(e) - at_start
            if total > 0:
                return min((self._seconds_at(now) - at_start) / total, 1.0)
        return (now - s) / (e - s)


WALL_TIME = WorkingCalendar()


def planned_fraction(
    start: float | None,
    end: float | None,
    now: float,
    calendar: WorkingCalendar = WALL_TIME,
) -> float:
    """Share (0..1) of a planned window (epoch seconds) elapsed at `now`, in working time
    when the window has working time in the calendar, else in wall time. No window → 0."""
    if start is None or end is None or now <= start:
        return 0.0
    if now >= end:
        return 1.0
    return calendar.fraction(start, end, now)


def minutes_per_unit(booked_minutes: float, running_minutes: float, made: float) -> float | None:
    """Actual minutes per unit made (good + scrap); None until something was made."""
    if made <= 0:
        return None
    return (booked_minutes + max(running_minutes, 0.0)) / made


# --- per operation and per order --------------------------------------------------------


@dataclass(slots=True)
class Reason:
    """Why an order or operation is behind: {type, text, ref}. `ref` names the record as
    "<app>.<model>:<pk>" so a page can link it; other apps add their own types."""

    type: str
    text: str
    ref: str = ""

    def as_dict(self) -> dict:
        return {"type": self.type, "text": self.text, "ref": self.ref}


@dataclass(slots=True)
class OperationInput:
    id: int
    sequence: int
    order_quantity: float
    quantity_done: float  # good
    quantity_scrap: float
    status: str  # OrderOperation.Status value
    planned_start_ts: float | None
    planned_end_ts: float | None
    setup_minutes: float
    run_minutes_per_unit: float  # planned rate
    booked_minutes: float = 0.0  # closed labour bookings
    running_minutes: float = 0.0  # since the last start/resume, if running now
    actual_end_ts: float | None = None
    name: str = ""


class _Instants:
    """Aware datetimes of the `_ts` fields, for pages and snapshots."""

    __slots__ = ()

    @property
    def planned_start(self) -> datetime | None:
        return as_datetime(self.planned_start_ts)

    @property
    def planned_end(self) -> datetime | None:
        return as_datetime(self.planned_end_ts)

    @property
    def predicted_end(self) -> datetime | None:
        return as_datetime(self.predicted_end_ts)


@dataclass(slots=True)
class OperationForecast(_Instants):
    """When an operation will finish at its current rate, against its plan."""

    id: int
    sequence: int
    status: str
    planned_start_ts: float | None
    planned_end_ts: float | None
    actual_minutes_per_unit: float | None
    remaining_hours: float
    predicted_end_ts: float | None
    delay_hours: float | None

    @property
    def delayed(self) -> bool:
        return self.delay_hours is not None and self.delay_hours > DELAY_TOLERANCE_HOURS


@dataclass(slots=True)
class OperationProgress(_Instants):
    """An operation's plan vs actual now, with its forecast."""

    id: int
    sequence: int
    status: str
    quantity: float
    quantity_done: float
    quantity_scrap: float
    quantity_planned_to_date: float
    completion_pct: float
    planned_pct: float
    attainment_pct: float
    colour: str
    lagging: bool
    planned_minutes_per_unit: float
    actual_minutes_per_unit: float | None
    remaining_hours: float
    planned_start_ts: float | None
    planned_end_ts: float | None
    predicted_end_ts: float | None
    delay_hours: float | None
    name: str = ""
    reasons: list[Reason] = field(default_factory=list)

    @property
    def delayed(self) -> bool:
        return self.delay_hours is not None and self.delay_hours > DELAY_TOLERANCE_HOURS

    @property
    def bar_width(self) -> float:
        return min(self.attainment_pct, 100.0)


CLOSED = ("done", "cancelled")
NOT_STARTED = ("pending", "ready", "blocked")


def forecast_numbers(
    status: str,
    order_quantity: float,
    done: float,
    scrap: float,
    setup_minutes: float,
    run_minutes_per_unit: float,
    booked_minutes: float,
    running_minutes: float,
    planned_end_ts: float | None,
    actual_end_ts: float | None,
    now: float,
    calendar: WorkingCalendar,
) -> tuple[float | None, float, float | None, float | None]:
    """An operation's (actual minutes per unit, remaining hours, predicted end, delay hours)
    at `now`, rounded as shown — see the module docstring for the rules. The board runs
    this for every open operation on each refresh, so it takes plain numbers;
    `operation_forecast` wraps it."""
    actual_rate = minutes_per_unit(booked_minutes, running_minutes, done + scrap)
    remaining = order_quantity - done
    if status in CLOSED or remaining <= 0:
        remaining_minutes = 0.0
        predicted = actual_end_ts or (now if status != "cancelled" else None)
    elif actual_rate is not None:
        remaining_minutes = remaining * actual_rate
        predicted = calendar.add_minutes(now, remaining_minutes)
    else:
        setup = setup_minutes if status in NOT_STARTED else 0.0
        remaining_minutes = setup + remaining * run_minutes_per_unit
        # No rate shown yet: assumed on plan, unless it can no longer make its planned end.
        predicted = (
            None
            if planned_end_ts is None
            else max(calendar.add_minutes(now, remaining_minutes), planned_end_ts)
        )
    delay = None
    if predicted is not None:
        predicted = float(round(predicted))  # to the second: the float sums leave noise
        if planned_end_ts is not None and status != "cancelled":
            delay = round((predicted - planned_end_ts) / 3600.0, 2)
    return (
        None if actual_rate is None else round(actual_rate, 4),
        round(remaining_minutes / 60.0, 2),
        predicted,
        delay,
    )


def operation_forecast(
    op: OperationInput, now: float, calendar: WorkingCalendar = WALL_TIME
) -> OperationForecast:
    """Predicted end and delay of one operation at `now` (epoch seconds); see the module
    docstring for the rules."""
    return OperationForecast(
        op.id,
        op.sequence,
        op.status,
        op.planned_start_ts,
        op.planned_end_ts,
        *forecast_numbers(
            op.status,
            op.order_quantity,
            op.quantity_done,
            op.quantity_scrap,
            op.setup_minutes,
            op.run_minutes_per_unit,
            op.booked_minutes,
            op.running_minutes,
            op.planned_end_ts,
            op.actual_end_ts,
            now,
            calendar,
        ),
    )


def operation_progress(
    op: OperationInput,
    now: float,
    calendar: WorkingCalendar = WALL_TIME,
    forecast: OperationForecast | None = None,
) -> OperationProgress:
    """Plan vs actual of one operation at `now` (epoch seconds), with its forecast (pass
    one already made)."""
    if forecast is None:
        forecast = operation_forecast(op, now, calendar)
    quantity = op.order_quantity
    fraction = planned_fraction(op.planned_start_ts, op.planned_end_ts, now, calendar)
    planned = quantity * fraction
    attainment = attainment_pct(op.quantity_done, planned)
    return OperationProgress(
        id=op.id,
        sequence=op.sequence,
        status=op.status,
        quantity=quantity,
        quantity_done=op.quantity_done,
        quantity_scrap=op.quantity_scrap,
        quantity_planned_to_date=round(planned, 4),
        completion_pct=pct(op.quantity_done, quantity),
        planned_pct=round(100.0 * fraction, 2),
        attainment_pct=attainment,
        colour=progress_colour(attainment),
        lagging=attainment < LAG_BELOW and op.status not in CLOSED,
        planned_minutes_per_unit=op.run_minutes_per_unit,
        actual_minutes_per_unit=forecast.actual_minutes_per_unit,
        remaining_hours=forecast.remaining_hours,
        planned_start_ts=op.planned_start_ts,
        planned_end_ts=op.planned_end_ts,
        predicted_end_ts=forecast.predicted_end_ts,
        delay_hours=forecast.delay_hours,
        name=op.name,
    )


@dataclass(slots=True)
class OrderInput:
    id: int
    number: str
    quantity: float
    quantity_done: float  # good units out of the last operation
    quantity_scrap: float
    planned_start_ts: float | None
    planned_end_ts: float | None


@dataclass(slots=True)
class OrderProgress(_Instants):
    id: int
    number: str
    quantity: float
    quantity_done: float
    quantity_scrap: float
    quantity_planned_to_date: float
    completion_pct: float
    planned_pct: float
    attainment_pct: float
    colour: str
    lagging: bool
    remaining_hours: float
    planned_start_ts: float | None
    planned_end_ts: float | None
    predicted_end_ts: float | None
    delay_hours: float
    operations: list  # OperationProgress, or only OperationForecast where not detailed
    reasons: list[Reason] = field(default_factory=list)

    @property
    def delayed(self) -> bool:
        return self.predicted_end_ts is not None and self.delay_hours > DELAY_TOLERANCE_HOURS

    @property
    def bar_width(self) -> float:
        return min(self.attainment_pct, 100.0)


def order_progress(
    order: OrderInput,
    operations: Sequence[OperationForecast | OperationProgress],
    now: float,
    calendar: WorkingCalendar = WALL_TIME,
) -> OrderProgress:
    """Roll the operations up to the order at `now` (epoch seconds). The order's planned
    window is its own, or the span of its operations' windows; `calendar` is that of the
    work center that makes the finished units (the last operation). Reasons are added by
    `order_reasons`."""
    start, end = order.planned_start_ts, order.planned_end_ts
    if start is None or end is None:
        starts = [o.planned_start_ts for o in operations if o.planned_start_ts is not None]
        ends = [o.planned_end_ts for o in operations if o.planned_end_ts is not None]
        start, end = (min(starts), max(ends)) if starts and ends else (None, None)
    # Finished operations' lateness is history: the open ones' predictions say whether the
    # order still recovers (an operation not started yet is predicted from now on).
    worst = None
    remaining = 0.0
    for o in operations:
        remaining += o.remaining_hours
        if o.delay_hours is not None and o.status not in CLOSED:
            worst = o.delay_hours if worst is None else max(worst, o.delay_hours)
    return order_rollup(order, start, end, remaining, worst, now, calendar, list(operations))


def order_rollup(
    order: OrderInput,
    start: float | None,
    end: float | None,
    remaining_hours: float,
    worst_delay: float | None,
    now: float,
    calendar: WorkingCalendar,
    operations: list,
) -> OrderProgress:
    """The order's figures from its window and what `order_progress` sums over its
    operations (remaining hours, worst open delay); the board sums them as it goes."""
    fraction = planned_fraction(start, end, now, calendar)
    planned = order.quantity * fraction
    attainment = attainment_pct(order.quantity_done, planned)
    predicted = None
    delay = 0.0
    if worst_delay is not None and end is not None:
        delay = worst_delay
        predicted = end + worst_delay * 3600.0
    return OrderProgress(
        id=order.id,
        number=order.number,
        quantity=order.quantity,
        quantity_done=order.quantity_done,
        quantity_scrap=order.quantity_scrap,
        quantity_planned_to_date=round(planned, 4),
        completion_pct=pct(order.quantity_done, order.quantity),
        planned_pct=round(100.0 * fraction, 2),
        attainment_pct=attainment,
        colour=progress_colour(attainment),
        lagging=attainment < LAG_BELOW,
        remaining_hours=round(remaining_hours, 2),
        planned_start_ts=start,
        planned_end_ts=end,
        predicted_end_ts=predicted,
        delay_hours=round(delay, 2),
        operations=operations,
    )


def order_reasons(order: OrderProgress, extra: Iterable[Reason] = ()) -> list[Reason]:
    """Why the order is where it is: `extra` (order-level reasons from elsewhere), then per
    operation (its OperationProgress) whether it lags or runs late and the operation's own
    reasons (shortages, pauses); duplicates dropped."""
    reasons = list(extra)
    for o in order.operations:
        if o.lagging:
            reasons.append(
                Reason(
                    "operation_lagging",
                    f"Operation {o.sequence} {o.name}: {number_text(o.quantity_done)} made, "
                    f"{number_text(o.quantity_planned_to_date)} planned by now",
                    f"planning.orderoperation:{o.id}",
                )
            )
        if o.delayed:
            if o.actual_minutes_per_unit is not None:
                why = (
                    f"{number_text(o.actual_minutes_per_unit)} min/unit against "
                    f"{number_text(o.planned_minutes_per_unit)} planned"
                )
            else:
                why = "cannot make its planned end any more"
            reasons.append(
                Reason(
                    "operation_delayed",
                    f"Operation {o.sequence} {o.name}: {why}, {o.delay_hours:+.1f} h at its end",
                    f"planning.orderoperation:{o.id}",
                )
            )
        reasons.extend(o.reasons)
    return _unique(reasons)


def _unique(reasons: list[Reason]) -> list[Reason]:
    seen, out = set(), []
    for r in reasons:
        key = (r.type, r.ref, r.text)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out

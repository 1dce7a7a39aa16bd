"""Capacity arithmetic, pure: daily rate caps and load per work center and day.

A plan asks for a daily rate of an item from a start day. Each operation of the routing
runs on one machine (the scheduled one, else the first eligible), whose daily capacity is
its rated rate (units/hour) × its available hours that day. The plan's daily quantity is
capped by the smallest of those capacities (the bottleneck), and the finish day moves out
accordingly.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class RateDay:
    day: date
    capacity: Decimal  # units the bottleneck can make that day
    planned: Decimal  # units planned that day after the cap


@dataclass
class RatePlan:
    quantity: Decimal
    requested_per_day: Decimal
    capped_per_day: Decimal  # the highest daily quantity actually planned
    capped: bool
    requested_finish: date | None
    capped_finish: date | None
    days: list[RateDay] = field(default_factory=list)

    @property
    def delay_days(self) -> int:
        if self.requested_finish and self.capped_finish:
            return (self.capped_finish - self.requested_finish).days
        return 0


def rate_plan(
    *, quantity: Decimal, requested_per_day: Decimal, capacity_by_day: dict[date, Decimal]
) -> RatePlan:
    """Spread `quantity` over working days at the requested rate, capped by capacity.

    Days with no capacity (weekends, holidays) get nothing. Quantities are whole units
    rounded down per day (a partial unit is not produced), the last day takes the rest.
    """
    quantity = Decimal(quantity)
    requested = Decimal(requested_per_day)
    if requested <= 0:
        raise ValueError("requested_per_day must be above zero")
    working = [d for d in sorted(capacity_by_day) if capacity_by_day[d] > 0]
    requested_finish = None
    left = quantity
    for day in working:
        left -= min(requested, left)
        if left <= 0:
            requested_finish = day
            break
    days: list[RateDay] = []
    left = quantity
    capped_finish = None
    highest = Decimal(0)
    for day in working:
        cap = capacity_by_day[day].quantize(Decimal(1), rounding=ROUND_DOWN)
        planned = min(requested, cap, left)
        if planned <= 0:
            continue
        days.append(RateDay(day, capacity_by_day[day], planned))
        highest = max(highest, planned)
        left -= planned
        if left <= 0:
            capped_finish = day
            break
    return RatePlan(
        quantity=quantity,
        requested_per_day=requested,
        capped_per_day=highest,
        capped=highest < requested,
        requested_finish=requested_finish,
        capped_finish=capped_finish,
        days=days,
    )


def spread_minutes_by_day(
    start: datetime, end: datetime, minutes: float, tz: ZoneInfo
) -> dict[date, float]:
    """Share an operation's minutes across the plant-local days its interval touches."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_end <= local_start:
        return {local_start.date(): minutes}
    total = (local_end - local_start).total_seconds()
    out: dict[date, float] = {}
    day = local_start.date()
    while True:
        day_start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        day_end = day_start + timedelta(days=1)
        lo, hi = max(local_start, day_start), min(local_end, day_end)
        if hi > lo:
            out[day] = out.get(day, 0.0) + minutes * (hi - lo).total_seconds() / total
        if day_end >= local_end:
            break
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class LoadCell:
    work_center: str
    day: date
    available: float
    load: float

    @property
    def overload(self) -> float:
        return max(self.load - self.available, 0.0)

    @property
    def percent(self) -> float:
        if self.available <= 0:
            return 100.0 if self.load > 0 else 0.0
        return 100.0 * self.load / self.available

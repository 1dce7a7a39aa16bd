"""Delivery risk: the one figure every page and the API show for "will this order make its
due date?".

It merges the three things that know about lateness:
- the schedule: the order's planned end (the finite scheduler's) against its due date;
- the shop floor: execution's predicted end (hourly roll-up, kept on the order by
  planning/services/feedback.py) while the order is on the floor;
- open exceptions: the largest expected delay an open exception puts on the order (posted by
  execution's exception loop, `production_order_exception_delay_set`), added to the planned
  end, and whether an exception blocks one of its operations now.

The expected end is the latest of the planned end, the planned end plus the exceptions'
delay and the predicted end. The order is *late* when that lies after its due date (the end
of that day in the plant's time zone, as the scheduler's "Late:" list counts it), *at risk*
when it is not late yet but an open exception is expected to delay it, *on time* otherwise
(an operation blocked by an exception that costs no delay — material arriving before it is
needed — is flagged "blocked", not counted at risk), and *not scheduled* while it has no planned end and nothing else is
known. The order list (and its "At risk only" filter), the order page, the sales orders, the
board and the API all read it from here.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from resources.selectors.calendar import plant_time_zone

from ..models import OrderOperation, ProductionOrder

LATE = "late"
AT_RISK = "at_risk"
ON_TIME = "on_time"
NOT_SCHEDULED = "not_scheduled"
CLOSED = "closed"  # completed, closed or cancelled: no longer a delivery question

LEVELS = {
    LATE: gettext_lazy("late"),
    AT_RISK: gettext_lazy("at risk"),
    ON_TIME: gettext_lazy("on time"),
    NOT_SCHEDULED: gettext_lazy("not scheduled"),
    CLOSED: gettext_lazy("finished"),
}
RANK = {LATE: 0, AT_RISK: 1, NOT_SCHEDULED: 2, ON_TIME: 3, CLOSED: 4}


@dataclass(frozen=True)
class DeliveryRisk:
    """An order's delivery risk and what it is made of."""

    level: str
    due_end: datetime  # the end of the due date in the plant's time zone
    expected_end: datetime | None
    late_minutes: int  # how far the expected end lies past the due date's end (0: not)
    schedule_late: bool  # the schedule's planned end alone is past the due date
    predicted_late: bool  # the shop floor's predicted end is past the due date
    exception_delay_minutes: int
    blocked: bool  # an exception blocks one of its operations now
    reasons: list[str] = field(default_factory=list)

    @property
    def at_risk(self) -> bool:
        """What the "At risk only" filters keep: late or at risk."""
        return self.level in (LATE, AT_RISK)

    @property
    def label(self) -> str:
        return str(LEVELS[self.level])

    @property
    def late_hours(self) -> str:
        return f"{self.late_minutes / 60:.1f}"

    def as_dict(self) -> dict:
        """For the API (docs/api.md "Delivery risk")."""
        return {
            "level": self.level,
            "at_risk": self.at_risk,
            "expected_end": self.expected_end,
            "late_minutes": self.late_minutes,
            "schedule_late": self.schedule_late,
            "predicted_late": self.predicted_late,
            "exception_delay_minutes": self.exception_delay_minutes,
            "blocked": self.blocked,
            "reasons": list(self.reasons),
        }


def _blocked_subquery():
    return Exists(
        OrderOperation.objects.filter(order=OuterRef("pk"), status=OrderOperation.Status.BLOCKED)
    )


def with_risk_inputs(queryset: QuerySet[ProductionOrder]) -> QuerySet[ProductionOrder]:
    """The orders with what `delivery_risk` needs beyond their own columns (whether an
    operation is blocked), in the same query."""
    return queryset.annotate(risk_blocked=_blocked_subquery())


def _local(instant: datetime, tz) -> str:
    return timezone.localtime(instant, tz).strftime("%m-%d %H:%M")


def delivery_risk(order: ProductionOrder, *, now: datetime | None = None, tz=None) -> DeliveryRisk:
    """The order's delivery risk. `order` comes from `with_risk_inputs` (else one query asks
    whether an operation is blocked)."""
    tz = tz or plant_time_zone()
    now = now or timezone.now()
    due_end = datetime.combine(order.due_date + timedelta(days=1), time.min, tzinfo=tz)
    blocked = getattr(order, "risk_blocked", None)
    if blocked is None:
        blocked = order.operations.filter(status=OrderOperation.Status.BLOCKED).exists()
    delay = order.exception_delay_minutes or 0
    if order.status not in ProductionOrder.OPEN_STATUSES:
        return DeliveryRisk(CLOSED, due_end, None, 0, False, False, 0, False, [])
    reasons = []
    candidates = []
    planned = order.planned_end
    schedule_late = bool(planned and planned > due_end)
    if planned:
        candidates.append(planned)
        if schedule_late:
            reasons.append(
                _("The schedule ends it %(end)s, after its due date %(due)s.")
                % {"end": _local(planned, tz), "due": order.due_date.strftime("%m-%d")}
            )
    predicted = order.predicted_end if order.prediction_open else None
    predicted_late = bool(predicted and predicted > due_end)
    if predicted:
        candidates.append(predicted)
        if predicted_late:
            reasons.append(
                _("The shop floor predicts the end at %(end)s.") % {"end": _local(predicted, tz)}
            )
    if delay:
        candidates.append((planned or now) + timedelta(minutes=delay))
        reasons.append(
            _("Open exceptions are expected to delay it by %(minutes)s min: %(note)s")
            % {"minutes": delay, "note": order.exception_note_shown}
        )
    if blocked:
        reasons.append(_("An exception blocks one of its operations."))
    expected = max(candidates) if candidates else None
    late_minutes = (
        int((expected - due_end).total_seconds() // 60) if expected and expected > due_end else 0
    )
    if late_minutes > 0:
        level = LATE
    elif delay:
        level = AT_RISK
    elif expected is None:
        level = NOT_SCHEDULED
    else:
        level = ON_TIME
    return DeliveryRisk(
        level,
        due_end,
        expected,
        late_minutes,
        schedule_late,
        predicted_late,
        delay,
        bool(blocked),
        reasons,
    )


def delivery_risks(order_ids, *, now: datetime | None = None) -> dict[int, DeliveryRisk]:
    """The delivery risk of each of these orders, in one query (for the board's rows)."""
    tz = plant_time_zone()
    now = now or timezone.now()
    orders = with_risk_inputs(ProductionOrder.objects.filter(pk__in=list(order_ids))).only(
        "id",
        "status",
        "due_date",
        "planned_end",
        "predicted_end",
        "delay_predicted_at",
        "exception_delay_minutes",
        "exception_note",
        "exception_note_id",
        "exception_note_params",
    )
    return {o.pk: delivery_risk(o, now=now, tz=tz) for o in orders}


def worst_risk(risks) -> DeliveryRisk | None:
    """The worst of several orders' risks (a sales order's, over its production orders)."""
    risks = list(risks)
    if not risks:
        return None
    return min(risks, key=lambda r: (RANK[r.level], -r.late_minutes))


def at_risk_ids(queryset: QuerySet[ProductionOrder]) -> list[int]:
    """The ids of the open orders of `queryset` that are late or at risk (one query)."""
    return [o.pk for o in orders_with_risk(queryset, at_risk_only=True, limit=None)]


def orders_with_risk(
    queryset: QuerySet[ProductionOrder], *, at_risk_only: bool = False, limit: int | None = 500
) -> list[ProductionOrder]:
    """Up to `limit` (None: all) orders of `queryset`, each with its `.risk`; with `at_risk_only`, only
    the late and at-risk ones (open orders only: a closed one is no delivery question). The
    risk is worked out here rather than in SQL (the due date's end is a plant-time instant),
    so the filter reads the open orders of the query, one query however many."""
    tz = plant_time_zone()
    now = timezone.now()
    queryset = with_risk_inputs(queryset)
    if at_risk_only:
        queryset = queryset.filter(status__in=ProductionOrder.OPEN_STATUSES)
        rows = []
        for order in queryset.iterator(chunk_size=2000):
            order.risk = delivery_risk(order, now=now, tz=tz)
            if order.risk.at_risk:
                rows.append(order)
                if limit is not None and len(rows) >= limit:
                    break
        return rows
    rows = list(queryset[:limit])
    for order in rows:
        order.risk = delivery_risk(order, now=now, tz=tz)
    return rows

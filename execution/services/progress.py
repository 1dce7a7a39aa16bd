"""Progress: the hourly roll-up of live plan vs actual to snapshots.

`progress_rollup_run` takes the figures of every open order from
`execution.selectors.progress.progress_live` (the same the order board shows) and stores
them as `ProgressSnapshot` rows keyed by the hour, and tells planning about predicted delays
through the domain events
`execution.order.delay_predicted` ({order_id, order, planned_end, predicted_end,
delay_hours, reasons, operations, predicted_at}; `operations` lists each open operation's
{operation_id, sequence, predicted_end, delay_hours}) and, once an announced order is back
within the tolerance, `execution.order.delay_cleared` ({order_id, order, predicted_end,
delay_hours, operations, predicted_at}).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.events import emit
from core.notifications import people_notify
from core.roles import Role
from core.tasks import outbox_dispatch
from core.texts import Text
from planning.models import ProductionOrder

from ..engines.progress import (
    CLOSED,
    DELAY_TOLERANCE_HOURS,
    OperationProgress,
    OrderProgress,
)
from ..models import ProgressSnapshot
from ..selectors.progress import LiveOrder, progress_live

# A still-delayed order is announced again each time its delay passes another multiple of
# this, so an idle order (whose predicted end slides with the clock) does not flood
# planning every hour.
DELAY_REANNOUNCE_HOURS = 4.0

DELAY_TOPIC = "execution.order.delay_predicted"
CLEARED_TOPIC = "execution.order.delay_cleared"


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


def _rollup_hour(now: datetime) -> datetime:
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
    hour = _rollup_hour(now)
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
# The planners' notification, read in each planner's language (core/texts.py), by (one
# order late, more than the named ones).
LATE_NOTICE = {
    (True, False): gettext_noop(
        "Progress %(time)s: %(count)s order predicted late — %(orders)s. Reschedule suggested."
    ),
    (False, False): gettext_noop(
        "Progress %(time)s: %(count)s orders predicted late — %(orders)s. Reschedule suggested."
    ),
    (False, True): gettext_noop(
        "Progress %(time)s: %(count)s orders predicted late — %(orders)s and %(more)s more. "
        "Reschedule suggested."
    ),
}
LATE_ORDER = gettext_noop("%(order)s +%(hours)s h")
LATE_SUBJECT = gettext_noop("[ClosedLoop] Orders predicted late")


def _tell_planners(late: list[OrderProgress], hour: datetime) -> None:
    """One notification (and e-mail) per planner per roll-up: the orders predicted late for
    the first time or by another DELAY_REANNOUNCE_HOURS step, worst first, with a link to
    the schedule page that lists them all; a slipping order does not fill the inbox."""
    worst = sorted(late, key=lambda p: -p.delay_hours)
    named = [
        Text(LATE_ORDER, order=p.number, hours=f"{p.delay_hours:.1f}")
        for p in worst[:PLANNER_DIGEST_ORDERS]
    ]
    more = len(worst) - PLANNER_DIGEST_ORDERS
    text = Text(
        LATE_NOTICE[(len(worst) == 1, more > 0)],
        time=f"{timezone.localtime(hour):%H:%M}",
        count=len(worst),
        orders=named,
        more=more,
    )
    planners = list(
        get_user_model().objects.filter(groups__name=Role.PLANNER, is_active=True).distinct()
    )
    people_notify(
        planners,
        text,
        subject=Text(LATE_SUBJECT),
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

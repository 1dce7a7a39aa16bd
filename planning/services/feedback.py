"""Feedback from the shop floor to the plan: predicted delays.

Execution's hourly progress roll-up announces an open order whose predicted end lies more
than its tolerance past the planned end (`execution.order.delay_predicted`, again each time
the delay moves by another step) and one that is back within it
(`execution.order.delay_cleared`). Planning keeps the latest prediction on the order
(`predicted_end`, `predicted_delay_hours`, `delay_reasons`, `delay_predicted_at`) and each
open operation's predicted end: the order pages and the API show it, the schedule page lists
the delayed open orders as the reason to reschedule, the scheduler keeps a running
operation on its machine until its predicted end (planning/selectors/schedule.py), and MRP
takes a late order's output on its predicted day in its action messages
(planning/selectors/mrp.py).

The handlers run from the outbox (planning does not import execution): each is idempotent,
and a message older than the prediction already kept changes nothing, since a retried
delivery may arrive after a newer one.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from core.events import handler
from core.models import OutboxEvent
from core.parsing import aware_instant_parse
from core.texts import Text, text_columns

from ..models import OrderOperation, ProductionOrder

DELAY_PREDICTED = "execution.order.delay_predicted"
DELAY_CLEARED = "execution.order.delay_cleared"
REASONS_KEPT = 20


def _instant(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return aware_instant_parse(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _payload(event: OutboxEvent) -> tuple[int, datetime]:
    payload = event.payload or {}
    order_id = payload.get("order_id")
    if not isinstance(order_id, int):
        raise ValueError(f"order_id: {order_id!r} is not an order id.")
    at = _instant(payload.get("predicted_at"), "predicted_at") or event.created_at
    return order_id, at


def _not_newer(order_id: int, at: datetime):
    """The order, unless it holds a prediction made after `at`."""
    return ProductionOrder.objects.filter(pk=order_id).filter(
        Q(delay_predicted_at__isnull=True) | Q(delay_predicted_at__lte=at)
    )


@handler(DELAY_PREDICTED)
def order_delay_predicted(event: OutboxEvent) -> None:
    order_id, at = _payload(event)
    payload = event.payload
    try:
        delay = Decimal(str(payload.get("delay_hours")))
    except InvalidOperation:
        raise ValueError(f"delay_hours: {payload.get('delay_hours')!r} is not a number.") from None
    if not delay.is_finite():
        raise ValueError(f"delay_hours: {payload.get('delay_hours')!r} is not a number.")
    reasons = [
        {
            "type": str(r.get("type", "")),
            "text": str(r.get("text", "")),
            "ref": str(r.get("ref", "")),
        }
        for r in (payload.get("reasons") or [])
        if isinstance(r, dict)
    ][:REASONS_KEPT]
    updated = _not_newer(order_id, at).update(
        predicted_end=_instant(payload.get("predicted_end"), "predicted_end"),
        predicted_delay_hours=delay.quantize(Decimal("0.01")),
        delay_reasons=reasons,
        delay_predicted_at=at,
    )
    if updated:
        _operations_predicted(order_id, payload.get("operations"))


@handler(DELAY_CLEARED)
def order_delay_cleared(event: OutboxEvent) -> None:
    order_id, at = _payload(event)
    updated = _not_newer(order_id, at).update(
        predicted_end=_instant(event.payload.get("predicted_end"), "predicted_end"),
        predicted_delay_hours=None,
        delay_reasons=[],
        delay_predicted_at=at,
    )
    if updated:
        _operations_predicted(order_id, event.payload.get("operations"))


def _operations_predicted(order_id: int, rows) -> None:
    """Each listed operation of the order gets its predicted end (the scheduler keeps a
    running operation on its machine until then)."""
    for row in rows or []:
        if not isinstance(row, dict) or not isinstance(row.get("operation_id"), int):
            raise ValueError(f"operations: {row!r} does not name an operation_id.")
        OrderOperation.objects.filter(pk=row["operation_id"], order_id=order_id).update(
            predicted_end=_instant(row.get("predicted_end"), "operations.predicted_end")
        )


EXCEPTION_NOTE_MAX = ProductionOrder._meta.get_field("exception_note").max_length


def production_order_exception_delay_set(
    *, order: ProductionOrder | int, minutes: int, note: Text | str = ""
) -> None:
    """Set what open exceptions are expected to cost a production order: execution posts the
    largest expected delay of its open exceptions (and a note naming the exception); 0 and a
    blank note clear it. A `Text` note keeps its message id and parameters too (read in the
    reader's language, core/texts.py). One UPDATE inside the caller's transaction. The
    delivery risk (planning/selectors/risk.py) adds it to the planned end."""
    if minutes < 0:
        raise ValidationError({"exception_delay_minutes": _("A delay is not negative.")})
    pk = order if isinstance(order, int) else order.pk
    ProductionOrder.objects.filter(pk=pk).update(
        exception_delay_minutes=minutes,
        **text_columns("exception_note", note, EXCEPTION_NOTE_MAX),
    )

"""Reading values that come from outside (terminals, external systems, machines, forms):
the one place every app parses them from."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

# Clocks of terminals and machines run a little ahead of the server's; an instant up to this
# far in the future is taken as now-ish, not refused.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Every app stores quantities as numeric(18, 4): a quantity is below 10^14.
QUANTITY_LIMIT = Decimal(10) ** 14


def instant_parse(raw, *, now: datetime, field: str) -> datetime:
    """When something happened, as an aware datetime: `now` when `raw` is empty, else an ISO
    8601 date-time (or a datetime) not later than `now + FUTURE_TOLERANCE`. A naive one is in the
    plant's time zone (Django's current zone).

    Raises ValidationError naming `field` for text that is not a date-time, including text
    of the right shape naming no real date (month 13, 30 February), and for an instant in
    the future."""
    if raw in (None, ""):
        return now
    try:
        value = raw if isinstance(raw, datetime) else parse_datetime(str(raw))
    except ValueError:  # well formed but not a date (month 13)
        value = None
    if value is None:
        raise ValidationError(
            {field: gettext("%(value)s is not an ISO 8601 date-time.") % {"value": repr(raw)}}
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError(
            {field: gettext("%(instant)s is in the future.") % {"instant": value.isoformat()}}
        )
    return value


def aware_instant_parse(raw) -> datetime:
    """An ISO 8601 date-time with its offset, as the system's own messages and options carry
    them (an event's payload, a task's or a command's `at`): no default, no zone assumed, no
    bound. Raises ValueError for anything else, month 13 included; the caller names the
    field."""
    try:
        value = parse_datetime(str(raw))
    except ValueError:  # well formed but not a date (month 13)
        value = None
    if value is None or value.tzinfo is None:
        raise ValueError(f"{raw!r} is not an ISO 8601 instant with its offset.")
    return value


def barcode_parse(barcode: str) -> tuple[str, str | None, Decimal]:
    """A receiving label as scanned: `ITEM*LOT*QTY` (or `ITEM*QTY` for untracked items) →
    (item code, lot code or None, quantity above zero and below QUANTITY_LIMIT). Raises
    ValidationError naming `barcode` for anything else."""
    parts = [p.strip() for p in (barcode or "").split("*")]
    try:
        if len(parts) in (2, 3):
            quantity = Decimal(parts[-1])
            if quantity.is_finite() and 0 < quantity < QUANTITY_LIMIT:
                return parts[0], (parts[1] or None) if len(parts) == 3 else None, quantity
    except (InvalidOperation, ValueError):
        pass
    raise ValidationError(
        {
            "barcode": gettext("Unreadable label %(barcode)s: expected ITEM*LOT*QTY.")
            % {"barcode": repr(barcode)}
        }
    )

"""Business document numbers: PREFIX-YYYY-NNNNN, taken from a locked counter per series.

One `DocumentCounter` row per series (its key is the prefix with the year, e.g. "EX-2026-")
holds the last number handed out. Taking the next one locks that row (`select_for_update`)
inside the caller's transaction, so two callers never compute the same number: the second
waits until the first commits or rolls back, then continues from what the first left.
"""

import re

from django.db import transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from .models import DocumentCounter


def number_next(model, code: str, *, field: str = "number", width: int = 5) -> str:
    """The next number of `model` for `code` this year, e.g. MO-2026-00042.

    Call it inside the transaction that saves the document. The counter row stays locked
    until that transaction ends, so everyone numbering the same series queues behind it;
    a transaction that takes numbers of two series takes them in one order everywhere
    (exceptions before requisitions, as `alert_raise` does), or two of them can deadlock.

    No gaps from rollbacks: the increment is part of the caller's transaction, so a
    transaction that rolls back after taking a number gives it back with everything else,
    and the next caller gets that same number. (Outside a transaction the increment commits
    at once: a later failure then leaves a gap, never a duplicate.)

    The counter is created on first use, seeded from the highest number of the series
    already in `model` (an existing database continues its numbering); two first users race
    on the unique key and the loser reads the winner's row. A number written by hand into
    the series (an import, an order created with its number) is never handed out again:
    the counter jumps past the highest number in use.
    """
    prefix = f"{code}-{timezone.localdate().year}-"
    # savepoint=False: an error here aborts the caller's transaction anyway; the creation
    # race has its own savepoint inside get_or_create (IntegrityError → read the row again).
    with transaction.atomic(savepoint=False):
        counter, _ = DocumentCounter.objects.select_for_update().get_or_create(
            key=prefix, defaults={"last_value": lambda: _highest_in_use(model, field, prefix)}
        )
        value = counter.last_value + 1
        if model.objects.filter(**{field: f"{prefix}{value:0{width}d}"}).exists():
            value = _highest_in_use(model, field, prefix) + 1
        DocumentCounter.objects.filter(pk=counter.pk).update(last_value=value)
    return f"{prefix}{value:0{width}d}"


def _highest_in_use(model, field: str, prefix: str) -> int:
    """The highest sequence among `model`'s numbers of the series, 0 if none.

    Compared as integers, not as text (which puts ...-99999 after ...-100000); numbers with
    anything but digits after the prefix are not in the series.
    """
    return (
        model.objects.filter(**{f"{field}__regex": rf"^{re.escape(prefix)}[0-9]+$"}).aggregate(
            m=Max(Cast(Substr(field, len(prefix) + 1), BigIntegerField()))
        )["m"]
        or 0
    )

"""A shop-floor task's counters (`quantity_good`, `quantity_scrap`) as another app moves them:
quality's scrap dispositions move good to scrap, and a corrected scrap moves it back.
Production events move them in `events.py` and `ingest.py`.

Lock order: the task first, then its operation and its order through
`planning.services.quantities` (the order every writer of these rows follows).
"""

from collections.abc import Mapping
from decimal import Decimal

from core.counters import counters_add

from ..models import Task


def task_lock(*, operation_id: int) -> Task | None:
    """Lock the task of an operation (before the operation's and the order's rows), or None
    if the operation has none (not released)."""
    # NO KEY UPDATE, as the counters' UPDATEs take (an event's insert only needs KEY SHARE on
    # the task). No default ordering: it would join other tables into the FOR UPDATE.
    return (
        Task.objects.select_for_update(of=("self",), no_key=True)
        .filter(operation_id=operation_id)
        .order_by()
        .first()
    )


def task_quantities_post(*, tasks: Mapping[int, tuple[Decimal, Decimal]]) -> None:
    """Add (good, scrap) to each task's counters, which never go below zero (StateConflict,
    nothing changed); lock the tasks first (`task_lock`), then move planning's counters."""
    counters_add(Task, tasks, good_field="quantity_good", lock=True)

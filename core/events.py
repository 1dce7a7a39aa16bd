"""Domain events through a transactional outbox.

A service calls `emit(topic, payload)` inside its own transaction; the row commits or rolls
back with the change. Receiving apps register handlers in `AppConfig.ready`; the
`outbox_dispatch` task (beat, and queued on commit) runs them. Handlers must be idempotent:
an event whose handler failed is retried on the next round.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from .models import OutboxEvent
from .rawsql import insert_statement, row_insert

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

MAX_ATTEMPTS = 10


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register a function to run for every event of `topic` (use in AppConfig.ready)."""

    def register(fn: Handler) -> Handler:
        if fn not in _handlers[topic]:
            _handlers[topic].append(fn)
        return fn

    return register


def handlers_for(topic: str) -> list[Handler]:
    return list(_handlers.get(topic, ()))


def emit(topic: str, payload: dict, *, dispatch_on_commit: bool = True) -> OutboxEvent:
    """Record a domain event in the caller's transaction.

    The row goes in by `row_insert` (a prepared statement, what `save()` would write): every
    production event emits one, and the ORM's INSERT cost more CPU to build than the rest of
    the outbox's work (bench/README.md "The single-event path")."""
    event = row_insert(OutboxEvent(topic=topic, payload=payload))
    if dispatch_on_commit and _handlers.get(topic):
        # Cycle: core.tasks imports this module (the task runs outbox_dispatch_pending).
        from .tasks import outbox_dispatch

        transaction.on_commit(lambda: outbox_dispatch.delay())
    return event


def emit_along(topic: str, payload: dict) -> list[tuple[str, list]]:
    """`emit(..., dispatch_on_commit=False)` as statements for the caller to run with its own
    write (core.rawsql.row_insert's `along`): the outbox row goes in with it, in the same
    round trip; the outbox beat picks it up. With a save receiver connected for the outbox
    the row goes in now, through the ORM, and there is nothing to run along ([])."""
    row = OutboxEvent(topic=topic, payload=payload)
    if pre_save.has_listeners(OutboxEvent) or post_save.has_listeners(OutboxEvent):
        row.save(force_insert=True)
        return []
    return [insert_statement(row)]


def outbox_dispatch_pending(*, limit: int = 500) -> int:
    """Run the handlers of pending events, oldest first; return how many were dispatched.

    Each event is handled in its own transaction with its row locked (skip_locked where
    the database has it), so two workers never handle the same event at once.
    """
    done = 0
    pending_ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for event_id in pending_ids:
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=event_id, dispatched_at__isnull=True)
                .first()
            )
            if event is None:
                continue
            try:
                with transaction.atomic():
                    for fn in handlers_for(event.topic):
                        fn(event)
            except Exception as exc:  # a handler failed: keep the event for a retry
                logger.exception("handler failed for %s", event)
                event.attempts += 1
                event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                event.save(update_fields=["attempts", "last_error"])
                continue
            event.attempts += 1
            event.dispatched_at = timezone.now()
            event.last_error = ""
            event.save(update_fields=["attempts", "dispatched_at", "last_error"])
            done += 1
    return done

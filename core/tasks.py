from celery import shared_task

from .events import outbox_dispatch_pending


@shared_task(name="core.tasks.outbox_dispatch")
def outbox_dispatch() -> int:
    """Deliver pending domain events; safe to run twice (dispatched rows are skipped)."""
    return outbox_dispatch_pending()

from celery import shared_task

from core.events import outbox_dispatch_pending

from .services.outbound import deliveries_send_due, send_started


@shared_task(name="integration.tasks.deliveries_send")
def deliveries_send() -> dict:
    """Send the deliveries that are due; safe to run twice (a subscriber's head is locked,
    and a sent delivery is never taken again)."""
    send_started()
    return deliveries_send_due()


@shared_task(name="integration.tasks.outbound_deliver")
def outbound_deliver() -> dict:
    """The beat job: fan out what the outbox holds (events written without an immediate
    dispatch, or whose dispatch was lost), then send what is due and retry what waited."""
    outbox_dispatch_pending()
    return deliveries_send_due()


@shared_task(name="integration.tasks.legacy_sync_due")
def legacy_sync_due() -> list[int]:
    """The beat job: queue a run of every legacy source whose interval has passed."""
    from .services.legacy_sync import legacy_sources_due

    due = [s.pk for s in legacy_sources_due()]
    for pk in due:
        legacy_sync_source.delay(pk, "schedule")
    return due


@shared_task(name="integration.tasks.legacy_sync_source")
def legacy_sync_source(source_id: int, trigger: str = "schedule", user_id: int | None = None):
    """Run one legacy source; safe to run twice (a row is taken once: the source's position
    moves with it, and a second run at the same moment stops at the first row it finds
    taken)."""
    from django.contrib.auth import get_user_model

    from .models import LegacySource
    from .services.legacy_sync import legacy_source_run

    source = LegacySource.objects.filter(pk=source_id).first()
    if source is None:
        return None
    by = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return legacy_source_run(source=source, trigger=trigger, by=by).pk

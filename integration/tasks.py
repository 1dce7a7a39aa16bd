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

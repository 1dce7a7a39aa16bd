"""Two workers never send to one subscriber at once: its row is locked (SKIP LOCKED) for the
send, and a worker that finds it locked moves on to the next subscriber. Committed for real;
the fan-out and the send are asked for explicitly, so the test does not depend on what else
is pending in the outbox when it starts (under CI's suite a run of the on-commit dispatch
alone left the free subscriber without its event once)."""

import threading

import pytest
from django.db import connection, transaction

from core.events import emit, outbox_dispatch_pending
from integration.models import Delivery, Subscription
from integration.services.outbound import deliveries_send_due


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_subscriber_held_by_another_worker_is_skipped_not_sent_twice(subscribe, receiver):
    busy = subscribe("busy", "/busy")
    subscribe("free", "/free")
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                # As a sender holds it (integration.services.outbound._send_head).
                Subscription.objects.select_for_update(no_key=True).get(pk=busy.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(10)
    try:
        # A worker fans the outbox out (whatever else is pending first) and sends what is
        # due: the free subscriber has its event, the busy one is left to its holder.
        event = emit("execution.alert.raised", {"alert_id": 1, "type": "quality"})
        while outbox_dispatch_pending():
            pass
        deliveries_send_due()
        assert receiver.ids("/free") == [f"evt-{event.pk}"]
        assert receiver.ids("/busy") == []
        # The fan-out was not held up by the lock: the busy subscriber's delivery is there.
        assert deliveries_send_due() == {"sent": 0, "failed": 0, "dead": 0}
        assert Delivery.objects.get(subscription=busy).status == "pending"
    finally:
        release.set()
        thread.join(10)
    assert done.is_set()
    assert deliveries_send_due()["sent"] == 1
    assert receiver.ids("/busy") == [f"evt-{event.pk}"]
    assert receiver.ids("/free") == [f"evt-{event.pk}"]

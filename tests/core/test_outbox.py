import pytest
from django.db import transaction

from core import events
from core.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder():
    seen = []
    fn = events.handler("test.thing")(lambda event: seen.append(event.payload["n"]))
    yield seen
    events._handlers["test.thing"].remove(fn)


def test_event_rolls_back_with_the_change(recorder):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit("test.thing", {"n": 1})
        raise RuntimeError("the change failed")
    assert not OutboxEvent.objects.exists()


def test_dispatch_runs_handlers_once(recorder):
    events.emit("test.thing", {"n": 1}, dispatch_on_commit=False)
    events.emit("test.thing", {"n": 2}, dispatch_on_commit=False)
    assert events.outbox_dispatch_pending() == 2
    assert events.outbox_dispatch_pending() == 0
    assert recorder == [1, 2]
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_failing_handler_keeps_event_for_retry():
    calls = []

    def flaky(event):
        calls.append(event.pk)
        if len(calls) == 1:
            raise ValueError("downstream not ready")

    events.handler("test.flaky")(flaky)
    try:
        event = events.emit("test.flaky", {}, dispatch_on_commit=False)
        assert events.outbox_dispatch_pending() == 0
        event.refresh_from_db()
        assert event.dispatched_at is None and "downstream not ready" in event.last_error
        assert events.outbox_dispatch_pending() == 1
        event.refresh_from_db()
        assert event.dispatched_at is not None and event.attempts == 2
    finally:
        events._handlers["test.flaky"].remove(flaky)

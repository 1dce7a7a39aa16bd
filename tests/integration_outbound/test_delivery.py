"""Outbound events to a real webhook receiver on 127.0.0.1: signature, ordering, retry with
backoff, dead letters and replay, a worker killed between the send and the mark."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from core.events import emit, outbox_dispatch_pending
from core.models import OutboxEvent
from integration.models import Delivery
from integration.services import outbound
from integration.services.outbound import deliveries_replay, deliveries_send_due

from .conftest import SECRET

pytestmark = pytest.mark.django_db


def deliver() -> dict:
    """What the beat job does: fan out the outbox, then send what is due."""
    outbox_dispatch_pending()
    return deliveries_send_due()


def released(order_id: int = 1) -> OutboxEvent:
    return emit(
        "planning.production_order.released",
        {"order_id": order_id, "from": "planned", "to": "released"},
    )


def test_delivery_is_signed_over_timestamp_and_body(subscribe, receiver):
    subscribe("erp", "/erp")
    event = released()

    assert deliver() == {"sent": 1, "failed": 0, "dead": 0}

    [got] = receiver.at("/erp")
    headers = got.headers
    assert headers["X-ClosedLoop-Event-Id"] == f"evt-{event.pk}"
    assert headers["X-ClosedLoop-Event-Type"] == "order.released"
    assert headers["Content-Type"] == "application/json"
    timestamp = headers["X-ClosedLoop-Timestamp"]
    # The receiver's check, as docs/integration.md shows it.
    parts = dict(p.split("=", 1) for p in headers["X-ClosedLoop-Signature"].split(","))
    assert parts["t"] == timestamp
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    wrong = hmac.new(b"another-secret", timestamp.encode() + b"." + got.body, hashlib.sha256)
    assert not hmac.compare_digest(parts["v1"], wrong.hexdigest())
    body = got.json
    assert body["id"] == f"evt-{event.pk}"
    assert body["type"] == "order.released"
    assert body["topic"] == "planning.production_order.released"
    assert body["data"]["order_id"] == 1
    assert body["occurred_at"].endswith("+00:00")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 1, 200)
    # Nothing left to send: a second round sends nothing again.
    assert deliver() == {"sent": 0, "failed": 0, "dead": 0}
    assert len(receiver.at("/erp")) == 1


def test_topics_with_wildcards_choose_the_events(subscribe, receiver):
    subscribe("orders", "/orders", topics=["order.*"])
    subscribe("ops", "/ops", topics=["operation.*"])
    subscribe("paused", "/paused", active=False)
    emit("execution.alert.raised", {"alert_id": 7, "type": "quality", "severity": "high"})
    emit(
        "execution.events.recorded",
        {
            "events": [
                {"event_id": "e1", "kind": "start", "order_id": 1, "operation_id": 2},
                {"event_id": "e3", "kind": "complete", "order_id": 1, "operation_id": 2},
            ]
        },
        dispatch_on_commit=False,
    )
    started = emit("planning.operation.started", {"operation_id": 2, "event_id": "e1"})
    completed = emit("planning.operation.completed", {"operation_id": 2, "event_id": "e3"})
    order = released()
    emit("execution.tasks.created", {"order_id": 1, "tasks": [1]})  # not a public event

    deliver()

    assert receiver.ids("/orders") == [f"evt-{order.pk}"]
    # The operation's own events, not one read out of `progress` as well.
    assert receiver.ids("/ops") == [f"evt-{started.pk}", f"evt-{completed.pk}"]
    assert [r.json["type"] for r in receiver.at("/ops")] == [
        "operation.started",
        "operation.completed",
    ]
    assert receiver.at("/ops")[1].json["data"]["event_id"] == "e3"
    assert receiver.at("/paused") == []


def test_each_subscriber_receives_in_outbox_order(subscribe, receiver):
    subscribe("a", "/a")
    subscribe("b", "/b", topics=["exception.*", "hold.*"])
    events = [
        released(1),
        emit("execution.alert.raised", {"alert_id": 1}),
        emit("quality.hold.placed", {"hold_id": 3, "alert_id": 1}),
        emit("planning.schedule_run.done", {"run_id": 4, "late_orders": []}),
        emit("quality.hold.released", {"hold_id": 3, "reason": "ok"}),
        emit("execution.alert.resolved", {"alert_id": 1, "orders": [1]}),
    ]
    deliver()
    ids = [f"evt-{e.pk}" for e in events]
    assert receiver.ids("/a") == ids
    assert receiver.ids("/b") == [ids[1], ids[2], ids[4], ids[5]]
    assert [r.json["type"] for r in receiver.at("/a")] == [
        "order.released",
        "exception.raised",
        "hold.placed",
        "schedule.changed",
        "hold.released",
        "exception.resolved",
    ]


def test_fan_out_twice_makes_one_delivery(subscribe):
    subscribe("a", "/a")
    event = released()
    outbound.outbox_event_fan_out(event)
    outbound.outbox_event_fan_out(event)
    assert Delivery.objects.count() == 1


def test_failing_subscriber_retries_with_backoff_then_dead_letter_and_replay(
    subscribe, receiver, settings, pinned_now
):
    settings.INTEGRATION_RETRY_BASE_SECONDS = 10
    settings.INTEGRATION_RETRY_MAX_SECONDS = 25
    settings.INTEGRATION_MAX_ATTEMPTS = 4
    receiver.answers["/down"] = 503
    subscribe("down", "/down")
    subscribe("healthy", "/up")
    first, second = released(1), released(2)
    ids = [f"evt-{first.pk}", f"evt-{second.pk}"]

    counts = deliver()

    # The healthy subscriber has both; the failing one tried its first and holds the second.
    assert receiver.ids("/up") == ids
    assert counts == {"sent": 2, "failed": 1, "dead": 0}
    head = Delivery.objects.get(subscription__name="down", event_id=ids[0])
    held = Delivery.objects.get(subscription__name="down", event_id=ids[1])
    assert (head.status, head.attempts, head.response_code) == ("pending", 1, 503)
    assert "503" in head.last_error
    assert held.attempts == 0
    tried_at = head.next_attempt_at - timedelta(seconds=10)

    # Not due yet: nothing is sent before the backoff has passed.
    assert deliver() == {"sent": 0, "failed": 0, "dead": 0}
    assert len(receiver.at("/down")) == 1

    # Backoff 10 s, 20 s, then capped at 25 s.
    waits = []
    for _ in range(2):
        pinned_now.move_to(head.next_attempt_at + timedelta(seconds=1))
        deliver()
        before = head.next_attempt_at
        head.refresh_from_db()
        waits.append(round((head.next_attempt_at - before).total_seconds()) - 1)
    assert head.attempts == 3
    assert waits == [20, 25]
    assert head.next_attempt_at > tried_at

    # The fourth attempt is the last: a dead letter. The held event then gets its turn.
    pinned_now.move_to(head.next_attempt_at + timedelta(seconds=1))
    deliver()
    head.refresh_from_db()
    held.refresh_from_db()
    assert (head.status, head.attempts) == ("dead", 4)
    assert head.dead_at is not None
    assert held.attempts == 1
    assert receiver.ids("/down") == [ids[0]] * 4 + [ids[1]]
    # The healthy subscriber was never held up.
    assert receiver.ids("/up") == ids

    # The receiver is back; the dead letter is replayed and goes first.
    receiver.answers["/down"] = 200
    assert deliveries_replay(deliveries=[head]) == 1
    head.refresh_from_db()
    assert (head.status, head.attempts) == ("pending", 0)
    deliver()
    assert receiver.ids("/down")[-1] == ids[0]
    pinned_now.move_to(held.next_attempt_at + timedelta(seconds=1))
    deliver()
    assert receiver.ids("/down")[-2:] == ids
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    # Replaying what is not dead changes nothing.
    assert deliveries_replay(deliveries=[head]) == 0


def test_refused_connection_is_a_failed_attempt(subscribe, receiver, settings):
    subscription = subscribe("gone", "/x")
    subscription.url = "http://127.0.0.1:9/"  # discard port: nothing listens
    subscription.save()
    released()
    assert deliver()["failed"] == 1
    delivery = Delivery.objects.get()
    assert delivery.response_code is None
    assert delivery.last_error


def test_worker_killed_between_send_and_mark_resends_the_same_event(
    subscribe, receiver, monkeypatch
):
    subscribe("erp", "/erp")
    other = subscribe("mes", "/mes")
    event = released()
    outbox_dispatch_pending()

    real = outbound.delivery_mark_sent

    def killed(*args, **kwargs):
        raise SystemExit("worker killed after the POST, before the mark")

    monkeypatch.setattr(outbound, "delivery_mark_sent", killed)
    with pytest.raises(SystemExit):
        deliveries_send_due()
    # The POST reached the receiver, but nothing was marked: still pending, no attempt counted.
    assert receiver.ids("/erp") == [f"evt-{event.pk}"]
    assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 0)}

    monkeypatch.setattr(outbound, "delivery_mark_sent", real)
    deliveries_send_due()
    # At least once: the receiver sees the same event id again and can drop the duplicate.
    assert receiver.ids("/erp") == [f"evt-{event.pk}"] * 2
    first, again = receiver.at("/erp")
    assert first.body == again.body
    assert receiver.ids("/mes") == [f"evt-{event.pk}"]
    assert Delivery.objects.get(subscription=other).status == "sent"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_order_events_carry_the_order_number(subscribe, receiver):
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_transition
    from tests.factories import ItemFactory

    order = ProductionOrder.objects.create(
        number="PO-77",
        external_ref="ERP-77",
        item=ItemFactory(),
        quantity=5,
        due_date="2026-12-20",
    )
    subscribe("erp", "/erp", topics=["order.*"])
    production_order_transition(order=order, to="cancelled")
    deliver()
    [got] = receiver.at("/erp")
    assert got.json["type"] == "order.cancelled"
    assert got.json["data"]["order"] == "PO-77"
    assert got.json["data"]["external_ref"] == "ERP-77"
    assert json.loads(Delivery.objects.get().body) == got.json


def test_a_redirect_is_a_failed_attempt_not_a_receipt(subscribe, receiver):
    receiver.answers["/moved"] = 302
    subscribe("moved", "/moved")
    released()
    assert deliver() == {"sent": 0, "failed": 1, "dead": 0}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_code) == ("pending", 302)
    assert receiver.at("/elsewhere") == []

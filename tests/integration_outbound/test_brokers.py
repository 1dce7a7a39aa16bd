"""Broker subscribers: a RabbitMQ topic exchange (kombu) and a Redis stream, on the local
servers (127.0.0.1); skipped where the server is not running. A broker that cannot be
reached is a failed attempt, retried like a webhook's."""

import json
import uuid

import pytest

from core.events import emit, outbox_dispatch_pending
from integration.engines.outbound import signature_header
from integration.models import Delivery
from integration.services.outbound import deliveries_send_due, subscription_create

from .conftest import SECRET

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def test_redis_stream_receives_each_event_in_order_with_its_id():
    client = redis_client()
    stream = f"closedloop-test-{uuid.uuid4().hex}"
    try:
        subscription_create(
            name="lake",
            kind="redis_stream",
            url=f"{REDIS_URL}?stream={stream}",
            secret=SECRET,
            topics=["order.*", "hold.*"],
        )
        first = emit("planning.production_order.released", {"order_id": 1})
        second = emit("quality.hold.placed", {"hold_id": 2})
        outbox_dispatch_pending()
        assert deliveries_send_due()["sent"] == 2
        entries = client.xrange(stream)
        got = [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in entries]
        assert [e["id"] for e in got] == [f"evt-{first.pk}", f"evt-{second.pk}"]
        assert [e["type"] for e in got] == ["order.released", "hold.placed"]
        body = got[0]["body"].encode()
        assert json.loads(body)["id"] == f"evt-{first.pk}"
        stamp = int(got[0]["X-ClosedLoop-Timestamp"])
        assert got[0]["X-ClosedLoop-Signature"] == signature_header(SECRET, stamp, body)
    finally:
        client.delete(stream)
        client.close()


def test_amqp_topic_exchange_routes_by_event_type():
    kombu = pytest.importorskip("kombu")
    exchange_name = f"closedloop-test-{uuid.uuid4().hex}"
    try:
        connection = kombu.Connection(AMQP_URL, connect_timeout=2)
        connection.connect()
    except Exception:
        pytest.skip("no RabbitMQ on 127.0.0.1:5672")
    with connection:
        exchange = kombu.Exchange(exchange_name, type="topic", durable=True)
        channel = connection.default_channel
        orders = kombu.Queue(
            f"{exchange_name}.orders", exchange, routing_key="order.*", auto_delete=True
        )(channel)
        orders.declare()
        try:
            subscription_create(
                name="mes-bus",
                kind="amqp",
                url=f"{AMQP_URL}?exchange={exchange_name}",
                secret=SECRET,
                topics=["*"],
            )
            released = emit("planning.production_order.released", {"order_id": 1})
            emit("execution.alert.raised", {"alert_id": 3})  # routed elsewhere
            completed = emit("planning.production_order.completed", {"order_id": 1})
            outbox_dispatch_pending()
            assert deliveries_send_due()["sent"] == 3
            messages = [orders.get(no_ack=True) for _ in range(3)]
            got = [m for m in messages if m is not None]
            assert [m.properties["message_id"] for m in got] == [
                f"evt-{released.pk}",
                f"evt-{completed.pk}",
            ]
            assert [m.delivery_info["routing_key"] for m in got] == [
                "order.released",
                "order.completed",
            ]
            assert json.loads(got[0].body)["type"] == "order.released"
            assert got[0].headers["X-ClosedLoop-Event-Id"] == f"evt-{released.pk}"
        finally:
            orders.delete()
            exchange(channel).delete()


def test_unreachable_broker_is_a_failed_attempt_retried():
    subscription_create(
        name="nowhere",
        kind="redis_stream",
        url="redis://127.0.0.1:1/0?stream=x",
        secret=SECRET,
        topics=["*"],
    )
    emit("planning.schedule_run.done", {"run_id": 1, "late_orders": []})
    outbox_dispatch_pending()
    assert deliveries_send_due()["failed"] == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "Connection" in delivery.last_error


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("redis_stream", "http://127.0.0.1/x"),
        ("amqp", "redis://127.0.0.1:6379/0"),
        ("webhook", "amqp://127.0.0.1//"),
    ],
)
def test_url_must_fit_the_kind(kind, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        subscription_create(name="x", kind=kind, url=url, secret=SECRET, topics=["*"])
    assert "url" in caught.value.message_dict

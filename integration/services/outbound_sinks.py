"""Broker sinks for subscribers that consume a queue instead of taking a webhook
(docs/integration.md, "Broker subscribers"): a RabbitMQ topic exchange through kombu, or a
Redis stream. Each publish either is confirmed by the broker (a success, as a webhook's 2xx)
or raises (a failed attempt, retried like a webhook's)."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

DEFAULT_EXCHANGE = "closedloop.events"
DEFAULT_STREAM = "closedloop.events"


def split_target(url: str, name: str, default: str) -> tuple[str, str]:
    """The broker URL without our own query parameter, and that parameter's value
    (`amqp://…//?exchange=plant.events`, `redis://…/0?stream=plant.events`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    value = next((v for k, v in query if k == name), "") or default
    rest = urlencode([(k, v) for k, v in query if k != name])
    return urlunsplit(parts._replace(query=rest)), value


def amqp_publish(*, url: str, event_type: str, event_id: str, body: bytes, headers: dict) -> None:
    """Publish to a durable topic exchange with the event type as the routing key, with
    publisher confirms (returns once the broker has the message)."""
    from kombu import Connection, Exchange

    broker, name = split_target(url, "exchange", DEFAULT_EXCHANGE)
    timeout = settings.INTEGRATION_WEBHOOK_TIMEOUT
    exchange = Exchange(name, type="topic", durable=True)
    with Connection(
        broker,
        connect_timeout=timeout,
        transport_options={"confirm_publish": True},
    ) as connection:
        producer = connection.Producer()
        producer.publish(
            body,
            exchange=exchange,
            routing_key=event_type,
            declare=[exchange],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,  # persistent
            message_id=event_id,
            headers=headers,
            retry=False,
            timeout=timeout,
        )


def redis_publish(*, url: str, event_type: str, event_id: str, body: bytes, headers: dict) -> None:
    """XADD one entry to the stream: the event id, type, signature headers and body."""
    import redis

    server, stream = split_target(url, "stream", DEFAULT_STREAM)
    timeout = settings.INTEGRATION_WEBHOOK_TIMEOUT
    client = redis.Redis.from_url(server, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.xadd(stream, {"id": event_id, "type": event_type, "body": body, **headers})
    finally:
        client.close()

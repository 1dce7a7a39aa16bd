"""Outbound delivery of domain events to subscribers (docs/integration.md, "Webhooks").

Fan-out: a handler of the transactional outbox (registered in IntegrationConfig.ready for
every topic that goes out) turns an outbox row into one delivery row per matching active
subscription, inside the outbox's own transaction, so an event is fanned out exactly when
it is marked dispatched: none is lost, none doubled (one row per subscriber and event id).

Sending: each subscriber's deliveries go one at a time in outbox order. The subscriber's
row is locked (skip_locked) for the send of its head delivery, so two workers never send
to the same subscriber at once, and a failing head holds that subscriber's later events
only. The delivery is marked sent in the same transaction after the 2xx came back: a worker
killed between the two leaves it pending, and it is sent again with the same event id (at
least once; the receiver keeps the ids it has seen).
"""

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.models import OutboxEvent
from execution.models import WorkAlert
from planning.models import ProductionOrder

from ..engines import outbound as engine
from ..models import Delivery, Subscription
from . import outbound_sinks

logger = logging.getLogger(__name__)

USER_AGENT = "ClosedLoop-Webhooks/1"
# The URL schemes each kind of subscriber takes.
SCHEMES = {
    Subscription.Kind.WEBHOOK: ("http", "https"),
    Subscription.Kind.AMQP: ("amqp", "amqps"),
    Subscription.Kind.REDIS_STREAM: ("redis", "rediss"),
}
ERROR_LIMIT = 2000


# --- subscriptions ----------------------------------------------------------------------------


def subscription_validate(subscription: Subscription) -> None:
    """The checks of a subscriber before it is saved; a ValidationError names the field."""
    errors: dict[str, str] = {}
    schemes = SCHEMES.get(subscription.kind, ())
    try:
        parts = urlsplit(subscription.url or "")
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in schemes or not host:
        errors["url"] = (
            f"Give a {' or '.join(s + '://' for s in schemes) or 'known'} address with a host "
            f"for a {subscription.kind} subscription."
        )
    topics = subscription.topics
    if not isinstance(topics, list) or not topics:
        errors["topics"] = 'Give a list of event types, e.g. ["order.*", "progress"].'
    else:
        bad = [t for t in topics if not isinstance(t, str) or not engine.pattern_known(t)]
        if bad:
            errors["topics"] = (
                f"No event type matches {', '.join(map(str, bad))}; the types are "
                f"{', '.join(engine.EVENT_TYPES)} (wildcards like order.* allowed)."
            )
    if len(subscription.secret or "") < 16:
        errors["secret"] = "The secret must be at least 16 characters."
    if errors:
        raise ValidationError(errors)
    subscription.full_clean()


def subscription_create(*, by=None, **fields) -> Subscription:
    """A new subscriber; it receives the events recorded from now on."""
    subscription = Subscription(**fields)
    subscription_validate(subscription)
    with transaction.atomic():
        subscription.save()
        audit_record(actor=by, action="integration.subscription.create", obj=subscription)
    return subscription


def subscription_update(*, subscription: Subscription, by=None, **fields) -> Subscription:
    """Change a subscriber (a new URL, secret or event types apply to the next attempt)."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        subscription_validate(locked)
        locked.save()
        audit_record(
            actor=by,
            action="integration.subscription.update",
            obj=locked,
            data={"fields": sorted(k for k in fields if k != "secret")},
        )
    return locked


def subscription_delete(*, subscription: Subscription, by=None) -> None:
    """Remove a subscriber with its deliveries (pause it instead to keep them)."""
    with transaction.atomic():
        audit_record(actor=by, action="integration.subscription.delete", obj=subscription)
        Subscription.objects.filter(pk=subscription.pk).delete()


# --- fan-out ----------------------------------------------------------------------------------


def _order_facts(ids: set[int]) -> dict[int, dict]:
    return {
        o["id"]: {"order": o["number"], "external_ref": o["external_ref"] or None}
        for o in ProductionOrder.objects.filter(pk__in=ids).values("id", "number", "external_ref")
    }


def _enriched(events: list[engine.PublicEvent]) -> list[engine.PublicEvent]:
    """Names beside ids where an outside system knows the name (order number, exception
    number); the domain payload stays as it was."""
    order_ids = {e.data["order_id"] for e in events if isinstance(e.data.get("order_id"), int)}
    orders = _order_facts(order_ids) if order_ids else {}
    alert_ids = {e.data["alert_id"] for e in events if isinstance(e.data.get("alert_id"), int)}
    alerts = (
        dict(WorkAlert.objects.filter(pk__in=alert_ids).values_list("id", "number"))
        if alert_ids
        else {}
    )
    out = []
    for e in events:
        data = dict(e.data)
        facts = orders.get(data.get("order_id"))
        if facts:
            for key, value in facts.items():
                data.setdefault(key, value)
        if data.get("alert_id") in alerts:
            data.setdefault("alert", alerts[data["alert_id"]])
        out.append(engine.PublicEvent(e.id, e.type, e.seq, data))
    return out


def _body(event: engine.PublicEvent, outbox: OutboxEvent) -> str:
    envelope = event.envelope(occurred_at=outbox.created_at, topic=outbox.topic)
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str)


def outbox_event_fan_out(event: OutboxEvent) -> int:
    """The outbox handler: one pending delivery per matching active subscriber and public
    event; safe to run twice (the unique event id per subscriber keeps the first)."""
    public = engine.public_events(event.pk, event.topic, event.payload or {})
    if not public:
        return 0
    subscriptions = list(Subscription.objects.filter(active=True).only("id", "topics"))
    wanted = [
        (s, e) for s in subscriptions for e in public if engine.patterns_match(s.topics, e.type)
    ]
    if not wanted:
        return 0
    bodies = {e.id: _body(e, event) for e in _enriched([e for _s, e in wanted])}
    now = timezone.now()
    rows = [
        Delivery(
            subscription_id=s.pk,
            event_id=e.id,
            outbox_id=event.pk,
            seq=e.seq,
            event_type=e.type,
            body=bodies[e.id],
            next_attempt_at=now,
        )
        for s, e in wanted
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    # Send as soon as the fan-out commits rather than at the next beat.
    transaction.on_commit(send_soon)
    return len(rows)


SEND_QUEUED_KEY = "integration:deliveries-send-queued"


def send_soon() -> None:
    """Queue one send task for what was just committed, unless one is queued and has not
    started yet (it will see these rows): a burst of events queues one task, not one each.
    The mark lasts a second at most, and the beat job sends whatever a lost task left."""
    from ..tasks import deliveries_send  # the task module imports this one

    try:
        if cache.add(SEND_QUEUED_KEY, 1, timeout=1):
            deliveries_send.delay()
    except Exception:  # cache or broker away: the beat job sends them (within seconds)
        logger.warning("could not queue the send of new deliveries", exc_info=True)


def send_started() -> None:
    """A send task begins: the next commit queues another (the rows it adds may come too
    late for this one)."""
    cache.delete(SEND_QUEUED_KEY)


# --- sending ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    code: int | None = None
    error: str = ""


def _headers(subscription: Subscription, delivery: Delivery, body: bytes, now: datetime) -> dict:
    timestamp = int(now.timestamp())
    return {
        engine.EVENT_ID_HEADER: delivery.event_id,
        engine.EVENT_TYPE_HEADER: delivery.event_type,
        engine.TIMESTAMP_HEADER: str(timestamp),
        engine.SIGNATURE_HEADER: engine.signature_header(subscription.secret, timestamp, body),
        engine.ATTEMPT_HEADER: str(delivery.attempts + 1),
    }


def _send(subscription: Subscription, delivery: Delivery, now: datetime) -> Outcome:
    """One attempt by the subscriber's kind."""
    if subscription.kind == Subscription.Kind.WEBHOOK:
        return _post(subscription, delivery, now)
    body = delivery.body.encode()
    publish = (
        outbound_sinks.amqp_publish
        if subscription.kind == Subscription.Kind.AMQP
        else outbound_sinks.redis_publish
    )
    try:
        publish(
            url=subscription.url,
            event_type=delivery.event_type,
            event_id=delivery.event_id,
            body=body,
            headers=_headers(subscription, delivery, body, now),
        )
    except Exception as exc:  # any refusal of the broker is a failed attempt, retried
        return Outcome(False, None, f"{type(exc).__name__}: {exc}")
    return Outcome(True, None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not a receipt: urllib would follow a 301/302/303 as a GET without the
    body, and its 2xx would mark the event sent. The 3xx is a failed attempt instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(subscription: Subscription, delivery: Delivery, now: datetime) -> Outcome:
    """One POST; any answer but a 2xx, a timeout or a refused connection is a failure."""
    body = delivery.body.encode()
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **_headers(subscription, delivery, body, now),
        },
    )
    try:
        with _OPENER.open(request, timeout=settings.INTEGRATION_WEBHOOK_TIMEOUT) as r:
            code = r.status
    except urllib.error.HTTPError as exc:
        reason = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
        return Outcome(False, exc.code, f"HTTP {exc.code} {exc.reason}: {reason}".strip())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(False, None, f"{type(exc).__name__}: {reason}")
    if 200 <= code < 300:
        return Outcome(True, code)
    return Outcome(False, code, f"HTTP {code}")


def delivery_mark_sent(delivery: Delivery, outcome: Outcome, now: datetime) -> None:
    """After the 2xx, in the transaction that holds the subscriber's lock."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT,
        attempts=delivery.attempts + 1,
        response_code=outcome.code,
        last_error="",
        sent_at=now,
    )


def delivery_mark_failed(delivery: Delivery, outcome: Outcome, now: datetime) -> str:
    """Count the failed attempt; retry later with backoff, or dead-letter after the last."""
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "response_code": outcome.code,
        "last_error": outcome.error[:ERROR_LIMIT],
    }
    if attempts >= settings.INTEGRATION_MAX_ATTEMPTS:
        fields.update(status=Delivery.Status.DEAD, dead_at=now)
    else:
        wait = engine.backoff_seconds(
            attempts,
            base=settings.INTEGRATION_RETRY_BASE_SECONDS,
            cap=settings.INTEGRATION_RETRY_MAX_SECONDS,
        )
        fields["next_attempt_at"] = now + timedelta(seconds=wait)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return "dead" if "status" in fields else "failed"


def _send_head(subscription_id: int) -> str | None:
    """Send the subscriber's oldest pending delivery if it is due. Answers "sent",
    "failed", "dead", or None when there is nothing to send now (or another worker holds
    the subscriber)."""
    with transaction.atomic():
        # NO KEY UPDATE: excludes the other senders, not the fan-out's inserts of deliveries
        # (each takes KEY SHARE on the subscriber for its foreign key), so a slow webhook
        # never holds up the outbox.
        subscription = (
            Subscription.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=subscription_id, active=True)
            .first()
        )
        if subscription is None:
            return None
        head = (
            Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING)
            .order_by("outbox_id", "seq")
            .first()
        )
        now = timezone.now()
        if head is None or head.next_attempt_at > now:
            return None  # a head waiting for its retry holds this subscriber's later ones
        outcome = _send(subscription, head, now)
        if outcome.ok:
            delivery_mark_sent(head, outcome, timezone.now())
            return "sent"
        logger.info("delivery %s to %s failed: %s", head.event_id, subscription, outcome.error)
        return delivery_mark_failed(head, outcome, timezone.now())


def deliveries_send_due(*, limit: int = 200, budget_seconds: float = 50.0) -> dict[str, int]:
    """Send what is due, subscriber after subscriber, each in outbox order; returns counts
    by outcome. A subscriber stops at its first failure (its next try waits the backoff)."""
    counts = {"sent": 0, "failed": 0, "dead": 0}
    now = timezone.now()
    subscriber_ids = list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__active=True,
        )
        .order_by("subscription_id")
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    started = time.monotonic()
    for subscription_id in subscriber_ids:
        for _ in range(limit):
            if time.monotonic() - started > budget_seconds:
                return counts
            outcome = _send_head(subscription_id)
            if outcome is None:
                break
            counts[outcome] += 1
            if outcome == "failed":
                break
    return counts


# --- dead letters -----------------------------------------------------------------------------


def deliveries_replay(*, deliveries, by=None) -> int:
    """Send dead letters again: each becomes pending, due now, with a fresh count of
    attempts; it goes ahead of its subscriber's later events (outbox order)."""
    ids = sorted(d.pk if isinstance(d, Delivery) else int(d) for d in deliveries)
    with transaction.atomic():
        locked = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=ids, status=Delivery.Status.DEAD)
            .order_by("pk")
        )
        Delivery.objects.filter(pk__in=[d.pk for d in locked]).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            dead_at=None,
        )
        for d in locked:
            audit_record(
                actor=by,
                action="integration.delivery.replay",
                obj=d,
                data={"event_id": d.event_id, "last_error": d.last_error[:200]},
            )
    if locked:
        transaction.on_commit(send_soon)
    return len(locked)

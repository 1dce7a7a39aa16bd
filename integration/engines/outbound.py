"""Outbound events: which domain events go out, under which public type, and how a
delivery is signed and retried (docs/integration.md, "Webhooks"). Plain data only.

A domain topic is the outbox's internal name (`planning.production_order.released`); a
public event type is the stable name an outside system subscribes to (`order.released`).
One outbox row becomes one public event, with a stable id made of the outbox row's id,
`evt-<id>`; a redelivery carries the same id, so a receiver that keeps the ids it has seen
takes each event once. (An operation's start and completion are planning's own domain
events, recorded when the operation's state changes, not read out of `progress`.)
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

# Domain topic -> public event type (one event per outbox row).
TOPIC_TYPES: dict[str, str] = {
    "planning.production_order.released": "order.released",
    "planning.production_order.in_progress": "order.started",
    "planning.production_order.completed": "order.completed",
    "planning.production_order.closed": "order.closed",
    "planning.production_order.cancelled": "order.cancelled",
    "planning.operation.started": "operation.started",
    "planning.operation.completed": "operation.completed",
    "execution.events.recorded": "progress",
    "execution.order.delay_predicted": "order.delay_predicted",
    "execution.order.delay_cleared": "order.delay_cleared",
    "execution.alert.raised": "exception.raised",
    "execution.alert.acknowledged": "exception.acknowledged",
    "execution.alert.escalated": "exception.escalated",
    "execution.alert.resolved": "exception.resolved",
    "quality.hold.placed": "hold.placed",
    "quality.hold.released": "hold.released",
    "planning.schedule_run.done": "schedule.changed",
    "costing.order_cost.posted": "cost.posted",
}

EVENT_TYPES: tuple[str, ...] = tuple(sorted(set(TOPIC_TYPES.values())))

SIGNATURE_HEADER = "X-ClosedLoop-Signature"
TIMESTAMP_HEADER = "X-ClosedLoop-Timestamp"
EVENT_ID_HEADER = "X-ClosedLoop-Event-Id"
EVENT_TYPE_HEADER = "X-ClosedLoop-Event-Type"
ATTEMPT_HEADER = "X-ClosedLoop-Delivery-Attempt"


@dataclass(frozen=True)
class PublicEvent:
    """One event as an outside system receives it."""

    id: str
    type: str
    seq: int  # 0 for the outbox row's own event, n for its n-th derived one
    data: dict

    def envelope(self, *, occurred_at: datetime, topic: str) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "occurred_at": occurred_at.isoformat(),
            "topic": topic,
            "data": self.data,
        }


def event_id(outbox_id: int, seq: int = 0) -> str:
    return f"evt-{outbox_id}" if seq == 0 else f"evt-{outbox_id}.{seq}"


def public_events(outbox_id: int, topic: str, payload: dict) -> list[PublicEvent]:
    """The public events of one outbox row (none where its topic does not go out)."""
    kind = TOPIC_TYPES.get(topic)
    if kind is None:
        return []
    return [PublicEvent(event_id(outbox_id), kind, 0, dict(payload))]


def pattern_matches(pattern: str, event_type: str) -> bool:
    """`order.*`, `*` or an exact type; case matters (types are lower case)."""
    return fnmatchcase(event_type, pattern)


def patterns_match(patterns: list[str], event_type: str) -> bool:
    return any(pattern_matches(p, event_type) for p in patterns)


def pattern_known(pattern: str) -> bool:
    """Does the pattern name at least one event type that goes out?"""
    return any(pattern_matches(pattern, t) for t in EVENT_TYPES)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 (hex) of `<timestamp>.<body>` under the subscriber's secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def signature_verify(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does (docs/integration.md has the same in a snippet)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: base, 2·base, 4·base, …
    never more than `cap`."""
    if attempts < 1:
        return 0.0
    return float(min(cap, base * (2 ** min(attempts - 1, 32))))

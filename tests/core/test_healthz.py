"""The health check: the database, and whether domain events are being delivered."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from core.events import MAX_ATTEMPTS
from core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def health() -> tuple[int, dict]:
    response = Client().get("/healthz")
    return response.status_code, response.json()


def test_healthy_with_nothing_waiting():
    assert health() == (
        200,
        {
            "status": "ok",
            "database": "ok",
            "outbox": {"pending": 0, "oldest_pending_seconds": 0, "failed": 0},
        },
    )


def test_events_waiting_too_long_or_given_up_are_degraded():
    fresh = OutboxEvent.objects.create(topic="t.fresh", payload={})
    code, body = health()
    assert code == 200 and body["status"] == "ok" and body["outbox"]["pending"] == 1

    OutboxEvent.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    code, body = health()
    assert body["status"] == "degraded" and body["outbox"]["oldest_pending_seconds"] >= 360

    OutboxEvent.objects.filter(pk=fresh.pk).update(dispatched_at=timezone.now())
    OutboxEvent.objects.create(topic="t.broken", payload={}, attempts=MAX_ATTEMPTS)
    code, body = health()
    assert code == 200 and body["status"] == "degraded"
    assert body["outbox"] == {"pending": 0, "oldest_pending_seconds": 0, "failed": 1}


def test_a_database_that_does_not_answer_is_503(monkeypatch):
    from core import views

    class Broken:
        def __enter__(self):
            raise DatabaseError('connection to server at "db.plant.internal" failed')

        def __exit__(self, *args):
            return False

    monkeypatch.setattr(views.connection, "cursor", lambda: Broken())
    code, body = health()
    # The driver's message (hosts, users) is logged, not shown to an anonymous caller.
    assert (code, body) == (503, {"status": "down", "database": "unavailable"})

"""The health check: the database, and whether domain events are being delivered."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, connections
from django.test import Client
from django.utils import timezone

from core.events import MAX_ATTEMPTS
from core.models import OutboxEvent
from core.views import HEALTH_STATEMENT_TIMEOUT_MS

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


@contextmanager
def silent_database(*, hang_up_after: float | None = None) -> Iterator[tuple[int, list]]:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers, as a database
    host whose server hangs; with `hang_up_after`, it closes each connection after that many
    seconds (so a client without a timeout of its own fails late instead of hanging the
    test). Yields its port and the connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)  # so the thread notices the stop; close() does not wake accept()
    accepted: list[tuple[socket.socket, float]] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append((server.accept()[0], time.monotonic()))
            except TimeoutError:
                pass
            except OSError:
                return
            if hang_up_after is not None:
                for conn, at in accepted:
                    if time.monotonic() - at > hang_up_after:
                        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        for conn, _ in accepted:
            conn.close()


def database_settings(**env: str) -> dict:
    """DATABASES["default"] as config/settings.py builds it from these environment variables."""
    code = (
        "import json, django; django.setup(); from django.conf import settings;"
        "print(json.dumps(settings.DATABASES['default']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_database_that_accepts_but_never_answers_is_503_within_seconds():
    """The connection to a PostgreSQL server that hangs gives up after DB_CONNECT_TIMEOUT,
    and the check answers 503. (Without a connect timeout it waited until gunicorn killed
    the worker at 30 s, which answered 500.) The database settings are the ones
    config/settings.py builds for a PostgreSQL DATABASE_URL, on SQLite runs as well."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    original = connections["default"]
    with silent_database(hang_up_after=15) as (port, accepted):
        configured = database_settings(
            DATABASE_URL=f"postgres://closedloop@127.0.0.1:{port}/closedloop",
            DB_CONNECT_TIMEOUT="2",
        )
        silent = DatabaseWrapper({**original.settings_dict, **configured}, "default")
        connections["default"] = silent
        try:
            started = time.monotonic()
            code, body = health()
            elapsed = time.monotonic() - started
        finally:
            connections["default"] = original
            silent.close()
        assert accepted, "the check never tried the silent server"
    assert (code, body) == (503, {"status": "down", "database": "unavailable"})
    assert 2 <= elapsed < 6, elapsed


@pytest.mark.postgres
def test_a_check_the_database_does_not_finish_in_time_is_503():
    """A server that answers but cannot count the outbox (here: the table is locked) is cut
    off by the check's own statement timeout, well before the web's limit."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    ) as locker:
        locker.execute(f"LOCK TABLE {OutboxEvent._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        # Should the check wait without a limit, the lock goes after 10 s: a failure, not a hang.
        release = threading.Timer(10, locker.rollback)
        release.start()
        started = time.monotonic()
        code, body = health()
        elapsed = time.monotonic() - started
        release.cancel()
        release.join()
        locker.rollback()
    assert (code, body) == (503, {"status": "down", "database": "unavailable"})
    assert HEALTH_STATEMENT_TIMEOUT_MS / 1000 <= elapsed < 6, elapsed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_checks_statement_timeout_ends_with_its_transaction():
    """The persistent connection serves the next request with the web's statement limit."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    assert before != f"{HEALTH_STATEMENT_TIMEOUT_MS}ms"
    assert health()[0] == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before

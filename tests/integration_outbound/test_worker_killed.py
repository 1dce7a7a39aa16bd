"""A worker process killed (SIGKILL) while its webhook POST is in flight: the delivery stays
pending, the next worker sends it again, and the receiver sees the same event id twice
(at least once, duplicates identifiable). Committed for real: the worker is another process."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection

from core.events import emit, outbox_dispatch_pending
from integration import tasks
from integration.models import Delivery
from integration.services.outbound import deliveries_send_due, subscription_create

from .conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
WORKER = (
    "import django; django.setup(); "
    "from integration.services.outbound import deliveries_send_due; deliveries_send_due()"
)


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
        user = s.get("USER") or "postgres"
        return f"postgres://{user}@{host}:{port}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_delivery_loses_nothing(monkeypatch):
    seen: list[str] = []
    arrived, hang = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers["X-ClosedLoop-Event-Id"])
            if len(seen) == 1:  # the first worker: answer only after it is dead
                arrived.set()
                hang.wait(30)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = None
    try:
        subscription_create(
            name="erp",
            url=f"http://127.0.0.1:{server.server_address[1]}/hook",
            secret=SECRET,
            topics=["*"],
        )
        # Fan out here without the immediate send: the worker process is to send it.
        monkeypatch.setattr(tasks.deliveries_send, "delay", lambda: None)
        event = emit("execution.alert.raised", {"alert_id": 1}, dispatch_on_commit=False)
        outbox_dispatch_pending()
        # Due for a worker whose clock is not pinned.
        Delivery.objects.update(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))

        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(),
        }
        worker = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env)
        assert arrived.wait(60), "the worker never posted"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        hang.set()

        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 0)

        # PostgreSQL ends the dead worker's transaction (and its lock on the subscriber) as
        # soon as it sees the connection closed; until then the subscriber is skipped.
        sent = 0
        for _ in range(100):
            sent = deliveries_send_due()["sent"]
            if sent:
                break
            time.sleep(0.1)
        assert sent == 1
        assert seen == [f"evt-{event.pk}", f"evt-{event.pk}"]
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 1, 200)
    finally:
        hang.set()
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(10)
        server.shutdown()
        server.server_close()

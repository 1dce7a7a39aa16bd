"""Outbound events: latency from the commit of a domain event to its webhook's arrival at a
local receiver, p50/p99, at a steady rate (default 200 events/s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop \\
        .venv/bin/python bench/outbound_bench.py [--rate 200] [--seconds 10] [--poll 0.05]

Builds a throw-away database (`<NAME>_outbound_bench`, dropped at the end) with one webhook
subscription to a receiver on 127.0.0.1 (http.server in a thread). An emitter thread commits
one `execution.alert.raised` event per transaction at the rate (written without an
immediate dispatch, as the production-event path writes its events); two threads do what
two worker processes do, each in a loop that waits `--poll` seconds when it found nothing:
one fans out the outbox (`outbox_dispatch_pending`), the other sends what is due
(`deliveries_send_due`).
The beat job runs the same every 3 s; a commit also queues the same work at once. Latency
is the receiver's arrival time minus the emitter's commit time, both on this process's
monotonic clock. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--poll", type=float, default=0.05, help="dispatcher's idle wait (s)")
    args = parser.parse_args()

    setup_test_environment()
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        db["TEST"]["NAME"] = str(Path(settings.VAR_DIR) / "outbound_bench.sqlite3")
    else:
        db["TEST"]["NAME"] = f"{db['NAME']}_outbound_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    arrived: dict[str, float] = {}
    committed: dict[str, float] = {}

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrived.setdefault(self.headers["X-ClosedLoop-Event-Id"], time.monotonic())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from core.events import emit, outbox_dispatch_pending
        from integration.services.outbound import deliveries_send_due, subscription_create

        subscription_create(
            name="bench",
            url=f"http://127.0.0.1:{server.server_address[1]}/hook",
            secret="bench-secret-0123456789",
            topics=["exception.*"],
        )
        total = int(args.rate * args.seconds)
        done = threading.Event()

        def emitter():
            start = time.monotonic()
            try:
                for i in range(total):
                    due = start + i / args.rate
                    pause = due - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    with transaction.atomic():
                        event = emit(
                            "execution.alert.raised",
                            {"alert_id": i, "type": "bench"},
                            dispatch_on_commit=False,
                        )
                    committed[f"evt-{event.pk}"] = time.monotonic()
            finally:
                connection.close()
                done.set()

        def loop(work):
            """One worker process's share: run `work` until everything has arrived."""
            try:
                while len(arrived) < total:
                    if not work():
                        if done.is_set() and time.monotonic() - finished[0] > 30:
                            return
                        time.sleep(args.poll)
            finally:
                connection.close()

        def fan_out():
            return outbox_dispatch_pending()

        def send():
            return deliveries_send_due()["sent"]

        finished = [float("inf")]
        threads = [
            threading.Thread(target=emitter),
            threading.Thread(target=loop, args=(fan_out,)),
            threading.Thread(target=loop, args=(send,)),
        ]
        wall = time.monotonic()
        for t in threads:
            t.start()
        threads[0].join()
        finished[0] = time.monotonic()
        for t in threads[1:]:
            t.join()
        wall = time.monotonic() - wall
        latencies = [arrived[k] - committed[k] for k in committed if k in arrived]
        lost = [k for k in committed if k not in arrived]
        server_name = connection.vendor
        if server_name == "postgresql":
            server_name = f"PostgreSQL {connection.pg_version // 10000}"
        print(
            f"outbound bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{server_name} ({name}), {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
        )
        print(
            f"{total} events at {args.rate:g}/s over {args.seconds:g} s "
            f"(took {wall:.1f} s); received {len(latencies)}, lost {len(lost)}"
        )
        if latencies:
            ms = [x * 1000 for x in latencies]
            print(
                f"commit → received: p50 {percentile(ms, 50):.1f} ms, p99 "
                f"{percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms, mean "
                f"{statistics.mean(ms):.1f} ms"
            )
    finally:
        server.shutdown()
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()

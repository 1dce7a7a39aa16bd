"""The single-event path: events/s with one event per request, as terminals, simple MES
clients and counted steps post them, next to what the database does with one INSERT per
commit on the same machine in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop \\
        .venv/bin/python bench/event_path_bench.py [--events 2000] [--orders 20] [--seed 1] \\
        [--rounds 1] [--profile]

Builds a throw-away database (`<NAME>_event_path_bench`, dropped at the end) with the plant of
bench/ingest_bench.py (released orders of an untracked two-operation part, every task
running; its work centers get a day shift around now, so every event's backdating check
reads the shift calendar), then times, each `--events` times per round:

- one INSERT per commit: a row of four columns (unique text id, number, instant) into a
  table with a primary key and a unique index, autocommit — the floor under any path
  that commits each event on its own;
- `event_record`, one event per call: the service as the terminal's view calls it;
- POST of one event per request to /api/v1/execution/events/ with Django's test client as
  a signed-in supervisor (session, auth, JSON parsing and rendering included; no network).

Every event is a report of 1 good or 1 scrapped piece on a random running task named by
order number and sequence, occurred_at a moment before it is sent; 1 % repeat an id
already sent. Counters are checked after each mode. Besides events/s it prints CPU per event
of this process and of the PostgreSQL backend serving it, and the statements per event.
`--profile` adds a cProfile of `event_record`. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest_bench as base  # noqa: E402  (sets Django up)
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def add_shifts() -> None:
    """A shift on every day around now at each work center: the backdating check asks it."""
    from resources.models import ShiftPattern, WorkCenter

    for center in WorkCenter.objects.all():
        ShiftPattern.objects.create(
            work_center=center,
            name="Around the clock",
            weekdays="1,2,3,4,5,6,7",
            start_time=clock_time(0, 0),
            end_time=clock_time(23, 59),
        )


def timed_events(keys, count: int, prefix: str, rng: random.Random) -> list[dict]:
    events = base.make_events(keys, count, prefix, rng)
    for event in events:  # sent as they happen: occurred_at set when sent (see send)
        event.pop("occurred_at", None)
    return events


def stamp(event: dict) -> dict:
    """occurred_at a moment ago, as a terminal stamps its event when it sends it."""
    return {**event, "occurred_at": base.time_now().isoformat()}


def one_insert_per_commit(count: int):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_single (id bigserial PRIMARY KEY, event_id varchar(100) "
            "UNIQUE NOT NULL, quantity numeric(18, 4) NOT NULL, occurred_at timestamptz NOT NULL)"
        )
    now = base.time_now()
    with base.Clock() as clock, connection.cursor() as cursor:
        for n in range(count):
            cursor.execute(
                "INSERT INTO bench_single (event_id, quantity, occurred_at) VALUES (%s, %s, %s)",
                [f"row-{n}", 1, now],
            )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_single")
    return clock


def run_service(keys, count, rng, user, prefix):
    from execution.services.events import event_record

    events = timed_events(keys, count, prefix, rng)
    before = base.counters()
    results = []
    with base.Clock() as clock:
        for event in events:
            results.append(event_record(data=stamp(event), by=user).as_dict())
    return events, results, clock, before


def run_http(keys, count, rng, user, prefix):
    from django.test import Client

    client = Client()
    client.force_login(user)
    events = timed_events(keys, count, prefix, rng)
    before = base.counters()
    results = []
    with base.Clock() as clock:
        for event in events:
            response = client.post(
                "/api/v1/execution/events/",
                data=json.dumps(stamp(event)),
                content_type="application/json",
            )
            assert response.status_code in (200, 201), response.content[:500]
            results.append(response.json())
    return events, results, clock, before


def run_http_clients(keys, count, rng, user, prefix, clients: int):
    """`clients` terminals posting at once into this one process, one thread each (each with
    its own database connection, as a threaded server gives every request thread its own)."""
    import threading

    from django.db import connections
    from django.test import Client

    events = timed_events(keys, count, prefix, rng)
    shares = [events[k::clients] for k in range(clients)]
    results: list = [None] * clients
    backends = [0.0] * clients
    start = threading.Barrier(clients + 1)
    done = threading.Barrier(clients + 1)

    def terminal(k: int) -> None:
        client = Client()
        client.force_login(user)
        out = []
        before = base.backend_cpu()
        start.wait()
        for event in shares[k]:
            response = client.post(
                "/api/v1/execution/events/",
                data=json.dumps(stamp(event)),
                content_type="application/json",
            )
            assert response.status_code in (200, 201), response.content[:500]
            out.append(response.json())
        backends[k] = base.backend_cpu() - before
        results[k] = out
        done.wait()
        connections.close_all()

    threads = [threading.Thread(target=terminal, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    before = base.counters()
    start.wait()
    with base.Clock() as clock:
        done.wait()
    for thread in threads:
        thread.join()
    clock.db = sum(backends)
    ordered_events = [e for share in shares for e in share]
    ordered_results = [r for out in results for r in out]
    return ordered_events, ordered_results, clock, before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile event_record")
    parser.add_argument(
        "--clients",
        type=int,
        nargs="*",
        default=[4],
        help="also POST from this many terminals at once into the one process (PostgreSQL)",
    )
    args = parser.parse_args()

    setup_test_environment()
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        db["TEST"]["NAME"] = str(Path(settings.VAR_DIR) / "event_path_bench.sqlite3")
    else:
        db["TEST"]["NAME"] = f"{db['NAME']}_event_path_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from django.contrib.auth import get_user_model

        server = connection.vendor
        if server == "postgresql":
            server = f"PostgreSQL {connection.pg_version // 10000}"
        print(
            f"event path bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{server}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"machine reference: {base.machine_reference()}")
        keys = base.build_plant(args.orders)
        add_shifts()
        user = get_user_model().objects.get(username="bench-supervisor")
        rng = random.Random(args.seed)
        # Warm up (first imports, prepared statements), and count statements per event.
        from execution.services.events import event_record

        warm = timed_events(keys, 20, "warm", rng)
        for event in warm[:-1]:
            event_record(data=stamp(event), by=user)
        with CaptureQueriesContext(connection) as ctx:
            event_record(data=stamp(warm[-1]), by=user)
        per_event = len(ctx.captured_queries)
        if os.environ.get("BENCH_SHOW_SQL"):
            for query in ctx.captured_queries:
                print("   ", query["sql"][:120])
        # The HTTP path warmed up too: a server process imports its URL configuration (and
        # what the views import, B2MML's schemas among them) once, on its first request.
        run_http(keys, 20, rng, user, "warm-http")
        print(
            f"plant: {len(keys)} running tasks on {args.orders} orders; "
            f"{per_event} statements for one event_record (BEGIN and COMMIT included)\n"
        )
        print(
            "| path | events | wall time | events/s | CPU per event: Python / PostgreSQL "
            "backend | accepted / duplicate / rejected | check |"
        )
        print("|---|---|---|---|---|---|---|")
        for r in range(args.rounds):
            clock = one_insert_per_commit(args.events)
            us = 1e6 / args.events
            print(
                f"| one INSERT per commit | {args.events:,} | {clock.wall:.2f} s | "
                f"**{args.events / clock.wall:,.0f}** | {clock.cpu * us:,.0f} / "
                f"{clock.db * us:,.0f} µs | – | – |",
                flush=True,
            )
            _report(
                "event_record, one per call",
                run_service(keys, args.events, rng, user, f"svc{r}"),
            )
            _report(
                "HTTP POST, one event per request",
                run_http(keys, args.events, rng, user, f"http{r}"),
            )
            for clients in args.clients if connection.vendor == "postgresql" else ():
                _report(
                    f"HTTP POST, one event per request, {clients} terminals at once",
                    run_http_clients(keys, args.events, rng, user, f"c{clients}-{r}", clients),
                )
        if args.profile:
            import cProfile
            import pstats

            for label, run in (("event_record", run_service), ("HTTP POST", run_http)):
                profiler = cProfile.Profile()
                profiler.enable()
                out = run(keys, args.events, rng, user, f"prof-{run.__name__}")
                profiler.disable()
                _report(f"{label} (profiled)", out)
                if dump := os.environ.get("BENCH_PROFILE_DUMP"):  # for pstats' callers view
                    profiler.dump_stats(f"{dump}.{run.__name__}")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                    int(os.environ.get("BENCH_PROFILE_LINES", 45))
                )
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def _report(label, out) -> None:
    events, results, clock, before = out
    accepted, duplicates, qty, last = base.tally(events, results)
    verdict = base.check(before, base.counters(), qty, last)
    us = 1e6 / len(events)
    print(
        f"| {label} | {len(events):,} | {clock.wall:.2f} s | **{len(events) / clock.wall:,.0f}** | "
        f"{clock.cpu * us:,.0f} / {clock.db * us:,.0f} µs | "
        f"{accepted:,} / {duplicates:,} / {len(events) - accepted - duplicates:,} | {verdict} |",
        flush=True,
    )


if __name__ == "__main__":
    main()

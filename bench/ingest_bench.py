"""Production-event ingestion benchmark: events/s one at a time, in batches, and over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop \\
        .venv/bin/python bench/ingest_bench.py [--events 20000] [--batch 500 1000] \\
        [--single 2000] [--clients 2] [--orders 20] [--seed 1] [--no-http] [--profile]

Builds a throw-away database (`<NAME>_ingest_bench`, dropped at the end) with a small plant:
`--orders` released orders of an untracked product, each with a two-operation routing, and
every task started, so that 2 × orders tasks are running. Then it times, through the real
service code:

- `event_record` called once per event (`--single` events): the one-at-a-time path;
- `events_record` on batches of each `--batch` size (`--events` events each time): the
  set-based path (`execution/services/ingest.py`);
- POST of the same batches to /api/v1/execution/events/ with Django's test client as a
  logged-in supervisor (JSON parsing, auth, rendering included; no network, no server);
- `events_record` from `--clients` processes at once, each with its own connection and its
  share of the tasks (as several gunicorn workers serving several gateways).

Every event is a report of 1 good or 1 scrapped piece on a random running task, named by
order number and operation sequence as an external MES would; 1 % of them repeat an id
already sent. After each mode the task, operation and order counters are checked against
the accepted events. Besides events/s it prints CPU per event of this process and of the
PostgreSQL backend serving it (read from /proc), which vary much less than wall time on a
shared machine. `--profile` prints the top of a cProfile run of the first batch size.
Not part of the test suite: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark floods the API by design: no throttling (docs/security.md, "API throttling").
os.environ.setdefault("API_THROTTLE_USER", "off")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from reference import Clock, backend_cpu, python_loop_seconds  # noqa: E402  (bench/reference.py)


def build_plant(n_orders: int) -> list[tuple[str, int]]:
    """Released orders of an untracked product, every task running; returns the task keys."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.roles import Role, roles_ensure
    from execution.services.events import event_record
    from planning.models import ProductionOrder, Routing, RoutingStep
    from planning.services.orders import production_order_create, production_order_release
    from resources.models import Area, Item, Site, WorkCenter

    roles_ensure()
    user = get_user_model().objects.create_user("bench-supervisor", password="bench-pass-1")
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    site = Site.objects.create(code="BENCH", name="Bench plant")
    area = Area.objects.create(site=site, code="BENCH-A", name="Bench area")
    centers = [
        WorkCenter.objects.create(area=area, code=f"BENCH-WC{n}", name=f"Bench WC {n}")
        for n in (1, 2)
    ]
    item = Item.objects.create(code="BENCH-PART", name="Bench part", source=Item.Source.MAKE)
    routing = Routing.objects.create(item=item, version="1")
    for step_no, center in zip((10, 20), centers, strict=True):
        RoutingStep.objects.create(
            routing=routing, step_no=step_no, name=f"Step {step_no}", work_center=center
        )
    keys = []
    for n in range(n_orders):
        order = production_order_create(
            item=item,
            quantity=Decimal(1_000_000),
            due_date=date.today() + timedelta(days=30),
            number=f"BENCH-{n:04d}",
            status=ProductionOrder.Status.PLANNED,
        )
        production_order_release(order=order)
        at = (time_now() - timedelta(hours=1)).isoformat()
        # Operation 20 may start once operation 10 has made something.
        for event_id, kind, sequence, good in (
            (f"start-{n}-10", "start", 10, 0),
            (f"first-{n}-10", "report", 10, 1),
            (f"start-{n}-20", "start", 20, 0),
        ):
            result = event_record(
                data={
                    "event_id": event_id,
                    "kind": kind,
                    "order": order.number,
                    "sequence": sequence,
                    "quantity_good": good,
                    "occurred_at": at,
                },
                by=user,
            )
            assert result.status == "accepted", result.as_dict()
        keys += [(order.number, 10), (order.number, 20)]
    return keys


def time_now():
    from django.utils import timezone

    return timezone.now()


def make_events(keys, count: int, prefix: str, rng: random.Random) -> list[dict]:
    events, sent = [], []
    at = time_now().isoformat()
    for n in range(count):
        if sent and rng.random() < 0.01:  # a retry of an id already sent
            events.append(dict(rng.choice(sent)))
            continue
        number, sequence = rng.choice(keys)
        scrap = rng.random() < 0.05
        event = {
            "event_id": f"{prefix}-{n}",
            "kind": "report",
            "order": number,
            "sequence": sequence,
            "quantity_good": 0 if scrap else 1,
            "quantity_scrap": 1 if scrap else 0,
            "occurred_at": at,
        }
        events.append(event)
        sent.append(event)
    return events


def counters() -> tuple[Decimal, Decimal, Decimal]:
    from django.db.models import Sum

    from execution.models import Task
    from planning.models import OrderOperation, ProductionOrder

    task = Task.objects.aggregate(g=Sum("quantity_good"), s=Sum("quantity_scrap"))
    op = OrderOperation.objects.aggregate(g=Sum("quantity_done"), s=Sum("quantity_scrap"))
    order = ProductionOrder.objects.aggregate(g=Sum("quantity_done"), s=Sum("quantity_scrap"))
    return (
        (task["g"] or 0) + (task["s"] or 0),
        (op["g"] or 0) + (op["s"] or 0),
        (order["g"] or 0) + (order["s"] or 0),
    )


def check(before, after, accepted_qty: Decimal, accepted_last_op_qty: Decimal) -> str:
    task, op, order = (a - b for a, b in zip(after, before, strict=True))
    ok = task == accepted_qty and op == accepted_qty and order == accepted_last_op_qty
    return "counters exact" if ok else f"COUNTERS WRONG: {task} {op} {order} vs {accepted_qty}"


def tally(events: list[dict], results) -> tuple[int, int, Decimal, Decimal]:
    accepted = [e for e, r in zip(events, results, strict=True) if r["status"] == "accepted"]
    duplicates = sum(1 for r in results if r["status"] == "duplicate")
    qty = sum(
        (Decimal(e["quantity_good"]) + Decimal(e["quantity_scrap"]) for e in accepted), Decimal(0)
    )
    last = sum(
        (
            Decimal(e["quantity_good"]) + Decimal(e["quantity_scrap"])
            for e in accepted
            if e["sequence"] == 20
        ),
        Decimal(0),
    )
    return len(accepted), duplicates, qty, last


def run_single(keys, count, rng, user):
    from execution.services.events import event_record

    events = make_events(keys, count, "single", rng)
    before = counters()
    with Clock() as clock:
        results = [event_record(data=e, by=user).as_dict() for e in events]
    return events, results, clock, before


def run_batches(keys, count, size, rng, user, prefix, post=None):
    from execution.services.events import events_record

    events = make_events(keys, count, prefix, rng)
    batches = [events[i : i + size] for i in range(0, len(events), size)]
    before = counters()
    results = []
    with Clock() as clock:
        for batch in batches:
            if post is None:
                results.extend(r.as_dict() for r in events_record(items=batch, by=user))
            else:
                results.extend(post(batch))
    return events, results, clock, before


def http_poster(user):
    import json

    from django.test import Client

    client = Client()
    client.force_login(user)

    def post(batch):
        response = client.post(
            "/api/v1/execution/events/", data=json.dumps(batch), content_type="application/json"
        )
        assert response.status_code == 200, response.content[:500]
        return response.json()

    return post


def report(label, size, events, results, clock, before):
    accepted, duplicates, qty, last = tally(events, results)
    verdict = check(before, counters(), qty, last)
    rate = len(events) / clock.wall
    us = 1e6 / len(events)
    print(
        f"| {label} | {size} | {len(events):,} | {clock.wall:.2f} s | **{rate:,.0f}** | "
        f"{clock.cpu * us:,.0f} / {clock.db * us:,.0f} µs | "
        f"{accepted:,} / {duplicates:,} / {len(events) - accepted - duplicates:,} | {verdict} |",
        flush=True,
    )
    return rate


class Fallbacks:
    """Counts the batch runs the database refused (logged by execution.services.ingest)."""

    count = 0

    @classmethod
    def install(cls) -> None:
        import logging

        class Handler(logging.Handler):
            def emit(self, record):
                cls.count += 1
                if cls.count <= 3:
                    print(f"  (run fell back: {record.getMessage()[:200]})", flush=True)

        log = logging.getLogger("execution.services.ingest")
        log.addHandler(Handler())
        log.setLevel(logging.INFO)
        log.propagate = False


def client(i, n, keys, count, size, seed, barrier, queue, http) -> None:
    """One of `n` client processes: its own connection, its share of the tasks; with
    `http`, POSTed through the API with the test client (as a gunicorn worker serves)."""
    from django.contrib.auth import get_user_model

    from execution.services.events import events_record

    user = get_user_model().objects.get(username="bench-supervisor")
    prefix = f"{'httppar' if http else 'par'}{size}-{i}"
    events = make_events(keys[i::n], count, prefix, random.Random(seed + i))
    batches = [events[k : k + size] for k in range(0, len(events), size)]
    results = []
    post = http_poster(user) if http else None
    cpu, db = time.process_time(), backend_cpu()
    barrier.wait()
    start = time.perf_counter()
    for batch in batches:
        if post is None:
            results.extend(r.as_dict() for r in events_record(items=batch, by=user))
        else:
            results.extend(post(batch))
    end = time.perf_counter()
    cpu, db = time.process_time() - cpu, backend_cpu() - db
    queue.put((start, end, cpu, db, len(events), tally(events, results)))
    connection.close()


def run_clients(keys, count, size, seed, n: int, http: bool = False) -> None:
    """`n` processes at once, each sending count / n events on its own tasks (a plant's
    gateways each report their own machines), as `n` gunicorn workers would."""
    import multiprocessing

    before = counters()
    connection.close()  # the children must not share the parent's connection
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=client, args=(i, n, keys, count // n, size, seed, barrier, queue, http))
        for i in range(n)
    ]
    for p in procs:
        p.start()
    out = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    wall = max(o[1] for o in out) - min(o[0] for o in out)
    events = sum(o[4] for o in out)
    accepted = sum(o[5][0] for o in out)
    duplicates = sum(o[5][1] for o in out)
    qty = sum((o[5][2] for o in out), Decimal(0))
    last = sum((o[5][3] for o in out), Decimal(0))
    verdict = check(before, counters(), qty, last)
    us = 1e6 / events
    print(
        f"| {'HTTP POST' if http else 'events_record'}, {n} client processes | {size} | "
        f"{events:,} | {wall:.2f} s | "
        f"**{events / wall:,.0f}** | {sum(o[2] for o in out) * us:,.0f} / "
        f"{sum(o[3] for o in out) * us:,.0f} µs | {accepted:,} / {duplicates:,} / "
        f"{events - accepted - duplicates:,} | {verdict} |",
        flush=True,
    )


def machine_reference() -> str:
    """Two fixed workloads that say how fast this machine is today, for comparing runs on
    different (or differently busy) machines: a pure-Python loop of 10 million additions,
    and a COPY of 100,000 three-column rows into a temporary table without indexes."""
    loop = python_loop_seconds()
    if connection.vendor != "postgresql":
        return f"Python loop {loop:.2f} s"
    from datetime import datetime

    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        cursor.execute("CREATE TEMPORARY TABLE bench_copy (id bigint, code text, at timestamptz)")
        t = time.perf_counter()
        with raw.copy("COPY bench_copy (id, code, at) FROM STDIN") as copy:
            for n in range(100_000):
                copy.write_row((n, f"EV-{n}", stamp))
        copy_rate = 100_000 / (time.perf_counter() - t)
        cursor.execute("DROP TABLE bench_copy")
    return f"Python loop {loop:.2f} s, bare COPY {copy_rate:,.0f} rows/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--clients", type=int, default=2, help="parallel client processes (0: none)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first batch size")
    args = parser.parse_args()

    setup_test_environment()
    Fallbacks.install()
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        db["TEST"]["NAME"] = str(Path(settings.VAR_DIR) / "ingest_bench.sqlite3")
    else:
        db["TEST"]["NAME"] = f"{db['NAME']}_ingest_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from django.contrib.auth import get_user_model

        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        server = connection.vendor
        if server == "postgresql":
            server = f"PostgreSQL {connection.pg_version // 10000}"
        print(
            f"ingest bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {server} "
            f"({name}), {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"machine reference: {machine_reference()}")
        t0 = time.perf_counter()
        keys = build_plant(args.orders)
        user = get_user_model().objects.get(username="bench-supervisor")
        print(
            f"plant: {len(keys)} running tasks on {args.orders} orders ({time.perf_counter() - t0:.1f} s)\n"
        )
        print(
            "| path | batch | events | wall time | events/s | CPU per event: Python / "
            "PostgreSQL backend | accepted / duplicate / rejected | check |"
        )
        print("|---|---|---|---|---|---|---|---|")
        rng = random.Random(args.seed)
        if args.single:
            report("event_record, one at a time", 1, *run_single(keys, args.single, rng, user))
        for size in args.batch:
            if args.profile and size == args.batch[0]:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
                out = run_batches(keys, args.events, size, rng, user, f"prof{size}")
                profiler.disable()
                report("events_record (profiled)", size, *out)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(60)
            report(
                "events_record, batches",
                size,
                *run_batches(keys, args.events, size, rng, user, f"svc{size}"),
            )
            if not args.no_http:
                report(
                    "HTTP POST /api/v1/execution/events/",
                    size,
                    *run_batches(
                        keys, args.events, size, rng, user, f"http{size}", http_poster(user)
                    ),
                )
            if args.clients > 1:
                run_clients(keys, args.events, size, args.seed, args.clients)
                if not args.no_http:
                    run_clients(keys, args.events, size, args.seed + 100, args.clients, http=True)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()

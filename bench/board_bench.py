"""Order board benchmark (prints figures; not part of pytest).

(a) Server time of the board partial (`GET /execution/board/` with `HX-Request`, through
    Django's test client: URL routing, session, the live progress computation, template)
    with N open orders of the demo engine block (4 operations each) in a mix of states:
    planned windows from 5 days ago to 10 days ahead, some operations running with labour
    bookings and a start event, some paused with a reason, some with a material shortage.
    Also the live computation alone (`progress_compute`), the query count, and the hourly
    roll-up over the same orders (first run, then again in the same hour). Each figure is
    wall time and this process's CPU time: on a shared machine the wall time includes
    waiting for a core, the CPU time is what the work costs.
(b) Latency from a production event accepted to the board showing it: POST a report event
    through the API (test client, as the supervisor), then GET the board partial until the
    new quantity appears in the order's row; the time from before the POST to the board
    answer that shows it. In-process (no HTTP server, no network): what the server spends.

Run from the repository root:

    .venv/bin/python bench/board_bench.py [--orders 2000] [--repeat 15] [--events 20]

On SQLite it builds a fresh database in a temporary directory. With DATABASE_URL set it
uses that database after emptying it, so it refuses any database whose name does not
contain "bench":

    createdb -h 127.0.0.1 -U postgres closedloop_bench_board
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop_bench_board \\
        .venv/bin/python bench/board_bench.py
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if not os.environ.get("DATABASE_URL"):
    os.environ["CLOSEDLOOP_VAR_DIR"] = tempfile.mkdtemp(prefix="closedloop-board-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark floods the API by design: no throttling (docs/security.md, "API throttling").
os.environ.setdefault("API_THROTTLE_USER", "off")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from reference import python_loop_seconds  # noqa: E402  (bench/reference.py)
from rest_framework.test import APIClient  # noqa: E402

from execution.models import (  # noqa: E402
    LabourBooking,
    MaterialRequirement,
    MaterialShortage,
    ProductionEvent,
    Task,
)
from execution.selectors.progress import progress_compute  # noqa: E402
from execution.services.progress import progress_rollup_run  # noqa: E402
from planning.models import OrderOperation, ProductionOrder  # noqa: E402
from planning.services.orders import production_order_release  # noqa: E402
from resources.models import Item  # noqa: E402

DEMO_ORDER = "MO-2026-00001"


def database() -> str:
    db = settings.DATABASES["default"]
    return f"{connection.vendor} ({db['NAME']})"


def prepare(n_orders: int, seed: int) -> None:
    if connection.vendor != "sqlite" and "bench" not in str(settings.DATABASES["default"]["NAME"]):
        sys.exit("Refusing to empty a database whose name does not contain 'bench'.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("load_demo", "--quiet-logins", stdout=open(os.devnull, "w"))  # noqa: SIM115
    demo = ProductionOrder.objects.get(number=DEMO_ORDER)
    production_order_release(order=demo)
    generate(n_orders, seed)
    if connection.vendor == "postgresql":
        # Table statistics, as autovacuum keeps them in production: without them the
        # planner guesses row counts for the freshly bulk-loaded tables.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def generate(n: int, seed: int) -> None:
    """n released / in-progress engine-block orders, in bulk inserts."""
    rng = random.Random(seed)
    demo = ProductionOrder.objects.get(number=DEMO_ORDER)
    steps = list(demo.operations.order_by("sequence"))
    operators = {
        t.operation.sequence: t.operator_id for t in demo.tasks.select_related("operation")
    }
    bearing = Item.objects.get(code="BRG-6205")
    now = timezone.now()
    S, OS, TS = ProductionOrder.Status, OrderOperation.Status, Task.Status
    orders, specs = [], []
    for i in range(n):
        start = now + timedelta(hours=rng.uniform(-5 * 24, 10 * 24))
        hours = rng.uniform(24, 6 * 24)
        quantity = Decimal(rng.choice([50, 100, 200, 450]))
        share = hours / len(steps)
        pace = rng.uniform(0.3, 1.1)  # how this order keeps up with its plan
        op_specs, upstream = [], quantity
        for k, step in enumerate(steps):
            op_start = start + timedelta(hours=k * share * 0.8)
            op_end = op_start + timedelta(hours=share * 1.2)
            expected = max(0.0, min(1.0, (now - op_start) / (op_end - op_start)))
            # An operation makes no more than the one before it has passed on.
            made = min(Decimal(int(float(quantity) * expected * pace)), upstream)
            upstream = made
            state = "pending"
            if made > 0 or (now > op_start and k == 0):
                state = rng.choice(["running", "running", "paused"]) if made < quantity else "done"
            op_specs.append((step, op_start, op_end, made, state))
        specs.append(op_specs)
        orders.append(
            ProductionOrder(
                number=f"MO-BENCH-{i:05d}",
                item_id=demo.item_id,
                quantity=quantity,
                quantity_done=op_specs[-1][3],  # finished units leave the last operation
                # Later than the demo order, which the latency run watches near the top.
                due_date=timezone.localdate() + timedelta(days=8 + i % 30),
                priority=rng.randint(1, 9),
                status=S.IN_PROGRESS if start < now else S.RELEASED,
                routing_id=demo.routing_id,
                bom_id=demo.bom_id,
                planned_start=start,
                planned_end=start + timedelta(hours=hours),
            )
        )
    orders = ProductionOrder.objects.bulk_create(orders, batch_size=1000)
    ops, op_state = [], []
    for order, op_specs in zip(orders, specs, strict=True):
        for step, op_start, op_end, made, state in op_specs:
            op_state.append(state)
            ops.append(
                OrderOperation(
                    order=order,
                    sequence=step.sequence,
                    name=step.name,
                    work_center_id=step.work_center_id,
                    equipment_id=step.equipment_id,
                    setup_minutes=step.setup_minutes,
                    run_minutes_per_unit=step.run_minutes_per_unit,
                    planned_start=op_start,
                    planned_end=op_end,
                    quantity_done=made,
                    status={
                        "pending": OS.PENDING,
                        "running": OS.IN_PROGRESS,
                        "paused": OS.PAUSED,
                        "done": OS.DONE,
                    }[state],
                    actual_start=op_start if state != "pending" else None,
                )
            )
    ops = OrderOperation.objects.bulk_create(ops, batch_size=2000)
    task_status = {
        "pending": TS.QUEUED,
        "running": TS.RUNNING,
        "paused": TS.PAUSED,
        "done": TS.DONE,
    }
    tasks = Task.objects.bulk_create(
        [
            Task(
                operation=op,
                order=op.order,
                status=task_status[state],
                operator_id=operators.get(op.sequence),
                quantity_good=op.quantity_done,
                pause_reason="Waiting for the crane" if state == "paused" else "",
                started_at=op.actual_start,
            )
            for op, state in zip(ops, op_state, strict=True)
        ],
        batch_size=2000,
    )
    bookings, events = [], []
    for task, op, state in zip(tasks, ops, op_state, strict=True):
        if state == "pending" or task.operator_id is None:
            continue
        begin = op.actual_start
        # Booked time at 0.8–1.6 × the planned minutes per unit for what was made.
        minutes = max(float(op.quantity_done * op.run_minutes_per_unit) * rng.uniform(0.8, 1.6), 10)
        booked_until = begin + timedelta(minutes=minutes)
        bookings.append(
            LabourBooking(
                operator_id=task.operator_id,
                task=task,
                started_at=begin,
                ended_at=booked_until,
                quantity_good=op.quantity_done,
            )
        )
        events.append(
            ProductionEvent(
                event_id=f"bench-{task.pk}-start",
                kind=ProductionEvent.Kind.START,
                task=task,
                order_id=task.order_id,
                operation=op,
                operator_id=task.operator_id,
                occurred_at=min(booked_until, now),  # a running task runs since then
            )
        )
    LabourBooking.objects.bulk_create(bookings, batch_size=2000)
    ProductionEvent.objects.bulk_create(events, batch_size=2000)
    # A bearing shortage on assembly for one order in twenty.
    assembly = [op for op in ops if op.sequence == steps[-1].sequence]
    requirements = MaterialRequirement.objects.bulk_create(
        [
            MaterialRequirement(
                order_id=op.order_id, operation=op, item=bearing, quantity_required=Decimal(50)
            )
            for op in assembly[::20]
        ]
    )
    MaterialShortage.objects.bulk_create(
        [MaterialShortage(requirement=r, quantity_short=Decimal(20)) for r in requirements]
    )


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call (CPU: this process only, so it says what the
    work costs even when other processes share the machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def summary(times: tuple[list[float], list[float]]) -> str:
    wall, cpu = times
    return (
        f"wall median {statistics.median(wall):.0f} ms (min {min(wall):.0f}, max {max(wall):.0f}); "
        f"CPU median {statistics.median(cpu):.0f} ms; {len(wall)} runs"
    )


def load() -> str:
    """The load average and how fast this machine runs plain Python right now (a fixed
    loop of 10 million additions, as bench/ingest_bench.py prints): on a shared VM the
    same code's time swings with it, so each figure is read next to it."""
    one, five, _ = os.getloadavg()
    loop = python_loop_seconds()
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min); Python loop {loop:.2f} s"


def bench_board(repeat: int) -> None:
    client = Client()
    client.force_login(get_user_model().objects.get(username="sunqi"))
    open_orders = ProductionOrder.objects.filter(
        status__in=(ProductionOrder.Status.RELEASED, ProductionOrder.Status.IN_PROGRESS)
    ).count()
    ops = OrderOperation.objects.filter(order__status__in=("released", "in_progress")).count()

    def board(query: str = ""):
        response = client.get(f"/execution/board/{query}", HTTP_HX_REQUEST="true")
        assert response.status_code == 200

    board()  # warm up (template loading, first connection)
    with CaptureQueriesContext(connection) as ctx:
        board()
    print(f"(a) {open_orders} open orders, {ops} operations; {len(ctx.captured_queries)} queries")
    print(f"    {load()}")
    print(f"    board partial (100 rows shown):  {summary(timed(board, repeat))}")
    print(
        f"    sorted furthest behind first:    {summary(timed(lambda: board('?sort=worst'), repeat))}"
    )
    print(
        "    of which progress_compute:       "
        f"{summary(timed(lambda: progress_compute(now=timezone.now()), repeat))}"
    )
    first = timed(progress_rollup_run, 1)
    again = timed(progress_rollup_run, 1)
    print(f"    hourly roll-up, first run:       {summary(first)}")
    print(f"    roll-up again in the same hour:  {summary(again)}")
    print(f"    {load()}")


def bench_latency(events: int) -> None:
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="sunqi"))
    board = Client()
    board.force_login(get_user_model().objects.get(username="sunqi"))
    demo = ProductionOrder.objects.get(number=DEMO_ORDER)
    start = {"event_id": "lat-start", "kind": "start", "order": DEMO_ORDER, "sequence": 10}
    assert api.post("/api/v1/execution/events/", start, format="json").status_code == 201
    marker = f'id="board-order-{demo.pk}"'
    latencies, polls = [], []
    for n in range(1, events + 1):
        body = {
            "event_id": f"lat-{n}",
            "kind": "report",
            "order": DEMO_ORDER,
            "sequence": 10,
            "quantity_good": 1,
            "trace_code": f"EB-LAT-{n:04d}",
        }
        t0 = time.perf_counter()
        accepted = api.post("/api/v1/execution/events/", body, format="json")
        assert accepted.status_code == 201, accepted.content
        tries = 0
        while True:
            tries += 1
            html = board.get("/execution/board/", HTTP_HX_REQUEST="true").content.decode()
            row = html[html.index(marker) : html.index("</tr>", html.index(marker))]
            if f">10: {n}<" in row:
                break
            if time.perf_counter() - t0 > 10:
                raise SystemExit(f"event {n} not on the board after 10 s")
        latencies.append((time.perf_counter() - t0) * 1000)
        polls.append(tries)
    print(
        f"(b) event posted → board shows it: wall median {statistics.median(latencies):.0f} ms "
        f"(min {min(latencies):.0f}, max {max(latencies):.0f}; {len(latencies)} events); "
        f"board fetches needed per event: at most {max(polls)}"
    )
    print(f"    {load()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"database {database()}"
    )
    t0 = time.perf_counter()
    prepare(args.orders, args.seed)
    print(f"setup (migrate, demo plant, {args.orders} orders): {time.perf_counter() - t0:.1f} s")
    bench_board(args.repeat)
    bench_latency(args.events)


if __name__ == "__main__":
    main()

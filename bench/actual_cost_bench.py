"""Actual cost benchmark: 2,000 production orders from 4 million production events.

    DATABASE_URL=postgres://…/closedloop_bench .venv/bin/python bench/actual_cost_bench.py \
        [--orders 2000] [--events 4000000] [--reuse] [--repeat 1]

PostgreSQL only (the log is written by COPY); the database is emptied first, so the bench
refuses a database whose name does not contain "bench". Setup, not timed: the demo plant
(load_demo: EB-500 with 4 operations, HSG-100 with 2, cost version STD-2026 rolled up),
then `--orders` in-progress orders, half of each product (6,000 operations and tasks for
2,000 orders), their material requirements, and `--events` production events by COPY —
per task a start, ten pause/resume pairs and a completion, the rest quantity reports a
minute apart (3 % of them scrap one unit) — with the labour booking each pause and
completion closes (execution books them so). `--reuse` times the log an earlier run left.

Timed, each printed:
(a) posting: `costing.services.actual.order_cost_post_missing()` over the whole log — on
    PostgreSQL the set-based statements of costing/services/actual_sql.py (machine spans by
    a window over the log's starts, resumes, pauses and completions, each labour booking,
    each scrap report, the overhead on them), which write what the domain-event handlers'
    code writes (tests/costing/test_actual.py proves it entry by entry);
(b) the same again: everything is posted, nothing is written (what a replay costs);
(c) order costs: `order_costs_summaries` for every order (actual by element, standard,
    unit cost);
(d) variances: `variances_list()` over every order (engine input read by the selectors,
    the engine, flags).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from reference import python_loop_seconds  # noqa: E402

SEGMENTS = 11  # run spans per task: start … pause, (resume … pause) × 9, resume … complete
SCRAP_SHARE = 0.03


def setup(n_orders: int, n_events: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from core.rawsql import rows_copy
    from execution.models import LabourBooking, MaterialRequirement, ProductionEvent, Task
    from planning.models import BomLine, OrderOperation, ProductionOrder, RoutingStep
    from resources.models import Equipment, Item, Operator

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    t = time.perf_counter()
    call_command("load_demo", "--quiet-logins", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"demo plant loaded in {time.perf_counter() - t:.1f} s")
    products = [Item.objects.get(code="EB-500"), Item.objects.get(code="HSG-100")]
    steps = {
        p.pk: list(
            RoutingStep.objects.filter(routing__item=p, routing__version="1").order_by("step_no")
        )
        for p in products
    }
    first_machine = {
        s.pk: s.eligible_equipment.order_by("code").first() for v in steps.values() for s in v
    }
    operators = list(Operator.objects.order_by("badge").values_list("pk", flat=True))
    n_tasks = sum(len(steps[products[i % 2].pk]) for i in range(n_orders))
    per_task = n_events // n_tasks
    reports = per_task - 2 * SEGMENTS  # start, 10 pauses, 10 resumes, complete
    quantity = Decimal(reports)
    t = time.perf_counter()
    orders = ProductionOrder.objects.bulk_create(
        [
            ProductionOrder(
                number=f"MO-BENCH-{i:05d}",
                item=products[i % 2],
                quantity=quantity,
                due_date=datetime(2026, 12, 31).date(),
                status=ProductionOrder.Status.IN_PROGRESS,
            )
            for i in range(n_orders)
        ],
        batch_size=2000,
    )
    # Every task's events follow the same pattern with its own scrap: the counters are the
    # pattern's totals (scrap drawn again, with the same seed, when the log is written).
    plan = []
    for order in orders:
        for step in steps[order.item_id]:
            rng = random.Random(len(plan))
            scrap = [rng.random() < SCRAP_SHARE for _ in range(reports)]
            plan.append((order, step, scrap))
    operations = OrderOperation.objects.bulk_create(
        [
            OrderOperation(
                order=order,
                sequence=step.step_no,
                name=step.name,
                work_center_id=step.work_center_id,
                equipment=first_machine[step.pk],
                setup_minutes=step.setup_minutes,
                run_minutes_per_unit=step.run_minutes_per_unit,
                required_skill_id=step.required_skill_id,
                min_skill_level=step.min_skill_level,
                status=OrderOperation.Status.DONE,
                quantity_done=Decimal(reports - sum(scrap)),
                quantity_scrap=Decimal(sum(scrap)),
            )
            for order, step, scrap in plan
        ],
        batch_size=2000,
    )
    tasks = Task.objects.bulk_create(
        [
            Task(
                operation=op,
                order=op.order,
                status=Task.Status.DONE,
                operator_id=operators[n % len(operators)],
                equipment=op.equipment,
                quantity_good=op.quantity_done,
                quantity_scrap=op.quantity_scrap,
            )
            for n, op in enumerate(operations)
        ],
        batch_size=2000,
    )
    components = {
        p.pk: list(
            BomLine.objects.filter(bom__item=p).values_list(
                "component_id", "quantity", "bom__base_quantity", "operation_step_no"
            )
        )
        for p in products
    }
    op_of = {(op.order_id, op.sequence): op for op in operations}
    MaterialRequirement.objects.bulk_create(
        [
            MaterialRequirement(
                order=order,
                operation=op_of[(order.pk, step_no)],
                item_id=component,
                quantity_required=qty / base * quantity,
            )
            for order in orders
            for component, qty, base, step_no in components[order.item_id]
        ],
        batch_size=2000,
    )
    print(f"{len(orders):,} orders, {len(tasks):,} tasks set up in {time.perf_counter() - t:.1f} s")

    base = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    event_fields = (
        "event_id",
        "kind",
        "task",
        "order",
        "operation",
        "operator",
        "equipment",
        "quantity_good",
        "quantity_scrap",
        "reason",
        "trace_code",
        "occurred_at",
        "received_at",
        "source",
    )
    bookings = []
    one, zero = Decimal(1), Decimal(0)

    def rows():
        for n, ((order, _step, scrap), task) in enumerate(zip(plan, tasks, strict=True)):
            equipment = task.equipment_id
            operator = task.operator_id
            at = base + timedelta(minutes=7 * n)
            common = (task.pk, order.pk, task.operation_id, operator, equipment)
            key = f"B{task.pk}-"
            k = 0
            per_segment = [reports // SEGMENTS] * SEGMENTS
            per_segment[-1] += reports - sum(per_segment)
            r = 0
            for segment, count in enumerate(per_segment):
                opening = "start" if segment == 0 else "resume"
                opened = at
                yield (f"{key}{k}", opening, *common, zero, zero, "", "", at, at, "api")
                k += 1
                good = bad = 0
                for _ in range(count):
                    at += timedelta(minutes=1)
                    lost = scrap[r]
                    r += 1
                    bad += lost
                    good += not lost
                    yield (
                        f"{key}{k}",
                        "report",
                        *common,
                        zero if lost else one,
                        one if lost else zero,
                        "",
                        "",
                        at,
                        at,
                        "api",
                    )
                    k += 1
                at += timedelta(minutes=1)
                closing = "complete" if segment == SEGMENTS - 1 else "pause"
                yield (f"{key}{k}", closing, *common, zero, zero, "", "", at, at, "api")
                k += 1
                bookings.append(
                    (operator, task.pk, opened, at, Decimal(good), Decimal(bad), zero, "")
                )
                at += timedelta(minutes=10)

    t = time.perf_counter()
    with connection.cursor() as cursor:
        # One COPY of millions of rows outlasts the statement timeout kept for requests.
        cursor.execute("SET statement_timeout = 0")
    rows_copy(ProductionEvent, event_fields, rows())
    rows_copy(
        LabourBooking,
        (
            "operator",
            "task",
            "started_at",
            "ended_at",
            "quantity_good",
            "quantity_scrap",
            "excess_minutes",
            "correction_reason",
        ),
        bookings,
    )
    print(
        f"{ProductionEvent.objects.count():,} events and {len(bookings):,} labour bookings "
        f"written by COPY in {time.perf_counter() - t:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("COMMIT")  # VACUUM runs outside a transaction
        for table in ("execution_productionevent", "execution_labourbooking"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    _ = Equipment  # the machines come with the demo plant


def timed(label: str, fn):
    cpu = time.process_time()
    t = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - t
    print(f"  {label}: {wall:.3f} s wall, {time.process_time() - cpu:.3f} s CPU (this process)")
    return result, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--events", type=int, default=4_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: the log is written by COPY.")
    if "bench" not in str(settings.DATABASES["default"]["NAME"]):
        sys.exit("Refusing a database whose name does not contain 'bench' (it is emptied).")

    from django.db import transaction

    from costing.models import OrderCostEntry
    from costing.selectors.actual import order_costs_summaries, orders_with_cost
    from costing.selectors.variance import variances_list
    from costing.services.actual import order_cost_post_missing
    from execution.models import ProductionEvent

    print(f"load average {os.getloadavg()}; Python loop reference {python_loop_seconds():.3f} s")
    if not args.reuse:
        setup(args.orders, args.events)
    elif not ProductionEvent.objects.exists():
        sys.exit("--reuse: the database holds no events; run once without it.")
    events = ProductionEvent.objects.count()
    for run in range(args.repeat):
        OrderCostEntry.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")
            cursor.execute("VACUUM ANALYZE costing_ordercostentry")
        print(f"run {run + 1}: {events:,} events, load average {os.getloadavg()}")
        with transaction.atomic():
            result, post = timed("(a) post every cost the log holds", order_cost_post_missing)
        print(f"      {result.posted:,} entries for {len(result.orders):,} orders")
        for problem in result.problems[:5]:
            print(f"      problem: {problem}")
        with transaction.atomic():
            again, _ = timed("(b) post again (nothing new)", order_cost_post_missing)
        assert again.posted == 0
        summaries, costs = timed(
            f"(c) order costs of {args.orders:,} orders",
            lambda: order_costs_summaries(list(orders_with_cost())),
        )
        found, var = timed("(d) variances of every order", variances_list)
        print(f"      {len(found):,} variances, {sum(v.flagged for v in found):,} flagged")
        total = post + costs
        print(
            f"  actual cost of {len(summaries):,} orders from {events:,} events: "
            f"{total:.3f} s (posting + order costs; target 5 s)"
        )


if __name__ == "__main__":
    main()

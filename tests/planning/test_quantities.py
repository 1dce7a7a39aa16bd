"""The order and operation counters, at their owner (planning.services.quantities): what is
posted adds up, a counter never goes below zero (a refused post changes nothing), and the
rows are written in the one lock order — operations, then orders, each in key order."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.exceptions import StateConflict
from planning.models import OrderOperation, ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create
from planning.services.quantities import operation_lock, order_lock, quantities_post
from resources.models import Item
from tests.factories import ItemFactory, WorkCenterFactory


def _orders(n: int = 2) -> list[ProductionOrder]:
    item = ItemFactory(code="COUNTED", source=Item.Source.MAKE, tracking=Item.Tracking.NONE)
    routing = Routing.objects.create(item=item, version="1")
    for step_no in (10, 20):
        RoutingStep.objects.create(
            routing=routing,
            step_no=step_no,
            name=f"Step {step_no}",
            work_center=WorkCenterFactory(),
        )
    return [
        production_order_create(item=item, quantity=Decimal(100), due_date=date(2026, 12, 10))
        for _ in range(n)
    ]


def _counters(order: ProductionOrder) -> list[tuple]:
    order.refresh_from_db()
    return [(order.quantity_done, order.quantity_scrap)] + [
        (op.quantity_done, op.quantity_scrap) for op in order.operations.order_by("sequence")
    ]


@pytest.mark.django_db
def test_posts_add_up_and_may_move_good_to_scrap():
    (order,) = _orders(1)
    first, last = order.operations.order_by("sequence")
    quantities_post(operations={first.pk: (Decimal(5), Decimal(1))})
    quantities_post(
        operations={last.pk: (Decimal(4), Decimal(0))}, orders={order.pk: (Decimal(4), Decimal(0))}
    )
    quantities_post(  # a scrap found later moves one good unit to scrap
        operations={last.pk: (Decimal(-1), Decimal(1))},
        orders={order.pk: (Decimal(-1), Decimal(1))},
    )
    assert _counters(order) == [(3, 1), (5, 1), (3, 1)]


@pytest.mark.django_db
def test_no_counter_goes_below_zero_and_a_refused_post_changes_nothing():
    (order,) = _orders(1)
    first, last = order.operations.order_by("sequence")
    quantities_post(
        operations={first.pk: (Decimal(2), Decimal(0)), last.pk: (Decimal(2), Decimal(0))},
        orders={order.pk: (Decimal(1), Decimal(0))},
    )
    before = _counters(order)
    with transaction.atomic():
        # The operations could move, the order cannot (it holds 1): the whole post is refused.
        with pytest.raises(StateConflict, match="below zero"):
            quantities_post(
                operations={last.pk: (Decimal(-2), Decimal(2))},
                orders={order.pk: (Decimal(-2), Decimal(2))},
            )
        assert _counters(order) == before
    with pytest.raises(StateConflict, match="below zero"):
        quantities_post(operations={first.pk: (Decimal(0), Decimal(-1))})
    assert _counters(order) == before


@pytest.mark.django_db
def test_operations_are_written_before_orders_each_in_key_order():
    orders = _orders(2)
    operations = [op for o in orders for op in o.operations.all()]
    ops = {op.pk: (Decimal(1), Decimal(0)) for op in reversed(operations)}
    by_order = {o.pk: (Decimal(1), Decimal(0)) for o in reversed(orders)}
    with CaptureQueriesContext(connection) as ctx:
        quantities_post(operations=ops, orders=by_order)
    tables = [
        "op" if "planning_orderoperation" in q["sql"] else "order"
        for q in ctx.captured_queries
        if "planning_orderoperation" in q["sql"] or "planning_productionorder" in q["sql"]
    ]
    # Every statement on operations comes before every statement on orders.
    assert tables == sorted(tables, key=lambda t: t != "op") and "order" in tables
    if connection.vendor != "postgresql":  # one UPDATE a row there: their order shows
        updated = [
            int(q["sql"].rsplit("= ", 1)[1].split()[0])
            for q in ctx.captured_queries
            if q["sql"].startswith("UPDATE")
        ]
        assert updated == sorted(ops) + sorted(by_order)
    for op in operations:
        op.refresh_from_db()
        assert op.quantity_done == 1


def _until_waiting_for_locks(count: int, *, polls: int = 20_000) -> None:
    """Return once `count` other sessions of this database wait for a lock (or after
    `polls` reads). Polls the server instead of sleeping: the suite also runs under
    libfaketime, where a timed wait may never end."""
    with connection.cursor() as cursor:
        for _ in range(polls):
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh figures inside the hold
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_crosswise_posts_do_not_deadlock():
    """Two transactions post to the same two orders, named in opposite order, while a third
    holds the counters' locks: each locks in key order, so they queue and both count."""
    first, second = sorted(_orders(2), key=lambda o: o.pk)
    op_a = first.operations.order_by("sequence").first()
    op_b = second.operations.order_by("sequence").first()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def post(orders: list[ProductionOrder], ops: list[OrderOperation]) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                quantities_post(
                    operations={op.pk: (Decimal(1), Decimal(0)) for op in ops},
                    orders={o.pk: (Decimal(1), Decimal(0)) for o in orders},
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def hold() -> None:
        try:
            with transaction.atomic():
                operation_lock(operation_id=op_a.pk)
                order_lock(order_id=first.pk)
                barrier.wait()
                _until_waiting_for_locks(2)  # the others are at their locks by now
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=([first, second], [op_a, op_b])),
        threading.Thread(target=post, args=([second, first], [op_b, op_a])),
        threading.Thread(target=hold),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # a deadlock would not hang: PostgreSQL breaks it and the post records it
    assert not errors, errors
    for row in (first, second, op_a, op_b):
        row.refresh_from_db()
        assert row.quantity_done == 2

"""The quantity counters of production orders and their operations: what the shop floor
reports made (good → `quantity_done`) and scrapped (`quantity_scrap`).

Planning owns these counters; execution (production events) and quality (scrap
dispositions and their corrections) move them only through this module.

Lock order — the one every writer of these rows follows, so that two writers never wait
for each other crosswise: a caller that also holds a shop-floor task locks the task first
(execution's rows come before planning's); then the operations, then the orders, each set
in primary-key order. Locks are NO KEY UPDATE, as the counters' UPDATEs take: inserting an
event that refers to the row still only needs KEY SHARE.
"""

from collections.abc import Mapping
from contextlib import nullcontext
from decimal import Decimal

from django.db import transaction

from core.counters import counter_add_statement, counters_add

from ..models import OrderOperation, ProductionOrder

Deltas = Mapping[int, tuple[Decimal, Decimal] | list[Decimal]]


def operation_lock(*, operation_id: int) -> OrderOperation:
    """Lock an operation's row for its counters (after the task's, before the order's)."""
    # No default ordering: it would join the order's table into the FOR UPDATE.
    return OrderOperation.objects.select_for_update(no_key=True).order_by().get(pk=operation_id)


def order_lock(*, order_id: int) -> ProductionOrder:
    """Lock an order's row for its counters (after its operations')."""
    return ProductionOrder.objects.select_for_update(no_key=True).order_by().get(pk=order_id)


def quantities_post_statements(
    *, operation_id: int, order_id: int | None, good: Decimal, scrap: Decimal
) -> list[tuple[str, list]]:
    """`quantities_post` of one report (deltas not negative, so nothing to refuse) on one
    operation and, if given, its order, as statements in the lock order (the operation,
    then the order) for the caller to run with its own write: a production event's
    INSERT (core.rawsql.row_insert's `along`, which keeps the order given)."""
    statements = [
        counter_add_statement(OrderOperation, operation_id, good, scrap, good_field="quantity_done")
    ]
    if order_id is not None:
        statements.append(
            counter_add_statement(
                ProductionOrder, order_id, good, scrap, good_field="quantity_done"
            )
        )
    return statements


def quantities_post(*, operations: Deltas | None = None, orders: Deltas | None = None) -> None:
    """Add (good, scrap) to the counters: `operations` maps an operation's id to what its
    `quantity_done` and `quantity_scrap` gain, `orders` an order's id likewise (an order's
    counters follow its last operation: the caller says which orders move).

    A delta may be negative (a scrap moves good to scrap, a corrected scrap moves it back);
    no counter goes below zero: a post that would take one there raises StateConflict and
    changes nothing. Rows are locked in the module's lock order (operations, then orders,
    each in key order) and updated with F() semantics, so concurrent posts never lose or
    double a count. Runs inside the caller's transaction."""
    operations, orders = operations or {}, orders or {}
    negative = any(
        d < 0 for deltas in (operations, orders) for pair in deltas.values() for d in pair
    )
    # Only a post that may be refused needs its own savepoint (the operations are changed
    # before the orders are checked).
    with transaction.atomic() if negative else nullcontext():
        counters_add(OrderOperation, operations, good_field="quantity_done", lock=True)
        counters_add(ProductionOrder, orders, good_field="quantity_done", lock=True)

"""Adding to quantity counters with F() semantics: quantity = quantity + delta.

The primitive under the owners' counter services (planning's `quantities_post` for
operations and orders, execution's for tasks): each owner passes its own model and decides
the lock order; this module only knows how to add a (good, scrap) pair to many rows at
once without losing a concurrent writer's count, and that a counter never goes below zero.
"""

from collections.abc import Mapping
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils.translation import gettext

from .exceptions import StateConflict
from .lists import list_text
from .rawsql import cursor_prepared

Deltas = Mapping[int, tuple[Decimal, Decimal] | list[Decimal]]


def counters_add(
    model: type[models.Model],
    totals: Deltas,
    *,
    good_field: str,
    scrap_field: str = "quantity_scrap",
    lock: bool,
) -> None:
    """Add each row's (good, scrap) deltas to its two counters, rows in key order; with
    `lock`, the rows are first locked in key order (SELECT … FOR NO KEY UPDATE), so that two
    writers of several rows never wait for each other crosswise. A single row needs no
    separate lock: its UPDATE takes it.

    A delta may be negative (a scrap moves good to scrap); a row whose counter would go
    below zero is refused: StateConflict names it, and the rows changed before it are
    rolled back (a savepoint, taken only when some delta is negative)."""
    pks = sorted(pk for pk, (good, scrap) in totals.items() if good or scrap)
    if not pks:
        return
    guard = any(totals[pk][0] < 0 or totals[pk][1] < 0 for pk in pks)
    if guard:
        with transaction.atomic():
            _add(model, totals, pks, good_field, scrap_field, lock, guard)
    else:
        _add(model, totals, pks, good_field, scrap_field, lock, guard)


def _add(model, totals, pks, good_field, scrap_field, lock, guard) -> None:
    connection = connections[DEFAULT_DB_ALIAS]  # once: django.db.connection looks it up each time
    meta = model._meta
    if connection.vendor != "postgresql":
        if lock and len(pks) > 1:
            list(model.objects.select_for_update(no_key=True).filter(pk__in=pks).order_by("pk"))
        for pk in pks:
            good, scrap = totals[pk]
            rows = model.objects.filter(pk=pk)
            if guard:
                rows = rows.filter(**{f"{good_field}__gte": -good, f"{scrap_field}__gte": -scrap})
            changed = rows.update(
                **{
                    good_field: models.F(good_field) + good,
                    scrap_field: models.F(scrap_field) + scrap,
                }
            )
            if guard and not changed:
                _refuse(model, [pk], good_field, scrap_field)
        return
    # One statement (the ORM's CASE … WHEN costs more to build than to run); the locks in
    # key order come from the materialized SELECT … FOR NO KEY UPDATE it joins.
    qn = connection.ops.quote_name
    table, key = qn(meta.db_table), qn(meta.pk.column)
    good_col = qn(meta.get_field(good_field).column)
    scrap_col = qn(meta.get_field(scrap_field).column)
    values = ", ".join(["(%s, %s::numeric, %s::numeric)"] * len(pks))
    params = [x for pk in pks for x in (pk, totals[pk][0], totals[pk][1])]
    lock = lock and len(pks) > 1
    locked = (
        f"WITH locked AS MATERIALIZED (SELECT {key} FROM {table} WHERE {key} = ANY(%s) "
        f"ORDER BY {key} FOR NO KEY UPDATE) "
        if lock
        else ""
    )
    where = f" AND t.{key} IN (SELECT {key} FROM locked)" if lock else ""
    if guard:
        where += f" AND t.{good_col} + v.good >= 0 AND t.{scrap_col} + v.scrap >= 0"
    # One row (an event at a time, a single post) is the same statement every time: prepared,
    # it is planned once per connection (core/rawsql.py). A batch's text varies with its
    # length and would only fill the connection's cache of prepared statements.
    with cursor_prepared() if len(pks) == 1 else connection.cursor() as cursor:
        cursor.execute(
            f"{locked}UPDATE {table} AS t SET {good_col} = t.{good_col} + v.good, "
            f"{scrap_col} = t.{scrap_col} + v.scrap "
            f"FROM (VALUES {values}) AS v(id, good, scrap) WHERE t.{key} = v.id{where}"
            + (f" RETURNING t.{key}" if guard else ""),
            ([pks] if lock else []) + params,
        )
        if guard:
            changed = {pk for (pk,) in cursor.fetchall()}
            if len(changed) < len(pks):
                _refuse(model, [pk for pk in pks if pk not in changed], good_field, scrap_field)


def counter_add_statement(
    model: type[models.Model],
    pk: int,
    good: Decimal,
    scrap: Decimal,
    *,
    good_field: str,
    scrap_field: str = "quantity_scrap",
) -> tuple[str, list]:
    """One row's `counters_add` with deltas that are not negative (nothing to refuse), as
    (sql, params) for the owner to run along with its next write (core.rawsql.row_insert's
    `along`): a production event adds to its task's counters as the event goes in."""
    if good < 0 or scrap < 0:
        raise ValueError("counter_add_statement takes no negative delta: use counters_add")
    meta = model._meta
    qn = connections[DEFAULT_DB_ALIAS].ops.quote_name
    good_col = qn(meta.get_field(good_field).column)
    scrap_col = qn(meta.get_field(scrap_field).column)
    return (
        f"UPDATE {qn(meta.db_table)} SET {good_col} = {good_col} + %s, "
        f"{scrap_col} = {scrap_col} + %s WHERE {qn(meta.pk.column)} = %s",
        [good, scrap, pk],
    )


def _refuse(model, pks: list[int], good_field: str, scrap_field: str) -> None:
    name = model._meta.verbose_name
    raise StateConflict(
        gettext("The %(good)s or %(scrap)s of %(name)s %(ids)s would go below zero: refused.")
        % {
            "good": good_field,
            "scrap": scrap_field,
            "name": name,
            "ids": list_text(pks),
        }
    )

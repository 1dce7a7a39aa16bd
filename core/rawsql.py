"""Hand-written SQL for the few hot paths where building the ORM's query costs more than
running it: one production event at a time (`execution.services.events`) spends 0.6 ms of
CPU compiling a plain `filter().values_list()` and 3.5 ms a six-table `select_related`,
against 0.15 ms for the same statement as SQL (measured, bench/README.md "The single-event
path"). The statements are written once per database vendor from the models' metadata, so
a renamed column follows the model; what comes back goes through the converters the ORM
itself applies (SQLite returns text for times and decimals), and rows become instances as
`QuerySet` builds them (`Model.from_db`).
"""

import functools
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, post_save, pre_init, pre_save

_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


class Columns:
    """The concrete columns of a model under a table alias, and how to read them back."""

    def __init__(self, model: type[models.Model], alias: str):
        self.model, self.alias = model, alias
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self._converters: dict[str, list] = {}
        # Fields whose attribute is a plain value on the instance (no descriptor that
        # converts or checks what is set): `instance` may fill __dict__ directly.
        self.plain_fields = model.__setattr__ is models.Model.__setattr__ and all(
            type(getattr(model, name, None)) in _PLAIN_DESCRIPTORS for name in self.names
        )

    def sql(self) -> str:
        qn = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)

    def converters(self, connection=None) -> list:
        """[(index, [converter, ...], expression)] for the columns that need one."""
        connection = connection or connections[DEFAULT_DB_ALIAS]
        key = connection.vendor
        if key not in self._converters:
            out = []
            for index, f in enumerate(self.fields):
                col = f.get_col(self.alias)
                convs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
                if convs:
                    out.append((index, convs, col))
            self._converters[key] = out
        return self._converters[key]

    def instance(self, row: Sequence, start: int) -> models.Model | None:
        """The instance from `row[start:start + len(fields)]`; None for an outer join's
        missing row (its key is NULL)."""
        values = list(row[start : start + len(self.fields)])
        if values[0] is None:
            return None
        connection = connections[DEFAULT_DB_ALIAS]
        for index, convs, col in self.converters(connection):
            value = values[index]
            for conv in convs:
                value = conv(value, col, connection)
            values[index] = value
        model = self.model
        if not (self.plain_fields and _plain_model(model)):
            return model.from_db(connection.alias, self.names, values)
        # What `from_db` makes of a full row, without `Model.__init__`'s per-field work (a
        # tenth of a single event's CPU under cProfile, for the task row's eight instances):
        # every concrete field's attribute in __dict__, a fresh state, saved in this database.
        obj = model.__new__(model)
        obj.__dict__.update(zip(self.names, values, strict=True))
        state = obj._state = ModelState()
        state.adding = False
        state.db = connection.alias
        return obj


def _plain_model(model: type[models.Model]) -> bool:
    """Whether an instance of the model is just its fields' values: no `__init__` or
    `from_db` of its own, no receivers of the init signals (checked on every call: a test
    or an app may connect one at any time)."""
    return (
        model.__init__ is models.Model.__init__
        and model.from_db.__func__ is models.Model.from_db.__func__
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )


def values_convert(values: list, fields: Iterable[models.Field], alias: str = "") -> list:
    """Apply the ORM's converters to plain values read by hand, one field per value."""
    connection = connections[DEFAULT_DB_ALIAS]
    out = []
    for value, f in zip(values, fields, strict=True):
        col = f.get_col(alias or f.model._meta.db_table)
        for conv in connection.ops.get_db_converters(col) + f.get_db_converters(connection):
            value = conv(value, col, connection)
        out.append(value)
    return out


def cursor_prepared():
    """A cursor for a statement run over and over: on PostgreSQL with psycopg 3 the server
    prepares it once per connection and stops planning it (the event's seven-join task
    lookup plans in about 2 ms and runs in 0.5). Django turns psycopg's automatic preparing
    off for connection poolers in transaction mode, which lose a session's prepared
    statements; DB_PREPARED_STATEMENTS=off (config/settings.py) does so here too. Elsewhere,
    Django's cursor. Queries through it are logged and counted as any other."""
    # The connection once: each attribute read through django.db.connection looks the
    # thread's connection up again (about 6 µs; a single event makes some eighty of them).
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or not getattr(settings, "DB_PREPARED_STATEMENTS", True):
        return connection.cursor()
    cursor_class = _prepared_cursor_class()
    if cursor_class is None:
        return connection.cursor()
    connection.ensure_connection()
    raw = cursor_class(connection.connection)
    if connection.queries_logged:
        debug = connection.make_debug_cursor(raw)
        debug.__class__ = _debug_wrapper_class(type(debug))
        return debug
    return connection.make_cursor(raw)


@functools.cache
def _debug_wrapper_class(base):
    class PreparedDebugWrapper(base):
        """Logs the statement as written: a prepared statement's text is not sent again,
        so Django cannot read it back from the cursor."""

        def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
            return super().debug_sql(sql, params, False, many)

    return PreparedDebugWrapper


@functools.cache
def _prepared_cursor_class():
    try:
        import psycopg
    except ImportError:  # psycopg2: no server-side binding
        return None

    class PreparedCursor(psycopg.Cursor):
        """Binds on the server and prepares every statement (Django's wrapper calls
        `execute(sql, params)`, so the choice lives here)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


_insert_sql: dict[tuple[str, type], tuple[str, list]] = {}


def row_insert(obj: models.Model, *, along: Sequence[tuple[str, list]] = ()) -> models.Model:
    """INSERT one new instance as `save(force_insert=True)` would — each field's pre_save
    (auto_now_add, defaults already set by __init__) and its database preparation — in a
    statement written once, and set its key from RETURNING. No save signals are sent: with
    a receiver connected for the model, it is saved through the ORM instead.

    `along`: other writes that must happen with this one, each (sql, params): an UPDATE …
    WHERE … of the caller's own tables or one an owner wrote for it (core.counters'
    `counter_add_statement`), or an INSERT (`insert_statement`). On PostgreSQL they run in
    the same statement (data-modifying WITHs, each run exactly once): one round trip and
    one statement's client work instead of several. The UPDATEs take their row locks in the
    order given — each waits for the one before it (a condition on the earlier one's
    result that is always true) — so the caller keeps its lock order. Elsewhere each is
    executed first, on its own, in that order."""
    model = type(obj)
    connection = connections[DEFAULT_DB_ALIAS]
    if (
        pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or not connection.features.can_return_columns_from_insert
    ):
        _run_each(connection, along, prepared=False)
        obj.save(force_insert=True)
        return obj
    sql, params = insert_statement(obj, connection)
    sql += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    if along and connection.vendor != "postgresql":
        _run_each(connection, along, prepared=True)
    elif along:
        sql, params = _with_along(along, sql, params)
    with cursor_prepared() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def insert_statement(obj: models.Model, connection=None) -> tuple[str, list]:
    """The INSERT of a new instance, as (sql, params), without RETURNING: for `row_insert`
    and for another row's `along`. Fields' pre_save and database preparation applied."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    key = (connection.vendor, type(obj))
    if key not in _insert_sql:
        qn = connection.ops.quote_name
        meta = obj._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        _insert_sql[key] = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            fields,
        )
    sql, fields = _insert_sql[key]
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _run_each(connection, statements: Sequence[tuple[str, list]], *, prepared: bool) -> None:
    for statement in statements:
        with cursor_prepared() if prepared else connection.cursor() as cursor:
            cursor.execute(*statement)


def _with_along(along: Sequence[tuple[str, list]], sql: str, params: list) -> tuple[str, list]:
    parts, out, last_update = [], [], None
    for n, (part, part_params) in enumerate(along):
        name = f"along{n}"
        if part.lstrip()[:6].upper() == "UPDATE":
            if " WHERE " not in part:
                raise ValueError("row_insert: an UPDATE along needs a WHERE clause")
            if last_update is not None:  # waits for the earlier UPDATE: its locks come first
                part += f" AND (SELECT count(*) FROM {last_update}) >= 0"
            part += " RETURNING 1"
            last_update = name
        parts.append(f"{name} AS ({part})")
        out.extend(part_params)
    return f"WITH {', '.join(parts)} {sql}", [*out, *params]


def rows_update(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """UPDATE these fields of these saved instances, in one statement on PostgreSQL.

    `bulk_update` builds a CASE WHEN expression per row and field, which for a batch of 400
    counters × 6 fields cost about a millisecond of CPU per row (the device ingest,
    bench/telemetry_bench.py). On PostgreSQL this is `UPDATE … FROM unnest(…)` with one
    array per column, cast to the column's type (one short statement whatever the number of
    rows); elsewhere one statement per row through `executemany`. Values go through each
    field's database preparation, as `save()` would; no signals, as `bulk_update`. Returns
    the rows sent."""
    if not objs:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    meta = type(objs[0])._meta
    qn = connection.ops.quote_name
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    values = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs] for f in columns
    ]
    table = qn(meta.db_table)
    if connection.vendor == "postgresql":
        names = ", ".join(qn(f.column) for f in columns)
        arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in columns)
        sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns[1:])
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) "
                f"WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}",
                values,
            )
        return len(objs)
    sql = (
        f"UPDATE {table} SET "
        + ", ".join(f"{qn(f.column)} = %s" for f in columns[1:])
        + f" WHERE {qn(pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*row[1:], row[0]] for row in zip(*values, strict=True)])
    return len(objs)


def rows_copy(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows into the model's table (PostgreSQL with psycopg 3 only), each row's values
    in the order of `fields` (names or attnames) and ready for the database: for bulk writes
    where building and preparing instances for `bulk_create` costs more than the write (a
    roll-up's 50,000 breakdown lines, bench/rollup_bench.py). Django wraps `execute()`, not
    `copy()`: psycopg's errors are mapped to django.db's here."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(name).column) for name in fields)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
